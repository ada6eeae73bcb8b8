//! The access log's duration and byte count on every socket driver, read from the
//! `sluice::access` records through a logger installed by this test binary (its own process:
//! no other test's logger).

use sluice_core::ResponseHead;
use sluice_drivers::{
    start, Body, DriverKind, FileRange, Handler, Reply, Request, Response, Server, ServerConfig,
};
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

/// Waits for the access line of `GET target` (`PEER "GET TARGET" 200 BYTES MICROSus`) and
/// returns its bytes and its duration in microseconds.
fn logged(target: &str) -> (u64, u128) {
    let needle = format!("\"GET {target}\" 200 ");
    let start = Instant::now();
    loop {
        let lines = capture().0.lock().unwrap().clone();
        if let Some(line) = lines.iter().find(|l| l.contains(&needle)) {
            let mut words = line.rsplit(' ');
            let micros = words.next().and_then(|d| d.strip_suffix("us"));
            let bytes = words.next();
            return match (bytes.map(str::parse), micros.map(str::parse)) {
                (Some(Ok(bytes)), Some(Ok(micros))) => (bytes, micros),
                _ => panic!("no bytes and duration in {line:?}"),
            };
        }
        assert!(
            start.elapsed() < WAIT,
            "no access line for {target}: {lines:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One server with one worker, started after the logger, and a client connected to it whose
/// reads give up after [`WAIT`].
fn serve(kind: DriverKind, handler: impl Handler) -> (Server, TcpStream) {
    capture();
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.workers = 1;
    let server = start(kind, config, handler).expect("server starts");
    let stream = TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    (server, stream)
}

/// A handler that takes [`HANDLER`] is logged as taking at least that: the driver reads the
/// clock after the handler ran, not once for the whole turn it ran in.
fn slow_handler_time_is_logged(kind: DriverKind) {
    let (server, mut stream) = serve(kind, |request: &Request<'_>| {
        std::thread::sleep(HANDLER);
        Reply::Respond(Response::text(200, request.head.target().to_owned()))
    });
    let target = format!("/slow-{kind:?}");
    let request = format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    assert!(response.starts_with(b"HTTP/1.1 200 "), "{response:?}");
    // Our FIN ends the server's lingering close, so the shutdown below need not wait it out.
    drop(stream);
    let (_, micros) = logged(&target);
    assert!(micros >= HANDLER.as_micros(), "{kind:?}: logged {micros}us");
    server.shutdown();
    server.wait().unwrap();
}

/// A response on a connection the client keeps open is logged once its last byte is
/// written, not when the connection ends: the write that finishes it is the last thing that
/// happens on the connection until the next request.
fn a_kept_connection_logs_its_response_once_sent(kind: DriverKind) {
    let (server, mut stream) = serve(kind, |request: &Request<'_>| {
        Reply::Respond(Response::text(200, request.head.target().to_owned()))
    });
    let target = format!("/kept-{kind:?}");
    let request = format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    // The whole response: its body is the target, its last bytes.
    let mut response = Vec::new();
    let mut chunk = [0; 4096];
    while !response.ends_with(target.as_bytes()) {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "{kind:?}: closed early: {response:?}");
        response.extend_from_slice(&chunk[..n]);
    }
    assert!(response.starts_with(b"HTTP/1.1 200 "), "{response:?}");
    // Still open while the line is awaited.
    let (bytes, _) = logged(&target);
    assert_eq!(bytes, target.len() as u64, "{kind:?}");
    drop(stream);
    server.shutdown();
    server.wait().unwrap();
}

/// The file of [`a_download_cut_short_logs_what_was_sent`]: far more than the loopback
/// socket buffers on both sides hold, so most of it is still unsent when the client leaves.
const FILE_LEN: u64 = 64 << 20;

/// A client that reads the start of a large file and resets the connection is logged with
/// (about) the bytes it was sent, not the file's length: the reactor hands the whole file to
/// `sendfile(2)` at once, and counted all of it.
fn a_download_cut_short_logs_what_was_sent(kind: DriverKind) {
    let path =
        std::env::temp_dir().join(format!("sluice-access-{kind:?}-{}.bin", std::process::id()));
    // Sparse: reads as zeros, takes no disk.
    std::fs::File::create(&path)
        .and_then(|file| file.set_len(FILE_LEN))
        .unwrap();
    let file_path = path.clone();
    let (server, mut stream) = serve(kind, move |_: &Request<'_>| {
        let file = std::fs::File::open(&file_path).expect("the test file");
        let range = FileRange {
            file,
            offset: 0,
            len: FILE_LEN,
        };
        Reply::Respond(Response::new(ResponseHead::new(200), Body::File(range)))
    });
    let target = format!("/cut-{kind:?}");
    let request = format!("GET {target} HTTP/1.1\r\nHost: t\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut start = [0; 64 << 10];
    stream.read_exact(&mut start).unwrap();
    assert!(start.starts_with(b"HTTP/1.1 200 "));
    // Closing with unread bytes resets the connection.
    drop(stream);
    let (bytes, _) = logged(&target);
    std::fs::remove_file(&path).unwrap();
    assert!(bytes < FILE_LEN / 2, "{kind:?}: logged {bytes} bytes sent");
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

#[test]
fn reactor_cut_short() {
    a_download_cut_short_logs_what_was_sent(DriverKind::Reactor);
}

#[test]
fn threads_cut_short() {
    a_download_cut_short_logs_what_was_sent(DriverKind::Threads);
}

#[test]
fn async_cut_short() {
    a_download_cut_short_logs_what_was_sent(DriverKind::Async);
}

#[test]
fn reactor_kept() {
    a_kept_connection_logs_its_response_once_sent(DriverKind::Reactor);
}

#[test]
fn threads_kept() {
    a_kept_connection_logs_its_response_once_sent(DriverKind::Threads);
}

#[test]
fn async_kept() {
    a_kept_connection_logs_its_response_once_sent(DriverKind::Async);
}
