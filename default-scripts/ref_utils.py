# ---
# title: Ref and relref helpers
# kind: utility
# version: 1
# ---
"""The post lookup and URLs shared by ``ref`` and ``relref``: ``import ref_utils``.

    reference(context, macro, absolute)
                                   a whole ``ref``/``relref`` call: ``{"html": …}``, the post's
                                   URL (absolute when ``absolute``, else from the site's root)
                                   or a link to it; ``macro`` names the macro in its messages
    find(context, path, macro)     the post of ``site.posts`` that ``path`` (no anchor) names,
                                   as Hugo resolves a ref; None when there is none, ValueError
                                   when a bare name fits more than one
    link(context, post, name, macro, absolute)
                                   the post's URL: its permalink, or its path from the site's root
    site_base(context)             (origin, path) of the site's ``baseURL`` (or ``base_url``);
                                   None when it has none
    strip_extension(path)          ``path`` without .md, .markdown, .html or .htm
    text(name, value)              a text parameter (numbers as their text), stripped

Written with ``re`` and ``str`` only (no ``urllib.parse``, which changed after CPython 3.11),
so the app's interpreter and CPython 3.11 agree.
"""
import html
import re
import warnings

SPACE = re.compile(r"\s")
BASE = re.compile(r"(https?://[^/?#\s]+)(/[^?#\s]*)?", re.IGNORECASE)
ORIGIN = re.compile(r"https?://[^/?#\s]+", re.IGNORECASE)
EXTENSIONS = (".md", ".markdown", ".html", ".htm")

# The lookup tables of one list of posts, built once per list. In bds the site is shared,
# read-only data: every call of a script sees the very same `posts` object until the site
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


def find(context, path, macro):
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
        raise ValueError(f"REF_NOT_FOUND: {macro} {path!r} is ambiguous: {where}")
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


def link(context, post, name, macro, absolute):
    """The post's URL: absolute (ref) or from the site's root (relref)."""
    url = post.get("url")
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"{macro}: the post {name!r} has no url")
    url = url.strip()
    base = site_base(context)
    origin = ORIGIN.match(url)
    if origin:
        full = url
        local = url[origin.end():] or "/"
    else:
        local = url if url.startswith("/") else "/" + url
        if base is not None and base[1] != "/" and not local.startswith(base[1]):
            local = base[1].rstrip("/") + local
        full = base[0] + local if base is not None else None
    if not absolute:
        return local
    if full is None:
        warnings.warn(f"{macro}: the site has no baseURL (or base_url): the link is relative")
        return local
    return full


def reference(context, macro, absolute):
    """A whole call of ``ref`` (``absolute``: the permalink) or ``relref`` (from the root)."""
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("path", params.get("slug", args[0] if args else None))
    if raw is None:
        raise ValueError(f"{macro} needs a path: {{{{< {macro} \"posts/hello.md\" >}}}}")
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
            warnings.warn(f"{macro}: {name} is not supported (a bDS site has one language and "
                          "one output format); ignored")

    post = None
    if path:
        post = find(context, path, macro)
        if post is None:
            raise ValueError(f"REF_NOT_FOUND: {macro} {target!r}: no such post in site.posts")
        url = link(context, post, path, macro, absolute)
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
