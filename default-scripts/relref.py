# ---
# title: Relative link to a post (Hugo's relref)
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
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
from ref_utils import reference


def render(context):
    return reference(context, "relref", absolute=False)
