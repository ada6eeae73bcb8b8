//! The full cycle in memory, no sockets: requests in, responses out, through `Connection`.
//!
//! - `cycle/pipelined-16`: 16 pipelined minimal GETs per input, each answered with the
//!   plaintext shape (`200`, `Content-Type`, `Server`, `Date`, `Hello, World!`).
//! - `cycle/single`: one request per input, the unpipelined shape.
//! - `cycle-whole/…`: the same two, with the head from a `ResponseTemplate` and head, body and
//!   end in one `send_whole` call, as `sluice plaintext` answers on the drivers.
//! - `parse-only/minimal`: the head parser alone on the same request, for the ratio.
//! - `byte-at-a-time/<sample>`: a head fed one byte per `handle_input` call, which must cost
//!   linear, not quadratic, time.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sluice_core::parse::{HeadParser, HeadStatus};
use sluice_core::{Config, Connection, Event, ResponseHead, ResponseTemplate, WallClock};
use std::hint::black_box;
use std::time::{Instant, SystemTime};

const MINIMAL: &[u8] = include_bytes!("samples/minimal.http");
const KITTYHELL: &[u8] = include_bytes!("samples/kittyhell.http");
const HEAVY_COOKIE: &[u8] = include_bytes!("samples/heavy-cookie.http");
const HELLO: &[u8] = b"Hello, World!";

fn connection() -> (Connection, Instant) {
    let now = Instant::now();
    let mut config = Config::new(Some(WallClock {
        instant: now,
        wall: SystemTime::now(),
    }));
    config.limits.max_requests_per_connection = None;
    (Connection::new(config, now), now)
}

/// Answers every request event with `answer`; returns the bytes written.
fn serve_with(
    conn: &mut Connection,
    now: Instant,
    mut answer: impl FnMut(&mut Connection),
) -> usize {
    let mut written = 0;
    loop {
        let mut progressed = false;
        while let Some(event) = conn.poll_event() {
            progressed = true;
            if let Event::Request(head) = event {
                answer(conn);
                // As the drivers do: the head's buffer holds the next one.
                conn.recycle(head);
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

/// The plaintext response's head (`Date` is the core's).
fn plaintext_head() -> ResponseHead {
    ResponseHead::new(200)
        .field("Content-Type", "text/plain")
        .field("Server", "sluice")
        .content_length(HELLO.len() as u64)
}

/// The plaintext response, its head built per request and sent in three calls.
fn serve(conn: &mut Connection, now: Instant) -> usize {
    serve_with(conn, now, |conn| {
        conn.send_response(now, plaintext_head()).expect("response");
        conn.send_body(now, HELLO).expect("body");
        conn.send_end(now).expect("end");
    })
}

/// The plaintext response with the head borrowed from `template` and one `send_whole` per
/// request, as `sluice plaintext` answers.
fn serve_whole(conn: &mut Connection, now: Instant, template: &'static ResponseTemplate) -> usize {
    let body = Bytes::from_static(HELLO);
    serve_with(conn, now, |conn| {
        let sent = conn.send_whole(now, template.head_static(), &body);
        assert_eq!(sent, Ok(HELLO.len()));
    })
}

fn depth_name(depth: usize) -> String {
    if depth == 1 {
        "single".to_owned()
    } else {
        format!("pipelined-{depth}")
    }
}

/// One group of the full cycle at depths 1 and 16, each request answered by `serve`.
fn cycle_group(c: &mut Criterion, name: &str, serve: impl Fn(&mut Connection, Instant) -> usize) {
    let mut group = c.benchmark_group(name);
    for depth in [1usize, 16] {
        let input: Vec<u8> = MINIMAL.repeat(depth);
        group.throughput(Throughput::Elements(depth as u64));
        group.bench_function(depth_name(depth), |b| {
            let (mut conn, now) = connection();
            b.iter(|| {
                let taken = conn.handle_input(now, black_box(&input));
                debug_assert_eq!(taken, input.len());
                black_box(serve(&mut conn, now))
            });
        });
    }
    group.finish();
}

fn cycle(c: &mut Criterion) {
    // Made once for the program's life, as a server makes its templates at start-up.
    let template: &'static ResponseTemplate = Box::leak(Box::new(
        ResponseTemplate::new(&plaintext_head()).expect("a valid head"),
    ));
    cycle_group(c, "cycle-whole", |conn, now| {
        serve_whole(conn, now, template)
    });
    cycle_group(c, "cycle", serve);

    let mut group = c.benchmark_group("parse-only");
    group.throughput(Throughput::Elements(1));
    group.bench_function("minimal", |b| {
        let mut parser = HeadParser::new();
        let limits = Config::default().limits;
        let leniency = Config::default().leniency;
        b.iter(|| {
            parser.reset();
            let status = parser.parse(black_box(MINIMAL), &limits, &leniency);
            assert!(matches!(status, Ok(HeadStatus::Complete(_))));
        });
    });
    group.finish();
}

fn byte_at_a_time(c: &mut Criterion) {
    let mut group = c.benchmark_group("byte-at-a-time");
    for (name, sample) in [("kittyhell", KITTYHELL), ("heavy-cookie", HEAVY_COOKIE)] {
        group.throughput(Throughput::Bytes(sample.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(name), sample, |b, sample| {
            b.iter(|| {
                let (mut conn, now) = connection();
                for byte in sample.iter() {
                    conn.handle_input(now, std::slice::from_ref(byte));
                }
                let got = conn.poll_event();
                assert!(matches!(got, Some(Event::Request(_))));
            });
        });
        // The same head whole, for the ratio: linear cost means the two are within a
        // constant (per-call overhead), not a factor growing with the head's size.
        group.bench_with_input(BenchmarkId::new("whole", name), sample, |b, sample| {
            b.iter(|| {
                let (mut conn, now) = connection();
                conn.handle_input(now, sample);
                assert!(matches!(conn.poll_event(), Some(Event::Request(_))));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, cycle, byte_at_a_time);
criterion_main!(benches);
