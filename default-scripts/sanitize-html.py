# ---
# title: Sanitize HTML
# kind: transform
# entrypoint: render
# enabled: true
# version: 1
# ---
"""Makes ``post.content`` safe to show: only an allowlist of tags and attributes is kept.

- Allowed tags (text formatting, lists, tables, figures, headings, links, images, …) are kept
  with their allowed attributes only; other tags are removed but their text is kept.
- ``script``, ``style``, ``iframe``, ``object``, ``embed``, ``svg``, ``math``, ``template``,
  ``textarea``, ``title``, ``select``, ``noscript`` and the like are removed with everything
  inside them. Comments, doctypes and processing instructions are removed.
- ``href`` may only be an http, https or mailto URL, or a relative one (``/posts/x/``,
  ``#notes``); ``src`` only http, https or relative. Any other scheme (``javascript:``,
  ``data:``, ``vbscript:``…, however it is spelt or escaped) removes the attribute.
  Sizes (``width``, ``colspan``, …) must be whole numbers.
- Text is escaped again, so an entity such as ``&lt;script&gt;`` stays text; attribute values
  are always written in double quotes and escaped.
- Every element left open is closed at the end, so the result never leaks markup into the page
  around it. Everything else in the post is returned unchanged.

The markup is read by an ``html.parser.HTMLParser`` whose tokenizer is written out here (the
``goahead`` method) instead of the standard library's: ``html.parser`` changed a lot between
CPython 3.11 and 3.14 (comments, unterminated tags, ``<![CDATA[``, raw-text elements such as
``textarea`` and ``iframe``, entities in attributes), and the app's interpreter follows 3.14.
With the tokenizer pinned, every Python version cleans a page the same way. It follows the
HTML5 tokenizer for the cases that matter here.
"""
import html
import re
from html.entities import html5
from html.parser import HTMLParser

GLOBAL_ATTRS = frozenset({"class", "id", "title", "lang", "dir"})
ALLOWED = {
    tag: frozenset(attrs)
    for tag, attrs in {
        "a": {"href"},
        "abbr": (), "b": (), "bdi": (), "bdo": (), "blockquote": (), "br": (), "caption": (),
        "cite": (), "code": (), "col": {"span"}, "colgroup": {"span"}, "dd": (), "del": (),
        "details": {"open"}, "dfn": (), "div": (), "dl": (), "dt": (), "em": (),
        "figcaption": (), "figure": (), "h1": (), "h2": (), "h3": (), "h4": (), "h5": (),
        "h6": (), "hr": (), "i": (),
        "img": {"src", "alt", "width", "height"},
        "ins": (), "kbd": (), "li": {"value"}, "mark": (), "ol": {"start", "reversed"},
        "p": (), "pre": (), "q": (), "rp": (), "rt": (), "ruby": (), "s": (), "samp": (),
        "small": (), "span": (), "strong": (), "sub": (), "summary": (), "sup": (),
        "table": (), "tbody": (), "td": {"colspan", "rowspan"}, "tfoot": (),
        "th": {"colspan", "rowspan", "scope"}, "thead": (), "time": {"datetime"}, "tr": (),
        "u": (), "ul": (), "var": (), "wbr": (),
    }.items()
}
# Removed together with everything inside them.
DROP = frozenset(
    """
    script style iframe object embed applet noscript noembed noframes template textarea
    title xmp plaintext select svg math frame frameset
    """.split()
)
# Elements whose content is raw text to the HTML5 tokenizer (no tags inside); all are in DROP.
RAW_TEXT = frozenset({"script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"})
VOID = frozenset(
    "area base br col embed frame hr img input keygen link meta param source track wbr".split()
)
FOREIGN = frozenset({"svg", "math"})  # their "<x/>" really is empty
# Block elements: their start tag ends an open paragraph, as in HTML5.
BLOCKS = frozenset(
    """
    address blockquote details div dl fieldset figcaption figure footer h1 h2 h3 h4 h5 h6
    header hr main nav ol p pre section summary table ul
    """.split()
)
SCOPES = frozenset({"table", "td", "th", "caption", "button"})
# A start tag of the key closes the open elements of the first set, searching no further down
# than the second set (a simplified form of HTML5's implied end tags): "<li>a<li>b" is two items.
IMPLIED_END = {
    "li": (frozenset({"li"}), frozenset({"ul", "ol"}) | SCOPES),
    "dt": (frozenset({"dt", "dd"}), frozenset({"dl"}) | SCOPES),
    "dd": (frozenset({"dt", "dd"}), frozenset({"dl"}) | SCOPES),
    "tr": (frozenset({"tr", "td", "th"}), frozenset({"table", "thead", "tbody", "tfoot"})),
    "td": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "th": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "thead": (frozenset({"thead", "tbody", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
    "tbody": (frozenset({"thead", "tbody", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
    "tfoot": (frozenset({"thead", "tbody", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
}
CLOSES_P = (frozenset({"p"}), SCOPES)
BOOLEAN_ATTRS = frozenset({"open", "reversed"})
NUMBER_ATTRS = frozenset({"width", "height", "colspan", "rowspan", "start", "span", "value"})
URL_SCHEMES = {"href": ("http", "https", "mailto"), "src": ("http", "https")}

# Tokenizer pieces (HTML5 "tag name", "attribute name", … states).
TAG_NAME = re.compile(r"[a-zA-Z][^\t\n\r\f />]*")
TAG_SPACE = re.compile(r"[\t\n\r\f /]*")
ATTR_NAME = re.compile(r"[^\t\n\r\f />][^\t\n\r\f /=>]*")
ATTR_EQUALS = re.compile(r"[\t\n\r\f ]*=[\t\n\r\f ]*")
UNQUOTED_VALUE = re.compile(r"[^\t\n\r\f >]*")
COMMENT_END = re.compile(r"--!?>")
COMMENT_ABRUPT_END = re.compile(r"-?>")  # "<!-->" and "<!--->"
ATTR_CHARREF = re.compile(r"&(?:#[0-9]+;?|#[xX][0-9a-fA-F]+;?|([A-Za-z][A-Za-z0-9]*)(;?))")

SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
CONTROL_AND_SPACE = re.compile(r"[\x00-\x20\x7f]+")
WHOLE_NUMBER = re.compile(r"[0-9]{1,6}")


def unescape_attribute(value):
    """Character references in an attribute value, as HTML5 reads them there: a named one
    without ``;`` is left alone when a letter, digit or ``=`` follows (``?a=1&copy=2``)."""

    def replace(found):
        ref = found.group(0)
        name, semicolon = found.group(1), found.group(2)
        if name is None:  # numeric
            return html.unescape(ref)
        if semicolon:
            return html5.get(name + ";", ref)
        following = value[found.end() : found.end() + 1]
        if name in html5 and following != "=":
            return html5[name]
        return ref

    return ATTR_CHARREF.sub(replace, value)


def safe_url(value, schemes):
    value = value.strip("\t\n\f\r ")
    found = SCHEME.match(CONTROL_AND_SPACE.sub("", value))
    if found and found.group(1).lower() not in schemes:
        return None
    return value


class Sanitizer(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out = []
        self.open = []  # allowed elements written and not yet closed
        self.skip = []  # dropped elements we are inside of

    # -- the tokenizer ------------------------------------------------------------------------

    def goahead(self, end):
        """Called by ``feed()`` (end false) and ``close()`` (end true): the whole document is
        tokenized at ``close()``, in one pass, whatever pieces it was fed in."""
        if not end:
            return
        data = self.rawdata
        self.rawdata = ""
        # The input stream preprocessing of HTML5: newlines normalised, NUL replaced.
        data = data.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
        n = len(data)
        i = 0
        while i < n:
            j = data.find("<", i)
            if j < 0:
                j = n
            if j > i:
                self.handle_data(html.unescape(data[i:j]))
            i = j
            if i >= n:
                break
            nxt = data[i + 1 : i + 2]
            if nxt.isascii() and nxt.isalpha():
                tag = self.scan_tag(data, i + 1)
                if tag is None:  # end of input inside the tag: it is dropped
                    break
                name, attrs, self_closing, i = tag
                self.handle_tag(name, attrs, self_closing)
                if name in RAW_TEXT:
                    i = self.raw_text(data, i, name)
                elif name == "plaintext":
                    self.handle_data(data[i:])
                    break
            elif nxt == "/":
                after = data[i + 2 : i + 3]
                if after.isascii() and after.isalpha():
                    tag = self.scan_tag(data, i + 2)
                    if tag is None:
                        break
                    self.handle_endtag(tag[0])
                    i = tag[3]
                elif after == ">":
                    i += 3
                elif after == "":
                    self.handle_data("</")
                    i = n
                else:
                    i = self.bogus_comment(data, i + 2)
            elif data.startswith("<!--", i):
                found = COMMENT_ABRUPT_END.match(data, i + 4) or COMMENT_END.search(data, i + 4)
                i = found.end() if found else n
            elif nxt in ("!", "?"):
                i = self.bogus_comment(data, i + 2)
            else:
                self.handle_data("<")
                i += 1

    @staticmethod
    def bogus_comment(data, i):
        end = data.find(">", i)
        return len(data) if end < 0 else end + 1

    @staticmethod
    def scan_tag(data, i):
        """(name, attrs, self_closing, end) of the tag whose name starts at i, or None when the
        input ends inside it."""
        n = len(data)
        found = TAG_NAME.match(data, i)
        name = found.group(0).lower()
        i = found.end()
        attrs = []
        while True:
            space = TAG_SPACE.match(data, i)
            i = space.end()
            if i >= n:
                return None
            if data[i] == ">":
                self_closing = i > space.start() and data[i - 1] == "/"
                return name, attrs, self_closing, i + 1
            found = ATTR_NAME.match(data, i)
            attr = found.group(0).lower()
            i = found.end()
            value = None
            equals = ATTR_EQUALS.match(data, i)
            if equals:
                i = equals.end()
                if i >= n:
                    return None
                quote = data[i]
                if quote in "\"'":
                    close = data.find(quote, i + 1)
                    if close < 0:
                        return None
                    value = data[i + 1 : close]
                    i = close + 1
                else:
                    found = UNQUOTED_VALUE.match(data, i)
                    value = found.group(0)
                    i = found.end()
                value = unescape_attribute(value)
            attrs.append((attr, value))

    def raw_text(self, data, i, name):
        """Skips the content of a raw-text element; returns where its end tag ends."""
        end = re.compile(r"</%s(?=[\t\n\r\f />])" % name, re.IGNORECASE).search(data, i)
        if end is None:
            self.handle_data(data[i:])
            return len(data)
        self.handle_data(data[i : end.start()])
        tag = self.scan_tag(data, end.start() + 2)
        if tag is None:
            return len(data)
        self.handle_endtag(name)
        return tag[3]

    # -- what is kept -------------------------------------------------------------------------

    def handle_tag(self, tag, attrs, self_closing):
        if self.skip or tag in DROP:
            if tag in DROP and tag not in VOID and not (self_closing and tag in FOREIGN):
                self.skip.append(tag)
            return
        if tag not in ALLOWED:
            return
        self.handle_starttag(tag, attrs)

    def close_implied(self, tag):
        rules = [IMPLIED_END[tag]] if tag in IMPLIED_END else []
        if tag in BLOCKS or tag in IMPLIED_END:
            rules.append(CLOSES_P)
        for closes, stop in rules:
            deepest = None
            for k in range(len(self.open) - 1, -1, -1):
                if self.open[k] in stop:
                    break
                if self.open[k] in closes:
                    deepest = k
            if deepest is not None:
                while len(self.open) > deepest:
                    self.out.append(f"</{self.open.pop()}>")

    def handle_starttag(self, tag, attrs):
        self.close_implied(tag)
        allowed = ALLOWED[tag]
        seen = set()
        written = []
        for name, value in attrs:
            if name in seen:
                continue  # the first one wins, as in a browser
            seen.add(name)
            if name not in allowed and name not in GLOBAL_ATTRS:
                continue
            if name in BOOLEAN_ATTRS:
                written.append(f" {name}")
                continue
            if value is None:
                continue
            if name in URL_SCHEMES:
                value = safe_url(value, URL_SCHEMES[name])
                if value is None:
                    continue
            elif name in NUMBER_ATTRS:
                value = value.strip()
                if not WHOLE_NUMBER.fullmatch(value):
                    continue
            elif name == "dir":
                value = value.strip().lower()
                if value not in ("ltr", "rtl", "auto"):
                    continue
            written.append(f' {name}="{html.escape(value)}"')
        self.out.append(f"<{tag}{''.join(written)}>")
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if self.skip:
            if tag in self.skip:
                while self.skip.pop() != tag:
                    pass
            return
        if tag in VOID or tag not in self.open:
            return
        while True:
            name = self.open.pop()
            self.out.append(f"</{name}>")
            if name == tag:
                return

    def handle_data(self, data):
        if not self.skip and data:
            self.out.append(html.escape(data, quote=False))

    def result(self):
        self.close()
        while self.open:
            self.out.append(f"</{self.open.pop()}>")
        return "".join(self.out)


def sanitize(content):
    parser = Sanitizer()
    parser.feed(content)
    return parser.result()


def render(context):
    post = context.get("post")
    if not isinstance(post, dict):
        raise TypeError(f"the context needs a post object, not {type(post).__name__}")
    post = dict(post)
    content = post.get("content")
    if content is not None:
        if not isinstance(content, str):
            raise TypeError(f"post.content must be a string, not {type(content).__name__}")
        post["content"] = sanitize(content)
    return {"post": post}
