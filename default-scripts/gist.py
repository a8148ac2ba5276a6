# ---
# title: GitHub gist
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   id: str, optional -- user/id, a gist id or URL; else the positional argument(s): [user] id
#   user: str, optional -- the gist owner's GitHub user name
#   file: str, optional -- show only this file of the gist
#   *parts: str -- [user] id, when id is not given by name
# ---
"""A GitHub gist, embedded with GitHub's script and a plain link for readers without JavaScript.

Usage: ``{{< gist octocat/6cad326836d38bd3a7ae >}}``, ``{{< gist octocat 6cad326836d38bd3a7ae >}}``,
``{{< gist "https://gist.github.com/octocat/6cad326836d38bd3a7ae" file="hello.rb" >}}``.

Parameters:
    id (str, or the first positional argument): ``user/id``, a bare gist id, or a
        gist.github.com URL. With two positional arguments, they are the user and the id.
    user (str, optional): the gist owner's GitHub user name.
    file (str, optional): show only this file of the gist.
"""
import html
import re

USER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})")
GIST_ID = re.compile(r"[0-9A-Fa-f]{1,64}")
URL = re.compile(
    r"(?:https?:)?//gist\.github\.com/([^?#]*)(?:\?[^#]*)?(?:#.*)?", re.IGNORECASE | re.DOTALL
)
# Characters left as they are in a query value; everything else is percent-encoded (UTF-8).
UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def percent_encode(value):
    return "".join(
        ch if ch in UNRESERVED else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in value
    )


def text(name, value):
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{name} must be text, not {value!r}")


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


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("id")
    user = params.get("user")
    if raw is None and len(args) >= 2 and user is None:
        user, raw = args[0], args[1]
    elif raw is None and args:
        raw = args[0]
    if raw is None:
        raise ValueError("gist needs an id: {{< gist user/0123456789abcdef >}}")
    url_user, gist = split_reference(text("id", raw))
    if user is None:
        user = url_user
    if user is not None:
        user = text("user", user)
        if not USER.fullmatch(user):
            raise ValueError(f"not a GitHub user name: {user!r}")
    if not GIST_ID.fullmatch(gist):
        raise ValueError(f"not a gist id: {gist!r}")
    page = "https://gist.github.com/" + (f"{user}/{gist}" if user else gist)
    script = page + ".js"
    file = params.get("file")
    if file is not None:
        file = text("file", file)
        if not file:
            raise ValueError("file must not be empty")
        script += "?file=" + percent_encode(file)
    return {
        "html": (
            '<div class="embed embed-gist">'
            f'<script src="{html.escape(script)}"></script>'
            f'<noscript><a href="{html.escape(page)}">View the gist on GitHub</a></noscript>'
            "</div>"
        )
    }
