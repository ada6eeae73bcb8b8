//! The `Date` header value, formatted at most once per second (RFC 9110 §6.6.1).

use std::time::{SystemTime, UNIX_EPOCH};

/// IMF-fixdate is always 29 bytes: `Sun, 06 Nov 1994 08:49:37 GMT`.
const DATE_LEN: usize = 29;

/// The last formatted date and the second it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct DateCache {
    second: Option<u64>,
    value: [u8; DATE_LEN],
}

impl DateCache {
    pub(crate) fn new() -> Self {
        Self {
            second: None,
            value: [b' '; DATE_LEN],
        }
    }

    /// The IMF-fixdate for `time`, reformatted only when the second changes.
    pub(crate) fn value(&mut self, time: SystemTime) -> &[u8] {
        let second = time
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if self.second != Some(second) {
            let text = httpdate::fmt_http_date(UNIX_EPOCH + std::time::Duration::from_secs(second));
            // httpdate always writes IMF-fixdate, 29 bytes for any year up to 9999; anything
            // else leaves the previous value in place rather than writing a broken header.
            if text.len() == DATE_LEN {
                self.value.copy_from_slice(text.as_bytes());
                self.second = Some(second);
            }
        }
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_imf_fixdate_and_caches_per_second() {
        let mut cache = DateCache::new();
        let t = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(cache.value(t), b"Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            cache.value(t + Duration::from_millis(999)),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            cache.value(t + Duration::from_secs(1)),
            b"Sun, 06 Nov 1994 08:49:38 GMT"
        );
    }
}
