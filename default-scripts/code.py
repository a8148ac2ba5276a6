# ---
# title: Code block
# kind: macro
# entrypoint: render
# enabled: true
# version: 4
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
``highlight`` is Hugo's variant (line numbers in a table, marked lines); both share
``code_utils``.
"""
import html

from code_utils import dedent, flag, source_and_language, split_lines


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    missing = "code needs some code: {{< code python >}}…{{< /code >}}"
    source, lang = source_and_language(params, args, context.get("inner"), missing)
    linenos = flag(params, "linenos", False)
    lines = split_lines(source)
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
