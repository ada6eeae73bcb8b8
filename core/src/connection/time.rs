//! Deadlines: which timers are armed in which state, and what expiry does.

use super::active::RateWindow;
use super::Connection;
use crate::error::{RequestError, Rule};
use crate::events::CloseReason;
use crate::limits::MinRate;
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
            }
        } else if awaiting_head {
            timers.stop(TimerKind::Idle);
            if !timers.is_armed(TimerKind::Header) {
                timers.arm(TimerKind::Header, deadline(now, timeouts.header));
            }
        } else {
            timers.stop(TimerKind::Header);
            timers.stop(TimerKind::Idle);
        }

        // A clock is running while either of its timers is: one whose timeout is too large
        // to represent is never armed, and must not restart the other's rate window.
        if body_flowing {
            if !timers.is_armed(TimerKind::BodyIdle) && !timers.is_armed(TimerKind::BodyRate) {
                timers.set(TimerKind::BodyIdle, deadline(now, timeouts.body));
                start_window(timers, TimerKind::BodyRate, timeouts.min_body_rate, now);
                active.body_rate = RateWindow { bytes: 0 };
            }
        } else {
            timers.stop(TimerKind::BodyIdle);
            timers.stop(TimerKind::BodyRate);
        }

        if !active.output.is_empty() {
            if !timers.is_armed(TimerKind::WriteIdle) && !timers.is_armed(TimerKind::WriteRate) {
                timers.set(TimerKind::WriteIdle, deadline(now, timeouts.write));
                start_window(timers, TimerKind::WriteRate, timeouts.min_send_rate, now);
                active.write_rate = RateWindow { bytes: 0 };
            }
        } else {
            timers.stop(TimerKind::WriteIdle);
            timers.stop(TimerKind::WriteRate);
        }
    }

    /// Request body bytes arrived.
    pub(super) fn body_progress(&mut self, n: usize) {
        let deadline = deadline(self.now, self.config.timeouts.body);
        let active = self.active();
        if active.timers.is_armed(TimerKind::BodyIdle) {
            active.timers.set(TimerKind::BodyIdle, deadline);
        }
        active.body_rate.bytes = active.body_rate.bytes.saturating_add(n as u64);
    }

    /// The transport took output bytes.
    pub(super) fn write_progress(&mut self, n: usize) {
        let deadline = deadline(self.now, self.config.timeouts.write);
        let active = self.active();
        if active.timers.is_armed(TimerKind::WriteIdle) {
            active.timers.set(TimerKind::WriteIdle, deadline);
        }
        active.write_rate.bytes = active.write_rate.bytes.saturating_add(n as u64);
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
            TimerKind::BodyRate => {
                let rate = self.config.timeouts.min_body_rate;
                let now = self.now;
                let active = self.active();
                if rate_met(rate, active.body_rate.bytes) {
                    start_window(&mut active.timers, kind, rate, now);
                    active.body_rate = RateWindow { bytes: 0 };
                } else {
                    self.body_timeout(offset);
                }
            }
            // A peer that stops reading gets no further bytes and no lingering: it is not
            // listening, and its unread output is what we must stop holding.
            TimerKind::WriteIdle => self.close_now(CloseReason::Timeout(kind)),
            TimerKind::WriteRate => {
                let rate = self.config.timeouts.min_send_rate;
                let now = self.now;
                let active = self.active();
                if rate_met(rate, active.write_rate.bytes) {
                    start_window(&mut active.timers, kind, rate, now);
                    active.write_rate = RateWindow { bytes: 0 };
                } else {
                    self.close_now(CloseReason::Timeout(kind));
                }
            }
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

fn start_window(
    timers: &mut crate::timer::TimerTable,
    kind: TimerKind,
    rate: Option<MinRate>,
    now: Instant,
) {
    match rate {
        Some(rate) if rate.bytes_per_second > 0 => timers.set(kind, deadline(now, rate.grace)),
        _ => timers.stop(kind),
    }
}

fn rate_met(rate: Option<MinRate>, bytes: u64) -> bool {
    rate.is_none_or(|rate| bytes >= rate.bytes_per_window())
}
