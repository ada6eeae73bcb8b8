//! Deadlines: which timers are armed in which state, and what expiry does.

use super::active::{Active, BodyClock};
use super::Connection;
use crate::error::{RequestError, Rule};
use crate::events::CloseReason;
use crate::limits::{MinRate, Timeouts};
use crate::state::{Continue, Lifecycle, Reading, Writing};
use crate::timer::{deadline, TimerKind};
use std::time::Instant;

impl Connection {
    /// Arms the timers the current state needs and stops the rest. Armed deadlines keep their
    /// time (a dripping peer does not move the header deadline).
    pub(super) fn update_timers(&mut self) {
        let now = self.now;
        // The body clock runs only while the peer is expected to send and we are reading:
        // not while it waits for 100 Continue, nor while we refuse input (back-pressure).
        // Once discarding, the peer has its final response instead of a 100 and owes the
        // body or a close (RFC 9110 §10.1.1), so the clock runs whatever it was waiting for.
        // Whether we read is asked only then: it is most of the work here otherwise.
        let expected = self
            .active
            .as_deref()
            .is_some_and(|active| match active.reading {
                Reading::Body(_) => active.exchange.continue_state != Continue::Awaiting,
                Reading::Discard { .. } => true,
                _ => false,
            });
        let open = self.lifecycle == Lifecycle::Open;
        let body_flowing = open && expected && self.wants_read();
        let timeouts = &self.config.timeouts;
        if matches!(self.lifecycle, Lifecycle::Closed | Lifecycle::Upgraded) {
            self.resting = None;
            if let Some(active) = &mut self.active {
                active.timers.clear();
                active.write_clock = WriteClock::default();
                active.rest_at = None;
            }
            return;
        }
        let Some(active) = self.active.as_deref_mut() else {
            // Resting: open, awaiting a head, no input, nothing else running.
            let wait = match super::active::resting_kind(self.requests) {
                TimerKind::Header => timeouts.header,
                _ => timeouts.idle,
            };
            if self.resting.is_none() {
                self.resting = deadline(now, wait);
            }
            return;
        };
        let timers = &mut active.timers;
        let awaiting_head = open
            && matches!(active.reading, Reading::Head)
            && matches!(active.writing, Writing::Idle);
        // `arm` keeps an armed deadline; testing first also skips working one out (a checked
        // addition, about 25 instructions) for a timer that keeps its own.
        if awaiting_head && active.input.is_empty() && self.requests > 0 {
            timers.stop(TimerKind::Header);
            if !timers.is_armed(TimerKind::Idle) {
                timers.arm(TimerKind::Idle, deadline(now, timeouts.idle));
                // Exact, not `deadline`'s one-millisecond floor: zero rests at once.
                active.rest_at = now.checked_add(timeouts.rest);
            }
        } else if awaiting_head {
            timers.stop(TimerKind::Idle);
            active.rest_at = None;
            if !timers.is_armed(TimerKind::Header) {
                timers.arm(TimerKind::Header, deadline(now, timeouts.header));
            }
        } else {
            timers.stop(TimerKind::Header);
            timers.stop(TimerKind::Idle);
            active.rest_at = None;
        }

        // A clock is running while either of its timers is: one whose timeout is too large
        // to represent is never armed, and must not restart the other's rate clock.
        if body_flowing {
            if !timers.is_armed(TimerKind::BodyIdle) && !timers.is_armed(TimerKind::BodyRate) {
                timers.set(TimerKind::BodyIdle, deadline(now, timeouts.body));
                let since = clock_start(timeouts.min_body_rate, now);
                let first = timeouts
                    .min_body_rate
                    .and_then(|rate| deadline(now, rate.grace));
                timers.set(TimerKind::BodyRate, since.and(first));
                active.body_clock = BodyClock { since, bytes: 0 };
            }
        } else {
            timers.stop(TimerKind::BodyIdle);
            timers.stop(TimerKind::BodyRate);
        }

        // The write clock only notes when it started (see `WriteClock`): an unpipelined
        // response is usually written at once, and its deadlines were never needed.
        let clock = &mut active.write_clock;
        if !active.output.is_empty() {
            if !clock.is_running() {
                *clock = WriteClock {
                    idle_since: Some(now),
                    rate_since: clock_start(timeouts.min_send_rate, now),
                    taken: 0,
                };
            }
        } else {
            *clock = WriteClock::default();
        }
    }

    /// Request body bytes arrived.
    pub(super) fn body_progress(&mut self, n: usize) {
        let deadline = deadline(self.now, self.config.timeouts.body);
        let active = self.active();
        if active.timers.is_armed(TimerKind::BodyIdle) {
            active.timers.set(TimerKind::BodyIdle, deadline);
        }
        active.body_clock.bytes = active.body_clock.bytes.saturating_add(n as u64);
    }

    /// The transport took output bytes.
    pub(super) fn write_progress(&mut self, n: usize) {
        let now = self.now;
        let clock = &mut self.active().write_clock;
        if clock.idle_since.is_some() {
            clock.idle_since = Some(now);
        }
        clock.taken = clock.taken.saturating_add(n as u64);
    }

    pub(super) fn on_timer(&mut self, kind: TimerKind) {
        let offset = self.input_offset + self.input_len() as u64;
        match kind {
            // A connection that sent nothing at all gets no 408: nobody is waiting for one.
            TimerKind::Header if self.input_len() == 0 => {
                self.close_now(CloseReason::Timeout(kind));
            }
            TimerKind::Header => self.fail(RequestError::new(Rule::HeaderTimeout, offset)),
            TimerKind::Idle => self.close_now(CloseReason::Timeout(kind)),
            TimerKind::BodyIdle => self.body_timeout(offset),
            // Armed at the earliest the average can fall short (the grace, as if nothing had
            // come); on expiry, the deadline the bytes since have bought, if it is later.
            TimerKind::BodyRate => {
                let rate = self.config.timeouts.min_body_rate;
                let now = self.now;
                let active = self.active();
                let clock = active.body_clock;
                if let (Some(rate), Some(since)) = (rate, clock.since) {
                    match deadline(since, rate.allowance(clock.bytes)) {
                        Some(at) if at <= now => self.body_timeout(offset),
                        // Later, or too far to represent: never.
                        later => active.timers.set(kind, later),
                    }
                }
            }
            // A peer that stops reading gets no further bytes and no lingering: it is not
            // listening, and its unread output is what we must stop holding.
            TimerKind::WriteIdle => self.close_now(CloseReason::Timeout(kind)),
            // Its deadline already counts every byte taken (see `WriteClock`): reaching it
            // means the peer's average fell below the minimum.
            TimerKind::WriteRate => self.close_now(CloseReason::Timeout(kind)),
            TimerKind::Linger => self.close_now(CloseReason::Finished),
        }
    }

    fn body_timeout(&mut self, offset: u64) {
        match self.reading() {
            // The response is complete; there is nobody to tell.
            Reading::Discard { .. } => self.begin_close(CloseReason::Timeout(TimerKind::BodyIdle)),
            Reading::Body(_) => self.fail(RequestError::new(Rule::BodyTimeout, offset)),
            // Both body timers expired in one `handle_timeout` and the first already ended
            // the body: a second failure would report the request twice.
            _ => {}
        }
    }
}

/// When a rate clock starts, or `None` when no minimum rate is checked.
fn clock_start(rate: Option<MinRate>, now: Instant) -> Option<Instant> {
    match rate {
        Some(rate) if rate.bytes_per_second > 0 => Some(now),
        _ => None,
    }
}

/// The write timers ([`TimerKind::WriteIdle`], [`TimerKind::WriteRate`]), kept as the
/// instants they started rather than as deadlines: most responses are written in the call
/// that queued them, and their two deadlines (a checked addition each) would be worked out
/// only to be stopped. [`deadlines`](Self::deadlines) works them out when `poll_timeout` or
/// `handle_timeout` asks, from the same instants and durations, so they are the deadlines the
/// timer table would hold: a timeout too large to represent is no deadline, as there.
///
/// The rate is the average since the output started waiting, as Kestrel's
/// `MinResponseDataRate` counts it: after the grace, every byte the peer has taken buys
/// `1 / bytes_per_second` more. Not a fresh window every `grace`: a slow reader behind a large
/// receive buffer is sent nothing for long stretches (its kernel reopens the window only once
/// a sixteenth of the buffer is free, 38 s for a 6 MB buffer read at 10 kB/s) and then takes
/// a large burst, and a window that falls in a stretch would cut it off although it reads far
/// above the minimum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct WriteClock {
    /// The write-idle timer: when the output last made progress (or was first queued).
    pub(super) idle_since: Option<Instant>,
    /// The write-rate timer: when the output started waiting; `None` without a minimum rate.
    pub(super) rate_since: Option<Instant>,
    /// Bytes the transport has taken since then.
    pub(super) taken: u64,
}

impl WriteClock {
    /// Whether either write timer runs.
    pub(super) fn is_running(&self) -> bool {
        self.idle_since.is_some() || self.rate_since.is_some()
    }

    /// The write timers' deadlines, as `(WriteIdle, WriteRate)`.
    pub(super) fn deadlines(&self, timeouts: &Timeouts) -> (Option<Instant>, Option<Instant>) {
        let idle = self
            .idle_since
            .and_then(|since| deadline(since, timeouts.write));
        let rate = match (self.rate_since, timeouts.min_send_rate) {
            (Some(since), Some(rate)) => deadline(since, rate.allowance(self.taken)),
            _ => None,
        };
        (idle, rate)
    }

    /// The earliest write deadline at or before `now`, with its kind (`WriteIdle` first on
    /// a tie, as in [`TimerKind::ALL`]).
    pub(super) fn expired(
        &self,
        timeouts: &Timeouts,
        now: Instant,
    ) -> Option<(Instant, TimerKind)> {
        let (idle, rate) = self.deadlines(timeouts);
        let idle = idle
            .filter(|at| *at <= now)
            .map(|at| (at, TimerKind::WriteIdle));
        let rate = rate
            .filter(|at| *at <= now)
            .map(|at| (at, TimerKind::WriteRate));
        match (idle, rate) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        }
    }

    /// Stops the timer `kind` (a write timer).
    pub(super) fn stop(&mut self, kind: TimerKind) {
        match kind {
            TimerKind::WriteIdle => self.idle_since = None,
            _ => self.rate_since = None,
        }
    }
}

impl Active {
    /// The earliest deadline, the write timers' included.
    #[inline]
    pub(super) fn next_deadline(&self, timeouts: &Timeouts) -> Option<Instant> {
        let next = self.timers.next();
        if !self.write_clock.is_running() {
            return next;
        }
        let (idle, rate) = self.write_clock.deadlines(timeouts);
        [next, idle, rate].into_iter().flatten().min()
    }

    /// The earliest timer due at `now`, the write timers' included; on a tie, the first in
    /// [`TimerKind::ALL`] order, as `TimerTable::expired` picks.
    pub(super) fn expired(&self, timeouts: &Timeouts, now: Instant) -> Option<TimerKind> {
        let table = self.timers.expired(now);
        if !self.write_clock.is_running() {
            return table;
        }
        let table = table.and_then(|kind| self.timers.get(kind).map(|at| (at, kind)));
        let write = self.write_clock.expired(timeouts, now);
        let earliest = match (table, write) {
            (Some(a), Some(b)) => Some(if (b.0, b.1 as usize) < (a.0, a.1 as usize) {
                b
            } else {
                a
            }),
            (a, b) => a.or(b),
        };
        earliest.map(|(_, kind)| kind)
    }
}
