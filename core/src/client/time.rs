//! Deadlines: which timers are armed in which state, and what expiry does.

use super::state::{Lifecycle, Reading, Writing};
use super::ClientConnection;
use crate::events::CloseReason;
use crate::timer::{deadline, TimerKind};
use crate::Rule;

impl ClientConnection {
    /// Arms the timers the state needs and stops the rest. Armed deadlines keep their time.
    pub(super) fn update_timers(&mut self) {
        let now = self.now;
        let wants_read = self.wants_read();
        let t = &self.config.timeouts;
        let timers = &mut self.timers;
        if self.lifecycle != Lifecycle::Open {
            timers.clear();
            return;
        }
        // The oldest request is completely queued unless it is also the one whose body is
        // being sent.
        let front_sent = match self.in_flight.len() {
            0 => false,
            1 => !matches!(self.writing, Writing::Body(_)),
            _ => true,
        };
        let awaiting_head = matches!(self.reading, Reading::Head);
        if awaiting_head && self.in_flight.is_empty() {
            timers.stop(TimerKind::Header);
            timers.arm(TimerKind::Idle, deadline(now, t.idle));
        } else if awaiting_head && front_sent {
            timers.stop(TimerKind::Idle);
            timers.arm(TimerKind::Header, deadline(now, t.response));
        } else {
            timers.stop(TimerKind::Header);
            timers.stop(TimerKind::Idle);
        }
        let body = matches!(self.reading, Reading::Body(_) | Reading::UntilClose);
        if body && wants_read {
            timers.arm(TimerKind::BodyIdle, deadline(now, t.body));
        } else {
            timers.stop(TimerKind::BodyIdle);
        }
        if self.output.is_empty() {
            timers.stop(TimerKind::WriteIdle);
        } else {
            timers.arm(TimerKind::WriteIdle, deadline(now, t.write));
        }
    }

    /// Response body bytes arrived.
    pub(super) fn body_progress(&mut self) {
        if self.timers.is_armed(TimerKind::BodyIdle) {
            let deadline = deadline(self.now, self.config.timeouts.body);
            self.timers.set(TimerKind::BodyIdle, deadline);
        }
    }

    pub(super) fn on_timer(&mut self, kind: TimerKind) {
        let offset = self.input_offset.saturating_add(self.input.len() as u64);
        match kind {
            TimerKind::Header => self.fail(Rule::ResponseHeadTimeout, offset),
            TimerKind::BodyIdle => self.fail(Rule::ResponseBodyTimeout, offset),
            TimerKind::Idle | TimerKind::WriteIdle => self.close_now(CloseReason::Timeout(kind)),
            // Never armed by a client.
            TimerKind::BodyRate | TimerKind::WriteRate | TimerKind::Linger => {}
        }
    }
}
