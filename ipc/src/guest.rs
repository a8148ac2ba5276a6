//! Which Python runs in the guest: the two interpreters the worker can load.
//!
//! ```
//! use bds_ipc::Guest;
//! let g: Guest = "cpython".parse().unwrap();
//! assert_eq!(g.wasm_file(), "bds_guest_cpython.wasm");
//! assert_eq!(Guest::default(), Guest::RustPython);
//! assert!("jython".parse::<Guest>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

/// A guest interpreter, compiled to `wasm32-wasip1`; both expose the same exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Guest {
    /// RustPython 0.6 (`worker/guest`): the stdlib frozen in, starts anywhere Rust builds.
    #[default]
    RustPython,
    /// CPython 3.11 (`worker/guest-cpython`): CPython's own results, several times faster.
    CPython,
}

impl Guest {
    /// Both guests, in a stable order.
    pub const ALL: [Guest; 2] = [Guest::RustPython, Guest::CPython];

    /// The name used on command lines, in `bds.toml` and in the addon.
    pub fn name(self) -> &'static str {
        match self {
            Guest::RustPython => "rustpython",
            Guest::CPython => "cpython",
        }
    }

    /// The file name of the guest's wasm module, as `make` writes it.
    pub fn wasm_file(self) -> &'static str {
        match self {
            Guest::RustPython => "bds_guest.wasm",
            Guest::CPython => "bds_guest_cpython.wasm",
        }
    }
}

impl fmt::Display for Guest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A guest name that is neither `rustpython` nor `cpython`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownGuest(pub String);

impl fmt::Display for UnknownGuest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown guest `{}` (expected `rustpython` or `cpython`)",
            self.0
        )
    }
}

impl std::error::Error for UnknownGuest {}

impl FromStr for Guest {
    type Err = UnknownGuest;
    fn from_str(s: &str) -> Result<Guest, UnknownGuest> {
        Guest::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| UnknownGuest(s.to_owned()))
    }
}

/// The most digits an integer in a result may have: CPython's default limit for turning an
/// `int` into text (`sys.get_int_max_str_digits()`), past which its `json.dumps` refuses one
/// too. Both guests write any integer up to it exactly, and refuse a longer one with
/// [`int_too_long`]'s message, whatever limit the script set for itself.
pub const MAX_INT_DIGITS: usize = 4300;

/// The guests' message for an integer of more than [`MAX_INT_DIGITS`] digits at `path`.
pub fn int_too_long(path: &str) -> String {
    format!(
        "{path} is an integer of more than {MAX_INT_DIGITS} digits (CPython's limit for writing one)"
    )
}
