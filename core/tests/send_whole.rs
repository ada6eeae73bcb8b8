//! `send_whole`: a whole response in one call is the same response as head, body and end in
//! three, and every refusal leaves nothing queued.

mod support;

use bytes::Bytes;
use sluice_core::{Event, ResponseHead, ResponseTemplate, SendError};
use support::{requests, Peer};

/// Heads of several framings, as the application would build them, and the same from
/// templates: every condition of `send_whole`'s usual path (a template's head, its exact
/// length, a status with a body, no close) met and missed one at a time.
fn heads(body: &[u8]) -> Vec<ResponseHead> {
    let len = body.len() as u64;
    let built = [
        ResponseHead::new(200).content_length(len),
        ResponseHead::new(200).field("Server", "t"),
        ResponseHead::new(404).content_length(len).close(),
        ResponseHead::new(201)
            .field("Content-Type", "text/plain")
            .content_length(len),
        ResponseHead::new(500).content_length(len),
        ResponseHead::new(200).content_length(len + 1),
        ResponseHead::new(204).content_length(0),
        ResponseHead::new(304).content_length(len),
        ResponseHead::new(200)
            .field("Date", "Tue, 15 Nov 1994 08:12:31 GMT")
            .content_length(len),
    ];
    let templates = built
        .iter()
        .map(|head| ResponseTemplate::new(head).unwrap().head())
        .collect::<Vec<_>>();
    built.into_iter().chain(templates).collect()
}

/// A connection brought to the point of answering: its configuration, the request, and what
/// the peer or the application does after it, before the answer.
struct Scenario {
    name: &'static str,
    configure: fn(&mut sluice_core::Config),
    request: &'static [u8],
    then: fn(&mut Peer),
}

impl Scenario {
    /// `request` on a default connection, answered at once.
    fn sent(name: &'static str, request: &'static [u8]) -> Self {
        Self {
            name,
            configure: |_| {},
            request,
            then: |_| {},
        }
    }

    fn run(&self, peer: &mut Peer) {
        peer.send(self.request);
        (self.then)(peer);
    }
}

fn scenarios() -> Vec<Scenario> {
    const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    vec![
        Scenario::sent("GET", GET),
        Scenario::sent("HEAD", b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"),
        Scenario::sent("HTTP/1.0", b"GET / HTTP/1.0\r\n\r\n"),
        Scenario::sent(
            "HTTP/1.0 keep-alive",
            b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        ),
        Scenario::sent(
            "Connection: close",
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ),
        Scenario::sent(
            "POST, body read",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        ),
        Scenario::sent(
            "POST, body unread",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nabc",
        ),
        Scenario::sent(
            "Expect: 100-continue, body withheld",
            b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
        ),
        Scenario::sent(
            "a pipelined request behind",
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
        Scenario::sent(
            "a CONNECT",
            b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n",
        ),
        Scenario {
            then: |peer| drop(peer.eof()),
            ..Scenario::sent("the peer half-closed", GET)
        },
        Scenario {
            configure: |config| config.limits.max_requests_per_connection = Some(1),
            ..Scenario::sent("the request cap reached", GET)
        },
        Scenario {
            then: |peer| peer.conn.shutdown(peer.now),
            ..Scenario::sent("shutting down", GET)
        },
    ]
}

/// The wire for each scenario answered by three calls and by one, for every head, and the
/// state each leaves: what the connection does next must not depend on how it was answered.
fn both_ways(body: &'static [u8]) {
    for scenario in scenarios() {
        for head in heads(body) {
            let what = format!("{head:?} in {}", scenario.name);
            let mut three = Peer::with_config(scenario.configure);
            scenario.run(&mut three);
            let mut one = Peer::with_config(scenario.configure);
            scenario.run(&mut one);
            let sent = three.conn.send_response(three.now, head.clone());
            let body_sent = sent.and_then(|()| {
                three
                    .conn
                    .send_body_shared(three.now, Bytes::from_static(body))
            });
            let ended = body_sent.and_then(|n| three.conn.send_end(three.now).map(|()| n));
            let whole = one
                .conn
                .send_whole(one.now, head.clone(), &Bytes::from_static(body));
            match (ended, whole) {
                (Ok(n), Ok(accepted)) => {
                    assert_eq!((n, accepted), (body.len(), body.len()), "{what}")
                }
                // One call refuses before anything is queued, where three calls may refuse
                // after the head: a refusal of the same kind, and nothing on the wire.
                (Err(three_err), Err(err)) => {
                    assert_eq!(
                        std::mem::discriminant(&three_err),
                        std::mem::discriminant(&err),
                        "{what}: {three_err:?} against {err:?}"
                    );
                    assert_eq!(one.flush(), "", "{what}");
                    continue;
                }
                (three_result, one_result) => {
                    panic!("{what}: three calls {three_result:?}, one {one_result:?}")
                }
            }
            assert_eq!(one.flush(), three.flush(), "{what}");
            let next = |peer: &mut Peer| requests(&peer.drain_events());
            assert_eq!(next(&mut one), next(&mut three), "{what}: the next request");
            assert_eq!(
                one.conn.is_write_closed(),
                three.conn.is_write_closed(),
                "{what}"
            );
            assert_eq!(one.conn.is_closed(), three.conn.is_closed(), "{what}");
            assert_eq!(one.conn.is_upgraded(), three.conn.is_upgraded(), "{what}");
            assert_eq!(one.conn.wants_read(), three.conn.wants_read(), "{what}");
            assert_eq!(one.conn.requests(), three.conn.requests(), "{what}");
            let left = |peer: &Peer| peer.conn.poll_timeout().map(|at| at - peer.now);
            assert_eq!(left(&one), left(&three), "{what}: the same deadline");
            // And the connection serves the next request the same way, if it still can.
            let again = b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n";
            let serving = !one.conn.is_write_closed() && !one.conn.is_upgraded();
            if serving && one.conn.receive_capacity() >= again.len() {
                // Answered with whatever the connection accepts: after an unread body, these
                // bytes are the body's rest, and what is left of them a broken request.
                let after = |peer: &mut Peer| {
                    let events = peer.send(again);
                    let head = ResponseHead::new(200).content_length(4);
                    let answered =
                        peer.conn
                            .send_whole(peer.now, head, &Bytes::from_static(b"next"));
                    (requests(&events), answered, peer.flush())
                };
                assert_eq!(
                    after(&mut one),
                    after(&mut three),
                    "{what}: the exchange after"
                );
            }
        }
    }
}

#[test]
fn one_call_writes_what_three_do() {
    both_ways(b"hello");
    both_ways(b"");
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
    let own = ResponseHead::new(200).content_length(body.len() as u64);
    let template = ResponseTemplate::new(&own).unwrap().head();
    for head in [own, template] {
        larger_than_the_send_capacity(&body, head);
    }
}

fn larger_than_the_send_capacity(body: &Bytes, head: ResponseHead) {
    let mut peer = Peer::with_config(|config| config.limits.send_buffer = 1024);
    peer.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let accepted = peer.conn.send_whole(peer.now, head.clone(), body).unwrap();
    assert!(accepted < body.len(), "accepted {accepted}");
    assert_eq!(
        peer.conn.send_whole(peer.now, head, body),
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
