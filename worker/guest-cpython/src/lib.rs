//! The bds-script CPython guest: CPython 3.11 compiled to `wasm32-wasip1`, behind the same five
//! exports as the RustPython guest (`worker/guest`), so the worker runs either unchanged:
//! - `bds_init()`: starts the interpreter, imports the stdlib modules macros use and the private
//!   bootstrap (the same `bootstrap.py`, `shared.py` and `utilities.py` as the RustPython guest).
//!   The worker runs it once and snapshots the result (wizer).
//! - `bds_alloc(len) -> ptr` / `bds_free(ptr, len)`: buffers the worker writes requests into.
//! - `bds_load(ptr, len) -> u64`: compiles (and executes) one script, a [`bds_ipc::GuestLoad`].
//! - `bds_call(ptr, len) -> u64`: calls the loaded script's entry point, a [`bds_ipc::GuestCall`].
//!
//! `bds_load` and `bds_call` take ownership of their input buffer and return `ptr << 32 | len`
//! of an encoded [`bds_ipc::GuestOutcome`], valid until the next export call.
//!
//! The interpreter has no filesystem: its standard library is a table compiled into the guest
//! (`stdlib.py` writes it, `importer.py` imports from it), installed in CPython's core
//! initialisation phase, before `encodings` is first imported. String hashing is not randomised
//! (`PYTHONHASHSEED=0`): the snapshot would freeze any random key anyway, and a fixed one makes
//! set order reproducible. JSON crosses natively ([`convert`] in, [`emit`] out).

use std::cell::RefCell;

use bds_ipc::guest_side::{self, fail};
use bds_ipc::{ErrorInfo, ErrorKind, GuestCall, GuestLoad, GuestOutcome, TraceFrame, Warning};
use pyo3_ffi as ffi;

mod convert;
mod emit;
mod native;
mod py;
mod shared;

use py::{Obj, PyErr, PyResult};

/// The context key of a macro call's metadata.
const CALL: &str = "call";

const IMPORTER: &str = include_str!("importer.py");
const GLUE: &str = include_str!("glue.py");
const BOOTSTRAP: &str = include_str!("../../guest/src/bootstrap.py");
/// Read-only shared data with read tracking; the same file runs in the CPython oracle.
const SHARED: &str = include_str!("../../guest/src/shared.py");
/// The finder of utility modules; the same file runs in the CPython oracle.
const UTILITIES: &str = include_str!("../../guest/src/utilities.py");

unsafe extern "C" {
    /// CPython's second initialisation phase (after `_init_main = 0`).
    fn _Py_InitializeMain() -> ffi::PyStatus;
}

struct Helpers {
    /// `bootstrap.py`'s `collect`, for a call that printed or warned.
    collect: Obj,
    /// What `bootstrap.py`'s `begin` works on, which [`begin`] does natively: the instance's
    /// one `Capture`, the `_warned` and `_pending` lists, and `sys`'s namespace.
    capture: Obj,
    warned: Obj,
    pending: Obj,
    sysdict: Obj,
    load: Obj,
    describe: Obj,
    /// `shared.py`'s `_reads` (a set) and `_roots` (a list), reset and read from here.
    reads: Obj,
    roots: Obj,
}

struct State {
    helpers: Helpers,
    /// The loaded script's globals, once `bds_load` succeeded.
    module: Option<Obj>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn status(what: &str, st: ffi::PyStatus) {
    // SAFETY: reading a status CPython returned.
    if unsafe { ffi::PyStatus_Exception(st) } != 0 {
        panic!("{what}: {} ({})", py::c(st.err_msg), py::c(st.func));
    }
}

fn fatal(what: &str, e: PyErr) -> ! {
    panic!("{what}: {}: {}", e.0.type_name(), describe_plain(&e))
}

fn describe_plain(e: &PyErr) -> String {
    // SAFETY: `str()` of a live exception.
    match Obj::owned(unsafe { ffi::PyObject_Str(e.0.as_ptr()) }) {
        Ok(s) => s.lossy(),
        Err(_) => String::from("<exception str() failed>"),
    }
}

fn new_namespace() -> Obj {
    let ns = Obj::dict().unwrap_or_else(|e| fatal("cannot make a namespace", e));
    // SAFETY: the interpreter is initialised; builtins are borrowed.
    let builtins = Obj::borrowed(unsafe { ffi::PyEval_GetBuiltins() }).expect("builtins exist");
    ns.dict_set("__builtins__", &builtins)
        .unwrap_or_else(|e| fatal("cannot set __builtins__", e));
    ns
}

fn build_state() -> State {
    // SAFETY: the documented initialisation sequence, run once on this thread.
    unsafe {
        let mut config: ffi::PyConfig = std::mem::zeroed();
        ffi::PyConfig_InitIsolatedConfig(&mut config);
        config.site_import = 0;
        config.write_bytecode = 0;
        config.install_signal_handlers = 0;
        config.use_hash_seed = 1;
        config.hash_seed = 0;
        config.user_site_directory = 0;
        config.module_search_paths_set = 1;
        config.pathconfig_warnings = 0;
        config.safe_path = 1;
        config.parse_argv = 0;
        config._init_main = 0;
        let st = ffi::Py_InitializeFromConfig(&config);
        ffi::PyConfig_Clear(&mut config);
        status("CPython's core does not start", st);
    }
    let importer = new_namespace();
    native::install(&importer).unwrap_or_else(|e| fatal("cannot install the natives", e));
    py::exec(IMPORTER, c"<bds>", &importer).unwrap_or_else(|e| fatal("importer.py failed", e));
    // SAFETY: the core phase succeeded; this runs the rest of the initialisation.
    status("CPython does not start", unsafe { _Py_InitializeMain() });

    let scope = new_namespace();
    native::install(&scope).unwrap_or_else(|e| fatal("cannot install the natives", e));
    for (name, source) in [
        ("shared.py", SHARED),
        ("utilities.py", UTILITIES),
        ("bootstrap.py", BOOTSTRAP),
        ("glue.py", GLUE),
    ] {
        py::exec(source, c"<bds>", &scope).unwrap_or_else(|e| fatal(name, e));
    }
    // shared.py's own `_fill` is the oracle's; the guest's is native.
    native::install(&scope).unwrap_or_else(|e| fatal("cannot install the natives", e));
    let get = |name: &str| {
        scope
            .dict_get(&py::cstr(name))
            .unwrap_or_else(|| panic!("bootstrap lacks {name}"))
    };
    shared::install(shared::Classes {
        root: get("SharedRoot"),
        dict: get("FrozenDict"),
        list: get("FrozenList"),
        reads: get("_reads"),
    })
    .unwrap_or_else(|e| fatal("cannot install the shared classes", e));
    // SAFETY: `sys` exists once the interpreter runs; its namespace is borrowed.
    let sysdict = unsafe {
        Obj::borrowed(ffi::PyModule_GetDict(ffi::PyImport_AddModule(
            c"sys".as_ptr(),
        )))
    }
    .expect("sys has a namespace");
    State {
        helpers: Helpers {
            collect: get("collect"),
            capture: get("_capture"),
            warned: get("_warned"),
            pending: get("_pending"),
            sysdict,
            load: get("load"),
            describe: get("describe"),
            reads: get("_reads"),
            roots: get("_roots"),
        },
        module: None,
    }
}

/// Initialises the interpreter. Run once, before the snapshot.
#[unsafe(no_mangle)]
pub extern "C" fn bds_init() {
    let state = build_state();
    STATE.with(|s| *s.borrow_mut() = Some(state));
}

#[unsafe(no_mangle)]
pub extern "C" fn bds_alloc(len: u32) -> *mut u8 {
    guest_side::alloc(len)
}

/// # Safety
/// `ptr` and `len` must come from one `bds_alloc` call, freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bds_free(ptr: *mut u8, len: u32) {
    // SAFETY: forwarded contract.
    unsafe { guest_side::free(ptr, len) }
}

/// # Safety
/// The input buffer comes from `bds_alloc(len)`, filled by the worker.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bds_load(ptr: *mut u8, len: u32) -> u64 {
    // SAFETY: forwarded contract.
    let input = unsafe { guest_side::take_input(ptr, len) };
    let outcome = match GuestLoad::decode(&input) {
        Ok(req) => with_state(|st| load(st, &req)),
        Err(e) => fail(ErrorKind::AbiViolation, format!("bad load request: {e}")),
    };
    guest_side::respond(&outcome)
}

/// # Safety
/// The input buffer comes from `bds_alloc(len)`, filled by the worker.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bds_call(ptr: *mut u8, len: u32) -> u64 {
    // SAFETY: forwarded contract.
    let input = unsafe { guest_side::take_input(ptr, len) };
    let outcome = match GuestCall::decode(&input) {
        Ok(req) => with_state(|st| call(st, &req)),
        Err(e) => fail(ErrorKind::AbiViolation, format!("bad call request: {e}")),
    };
    guest_side::respond(&outcome)
}

fn with_state(f: impl FnOnce(&mut State) -> GuestOutcome) -> GuestOutcome {
    STATE.with(|s| match s.borrow_mut().as_mut() {
        Some(st) => f(st),
        None => fail(ErrorKind::WorkerCrash, "guest used before bds_init"),
    })
}

fn errored(helpers: &Helpers, e: PyErr) -> GuestOutcome {
    GuestOutcome::failed(describe(helpers, &e, ErrorKind::Runtime))
}

fn load(st: &mut State, req: &GuestLoad) -> GuestOutcome {
    let helpers = &st.helpers;
    if let Err(e) = begin(helpers, req.max_stdout_bytes, 0) {
        return errored(helpers, e);
    }
    let module_name = req.name.trim_end_matches(".py").to_owned();
    let r = (|| {
        let modules = Obj::dict()?;
        for m in &req.modules {
            modules.dict_set(&m.name, &Obj::str(&m.source)?)?;
        }
        helpers.load.call(vec![
            Obj::str(&req.source)?,
            Obj::str(&req.name)?,
            Obj::str(&module_name)?,
            Obj::bool(req.compile_only),
            modules,
        ])
    })();
    let (stdout, truncated, _) = collect(helpers, req.max_stdout_bytes);
    let result = match r {
        Ok(ns) => {
            // SAFETY: a type check on a live object.
            if unsafe { ffi::PyDict_Check(ns.as_ptr()) } != 0 {
                st.module = Some(ns);
            }
            Ok(Vec::new())
        }
        Err(e) => Err(describe(helpers, &e, ErrorKind::Runtime)),
    };
    GuestOutcome {
        result,
        stdout,
        stdout_truncated: truncated,
        reads: Vec::new(),
        warnings: Vec::new(),
    }
}

fn call(st: &mut State, req: &GuestCall) -> GuestOutcome {
    let Some(module) = st.module.clone() else {
        return fail(ErrorKind::NotLoaded, "no script is loaded in this guest");
    };
    let helpers = &st.helpers;
    // The context straight into Python objects; `call` (a macro call's metadata) into a
    // read-only root that records what the call reads of it.
    let classes = match shared::classes() {
        Ok(c) => c,
        Err(e) => return errored(helpers, e),
    };
    let (plain, frozen) = (convert::Build::plain(), convert::Build::frozen(&classes));
    let read = convert::context(&req.context, CALL, &plain, &frozen);
    if let Some(e) = plain.take_error().or_else(|| frozen.take_error()) {
        return errored(helpers, e);
    }
    let ctx = match read {
        Ok(Some(ctx)) => ctx,
        Ok(None) => return fail(ErrorKind::AbiViolation, "the context must be a JSON object"),
        Err(e) => {
            return fail(
                ErrorKind::AbiViolation,
                format!("the context is not JSON: {e}"),
            );
        }
    };
    let func = match Obj::str(&req.entry).and_then(|name| module.dict_get_obj(&name)) {
        // SAFETY: a check on a live object.
        Ok(Some(f)) if unsafe { ffi::PyCallable_Check(f.as_ptr()) } != 0 => f,
        Ok(Some(_)) => {
            return fail(
                ErrorKind::Runtime,
                format!("`{}` is not a function", req.entry),
            );
        }
        Ok(None) => {
            return fail(
                ErrorKind::Runtime,
                format!("the script defines no function `{}`", req.entry),
            );
        }
        Err(e) => return errored(helpers, e),
    };
    if let Err(e) = begin(helpers, req.max_stdout_bytes, req.seed) {
        return errored(helpers, e);
    }
    let arg = ctx.dict;
    let prepared = shared::roots_for(&req.shared).and_then(|mut roots| {
        for (r, obj) in req.shared.iter().zip(&roots) {
            arg.dict_set(&r.name, obj)?;
        }
        if let Some((root, true)) = ctx.root {
            roots.push(root);
        }
        // SAFETY: `_reads` is a set and `_roots` a list, from the bootstrap.
        unsafe {
            if ffi::PySet_Size(helpers.reads.as_ptr()) > 0 {
                py::check(ffi::PySet_Clear(helpers.reads.as_ptr()))?;
            }
            py::check(ffi::PyList_SetSlice(
                helpers.roots.as_ptr(),
                0,
                ffi::PY_SSIZE_T_MAX,
                std::ptr::null_mut(),
            ))?;
            for r in roots {
                py::check(ffi::PyList_Append(helpers.roots.as_ptr(), r.as_ptr()))?;
            }
        }
        Ok(())
    });
    let r = prepared.and_then(|()| func.call1(&arg));
    let (stdout, stdout_truncated, warnings) = collect(helpers, req.max_stdout_bytes);
    let reads = take_reads(helpers);
    let result = match r {
        Ok(value) => emit::to_result_json(&value, req),
        Err(e) => Err(describe(helpers, &e, ErrorKind::Runtime)),
    };
    GuestOutcome {
        warnings: if result.is_ok() { warnings } else { Vec::new() },
        result,
        stdout,
        stdout_truncated,
        reads,
    }
}

/// What the call read of its shared values: the `(root, key | None)` pairs `shared.py`
/// recorded, sorted, and the record cleared.
fn take_reads(helpers: &Helpers) -> Vec<bds_ipc::Read> {
    let set = helpers.reads.as_ptr();
    // SAFETY: a set the bootstrap made.
    if unsafe { ffi::PySet_Size(set) } <= 0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    // SAFETY: iterating a set of tuples the bootstrap fills, then clearing it.
    unsafe {
        if let Ok(it) = Obj::owned(ffi::PyObject_GetIter(set)) {
            while let Ok(Some(item)) = py::next(&it) {
                if let Some(t) = item.tuple_items()
                    && let [root, key] = t.as_slice()
                    && let Some(root) = root.to_str()
                {
                    out.push(bds_ipc::Read {
                        root: root.to_owned(),
                        key: key.to_str().map(str::to_owned),
                    });
                }
            }
        }
        ffi::PyErr_Clear();
        ffi::PySet_Clear(set);
    }
    out.sort();
    out
}

/// `bootstrap.py`'s `begin(room, seed)`, natively: the capture emptied with `room` characters
/// of space, installed as `sys.stdout` and `sys.stderr`, no warnings yet, `seed` pending.
fn begin(helpers: &Helpers, room: u32, seed: u64) -> PyResult<()> {
    let capture = &helpers.capture;
    // SAFETY: `_warned` and `_pending` are lists from the bootstrap, `sysdict` a dict; the
    // set-item calls steal the new references they are given.
    unsafe {
        if ffi::PyList_GET_SIZE(helpers.warned.as_ptr()) > 0 {
            py::check(ffi::PyList_SetSlice(
                helpers.warned.as_ptr(),
                0,
                ffi::PY_SSIZE_T_MAX,
                std::ptr::null_mut(),
            ))?;
        }
        capture.setattr(c"parts", &Obj::owned(ffi::PyList_New(0))?)?;
        capture.setattr(c"room", &Obj::uint(u64::from(room))?)?;
        capture.setattr(c"dropped", &Obj::uint(0)?)?;
        for name in [c"stdout", c"stderr"] {
            let name = py::interned(name)?;
            let now = ffi::PyDict_GetItemWithError(helpers.sysdict.as_ptr(), name.as_ptr());
            if !capture.is(now) {
                py::check(ffi::PyDict_SetItem(
                    helpers.sysdict.as_ptr(),
                    name.as_ptr(),
                    capture.as_ptr(),
                ))?;
            }
        }
        py::check(ffi::PyList_SetItem(
            helpers.pending.as_ptr(),
            0,
            Obj::uint(seed)?.into_ptr(),
        ))?;
    }
    Ok(())
}

/// The captured stdout, cut to `max_bytes` on a character boundary, with a marker when cut,
/// and the warnings raised. A call that printed nothing and raised no warning (most) runs no
/// Python here.
fn collect(helpers: &Helpers, max_bytes: u32) -> (String, bool, Vec<Warning>) {
    let capture = &helpers.capture;
    let quiet = || -> Option<bool> {
        let parts = capture.getattr(c"parts").ok()?;
        let dropped = capture.getattr(c"dropped").ok()?.to_u64()?;
        // SAFETY: type checks and sizes of live objects.
        unsafe {
            Some(
                ffi::PyList_CheckExact(parts.as_ptr()) != 0
                    && ffi::PyList_GET_SIZE(parts.as_ptr()) == 0
                    && dropped == 0
                    && ffi::PyList_GET_SIZE(helpers.warned.as_ptr()) == 0,
            )
        }
    };
    if quiet() == Some(true) {
        return (String::new(), false, Vec::new());
    }
    // SAFETY: clears what a failed attribute read above may have raised.
    unsafe { ffi::PyErr_Clear() };
    let mut warnings = Vec::new();
    let (text, dropped) = match helpers.collect.call1(capture) {
        Ok(t) => match t.tuple_items() {
            Some(items) if items.len() == 3 => {
                if let Some(list) = items[2].tuple_items() {
                    warnings = list.iter().filter_map(warning).collect();
                }
                (items[0].lossy(), items[1].to_u64().unwrap_or(0))
            }
            _ => (String::new(), 0),
        },
        Err(_) => (String::new(), 0),
    };
    let (text, truncated) = guest_side::cut_stdout(text, dropped, max_bytes);
    (text, truncated, warnings)
}

/// One `(category, message, file, line)` entry of `bootstrap.py`'s `_warned`.
fn warning(o: &Obj) -> Option<Warning> {
    let t = o.tuple_items()?;
    let [category, message, file, line] = t.as_slice() else {
        return None;
    };
    Some(Warning {
        category: category.lossy(),
        message: message.lossy(),
        file: file.lossy(),
        line: line
            .to_u64()
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(0),
    })
}

fn describe(helpers: &Helpers, e: &PyErr, default: ErrorKind) -> ErrorInfo {
    let fallback = || {
        ErrorInfo::plain(
            default,
            format!("{}: {}", e.0.type_name(), describe_plain(e)),
        )
    };
    let Ok(t) = helpers.describe.call(vec![e.0.clone()]) else {
        return fallback();
    };
    let Some(items) = t.tuple_items() else {
        return fallback();
    };
    if items.len() != 6 {
        return fallback();
    }
    let n = |o: &Obj| o.to_u64().and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
    let exc_type = items[0].lossy();
    let mut traceback = Vec::new();
    if let Some(list) = items[4].list_items() {
        for f in list {
            if let Some(f) = f.tuple_items()
                && f.len() == 3
            {
                traceback.push(TraceFrame {
                    file: f[0].lossy(),
                    line: n(&f[1]),
                    function: f[2].lossy(),
                });
            }
        }
    }
    // SAFETY: the `True` singleton.
    let memory = items[5].is(unsafe { ffi::Py_True() });
    let kind = guest_side::error_kind(&exc_type, memory, n(&items[2]), traceback.len(), default);
    let line = match n(&items[2]) {
        0 => traceback.last().map_or(0, |f| f.line),
        l => l,
    };
    ErrorInfo {
        kind,
        exc_type,
        message: items[1].lossy(),
        line,
        column: n(&items[3]),
        traceback,
    }
}
