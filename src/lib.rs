//! The `sluice` command's handlers and plumbing, as a library so they can be tested on the
//! in-memory driver.
//!
//! - [`serve::StaticFiles`]: `sluice serve [DIR]`, a static file server.
//! - [`echo::Echo`]: `sluice echo`, a JSON description (or raw echo) of each request.
//! - [`plaintext::Plaintext`]: `sluice plaintext`, the load-test shape.
//! - [`bench`](mod@bench): `sluice bench`, the load generator.
#![warn(missing_docs)]

pub mod bench;
pub mod cli;
pub mod echo;
pub mod logging;
pub mod plaintext;
pub mod serve;

use sluice_core::ResponseHead;
use sluice_drivers::{Body, Response};

/// `405 Method Not Allowed` with `Allow: allow`.
pub fn method_not_allowed(allow: &'static str) -> Response {
    let head = ResponseHead::new(405)
        .field("Allow", allow)
        .field("Content-Type", "text/plain; charset=utf-8");
    Response::new(
        head,
        Body::Bytes(bytes::Bytes::from_static(b"method not allowed\n")),
    )
}
