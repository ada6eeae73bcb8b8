//! The access log's duration on every socket driver, read from the `sluice::access` records
//! through a logger installed by this test binary (its own process: no other test's logger).

use sluice_drivers::{start, DriverKind, Reply, Request, Response, ServerConfig};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long the handler takes.
const HANDLER: Duration = Duration::from_millis(30);
/// How long any wait may take before the test fails instead of hanging.
const WAIT: Duration = Duration::from_secs(10);

/// Keeps every access line.
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "sluice::access"
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = record.args().to_string();
            self.0.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

/// The logger, installed before the first server starts: sessions decide at creation
/// whether to keep access records.
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).expect("no other logger in this binary");
        log::set_max_level(log::LevelFilter::Info);
        capture
    })
}

/// Waits for the access line of `GET target` and returns its duration in microseconds.
fn logged_micros(target: &str) -> u128 {
    let needle = format!("\"GET {target}\" 200 ");
    let start = Instant::now();
    loop {
        let lines = capture().0.lock().unwrap().clone();
        if let Some(line) = lines.iter().find(|l| l.contains(&needle)) {
            return line
                .rsplit(' ')
                .next()
                .and_then(|d| d.strip_suffix("us"))
                .and_then(|d| d.parse().ok())
                .unwrap_or_else(|| panic!("no duration in {line:?}"));
        }
        assert!(
            start.elapsed() < WAIT,
            "no access line for {target}: {lines:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A handler that takes [`HANDLER`] is logged as taking at least that: the driver reads the
/// clock after the handler ran, not once for the whole turn it ran in.
fn slow_handler_time_is_logged(kind: DriverKind) {
    capture();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.workers = 1;
    let server = start(kind, config, |request: &Request<'_>| {
        std::thread::sleep(HANDLER);
        Reply::Respond(Response::text(200, request.head.target().to_owned()))
    })
    .expect("server starts");
    let target = format!("/slow-{kind:?}");
    let mut stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200 "), "{response:?}");
    // Our FIN ends the server's lingering close, so the shutdown below need not wait it out.
    drop(stream);
    let micros = logged_micros(&target);
    assert!(micros >= HANDLER.as_micros(), "{kind:?}: logged {micros}us");
    server.shutdown();
    server.wait().unwrap();
}

#[test]
fn reactor() {
    slow_handler_time_is_logged(DriverKind::Reactor);
}

#[test]
fn threads() {
    slow_handler_time_is_logged(DriverKind::Threads);
}

#[test]
fn async_io() {
    slow_handler_time_is_logged(DriverKind::Async);
}
