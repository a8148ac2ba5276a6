# ---
# title: Keyboard keys
# kind: macro
# entrypoint: render
# enabled: true
# version: 2
# params:
#   keys: any, optional -- keys joined by +, e.g. Ctrl+Shift+P; else the positional arguments
#   separator: str, default "+" -- what is shown between keys
#   *args: any -- the keys, one per argument, when keys is not given by name
# ---
"""Keyboard shortcuts: ``{{< kbd Ctrl+Shift+P >}}`` gives <kbd>Ctrl</kbd>+<kbd>Shift</kbd>+<kbd>P</kbd>.

Parameters:
    keys (str, or the positional arguments): keys joined by ``+``.
    separator (str, default "+"): what is shown between keys.
"""
import html


def render(context):
    params = context.get("params") or {}
    args = context.get("args") or []
    keys = params.get("keys")
    if keys is None:
        keys = "+".join(str(a) for a in args)
    names = [k.strip() for k in str(keys).split("+") if k.strip()]
    if not names:
        raise ValueError("kbd needs at least one key: {{< kbd Ctrl+C >}}")
    sep = html.escape(str(params.get("separator", "+")))
    return {"html": sep.join(f"<kbd>{html.escape(n)}</kbd>" for n in names)}
