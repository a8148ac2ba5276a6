# The guest's private helpers, run once at initialisation (before the snapshot is taken).
# This namespace is not a module: scripts cannot import it. Everything a helper needs is bound
# here at import time, so a script that rebinds a builtin in its own instance cannot change how
# its output is captured or how its error is described.
import sys
import builtins
import random

# Modules macros use, imported before the snapshot so no call pays for them.
import html, re, json, math, string, textwrap, unicodedata, datetime, hashlib, base64
import collections, itertools, functools, urllib.parse, traceback
import warnings

# Unseeded generators (`random.Random()`, `random.seed()`) draw their seed from os.urandom,
# as in CPython, so they follow the host's per-call seed instead of the interpreter's own RNG
# (whose state would otherwise be frozen in the snapshot and drift between calls).
_urandom = __import__("os").urandom
_int_from_bytes = int.from_bytes
_random_seed = random.Random.seed


def _seed(self, a=None, version=2):
    if a is None:
        a = _int_from_bytes(_urandom(32), "big")
    return _random_seed(self, a, version)


random.Random.seed = _seed

# Seeding costs ~6 µs, more than a small macro's whole call, so the call's seed is applied
# only when the call first uses the module-level functions of `random` (which draw from its
# hidden instance `_inst`): the numbers are the same as if it had been seeded up front.
_inst = random._inst
_pending = [None]


def _wrapped(name, replaces_state=False):
    # seed() and setstate() replace the state: the pending seed no longer matters. Every
    # other function draws: the pending seed is applied first.
    real = getattr(_inst, name)

    def f(*args, **kwargs):
        if replaces_state:
            _pending[0] = None
        elif _pending[0] is not None:
            seed, _pending[0] = _pending[0], None
            _random_seed(_inst, seed)
        return real(*args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = real.__doc__
    return f


for _name in dir(random):
    if _name.startswith("_"):
        continue
    if getattr(getattr(random, _name), "__self__", None) is _inst:
        setattr(random, _name, _wrapped(_name, _name in ("seed", "setstate")))

_str = str
_len = len
_type = type
_isinstance = isinstance
_compile = compile
_exec = exec
_join = "".join
_SyntaxError = SyntaxError
_MemoryError = MemoryError
_BaseException = BaseException


class Capture:
    """Where print() goes during a load or a call: kept up to `room` characters."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, room):
        self.parts = []
        self.room = room
        self.dropped = 0

    def write(self, s):
        if not _isinstance(s, _str):
            raise TypeError("write() argument must be str, not " + _type(s).__name__)
        n = _len(s)
        if n <= self.room:
            self.parts.append(s)
            self.room -= n
        else:
            if self.room > 0:
                self.parts.append(s[: self.room])
            self.dropped += n - self.room if self.room > 0 else n
            self.room = 0
        return n

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    def seekable(self):
        return False


# Warnings a load or call raised: (category, message, file, line), each once, at most
# MAX_WARNINGS. Every warning is shown ("always": the registry of an instance that lives across
# calls must not hide a second call's warning), except the categories CPython ignores by default.
MAX_WARNINGS = 16
MAX_WARNING_CHARS = 1000
_warned = []
_tuple = tuple


def _showwarning(message, category, filename, lineno, file=None, line=None):
    entry = (_str(category.__name__), _str(message)[:MAX_WARNING_CHARS], _str(filename), lineno or 0)
    if _len(_warned) < MAX_WARNINGS and entry not in _warned:
        _warned.append(entry)


warnings.showwarning = _showwarning
warnings.simplefilter("always")
for _category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
    warnings.filterwarnings("ignore", category=_category)

install_utilities()


# One capture for the instance's whole life, reset by each load and call, so that a script
# holding on to `sys.stdout` (`out = sys.stdout` at load) writes into the current call, as it
# would in CPython. The CPython guest does what `begin` does natively (worker/guest-cpython).
_capture = Capture(0)


def begin(room, seed):
    _warned.clear()
    _capture.parts = []
    _capture.room = room
    _capture.dropped = 0
    sys.stdout = _capture
    sys.stderr = _capture
    _pending[0] = seed
    return _capture


def collect(capture):
    warned = _tuple(_warned)
    _warned.clear()
    return (_join(capture.parts), capture.dropped, warned)


def load(source, filename, name, compile_only, modules):
    code = _compile(source, filename, "exec", dont_inherit=True)
    if compile_only:
        return None
    set_modules(modules)
    # As CPython always has it: the program's name (argparse's `prog` reads it).
    sys.argv = [filename]
    namespace = {"__name__": name, "__file__": filename, "__builtins__": builtins}
    _exec(code, namespace)
    return namespace


MAX_FRAMES = 64
_OverflowError = OverflowError
# On the 32-bit guest a size past the address space raises this (as on 32-bit CPython); it is
# the guest's way of saying the allocation cannot fit, so it is reported as a memory error.
_TOO_BIG = "cannot fit 'int' into an index-sized integer"


def describe(e):
    frames = []
    tb = e.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        # The guest's own frames and the import machinery's are not the script's business.
        if code.co_filename != "<bds>" and not code.co_filename.startswith("<frozen "):
            frames.append((code.co_filename, tb.tb_lineno, code.co_name))
        tb = tb.tb_next
    if _len(frames) > MAX_FRAMES:
        # Deep recursion: keep both ends, like CPython's "[Previous line repeated N more times]".
        half = MAX_FRAMES // 2
        skipped = _len(frames) - MAX_FRAMES
        frames = frames[:half] + [("...", 0, "[%d frames omitted]" % skipped)] + frames[-half:]
    line = 0
    column = 0
    if _isinstance(e, _SyntaxError):
        message = _str(e.msg)
        line = e.lineno or 0
        column = e.offset or 0
    else:
        try:
            message = _str(e)
        except _BaseException:
            message = "<exception str() failed>"
    memory = _isinstance(e, _MemoryError) or (_isinstance(e, _OverflowError) and message == _TOO_BIG)
    return (_type(e).__name__, message, line, column, frames, memory)
