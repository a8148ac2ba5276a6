//! The wire format of bds-script: what the engine, its worker processes and the guest say to
//! each other.
//!
//! # Model
//! Two hops share one encoding:
//! - **engine ⇄ worker**: [`Request`]s go down the worker's stdin, [`Reply`]s come back on its
//!   stdout. Each message is one *frame*: a little-endian `u32` length, then that many bytes of
//!   payload ([`write_frame`], [`read_frame`]). A frame larger than the reader's maximum is refused
//!   before anything is allocated.
//! - **worker ⇄ guest**: the worker copies a [`GuestLoad`] or [`GuestCall`] into the guest's
//!   linear memory and reads back a [`GuestOutcome`].
//!
//! The first frame a worker sends is [`Reply::Ready`], whose first field is
//! [`PROTOCOL_VERSION`]; an engine that reads any other version discards the worker. Every other
//! message carries the request id it answers.
//!
//! # Failure
//! Decoding never panics and never trusts a length: counts and sizes are checked against the
//! bytes actually left, strings must be UTF-8, and trailing bytes are an error. Whoever reads a
//! malformed frame gets a [`DecodeError`] (or a [`FrameError`]) and is expected to drop the peer.
//!
//! ```
//! use bds_ipc::{Request, read_frame, write_frame};
//! let mut wire = Vec::new();
//! write_frame(&mut wire, &Request::Reset { id: 7 }.encode()).unwrap();
//! let payload = read_frame(&mut wire.as_slice(), 1024).unwrap();
//! assert_eq!(Request::decode(&payload).unwrap(), Request::Reset { id: 7 });
//! ```

#![warn(clippy::unwrap_used)]

mod codec;
mod frame;
mod guest;
pub mod guest_side;
#[cfg(feature = "markdown")]
mod markdown;
mod messages;

pub use codec::DecodeError;
#[cfg(unix)]
pub use frame::wait_readable;
pub use frame::{FrameError, read_frame, write_frame};
pub use guest::{Guest, MAX_INT_DIGITS, UnknownGuest, int_too_long};
#[cfg(feature = "markdown")]
pub use markdown::markdown_to_html;
pub use messages::{
    CallSpec, ClockSpec, ErrorInfo, ErrorKind, GuestCall, GuestLoad, GuestOutcome, Hash,
    ModuleSource, Outcome, PROTOCOL_VERSION, Read, Reply, Request, SharedRef, TraceFrame, Warning,
    WireLimits,
};
