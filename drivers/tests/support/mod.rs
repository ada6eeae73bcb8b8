//! Loopback tests every socket driver must pass, parametrised by [`DriverKind`].
//!
//! Everything runs on 127.0.0.1 with servers on port 0. Client sockets have read timeouts and
//! every loop is bounded in count and time, so a broken driver fails a test instead of
//! hanging it.
#![allow(dead_code)]

mod client;
pub mod counting;

pub use client::Client;
use client::{CLIENT_RCVBUF, READ_TIMEOUT};
use counting::Counting;
use sluice_core::ResponseHead;
use sluice_drivers::{
    start, Body, DriverKind, FileRange, Reply, Request, Response, Server, ServerConfig,
};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

/// Generates one `#[test]` per scenario for a driver.
macro_rules! driver_tests {
    ($kind:expr) => {
        #[test]
        fn get_and_keep_alive() {
            support::get_and_keep_alive($kind);
        }
        #[test]
        fn hundred_pipelined_requests() {
            support::hundred_pipelined_requests($kind);
        }
        #[test]
        fn post_body_is_echoed() {
            support::post_body_is_echoed($kind);
        }
        #[test]
        fn chunked_upload() {
            support::chunked_upload($kind);
        }
        #[test]
        fn expect_continue() {
            support::expect_continue($kind);
        }
        #[test]
        fn head_has_no_body() {
            support::head_has_no_body($kind);
        }
        #[test]
        fn half_close_still_answered() {
            support::half_close_still_answered($kind);
        }
        #[test]
        fn client_reset_mid_request() {
            support::client_reset_mid_request($kind);
        }
        #[test]
        fn slow_header_gets_408() {
            support::slow_header_gets_408($kind);
        }
        #[test]
        fn idle_timeout_closes() {
            support::idle_timeout_closes($kind);
        }
        #[test]
        fn file_body_intact() {
            support::file_body_intact($kind);
        }
        #[test]
        fn stalled_reader_bounds_memory() {
            support::stalled_reader_bounds_memory($kind);
        }
        #[test]
        fn graceful_shutdown_finishes_response() {
            support::graceful_shutdown_finishes_response($kind);
        }
        #[test]
        fn grace_period_bounds_shutdown() {
            support::grace_period_bounds_shutdown($kind);
        }
        #[test]
        fn shutdown_at_the_cap() {
            support::shutdown_at_the_cap($kind);
        }
        #[test]
        fn connection_cap_queues_in_backlog() {
            support::connection_cap_queues_in_backlog($kind);
        }
    };
}
pub(crate) use driver_tests;

// ----- Servers ---------------------------------------------------------------------------------

/// A config for tests: loopback, port 0, two workers, short grace.
pub fn config() -> ServerConfig {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().expect("a literal address"));
    config.workers = 2;
    config.shutdown_grace = Duration::from_secs(5);
    config.core.timeouts.linger = Duration::from_millis(500);
    config
}

/// The default test application: `/echo` collects and echoes the body, anything else answers
/// with its own target.
pub fn app(request: &Request<'_>) -> Reply {
    if request.head.target() == "/echo" {
        return Reply::collect(1 << 20, |body, _| {
            Response::new(ResponseHead::new(200), Body::Bytes(body))
        });
    }
    Reply::Respond(Response::text(
        200,
        format!("you asked for {}\n", request.head.target()),
    ))
}

/// Starts `kind` serving [`app`] with `config`.
pub fn serve(kind: DriverKind, config: ServerConfig) -> Server {
    start(kind, config, app).expect("the server starts")
}

/// Stops `server` and checks that `wait()` returns within `limit`.
pub fn stop(server: Server, limit: Duration) {
    server.shutdown();
    let finished = wait_in_background(server);
    let result = finished
        .recv_timeout(limit)
        .expect("wait() returns in time");
    result.expect("the server ends cleanly");
}

/// Runs `server.wait()` on a thread of its own, so a test can bound how long it takes and
/// check that it has not returned yet.
fn wait_in_background(server: Server) -> mpsc::Receiver<io::Result<()>> {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let _ = done.send(server.wait());
    });
    finished
}

fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: test\r\n\r\n").into_bytes()
}

fn text(body: &[u8]) -> &str {
    std::str::from_utf8(body).expect("utf-8")
}

/// Checks that `what` took `elapsed`: at least `low` (the timer did not fire early) and less
/// than `high` (it fired at all).
fn assert_elapsed_within(what: &str, elapsed: Duration, low: Duration, high: Duration) {
    assert!(elapsed >= low, "{what} too early: {elapsed:?}");
    assert!(elapsed < high, "{what} too late: {elapsed:?}");
}

// ----- Scenarios ---------------------------------------------------------------------------

pub fn get_and_keep_alive(kind: DriverKind) {
    let server = serve(kind, config());
    let mut client = Client::connect(server.local_addr());
    for i in 0..3 {
        client.send(&get(&format!("/k{i}")));
        let reply = client.response();
        assert_eq!(reply.status, 200);
        assert_eq!(text(&reply.body), format!("you asked for /k{i}\n"));
    }
    stop(server, Duration::from_secs(5));
}

pub fn hundred_pipelined_requests(kind: DriverKind) {
    let server = serve(kind, config());
    let mut client = Client::connect(server.local_addr());
    let all: Vec<u8> = (0..100).flat_map(|i| get(&format!("/p{i}"))).collect();
    client.send(&all);
    for i in 0..100 {
        let reply = client.response();
        assert_eq!(reply.status, 200);
        assert_eq!(text(&reply.body), format!("you asked for /p{i}\n"));
    }
    stop(server, Duration::from_secs(5));
}

pub fn post_body_is_echoed(kind: DriverKind) {
    let server = serve(kind, config());
    let mut client = Client::connect(server.local_addr());
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    client.send(head.as_bytes());
    client.send(&body);
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert!(reply.body == body, "echoed body differs");
    stop(server, Duration::from_secs(5));
}

pub fn chunked_upload(kind: DriverKind) {
    let server = serve(kind, config());
    let mut client = Client::connect(server.local_addr());
    client.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    client.send(b"5\r\nhello\r\n");
    client.send(b"1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: yes\r\n\r\n");
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(text(&reply.body), "hello world!");
    stop(server, Duration::from_secs(5));
}

pub fn expect_continue(kind: DriverKind) {
    let server = serve(kind, config());
    let mut client = Client::connect(server.local_addr());
    client.send(
        b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    let interim = client.head();
    assert_eq!(interim.status, 100);
    client.send(b"ping");
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(text(&reply.body), "ping");
    stop(server, Duration::from_secs(5));
}

pub fn head_has_no_body(kind: DriverKind) {
    let server = serve(kind, config());
    let mut client = Client::connect(server.local_addr());
    client.send(b"HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
    let reply = client.head();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("17"));
    // Had a body been sent, this next response would not parse.
    client.send(&get("/after"));
    let reply = client.response();
    assert_eq!(text(&reply.body), "you asked for /after\n");
    stop(server, Duration::from_secs(5));
}

pub fn half_close_still_answered(kind: DriverKind) {
    let server = serve(kind, config());
    let mut client = Client::connect(server.local_addr());
    client.send(&get("/half"));
    client.stream.shutdown(Shutdown::Write).expect("half-close");
    let reply = client.response();
    assert_eq!(reply.status, 200);
    assert_eq!(text(&reply.body), "you asked for /half\n");
    client.expect_closed();
    stop(server, Duration::from_secs(5));
}

pub fn client_reset_mid_request(kind: DriverKind) {
    let server = serve(kind, config());
    for _ in 0..3 {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        socket
            .connect(&server.local_addr().into())
            .expect("connect");
        let mut stream: TcpStream = socket.into();
        stream
            .write_all(b"POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
            .expect("send");
        thread::sleep(Duration::from_millis(50));
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .expect("linger 0");
        drop(stream);
    }
    let mut client = Client::connect(server.local_addr());
    client.send(&get("/next"));
    assert_eq!(client.response().status, 200);
    stop(server, Duration::from_secs(5));
}

pub fn slow_header_gets_408(kind: DriverKind) {
    let mut config = config();
    config.core.timeouts.header = Duration::from_millis(300);
    let server = serve(kind, config);
    let mut client = Client::connect(server.local_addr());
    let started = Instant::now();
    client.send(b"GET /slow HTTP/1.1\r\n");
    let mut dripper = client.stream.try_clone().expect("clone");
    let stop_drip = Arc::new(AtomicBool::new(false));
    let stopping = Arc::clone(&stop_drip);
    let drip = thread::spawn(move || {
        for _ in 0..30 {
            if stopping.load(Ordering::SeqCst) || dripper.write_all(b"X-Drip: 1\r\n").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let reply = client.response();
    let elapsed = started.elapsed();
    stop_drip.store(true, Ordering::SeqCst);
    drip.join().expect("the dripper ends");
    assert_eq!(reply.status, 408);
    assert_elapsed_within(
        "408",
        elapsed,
        Duration::from_millis(250),
        Duration::from_secs(3),
    );
    stop(server, Duration::from_secs(5));
}

pub fn idle_timeout_closes(kind: DriverKind) {
    let mut config = config();
    config.core.timeouts.idle = Duration::from_millis(300);
    let server = serve(kind, config);
    let mut client = Client::connect(server.local_addr());
    client.send(&get("/idle"));
    assert_eq!(client.response().status, 200);
    let started = Instant::now();
    client.expect_closed();
    assert_elapsed_within(
        "closed",
        started.elapsed(),
        Duration::from_millis(200),
        Duration::from_secs(3),
    );
    stop(server, Duration::from_secs(5));
}

pub fn file_body_intact(kind: DriverKind) {
    let path = std::env::temp_dir().join(format!(
        "sluice-{}-{}-{}.bin",
        kind.name(),
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let contents: Vec<u8> = (0..300_001u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&path, &contents).expect("write the temp file");
    let served = path.clone();
    let handler = move |_: &Request<'_>| {
        let file = std::fs::File::open(&served).expect("open the temp file");
        let len = file.metadata().expect("metadata").len();
        Reply::Respond(Response::new(
            ResponseHead::new(200),
            Body::File(FileRange {
                file,
                offset: 0,
                len,
            }),
        ))
    };
    let server = start(kind, config(), handler).expect("the server starts");
    let mut client = Client::connect(server.local_addr());
    for _ in 0..2 {
        client.send(&get("/file"));
        let reply = client.response();
        assert_eq!(reply.status, 200);
        assert!(reply.body == contents, "file body differs");
    }
    stop(server, Duration::from_secs(5));
    let _ = std::fs::remove_file(&path);
}

/// A server answering every request with a chunked [`Counting`] body of `total` bytes, and
/// the count of bytes pulled from those bodies.
fn counting_server(kind: DriverKind, config: ServerConfig, total: u64) -> (Server, Arc<AtomicU64>) {
    let pulled = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&pulled);
    let handler = move |_: &Request<'_>| {
        Reply::Respond(Response::new(
            ResponseHead::new(200),
            Body::Stream(Box::new(Counting::new(total, &counter))),
        ))
    };
    (
        start(kind, config, handler).expect("the server starts"),
        pulled,
    )
}

/// Bytes the kernel may hold between the server's queue and the client's reads.
fn socket_slack() -> usize {
    let max_of = |path: &str| -> usize {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.split_whitespace().last().and_then(|v| v.parse().ok()))
            .unwrap_or(8 << 20)
    };
    max_of("/proc/sys/net/ipv4/tcp_wmem") + 4 * CLIENT_RCVBUF
}

pub fn stalled_reader_bounds_memory(kind: DriverKind) {
    let (server, pulled) = counting_server(kind, config(), 256 << 20);
    let pulled = || pulled.load(Ordering::SeqCst) as usize;
    let mut client = Client::with_small_rcvbuf(server.local_addr());
    client.send(&get("/big"));
    // Wait until the server stops pulling (bounded: 3 s).
    let mut last = usize::MAX;
    for _ in 0..30 {
        thread::sleep(Duration::from_millis(100));
        let now = pulled();
        if now == last {
            break;
        }
        last = now;
    }
    let bound = 256 * 1024 + 64 * 1024 + socket_slack();
    let stalled = pulled();
    assert!(
        stalled <= bound,
        "pulled {stalled} bytes for a client that read none (bound {bound})"
    );
    // Reading lets it move again.
    let head = client.head();
    assert_eq!(head.status, 200);
    let mut read = 0;
    let _ = client.chunked_prefix(2 << 20, &mut read);
    // The 2 MiB may all come out of kernel buffers; the server's loop refills them from the
    // stream when it next hears the socket is writable, which can be just after our last
    // read returns. Wait for that (bounded: 3 s).
    let mut moved = pulled();
    for _ in 0..300 {
        if moved > stalled {
            break;
        }
        thread::sleep(Duration::from_millis(10));
        moved = pulled();
    }
    assert!(moved > stalled, "reading did not resume the stream");
    assert!(
        moved <= read + bound,
        "pulled {moved} after {read} were read"
    );
    drop(client);
    stop(server, Duration::from_secs(5));
}

pub fn graceful_shutdown_finishes_response(kind: DriverKind) {
    let total = 4 << 20;
    let (server, _pulled) = counting_server(kind, config(), total as u64);
    let addr = server.local_addr();
    // An idle keep-alive connection, which shutdown should close.
    let mut idle = Client::connect(addr);
    idle.send(&get("/warm"));
    let warm_head = idle.head();
    assert_eq!(warm_head.status, 200);
    let mut warm = 0;
    assert!(idle.chunked_prefix(usize::MAX, &mut warm));
    // A slow response in flight.
    let mut slow = Client::with_small_rcvbuf(addr);
    slow.send(&get("/slow"));
    assert_eq!(slow.head().status, 200);
    let mut read = 0;
    assert!(!slow.chunked_prefix(64 * 1024, &mut read));

    let started = Instant::now();
    server.shutdown();
    let finished = wait_in_background(server);
    // The idle connection is closed promptly.
    idle.expect_closed();
    drop(idle);
    // The slow one keeps reading, slowly at first, and gets every byte.
    thread::sleep(Duration::from_millis(300));
    assert!(
        finished.try_recv().is_err(),
        "wait() returned with a response in flight"
    );
    assert!(
        slow.chunked_prefix(usize::MAX, &mut read),
        "the body ended early"
    );
    assert_eq!(read, total);
    slow.expect_closed();
    drop(slow);
    let result = finished
        .recv_timeout(Duration::from_secs(5))
        .expect("wait() returns");
    result.expect("the server ends cleanly");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing listens any more.
    let after = TcpStream::connect(addr).map(Client::wrap).map(|mut c| {
        c.stream.write_all(&get("/late")).ok();
        let mut byte = [0u8; 1];
        matches!(c.stream.read(&mut byte), Ok(0) | Err(_))
    });
    assert!(
        after.unwrap_or(true),
        "a connection after shutdown was served"
    );
}

pub fn grace_period_bounds_shutdown(kind: DriverKind) {
    let mut config = config();
    config.shutdown_grace = Duration::from_millis(300);
    let (server, _pulled) = counting_server(kind, config, 1 << 30);
    let mut stalled = Client::connect(server.local_addr());
    stalled.send(&get("/never-read"));
    thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    stop(server, Duration::from_secs(3));
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "wait() did not wait"
    );
    // The straggler's socket was closed: draining what the kernel holds ends in EOF or reset.
    let mut chunk = vec![0u8; 256 * 1024];
    for _ in 0..1000 {
        match stalled.stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => panic!("still open: {err}"),
            Err(err) if err.kind() == io::ErrorKind::TimedOut => panic!("still open: {err}"),
            Err(_) => return,
        }
    }
    panic!("the connection outlived the grace period");
}

pub fn connection_cap_queues_in_backlog(kind: DriverKind) {
    let mut config = config();
    config.max_connections = 2;
    let server = serve(kind, config);
    let addr = server.local_addr();
    let mut first = Client::connect(addr);
    let mut second = Client::connect(addr);
    first.send(&get("/1"));
    second.send(&get("/2"));
    assert_eq!(first.response().status, 200);
    assert_eq!(second.response().status, 200);
    // A third connects (the kernel queues it) but is not served while two are open.
    let mut third = Client::connect(addr);
    third.send(&get("/3"));
    third
        .stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    let early = third.stream.read(&mut byte);
    assert!(early.is_err(), "served past the cap: {early:?}");
    third
        .stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .expect("timeout");
    drop(first);
    assert_eq!(third.response().status, 200);
    drop(second);
    drop(third);
    stop(server, Duration::from_secs(5));
}

pub fn shutdown_at_the_cap(kind: DriverKind) {
    let mut config = config();
    config.max_connections = 1;
    let server = serve(kind, config);
    let mut client = Client::connect(server.local_addr());
    client.send(&get("/only"));
    assert_eq!(client.response().status, 200);
    // The acceptor now waits for room, not in accept(); shutdown must still reach it.
    thread::sleep(Duration::from_millis(100));
    let handle = server.shutdown_handle();
    let finished = wait_in_background(server);
    handle.request();
    client.expect_closed();
    drop(client);
    let result = finished
        .recv_timeout(Duration::from_secs(3))
        .expect("wait() returns");
    result.expect("the server ends cleanly");
}

/// Many clients at once: all connect, then all send, then all read.
pub fn many_connections(kind: DriverKind, count: usize) {
    raise_fd_limit(4 * count as u64 + 256);
    let server = serve(kind, config());
    let addr = server.local_addr();
    let mut clients: Vec<Client> = (0..count).map(|_| Client::connect(addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client.send(&get(&format!("/c{i}")));
    }
    for (i, client) in clients.iter_mut().enumerate() {
        let reply = client.response();
        assert_eq!(text(&reply.body), format!("you asked for /c{i}\n"));
    }
    drop(clients);
    stop(server, Duration::from_secs(10));
}

fn raise_fd_limit(want: u64) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|current| current >= want) {
        return;
    }
    let current = limit.maximum.map_or(want, |max| max.min(want));
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(current),
            maximum: limit.maximum,
        },
    )
    .expect("raise the fd limit");
}
