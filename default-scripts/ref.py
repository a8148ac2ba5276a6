# ---
# title: Link to a post
# kind: macro
# entrypoint: render
# enabled: true
# version: 3
# params:
#   slug: str, required, position 0 -- the slug of the post (from site.posts)
#   text: str, position 1, optional -- the link text (escaped); else the tags' content or the title
#   anchor: str, optional -- a fragment to link to, with or without its #
# ---
"""A link to another post of the site, found by its slug; a missing post is an error, so broken
internal links are caught when the page is rendered.

Usage: ``{{< ref hello-world >}}`` gives ``<a href="/posts/hello-world/">Hello, world</a>``;
also ``{{< ref slug="hello-world" text="my first post" anchor="setup" >}}`` or, paired,
``{{< ref hello-world >}}the <em>first</em> post{{< /ref >}}``.

Parameters:
    slug (str, or the first positional argument): the slug of the post (from ``site.posts``).
    text (str, or the second positional argument, optional): the link text (escaped); the
        default is the post's title. The content between paired tags is used instead when
        there is no ``text``; it is HTML and is passed through as it is.
    anchor (str, optional): a fragment to link to, with or without its ``#``.
"""
import html
import re

SPACE = re.compile(r"\s")

# slug -> post, built once per list of posts. In bds the site is shared, read-only data: every
# call of this script sees the very same `posts` object until the site changes, so the index
# is built once per site rather than scanning thousands of posts on every call. (Holding the
# list itself keeps its identity from being reused by another object.)
_index = (None, {})


def find(posts, slug):
    global _index
    if _index[0] is not posts:
        by_slug = {}
        for p in posts:
            if isinstance(p, dict):
                s = p.get("slug")
                if isinstance(s, str) and s not in by_slug:
                    by_slug[s] = p
        _index = (posts, by_slug)
    return _index[1].get(slug)


def text(name, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be text, not {value!r}")
    return str(value).strip()


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("slug", args[0] if args else None)
    if raw is None:
        raise ValueError("ref needs a post slug: {{< ref hello-world >}}")
    slug = text("slug", raw)
    site = context.get("site")
    posts = site.get("posts") if isinstance(site, dict) else None
    if not isinstance(posts, list):
        posts = []
    target = find(posts, slug)
    if target is None:
        raise ValueError(f"ref: no post with the slug {slug!r}")
    href = target.get("url")
    if not isinstance(href, str) or not href.strip():
        raise ValueError(f"ref: the post {slug!r} has no url")
    href = href.strip()

    anchor = params.get("anchor")
    if anchor is not None:
        anchor = text("anchor", anchor).lstrip("#")
        if not anchor or SPACE.search(anchor):
            raise ValueError(f"anchor must be a fragment id without spaces, not {params['anchor']!r}")
        href = href.split("#", 1)[0] + "#" + anchor

    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    raw_text = params.get("text", args[1] if len(args) > 1 else None)
    if raw_text is not None:
        label = html.escape(text("text", raw_text))
    elif inner is not None and inner.strip():
        label = inner.strip()
    else:
        title = target.get("title")
        label = html.escape(title.strip() if isinstance(title, str) and title.strip() else slug)
    if not label:
        raise ValueError("text must not be empty")
    return {"html": f'<a href="{html.escape(href)}">{label}</a>'}
