# ---
# title: Details / spoiler
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   summary: str, position 0, optional -- the visible line; default "Details" ("Spoiler" for one)
#   open: bool, default false -- start expanded
#   spoiler: bool, default false -- mark it as a spoiler (class="details spoiler")
#   text: str, optional -- plain-text content (escaped), when the tag is not paired
# ---
"""A collapsible section (``<details>``), or a spoiler that hides its content until clicked.

Usage: ``{{< details "How does it work?" >}}It <em>just</em> does.{{< /details >}}`` or
``{{< details spoiler=true >}}Rosebud is the sled.{{< /details >}}``.

Parameters:
    summary (str, or the first positional argument): the always-visible line; defaults to
        "Details", or "Spoiler" for a spoiler.
    open (bool, default false): start expanded.
    spoiler (bool, default false): mark it as a spoiler (``class="details spoiler"``).
    text (str, optional): plain-text content (escaped), when the tag is not paired.

The content between paired tags is HTML and is passed through as it is; giving both it and
``text`` is an error.
"""
import html


def flag(params, name, default):
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


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

    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    body_text = params.get("text")
    if body_text is not None and inner is not None and inner.strip():
        raise ValueError("give the content either as text=… or between the tags, not both")
    if inner is not None and inner.strip():
        body = inner.strip()
    elif body_text is not None:
        if isinstance(body_text, bool) or not isinstance(body_text, (str, int, float)):
            raise ValueError(f"text must be text, not {body_text!r}")
        body = html.escape(str(body_text).strip())
    else:
        body = ""
    if not body:
        raise ValueError("details needs content: {{< details \"Summary\" >}}…{{< /details >}}")

    classes = "details spoiler" if spoiler else "details"
    opened = " open" if is_open else ""
    return {
        "html": (
            f'<details class="{classes}"{opened}><summary>{html.escape(summary)}</summary>'
            f"{body}</details>"
        )
    }
