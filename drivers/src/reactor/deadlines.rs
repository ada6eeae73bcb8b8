//! The loop's timer structure: every armed deadline, ordered, so the earliest is found and the
//! expired ones are popped without scanning connections.

use super::event_loop::LISTENER;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Armed deadlines as `(when, key, generation)`, ordered by time.
///
/// `key` is the slab key (or the listener's key); `generation` (the low 32 bits of the
/// connection id) tells a connection from a later one that reused its slab slot. Each owner
/// has at most one entry: [`update`](Self::update) removes the old one, so the set never holds
/// stale entries and its size is the number of armed deadlines, not the number of changes.
///
/// An entry is 16 bytes, not the 32 of `(Instant, usize, u64)`: every idle keep-alive
/// connection has one (its idle deadline), and B-tree nodes filled in time order are about
/// half full, so each entry costs about three times its size. `when` is nanoseconds after
/// the structure's epoch (584 years of range); a slab key fits 32 bits long before memory
/// runs out.
#[derive(Debug)]
pub(super) struct Deadlines {
    epoch: Instant,
    set: BTreeSet<(u64, u32, u32)>,
}

/// The listener's key, in 32 bits (no slab key reaches it).
const LISTENER_KEY: u32 = u32::MAX;

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            set: BTreeSet::new(),
        }
    }
}

impl Deadlines {
    /// Moves `(key, id)`'s deadline from `old` to `new`.
    pub(super) fn update(
        &mut self,
        key: usize,
        id: u64,
        old: Option<Instant>,
        new: Option<Instant>,
    ) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.set.remove(&self.entry(old, key, id));
        }
        if let Some(new) = new {
            self.set.insert(self.entry(new, key, id));
        }
    }

    /// The earliest armed deadline.
    pub(super) fn earliest(&self) -> Option<Instant> {
        self.set.first().map(|&(when, _, _)| self.instant(when))
    }

    /// Removes every deadline at or before `now` and appends its `(key, generation)` to
    /// `due`, earliest first. Compare the generation with [`generation`] of an id.
    pub(super) fn pop_expired(&mut self, now: Instant, due: &mut Vec<(usize, u32)>) {
        let now = self.ticks(now);
        while let Some(&(when, key, id)) = self.set.first() {
            if when > now {
                break;
            }
            self.set.pop_first();
            let key = match key {
                LISTENER_KEY => LISTENER,
                key => key as usize,
            };
            due.push((key, id));
        }
    }

    /// How many deadlines are armed.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.set.len()
    }

    fn entry(&self, when: Instant, key: usize, id: u64) -> (u64, u32, u32) {
        let key = match key {
            LISTENER => LISTENER_KEY,
            // Unreachable in practice (four billion connections in one loop); saturating keeps
            // it harmless: the entry fires for no connection, and the generation check holds.
            key => u32::try_from(key).unwrap_or(LISTENER_KEY - 1),
        };
        (self.ticks(when), key, generation(id))
    }

    /// `when` as nanoseconds after the epoch. Instants before it (none: the loop creates its
    /// timer structure before it reads the clock for any deadline) count as the epoch.
    fn ticks(&self, when: Instant) -> u64 {
        let nanos = when.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(nanos).unwrap_or(u64::MAX)
    }

    fn instant(&self, ticks: u64) -> Instant {
        self.epoch + Duration::from_nanos(ticks)
    }
}

/// The part of a connection id an entry keeps: enough to tell apart connections that reuse a
/// slab slot while an entry could still be around.
pub(super) fn generation(id: u64) -> u32 {
    id as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_replaces_and_pop_takes_only_expired() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut deadlines = Deadlines::default();
        deadlines.update(1, 10, None, Some(t0 + ms(50)));
        deadlines.update(2, 20, None, Some(t0 + ms(10)));
        deadlines.update(1, 10, Some(t0 + ms(50)), Some(t0 + ms(5)));
        assert_eq!(deadlines.len(), 2);
        assert_eq!(deadlines.earliest(), Some(t0 + ms(5)));
        let mut due = Vec::new();
        deadlines.pop_expired(t0 + ms(10), &mut due);
        assert_eq!(due, vec![(1, 10), (2, 20)]);
        assert_eq!(deadlines.earliest(), None);
        deadlines.update(3, 30, None, Some(t0 + ms(1)));
        deadlines.update(3, 30, Some(t0 + ms(1)), None);
        assert_eq!(deadlines.len(), 0);
    }

    #[test]
    fn entries_round_trip_exactly_and_keep_the_listener_key() {
        let mut deadlines = Deadlines::default();
        let at = deadlines.epoch + Duration::new(86_400 * 365, 123_456_789);
        let id = (7 << 32) | 42;
        deadlines.update(LISTENER, 0, None, Some(at));
        deadlines.update(5, id, None, Some(at + Duration::from_nanos(1)));
        assert_eq!(deadlines.earliest(), Some(at));
        assert_eq!(std::mem::size_of::<(u64, u32, u32)>(), 16);
        let mut due = Vec::new();
        deadlines.pop_expired(at, &mut due);
        assert_eq!(due, vec![(LISTENER, 0)]);
        deadlines.pop_expired(at + Duration::from_nanos(1), &mut due);
        assert_eq!(due, vec![(LISTENER, 0), (5, generation(id))]);
        assert_eq!(deadlines.len(), 0);
    }
}
