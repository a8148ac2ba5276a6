# ---
# title: Tab
# kind: macro
# entrypoint: render
# enabled: true
# version: 1
# params:
#   title: str, required, position 0 -- the tab's title
# ---
"""One panel of a ``{{< tabs >}}`` group: ``{{< tab "Python" >}}print(1){{< /tab >}}``.

It must sit directly inside ``tabs`` (``context["call"]["parent"]``), and its id comes from its
place among the post's tabs (``context["call"]["ordinal"]``), so it is unique on the page.
"""
import html

from html_utils import slugify


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    call = context.get("call") or {}
    parent = call.get("parent")
    if parent is None or parent.get("name") != "tabs":
        where = "at the top level" if parent is None else f"inside {parent.get('name')}"
        raise ValueError(f"tab must be inside {{{{< tabs >}}}}, not {where}")
    title = params.get("title", args[0] if args else None)
    if title is None or not str(title).strip():
        raise ValueError('tab needs a title: {{< tab "Python" >}}')
    title = str(title).strip()
    ident = f"tab-{call.get('ordinal', 0)}-{slugify(title)}"
    body = (context.get("inner") or "").strip()
    return {
        "html": f'<section class="tab" id="{ident}" role="tabpanel" aria-label="{html.escape(title)}">'
        f"<h3 class=\"tab-title\">{html.escape(title)}</h3>{body}</section>"
    }
