# ---
# title: YouTube embed
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   id: str, required, position 0 -- the video id, or a youtube.com / youtu.be URL
#   start: int, optional -- start time in seconds
#   title: str, default "YouTube video" -- the iframe's accessible title
# ---
"""A privacy-friendly YouTube embed.

Usage: ``{{< youtube dQw4w9WgXcQ >}}`` or ``{{< youtube id="dQw4w9WgXcQ" start=42 title="Talk" >}}``.

Parameters:
    id (str, or the first positional argument): the video id, or a youtube.com / youtu.be URL.
    start (int, optional): start time in seconds.
    title (str, default "YouTube video"): the iframe's accessible title.

URLs are taken apart with a regular expression rather than ``urllib.parse``, whose behaviour
on odd input differs between Python versions (the app's interpreter follows CPython 3.14).
"""
import html
import re

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


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("id", args[0] if args else None)
    if raw is None:
        raise ValueError("youtube needs a video id: {{< youtube VIDEO_ID >}}")
    vid = video_id(raw)
    src = f"https://www.youtube-nocookie.com/embed/{vid}"
    start = params.get("start")
    if start is not None:
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise ValueError(f"start must be a whole number of seconds, not {start!r}")
        src += f"?start={start}"
    title = html.escape(str(params.get("title", "YouTube video")))
    return {
        "html": (
            '<div class="embed embed-youtube">'
            f'<iframe src="{html.escape(src)}" title="{title}" loading="lazy" '
            'allow="accelerometer; encrypted-media; picture-in-picture" allowfullscreen></iframe>'
            "</div>"
        )
    }
