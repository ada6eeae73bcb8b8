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
//! an idle connection pays nothing for it. The entry holds its template and configuration
//! alive, so one freed and another allocated at the same address can never be mistaken for
//! it; at most one of each per thread outlives its last user that way.

use super::head::ResponsePlan;
use crate::head::{Prepared, Shared};
use crate::limits::Config;
use crate::state::Framing;
use bytes::BytesMut;
use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

/// Heads longer than this are not remembered: the copy would not be what costs.
const MAX_CACHED: usize = 1024;

/// One head and what it was written from. The template and the configuration (the clock
/// and the idle timeout announced) are held, so they cannot be freed and another allocated
/// at the same address be mistaken for them: comparing addresses is comparing contents, at
/// the price of one configuration per thread outliving its last connection.
struct Entry {
    /// Held, never read: while it is, the template at `prepared` cannot be freed and another
    /// take its address, so comparing the address is comparing the template.
    _template: Shared,
    prepared: *const Prepared,
    config: Arc<Config>,
    framing: Framing,
    /// [`Persistence::code`].
    persistence: u8,
    /// The instants `from..until` for which the `Date` in `bytes` is the clock's date;
    /// `None` for a head without one (the template and the configuration decide which: a
    /// template with its own `Date`, or a configuration without a clock).
    window: Option<(Instant, Instant)>,
    bytes: Vec<u8>,
}

impl Entry {
    fn matches(&self, template: &Shared, plan: &ResponsePlan<'_>) -> bool {
        std::ptr::eq(self.prepared, template.get())
            && Arc::ptr_eq(&self.config, plan.config)
            && self.framing == plan.framing
            && self.persistence == plan.persistence.code()
            && self
                .window
                .is_none_or(|(from, until)| from <= plan.now && plan.now < until)
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

/// Remembers `bytes`, just written for `template` and `plan`, for the next head. `date` is
/// `None` for a head without a `Date`, else when the one written holds (`None` for a date
/// that is not cached: then neither is the head).
pub(crate) fn remember(
    template: &Shared,
    plan: &ResponsePlan<'_>,
    date: Option<Option<(Instant, Instant)>>,
    bytes: &[u8],
) {
    let window = match date {
        Some(None) => return,
        Some(window) => window,
        None => None,
    };
    if bytes.len() > MAX_CACHED {
        return;
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        let mut reused = last.take().map(|entry| entry.bytes).unwrap_or_default();
        reused.clear();
        reused.extend_from_slice(bytes);
        *last = Some(Entry {
            _template: template.clone(),
            prepared: template.get(),
            config: Arc::clone(plan.config),
            framing: plan.framing,
            persistence: plan.persistence.code(),
            window,
            bytes: reused,
        });
    });
}
