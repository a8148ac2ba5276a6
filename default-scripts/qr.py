# ---
# title: QR code
# kind: macro
# entrypoint: render
# enabled: true
# version: 1
# params:
#   text: str, position 0, optional -- the text to encode (else the content between the tags)
#   level: [low, medium, quartile, high], default medium -- error correction (7, 15, 25, 30 %)
#   scale: int, default 4 -- image pixels per module, at least 2
#   alt: str, optional -- the image's alt text
#   class: str, optional -- the img element's class
#   id: str, optional -- the img element's id
#   title: str, optional -- a tooltip
#   loading: str, optional -- the img element's loading attribute: lazy or eager
#   targetDir: str, optional -- Hugo's PNG directory; the image is inline: ignored with a warning
# ---
"""A QR code, made here (no network access) and inlined as an SVG image: Hugo's ``qr``.

Usage: ``{{< qr text="https://gohugo.io" />}}``, ``{{< qr "tel:+12065550101" >}}``, or the
text between the tags::

    {{< qr level="low" scale=2 alt="QR code of vCard for John Smith" >}}
    BEGIN:VCARD
    ...
    END:VCARD
    {{< /qr >}}

Parameters (Hugo's, with the same defaults):
    text (str, or the first positional argument): the text to encode; when it is missing or
        empty, the content between the opening and closing tags, with the white space around
        it removed, is used. Encoded as UTF-8 (without an ECI marker, as Hugo does), or in the
        more compact numeric or alphanumeric mode when all of it is digits, or digits,
        capitals, space and $%*+-./: only.
    level (str, default "medium"): error correction, low, medium, quartile or high.
    scale (int, default 4): image pixels per QR module, at least 2.
    alt, class, id, title, loading (str, optional): attributes of the ``<img>`` (escaped;
        left out when empty, as Hugo does).
    targetDir (str, optional): Hugo's directory for the PNG file it writes. The image is
        inline here: ignored, with a warning.

Gives ``<img src="data:image/svg+xml;base64,…" width="W" height="W" …>``, where W is the
number of modules, with a quiet zone of 4 on every side, times ``scale``: the same size as
Hugo's PNG. The SVG draws black modules on a white background (a QR code needs its light
modules and quiet zone, also on a dark page). The encoder is ``qr_utils``.
"""
import html
import re
import warnings

import qr_utils

LEVELS = ("low", "medium", "quartile", "high")
ATTRIBUTES = ("alt", "class", "id", "title", "loading")
QUIET_ZONE = 4
INTEGER = re.compile(r"-?[0-9]+")
USAGE = '{{< qr text="https://example.com" />}}, or the text between {{< qr >}} and {{< /qr >}}'


def text_param(name, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be text, not {value!r}")
    return str(value)


def scale_param(value):
    if isinstance(value, str) and INTEGER.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 2:
        raise ValueError(f"scale must be a whole number of at least 2, not {value!r}")
    return value


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    if not isinstance(params, dict):
        raise TypeError(f"params must be an object, not {type(params).__name__}")
    if not isinstance(args, list):
        raise TypeError(f"args must be a list, not {type(args).__name__}")

    raw = params.get("text", args[0] if args else None)
    text = text_param("text", raw) if raw is not None else ""
    if not text:
        inner = context.get("inner")
        if inner is not None and not isinstance(inner, str):
            raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
        text = (inner or "").strip()
    if not text:
        raise ValueError(f"qr needs a text to encode: {USAGE}")

    level = params.get("level", "medium")
    if level not in LEVELS:
        raise ValueError(f"level must be one of low, medium, quartile, high, not {level!r}")
    scale = scale_param(params.get("scale", 4))

    if params.get("targetDir") is not None:
        warnings.warn("qr: targetDir is not needed (the image is inline, not a file); ignored")

    code = qr_utils.encode(text, level)
    width = (code["size"] + 2 * QUIET_ZONE) * scale
    image = qr_utils.svg(code["rows"], border=QUIET_ZONE, scale=scale)
    out = f'<img src="{qr_utils.data_uri(image)}" width="{width}" height="{width}"'
    for name in ATTRIBUTES:
        value = params.get(name)
        if value is not None:
            value = text_param(name, value)
            if value:
                out += f' {name}="{html.escape(value)}"'
    return {"html": out + ">"}
