# ---
# title: Compute reading time
# kind: transform
# entrypoint: render
# enabled: true
# version: 1
# ---
"""Sets ``post.meta.reading_time``: the minutes needed to read the post, rounded up, at least 1.

Counts the words of ``post.content`` (HTML) the way the ``reading-time`` macro does: tags,
comments, scripts and styles are left out, entities decoded, each Chinese or Japanese
character (CJK ideographs, kana) counts as a word.

The reading speed is 200 words per minute, or ``post.meta.words_per_minute`` when the post sets
it (a positive whole number). Everything else in the post is returned unchanged.
"""
import html
import re

HIDDEN = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]*>")
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
DEFAULT_WPM = 200


def count_words(content):
    text = html.unescape(TAG.sub(" ", HIDDEN.sub(" ", content)))
    ideographs = len(CJK.findall(text))
    return ideographs + len(CJK.sub(" ", text).split())


def render(context):
    post = context.get("post")
    if not isinstance(post, dict):
        raise TypeError(f"the context needs a post object, not {type(post).__name__}")
    post = dict(post)
    meta = post.get("meta")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise TypeError(f"post.meta must be an object, not {type(meta).__name__}")
    meta = dict(meta)
    wpm = meta.get("words_per_minute", DEFAULT_WPM)
    if not isinstance(wpm, int) or isinstance(wpm, bool) or wpm < 1:
        raise ValueError(f"post.meta.words_per_minute must be a positive whole number, not {wpm!r}")
    content = post.get("content")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise TypeError(f"post.content must be a string, not {type(content).__name__}")
    meta["reading_time"] = max(1, -(-count_words(content) // wpm))
    post["meta"] = meta
    return {"post": post}
