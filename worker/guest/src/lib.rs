//! The bds-script guest: a RustPython interpreter compiled to `wasm32-wasip1`.
//!
//! The worker instantiates this module inside wasmtime and talks to it through five exports:
//! - `bds_init()`: builds the interpreter, imports the stdlib modules macros use and the private
//!   bootstrap. The worker runs it once and snapshots the result (wizer), so no instance pays
//!   for it again.
//! - `bds_alloc(len) -> ptr` / `bds_free(ptr, len)`: buffers the worker writes requests into.
//! - `bds_load(ptr, len) -> u64`: compiles (and executes) one script, a [`bds_ipc::GuestLoad`].
//! - `bds_call(ptr, len) -> u64`: calls the loaded script's entry point, a [`bds_ipc::GuestCall`].
//!
//! `bds_load` and `bds_call` take ownership of their input buffer and return `ptr << 32 | len`
//! of an encoded [`bds_ipc::GuestOutcome`], valid until the next export call.
//!
//! JSON crosses as text and is turned into Python objects (and back) here in Rust ([`convert`]
//! in, [`emit`] out), not by Python's `json` module: faster, and a script cannot change how it
//! is done. A result is checked
//! before it leaves: a `dict` at the top, string keys, finite floats, integers of at most 4,300 digits,
//! nesting and size within the call's limits.

use std::cell::RefCell;

use bds_ipc::guest_side::{self, fail};
use bds_ipc::{ErrorInfo, ErrorKind, GuestCall, GuestLoad, GuestOutcome, TraceFrame, Warning};

/// The context key of a macro call's metadata.
const CALL: &str = "call";
use rustpython_vm::builtins::{
    PyBaseExceptionRef, PyDict, PyDictRef, PyInt, PyList, PySet, PyStr, PyTuple,
};
use rustpython_vm::compiler::Mode;
use rustpython_vm::{AsObject, Interpreter, PyObjectRef, PyRef, Settings, VirtualMachine};

mod convert;
mod emit;
mod markdown;
mod shared;

const BOOTSTRAP: &str = include_str!("bootstrap.py");
/// Read-only shared data with read tracking; the same file runs in the CPython oracle.
const SHARED: &str = include_str!("shared.py");
/// The finder of utility modules; the same file runs in the CPython oracle.
const UTILITIES: &str = include_str!("utilities.py");
/// `math.exp`, `math.log` and `math.pow` from the C library, as CPython computes them.
const LIBM: &str = include_str!("libm.py");

/// The C library's (wasi-libc's) functions, which CPython's `math` calls.
mod libc_math {
    unsafe extern "C" {
        pub(crate) fn exp(x: f64) -> f64;
        pub(crate) fn log(x: f64) -> f64;
        pub(crate) fn pow(x: f64, y: f64) -> f64;
    }
}

struct Helpers {
    begin: PyObjectRef,
    collect: PyObjectRef,
    load: PyObjectRef,
    describe: PyObjectRef,
    /// `shared.py`'s `_reads` (what the call read) and `_roots` (the call's roots), reset and
    /// read from here: two Python calls less on every call.
    reads: PyRef<PySet>,
    roots: PyRef<PyList>,
}

struct State {
    interp: Interpreter,
    helpers: Helpers,
    /// The loaded script's globals, once `bds_load` succeeded.
    module: Option<PyDictRef>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

fn build_state() -> State {
    let mut settings = Settings::default();
    settings.import_site = false;
    settings.ignore_environment = true;
    settings.isolated = true;
    settings.safe_path = true;
    settings.write_bytecode = false;
    settings.user_site_directory = false;
    settings.install_signal_handlers = false;
    let builder = Interpreter::builder(settings);
    let defs = rustpython_stdlib::stdlib_module_defs(&builder.ctx);
    let interp = builder
        .add_native_modules(&defs)
        .add_frozen_modules(rustpython_pylib::FROZEN_STDLIB)
        .build();
    let helpers = interp.enter(|vm| {
        markdown::install(vm).unwrap_or_else(|_| panic!("cannot install bds_markdown"));
        let scope = vm.new_scope_with_builtins();
        // SAFETY (the three natives): pure C functions of floats.
        let natives = [
            (
                "_libc_exp",
                vm.new_function("_libc_exp", |x: f64| unsafe { libc_math::exp(x) })
                    .into(),
            ),
            (
                "_libc_log",
                vm.new_function("_libc_log", |x: f64| unsafe { libc_math::log(x) })
                    .into(),
            ),
            (
                "_libc_pow",
                vm.new_function("_libc_pow", |x: f64, y: f64| unsafe {
                    libc_math::pow(x, y)
                })
                .into(),
            ),
        ];
        for (name, f) in natives {
            scope
                .globals
                .set_item(name, f, vm)
                .unwrap_or_else(|_| panic!("cannot install {name}"));
        }
        for source in [SHARED, UTILITIES, BOOTSTRAP, LIBM] {
            let code = vm
                .compile(source, Mode::Exec, "<bds>")
                .unwrap_or_else(|e| panic!("bootstrap does not compile: {e:?}"));
            if let Err(e) = vm.run_code_obj(code, scope.clone()) {
                let mut text = String::new();
                let _ = vm.write_exception(&mut text, &e);
                panic!("bootstrap failed: {text}");
            }
        }
        let fill = vm.new_function("_fill", shared::fill);
        scope
            .globals
            .set_item("_fill", fill.into(), vm)
            .unwrap_or_else(|_| panic!("cannot install _fill"));
        let get = |name: &str| {
            scope
                .globals
                .get_item_opt(name, vm)
                .ok()
                .flatten()
                .unwrap_or_else(|| panic!("bootstrap lacks {name}"))
        };
        let class = |name: &str| {
            get(name)
                .downcast::<rustpython_vm::builtins::PyType>()
                .unwrap_or_else(|_| panic!("{name} is not a class"))
        };
        shared::install(shared::Classes {
            root: get("SharedRoot"),
            dict: class("FrozenDict"),
            list: class("FrozenList"),
        });
        Helpers {
            begin: get("begin"),
            collect: get("collect"),
            load: get("load"),
            describe: get("describe"),
            reads: get("_reads")
                .downcast::<PySet>()
                .unwrap_or_else(|_| panic!("_reads is not a set")),
            roots: get("_roots")
                .downcast::<PyList>()
                .unwrap_or_else(|_| panic!("_roots is not a list")),
        }
    });
    State {
        interp,
        helpers,
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

fn load(st: &mut State, req: &GuestLoad) -> GuestOutcome {
    let helpers = &st.helpers;
    let (result, stdout, truncated) = st.interp.enter(|vm| {
        let capture = match helpers
            .begin
            .call((req.max_stdout_bytes as usize, 0u64), vm)
        {
            Ok(c) => c,
            Err(e) => {
                return (
                    Err(describe(vm, helpers, &e, ErrorKind::Runtime)),
                    String::new(),
                    false,
                );
            }
        };
        let module_name = req.name.trim_end_matches(".py").to_owned();
        let modules = vm.ctx.new_dict();
        for m in &req.modules {
            // Setting a str key on a fresh dict cannot fail.
            let _ = modules.set_item(
                m.name.as_str(),
                vm.ctx.new_str(m.source.as_str()).into(),
                vm,
            );
        }
        let r = helpers.load.call(
            (
                req.source.clone(),
                req.name.clone(),
                module_name,
                req.compile_only,
                modules,
            ),
            vm,
        );
        let (stdout, truncated, _) = collect(vm, helpers, &capture, req.max_stdout_bytes);
        let result = match r {
            Ok(ns) => match ns.downcast::<PyDict>() {
                Ok(d) => Ok(Some(d)),
                Err(_) => Ok(None),
            },
            Err(e) => Err(describe(vm, helpers, &e, ErrorKind::Runtime)),
        };
        (result, stdout, truncated)
    });
    let result = match result {
        Ok(module) => {
            if module.is_some() {
                st.module = module;
            }
            Ok(Vec::new())
        }
        Err(e) => Err(e),
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
    st.interp.enter(|vm| {
        // The context straight into Python objects, but for `call` (a macro call's metadata),
        // which becomes a read-only root below.
        let (arg, call_meta) = match convert::context(vm, &req.context, CALL) {
            Ok(Some(parts)) => parts,
            Ok(None) => return fail(ErrorKind::AbiViolation, "the context must be a JSON object"),
            Err(convert::ContextError::Json(e)) => {
                return fail(
                    ErrorKind::AbiViolation,
                    format!("the context is not JSON: {e}"),
                );
            }
            Err(convert::ContextError::Python(e)) => {
                return GuestOutcome::failed(describe(vm, helpers, &e, ErrorKind::Runtime));
            }
        };
        let func = match module.get_item_opt(req.entry.as_str(), vm) {
            Ok(Some(f)) if f.is_callable() => f,
            Ok(Some(_)) => {
                return fail(
                    ErrorKind::Runtime,
                    format!("`{}` is not a function", req.entry),
                );
            }
            _ => {
                return fail(
                    ErrorKind::Runtime,
                    format!("the script defines no function `{}`", req.entry),
                );
            }
        };
        let capture = match helpers
            .begin
            .call((req.max_stdout_bytes as usize, req.seed), vm)
        {
            Ok(c) => c,
            Err(e) => {
                return GuestOutcome::failed(describe(vm, helpers, &e, ErrorKind::Runtime));
            }
        };
        let roots = shared::roots_for(vm, &req.shared).and_then(|mut roots| {
            if let Some(d) = arg.downcast_ref::<PyDict>() {
                for (r, obj) in req.shared.iter().zip(&roots) {
                    d.set_item(r.name.as_str(), obj.clone(), vm)?;
                }
                // `call` (a macro call's metadata) is read-only and records its reads too.
                match &call_meta {
                    Some(call @ serde_json::Value::Object(_)) => {
                        let root = shared::local_root(vm, CALL, call)?;
                        d.set_item(CALL, root.clone(), vm)?;
                        roots.push(root);
                    }
                    // Not an object (the engine never sends one): passed on as it is.
                    Some(other) => d.set_item(CALL, convert::json_to_py(vm, other)?, vm)?,
                    None => {}
                }
            }
            helpers.reads.clear();
            *helpers.roots.borrow_vec_mut() = roots;
            Ok(())
        });
        let r = match roots {
            Ok(_) => func.call((arg,), vm),
            Err(e) => Err(e),
        };
        let (stdout, stdout_truncated, warnings) =
            collect(vm, helpers, &capture, req.max_stdout_bytes);
        let reads = take_reads(vm, helpers);
        let result = match r {
            Ok(value) => emit::to_result_json(vm, &value, req),
            Err(e) => Err(describe(vm, helpers, &e, ErrorKind::Runtime)),
        };
        GuestOutcome {
            warnings: if result.is_ok() { warnings } else { Vec::new() },
            result,
            stdout,
            stdout_truncated,
            reads,
        }
    })
}

/// What the call read of its shared values: the `(root, key | None)` pairs `shared.py`
/// recorded, sorted, and the record cleared.
fn take_reads(_vm: &VirtualMachine, helpers: &Helpers) -> Vec<bds_ipc::Read> {
    let items = helpers.reads.elements();
    helpers.reads.clear();
    let s = |o: &PyObjectRef| {
        o.downcast_ref::<PyStr>()
            .and_then(|s| s.to_str())
            .map(str::to_owned)
    };
    let mut out = Vec::new();
    for item in &items {
        if let Some(t) = item.downcast_ref::<PyTuple>()
            && let [root, key] = t.as_slice()
            && let Some(root) = s(root)
        {
            out.push(bds_ipc::Read { root, key: s(key) });
        }
    }
    out.sort();
    out
}

/// The captured stdout, cut to `max_bytes` on a character boundary, with a marker when cut,
/// and the warnings raised.
fn collect(
    vm: &VirtualMachine,
    helpers: &Helpers,
    capture: &PyObjectRef,
    max_bytes: u32,
) -> (String, bool, Vec<Warning>) {
    let mut warnings = Vec::new();
    let (text, dropped) = match helpers.collect.call((capture.clone(),), vm) {
        Ok(t) => match t.downcast::<PyTuple>() {
            Ok(t) if t.as_slice().len() == 3 => {
                if let Some(list) = t.as_slice()[2].downcast_ref::<PyTuple>() {
                    warnings = list.as_slice().iter().filter_map(warning).collect();
                }
                let text = t.as_slice()[0]
                    .downcast_ref::<PyStr>()
                    .map(|s| s.as_wtf8().to_string_lossy().into_owned())
                    .unwrap_or_default();
                let dropped = t.as_slice()[1]
                    .downcast_ref::<PyInt>()
                    .and_then(|i| u64::try_from(i.as_bigint()).ok())
                    .unwrap_or(0);
                (text, dropped)
            }
            _ => (String::new(), 0),
        },
        Err(_) => (String::new(), 0),
    };
    let (text, truncated) = guest_side::cut_stdout(text, dropped, max_bytes);
    (text, truncated, warnings)
}

/// One `(category, message, file, line)` entry of `bootstrap.py`'s `_warned`.
fn warning(o: &PyObjectRef) -> Option<Warning> {
    let t = o.downcast_ref::<PyTuple>()?;
    let [category, message, file, line] = t.as_slice() else {
        return None;
    };
    let s = |o: &PyObjectRef| {
        o.downcast_ref::<PyStr>()
            .map(|s| s.as_wtf8().to_string_lossy().into_owned())
    };
    Some(Warning {
        category: s(category)?,
        message: s(message)?,
        file: s(file)?,
        line: line
            .downcast_ref::<PyInt>()
            .and_then(|i| u32::try_from(i.as_bigint()).ok())
            .unwrap_or(0),
    })
}

fn describe(
    vm: &VirtualMachine,
    helpers: &Helpers,
    e: &PyBaseExceptionRef,
    default: ErrorKind,
) -> ErrorInfo {
    let fallback = || {
        let mut text = String::new();
        let _ = vm.write_exception(&mut text, e);
        ErrorInfo::plain(default, text.trim_end().to_owned())
    };
    let Ok(t) = helpers.describe.call((e.clone(),), vm) else {
        return fallback();
    };
    let Ok(t) = t.downcast::<PyTuple>() else {
        return fallback();
    };
    let items = t.as_slice();
    if items.len() != 6 {
        return fallback();
    }
    let s = |o: &PyObjectRef| {
        o.downcast_ref::<PyStr>()
            .map(|s| s.as_wtf8().to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let n = |o: &PyObjectRef| {
        o.downcast_ref::<PyInt>()
            .and_then(|i| u32::try_from(i.as_bigint()).ok())
            .unwrap_or(0)
    };
    let exc_type = s(&items[0]);
    let mut traceback = Vec::new();
    if let Some(list) = items[4].downcast_ref::<PyList>() {
        for f in list.borrow_vec().iter() {
            if let Some(f) = f.downcast_ref::<PyTuple>()
                && f.as_slice().len() == 3
            {
                let f = f.as_slice();
                traceback.push(TraceFrame {
                    file: s(&f[0]),
                    line: n(&f[1]),
                    function: s(&f[2]),
                });
            }
        }
    }
    let memory = items[5].is(&vm.ctx.true_value);
    let kind = guest_side::error_kind(&exc_type, memory, n(&items[2]), traceback.len(), default);
    let line = match n(&items[2]) {
        0 => traceback.last().map_or(0, |f| f.line),
        l => l,
    };
    ErrorInfo {
        kind,
        exc_type,
        message: s(&items[1]),
        line,
        column: n(&items[3]),
        traceback,
    }
}
