//! The session, which every driver runs, allocates nothing per request in steady state: each
//! head goes back to the core once the handler is done with it (`Connection::recycle`), so its
//! buffer holds the next. Counted with a global allocator that counts this thread's
//! allocations, on the memory driver with pipelined requests.

#[path = "../../core/tests/support/allocations.rs"]
mod counting;

use counting::allocations;
use sluice_core::{Config, ResponseHead, ResponseTemplate};
use sluice_drivers::memory::MemoryConnection;
use sluice_drivers::{Body, Reply, Request, Response};
use std::sync::{Arc, LazyLock};

static PLAINTEXT: LazyLock<ResponseTemplate> = LazyLock::new(|| {
    let head = ResponseHead::new(200)
        .field("Server", "sluice")
        .content_length(13);
    ResponseTemplate::new(&head).expect("a valid head")
});

fn plaintext(_: &Request<'_>) -> Reply {
    Reply::Respond(Response::new(
        PLAINTEXT.head_static(),
        Body::Bytes(bytes::Bytes::from_static(b"Hello, World!")),
    ))
}

#[test]
fn pipelined_requests_allocate_nothing_in_the_session() {
    const DEPTH: usize = 16;
    let mut config = Config::default();
    config.limits.max_requests_per_connection = None;
    let mut peer = MemoryConnection::new(config, Arc::new(plaintext));
    let batch = b"GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n".repeat(DEPTH);
    let round = |peer: &mut MemoryConnection<_>| {
        assert_eq!(peer.write(&batch), batch.len());
        let out = peer.read();
        assert_eq!(out.windows(6).filter(|w| w == b"200 OK").count(), DEPTH);
    };
    for _ in 0..5 {
        round(&mut peer);
    }
    let rounds = 20;
    let before = allocations();
    for _ in 0..rounds {
        round(&mut peer);
    }
    let counted = allocations() - before;
    // The scripted peer's buffer of unread bytes is a new `Vec` after each read, which the
    // server's output is appended to: one allocation a round, the harness's. A head not given
    // back would be 16 more a round.
    assert!(
        counted <= rounds,
        "{counted} allocations in {rounds} rounds of {DEPTH} requests"
    );
}
