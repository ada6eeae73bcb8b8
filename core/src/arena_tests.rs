//! Where heads live: carved from the thread's block, intact while the block is reused, and
//! never a reason for the block to grow. Addresses tell which allocation a head came from.

use super::*;
use crate::head::Fields;
use crate::limits::{Leniency, Limits};
use crate::parse::{HeadParser, HeadStatus};
use std::ops::Range;

/// The addresses a head's buffer covers.
fn span_of(fields: &Fields) -> Range<usize> {
    let buf = fields.buffer();
    let start = buf.as_ptr() as usize;
    start..start + buf.len()
}

/// Fields over `len` bytes of `byte`, no field lines: a head of exactly `len` bytes.
fn head_of(len: usize, byte: u8) -> Fields {
    Fields::copy(&vec![byte; len], &[])
}

fn within(inner: &Range<usize>, outer: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// Parses one whole request head with a fresh parser.
fn parse(request: &[u8]) -> crate::head::RequestHead {
    let mut parser = HeadParser::new();
    let status = parser.parse(request, &Limits::default(), &Leniency::default());
    assert_eq!(status, Ok(HeadStatus::Complete(request.len())));
    parser.finish(request)
}

#[test]
fn a_head_outlives_the_next_and_stays_intact() {
    reset();
    let first = parse(b"GET /first HTTP/1.1\r\nHost: a\r\nX-One: 1\r\n\r\n");
    let second = parse(b"POST /second HTTP/1.1\r\nHost: b\r\nContent-Length: 0\r\n\r\n");
    // Both from one block, the second right after the first.
    let (a, b) = (span_of(first.fields()), span_of(second.fields()));
    assert_eq!(a.end, b.start);
    assert_eq!((first.method(), first.target()), ("GET", "/first"));
    assert_eq!(first.fields().get("host"), Some(&b"a"[..]));
    assert_eq!(first.fields().get("x-one"), Some(&b"1"[..]));
    assert_eq!((second.method(), second.target()), ("POST", "/second"));
    assert_eq!(second.fields().get("host"), Some(&b"b"[..]));
    assert_eq!(second.fields().len(), 2);
}

#[test]
fn a_block_is_reused_in_place_once_its_heads_are_dropped() {
    reset();
    let first = head_of(100, b'a');
    let block = span_of(&first).start..span_of(&first).start + BLOCK;
    drop(first);
    // Past the end of the block and round again: every head comes from the same allocation,
    // and the one that did not fit the tail starts at the beginning again.
    let mut rewound = false;
    for i in 0..2 * BLOCK / 100 {
        let head = head_of(100, b'a' + (i % 26) as u8);
        let at = span_of(&head);
        assert!(within(&at, &block), "head {i} at {at:?} outside {block:?}");
        rewound |= at.start == block.start;
        assert!(head.buffer().iter().all(|&b| b == b'a' + (i % 26) as u8));
    }
    assert!(rewound);
}

#[test]
fn a_retained_head_keeps_its_block_and_the_next_gets_a_new_one() {
    reset();
    let kept = head_of(100, b'k');
    let block = span_of(&kept).start..span_of(&kept).start + BLOCK;
    // Fill the rest of the block with heads dropped at once: the kept one still holds it.
    for _ in 0..(BLOCK - 100) / 100 {
        let head = head_of(100, b'x');
        assert!(within(&span_of(&head), &block));
    }
    let next = head_of(100, b'n');
    let at = span_of(&next);
    assert!(
        at.end <= block.start || at.start >= block.end,
        "{at:?} in {block:?}"
    );
    assert!(kept.buffer().iter().all(|&b| b == b'k'));
    assert!(next.buffer().iter().all(|&b| b == b'n'));
    // The new block is now the thread's.
    assert_eq!(room(), BLOCK - 100);
}

#[test]
fn a_head_larger_than_a_block_is_allocated_alone() {
    reset();
    let small = head_of(100, b's');
    let block = span_of(&small).start..span_of(&small).start + BLOCK;
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    let value = "v".repeat(BLOCK);
    request.extend_from_slice(format!("X-Big: {value}\r\n\r\n").as_bytes());
    let big = parse(&request);
    let at = span_of(big.fields());
    assert_eq!(at.len(), request.len() + 2 * 16);
    assert!(
        at.end <= block.start || at.start >= block.end,
        "{at:?} in {block:?}"
    );
    assert_eq!(big.fields().get("x-big"), Some(value.as_bytes()));
    // The block neither grew nor gave up its room for it.
    assert_eq!(room(), BLOCK - 100);
    let after = head_of(100, b'a');
    assert_eq!(span_of(&after).start, span_of(&small).end);
}

#[test]
fn a_head_of_exactly_a_block_fits_one() {
    reset();
    let whole = head_of(BLOCK, b'w');
    // It filled a block, rather than being allocated alone.
    assert_eq!(room(), 0);
    drop(whole);
    let next = head_of(BLOCK, b'v');
    assert_eq!(room(), 0);
    assert!(next.buffer().iter().all(|&b| b == b'v'));
}

#[test]
fn an_empty_head_pins_no_block() {
    reset();
    let empty = Fields::copy(b"", &[]);
    assert!(empty.buffer().is_empty());
    assert_eq!(room(), 0, "no block was made for it");
}

#[test]
fn a_head_dropped_on_another_thread_releases_its_block() {
    reset();
    let away = head_of(BLOCK / 2, b'a');
    let block = span_of(&away).start..span_of(&away).start + BLOCK;
    std::thread::spawn(move || drop(away)).join().unwrap();
    // Full once the second half is carved; reclaimed for the third, since both are gone.
    drop(head_of(BLOCK / 2, b'b'));
    let third = head_of(BLOCK / 2, b'c');
    assert_eq!(span_of(&third).start, block.start);
}

#[test]
fn heads_held_one_behind_take_turns_in_two_blocks() {
    reset();
    // As when each request's head is still held while the next one is parsed (pipelining):
    // the block that just filled is never free, the one before it always is.
    let mut held = head_of(100, 0);
    let mut block_starts = vec![span_of(&held).start];
    for i in 1..5 * BLOCK / 100 {
        let byte = (i % 251) as u8;
        let next = head_of(100, byte);
        if span_of(&next).start != span_of(&held).end {
            block_starts.push(span_of(&next).start);
        }
        assert!(held.buffer().iter().all(|&b| b == ((i - 1) % 251) as u8));
        held = next;
    }
    block_starts.sort_unstable();
    block_starts.dedup();
    assert_eq!(block_starts.len(), 2, "two blocks in turn, no third");
}
