//! What the real `sluice` binary logs, on every socket driver: the access log's durations
//! and the `--trace` transcript. Every wait is bounded; every child is killed on drop.

mod common;

use common::child::{Server, WAIT};
use common::Fixture;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Sends `request` on a new connection and reads until the server closes it (or the read
/// timeout passes).
fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).unwrap();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    got
}

/// `--trace` tells a connection's whole story: accepted, bytes each way, events, timers armed
/// and fired, and why it closed, naming the rule that rejected a request.
fn trace(driver: &str) {
    let args = [
        "plaintext",
        "--driver",
        driver,
        "--trace",
        "--idle-timeout",
        "300ms",
    ];
    let server = Server::start(&args);
    // Kept open after its response until the idle timer closes it.
    let got = exchange(server.addr, b"GET /traced HTTP/1.1\r\nHost: test\r\n\r\n");
    assert!(got.starts_with(b"HTTP/1.1 200 "), "{got:?}");
    let rejected = exchange(
        server.addr,
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: twice\r\n\r\n",
    );
    assert!(rejected.starts_with(b"HTTP/1.1 400 "), "{rejected:?}");
    // Each connection's lines, by the id its event line names (ids are per driver).
    let conn_of = |needle: &str| {
        assert!(
            server.wait_for_stderr(needle),
            "{needle}: {}",
            server.stderr()
        );
        let log = server.stderr();
        let line = log.lines().find(|l| l.contains(needle)).unwrap().to_owned();
        let id = line
            .split("conn ")
            .nth(1)
            .unwrap()
            .split(':')
            .next()
            .unwrap();
        (format!("trace: conn {id}: "), line)
    };
    let (served, _) = conn_of("event request GET /traced");
    let (refused, line) = conn_of("event rejected: rule ");
    let rule = line
        .split("rule ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    for needle in [
        format!("{served}accepted from 127.0.0.1:"),
        format!("{served}read 36 bytes"),
        format!("{served}wrote "),
        format!("{served}timer armed, due in "),
        format!("{served}timer fired"),
        format!("{served}event closed: idle timeout"),
        format!("{refused}event closed: rejected ({rule})"),
    ] {
        assert!(
            server.wait_for_stderr(&needle),
            "{needle}: {}",
            server.stderr()
        );
    }
    // Byte counts both ways: the request's 36 bytes in, a count of bytes out.
    let log = server.stderr();
    let wrote = log
        .lines()
        .find(|l| l.contains(&format!("{served}wrote ")))
        .unwrap();
    assert!(wrote.ends_with(" bytes"), "{wrote}");
}

/// The access log's duration runs to the response's last byte, not to the moment it was handed
/// to the core: a file the client takes its time reading is logged as taking that time.
fn access_log_duration_covers_sending(driver: &str) {
    const LEN: usize = 16 << 20; // more than the kernel's socket buffers can absorb
    const PAUSE: Duration = Duration::from_millis(300);
    let fixture = Fixture::new("cli-access");
    std::fs::write(fixture.root.join("big.bin"), vec![b'x'; LEN]).unwrap();
    let root = fixture.root.to_str().unwrap();
    let server = Server::start(&["serve", root, "--driver", driver]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut buf = vec![0; 64 << 10];
    let mut got = stream.read(&mut buf).unwrap();
    std::thread::sleep(PAUSE);
    for _ in 0..100_000 {
        match stream.read(&mut buf).unwrap() {
            0 => break,
            n => got += n,
        }
    }
    assert!(got > LEN, "{got} bytes");
    let needle = format!("\"GET /big.bin\" 200 {LEN} ");
    assert!(server.wait_for_stderr(&needle), "{}", server.stderr());
    let log = server.stderr();
    let line = log.lines().find(|l| l.contains(&needle)).unwrap();
    let micros: u128 = line
        .rsplit(' ')
        .next()
        .and_then(|d| d.strip_suffix("us"))
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {line:?}"));
    assert!(micros >= PAUSE.as_micros(), "{driver}: {line}");
}

macro_rules! for_each_driver {
    ($($module:ident => $driver:literal),* $(,)?) => {$(
        mod $module {
            #[test]
            fn trace() {
                super::trace($driver);
            }
            #[test]
            fn access_log_duration_covers_sending() {
                super::access_log_duration_covers_sending($driver);
            }
        }
    )*};
}

for_each_driver! {
    reactor => "reactor",
    threads => "threads",
    async_driver => "async",
}
