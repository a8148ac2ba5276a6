# ---
# title: Post or site parameter
# kind: macro
# entrypoint: render
# enabled: true
# version: 3
# params:
#   key: str, required, position 0 -- the key; a dotted key (author.name) reads inside objects
#   from: [post, site], optional -- look only there; by default post.meta, then site.meta
#   default: any, optional -- shown when the key is found nowhere (else that is an error)
# ---
"""A value from the post's metadata, or else the site's, escaped.

Usage: ``{{< param author >}}``, ``{{< param "social.mastodon" >}}`` or
``{{< param key="license" from="site" default="CC BY 4.0" >}}``.

Parameters:
    key (str, or the first positional argument): the key. A dotted key (``author.name``) reads
        inside nested objects, unless a key with the dot in it exists as it is.
    from (str, optional): ``post`` or ``site`` to look only there; by default ``post.meta`` is
        looked up first, then ``site.meta``.
    default (str or number, optional): shown when the key is found nowhere; without it a
        missing key is an error.

Text is escaped; numbers are shown as they are; true/false as ``true``/``false``; null as
nothing; a list as its items joined with ``, ``. An object cannot be shown: name one of its keys.
"""
import html

MISSING = object()


def lookup(meta, key):
    if not isinstance(meta, dict):
        return MISSING
    if key in meta:
        return meta[key]
    value = meta
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def show(key, value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, list):
        return ", ".join(show(key, item) for item in value)
    raise ValueError(f"param {key!r} is an object; name one of its keys, e.g. {key + '.name'!r}")


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    key = params.get("key", args[0] if args else None)
    if key is None:
        raise ValueError("param needs a key: {{< param author >}}")
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise ValueError(f"key must be text, not {key!r}")
    key = str(key).strip()
    if not key:
        raise ValueError("key must not be empty")
    where = params.get("from")
    if where is not None and where not in ("post", "site"):
        raise ValueError(f"from must be post or site, not {where!r}")
    sources = []
    if where in (None, "post"):
        sources.append((context.get("post"), "post.meta"))
    if where in (None, "site"):
        sources.append((context.get("site"), "site.meta"))
    for owner, _ in sources:
        value = lookup(owner.get("meta") if isinstance(owner, dict) else None, key)
        if value is not MISSING:
            return {"html": show(key, value)}
    default = params.get("default")
    if default is not None:
        return {"html": show(key, default)}
    names = " or ".join(name for _, name in sources)
    raise ValueError(f"param: no {key!r} in {names}")
