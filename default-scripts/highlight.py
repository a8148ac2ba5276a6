# ---
# title: Highlighted code block (Hugo's highlight)
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   lang: str, position 0, optional -- the language, e.g. go (class="language-go" data-lang="go")
#   options: str, position 1, optional -- Hugo's options: "linenos=table, hl_lines=8 15-17, linenostart=9"
#   code: str, optional -- the code itself, when the tag is not paired (bDS)
#   linenos: [true, false, inline, table], optional -- line numbers: true or table, inline, false
#   hl_lines: str, optional -- lines to mark, counted from the first line of the code: "2-4 7"
#   linenostart: int, optional -- the number of the first line; default 1
#   linenumbersintable: bool, optional -- what linenos=true gives: a table (default) or inline numbers
#   anchorlinenos: bool, optional -- make each line number a link to its own line
#   lineanchors: str, optional -- the prefix of the line ids; default hl-N (N: the block's ordinal)
#   hl_inline: bool, optional -- an inline <code> element instead of a block
#   wrapperclass: str, optional -- the class of the outer <div>; default highlight
#   style: any, optional -- not supported (no server-side colouring): ignored with a warning
#   noclasses: any, optional -- not supported: ignored with a warning
#   tabwidth: any, optional -- not supported: ignored with a warning
#   guesssyntax: any, optional -- not supported: ignored with a warning
# ---
"""Hugo's ``highlight``: a code block with line numbers and marked lines, in the HTML shape of
Hugo's highlighter (Chroma with classes), but without colouring: the code is only escaped, and
``class="language-go"`` is there for a client-side highlighter.

Usage::

    {{< highlight go "linenos=table, hl_lines=8 15-17, linenostart=199" >}}
    package main
    {{< /highlight >}}

or with named options (bDS): ``{{< highlight go linenos=inline hl_lines="2-3" >}}…``, or
``{{< highlight lang="sh" code="make demo" >}}``.

Parameters:
    lang (str, or the first positional argument, optional): the language, case-insensitive.
    options (str, or the second positional argument, optional): Hugo's options, ``key=value``
        pairs separated by commas; keys are case-insensitive (``lineNos=table``).
    code (str, optional): the code, when the tag is not paired (bDS); else the content between
        the tags, as text (escaped, never read as HTML). Giving both is an error.
    Each option can also be given as a named parameter (lowercase), which wins over ``options``:
    linenos: ``false`` (default), ``true`` or ``table`` (numbers in a table, copy-friendly),
        ``inline`` (numbers before each line).
    hl_lines: the lines to mark (``class="line hl"``), e.g. ``2-4 7``, counted from the first
        line of the code whatever ``linenostart`` is; lines past the end are ignored.
    linenostart (default 1): the number shown on the first line.
    linenumbersintable (default true): whether ``linenos=true`` means a table.
    anchorlinenos (default false): each line number is a link to itself, its ``<span>`` having
        the id ``PREFIX-N``.
    lineanchors: that PREFIX; default ``hl-`` and the block's ordinal among the post's
        ``highlight`` calls (``hl-0-3``), as Hugo does for code fences.
    hl_inline (default false): an inline ``<code class="code-inline language-go">``, no block.
    wrapperclass (default ``highlight``): the class of the outer ``<div>``.
    style, noclasses, tabwidth, guesssyntax: Chroma's colouring options; there is no colouring
    here, so each gives a warning and is ignored. An unknown key in ``options`` also gives a
    warning; a bad value of a known one is an error.

How it differs from Hugo: no colouring (no token ``<span>``s; style the classes ``line``,
``hl``, ``ln``, ``lnt``, ``lntable`` and ``lntd`` with CSS, or colour ``code.language-*`` in
the browser); without line numbers and marked lines the code is plain escaped text (no
per-line ``<span>``s), which client-side highlighters need; blank lines at the start and end
are dropped (Hugo drops only line breaks); ``lang`` is optional; default line ids are
``hl-N-LINE`` rather than the bare line number (which collides between blocks).
"""
import html
import re
import warnings

from code_utils import flag, source_and_language, split_lines
from html_utils import attrs

KNOWN = (
    "linenos",
    "hl_lines",
    "linenostart",
    "linenumbersintable",
    "anchorlinenos",
    "lineanchors",
    "hl_inline",
    "wrapperclass",
)
IGNORED = ("style", "noclasses", "tabwidth", "guesssyntax")
RANGE = re.compile(r"(\d{1,9})(?:-(\d{1,9}))?")
START = re.compile(r"\d{1,9}")
ANCHOR = re.compile(r"[^\s#\"'<>&]+")


def parse_options(text):
    """Hugo's options string, ``"linenos=table, hl_lines=8 15-17"``, as a dict (lowercase keys)."""
    options = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or not key or "=" in value:
            raise ValueError(
                "options must be key=value pairs separated by commas, e.g. "
                f'"linenos=table, hl_lines=2-4", not {part.strip()!r}'
            )
        options[key] = value.strip()
    return options


def line_numbers_mode(options):
    """None (no numbers), "inline" or "table"."""
    value = options.get("linenos", False)
    if isinstance(value, str):
        value = value.strip().lower()
        value = {"true": True, "false": False}.get(value, value)
    if value is False:
        return None
    if value is True:
        return "table" if flag(options, "linenumbersintable", True) else "inline"
    if value in ("inline", "table"):
        return value
    raise ValueError(f"linenos must be true, false, inline or table, not {options['linenos']!r}")


def marked_lines(value):
    """The ranges of lines (1 = the first line of the code) that hl_lines marks, as pairs."""
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f'hl_lines must be line numbers or ranges like "2-4 7", not {value!r}')
    ranges = []
    for field in re.split(r"[\s,]+", str(value).strip()):
        if not field:
            continue
        found = RANGE.fullmatch(field)
        if not found:
            raise ValueError(f'hl_lines must be line numbers or ranges like "2-4 7", not {value!r}')
        first = int(found.group(1))
        last = int(found.group(2) or first)
        if last < first:
            raise ValueError(f"hl_lines: the range {field!r} ends before it starts")
        ranges.append((first, last))
    return ranges


def first_number(value):
    if value is None:
        return 1
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and START.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError(f"linenostart must be a whole number from 0, not {value!r}")


def line_prefix(options, context):
    """The prefix of the line ids, with its trailing hyphen."""
    value = options.get("lineanchors")
    if value is None:
        call = context.get("call")
        ordinal = call.get("ordinal") if isinstance(call, dict) else None
        if isinstance(ordinal, bool) or not isinstance(ordinal, int):
            ordinal = 0
        return f"hl-{ordinal}-"
    if not isinstance(value, str) or not ANCHOR.fullmatch(value.strip()):
        raise ValueError(f"lineanchors must be an id prefix without spaces, not {value!r}")
    return value.strip() + "-"


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    missing = "highlight needs some code: {{< highlight go >}}…{{< /highlight >}}"
    source, lang = source_and_language(params, args, context.get("inner"), missing)

    options = {}
    raw = params.get("options", args[1] if len(args) > 1 else None)
    if raw is not None:
        if not isinstance(raw, str):
            raise ValueError(f'options must be text like "linenos=table, hl_lines=2", not {raw!r}')
        options.update(parse_options(raw))
    for key in KNOWN + IGNORED:
        if key in params:
            options[key] = params[key]
    for key in options:
        if key in IGNORED:
            warnings.warn(
                f"highlight: {key} is not supported (bDS does not colour code on the server: "
                "style the classes with CSS, or use a client-side highlighter); ignored"
            )
        elif key not in KNOWN:
            warnings.warn(f"highlight: unknown option {key!r} ignored")

    numbers = line_numbers_mode(options)
    marked = marked_lines(options.get("hl_lines"))
    start = first_number(options.get("linenostart"))
    anchored = flag(options, "anchorlinenos", False)
    prefix = line_prefix(options, context) if anchored and numbers else ""
    inline = flag(options, "hl_inline", False)
    wrapper = options.get("wrapperclass", "highlight")
    if isinstance(wrapper, bool) or not isinstance(wrapper, str):
        raise ValueError(f"wrapperclass must be text, not {wrapper!r}")

    lines = split_lines(source)
    marks = [any(a <= i <= b for a, b in marked) for i in range(1, len(lines) + 1)]
    lang_class = f"language-{lang}" if lang else None
    if inline:
        cls = "code-inline " + lang_class if lang_class else "code-inline"
        text = html.escape("\n".join(lines))
        return {"html": f'<code class="{cls}">{text}</code>'}

    code_open = "<code" + attrs([("class", lang_class), ("data-lang", lang)]) + ">"
    pre_open = '<pre tabindex="0" class="chroma">'
    width = len(str(start + max(len(lines), 1) - 1))

    def number(n, cls):
        """The line number's <span>, with its id and link when anchored."""
        title = f"{n:>{width}}"
        if prefix:
            ident = html.escape(f"{prefix}{n}")
            link = f'<a class="lnlinks" href="#{ident}">{title}</a>'
            return f'<span class="{cls}" id="{ident}">{link}'
        return f'<span class="{cls}">{title}'

    if numbers is None and not marked:
        code = "".join(html.escape(line) + "\n" for line in lines)
    else:
        parts = []
        for i, line in enumerate(lines, 1):
            parts.append('<span class="line hl">' if marks[i - 1] else '<span class="line">')
            if numbers == "inline":
                parts.append(number(start + i - 1, "ln") + "</span>")
            parts.append(f'<span class="cl">{html.escape(line)}\n</span></span>')
        code = "".join(parts)
    block = f"{pre_open}{code_open}{code}</code></pre>"
    if numbers == "table":
        gutter = []
        for i in range(1, len(lines) + 1):
            entry = number(start + i - 1, "lnt") + "\n</span>"
            gutter.append(f'<span class="hl">{entry}</span>' if marks[i - 1] else entry)
        block = (
            '<div class="chroma">\n<table class="lntable"><tr><td class="lntd">\n'
            f"{pre_open}<code>{''.join(gutter)}</code></pre></td>\n"
            f'<td class="lntd">\n{block}</td></tr></table>\n</div>\n'
        )
    return {"html": f"<div{attrs([('class', wrapper.strip() or None)])}>{block}</div>"}
