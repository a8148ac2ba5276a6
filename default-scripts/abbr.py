# ---
# title: Abbreviation
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   text: str, optional -- the abbreviation (escaped); else the tags' content, else the 1st argument
#   title: str, optional -- the expansion (escaped), needed; else the next positional argument
#   *words: any -- the abbreviation and then its expansion, when not given by name
# ---
"""An abbreviation with its expansion shown on hover and read by screen readers.

Usage: ``{{< abbr HTML "HyperText Markup Language" >}}`` gives
``<abbr title="HyperText Markup Language">HTML</abbr>``; also
``{{< abbr text="CSS" title="Cascading Style Sheets" >}}`` or, paired,
``{{< abbr title="World Wide Web" >}}W<sup>3</sup>{{< /abbr >}}``.

Parameters:
    text (str, or the first positional argument): the abbreviation (escaped). The content
        between paired tags is used instead when there is no ``text``; it is HTML and is
        passed through as it is.
    title (str, or the second positional argument): the expansion (escaped).
"""
import html

USAGE = '{{< abbr HTML "HyperText Markup Language" >}}'


def text(name, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be text, not {value!r}")
    return str(value).strip()


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    positional = list(args)
    raw_text = params.get("text")
    if raw_text is None and not (inner and inner.strip()) and positional:
        raw_text = positional.pop(0)
    raw_title = params.get("title", positional[0] if positional else None)

    if raw_text is not None:
        label = html.escape(text("text", raw_text))
    elif inner is not None:
        label = inner.strip()
    else:
        label = ""
    if not label:
        raise ValueError(f"abbr needs the abbreviation: {USAGE}")
    if raw_title is None:
        raise ValueError(f"abbr needs a title, the expansion: {USAGE}")
    title = text("title", raw_title)
    if not title:
        raise ValueError("title must not be empty")
    return {"html": f'<abbr title="{html.escape(title)}">{label}</abbr>'}
