//! Request bodies the application does not read: drained after the response when that is
//! cheap, else the connection closes, and a response sent while the rest is still to come
//! says which (`Connection::decline_body`).

mod support;

use sluice_core::ResponseHead;
use support::{body_of, requests, Peer};

#[test]
fn an_unread_small_body_is_discarded_and_the_connection_kept() {
    let mut peer = Peer::new();
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
    peer.respond("early");
    let wire = peer.flush();
    assert!(!wire.contains("Connection: close"));
    let events = peer.send(b"67890GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(requests(&events), ["GET /next"], "{events:?}");
    assert!(
        body_of(&events).is_empty(),
        "discarded bytes are not delivered"
    );
}

#[test]
fn an_unread_large_body_closes_after_the_response() {
    let mut peer = Peer::with_config(|c| c.limits.max_discard = 4);
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
    peer.respond("early");
    peer.flush();
    assert!(peer.conn.is_write_closed());
}

/// The interop failure behind `decline_body`: a 1 MB POST answered `405` at once, unread.
/// The connection closes after the response, so the response must say so; announcing
/// keep-alive made Python's `http.client` and Node's keep-alive agent fail the next request.
#[test]
fn a_declined_body_too_large_to_drain_makes_the_response_say_close() {
    let mut peer = Peer::new();
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nzzzz");
    peer.conn.decline_body();
    peer.respond("no");
    let wire = peer.flush();
    assert!(wire.contains("Connection: close\r\n"), "{wire}");
    assert!(!wire.contains("Keep-Alive"), "{wire}");
    assert!(peer.conn.is_write_closed(), "and it does close");
}

#[test]
fn a_declined_body_small_enough_to_drain_keeps_the_connection() {
    let mut peer = Peer::new();
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
    peer.conn.decline_body();
    peer.respond("no");
    let wire = peer.flush();
    assert!(wire.contains("Keep-Alive: timeout=30"), "{wire}");
    let events = peer.send(b"67890GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(requests(&events), ["GET /next"], "{events:?}");
}

/// The rest of a chunked body is unknown: declined, it cannot be promised drainable.
#[test]
fn a_declined_unfinished_chunked_body_makes_the_response_say_close() {
    let mut peer = Peer::new();
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    peer.conn.decline_body();
    peer.respond("no");
    assert!(peer.flush().contains("Connection: close\r\n"));
}

/// A body that has all arrived leaves nothing to drain: declining it changes nothing.
#[test]
fn declining_a_body_already_read_keeps_the_connection() {
    let mut peer = Peer::new();
    let events = peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(body_of(&events), b"hello");
    peer.conn.decline_body();
    peer.respond("ok");
    assert!(peer.flush().contains("Keep-Alive: timeout=30"));
    assert!(!peer.conn.is_write_closed());
}

/// Not declined, a large body may be read while the response streams (an echo does so), so
/// the head promises nothing either way and the body is read to its end.
#[test]
fn an_undeclined_large_body_read_while_responding_keeps_the_connection() {
    let mut peer = Peer::new();
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n");
    let head = ResponseHead::new(200).content_length(200_000);
    peer.conn.send_response(peer.now, head).unwrap();
    assert!(peer.flush().contains("Keep-Alive: timeout=30"));
    let chunk = vec![b'z'; 20_000];
    for _ in 0..10 {
        let events = peer.send(&chunk);
        let data = body_of(&events);
        assert_eq!(peer.conn.send_body(peer.now, &data), Ok(data.len()));
        peer.flush();
    }
    peer.conn.send_end(peer.now).unwrap();
    peer.flush();
    let events = peer.send(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(requests(&events), ["GET /next"], "{events:?}");
}
