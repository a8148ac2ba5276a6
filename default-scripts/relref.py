# ---
# title: Relative link to a post (Hugo's relref)
# kind: macro
# entrypoint: render
# enabled: true
# version: 1
# params:
#   path: str, position 0, optional -- the page: posts/hello.md, hello, /posts/hello (+ #anchor), or #anchor
#   text: str, position 1, optional -- bDS: a link (<a>) with this text, instead of the bare URL
#   anchor: str, optional -- bDS: a fragment id to add, with or without its #
#   slug: str, optional -- bDS: the former name of path
#   lang: str, optional -- Hugo's; not supported (one language): ignored with a warning
#   outputFormat: str, optional -- Hugo's; not supported: ignored with a warning
# ---
"""Hugo's ``relref``: the URL (from the site's root) of another post, found by its path.

A missing post is an error (Hugo's REF_NOT_FOUND), so broken internal links are caught when the
page is rendered.

Usage: ``[the first post]({{< relref "posts/hello-world.md" >}})`` gives
``[the first post](/posts/hello-world/)``;
also ``{{< relref "hello-world#setup" >}}``, ``{{< relref "/posts/hello-world" >}}``,
``{{< relref "#setup" >}}`` (``#setup``: on this page).

bDS extras: with a text, or between paired tags, it writes a whole link instead of the bare URL:
``{{< relref hello-world text="my first post" >}}`` or
``{{< relref hello-world >}}the <em>first</em> post{{< /relref >}}`` give
``<a href="/posts/hello-world/">…</a>``
(the post's title is the text when the tags hold nothing).

Parameters:
    path (str, or the first positional argument): the page, as Hugo takes it: a content path
        with or without its extension (``posts/hello.md``, ``posts/hello``), from the content
        folder when it starts with ``/``, else first from the current post's folder and then
        from the content folder; or a post's file or bundle name or slug (``hello``), which must
        name one post only; with an optional ``#anchor``. ``#anchor`` alone is that anchor on
        the current page. Posts are looked up in ``site.posts``: by their ``path`` (the file's
        path in the content folder, ``posts/bundle/index.md`` found as ``posts/bundle``), their
        URL's path (``/posts/hello/``) and their slug.
    text (str, or the second positional argument, optional, bDS): the link text (escaped).
    anchor (str, optional, bDS): a fragment id, with or without its ``#`` (not with one in path).
    slug (str, optional, bDS): the former name of ``path``.
    lang, outputFormat (Hugo's): a bDS site has one language and one output format; each gives
        a warning and is ignored.

The URL is the post's URL from the site's root: its ``url`` in ``site.posts`` (the path of
an absolute one), with the path of the site's base URL (``baseURL``, or bDS's ``base_url``)
in front when it has one (``https://example.com/blog/`` gives ``/blog/posts/hello/``) and the
``url`` does not start with it already. ``ref`` gives the absolute permalink.

How it differs from Hugo: ``text``, ``anchor``, ``slug`` and the paired form are bDS's (Hugo's
``relref`` only returns the URL); posts are also found by slug; ``lang`` and ``outputFormat``
are ignored.
"""
import html
import re
import warnings

MACRO = "relref"
ABSOLUTE = False  # ref: the permalink; relref: from the site's root
SPACE = re.compile(r"\s")
BASE = re.compile(r"(https?://[^/?#\s]+)(/[^?#\s]*)?", re.IGNORECASE)
ORIGIN = re.compile(r"https?://[^/?#\s]+", re.IGNORECASE)
EXTENSIONS = (".md", ".markdown", ".html", ".htm")

# The lookup tables of one list of posts, built once per list. In bds the site is shared,
# read-only data: every call of this script sees the very same `posts` object until the site
# changes, so the tables are built once per site rather than scanning thousands of posts on
# every call. (Holding the list itself keeps its identity from being reused by another object.)
_index = (None, None)


def strip_extension(path):
    lower = path.lower()
    for ext in EXTENSIONS:
        if lower.endswith(ext) and len(path) > len(ext):
            return path[: -len(ext)]
    return path


def tables(posts):
    """(by_path, by_name): a page's full paths, and its slug and file or bundle name."""
    global _index
    if _index[0] is not posts:
        by_path, by_name = {}, {}
        for post in posts:
            if not isinstance(post, dict):
                continue
            keys, names = [], []
            path = post.get("path")
            if isinstance(path, str) and path.strip("/ "):
                stem = strip_extension(path.strip().strip("/"))
                folder, _, base = stem.rpartition("/")
                if base == "_index":  # a section: only by its folder
                    keys.append(folder)
                    names.append(folder.rpartition("/")[2])
                elif base == "index":  # a page bundle: by its folder, or folder/index
                    keys += [stem, folder]
                    names.append(folder.rpartition("/")[2])
                else:
                    keys.append(stem)
                    names.append(base)
            url = post.get("url")
            if isinstance(url, str) and url.strip():
                origin = ORIGIN.match(url.strip())
                local = url.strip()[origin.end() if origin else 0:].split("#")[0].split("?")[0]
                keys.append(strip_extension(local.strip("/")))
            slug = post.get("slug")
            if isinstance(slug, str) and slug.strip():
                names.append(slug.strip())
            for key in keys:
                if key:
                    by_path.setdefault(key, post)
            for name in names:
                same = by_name.setdefault(name, []) if name else []
                if name and all(other is not post for other in same):
                    same.append(post)
        _index = (posts, (by_path, by_name))
    return _index[1]


def text(name, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be text, not {value!r}")
    return str(value).strip()


def find(context, path):
    """The post that ``path`` (without anchor) names, as Hugo resolves a ref."""
    site = context.get("site")
    posts = site.get("posts") if isinstance(site, dict) else None
    by_path, by_name = tables(posts if isinstance(posts, list) else [])
    key = strip_extension(path.strip("/"))
    if path.startswith("/"):
        return by_path.get(key)
    post = context.get("post")
    here = post.get("path") if isinstance(post, dict) else None
    if isinstance(here, str) and "/" in here.strip("/"):
        folder = here.strip().strip("/").rpartition("/")[0]
        found = by_path.get(f"{folder}/{key}")
        if found is not None:
            return found
    found = by_path.get(key)
    if found is not None or "/" in key:
        return found
    named = by_name.get(key, [])
    if len(named) > 1:
        where = ", ".join(repr(p.get("path") or p.get("url") or p.get("slug")) for p in named)
        raise ValueError(f"REF_NOT_FOUND: {MACRO} {path!r} is ambiguous: {where}")
    return named[0] if named else None


def site_base(context):
    """(origin, path) of the site's base URL, or None when the site has none."""
    site = context.get("site")
    if not isinstance(site, dict):
        return None
    base = site.get("baseURL")
    if base is None:
        base = site.get("base_url")
    if base is None or base == "":
        return None
    found = BASE.fullmatch(base.strip()) if isinstance(base, str) else None
    if not found:
        raise ValueError(f"the site's baseURL must be an http(s) URL, not {base!r}")
    return found.group(1), found.group(2) or "/"


def link(context, post, name):
    """The post's URL: absolute for ref, from the site's root for relref."""
    url = post.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{MACRO}: the post {name!r} has no url")
    url = url.strip()
    base = site_base(context)
    origin = ORIGIN.match(url)
    if origin:
        absolute = url
        local = url[origin.end():] or "/"
    else:
        local = url if url.startswith("/") else "/" + url
        if base is not None and base[1] != "/" and not local.startswith(base[1]):
            local = base[1].rstrip("/") + local
        absolute = base[0] + local if base is not None else None
    if not ABSOLUTE:
        return local
    if absolute is None:
        warnings.warn("ref: the site has no baseURL (or base_url): the link is relative")
        return local
    return absolute


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("path", params.get("slug", args[0] if args else None))
    if raw is None:
        raise ValueError(f"{MACRO} needs a path: {{{{< {MACRO} \"posts/hello.md\" >}}}}")
    target = text("path", raw)
    path, hash_, anchor = target.partition("#")
    path = path.strip()
    if params.get("anchor") is not None:
        if hash_:
            raise ValueError("give the anchor either in the path (#…) or as anchor=…, not both")
        anchor, hash_ = text("anchor", params["anchor"]).lstrip("#"), "#"
    if hash_ and (not anchor or SPACE.search(anchor)):
        raise ValueError(f"the anchor must be a fragment id without spaces, not {anchor!r}")
    if not path and not hash_:
        raise ValueError("path must not be empty")
    for name in ("lang", "outputFormat"):
        if params.get(name) is not None:
            warnings.warn(f"{MACRO}: {name} is not supported (a bDS site has one language and "
                          "one output format); ignored")

    post = None
    if path:
        post = find(context, path)
        if post is None:
            raise ValueError(f"REF_NOT_FOUND: {MACRO} {target!r}: no such post in site.posts")
        url = link(context, post, path)
    else:
        url = ""  # "#anchor": the current page, as in Hugo
    if hash_:
        url += "#" + anchor

    inner = context.get("inner")
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    raw_text = params.get("text", args[1] if len(args) > 1 else None)
    if raw_text is None and inner is None:
        return {"html": html.escape(url)}  # Hugo's ref: the URL alone

    # bDS: a link, when the tags are paired or there is a text.
    if raw_text is not None:
        label = html.escape(text("text", raw_text))
    elif inner.strip():
        label = inner.strip()
    else:
        title = post.get("title") if post is not None else None
        fallback = path or "#" + anchor
        label = html.escape(title.strip() if isinstance(title, str) and title.strip() else fallback)
    if not label:
        raise ValueError("text must not be empty")
    return {"html": f'<a href="{html.escape(url)}">{label}</a>'}
