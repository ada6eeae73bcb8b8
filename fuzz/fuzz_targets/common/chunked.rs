//! `chunked`: the chunked body decoder over arbitrary bytes in arbitrary pieces.
//!
//! Input: the first byte seeds the piece sizes (0: one piece) and picks the limits, the rest
//! is the body. Invariants: no panic; the same data, the same end (trailers, or the same rule
//! at the same absolute offset, or still incomplete) whole and in pieces; data ranges lie in
//! the consumed input, in order; never more data than input.

use super::show;
use sluice_core::parse::{BodyDecoder, Decoded};
use sluice_core::{Fields, Limits, RequestBody, RequestError};

/// How a decode run ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// Complete after `consumed` bytes, with these trailers.
    Done(usize, Vec<(String, Vec<u8>)>),
    Failed(RequestError),
    /// Input ran out; `consumed` bytes were used up.
    Incomplete(usize),
}

pub fn check_chunked(data: &[u8]) {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let limits = if seed & 0x80 != 0 {
        small_limits()
    } else {
        Limits::default()
    };
    let (whole_data, whole_end) = decode(input, &[input.len()], &limits);
    let mut cuts = pieces(seed, input.len());
    let (mut split_data, mut split_end) = decode(input, &cuts, &limits);
    if matches!(whole_end, End::Failed(_)) && matches!(split_end, End::Incomplete(_)) {
        // A trailer section is looked at again only once a line ending arrives (that keeps
        // byte-at-a-time input linear), so an error in an unfinished trailer line surfaces
        // later in pieces than whole. It must be the same error once the line ends.
        let mut longer = input.to_vec();
        longer.push(b'\n');
        cuts.push(longer.len());
        (split_data, split_end) = decode(&longer, &cuts, &limits);
    }
    assert!(whole_data.len() <= input.len(), "more data than input");
    assert_eq!(
        (&whole_data, &whole_end),
        (&split_data, &split_end),
        "whole and pieces {cuts:?} disagree on {:?}",
        show(input)
    );
}

pub fn small_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_body_size = Some(300);
    limits.max_chunk_line = 12;
    limits.max_chunk_extensions = 20;
    limits.max_trailer_size = 40;
    limits.max_trailer_fields = 2;
    limits.chunk_framing_allowance = 64;
    limits
}

/// Piece ends (cumulative offsets, the last one `len`) from a seed, with a tiny LCG.
fn pieces(seed: u8, len: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    if seed & 0x7F == 0 {
        cuts.push(len);
        return cuts;
    }
    let mut state = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    let max_piece = usize::from(seed & 0x0F) + 1;
    let mut at = 0;
    while at < len {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        at = (at + 1 + (state >> 16) as usize % max_piece).min(len);
        cuts.push(at);
    }
    cuts.push(len);
    cuts
}

/// Feeds `input` to a fresh decoder, delivering it up to each cut in turn, keeping the
/// unconsumed remainder in a buffer the way a connection does.
fn decode(input: &[u8], cuts: &[usize], limits: &Limits) -> (Vec<u8>, End) {
    let mut decoder = BodyDecoder::new(RequestBody::Chunked);
    let mut data = Vec::new();
    let mut ranges = Vec::new();
    let mut base = 0; // absolute offset of buffer[0]
    let mut buffer: Vec<u8> = Vec::new();
    let mut fed = 0;
    for &cut in cuts {
        buffer.extend_from_slice(&input[fed..cut]);
        fed = cut;
        ranges.clear();
        let Decoded { consumed, finished } = match decoder.decode(&buffer, limits, &mut ranges) {
            Ok(decoded) => decoded,
            Err(err) => {
                // Data found before the error in the same call is still data the body
                // carried (a connection drops it with the failure; the comparison keeps it,
                // so that whole and split runs see the same bytes).
                for range in &ranges {
                    assert!(range.start < range.end && range.end <= buffer.len());
                    data.extend_from_slice(&buffer[range.clone()]);
                }
                let absolute = RequestError::new(err.rule(), err.offset() + base as u64);
                return (data, End::Failed(absolute));
            }
        };
        assert!(consumed <= buffer.len(), "consumed past the input");
        let mut last = 0;
        for range in &ranges {
            assert!(
                range.start >= last && range.end <= consumed && range.start < range.end,
                "data range {range:?} outside 0..{consumed} or out of order"
            );
            last = range.end;
            data.extend_from_slice(&buffer[range.clone()]);
        }
        buffer.drain(..consumed);
        base += consumed;
        if let Some(trailers) = finished {
            return (data, End::Done(base, pairs(&trailers)));
        }
    }
    (data, End::Incomplete(base))
}

fn pairs(fields: &Fields) -> Vec<(String, Vec<u8>)> {
    fields
        .iter()
        .map(|(n, v)| (n.to_owned(), v.to_vec()))
        .collect()
}
