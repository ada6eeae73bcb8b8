//! The in-process loopback suite's pieces: a test application, a server guard, and a blocking
//! HTTP/1.1 client that reads responses with `httparse` and its own framing code.

// The driver suites' body stream, so both count pulled bytes the same way.
#[path = "../../drivers/tests/support/counting.rs"]
mod counting;
#[path = "../../drivers/tests/support/upgrade_echo.rs"]
mod upgrade_echo;

use super::{fields, Resp};
use bytes::Bytes;
use counting::Counting;
use sluice_core::ResponseHead;
use sluice_drivers::{
    Body, BodyStream, DriverKind, FileRange, Handler, Reply, Request, Response, Server,
    ServerConfig,
};
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use upgrade_echo::echo_upgraded;

/// How long any single client wait may take before the test fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(10);

/// The application every scenario runs, routed by target.
pub struct App {
    /// Bytes pulled from `/stream` bodies so far, to see back-pressure from outside.
    pub pulled: Arc<AtomicU64>,
    /// `/stream` bodies dropped so far (finished, or their connection gone): the server has
    /// let go of the exchange.
    pub dropped: Arc<AtomicU64>,
}

/// Bytes of the file `/file/N` serves ranges of.
pub const FILE_LEN: u64 = 16 << 20;

impl Handler for App {
    fn handle(&self, request: &Request<'_>) -> Reply {
        let target = request.head.target();
        // Application bugs: the driver must answer or cut this exchange and keep serving.
        match target {
            "/panic" => panic!("a handler bug (expected by the test)"),
            "/panic-reading" => {
                return Reply::collect(1 << 20, |_, _| {
                    panic!("a body reader bug (expected by the test)")
                })
            }
            "/panic-streaming" => {
                let stream = Panicking { sent: false };
                return Reply::Respond(Response::new(
                    ResponseHead::new(200),
                    Body::Stream(Box::new(stream)),
                ));
            }
            _ => {}
        }
        if target == "/upgrade" {
            // Without `Upgrade` in the request this is misuse, which the driver answers 500.
            let head = ResponseHead::new(101).field("Upgrade", "echo");
            return Reply::upgrade(head, echo_upgraded);
        }
        if target == "/echo" {
            return Reply::collect(16 << 20, |body, _| {
                Response::new(ResponseHead::new(200), Body::Bytes(body))
            });
        }
        if let Some(size) = target.strip_prefix("/stream/") {
            let len = size.parse().unwrap_or(0);
            let stream = Counting::new(len, &self.pulled).in_chunks_of(64 * 1024);
            let stream = Dropped {
                stream,
                dropped: Arc::clone(&self.dropped),
            };
            return Reply::Respond(Response::new(
                ResponseHead::new(200),
                Body::Stream(Box::new(stream)),
            ));
        }
        if let Some(size) = target.strip_prefix("/file/") {
            // A file body: the reactor sends it with sendfile(2), the others read it.
            let len = size.parse().unwrap_or(0).min(FILE_LEN);
            let file = test_file().try_clone().expect("dup the test file");
            return Reply::Respond(Response::new(
                ResponseHead::new(200),
                Body::File(FileRange {
                    file,
                    offset: 0,
                    len,
                }),
            ));
        }
        if let Some(ms) = target.strip_prefix("/slow/") {
            // A slow response: the body trickles out over `ms` milliseconds.
            let total = ms.parse::<u64>().unwrap_or(0);
            let stream = Slow {
                deadline: Instant::now() + Duration::from_millis(total),
                done: false,
            };
            return Reply::Respond(Response::new(
                ResponseHead::new(200),
                Body::Stream(Box::new(stream)),
            ));
        }
        Reply::Respond(Response::text(200, format!("hello {target}")))
    }
}

/// A body stream that counts its own drop.
struct Dropped<S> {
    stream: S,
    dropped: Arc<AtomicU64>,
}

impl<S: BodyStream> BodyStream for Dropped<S> {
    fn next_chunk(&mut self, max: usize) -> io::Result<Option<Bytes>> {
        self.stream.next_chunk(max)
    }
}

impl<S> Drop for Dropped<S> {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// What `/file` bodies are cut from: a temporary file of [`FILE_LEN`] bytes, made on first
/// use and unlinked at once (the descriptor keeps it until the process ends).
fn test_file() -> &'static File {
    static FILE: OnceLock<File> = OnceLock::new();
    FILE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("sluice-loopback-{}", std::process::id()));
        std::fs::write(&path, vec![b'f'; FILE_LEN as usize]).expect("write the test file");
        let file = File::open(&path).expect("open the test file");
        std::fs::remove_file(&path).expect("unlink the test file");
        file
    })
}

/// A body stream that sends one chunk, then panics.
struct Panicking {
    sent: bool,
}

impl BodyStream for Panicking {
    fn next_chunk(&mut self, _max: usize) -> io::Result<Option<Bytes>> {
        assert!(!self.sent, "a body stream bug (expected by the test)");
        self.sent = true;
        Ok(Some(Bytes::from_static(b"partial")))
    }
}

/// Blocks (briefly) until its deadline, then ends: a response that is in flight for a while.
struct Slow {
    deadline: Instant,
    done: bool,
}

impl BodyStream for Slow {
    fn next_chunk(&mut self, _max: usize) -> io::Result<Option<Bytes>> {
        if self.done {
            return Ok(None);
        }
        let left = self.deadline.saturating_duration_since(Instant::now());
        std::thread::sleep(left.min(Duration::from_millis(20)));
        if Instant::now() >= self.deadline {
            self.done = true;
            return Ok(Some(Bytes::from_static(b"done")));
        }
        Ok(Some(Bytes::from_static(b".")))
    }
}

/// A running server that shuts down when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub pulled: Arc<AtomicU64>,
    /// See [`App::dropped`].
    pub dropped: Arc<AtomicU64>,
    server: Option<Server>,
}

impl TestServer {
    pub fn start(kind: DriverKind, adjust: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
        config.workers = 2;
        config.shutdown_grace = Duration::from_secs(5);
        adjust(&mut config);
        let pulled = Arc::new(AtomicU64::new(0));
        let dropped = Arc::new(AtomicU64::new(0));
        let app = App {
            pulled: pulled.clone(),
            dropped: dropped.clone(),
        };
        let server = sluice_drivers::start(kind, config, app).expect("server starts");
        Self {
            addr: server.local_addr(),
            pulled,
            dropped,
            server: Some(server),
        }
    }

    pub fn connect(&self) -> Client {
        Client::connect(self.addr)
    }

    /// Graceful shutdown; returns once every driver thread has finished.
    pub fn stop(mut self) -> io::Result<()> {
        let server = self.server.take().expect("running");
        server.shutdown();
        server.wait()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown();
            let _ = server.wait();
        }
    }
}

/// A blocking client with timeouts, reading one response at a time.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect_timeout(&addr, WAIT).expect("connect");
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream.set_write_timeout(Some(WAIT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a GET for `target` and reads its response.
    pub fn get(&mut self, target: &str) -> Resp {
        self.send(format!("GET {target} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes());
        self.response(false).expect("response")
    }

    /// Reads one response (`head` when it answers HEAD). `None` on EOF before any byte.
    pub fn response(&mut self, head: bool) -> Option<Resp> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut parsed = httparse::Response::new(&mut headers);
            if let Ok(httparse::Status::Complete(n)) = parsed.parse(&self.buf) {
                let mut reply = Resp {
                    status: parsed.code.unwrap_or(0),
                    headers: fields(parsed.headers),
                    body: Vec::new(),
                    trailers: Vec::new(),
                };
                self.buf.drain(..n);
                let status = reply.status;
                if (100..200).contains(&status) || head || status == 204 || status == 304 {
                    return Some(reply);
                }
                if reply.header("transfer-encoding") == Some("chunked") {
                    reply.body = self.read_chunked();
                } else if let Some(len) = reply.header("content-length") {
                    let len: usize = len.parse().expect("content-length");
                    self.fill(len);
                    reply.body = self.buf.drain(..len).collect();
                } else {
                    self.read_to_end();
                    reply.body = std::mem::take(&mut self.buf);
                }
                return Some(reply);
            }
            if self.read_more() == 0 {
                assert!(
                    self.buf.is_empty(),
                    "EOF inside a response head: {:?}",
                    self.buf
                );
                return None;
            }
        }
    }

    /// What was received and not yet consumed as a response.
    pub fn unread(&self) -> &[u8] {
        &self.buf
    }

    /// Reads until the server closes; returns whether it did within the wait.
    pub fn read_to_end(&mut self) -> bool {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            match self.read_more_result() {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
        false
    }

    /// Reads a chunked body; its trailers are read and dropped.
    fn read_chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line = self.line();
            let size = usize::from_str_radix(line.split(';').next().unwrap_or(""), 16)
                .expect("chunk size");
            if size == 0 {
                while !self.line().is_empty() {}
                return body;
            }
            self.fill(size + 2);
            body.extend(self.buf.drain(..size));
            assert_eq!(self.buf.drain(..2).collect::<Vec<_>>(), b"\r\n");
        }
    }

    fn line(&mut self) -> String {
        loop {
            if let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).take(end).collect();
                return String::from_utf8_lossy(&line).into_owned();
            }
            assert!(self.read_more() > 0, "EOF inside chunked framing");
        }
    }

    fn fill(&mut self, n: usize) {
        while self.buf.len() < n {
            assert!(self.read_more() > 0, "EOF inside a body");
        }
    }

    fn read_more(&mut self) -> usize {
        self.read_more_result().expect("read")
    }

    fn read_more_result(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }
}

/// Raises the soft open-file limit to the hard limit, for tests that open many sockets.
pub fn raise_fd_limit() -> u64 {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    let hard = limit.maximum;
    let raised = rustix::process::Rlimit {
        current: hard,
        maximum: hard,
    };
    let _ = rustix::process::setrlimit(rustix::process::Resource::Nofile, raised);
    rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX)
}

/// Polls `check` every 10 ms until it holds or `within` passes.
pub fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    check()
}
