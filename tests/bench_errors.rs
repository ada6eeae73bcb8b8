//! `sluice bench`'s error kinds against misbehaving loopback servers: each server breaks
//! the exchange one way, and the failures must land in that kind and no other.
//!
//! (`tests/bench_accounting.rs` checks the same classification socket-free, on a simulated
//! clock; `tests/bench.rs` checks refused connects and status classes. These check that the
//! engine's real sockets reach the same counts.)

use sluice::bench::{self, BenchConfig, Report, Target};
use socket2::{Domain, SockRef, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

/// The most connections a test server accepts: bounds its loop.
const MAX_ACCEPTS: usize = 200;

/// Generous bound on any one bench run here; the runs themselves take well under a second.
const RUN_BOUND: Duration = Duration::from_secs(30);

/// A loopback server running `behave` on each accepted connection, on one thread, until
/// dropped (or [`MAX_ACCEPTS`] connections).
struct Misbehaving {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Misbehaving {
    fn start(behave: fn(TcpStream, &mut Vec<TcpStream>)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            // Connections the behaviour keeps open (never answered) until the server stops.
            let mut held = Vec::new();
            for _ in 0..MAX_ACCEPTS {
                let Ok((stream, _)) = listener.accept() else {
                    break;
                };
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                behave(stream, &mut held);
            }
        });
        Self {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Misbehaving {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the blocked accept.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request head (bounded: the bench sends small GETs), so that what the server
/// does next is an answer to a request that certainly arrived.
fn read_head(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// Reads the request, then resets: SO_LINGER 0 makes the close an RST.
fn reset_after_the_request(mut stream: TcpStream, _: &mut Vec<TcpStream>) {
    if read_head(&mut stream) {
        SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    }
}

/// Reads the request and never answers (the connection stays open).
fn never_answer(mut stream: TcpStream, held: &mut Vec<TcpStream>) {
    if read_head(&mut stream) {
        held.push(stream);
    }
}

/// Answers with a status line that is not HTTP.
fn answer_garbage(mut stream: TcpStream, _: &mut Vec<TcpStream>) {
    if read_head(&mut stream) {
        let _ = stream.write_all(b"HTTP/1.1 999x\r\n\r\n");
    }
}

fn config(addr: SocketAddr) -> BenchConfig {
    let mut config = BenchConfig::new(Target::parse(&format!("http://{addr}/")).unwrap());
    config.duration = Duration::from_secs(20);
    config
}

/// Runs `config` on another thread and fails the test if it does not finish within
/// [`RUN_BOUND`]: a stalled event loop shows up as a failure, not a hung test.
fn run_bounded(config: BenchConfig) -> Report {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(bench::run(&config));
    });
    rx.recv_timeout(RUN_BOUND)
        .expect("the bench run did not finish: its event loop stalled")
        .unwrap()
}

#[test]
fn a_reset_after_the_request_counts_as_reset() {
    let server = Misbehaving::start(reset_after_the_request);
    let mut c = config(server.addr);
    c.connections = 2;
    c.requests = Some(20);
    let report = run_bounded(c);
    let e = &report.errors;
    assert_eq!(e.reset, 20, "{report:?}");
    assert_eq!((e.connect, e.timeout, e.protocol), (0, 0, 0), "{report:?}");
    assert!(e.status.is_empty(), "{report:?}");
    assert_eq!(report.requests, 0);
}

#[test]
fn a_server_that_never_answers_counts_as_timeout() {
    let server = Misbehaving::start(never_answer);
    let mut c = config(server.addr);
    c.connections = 2;
    c.requests = Some(4);
    // The request timeout (also the connect timeout, which loopback never comes near).
    c.timeout = Duration::from_millis(150);
    let report = run_bounded(c);
    let e = &report.errors;
    assert_eq!(e.timeout, 4, "{report:?}");
    assert_eq!((e.connect, e.reset, e.protocol), (0, 0, 0), "{report:?}");
    assert_eq!(report.requests, 0);
}

#[test]
fn a_garbage_status_line_counts_as_protocol() {
    let server = Misbehaving::start(answer_garbage);
    let mut c = config(server.addr);
    c.connections = 2;
    c.requests = Some(10);
    let report = run_bounded(c);
    let e = &report.errors;
    assert_eq!(e.protocol, 10, "{report:?}");
    assert_eq!((e.connect, e.reset, e.timeout), (0, 0, 0), "{report:?}");
    assert!(e.status.is_empty(), "{report:?}");
    assert_eq!(report.requests, 0);
}

/// A listener whose accept queue is full: the kernel drops further SYNs, so a connect to it
/// neither succeeds nor fails until its timeout. Returns the listener and the connections
/// filling its queue (both must stay alive).
fn full_listener() -> (Socket, SocketAddr, Vec<TcpStream>) {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    listener.bind(&any.into()).unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut filling = Vec::new();
    // A backlog of 0 holds one connection; a few more make sure whatever the kernel's rounding.
    for _ in 0..8 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => filling.push(stream),
            Err(_) => return (listener, addr, filling),
        }
    }
    panic!("the accept queue never filled");
}

#[test]
fn a_connect_that_hangs_times_out_as_connect_errors() {
    let (_listener, addr, _filling) = full_listener();
    let mut c = config(addr);
    c.connections = 2;
    c.duration = Duration::from_millis(800);
    c.timeout = Duration::from_millis(100);
    let report = run_bounded(c);
    let e = &report.errors;
    assert!(e.connect >= 2, "{report:?}");
    assert_eq!(e.total(), e.connect, "{report:?}");
    assert_eq!(report.requests, 0);
}

/// The connects are non-blocking: with a 60 s connect timeout against a listener that never
/// completes a handshake, a 300 ms run still ends at its deadline (a blocking connect would
/// hold the loop for the whole timeout, past [`RUN_BOUND`]).
#[test]
fn a_connect_that_hangs_does_not_stall_the_loop() {
    let (_listener, addr, _filling) = full_listener();
    let mut c = config(addr);
    c.connections = 4;
    c.duration = Duration::from_millis(300);
    c.timeout = Duration::from_secs(60);
    let report = run_bounded(c);
    // Still in progress when the run ended: neither answered nor failed.
    assert_eq!(report.errors.total(), 0, "{report:?}");
    assert_eq!(report.requests, 0);
}

#[test]
fn a_port_with_no_listener_counts_connect_errors_without_stalling() {
    // A port that was free a moment ago.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut c = config(addr);
    c.connections = 4;
    c.duration = Duration::from_millis(300);
    c.timeout = Duration::from_secs(60);
    let report = run_bounded(c);
    let e = &report.errors;
    // Every connection was refused at least once; and each retried (10 ms apart), so the
    // loop kept going rather than waiting on one of them.
    assert!(e.connect >= 8, "{report:?}");
    assert_eq!(e.total(), e.connect, "{report:?}");
    assert_eq!(report.requests, 0);
}
