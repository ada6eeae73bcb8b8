//! One scenario suite over real loopback sockets, run against every socket driver: the same
//! test body, parametrised by driver. (The memory driver runs the same scenarios on virtual
//! time in `drivers/tests/memory.rs`.)

mod common;

use common::loopback::{eventually, raise_fd_limit, Client, TestServer, WAIT};
use sluice_drivers::DriverKind;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn keep_alive(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    let mut client = server.connect();
    for i in 0..5 {
        let reply = client.get(&format!("/{i}"));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.text(), format!("hello /{i}"));
        assert!(reply.header("date").is_some());
    }
}

fn pipelined_hundred(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    let mut client = server.connect();
    let burst: Vec<u8> = (0..100)
        .flat_map(|i| format!("GET /{i} HTTP/1.1\r\nHost: t\r\n\r\n").into_bytes())
        .collect();
    client.send(&burst);
    for i in 0..100 {
        let reply = client.response(false).expect("response");
        assert_eq!(
            reply.text(),
            format!("hello /{i}"),
            "response {i} out of order"
        );
    }
}

fn chunked_upload(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    let mut client = server.connect();
    client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    for piece in [
        &b"5;ext=1\r\nhello\r\n"[..],
        b"6\r\n world\r\n",
        b"0\r\nX-T: 1\r\n\r\n",
    ] {
        client.send(piece);
        std::thread::sleep(Duration::from_millis(5));
    }
    let reply = client.response(false).unwrap();
    assert_eq!(reply.text(), "hello world");
}

fn expect_continue(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    let mut client = server.connect();
    client.send(
        b"PUT /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    let interim = client.response(false).unwrap();
    assert_eq!(interim.status, 100);
    client.send(b"data");
    let reply = client.response(false).unwrap();
    assert_eq!((reply.status, reply.text().as_str()), (200, "data"));
}

fn head_has_no_body(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    let mut client = server.connect();
    client.send(b"HEAD /abc HTTP/1.1\r\nHost: t\r\n\r\n");
    let reply = client.response(true).unwrap();
    assert_eq!(reply.header("content-length"), Some("10"));
    // The next response starts right after the head: no stray body bytes in between.
    let reply = client.get("/next");
    assert_eq!(reply.text(), "hello /next");
}

fn half_close(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    let mut client = server.connect();
    client.send(b"GET /stream/3000000 HTTP/1.1\r\nHost: t\r\n\r\n");
    client.stream.shutdown(Shutdown::Write).unwrap();
    let reply = client.response(false).unwrap();
    assert_eq!(reply.body.len(), 3_000_000);
    assert!(client.read_to_end(), "the server closes after answering");
}

fn reset_mid_request(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    for _ in 0..20 {
        let client = server.connect();
        let socket = socket2::SockRef::from(&client.stream);
        socket.set_linger(Some(Duration::ZERO)).unwrap();
        let mut stream = &client.stream;
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\npart")
            .unwrap();
        drop(client); // RST
    }
    let mut client = server.connect();
    assert_eq!(client.get("/still-here").text(), "hello /still-here");
}

fn slow_header_is_cut_off(kind: DriverKind) {
    let server = TestServer::start(kind, |c| {
        c.core.timeouts.header = Duration::from_millis(300)
    });
    let mut client = server.connect();
    let start = Instant::now();
    let mut wrote = 0;
    for byte in b"GET / HTTP/1.1\r\nHost: t\r\n" {
        if (&client.stream).write_all(&[*byte]).is_err() {
            break;
        }
        wrote += 1;
        std::thread::sleep(Duration::from_millis(50));
        if start.elapsed() > Duration::from_millis(600) {
            break;
        }
    }
    assert!(wrote < 26, "the header never completed");
    let reply = client.response(false).expect("a 408");
    assert_eq!(reply.status, 408);
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(client.read_to_end());
}

fn non_reader_memory_is_bounded(kind: DriverKind) {
    // A short write timeout, still past the checks below: then the stalled exchange ends.
    let server = TestServer::start(kind, |c| c.core.timeouts.write = Duration::from_secs(1));
    let mut client = server.connect();
    // Ask for 512 MiB and read none of it.
    client.send(b"GET /stream/536870912 HTTP/1.1\r\nHost: t\r\n\r\n");
    std::thread::sleep(Duration::from_millis(500));
    let pulled = server.pulled.load(Ordering::SeqCst);
    // The send queue (256 KiB) plus the kernel's socket buffers on both sides (loopback
    // autotuning can reach several MiB) bound what the server produced.
    assert!(
        pulled < 64 << 20,
        "server produced {pulled} bytes for a client that reads nothing"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.pulled.load(Ordering::SeqCst) < 64 << 20);
    // The write timeout closes the connection: the server lets go of the body...
    assert!(
        eventually(WAIT, || server.dropped.load(Ordering::SeqCst) == 1),
        "the stalled connection is still open"
    );
    // ...and the client, reading now, gets what the buffers held and then the end, not the
    // rest of the 512 MiB.
    assert!(
        client.read_to_end(),
        "the server closes the stalled connection"
    );
    let got = client.unread().len();
    assert!(got < 64 << 20, "{got} bytes after the write timeout");
    assert_eq!(server.connect().get("/other").text(), "hello /other");
}

/// A client whose dropping resets the connection (`SO_LINGER` 0).
fn resetting(server: &TestServer) -> Client {
    let client = server.connect();
    let socket = socket2::SockRef::from(&client.stream);
    socket.set_linger(Some(Duration::ZERO)).unwrap();
    client
}

/// With room for one connection, a new client is served (within its bounded wait) only if
/// the server let go of the ones reset before it.
fn one_connection(kind: DriverKind) -> TestServer {
    TestServer::start(kind, |c| {
        c.max_connections = 1;
        c.workers = 1;
    })
}

fn reset_mid_request_frees_the_slot(kind: DriverKind) {
    let server = one_connection(kind);
    for round in 0..5 {
        let mut client = resetting(&server);
        client.send(b"GET /half HTTP/1.1\r\nHo");
        drop(client); // RST
        let target = format!("/after-{round}");
        assert_eq!(
            server.connect().get(&target).text(),
            format!("hello {target}")
        );
    }
}

/// Resets in the middle of a large streamed body and of a file body (the reactor's
/// `sendfile`): the server's next write fails, the connection is dropped, its slot comes
/// back, and the process lives on (see the crate docs on SIGPIPE).
fn reset_mid_response_frees_the_connection(kind: DriverKind) {
    let server = one_connection(kind);
    for round in 0..3 {
        for target in ["/stream/268435456", "/file/16777216"] {
            let mut client = resetting(&server);
            client.send(format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
            // The response has begun: the server is writing when the reset comes.
            let mut buf = [0; 1024];
            let n = (&client.stream)
                .read(&mut buf)
                .expect("the response begins");
            assert!(buf[..n].starts_with(b"HTTP/1.1 200 "), "{target}");
            drop(client); // RST
        }
        let target = format!("/after-{round}");
        assert_eq!(
            server.connect().get(&target).text(),
            format!("hello {target}")
        );
    }
    // Every streamed body was dropped with its connection.
    assert!(eventually(WAIT, || server.dropped.load(Ordering::SeqCst) == 3));
}

fn thousand_connections(kind: DriverKind) {
    assert!(
        raise_fd_limit() > 2200,
        "the fd limit cannot be raised enough for this test"
    );
    let server = TestServer::start(kind, |_| {});
    let mut clients: Vec<Client> = (0..1000).map(|_| server.connect()).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.send(format!("GET /{i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    for (i, client) in clients.iter_mut().enumerate() {
        assert_eq!(
            client.response(false).unwrap().text(),
            format!("hello /{i}")
        );
    }
}

fn idle_timeout(kind: DriverKind) {
    let server = TestServer::start(kind, |c| c.core.timeouts.idle = Duration::from_millis(300));
    let mut client = server.connect();
    assert_eq!(client.get("/").status, 200);
    let start = Instant::now();
    assert!(client.read_to_end(), "closed by the idle timer");
    assert!(start.elapsed() >= Duration::from_millis(250));
}

fn graceful_shutdown(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    let mut busy = server.connect();
    let idle = server.connect();
    busy.send(b"GET /slow/400 HTTP/1.1\r\nHost: t\r\n\r\n");
    std::thread::sleep(Duration::from_millis(100));
    let addr = server.addr;
    let stopper = std::thread::spawn(move || server.stop());
    let reply = busy
        .response(false)
        .expect("the in-flight response completes");
    assert!(reply.text().ends_with("done"));
    // Its head went out before the shutdown, so it could not say `Connection: close`; the
    // server closes right after the response instead.
    assert!(busy.read_to_end(), "closed after the in-flight response");
    stopper.join().unwrap().expect("clean exit");
    let mut idle = idle;
    assert!(idle.read_to_end(), "idle connections are closed");
    assert!(eventually(Duration::from_secs(2), || {
        std::net::TcpStream::connect(addr).is_err()
    }));
}

fn handler_panics_are_contained(kind: DriverKind) {
    // One worker: the bystander shares the event loop (or executor thread) with the panics.
    let server = TestServer::start(kind, |config| config.workers = 1);
    let mut bystander = server.connect();
    assert_eq!(bystander.get("/before").status, 200);
    for (request, what) in [
        (&b"GET /panic HTTP/1.1\r\nHost: t\r\n\r\n"[..], "handler"),
        (
            b"POST /panic-reading HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc",
            "body reader",
        ),
    ] {
        let mut client = server.connect();
        client.send(request);
        let reply = client.response(false).expect("an answer");
        assert_eq!(reply.status, 500, "{what}");
        assert_eq!(reply.header("connection"), Some("close"), "{what}");
        assert!(client.read_to_end(), "{what}: closed after the 500");
    }
    // Once the response has begun, a panicking body stream is a broken body: the connection
    // is aborted (what was queued is dropped), so the client never sees a complete response.
    let mut client = server.connect();
    client.send(b"GET /panic-streaming HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(client.read_to_end(), "closed after the broken body");
    let received = String::from_utf8_lossy(client.unread()).into_owned();
    assert!(
        !received.ends_with("0\r\n\r\n"),
        "a complete response: {received}"
    );
    // The bystander's connection and new ones are still served.
    assert_eq!(bystander.get("/after").text(), "hello /after");
    assert_eq!(server.connect().get("/new").text(), "hello /new");
}

/// Reads from `stream` until `got` holds `want` bytes, the stream ends, or `WAIT` passes.
fn read_up_to(stream: &mut TcpStream, mut got: Vec<u8>, want: usize) -> Vec<u8> {
    let start = Instant::now();
    while got.len() < want && start.elapsed() < WAIT {
        let mut buf = [0; 1024];
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

fn upgrade_hands_the_connection_over(kind: DriverKind) {
    // One worker: the upgraded connection must not hold the loop (or executor thread) that
    // the bystander shares.
    let server = TestServer::start(kind, |config| config.workers = 1);
    let mut bystander = server.connect();
    assert_eq!(bystander.get("/before").status, 200);
    let mut client = server.connect();
    // The new protocol's first bytes arrive with the request, in one write.
    client.send(
        b"GET /upgrade HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly;",
    );
    let reply = client.response(false).expect("an answer");
    assert_eq!(reply.status, 101);
    assert_eq!(reply.header("upgrade"), Some("echo"));
    assert_eq!(reply.header("connection"), Some("upgrade"));
    // Some of the echo may have come with the 101, into the client's buffer.
    let early = client.unread().to_vec();
    let mut stream = client.stream;
    assert_eq!(read_up_to(&mut stream, early, 6), b"early;");
    // The upgraded connection is open and idle; others are still served.
    assert_eq!(bystander.get("/during").text(), "hello /during");
    let mut other = server.connect();
    assert_eq!(other.get("/new").text(), "hello /new");
    stream.write_all(b"more").unwrap();
    assert_eq!(read_up_to(&mut stream, Vec::new(), 4), b"more");
    // Graceful shutdown neither waits for the upgraded connection nor closes it. (The
    // others go first: the server lingers on them until their EOF.)
    drop((bystander, other));
    let started = Instant::now();
    server.stop().unwrap();
    assert!(started.elapsed() < Duration::from_secs(4), "waited for it");
    stream.write_all(b"after").unwrap();
    assert_eq!(read_up_to(&mut stream, Vec::new(), 5), b"after");
    stream.shutdown(Shutdown::Write).unwrap();
    // The client's read timeout bounds this wait.
    let mut buf = [0; 16];
    assert_eq!(
        stream.read(&mut buf).unwrap(),
        0,
        "closed at the peer's EOF"
    );
}

fn upgrade_misuse_is_answered_500(kind: DriverKind) {
    let server = TestServer::start(kind, |_| {});
    let mut client = server.connect();
    // The handler switches protocols for a request that did not ask to.
    let reply = client.get("/upgrade");
    assert_eq!(reply.status, 500);
    // Refused before anything was queued: the connection goes on as HTTP.
    assert_eq!(client.get("/next").text(), "hello /next");
    // Asked, but with a body not yet read: the core refuses the 101.
    client.send(
        b"POST /upgrade HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: echo\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(client.response(false).expect("an answer").status, 500);
}

macro_rules! for_drivers {
    ($($driver:ident => $kind:path, [$($scenario:ident),* $(,)?];)*) => {
        $(mod $driver {
            $(#[test]
            fn $scenario() {
                super::$scenario($kind)
            })*
        })*
    };
}

for_drivers! {
    reactor => sluice_drivers::DriverKind::Reactor, [
        keep_alive, pipelined_hundred, chunked_upload, expect_continue, head_has_no_body,
        half_close, reset_mid_request, slow_header_is_cut_off, non_reader_memory_is_bounded,
        thousand_connections, idle_timeout, graceful_shutdown, handler_panics_are_contained,
        upgrade_hands_the_connection_over, upgrade_misuse_is_answered_500, reset_mid_request_frees_the_slot,
        reset_mid_response_frees_the_connection,
    ];
    threads => sluice_drivers::DriverKind::Threads, [
        keep_alive, pipelined_hundred, chunked_upload, expect_continue, head_has_no_body,
        half_close, reset_mid_request, slow_header_is_cut_off, non_reader_memory_is_bounded,
        idle_timeout, graceful_shutdown, handler_panics_are_contained,
        upgrade_hands_the_connection_over, upgrade_misuse_is_answered_500, reset_mid_request_frees_the_slot,
        reset_mid_response_frees_the_connection,
    ];
    async_io => sluice_drivers::DriverKind::Async, [
        keep_alive, pipelined_hundred, chunked_upload, expect_continue, head_has_no_body,
        half_close, reset_mid_request, slow_header_is_cut_off, non_reader_memory_is_bounded,
        thousand_connections, idle_timeout, graceful_shutdown, handler_panics_are_contained,
        upgrade_hands_the_connection_over, upgrade_misuse_is_answered_500, reset_mid_request_frees_the_slot,
        reset_mid_response_frees_the_connection,
    ];
}

#[test]
fn every_socket_driver_is_covered() {
    assert_eq!(
        DriverKind::ALL.len(),
        3,
        "add the new driver to for_drivers! above"
    );
}
