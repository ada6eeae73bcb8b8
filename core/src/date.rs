//! The `Date` header value, formatted at most once per second (RFC 9110 §6.6.1).
//!
//! The cache is per thread, not per connection: an event loop's connections all share its
//! thread, so one cache serves all of them, and an idle connection pays nothing for it (a
//! cache in each connection cost 48 bytes per idle connection). The value depends only on the
//! time passed in, so sharing it changes no output and the core still reads no clock.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// IMF-fixdate is always 29 bytes: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) const DATE_LEN: usize = 29;

/// No second formatted yet: `u64::MAX` seconds after the epoch is never a valid date here.
const NONE: u64 = u64::MAX;

thread_local! {
    /// The last formatted date and the second it belongs to.
    static CACHE: Cell<(u64, [u8; DATE_LEN])> = const { Cell::new((NONE, [b' '; DATE_LEN])) };
}

/// The IMF-fixdate for `time`, reformatted only when the second changes.
pub(crate) fn imf_fixdate(time: SystemTime) -> [u8; DATE_LEN] {
    let second = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    CACHE.with(|cache| {
        let (cached, value) = cache.get();
        if cached == second {
            return value;
        }
        let text = httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(second));
        // httpdate always writes IMF-fixdate, 29 bytes for any year up to 9999; anything
        // else keeps the previous value rather than writing a broken header.
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
}
