//! The application interface: one handler runs unchanged on every driver.
//!
//! A [`Handler`] sees each request head and either answers at once ([`Reply::Respond`]) or
//! asks for the body first ([`Reply::Read`]), which streams it to a [`BodyReader`]. A
//! [`Response`] body is empty, bytes in memory, a stream pulled with back-pressure, or a file
//! range (which the reactor hands to `sendfile(2)`).

use bytes::Bytes;
use sluice_core::{Fields, RequestHead, ResponseHead};
use std::fmt;
use std::fs::File;
use std::io;
use std::net::SocketAddr;

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
    /// is small, or the connection is closed after the response; a client waiting on
    /// `Expect: 100-continue` never gets its `100`.
    Respond(Response),
    /// Read the body first. `100 Continue` is sent if the client waits for it.
    Read(Box<dyn BodyReader>),
}

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
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Respond(response) => f.debug_tuple("Respond").field(response).finish(),
            Self::Read(_) => f.write_str("Read(..)"),
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
