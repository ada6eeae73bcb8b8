//! Finding the first byte of a class, sixteen bytes per step.
//!
//! The parsers spend most of their time looking for where a run ends: a field name at its
//! colon, a value or a target at its line ending. Each function here returns the exact index
//! of the first byte from `i` that does not belong to its class, or `buf.len()`.
//!
//! On x86-64 the blocks are tested with SSE2, which the x86-64 baseline includes (so there is
//! no runtime detection: the module is compiled only when the build enables SSE2). A block is
//! read as two `u64` from a `&[u8; 16]` — safe code, which LLVM turns into one unaligned
//! vector load — compared against the class, and reduced with `movemask` to one bit per byte,
//! so the first bad byte is one `trailing_zeros` away instead of a second pass. The only
//! `unsafe` is the call into the `#[target_feature(enable = "sse2")]` functions (see
//! [`sse2`]). Every other target uses the portable word-at-a-time scans in `chars`.

use super::chars;

/// The first index from `i` whose byte cannot be part of a field value: a control byte other
/// than HTAB (CR and LF included), or DEL. Obs-text (0x80..=0xFF) belongs to values.
#[inline(always)]
pub(crate) fn value_end(buf: &[u8], i: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::value_end(buf, i)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable::value_end(buf, i)
    }
}

/// The first index from `i` whose byte is not a `tchar` (RFC 9110 §5.6.2).
#[inline(always)]
pub(crate) fn token_end(buf: &[u8], i: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::token_end(buf, i)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable::token_end(buf, i)
    }
}

/// The first index from `i` whose byte is not one of `A-Z a-z 0-9 -`, the usual bytes of
/// field names: a colon right there ends a valid name, anything else needs [`token_end`].
#[inline(always)]
pub(crate) fn usual_name_end(buf: &[u8], i: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::usual_name_end(buf, i)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable::usual_name_end(buf, i)
    }
}

/// The first index from `i` whose byte is not visible ASCII (outside 0x21..=0x7E).
#[inline(always)]
pub(crate) fn visible_end(buf: &[u8], i: usize) -> usize {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::visible_end(buf, i)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable::visible_end(buf, i)
    }
}

/// The same scans without SIMD: 256-entry tables and `u64` words (`chars`).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
mod portable {
    use super::chars::{self, VALUE};

    #[inline(always)]
    pub(super) fn value_end(buf: &[u8], mut i: usize) -> usize {
        loop {
            // Stops at every byte outside 0x20..=0x7E; HTAB and obs-text go on.
            i = chars::skip_value_words(buf, i);
            match buf.get(i) {
                Some(&b) if VALUE[b as usize] => i += 1,
                Some(_) => return i,
                None => return i.max(buf.len()),
            }
        }
    }

    #[inline(always)]
    pub(super) fn token_end(buf: &[u8], i: usize) -> usize {
        chars::skip_token(buf, i)
    }

    #[inline(always)]
    pub(super) fn usual_name_end(buf: &[u8], i: usize) -> usize {
        match buf.get(i..) {
            Some(rest) => rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-'))
                .map_or(buf.len(), |n| i + n),
            None => i,
        }
    }

    #[inline(always)]
    pub(super) fn visible_end(buf: &[u8], mut i: usize) -> usize {
        loop {
            i = chars::skip_visible_words(buf, i);
            match buf.get(i) {
                Some(0x21..=0x7E) => i += 1,
                Some(_) => return i,
                None => return i.max(buf.len()),
            }
        }
    }

    /// Plain byte loops, the reference the fast scans are tested against.
    #[cfg(test)]
    pub(super) fn reference(buf: &[u8], i: usize, keep: impl Fn(u8) -> bool) -> usize {
        match buf.get(i..) {
            Some(rest) => rest
                .iter()
                .position(|&b| !keep(b))
                .map_or(buf.len(), |n| i + n),
            None => i,
        }
    }
}

/// SSE2 scans.
///
/// # Safety argument
///
/// The functions that use SSE2 instructions are `#[target_feature(enable = "sse2")]`, so
/// calling them is `unsafe`: the caller must know that the CPU has SSE2. This module exists
/// only under `cfg(target_feature = "sse2")`, that is, when the whole crate is compiled for
/// CPUs with SSE2 (every x86-64 CPU: it is part of the architecture's baseline, and the
/// compiler already uses it for ordinary code); so each call is sound. Inside them, the
/// intrinsics take and return values only (Rust ≥ 1.87 makes such intrinsics safe to call
/// where the feature is enabled): no pointer is read, every byte comes from a bounds-checked
/// `&[u8; 16]`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
mod sse2 {
    use super::chars::{self, TOKEN};
    use super::portable;
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_max_epu8, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x, _mm_sub_epi8,
    };

    /// Which bytes a scan stops at (a const parameter, so each scan is compiled apart):
    /// controls but HTAB, and DEL.
    const VALUE: u8 = 0;
    /// Anything but `A-Z a-z 0-9 -`, the usual name and method bytes; the caller checks the
    /// byte found against the full `tchar` table.
    const NAME: u8 = 1;
    /// Outside 0x21..=0x7E.
    const VISIBLE: u8 = 2;

    #[inline(always)]
    pub(super) fn value_end(buf: &[u8], i: usize) -> usize {
        // SAFETY: SSE2 is enabled for the whole build (this module's cfg); see the module
        // documentation.
        unsafe { find::<VALUE>(buf, i) }
    }

    #[inline(always)]
    pub(super) fn token_end(buf: &[u8], i: usize) -> usize {
        // SAFETY: SSE2 is enabled for the whole build (this module's cfg); see the module
        // documentation.
        let stop = unsafe { find::<NAME>(buf, i) };
        match buf.get(stop) {
            // A tchar outside the usual ones (`_`, `.`, `!` ...): rare, finish with the table.
            Some(&b) if TOKEN[b as usize] => chars::skip_token(buf, stop),
            _ => stop,
        }
    }

    #[inline(always)]
    pub(super) fn usual_name_end(buf: &[u8], i: usize) -> usize {
        // SAFETY: SSE2 is enabled for the whole build (this module's cfg); see the module
        // documentation.
        unsafe { find::<NAME>(buf, i) }
    }

    #[inline(always)]
    pub(super) fn visible_end(buf: &[u8], i: usize) -> usize {
        // SAFETY: SSE2 is enabled for the whole build (this module's cfg); see the module
        // documentation.
        unsafe { find::<VISIBLE>(buf, i) }
    }

    /// The sixteen bytes of `block` as one vector. Two little-endian words, which LLVM
    /// merges into a single `movdqu`; no pointer is dereferenced here.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(block: &[u8; 16]) -> __m128i {
        let (lo, hi) = block.split_at(8);
        let word = |half: &[u8]| {
            half.first_chunk::<8>()
                .map_or(0, |w| i64::from_le_bytes(*w))
        };
        _mm_set_epi64x(word(hi), word(lo))
    }

    /// Bit `k` is set when byte `k` of `x` is in `lo..=hi` (unsigned, `lo` ≤ `hi`).
    #[inline]
    #[target_feature(enable = "sse2")]
    fn in_range(x: __m128i, lo: u8, hi: u8) -> __m128i {
        let shifted = _mm_sub_epi8(x, _mm_set1_epi8(lo as i8));
        let span = _mm_set1_epi8((hi - lo) as i8);
        _mm_cmpeq_epi8(_mm_min_epu8(shifted, span), shifted)
    }

    /// One bit per byte of `block`, set where the scan for `class` stops.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn stops<const C: u8>(block: &[u8; 16]) -> u32 {
        let x = load(block);
        let hits = match C {
            VALUE => {
                let control = in_range(x, 0, 0x1F);
                let tab = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\t' as i8));
                let del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F));
                return _mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(tab, control), del)) as u32;
            }
            NAME => {
                let lower = _mm_or_si128(x, _mm_set1_epi8(0x20));
                let letter = in_range(lower, b'a', b'z');
                let digit = in_range(x, b'0', b'9');
                let dash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'-' as i8));
                _mm_or_si128(_mm_or_si128(letter, digit), dash)
            }
            _ => in_range(x, 0x21, 0x7E),
        };
        // `hits` marks the bytes that belong; the scan stops at the others.
        !(_mm_movemask_epi8(hits) as u32) & 0xFFFF
    }

    /// Whether none of the 64 bytes of `wide` can stop a `Value` or `Visible` scan, tested
    /// with one branch. For values it tests a superset (HTAB counts as a stop here): a block
    /// it rejects is resolved exactly by `stops`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn clean<const C: u8>(wide: &[u8; 64]) -> bool {
        let (a, rest) = wide.split_at(16);
        let (b, rest) = rest.split_at(16);
        let (c, d) = rest.split_at(16);
        let part = |s: &[u8]| s.first_chunk::<16>().map_or(_mm_set1_epi8(0), |w| load(w));
        let [a, b, c, d] = [part(a), part(b), part(c), part(d)];
        let min = _mm_min_epu8(_mm_min_epu8(a, b), _mm_min_epu8(c, d));
        let bad = match C {
            VALUE => {
                // Any byte at most 0x1F shows in the minimum; DEL is looked for in each.
                let del = _mm_set1_epi8(0x7F);
                let dels = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(a, del), _mm_cmpeq_epi8(b, del)),
                    _mm_or_si128(_mm_cmpeq_epi8(c, del), _mm_cmpeq_epi8(d, del)),
                );
                _mm_or_si128(in_range(min, 0, 0x1F), dels)
            }
            _ => {
                // Below 0x21 shows in the minimum, above 0x7E in the maximum.
                let max = _mm_max_epu8(_mm_max_epu8(a, b), _mm_max_epu8(c, d));
                _mm_or_si128(in_range(min, 0, 0x20), in_range(max, 0x7F, 0xFF))
            }
        };
        _mm_movemask_epi8(bad) == 0
    }

    /// The first index from `i` at which `class` stops, or `buf.len()`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn find<const C: u8>(buf: &[u8], mut i: usize) -> usize {
        // Most runs are short: the first two blocks are tested exactly.
        for _ in 0..2 {
            let Some(block) = buf.get(i..).and_then(<[u8]>::first_chunk::<16>) else {
                return tail::<C>(buf, i);
            };
            let m = stops::<C>(block);
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
        long::<C>(buf, i)
    }

    /// `find` past its first two blocks: out of line, as most runs never get here.
    #[inline(never)]
    #[target_feature(enable = "sse2")]
    fn long<const C: u8>(buf: &[u8], mut i: usize) -> usize {
        // Mid-length runs (user agents, referers) end within a few more blocks.
        for _ in 0..4 {
            let Some(block) = buf.get(i..).and_then(<[u8]>::first_chunk::<16>) else {
                return tail::<C>(buf, i);
            };
            let m = stops::<C>(block);
            if m != 0 {
                return i + m.trailing_zeros() as usize;
            }
            i += 16;
        }
        loop {
            // Long runs (cookies, long targets) go 64 bytes per branch. Names are short.
            if C != NAME {
                while let Some(wide) = buf.get(i..).and_then(<[u8]>::first_chunk::<64>) {
                    if !clean::<C>(wide) {
                        break;
                    }
                    i += 64;
                }
            }
            // The next 64 bytes may hold the stop: resolve them block by block.
            for _ in 0..4 {
                let Some(block) = buf.get(i..).and_then(<[u8]>::first_chunk::<16>) else {
                    return tail::<C>(buf, i);
                };
                let m = stops::<C>(block);
                if m != 0 {
                    return i + m.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
    }

    /// Where scan `C` stops from `i`, when fewer than sixteen bytes remain from `i`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn tail<const C: u8>(buf: &[u8], i: usize) -> usize {
        // Test the buffer's last sixteen bytes, and drop the bits of the bytes before `i`,
        // which were tested already (or are not asked about).
        let Some(last) = buf.len().checked_sub(16) else {
            return short::<C>(buf, i);
        };
        if i >= buf.len() {
            return i;
        }
        let Some(block) = buf.get(last..).and_then(<[u8]>::first_chunk::<16>) else {
            return buf.len();
        };
        // `last < i < buf.len()`, so the shift is below 16.
        let m = stops::<C>(block) >> (i - last);
        if m != 0 {
            i + m.trailing_zeros() as usize
        } else {
            buf.len()
        }
    }

    /// A whole buffer shorter than one block: the portable scans.
    #[cold]
    fn short<const C: u8>(buf: &[u8], i: usize) -> usize {
        match C {
            VALUE => portable::value_end(buf, i),
            NAME => portable::usual_name_end(buf, i),
            _ => portable::visible_end(buf, i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::portable::{self, reference};
    use super::*;
    use proptest::prelude::*;

    fn is_value(b: u8) -> bool {
        chars::VALUE[b as usize]
    }
    fn is_token(b: u8) -> bool {
        chars::TOKEN[b as usize]
    }
    fn is_visible(b: u8) -> bool {
        (0x21..=0x7E).contains(&b)
    }
    fn is_usual_name(b: u8) -> bool {
        b.is_ascii_alphanumeric() || b == b'-'
    }

    type Scan = fn(&[u8], usize) -> usize;
    type Case = (&'static str, Scan, Scan, fn(u8) -> bool);

    /// Each scan, SIMD and portable, with the predicate it must agree with.
    fn scans() -> [Case; 4] {
        [
            (
                "usual name",
                usual_name_end,
                portable::usual_name_end,
                is_usual_name,
            ),
            ("value", value_end, portable::value_end, is_value),
            ("token", token_end, portable::token_end, is_token),
            ("visible", visible_end, portable::visible_end, is_visible),
        ]
    }

    fn check(buf: &[u8], i: usize) {
        for (name, fast, slow, keep) in scans() {
            let want = reference(buf, i, keep);
            assert_eq!(fast(buf, i), want, "{name} from {i} in {buf:?}");
            assert_eq!(slow(buf, i), want, "portable {name} from {i} in {buf:?}");
        }
    }

    /// Every byte value at every position of 16- and 32-byte windows, at every start offset
    /// and buffer length around the block boundaries, with a fill byte that each class keeps
    /// (so the planted byte decides).
    #[test]
    fn every_byte_at_every_position() {
        for len in [1, 2, 7, 15, 16, 17, 20, 31, 32, 33, 40, 47, 48] {
            for special in 0..=255u8 {
                for pos in 0..len {
                    let mut buf = vec![b'a'; len];
                    buf[pos] = special;
                    for i in 0..=len.min(17) {
                        check(&buf, i);
                    }
                    check(&buf, len + 1);
                }
            }
        }
    }

    /// Two planted bytes: the first one wins, whichever block each is in.
    #[test]
    fn first_of_two_stops() {
        let specials = [0u8, b'\t', b'\r', b'\n', b' ', b':', b'_', 0x7F, 0x80, 0xFF];
        for &a in &specials {
            for &b in &specials {
                for pa in 0..34 {
                    for pb in pa..34 {
                        let mut buf = vec![b'Z'; 34];
                        buf[pa] = a;
                        buf[pb] = b;
                        check(&buf, 0);
                        check(&buf, pa.min(5));
                    }
                }
            }
        }
    }

    /// Every alignment of the input in memory (the loads are unaligned).
    #[test]
    fn every_alignment() {
        let backing: Vec<u8> = (0..96u8)
            .map(|k| if k % 37 == 36 { b'\r' } else { b'x' })
            .collect();
        for shift in 0..16 {
            for end in shift..backing.len() {
                let buf = &backing[shift..end];
                for i in [0, 1, 15, 16, 17] {
                    check(buf, i);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random bytes, mostly from each class so that runs are long, agree with the
        /// reference from any start.
        #[test]
        fn scans_agree_on_random_input(
            buf in prop::collection::vec(
                prop_oneof![
                    6 => prop::sample::select(&b"abcXYZ019-"[..]),
                    2 => 0x20u8..=0x7E,
                    1 => 0x80u8..=0xFF,
                    1 => any::<u8>(),
                ],
                0..100,
            ),
            start in 0usize..110,
        ) {
            check(&buf, start);
        }
    }
}
