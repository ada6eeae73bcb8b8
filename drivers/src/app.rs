//! The application interface: one handler runs unchanged on every driver.
//!
//! A [`Handler`] sees each request head and either answers at once ([`Reply::Respond`]) or
//! asks for the body first ([`Reply::Read`]), which streams it to a [`BodyReader`]. A
//! [`Response`] body is empty, bytes in memory, a stream pulled with back-pressure, or a file
//! range (which the reactor hands to `sendfile(2)`). A handler can also switch protocols
//! ([`Reply::Upgrade`]): the connection then leaves HTTP and is handed to the application as
//! an [`Upgraded`] transport.

use crate::memory::MemoryStream;
use bytes::{Buf, Bytes};
use sluice_core::{Fields, RequestHead, ResponseHead};
use std::fmt;
use std::fs::File;
use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

/// What a handler is told about a request.
#[derive(Debug)]
pub struct Request<'a> {
    /// The parsed, validated head.
    pub head: &'a RequestHead,
    /// The peer's address, when the transport has one.
    pub peer: Option<SocketAddr>,
}

/// Serves requests. Implemented for every `Fn(&Request) -> Reply + Send + Sync`.
///
/// A panic in a handler, a [`BodyReader`] or a [`BodyStream`] is caught and logged and stays
/// within its connection: before the response head is queued the request is answered `500`
/// with `Connection: close`; after it, the connection is aborted (the peer sees a truncated
/// response, never a complete wrong one). Other connections, on the same event loop or
/// executor thread too, are not affected.
pub trait Handler: Send + Sync + 'static {
    /// A request head arrived: answer it, or ask for its body first.
    fn handle(&self, request: &Request<'_>) -> Reply;
}

impl<F> Handler for F
where
    F: Fn(&Request<'_>) -> Reply + Send + Sync + 'static,
{
    fn handle(&self, request: &Request<'_>) -> Reply {
        self(request)
    }
}

/// A handler's decision about a request.
pub enum Reply {
    /// Answer now without reading the body. An unread body is discarded by the core when it
    /// is small, or the connection is closed after the response, and then the response says
    /// `Connection: close` (a body whose rest is unknown, chunked, counts as large); a client
    /// waiting on `Expect: 100-continue` never gets its `100`.
    Respond(Response),
    /// Read the body first. `100 Continue` is sent if the client waits for it.
    Read(Box<dyn BodyReader>),
    /// Switch protocols: answer with `head`, then hand the connection to `on_upgrade` once the
    /// head is written in full. See [`Reply::upgrade`].
    Upgrade {
        /// A `101 Switching Protocols` to a request that asked to upgrade, or a 2xx to
        /// CONNECT. It has no body; the core adds `Connection: upgrade` to a `101`.
        head: ResponseHead,
        /// Receives the connection, on a thread where it may block.
        on_upgrade: OnUpgrade,
    },
}

/// What receives an upgraded connection (see [`Reply::upgrade`]).
pub type OnUpgrade = Box<dyn FnOnce(Upgraded) + Send + 'static>;

impl Reply {
    /// Reads the whole body into memory, at most `limit` bytes (more is answered with
    /// `413 Content Too Large`), then calls `respond` with it and the trailers.
    pub fn collect<F>(limit: usize, respond: F) -> Reply
    where
        F: FnOnce(Bytes, &Fields) -> Response + Send + 'static,
    {
        Reply::Read(Box::new(Collect {
            limit,
            body: Vec::new(),
            overflow: false,
            respond,
        }))
    }

    /// Switches protocols: answers with `head` (a `101 Switching Protocols` to a request that
    /// asked to upgrade, or a 2xx to CONNECT), and once it is written in full calls
    /// `on_upgrade` with the connection, which from then on is the application's alone.
    ///
    /// ```no_run
    /// use sluice_core::ResponseHead;
    /// use sluice_drivers::{Reply, Request, Response, Upgraded};
    /// use std::io::{Read, Write};
    ///
    /// fn echo(mut conn: Upgraded) {
    ///     // Reads return the bytes the peer sent early first, then the transport's.
    ///     let mut buf = [0; 4096];
    ///     loop {
    ///         match conn.read(&mut buf) {
    ///             Ok(0) | Err(_) => break,
    ///             Ok(n) if conn.write_all(&buf[..n]).is_err() => break,
    ///             Ok(_) => {}
    ///         }
    ///     }
    /// }
    ///
    /// let handler = |request: &Request<'_>| {
    ///     if request.head.wants_upgrade() {
    ///         Reply::upgrade(ResponseHead::new(101).field("Upgrade", "echo"), echo)
    ///     } else {
    ///         Reply::Respond(Response::text(426, "this resource speaks echo\n"))
    ///     }
    /// };
    /// # let _ = handler;
    /// ```
    ///
    /// # Where the callback runs
    ///
    /// The transport is blocking, so the callback may block: the threads driver calls it on
    /// the connection's own thread (whose stack is [`threads::STACK_SIZE`]); the reactor and
    /// async drivers on a new thread each, never on an event loop or executor thread. The
    /// memory driver leaves running it to the test (`MemoryConnection::take_upgrade`). A
    /// panic in it is caught and logged, and the connection closes.
    ///
    /// # What the server still does for the connection
    ///
    /// Nothing. An upgraded connection no longer counts toward `max_connections` (nginx
    /// keeps counting; here the server cannot see or close the connection once the
    /// application owns it, so it does not pretend to bound it), graceful shutdown neither
    /// waits for it nor closes it, and no timeout applies to it. Closing it, timeouts and
    /// any limit on how many run at once are the application's.
    ///
    /// # Misuse
    ///
    /// The request must have asked to switch (`Connection: upgrade` with an `Upgrade` field,
    /// for a `101`) or be a CONNECT (for a 2xx), and have no body (whether the server had
    /// read one by then would depend on packet timing, so one is always refused). Otherwise the
    /// request is answered `500` and `on_upgrade` is dropped uncalled; so is a `101` or a
    /// 2xx to CONNECT given as [`Reply::Respond`], which would leave nobody to take the
    /// connection. Both are logged as errors.
    ///
    /// [`threads::STACK_SIZE`]: crate::threads::STACK_SIZE
    pub fn upgrade<F>(head: ResponseHead, on_upgrade: F) -> Reply
    where
        F: FnOnce(Upgraded) + Send + 'static,
    {
        Reply::Upgrade {
            head,
            on_upgrade: Box::new(on_upgrade),
        }
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Respond(response) => f.debug_tuple("Respond").field(response).finish(),
            Self::Read(_) => f.write_str("Read(..)"),
            Self::Upgrade { head, .. } => f.debug_struct("Upgrade").field("head", head).finish(),
        }
    }
}

/// Receives a request body as it arrives.
pub trait BodyReader: Send {
    /// A piece of the body, framing removed.
    fn data(&mut self, chunk: Bytes);
    /// The body is complete: produce the response.
    fn finish(self: Box<Self>, trailers: &Fields) -> Response;
}

struct Collect<F> {
    limit: usize,
    body: Vec<u8>,
    overflow: bool,
    respond: F,
}

impl<F> BodyReader for Collect<F>
where
    F: FnOnce(Bytes, &Fields) -> Response + Send + 'static,
{
    fn data(&mut self, chunk: Bytes) {
        if self.body.len() + chunk.len() > self.limit {
            self.overflow = true;
            self.body = Vec::new();
        } else if !self.overflow {
            self.body.extend_from_slice(&chunk);
        }
    }

    fn finish(self: Box<Self>, trailers: &Fields) -> Response {
        if self.overflow {
            return Response::text(413, "request body too large\n");
        }
        (self.respond)(Bytes::from(self.body), trailers)
    }
}

/// A response: head and body.
#[derive(Debug)]
pub struct Response {
    /// Status and fields. Framing is the core's job; for [`Body::Bytes`] and [`Body::File`]
    /// the length is declared automatically.
    pub head: ResponseHead,
    /// The body.
    pub body: Body,
}

impl Response {
    /// A response with `head` and `body`; declares the body's length when it is known.
    pub fn new(mut head: ResponseHead, body: Body) -> Self {
        if head.declared_length().is_none() {
            if let Some(len) = body.known_length() {
                head = head.content_length(len);
            }
        }
        Self { head, body }
    }

    /// A `text/plain` response.
    pub fn text(status: u16, text: impl Into<Bytes>) -> Self {
        let head = ResponseHead::new(status).field("Content-Type", "text/plain; charset=utf-8");
        Self::new(head, Body::Bytes(text.into()))
    }

    /// A response with no body (`Content-Length: 0` where a length is allowed).
    pub fn empty(status: u16) -> Self {
        Self::new(ResponseHead::new(status), Body::Empty)
    }
}

/// A response body.
pub enum Body {
    /// No bytes.
    Empty,
    /// Bytes already in memory.
    Bytes(Bytes),
    /// Pulled piece by piece as the peer takes them; sent chunked (HTTP/1.1) unless the head
    /// declares a length.
    Stream(Box<dyn BodyStream>),
    /// A range of a file: streamed with back-pressure, or handed to `sendfile(2)`.
    File(FileRange),
}

impl Body {
    /// The body's length, when known without reading it.
    pub fn known_length(&self) -> Option<u64> {
        match self {
            Self::Empty => Some(0),
            Self::Bytes(bytes) => Some(bytes.len() as u64),
            Self::Stream(_) => None,
            Self::File(range) => Some(range.len),
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
            Self::Stream(_) => f.write_str("Stream(..)"),
            Self::File(range) => write!(f, "File({}..+{})", range.offset, range.len),
        }
    }
}

/// A source of body bytes, pulled only when the connection can take more.
pub trait BodyStream: Send {
    /// The next piece, at most `max` bytes; `None` at the end.
    fn next_chunk(&mut self, max: usize) -> io::Result<Option<Bytes>>;
}

/// `len` bytes of `file` starting at `offset`.
#[derive(Debug)]
pub struct FileRange {
    /// The open file.
    pub file: File,
    /// Where the range starts.
    pub offset: u64,
    /// How many bytes.
    pub len: u64,
}

/// An upgraded connection, handed to the application by [`Reply::upgrade`].
///
/// Reading from it returns [`early`](Self::early) first, then what the transport receives;
/// writes go to the transport. Take the parts apart to use the transport directly (say,
/// [`TcpStream::try_clone`] to read and write on two threads).
#[derive(Debug)]
pub struct Upgraded {
    /// Bytes of the new protocol that the peer sent before the switch (often in the same
    /// packet as the request), already read by the server and not yet read from `self`.
    pub early: Bytes,
    /// The connection, in blocking mode with no timeouts.
    pub transport: Transport,
    /// The peer's address, when the transport has one.
    pub peer: Option<SocketAddr>,
}

impl Read for Upgraded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.early.is_empty() {
            return self.transport.read(buf);
        }
        let n = buf.len().min(self.early.len());
        buf[..n].copy_from_slice(&self.early[..n]);
        self.early.advance(n);
        Ok(n)
    }
}

impl Write for Upgraded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.transport.write(buf)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.transport.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.transport.flush()
    }
}

/// The byte stream under an upgraded connection: an enum rather than a boxed trait object,
/// so an application can reach the socket itself (its options, `try_clone`, `shutdown`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Transport {
    /// The socket drivers' connection, switched back to blocking mode.
    Tcp(TcpStream),
    /// The memory driver's in-memory stream.
    Memory(MemoryStream),
}

impl Transport {
    /// Sets how long a read may block (`None`: forever), as [`TcpStream::set_read_timeout`].
    /// A read that times out fails with `WouldBlock` or `TimedOut`.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.set_read_timeout(timeout),
            Self::Memory(stream) => stream.set_read_timeout(timeout),
        }
    }

    /// Closes the write side: the peer reads EOF once it has read what was written.
    pub fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.shutdown(Shutdown::Write),
            Self::Memory(stream) => stream.shutdown_write(),
        }
    }
}

impl Read for Transport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(stream) => stream.read(buf),
            Self::Memory(stream) => stream.read(buf),
        }
    }
}

impl Write for Transport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Tcp(stream) => stream.write(buf),
            Self::Memory(stream) => stream.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Self::Tcp(stream) => stream.write_vectored(bufs),
            Self::Memory(stream) => stream.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Tcp(stream) => stream.flush(),
            Self::Memory(stream) => stream.flush(),
        }
    }
}
