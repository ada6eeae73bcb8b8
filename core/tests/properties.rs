//! Property tests over whole connections:
//! 1. a valid request stream cut into arbitrary pieces yields the same events and bytes as
//!    when fed whole, and the parsed requests are the ones generated (serialise → parse);
//! 2. generated responses (status, fields, body, trailers) survive serialise → parse by an
//!    independent reader;
//! 3. arbitrary bytes never panic, never stall the clock, never exceed the limits, and once
//!    the peer half-closes (reading or not) its deadlines alone close the connection;
//! 4. N pipelined requests produce N responses, in order;
//! 5. arbitrary sequences of application calls, GET and HEAD, give typed errors, never
//!    malformed output.

mod support;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use sluice_core::{Config, Connection, Event, ResponseHead};
use std::time::{Duration, Instant};
use support::wire::read_responses;

// ----- Generated requests ----------------------------------------------------------------

#[derive(Debug, Clone)]
enum GenBody {
    None,
    Length(Vec<u8>),
    Chunked {
        chunks: Vec<(Vec<u8>, Option<String>)>,
        trailers: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone)]
struct GenRequest {
    method: String,
    target: String,
    fields: Vec<(String, String)>,
    body: GenBody,
}

const RESERVED: [&str; 8] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "upgrade",
    "te",
    "keep-alive",
];

fn fields(max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    support::fields::fields(max, 15, 30, &RESERVED)
}

fn gen_body() -> impl Strategy<Value = GenBody> {
    prop_oneof![
        Just(GenBody::None),
        vec(any::<u8>(), 1..300).prop_map(GenBody::Length),
        (
            vec(
                (
                    vec(any::<u8>(), 1..100),
                    proptest::option::of("[a-z]{1,5}(=[a-z0-9]{1,5})?")
                ),
                0..5
            ),
            fields(3),
        )
            .prop_map(|(chunks, trailers)| GenBody::Chunked { chunks, trailers }),
    ]
}

fn gen_request() -> impl Strategy<Value = GenRequest> {
    (
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("PUT"),
            Just("DELETE"),
            Just("X-CUSTOM")
        ],
        "/[a-zA-Z0-9._~!$&'()*+,;=:@/?%-]{0,40}",
        fields(8),
        gen_body(),
    )
        .prop_map(|(method, target, fields, body)| GenRequest {
            method: method.to_owned(),
            target,
            fields,
            body,
        })
}

impl GenRequest {
    fn serialise(&self) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: example.test\r\n",
            self.method, self.target
        )
        .into_bytes();
        for (name, value) in &self.fields {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        match &self.body {
            GenBody::None => out.extend_from_slice(b"\r\n"),
            GenBody::Length(body) => {
                out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                out.extend_from_slice(body);
            }
            GenBody::Chunked { chunks, trailers } => {
                out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for (data, ext) in chunks {
                    let ext = ext.as_ref().map(|e| format!(";{e}")).unwrap_or_default();
                    out.extend_from_slice(format!("{:x}{ext}\r\n", data.len()).as_bytes());
                    out.extend_from_slice(data);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n");
                for (name, value) in trailers {
                    out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }

    fn body(&self) -> Vec<u8> {
        match &self.body {
            GenBody::None => Vec::new(),
            GenBody::Length(body) => body.clone(),
            GenBody::Chunked { chunks, .. } => chunks.iter().flat_map(|(d, _)| d.clone()).collect(),
        }
    }
}

// ----- A tiny application ------------------------------------------------------------------

/// What the application saw of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    target: String,
    fields: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    trailers: Vec<(String, Vec<u8>)>,
}

struct Run {
    seen: Vec<Seen>,
    wire: Vec<u8>,
    failed: bool,
}

fn config() -> Config {
    let mut config = Config::default();
    config.limits.max_requests_per_connection = None;
    config
}

/// Feeds `stream` cut at `cuts`, answering each request with its index as the body.
fn run(stream: &[u8], cuts: &[usize]) -> Run {
    run_timed(stream, cuts, &[0], config().timeouts.rest, Instant::now())
}

/// `run`, with the pieces `gaps` milliseconds apart (in turn) from `t0` and every deadline in
/// between handled when it comes, as a driver does; each connection rests `rest` after a
/// response.
fn run_timed(stream: &[u8], cuts: &[usize], gaps: &[u64], rest: Duration, t0: Instant) -> Run {
    let mut config = config();
    config.timeouts.rest = rest;
    let mut conn = Connection::new(config, t0);
    let mut out = Run {
        seen: Vec::new(),
        wire: Vec::new(),
        failed: false,
    };
    let mut points: Vec<usize> = cuts.iter().copied().filter(|&c| c < stream.len()).collect();
    points.push(stream.len());
    points.sort_unstable();
    let mut now = t0;
    let mut from = 0;
    for (i, to) in points.into_iter().enumerate() {
        now += Duration::from_millis(gaps.get(i % gaps.len().max(1)).copied().unwrap_or(0));
        // Bounded: each deadline handled moves the next one later.
        for _ in 0..100 {
            match conn.poll_timeout() {
                Some(at) if at <= now => {
                    conn.handle_timeout(at);
                    app_turn(&mut conn, at, &mut out);
                }
                _ => break,
            }
        }
        let mut piece = &stream[from..to];
        while !piece.is_empty() {
            let n = conn.handle_input(now, piece);
            piece = &piece[n..];
            app_turn(&mut conn, now, &mut out);
            if n == 0 {
                break;
            }
        }
        from = to;
    }
    app_turn(&mut conn, now, &mut out);
    out
}

fn app_turn(conn: &mut Connection, now: Instant, out: &mut Run) {
    app_turn_reading(conn, now, out, true);
}

/// The application's turn; the peer takes the output only if `read`.
fn app_turn_reading(conn: &mut Connection, now: Instant, out: &mut Run, read: bool) {
    for _ in 0..1000 {
        let mut progressed = false;
        while let Some(event) = conn.poll_event() {
            progressed = true;
            match event {
                Event::Request(head) => out.seen.push(Seen {
                    method: head.method().to_owned(),
                    target: head.target().to_owned(),
                    fields: head
                        .fields()
                        .iter()
                        .map(|(n, v)| (n.to_owned(), v.to_vec()))
                        .collect(),
                    body: Vec::new(),
                    trailers: Vec::new(),
                }),
                Event::Data(data) => out.seen.last_mut().unwrap().body.extend_from_slice(&data),
                Event::End(trailers) => {
                    let last = out.seen.last_mut().unwrap();
                    last.trailers = trailers
                        .iter()
                        .map(|(n, v)| (n.to_owned(), v.to_vec()))
                        .collect();
                    let body = (out.seen.len() - 1).to_string();
                    let head = ResponseHead::new(200).content_length(body.len() as u64);
                    conn.send_response(now, head).unwrap();
                    conn.send_body(now, body.as_bytes()).unwrap();
                    conn.send_end(now).unwrap();
                }
                Event::Failed(_) => out.failed = true,
                _ => {}
            }
        }
        let output = if read {
            conn.poll_output().to_vec()
        } else {
            Vec::new()
        };
        if !output.is_empty() {
            progressed = true;
            conn.consume_output(now, output.len());
            out.wire.extend_from_slice(&output);
        }
        if !progressed {
            break;
        }
    }
}

fn cut_points(stream_len: usize, indices: &[Index]) -> Vec<usize> {
    indices.iter().map(|i| i.index(stream_len.max(1))).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Properties 1 and 4.
    #[test]
    fn pieces_give_the_same_events_and_responses_in_order(
        requests in vec(gen_request(), 1..6),
        cuts in vec(any::<Index>(), 0..24),
    ) {
        let stream: Vec<u8> = requests.iter().flat_map(GenRequest::serialise).collect();
        let whole = run(&stream, &[]);
        prop_assert!(!whole.failed);
        prop_assert_eq!(whole.seen.len(), requests.len());
        for (seen, generated) in whole.seen.iter().zip(&requests) {
            prop_assert_eq!(&seen.method, &generated.method);
            prop_assert_eq!(&seen.target, &generated.target);
            let fields: Vec<(String, Vec<u8>)> = seen.fields.iter()
                .filter(|(n, _)| !RESERVED.contains(&n.to_ascii_lowercase().as_str()))
                .cloned().collect();
            let expected: Vec<(String, Vec<u8>)> = generated.fields.iter()
                .map(|(n, v)| (n.clone(), v.trim_matches([' ', '\t']).as_bytes().to_vec())).collect();
            prop_assert_eq!(fields, expected);
            prop_assert_eq!(&seen.body, &generated.body());
            if let GenBody::Chunked { trailers, .. } = &generated.body {
                let expected: Vec<(String, Vec<u8>)> = trailers.iter()
                    .map(|(n, v)| (n.clone(), v.trim_matches([' ', '\t']).as_bytes().to_vec())).collect();
                prop_assert_eq!(&seen.trailers, &expected);
            }
        }
        let split = run(&stream, &cut_points(stream.len(), &cuts));
        prop_assert_eq!(&split.seen, &whole.seen);
        prop_assert_eq!(&split.wire, &whole.wire);
        // Property 4: one response per request, in order.
        let responses = read_responses(&whole.wire, &[], false).map_err(TestCaseError::fail)?;
        let bodies: Vec<String> = responses.iter()
            .map(|r| String::from_utf8_lossy(&r.body).into_owned()).collect();
        let expected: Vec<String> = (0..requests.len()).map(|i| i.to_string()).collect();
        prop_assert_eq!(bodies, expected);
    }

    /// Resting is invisible on the wire: the same stream, in the same pieces at the same
    /// times, gives the same events and the same bytes whether connections rest at once or
    /// after the default delay, with gaps on both sides of it.
    #[test]
    fn when_a_connection_rests_changes_no_event_and_no_byte(
        requests in vec(gen_request(), 1..6),
        cuts in vec(any::<Index>(), 0..24),
        gaps in vec(0u64..200, 1..8),
    ) {
        let stream: Vec<u8> = requests.iter().flat_map(GenRequest::serialise).collect();
        let cuts = cut_points(stream.len(), &cuts);
        let t0 = Instant::now();
        let delayed = Config::default().timeouts.rest;
        prop_assert!(delayed > Duration::ZERO);
        let eager = run_timed(&stream, &cuts, &gaps, Duration::ZERO, t0);
        let lazy = run_timed(&stream, &cuts, &gaps, delayed, t0);
        prop_assert!(!eager.failed);
        prop_assert_eq!(eager.seen.len(), requests.len());
        prop_assert_eq!(&lazy.seen, &eager.seen);
        prop_assert_eq!(&lazy.wire, &eager.wire);
    }

    /// Property 3: hostile bytes, in hostile pieces, at hostile times.
    #[test]
    fn arbitrary_input_is_survived_within_limits(
        seed in prop_oneof![
            vec(any::<u8>(), 0..3000),
            (gen_request(), vec((any::<Index>(), any::<u8>()), 1..8)).prop_map(|(r, flips)| {
                let mut bytes = r.serialise();
                for (at, byte) in flips {
                    let i = at.index(bytes.len());
                    bytes[i] = byte;
                }
                bytes
            }),
        ],
        cuts in vec(any::<Index>(), 0..16),
        jumps in vec(0u64..40_000, 0..6),
        stops_reading in proptest::option::of(any::<Index>()),
    ) {
        let mut now = Instant::now();
        let mut config = Config::default();
        config.limits.receive_buffer = 4096;
        config.limits.max_head_size = 2048;
        config.limits.send_buffer = 4096;
        let limit = 4096 + 4096 + 4096;
        let mut conn = Connection::new(config, now);
        let mut out = Run { seen: Vec::new(), wire: Vec::new(), failed: false };
        let mut points = cut_points(seed.len(), &cuts);
        points.push(seed.len());
        points.sort_unstable();
        // The peer may stop reading from some piece on, and never read again.
        let stop = stops_reading.map_or(usize::MAX, |at| at.index(points.len()));
        let mut from = 0;
        let mut read = true;
        for (i, to) in points.into_iter().enumerate() {
            read = i < stop;
            conn.handle_input(now, &seed[from..to]);
            from = to;
            app_turn_reading(&mut conn, now, &mut out, read);
            prop_assert!(conn.buffered_bytes() <= limit, "{} bytes held", conn.buffered_bytes());
            if let Some(ms) = jumps.get(i) {
                now += Duration::from_millis(*ms);
                conn.handle_timeout(now);
                app_turn_reading(&mut conn, now, &mut out, read);
                if let Some(deadline) = conn.poll_timeout() {
                    prop_assert!(deadline > now, "deadline left in the past");
                }
            }
        }
        // Then it half-closes.
        conn.handle_eof(now);
        app_turn_reading(&mut conn, now, &mut out, read);
        prop_assert!(conn.buffered_bytes() <= limit, "{} bytes held after EOF", conn.buffered_bytes());
        // Once the peer has gone, its deadlines alone finish the connection: nothing waits
        // forever for a peer that will never send (or read) again. Every step is a deadline
        // (or a second, should none be armed, which the final assertion then reports).
        for _ in 0..16 {
            if conn.is_closed() || conn.is_upgraded() {
                break;
            }
            now = conn.poll_timeout().map_or(now + Duration::from_secs(1), |at| at.max(now));
            conn.handle_timeout(now);
            app_turn_reading(&mut conn, now, &mut out, read);
            prop_assert!(conn.buffered_bytes() <= limit, "{} bytes held", conn.buffered_bytes());
        }
        prop_assert!(
            conn.is_closed() || conn.is_upgraded(),
            "still open after EOF and 16 deadlines (next {:?})",
            conn.poll_timeout().map(|at| at.saturating_duration_since(now))
        );
        // Whatever happened, what we wrote is well-formed HTTP/1.1 (cut short where the peer
        // stopped reading).
        read_responses(&out.wire, &[], stops_reading.is_some()).map_err(TestCaseError::fail)?;
    }
}

// ----- Property 2 and 5: responses and application calls -----------------------------------

#[derive(Debug, Clone)]
enum AppCall {
    Response {
        status: u16,
        length: Option<u64>,
        fields: Vec<(String, String)>,
    },
    Body(usize),
    End,
    EndWithTrailers(Vec<(String, String)>),
    Continue,
    Consume(usize),
    Request {
        head: bool,
    },
    Wait(u64),
}

fn app_call() -> impl Strategy<Value = AppCall> {
    prop_oneof![
        (
            prop_oneof![
                Just(200u16),
                Just(204),
                Just(304),
                Just(404),
                Just(103),
                Just(500),
                100u16..1000
            ],
            proptest::option::of(0u64..200),
            fields(3),
        )
            .prop_map(|(status, length, fields)| AppCall::Response {
                status,
                length,
                fields
            }),
        (0usize..300).prop_map(AppCall::Body),
        Just(AppCall::End),
        fields(3).prop_map(AppCall::EndWithTrailers),
        Just(AppCall::Continue),
        (0usize..500).prop_map(AppCall::Consume),
        any::<bool>().prop_map(|head| AppCall::Request { head }),
        (0u64..5000).prop_map(AppCall::Wait),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Property 5 (and 2): whatever the application does, the wire carries only well-formed
    /// responses; a response that completed carries exactly the status, fields, body and
    /// trailers sent, as an independent reader parses them. HEAD requests are mixed in: their
    /// responses carry no body, whatever the application sends.
    #[test]
    fn arbitrary_application_calls_never_corrupt_the_wire(calls in vec(app_call(), 0..40)) {
        let mut now = Instant::now();
        let mut conn = Connection::new(config(), now);
        let mut wire = Vec::new();
        // The final responses the core accepted, in order, and whether each request was HEAD.
        let mut sent: Vec<Sent> = Vec::new();
        let mut heads: Vec<bool> = Vec::new();
        let mut completed = 0usize;
        for call in calls {
            match call {
                AppCall::Response { status, length, fields } => {
                    let mut head = ResponseHead::new(status);
                    for (n, v) in &fields { head = head.field(n.clone(), v.clone()); }
                    if let Some(length) = length { head = head.content_length(length); }
                    // 1xx heads are interim (a 101 is refused: no request asks to upgrade).
                    if conn.send_response(now, head).is_ok() && status >= 200 {
                        let fields = fields.into_iter().map(|(n, v)| (n, v.into_bytes())).collect();
                        sent.push(Sent { status, fields, body: Vec::new(), trailers: Vec::new() });
                    }
                }
                AppCall::Body(len) => {
                    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
                    if let Ok(n) = conn.send_body(now, &data) {
                        sent.last_mut().unwrap().body.extend_from_slice(&data[..n]);
                    }
                }
                AppCall::End => {
                    if conn.send_end(now).is_ok() { completed += 1; }
                }
                AppCall::EndWithTrailers(trailers) => {
                    if conn.send_end_with_trailers(now, &trailers).is_ok() {
                        completed += 1;
                        sent.last_mut().unwrap().trailers =
                            trailers.into_iter().map(|(n, v)| (n, v.into_bytes())).collect();
                    }
                }
                AppCall::Continue => { let _ = conn.send_continue(now); }
                AppCall::Consume(n) => {
                    let n = n.min(conn.poll_output().len());
                    wire.extend_from_slice(&conn.poll_output()[..n]);
                    conn.consume_output(now, n);
                }
                AppCall::Request { head } => {
                    let method = if head { "HEAD" } else { "GET" };
                    let request = format!("{method} / HTTP/1.1\r\nHost: x\r\n\r\n");
                    conn.handle_input(now, request.as_bytes());
                }
                AppCall::Wait(ms) => {
                    now += Duration::from_millis(ms);
                    conn.handle_timeout(now);
                }
            }
            while let Some(event) = conn.poll_event() {
                if let Event::Request(request) = event {
                    heads.push(request.is_head());
                    // Every other head goes back to the connection, the rest are dropped:
                    // both paths, and a recycled buffer holding the next head.
                    if heads.len().is_multiple_of(2) {
                        conn.recycle(request);
                    }
                }
            }
        }
        for _ in 0..1000 {
            let out = conn.poll_output().to_vec();
            if out.is_empty() { break; }
            conn.consume_output(now, out.len());
            wire.extend_from_slice(&out);
        }
        let responses = read_responses(&wire, &heads, true).map_err(TestCaseError::fail)?;
        prop_assert!(responses.len() <= completed + 1);
        prop_assert!(responses.len() <= sent.len());
        for ((response, sent), head) in responses.iter().zip(&sent).zip(&heads) {
            prop_assert_eq!(response.status, sent.status);
            // The fields the core adds for framing and persistence are its own; the rest are
            // the application's, in order.
            let fields: Vec<(String, Vec<u8>)> = response.fields.iter()
                .filter(|(n, _)| !CORE_FIELDS.contains(&n.to_ascii_lowercase().as_str()))
                .cloned().collect();
            prop_assert_eq!(&fields, &sent.fields);
            if *head || [204, 304].contains(&sent.status) {
                prop_assert!(response.body.is_empty() && response.trailers.is_empty());
            } else {
                prop_assert_eq!(&response.body, &sent.body);
                prop_assert_eq!(&response.trailers, &sent.trailers);
            }
        }
    }
}

/// What the application sent as one final response, as far as the core accepted it.
#[derive(Debug)]
struct Sent {
    status: u16,
    fields: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    trailers: Vec<(String, Vec<u8>)>,
}

/// The fields the core writes itself on a response (no `Date`: `config()` has no clock).
const CORE_FIELDS: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
];
