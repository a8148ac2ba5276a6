# ---
# title: Permalink of a post (Hugo's ref)
# kind: macro
# entrypoint: render
# enabled: true
# version: 5
# params:
#   path: str, position 0, optional -- the page: posts/hello.md, hello, /posts/hello (+ #anchor), or #anchor
#   text: str, position 1, optional -- bDS: a link (<a>) with this text, instead of the bare URL
#   anchor: str, optional -- bDS: a fragment id to add, with or without its #
#   slug: str, optional -- bDS: the former name of path
#   lang: str, optional -- Hugo's; not supported (one language): ignored with a warning
#   outputFormat: str, optional -- Hugo's; not supported: ignored with a warning
# ---
"""Hugo's ``ref``: the absolute permalink of another post, found by its path.

A missing post is an error (Hugo's REF_NOT_FOUND), so broken internal links are caught when the
page is rendered.

Usage: ``[the first post]({{< ref "posts/hello-world.md" >}})`` gives
``[the first post](https://example.com/posts/hello-world/)``;
also ``{{< ref "hello-world#setup" >}}``, ``{{< ref "/posts/hello-world" >}}``,
``{{< ref "#setup" >}}`` (``#setup``: on this page).

bDS extras: with a text, or between paired tags, it writes a whole link instead of the bare URL:
``{{< ref hello-world text="my first post" >}}`` or
``{{< ref hello-world >}}the <em>first</em> post{{< /ref >}}`` give
``<a href="https://example.com/posts/hello-world/">…</a>``
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

The URL is the post's permalink: its ``url`` in ``site.posts``, taken as relative to the
site's base URL (``baseURL``, or bDS's ``base_url``) unless it is absolute already; a
``baseURL`` with a path (``https://example.com/blog/``) puts that path in front unless the
``url`` starts with it. Without a base URL the link stays relative, with a warning. A paired
or ``text=`` link uses the same absolute URL (bDS's ``ref`` wrote the relative one before).
``relref`` gives the URL from the site's root.

How it differs from Hugo: ``text``, ``anchor``, ``slug`` and the paired form are bDS's (Hugo's
``ref`` only returns the URL); posts are also found by slug; ``lang`` and ``outputFormat``
are ignored.
"""
from ref_utils import reference


def render(context):
    return reference(context, "ref", absolute=True)
