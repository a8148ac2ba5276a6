# ---
# title: HTML helpers
# kind: utility
# version: 2
# ---
"""Small HTML helpers shared by the bundled macros: ``import html_utils``.

    slugify(text)          "Crème Brûlée!" -> "creme-brulee" (an anchor id; "section" if empty)
    escape_attr(value)     str(value), escaped for a double-quoted attribute
    attrs(pairs)           {"src": "a.png", "alt": "", "hidden": True, "title": None}
                           -> ' src="a.png" alt="" hidden' (None and False are left out)
    safe_url(name, value)  an http(s) or relative URL, stripped; any other scheme (javascript:,
                           data:) raises ValueError naming the parameter
    text_or_int(name, value)
                           a str stripped, or a whole number as its digits (an id, a user
                           name); anything else raises ValueError naming the parameter
    quote_embed(kind, url, inner, label)
                           a post shown as a quotation: <blockquote class="embed embed-KIND"
                           cite="URL">, the content between the tags, a link to URL (LABEL)
    player(kind, src, title, loading, allow, allowfullscreen, extra_class="")
                           a video player: <div class="embed embed-KIND …"><iframe …></div>;
                           extra_class (the class= parameter) must be text or a number

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


def text_or_int(name, value):
    """``value`` stripped when it is a str, a whole number (not a bool) as its digits;
    ValueError naming ``name`` for anything else (floats included)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{name} must be text, not {value!r}")


def quote_embed(kind, url, inner, label):
    """A post embedded as a quotation, without the provider's script.

    ``<blockquote class="embed embed-KIND" cite="URL">INNER<p><a href="URL">LABEL</a></p>
    </blockquote>`` (on one line): ``inner`` is the content between paired tags (HTML, kept as
    it is but stripped; None for none; TypeError when it is not a string), ``label`` is text.
    """
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    quoted = inner.strip() if inner is not None else ""
    href = escape_attr(url)
    return (
        f'<blockquote class="embed embed-{escape_attr(kind)}" cite="{href}">{quoted}'
        f'<p><a href="{href}">{html.escape(str(label))}</a></p></blockquote>'
    )


def player(kind, src, title, loading, allow, allowfullscreen, extra_class=""):
    """A video player: ``<div class="embed embed-KIND EXTRA"><iframe …></iframe></div>``.

    The iframe gets ``src``, ``title``, ``loading``, ``allow`` and ``allowfullscreen`` as
    ``attrs`` writes them. ``extra_class`` (the macro's ``class=``: text, or a number as its
    text) adds its words to the div's classes; anything else raises ValueError naming ``class``.
    """
    if isinstance(extra_class, (int, float)) and not isinstance(extra_class, bool):
        extra_class = str(extra_class)
    if not isinstance(extra_class, str):
        raise ValueError(f"class must be text, not {extra_class!r}")
    iframe = [
        ("src", src),
        ("title", title),
        ("loading", loading),
        ("allow", allow),
        ("allowfullscreen", allowfullscreen),
    ]
    classes = " ".join([f"embed embed-{kind}"] + extra_class.split())
    return f'<div class="{escape_attr(classes)}"><iframe{attrs(iframe)}></iframe></div>'
