# ---
# title: YouTube embed
# kind: macro
# entrypoint: render
# enabled: true
# version: 4
# params:
#   id: str, required, position 0 -- the video id, or a youtube.com / youtu.be URL
#   title: str, default "YouTube video" -- the iframe's accessible title
#   start: int, optional -- start playing at this second
#   end: int, optional -- stop playing at this second
#   autoplay: bool, default false -- play as soon as the page loads (always muted)
#   mute: bool, default false -- start muted
#   loop: bool, default false -- play the video again and again
#   controls: bool, default true -- show the player's controls
#   allowFullScreen: bool, default true -- let the player go full screen
#   loading: [eager, lazy], default lazy -- the iframe's loading attribute
#   class: str, optional -- more classes for the wrapping div, after "embed embed-youtube"
# ---
"""A privacy-friendly YouTube embed: Hugo's ``youtube`` shortcode, with the same parameters,
always on youtube-nocookie.com.

Usage: ``{{< youtube dQw4w9WgXcQ >}}``,
``{{< youtube id="dQw4w9WgXcQ" start=42 end=60 title="Talk" >}}`` or
``{{< youtube "https://youtu.be/dQw4w9WgXcQ" autoplay=true loop=true >}}``.

Parameters (Hugo's, with Hugo's meaning):
    id (str, or the first positional argument): the video id, or a youtube.com / youtu.be URL.
    title (str, default "YouTube video"): the iframe's accessible title.
    start, end (int, optional): play from / stop at this second (``end`` after ``start``).
    autoplay (bool, default false): play as soon as the page loads; forces ``mute``.
    mute (bool, default false): start muted.
    loop (bool, default false): play again and again (after the first play, from the start).
    controls (bool, default true): show the player's controls.
    allowFullScreen (bool, default true): let the player go full screen.
    loading ("eager" or "lazy", default "lazy"): the iframe's ``loading`` attribute.
    class (str, optional): more classes for the wrapping ``<div>``.

How it differs from Hugo:
    - Always youtube-nocookie.com (Hugo: only with ``privacy.youTube.privacyEnhanced``).
    - ``loading`` defaults to "lazy" (Hugo: "eager").
    - The wrapper is ``<div class="embed embed-youtube">`` (``class`` adds to it) and there are
      no inline styles: the site's CSS sizes the player. Hugo writes inline styles unless
      ``class`` is given, which then replaces them.
    - The query string holds only what differs from the player's defaults (Hugo writes every
      one), and ``id`` may be a YouTube URL.
    - The iframe allows less (``accelerometer; encrypted-media; picture-in-picture``, and
      ``autoplay`` only with ``autoplay=true``; Hugo also allows clipboard-write, gyroscope and
      web-share), full screen is the ``allowfullscreen`` attribute, and there is no
      ``referrerpolicy`` (the browser's default is the one Hugo writes).
    - Boolean parameters take true/false (Hugo also takes 1/0); ``start`` and ``end`` must be
      whole seconds, ``end`` after ``start``.

URLs are taken apart with a regular expression rather than ``urllib.parse``, whose behaviour
on odd input differs between Python versions (the app's interpreter follows CPython 3.14).
"""
import re

from html_utils import player

VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
# scheme (optional), host, path, query; a fragment is ignored.
URL = re.compile(r"(?:https?:)?//([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?", re.IGNORECASE | re.DOTALL)


def video_id(value):
    value = str(value).strip()
    if VIDEO_ID.fullmatch(value):
        return value
    url = URL.fullmatch(value)
    candidate = ""
    if url:
        host = url.group(1).rpartition("@")[2].partition(":")[0].lower()
        path = url.group(2)
        query = url.group(3) or ""
        if host == "youtu.be":
            candidate = path.lstrip("/")
        elif host == "youtube.com" or host.endswith(".youtube.com"):
            values = [p[2:] for p in query.split("&") if p.startswith("v=")]
            candidate = (values[0] if values else "") or path.rsplit("/", 1)[-1]
    if not VIDEO_ID.fullmatch(candidate):
        raise ValueError(f"not a YouTube video id or URL: {value!r}")
    return candidate


def flag(params, name, default):
    value = params.get(name, default)
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def seconds(params, name):
    value = params.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise ValueError(f"{name} must be a whole number of seconds, not {value!r}")
    return value


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("id", args[0] if args else None)
    if raw is None:
        raise ValueError("youtube needs a video id: {{< youtube VIDEO_ID >}}")
    vid = video_id(raw)
    start = seconds(params, "start")
    end = seconds(params, "end")
    if start is not None and end is not None and end <= start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    autoplay = flag(params, "autoplay", False)
    mute = flag(params, "mute", False) or autoplay
    loop = flag(params, "loop", False)
    controls = flag(params, "controls", True)
    full_screen = flag(params, "allowFullScreen", True)
    loading = params.get("loading", "lazy")
    if loading not in ("eager", "lazy"):
        raise ValueError(f'loading must be "eager" or "lazy", not {loading!r}')

    # Only what differs from the player's defaults, in name order (as Hugo's querify sorts).
    query = [
        ("autoplay", 1 if autoplay else None),
        ("controls", None if controls else 0),
        ("end", end),
        ("loop", 1 if loop else None),
        ("mute", 1 if mute else None),
        ("playlist", vid if loop else None),  # the player loops a playlist, even of one
        ("start", start),
    ]
    src = f"https://www.youtube-nocookie.com/embed/{vid}"
    pairs = [f"{name}={value}" for name, value in query if value is not None]
    if pairs:
        src += "?" + "&".join(pairs)
    allow = "; ".join(
        name
        for name, wanted in [
            ("accelerometer", True),
            ("autoplay", autoplay),
            ("encrypted-media", True),
            ("picture-in-picture", True),
        ]
        if wanted
    )
    title = str(params.get("title", "YouTube video"))
    extra_class = params.get("class", "")  # checked by player
    return {"html": player("youtube", src, title, loading, allow, full_screen, extra_class)}
