# ---
# title: HTML helpers
# kind: utility
# version: 1
# ---
"""Small HTML helpers shared by the bundled macros: ``import html_utils``.

    slugify(text)          "Crème Brûlée!" -> "creme-brulee" (an anchor id; "section" if empty)
    escape_attr(value)     str(value), escaped for a double-quoted attribute
    attrs(pairs)           {"src": "a.png", "alt": "", "hidden": True, "title": None}
                           -> ' src="a.png" alt="" hidden' (None and False are left out)
    safe_url(name, value)  an http(s) or relative URL, stripped; any other scheme (javascript:,
                           data:) raises ValueError naming the parameter

A utility is a module like any other: macros import it, and it is never called by the app.
"""
import html
import re
import unicodedata

SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
CONTROL = re.compile(r"[\x00-\x20\x7f]+")


def slugify(text):
    """A lowercase ASCII anchor id made of the words of ``text``, joined by hyphens."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s-]", "", text.lower())
    return re.sub(r"[\s_-]+", "-", text).strip("-") or "section"


def escape_attr(value):
    """``str(value)`` escaped for use inside a double-quoted HTML attribute."""
    return html.escape(str(value), quote=True)


def attrs(pairs):
    """HTML attributes from (name, value) pairs or a dict, each with a leading space.

    ``None`` and ``False`` leave the attribute out, ``True`` writes it bare (``hidden``), and
    anything else is written as ``name="escaped value"``. Names must be plain attribute names.
    """
    items = pairs.items() if isinstance(pairs, dict) else pairs
    out = []
    for name, value in items:
        if not re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:.-]*", str(name)):
            raise ValueError(f"not an attribute name: {name!r}")
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {name}")
        else:
            out.append(f' {name}="{escape_attr(value)}"')
    return "".join(out)


def safe_url(name, value):
    """``value`` stripped, when it is an http(s) or relative URL; else ValueError naming ``name``."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, not {value!r}")
    value = value.strip()
    if not value:
        raise ValueError(f"{name} must not be empty")
    found = SCHEME.match(CONTROL.sub("", value))
    if found and found.group(1).lower() not in ("http", "https"):
        raise ValueError(f"{name} must be an http(s) or relative URL, not {value!r}")
    return value
