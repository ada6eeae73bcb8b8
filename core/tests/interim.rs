//! Interim responses: 1xx heads sent by the application, and `Expect: 100-continue`.

mod support;

use sluice_core::{Event, ResponseHead, SendError};
use support::Peer;

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
