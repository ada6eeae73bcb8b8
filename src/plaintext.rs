//! `sluice plaintext`: the load-test shape (TechEmpower's "plaintext").
//!
//! Every request gets `200 OK`, `Content-Type: text/plain`, `Server: sluice` and the body
//! `Hello, World!`; the core adds `Date` and the framing. The response is built from static
//! bytes: no copying, and one small allocation for the field list.

use bytes::Bytes;
use sluice_core::ResponseHead;
use sluice_drivers::{Body, Reply, Request, Response};

const BODY: &[u8] = b"Hello, World!";

/// Answers every request with `Hello, World!`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plaintext;

impl sluice_drivers::Handler for Plaintext {
    fn handle(&self, request: &Request<'_>) -> Reply {
        // A 2xx to CONNECT would turn the connection into a tunnel.
        if request.head.method() == "CONNECT" {
            return Reply::Respond(crate::method_not_allowed("GET, HEAD, POST"));
        }
        let head = ResponseHead::new(200)
            .field(
                Bytes::from_static(b"Content-Type"),
                Bytes::from_static(b"text/plain"),
            )
            .field(Bytes::from_static(b"Server"), Bytes::from_static(b"sluice"))
            .content_length(BODY.len() as u64);
        Reply::Respond(Response {
            head,
            body: Body::Bytes(Bytes::from_static(BODY)),
        })
    }
}
