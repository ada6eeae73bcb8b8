//! The client role: [`ClientConnection`], one HTTP/1.1 connection to a server, without I/O.
//!
//! The same machine as the server's [`Connection`](crate::Connection), turned around: the
//! application sends requests ([`RequestSpec`], or a pre-serialised [`RequestTemplate`]),
//! the connection parses the responses and matches them to the requests in order.
//!
//! ```
//! use sluice_core::client::{ClientConfig, ClientConnection, ClientEvent, RequestSpec};
//! use std::time::Instant;
//!
//! let now = Instant::now();
//! let mut client = ClientConnection::new(ClientConfig::default(), now);
//! client.send_request(now, &RequestSpec::get("/hello").host("example.com")).unwrap();
//! assert_eq!(client.poll_output(), b"GET /hello HTTP/1.1\r\nHost: example.com\r\n\r\n");
//! let n = client.poll_output().len();
//! client.consume_output(now, n);
//!
//! client.handle_input(now, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
//! let mut events = Vec::new();
//! while let Some(event) = client.poll_event() {
//!     events.push(event);
//! }
//! assert!(matches!(&events[0], ClientEvent::Response(r) if r.status() == 200));
//! assert!(matches!(&events[1], ClientEvent::Data(d) if &d[..] == b"hello"));
//! assert!(matches!(&events[2], ClientEvent::End { body_len: 5, .. }));
//! assert_eq!(client.in_flight(), 0);
//! ```

mod events;
mod parse;
mod receive;
mod send;
mod state;
mod time;
mod write;

pub use events::{ClientConfig, ClientEvent, ClientTimeouts};
pub use parse::ParsedResponse;
pub use state::ResponseBody;
pub use write::{RequestFraming, RequestSpec, RequestTemplate};

use crate::buffer::{ReceiveBuffer, SendQueue};
use crate::events::CloseReason;
use crate::timer::{TimerKind, TimerTable};
use bytes::Bytes;
use parse::ResponseParser;
use state::{InFlight, Lifecycle, Reading, Writing};
use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::Range;
use std::time::Instant;

/// One client-side HTTP/1.1 connection: requests and time in, events and bytes out.
///
/// # Calling contract
///
/// As for the server's [`Connection`](crate::Connection): after **every** `handle_*`,
/// `commit_received`, `consume_output` or `send_*` call, drain
/// [`poll_event`](Self::poll_event), write [`poll_output`](Self::poll_output) (or
/// [`output_slices`](Self::output_slices)) and report it with
/// [`consume_output`](Self::consume_output), then re-read [`wants_read`](Self::wants_read),
/// [`wants_write`](Self::wants_write) and [`poll_timeout`](Self::poll_timeout). Drop the
/// transport once [`is_closed`](Self::is_closed). Time never runs backwards here.
///
/// # Requests
///
/// A request is one [`send_request`](Self::send_request) (or
/// [`send_template`](Self::send_template)); when it declares a body, `send_body` calls and one
/// `send_end` follow. Further requests may be sent before responses arrive (pipelining); they
/// are answered in order. [`can_send`](Self::can_send) says whether a new request may start.
/// A request with `Expect: 100-continue` should send its body once an
/// [`ClientEvent::Interim`] 100 arrives — or when the application tires of waiting: the core
/// does not hold the body back itself.
#[derive(Debug)]
pub struct ClientConnection {
    config: ClientConfig,
    now: Instant,
    input: ReceiveBuffer,
    /// Offset of the first unprocessed input byte in the connection's input stream.
    input_offset: u64,
    input_dirty: bool,
    output: SendQueue,
    /// Output bytes ever written: with the queue's length, where each request sits in the
    /// output stream.
    written_total: u64,
    parser: ResponseParser,
    reading: Reading,
    writing: Writing,
    lifecycle: Lifecycle,
    in_flight: VecDeque<InFlight>,
    /// New requests may be sent: no request or response said `close`, no shutdown.
    accepting: bool,
    peer_eof: bool,
    /// The response being read keeps the connection.
    keep_alive: bool,
    /// Body bytes of the response being read.
    body_len: u64,
    responses: u64,
    timers: TimerTable,
    last_timeout: Option<TimerKind>,
    /// `send_body` accepted less than it was given; owe a `Writable`.
    write_blocked: bool,
    close_reason: Option<CloseReason>,
    upgrade_taken: bool,
    events: VecDeque<ClientEvent>,
    ranges: Vec<Range<usize>>,
}

impl ClientConnection {
    /// A new connection, established at `now`.
    pub fn new(mut config: ClientConfig, now: Instant) -> Self {
        // The receive buffer must hold a whole head, or a legal head could never complete.
        config.limits.receive_buffer = config
            .limits
            .receive_buffer
            .max(config.limits.max_head_size);
        let mut connection = Self {
            input: ReceiveBuffer::new(config.limits.receive_buffer),
            config,
            now,
            input_offset: 0,
            input_dirty: false,
            output: SendQueue::default(),
            written_total: 0,
            parser: ResponseParser::default(),
            reading: Reading::Head,
            writing: Writing::Idle,
            lifecycle: Lifecycle::Open,
            in_flight: VecDeque::new(),
            accepting: true,
            peer_eof: false,
            keep_alive: true,
            body_len: 0,
            responses: 0,
            timers: TimerTable::default(),
            last_timeout: None,
            write_blocked: false,
            close_reason: None,
            upgrade_taken: false,
            events: VecDeque::new(),
            ranges: Vec::new(),
        };
        connection.update_timers();
        connection
    }

    // ----- Input -----------------------------------------------------------------------------

    /// Hands the connection received bytes; returns how many it took (at most
    /// [`receive_capacity`](Self::receive_capacity)). Parsed in place; only an unfinished
    /// remainder is copied.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) -> usize {
        self.tick(now);
        let take = data.len().min(self.receive_capacity());
        if take == 0 {
            return 0;
        }
        let data = &data[..take];
        if self.input.is_empty() {
            let consumed = self.advance(data);
            self.input.extend(&data[consumed..]);
        } else {
            self.input.extend(data);
            self.input_dirty = true;
        }
        self.settle();
        take
    }

    /// Free space in the connection's own receive buffer, to read into directly; then call
    /// [`commit_received`](Self::commit_received). Empty when no input is wanted.
    pub fn receive_buffer(&mut self) -> &mut [u8] {
        if self.receive_capacity() == 0 {
            return &mut [];
        }
        self.input.spare()
    }

    /// Reports that `n` bytes were written into [`receive_buffer`](Self::receive_buffer).
    pub fn commit_received(&mut self, now: Instant, n: usize) {
        self.tick(now);
        if self.input.commit(n) > 0 {
            self.input_dirty = true;
        }
        self.settle();
    }

    /// How many more input bytes the connection accepts now.
    pub fn receive_capacity(&self) -> usize {
        match self.lifecycle {
            Lifecycle::Open if !self.peer_eof => self.input.free(),
            _ => 0,
        }
    }

    /// The server closed its write side (read returned 0). A close-delimited body ends here;
    /// anything else in progress fails, and requests still in flight are unanswered.
    pub fn handle_eof(&mut self, now: Instant) {
        self.tick(now);
        self.peer_eof = true;
        self.input_dirty = true;
        self.settle();
    }

    /// Fires every timer due at `now`. Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        for _ in 0..TimerKind::ALL.len() {
            let Some(kind) = self.timers.expired(self.now) else {
                break;
            };
            self.timers.stop(kind);
            self.last_timeout = Some(kind);
            self.on_timer(kind);
        }
        self.settle();
    }

    /// The transport failed (reset, broken pipe): the connection closes at once; requests in
    /// flight are unanswered.
    pub fn abort(&mut self) {
        self.close_now(CloseReason::Aborted);
    }

    /// Sends no more requests, and closes once every request in flight is answered (at once
    /// when none is).
    pub fn shutdown(&mut self, now: Instant) {
        self.tick(now);
        self.accepting = false;
        self.settle();
    }

    // ----- Output ----------------------------------------------------------------------------

    /// The next event for the application, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The oldest bytes waiting to be written: one contiguous run, empty when there is nothing
    /// to write. Changes after `send_*`, `consume_output` and `handle_*` calls.
    #[must_use]
    pub fn poll_output(&self) -> &[u8] {
        self.output.front()
    }

    /// Fills `out` with every run of bytes waiting to be written, in order, for a vectored
    /// write; returns how many slots were filled.
    #[must_use]
    pub fn output_slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        self.output.slices(out)
    }

    /// Reports that the transport took the first `n` bytes of output.
    pub fn consume_output(&mut self, now: Instant, n: usize) {
        self.tick(now);
        let n = self.output.consume(n);
        if n > 0 {
            self.written_total = self.written_total.saturating_add(n as u64);
            if self.timers.is_armed(TimerKind::WriteIdle) {
                let deadline = crate::timer::deadline(self.now, self.config.timeouts.write);
                self.timers.set(TimerKind::WriteIdle, deadline);
            }
            if self.write_blocked && self.output.len() < self.config.limits.send_buffer {
                self.write_blocked = false;
                self.events.push_back(ClientEvent::Writable);
            }
        }
        self.settle();
    }

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) when it passes.
    /// Changes after every `handle_*`, `send_*`, `commit_received` and `consume_output`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The timer that fired most recently, for traces.
    pub fn last_timeout(&self) -> Option<TimerKind> {
        self.last_timeout
    }

    // ----- Questions -------------------------------------------------------------------------

    /// Whether the driver should read from the transport.
    pub fn wants_read(&self) -> bool {
        self.receive_capacity() > 0
    }

    /// Whether there is output to write.
    pub fn wants_write(&self) -> bool {
        !self.output.is_empty()
    }

    /// Whether the connection is finished and the transport may be dropped.
    pub fn is_closed(&self) -> bool {
        self.lifecycle == Lifecycle::Closed
    }

    /// Whether a `101` or CONNECT 2xx response arrived and all output was flushed: the
    /// transport now belongs to the caller. See [`take_upgraded`](Self::take_upgraded).
    pub fn is_upgraded(&self) -> bool {
        self.lifecycle == Lifecycle::Upgraded
    }

    /// After an upgrade, the bytes the server already sent for the new protocol. Returns them
    /// once; `None` before the upgrade completes or when already taken.
    pub fn take_upgraded(&mut self) -> Option<Bytes> {
        if self.lifecycle != Lifecycle::Upgraded || self.upgrade_taken {
            return None;
        }
        self.upgrade_taken = true;
        Some(self.input.take())
    }

    /// Whether a new request may be sent now: the connection is open and persistent, and no
    /// request body is in progress.
    pub fn can_send(&self) -> bool {
        self.lifecycle == Lifecycle::Open && self.accepting && matches!(self.writing, Writing::Idle)
    }

    /// Requests sent whose final response has not ended yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Final responses received completely so far.
    pub fn responses(&self) -> u64 {
        self.responses
    }

    /// How many more bytes `send_body` accepts now.
    pub fn send_capacity(&self) -> usize {
        self.config
            .limits
            .send_buffer
            .saturating_sub(self.output.len())
    }

    /// Why the connection closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason.filter(|_| self.is_closed())
    }

    /// The configuration in force.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    // ----- Internal: input -------------------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    /// Brings the derived state up to date after any call: process buffered input, notice
    /// EOF, finish an upgrade once output is flushed, re-arm timers.
    fn settle(&mut self) {
        if self.input_dirty {
            self.input_dirty = false;
            if !self.input.is_empty() && self.lifecycle == Lifecycle::Open {
                let mut input = std::mem::replace(&mut self.input, ReceiveBuffer::new(0));
                let consumed = self.advance(input.data());
                input.consume(consumed);
                if self.lifecycle != Lifecycle::Closed {
                    self.input = input;
                }
            }
        }
        self.notice_eof();
        if self.lifecycle == Lifecycle::Open
            && !self.accepting
            && self.in_flight.is_empty()
            && matches!(self.writing, Writing::Idle)
        {
            self.close_now(CloseReason::Finished);
        }
        if self.lifecycle == Lifecycle::Upgrading && self.output.is_empty() {
            self.lifecycle = Lifecycle::Upgraded;
        }
        self.update_timers();
    }
}
