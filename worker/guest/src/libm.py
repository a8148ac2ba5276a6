# RustPython computes math.exp, math.log and math.pow with Rust's libm crate on wasm, which
# differs from CPython's results in the last bit for ~5-10% of arguments. CPython calls the C
# library's functions, and the C library is in the guest (wasi-libc): for these three it gives
# CPython's results bit for bit (fixtures/math-table.json, engine/tests/math.rs). So they are
# answered by it, through the natives `_libc_exp`, `_libc_log` and `_libc_pow` (lib.rs).
#
# RustPython's own function still runs first and decides everything but the value: argument
# conversion, errors (domain, range, types), `log`'s base and integers too large for a float,
# infinities and NaNs. Run once before the snapshot, in the bootstrap's namespace.
import math as _math

_float = float
_int = int
_bool = bool
_type = type
_isfinite = _math.isfinite
_OverflowError = OverflowError


def _from_libc(name, native, arity):
    own = getattr(_math, name)

    def f(*args):
        value = own(*args)
        if _len(args) != arity or not _isfinite(value):
            return value
        xs = []
        for a in args:
            t = _type(a)
            # Exactly these: a subclass may convert itself another way (its own __float__).
            if t is not _float and t is not _int and t is not _bool:
                return value
            try:
                a = _float(a)
            except _OverflowError:
                return value
            if not _isfinite(a):
                return value
            xs.append(a)
        return native(*xs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = own.__doc__
    f.__module__ = "math"
    setattr(_math, name, f)


_from_libc("exp", _libc_exp, 1)
_from_libc("log", _libc_log, 1)
_from_libc("pow", _libc_pow, 2)
