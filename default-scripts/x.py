# ---
# title: X (Twitter) post
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   user: str, optional -- the author's user name (@ optional); read from id when that is a URL
#   id: str, required -- the post's numeric id, or its x.com / twitter.com URL
# ---
"""A link to a post on X (Twitter), quoted: Hugo's ``x`` shortcode, with the same parameters,
but no X script (so no request to X until the reader follows the link).

Usage: ``{{< x user="SanDiegoZoo" id="1453110110599868418" >}}`` or
``{{< x id="https://x.com/SanDiegoZoo/status/1453110110599868418" >}}``. Paired tags give text
to quote above the link (HTML, e.g. the post's words):
``{{< x user="SanDiegoZoo" id="1453110110599868418" >}}<p>Owl bet you'll lose this staring
contest 🦉</p>{{< /x >}}``.

Parameters (Hugo's, with Hugo's meaning; named only, as in Hugo):
    user (str): the author's user name on X, with or without ``@``.
    id (str or int): the post's numeric id.

bDS extras: ``id`` may be the post's URL (x.com or twitter.com, ``/USER/status/ID``), which
then also gives ``user`` (a ``user`` given by name wins); paired tags give quoted HTML.

How it differs from Hugo: Hugo asks X's oEmbed service for the post at build time and writes
its HTML with X's ``widgets.js`` script, which loads the post (and X's tracking) in the
reader's browser; bDS asks nothing and writes a static quote with a link,
``<blockquote class="embed embed-x" cite="URL"><p><a href="URL">View the post by @USER on
X</a></p></blockquote>``, where URL is ``https://x.com/USER/status/ID``.
"""
import re

from html_utils import quote_embed, text_or_int

USER = re.compile(r"[A-Za-z0-9_]{1,15}")
POST_ID = re.compile(r"[0-9]{1,20}")
# scheme (optional), host, path; query and fragment are ignored.
URL = re.compile(r"(?:https?:)?//([^/?#]*)([^?#]*)(?:\?[^#]*)?(?:#.*)?", re.IGNORECASE | re.DOTALL)
HOSTS = ("x.com", "twitter.com")
USAGE = '{{< x user="SanDiegoZoo" id="1453110110599868418" >}}'


def post(value):
    """(user or None, id) from a post id or a post's URL."""
    if POST_ID.fullmatch(value):
        return None, value
    url = URL.fullmatch(value)
    if url:
        host = url.group(1).rpartition("@")[2].partition(":")[0].lower()
        if host in HOSTS or host.endswith(tuple("." + h for h in HOSTS)):
            parts = [p for p in url.group(2).split("/") if p]
            if len(parts) >= 3 and parts[1] in ("status", "statuses"):
                if POST_ID.fullmatch(parts[2]):
                    return parts[0], parts[2]
    raise ValueError(f"not an X post id or URL: {value!r}")


def render(context):
    params = context.get("params") or {}
    raw = params.get("id")
    if raw is None:
        raise ValueError(f"x needs the post's user and id: {USAGE}")
    url_user, post_id = post(text_or_int("id", raw))
    user = params.get("user", url_user)
    if user is None:
        raise ValueError(f"x needs the post's user as well as its id: {USAGE}")
    user = text_or_int("user", user)
    user = user[1:] if user.startswith("@") else user
    if not USER.fullmatch(user):
        raise ValueError(f"not a user name on X: {user!r}")
    url = f"https://x.com/{user}/status/{post_id}"
    label = f"View the post by @{user} on X"
    return {"html": quote_embed("x", url, context.get("inner"), label)}
