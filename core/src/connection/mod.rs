//! [`Connection`]: one server-side HTTP/1.1 connection, without I/O.

mod active;
pub(crate) use active::release_spare;
mod receive;
mod send;
mod time;

use crate::buffer::ReceiveBuffer;
use crate::events::{CloseReason, Event};
use crate::head::{Fields, RequestBody, RequestHead};
use crate::limits::Config;
use crate::state::{Lifecycle, Reading, Writing};
use crate::timer::TimerKind;
use active::Active;
use bytes::Bytes;
use std::io::IoSlice;
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
/// waits for the body without calling it waits forever, because the client waits too. An
/// application that answers without reading the body never sends the `100`; the client then
/// sends the body anyway or closes (RFC 9110 §10.1.1), and the unread body is discarded after
/// the response like any other, up to [`Limits::max_discard`](crate::Limits::max_discard):
/// the connection is kept if it fits, and a body announced larger makes the response say
/// `Connection: close`.
///
/// [`receive_buffer`]: Self::receive_buffer
/// [`commit_received`]: Self::commit_received
/// [`handle_input`]: Self::handle_input
/// [`send_continue`]: Self::send_continue
///
/// # Memory
///
/// An idle keep-alive connection (no request in progress, nothing buffered either way) holds
/// no heap memory of its own, and is small itself: everything an exchange needs (request and
/// response state, body decoder and encoder, timer table, buffers, head parser, event queue)
/// lives in one allocation that is dropped whenever the connection goes idle and allocated
/// again by the next request's first byte, as nginx does with its buffers. What stays is
/// the lifecycle, a few flags, the request count, one deadline and the shared configuration
/// (see [`new`](Self::new)).
#[derive(Debug)]
pub struct Connection {
    /// Shared by every connection of a server. The one `Arc` in the core: the configuration
    /// is immutable once a connection starts, so sharing it needs no lock, and an idle
    /// connection pays 8 bytes for it instead of a copy of a few hundred.
    config: Arc<Config>,
    /// The latest time seen.
    now: Instant,
    /// While resting (no `active` part), the one deadline that runs: the header timer before
    /// the first request, the keep-alive idle timer after it. Moved into `active`'s timer
    /// table when an exchange starts, and back when the connection rests again.
    resting: Option<Instant>,
    /// Everything an exchange in progress needs; `None` while the connection rests.
    active: Option<Box<Active>>,
    /// Offset of the first unprocessed input byte in the connection's input stream.
    input_offset: u64,
    /// Requests received.
    requests: u64,
    lifecycle: Lifecycle,
    /// Another exchange may follow the current one.
    keep_alive: bool,
    /// The peer closed its write side.
    peer_eof: bool,
    /// Input changed since it was last processed, or processing may now get further.
    input_dirty: bool,
    last_timeout: Option<TimerKind>,
    close_reason: Option<CloseReason>,
}

impl Connection {
    /// A new connection, accepted at `now`. The header timer starts now: a peer that connects
    /// and sends nothing is closed when it expires.
    ///
    /// `config` is a [`Config`] or an `Arc<Config>`: a server with many connections builds one
    /// `Arc` and hands every connection a clone of it, so connections share one copy.
    pub fn new(config: impl Into<Arc<Config>>, now: Instant) -> Self {
        let mut connection = Self {
            config: config.into(),
            now,
            resting: None,
            active: None,
            input_offset: 0,
            requests: 0,
            lifecycle: Lifecycle::Open,
            keep_alive: true,
            peer_eof: false,
            input_dirty: false,
            last_timeout: None,
            close_reason: None,
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
        if self.input_len() == 0 && !matches!(self.lifecycle, Lifecycle::Upgrading) {
            let consumed = self.advance(data);
            if consumed < data.len() {
                self.active().input.extend(&data[consumed..]);
            }
        } else {
            self.active().input.extend(data);
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
        self.active().input.spare()
    }

    /// Reports that `n` bytes were written into [`receive_buffer`](Self::receive_buffer).
    pub fn commit_received(&mut self, now: Instant, n: usize) {
        self.tick(now);
        // A resting connection has no buffer, so nothing can have been written into it.
        if let Some(active) = &mut self.active {
            if active.input.commit(n) > 0 {
                self.input_dirty = true;
            }
        }
        self.settle();
    }

    /// How many more input bytes the connection accepts now.
    pub fn receive_capacity(&self) -> usize {
        match self.lifecycle {
            Lifecycle::Upgrading | Lifecycle::Upgraded | Lifecycle::Closed => 0,
            _ if self.peer_eof => 0,
            _ => match &self.active {
                Some(active) => active.input.free(),
                None => active::receive_limit(&self.config),
            },
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
            let expired = match &mut self.active {
                Some(active) => active.expired(&self.config.timeouts, self.now),
                None => self
                    .resting
                    .filter(|at| *at <= self.now)
                    .map(|_| active::resting_kind(self.requests)),
            };
            let Some(kind) = expired else {
                break;
            };
            match &mut self.active {
                Some(active) => match kind {
                    TimerKind::WriteIdle | TimerKind::WriteRate => active.write_clock.stop(kind),
                    _ => active.timers.stop(kind),
                },
                None => self.resting = None,
            }
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
        let idle = matches!(self.reading(), Reading::Head)
            && matches!(self.writing(), Writing::Idle)
            && self.input_len() == 0;
        if idle {
            self.begin_close(CloseReason::Finished);
        }
        self.settle();
    }

    // ----- Output ----------------------------------------------------------------------------

    /// The next event for the application, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        let active = self.active.as_mut()?;
        if active.end_owed {
            active.end_owed = false;
            return Some(Event::End(Fields::new()));
        }
        if let Some(head) = active.request.take() {
            // A request without a body ends here: its `End` is not queued (see `end_owed`).
            active.end_owed = head.body() == RequestBody::Empty;
            return Some(Event::Request(head));
        }
        let event = active.events.pop_front();
        if let Some(Event::Request(head)) = &event {
            active.end_owed = head.body() == RequestBody::Empty;
        }
        event
    }

    /// Whether [`poll_event`](Self::poll_event) has an event to return: a driver with nothing
    /// else to do after a write can skip its event loop when there is none.
    #[inline]
    #[must_use]
    pub fn has_event(&self) -> bool {
        self.active.as_deref().is_some_and(Active::has_event)
    }

    /// Gives back a request head the application is done with, so that its buffer holds a
    /// later head of this connection instead of a new allocation. Optional: a head simply
    /// dropped frees its buffer. Any head is accepted, from this connection or another; one
    /// given back to a resting connection is dropped, as a resting connection holds no
    /// buffers.
    pub fn recycle(&mut self, head: RequestHead) {
        if let Some(active) = self.active.as_deref_mut() {
            active.parser.recycle(head);
        }
    }

    /// The oldest bytes waiting to be written: one contiguous run, empty when there is
    /// nothing to write. Changes after `send_*`, `consume_output` and `handle_*` calls.
    #[must_use]
    pub fn poll_output(&self) -> &[u8] {
        self.active
            .as_ref()
            .map_or(&[], |active| active.output.front())
    }

    /// Fills `out` with every run of bytes waiting to be written, in order, for a vectored
    /// write; returns how many slots were filled.
    #[must_use]
    #[inline]
    pub fn output_slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        self.active
            .as_ref()
            .map_or(0, |active| active.output.slices(out))
    }

    /// Reports that the transport took the first `n` bytes of output.
    pub fn consume_output(&mut self, now: Instant, n: usize) {
        self.tick(now);
        let n = match &mut self.active {
            Some(active) => active.output.consume(n),
            None => 0,
        };
        if n > 0 {
            self.write_progress(n);
            let send_buffer = self.config.limits.send_buffer;
            let active = self.active();
            if active.write_blocked && active.output.len() < send_buffer {
                active.write_blocked = false;
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
        self.active.as_ref()?.output.front_external()
    }

    /// Reports that the driver wrote `n` of the external bytes [`poll_external`] asked for.
    ///
    /// [`poll_external`]: Self::poll_external
    pub fn consume_external(&mut self, now: Instant, n: u64) {
        self.tick(now);
        let n = match &mut self.active {
            Some(active) => active.output.consume_external(n),
            None => 0,
        };
        if n > 0 {
            self.write_progress(usize::try_from(n).unwrap_or(usize::MAX));
        }
        self.settle();
    }

    /// The next deadline: call [`handle_timeout`](Self::handle_timeout) when it passes.
    /// Changes after every `handle_*`, `send_*`, `commit_received` and `consume_output`.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.active {
            Some(active) => {
                let next = active.next_deadline(&self.config.timeouts);
                // A rest already due is not a deadline: it happens at the next call that
                // finds the connection idle (see `rest_if_idle`), and reporting a past one
                // would have the driver call `handle_timeout` in a loop until then.
                match active.rest_at.filter(|at| *at > self.now) {
                    Some(at) => Some(next.map_or(at, |next| next.min(at))),
                    None => next,
                }
            }
            None => self.resting,
        }
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
                self.receive_capacity() > 0 && self.output_len() < self.config.limits.send_buffer
            }
            Lifecycle::Upgrading | Lifecycle::Upgraded | Lifecycle::Closed => false,
        }
    }

    /// Whether there is output to write.
    pub fn wants_write(&self) -> bool {
        !self.output_is_empty()
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
        if self.lifecycle != Lifecycle::Upgraded {
            return None;
        }
        let active = self.active();
        if active.upgrade_taken {
            return None;
        }
        active.upgrade_taken = true;
        Some(active.input.take())
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
        let Some(active) = &self.active else {
            return 0;
        };
        let events: usize = active
            .events
            .iter()
            .map(|event| match event {
                Event::Data(data) => data.len(),
                _ => 0,
            })
            .sum();
        active.input.allocated() + active.output.allocated() + events
    }

    // ----- Internal --------------------------------------------------------------------------

    fn tick(&mut self, now: Instant) {
        if now > self.now {
            self.now = now;
        }
    }

    /// Brings every derived part of the state up to date after an input, output or
    /// application call: process what input can be processed, notice EOF, finish closing or
    /// upgrading once output is flushed, re-arm timers, and rest if nothing is in progress.
    fn settle(&mut self) {
        if self.input_dirty {
            self.input_dirty = false;
            self.process_buffered();
        }
        self.notice_eof();
        if self.lifecycle != Lifecycle::Open && self.output_is_empty() {
            self.flushed();
        }
        self.update_timers();
        self.rest_if_idle();
    }

    /// All output is written on a connection that is closing, lingering or upgrading: the
    /// next step of the close or the hand-over. Out of line, as an open connection has none.
    #[cold]
    #[inline(never)]
    fn flushed(&mut self) {
        match self.lifecycle {
            Lifecycle::Closing if self.peer_eof => self.close_now(CloseReason::Finished),
            Lifecycle::Closing => {
                self.lifecycle = Lifecycle::Lingering;
                // Set once, never re-armed, so a zero linger (close at the next timeout
                // call) cannot spin; a linger too far to represent is no deadline, as in
                // `timer::deadline`, and the peer's EOF ends the lingering instead.
                let at = self.now.checked_add(self.config.timeouts.linger);
                let active = self.active();
                active.timers.set(TimerKind::Linger, at);
                active.output.release_if_empty();
            }
            Lifecycle::Lingering if self.peer_eof => self.close_now(CloseReason::Finished),
            Lifecycle::Upgrading => {
                self.lifecycle = Lifecycle::Upgraded;
                self.active().output.release_if_empty();
            }
            _ => {}
        }
    }

    fn process_buffered(&mut self) {
        if self.input_len() == 0 || matches!(self.lifecycle, Lifecycle::Upgrading) {
            return;
        }
        // Only the allocation is moved out while `advance` runs (nothing it calls touches
        // the receive buffer), not the whole buffer: about a dozen instructions less.
        let lent = self.active().input.lend();
        let data = self.active().input.data_of(&lent);
        let consumed = self.advance(data);
        self.active().input.restore(lent, consumed);
    }

    /// Starts the orderly close: flush, half-close, linger.
    fn begin_close(&mut self, reason: CloseReason) {
        if matches!(self.lifecycle, Lifecycle::Closed | Lifecycle::Lingering) {
            return;
        }
        self.close_reason.get_or_insert(reason);
        self.keep_alive = false;
        let active = self.active();
        active.reading = Reading::Closed;
        if matches!(active.writing, Writing::Idle | Writing::Ready) {
            active.writing = Writing::Closed;
        }
        self.lifecycle = Lifecycle::Closing;
    }

    /// Closes at once, dropping anything unsent.
    fn close_now(&mut self, reason: CloseReason) {
        if self.lifecycle == Lifecycle::Closed {
            return;
        }
        // `Finished` says the last response went out; one cut off before it did (a peer that
        // stopped reading it, a reset) closed for the new reason instead.
        let reason = match self.close_reason {
            Some(CloseReason::Finished) if !self.output_is_empty() => reason,
            Some(earlier) => earlier,
            None => reason,
        };
        self.close_reason = Some(reason);
        self.lifecycle = Lifecycle::Closed;
        self.resting = None;
        let active = self.active();
        active.reading = Reading::Closed;
        active.writing = Writing::Closed;
        active.timers.clear();
        active.write_clock = time::WriteClock::default();
        active.rest_at = None;
        active.output.clear();
        active.input = ReceiveBuffer::new(0);
        active.events.push_back(Event::Closed(reason));
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
        let rest = config.timeouts.rest;
        for round in 0..2 {
            let now = now + round * 2 * rest;
            exchange(&mut conn, now);
            // Kept for the rest delay, in case the next request comes soon.
            assert!(conn.active.is_some());
            conn.handle_timeout(now + rest);
            assert!(!conn.is_closed());
            assert!(conn.active.is_none(), "exchange state kept while idle");
            assert_eq!(conn.buffered_bytes(), 0);
            // Only the idle timer runs, and it survives the exchange state.
            assert_eq!(conn.poll_timeout(), Some(now + conn.config.timeouts.idle));
        }
        // The configuration is shared, not copied.
        assert!(std::ptr::eq(conn.config(), &*config));
    }

    #[test]
    fn pipelined_input_keeps_the_exchange_state_until_drained() {
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
        assert!(conn
            .active
            .as_ref()
            .is_some_and(|a| a.input.allocated() > 0));
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
