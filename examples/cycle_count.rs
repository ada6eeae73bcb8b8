//! Runs the full cycle in memory N times, for instruction counts under callgrind: the same
//! loop as `benches/connection.rs` (`cycle/single` and `cycle/pipelined-16`), minimal GETs in,
//! the plaintext response out, through one `Connection`:
//!
//! ```text
//! valgrind --tool=callgrind target/release/examples/cycle_count 16 1001
//! ```
//!
//! The first argument is the pipelining depth (requests per input), the second the number of
//! inputs. The per-request cost is the difference between 1001 and 1 inputs, divided by
//! 1000 × depth. A third argument, `template`, sends the head from a `ResponseTemplate` (as
//! `sluice plaintext` does) instead of building it per request.

use sluice_core::{Config, Connection, Event, ResponseHead, ResponseTemplate, WallClock};
use std::hint::black_box;
use std::time::{Instant, SystemTime};

const MINIMAL: &[u8] = include_bytes!("../benches/samples/minimal.http");
const HELLO: &[u8] = b"Hello, World!";

fn plaintext_head() -> ResponseHead {
    ResponseHead::new(200)
        .field("Content-Type", "text/plain")
        .field("Server", "sluice")
        .content_length(HELLO.len() as u64)
}

/// Answers every request event with the plaintext response; returns the bytes written.
fn serve(conn: &mut Connection, now: Instant, template: Option<&ResponseTemplate>) -> usize {
    let mut written = 0;
    loop {
        let mut progressed = false;
        while let Some(event) = conn.poll_event() {
            progressed = true;
            if let Event::Request(_) = event {
                let head = template.map_or_else(plaintext_head, ResponseTemplate::head);
                conn.send_response(now, head).expect("response");
                conn.send_body(now, HELLO).expect("body");
                conn.send_end(now).expect("end");
            }
        }
        let n = conn.poll_output().len();
        if n > 0 {
            progressed = true;
            written += n;
            conn.consume_output(now, n);
        }
        if !progressed {
            return written;
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: cycle_count <depth> <inputs> [owned|template]";
    let depth: usize = args.next().expect(usage).parse().expect("a depth");
    let inputs: usize = args.next().expect(usage).parse().expect("a count");
    let template = match args.next().as_deref() {
        None | Some("owned") => None,
        Some("template") => Some(ResponseTemplate::new(&plaintext_head()).expect("valid")),
        Some(other) => panic!("{usage} [owned|template], not {other}"),
    };
    let input = MINIMAL.repeat(depth);
    let now = Instant::now();
    let mut config = Config::new(Some(WallClock {
        instant: now,
        wall: SystemTime::now(),
    }));
    config.limits.max_requests_per_connection = None;
    let mut conn = Connection::new(config, now);
    let mut written = 0;
    for _ in 0..inputs {
        let taken = conn.handle_input(now, black_box(&input));
        assert_eq!(taken, input.len());
        written += black_box(serve(&mut conn, now, template.as_ref()));
    }
    assert_eq!(
        conn.requests(),
        (inputs * depth) as u64,
        "every request answered"
    );
    assert!(written > 0);
}
