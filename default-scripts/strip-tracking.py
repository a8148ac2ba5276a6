# ---
# title: Strip tracking parameters
# kind: transform
# entrypoint: render
# enabled: true
# version: 1
# ---
"""Removes tracking parameters (``utm_*``, ``fbclid``, ``gclid``, ``mc_eid``, …) from
``post.url`` and from every ``href`` attribute in ``post.content``.

Only the tracking parameters are taken out: the rest of each URL, the order of the other
parameters, their encoding, the fragment and the quoting of the attribute are kept as they
were, byte for byte. A URL left with no parameter loses its ``?``. Names are compared without
regard to case. Everything else in the post is returned unchanged.

In ``post.content`` the query is split on ``&`` as well as on its escaped forms ``&amp;``,
``&#38;`` and ``&#x26;``, since that is how an ``&`` appears inside HTML attributes.
"""
import re

# Parameters set by analytics, ad and mailing tools to follow a click.
TRACKING = frozenset(
    """
    fbclid gclid gclsrc dclid gbraid wbraid msclkid yclid twclid ttclid li_fat_id igshid
    mc_cid mc_eid _hsenc _hsmi __hssc __hstc __hsfp hsctatracking mkt_tok
    oly_anon_id oly_enc_id vero_conv vero_id _openstat wickedid rb_clickid s_cid
    ga_source ga_medium ga_campaign ga_content ga_term
    """.split()
)
TRACKING_PREFIXES = ("utm_",)

# A start tag: its name, then its attributes (quoted values may contain ">").
START_TAG = re.compile(r"""<([A-Za-z][^\s/>]*)((?:"[^"]*"|'[^']*'|[^'">])*)>""")
# One attribute, its value included, so that text inside a quoted value is never taken for
# an attribute of its own.
ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:(\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+))?""")
HTML_AMP = re.compile(r"(&amp;|&#0*38;|&#[xX]0*26;|&)")
PLAIN_AMP = re.compile(r"(&)")
URL_PARTS = re.compile(r"([^?#]*)(?:\?([^#]*))?(#.*)?", re.DOTALL)
# The same inside HTML, where the "#" of a numeric character reference ("&#38;") does not
# start the fragment.
CHARREF = r"&#[0-9]+;?|&#[xX][0-9a-fA-F]+;?"
HTML_URL_PARTS = re.compile(
    rf"((?:{CHARREF}|[^?#])*)(?:\?((?:{CHARREF}|[^#])*))?(#.*)?", re.DOTALL
)


def is_tracking(part):
    name = part.split("=", 1)[0].strip().lower()
    return name in TRACKING or name.startswith(TRACKING_PREFIXES)


def clean_url(url, html=False):
    """The URL without its tracking parameters; the very same string when there are none.
    With ``html``, the URL is as written in an HTML attribute (``&amp;`` between parameters)."""
    found = (HTML_URL_PARTS if html else URL_PARTS).fullmatch(url)
    separator = HTML_AMP if html else PLAIN_AMP
    base, query, fragment = found.group(1), found.group(2), found.group(3) or ""
    if not query:
        return url
    # Alternating parameters and the separators between them.
    pieces = separator.split(query)
    params = pieces[0::2]
    seps = pieces[1::2]
    kept = []  # (separator before it, parameter)
    removed = False
    for i, param in enumerate(params):
        if is_tracking(param):
            removed = True
        elif param:  # empty ones ("a=1&&b=2") are dropped if the URL changes anyway
            kept.append((seps[i - 1] if i > 0 else "", param))
    if not removed:
        return url
    if not kept:
        return base + fragment
    # The first kept parameter loses the separator that tied it to a removed one.
    new_query = kept[0][1] + "".join(sep + param for sep, param in kept[1:])
    return base + "?" + new_query + fragment


def clean_attribute(found):
    name, equals, value = found.group(1), found.group(2), found.group(3)
    if value is None or name.lower() != "href":
        return found.group(0)
    if value[:1] in ("'", '"'):
        quote, url = value[0], value[1:-1]
    else:
        quote, url = "", value
    cleaned = clean_url(url, html=True)
    if cleaned == url:
        return found.group(0)
    return f"{name}{equals}{quote}{cleaned}{quote}"


def clean_tag(found):
    attributes = ATTRIBUTE.sub(clean_attribute, found.group(2))
    if attributes == found.group(2):
        return found.group(0)
    return f"<{found.group(1)}{attributes}>"


def clean_content(content):
    return START_TAG.sub(clean_tag, content)


def render(context):
    post = context.get("post")
    if not isinstance(post, dict):
        raise TypeError(f"the context needs a post object, not {type(post).__name__}")
    post = dict(post)
    url = post.get("url")
    if url is not None:
        if not isinstance(url, str):
            raise TypeError(f"post.url must be a string or null, not {type(url).__name__}")
        post["url"] = clean_url(url)
    content = post.get("content")
    if content is not None:
        if not isinstance(content, str):
            raise TypeError(f"post.content must be a string, not {type(content).__name__}")
        post["content"] = clean_content(content)
    return {"post": post}
