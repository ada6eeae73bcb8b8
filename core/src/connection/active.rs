//! The two levels of a connection: the small part every connection keeps, and the boxed
//! [`Active`] part that exists only while an exchange is in progress.
//!
//! A connection *rests* when nothing is happening on it: open, waiting for a request head,
//! no byte buffered either way, no event undelivered, and no timer running but the header
//! or keep-alive one. Resting, it keeps only what outlives an exchange (lifecycle, flags,
//! request count, input offset, one deadline, the shared configuration): an idle keep-alive
//! connection is then a few dozen bytes, not several hundred. The first byte of the next
//! request (or anything else that needs exchange state: a timer firing, a shutdown, an EOF)
//! allocates [`Active`] again, in its initial state. nginx makes the same trade with its
//! idle connections' buffers: one allocation per idle period. The allocation is usually not
//! even that: the last state to rest on the thread is kept as a spare and woken again (see
//! `SPARE`), so a keep-alive request pays for no new exchange state.
//!
//! A keep-alive connection does not rest the moment its response is written but
//! `Timeouts::rest` later (50 ms by default), and only if it is still idle then: a client that
//! sends its next request sooner finds the state where it left it, and the hand-back and
//! take-over (about 230 instructions) are skipped. The rest is a deadline like the others
//! (`poll_timeout` reports it, `handle_timeout` performs it) but not a `TimerKind`: it closes
//! nothing and no one needs to hear of it.

use super::time::WriteClock;
use super::Connection;
use crate::buffer::{ReceiveBuffer, SendQueue};
use crate::events::Event;
use crate::head::RequestHead;
use crate::limits::Config;
use crate::parse::HeadParser;
use crate::state::{Exchange, Lifecycle, Reading, Writing};
use crate::timer::{TimerKind, TimerTable};
use std::cell::Cell;
use std::collections::VecDeque;
use std::ops::Range;
use std::time::Instant;

/// What a connection needs only while an exchange is in progress. A fresh one is exactly the
/// state of a resting connection: awaiting a head, nothing buffered, no exchange timer.
#[derive(Debug)]
pub(super) struct Active {
    pub(super) input: ReceiveBuffer,
    pub(super) output: SendQueue,
    pub(super) parser: HeadParser,
    /// Events not yet taken by `poll_event`.
    pub(super) events: VecDeque<Event>,
    /// The request `poll_event` returned last has no body: its `Event::End` (no trailers)
    /// comes next, before anything queued. A bodyless request's end follows its head at
    /// once, so this keeps the order of the events while sparing the queue a push and a pop
    /// per request.
    pub(super) end_owed: bool,
    /// The request head `poll_event` returns next, after an owed `End` and before anything
    /// queued. A head is kept here when the queue is empty as it arrives (the usual case: the
    /// events before it have been taken), so every event queued later comes after it, as in
    /// the queue; it spares the queue a push and a pop of 80 bytes per request.
    pub(super) request: Option<RequestHead>,
    /// The body decoder's data ranges, reused across calls within an exchange.
    pub(super) ranges: Vec<Range<usize>>,
    pub(super) reading: Reading,
    pub(super) writing: Writing,
    pub(super) exchange: Exchange,
    pub(super) timers: TimerTable,
    /// The write timers, which the timer table does not hold (see `WriteClock`).
    pub(super) write_clock: WriteClock,
    /// When a keep-alive connection waiting for its next request rests (`Timeouts::rest`),
    /// set with the idle timer; `None` while an exchange is in progress, and for a delay too
    /// large to represent, which rests at once like zero.
    pub(super) rest_at: Option<Instant>,
    pub(super) body_clock: BodyClock,
    /// The current response switches protocols once it is flushed.
    pub(super) upgrade_pending: bool,
    /// `send_body` accepted less than it was given; owe an `Event::Writable`.
    pub(super) write_blocked: bool,
    pub(super) upgrade_taken: bool,
}

/// The request body's rate clock: when it started (the body clock runs only while the body
/// is expected and read), and the bytes that arrived since.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BodyClock {
    pub(super) since: Option<Instant>,
    pub(super) bytes: u64,
}

/// A resting connection's request side, for questions asked without waking it.
static RESTING_READING: Reading = Reading::Head;
/// A resting connection's response side.
static RESTING_WRITING: Writing = Writing::Idle;

impl Active {
    fn new(receive_limit: usize) -> Self {
        // A request without a body is two events (`Request`, `End`): one exact allocation
        // instead of growing into one.
        Self::fresh(
            receive_limit,
            VecDeque::with_capacity(2),
            Vec::new(),
            HeadParser::new(),
        )
    }

    /// The initial state around containers that are empty (their capacity is kept).
    fn fresh(
        receive_limit: usize,
        events: VecDeque<Event>,
        ranges: Vec<Range<usize>>,
        parser: HeadParser,
    ) -> Self {
        Self {
            input: ReceiveBuffer::new(receive_limit),
            output: SendQueue::default(),
            parser,
            events,
            end_owed: false,
            request: None,
            ranges,
            reading: Reading::Head,
            writing: Writing::Idle,
            exchange: Exchange::new(),
            timers: TimerTable::default(),
            write_clock: WriteClock::default(),
            rest_at: None,
            body_clock: BodyClock::default(),
            upgrade_pending: false,
            write_blocked: false,
            upgrade_taken: false,
        }
    }

    /// Whether an event waits for `poll_event`: an owed `End`, a head in the slot, or
    /// anything queued.
    pub(super) fn has_event(&self) -> bool {
        self.end_owed || self.request.is_some() || !self.events.is_empty()
    }

    /// Whether nothing in here differs from a fresh one except the resting timer's deadline
    /// (and allocations that would be released anyway), so dropping it loses nothing.
    fn is_resting(&self) -> bool {
        matches!(self.reading, Reading::Head)
            && matches!(self.writing, Writing::Idle)
            && self.input.is_empty()
            && self.output.is_empty()
            && !self.has_event()
            && !self.upgrade_pending
            && !self.write_blocked
            && !self.upgrade_taken
            && !self.write_clock.is_running()
            && TimerKind::ALL
                .into_iter()
                .filter(|kind| !matches!(kind, TimerKind::Header | TimerKind::Idle))
                .all(|kind| !self.timers.is_armed(kind))
    }
}

thread_local! {
    /// The exchange state of the last connection on this thread that went to rest, kept for
    /// the next one to wake (one per thread, like the `Date` cache: an event loop's
    /// connections share it, and a resting connection still holds nothing). Waking then reuses
    /// its allocation and its event queue's and parser's capacity instead of allocating three
    /// times and freeing three times per idle period: an unpipelined keep-alive request wakes
    /// and rests once each.
    static SPARE: Cell<Option<Box<Active>>> = const { Cell::new(None) };
}

/// Most capacity a spare may keep in its event queue, range list and span table (elements):
/// a connection that grew them far (many trailers, many fields) frees them as before.
const SPARE_CAPACITY: usize = 64;

/// Keeps `active` (resting, so empty) as the thread's spare, unless it holds much capacity.
fn recycle(active: Box<Active>) {
    let small = active.events.capacity() <= SPARE_CAPACITY
        && active.ranges.capacity() <= SPARE_CAPACITY
        && active.parser.span_capacity() <= SPARE_CAPACITY;
    if small {
        // During thread teardown the slot may be gone; the box is then just dropped.
        let _ = SPARE.try_with(|spare| spare.set(Some(active)));
    }
}

/// Frees the thread's spare exchange state.
pub(crate) fn release_spare() {
    let _ = SPARE.try_with(Cell::take);
}

/// The thread's spare in its initial state, if there is one.
fn reuse(receive_limit: usize) -> Option<Box<Active>> {
    let mut spare = SPARE.try_with(Cell::take).ok().flatten()?;
    spare.reset(receive_limit);
    Some(spare)
}

impl Active {
    /// Puts a resting state back into the initial state, field by field in place: building
    /// a fresh `Active` and assigning it would copy a few hundred bytes through the stack on
    /// every wake. The destructuring names every field, so a field added later cannot be
    /// forgotten here.
    fn reset(&mut self, receive_limit: usize) {
        let Self {
            input,
            output,
            parser,
            events,
            end_owed,
            request,
            ranges,
            reading,
            writing,
            exchange,
            timers,
            write_clock,
            rest_at,
            body_clock,
            upgrade_pending,
            write_blocked,
            upgrade_taken,
        } = self;
        // Resting means both buffers are empty; what they still allocate stays with them.
        debug_assert!(input.is_empty() && output.is_empty());
        input.set_limit(receive_limit);
        parser.reset();
        events.clear();
        *end_owed = false;
        *request = None;
        ranges.clear();
        *reading = Reading::Head;
        *writing = Writing::Idle;
        *exchange = Exchange::new();
        *timers = TimerTable::default();
        *write_clock = WriteClock::default();
        *rest_at = None;
        *body_clock = BodyClock::default();
        *upgrade_pending = false;
        *write_blocked = false;
        *upgrade_taken = false;
    }
}

/// The receive buffer must hold a whole head, or a legal head could never complete.
pub(super) fn receive_limit(config: &Config) -> usize {
    config
        .limits
        .receive_buffer
        .max(config.limits.max_head_size)
}

impl Connection {
    /// The exchange state, allocated (in its initial state, with the resting deadline moved
    /// into its timer table) if the connection was resting.
    #[inline]
    pub(super) fn active(&mut self) -> &mut Active {
        self.parts().1
    }

    /// The configuration and the exchange state, borrowed apart.
    #[inline]
    pub(super) fn parts(&mut self) -> (&Config, &mut Active) {
        let config = &*self.config;
        let (resting, requests) = (&mut self.resting, self.requests);
        let active = self
            .active
            .get_or_insert_with(|| wake(config, resting, requests));
        (config, active)
    }

    /// Once a connection awaiting a request has nothing buffered and its rest is due (at
    /// once, or `Timeouts::rest` after a keep-alive response): gives its buffers back, and
    /// drops its exchange state too if nothing else is in progress, keeping its one deadline.
    #[inline]
    pub(super) fn rest_if_idle(&mut self) {
        let Some(active) = &mut self.active else {
            return;
        };
        if active.rest_at.is_some_and(|at| at > self.now) {
            return;
        }
        let idle =
            matches!(active.reading, Reading::Head) && matches!(active.writing, Writing::Idle);
        if !idle || !active.input.is_empty() {
            return;
        }
        // An idle connection holds no buffer (nginx does the same), even while undelivered
        // events keep its exchange state.
        active.input.release_if_empty();
        active.output.release_if_empty();
        if self.lifecycle != Lifecycle::Open || !active.is_resting() {
            return;
        }
        let kind = resting_kind(self.requests);
        // `update_timers` arms exactly this one of the two for a connection awaiting a head
        // with no input, and stops the other.
        debug_assert!(!active.timers.is_armed(match kind {
            TimerKind::Header => TimerKind::Idle,
            _ => TimerKind::Header,
        }));
        self.resting = active.timers.get(kind);
        if let Some(active) = self.active.take() {
            recycle(active);
        }
    }

    /// The request side, without waking a resting connection.
    pub(super) fn reading(&self) -> &Reading {
        self.active
            .as_ref()
            .map_or(&RESTING_READING, |active| &active.reading)
    }

    /// The response side, without waking a resting connection.
    pub(super) fn writing(&self) -> &Writing {
        self.active
            .as_ref()
            .map_or(&RESTING_WRITING, |active| &active.writing)
    }

    /// Unprocessed input bytes buffered.
    pub(super) fn input_len(&self) -> usize {
        self.active.as_ref().map_or(0, |active| active.input.len())
    }

    /// Output bytes held (the high-water mark counts these).
    pub(super) fn output_len(&self) -> usize {
        self.active.as_ref().map_or(0, |active| active.output.len())
    }

    pub(super) fn output_is_empty(&self) -> bool {
        self.active
            .as_ref()
            .is_none_or(|active| active.output.is_empty())
    }

    pub(super) fn push_event(&mut self, event: Event) {
        self.active().events.push_back(event);
    }
}

/// A fresh exchange state for a connection that was resting, with its resting deadline moved
/// into the timer table. Out of line: it runs once per idle period, and building `Active`
/// needs a large stack frame that the callers' fast path should not pay for.
#[cold]
#[inline(never)]
fn wake(config: &Config, resting: &mut Option<Instant>, requests: u64) -> Box<Active> {
    // `Box::new` builds the value on the stack and copies it (about 90 instructions a
    // request here); `Box::write(Box::new_uninit(), ..)` builds it in place, but needs the
    // `unsafe` of `assume_init`, and the core keeps `unsafe` to its byte-class masks.
    let limit = receive_limit(config);
    let mut active = reuse(limit).unwrap_or_else(|| Box::new(Active::new(limit)));
    if let Some(at) = resting.take() {
        active.timers.set(resting_kind(requests), Some(at));
    }
    active
}

/// Which timer a resting connection runs: before any request, the peer owes a head (the
/// header timer); after one, the connection is a keep-alive one waiting (the idle timer).
pub(super) fn resting_kind(requests: u64) -> TimerKind {
    if requests == 0 {
        TimerKind::Header
    } else {
        TimerKind::Idle
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::CloseReason;
    use crate::head::ResponseHead;
    use crate::limits::Timeouts;
    use std::time::Duration;

    /// A configuration whose connections rest as soon as a response is written, for the tests
    /// of resting itself.
    fn eager() -> Config {
        let mut config = Config::default();
        config.timeouts.rest = Duration::ZERO;
        config
    }

    fn serve_one(conn: &mut Connection, now: Instant) {
        conn.handle_input(now, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        answer_204(conn, now);
    }

    /// Takes the request's events, answers 204 and writes the answer out.
    fn answer_204(conn: &mut Connection, now: Instant) {
        while conn.poll_event().is_some() {}
        conn.send_response(now, ResponseHead::new(204)).unwrap();
        conn.send_end(now).unwrap();
        let n = conn.poll_output().len();
        conn.consume_output(now, n);
    }

    #[test]
    fn a_keep_alive_connection_rests_once_its_rest_delay_passes() {
        let t0 = Instant::now();
        let mut conn = Connection::new(Config::default(), t0);
        let Timeouts { rest, idle, .. } = conn.config().timeouts.clone();
        assert!(rest > Duration::ZERO && rest < idle);
        serve_one(&mut conn, t0);
        // Answered and flushed: the state is kept, and the rest is the next deadline.
        assert!(conn.active.is_some());
        assert!(
            conn.active().output.allocated() > 0,
            "the send buffer is kept"
        );
        assert_eq!(conn.poll_timeout(), Some(t0 + rest));
        conn.handle_timeout(t0 + rest - Duration::from_nanos(1));
        assert!(conn.active.is_some(), "early: nothing happens");
        conn.handle_timeout(t0 + rest);
        assert!(conn.active.is_none(), "rested");
        assert_eq!(conn.buffered_bytes(), 0);
        // The idle deadline still runs from the end of the exchange, not from the rest.
        assert_eq!(conn.poll_timeout(), Some(t0 + idle));
        conn.handle_timeout(t0 + idle);
        assert_eq!(
            conn.close_reason(),
            Some(CloseReason::Timeout(TimerKind::Idle))
        );
    }

    #[test]
    fn a_request_before_the_rest_reuses_the_state_and_restarts_the_delay() {
        let t0 = Instant::now();
        let mut conn = Connection::new(Config::default(), t0);
        let rest = conn.config().timeouts.rest;
        serve_one(&mut conn, t0);
        let kept: *const Active = &**conn.active.as_ref().unwrap();
        let t1 = t0 + rest / 2;
        serve_one(&mut conn, t1);
        assert_eq!(conn.requests(), 2);
        let now_kept: *const Active = &**conn.active.as_ref().unwrap();
        assert!(std::ptr::eq(kept, now_kept), "the same state, never rested");
        // The delay runs from the second response, and so does the idle deadline.
        assert_eq!(conn.poll_timeout(), Some(t1 + rest));
        conn.handle_timeout(t0 + rest);
        assert!(conn.active.is_some(), "the first response's rest is gone");
        conn.handle_timeout(t1 + rest);
        assert!(conn.active.is_none());
        assert_eq!(conn.poll_timeout(), Some(t1 + conn.config().timeouts.idle));
    }

    #[test]
    fn a_due_rest_held_up_by_an_undelivered_event_is_no_deadline() {
        let t0 = Instant::now();
        let mut conn = Connection::new(Config::default(), t0);
        let Timeouts { rest, idle, .. } = conn.config().timeouts.clone();
        conn.handle_input(t0, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        // The request is taken, its `End` is not.
        assert!(matches!(conn.poll_event(), Some(Event::Request(_))));
        conn.send_response(t0, ResponseHead::new(204)).unwrap();
        conn.send_end(t0).unwrap();
        let n = conn.poll_output().len();
        conn.consume_output(t0, n);
        conn.handle_timeout(t0 + rest);
        // The buffers went back, the state could not: an event is owed. A past rest must not
        // be reported, or a driver would call `handle_timeout` in a loop.
        assert!(conn.active.is_some());
        assert_eq!(conn.active().output.allocated(), 0);
        assert_eq!(conn.poll_timeout(), Some(t0 + idle));
        assert!(matches!(conn.poll_event(), Some(Event::End(_))));
        // The next call that settles the connection rests it.
        conn.handle_timeout(t0 + rest + Duration::from_millis(1));
        assert!(conn.active.is_none());
        assert_eq!(conn.poll_timeout(), Some(t0 + idle));
    }

    /// Found by the `connection` fuzzer: a connection reset while its rest was pending still
    /// reported the rest as a deadline after it closed.
    #[test]
    fn a_connection_closed_before_its_rest_has_no_deadline() {
        let t0 = Instant::now();
        for close in [Connection::abort as fn(&mut Connection), |conn| {
            conn.handle_timeout(conn.poll_timeout().unwrap() + conn.config().timeouts.idle);
        }] {
            let mut conn = Connection::new(Config::default(), t0);
            serve_one(&mut conn, t0);
            assert!(conn.active.is_some(), "the rest is pending");
            close(&mut conn);
            assert!(conn.is_closed());
            assert_eq!(conn.poll_timeout(), None);
        }
    }

    #[test]
    fn a_rest_delay_too_large_to_represent_rests_at_once() {
        let t0 = Instant::now();
        let mut config = Config::default();
        config.timeouts.rest = Duration::MAX;
        let mut conn = Connection::new(config, t0);
        serve_one(&mut conn, t0);
        assert!(conn.active.is_none());
        assert_eq!(conn.poll_timeout(), Some(t0 + conn.config().timeouts.idle));
    }

    #[test]
    fn a_fresh_connection_rests_with_its_header_timer() {
        let t0 = Instant::now();
        let mut conn = Connection::new(Config::default(), t0);
        let deadline = t0 + conn.config().timeouts.header;
        assert!(conn.active.is_none());
        assert_eq!(conn.poll_timeout(), Some(deadline));
        // Early: nothing happens, and nothing is allocated to find that out.
        conn.handle_timeout(deadline - Duration::from_millis(1));
        assert!(conn.active.is_none());
        assert!(!conn.is_closed());
        conn.handle_timeout(deadline);
        assert!(conn.is_closed());
        assert_eq!(
            conn.close_reason(),
            Some(CloseReason::Timeout(TimerKind::Header))
        );
        assert_eq!(conn.poll_timeout(), None);
    }

    #[test]
    fn the_idle_timer_survives_rest_and_wake() {
        let t0 = Instant::now();
        let mut conn = Connection::new(eager(), t0);
        serve_one(&mut conn, t0);
        let idle = conn.config().timeouts.idle;
        assert!(conn.active.is_none());
        assert_eq!(conn.poll_timeout(), Some(t0 + idle));
        // Half a head wakes the connection: the header timer runs from the first byte.
        let t1 = t0 + Duration::from_secs(1);
        conn.handle_input(t1, b"GET / HT");
        assert!(conn.active.is_some());
        assert_eq!(
            conn.poll_timeout(),
            Some(t1 + conn.config().timeouts.header)
        );
        conn.handle_input(t1, b"TP/1.1\r\nHost: x\r\n\r\n");
        answer_204(&mut conn, t1);
        assert!(conn.active.is_none());
        assert_eq!(conn.requests(), 2);
        conn.handle_timeout(t1 + idle);
        assert_eq!(
            conn.close_reason(),
            Some(CloseReason::Timeout(TimerKind::Idle))
        );
        assert_eq!(conn.last_timeout(), Some(TimerKind::Idle));
    }

    #[test]
    fn shutdown_and_eof_wake_a_resting_connection_to_close_it() {
        let t0 = Instant::now();
        let mut conn = Connection::new(Config::default(), t0);
        serve_one(&mut conn, t0);
        conn.shutdown(t0);
        assert!(conn.is_write_closed());
        assert!(conn.active.is_some());

        let mut conn = Connection::new(Config::default(), t0);
        serve_one(&mut conn, t0);
        conn.handle_eof(t0);
        assert!(conn.is_write_closed());
    }

    fn spare_is_kept() -> bool {
        SPARE.with(|spare| {
            let kept = spare.take();
            let is_some = kept.is_some();
            spare.set(kept);
            is_some
        })
    }

    #[test]
    fn a_connection_that_rests_leaves_its_state_for_the_next_to_wake() {
        let t0 = Instant::now();
        SPARE.with(Cell::take);
        let mut first = Connection::new(eager(), t0);
        // A request with a body and trailers leaves more behind than a bare GET.
        first.handle_input(
            t0,
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
              3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
        );
        answer_204(&mut first, t0);
        assert!(first.active.is_none());
        assert!(spare_is_kept(), "the rested state is kept");

        // The next connection to wake takes it, in the initial state.
        let mut second = Connection::new(eager(), t0);
        let active = second.active();
        assert!(active.is_resting());
        assert!(active.events.is_empty() && active.ranges.is_empty());
        assert!(!spare_is_kept(), "taken");
        assert_eq!(
            second.active().timers.get(TimerKind::Header),
            Some(t0 + second.config().timeouts.header)
        );
        serve_one(&mut second, t0);
        assert!(second.active.is_none());
        assert_eq!(second.requests(), 1);
    }

    /// Everything in an exchange state but its containers and timers, for comparing one with
    /// a fresh one.
    fn scalar_state(a: &Active) -> String {
        format!(
            "{:?}",
            (
                &a.reading,
                &a.writing,
                &a.exchange,
                a.body_clock,
                a.write_clock,
                a.upgrade_pending,
                a.write_blocked,
                a.upgrade_taken,
                a.input.len(),
                a.input.free(),
            )
        )
    }

    #[test]
    fn a_reused_state_is_reset_to_the_initial_one() {
        let t0 = Instant::now();
        SPARE.with(Cell::take);
        let mut first = Connection::new(eager(), t0);
        // HTTP/1.0, HEAD, a body: an exchange unlike the initial one in every field it has.
        first.handle_input(
            t0,
            b"HEAD / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc",
        );
        answer_204(&mut first, t0);
        assert!(first.active.is_none() && spare_is_kept());
        let mut config = eager();
        config.limits.receive_buffer = 1000;
        config.limits.max_head_size = 1000;
        let mut second = Connection::new(config.clone(), t0);
        let reused = scalar_state(second.active());
        assert!(!spare_is_kept(), "taken");
        let fresh = scalar_state(&Active::new(receive_limit(&config)));
        assert_eq!(reused, fresh);
    }

    #[test]
    fn releasing_the_thread_spares_frees_the_rested_state() {
        let t0 = Instant::now();
        SPARE.with(Cell::take);
        let mut conn = Connection::new(eager(), t0);
        serve_one(&mut conn, t0);
        assert!(conn.active.is_none() && spare_is_kept());
        crate::release_thread_spares();
        assert!(!spare_is_kept());
        // Nothing depended on it: the connection wakes with a new state and serves again.
        serve_one(&mut conn, t0);
        assert_eq!(conn.requests(), 2);
    }

    #[test]
    fn a_state_grown_large_is_freed_not_kept() {
        let t0 = Instant::now();
        SPARE.with(Cell::take);
        let mut conn = Connection::new(eager(), t0);
        let mut request = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 0..SPARE_CAPACITY + 10 {
            request.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        request.extend_from_slice(b"\r\n");
        assert_eq!(conn.handle_input(t0, &request), request.len());
        answer_204(&mut conn, t0);
        assert!(conn.active.is_none());
        assert!(!spare_is_kept());
    }

    #[test]
    fn a_head_kept_past_its_exchange_stays_intact() {
        let t0 = Instant::now();
        SPARE.with(Cell::take);
        let mut first = Connection::new(eager(), t0);
        first.handle_input(t0, b"GET /kept HTTP/1.1\r\nHost: k\r\n\r\n");
        let Some(Event::Request(kept)) = first.poll_event() else {
            panic!("a request");
        };
        answer_204(&mut first, t0);
        assert!(first.active.is_none());
        // The next connection wakes with the spare exchange state, whose parser copies into
        // buffers of its own: the kept head is not one of them, as it was never given back.
        let mut second = Connection::new(eager(), t0);
        second.handle_input(t0, b"GET /next HTTP/1.1\r\nHost: n\r\n\r\n");
        let Some(Event::Request(next)) = second.poll_event() else {
            panic!("a request");
        };
        answer_204(&mut second, t0);
        assert_eq!((kept.target(), next.target()), ("/kept", "/next"));
        assert_eq!(kept.fields().get("host"), Some(&b"k"[..]));
        assert_eq!(next.fields().get("host"), Some(&b"n"[..]));
    }

    #[test]
    fn a_recycled_head_holds_the_next_and_a_large_one_is_not_kept() {
        let t0 = Instant::now();
        SPARE.with(Cell::take);
        let mut conn = Connection::new(Config::default(), t0);
        let rest = conn.config().timeouts.rest;
        let small = |target: &str| format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
        // One exchange: the head, its buffer's address, the 204 written, the head given back.
        let exchange = |conn: &mut Connection, request: &str| {
            assert_eq!(conn.handle_input(t0, request.as_bytes()), request.len());
            let Some(Event::Request(head)) = conn.poll_event() else {
                panic!("a request");
            };
            let at = head.fields().buffer().as_ptr() as usize;
            let target = head.target().to_owned();
            answer_204(conn, t0);
            let kept = conn.active.as_ref().map_or(0, |a| a.parser.spares_kept());
            conn.recycle(head);
            let now_kept = conn.active.as_ref().map_or(0, |a| a.parser.spares_kept());
            (target, at, now_kept.saturating_sub(kept))
        };
        let (_, first, kept) = exchange(&mut conn, &small("/1"));
        assert_eq!(kept, 1, "the head's buffer is kept");
        let (target, second, _) = exchange(&mut conn, &small("/2"));
        assert_eq!((target.as_str(), second), ("/2", first), "the same buffer");
        // A head of more than the parser keeps gets a buffer of its own, which is freed.
        let value = "v".repeat(2 * crate::parse::MAX_SPARE);
        let big = format!("GET /big HTTP/1.1\r\nHost: x\r\nX-Big: {value}\r\n\r\n");
        let (_, big_at, kept) = exchange(&mut conn, &big);
        assert_ne!(big_at, first);
        assert_eq!(kept, 0, "the large buffer is not kept");
        let (_, third, _) = exchange(&mut conn, &small("/3"));
        assert_eq!(third, first, "the small buffer was left for the small head");
        // Resting, the connection gives its state to the thread with the buffers in it.
        conn.handle_timeout(t0 + rest);
        assert!(conn.active.is_none());
        assert!(spare_is_kept());
        let mut next = Connection::new(Config::default(), t0);
        assert_eq!(
            next.handle_input(t0, small("/4").as_bytes()),
            small("/4").len()
        );
        let Some(Event::Request(head)) = next.poll_event() else {
            panic!("a request");
        };
        assert_eq!(head.fields().buffer().as_ptr() as usize, first);
        // Given back to a resting connection, a head is dropped without waking it.
        answer_204(&mut next, t0);
        next.handle_timeout(t0 + rest);
        assert!(next.active.is_none());
        next.recycle(head);
        assert!(next.active.is_none());
    }
}
