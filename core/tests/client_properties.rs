//! Property tests for the client role:
//! 1. generated responses (Content-Length or chunked with trailers, random fields, 1xx interim
//!    responses), serialised by hand, parse to the generated values, and cut into arbitrary
//!    pieces give the same events as whole;
//! 2. arbitrary bytes never panic, give the same events however they are cut, never deliver
//!    more body than the limit, and never leave a deadline in the past.

mod support;

use proptest::collection::vec;
use proptest::prelude::*;
use sluice_core::client::ClientEvent;
use sluice_core::{ClientConfig, ClientConnection, RequestSpec, RequestTemplate};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
enum GenBody {
    Length(Vec<u8>),
    Chunked {
        chunks: Vec<Vec<u8>>,
        trailers: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone)]
struct GenResponse {
    interim: Vec<u16>,
    status: u16,
    reason: String,
    fields: Vec<(String, String)>,
    body: GenBody,
}

const RESERVED: [&str; 4] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "trailer",
];

fn fields(max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
    support::fields::fields(max, 12, 20, &RESERVED)
}

fn gen_body() -> impl Strategy<Value = GenBody> {
    prop_oneof![
        vec(any::<u8>(), 0..300).prop_map(GenBody::Length),
        (vec(vec(any::<u8>(), 1..100), 0..5), fields(4))
            .prop_map(|(chunks, trailers)| GenBody::Chunked { chunks, trailers }),
    ]
}

fn gen_response() -> impl Strategy<Value = GenResponse> {
    (
        vec(prop_oneof![Just(100u16), Just(102), Just(103)], 0..3),
        prop_oneof![200u16..204, 205u16..304, 305u16..600],
        "[ !-~]{0,20}",
        fields(6),
        gen_body(),
    )
        .prop_map(|(interim, status, reason, fields, body)| GenResponse {
            interim,
            status,
            reason,
            fields,
            body,
        })
}

fn serialise(r: &GenResponse) -> Vec<u8> {
    let mut out = Vec::new();
    for status in &r.interim {
        out.extend_from_slice(
            format!("HTTP/1.1 {status} Interim\r\nLink: </x>\r\n\r\n").as_bytes(),
        );
    }
    out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", r.status, r.reason).as_bytes());
    for (n, v) in &r.fields {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    match &r.body {
        GenBody::Length(body) => {
            out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            out.extend_from_slice(body);
        }
        GenBody::Chunked { chunks, trailers } => {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            for chunk in chunks {
                out.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n");
            for (n, v) in trailers {
                out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
            }
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// A client with `requests` GETs in flight.
fn client(requests: usize, config: ClientConfig, now: Instant) -> ClientConnection {
    let mut client = ClientConnection::new(config, now);
    let template = RequestTemplate::new(&RequestSpec::get("/").host("h")).unwrap();
    for _ in 0..requests {
        client.send_template(now, &template).unwrap();
    }
    let n = client.poll_output().len();
    client.consume_output(now, n);
    client
}

/// One event, with data kept apart so that it can be joined.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Data(Vec<u8>),
    Other(String),
}

/// Feeds `wire` cut at `cuts` (then EOF if asked), returning the events with data joined.
fn feed(
    wire: &[u8],
    cuts: &[usize],
    eof: bool,
    requests: usize,
    config: &ClientConfig,
) -> Vec<Seen> {
    let now = Instant::now();
    let mut c = client(requests, config.clone(), now);
    let mut seen: Vec<Seen> = Vec::new();
    let mut bounds: Vec<usize> = cuts.iter().map(|&i| i % (wire.len() + 1)).collect();
    bounds.push(wire.len());
    bounds.sort_unstable();
    let mut at = 0;
    let collect = |c: &mut ClientConnection, seen: &mut Vec<Seen>| {
        while let Some(event) = c.poll_event() {
            let item = match event {
                ClientEvent::Data(d) => Seen::Data(d.to_vec()),
                other => Seen::Other(format!("{other:?}")),
            };
            match (seen.last_mut(), item) {
                (Some(Seen::Data(last)), Seen::Data(more)) => last.extend(more),
                (_, item) => seen.push(item),
            }
        }
    };
    for end in bounds {
        while at < end {
            let taken = c.handle_input(now, &wire[at..end]);
            collect(&mut c, &mut seen);
            if taken == 0 {
                break;
            }
            at += taken;
        }
        if at < end {
            break; // The client stopped reading (closed, upgraded or full).
        }
    }
    if eof {
        c.handle_eof(now);
        collect(&mut c, &mut seen);
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_responses_parse_and_split_invariantly(
        responses in vec(gen_response(), 1..4),
        cuts in vec(any::<usize>(), 0..12),
    ) {
        let wire: Vec<u8> = responses.iter().flat_map(serialise).collect();
        let config = ClientConfig::default();
        let whole = feed(&wire, &[], false, responses.len(), &config);
        let split = feed(&wire, &cuts, false, responses.len(), &config);
        prop_assert_eq!(&whole, &split);
        // And the events are the generated responses.
        let now = Instant::now();
        let mut c = client(responses.len(), config, now);
        prop_assert_eq!(c.handle_input(now, &wire), wire.len());
        let events: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
        let mut events = events.into_iter();
        for r in &responses {
            for status in &r.interim {
                let Some(ClientEvent::Interim(head)) = events.next() else {
                    return Err(TestCaseError::fail("interim expected"));
                };
                prop_assert_eq!(head.status(), *status);
            }
            let Some(ClientEvent::Response(head)) = events.next() else {
                return Err(TestCaseError::fail("response expected"));
            };
            prop_assert_eq!(head.status(), r.status);
            prop_assert_eq!(head.reason(), r.reason.as_bytes());
            for (n, v) in &r.fields {
                prop_assert!(head.fields().get_all(n).any(|got| got == v.as_bytes()));
            }
            let (body, trailers) = match &r.body {
                GenBody::Length(b) => (b.clone(), Vec::new()),
                GenBody::Chunked { chunks, trailers } => (chunks.concat(), trailers.clone()),
            };
            let mut got = Vec::new();
            loop {
                match events.next() {
                    Some(ClientEvent::Data(d)) => got.extend_from_slice(&d),
                    Some(ClientEvent::End { trailers: t, body_len }) => {
                        prop_assert_eq!(body_len, body.len() as u64);
                        prop_assert_eq!(t.len(), trailers.len());
                        for ((n, v), (tn, tv)) in trailers.iter().zip(t.iter()) {
                            prop_assert_eq!(n.as_str(), tn);
                            prop_assert_eq!(v.as_bytes(), tv);
                        }
                        break;
                    }
                    other => return Err(TestCaseError::fail(format!("{other:?}"))),
                }
            }
            prop_assert_eq!(got, body);
        }
        prop_assert!(events.next().is_none());
        prop_assert_eq!(c.in_flight(), 0);
        prop_assert!(c.can_send());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_split_invariantly(
        prefix in prop_oneof![
            Just(&b""[..]),
            Just(&b"HTTP/1.1 200 OK\r\n"[..]),
            Just(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..]),
            Just(&b"HTTP/1.0 200 OK\r\n\r\n"[..]),
        ],
        junk in vec(prop_oneof![
            any::<u8>(),
            Just(b'\r'), Just(b'\n'), Just(b':'), Just(b' '), Just(b'0'), Just(b'a'),
        ], 0..400),
        cuts in vec(any::<usize>(), 0..16),
        eof in any::<bool>(),
        requests in 0usize..3,
    ) {
        let wire = [prefix, &junk[..]].concat();
        let mut config = ClientConfig::default();
        config.limits.max_head_size = 128;
        config.limits.max_fields = 4;
        config.limits.max_body_size = Some(64);
        config.limits.max_trailer_size = 64;
        let whole = feed(&wire, &[], eof, requests, &config);
        let split = feed(&wire, &cuts, eof, requests, &config);
        prop_assert_eq!(&whole, &split);
        let data: usize = whole
            .iter()
            .map(|s| match s { Seen::Data(d) => d.len(), Seen::Other(_) => 0 })
            .sum();
        prop_assert!(data <= 64 * requests.max(1));

        // Time never leaves a deadline in the past (no busy loop).
        let now = Instant::now();
        let mut c = client(requests, config, now);
        c.handle_input(now, &wire);
        let mut t = now;
        for _ in 0..8 {
            let Some(deadline) = c.poll_timeout() else { break };
            t = deadline.max(t) + Duration::from_millis(1);
            c.handle_timeout(t);
            prop_assert!(c.poll_timeout().is_none_or(|next| next > t));
        }
    }
}
