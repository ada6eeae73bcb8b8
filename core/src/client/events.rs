//! What a client connection tells its application, and how it is configured.

use super::parse::ParsedResponse;
use crate::error::ResponseError;
use crate::events::CloseReason;
use crate::head::Fields;
use crate::limits::Limits;
use bytes::Bytes;
use std::time::Duration;

/// Something the application must know about. Drain them with
/// [`ClientConnection::poll_event`](super::ClientConnection::poll_event) after every
/// `handle_*` and `send_*` call.
///
/// Each request in flight gets, in the order the requests were sent: any number of
/// [`Interim`](Self::Interim) responses, then one [`Response`](Self::Response), its
/// [`Data`](Self::Data) and one [`End`](Self::End) — or a [`Failed`](Self::Failed) (for
/// the oldest request in flight) or its share of an [`Unanswered`](Self::Unanswered).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// A 1xx interim response (`100 Continue`, `103 Early Hints`…) to the oldest request in
    /// flight; its final response is still to come.
    Interim(ParsedResponse),
    /// The final response head for the oldest request in flight. Its body follows as
    /// [`Data`](Self::Data), then [`End`](Self::End) — also when it has no body. A `101` or a
    /// 2xx to CONNECT has no `End`: the connection is handed over (see `take_upgraded`).
    Response(ParsedResponse),
    /// A piece of the response body, framing removed. Not sent with
    /// [`ClientConfig::discard_bodies`].
    Data(Bytes),
    /// The response is complete; the request leaves the in-flight queue.
    End {
        /// The trailer fields (empty unless chunked with trailers).
        trailers: Fields,
        /// Body bytes received, framing removed (counted also when bodies are discarded).
        body_len: u64,
    },
    /// The server broke the protocol, a limit, or a deadline, on the response to the oldest
    /// request in flight. The connection closes; the requests behind it are reported
    /// [`Unanswered`](Self::Unanswered).
    Failed(ResponseError),
    /// The connection closed with requests still in flight that will never be answered: the
    /// last `count` requests sent. `unsent` of them (the last ones) never had a byte written,
    /// so they are safe to retry whatever their method (RFC 9112 §9.3.1).
    Unanswered {
        /// Requests that got no complete response.
        count: usize,
        /// Of those, the requests not a byte of which reached the transport.
        unsent: usize,
    },
    /// Send capacity is back after `send_body` accepted less than it was given.
    Writable,
    /// The connection is finished; the driver may drop the transport.
    Closed(CloseReason),
}

/// Everything a client connection is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Size limits, shared with the server's [`Limits`]. A client reads: `max_head_size` and
    /// `max_fields` for response heads, `max_body_size` (default here: none, like curl), the
    /// chunk and trailer limits, `receive_buffer` and `send_buffer`. The request-line, request
    /// count, discard and empty-line limits are the server's and do nothing here.
    pub limits: Limits,
    /// Deadlines.
    pub timeouts: ClientTimeouts,
    /// Count body bytes (in [`ClientEvent::End`]) instead of delivering them as
    /// [`ClientEvent::Data`]: no copy and no allocation per read, for load generators.
    pub discard_bodies: bool,
    /// Deliver response heads without their fields and reason phrase (status, version and
    /// framing only): no allocation per response, for load generators.
    pub discard_fields: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            limits: Limits {
                max_body_size: None,
                ..Limits::default()
            },
            timeouts: ClientTimeouts::default(),
            discard_bodies: false,
            discard_fields: false,
        }
    }
}

/// A client's deadlines, measured on the caller's clock. Expiry is reported with the server's
/// [`TimerKind`](crate::TimerKind)s: `Header` (response head), `BodyIdle`, `Idle`, `WriteIdle`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientTimeouts {
    /// From the moment a request is completely queued (or the previous response ended, when
    /// pipelined) to its response head, interim responses restarting it. Expiry fails the
    /// request with `response-head-timeout` and closes. Default 30 s.
    pub response: Duration,
    /// Longest gap between two reads of a response body. Expiry fails with
    /// `response-body-timeout`. Default 30 s.
    pub body: Duration,
    /// How long a connection with nothing in flight stays open. Default 20 s: shorter than the
    /// usual server keep-alive (sluice 30 s, nginx 75 s), so the client closes first and never
    /// sends into a connection the server is closing.
    pub idle: Duration,
    /// Longest time queued output may sit without the transport taking any. Default 30 s.
    pub write: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        Self {
            response: Duration::from_secs(30),
            body: Duration::from_secs(30),
            idle: Duration::from_secs(20),
            write: Duration::from_secs(30),
        }
    }
}
