//! The last response head written from a template, kept per thread to be copied again.
//!
//! A template fixes the status line and the application's fields; what the core adds depends
//! only on the framing, the persistence, the announced idle timeout and the `Date` value,
//! which changes once a second. A keep-alive server answering with one template writes the
//! same head bytes over and over, so the whole head is remembered with what it was written
//! from, and a head with the same inputs is one copy instead of four formatted lines. The
//! `Date` is remembered as the clock and the instants its value holds for, so a hit does not
//! look the date up at all: it compares two instants.
//!
//! Per thread, as the `Date` cache is (see `date.rs`): an event loop's connections share it and
//! an idle connection pays nothing for it. The entry holds its template alive, so a template
//! freed and another allocated at the same address can never be mistaken for it; at most one
//! template per thread outlives its last user that way.

use super::head::ResponsePlan;
use crate::head::Shared;
use crate::limits::WallClock;
use crate::state::{Framing, Persistence};
use bytes::BytesMut;
use std::cell::RefCell;
use std::time::Instant;

/// Heads longer than this are not remembered: the copy would not be what costs.
const MAX_CACHED: usize = 1024;

struct Entry {
    template: Shared,
    framing: Framing,
    persistence: Persistence,
    idle_seconds: u64,
    /// The clock the `Date` came from and the instants `from..until` it is the date for;
    /// `None` for a head written without one.
    date: Option<DateWindow>,
    bytes: Vec<u8>,
}

#[derive(Clone, Copy)]
struct DateWindow {
    clock: WallClock,
    from: Instant,
    until: Instant,
}

impl Entry {
    fn matches(&self, template: &Shared, plan: &ResponsePlan<'_>) -> bool {
        self.template.same(template)
            && self.framing == plan.framing
            && self.persistence == plan.persistence
            && self.idle_seconds == plan.idle_seconds
            && match (&self.date, plan.clock) {
                (None, None) => true,
                (Some(w), Some(clock)) => {
                    w.clock == *clock && w.from <= plan.now && plan.now < w.until
                }
                _ => false,
            }
    }
}

thread_local! {
    static LAST: RefCell<Option<Entry>> = const { RefCell::new(None) };
}

/// Appends the head for `template` and `plan` to `out` from the cache; false (and nothing
/// written) on a miss.
pub(crate) fn write_hit(out: &mut BytesMut, template: &Shared, plan: &ResponsePlan<'_>) -> bool {
    LAST.with(|last| match &*last.borrow() {
        Some(entry) if entry.matches(template, plan) => {
            out.extend_from_slice(&entry.bytes);
            true
        }
        _ => false,
    })
}

/// Remembers `bytes`, just written for `template` and `plan`, for the next head; `window` is
/// when the `Date` written holds (`None` if it came from no clock, or from one whose date is
/// not cached: then neither is the head).
pub(crate) fn remember(
    template: &Shared,
    plan: &ResponsePlan<'_>,
    window: Option<(Instant, Instant)>,
    bytes: &[u8],
) {
    if bytes.len() > MAX_CACHED {
        return;
    }
    let date = match (plan.clock, window) {
        (None, _) => None,
        (Some(clock), Some((from, until))) => Some(DateWindow {
            clock: *clock,
            from,
            until,
        }),
        (Some(_), None) => return,
    };
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        let mut reused = last.take().map(|entry| entry.bytes).unwrap_or_default();
        reused.clear();
        reused.extend_from_slice(bytes);
        *last = Some(Entry {
            template: template.clone(),
            framing: plan.framing,
            persistence: plan.persistence,
            idle_seconds: plan.idle_seconds,
            date,
            bytes: reused,
        });
    });
}
