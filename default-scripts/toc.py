# ---
# title: Table of contents
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   depth: int, default 3 -- deepest heading level listed, counted from the shallowest
#   title: any, optional -- a heading shown above the list (text; none when false or empty)
# ---
"""Table of contents built from the headings of the post being rendered.

Usage: ``{{< toc >}}`` or ``{{< toc depth=2 title="On this page" >}}``.

Parameters:
    depth (int, default 3): deepest heading level listed, counted from the shallowest found.
    title (str, optional): a heading shown above the list.

Reads ``post.content`` (HTML). Each ``<h1>``..``<h6>`` becomes a link to its ``id``; a heading
without one gets a slug made from its text, unique within the post.
"""
import html
import re

from html_utils import slugify

HEADING = re.compile(r"<h([1-6])([^>]*)>(.*?)</h\1\s*>", re.IGNORECASE | re.DOTALL)
ID_ATTR = re.compile(r"""\bid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")


def headings(content):
    seen = {}
    for level, attrs, inner in HEADING.findall(content):
        text = html.unescape(TAG.sub("", inner)).strip()
        found = ID_ATTR.search(attrs)
        anchor = next((g for g in found.groups() if g), None) if found else None
        if anchor is None:
            base = slugify(text)
            count = seen.get(base, 0)
            seen[base] = count + 1
            anchor = base if count == 0 else f"{base}-{count}"
        yield int(level), text, anchor


def render(context):
    params = context.get("params") or {}
    depth = params.get("depth", 3)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ValueError(f"depth must be a positive whole number, not {depth!r}")
    content = (context.get("post") or {}).get("content") or ""
    items = list(headings(content))
    if not items:
        return {"html": ""}
    top = min(level for level, _, _ in items)
    parts = ['<nav class="toc">']
    if params.get("title"):
        parts.append(f'<p class="toc-title">{html.escape(str(params["title"]))}</p>')
    open_levels = []  # levels of the <ul> elements still open; each has an open <li>
    for level, text, anchor in items:
        if level - top >= depth:
            continue
        while open_levels and level < open_levels[-1]:
            parts.append("</li></ul>")
            open_levels.pop()
        if open_levels and level == open_levels[-1]:
            parts.append("</li>")
        else:
            parts.append("<ul>")
            open_levels.append(level)
        parts.append(f'<li><a href="#{html.escape(anchor)}">{html.escape(text)}</a>')
    while open_levels:
        parts.append("</li></ul>")
        open_levels.pop()
    parts.append("</nav>")
    return {"html": "".join(parts)}
