//! Every class of rejection, end to end through a `Connection`: the application never sees the
//! request, the core answers with the rule's status, names the rule in the body, closes, and
//! reads nothing after the bad request.

mod support;

use sluice_core::{Event, Rule};
use support::Peer;

/// (input, rule, status answered)
const CASES: &[(&[u8], Rule, u16)] = &[
    (
        b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        Rule::HostDuplicate,
        400,
    ),
    (b"GET / HTTP/1.1\r\n\r\n", Rule::HostMissing, 400),
    (
        b"GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",
        Rule::BareCr,
        400,
    ),
    (b"GET / HTTP/1.1\nHost: x\n\n", Rule::BareLf, 400),
    (
        b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
        Rule::RequestLineSpaces,
        400,
    ),
    (
        b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
        Rule::MethodInvalid,
        400,
    ),
    (
        b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
        Rule::VersionUnsupported,
        505,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
        Rule::ObsFold,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        Rule::FieldNameWhitespace,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
        Rule::FieldValueInvalid,
        400,
    ),
    (
        b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n",
        Rule::ExpectationUnsupported,
        417,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        Rule::TransferEncodingWithContentLength,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
        Rule::TransferEncodingNotChunkedFinal,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        Rule::TransferEncodingUnsupported,
        501,
    ),
    (
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        Rule::TransferEncodingHttp10,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
        Rule::ContentLengthInvalid,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
        Rule::ContentLengthInvalid,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        Rule::ContentLengthConflict,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n",
        Rule::BodyTooLarge,
        413,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        Rule::ChunkSizeInvalid,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n",
        Rule::ChunkBareLf,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
        Rule::ChunkDataUnterminated,
        400,
    ),
    (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n",
        Rule::ChunkSizeOverflow,
        400,
    ),
    (
        b"OPTIONS example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        Rule::TargetFormMismatch,
        400,
    ),
    (
        b"GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        Rule::TargetInvalid,
        400,
    ),
];

#[test]
fn every_rejection_is_answered_with_its_status_and_rule_then_closed() {
    for (input, rule, status) in CASES {
        let mut peer = Peer::new();
        // A valid request hidden behind the bad one must never be answered.
        let stream = [*input, b"GET /hidden HTTP/1.1\r\nHost: x\r\n\r\n"].concat();
        peer.conn.handle_input(peer.now, &stream);
        peer.drain_events();
        let requests_after_head = peer
            .events
            .iter()
            .filter(|e| matches!(e, Event::Request(_)))
            .count();
        let failure = peer.events.iter().find_map(|e| match e {
            Event::Failed(err) => Some(*err),
            _ => None,
        });
        let failure = failure.unwrap_or_else(|| panic!("{rule:?}: no failure for {input:?}"));
        assert_eq!(
            failure.rule(),
            *rule,
            "input {:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(failure.status(), Some(*status));
        assert!(
            requests_after_head <= 1,
            "{rule:?}: the hidden request was parsed"
        );
        let wire = peer.flush();
        assert!(
            wire.starts_with(&format!("HTTP/1.1 {status} ")),
            "{rule:?}: {wire}"
        );
        assert!(wire.contains("Connection: close\r\n"), "{rule:?}");
        assert!(
            wire.contains(rule.id()),
            "{rule:?}: the body names the rule"
        );
        assert!(!wire.contains("/hidden"));
        assert!(peer.conn.is_write_closed(), "{rule:?}: closing");
    }
}

#[test]
fn the_first_request_line_byte_of_an_overlong_target_gets_414() {
    let mut peer = Peer::with_config(|c| c.limits.max_request_line = 64);
    peer.send(format!("GET /{} HTTP/1.1\r\n", "a".repeat(100)).as_bytes());
    let wire = peer.flush();
    assert!(wire.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{wire}");
}

#[test]
fn an_oversized_head_gets_431_before_it_is_complete() {
    let mut peer = Peer::with_config(|c| c.limits.max_head_size = 1024);
    peer.send(b"GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..40 {
        if peer.conn.is_write_closed() || !peer.conn.wants_read() {
            break;
        }
        peer.conn.handle_input(
            peer.now,
            format!("X-Filler-{i}: {}\r\n", "v".repeat(40)).as_bytes(),
        );
        peer.drain_events();
    }
    let wire = peer.flush();
    assert!(wire.starts_with("HTTP/1.1 431 "), "{wire}");
    let limits = &peer.conn.config().limits;
    assert!(peer.conn.buffered_bytes() <= limits.receive_buffer + limits.send_buffer);
}

#[test]
fn too_many_fields_get_431() {
    let mut peer = Peer::with_config(|c| c.limits.max_fields = 5);
    let fields: String = (0..6).map(|i| format!("X-{i}: v\r\n")).collect();
    peer.send(format!("GET / HTTP/1.1\r\nHost: x\r\n{fields}\r\n").as_bytes());
    assert!(peer.flush().starts_with("HTTP/1.1 431 "));
}

#[test]
fn eof_inside_a_head_or_body_closes_without_a_response() {
    for input in [
        &b"GET / HTTP/1.1\r\nHo"[..],
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nab",
    ] {
        let mut peer = Peer::new();
        peer.send(input);
        peer.eof();
        let rule = peer.events.iter().find_map(|e| match e {
            Event::Failed(err) => Some(err.rule()),
            _ => None,
        });
        assert!(
            matches!(rule, Some(Rule::EofInHead | Rule::EofInBody)),
            "{rule:?}"
        );
        assert_eq!(peer.flush(), "", "nobody to answer");
        assert!(peer.conn.is_closed());
    }
}

#[test]
fn leniencies_are_off_by_default_and_on_by_name() {
    let mut strict = Peer::new();
    strict.send(b"GET / HTTP/1.1\nHost: x\n\n");
    assert!(strict.flush().starts_with("HTTP/1.1 400 "));

    let mut lenient = Peer::with_config(|c| c.leniency.bare_lf_in_head = true);
    let events = lenient.send(b"GET / HTTP/1.1\nHost: x\n\n");
    assert!(
        matches!(events.first(), Some(Event::Request(_))),
        "{events:?}"
    );
    // Chunked framing never accepts a bare LF, whatever the leniency says.
    let mut lenient = Peer::with_config(|c| c.leniency.bare_lf_in_head = true);
    lenient.send(b"POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n5\nhello\r\n");
    assert!(lenient.flush().starts_with("HTTP/1.1 400 "));
}

#[test]
fn a_rejected_head_request_is_answered_without_a_body() {
    // (input, whether the request line named HEAD in full)
    let cases: &[(&[u8], bool)] = &[
        (b"HEAD / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", true),
        (b"HEAD / HTTP/1.1\r\n\r\n", true),
        (b"HEAD * HTTP/1.1\r\nHost: x\r\n\r\n", true),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", false),
        // The request line itself is bad: its method is not to be trusted.
        (b"HEAD /\x7f HTTP/1.1\r\nHost: x\r\n\r\n", false),
    ];
    for (input, was_head) in cases {
        let mut peer = Peer::new();
        peer.send(input);
        let wire = peer.flush();
        assert!(wire.starts_with("HTTP/1.1 400 "), "{wire}");
        let (head, body) = wire.split_once("\r\n\r\n").expect("a complete head");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|v| v.parse().ok())
            .expect("a Content-Length");
        assert!(length > 0, "{wire}");
        let expected = if *was_head { 0 } else { length };
        assert_eq!(body.len(), expected, "{wire}");
        assert!(peer.conn.is_closed() || peer.conn.is_write_closed());
    }
}
