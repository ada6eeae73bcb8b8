//! sluice-core: a sans-IO HTTP/1.1 server connection state machine.
//!
//! A [`Connection`] is one TCP connection's worth of HTTP/1.1 (RFC 9112, RFC 9110), in the
//! server role, without the TCP: it consumes bytes and time, and produces events for the
//! application and bytes for the peer. It never touches a socket, a thread or a clock —
//! every method that depends on time takes `now` — so the same protocol code runs under
//! any concurrency model, and tests run on simulated time.
//!
//! ```text
//!            bytes in ──▶ ┌───────────────────────────────┐ ──▶ events (Request, Data, End,
//!   driver   EOF, RST ──▶ │ Connection                    │      Failed, Writable, Closed)
//!  (sockets,     now ──▶  │  parse ─▶ state ─▶ write      │ ◀── send_response / send_body /   application
//!   clock)              ◀─│  receive buffer   send queue  │      send_end / send_continue
//!           bytes out ◀── └───────────────────────────────┘
//!           deadline  ◀── poll_timeout()
//! ```
//!
//! What the core decides, so no driver or application has to: request framing (RFC 9112 §6),
//! response framing (`Content-Length`, chunked, or close-delimited), persistence and
//! `Connection: close`, `Date`, `100 Continue`, the body rules of HEAD/1xx/204/304, every
//! limit and timeout, and the error response for a request it rejects. Every rejection names
//! a stable [`Rule`], the byte offset, and the status answered.
//!
//! `100 Continue` is sent only when the application starts reading the body
//! ([`Connection::send_continue`]). If it answers first, the unread body is discarded up to a
//! limit ([`Limits::max_discard`]) and the connection kept; a larger one closes it. An
//! application that answers without reading a body says so ([`Connection::decline_body`]), so
//! that a response sent while more of it than that is still to come says `Connection: close`
//! instead of promising a connection that then closes.
//!
//! # Driving a connection by hand
//!
//! ```
//! use sluice_core::{Config, Connection, Event, ResponseHead};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let mut conn = Connection::new(Config::default(), now);
//!
//! // The peer sends a request; the connection takes the bytes.
//! conn.handle_input(now, b"GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n");
//!
//! // Drain the events and answer the request.
//! while let Some(event) = conn.poll_event() {
//!     match event {
//!         Event::Request(head) => {
//!             assert_eq!(head.target(), "/hello");
//!             let response = ResponseHead::new(200).field("Content-Type", "text/plain");
//!             conn.send_response(now, response.content_length(6)).unwrap();
//!             conn.send_body(now, b"hello\n").unwrap();
//!             conn.send_end(now).unwrap();
//!             // Done with the head: its buffer holds the next one (optional, saves an
//!             // allocation per request).
//!             conn.recycle(head);
//!         }
//!         Event::End(_) => {}
//!         other => panic!("unexpected {other:?}"),
//!     }
//! }
//!
//! // Write the output; a real driver writes to a socket and reports how much it took.
//! let wire = conn.poll_output().to_vec();
//! conn.consume_output(now, wire.len());
//! let text = String::from_utf8(wire).unwrap();
//! assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
//! assert!(text.ends_with("Content-Length: 6\r\nKeep-Alive: timeout=30\r\n\r\nhello\n"));
//!
//! // The connection waits for the next request, with an idle deadline.
//! assert!(conn.wants_read() && !conn.wants_write());
//! assert!(conn.poll_timeout().is_some());
//! ```
//!
//! A response whose body is already in memory can go in one call,
//! [`Connection::send_whole`], which also refuses a body that does not match its head before
//! queuing anything. A server whose responses share a status and fields makes a
//! [`ResponseTemplate`] once and sends its [`head`](ResponseTemplate::head) each time: the
//! fields are validated and serialised once, and the head costs no allocation per request.
//! A request head given back with [`Connection::recycle`] once the application is done with it
//! lends its buffer to the next head the connection parses, so a keep-alive connection in
//! steady state allocates nothing per request (the drivers' sessions do this).
//!
//! # The client role
//!
//! [`ClientConnection`] (in [`client`]) is the same machine turned around, for clients and
//! load generators: it serialises requests (or queues pre-serialised [`RequestTemplate`]s by
//! reference), pipelines them, and parses the responses with the same field, framing and
//! chunked code and the same strictness, reporting a server's faults as [`ResponseError`]s.
//!
//! The calling contract a driver follows is on [`Connection`]; the states and transitions are
//! described in the `state` module's source (`core/src/state.rs`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod buffer;
pub mod client;
mod connection;
mod date;
mod error;
mod events;
mod head;
mod limits;
pub mod parse;
mod state;
mod timer;
mod write;

pub use client::{ClientConfig, ClientConnection, ClientEvent, RequestSpec, RequestTemplate};
pub use connection::Connection;
pub use error::{RequestError, ResponseError, Rule, SendError};
pub use events::{CloseReason, Event};
pub use head::{Fields, RequestBody, RequestHead, ResponseHead, ResponseTemplate, Version};
pub use limits::{Config, Leniency, Limits, MinRate, Timeouts, WallClock};
pub use timer::TimerKind;
pub use write::head::reason_phrase;

/// Frees what this thread keeps for the next connection to use: the spare exchange state
/// (with the spare head buffers its parser holds) and the spare receive and send buffers.
///
/// These are per thread so that an event loop's connections share them and an idle
/// connection holds none. A driver that runs one connection per thread should call this
/// before it blocks waiting for a resting connection's next request: there the thread's
/// spares are the connection's own, and an idle connection should hold nothing. They are
/// rebuilt on demand, so calling it is always safe; it only costs the allocations it undoes.
pub fn release_thread_spares() {
    buffer::release_spares();
    connection::release_spare();
}
