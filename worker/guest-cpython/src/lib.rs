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
//! set order reproducible. JSON crosses natively ([`convert`]).

use std::cell::RefCell;

use bds_ipc::guest_side::{self, fail};
use bds_ipc::{ErrorInfo, ErrorKind, GuestCall, GuestLoad, GuestOutcome, TraceFrame, Warning};
use pyo3_ffi as ffi;

mod convert;
mod native;
mod py;
mod shared;

use py::{Obj, PyErr};

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
    begin: Obj,
    collect: Obj,
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
    });
    State {
        helpers: Helpers {
            begin: get("begin"),
            collect: get("collect"),
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
    GuestOutcome {
        result: Err(describe(helpers, &e, ErrorKind::Runtime)),
        stdout: String::new(),
        stdout_truncated: false,
        reads: Vec::new(),
        warnings: Vec::new(),
    }
}

fn load(st: &mut State, req: &GuestLoad) -> GuestOutcome {
    let helpers = &st.helpers;
    let begun = Obj::uint(u64::from(req.max_stdout_bytes))
        .and_then(|room| helpers.begin.call(vec![room, Obj::uint(0)?]));
    let capture = match begun {
        Ok(c) => c,
        Err(e) => return errored(helpers, e),
    };
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
    let (stdout, truncated, _) = collect(helpers, &capture, req.max_stdout_bytes);
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
    // The context straight into Python objects, but for `call` (a macro call's metadata),
    // which becomes a read-only root below.
    let (arg, call_meta) = match convert::context(&req.context, CALL) {
        Ok(Some(parts)) => parts,
        Ok(None) => return fail(ErrorKind::AbiViolation, "the context must be a JSON object"),
        Err(e) => {
            return fail(
                ErrorKind::AbiViolation,
                format!("the context is not JSON: {e}"),
            );
        }
    };
    let func = match module.dict_get(&py::cstr(&req.entry)) {
        // SAFETY: a check on a live object.
        Some(f) if unsafe { ffi::PyCallable_Check(f.as_ptr()) } != 0 => f,
        Some(_) => {
            return fail(
                ErrorKind::Runtime,
                format!("`{}` is not a function", req.entry),
            );
        }
        None => {
            return fail(
                ErrorKind::Runtime,
                format!("the script defines no function `{}`", req.entry),
            );
        }
    };
    let begun = Obj::uint(u64::from(req.max_stdout_bytes))
        .and_then(|room| helpers.begin.call(vec![room, Obj::uint(req.seed)?]));
    let capture = match begun {
        Ok(c) => c,
        Err(e) => return errored(helpers, e),
    };
    let prepared = shared::roots_for(&req.shared).and_then(|mut roots| {
        for (r, obj) in req.shared.iter().zip(&roots) {
            arg.dict_set(&r.name, obj)?;
        }
        // `call` (a macro call's metadata) is read-only and records its reads too.
        match &call_meta {
            Some(call @ serde_json::Value::Object(_)) => {
                let root = shared::local_root(CALL, call)?;
                arg.dict_set(CALL, &root)?;
                roots.push(root);
            }
            // Not an object (the engine never sends one): passed on as it is.
            Some(other) => arg.dict_set(CALL, &convert::json_to_py(other)?)?,
            None => {}
        }
        // SAFETY: `_reads` is a set and `_roots` a list, from the bootstrap.
        unsafe {
            py::check(ffi::PySet_Clear(helpers.reads.as_ptr()))?;
            let list = Obj::owned(ffi::PyList_New(0))?;
            for r in roots {
                py::check(ffi::PyList_Append(list.as_ptr(), r.as_ptr()))?;
            }
            py::check(ffi::PyList_SetSlice(
                helpers.roots.as_ptr(),
                0,
                ffi::PY_SSIZE_T_MAX,
                list.as_ptr(),
            ))?;
        }
        Ok(())
    });
    let r = prepared.and_then(|()| func.call(vec![arg]));
    let (stdout, stdout_truncated, warnings) = collect(helpers, &capture, req.max_stdout_bytes);
    let reads = take_reads(helpers);
    let result = match r {
        Ok(value) => convert::to_result_json(&value, req),
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
    let mut out = Vec::new();
    // SAFETY: iterating a set of tuples the bootstrap fills, then clearing it.
    unsafe {
        if let Ok(it) = Obj::owned(ffi::PyObject_GetIter(helpers.reads.as_ptr())) {
            while let Ok(item) = Obj::owned(ffi::PyIter_Next(it.as_ptr())) {
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
        ffi::PySet_Clear(helpers.reads.as_ptr());
    }
    out.sort();
    out
}

/// The captured stdout, cut to `max_bytes` on a character boundary, with a marker when cut,
/// and the warnings raised.
fn collect(helpers: &Helpers, capture: &Obj, max_bytes: u32) -> (String, bool, Vec<Warning>) {
    let mut warnings = Vec::new();
    let (text, dropped) = match helpers.collect.call(vec![capture.clone()]) {
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
