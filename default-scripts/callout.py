# ---
# title: Callout
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   type: str, position 0, default note -- note, tip, warning or danger
#   title: any, optional -- the heading (text); default the type's name; false or "" shows none
#   text: str, optional -- plain-text content (escaped), when the tag is not paired
# ---
"""A highlighted box: a note, a tip, a warning or a danger notice.

Usage: ``{{< callout warning >}}Back up <strong>first</strong>.{{< /callout >}}`` or
``{{< callout type="tip" title="Did you know?" text="Macros can be nested." >}}``.

Parameters:
    type (str, or the first positional argument, default "note"): note, tip, warning or danger.
    title (str, default the type's name, e.g. "Warning"): the heading of the box; ``title=false``
        or ``title=""`` shows none.
    text (str, optional): plain-text content (escaped), when the tag is not paired.

The content between paired tags is HTML and is passed through as it is; giving both it and
``text`` is an error.
"""
import html

TYPES = {"note": "Note", "tip": "Tip", "warning": "Warning", "danger": "Danger"}


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    kind = params.get("type", args[0] if args else "note")
    if not isinstance(kind, str) or kind.strip().lower() not in TYPES:
        raise ValueError(f"callout type must be one of note, tip, warning, danger, not {kind!r}")
    kind = kind.strip().lower()

    title = params.get("title", TYPES[kind])
    if title is False or title is None:
        title = ""
    elif isinstance(title, bool) or not isinstance(title, (str, int, float)):
        raise ValueError(f"title must be text or false, not {title!r}")
    title = str(title).strip()

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
        raise ValueError("callout needs content: {{< callout warning >}}…{{< /callout >}}")

    parts = [f'<div class="callout callout-{kind}" role="note">']
    if title:
        parts.append(f'<p class="callout-title">{html.escape(title)}</p>')
    parts.append(f'<div class="callout-body">{body}</div></div>')
    return {"html": "".join(parts)}
