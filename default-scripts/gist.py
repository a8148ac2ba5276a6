# ---
# title: GitHub gist
# kind: macro
# entrypoint: render
# enabled: true
# version: 4
# params:
#   user: str, optional, position 0 -- the gist owner's GitHub user name (alone: user/id or a URL)
#   id: str, optional, position 1 -- the gist id (or user/id, or a gist URL)
#   file: str, optional, position 2 -- link to this file of the gist
# ---
"""A link to a GitHub gist: Hugo's ``gist`` shortcode, with the same parameters, but no
GitHub script (so no request to GitHub until the reader follows the link).

Usage: ``{{< gist octocat 6cad326836d38bd3a7ae >}}``,
``{{< gist octocat 6cad326836d38bd3a7ae hello.rb >}}``,
``{{< gist octocat/6cad326836d38bd3a7ae >}}``,
``{{< gist id="https://gist.github.com/octocat/6cad326836d38bd3a7ae" file="hello.rb" >}}``.

Parameters (Hugo's, with Hugo's meaning and positions):
    user (str, or the first positional argument): the gist owner's GitHub user name.
    id (str, or the second positional argument): the gist id.
    file (str, or the third positional argument): the one file of the gist to show.

bDS extras: ``id`` (or a lone first argument) may also be ``user/id``, a bare gist id (an
anonymous gist) or a gist.github.com URL; a ``user`` given by name wins over the URL's.

How it differs from Hugo: Hugo writes GitHub's embed script, which loads the gist (and
GitHub's tracking) in the reader's browser; bDS writes a plain link instead,
``<div class="embed embed-gist"><a href="https://gist.github.com/USER/ID">View the gist on
GitHub</a></div>``. With ``file``, the link says "View FILE on GitHub" and points at the file's
anchor on the gist's page (``#file-`` and the name, lowercase, other characters than ASCII
letters, digits, ``_`` and ``-`` as ``-``). Hugo deprecated its gist shortcode in v0.143.0.
"""
import html
import re

from html_utils import text_or_int

USER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
GIST_ID = re.compile(r"[0-9A-Fa-f]{1,64}")
URL = re.compile(
    r"(?:https?:)?//gist\.github\.com/([^?#]*)(?:\?[^#]*)?(?:#.*)?", re.IGNORECASE | re.DOTALL
)
# Characters kept as they are in a file's anchor (lowercased); every other one becomes "-".
ANCHOR = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")


def split_reference(value):
    """(user or None, id) from ``user/id``, ``id`` or a gist URL."""
    found = URL.fullmatch(value)
    path = found.group(1) if found else value
    parts = [p for p in path.split("/") if p]
    if len(parts) == 1:
        return None, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValueError(f"not a gist id, user/id or gist URL: {value!r}")


def anchor(file):
    """GitHub's anchor of a file on a gist's page: ``hello_world.rb`` -> ``file-hello_world-rb``."""
    return "file-" + "".join(ch if ch in ANCHOR else "-" for ch in file.lower())


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    user = params.get("user", args[0] if args else None)
    raw = params.get("id", args[1] if len(args) > 1 else None)
    file = params.get("file", args[2] if len(args) > 2 else None)
    if raw is None:
        # A lone value (the first positional argument): user/id, a bare id or a URL.
        user, raw = None, user
    if raw is None:
        raise ValueError("gist needs an id: {{< gist user 0123456789abcdef >}}")
    url_user, gist = split_reference(text_or_int("id", raw))
    if user is None:
        user = url_user
    if user is not None:
        user = text_or_int("user", user)
        if not USER.fullmatch(user):
            raise ValueError(f"not a GitHub user name: {user!r}")
    if not GIST_ID.fullmatch(gist):
        raise ValueError(f"not a gist id: {gist!r}")
    page = "https://gist.github.com/" + (f"{user}/{gist}" if user else gist)
    label = "View the gist on GitHub"
    if file is not None:
        file = text_or_int("file", file)
        if not file:
            raise ValueError("file must not be empty")
        page += "#" + anchor(file)
        label = f"View {file} on GitHub"
    return {
        "html": (
            f'<div class="embed embed-gist"><a href="{html.escape(page)}">'
            f"{html.escape(label)}</a></div>"
        )
    }
