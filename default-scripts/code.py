# ---
# title: Code block
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   lang: str, position 0, optional -- the language, e.g. python (class="language-python")
#   code: str, optional -- the code itself, when the tag is not paired
#   title: str, optional -- a caption (a file name, say)
#   linenos: bool, default false -- wrap each line in <span class="line"> for CSS numbering
#   dedent: bool, default true -- remove the indentation common to every line
# ---
"""A code block, escaped, with a language class for client-side highlighters.

Usage::

    {{< code python >}}
    def hello():
        print("hi")
    {{< /code >}}

or ``{{< code lang="sh" code="make demo" >}}``.

Parameters:
    lang (str, or the first positional argument, optional): the language, e.g. ``python``;
        gives ``<code class="language-python">``.
    code (str, optional): the code itself, when the tag is not paired. The content between
        paired tags is used otherwise (as text: it is escaped, never read as HTML); giving
        both is an error.
    title (str, optional): a caption (a file name, say); the block is then wrapped in a
        ``<figure class="code-block">`` with a ``<figcaption>``.
    linenos (bool, default false): wrap each line in ``<span class="line">`` for numbering in CSS.
    dedent (bool, default true): remove the indentation common to every line.

Blank lines at the start and end are dropped, line endings become ``\\n``, tabs are kept.
"""
import html
import re

LANG = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")


def flag(params, name, default):
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def dedent(lines):
    """Remove the leading spaces and tabs common to all non-blank lines.

    Written out here rather than using ``textwrap.dedent``, whose handling of blank lines
    and unusual white space changed in Python 3.14 (the version the app's interpreter follows).
    """
    margin = None
    for line in lines:
        if not line.strip(" \t"):
            continue
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if margin is None:
            margin = indent
        else:
            common = 0
            for a, b in zip(margin, indent):
                if a != b:
                    break
                common += 1
            margin = margin[:common]
    cut = len(margin or "")
    return [line[cut:] if line.strip(" \t") else "" for line in lines]


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    source = params.get("code")
    if source is not None and inner is not None and inner.strip():
        raise ValueError("give the code either as code=… or between the tags, not both")
    if source is None:
        source = inner
    if source is None:
        raise ValueError("code needs some code: {{< code python >}}…{{< /code >}}")
    if not isinstance(source, str):
        raise ValueError(f"code must be text, not {source!r}")

    lang = params.get("lang", args[0] if args else None)
    if lang is not None:
        if not isinstance(lang, str) or not LANG.fullmatch(lang.strip()):
            raise ValueError(f"lang must be a language name like python or c++, not {lang!r}")
        lang = lang.strip().lower()
    linenos = flag(params, "linenos", False)
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip(" \t"):
        lines.pop(0)
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    if flag(params, "dedent", True):
        lines = dedent(lines)
    else:
        lines = [line.rstrip(" \t") if not line.strip(" \t") else line for line in lines]

    if linenos:
        body = "\n".join(f'<span class="line">{html.escape(line)}</span>' for line in lines)
    else:
        body = html.escape("\n".join(lines))
    code_attrs = f' class="language-{html.escape(lang)}"' if lang else ""
    pre_attrs = ' class="linenos"' if linenos else ""
    block = f"<pre{pre_attrs}><code{code_attrs}>{body}</code></pre>"
    title = params.get("title")
    if title is not None:
        if isinstance(title, bool) or not isinstance(title, (str, int, float)):
            raise ValueError(f"title must be text, not {title!r}")
        title = str(title).strip()
        if title:
            block = (
                f'<figure class="code-block"><figcaption>{html.escape(title)}</figcaption>'
                f"{block}</figure>"
            )
    return {"html": block}
