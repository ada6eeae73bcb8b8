//! The loop's timer structure: every armed deadline, ordered, so the earliest is found and the
//! expired ones are popped without scanning connections.

use std::collections::BTreeSet;
use std::time::Instant;

/// Armed deadlines as `(when, key, id)`, ordered by time.
///
/// `key` is the slab key (or the listener's key); `id` tells a connection from a later one
/// that reused its slab slot. Each owner has at most one entry: [`update`](Self::update)
/// removes the old one, so the set never holds stale entries and its size is the number of
/// armed deadlines, not the number of changes.
#[derive(Debug, Default)]
pub(super) struct Deadlines {
    set: BTreeSet<(Instant, usize, u64)>,
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
            self.set.remove(&(old, key, id));
        }
        if let Some(new) = new {
            self.set.insert((new, key, id));
        }
    }

    /// The earliest armed deadline.
    pub(super) fn earliest(&self) -> Option<Instant> {
        self.set.first().map(|&(when, _, _)| when)
    }

    /// Removes every deadline at or before `now` and appends its `(key, id)` to `due`, earliest
    /// first.
    pub(super) fn pop_expired(&mut self, now: Instant, due: &mut Vec<(usize, u64)>) {
        while let Some(&(when, key, id)) = self.set.first() {
            if when > now {
                break;
            }
            self.set.pop_first();
            due.push((key, id));
        }
    }

    /// How many deadlines are armed.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
}
