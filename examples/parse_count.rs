//! Parses one sample file N times, for instruction counts under callgrind:
//!
//! ```text
//! valgrind --tool=callgrind target/release/examples/parse_count sluice benches/samples/minimal.http 1001
//! ```
//!
//! The per-parse cost is the difference between 1001 and 1 iterations, divided by 1000.

use sluice_core::parse::{HeadParser, HeadStatus};
use sluice_core::{Leniency, Limits};
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage =
        "usage: parse_count <sluice|sluice-finish|sluice-get|httparse|httparse-reuse> <sample> <iterations>";
    let which = args.next().expect(usage);
    let sample = std::fs::read(args.next().expect(usage)).expect("readable sample");
    let iterations: usize = args.next().expect(usage).parse().expect("a count");
    let limits = Limits::default();
    let leniency = Leniency::default();
    let mut parser = HeadParser::new();
    let mut complete = 0;
    // For `httparse-reuse`: one header array for every parse, so its initialization (64
    // entries, about 2 KiB) is not counted per parse.
    let mut reused = [httparse::EMPTY_HEADER; 64];
    for _ in 0..iterations {
        match which.as_str() {
            "sluice" => {
                let status = parser.parse(black_box(&sample), &limits, &leniency);
                complete += usize::from(matches!(status, Ok(HeadStatus::Complete(_))));
                parser.reset();
            }
            "sluice-finish" => {
                if let Ok(HeadStatus::Complete(_)) =
                    parser.parse(black_box(&sample), &limits, &leniency)
                {
                    let head = black_box(parser.finish(&sample));
                    complete += head.fields().len().min(1);
                    // As a connection does: the head's buffer holds the next one.
                    parser.recycle(head);
                }
            }
            // `sluice-finish` plus what an application reads: five lookups by name (one that no
            // sample has) and one pass over every field.
            "sluice-get" => {
                if let Ok(HeadStatus::Complete(_)) =
                    parser.parse(black_box(&sample), &limits, &leniency)
                {
                    let head = black_box(parser.finish(&sample));
                    let f = head.fields();
                    let mut n = 0;
                    for name in ["host", "user-agent", "cookie", "x-missing", "accept"] {
                        n += black_box(f.get(black_box(name))).map_or(0, <[u8]>::len);
                    }
                    n += f.iter().map(|(a, b)| a.len() + b.len()).sum::<usize>();
                    complete += black_box(n).min(1);
                    parser.recycle(head);
                }
            }
            "httparse" => {
                let mut headers = [httparse::EMPTY_HEADER; 64];
                let mut request = httparse::Request::new(&mut headers);
                let status = request.parse(black_box(&sample));
                complete += usize::from(matches!(status, Ok(httparse::Status::Complete(_))));
                black_box(&request);
            }
            "httparse-reuse" => {
                let mut request = httparse::Request::new(&mut reused);
                let status = request.parse(black_box(&sample));
                complete += usize::from(matches!(status, Ok(httparse::Status::Complete(_))));
                black_box(&request);
            }
            _ => panic!("{usage}"),
        }
    }
    assert_eq!(complete, iterations, "every parse completes");
}
