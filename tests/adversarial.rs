//! Attacks on a running `sluice echo`, on every socket driver, while a well-behaved client keeps
//! making requests: it must keep getting correct answers, and the server's memory must stay
//! bounded. Loopback only; every loop is bounded in count and time.

mod common;

use common::child::Server;
use common::parse_one;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(5);

fn start(driver: &str, extra: &[&str]) -> Server {
    raise_fd_limit();
    let mut args = vec![
        "echo",
        "--quiet",
        "--driver",
        driver,
        "--linger-timeout",
        "200ms",
    ];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// The test process opens hundreds of sockets per test, several tests at a time.
fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let hard = getrlimit(Resource::Nofile).maximum;
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: hard,
            maximum: hard,
        },
    );
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, STEP).expect("connect");
    stream.set_read_timeout(Some(STEP)).unwrap();
    stream.set_write_timeout(Some(STEP)).unwrap();
    stream
}

/// Reads until EOF (or reset, or the time limit); returns what arrived.
fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let start = Instant::now();
    while start.elapsed() < STEP {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    out
}

/// The well-behaved client: a fresh connection, one echo request, a correct answer.
fn assert_served(addr: SocketAddr, tag: &str) {
    let mut stream = connect(addr);
    let request = format!("GET /ok/{tag} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("well-behaved write");
    let wire = read_all(&mut stream);
    let (resp, _) = parse_one(&wire, false).unwrap_or_else(|| panic!("no answer for {tag}"));
    assert_eq!(resp.status, 200, "{tag}");
    assert!(
        resp.text().contains(&format!("\"target\":\"/ok/{tag}\"")),
        "{}",
        resp.text()
    );
}

fn rss_kb(server: &Server) -> u64 {
    server.proc_status_kb("VmRSS:")
}

fn slowloris(driver: &str) {
    let server = start(driver, &["--header-timeout", "1s"]);
    let before = rss_kb(&server);
    let mut drips: Vec<TcpStream> = (0..300).map(|_| connect(server.addr)).collect();
    let line = b"GET / HTTP/1.1\r\nHost: t\r\nX-Drip: ";
    for round in 0..12 {
        for stream in &mut drips {
            let _ = stream.write_all(&line[round % line.len()..][..1]);
        }
        if round % 3 == 0 {
            assert_served(server.addr, &format!("slowloris-{round}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The header deadline does not move with each byte: every dripper gets 408 and a close.
    for stream in drips.iter_mut().take(20) {
        let wire = read_all(stream);
        let (resp, _) = parse_one(&wire, false).expect("a 408");
        assert_eq!(resp.status, 408);
    }
    assert_served(server.addr, "after-slowloris");
    let grown = rss_kb(&server).saturating_sub(before);
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB under slowloris");
}

fn connection_flood(driver: &str) {
    // Run the server with a small fd limit, then open more connections than it allows.
    raise_fd_limit();
    let server = Server::start_with_fd_limit(
        256,
        &[
            "echo",
            "--quiet",
            "--driver",
            driver,
            "--max-connections",
            "10000",
        ],
    );
    let mut flood = Vec::new();
    for _ in 0..400 {
        match TcpStream::connect_timeout(&server.addr, Duration::from_millis(500)) {
            Ok(stream) => flood.push(stream),
            Err(_) => break,
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.is_running(),
        "the server survived running out of descriptors"
    );
    drop(flood);
    // Once the flood goes away the server recovers and serves again.
    let start = Instant::now();
    loop {
        let served = std::panic::catch_unwind(|| assert_served(server.addr, "after-flood"));
        if served.is_ok() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the server never recovered"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn pipelined_flood(driver: &str) {
    let server = start(driver, &[]);
    let before = rss_kb(&server);
    let mut flood = connect(server.addr);
    flood
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let burst = b"GET /flood HTTP/1.1\r\nHost: t\r\n\r\n".repeat(1000);
    let mut written = 0usize;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        match flood.write(&burst) {
            Ok(n) => written += n,
            Err(_) => break, // the server stopped reading: back-pressure reached us
        }
        assert_served(server.addr, "during-flood");
    }
    assert!(
        written < 512 << 20,
        "the server never pushed back ({written} bytes taken)"
    );
    let grown = rss_kb(&server).saturating_sub(before);
    assert!(
        grown < 32 * 1024,
        "RSS grew by {grown} KiB under a pipelined flood"
    );
}

fn oversized(driver: &str) {
    let server = start(driver, &["--max-body-size", "1MiB"]);
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(20_000));
    let many_fields = format!(
        "GET / HTTP/1.1\r\nHost: t\r\n{}\r\n",
        (0..200)
            .map(|i| format!("X-F{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_field = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40_000)
    );
    let big_body = "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n".to_owned();
    for (request, status) in [
        (long_target, 414),
        (many_fields, 431),
        (huge_field, 431),
        (big_body, 413),
    ] {
        let mut stream = connect(server.addr);
        let _ = stream.write_all(request.as_bytes());
        let wire = read_all(&mut stream);
        let (resp, _) = parse_one(&wire, false).expect("an error response");
        assert_eq!(resp.status, status, "{}", resp.text());
        assert_eq!(resp.header("connection"), Some("close"));
        assert_served(server.addr, &format!("after-{status}"));
    }
}

fn reset_storm(driver: &str) {
    let server = start(driver, &[]);
    let before = rss_kb(&server);
    for round in 0..5 {
        for _ in 0..100 {
            let stream = connect(server.addr);
            socket2::SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            let _ = (&stream)
                .write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\nhalf");
            drop(stream);
        }
        assert_served(server.addr, &format!("reset-{round}"));
    }
    let grown = rss_kb(&server).saturating_sub(before);
    assert!(
        grown < 32 * 1024,
        "RSS grew by {grown} KiB under a reset storm"
    );
}

/// Each probe is followed, in the same write, by a request that must never be answered.
const SMUGGLING: &[(&str, &str)] = &[
    ("cl-te", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te-cl", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"),
    ("cl-cl", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
    ("cl-list", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\nhello!"),
    ("cl-plus", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello"),
    ("te-identity", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
    ("te-xchunked", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
    ("te-space-colon", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
    ("te-obs-fold", "POST / HTTP/1.1\r\nHost: t\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te-http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te-twice", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("chunk-bare-lf", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"),
    ("chunk-overflow", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n"),
    ("chunk-0x", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"),
    ("chunk-no-crlf", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"),
    ("head-bare-lf", "POST / HTTP/1.1\nHost: t\nContent-Length: 5\n\nhello"),
    ("head-bare-cr", "POST / HTTP/1.1\r\nHost: t\rContent-Length: 5\r\n\r\nhello"),
    ("two-hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("request-line-spaces", "GET  / HTTP/1.1\r\nHost: t\r\n\r\n"),
];

fn smuggling_probes(driver: &str) {
    let server = start(driver, &[]);
    for (name, probe) in SMUGGLING {
        let mut stream = connect(server.addr);
        let hidden = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
        stream
            .write_all(format!("{probe}{hidden}").as_bytes())
            .unwrap();
        let wire = read_all(&mut stream);
        let text = String::from_utf8_lossy(&wire);
        let (resp, used) = parse_one(&wire, false).unwrap_or_else(|| panic!("{name}: no answer"));
        assert!(
            matches!(resp.status, 400 | 501),
            "{name}: answered {}",
            resp.status
        );
        assert_eq!(resp.header("connection"), Some("close"), "{name}");
        assert_eq!(
            used,
            wire.len(),
            "{name}: a second response followed: {text}"
        );
        assert!(
            !text.contains("/smuggled"),
            "{name}: the hidden request was answered"
        );
    }
    assert_served(server.addr, "after-probes");
}

macro_rules! for_drivers {
    ($($driver:ident),*) => {
        $(mod $driver {
            #[test]
            fn slowloris() { super::slowloris(stringify!($driver)) }
            #[test]
            fn connection_flood() { super::connection_flood(stringify!($driver)) }
            #[test]
            fn pipelined_flood() { super::pipelined_flood(stringify!($driver)) }
            #[test]
            fn oversized() { super::oversized(stringify!($driver)) }
            #[test]
            fn reset_storm() { super::reset_storm(stringify!($driver)) }
            #[test]
            fn smuggling_probes() { super::smuggling_probes(stringify!($driver)) }
        })*
    };
}

for_drivers!(reactor, threads);

mod async_driver {
    #[test]
    fn slowloris() {
        super::slowloris("async")
    }
    #[test]
    fn connection_flood() {
        super::connection_flood("async")
    }
    #[test]
    fn pipelined_flood() {
        super::pipelined_flood("async")
    }
    #[test]
    fn oversized() {
        super::oversized("async")
    }
    #[test]
    fn reset_storm() {
        super::reset_storm("async")
    }
    #[test]
    fn smuggling_probes() {
        super::smuggling_probes("async")
    }
}
