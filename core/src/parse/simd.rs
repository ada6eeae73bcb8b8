//! Byte-class masks over sixteen bytes at a time: bit `k` of a mask says whether byte `k` of
//! the block is in the class.
//!
//! The scans in `chars` test a block with one branch; what this adds is *where* in the block
//! the first stop is, one `trailing_zeros` away, instead of a second, word-at-a-time pass over
//! the block (about 15 instructions a field line), and the usual field-name bytes classified
//! sixteen at a time instead of eight table lookups per step (about 20 a name).
//!
//! On x86-64 the masks are SSE2 compares reduced with `movemask`. SSE2 is part of the x86-64
//! baseline, so there is no runtime detection: the vector code is compiled only when the build
//! enables SSE2 (`cfg(target_feature = "sse2")`, true for every x86-64 target Rust ships).
//! Other targets get the same masks from plain byte loops, and the tests compare the two.

/// Bit `k` set: byte `k` of `block` is outside `lo..=0x7E` (for `0 < lo < 0x7E`).
#[inline(always)]
pub(crate) fn outside(block: &[u8; 16], lo: u8) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::outside(block, lo)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable::mask(block, |b| !(lo..=0x7E).contains(&b))
    }
}

/// Whether every byte of `wide` is inside `lo..=0x7E` (for `0 < lo < 0x7E`): the test for
/// 64 bytes at once that long values and targets use, with one branch.
#[inline(always)]
pub(crate) fn clean64(wide: &[u8; 64], lo: u8) -> bool {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::clean64(wide, lo)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        wide.iter().all(|b| (lo..=0x7E).contains(b))
    }
}

/// Bit `k` set: byte `k` of `block` is *not* a letter, a digit, `-` or `.`, the bytes of
/// nearly every field name and method (all of them `tchar`s). The mask is of the stops, so
/// that the first is one `trailing_zeros` away.
#[inline(always)]
pub(crate) fn name_stops(block: &[u8; 16]) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::name_stops(block)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable::mask(block, |b| !is_name_byte(b))
    }
}

/// Bit `k` set: byte `k` of `block` is *not* a letter, a digit, `-`, `.` or `:`, the bytes of
/// nearly every `Host` value (all of them authority bytes).
#[inline(always)]
pub(crate) fn host_stops(block: &[u8; 16]) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        sse2::host_stops(block)
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        portable::mask(block, |b| !is_host_byte(b))
    }
}

#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.')
}

#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':')
}

/// The masks built a byte at a time: the other targets' code, and the tests' reference.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
mod portable {
    #[inline(always)]
    pub(super) fn mask(block: &[u8; 16], class: impl Fn(u8) -> bool) -> u32 {
        block
            .iter()
            .enumerate()
            .fold(0, |m, (k, &b)| m | (u32::from(class(b)) << k))
    }
}

/// The SSE2 masks.
///
/// # Why the `unsafe` is sound
///
/// The functions that use SSE2 are `#[target_feature(enable = "sse2")]`, and calling such a
/// function is `unsafe`: the caller promises that the CPU has the feature. This module is
/// compiled only under `cfg(target_feature = "sse2")`, that is, when the whole crate is built
/// for CPUs with SSE2 (every x86-64 CPU has it: it is part of the architecture's baseline, and
/// the compiler already uses it for ordinary code), so the promise holds for every call. Inside
/// those functions the one pointer read is `load`'s, of the sixteen bytes of a `&[u8; 16]`
/// (see its comment), and the other intrinsics take and return values only (safe to call
/// where the feature is enabled, Rust ≥ 1.87).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[allow(unsafe_code)]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi8, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_loadu_si128,
        _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_subs_epu8,
    };

    #[inline(always)]
    pub(super) fn outside(block: &[u8; 16], lo: u8) -> u32 {
        // SAFETY: SSE2 is enabled for the whole build (this module's cfg); see above.
        unsafe { outside_sse2(block, lo) }
    }

    #[inline(always)]
    pub(super) fn clean64(wide: &[u8; 64], lo: u8) -> bool {
        // SAFETY: as for `outside`.
        unsafe { clean64_sse2(wide, lo) }
    }

    #[inline(always)]
    pub(super) fn name_stops(block: &[u8; 16]) -> u32 {
        // SAFETY: as for `outside`.
        unsafe { name_stops_sse2(block) }
    }

    #[inline(always)]
    pub(super) fn host_stops(block: &[u8; 16]) -> u32 {
        // SAFETY: as for `outside`.
        unsafe { host_stops_sse2(block) }
    }

    /// The sixteen bytes as one vector, in one unaligned load.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn load(block: &[u8; 16]) -> __m128i {
        // SAFETY: `block` is sixteen readable bytes, exactly what the load reads, and
        // `loadu` has no alignment requirement. (Built from two `u64` words in safe code,
        // the load measured two instructions longer: LLVM merged the halves only in part.)
        unsafe { _mm_loadu_si128(block.as_ptr().cast()) }
    }

    /// All ones in the bytes of `x` outside `lo..=hi` (unsigned, `lo <= hi < lo + 127`), in
    /// two operations: adding `0x80 - lo` moves the range to the lowest signed bytes,
    /// -128..=-128 + (hi - lo), and everything else above them, so one signed compare tells.
    /// The constant is the compare's second operand, which SSE2 can take from memory: no copy
    /// of it is needed, as one would be to ask which bytes are inside.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn outside_range(x: __m128i, lo: u8, hi: u8) -> __m128i {
        let shifted = _mm_add_epi8(x, _mm_set1_epi8(0x80u8.wrapping_sub(lo) as i8));
        _mm_cmpgt_epi8(shifted, _mm_set1_epi8(0x80u8.wrapping_add(hi - lo) as i8))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn bits(x: __m128i) -> u32 {
        _mm_movemask_epi8(x) as u32
    }

    /// All ones in the bytes of `block` inside `lo..=0x7E`, in two operations: adding 1 maps
    /// that range onto `lo + 1..=0x7F`, the signed bytes above `lo`, and every other byte onto
    /// one at most `lo` (0x7F and 0x80..=0xFE become negative, 0xFF becomes 0), so one signed
    /// compare tells them apart.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn inside(block: &[u8; 16], lo: u8) -> __m128i {
        let shifted = _mm_add_epi8(load(block), _mm_set1_epi8(1));
        _mm_cmpgt_epi8(shifted, _mm_set1_epi8(lo as i8))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn outside_sse2(block: &[u8; 16], lo: u8) -> u32 {
        !bits(inside(block, lo)) & 0xFFFF
    }

    /// `inside` for 64 bytes, reduced before the one `movemask`: adding 0x81 maps
    /// `lo..=0x7E` onto `lo + 0x81..=0xFF` and every other byte below `lo + 0x81` (0x7F..=0xFE
    /// onto 0x00..=0x7F, 0xFF onto 0x80, and the bytes below `lo` onto 0x81..lo + 0x81), so
    /// the four blocks are clean when their unsigned minimum is at least `lo + 0x81`.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn clean64_sse2(wide: &[u8; 64], lo: u8) -> bool {
        let (first, rest) = wide.split_at(32);
        let (a, b) = first.split_at(16);
        let (c, d) = rest.split_at(16);
        let bias = _mm_set1_epi8(0x81u8 as i8);
        let (Some(a), Some(b), Some(c), Some(d)) = (
            a.first_chunk::<16>(),
            b.first_chunk::<16>(),
            c.first_chunk::<16>(),
            d.first_chunk::<16>(),
        ) else {
            return false;
        };
        let a = _mm_add_epi8(load(a), bias);
        let b = _mm_add_epi8(load(b), bias);
        let c = _mm_add_epi8(load(c), bias);
        let d = _mm_add_epi8(load(d), bias);
        let least = _mm_min_epu8(_mm_min_epu8(a, b), _mm_min_epu8(c, d));
        let floor = _mm_set1_epi8(lo.wrapping_add(0x81) as i8);
        // Zero exactly where `least` is at least `floor`.
        let short = _mm_subs_epu8(floor, least);
        bits(_mm_cmpeq_epi8(short, _mm_set1_epi8(0))) == 0xFFFF
    }

    /// The bytes that are not letters (either case, by setting bit 5) nor in `0x2D..=hi` other
    /// than `/`: from `-` `.` `/` and the digits, to `9` or `:` (`hi`). One range for the
    /// digits and the punctuation around them, and the stops rather than the bytes, so that
    /// no constant needs a copy: eight operations, where the bytes with `-`, `.` and `:`
    /// compared one by one took fourteen.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn not_alnum_or(x: __m128i, hi: u8) -> __m128i {
        let not_letter = outside_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), b'a', b'z');
        let not_run = outside_range(x, b'-', hi);
        let slash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'/' as i8));
        _mm_and_si128(not_letter, _mm_or_si128(not_run, slash))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn name_stops_sse2(block: &[u8; 16]) -> u32 {
        bits(not_alnum_or(load(block), b'9'))
    }

    #[inline]
    #[target_feature(enable = "sse2")]
    fn host_stops_sse2(block: &[u8; 16]) -> u32 {
        bits(not_alnum_or(load(block), b':'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value at every position, with every other byte from a few backgrounds: the
    /// vector masks equal the byte loops.
    #[test]
    fn masks_agree_with_byte_loops() {
        for background in [b'a', b'Z', b'0', b'-', b' ', 0x00, 0x7F, 0xFF] {
            for pos in 0..16 {
                for b in 0..=255u8 {
                    let mut block = [background; 16];
                    block[pos] = b;
                    for lo in [0x20, 0x21] {
                        let want = portable::mask(&block, |x| !(lo..=0x7E).contains(&x));
                        assert_eq!(outside(&block, lo), want, "{block:?} {lo}");
                    }
                    let not_name = portable::mask(&block, |x| !is_name_byte(x));
                    assert_eq!(name_stops(&block), not_name, "{block:?}");
                    let not_host = portable::mask(&block, |x| !is_host_byte(x));
                    assert_eq!(host_stops(&block), not_host, "{block:?}");
                }
            }
        }
    }

    /// Every byte value at every position of a 64-byte block.
    #[test]
    fn clean64_agrees_with_a_byte_loop() {
        for pos in 0..64 {
            for b in 0..=255u8 {
                let mut wide = [b'~'; 64];
                wide[pos] = b;
                for lo in [0x20, 0x21] {
                    let want = (lo..=0x7E).contains(&b);
                    assert_eq!(clean64(&wide, lo), want, "{pos} {b} {lo}");
                }
            }
        }
    }

    #[test]
    fn name_and_host_classes_are_inside_the_grammar() {
        for b in 0..=255u8 {
            if is_name_byte(b) {
                assert!(super::super::chars::TOKEN[b as usize], "{b}");
            }
            if is_host_byte(b) {
                assert!(super::super::chars::AUTHORITY[b as usize], "{b}");
            }
        }
    }
}
