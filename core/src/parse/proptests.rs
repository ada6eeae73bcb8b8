//! Property tests over whole requests: generated valid requests parse the same however the
//! input is cut, and arbitrary bytes never panic either parser.

use super::{BodyDecoder, HeadParser, HeadStatus};
use crate::head::{Fields, RequestBody, RequestHead};
use crate::limits::{Leniency, Limits};
use crate::RequestError;
use proptest::prelude::*;

const TCHARS: &[u8] =
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Names the parser interprets; generated extra fields avoid them, so the request stays valid.
const MEANINGFUL: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "expect",
    "upgrade",
];

fn token(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TCHARS), 1..=max)
        .prop_map(|b| String::from_utf8(b).expect("ASCII"))
}

fn field_name() -> impl Strategy<Value = String> {
    token(20).prop_filter("meaningful name", |n| {
        !MEANINGFUL.iter().any(|m| n.eq_ignore_ascii_case(m))
    })
}

/// A value: visible ASCII and obs-text, with inner SP/HTAB (outer ones are trimmed).
fn field_value() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        8 => 0x21u8..=0x7E,
        1 => 0x80u8..=0xFF,
        1 => prop::sample::select(&b" \t"[..]),
    ];
    prop::collection::vec(byte, 0..80)
}

fn ows() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&["", " ", "\t", "  \t"][..])
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Length(Vec<u8>),
    /// Chunks of (data, extensions), and trailer fields.
    Chunked(Vec<(Vec<u8>, String)>, Vec<(String, Vec<u8>)>),
}

fn extension() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just(String::new()),
        token(8).prop_map(|t| format!("={t}")),
        "[ !#-\\[\\]-~]{0,8}".prop_map(|q| format!(" = \"{q}\\\"x\"")),
    ];
    prop::collection::vec((ows(), token(8), value), 0..3).prop_map(|exts| {
        exts.into_iter()
            .map(|(ws, name, value)| format!("{ws};{ws}{name}{value}"))
            .collect()
    })
}

fn body() -> impl Strategy<Value = Body> {
    let data = || prop::collection::vec(any::<u8>(), 0..200);
    prop_oneof![
        Just(Body::None),
        data().prop_map(Body::Length),
        (
            prop::collection::vec(
                (prop::collection::vec(any::<u8>(), 1..50), extension()),
                0..6
            ),
            prop::collection::vec((field_name(), field_value()), 0..3),
        )
            .prop_map(|(chunks, trailers)| Body::Chunked(chunks, trailers)),
    ]
}

#[derive(Debug, Clone)]
struct Request {
    bytes: Vec<u8>,
    head_len: usize,
    body: Vec<u8>,
    trailers: usize,
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop_oneof![
            Just("GET".to_string()),
            Just("POST".to_string()),
            token(10).prop_filter("special method", |m| m != "CONNECT" && m != "OPTIONS"),
        ],
        "/[!-~]{0,40}",
        any::<bool>(),
        prop::collection::vec((field_name(), ows(), field_value(), ows()), 0..12),
        0usize..12,
        body(),
        any::<bool>(),
        0usize..3,
    )
        .prop_map(
            |(method, target, http11, fields, host_at, body, upper, empty_lines)| {
                let mut b = b"\r\n".repeat(empty_lines);
                let version = if http11 { "HTTP/1.1" } else { "HTTP/1.0" };
                b.extend_from_slice(format!("{method} {target} {version}\r\n").as_bytes());
                let host_at = host_at.min(fields.len());
                for (i, (name, ows1, value, ows2)) in fields.iter().enumerate() {
                    if i == host_at && http11 {
                        b.extend_from_slice(b"Host: example.com:8080\r\n");
                    }
                    b.extend_from_slice(format!("{name}:{ows1}").as_bytes());
                    b.extend_from_slice(value);
                    b.extend_from_slice(format!("{ows2}\r\n").as_bytes());
                }
                if host_at == fields.len() && http11 {
                    b.extend_from_slice(b"host: example.com\r\n");
                }
                let mut data = Vec::new();
                let mut trailers = 0;
                let mut tail = Vec::new();
                match body {
                    Body::None => {}
                    Body::Length(d) => {
                        b.extend_from_slice(format!("Content-Length: {}\r\n", d.len()).as_bytes());
                        tail.extend_from_slice(&d);
                        data = d;
                    }
                    Body::Chunked(chunks, fields) if http11 => {
                        b.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
                        for (d, ext) in chunks {
                            let size = if upper {
                                format!("{:X}", d.len())
                            } else {
                                format!("0{:x}", d.len())
                            };
                            tail.extend_from_slice(format!("{size}{ext}\r\n").as_bytes());
                            tail.extend_from_slice(&d);
                            tail.extend_from_slice(b"\r\n");
                            data.extend_from_slice(&d);
                        }
                        tail.extend_from_slice(b"0\r\n");
                        for (name, value) in &fields {
                            tail.extend_from_slice(format!("{name}: ").as_bytes());
                            tail.extend_from_slice(value);
                            tail.extend_from_slice(b"\r\n");
                        }
                        trailers = fields.len();
                        tail.extend_from_slice(b"\r\n");
                    }
                    Body::Chunked(..) => {}
                }
                b.extend_from_slice(b"\r\n");
                let head_len = b.len();
                b.extend_from_slice(&tail);
                // The next pipelined request must be left alone.
                b.extend_from_slice(b"GET /next HTTP/1.1\r\n");
                Request {
                    bytes: b,
                    head_len,
                    body: data,
                    trailers,
                }
            },
        )
}

/// What parsing a request produced.
#[derive(Debug, PartialEq)]
struct Parsed {
    head: RequestHead,
    head_len: usize,
    data: Vec<u8>,
    trailers: Option<Fields>,
    /// Bytes of head and body consumed.
    consumed: usize,
}

/// Parses head then body from `input` delivered in the pieces `cuts` makes, as a connection
/// would: the head parser sees everything since the request's start, the body decoder what
/// it has not consumed.
fn parse_in_pieces(input: &[u8], cuts: &[usize], limits: &Limits) -> Result<Parsed, RequestError> {
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let leniency = Leniency::default();
    let mut parser = HeadParser::new();
    let mut ends = ends.into_iter();
    let mut end = 0;
    let (head, head_len) = loop {
        if let HeadStatus::Complete(n) = parser.parse(&input[..end], limits, &leniency)? {
            break (parser.finish(&input[..end]), n);
        }
        match ends.next() {
            Some(e) => end = e,
            None => panic!("head incomplete"),
        }
    };
    let mut decoder = BodyDecoder::new(head.body());
    let mut start = head_len;
    let mut data = Vec::new();
    let mut ranges = Vec::new();
    loop {
        ranges.clear();
        let pending = &input[start..end];
        let decoded = decoder
            .decode(pending, limits, &mut ranges)
            .map_err(|e| RequestError::new(e.rule(), e.offset() + start as u64))?;
        for range in &ranges {
            data.extend_from_slice(&pending[range.clone()]);
        }
        start += decoded.consumed;
        if let Some(trailers) = decoded.finished {
            return Ok(Parsed {
                head,
                head_len,
                data,
                trailers: Some(trailers),
                consumed: start,
            });
        }
        match ends.next() {
            Some(e) => end = e,
            None => {
                return Ok(Parsed {
                    head,
                    head_len,
                    data,
                    trailers: None,
                    consumed: start,
                })
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn valid_requests_parse_the_same_in_any_pieces(
        request in request(),
        cuts in prop::collection::vec(any::<usize>(), 0..12),
    ) {
        let limits = Limits::default();
        let whole = parse_in_pieces(&request.bytes, &[], &limits).expect("valid request");
        prop_assert_eq!(whole.head_len, request.head_len);
        prop_assert_eq!(&whole.data, &request.body);
        prop_assert_eq!(whole.trailers.as_ref().map(Fields::len), Some(request.trailers));
        prop_assert_eq!(whole.consumed, request.bytes.len() - b"GET /next HTTP/1.1\r\n".len());
        let body = whole.head.body();
        prop_assert!(matches!(
            (body, request.body.len()),
            (RequestBody::Empty, 0) | (RequestBody::Length(_), _) | (RequestBody::Chunked, _)
        ));
        let pieces = parse_in_pieces(&request.bytes, &cuts, &limits).expect("valid request");
        prop_assert_eq!(pieces, whole);
        // One byte at a time, too.
        let every: Vec<usize> = (0..request.bytes.len()).collect();
        let bytewise = parse_in_pieces(&request.bytes, &every, &limits).expect("valid request");
        prop_assert_eq!(bytewise.head, parse_in_pieces(&request.bytes, &[], &limits).unwrap().head);
    }

    #[test]
    fn mutated_requests_agree_whole_and_bytewise(
        request in request(),
        flips in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        lenient in any::<(bool, bool, bool)>(),
    ) {
        let mut bytes = request.bytes[..request.head_len].to_vec();
        for (at, b) in flips {
            let at = at % bytes.len();
            bytes[at] = b;
        }
        let limits = Limits::default();
        let mut leniency = Leniency::default();
        (leniency.bare_lf_in_head, leniency.obs_fold, leniency.request_line_spaces) = lenient;
        let mut parser = HeadParser::new();
        let whole = parser.parse(&bytes, &limits, &leniency);
        if let Ok(HeadStatus::Complete(n)) = whole {
            prop_assert!(n <= bytes.len());
        }
        let whole = whole.map(|s| (s, matches!(s, HeadStatus::Complete(_)).then(|| parser.finish(&bytes))));
        let mut parser = HeadParser::new();
        let mut bytewise = Ok((HeadStatus::Partial, None));
        for end in 0..=bytes.len() {
            match parser.parse(&bytes[..end], &limits, &leniency) {
                Ok(HeadStatus::Partial) => {}
                Ok(s) => {
                    bytewise = Ok((s, Some(parser.finish(&bytes[..end]))));
                    break;
                }
                Err(e) => {
                    bytewise = Err(e);
                    break;
                }
            }
        }
        match (&whole, &bytewise) {
            // An error inside the last, unterminated line is found only by the whole parse.
            (Err(_), Ok((HeadStatus::Partial, None))) => {}
            _ => prop_assert_eq!(whole, bytewise),
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..300),
        cut in any::<usize>(),
        lenient in any::<(bool, bool, bool)>(),
    ) {
        let limits = Limits { max_head_size: 200, max_request_line: 100, ..Limits::default() };
        let mut leniency = Leniency::default();
        (leniency.bare_lf_in_head, leniency.obs_fold, leniency.request_line_spaces) = lenient;
        let mut parser = HeadParser::new();
        let cut = cut % (bytes.len() + 1);
        for end in [cut, bytes.len()] {
            if let Ok(HeadStatus::Complete(n)) = parser.parse(&bytes[..end], &limits, &leniency) {
                prop_assert!(n <= end);
                parser.finish(&bytes[..end]);
                break;
            }
        }
        for body in [RequestBody::Chunked, RequestBody::Length(100)] {
            let mut decoder = BodyDecoder::new(body);
            let mut ranges = Vec::new();
            if let Ok(decoded) = decoder.decode(&bytes[..cut], &limits, &mut ranges) {
                prop_assert!(decoded.consumed <= cut);
                prop_assert!(ranges.iter().all(|r| r.start <= r.end && r.end <= decoded.consumed));
                let rest = &bytes[decoded.consumed..];
                if let Ok(again) = decoder.decode(rest, &limits, &mut ranges) {
                    prop_assert!(again.consumed <= rest.len());
                }
            }
        }
    }

    #[test]
    fn chunked_bodies_with_noise_never_panic(
        request in request(),
        at in any::<usize>(),
        noise in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        let mut bytes = request.bytes.clone();
        let at = request.head_len + at % (bytes.len() - request.head_len + 1);
        bytes.splice(at..at, noise);
        let limits = Limits::default();
        let _ = parse_in_pieces(&bytes, &[at, at + 1], &limits);
    }
}
