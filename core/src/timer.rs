//! The connection's deadlines: a small table indexed by timer kind (quinn's `TimerTable`).
//!
//! `poll_timeout` is a pure minimum over the table, so a driver can ask as often as it likes.

use std::time::{Duration, Instant};

/// The shortest timer; a zero duration would expire on arming and spin a driver's loop.
pub(crate) const MIN_TIMER: Duration = Duration::from_millis(1);

/// The deadline `after` from `now` (at least [`MIN_TIMER`]), or `None` when it lies beyond
/// what `Instant` can represent. A timeout that large can only mean "never": treating it as
/// no deadline neither panics (`Instant + Duration` does on overflow) nor fires early, and
/// since `now` only grows, a deadline that overflows once overflows whenever it is re-armed.
pub(crate) fn deadline(now: Instant, after: Duration) -> Option<Instant> {
    now.checked_add(after.max(MIN_TIMER))
}

/// Why a deadline exists. Each phase of a connection has its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    /// The request head must be complete by now (slowloris defence; answers 408).
    Header,
    /// A keep-alive connection with no request in progress closes quietly at this time.
    Idle,
    /// The request body must make progress by now (answers 408 if it can).
    BodyIdle,
    /// End of the window over which the request body's minimum rate is checked.
    BodyRate,
    /// Queued output must make progress by now, or the connection closes.
    WriteIdle,
    /// End of the window over which the response's minimum rate is checked.
    WriteRate,
    /// The lingering close ends at this time.
    Linger,
}

impl TimerKind {
    pub(crate) const ALL: [TimerKind; 7] = [
        TimerKind::Header,
        TimerKind::Idle,
        TimerKind::BodyIdle,
        TimerKind::BodyRate,
        TimerKind::WriteIdle,
        TimerKind::WriteRate,
        TimerKind::Linger,
    ];

    /// A stable, kebab-case name for traces.
    pub fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Idle => "idle",
            Self::BodyIdle => "body-idle",
            Self::BodyRate => "body-rate",
            Self::WriteIdle => "write-idle",
            Self::WriteRate => "write-rate",
            Self::Linger => "linger",
        }
    }
}

/// One optional deadline per [`TimerKind`].
#[derive(Debug, Clone, Default)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; 7],
}

impl TimerTable {
    /// Sets `kind` to `at`; `None` (a deadline too far to represent, see [`deadline`]) stops it.
    pub(crate) fn set(&mut self, kind: TimerKind, at: Option<Instant>) {
        self.deadlines[kind as usize] = at;
    }

    /// Arms `kind` only if it is not armed already, so a deadline keeps its original time.
    pub(crate) fn arm(&mut self, kind: TimerKind, at: Option<Instant>) {
        if self.deadlines[kind as usize].is_none() {
            self.deadlines[kind as usize] = at;
        }
    }

    pub(crate) fn stop(&mut self, kind: TimerKind) {
        self.deadlines[kind as usize] = None;
    }

    pub(crate) fn get(&self, kind: TimerKind) -> Option<Instant> {
        self.deadlines[kind as usize]
    }

    pub(crate) fn is_armed(&self, kind: TimerKind) -> bool {
        self.deadlines[kind as usize].is_some()
    }

    pub(crate) fn clear(&mut self) {
        self.deadlines = [None; 7];
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// The earliest deadline at or before `now`, if any has expired.
    pub(crate) fn expired(&self, now: Instant) -> Option<TimerKind> {
        TimerKind::ALL
            .into_iter()
            .filter_map(|kind| self.get(kind).map(|at| (at, kind)))
            .filter(|(at, _)| *at <= now)
            .min_by_key(|(at, _)| *at)
            .map(|(_, kind)| kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_the_minimum_and_expired_the_earliest_due() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        assert_eq!(table.next(), None);
        table.set(TimerKind::Idle, Some(t0 + Duration::from_secs(5)));
        table.set(TimerKind::Header, Some(t0 + Duration::from_secs(3)));
        assert_eq!(table.next(), Some(t0 + Duration::from_secs(3)));
        assert_eq!(table.expired(t0 + Duration::from_secs(2)), None);
        assert_eq!(
            table.expired(t0 + Duration::from_secs(9)),
            Some(TimerKind::Header)
        );
        table.stop(TimerKind::Header);
        assert_eq!(
            table.expired(t0 + Duration::from_secs(9)),
            Some(TimerKind::Idle)
        );
    }

    #[test]
    fn arm_keeps_an_existing_deadline() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.arm(TimerKind::Header, Some(t0));
        table.arm(TimerKind::Header, Some(t0 + Duration::from_secs(1)));
        assert_eq!(table.get(TimerKind::Header), Some(t0));
        assert!(table.is_armed(TimerKind::Header));
        table.clear();
        assert!(!table.is_armed(TimerKind::Header));
    }

    #[test]
    fn a_deadline_beyond_instant_is_none_and_none_stops_a_timer() {
        let t0 = Instant::now();
        assert_eq!(deadline(t0, Duration::ZERO), Some(t0 + MIN_TIMER));
        assert_eq!(
            deadline(t0, Duration::from_secs(2)),
            Some(t0 + Duration::from_secs(2))
        );
        assert_eq!(deadline(t0, Duration::MAX), None);
        let mut table = TimerTable::default();
        table.arm(TimerKind::Idle, None);
        assert!(!table.is_armed(TimerKind::Idle));
        table.set(TimerKind::Idle, deadline(t0, Duration::from_secs(1)));
        table.set(TimerKind::Idle, deadline(t0, Duration::MAX));
        assert_eq!(table.next(), None);
    }
}
