# What the CPython guest adds to the shared bootstrap: the `bds_markdown` module. Run once
# before the snapshot, in the bootstrap's private namespace, which holds the native `_markdown`.
import sys as _sys
import types as _types

_MARKDOWN_DOC = (
    "Markdown to HTML (CommonMark, GFM tables and strikethrough).\n\n"
    "render(text, inline=False) -> str: with inline=True, an output that is exactly one "
    "paragraph loses its <p>...</p> wrapper."
)


def _markdown_module(native, isinstance=isinstance, str=str, type=type):
    def render(text, inline=False):
        if not isinstance(text, str):
            raise TypeError("render() argument 'text' must be str, not " + type(text).__name__)
        return native(text, inline)

    render.__module__ = "bds_markdown"
    render.__qualname__ = "render"
    module = _types.ModuleType("bds_markdown", _MARKDOWN_DOC)
    module.render = render
    return module


_sys.modules["bds_markdown"] = _markdown_module(_markdown)

# `compile()` builds the AST node types the first time it runs (~7 ms): done here, before the
# snapshot, so that no instance's first load pays for it.
compile("pass", "<bds>", "exec", dont_inherit=True)

# Everything made so far lives as long as the snapshot: moved out of the cyclic collector's
# reach, so that no collection in an instance walks (and so writes to, page by page) the
# snapshot's objects, which every instance maps copy-on-write.
import gc as _gc

_gc.collect()
_gc.freeze()
