# ---
# title: Badge
# kind: macro
# entrypoint: render
# enabled: true
# version: 1
# ---
"""A small label, e.g. "New" or "v2.1", optionally a link.

Usage: ``{{< badge New >}}``, ``{{< badge "Beta" warning >}}`` or
``{{< badge text="v2.1" variant="info" link="/changelog/" title="What changed" >}}``.

Parameters:
    text (str or number, or the first positional argument): the label (escaped).
    variant (str, or the second positional argument, default "default"): one of default,
        primary, secondary, success, info, warning, danger; gives ``class="badge badge-…"``.
    link (str, optional): make the badge a link to this http(s) or relative URL.
    title (str, optional): a tooltip.
"""
import html
import re

VARIANTS = ("default", "primary", "secondary", "success", "info", "warning", "danger")
SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


def text(name, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be text, not {value!r}")
    return str(value).strip()


def url(name, value):
    """An http(s) or relative URL: anything with another scheme (javascript:, data:) is refused."""
    value = text(name, value)
    if not value:
        raise ValueError(f"{name} must not be empty")
    # Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
    found = SCHEME.match(re.sub(r"[\x00-\x20\x7f]+", "", value))
    if found and found.group(1).lower() not in ("http", "https"):
        raise ValueError(f"{name} must be an http(s) or relative URL, not {value!r}")
    return value


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    raw = params.get("text", args[0] if args else None)
    if raw is None:
        raise ValueError("badge needs a label: {{< badge New >}}")
    label = text("text", raw)
    if not label:
        raise ValueError("badge needs a label: {{< badge New >}}")
    variant = params.get("variant", args[1] if len(args) > 1 else "default")
    if not isinstance(variant, str) or variant.strip().lower() not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
    variant = variant.strip().lower()
    attrs = f' class="badge badge-{variant}"'
    title = params.get("title")
    if title is not None:
        attrs += f' title="{html.escape(text("title", title))}"'
    link = params.get("link")
    if link is not None:
        href = html.escape(url("link", link))
        return {"html": f'<a{attrs} href="{href}">{html.escape(label)}</a>'}
    return {"html": f"<span{attrs}>{html.escape(label)}</span>"}
