//! Python → JSON in the RustPython guest: a result is checked as it is written: a `dict` at the
//! top, `str` keys, finite floats, integers of at most 4,300 digits (written exactly, as
//! CPython's `json` writes them), nesting and size within the call's limits. A check that fails
//! names the path of the value (`result['items'][3]`), an `abi-violation` (or
//! `output-too-large`).

use bds_ipc::{ErrorInfo, ErrorKind, GuestCall};
use rustpython_vm::builtins::{PyDict, PyFloat, PyInt, PyList, PyStr, PyTuple};
use rustpython_vm::{AsObject, PyObjectRef, VirtualMachine};

struct Emit<'a> {
    vm: &'a VirtualMachine,
    out: Vec<u8>,
    max_bytes: usize,
    max_depth: u32,
}

fn abi(message: impl Into<String>) -> ErrorInfo {
    ErrorInfo::plain(ErrorKind::AbiViolation, message)
}

impl Emit<'_> {
    fn check_size(&self) -> Result<(), ErrorInfo> {
        bds_ipc::guest_side::check_result_size(self.out.len(), self.max_bytes)
    }

    fn value(&mut self, o: &PyObjectRef, depth: u32, path: &mut String) -> Result<(), ErrorInfo> {
        let vm = self.vm;
        if vm.is_none(o) {
            self.out.extend_from_slice(b"null");
        } else if o.is(&vm.ctx.true_value) {
            self.out.extend_from_slice(b"true");
        } else if o.is(&vm.ctx.false_value) {
            self.out.extend_from_slice(b"false");
        } else if let Some(s) = o.downcast_ref::<PyStr>() {
            let Some(s) = s.to_str() else {
                return Err(abi(format!("{path} is a string with a lone surrogate")));
            };
            self.string(s);
        } else if let Some(i) = o.downcast_ref::<PyInt>() {
            // Any size, every digit, as CPython's json writes it; a bound on the bits first
            // (10^4300 needs 14,285) so that a huge one is refused before it is turned to text.
            let n = i.as_bigint();
            if n.bits() > 14_300 {
                return Err(abi(bds_ipc::int_too_long(path)));
            }
            let text = n.to_string();
            if text.trim_start_matches('-').len() > bds_ipc::MAX_INT_DIGITS {
                return Err(abi(bds_ipc::int_too_long(path)));
            }
            self.out.extend_from_slice(text.as_bytes());
        } else if let Some(f) = o.downcast_ref::<PyFloat>() {
            let f = f.to_f64();
            if !f.is_finite() {
                return Err(abi(format!("{path} is {f}, which JSON cannot carry")));
            }
            // serde_json prints the shortest representation that reads back exactly.
            let _ = serde_json::to_writer(&mut self.out, &f);
        } else if let Some(d) = o.downcast_ref::<PyDict>() {
            self.enter(depth, path)?;
            self.out.push(b'{');
            for (n, (k, v)) in d.items_vec().into_iter().enumerate() {
                let Some(key) = k.downcast_ref::<PyStr>().and_then(|s| s.to_str()) else {
                    return Err(abi(format!(
                        "{path} has a key of type {} (only str keys cross)",
                        k.class().name()
                    )));
                };
                if n > 0 {
                    self.out.push(b',');
                }
                self.string(key);
                self.out.push(b':');
                let len = path.len();
                path.push_str(&format!("[{key:?}]"));
                self.value(&v, depth + 1, path)?;
                path.truncate(len);
                self.check_size()?;
            }
            self.out.push(b'}');
        } else if let Some(l) = o.downcast_ref::<PyList>() {
            self.enter(depth, path)?;
            let items: Vec<PyObjectRef> = l.borrow_vec().to_vec();
            self.seq(&items, depth, path)?;
        } else if let Some(t) = o.downcast_ref::<PyTuple>() {
            self.enter(depth, path)?;
            let items: Vec<PyObjectRef> = t.as_slice().to_vec();
            self.seq(&items, depth, path)?;
        } else {
            return Err(abi(format!(
                "{path} is a {}, which is not a JSON value",
                o.class().name()
            )));
        }
        self.check_size()
    }

    fn enter(&self, depth: u32, path: &str) -> Result<(), ErrorInfo> {
        if depth >= self.max_depth {
            return Err(abi(format!(
                "{path} nests deeper than {} levels (a recursive structure?)",
                self.max_depth
            )));
        }
        Ok(())
    }

    fn seq(
        &mut self,
        items: &[PyObjectRef],
        depth: u32,
        path: &mut String,
    ) -> Result<(), ErrorInfo> {
        self.out.push(b'[');
        for (n, v) in items.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            let len = path.len();
            path.push_str(&format!("[{n}]"));
            self.value(v, depth + 1, path)?;
            path.truncate(len);
        }
        self.out.push(b']');
        Ok(())
    }

    fn string(&mut self, s: &str) {
        let _ = serde_json::to_writer(&mut self.out, s);
    }
}

pub(crate) fn to_result_json(
    vm: &VirtualMachine,
    value: &PyObjectRef,
    req: &GuestCall,
) -> Result<Vec<u8>, ErrorInfo> {
    if value.downcast_ref::<PyDict>().is_none() {
        return Err(abi(format!(
            "{}() must return a dict, not {}",
            req.entry,
            value.class().name()
        )));
    }
    let mut e = Emit {
        vm,
        out: Vec::with_capacity(256),
        max_bytes: req.max_result_bytes as usize,
        max_depth: req.max_depth,
    };
    let mut path = String::from("result");
    e.value(value, 0, &mut path)?;
    Ok(e.out)
}
