# ---
# title: Reading time
# kind: macro
# entrypoint: render
# enabled: true
# version: 3
# params:
#   wpm: int, default 200 -- reading speed in words per minute
#   label: str, default "min read" -- the text after the number
# ---
"""How long the post takes to read: ``{{< reading-time >}}`` gives
``<span class="reading-time">4 min read</span>``.

Usage: ``{{< reading-time >}}`` or ``{{< reading-time wpm=250 label="minutes" >}}``.

Parameters:
    wpm (int, default 200): reading speed in words per minute.
    label (str, default "min read"): the text after the number.

Counts the words of ``post.content`` (HTML): tags, comments, scripts and styles are left out,
entities decoded. Each Chinese or Japanese character (CJK ideographs, kana) counts as a word.
The time is rounded up to whole minutes, at least 1.
"""
import html
import re

HIDDEN = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]*>")
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def count_words(content):
    text = html.unescape(TAG.sub(" ", HIDDEN.sub(" ", content)))
    ideographs = len(CJK.findall(text))
    return ideographs + len(CJK.sub(" ", text).split())


def render(context):
    params = context.get("params") or {}
    wpm = params.get("wpm", 200)
    if not isinstance(wpm, int) or isinstance(wpm, bool) or wpm < 1:
        raise ValueError(f"wpm must be a positive whole number of words per minute, not {wpm!r}")
    label = params.get("label", "min read")
    if isinstance(label, bool) or not isinstance(label, (str, int, float)):
        raise ValueError(f"label must be text, not {label!r}")
    post = context.get("post")
    content = post.get("content") if isinstance(post, dict) else None
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise TypeError(f"post.content must be a string, not {type(content).__name__}")
    minutes = max(1, -(-count_words(content) // wpm))
    label = str(label).strip()
    shown = f"{minutes} {label}" if label else str(minutes)
    return {"html": f'<span class="reading-time">{html.escape(shown)}</span>'}
