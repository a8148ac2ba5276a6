# ---
# title: Code block helpers
# kind: utility
# version: 2
# ---
"""Helpers shared by the code-block macros (``code``, ``highlight``; ``details`` takes ``flag``):
``import code_utils``.

    flag(params, name, default)    a true/false parameter (a boolean, or "true"/"false" in any
                                   case); anything else raises ValueError naming the parameter
    source_of(params, inner, missing, name="code")
                                   the code: the ``code=`` parameter or the content between
                                   paired tags (not both); ValueError(missing) when there is none
    split_lines(source)            the lines of ``source``, line endings made ``\\n``, blank lines
                                   at the start and the end dropped (tabs and indentation kept)
    dedent(lines)                  the lines without the spaces and tabs common to all of them
    language(value)                a language name (``python``, ``c++``, ``objective-c``),
                                   stripped and lowercased; None stays None; ValueError otherwise
    source_and_language(params, args, inner, missing)
                                   (source, lang) of a code-block call: ``source_of`` and the
                                   ``language`` of ``lang=`` or the first positional argument

Written with ``re`` and ``str`` only, so the app's interpreter (RustPython, whose standard
library follows CPython 3.14) and CPython 3.11 agree: ``textwrap.dedent`` changed in 3.14.
"""
import re

LANG = re.compile(r"[A-Za-z0-9_+#.-]{1,40}")


def flag(params, name, default):
    """``params[name]`` as a bool (``default`` when absent); ValueError for anything else."""
    value = params.get(name, default)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def source_of(params, inner, missing, name="code"):
    """The code of a call: ``params[name]``, or else the content between paired tags.

    ``missing`` is the message when there is no code at all. Giving both is an error.
    """
    if inner is not None and not isinstance(inner, str):
        raise TypeError(f"inner must be a string or null, not {type(inner).__name__}")
    source = params.get(name)
    if source is not None and inner is not None and inner.strip():
        raise ValueError(f"give the code either as {name}=… or between the tags, not both")
    if source is None:
        source = inner
    if source is None:
        raise ValueError(missing)
    if not isinstance(source, str):
        raise ValueError(f"{name} must be text, not {source!r}")
    return source


def split_lines(source):
    """The lines of ``source`` (``\\r\\n``, ``\\r`` read as ``\\n``), without blank edge lines."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[0].strip(" \t"):
        lines.pop(0)
    while lines and not lines[-1].strip(" \t"):
        lines.pop()
    return lines


def dedent(lines):
    """Remove the leading spaces and tabs common to all non-blank lines.

    Written out here rather than using ``textwrap.dedent``, whose handling of blank lines
    and unusual white space changed in Python 3.14 (the version the app's interpreter follows).
    Blank lines become empty.
    """
    margin = None
    for line in lines:
        if not line.strip(" \t"):
            continue
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if margin is None:
            margin = indent
        else:
            common = 0
            for a, b in zip(margin, indent):
                if a != b:
                    break
                common += 1
            margin = margin[:common]
    cut = len(margin or "")
    return [line[cut:] if line.strip(" \t") else "" for line in lines]


def language(value):
    """A language name for ``class="language-…"``, lowercased; None when ``value`` is None."""
    if value is None:
        return None
    if not isinstance(value, str) or not LANG.fullmatch(value.strip()):
        raise ValueError(f"lang must be a language name like python or c++, not {value!r}")
    return value.strip().lower()


def source_and_language(params, args, inner, missing):
    """(source, lang) of a code-block call: its code (``source_of``, ``missing`` the message
    when there is none) and its ``language``, from ``lang=`` or the first positional argument."""
    source = source_of(params, inner, missing)
    return source, language(params.get("lang", args[0] if args else None))
