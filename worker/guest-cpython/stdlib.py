"""Writes the CPython guest's standard library table: every module of Lib/, compiled.

    python3.11 stdlib.py LIB_DIR OUT_FILE

The guest has no filesystem, so its standard library is built in: the guest's importer
(`src/importer.py`) finds a module in this table and runs its code object. The table is

    b"BDSLIB1\\0", u32 count, then per module:
    u16 name length, name (UTF-8, dotted), u8 kind (1 module, 2 package), u32 length, marshal data

little-endian, sorted by name. Code is compiled by the CPython 3.11 running this script, which
writes the bytecode every 3.11 reads (magic number 3495). Left out: the test suites, the GUI and
terminal toolkits, and the packaging tools, none of which a macro can use in the sandbox.
"""

import marshal
import os
import struct
import sys

SKIP_DIRS = {
    "test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip",
    "venv", "distutils", "pydoc_data", "site-packages", "curses", "dbm", "sqlite3",
    "msilib", "__pycache__", "unittest", "multiprocessing", "concurrent", "asyncio",
    "xmlrpc", "wsgiref",
}
SKIP_FILES = {"turtle.py", "antigravity.py", "this.py", "__phello__.foo.py"}


def modules(lib):
    for root, dirs, files in os.walk(lib):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("config-"))
        rel = os.path.relpath(root, lib)
        parts = [] if rel == "." else rel.split(os.sep)
        if parts and not os.path.exists(os.path.join(root, "__init__.py")):
            dirs[:] = []
            continue
        for f in sorted(files):
            if not f.endswith(".py") or f in SKIP_FILES:
                continue
            path = os.path.join(root, f)
            if f == "__init__.py":
                if not parts:
                    continue
                yield ".".join(parts), 2, path
            else:
                yield ".".join(parts + [f[:-3]]), 1, path


def main():
    lib, out = sys.argv[1], sys.argv[2]
    if sys.version_info[:2] != (3, 11):
        sys.exit("stdlib.py must run on CPython 3.11 (it writes 3.11 bytecode)")
    entries = []
    for name, kind, path in modules(lib):
        with open(path, "rb") as f:
            source = f.read()
        rel = os.path.relpath(path, lib).replace(os.sep, "/")
        code = compile(source, "<stdlib>/" + rel, "exec", dont_inherit=True, optimize=0)
        entries.append((name, kind, marshal.dumps(code)))
    entries.sort()
    blob = [b"BDSLIB1\0", struct.pack("<I", len(entries))]
    for name, kind, data in entries:
        n = name.encode()
        blob += [struct.pack("<H", len(n)), n, struct.pack("<BI", kind, len(data)), data]
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"".join(blob))
    os.replace(tmp, out)
    total = sum(len(d) for _, _, d in entries)
    print(f"stdlib.py: {len(entries)} modules, {total / 1e6:.1f} MB of code -> {out}")


if __name__ == "__main__":
    main()
