# ---
# title: Badge
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   text: str, required, position 0 -- the label (escaped)
#   variant: str, position 1, default "default" -- primary, secondary, success, info, warning or danger
#   link: str, optional -- make the badge a link to this http(s) or relative URL
#   title: str, optional -- a tooltip
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

from html_utils import safe_url

VARIANTS = ("default", "primary", "secondary", "success", "info", "warning", "danger")


def text(name, value):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{name} must be text, not {value!r}")
    return str(value).strip()


def url(name, value):
    """An http(s) or relative URL: anything with another scheme (javascript:, data:) is refused."""
    return safe_url(name, text(name, value))


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
