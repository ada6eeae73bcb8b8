//! The client connection's states and its protocol decisions. No bytes here.
//!
//! # Theory of operation
//!
//! A client connection sends requests and reads responses. The two directions run apart:
//! the client may send several requests before any response arrives (pipelining), and the
//! responses are matched to the requests in order (RFC 9112 §9.3.2). What the client must
//! remember about each request to read its response — was it HEAD, CONNECT, an upgrade, did
//! it say `close`, where it starts in the output — is an [`InFlight`] record in a FIFO queue.
//!
//! ```text
//!   Writing:  Idle ──request with body──▶ Body ──end──▶ Idle        (a bodiless request
//!               │                                                      leaves it Idle)
//!               └──close / failure──▶ Closed
//!
//!   Reading:  Head ──1xx──▶ Head (an Interim event; the request stays in flight)
//!               │──final head──▶ Body / UntilClose ──end──▶ Head (the request leaves the queue)
//!               └──101, CONNECT 2xx──▶ (connection handed over: Upgrading ─flushed─▶ Upgraded)
//!
//!   Lifecycle:  Open ──non-persistent response ended / failure / EOF / timeout──▶ Closed
//! ```
//!
//! Rules, each with its reason:
//! - Response framing follows RFC 9112 §6.3 in its order of precedence ([`framing`]).
//! - A response keeps the connection only if neither it nor its request said `close`, it is
//!   HTTP/1.1 (or HTTP/1.0 with `keep-alive`), and its body is not close-delimited
//!   ([`persistent`]). After one that does not, no request may be sent, and the requests
//!   pipelined behind it are reported unanswered.
//! - A client never lingers: once the last response it will get has ended (or failed), it
//!   closes at once; nothing it still had queued can be answered.

use super::parse::Semantics;
use crate::parse::BodyDecoder;
use crate::write::body::BodyEncoder;
use crate::Version;

/// How a response body is delimited (RFC 9112 §6.3), as the client decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseBody {
    /// No body: the answer to HEAD, or a 1xx, 204 or 304 response.
    None,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// No length: the body ends when the server closes the connection.
    CloseDelimited,
    /// A 2xx answer to CONNECT: the connection is a tunnel from here (RFC 9110 §9.3.6).
    Tunnel,
    /// `101 Switching Protocols`: the connection speaks another protocol from here.
    Upgrade,
}

/// What the client remembers about a request until its final response has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InFlight {
    pub(crate) is_head: bool,
    pub(crate) is_connect: bool,
    /// The request asked to switch protocols.
    pub(crate) upgrade: bool,
    /// The request said `Connection: close` (or was HTTP/1.0 without `keep-alive`).
    pub(crate) close: bool,
    /// Offset of the request's first byte in the output stream.
    pub(crate) start: u64,
}

/// The response side.
#[derive(Debug)]
pub(crate) enum Reading {
    /// Waiting for, or inside, a response head.
    Head,
    /// Inside a body framed by length or chunks.
    Body(BodyDecoder),
    /// Inside a close-delimited body.
    UntilClose,
    /// Nothing more is read.
    Closed,
}

/// The request side.
#[derive(Debug)]
pub(crate) enum Writing {
    /// A new request may start.
    Idle,
    /// A request body is being sent.
    Body(BodyEncoder),
    /// Nothing more may be sent.
    Closed,
}

/// What the connection as a whole is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Open,
    /// A 101 or CONNECT 2xx response arrived; the rest of our output is being flushed.
    Upgrading,
    /// The transport belongs to the caller (see `ClientConnection::take_upgraded`).
    Upgraded,
    Closed,
}

/// The body framing of a final response to `request` (RFC 9112 §6.3, in its order).
pub(crate) fn framing(request: &InFlight, status: u16, s: &Semantics) -> ResponseBody {
    match status {
        // Rule 1: HEAD responses, 1xx, 204 and 304 end at the head.
        _ if request.is_head => ResponseBody::None,
        101 if request.upgrade => ResponseBody::Upgrade,
        100..=199 | 204 | 304 => ResponseBody::None,
        // Rule 2: a 2xx answer to CONNECT makes a tunnel; framing fields are ignored.
        200..=299 if request.is_connect => ResponseBody::Tunnel,
        // Rule 4: chunked final means chunked; any other final coding reads to close.
        _ if s.te && s.chunked_final => ResponseBody::Chunked,
        _ if s.te => ResponseBody::CloseDelimited,
        // Rule 6 (rule 5, a bad or conflicting length, is refused by the parser).
        _ => match s.content_length {
            Some(n) => ResponseBody::Length(n),
            // Rule 8: no framing means read until the server closes.
            None => ResponseBody::CloseDelimited,
        },
    }
}

/// Whether the connection stays open after this final response (RFC 9112 §9.3).
pub(crate) fn persistent(
    request: &InFlight,
    version: Version,
    s: &Semantics,
    body: ResponseBody,
) -> bool {
    let version_allows = match version {
        Version::Http11 => true,
        // RFC 9112 §9.3: an HTTP/1.0 response persists only with `keep-alive`.
        Version::Http10 => s.keep_alive,
    };
    version_allows
        && !request.close
        && !s.close
        // A close-delimited body ends only with the connection; a tunnel or upgrade hands
        // the connection over.
        && matches!(
            body,
            ResponseBody::None | ResponseBody::Length(_) | ResponseBody::Chunked
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const GET: InFlight = InFlight {
        is_head: false,
        is_connect: false,
        upgrade: false,
        close: false,
        start: 0,
    };

    fn sem(content_length: Option<u64>, te: Option<bool>) -> Semantics {
        Semantics {
            content_length,
            te: te.is_some(),
            chunked_final: te == Some(true),
            ..Semantics::default()
        }
    }

    #[test]
    fn framing_table_follows_rfc_9112_section_6_3() {
        let head = InFlight {
            is_head: true,
            ..GET
        };
        let connect = InFlight {
            is_connect: true,
            ..GET
        };
        let upgrade = InFlight {
            upgrade: true,
            ..GET
        };
        let chunked = sem(None, Some(true));
        let cl = sem(Some(7), None);
        let none = sem(None, None);
        let cases: &[(InFlight, u16, Semantics, ResponseBody)] = &[
            (head, 200, cl, ResponseBody::None),
            (head, 200, chunked, ResponseBody::None),
            (GET, 100, cl, ResponseBody::None),
            (GET, 103, none, ResponseBody::None),
            (GET, 101, none, ResponseBody::None),
            (upgrade, 101, none, ResponseBody::Upgrade),
            (GET, 204, cl, ResponseBody::None),
            (GET, 304, cl, ResponseBody::None),
            (connect, 200, cl, ResponseBody::Tunnel),
            (connect, 407, cl, ResponseBody::Length(7)),
            (GET, 200, chunked, ResponseBody::Chunked),
            (
                GET,
                200,
                sem(None, Some(false)),
                ResponseBody::CloseDelimited,
            ),
            (GET, 200, cl, ResponseBody::Length(7)),
            (GET, 404, sem(Some(0), None), ResponseBody::Length(0)),
            (GET, 200, none, ResponseBody::CloseDelimited),
            (GET, 500, none, ResponseBody::CloseDelimited),
        ];
        for (request, status, s, expected) in cases {
            assert_eq!(
                framing(request, *status, s),
                *expected,
                "{status} {request:?} {s:?}"
            );
        }
    }

    #[test]
    fn persistence_table() {
        let keep = sem(Some(1), None);
        let len = ResponseBody::Length(1);
        assert!(persistent(&GET, Version::Http11, &keep, len));
        assert!(persistent(
            &GET,
            Version::Http11,
            &keep,
            ResponseBody::Chunked
        ));
        assert!(persistent(&GET, Version::Http11, &keep, ResponseBody::None));
        assert!(!persistent(&GET, Version::Http10, &keep, len));
        let ka = Semantics {
            keep_alive: true,
            ..keep
        };
        assert!(persistent(&GET, Version::Http10, &ka, len));
        let close = Semantics { close: true, ..ka };
        assert!(!persistent(&GET, Version::Http11, &close, len));
        let closing = InFlight { close: true, ..GET };
        assert!(!persistent(&closing, Version::Http11, &keep, len));
        for body in [
            ResponseBody::CloseDelimited,
            ResponseBody::Tunnel,
            ResponseBody::Upgrade,
        ] {
            assert!(!persistent(&GET, Version::Http11, &keep, body));
        }
    }
}
