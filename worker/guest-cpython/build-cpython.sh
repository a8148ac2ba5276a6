#!/usr/bin/env bash
# Builds CPython 3.11 for wasm32-wasi as static libraries, from Debian's own packages, and the
# guest's standard library table. Output, in $1 (default target/cpython-wasi):
#   libpython3.11.a, libmpdec.a, libexpat.a   the interpreter and its C modules
#   stdlib.bin                                 the standard library, compiled (stdlib.py)
#   VERSION                                    what was built, for `make` to tell it is current
#
# What it needs, installed with apt-get when missing (as root, as CI runs): clang-16, lld-16,
# llvm-16 (llvm-ar, llvm-profdata), wasi-libc, libclang-rt-16-dev-wasm32, libclang-rt-16-dev
# (the native profile runtime), and the source of Debian's python3.11 (a deb-src entry for
# bookworm is added when there is none). The source is upstream 3.11.2 (Debian's orig tarball);
# Debian's own patches are not applied (they are about Debian's install layout, not the
# interpreter).
#
# Profile-guided: wasm32 has no profile runtime in Debian's compiler-rt, so the profile comes
# from a native build of the same source with clang-16's front-end instrumentation, running
# CPython's own PGO training task (`python -m test --pgo`, the task `--enable-optimizations`
# uses; not this project's macros). Front-end profiles are keyed by function name and a hash of
# its body, so they apply to the wasm build wherever a function's source is the same on both
# targets (all but a few dozen functions behind platform #ifs, which clang then ignores).
#
# Runs in ~8 minutes on 2 cores; a second run with the same output is a no-op.
set -euo pipefail

OUT=$(realpath -m "${1:-target/cpython-wasi}")
HERE=$(cd "$(dirname "$0")" && pwd)
STAMP="cpython 3.11.2 wasm32-wasi; $(sha256sum "$0" "$HERE/stdlib.py" | sha256sum | cut -c1-16)"
if [ -f "$OUT/VERSION" ] && [ "$(cat "$OUT/VERSION")" = "$STAMP" ]; then
    exit 0
fi

need=()
for p in clang-16 lld-16 llvm-16 wasi-libc libclang-rt-16-dev-wasm32 libclang-rt-16-dev; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "the CPython guest needs: apt-get install -y ${need[*]}" >&2
        exit 1
    fi
    apt-get install -y "${need[@]}" || { apt-get update -qq && apt-get install -y "${need[@]}"; }
fi

SRC="$OUT/src"
mkdir -p "$SRC"
if [ ! -f "$SRC/Python-3.11.2/configure" ]; then
    if ! ls "$SRC"/python3.11_3.11.2.orig.tar.gz >/dev/null 2>&1; then
        if ! grep -rqs "deb-src" /etc/apt/sources.list /etc/apt/sources.list.d/ \
            && ! grep -rqs "Types: deb-src" /etc/apt/sources.list.d/; then
            if [ "$(id -u)" != 0 ]; then
                echo "the CPython guest needs a deb-src entry to fetch python3.11's source" >&2
                exit 1
            fi
            printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
                > /etc/apt/sources.list.d/bds-src.sources
            apt-get update -qq
        fi
        (cd "$SRC" && apt-get source --download-only python3.11=3.11.2-6+deb12u8 2>/dev/null \
            || apt-get source --download-only python3.11)
    fi
    tar -xzf "$SRC"/python3.11_3.11.2.orig.tar.gz -C "$SRC"
fi

BUILD_PYTHON=$(command -v python3.11 || command -v python3)

# The profile: a native, instrumented interpreter runs the training task. Without computed
# gotos, as on wasm, so the bytecode loop has the same shape (and the same profile hash).
# A failed test only means less profile; a training run that did not end by itself (a timeout:
# the process then never writes its profile) or a profile without the bytecode loop in it
# stops the build, rather than optimise the interpreter as if it were cold. A fixed hash seed
# and `-E` keep the run the same from one build to the next.
NATIVE="$OUT/build-native"
PROFILE="$OUT/cpython.profdata"
rm -rf "$NATIVE" "$PROFILE"
mkdir -p "$NATIVE/profraw"
(
    cd "$NATIVE"
    "$SRC/Python-3.11.2/configure" --without-computed-gotos --with-pymalloc --disable-ipv6 \
        CC=clang-16 CFLAGS="-O2 -fprofile-instr-generate" LDFLAGS="-fprofile-instr-generate" \
        > configure.log 2>&1 || { tail -30 configure.log >&2; exit 1; }
    make -j"$(nproc)" > make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
    status=0
    LLVM_PROFILE_FILE="$NATIVE/profraw/%p-%m.profraw" PYTHONHASHSEED=0 timeout 1200 \
        ./python -E -m test --pgo --timeout=600 > train.log 2>&1 || status=$?
    case $status in
        0) ;;
        # regrtest: 2 some tests failed, 3 some changed the environment; the run ended.
        2 | 3) echo "build-cpython.sh: training: $(grep -m1 'Tests result' train.log)" >&2 ;;
        *)
            echo "build-cpython.sh: the training run stopped (exit $status); tail of train.log:" >&2
            tail -20 train.log >&2
            exit 1
            ;;
    esac
)
llvm-profdata-16 merge --failure-mode=all -o "$PROFILE" "$NATIVE"/profraw/*.profraw
LOOP_COUNT=$(llvm-profdata-16 show --function=_PyEval_EvalFrameDefault "$PROFILE" \
    | sed -n 's/.*Function count: //p')
if [ "${LOOP_COUNT:-0}" -lt 100000 ]; then
    echo "build-cpython.sh: the profile has the bytecode loop ${LOOP_COUNT:-0} times" \
        "(a training run counts it millions of times); see $NATIVE/train.log" >&2
    exit 1
fi
rm -rf "$NATIVE"

BUILD="$OUT/build"
# The stamp differs (a first build, or this script changed): configure afresh.
rm -rf "$BUILD"
mkdir -p "$BUILD"
cd "$BUILD"
if [ ! -f Makefile ]; then
    # CPython's own cross-build settings for WASI; modules whose libraries the wasm sysroot lacks
    # (or that would reach outside the sandbox: sockets) are left out, so a host's zlib or uuid
    # headers found through clang's default include path cannot switch them on.
    # -O2 without LTO: -O3 with ThinLTO (bitcode objects, optimised when the guest crate links
    # them) measured within noise of it on the bundled macros (benches/profile.rs A/B, ±3% in
    # two runs), took ~2 more minutes to link, and nearly doubled a worker's RSS with 24
    # scripts loaded (271 → 440–560 MB). The profile made the bundled macros' median ~4%
    # faster inside the worker (2.8–6.1% in eleven A/B runs, both orders; benches/RESULTS.md).
    CONFIG_SITE="$SRC/Python-3.11.2/Tools/wasm/config.site-wasm32-wasi" \
    PKG_CONFIG=false \
    py_cv_module_zlib=n/a py_cv_module__lzma=n/a py_cv_module__bz2=n/a py_cv_module__uuid=n/a \
    py_cv_module__crypt=n/a py_cv_module__socket=n/a py_cv_module__sqlite3=n/a \
    py_cv_module__ssl=n/a py_cv_module__hashlib=n/a py_cv_module__ctypes=n/a \
    py_cv_module_readline=n/a py_cv_module__curses=n/a py_cv_module__curses_panel=n/a \
    py_cv_module__dbm=n/a py_cv_module__gdbm=n/a py_cv_module__tkinter=n/a \
    ac_cv_header_zlib_h=no \
    "$SRC/Python-3.11.2/configure" --host=wasm32-unknown-wasi --build=x86_64-pc-linux-gnu \
        --with-build-python="$BUILD_PYTHON" --with-pymalloc --disable-ipv6 --disable-test-modules \
        CC="clang-16 --target=wasm32-wasi" CPP="clang-16 --target=wasm32-wasi -E" \
        AR=llvm-ar-16 RANLIB=llvm-ranlib-16 \
        CFLAGS="-O2 -fprofile-instr-use=$PROFILE -Wno-profile-instr-unprofiled" \
        CFLAGS_NODIST="-Wno-error=int-conversion" > configure.log 2>&1 \
        || { tail -30 configure.log >&2; exit 1; }
fi
make -j"$(nproc)" libpython3.11.a Modules/_decimal/libmpdec/libmpdec.a Modules/expat/libexpat.a \
    > make.log 2>&1 || { tail -30 make.log >&2; exit 1; }
# Functions whose source differs between the native and the wasm build (platform #ifs) get no
# profile; clang says how many, file by file.
MISMATCHED=$(grep -o '[0-9]* ha[sv]e* mismatched data' make.log | awk '{n += $1} END {print n + 0}')
echo "build-cpython.sh: profile-guided; $MISMATCHED functions without a profile (source differs)"
cp libpython3.11.a Modules/_decimal/libmpdec/libmpdec.a Modules/expat/libexpat.a "$OUT/"
"$BUILD_PYTHON" "$HERE/stdlib.py" "$SRC/Python-3.11.2/Lib" "$OUT/stdlib.bin"
echo "$STAMP" > "$OUT/VERSION"
