# ---
# title: Tabs
# kind: macro
# entrypoint: render
# enabled: true
# version: 1
# params:
#   label: str, default "Tabs" -- what a screen reader announces for the group
# ---
"""A group of tabs: ``{{< tabs >}}{{< tab Python >}}…{{< /tab >}}{{< tab Rust >}}…{{< /tab >}}{{< /tabs >}}``.

Each ``tab`` inside renders one panel; the group numbers itself by its place among the
post's ``tabs`` (``context["call"]["ordinal"]``), so several groups on one page get distinct ids.
The panels are plain HTML: a theme's CSS or script turns them into tabs, and without either
they read as consecutive sections.
"""
import html


def render(context):
    params = context.get("params") or {}
    call = context.get("call") or {}
    inner = context.get("inner")
    if inner is None or not inner.strip():
        raise ValueError("tabs needs {{< tab >}} calls between {{< tabs >}} and {{< /tabs >}}")
    if call.get("parent") is not None and call["parent"]["name"] == "tabs":
        raise ValueError("tabs cannot be nested directly inside tabs; put them in a tab")
    group = call.get("ordinal", 0)
    label = html.escape(str(params.get("label", "Tabs")))
    return {
        "html": f'<div class="tabs" id="tabs-{group}" role="tablist" aria-label="{label}">'
        f"{inner.strip()}</div>"
    }
