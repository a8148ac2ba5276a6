# Shared data as scripts see it: context["post"] and context["site"] of a macro call.
#
# The same values reach many calls (a site with thousands of posts, a post with hundreds of
# macro calls), so they are built once and handed to every call by reference. To keep one call
# from changing what another sees, they are read-only: dict and list subclasses whose mutating
# methods raise TypeError, naming the path and how to take a copy. Everything that reads works
# as on a dict or a list (isinstance(x, dict) is true).
#
# The top level of each value (SharedRoot) also records which keys a call read, so the engine
# can cache a macro's result by exactly what it depended on. Reading a key records that key;
# anything that looks at the whole value (iterating it, len, items(), copying, comparing,
# printing, json.dumps) records the whole value.
#
# This file runs in two places: in the guest, before the interpreter snapshot (where `_fill`
# is a native function that loads a root's contents the first time a call touches it), and in
# fixtures/oracle.py and fixtures/bless.py under CPython, so the oracle behaves the same way.
# See engine/schemas/shared-data.md.

_dict = dict
_list = list
_str = str
_isinstance = isinstance
_id = id

# (root name, key or None) read since the last reset.
_reads = set()
# The roots of the current call, to name the path of a value in an error.
_roots = []


def _reset(roots):
    _reads.clear()
    _roots[:] = roots


def _take_reads():
    out = sorted(_reads, key=lambda r: (r[0], r[1] is not None, r[1] or ""))
    _reads.clear()
    return out


def _path_of(target):
    """Where `target` sits under the current call's roots, e.g. context['site']['posts'][3]."""
    stack = [("context[%r]" % r._name, r) for r in _roots]
    seen = set()
    while stack:
        path, obj = stack.pop()
        if obj is target:
            return path
        if _id(obj) in seen:
            continue
        seen.add(_id(obj))
        if _isinstance(obj, _dict):
            for k, v in _dict.items(obj):
                if _isinstance(v, (_dict, _list)):
                    stack.append(("%s[%r]" % (path, k), v))
        elif _isinstance(obj, _list):
            for i, v in enumerate(_list.__iter__(obj)):
                if _isinstance(v, (_dict, _list)):
                    stack.append(("%s[%d]" % (path, i), v))
    return "shared data"


def _readonly(obj, what):
    path = _path_of(obj)
    kind = "dict" if _isinstance(obj, _dict) else "list"
    raise TypeError(
        "%s is shared, read-only data: cannot %s it; take a copy to change it, "
        "e.g. %s(%s) or copy.deepcopy(%s)" % (path, what, kind, path, path)
    )


def _thaw(v):
    if _isinstance(v, _dict):
        return {k: _thaw(x) for k, x in _dict.items(v)}
    if _isinstance(v, _list):
        return [_thaw(x) for x in _list.__iter__(v)]
    return v


class FrozenDict(dict):
    """A read-only dict: every method that would change it raises TypeError."""

    __slots__ = ()

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            _readonly(self, "re-initialise")

    def __setitem__(self, key, value):
        _readonly(self, "set the key %r of" % (key,))

    def __delitem__(self, key):
        _readonly(self, "delete the key %r of" % (key,))

    def clear(self):
        _readonly(self, "clear")

    def pop(self, *args):
        _readonly(self, "pop from")

    def popitem(self):
        _readonly(self, "pop from")

    def setdefault(self, *args):
        _readonly(self, "setdefault on")

    def update(self, *args, **kwargs):
        _readonly(self, "update")

    def __ior__(self, other):
        _readonly(self, "update")

    def copy(self):
        return _dict(self)

    def __copy__(self):
        return _dict(self)

    def __deepcopy__(self, memo):
        return _thaw(self)

    def __reduce_ex__(self, protocol):
        return (_dict, (_dict(self),))


class FrozenList(list):
    """A read-only list: every method that would change it raises TypeError."""

    __slots__ = ()

    def __init__(self, *args):
        if args:
            _readonly(self, "re-initialise")

    def __setitem__(self, index, value):
        _readonly(self, "assign to an item of")

    def __delitem__(self, index):
        _readonly(self, "delete an item of")

    def append(self, value):
        _readonly(self, "append to")

    def extend(self, values):
        _readonly(self, "extend")

    def insert(self, index, value):
        _readonly(self, "insert into")

    def pop(self, *args):
        _readonly(self, "pop from")

    def remove(self, value):
        _readonly(self, "remove from")

    def clear(self):
        _readonly(self, "clear")

    def reverse(self):
        _readonly(self, "reverse")

    def sort(self, *args, **kwargs):
        _readonly(self, "sort")

    def __iadd__(self, other):
        _readonly(self, "extend")

    def __imul__(self, n):
        _readonly(self, "repeat")

    def copy(self):
        return _list(self)

    def __copy__(self):
        return _list(self)

    def __deepcopy__(self, memo):
        return _thaw(self)

    def __reduce_ex__(self, protocol):
        return (_list, (_list(self),))


def _fill(root):
    """Loads a root's contents (the guest replaces this with a native function)."""
    root._pending = False


def _key(root, key):
    if root._pending:
        _fill(root)
    _reads.add((root._name, key if _isinstance(key, _str) else None))


def _whole(root):
    if root._pending:
        _fill(root)
    _reads.add((root._name, None))


class SharedRoot(FrozenDict):
    """context["post"] or context["site"]: read-only, and it records what a call reads."""

    __slots__ = ("_name", "_key", "_pending")

    def __getitem__(self, key):
        _key(self, key)
        return _dict.__getitem__(self, key)

    def get(self, key, default=None, /):
        _key(self, key)
        return _dict.get(self, key, default)

    def __contains__(self, key):
        _key(self, key)
        return _dict.__contains__(self, key)

    def __iter__(self):
        _whole(self)
        return _dict.__iter__(self)

    def __reversed__(self):
        _whole(self)
        return _dict.__reversed__(self)

    def __len__(self):
        _whole(self)
        return _dict.__len__(self)

    def keys(self):
        _whole(self)
        return _dict.keys(self)

    def values(self):
        _whole(self)
        return _dict.values(self)

    def items(self):
        _whole(self)
        return _dict.items(self)

    def __eq__(self, other):
        _whole(self)
        return _dict.__eq__(self, other)

    def __ne__(self, other):
        _whole(self)
        return _dict.__ne__(self, other)

    __hash__ = None

    def __or__(self, other):
        _whole(self)
        return _dict.__or__(_dict(self), other)

    def __ror__(self, other):
        _whole(self)
        return _dict.__or__(_dict(other), _dict(self))

    def __repr__(self):
        _whole(self)
        return _dict.__repr__(self)

    def __str__(self):
        _whole(self)
        return _dict.__repr__(self)

    def __format__(self, spec):
        _whole(self)
        return _dict.__format__(self, spec)

    def __sizeof__(self):
        _whole(self)
        return _dict.__sizeof__(self)

    def copy(self):
        _whole(self)
        return _dict(_dict.items(self))

    def __copy__(self):
        _whole(self)
        return _dict(_dict.items(self))

    def __deepcopy__(self, memo):
        _whole(self)
        return _thaw(self)

    def __reduce_ex__(self, protocol):
        _whole(self)
        return (_dict, (_dict(_dict.items(self)),))


def freeze(value):
    """A read-only copy of a JSON value (the oracle's way; the guest builds these in Rust)."""
    if _isinstance(value, _dict):
        d = FrozenDict()
        _dict.update(d, ((k, freeze(v)) for k, v in value.items()))
        return d
    if _isinstance(value, _list):
        out = FrozenList()
        _list.extend(out, (freeze(v) for v in value))
        return out
    return value


def share(name, value):
    """context[name] as a call sees it: a SharedRoot over a read-only copy of `value`."""
    root = SharedRoot()
    _dict.update(root, ((k, freeze(v)) for k, v in value.items()))
    root._name = name
    root._key = ""
    root._pending = False
    return root
