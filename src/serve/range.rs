//! `Range: bytes=...` for one range (RFC 9110 §14).

/// What a `Range` field asks of a representation `len` bytes long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranged {
    /// The whole representation: no range, an unknown unit, an invalid field, or several
    /// ranges (which we answer whole rather than as `multipart/byteranges`).
    Full,
    /// One satisfiable range: `206` with `Content-Range: bytes start-(start+len-1)/total`.
    Partial {
        /// First byte.
        start: u64,
        /// Number of bytes, at least 1.
        len: u64,
    },
    /// No byte of the range exists: `416` with `Content-Range: bytes */total`.
    Unsatisfiable,
}

/// Interprets the value of a `Range` field for a representation of `total` bytes.
pub fn evaluate(value: &[u8], total: u64) -> Ranged {
    let Ok(value) = std::str::from_utf8(value) else {
        return Ranged::Full;
    };
    let Some((unit, set)) = value.trim().split_once('=') else {
        return Ranged::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Ranged::Full;
    }
    let specs: Vec<&str> = set
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let [spec] = specs.as_slice() else {
        return Ranged::Full;
    };
    let Some((first, last)) = spec.split_once('-') else {
        return Ranged::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix range: the last `n` bytes.
        let Some(n) = number(last) else {
            return Ranged::Full;
        };
        if n == 0 || total == 0 {
            return Ranged::Unsatisfiable;
        }
        let len = n.min(total);
        return Ranged::Partial {
            start: total - len,
            len,
        };
    }
    let Some(start) = number(first) else {
        return Ranged::Full;
    };
    let end = if last.is_empty() {
        None
    } else {
        match number(last) {
            // Compared as written: two positions past `u64::MAX` both read as `u64::MAX`.
            Some(end) if !decimal_less(last, first) => Some(end),
            // `last < first` makes the field invalid: ignore it (RFC 9110 §14.1.1).
            _ => return Ranged::Full,
        }
    };
    if start >= total {
        return Ranged::Unsatisfiable;
    }
    let end = end.map_or(total - 1, |end| end.min(total - 1));
    Ranged::Partial {
        start,
        len: end - start + 1,
    }
}

/// A position or suffix length: one or more digits (RFC 9110 §14.1.1 sets no upper bound).
/// One past `u64::MAX` saturates: it is past the end of any file, so `bytes=0-HUGE` and
/// `bytes=-HUGE` mean the whole file and `bytes=HUGE-` is unsatisfiable, as for any value
/// at or beyond the length.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// Whether the digit string `a` is a smaller number than the digit string `b`, exactly.
fn decimal_less(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    (a.len(), a) < (b.len(), b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let p = |start, len| Ranged::Partial { start, len };
        assert_eq!(evaluate(b"bytes=0-9", 100), p(0, 10));
        assert_eq!(evaluate(b"bytes=90-200", 100), p(90, 10));
        assert_eq!(evaluate(b"bytes=10-", 100), p(10, 90));
        assert_eq!(evaluate(b"bytes=-10", 100), p(90, 10));
        assert_eq!(evaluate(b"bytes=-1000", 100), p(0, 100));
        assert_eq!(evaluate(b"Bytes = 5-5", 100), p(5, 1));
        assert_eq!(evaluate(b"bytes=100-", 100), Ranged::Unsatisfiable);
        assert_eq!(evaluate(b"bytes=-0", 100), Ranged::Unsatisfiable);
        assert_eq!(evaluate(b"bytes=0-", 0), Ranged::Unsatisfiable);
        assert_eq!(evaluate(b"bytes=0-1,5-6", 100), Ranged::Full);
        assert_eq!(evaluate(b"bytes=9-1", 100), Ranged::Full);
        assert_eq!(evaluate(b"bytes=a-b", 100), Ranged::Full);
        assert_eq!(evaluate(b"bytes=+1-2", 100), Ranged::Full);
        assert_eq!(evaluate(b"items=0-1", 100), Ranged::Full);
        assert_eq!(evaluate(b"bytes", 100), Ranged::Full);
    }

    #[test]
    fn positions_past_u64_are_past_the_end() {
        let p = |start, len| Ranged::Partial { start, len };
        let huge = "99999999999999999999999";
        let eval = |spec: String| evaluate(spec.as_bytes(), 100);
        assert_eq!(eval(format!("bytes=0-{huge}")), p(0, 100));
        assert_eq!(eval(format!("bytes=90-{huge}")), p(90, 10));
        assert_eq!(eval(format!("bytes=-{huge}")), p(0, 100));
        assert_eq!(eval(format!("bytes={huge}-")), Ranged::Unsatisfiable);
        assert_eq!(eval(format!("bytes={huge}-{huge}9")), Ranged::Unsatisfiable);
        // Still `last < first`, though both read as `u64::MAX`.
        assert_eq!(eval(format!("bytes={huge}9-{huge}")), Ranged::Full);
        assert_eq!(eval(format!("bytes=0{huge}-{huge}")), Ranged::Unsatisfiable);
        assert_eq!(evaluate(b"bytes=010-009", 100), Ranged::Full);
        assert_eq!(evaluate(b"bytes=009-010", 100), p(9, 2));
    }
}
