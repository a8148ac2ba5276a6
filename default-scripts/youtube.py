# ---
# title: YouTube embed
# kind: macro
# entrypoint: render
# enabled: true
# version: 1
# ---
"""A privacy-friendly YouTube embed.

Usage: ``{{< youtube dQw4w9WgXcQ >}}`` or ``{{< youtube id="dQw4w9WgXcQ" start=42 title="Talk" >}}``.

Parameters:
    id (str, or the first positional argument): the video id, or a youtube.com / youtu.be URL.
    start (int, optional): start time in seconds.
    title (str, default "YouTube video"): the iframe's accessible title.
"""
import html
import re
from urllib.parse import parse_qs, urlencode, urlparse

VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


def video_id(value):
    value = str(value).strip()
    if VIDEO_ID.match(value):
        return value
    url = urlparse(value)
    host = (url.hostname or "").lower()
    if host == "youtu.be":
        candidate = url.path.lstrip("/")
    elif host.endswith("youtube.com"):
        candidate = parse_qs(url.query).get("v", [""])[0] or url.path.rsplit("/", 1)[-1]
    else:
        candidate = ""
    if not VIDEO_ID.match(candidate):
        raise ValueError(f"not a YouTube video id or URL: {value!r}")
    return candidate


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("id", args[0] if args else None)
    if raw is None:
        raise ValueError("youtube needs a video id: {{< youtube VIDEO_ID >}}")
    vid = video_id(raw)
    query = {}
    start = params.get("start")
    if start is not None:
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise ValueError(f"start must be a whole number of seconds, not {start!r}")
        query["start"] = start
    src = f"https://www.youtube-nocookie.com/embed/{vid}"
    if query:
        src += "?" + urlencode(query)
    title = html.escape(str(params.get("title", "YouTube video")))
    return {
        "html": (
            '<div class="embed embed-youtube">'
            f'<iframe src="{html.escape(src)}" title="{title}" loading="lazy" '
            'allow="accelerometer; encrypted-media; picture-in-picture" allowfullscreen></iframe>'
            "</div>"
        )
    }
