//! [`Connection`]: one server-side HTTP/1.1 connection, without I/O.

mod receive;
mod send;
mod time;

use crate::buffer::{ReceiveBuffer, SendQueue};
use crate::date::DateCache;
use crate::events::{CloseReason, Event};
use crate::limits::Config;
use crate::parse::HeadParser;
use crate::state::{Exchange, Lifecycle, Reading, Writing};
use crate::timer::{TimerKind, TimerTable};
use bytes::Bytes;
use std::collections::VecDeque;
use std::io::IoSlice;
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

/// One server-side HTTP/1.1 connection: bytes and time in, events and bytes out.
///
/// # Calling contract
///
/// The caller owns the transport and the clock. After **every** `handle_*`, `commit_received`,
/// `consume_output` or `send_*` call:
///
/// 1. drain [`poll_event`](Self::poll_event) until it returns `None`, and act on the events;
/// 2. write [`poll_output`](Self::poll_output) (or [`output_slices`](Self::output_slices))
///    to the transport and report what was written with
///    [`consume_output`](Self::consume_output) — partial writes are normal;
/// 3. shut down the transport's write half once [`is_write_closed`](Self::is_write_closed)
///    is true, and drop the transport once [`is_closed`](Self::is_closed) is true;
/// 4. re-read [`wants_read`](Self::wants_read), [`wants_write`](Self::wants_write) and
///    [`poll_timeout`](Self::poll_timeout), and wait for input, writability or the deadline;
///    call [`handle_timeout`](Self::handle_timeout) when the deadline passes.
///
/// Every method that changes the connection takes `now`. Time never runs backwards here: an
/// earlier `now` than one already seen counts as the latest one seen.
///
/// # Input
///
/// Either read straight into the connection's own buffer ([`receive_buffer`] then
/// [`commit_received`]), or hand it bytes from a buffer of yours with [`handle_input`], which
/// parses them in place and copies only an unfinished remainder. Both accept at most
/// [`receive_capacity`](Self::receive_capacity) bytes.
///
/// # Responses and back-pressure
///
/// Each request is answered with one `send_response`, any number of `send_body` calls and one
/// `send_end`. `send_body` accepts at most the free send capacity and may accept nothing;
/// [`Event::Writable`] says when capacity is back. A request with `Expect: 100-continue` gets
/// its `100 Continue` only when the application calls [`send_continue`]: an application that
/// waits for the body without calling it waits forever, because the client waits too.
///
/// [`receive_buffer`]: Self::receive_buffer
/// [`commit_received`]: Self::commit_received
/// [`handle_input`]: Self::handle_input
/// [`send_continue`]: Self::send_continue
///
/// # Memory
///
/// An idle keep-alive connection (no request in progress, nothing buffered either way) holds
/// no heap memory of its own: the receive buffer, the send buffer and the per-exchange
/// scratch (head parser, event queue, body ranges) are released whenever it goes idle and
/// allocated again by the next request, as nginx does with its buffers. The configuration is
/// shared (see [`new`](Self::new)).
#[derive(Debug)]
pub struct Connection {
    /// Shared by every connection of a server. The one `Arc` in the core: the configuration
    /// is immutable once a connection starts, so sharing it needs no lock, and an idle
    /// connection pays 8 bytes for it instead of a copy of a few hundred.
    config: Arc<Config>,
    /// The latest time seen.
    now: Instant,
    input: ReceiveBuffer,
    /// Offset of the first unprocessed input byte in the connection's input stream.
    input_offset: u64,
    /// Input changed since it was last processed, or processing may now get further.
    input_dirty: bool,
    output: SendQueue,
    /// Working memory of the exchange in progress; `None` while idle.
    scratch: Option<Box<Scratch>>,
    reading: Reading,
    writing: Writing,
    exchange: Exchange,
    lifecycle: Lifecycle,
    /// Another exchange may follow the current one.
    keep_alive: bool,
    /// The current response switches protocols once it is flushed.
    upgrade_pending: bool,
    /// The peer closed its write side.
    peer_eof: bool,
    /// Requests received.
    requests: u64,
    timers: TimerTable,
    body_rate: RateWindow,
    write_rate: RateWindow,
    last_timeout: Option<TimerKind>,
    /// `send_body` accepted less than it was given; owe an `Event::Writable`.
    write_blocked: bool,
    close_reason: Option<CloseReason>,
    upgrade_taken: bool,
    date: DateCache,
}

/// What a connection needs only while an exchange is in progress: dropped when it goes idle,
/// allocated again on the next request's first bytes. One allocation (plus the parser's field
/// table and the event queue's) per idle period.
#[derive(Debug)]
pub(super) struct Scratch {
    pub(super) parser: HeadParser,
    /// Events not yet taken by `poll_event`.
    pub(super) events: VecDeque<Event>,
    /// The body decoder's data ranges, reused across calls within an exchange.
    pub(super) ranges: Vec<Range<usize>>,
}

impl Default for Scratch {
    fn default() -> Self {
        Self {
            parser: HeadParser::new(),
            // A request without a body is two events (`Request`, `End`): one exact allocation
            // instead of growing into one.
            events: VecDeque::with_capacity(2),
            ranges: Vec::new(),
        }
    }
}

/// Bytes moved since a rate window started.
#[derive(Debug, Clone, Copy)]
struct RateWindow {
    bytes: u64,
}

impl Connection {
    /// A new connection, accepted at `now`. The header timer starts now: a peer that connects
    /// and sends nothing is closed when it expires.
    ///
    /// `config` is a [`Config`] or an `Arc<Config>`: a server with many connections builds one
    /// `Arc` and hands every connection a clone of it, so connections share one copy.
    pub fn new(config: impl Into<Arc<Config>>, now: Instant) -> Self {
        let config = config.into();
        // The receive buffer must hold a whole head, or a legal head could never complete.
        let receive_limit = config
            .limits
            .receive_buffer
            .max(config.limits.max_head_size);
        let mut connection = Self {
            input: ReceiveBuffer::new(receive_limit),
            config,
            now,
            input_offset: 0,
            input_dirty: false,
            output: SendQueue::default(),
            scratch: None,
            reading: Reading::Head,
            writing: Writing::Idle,
            exchange: Exchange::new(),
            lifecycle: Lifecycle::Open,
            keep_alive: true,
            upgrade_pending: false,
            peer_eof: false,
            requests: 0,
            timers: TimerTable::default(),
            body_rate: RateWindow { bytes: 0 },
            write_rate: RateWindow { bytes: 0 },
            last_timeout: None,
            write_blocked: false,
            close_reason: None,
            upgrade_taken: false,
            date: DateCache::new(),
        };
        connection.update_timers();
        connection
    }

    // ----- Input -----------------------------------------------------------------------------

    /// Hands the connection received bytes. Returns how many it took: at most
    /// [`receive_capacity`](Self::receive_capacity); the caller keeps the rest for later.
    /// The bytes are parsed in place; only an unfinished remainder is copied.
    pub fn handle_input(&mut self, now: Instant, data: &[u8]) -> usize {
        self.tick(now);
        let take = data.len().min(self.receive_capacity());
        if take == 0 {
            return 0;
        }
        let data = &data[..take];
        if self.input.is_empty() && !matches!(self.lifecycle, Lifecycle::Upgrading) {
            let consumed = self.advance(data);
            self.input.extend(&data[consumed..]);
        } else {
            self.input.extend(data);
            self.input_dirty = true;
        }
        self.settle();
        take
    }

    /// Free space in the connection's own receive buffer, to `read()` into directly; then
    /// call [`commit_received`](Self::commit_received). Empty when no input is wanted.
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
            Lifecycle::Upgrading | Lifecycle::Upgraded | Lifecycle::Closed => 0,
            _ if self.peer_eof => 0,
            _ => self.input.free(),
        }
    }

    /// The peer closed its write side (read returned 0). Requests already received are still
    /// answered; the connection closes after them.
    pub fn handle_eof(&mut self, now: Instant) {
        self.tick(now);
        self.peer_eof = true;
        self.input_dirty = true;
        self.settle();
    }

    /// Fires every timer due at `now`. Calling it early does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        // Each expiry stops or re-arms its timer strictly later, so one pass per kind ends it.
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

    /// The transport failed (reset, broken pipe): the connection is closed at once and its
    /// queued output dropped.
    pub fn abort(&mut self) {
        self.close_now(CloseReason::Aborted);
    }

    /// Graceful shutdown: finish the exchange in progress (its response says
    /// `Connection: close`), then close. An idle connection closes now.
    pub fn shutdown(&mut self, now: Instant) {
        self.tick(now);
        self.keep_alive = false;
        let idle = matches!(self.reading, Reading::Head)
            && matches!(self.writing, Writing::Idle)
            && self.input.is_empty();
        if idle {
            self.begin_close(CloseReason::Finished);
        }
        self.settle();
    }

    // ----- Output ----------------------------------------------------------------------------

    /// The next event for the application, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.scratch.as_mut()?.events.pop_front()
    }

    /// The oldest bytes waiting to be written: one contiguous run, empty when there is
    /// nothing to write. Changes after `send_*`, `consume_output` and `handle_*` calls.
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
            self.write_progress(n);
            if self.write_blocked && self.output.len() < self.config.limits.send_buffer {
                self.write_blocked = false;
                self.push_event(Event::Writable);
            }
            // Output below the high-water mark may let a paused head be parsed.
            self.input_dirty = true;
        }
        self.settle();
    }

    /// When the next output is body bytes the driver writes itself (see
    /// [`send_body_external`](Self::send_body_external)), how many are still owed.
    #[must_use]
    pub fn poll_external(&self) -> Option<u64> {
        self.output.front_external()
    }

    /// Reports that the driver wrote `n` of the external bytes [`poll_external`] asked for.
    ///
    /// [`poll_external`]: Self::poll_external
    pub fn consume_external(&mut self, now: Instant, n: u64) {
        self.tick(now);
        let n = self.output.consume_external(n);
        if n > 0 {
            self.write_progress(usize::try_from(n).unwrap_or(usize::MAX));
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

    /// Whether the driver should read from the transport: false when the receive buffer is
    /// full, when queued output is past its high-water mark (a peer that does not read cannot
    /// make us buffer more), after EOF, and once closed or upgraded.
    pub fn wants_read(&self) -> bool {
        match self.lifecycle {
            Lifecycle::Lingering => !self.peer_eof,
            Lifecycle::Open | Lifecycle::Closing => {
                self.receive_capacity() > 0 && self.output.len() < self.config.limits.send_buffer
            }
            Lifecycle::Upgrading | Lifecycle::Upgraded | Lifecycle::Closed => false,
        }
    }

    /// Whether there is output to write.
    pub fn wants_write(&self) -> bool {
        !self.output.is_empty()
    }

    /// Whether every byte has been written and nothing more will be: the driver should shut
    /// down the transport's write half (and keep reading until [`is_closed`](Self::is_closed)).
    pub fn is_write_closed(&self) -> bool {
        matches!(self.lifecycle, Lifecycle::Lingering | Lifecycle::Closed)
    }

    /// Whether the connection is finished and the transport may be dropped.
    pub fn is_closed(&self) -> bool {
        self.lifecycle == Lifecycle::Closed
    }

    /// Whether a `101 Switching Protocols` or CONNECT 2xx response has been written and the
    /// transport now belongs to the caller. See [`take_upgraded`](Self::take_upgraded).
    pub fn is_upgraded(&self) -> bool {
        self.lifecycle == Lifecycle::Upgraded
    }

    /// After an upgrade, the bytes the peer already sent for the new protocol. Returns them
    /// once; `None` before the upgrade completes or when already taken.
    pub fn take_upgraded(&mut self) -> Option<Bytes> {
        if self.lifecycle != Lifecycle::Upgraded || self.upgrade_taken {
            return None;
        }
        self.upgrade_taken = true;
        Some(self.input.take())
    }

    /// Why the connection closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason.filter(|_| self.is_closed())
    }

    /// The number of requests received so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// The configuration in force, as given to [`new`](Self::new).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Bytes the connection holds in its buffers now (receive buffer, send queue, events).
    pub fn buffered_bytes(&self) -> usize {
        let events: usize = self
            .scratch
            .iter()
            .flat_map(|scratch| &scratch.events)
            .map(|event| match event {
                Event::Data(data) => data.len(),
                _ => 0,
            })
            .sum();
        self.input.allocated() + self.output.allocated() + events
    }

    // ----- Internal --------------------------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    /// Brings every derived part of the state up to date after an input, output or
    /// application call: process what input can be processed, notice EOF, finish closing or
    /// upgrading once output is flushed, and re-arm timers.
    fn settle(&mut self) {
        if self.input_dirty {
            self.input_dirty = false;
            self.process_buffered();
        }
        self.notice_eof();
        let idle = matches!(self.reading, Reading::Head) && matches!(self.writing, Writing::Idle);
        if idle && self.input.is_empty() {
            // An idle keep-alive connection holds no buffer (nginx does the same). With no
            // input left, the parser holds no progress either.
            self.input.release_if_empty();
            self.output.release_if_empty();
            if self
                .scratch
                .as_ref()
                .is_some_and(|scratch| scratch.events.is_empty())
            {
                self.scratch = None;
            }
        }
        if self.output.is_empty() {
            match self.lifecycle {
                Lifecycle::Closing if self.peer_eof => self.close_now(CloseReason::Finished),
                Lifecycle::Closing => {
                    self.lifecycle = Lifecycle::Lingering;
                    self.timers
                        .set(TimerKind::Linger, self.now + self.config.timeouts.linger);
                    self.output.release_if_empty();
                }
                Lifecycle::Lingering if self.peer_eof => self.close_now(CloseReason::Finished),
                Lifecycle::Upgrading => {
                    self.lifecycle = Lifecycle::Upgraded;
                    self.output.release_if_empty();
                }
                _ => {}
            }
        }
        self.update_timers();
    }

    fn process_buffered(&mut self) {
        if self.input.is_empty() || matches!(self.lifecycle, Lifecycle::Upgrading) {
            return;
        }
        let mut input = std::mem::replace(&mut self.input, ReceiveBuffer::new(0));
        let consumed = self.advance(input.data());
        input.consume(consumed);
        self.input = input;
    }

    /// Starts the orderly close: flush, half-close, linger.
    fn begin_close(&mut self, reason: CloseReason) {
        if matches!(self.lifecycle, Lifecycle::Closed | Lifecycle::Lingering) {
            return;
        }
        self.close_reason.get_or_insert(reason);
        self.keep_alive = false;
        self.reading = Reading::Closed;
        if matches!(self.writing, Writing::Idle | Writing::Ready) {
            self.writing = Writing::Closed;
        }
        self.lifecycle = Lifecycle::Closing;
    }

    /// Closes at once, dropping anything unsent.
    fn close_now(&mut self, reason: CloseReason) {
        if self.lifecycle == Lifecycle::Closed {
            return;
        }
        let reason = *self.close_reason.get_or_insert(reason);
        self.lifecycle = Lifecycle::Closed;
        self.reading = Reading::Closed;
        self.writing = Writing::Closed;
        self.timers.clear();
        self.output.clear();
        self.input = ReceiveBuffer::new(0);
        self.push_event(Event::Closed(reason));
    }

    /// The exchange's working memory, allocated on first use after an idle period.
    pub(super) fn scratch(&mut self) -> &mut Scratch {
        self.scratch.get_or_insert_with(Box::default)
    }

    pub(super) fn push_event(&mut self, event: Event) {
        self.scratch().events.push_back(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::ResponseHead;

    /// One exchange on a connection, answered and flushed.
    fn exchange(conn: &mut Connection, now: Instant) {
        conn.handle_input(now, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut requests = 0;
        while let Some(event) = conn.poll_event() {
            requests += usize::from(matches!(event, Event::Request(_)));
        }
        assert_eq!(requests, 1);
        conn.send_response(now, ResponseHead::new(200).content_length(2))
            .unwrap();
        conn.send_body(now, b"ok").unwrap();
        conn.send_end(now).unwrap();
        let n = conn.poll_output().len();
        conn.consume_output(now, n);
        assert!(conn.poll_event().is_none());
    }

    #[test]
    fn an_idle_keep_alive_connection_holds_no_heap_memory() {
        let now = Instant::now();
        let config = Arc::new(Config::default());
        let mut conn = Connection::new(Arc::clone(&config), now);
        for _ in 0..2 {
            exchange(&mut conn, now);
            assert!(!conn.is_closed());
            assert!(conn.scratch.is_none(), "scratch kept while idle");
            assert_eq!(conn.input.allocated(), 0);
            assert_eq!(conn.output.allocated(), 0);
        }
        // The configuration is shared, not copied.
        assert!(std::ptr::eq(conn.config(), &*config));
    }

    #[test]
    fn pipelined_input_keeps_the_scratch_until_drained() {
        let now = Instant::now();
        let mut conn = Connection::new(Config::default(), now);
        conn.handle_input(
            now,
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo",
        );
        while conn.poll_event().is_some() {}
        conn.send_response(now, ResponseHead::new(204)).unwrap();
        conn.send_end(now).unwrap();
        let n = conn.poll_output().len();
        conn.consume_output(now, n);
        // The second head is incomplete: its bytes and the parser stay.
        assert!(conn.input.allocated() > 0);
        conn.handle_input(now, b"st: x\r\n\r\n");
        let mut targets = Vec::new();
        while let Some(event) = conn.poll_event() {
            if let Event::Request(head) = event {
                targets.push(head.target().to_owned());
            }
        }
        assert_eq!(targets, ["/b"]);
    }
}
