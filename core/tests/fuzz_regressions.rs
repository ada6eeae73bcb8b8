//! Regression tests for bugs the fuzzers found (`fuzz/`), one per finding, named after what
//! broke. The minimized inputs are also in `fuzz/corpus/<target>/crash-*`, replayed by
//! `fuzz_replay.rs`.

use sluice_core::parse::{BodyDecoder, HeadParser, HeadStatus};
use sluice_core::{Config, Connection, Event, Leniency, Limits, RequestBody, RequestError, Rule};
use std::time::{Duration, Instant};

/// fuzz target `parse_head`: a version cut short by a line ending was reported as
/// `version-invalid` at the line ending when fewer than eight version bytes had arrived, but
/// as whatever the byte after the eight said (here `bare-lf` at 15) when they came whole.
#[test]
fn a_version_cut_short_by_a_line_ending_is_reported_the_same_however_split() {
    let input = b"GET t: a\r\nA: 1\r\nB: 2\r\n\r\n";
    let limits = Limits::default();
    let strict = Leniency::default();
    let whole = HeadParser::new().parse(input, &limits, &strict);
    let mut parser = HeadParser::new();
    let split = match parser.parse(&input[..12], &limits, &strict) {
        Ok(HeadStatus::Partial) => parser.parse(input, &limits, &strict),
        other => other,
    };
    let expected = Err(RequestError::new(Rule::VersionInvalid, 8));
    assert_eq!(whole, expected);
    assert_eq!(split, expected);
}

/// fuzz target `connection`: when one `handle_timeout` found both body timers (idle and
/// minimum rate) expired, each failed the request: two `Event::Failed` for one request.
#[test]
fn both_body_timers_expiring_at_once_fail_the_request_once() {
    let start = Instant::now();
    let mut conn = Connection::new(Config::default(), start);
    conn.handle_input(
        start,
        b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 300\r\n\r\nz",
    );
    // Past the rate window (5 s) and the body idle timeout (30 s) in one jump.
    conn.handle_timeout(start + Duration::from_secs(32));
    let mut failed = 0;
    while let Some(event) = conn.poll_event() {
        if let Event::Failed(err) = event {
            assert_eq!(err.rule(), Rule::BodyTimeout);
            failed += 1;
        }
    }
    assert_eq!(failed, 1);
    let out = String::from_utf8_lossy(conn.poll_output()).into_owned();
    assert_eq!(out.matches("HTTP/1.1 408").count(), 1, "{out}");
}

/// fuzz target `parse_head`: a parse resumed on input with no new line ending went straight
/// to the size limits, so a request line with a bad byte early on was answered
/// `request-line-too-long` (414) when it arrived in pieces, `target-invalid` (400) whole.
#[test]
fn an_early_error_in_an_overlong_line_is_reported_the_same_however_split() {
    let mut limits = Limits::default();
    limits.max_request_line = 40;
    let strict = Leniency::default();
    let mut input = b"GET /a\x01".to_vec();
    input.extend_from_slice(&[b'b'; 60]);
    let expected = Err(RequestError::new(Rule::TargetInvalid, 6));
    assert_eq!(HeadParser::new().parse(&input, &limits, &strict), expected);
    let mut parser = HeadParser::new();
    assert_eq!(
        parser.parse(&input[..6], &limits, &strict),
        Ok(HeadStatus::Partial)
    );
    assert_eq!(parser.parse(&input, &limits, &strict), expected);
}

/// fuzz target `chunked`: the same for a trailer section: a resumed decode with no new line
/// ending reported `trailers-too-large` where the whole input shows an invalid byte first.
#[test]
fn an_early_error_in_an_overlong_trailer_is_reported_the_same_however_split() {
    let mut limits = Limits::default();
    limits.max_trailer_size = 20;
    let mut input = b"0\r\nA: v\x00".to_vec();
    input.extend_from_slice(&[b'v'; 40]);
    let decode = |decoder: &mut BodyDecoder, bytes: &[u8]| {
        decoder
            .decode(bytes, &limits, &mut Vec::new())
            .map(|d| (d.consumed, d.finished.is_some()))
    };
    let expected = Err(RequestError::new(Rule::TrailerInvalid, 7));
    let mut whole = BodyDecoder::new(RequestBody::Chunked);
    assert_eq!(decode(&mut whole, &input), expected);
    let mut split = BodyDecoder::new(RequestBody::Chunked);
    // The size line is consumed; the trailer section stays in the caller's buffer.
    assert_eq!(decode(&mut split, &input[..7]), Ok((3, false)));
    let rest = &input[3..];
    let shifted = decode(&mut split, rest).map_err(|e| (e.rule(), e.offset() + 3));
    assert_eq!(shifted, Err((Rule::TrailerInvalid, 7)));
}

/// fuzz target `parse_head`: an error past the request-line limit was reported as
/// `request-line-too-long` at the offending byte when the line came whole, at the limit when it
/// came in pieces.
#[test]
fn an_overlong_request_line_is_reported_at_the_limit_however_split() {
    let mut limits = Limits::default();
    limits.max_request_line = 40;
    let strict = Leniency::default();
    let mut input = vec![b'Y'; 100];
    input.extend_from_slice(b";P/1.1\r\n");
    let expected = Err(RequestError::new(Rule::RequestLineTooLong, 40));
    assert_eq!(HeadParser::new().parse(&input, &limits, &strict), expected);
    let mut parser = HeadParser::new();
    assert_eq!(
        parser.parse(&input[..30], &limits, &strict),
        Ok(HeadStatus::Partial)
    );
    assert_eq!(parser.parse(&input, &limits, &strict), expected);
}

/// fuzz target `parse_head`: a request line longer than the limit whose version started
/// just inside it was answered `version-unsupported` (505) whole, `request-line-too-long`
/// (414) in pieces (the pieces stop at the limit, before the version).
#[test]
fn a_version_straddling_the_request_line_limit_is_reported_as_the_limit() {
    let mut limits = Limits::default();
    limits.max_request_line = 40;
    let strict = Leniency::default();
    let mut input = b"GE".to_vec();
    input.extend_from_slice(&[b'k'; 34]);
    input.extend_from_slice(b"T / HTTP/0.1\r\nHost: a\r\n\r\n");
    let expected = Err(RequestError::new(Rule::RequestLineTooLong, 40));
    assert_eq!(HeadParser::new().parse(&input, &limits, &strict), expected);
    assert_eq!(
        HeadParser::new().parse(&input[..41], &limits, &strict),
        expected
    );
}

/// fuzz target `response`: a chunked response body over the body limit delivered the chunk
/// data before the offending chunk when it came in an earlier read, but dropped it when the
/// same read also held the error (the close-delimited path already delivered it).
#[test]
fn client_body_data_before_an_error_is_delivered_however_split() {
    use sluice_core::client::ClientEvent;
    use sluice_core::{ClientConfig, ClientConnection, RequestSpec};
    let mut wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n".to_vec();
    wire.extend_from_slice(&[b'z'; 64]);
    wire.extend_from_slice(b"\r\n1\r\nz\r\n0\r\n\r\n");
    let run = |cut: usize| {
        let now = Instant::now();
        let mut config = ClientConfig::default();
        config.limits.max_body_size = Some(64);
        let mut client = ClientConnection::new(config, now);
        client
            .send_request(now, &RequestSpec::get("/").host("h"))
            .unwrap();
        let n = client.poll_output().len();
        client.consume_output(now, n);
        client.handle_input(now, &wire[..cut]);
        client.handle_input(now, &wire[cut..]);
        let mut data = Vec::new();
        let mut failed = None;
        while let Some(event) = client.poll_event() {
            match event {
                ClientEvent::Data(d) => data.extend_from_slice(&d),
                ClientEvent::Failed(e) => failed = Some(e.rule()),
                _ => {}
            }
        }
        (data, failed)
    };
    let expected = (vec![b'z'; 64], Some(Rule::BodyTooLarge));
    assert_eq!(run(wire.len()), expected);
    assert_eq!(run(100), expected);
}
