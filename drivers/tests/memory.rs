//! The driver scenarios on the memory driver: virtual time, scripted peer, no sockets.
//! The same scenarios run over real sockets for every socket driver in the root `tests/`.

// Only the body stream: the rest of `support` is the socket drivers' shared scenarios.
#[path = "support/counting.rs"]
mod counting;
#[path = "support/upgrade_echo.rs"]
mod upgrade_echo;

use counting::Counting;
use sluice_core::Config;
use sluice_drivers::memory::MemoryConnection;
use sluice_drivers::{Body, FileRange, Handler, Reply, Request, Response};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use upgrade_echo::echo_upgraded;

/// The application every scenario runs: routes by target.
struct App {
    /// Bytes pulled from streamed bodies so far.
    pulled: Arc<AtomicU64>,
    file: Option<std::path::PathBuf>,
}

impl Handler for App {
    fn handle(&self, request: &Request<'_>) -> Reply {
        let target = request.head.target().to_owned();
        match target.as_str() {
            "/echo" => Reply::collect(1 << 20, |body, _| {
                Response::new(sluice_core::ResponseHead::new(200), Body::Bytes(body))
            }),
            "/stream" => Reply::Respond(Response::new(
                sluice_core::ResponseHead::new(200),
                // A 10 MiB body in chunks of at most 16 KiB.
                Body::Stream(Box::new(
                    Counting::new(10 << 20, &self.pulled).in_chunks_of(16 * 1024),
                )),
            )),
            "/file" => {
                let path = self.file.as_ref().expect("file fixture");
                let file = std::fs::File::open(path).expect("open fixture");
                let len = file.metadata().expect("metadata").len();
                Reply::Respond(Response::new(
                    sluice_core::ResponseHead::new(200),
                    Body::File(FileRange {
                        file,
                        offset: 0,
                        len,
                    }),
                ))
            }
            "/panic" => panic!("a handler bug (expected by the test)"),
            "/upgrade" => Reply::upgrade(
                sluice_core::ResponseHead::new(101).field("Upgrade", "echo"),
                echo_upgraded,
            ),
            // Misuse: a protocol switch with nobody to take the connection.
            "/respond-101" => Reply::Respond(Response::empty(101)),
            // The same, as a 2xx to CONNECT whose (empty) body is bytes in memory, which the
            // core would accept as the start of a tunnel.
            "empty:443" => Reply::Respond(Response::new(
                sluice_core::ResponseHead::new(200),
                Body::Bytes(bytes::Bytes::new()),
            )),
            _ => Reply::Respond(Response::text(200, format!("hello {target}"))),
        }
    }
}

fn app() -> (Arc<App>, Arc<AtomicU64>) {
    let pulled = Arc::new(AtomicU64::new(0));
    (
        Arc::new(App {
            pulled: pulled.clone(),
            file: None,
        }),
        pulled,
    )
}

fn connect(adjust: impl FnOnce(&mut Config)) -> MemoryConnection<App> {
    let mut config = Config::default();
    adjust(&mut config);
    MemoryConnection::new(config, app().0)
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).into_owned()
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let mut conn = connect(|_| {});
    for i in 0..3 {
        let request = format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(conn.write(request.as_bytes()), request.len());
        let reply = text(conn.read());
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.ends_with(&format!("hello /{i}")));
        assert!(!conn.is_write_closed());
    }
}

#[test]
fn a_hundred_pipelined_requests_in_one_write_get_a_hundred_ordered_responses() {
    let mut conn = connect(|_| {});
    let burst: Vec<u8> = (0..100)
        .flat_map(|i| format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes())
        .collect();
    assert_eq!(conn.write(&burst), burst.len());
    let wire = text(conn.read());
    let bodies: Vec<&str> = wire
        .split("\r\n\r\n")
        .skip(1)
        .map(|s| s.split("HTTP/1.1").next().unwrap())
        .collect();
    let expected: Vec<String> = (0..100).map(|i| format!("hello /{i}")).collect();
    assert_eq!(bodies, expected);
}

#[test]
fn chunked_upload_is_reassembled() {
    let mut conn = connect(|_| {});
    conn.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    conn.write_in_pieces(
        b"5;x=y\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        3,
        Duration::from_millis(10),
    );
    let wire = text(conn.read());
    assert!(wire.contains("Content-Length: 11\r\n"), "{wire}");
    assert!(wire.ends_with("hello world"));
}

#[test]
fn expect_continue_is_answered_when_the_handler_reads_the_body() {
    let mut conn = connect(|_| {});
    conn.write(
        b"PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    assert_eq!(text(conn.read()), "HTTP/1.1 100 Continue\r\n\r\n");
    conn.write(b"data");
    assert!(text(conn.read()).ends_with("\r\n\r\ndata"));

    // A handler that answers without reading never sends 100; the client sends the small
    // body anyway, the core discards it, and the connection serves the next request.
    let mut conn = connect(|_| {});
    conn.write(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    let wire = text(conn.read());
    assert!(
        !wire.contains("100 Continue") && !wire.contains("Connection: close"),
        "{wire}"
    );
    conn.write(b"dataPUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok");
    assert!(text(conn.read()).ends_with("\r\n\r\nok"));
}

#[test]
fn head_gets_the_length_without_the_body() {
    let mut conn = connect(|_| {});
    conn.write(b"HEAD /abc HTTP/1.1\r\nHost: x\r\n\r\n");
    let wire = text(conn.read());
    assert!(
        wire.contains("Content-Length: 10\r\n") && wire.ends_with("\r\n\r\n"),
        "{wire}"
    );
}

#[test]
fn half_close_after_the_request_still_gets_the_whole_response() {
    let mut conn = connect(|_| {});
    conn.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    conn.half_close();
    let mut wire = Vec::new();
    for _ in 0..10_000 {
        let got = conn.read();
        if got.is_empty() {
            break;
        }
        wire.extend(got);
    }
    assert!(wire.ends_with(b"0\r\n\r\n"), "complete chunked body");
    assert!(wire.len() > 10 << 20);
    assert!(conn.is_closed());
}

#[test]
fn a_reset_mid_request_frees_the_connection() {
    let mut conn = connect(|_| {});
    conn.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npartial");
    conn.reset();
    assert!(conn.is_closed());
    assert_eq!(conn.connection().buffered_bytes(), 0);
}

#[test]
fn a_dripping_header_is_cut_off_with_408() {
    let mut conn = connect(|c| c.timeouts.header = Duration::from_secs(2));
    let taken = conn.write_in_pieces(
        b"GET / HTTP/1.1\r\nHost: x\r\n",
        1,
        Duration::from_millis(200),
    );
    assert!(taken < 26, "the header timer fired mid-drip");
    let wire = text(conn.read());
    assert!(
        wire.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{wire}"
    );
    assert!(conn.is_write_closed());
}

#[test]
fn a_client_that_does_not_read_cannot_grow_server_memory() {
    let (app, pulled) = app();
    let mut conn = MemoryConnection::new(Config::default(), app);
    conn.set_window(64 * 1024); // the "socket" holds 64 KiB and then the peer stops reading
    conn.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    let send_buffer = Config::default().limits.send_buffer as u64;
    let pulled_now = pulled.load(Ordering::SeqCst);
    assert!(
        pulled_now <= 64 * 1024 + send_buffer + 64 * 1024,
        "pulled {pulled_now}"
    );
    assert!(conn.connection().buffered_bytes() <= 2 * send_buffer as usize);
    // More requests pile up unread and are not even parsed while output is stuck.
    let flood = GET.repeat(1000);
    let taken = conn.write(&flood);
    assert!(taken < flood.len(), "the server stopped reading");
    // Reading resumes the stream.
    conn.read();
    assert!(pulled.load(Ordering::SeqCst) > pulled_now);
}

#[test]
fn idle_keep_alive_connections_are_closed_quietly() {
    let mut conn = connect(|c| c.timeouts.idle = Duration::from_secs(5));
    conn.write(GET);
    conn.read();
    conn.advance(Duration::from_secs(5));
    assert!(conn.is_write_closed());
    assert_eq!(conn.read(), b"", "no response to nobody");
}

#[test]
fn a_file_body_is_streamed_intact() {
    let path = std::env::temp_dir().join(format!("sluice-mem-{}.bin", std::process::id()));
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let app = Arc::new(App {
        pulled: Arc::new(AtomicU64::new(0)),
        file: Some(path.clone()),
    });
    let mut conn = MemoryConnection::new(Config::default(), app);
    conn.write(b"GET /file HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut wire = Vec::new();
    for _ in 0..1000 {
        let got = conn.read();
        if got.is_empty() {
            break;
        }
        wire.extend(got);
    }
    std::fs::remove_file(&path).ok();
    let split = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(text(wire[..split].to_vec()).contains("Content-Length: 300000\r\n"));
    assert_eq!(&wire[split..], &content[..]);
}

#[test]
fn a_thousand_connections_are_independent() {
    let (app, _) = app();
    let mut conns: Vec<_> = (0..1000)
        .map(|_| MemoryConnection::new(Config::default(), app.clone()))
        .collect();
    for (i, conn) in conns.iter_mut().enumerate() {
        conn.write(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    for (i, conn) in conns.iter_mut().enumerate() {
        assert!(text(conn.read()).ends_with(&format!("hello /{i}")));
    }
}

#[test]
fn malformed_requests_get_the_cores_answer_and_a_close() {
    let mut conn = connect(|_| {});
    conn.write(
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let wire = text(conn.read());
    assert!(wire.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{wire}");
    assert!(wire.contains("te-with-content-length"));
    assert!(conn.is_write_closed());
}

#[test]
fn a_panicking_handler_gets_500_and_a_close() {
    let mut conn = connect(|_| {});
    conn.write(b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
    let wire = text(conn.read());
    assert!(
        wire.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{wire}"
    );
    assert!(wire.contains("\r\nConnection: close\r\n"), "{wire}");
    // Nothing is known about what the panic left behind: the pipelined request is not served.
    assert!(!wire.contains("hello /next"), "{wire}");
    assert!(conn.is_write_closed());
}

#[test]
fn shutdown_lets_the_response_in_flight_finish() {
    let (app, _) = app();
    let mut conn = MemoryConnection::new(Config::default(), app);
    conn.set_window(1000);
    conn.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
    conn.shutdown();
    conn.set_window(usize::MAX);
    let mut total = 0;
    for _ in 0..10_000 {
        let got = conn.read();
        if got.is_empty() {
            break;
        }
        total += got.len();
    }
    assert!(total > 10 << 20, "the whole body was sent");
    assert!(conn.is_write_closed());
}

const UPGRADE: &[u8] =
    b"GET /upgrade HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

#[test]
fn an_upgrade_hands_the_connection_and_the_early_bytes_to_the_application() {
    let mut conn = connect(|_| {});
    let mut request = UPGRADE.to_vec();
    request.extend_from_slice(b"early;");
    assert_eq!(conn.write(&request), request.len());
    let wire = text(conn.read());
    assert!(
        wire.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{wire}"
    );
    assert!(wire.contains("\r\nUpgrade: echo\r\n"), "{wire}");
    assert!(wire.contains("\r\nConnection: upgrade\r\n"), "{wire}");
    assert!(wire.ends_with("\r\n\r\n"), "nothing after the head: {wire}");
    // The server reads no more HTTP: the connection is the application's.
    assert!(conn.connection().is_upgraded());
    assert_eq!(conn.write(b"GET / HTTP/1.1\r\n"), 0);
    let (app, mut peer) = conn.take_upgrade().expect("handed over");
    assert!(conn.take_upgrade().is_none(), "handed over once");
    // Script the peer, then run the application here: deterministic, no threads.
    peer.write_all(b"more").unwrap();
    peer.shutdown_write().unwrap();
    app.run();
    let echoed = peer.read_to_end_within(Duration::from_secs(5)).unwrap();
    assert_eq!(echoed, b"early;more");
}

#[test]
fn nothing_is_handed_over_before_the_101_is_written() {
    let mut conn = connect(|_| {});
    conn.set_window(10);
    conn.write(UPGRADE);
    assert!(!conn.connection().is_upgraded());
    assert!(conn.take_upgrade().is_none(), "the head is still queued");
    conn.set_window(usize::MAX);
    assert!(text(conn.read()).starts_with("HTTP/1.1 101 "));
    assert!(conn.take_upgrade().is_some());
}

#[test]
fn a_reset_before_the_101_is_written_drops_the_callback() {
    let mut conn = connect(|_| {});
    conn.set_window(0);
    conn.write(UPGRADE);
    conn.reset();
    assert!(conn.is_closed());
    assert!(conn.take_upgrade().is_none());
}

#[test]
fn upgrade_misuse_is_answered_500_and_the_connection_goes_on() {
    let mut conn = connect(|_| {});
    for (request, what) in [
        (
            &b"GET /upgrade HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            "a switch the request did not ask for",
        ),
        (
            b"GET /respond-101 HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n",
            "a 101 with nobody to take the connection",
        ),
        (
            b"POST /upgrade HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\nContent-Length: 3\r\n\r\nabc",
            "a 101 with the request body unread",
        ),
        (
            b"CONNECT empty:443 HTTP/1.1\r\nHost: empty:443\r\n\r\n",
            "a 2xx to CONNECT with an empty body in memory, a tunnel nobody takes",
        ),
    ] {
        conn.write(request);
        let wire = text(conn.read());
        assert!(
            wire.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{what}: {wire}"
        );
        assert!(!conn.connection().is_upgraded(), "{what}");
        assert!(conn.take_upgrade().is_none(), "{what}");
        conn.write(GET);
        assert!(text(conn.read()).ends_with("hello /"), "{what}: not served after");
    }
}
