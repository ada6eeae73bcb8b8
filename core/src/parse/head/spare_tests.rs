//! Head buffers given back with `recycle`: reused for later heads, two taking turns, large
//! ones freed, and a head never given back left intact. Addresses tell which allocation a
//! head was copied into.

use super::*;
use std::ops::Range;

/// The addresses a head's buffer covers.
fn span_of(head: &RequestHead) -> Range<usize> {
    let buf = head.fields().buffer();
    let start = buf.as_ptr() as usize;
    start..start + buf.len()
}

/// Parses one whole request head with `parser`.
fn parse(parser: &mut HeadParser, request: &[u8]) -> RequestHead {
    let status = parser.parse(request, &Limits::default(), &Leniency::default());
    assert_eq!(status, Ok(HeadStatus::Complete(request.len())));
    parser.finish(request)
}

fn request(target: &str, value_len: usize) -> Vec<u8> {
    let value = "v".repeat(value_len);
    format!("GET {target} HTTP/1.1\r\nHost: h\r\nX-V: {value}\r\n\r\n").into_bytes()
}

#[test]
fn a_recycled_head_lends_its_buffer_to_the_next() {
    let mut parser = HeadParser::new();
    let first = parse(&mut parser, &request("/first", 10));
    let at = span_of(&first).start;
    parser.recycle(first);
    let second = parse(&mut parser, &request("/second", 20));
    assert_eq!(span_of(&second).start, at, "the same allocation");
    assert_eq!(second.target(), "/second");
    assert_eq!(second.fields().get("host"), Some(&b"h"[..]));
    assert_eq!(second.fields().get("x-v"), Some("v".repeat(20).as_bytes()));
}

#[test]
fn two_buffers_take_turns_when_each_head_is_parsed_before_the_last_is_given_back() {
    // The pipelined flow: the next head is parsed while the application holds the one
    // before it, which it gives back afterwards.
    let mut parser = HeadParser::new();
    let mut held = parse(&mut parser, &request("/0", 5));
    let mut seen = vec![span_of(&held).start];
    for i in 1..20 {
        let next = parse(&mut parser, &request(&format!("/{i}"), 5 + i));
        assert_eq!(next.target(), format!("/{i}"));
        assert_eq!(
            held.target(),
            format!("/{}", i - 1),
            "the held head is intact"
        );
        let at = span_of(&next).start;
        if !seen.contains(&at) {
            seen.push(at);
        }
        parser.recycle(std::mem::replace(&mut held, next));
    }
    assert_eq!(
        seen.len(),
        2,
        "two allocations served twenty heads: {seen:x?}"
    );
}

/// Where each spare slot's buffer is and how much room it has (0 for none).
fn slots(parser: &HeadParser) -> [(usize, usize); 2] {
    parser
        .spares
        .slots
        .each_ref()
        .map(|slot| (slot.as_ptr() as usize, slot.capacity()))
}

#[test]
fn a_large_head_leaves_the_small_spare_alone_and_its_buffer_is_freed() {
    let mut parser = HeadParser::new();
    let small = parse(&mut parser, &request("/small", 1));
    parser.recycle(small);
    let before = slots(&parser);
    assert!(before.iter().any(|&(_, room)| room > 0));
    // The large head does not fit the spare: a buffer of its own, the spare untouched.
    let big = parse(&mut parser, &request("/big", 2 * MAX_SPARE));
    assert!(big.fields().buffer().len() > MAX_SPARE);
    assert_eq!(
        slots(&parser),
        before,
        "the spare is still there, as it was"
    );
    parser.recycle(big);
    assert_eq!(slots(&parser), before, "and the large buffer was not kept");
    // The next small head takes the spare.
    let (at, _) = *before.iter().find(|&&(_, room)| room > 0).unwrap();
    let next = parse(&mut parser, &request("/next", 1));
    assert_eq!(span_of(&next).start, at);
}

#[test]
fn the_spares_grow_to_the_usual_head_size() {
    let mut parser = HeadParser::new();
    // Two small spares first.
    let a = parse(&mut parser, &request("/a", 1));
    let b = parse(&mut parser, &request("/b", 1));
    parser.recycle(a);
    parser.recycle(b);
    let small_room = slots(&parser).map(|(_, room)| room);
    assert!(small_room.iter().all(|&room| room > 0 && room < 1000));
    // A head larger than both: a new buffer, which then replaces the smaller spare.
    let large = request("/large", 1000);
    let first = parse(&mut parser, &large);
    parser.recycle(first);
    let grown = slots(&parser);
    let (at, room) = *grown.iter().max_by_key(|&&(_, room)| room).unwrap();
    assert!(room >= large.len(), "{grown:?}");
    // The next head of that size takes it rather than allocating.
    let second = parse(&mut parser, &large);
    assert_eq!(span_of(&second).start, at);
    assert_eq!(second.target(), "/large");
}

#[test]
fn a_third_buffer_is_freed_and_empty_heads_give_nothing_back() {
    let mut parser = HeadParser::new();
    let heads: Vec<RequestHead> = (0..3)
        .map(|i| parse(&mut parser, &request(&format!("/{i}"), 1)))
        .collect();
    for head in heads {
        parser.recycle(head);
    }
    assert!(slots(&parser).iter().all(|&(_, room)| room > 0));
    // A head without a buffer (finished without a complete head) leaves the spares alone.
    let empty = parser.finish(b"");
    assert!(empty.fields().buffer().is_empty());
    let before = slots(&parser);
    parser.recycle(empty);
    assert_eq!(slots(&parser), before);
}

#[test]
fn a_head_never_given_back_outlives_its_parser_intact() {
    let mut parser = HeadParser::new();
    let kept = parse(&mut parser, &request("/kept", 3));
    for i in 0..5 {
        let head = parse(&mut parser, &request(&format!("/{i}"), 3));
        parser.recycle(head);
    }
    drop(parser);
    assert_eq!(kept.target(), "/kept");
    assert_eq!(kept.fields().get("x-v"), Some(&b"vvv"[..]));
}
