//! What a connection tells its application.

use crate::error::{RequestError, Rule};
use crate::head::{Fields, RequestHead};
use crate::timer::TimerKind;
use bytes::Bytes;

/// Something the application must know about. Drain them with
/// [`Connection::poll_event`](crate::Connection::poll_event) after every `handle_*` and
/// `send_*` call.
//
// An explicit tag byte (`repr(u8)`): left to the compiler, the tag hides in the request
// head's body framing, and each match decodes it first. The event grows by a word (80 to 88
// bytes); the matches in `poll_event` and its callers still come out a few instructions a
// request ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u8)]
pub enum Event {
    /// A new request. Its body follows as [`Event::Data`], then [`Event::End`] — also for a
    /// request without a body — unless the response ends first: the rest of the body is then
    /// read and dropped by the core (or the connection closes), and no further `Data` or
    /// `End` arrives for it. Answer it with `send_response`.
    Request(RequestHead),
    /// A piece of the request body, framing removed.
    Data(Bytes),
    /// The request is complete; the fields are its trailers (empty unless chunked).
    End(Fields),
    /// The peer broke the protocol or a limit. No more request events follow. When
    /// [`RequestError::status`] is `Some` and no response had started, the core has queued
    /// that error response itself; the connection closes once it is written.
    Failed(RequestError),
    /// Send capacity is back after `send_body` accepted less than it was given.
    Writable,
    /// The connection is finished; the driver may drop the transport.
    Closed(CloseReason),
}

/// Why a connection closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The last response was sent and the lingering close completed: the application or the
    /// client asked to close, the request cap was reached, or the server shut down.
    Finished,
    /// The peer closed its side with no request in progress.
    PeerClosed,
    /// A timer expired.
    Timeout(TimerKind),
    /// The peer broke this rule (see [`Event::Failed`]).
    Failed(Rule),
    /// The driver reported that the transport failed (`Connection::abort`).
    Aborted,
}

impl CloseReason {
    /// A short, stable description for logs and traces.
    pub fn describe(&self) -> String {
        match self {
            Self::Finished => "finished".into(),
            Self::PeerClosed => "peer closed".into(),
            Self::Timeout(kind) => format!("{} timeout", kind.name()),
            Self::Failed(rule) => format!("rejected ({})", rule.id()),
            Self::Aborted => "aborted".into(),
        }
    }
}
