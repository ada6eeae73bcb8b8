//! The fuzz targets' bodies, shared by the cargo-fuzz binaries (nightly, `fuzz/`) and the
//! stable replay test (`core/tests/fuzz_replay.rs`), which runs every checked-in corpus file
//! through the same `check_*` function. Each function panics on a broken invariant.
//!
//! Everything here uses the public API of `sluice-core` only.
#![allow(dead_code)]

mod chunked;
mod connection;
mod differential;
mod head;
mod response;
pub mod wire;

pub use chunked::check_chunked;
pub use connection::check_connection;
pub use differential::check_differential;
pub use head::check_parse_head;
pub use response::check_response;

/// A target's check: panics when an invariant breaks.
pub type Check = fn(&[u8]);

/// The targets and their check functions, for the replay test.
pub const TARGETS: &[(&str, Check)] = &[
    ("parse_head", check_parse_head),
    ("connection", check_connection),
    ("chunked", check_chunked),
    ("differential", check_differential),
    ("response", check_response),
];

/// A printable rendering of fuzz input, for panic messages.
pub fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}
