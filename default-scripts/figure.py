# ---
# title: Figure
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   src: str, required, position 0 -- the image URL, http(s) or relative
#   alt: str, position 1, default "" -- the alternative text; empty only for a decorative image
#   caption: str, optional -- a plain-text caption (escaped); paired tags give an HTML one
#   link: str, optional -- wrap the image in a link to this http(s) or relative URL
#   width: int, optional -- the image's width in pixels
#   height: int, optional -- the image's height in pixels
#   lazy: bool, default true -- loading="lazy"
# ---
"""An image with alt text and an optional caption, link and size.

Usage: ``{{< figure "/img/cat.jpg" "A cat asleep" caption="Our cat" >}}`` or
``{{< figure src="/img/cat.jpg" alt="A cat" width=640 height=480 link="/img/cat-large.jpg" >}}``.
A paired tag gives the caption as HTML: ``{{< figure src="/a.png" >}}By <em>me</em>{{< /figure >}}``.

Parameters:
    src (str, or the first positional argument): the image URL, http(s) or relative.
    alt (str, or the second positional argument, default ""): the alternative text; leave it
        empty only for a purely decorative image.
    caption (str, optional): a plain-text caption (escaped). The content between paired tags is
        an HTML caption instead; giving both is an error.
    link (str, optional): wrap the image in a link to this http(s) or relative URL.
    width, height (int, optional): the image's size in pixels, so the page does not jump.
    lazy (bool, default true): ``loading="lazy"``.
"""
import html

from html_utils import attrs, safe_url


def text(name, value):
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{name} must be text, not {value!r}")


def url(name, value):
    """An http(s) or relative URL: anything with another scheme (javascript:, data:) is refused."""
    return safe_url(name, text(name, value))


def pixels(name, value):
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a whole number of pixels, not {value!r}")
    return value


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
    lazy = params.get("lazy", True)
    if not isinstance(lazy, bool):
        raise ValueError(f"lazy must be true or false, not {lazy!r}")
    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    caption = params.get("caption")
    if caption is not None and inner is not None and inner.strip():
        raise ValueError("give the caption either as caption=… or between the tags, not both")
    if inner is not None and inner.strip():
        caption_html = inner.strip()
    elif caption is not None:
        caption_html = html.escape(text("caption", caption))
    else:
        caption_html = ""

    img = "<img" + attrs(
        {"src": src, "alt": alt, "width": width, "height": height, "loading": lazy and "lazy"}
    ) + ">"
    link = params.get("link")
    if link is not None:
        img = f'<a href="{html.escape(url("link", link))}">{img}</a>'
    parts = ['<figure class="figure">', img]
    if caption_html:
        parts.append(f"<figcaption>{caption_html}</figcaption>")
    parts.append("</figure>")
    return {"html": "".join(parts)}
