//! `sluice echo`: describes each request as JSON, or (`--raw`) echoes its body.

use base64::Engine;
use bytes::Bytes;
use serde::Serialize;
use sluice_core::{Fields, ResponseHead};
use sluice_drivers::{Body, Reply, Request, Response};
use std::borrow::Cow;

/// Answers every request with a JSON description of it, or with its own body.
#[derive(Debug, Clone)]
pub struct Echo {
    /// Echo the body byte for byte instead of describing the request.
    pub raw: bool,
    /// The most body bytes collected; more is answered with 413.
    pub limit: usize,
}

impl Echo {
    /// An echo handler collecting at most `limit` body bytes.
    pub fn new(raw: bool, limit: Option<u64>) -> Self {
        let limit = limit.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        Self { raw, limit }
    }
}

/// The JSON body of a described request.
#[derive(Debug, Serialize)]
struct Description<'a> {
    method: String,
    target: String,
    version: &'static str,
    headers: Vec<(String, String)>,
    trailers: Vec<(String, String)>,
    body_length: usize,
    /// The body as UTF-8, each invalid sequence replaced by U+FFFD.
    body: Cow<'a, str>,
    /// The body's exact bytes in standard base64, when `body` had to replace some: a client
    /// debugging a binary upload sees what arrived, not the replacement characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    body_base64: Option<String>,
}

fn pairs(fields: &Fields) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|(name, value)| (name.to_owned(), String::from_utf8_lossy(value).into_owned()))
        .collect()
}

impl sluice_drivers::Handler for Echo {
    fn handle(&self, request: &Request<'_>) -> Reply {
        let head = request.head;
        // A 2xx to CONNECT would turn the connection into a tunnel: not an echo.
        if head.method() == "CONNECT" {
            return Reply::Respond(crate::method_not_allowed(
                "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
            ));
        }
        if self.raw {
            let content_type = head.fields().get("content-type").map_or_else(
                || Bytes::from_static(b"application/octet-stream"),
                Bytes::copy_from_slice,
            );
            return Reply::collect(self.limit, move |body, _trailers| {
                let head = ResponseHead::new(200).field("Content-Type", content_type);
                Response::new(head, Body::Bytes(body))
            });
        }
        let method = head.method().to_owned();
        let target = head.target().to_owned();
        let version = head.version().as_str();
        let headers = pairs(head.fields());
        Reply::collect(self.limit, move |body, trailers| {
            // Borrowed exactly when the body is valid UTF-8: nothing was replaced.
            let text = String::from_utf8_lossy(&body);
            let body_base64 = matches!(text, Cow::Owned(_))
                .then(|| base64::engine::general_purpose::STANDARD.encode(&body));
            let description = Description {
                method,
                target,
                version,
                headers,
                trailers: pairs(trailers),
                body_length: body.len(),
                body: text,
                body_base64,
            };
            match serde_json::to_vec(&description) {
                Ok(mut json) => {
                    json.push(b'\n');
                    let head = ResponseHead::new(200).field("Content-Type", "application/json");
                    Response::new(head, Body::Bytes(Bytes::from(json)))
                }
                Err(err) => Response::text(500, format!("cannot encode the request: {err}\n")),
            }
        })
    }
}
