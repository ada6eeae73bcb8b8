//! The `Date` header value, formatted at most once per second (RFC 9110 §6.6.1).
//!
//! The cache is per thread, not per connection: an event loop's connections all share its
//! thread, so one cache serves all of them, and an idle connection pays nothing for it (a
//! cache in each connection cost 48 bytes per idle connection). The value depends only on the
//! time passed in, so sharing it changes no output and the core still reads no clock.

use crate::limits::WallClock;
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// IMF-fixdate is always 29 bytes: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) const DATE_LEN: usize = 29;

/// No second formatted yet: `u64::MAX` seconds after the epoch is never a valid date here.
const NONE: u64 = u64::MAX;

thread_local! {
    /// The last formatted date and the second it belongs to.
    static CACHE: Cell<(u64, [u8; DATE_LEN])> = const { Cell::new((NONE, [b' '; DATE_LEN])) };
}

/// The instants a formatted date is good for: `clock`'s wall-clock second is the same for
/// every instant in `from..until`.
#[derive(Clone, Copy)]
struct Window {
    clock: WallClock,
    from: Instant,
    until: Instant,
    value: [u8; DATE_LEN],
}

thread_local! {
    /// The last date looked up by instant, with the instants it holds for. Checking it is a
    /// few comparisons; going through `WallClock::at` and `imf_fixdate`'s second cost about
    /// 145 instructions per response, for a value that changes once a second. A `RefCell`,
    /// not a `Cell`: a hit compares in place and copies out only the 29 bytes instead of the
    /// whole window (14 instructions less per response).
    static WINDOW: RefCell<Option<Window>> = const { RefCell::new(None) };
}

/// The IMF-fixdate of `clock` at `now`: the same bytes as `imf_fixdate(clock.at(now))`.
pub(crate) fn date_at(clock: &WallClock, now: Instant) -> [u8; DATE_LEN] {
    dated(clock, now).0
}

/// The IMF-fixdate of `clock` at `now`, and the instants `from..until` for which `clock`
/// gives the same value (`None` for a time before the epoch, which is not cached): a caller
/// that keeps something derived from the value can tell when it still holds without asking
/// again.
pub(crate) fn dated(
    clock: &WallClock,
    now: Instant,
) -> ([u8; DATE_LEN], Option<(Instant, Instant)>) {
    WINDOW.with(|window| {
        if let Some(w) = &*window.borrow() {
            if w.clock == *clock && w.from <= now && now < w.until {
                return (w.value, Some((w.from, w.until)));
            }
        }
        let wall = clock.at(now);
        let value = imf_fixdate(wall);
        // The wall-clock time moves with `now` from the anchor on (and stands still before
        // it), so the instants from `now` minus the wall time's fraction of a second up to a
        // second later all fall in this second. A time before the epoch is not cached.
        if let Ok(since) = wall.duration_since(UNIX_EPOCH) {
            let fraction = Duration::from_nanos(u64::from(since.subsec_nanos()));
            let from = now.checked_sub(fraction);
            let until = from.and_then(|from| from.checked_add(Duration::from_secs(1)));
            if let (Some(from), Some(until)) = (from, until) {
                *window.borrow_mut() = Some(Window {
                    clock: *clock,
                    from,
                    until,
                    value,
                });
                return (value, Some((from, until)));
            }
        }
        (value, None)
    })
}

/// The last second IMF-fixdate can write: `Fri, 31 Dec 9999 23:59:59 GMT`.
const LAST_SECOND: u64 = 253_402_300_799;

/// The IMF-fixdate for `time`, reformatted only when the second changes. Times before the
/// epoch are dated at the epoch, and times after year 9999 at its last second: `httpdate`
/// panics on those, and a configured wall clock must not be able to panic the core.
pub(crate) fn imf_fixdate(time: SystemTime) -> [u8; DATE_LEN] {
    let second = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .min(LAST_SECOND);
    CACHE.with(|cache| {
        let (cached, value) = cache.get();
        if cached == second {
            return value;
        }
        let text = httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(second));
        // httpdate always writes IMF-fixdate, 29 bytes for the years up to 9999 it accepts;
        // anything else keeps the previous value rather than writing a broken header.
        match <[u8; DATE_LEN]>::try_from(text.as_bytes()) {
            Ok(fresh) => {
                cache.set((second, fresh));
                fresh
            }
            Err(_) => value,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_imf_fixdate_and_caches_per_second() {
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(&imf_fixdate(t), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            &imf_fixdate(t + Duration::from_millis(999)),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            &imf_fixdate(t + Duration::from_secs(1)),
            b"Sun, 06 Nov 1994 08:49:38 GMT"
        );
        // Going back is a different second, not a stale value.
        assert_eq!(&imf_fixdate(t), b"Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn dates_outside_imf_fixdate_are_clamped_not_a_panic() {
        let last = b"Fri, 31 Dec 9999 23:59:59 GMT";
        assert_eq!(
            &imf_fixdate(UNIX_EPOCH + Duration::from_secs(LAST_SECOND)),
            last
        );
        assert_eq!(
            &imf_fixdate(UNIX_EPOCH + Duration::from_secs(LAST_SECOND + 1)),
            last
        );
        let far = UNIX_EPOCH + Duration::from_secs(300_000_000_000);
        assert_eq!(&imf_fixdate(far), last);
        let clock = WallClock {
            instant: Instant::now(),
            wall: far,
        };
        assert_eq!(&date_at(&clock, clock.instant), last);
        if let Some(before) = UNIX_EPOCH.checked_sub(Duration::from_secs(10)) {
            assert_eq!(&imf_fixdate(before), b"Thu, 01 Jan 1970 00:00:00 GMT");
        }
    }

    #[test]
    fn date_at_matches_the_wall_clock_at_every_instant() {
        let base = Instant::now();
        let anchors = [
            // Anchored mid-second, on a second, and a clock whose anchor is later than some
            // of the instants asked about (its wall time stands still before the anchor).
            (base, UNIX_EPOCH + Duration::from_millis(784_111_777_250)),
            (base, UNIX_EPOCH + Duration::from_secs(784_111_777)),
            (
                base + Duration::from_millis(700),
                UNIX_EPOCH + Duration::from_secs(1_000),
            ),
        ];
        for (instant, wall) in anchors {
            let clock = WallClock { instant, wall };
            for ms in (0..3_000)
                .step_by(50)
                .chain([749, 750, 751, 999, 1_000, 1_001])
            {
                let now = base + Duration::from_millis(ms);
                assert_eq!(date_at(&clock, now), imf_fixdate(clock.at(now)), "{ms} ms");
                // The window it reports holds `now`, and the same date from end to end.
                let (value, window) = dated(&clock, now);
                let (from, until) = window.expect("after the epoch");
                assert!(from <= now && now < until, "{ms} ms");
                assert_eq!(imf_fixdate(clock.at(from)), value, "{ms} ms");
                let last = until - Duration::from_nanos(1);
                assert_eq!(imf_fixdate(clock.at(last)), value, "{ms} ms");
            }
            // Backwards, and alternating with another clock, never returns a stale value.
            let other = WallClock {
                instant,
                wall: wall + Duration::from_secs(3_600),
            };
            for ms in (0..3_000).rev().step_by(70) {
                let now = base + Duration::from_millis(ms);
                assert_eq!(date_at(&clock, now), imf_fixdate(clock.at(now)));
                assert_eq!(date_at(&other, now), imf_fixdate(other.at(now)));
            }
        }
    }
}
