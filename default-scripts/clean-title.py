# ---
# title: Clean title
# kind: transform
# entrypoint: render
# enabled: true
# version: 1
# ---
"""Tidies ``post.title``: decodes HTML entities (``&amp;`` → ``&``), trims it, turns each run
of white space (line breaks, non-breaking spaces) into one space, and removes a trailing site
name, as pages copied from the web often carry: ``"Post title | My Blog"`` → ``"Post title"``.

The site name is ``post.meta.site_name`` when the post sets one (a bookmarklet capture can
take it from the page's ``og:site_name``), and ``site.title`` when the context carries a site
(the engine's ABI v1 transform context holds only the post; ``bds run`` may pass one). It is
removed only when it is the whole last part of the title, after one of the separators
`` | ``, `` - ``, `` – ``, `` — ``, `` · ``, `` • `` or `` :: `` with white space around it,
compared without regard to case; so "My Blogging Tips" and "Post-My Blog" are left alone. A
title that is nothing but the site name is kept. Everything else in the post is returned
unchanged.
"""
import html
import re

SPACES = re.compile(r"\s+")
SEPARATORS = ("|", "-", "\u2013", "\u2014", "\u00b7", "\u2022", "::")


def tidy(text):
    return SPACES.sub(" ", html.unescape(text)).strip()


def strip_site_name(title, names):
    changed = True
    while changed:
        changed = False
        for name in names:
            for sep in SEPARATORS:
                suffix = f" {sep} {name}"
                if len(title) > len(suffix) and title[-len(suffix) :].casefold() == suffix.casefold():
                    rest = title[: len(title) - len(suffix)].rstrip()
                    if rest:
                        title = rest
                        changed = True
    return title


def render(context):
    post = context.get("post")
    if not isinstance(post, dict):
        raise TypeError(f"the context needs a post object, not {type(post).__name__}")
    post = dict(post)
    title = post.get("title")
    if title is None:
        return {"post": post}
    if not isinstance(title, str):
        raise TypeError(f"post.title must be a string, not {type(title).__name__}")
    names = []
    site = context.get("site")
    meta = post.get("meta")
    for owner, key in ((site, "title"), (meta, "site_name")):
        if isinstance(owner, dict) and isinstance(owner.get(key), str):
            name = tidy(owner[key])
            if name and name not in names:
                names.append(name)
    post["title"] = strip_site_name(tidy(title), names)
    return {"post": post}
