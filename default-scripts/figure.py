# ---
# title: Figure
# kind: macro
# entrypoint: render
# enabled: true
# version: 3
# params:
#   src: str, required, position 0 -- the image URL, http(s) or relative
#   alt: str, position 1, default "" -- the alternative text; empty only for a decorative image
#   caption: str, optional -- the caption, in Markdown; paired tags give an HTML one instead
#   title: str, optional -- a heading (h4) at the top of the caption
#   attr: str, optional -- an attribution (Markdown), after the caption
#   attrlink: str, optional -- link the attribution to this http(s) or relative URL
#   class: str, optional -- more classes for the figure element, after "figure"
#   link: str, optional -- wrap the image in a link to this http(s) or relative URL
#   target: str, optional -- the link's target attribute, e.g. _blank
#   rel: str, optional -- the link's rel attribute, e.g. noopener
#   width: int, optional -- the image's width in pixels
#   height: int, optional -- the image's height in pixels
#   loading: [eager, lazy], optional -- the image's loading attribute; wins over lazy
#   lazy: bool, default true -- loading="lazy" (when loading is not given)
# ---
"""An image with alt text and an optional caption, title, attribution, link and size: Hugo's
``figure`` shortcode, with the same parameters.

Usage: ``{{< figure "/img/cat.jpg" "A cat asleep" caption="Our *sleepy* cat" >}}``,
``{{< figure src="/img/cat.jpg" alt="A cat" width=640 height=480 link="/img/cat-large.jpg" >}}``,
``{{< figure src="/a.jpg" title="Dawn" caption="Over the bay" attr="Jane Doe"
attrlink="https://example.org/jane" >}}``. A paired tag gives the caption as HTML:
``{{< figure src="/a.png" >}}By <em>me</em>{{< /figure >}}``.

Parameters (Hugo's, with Hugo's meaning):
    src (str, or the first positional argument): the image URL, http(s) or relative.
    alt (str, or the second positional argument, default ""): the alternative text; leave it
        empty only for a purely decorative image.
    caption (str, optional): the caption, in Markdown (inline: a one-paragraph caption loses its
        ``<p>``, as Hugo's ``markdownify`` does). The content between paired tags is an HTML
        caption instead; giving both is an error.
    title (str, optional): a heading, ``<h4>``, at the top of the caption (plain text).
    attr (str, optional): an attribution (Markdown), written after the caption.
    attrlink (str, optional): link the attribution to this http(s) or relative URL.
    class (str, optional): more classes for the ``<figure>``.
    link (str, optional): wrap the image in a link to this http(s) or relative URL.
    target, rel (str, optional): the link's ``target`` and ``rel`` (ignored, with a warning,
        without ``link``; so is ``attrlink`` without ``attr``).
    width, height (int, optional): the image's size in pixels, so the page does not jump.
    loading ("eager" or "lazy", optional): the image's ``loading`` attribute.

bDS extras: ``alt`` may be the second positional argument; ``lazy`` (bool, default true) sets
``loading="lazy"`` when ``loading`` is not given; paired tags give an HTML caption.

How it differs from Hugo:
    - The figure always has ``class="figure"``; ``class`` adds to it.
    - Images load lazily unless ``loading="eager"`` or ``lazy=false`` (Hugo: no ``loading``).
    - ``alt`` defaults to empty, not to the caption's text (which a screen reader would then
      read twice), and is always written.
    - The caption and attribution are written inside ``<figcaption>`` after the title, joined
      by a space, without Hugo's ``<p>`` around them (so a caption of several paragraphs or an
      HTML one stays valid HTML).
    - ``src``, ``link`` and ``attrlink`` must be http(s) or relative URLs; ``width`` and
      ``height`` whole numbers of pixels. Hugo writes whatever it is given.
    - Hugo resolves a relative ``src`` against the page's resources; bDS writes it as given.
    - ``target``/``rel`` without ``link``, and ``attrlink`` without ``attr``, give a warning
      (Hugo ignores them silently).
"""
import html
import warnings

import bds_markdown
from html_utils import attrs, safe_url


def text(name, value):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{name} must be text, not {value!r}")


def optional_text(params, name):
    """The text of ``params[name]``, or None when it is missing or empty (as Hugo's ``with``)."""
    value = params.get(name)
    return (text(name, value) or None) if value is not None else None


def url(name, value):
    """An http(s) or relative URL: anything with another scheme (javascript:, data:) is refused."""
    return safe_url(name, text(name, value))


def pixels(name, value):
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a whole number of pixels, not {value!r}")
    return value


def markdown(name, value):
    """Inline Markdown, like Hugo's ``markdownify``: one paragraph loses its ``<p>``."""
    return bds_markdown.render(text(name, value), inline=True).strip()


def loading_of(params):
    loading = params.get("loading")
    if loading is not None:
        if loading not in ("eager", "lazy"):
            raise ValueError(f'loading must be "eager" or "lazy", not {loading!r}')
        return loading
    lazy = params.get("lazy", True)
    if not isinstance(lazy, bool):
        raise ValueError(f"lazy must be true or false, not {lazy!r}")
    return "lazy" if lazy else None


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw_src = params.get("src", args[0] if args else None)
    if raw_src is None:
        raise ValueError('figure needs an image: {{< figure src="/img/cat.jpg" alt="A cat" >}}')
    src = url("src", raw_src)
    alt = text("alt", params.get("alt", args[1] if len(args) > 1 else ""))
    width = pixels("width", params.get("width"))
    height = pixels("height", params.get("height"))
    loading = loading_of(params)
    classes = " ".join(["figure"] + (optional_text(params, "class") or "").split())

    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    caption = params.get("caption")
    if caption is not None and inner is not None and inner.strip():
        raise ValueError("give the caption either as caption=… or between the tags, not both")
    if inner is not None and inner.strip():
        caption_html = inner.strip()
    elif caption is not None:
        caption_html = markdown("caption", caption)
    else:
        caption_html = ""
    title = optional_text(params, "title")
    attr = params.get("attr")
    attr_html = markdown("attr", attr) if attr is not None else ""
    attrlink = params.get("attrlink")
    if attrlink is not None:
        attrlink = url("attrlink", attrlink)
        if attr_html:
            attr_html = f'<a href="{html.escape(attrlink)}">{attr_html}</a>'
        else:
            warnings.warn("attrlink links the attribution (attr), and there is none; ignored")

    img = "<img" + attrs(
        {"src": src, "alt": alt, "width": width, "height": height, "loading": loading}
    ) + ">"
    link = params.get("link")
    if link is None:
        for name in ("target", "rel"):
            if params.get(name) is not None:
                warnings.warn(f"{name} applies to the link, and there is none; ignored")
    else:
        link_attrs = {
            "href": url("link", link),
            "target": optional_text(params, "target"),
            "rel": optional_text(params, "rel"),
        }
        img = "<a" + attrs(link_attrs) + f">{img}</a>"
    parts = ["<figure" + attrs({"class": classes}) + ">", img]
    body = " ".join(part for part in (caption_html, attr_html) if part)
    if title or body:
        heading = f"<h4>{html.escape(title)}</h4>" if title else ""
        parts.append(f"<figcaption>{heading}{body}</figcaption>")
    parts.append("</figure>")
    return {"html": "".join(parts)}
