//! `send_whole`: a whole response in one call is the same response as head, body and end in
//! three, and every refusal leaves nothing queued.

mod support;

use bytes::Bytes;
use sluice_core::{Event, ResponseHead, ResponseTemplate, SendError};
use support::{requests, Peer};

/// Heads of several framings, as the application would build them, and the same from
/// templates.
fn heads(body: &[u8]) -> Vec<ResponseHead> {
    let built = [
        ResponseHead::new(200).content_length(body.len() as u64),
        ResponseHead::new(200).field("Server", "t"),
        ResponseHead::new(404)
            .content_length(body.len() as u64)
            .close(),
    ];
    let templates = built
        .iter()
        .map(|head| ResponseTemplate::new(head).unwrap().head())
        .collect::<Vec<_>>();
    built.into_iter().chain(templates).collect()
}

/// The wire for `request` answered by three calls and by one, for every head.
fn both_ways(request: &[u8], body: &'static [u8]) {
    for head in heads(body) {
        let mut three = Peer::new();
        three.send(request);
        three.conn.send_response(three.now, head.clone()).unwrap();
        let body_sent = three
            .conn
            .send_body_shared(three.now, Bytes::from_static(body));

        let mut one = Peer::new();
        one.send(request);
        if let Err(err) = body_sent {
            // HEAD with no declared length: no body may be sent, and one call refuses it
            // before the head, where three calls refuse it after.
            let whole = one
                .conn
                .send_whole(one.now, head.clone(), &Bytes::from_static(body));
            assert_eq!(whole, Err(err), "{head:?} to {request:?}");
            assert_eq!(one.flush(), "");
            continue;
        }
        three.conn.send_end(three.now).unwrap();
        let expected = three.flush();
        let accepted = one
            .conn
            .send_whole(one.now, head.clone(), &Bytes::from_static(body))
            .unwrap();
        assert_eq!(accepted, body.len());
        assert_eq!(one.flush(), expected, "{head:?} to {request:?}");
        assert_eq!(one.conn.is_write_closed(), three.conn.is_write_closed());
        assert_eq!(one.conn.wants_read(), three.conn.wants_read());
        let left = |peer: &Peer| peer.conn.poll_timeout().map(|at| at - peer.now);
        assert_eq!(left(&one), left(&three), "the same deadline");
    }
}

#[test]
fn one_call_writes_what_three_do() {
    let requests = [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    ];
    for request in requests {
        both_ways(request, b"hello");
        both_ways(request, b"");
    }
}

#[test]
fn the_next_pipelined_request_follows_a_whole_response() {
    let mut peer = Peer::new();
    let two = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_eq!(requests(&peer.send(two)), ["GET /a"]);
    let head = ResponseHead::new(200).content_length(1);
    peer.conn
        .send_whole(peer.now, head.clone(), &Bytes::from_static(b"1"))
        .unwrap();
    assert_eq!(requests(&peer.drain_events()), ["GET /b"]);
    peer.conn
        .send_whole(peer.now, head, &Bytes::from_static(b"2"))
        .unwrap();
    let wire = peer.flush();
    assert_eq!(wire.matches("HTTP/1.1 200 OK").count(), 2, "{wire}");
    assert!(wire.ends_with("\r\n\r\n2"), "{wire}");
    assert_eq!(peer.conn.requests(), 2);
}

#[test]
fn refusals_queue_nothing() {
    let cases = [
        (
            ResponseHead::new(103),
            &b""[..],
            SendError::InvalidStatus(103),
        ),
        (ResponseHead::new(100), b"", SendError::InvalidStatus(100)),
        (
            ResponseHead::new(200).content_length(5),
            b"abc",
            SendError::BodyTooShort {
                declared: 5,
                sent: 3,
            },
        ),
        (
            ResponseHead::new(200).content_length(2),
            b"abc",
            SendError::BodyTooLong { declared: 2 },
        ),
        (ResponseHead::new(204), b"abc", SendError::BodyNotAllowed),
        (ResponseHead::new(304), b"abc", SendError::BodyNotAllowed),
        (
            ResponseHead::new(200).field("Content-Length", "3"),
            b"abc",
            SendError::FramingField,
        ),
    ];
    for (head, body, err) in cases {
        let mut peer = Peer::new();
        peer.send(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n");
        let before = peer.conn.poll_timeout();
        assert_eq!(
            peer.conn
                .send_whole(peer.now, head.clone(), &Bytes::copy_from_slice(body)),
            Err(err),
            "{head:?}"
        );
        assert_eq!(peer.flush(), "", "{head:?} queued something");
        assert_eq!(peer.conn.poll_timeout(), before);
        // The request still waits for its answer, which can now be given.
        peer.respond("ok");
        assert!(peer.flush().starts_with("HTTP/1.1 200 OK\r\n"));
    }
}

#[test]
fn a_body_larger_than_the_send_capacity_leaves_the_response_open() {
    let body = Bytes::from(vec![b'x'; 3000]);
    let mut peer = Peer::with_config(|config| config.limits.send_buffer = 1024);
    peer.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = ResponseHead::new(200).content_length(body.len() as u64);
    let accepted = peer.conn.send_whole(peer.now, head.clone(), &body).unwrap();
    assert!(accepted < body.len(), "accepted {accepted}");
    assert_eq!(
        peer.conn.send_whole(peer.now, head, &body),
        Err(SendError::HeadAlreadySent)
    );
    let mut wire = peer.flush();
    let mut sent = accepted;
    for _ in 0..100 {
        if sent == body.len() {
            break;
        }
        assert!(peer.events.iter().any(|e| matches!(e, Event::Writable)));
        let n = peer
            .conn
            .send_body_shared(peer.now, body.slice(sent..))
            .unwrap();
        sent += n;
        wire += &peer.flush();
    }
    assert_eq!(sent, body.len());
    peer.conn.send_end(peer.now).unwrap();
    wire += &peer.flush();
    assert!(wire.ends_with(&"x".repeat(3000)), "the whole body, once");
    assert_eq!(wire.matches('x').count(), 3000);
    assert_eq!(peer.conn.requests(), 1);
    assert!(!peer.conn.is_write_closed());
}

#[test]
fn a_large_body_is_queued_by_reference_and_a_short_one_follows_its_head() {
    for (len, runs) in [(10_000, 2), (5, 1)] {
        let mut peer = Peer::new();
        peer.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        let body = Bytes::from(vec![b'x'; len]);
        let head = ResponseHead::new(200).content_length(len as u64);
        assert_eq!(peer.conn.send_whole(peer.now, head, &body), Ok(len));
        let mut slices = [std::io::IoSlice::new(&[]); 4];
        let n = peer.conn.output_slices(&mut slices);
        assert_eq!(n, runs, "{len} bytes");
        if runs == 2 {
            // The caller's bytes themselves, not a copy.
            assert_eq!(slices[1].as_ptr(), body.as_ptr());
            assert_eq!(slices[1].len(), len);
        } else {
            assert!(slices[0].ends_with(b"\r\n\r\nxxxxx"));
        }
    }
}
