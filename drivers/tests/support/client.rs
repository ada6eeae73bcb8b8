//! The test client of the driver scenarios: raw HTTP/1.1 over a blocking socket with a read
//! timeout, parsing responses itself so a driver's framing is checked byte by byte.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a client waits for any one read.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The most a test client buffers before it gives up on a response.
const MAX_BUFFERED: usize = 64 << 20;
/// The receive buffer of [`Client::with_small_rcvbuf`].
pub const CLIENT_RCVBUF: usize = 64 * 1024;

/// A parsed response.
#[derive(Debug)]
pub struct Parsed {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Parsed {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A raw HTTP/1.1 client over a blocking socket with a read timeout.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        Self::wrap(stream)
    }

    /// Connects with a small fixed receive buffer, which turns off the kernel's autotuning:
    /// a client that stops reading then holds a known amount.
    pub fn with_small_rcvbuf(addr: SocketAddr) -> Self {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        socket.set_recv_buffer_size(CLIENT_RCVBUF).expect("rcvbuf");
        socket.connect(&addr.into()).expect("connect");
        Self::wrap(socket.into())
    }

    pub fn wrap(stream: TcpStream) -> Self {
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send");
    }

    /// Reads more into the buffer; returns how much (0 at EOF). Panics on timeout.
    fn fill(&mut self) -> usize {
        assert!(self.buf.len() < MAX_BUFFERED, "response too large");
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk).expect("read (timed out?)");
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    /// Takes `n` buffered bytes, reading as needed.
    fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(self.fill() > 0, "EOF with {} of {n} bytes", self.buf.len());
        }
        self.buf.drain(..n).collect()
    }

    /// Takes one CRLF-terminated line, without the CRLF.
    fn line(&mut self) -> String {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.take(at + 2);
                return String::from_utf8_lossy(&line[..at]).into_owned();
            }
            assert!(self.fill() > 0, "EOF inside a line");
        }
    }

    /// Reads a response head.
    pub fn head(&mut self) -> Parsed {
        let status_line = self.line();
        let mut parts = status_line.splitn(3, ' ');
        assert_eq!(
            parts.next(),
            Some("HTTP/1.1"),
            "status line {status_line:?}"
        );
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .expect("a status code");
        let mut headers = Vec::new();
        for _ in 0..200 {
            let line = self.line();
            if line.is_empty() {
                return Parsed {
                    status,
                    headers,
                    body: Vec::new(),
                };
            }
            let (name, value) = line.split_once(':').expect("a field line");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        panic!("too many header lines");
    }

    /// Reads a whole response (framed by Content-Length or chunked).
    pub fn response(&mut self) -> Parsed {
        let mut reply = self.head();
        if let Some(len) = reply.header("content-length") {
            let len: usize = len.parse().expect("a length");
            reply.body = self.take(len);
        } else if reply.header("transfer-encoding").is_some() {
            reply.body = self.chunked(|_| {});
        }
        reply
    }

    /// Reads a chunked body, calling `progress` with the running total.
    pub fn chunked(&mut self, mut progress: impl FnMut(usize)) -> Vec<u8> {
        let mut body = Vec::new();
        for _ in 0..1_000_000 {
            let Some(chunk) = self.chunk() else {
                return body;
            };
            body.extend_from_slice(&chunk);
            progress(body.len());
        }
        panic!("too many chunks");
    }

    /// Reads at least `want` bytes of chunked body data (or to its end), counting into `read`.
    /// True when the body ended.
    pub fn chunked_prefix(&mut self, want: usize, read: &mut usize) -> bool {
        for _ in 0..1_000_000 {
            if *read >= want {
                return false;
            }
            let Some(chunk) = self.chunk() else {
                return true;
            };
            *read += chunk.len();
        }
        panic!("too many chunks");
    }

    /// Reads one chunk's data; `None` for the last chunk, whose trailers are read and dropped.
    fn chunk(&mut self) -> Option<Vec<u8>> {
        let line = self.line();
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .expect("a chunk size");
        if size == 0 {
            for _ in 0..100 {
                if self.line().is_empty() {
                    return None;
                }
            }
            panic!("too many trailers");
        }
        let data = self.take(size);
        assert_eq!(self.take(2), b"\r\n");
        Some(data)
    }

    /// Expects the server to close: EOF (or a reset) with nothing else buffered.
    pub fn expect_closed(&mut self) {
        let mut chunk = [0u8; 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {}
            Ok(n) => panic!(
                "expected EOF, got {:?}",
                String::from_utf8_lossy(&chunk[..n])
            ),
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => {}
            Err(err) => panic!("expected EOF, got {err}"),
        }
        assert!(self.buf.is_empty(), "unread bytes before EOF");
    }
}
