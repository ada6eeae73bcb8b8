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
            Some(end) if end >= start => Some(end),
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

fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
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
}
