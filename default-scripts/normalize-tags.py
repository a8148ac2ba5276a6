# ---
# title: Normalize tags
# kind: transform
# entrypoint: render
# enabled: true
# version: 1
# ---
"""Tidies ``post.tags``: ``["  Rust ", "rust", "Web Dev", ""]`` becomes ``["rust", "web-dev"]``.

Each tag is trimmed, lowercased, put in Unicode NFC form (so an "é" typed either way is one
tag), and each run of white space becomes ``-`` (then runs of ``-`` become one). Empty tags are
dropped, duplicates too (the first one stays where it was). A number is taken as its text; a
single string is taken as a comma-separated list. Everything else in the post is returned
unchanged.
"""
import re
import unicodedata

SPACES = re.compile(r"\s+")
DASHES = re.compile(r"-{2,}")


def normalize(tag):
    tag = unicodedata.normalize("NFC", tag).strip().lower()
    return DASHES.sub("-", SPACES.sub("-", tag))


def render(context):
    post = context.get("post")
    if not isinstance(post, dict):
        raise TypeError(f"the context needs a post object, not {type(post).__name__}")
    post = dict(post)
    tags = post.get("tags")
    if tags is None:
        return {"post": post}
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list):
        raise TypeError(f"post.tags must be a list of strings, not {type(tags).__name__}")
    result = []
    for tag in tags:
        if tag is None:
            continue
        if isinstance(tag, (int, float)) and not isinstance(tag, bool):
            tag = str(tag)
        if not isinstance(tag, str):
            raise TypeError(f"post.tags must hold strings, not {type(tag).__name__}: {tag!r}")
        tag = normalize(tag)
        if tag and tag not in result:
            result.append(tag)
    post["tags"] = result
    return {"post": post}
