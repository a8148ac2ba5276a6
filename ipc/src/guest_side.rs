//! The guest's half of the worker ⇄ guest ABI, shared by both guests (RustPython and CPython):
//! everything that does not touch an interpreter. The host crates never call it (it compiles
//! everywhere, so its tests run with the workspace's; [`fetch_shared`] exists only on wasm).
//!
//! - [`alloc`], [`free`], [`take_input`], [`respond`]: the buffers of `bds_alloc`, `bds_free`,
//!   `bds_load` and `bds_call` (a request is taken back as a `Vec`; an outcome stays valid until
//!   the next export call).
//! - [`cut_stdout`]: captured output cut to its limit on a character boundary, with a marker.
//! - [`error_kind`]: which [`ErrorKind`] an exception the bootstrap described is.
//! - [`is_json_number`]: whether a number's text (as serde_json's `arbitrary_precision` hands it
//!   over) is JSON's grammar, before a guest gives it to Python's `int()` or `float()`.
//! - [`RootCache`]: the shared roots an instance keeps, least recently used dropped past a byte
//!   budget; [`fetch_shared`] reads one from the worker (`bds.shared_len`, `bds.shared_read`).

use std::cell::RefCell;
use std::collections::HashMap;

use crate::{ErrorInfo, ErrorKind, GuestOutcome, Hash};

thread_local! {
    static RESPONSE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `bds_alloc(len)`: a buffer of `len` bytes the worker writes a request into.
pub fn alloc(len: u32) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len as usize);
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// `bds_free(ptr, len)`.
///
/// # Safety
/// `ptr` and `len` come from one [`alloc`] call, freed once.
pub unsafe fn free(ptr: *mut u8, len: u32) {
    // SAFETY: the caller hands back a buffer `alloc` made with this capacity.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len as usize) });
}

/// Takes a request buffer back from the worker.
///
/// # Safety
/// `ptr`/`len` come from [`alloc`]`(len)` and the worker filled all `len` bytes.
pub unsafe fn take_input(ptr: *mut u8, len: u32) -> Vec<u8> {
    // SAFETY: see above; the worker wrote `len` initialised bytes.
    unsafe { Vec::from_raw_parts(ptr, len as usize, len as usize) }
}

/// Encodes `outcome` where the worker reads it: returns `ptr << 32 | len`, valid until the
/// next call.
pub fn respond(outcome: &GuestOutcome) -> u64 {
    RESPONSE.with(|r| {
        let mut r = r.borrow_mut();
        *r = outcome.encode();
        ((r.as_ptr() as u64) << 32) | r.len() as u64
    })
}

/// An outcome that is only an error, with no output.
pub fn fail(kind: ErrorKind, message: impl Into<String>) -> GuestOutcome {
    GuestOutcome::failed(ErrorInfo::plain(kind, message))
}

/// The error for a result whose JSON, written so far, is `written` bytes against a limit of
/// `max_bytes` (both guests check as they write).
pub fn check_result_size(written: usize, max_bytes: usize) -> Result<(), ErrorInfo> {
    if written > max_bytes {
        Err(ErrorInfo::plain(
            ErrorKind::OutputTooLarge,
            format!("the result is over the {max_bytes}-byte limit"),
        ))
    } else {
        Ok(())
    }
}

/// The captured stdout (of which `dropped` characters did not fit the capture), cut to
/// `max_bytes` on a character boundary, with a `[stdout truncated]` marker when anything was
/// cut. Returns the text and whether it was cut.
pub fn cut_stdout(mut text: String, dropped: u64, max_bytes: u32) -> (String, bool) {
    let max = max_bytes as usize;
    let mut truncated = dropped > 0;
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        truncated = true;
    }
    if truncated {
        text.push_str("\n[stdout truncated]\n");
    }
    (text, truncated)
}

/// The kind of an exception the bootstrap's `describe` gave: a memory error, a syntax error of
/// the script's own text (a line, no frames: it never ran), or `default`.
pub fn error_kind(
    exc_type: &str,
    memory: bool,
    line: u32,
    frames: usize,
    default: ErrorKind,
) -> ErrorKind {
    let syntax = matches!(exc_type, "SyntaxError" | "IndentationError" | "TabError");
    if memory {
        ErrorKind::Memory
    } else if syntax && default == ErrorKind::Runtime && line > 0 && frames == 0 {
        ErrorKind::Compile
    } else {
        default
    }
}

/// A content hash in hex (how a root names its value to Python).
pub fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// The hash a [`hex`] string names.
pub fn unhex(s: &str) -> Option<Hash> {
    let mut h = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, b) in h.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(h)
}

/// Why a shared value could not be read from the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchError {
    /// The worker no longer has it (it belongs to an earlier call).
    Gone,
    /// The worker would not copy it.
    Unreadable,
}

/// Reads the JSON of the shared value `hash` from the worker.
#[cfg(target_family = "wasm")]
pub fn fetch_shared(hash: &Hash) -> Result<Vec<u8>, FetchError> {
    #[link(wasm_import_module = "bds")]
    unsafe extern "C" {
        fn shared_len(hash: *const u8) -> i64;
        fn shared_read(hash: *const u8, dst: *mut u8, len: i32) -> i32;
    }
    // SAFETY: the host reads 32 bytes at `hash`.
    let len = unsafe { shared_len(hash.as_ptr()) };
    if len < 0 {
        return Err(FetchError::Gone);
    }
    let mut buf = vec![0u8; len as usize];
    // SAFETY: `buf` has exactly `len` writable bytes; the host writes at most that many.
    let status = unsafe { shared_read(hash.as_ptr(), buf.as_mut_ptr(), len as i32) };
    if status != 0 {
        return Err(FetchError::Unreadable);
    }
    Ok(buf)
}

/// JSON bytes of filled roots an instance keeps (beyond the current call's).
pub const FILLED_BUDGET: usize = 48 << 20;
/// Roots (filled or not) an instance keeps.
pub const MAX_ROOTS: usize = 1024;

struct Entry<T> {
    obj: T,
    filled: usize,
    tick: u64,
}

/// The shared roots of one instance, by `(context key, content hash)`: a root is reused by every
/// later call naming the same value, and the least recently used go past [`FILLED_BUDGET`]
/// bytes of filled JSON or [`MAX_ROOTS`] roots (never those of the current call).
pub struct RootCache<T> {
    by_key: HashMap<(String, Hash), Entry<T>>,
    tick: u64,
    filled: usize,
}

impl<T> std::fmt::Debug for RootCache<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCache")
            .field("roots", &self.by_key.len())
            .field("filled", &self.filled)
            .finish()
    }
}

impl<T> Default for RootCache<T> {
    fn default() -> Self {
        Self {
            by_key: HashMap::new(),
            tick: 0,
            filled: 0,
        }
    }
}

impl<T: Clone> RootCache<T> {
    /// Starts a call: the roots it touches from now on are its own.
    pub fn begin_call(&mut self) {
        self.tick += 1;
    }

    /// The root for `key`, marked as used by the current call.
    pub fn get(&mut self, key: &(String, Hash)) -> Option<T> {
        let tick = self.tick;
        self.by_key.get_mut(key).map(|e| {
            e.tick = tick;
            e.obj.clone()
        })
    }

    /// Keeps a new (unfilled) root for `key`.
    pub fn insert(&mut self, key: (String, Hash), obj: T) {
        let tick = self.tick;
        if let Some(old) = self.by_key.insert(
            key,
            Entry {
                obj,
                filled: 0,
                tick,
            },
        ) {
            self.filled -= old.filled;
        }
    }

    /// Records that the root for `key` now holds `bytes` of JSON, then evicts.
    pub fn filled(&mut self, key: &(String, Hash), bytes: usize) {
        if let Some(e) = self.by_key.get_mut(key) {
            self.filled = self.filled - e.filled + bytes;
            e.filled = bytes;
        }
        self.evict();
    }

    /// Drops least recently used roots (never the current call's) while over budget.
    pub fn evict(&mut self) {
        let now = self.tick;
        while self.filled > FILLED_BUDGET || self.by_key.len() > MAX_ROOTS {
            let Some(oldest) = self
                .by_key
                .iter()
                .filter(|(_, e)| e.tick != now)
                .min_by_key(|(_, e)| e.tick)
                .map(|(k, _)| k.clone())
            else {
                return;
            };
            if let Some(e) = self.by_key.remove(&oldest) {
                self.filled -= e.filled;
            }
        }
    }

    /// How many roots are kept.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no root is kept.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: JSON's number grammar.
pub fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    let mut i = usize::from(b.first() == Some(&b'-'));
    if b.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_is_cut_on_a_character_boundary_with_a_marker() {
        assert_eq!(cut_stdout("abc".into(), 0, 10), ("abc".into(), false));
        assert_eq!(
            cut_stdout("aé".into(), 0, 2),
            ("a\n[stdout truncated]\n".into(), true)
        );
        assert_eq!(
            cut_stdout("ab".into(), 5, 10),
            ("ab\n[stdout truncated]\n".into(), true)
        );
    }

    #[test]
    fn roots_past_the_budget_go_least_recently_used_first_but_never_the_calls_own() {
        let mut c = RootCache::default();
        let key = |n: u8| ("post".to_owned(), [n; 32]);
        c.begin_call();
        c.insert(key(1), "one");
        c.filled(&key(1), FILLED_BUDGET / 2);
        c.begin_call();
        c.insert(key(2), "two");
        c.filled(&key(2), FILLED_BUDGET / 2);
        assert_eq!(c.len(), 2);
        c.begin_call();
        assert_eq!(c.get(&key(2)), Some("two"));
        c.insert(key(3), "three");
        c.filled(&key(3), 1);
        // Over budget: "one" (oldest) goes, "two" (used by this call) stays.
        assert_eq!(
            (c.get(&key(1)), c.get(&key(2)), c.len()),
            (None, Some("two"), 2)
        );
        // A single root over the budget alone stays while its call runs.
        c.begin_call();
        c.insert(key(4), "four");
        c.filled(&key(4), FILLED_BUDGET * 2);
        assert_eq!(c.get(&key(4)), Some("four"));
        assert_eq!(hex(&[0xab; 32]).len(), 64);
        assert_eq!(unhex(&hex(&[7; 32])), Some([7; 32]));
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn json_numbers_are_told_by_the_grammar() {
        for ok in [
            "0",
            "-0",
            "7",
            "-12",
            "1.5",
            "0.25",
            "1e5",
            "1E+5",
            "-2.5e-300",
            "1e400",
        ] {
            assert!(is_json_number(ok), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "+1", "1e", "1e+", "1_000", " 1", "1 ", "0x10", "inf",
            "NaN", "1\u{0}2",
        ] {
            assert!(!is_json_number(bad), "{bad}");
        }
    }
}
