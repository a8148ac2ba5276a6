# ---
# title: Vimeo embed
# kind: macro
# entrypoint: render
# enabled: true
# version: 4
# params:
#   id: str, required, position 0 -- the numeric video id, or a vimeo.com URL
#   title: str, default "Vimeo video" -- the iframe's accessible title
#   allowFullScreen: bool, default true -- let the player go full screen
#   loading: [eager, lazy], default lazy -- the iframe's loading attribute
#   class: str, optional -- more classes for the wrapping div, after "embed embed-vimeo"
#   hash: str, optional -- the privacy hash of an unlisted video (also read from its URL)
#   start: int, optional -- start time in seconds
#   dnt: bool, default true -- ask Vimeo not to track the viewer (dnt=1)
# ---
"""A Vimeo embed that asks Vimeo not to track the viewer: Hugo's ``vimeo`` shortcode, with the
same parameters, and a few more.

Usage: ``{{< vimeo 76979871 >}}``,
``{{< vimeo id="https://vimeo.com/76979871" start=30 title="Showreel" loading=eager >}}``.

Parameters (Hugo's, with Hugo's meaning):
    id (int or str, or the first positional argument): the numeric video id, or a vimeo.com /
        player.vimeo.com URL (``https://vimeo.com/123``, ``https://vimeo.com/channels/x/123``,
        ``https://player.vimeo.com/video/123``, ``https://vimeo.com/123/abcdef0123`` for an
        unlisted video).
    title (str, default "Vimeo video"): the iframe's accessible title.
    allowFullScreen (bool, default true): let the player go full screen.
    loading ("eager" or "lazy", default "lazy"): the iframe's ``loading`` attribute.
    class (str, optional): more classes for the wrapping ``<div>``.

bDS extras:
    hash (str, optional): the privacy hash of an unlisted video (also read from its URL).
    start (int, optional): start time in seconds.
    dnt (bool, default true): ask Vimeo not to track the viewer (``dnt=1``).

How it differs from Hugo:
    - ``dnt=1`` by default (Hugo: only with ``privacy.vimeo.enableDNT``); ``dnt=false`` turns
      it off.
    - ``loading`` defaults to "lazy" (Hugo: none, so "eager").
    - The wrapper is ``<div class="embed embed-vimeo">`` (``class`` adds to it) and there are
      no inline styles: the site's CSS sizes the player. Hugo writes inline styles unless
      ``class`` is given, which then replaces them.
    - ``id`` may be a Vimeo URL; only the first positional argument is read (old Hugo versions
      took the class and title as the second and third; the engine warns about them).
    - ``allowFullScreen`` takes true/false (Hugo also takes 1/0).
"""
import re

from html_utils import player

NUMERIC_ID = re.compile(r"[0-9]{1,20}")
HASH = re.compile(r"[0-9A-Fa-f]{6,64}")
# scheme (optional), host, path; query and fragment are ignored.
URL = re.compile(r"(?:https?:)?//([^/?#]*)([^?#]*)(?:\?[^#]*)?(?:#.*)?", re.IGNORECASE | re.DOTALL)


def video(value):
    """(id, hash or None) from an id or a URL."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value), None
    text = str(value).strip()
    if NUMERIC_ID.fullmatch(text):
        return text, None
    url = URL.fullmatch(text)
    if url:
        host = url.group(1).rpartition("@")[2].partition(":")[0].lower()
        if host == "vimeo.com" or host.endswith(".vimeo.com"):
            parts = [p for p in url.group(2).split("/") if p]
            for i, part in enumerate(parts):
                if NUMERIC_ID.fullmatch(part):
                    rest = parts[i + 1 : i + 2]
                    if rest and HASH.fullmatch(rest[0]):
                        return part, rest[0]
                    return part, None
    raise ValueError(f"not a Vimeo video id or URL: {text!r}")


def flag(params, name, default):
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("id", args[0] if args else None)
    if raw is None:
        raise ValueError("vimeo needs a video id: {{< vimeo 76979871 >}}")
    vid, url_hash = video(raw)
    privacy = params.get("hash", url_hash)
    query = []
    if privacy is not None:
        privacy = str(privacy).strip()
        if not HASH.fullmatch(privacy):
            raise ValueError(f"hash must be a hexadecimal privacy hash, not {privacy!r}")
        query.append(f"h={privacy}")
    if flag(params, "dnt", True):
        query.append("dnt=1")
    src = f"https://player.vimeo.com/video/{vid}"
    if query:
        src += "?" + "&".join(query)
    start = params.get("start")
    if start is not None:
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise ValueError(f"start must be a whole number of seconds, not {start!r}")
        src += f"#t={start}s"
    loading = params.get("loading", "lazy")
    if loading not in ("eager", "lazy"):
        raise ValueError(f'loading must be "eager" or "lazy", not {loading!r}')
    full_screen = flag(params, "allowFullScreen", True)
    allow = "autoplay; fullscreen; picture-in-picture"
    if not full_screen:
        allow = "autoplay; picture-in-picture"
    title = str(params.get("title", "Vimeo video"))
    extra_class = params.get("class", "")  # checked by player
    return {"html": player("vimeo", src, title, loading, allow, full_screen, extra_class)}
