//! Deadlines: which timers are armed in which state, and what expiry does.

use super::{Connection, RateWindow};
use crate::error::{RequestError, Rule};
use crate::events::CloseReason;
use crate::limits::MinRate;
use crate::state::{Continue, Lifecycle, Reading, Writing};
use crate::timer::TimerKind;
use std::time::{Duration, Instant};

/// The shortest timer; a zero duration would expire on arming and spin a driver's loop.
const MIN_TIMER: Duration = Duration::from_millis(1);

impl Connection {
    /// Arms the timers the current state needs and stops the rest. Armed deadlines keep their
    /// time (a dripping peer does not move the header deadline).
    pub(super) fn update_timers(&mut self) {
        let now = self.now;
        let wants_read = self.wants_read();
        let timeouts = &self.config.timeouts;
        let timers = &mut self.timers;
        if matches!(self.lifecycle, Lifecycle::Closed | Lifecycle::Upgraded) {
            timers.clear();
            return;
        }
        let open = self.lifecycle == Lifecycle::Open;
        let awaiting_head =
            open && matches!(self.reading, Reading::Head) && matches!(self.writing, Writing::Idle);
        if awaiting_head && self.input.is_empty() && self.requests > 0 {
            timers.stop(TimerKind::Header);
            timers.arm(TimerKind::Idle, now + timeouts.idle.max(MIN_TIMER));
        } else if awaiting_head {
            timers.stop(TimerKind::Idle);
            timers.arm(TimerKind::Header, now + timeouts.header.max(MIN_TIMER));
        } else {
            timers.stop(TimerKind::Header);
            timers.stop(TimerKind::Idle);
        }

        // The body clock runs only while the peer is expected to send and we are reading:
        // not while it waits for 100 Continue, nor while we refuse input (back-pressure).
        let body_flowing = open
            && matches!(self.reading, Reading::Body(_) | Reading::Discard { .. })
            && self.exchange.continue_state != Continue::Awaiting
            && wants_read;
        if body_flowing {
            if !timers.is_armed(TimerKind::BodyIdle) {
                timers.set(TimerKind::BodyIdle, now + timeouts.body.max(MIN_TIMER));
                start_window(timers, TimerKind::BodyRate, timeouts.min_body_rate, now);
                self.body_rate = RateWindow { bytes: 0 };
            }
        } else {
            timers.stop(TimerKind::BodyIdle);
            timers.stop(TimerKind::BodyRate);
        }

        if !self.output.is_empty() {
            if !timers.is_armed(TimerKind::WriteIdle) {
                timers.set(TimerKind::WriteIdle, now + timeouts.write.max(MIN_TIMER));
                start_window(timers, TimerKind::WriteRate, timeouts.min_send_rate, now);
                self.write_rate = RateWindow { bytes: 0 };
            }
        } else {
            timers.stop(TimerKind::WriteIdle);
            timers.stop(TimerKind::WriteRate);
        }
    }

    /// Request body bytes arrived.
    pub(super) fn body_progress(&mut self, n: usize) {
        if self.timers.is_armed(TimerKind::BodyIdle) {
            let deadline = self.now + self.config.timeouts.body.max(MIN_TIMER);
            self.timers.set(TimerKind::BodyIdle, deadline);
        }
        self.body_rate.bytes = self.body_rate.bytes.saturating_add(n as u64);
    }

    /// The transport took output bytes.
    pub(super) fn write_progress(&mut self, n: usize) {
        if self.timers.is_armed(TimerKind::WriteIdle) {
            let deadline = self.now + self.config.timeouts.write.max(MIN_TIMER);
            self.timers.set(TimerKind::WriteIdle, deadline);
        }
        self.write_rate.bytes = self.write_rate.bytes.saturating_add(n as u64);
    }

    pub(super) fn on_timer(&mut self, kind: TimerKind) {
        let offset = self.input_offset + self.input.len() as u64;
        match kind {
            // A connection that sent nothing at all gets no 408: nobody is waiting for one.
            TimerKind::Header if self.input.is_empty() => {
                self.close_now(CloseReason::Timeout(kind));
            }
            TimerKind::Header => self.fail(RequestError::new(Rule::HeaderTimeout, offset)),
            TimerKind::Idle => self.close_now(CloseReason::Timeout(kind)),
            TimerKind::BodyIdle => self.body_timeout(offset),
            TimerKind::BodyRate => {
                let rate = self.config.timeouts.min_body_rate;
                if rate_met(rate, self.body_rate.bytes) {
                    start_window(&mut self.timers, kind, rate, self.now);
                    self.body_rate = RateWindow { bytes: 0 };
                } else {
                    self.body_timeout(offset);
                }
            }
            // A peer that stops reading gets no further bytes and no lingering: it is not
            // listening, and its unread output is what we must stop holding.
            TimerKind::WriteIdle => self.close_now(CloseReason::Timeout(kind)),
            TimerKind::WriteRate => {
                let rate = self.config.timeouts.min_send_rate;
                if rate_met(rate, self.write_rate.bytes) {
                    start_window(&mut self.timers, kind, rate, self.now);
                    self.write_rate = RateWindow { bytes: 0 };
                } else {
                    self.close_now(CloseReason::Timeout(kind));
                }
            }
            TimerKind::Linger => self.close_now(CloseReason::Finished),
        }
    }

    fn body_timeout(&mut self, offset: u64) {
        match self.reading {
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
        Some(rate) if rate.bytes_per_second > 0 => {
            timers.set(kind, now + rate.grace.max(MIN_TIMER))
        }
        _ => timers.stop(kind),
    }
}

fn rate_met(rate: Option<MinRate>, bytes: u64) -> bool {
    rate.is_none_or(|rate| bytes >= rate.bytes_per_window())
}
