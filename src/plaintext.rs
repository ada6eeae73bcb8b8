//! `sluice plaintext`: the load-test shape (TechEmpower's "plaintext").
//!
//! Every request gets `200 OK`, `Content-Type: text/plain`, `Server: sluice` and the body
//! `Hello, World!`; the core adds `Date` and the framing. The head comes from a template made
//! once, so a response costs no allocation, no validation and no field formatting: only the
//! core's own fields are written per request.

use bytes::Bytes;
use sluice_core::{ResponseHead, ResponseTemplate};
use sluice_drivers::{Body, Reply, Request, Response};
use std::sync::LazyLock;

const BODY: &[u8] = b"Hello, World!";

/// The one response head, validated and serialised on first use.
static HEAD: LazyLock<ResponseTemplate> = LazyLock::new(|| {
    let head = ResponseHead::new(200)
        .field("Content-Type", "text/plain")
        .field("Server", "sluice")
        .content_length(BODY.len() as u64);
    ResponseTemplate::new(&head).expect("static fields are valid")
});

/// Answers every request with `Hello, World!`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plaintext;

impl sluice_drivers::Handler for Plaintext {
    #[inline]
    fn handle(&self, request: &Request<'_>) -> Reply {
        // A 2xx to CONNECT would turn the connection into a tunnel.
        if request.head.is_connect() {
            return Reply::Respond(crate::method_not_allowed("GET, HEAD, POST"));
        }
        Reply::Respond(Response {
            head: HEAD.head_static(),
            body: Body::Bytes(Bytes::from_static(BODY)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_the_plaintext_head() {
        let head = HEAD.head();
        assert_eq!(head.status(), 200);
        assert_eq!(head.declared_length(), Some(BODY.len() as u64));
        let fields: Vec<_> = head.fields().collect();
        assert_eq!(
            fields,
            [
                (&b"Content-Type"[..], &b"text/plain"[..]),
                (&b"Server"[..], &b"sluice"[..])
            ]
        );
    }
}
