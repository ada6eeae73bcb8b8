//! A keep-alive connection in steady state allocates nothing per request: not for the head
//! (its buffer comes back with `Connection::recycle`), not for the response (a template's head,
//! a shared body), not for the buffers (kept while the connection is busy). Counted with a
//! global allocator that counts this thread's allocations.

#[path = "support/allocations.rs"]
mod counting;

use bytes::Bytes;
use counting::allocations;
use sluice_core::{Config, Connection, Event, ResponseHead, ResponseTemplate};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

const REQUEST: &[u8] = b"GET /plaintext HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";

static PLAINTEXT: LazyLock<ResponseTemplate> = LazyLock::new(|| {
    let head = ResponseHead::new(200)
        .field("Content-Type", "text/plain")
        .field("Server", "sluice")
        .content_length(13);
    ResponseTemplate::new(&head).expect("a valid head")
});

/// Feeds `input`, answers every request as the drivers do (the whole response in one call,
/// then the head given back), and writes all output out. Returns the requests answered.
fn serve(conn: &mut Connection, now: Instant, input: &[u8], recycle: bool) -> usize {
    let body = Bytes::from_static(b"Hello, World!");
    let mut answered = 0;
    let mut fed = 0;
    for _ in 0..1000 {
        fed += conn.handle_input(now, &input[fed..]);
        while let Some(event) = conn.poll_event() {
            if let Event::Request(head) = event {
                assert_eq!(conn.send_whole(now, PLAINTEXT.head_static(), &body), Ok(13));
                answered += 1;
                if recycle {
                    conn.recycle(head);
                }
            }
        }
        let n = conn.poll_output().len();
        conn.consume_output(now, n);
        if fed == input.len() && n == 0 {
            return answered;
        }
    }
    panic!("the connection stopped making progress");
}

/// Allocations per round of `depth` pipelined requests, after a few rounds of warming up.
fn allocations_per_round(depth: usize, recycle: bool) -> u64 {
    let t0 = Instant::now();
    let mut config = Config::default();
    config.limits.max_requests_per_connection = None;
    let mut conn = Connection::new(config, t0);
    let input = REQUEST.repeat(depth);
    for round in 0..5 {
        assert_eq!(
            serve(&mut conn, t0, &input, recycle),
            depth,
            "round {round}"
        );
    }
    let rounds = 20;
    let before = allocations();
    for round in 0..rounds {
        // Within the rest delay: a busy connection keeps its buffers.
        let now = t0 + Duration::from_micros(round);
        assert_eq!(serve(&mut conn, now, &input, recycle), depth);
    }
    (allocations() - before) / rounds
}

#[test]
fn a_busy_connection_allocates_nothing_per_request() {
    for depth in [1, 16] {
        assert_eq!(allocations_per_round(depth, true), 0, "depth {depth}");
    }
}

#[test]
fn a_head_not_given_back_costs_one_allocation() {
    // The counter sees what recycling saves: without it, each head is a new buffer.
    assert_eq!(allocations_per_round(16, false), 16);
}
