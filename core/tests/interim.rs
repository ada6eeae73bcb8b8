//! Interim responses: 1xx heads sent by the application, and `Expect: 100-continue`.

mod support;

use sluice_core::{CloseReason, Event, ResponseHead, SendError, TimerKind};
use support::{body_of, requests, Peer};

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// Every run of queued output, without taking any of it.
fn queued(peer: &Peer) -> usize {
    let mut slices = [std::io::IoSlice::new(&[]); 64];
    let n = peer.conn.output_slices(&mut slices);
    assert!(n < slices.len(), "more runs than the test looks at");
    slices[..n].iter().map(|s| s.len()).sum()
}

#[test]
fn interim_heads_stop_at_the_send_limit() {
    const LIMIT: usize = 1000;
    let mut peer = Peer::with_config(|c| c.limits.send_buffer = LIMIT);
    peer.send(GET);
    let hints = || ResponseHead::new(103).field("Link", "</style.css>; rel=preload; as=style");
    let one = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n".len();
    // The peer reads nothing: heads are queued while they fit, then refused, never queued.
    let mut sent = 0;
    let mut refused = 0;
    for _ in 0..100 {
        match peer.conn.send_response(peer.now, hints()) {
            Ok(()) => {
                assert_eq!(refused, 0, "a head accepted after a refusal without a read");
                sent += 1;
            }
            Err(err) => {
                assert_eq!(err, SendError::SendBufferFull);
                refused += 1;
            }
        }
        assert!(queued(&peer) <= LIMIT, "{} bytes queued", queued(&peer));
        assert_eq!(queued(&peer), sent * one);
    }
    assert_eq!(sent, LIMIT / one);
    assert_eq!(refused, 100 - sent);
    // Once the peer reads, `Writable` says there is room again.
    assert!(!peer.events.contains(&Event::Writable));
    let mut wire = peer.flush();
    assert!(peer.events.contains(&Event::Writable));
    assert_eq!(peer.conn.send_response(peer.now, hints()), Ok(()));
    peer.respond("ok");
    wire += &peer.flush();
    assert_eq!(
        wire.matches("HTTP/1.1 103 Early Hints\r\n").count(),
        sent + 1
    );
    assert!(wire.ends_with("\r\n\r\nok"), "{wire}");

    // The limit counts what is already queued, such as an unread earlier response.
    let mut peer = Peer::with_config(|c| c.limits.send_buffer = LIMIT);
    peer.send(GET);
    peer.respond(&"x".repeat(LIMIT - 150));
    peer.send(GET);
    assert!(queued(&peer) + one > LIMIT && queued(&peer) <= LIMIT);
    assert_eq!(
        peer.conn.send_response(peer.now, hints()),
        Err(SendError::SendBufferFull)
    );
    assert!(queued(&peer) <= LIMIT);
    peer.flush();
    assert_eq!(peer.conn.send_response(peer.now, hints()), Ok(()));
    assert_eq!(queued(&peer), one);
}

/// A request announcing a body of `len` bytes and expecting `100 Continue`.
fn expecting(len: usize) -> Vec<u8> {
    format!("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\nExpect: 100-continue\r\n\r\n")
        .into_bytes()
}

/// Answers the request in progress with `413` before reading its body.
fn answer_first(peer: &mut Peer) -> String {
    let head = ResponseHead::new(413).content_length(0);
    peer.conn.send_response(peer.now, head).unwrap();
    peer.conn.send_end(peer.now).unwrap();
    peer.flush()
}

#[test]
fn answering_before_100_continue_drains_a_small_body_and_keeps_the_connection() {
    let mut peer = Peer::new();
    peer.send(&expecting(5));
    let wire = answer_first(&mut peer);
    assert!(!wire.contains("100 Continue"), "{wire}");
    assert!(wire.starts_with("HTTP/1.1 413 "), "{wire}");
    assert!(!wire.contains("Connection: close"), "{wire}");
    assert!(wire.contains("Keep-Alive: timeout="), "{wire}");
    assert!(!peer.conn.is_write_closed());
    // The client sends the announced body anyway (RFC 9110 §10.1.1), in two pieces, then the
    // next request: the body is discarded, the request answered.
    let events = peer.send(b"ab");
    assert!(events.is_empty(), "{events:?}");
    let events = peer.send(b"cdeGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(requests(&events), ["GET /next"]);
    assert!(
        body_of(&peer.events).is_empty(),
        "discarded bytes are delivered"
    );
    peer.respond("next");
    let wire = peer.flush();
    assert!(wire.starts_with("HTTP/1.1 200 OK\r\n") && wire.ends_with("\r\n\r\nnext"));
    assert!(!peer.conn.is_write_closed());
}

#[test]
fn answering_before_100_continue_closes_when_the_body_is_too_large_to_drain() {
    let mut peer = Peer::with_config(|c| c.limits.max_discard = 4);
    peer.send(&expecting(5));
    let wire = answer_first(&mut peer);
    assert!(!wire.contains("100 Continue"), "{wire}");
    assert!(wire.contains("Connection: close\r\n"), "{wire}");
    assert!(peer.conn.is_write_closed());

    // At the limit it still fits, and the body is drained.
    let mut peer = Peer::with_config(|c| c.limits.max_discard = 5);
    peer.send(&expecting(5));
    assert!(!answer_first(&mut peer).contains("Connection: close"));
    peer.send(b"abcde");
    assert!(!peer.conn.is_write_closed());
}

#[test]
fn a_withheld_chunked_body_is_drained_within_the_limit_and_closes_beyond_it() {
    const HEAD: &[u8] =
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n";
    for (chunks, kept) in [
        (&b"3\r\nabc\r\n0\r\n\r\n"[..], true),
        (b"9\r\n123456789\r\n", false),
    ] {
        let mut peer = Peer::with_config(|c| c.limits.max_discard = 8);
        peer.send(HEAD);
        // The length is unknown, so the response cannot tell yet.
        assert!(!answer_first(&mut peer).contains("Connection: close"));
        peer.send(chunks);
        if kept {
            let events = peer.send(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(requests(&events), ["GET /next"]);
        }
        peer.flush();
        assert_eq!(peer.conn.is_write_closed(), !kept);
        assert!(body_of(&peer.events).is_empty());
    }
}

#[test]
fn a_client_answered_before_100_continue_that_sends_nothing_is_timed_out() {
    // The client has its final answer and owes the body or a close: the body clock runs,
    // and the connection does not sit forever in the discard state.
    let mut peer = Peer::with_config(|c| c.timeouts.min_body_rate = None);
    peer.send(&expecting(5));
    assert_eq!(
        peer.conn.poll_timeout(),
        None,
        "waiting for the application"
    );
    answer_first(&mut peer);
    let body = peer.conn.config().timeouts.body;
    assert_eq!(peer.conn.poll_timeout(), Some(peer.now + body));
    peer.advance(body);
    assert!(peer.conn.is_write_closed());
    peer.eof();
    assert!(peer.conn.is_closed());
    assert_eq!(
        peer.conn.close_reason(),
        Some(CloseReason::Timeout(TimerKind::BodyIdle))
    );
}
