# ---
# title: CSV table
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   header: bool, default true -- the first row is a header row
#   delimiter: str, default "," -- the one character between cells; tab or \t for a tab
#   caption: str, optional -- a <caption> (escaped)
#   align: str, optional -- one letter per column: l, c, r or - (left alone), e.g. lcr
# ---
"""A table from CSV written between the tags.

Usage::

    {{< table caption="Prices" align="lr" >}}
    Fruit, Price
    Apple, 1.20
    "Kiwi, gold", 2.00
    {{< /table >}}

Parameters:
    header (bool, default true): the first row is a header row (``<thead>`` with ``<th>``).
    delimiter (str, default ","): the one character between cells; ``tab`` or ``\\t`` for a tab.
    caption (str, optional): a ``<caption>`` (escaped).
    align (str, optional): one letter per column, ``l``, ``c`` or ``r`` (``-`` leaves a column
        alone), e.g. ``align="lcr"``; gives ``style="text-align: …"`` to its cells.

Cells follow the usual CSV rules (Python's ``csv`` module, "excel" dialect): quote a cell with
``"`` to put the delimiter or a line break in it, double a quote inside a quoted cell. Spaces
around cells are trimmed, blank lines are skipped, short rows are padded with empty cells.
Every cell is escaped; a line break inside a cell becomes ``<br>``.
"""
import csv
import html
import io

ALIGN = {"l": "left", "c": "center", "r": "right", "-": None}


def render(context):
    params = context.get("params") or {}
    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    if inner is None or not inner.strip():
        raise ValueError("table needs CSV between the tags: {{< table >}}a,b{{< /table >}}")

    header = params.get("header", True)
    if not isinstance(header, bool):
        raise ValueError(f"header must be true or false, not {header!r}")
    delimiter = params.get("delimiter", ",")
    if delimiter in ("tab", "\\t"):
        delimiter = "\t"
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValueError(
            f"delimiter must be one character (not a quote or a line break), not {delimiter!r}"
        )
    align = params.get("align", "")
    if not isinstance(align, str) or any(ch not in ALIGN for ch in align.lower()):
        raise ValueError(f"align must be letters l, c, r or - (one per column), not {align!r}")
    caption = params.get("caption")
    if caption is not None and (
        isinstance(caption, bool) or not isinstance(caption, (str, int, float))
    ):
        raise ValueError(f"caption must be text, not {caption!r}")

    # NUL characters are dropped: they are never wanted in a page.
    source = inner.replace("\x00", "").strip("\r\n")
    reader = csv.reader(io.StringIO(source, newline=""), delimiter=delimiter, strict=False)
    rows = []
    for row in reader:
        cells = [cell.strip() for cell in row]
        if any(cells):
            rows.append(cells)
    if not rows:
        raise ValueError("table needs CSV between the tags: {{< table >}}a,b{{< /table >}}")
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    styles = [ALIGN[ch] for ch in align.lower()] + [None] * width

    def row_html(cells, tag):
        out = []
        for i, cell in enumerate(cells):
            style = f' style="text-align: {styles[i]}"' if styles[i] else ""
            content = html.escape(cell).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
            out.append(f"<{tag}{style}>{content}</{tag}>")
        return "<tr>" + "".join(out) + "</tr>"

    parts = ['<table class="table">']
    if caption is not None and str(caption).strip():
        parts.append(f"<caption>{html.escape(str(caption).strip())}</caption>")
    if header:
        parts.append("<thead>" + row_html(rows[0], "th") + "</thead>")
        rows = rows[1:]
    if rows:
        parts.append("<tbody>" + "".join(row_html(r, "td") for r in rows) + "</tbody>")
    parts.append("</table>")
    return {"html": "".join(parts)}
