# ---
# title: Details / spoiler
# kind: macro
# entrypoint: render
# enabled: true
# version: 4
# params:
#   summary: str, position 0, optional -- the visible line (Markdown); default Details, or Spoiler
#   open: bool, default false -- start expanded
#   class: str, optional -- the class attribute; default "details"
#   name: str, optional -- the name attribute: of the details sharing one, one is open at a time
#   title: str, optional -- the title attribute (a tooltip)
#   spoiler: bool, default false -- bDS: a spoiler (adds the class spoiler)
#   text: str, optional -- bDS: the content (Markdown), when the tag is not paired
# ---
"""A collapsible section (``<details>``), Hugo's ``details`` shortcode (Hugo 0.140), or a
spoiler that hides its content until clicked.

Usage::

    {{< details summary="How does it *work*?" open=true >}}
    It **just** does.
    {{< /details >}}

or ``{{< details "Ending" spoiler=true >}}Rosebud is the sled.{{< /details >}}``.

Parameters:
    summary (str, or the first positional argument): the always-visible line, inline Markdown;
        defaults to "Details", or "Spoiler" for a spoiler.
    open (bool, default false): start expanded.
    class (str, optional): the ``class`` attribute; default ``details`` (``""`` gives none).
    name (str, optional): the ``name`` attribute: of the ``<details>`` sharing a name, the
        browser keeps only one open.
    title (str, optional): the ``title`` attribute.
    spoiler (bool, default false, bDS): adds the class ``spoiler``.
    text (str, optional, bDS): the content, when the tag is not paired.

The content (between the tags, or ``text``) is Markdown, rendered to HTML (raw HTML in it
passes through); giving both is an error, and so is giving neither.

How it differs from Hugo: the summary may be given positionally; ``class`` defaults to
``details`` (Hugo: none); ``spoiler`` and ``text`` are bDS's; a details without content is an
error; the HTML is written on fewer lines.
"""
import bds_markdown
from code_utils import flag
from html_utils import attrs


def text(params, name):
    """An optional text parameter, stripped (numbers as their text); None when absent."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be text, not {value!r}")
    return str(value).strip()


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    spoiler = flag(params, "spoiler", False)
    is_open = flag(params, "open", False)
    summary = params.get("summary", args[0] if args else None)
    if summary is None:
        summary = "Spoiler" if spoiler else "Details"
    if isinstance(summary, bool) or not isinstance(summary, (str, int, float)):
        raise ValueError(f"summary must be text, not {summary!r}")
    summary = str(summary).strip()
    if not summary:
        raise ValueError("summary must not be empty")
    classes = text(params, "class")
    classes = "details" if classes is None else classes
    if spoiler:
        classes = f"{classes} spoiler".strip()

    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    body = text(params, "text")
    if body is not None and inner is not None and inner.strip():
        raise ValueError("give the content either as text=… or between the tags, not both")
    if inner is not None and inner.strip():
        body = inner
    if body is None or not body.strip():
        raise ValueError("details needs content: {{< details \"Summary\" >}}…{{< /details >}}")

    attributes = attrs(
        [
            ("class", classes or None),
            ("name", text(params, "name") or None),
            ("open", is_open),
            ("title", text(params, "title") or None),
        ]
    )
    summary_html = bds_markdown.render(summary, inline=True).strip()
    body_html = bds_markdown.render(body)
    out = f"<details{attributes}><summary>{summary_html}</summary>\n{body_html}</details>"
    return {"html": out}
