# ---
# title: Callout
# kind: macro
# entrypoint: render
# enabled: true
# version: 3
# params:
#   type: str, position 0, default note -- note, tip, important, warning, danger, or a synonym
#   title: any, optional -- the heading (text); default the type's name; false or "" shows none
#   text: str, optional -- the content, Markdown, when the tag is not paired
# ---
"""A highlighted box: a note, a tip, something important, a warning or a danger notice.

Usage::

    {{< callout warning >}}
    Back up **first**.
    {{< /callout >}}

or ``{{< callout type="tip" title="Did you know?" text="Macros can be *nested*." >}}``.

Parameters:
    type (str, or the first positional argument, default "note"): the kind of box,
        case-insensitive. Five styles, GitHub's five alerts (``class="callout callout-STYLE"``):
        ``note`` (blue), ``tip`` (green), ``important`` (purple), ``warning`` (yellow) and
        ``danger`` (red). The type names of themes' admonition/alert/hint shortcodes are
        synonyms, so such a shortcode can be an alias of ``callout``:

            note      note, info, abstract, example, question, quote
            tip       tip, hint, success
            important important
            warning   warning
            danger    danger, caution, error, failure, bug

        The default title is the type as written, capitalised from a table ("Caution" for
        ``caution``, with the danger style).
    title (str, default the type's name, e.g. "Warning"): the heading of the box, plain text
        (escaped); ``title=false`` or ``title=""`` shows none.
    text (str, optional): the content, when the tag is not paired.

The content (between the tags, or ``text``) is Markdown, rendered to HTML (raw HTML in it
passes through); giving both is an error, and so is giving neither.

Hugo has no ``callout`` shortcode (its ``> [!NOTE]`` blockquote alerts use the same five
names).
"""
import html

import bds_markdown

# type -> (style, default title). Titles come from this table, never from str.title() (whose
# results depend on the interpreter's Unicode database).
TYPES = {
    "note": ("note", "Note"),
    "info": ("note", "Info"),
    "abstract": ("note", "Abstract"),
    "example": ("note", "Example"),
    "question": ("note", "Question"),
    "quote": ("note", "Quote"),
    "tip": ("tip", "Tip"),
    "hint": ("tip", "Hint"),
    "success": ("tip", "Success"),
    "important": ("important", "Important"),
    "warning": ("warning", "Warning"),
    "danger": ("danger", "Danger"),
    "caution": ("danger", "Caution"),
    "error": ("danger", "Error"),
    "failure": ("danger", "Failure"),
    "bug": ("danger", "Bug"),
}


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    kind = params.get("type", args[0] if args else "note")
    if not isinstance(kind, str) or kind.strip().lower() not in TYPES:
        raise ValueError(
            "callout type must be one of note, tip, important, warning, danger "
            f"(or info, hint, success, caution, error, …), not {kind!r}"
        )
    style, default_title = TYPES[kind.strip().lower()]

    title = params.get("title", default_title)
    if title is False or title is None:
        title = ""
    elif isinstance(title, bool) or not isinstance(title, (str, int, float)):
        raise ValueError(f"title must be text or false, not {title!r}")
    title = str(title).strip()

    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    body = params.get("text")
    if body is not None and inner is not None and inner.strip():
        raise ValueError("give the content either as text=… or between the tags, not both")
    if inner is not None and inner.strip():
        body = inner
    elif body is not None:
        if isinstance(body, bool) or not isinstance(body, (str, int, float)):
            raise ValueError(f"text must be text, not {body!r}")
        body = str(body)
    if body is None or not body.strip():
        raise ValueError("callout needs content: {{< callout warning >}}…{{< /callout >}}")

    parts = [f'<div class="callout callout-{style}" role="note">']
    if title:
        parts.append(f'<p class="callout-title">{html.escape(title)}</p>')
    parts.append(f'<div class="callout-body">\n{bds_markdown.render(body)}</div></div>')
    return {"html": "".join(parts)}
