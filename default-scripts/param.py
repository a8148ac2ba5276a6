# ---
# title: Post or site parameter
# kind: macro
# entrypoint: render
# enabled: true
# version: 4
# params:
#   key: str, required, position 0 -- the key; a dotted key (author.name) reads inside objects
#   from: [post, site], optional -- look only in the post's places or only in the site's
#   default: any, optional -- shown when the key is found nowhere (else that is an error)
# ---
"""Hugo's ``param``: a value of the post's front matter, or else of the site's parameters,
escaped.

Usage: ``{{< param author >}}``, ``{{< param "social.mastodon" >}}`` or
``{{< param key="license" from="site" default="CC BY 4.0" >}}``.

Parameters:
    key (str, or the first positional argument): the key. A dotted key (``author.name``) reads
        inside nested objects, unless a key with the dot in it exists as it is. Keys are
        case-sensitive.
    from (str, optional, bDS): ``post`` or ``site`` to look only in that one's places.
    default (str or number, optional, bDS): shown when the key is found nowhere; without it a
        missing key is an error (as in Hugo).

Where the key is looked up, in this order (the first place that has it with a value that is
not null wins):

    1. ``post[key]``: the post's front matter keys (Hugo's ``.Params``);
    2. ``post.params[key]``: front matter under ``params:`` (Hugo 0.123's layout);
    3. ``post.meta[key]``: bDS's post metadata;
    4. ``site.params[key]``: the site's parameters (Hugo's ``site.Params``);
    5. ``site.meta[key]``: bDS's site metadata.

Text is escaped; numbers are shown as they are; true/false as ``true``/``false``; a list as
its items joined with ``, ``. An object cannot be shown: name one of its keys.

How it differs from Hugo: keys are case-sensitive (Hugo lowercases front matter keys); a list
is shown as ``a, b`` (Hugo: ``[a b]``); ``from`` and ``default`` are bDS's.
"""
import html

MISSING = object()


def lookup(place, key):
    """``place[key]`` (exact, else dotted) if ``place`` is a dict, or MISSING (also for null)."""
    if not isinstance(place, dict):
        return MISSING
    if key in place:
        value = place[key]
    else:
        value = place
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                return MISSING
            value = value[part]
    return MISSING if value is None else value


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


def places(context, where):
    """(name, dict or None) for each place to look in, in order."""
    out = []
    if where in (None, "post"):
        post = context.get("post")
        post = post if isinstance(post, dict) else None
        out.append(("post", post))
        out.append(("post.params", post.get("params") if post is not None else None))
        out.append(("post.meta", post.get("meta") if post is not None else None))
    if where in (None, "site"):
        site = context.get("site")
        site = site if isinstance(site, dict) else None
        out.append(("site.params", site.get("params") if site is not None else None))
        out.append(("site.meta", site.get("meta") if site is not None else None))
    return out


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
    searched = places(context, where)
    for _, place in searched:
        value = lookup(place, key)
        if value is not MISSING:
            return {"html": show(key, value)}
    default = params.get("default")
    if default is not None:
        return {"html": show(key, default)}
    names = [name for name, _ in searched]
    listed = ", ".join(names[:-1]) + " or " + names[-1]
    raise ValueError(f"param: no {key!r} in {listed}")
