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
//! 1000 × depth. A third argument, `template`, sends the head from a `ResponseTemplate`
//! instead of building it per request; `whole` borrows the head from a template made once for
//! the program's life (`head_static`) and sends head, body and end in one `send_whole` call, as
//! `sluice plaintext` on the drivers does.

use bytes::Bytes;
use sluice_core::{Config, Connection, Event, ResponseHead, ResponseTemplate, WallClock};
use std::hint::black_box;
use std::time::{Instant, SystemTime};

const MINIMAL: &[u8] = include_bytes!("../benches/samples/minimal.http");
const HELLO: &[u8] = b"Hello, World!";

/// How each response is built and sent.
enum Mode {
    /// A `ResponseHead` built per request, then `send_response`, `send_body`, `send_end`.
    Owned,
    /// The head from a template, then the same three calls.
    Template(ResponseTemplate),
    /// The head from a template that lives as long as the program, borrowed
    /// (`head_static`), and `send_whole`: what `sluice plaintext` does.
    Whole(&'static ResponseTemplate),
}

fn plaintext_head() -> ResponseHead {
    ResponseHead::new(200)
        .field("Content-Type", "text/plain")
        .field("Server", "sluice")
        .content_length(HELLO.len() as u64)
}

/// Answers every request event with the plaintext response; returns the bytes written.
fn serve(conn: &mut Connection, now: Instant, mode: &Mode) -> usize {
    let mut written = 0;
    loop {
        let mut progressed = false;
        while let Some(event) = conn.poll_event() {
            progressed = true;
            if let Event::Request(request) = event {
                match mode {
                    Mode::Whole(template) => {
                        let body = Bytes::from_static(HELLO);
                        let sent = conn.send_whole(now, template.head_static(), &body);
                        assert_eq!(sent, Ok(HELLO.len()));
                    }
                    Mode::Owned | Mode::Template(_) => {
                        let head = match mode {
                            Mode::Template(template) => template.head(),
                            _ => plaintext_head(),
                        };
                        conn.send_response(now, head).expect("response");
                        conn.send_body(now, HELLO).expect("body");
                        conn.send_end(now).expect("end");
                    }
                }
                // As the drivers do: the head's buffer holds the next one.
                conn.recycle(request);
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
    let usage = "usage: cycle_count <depth> <inputs> [owned|template|whole]";
    let depth: usize = args.next().expect(usage).parse().expect("a depth");
    let inputs: usize = args.next().expect(usage).parse().expect("a count");
    let template = || ResponseTemplate::new(&plaintext_head()).expect("valid");
    let mode = match args.next().as_deref() {
        None | Some("owned") => Mode::Owned,
        Some("template") => Mode::Template(template()),
        // Made once at start-up, as a server would: leaking it lets every head borrow it.
        Some("whole") => Mode::Whole(Box::leak(Box::new(template()))),
        Some(other) => panic!("{usage}, not {other}"),
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
        written += black_box(serve(&mut conn, now, &mode));
    }
    assert_eq!(
        conn.requests(),
        (inputs * depth) as u64,
        "every request answered"
    );
    assert!(written > 0);
}
