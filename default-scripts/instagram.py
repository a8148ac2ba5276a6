# ---
# title: Instagram post
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   id: str, required, position 0 -- the post's id (what follows /p/ in its URL), or its URL
# ---
"""A link to an Instagram post, quoted: Hugo's ``instagram`` shortcode, with the same
parameter, but no Instagram script (so no request to Instagram until the reader follows the
link).

Usage: ``{{< instagram CxOWiQNP2MO >}}`` or
``{{< instagram "https://www.instagram.com/p/CxOWiQNP2MO/" >}}``. Paired tags give text to
quote above the link (HTML, e.g. the post's caption):
``{{< instagram CxOWiQNP2MO >}}<p>Sunrise over the bay.</p>{{< /instagram >}}``.

Parameters (Hugo's, with Hugo's meaning):
    id (str, or the first positional argument): the post's id, as in
        ``https://www.instagram.com/p/ID/``.

bDS extras: ``id`` may be the post's URL (``/p/ID``, ``/reel/ID``, ``/tv/ID``, with or without
the author's name before it; instagram.com or instagr.am); paired tags give quoted HTML.

How it differs from Hugo: Hugo writes Instagram's embed markup and its ``embed.js`` script,
which loads the post (and Instagram's tracking) in the reader's browser; bDS writes a static
quote with a link, ``<blockquote class="embed embed-instagram" cite="URL"><p><a href="URL">View
this post on Instagram</a></p></blockquote>``, where URL is
``https://www.instagram.com/p/ID/`` (``/reel/ID/`` or ``/tv/ID/`` for those URLs). Old Hugo
versions took ``hidecaption`` as a second argument; there is no caption to hide here, and the
engine warns about it.
"""
import re

from html_utils import quote_embed, text_or_int

POST_ID = re.compile(r"[A-Za-z0-9_-]{5,64}")
KINDS = {"p": "p", "reel": "reel", "reels": "reel", "tv": "tv"}
# scheme (optional), host, path; query and fragment are ignored.
URL = re.compile(r"(?:https?:)?//([^/?#]*)([^?#]*)(?:\?[^#]*)?(?:#.*)?", re.IGNORECASE | re.DOTALL)


def post(value):
    """(kind, id) from an id or an Instagram URL; kind is "p", "reel" or "tv"."""
    text = text_or_int("id", value)
    if POST_ID.fullmatch(text):
        return "p", text
    url = URL.fullmatch(text)
    if url:
        host = url.group(1).rpartition("@")[2].partition(":")[0].lower()
        if host in ("instagram.com", "instagr.am") or host.endswith(".instagram.com"):
            parts = [p for p in url.group(2).split("/") if p]
            for kind, candidate in zip(parts, parts[1:]):
                if kind in KINDS and POST_ID.fullmatch(candidate):
                    return KINDS[kind], candidate
    raise ValueError(f"not an Instagram post id or URL: {text!r}")


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("id", args[0] if args else None)
    if raw is None:
        raise ValueError("instagram needs a post id: {{< instagram CxOWiQNP2MO >}}")
    kind, post_id = post(raw)
    url = f"https://www.instagram.com/{kind}/{post_id}/"
    label = "View this post on Instagram"
    return {"html": quote_embed("instagram", url, context.get("inner"), label)}
