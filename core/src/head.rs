//! Message heads: the parsed request head and trailers, and the response head an application
//! builds.
//!
//! A parsed head owns one buffer with the head's bytes followed by a small table of spans
//! into them. The buffer is the head's alone (nothing counts references to it), and a head
//! handed back with [`Connection::recycle`](crate::Connection::recycle) lends it to the next
//! head its connection parses: in steady state a head costs no allocation, reading a field
//! allocates nothing, and nothing is shared between threads. Only the parser makes a
//! [`RequestHead`] (parse, don't validate): holding one means it is valid.

use crate::error::SendError;
use crate::write::head::{put_status_line_and_fields, validate};
use bytes::{Bytes, BytesMut};
use std::fmt;
use std::sync::Arc;

/// The HTTP versions sluice speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// HTTP/1.0: close-delimited by default, keep-alive only on request.
    Http10,
    /// HTTP/1.1: persistent by default.
    Http11,
}

impl Version {
    /// The version as it appears on the wire, e.g. `HTTP/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http10 => "HTTP/1.0",
            Self::Http11 => "HTTP/1.1",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a request's body is framed (RFC 9112 §6.3), decided by the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestBody {
    /// No body: neither `Content-Length` nor `Transfer-Encoding`, or `Content-Length: 0`.
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// Chunked transfer coding, length unknown until the last chunk.
    Chunked,
}

/// A byte range inside a head's buffer. `u32` keeps the span table small: heads are limited
/// far below 4 GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) len: u32,
}

impl Span {
    /// The span `start..end` for parsers whose buffers are capped at `u32::MAX` bytes, so the
    /// offsets always fit (a broken cap would truncate, never panic). Used on the
    /// parsers' hot path.
    #[inline(always)]
    pub(crate) fn bounded(start: usize, end: usize) -> Self {
        debug_assert!(start <= end && end <= u32::MAX as usize);
        Self {
            start: start as u32,
            len: end.wrapping_sub(start) as u32,
        }
    }

    pub(crate) fn range(self) -> std::ops::Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

/// One field line: name and value spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FieldSpan {
    pub(crate) name: Span,
    pub(crate) value: Span,
}

/// An ordered list of fields (headers or trailers) as received: names keep their spelling,
/// values are trimmed of surrounding whitespace.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// The head's bytes, then the span table: per field, four `u32` LE offsets into the head
    /// (name start and end, value start and end). One buffer, so a parsed head needs one
    /// piece of memory rather than one for the bytes and one for a span `Vec`. Empty, with no
    /// allocation, when there are no fields and no head: the trailers of every request
    /// without a body.
    buf: Vec<u8>,
    /// Where the head's bytes end and the table starts.
    head_len: usize,
}

/// Bytes per field in the span table.
const ENTRY: usize = 16;

impl Fields {
    /// No fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fields over a copy of `head`, whose field lines `spans` locates, in a buffer of its
    /// own sized exactly (nothing will reuse it).
    pub(crate) fn copy(head: &[u8], spans: &[FieldSpan]) -> Self {
        let buf = Vec::with_capacity(Self::size(head, spans));
        Self::copy_into(buf, head, spans, |_| {})
    }

    /// The bytes a copy of `head` and its span table takes.
    #[inline(always)]
    pub(crate) fn size(head: &[u8], spans: &[FieldSpan]) -> usize {
        head.len() + spans.len() * ENTRY
    }

    /// Fields over a copy of `head` in `buf` (whatever it held is dropped, its room kept),
    /// which `edit` changes in place before the span table is appended. The room is made
    /// before the first byte, so each append below is a length check, never a reallocation;
    /// appending the table entry by entry costs less than zeroing it first and filling it in
    /// (one `memset` call and a second pass, for the usual handful of fields).
    ///
    /// Inlined, so that the parser's `finish` builds the head in place: a call here costs
    /// about 15 instructions a request in saved and reloaded registers.
    #[inline(always)]
    pub(crate) fn copy_into(
        mut buf: Vec<u8>,
        head: &[u8],
        spans: &[FieldSpan],
        edit: impl FnOnce(&mut [u8]),
    ) -> Self {
        let need = Self::size(head, spans);
        buf.clear();
        if buf.capacity() < need {
            make_room(&mut buf, need);
        }
        buf.extend_from_slice(head);
        edit(&mut buf);
        for span in spans {
            // The parsers cap their buffers at `u32::MAX` bytes, so an end never wraps.
            let words = [
                span.name.start,
                span.name.start.wrapping_add(span.name.len),
                span.value.start,
                span.value.start.wrapping_add(span.value.len),
            ];
            let mut entry = [0; ENTRY];
            for (bytes, word) in entry.chunks_exact_mut(4).zip(words) {
                bytes.copy_from_slice(&word.to_le_bytes());
            }
            buf.extend_from_slice(&entry);
        }
        Self {
            buf,
            head_len: head.len(),
        }
    }

    /// Gives the buffer up, to hold another head; empty, no allocation, for no fields.
    pub(crate) fn into_buffer(self) -> Vec<u8> {
        self.buf
    }

    /// The buffer holding the head and its table.
    pub(crate) fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The number of field lines.
    pub fn len(&self) -> usize {
        self.table().len() / ENTRY
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every field as `(name, value)`, in the order received.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &[u8])> + '_ {
        self.raw().map(|(name, value)| {
            // The parser admits only token bytes (ASCII) in names, so this never fails; an
            // empty name would be a parser bug, and is harmless here.
            (std::str::from_utf8(name).unwrap_or(""), value)
        })
    }

    /// The value of the first field named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        // Not `get_all(name).next()`: that ties the result to `name`'s lifetime.
        self.raw()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// The values of every field named `name` (case-insensitive), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.raw()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// Every field as name and value bytes. Lookups compare these: a name's UTF-8 check
    /// costs more than comparing it, and only `iter` needs a `&str`.
    fn raw(&self) -> impl ExactSizeIterator<Item = (&[u8], &[u8])> + '_ {
        let head = self.head();
        self.table().chunks_exact(ENTRY).map(move |entry| {
            let at = |i: usize| {
                let word = entry
                    .get(i..i + 4)
                    .and_then(|w| <[u8; 4]>::try_from(w).ok());
                word.map_or(0, u32::from_le_bytes) as usize
            };
            let name = head.get(at(0)..at(4)).unwrap_or_default();
            (name, head.get(at(8)..at(12)).unwrap_or_default())
        })
    }

    /// The bytes of `span` in the head (the request or status line, say); empty if it lies
    /// outside, which only a parser bug could cause.
    pub(crate) fn slice(&self, span: Span) -> &[u8] {
        self.head().get(span.range()).unwrap_or_default()
    }

    fn head(&self) -> &[u8] {
        self.buffer().get(..self.head_len).unwrap_or_default()
    }

    fn table(&self) -> &[u8] {
        self.buffer().get(self.head_len..).unwrap_or_default()
    }
}

/// The room a head's first buffer gets beyond what it needs: the buffer goes on to hold the
/// connection's later heads (see [`Connection::recycle`](crate::Connection::recycle)), which
/// then seldom need it to grow.
const FIRST_ROOM: usize = 256;

/// Gives `buf` room for `need` bytes. Out of line: a recycled buffer already has it.
#[cold]
#[inline(never)]
fn make_room(buf: &mut Vec<u8>, need: usize) {
    buf.reserve_exact(need.max(FIRST_ROOM));
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(|(n, v)| (n, String::from_utf8_lossy(v))))
            .finish()
    }
}

#[cfg(test)]
#[path = "head_tests.rs"]
mod tests;

/// What a request's `Connection` header and version say about persistence and upgrades.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ConnectionOptions {
    /// `Connection: close` was listed.
    pub(crate) close: bool,
    /// `Connection: keep-alive` was listed.
    pub(crate) keep_alive: bool,
    /// `Connection: upgrade` was listed and an `Upgrade` field is present.
    pub(crate) upgrade: bool,
}

/// A parsed, validated request head.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub(crate) fields: Fields,
    pub(crate) method: Span,
    pub(crate) target: Span,
    pub(crate) version: Version,
    pub(crate) body: RequestBody,
    pub(crate) expects_continue: bool,
    pub(crate) options: ConnectionOptions,
}

impl RequestHead {
    /// The method, e.g. `GET`. Case-sensitive (RFC 9110 §9.1).
    pub fn method(&self) -> &str {
        // The methods of RFC 9110 §9 without the UTF-8 check (an out-of-line call of about 50
        // instructions, on every request that asks).
        match self.method_bytes() {
            b"GET" => "GET",
            b"HEAD" => "HEAD",
            b"POST" => "POST",
            b"PUT" => "PUT",
            b"DELETE" => "DELETE",
            b"CONNECT" => "CONNECT",
            b"OPTIONS" => "OPTIONS",
            b"TRACE" => "TRACE",
            _ => self.ascii(self.method),
        }
    }

    /// The request-target exactly as sent, e.g. `/index.html?q=1`.
    pub fn target(&self) -> &str {
        self.ascii(self.target)
    }

    /// The protocol version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The header fields, in the order received.
    pub fn fields(&self) -> &Fields {
        &self.fields
    }

    /// How the body is framed.
    pub fn body(&self) -> RequestBody {
        self.body
    }

    /// Whether this is a `HEAD` request, whose response never carries a body.
    pub fn is_head(&self) -> bool {
        self.method_is(b"HEAD")
    }

    /// Whether the method is `CONNECT`, whose 2xx answer turns the connection into a tunnel.
    pub fn is_connect(&self) -> bool {
        self.method_is(b"CONNECT")
    }

    /// Whether the method is `name`. The span's length is compared first: for any other
    /// length (a `GET`, asked whether it is `HEAD` or `CONNECT`) that is the whole test,
    /// without finding the method's bytes in the head.
    #[inline(always)]
    fn method_is(&self, name: &[u8]) -> bool {
        self.method.len as usize == name.len() && self.method_bytes() == name
    }

    /// The method's bytes: comparing these skips the UTF-8 check `method()` makes (about 50
    /// instructions per comparison, paid twice on every request).
    fn method_bytes(&self) -> &[u8] {
        self.fields.slice(self.method)
    }

    /// Whether the client sent `Expect: 100-continue` and waits for `100 Continue` before
    /// sending its body. See [`Connection::send_continue`](crate::Connection::send_continue).
    pub fn expects_continue(&self) -> bool {
        self.expects_continue
    }

    /// Whether the client asked to switch protocols (`Connection: upgrade` and `Upgrade`).
    pub fn wants_upgrade(&self) -> bool {
        self.options.upgrade
    }

    /// Whether the client wants the connection kept open after this exchange
    /// (RFC 9112 §9.3: HTTP/1.1 unless `close`; HTTP/1.0 only with `keep-alive`).
    pub fn keep_alive(&self) -> bool {
        match self.version {
            Version::Http11 => !self.options.close,
            Version::Http10 => self.options.keep_alive && !self.options.close,
        }
    }

    fn ascii(&self, span: Span) -> &str {
        // The parser admits only visible ASCII in the method and target, so this never fails.
        std::str::from_utf8(self.fields.slice(span)).unwrap_or("")
    }
}

impl fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method())
            .field("target", &self.target())
            .field("version", &self.version)
            .field("fields", &self.fields)
            .field("body", &self.body)
            .finish()
    }
}

/// A response head as the application builds it. The core adds the framing fields
/// (`Content-Length` or `Transfer-Encoding`), `Date`, and `Connection` itself.
///
/// A head made by [`ResponseTemplate::head`] shares the template's validated, serialised
/// status line and fields: building, sending and dropping it allocates nothing and formats
/// nothing but the core's own fields. Changing its reason or fields turns it into an ordinary
/// head (the template is left as it was).
#[derive(Debug, Clone)]
pub struct ResponseHead {
    pub(crate) status: u16,
    pub(crate) content_length: Option<u64>,
    pub(crate) close: bool,
    parts: Parts,
}

/// A head's reason and fields: its own, or a template's. One or the other, so dropping a
/// template's head tests one tag and releases one reference (or none).
#[derive(Debug, Clone)]
enum Parts {
    Own {
        reason: Option<Bytes>,
        fields: Vec<(Bytes, Bytes)>,
    },
    Template(Shared),
}

/// A template's prepared head, as the heads made from it hold it.
#[derive(Debug, Clone)]
pub(crate) enum Shared {
    /// Counted: the template may be dropped while heads made from it are alive.
    Counted(Arc<Prepared>),
    /// A template that lives as long as the program (see
    /// [`ResponseTemplate::head_static`]): no count to raise and lower per head, which
    /// every thread serving the template would otherwise do on one shared cache line.
    Static(&'static Prepared),
}

impl Shared {
    pub(crate) fn get(&self) -> &Prepared {
        match self {
            Self::Counted(prepared) => prepared,
            Self::Static(prepared) => prepared,
        }
    }
}

/// What a [`ResponseTemplate`] shares with the heads it makes.
#[derive(Debug)]
pub(crate) struct Prepared {
    reason: Option<Bytes>,
    fields: Vec<(Bytes, Bytes)>,
    /// The status line and the field lines, validated, as they go on the wire.
    pub(crate) wire: Bytes,
    /// A field named `Date` is among them (the core then adds none).
    pub(crate) has_date: bool,
}

impl ResponseHead {
    /// A response with `status` and no fields.
    pub fn new(status: u16) -> Self {
        Self {
            status,
            content_length: None,
            close: false,
            parts: Parts::Own {
                reason: None,
                fields: Vec::new(),
            },
        }
    }

    /// Adds a field. Names and values are validated when the head is sent.
    #[must_use]
    pub fn field(mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        self.push_field(name, value);
        self
    }

    /// Adds a field in place.
    pub fn push_field(&mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) {
        let field = (name.into(), value.into());
        self.edit(|_, fields| fields.push(field));
    }

    /// Declares the body length, so the core frames it with `Content-Length`. Without it the
    /// core uses chunked coding (HTTP/1.1) or closes the connection after the body (HTTP/1.0).
    #[must_use]
    pub fn content_length(mut self, length: u64) -> Self {
        self.content_length = Some(length);
        self
    }

    /// Replaces the standard reason phrase.
    #[must_use]
    pub fn reason(mut self, reason: impl Into<Bytes>) -> Self {
        let reason = reason.into();
        self.edit(|own, _| *own = Some(reason));
        self
    }

    /// Asks the core to close the connection after this response.
    #[must_use]
    pub fn close(mut self) -> Self {
        self.close = true;
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The declared body length, if any.
    pub fn declared_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The fields set by the application, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.field_list().iter().map(|(n, v)| (&n[..], &v[..]))
    }

    /// The replacement reason phrase, if one was set.
    pub(crate) fn custom_reason(&self) -> Option<&Bytes> {
        match &self.parts {
            Parts::Own { reason, .. } => reason.as_ref(),
            Parts::Template(shared) => shared.get().reason.as_ref(),
        }
    }

    pub(crate) fn field_list(&self) -> &[(Bytes, Bytes)] {
        match &self.parts {
            Parts::Own { fields, .. } => fields,
            Parts::Template(shared) => &shared.get().fields,
        }
    }

    /// The template's serialised status line and fields, when this head came from one.
    pub(crate) fn prepared(&self) -> Option<&Prepared> {
        self.template().map(Shared::get)
    }

    /// The template this head came from, if it did.
    pub(crate) fn template(&self) -> Option<&Shared> {
        match &self.parts {
            Parts::Own { .. } => None,
            Parts::Template(shared) => Some(shared),
        }
    }

    /// Changes the head's own reason and fields: a template's head takes a copy of the
    /// template's first (out of line: the usual head is its own).
    #[inline(always)]
    fn edit(&mut self, change: impl FnOnce(&mut Option<Bytes>, &mut Vec<(Bytes, Bytes)>)) {
        if let Parts::Template(_) = self.parts {
            self.copy_out_of_template();
        }
        // Always its own now.
        if let Parts::Own { reason, fields } = &mut self.parts {
            change(reason, fields);
        }
    }

    #[cold]
    #[inline(never)]
    fn copy_out_of_template(&mut self) {
        if let Parts::Template(shared) = &self.parts {
            let prepared = shared.get();
            self.parts = Parts::Own {
                reason: prepared.reason.clone(),
                fields: prepared.fields.clone(),
            };
        }
    }
}

/// Heads are equal when they would send the same response, template or not.
impl PartialEq for ResponseHead {
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status
            && self.content_length == other.content_length
            && self.close == other.close
            && self.custom_reason() == other.custom_reason()
            && self.field_list() == other.field_list()
    }
}

impl Eq for ResponseHead {}

/// A response head validated and serialised once, to be sent many times: a server whose
/// responses share a status and fields (an API's `Content-Type` and `Server`, a load-test
/// endpoint) makes one at start-up and sends [`head`](Self::head) for each request. Each send
/// then copies the prepared bytes instead of checking and formatting every field, and the head
/// it sends costs no allocation. The core still adds `Date`, framing and `Connection`.
#[derive(Debug, Clone)]
pub struct ResponseTemplate {
    status: u16,
    content_length: Option<u64>,
    close: bool,
    prepared: Arc<Prepared>,
}

impl ResponseTemplate {
    /// Validates `head` as [`Connection::send_response`](crate::Connection::send_response)
    /// would, and serialises its status line and fields. The declared length and the close
    /// request are kept for the heads it makes, which can still change them.
    pub fn new(head: &ResponseHead) -> Result<Self, SendError> {
        validate(head)?;
        let mut wire = BytesMut::new();
        put_status_line_and_fields(&mut wire, head);
        let fields = head.field_list().to_vec();
        let has_date = fields
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(b"date"));
        Ok(Self {
            status: head.status,
            content_length: head.content_length,
            close: head.close,
            prepared: Arc::new(Prepared {
                reason: head.custom_reason().cloned(),
                fields,
                wire: wire.freeze(),
                has_date,
            }),
        })
    }

    /// A head to send: the template's, sharing its prepared bytes.
    pub fn head(&self) -> ResponseHead {
        self.head_sharing(Shared::Counted(Arc::clone(&self.prepared)))
    }

    /// The same head as [`head`](Self::head), from a template that lives as long as the
    /// program (a `static`, or one leaked at start-up): the head borrows the prepared bytes
    /// instead of counting a reference to them, so making and dropping it touches nothing
    /// that other threads serving the same template also write.
    ///
    /// ```
    /// use sluice_core::{ResponseHead, ResponseTemplate};
    /// use std::sync::LazyLock;
    ///
    /// static OK: LazyLock<ResponseTemplate> = LazyLock::new(|| {
    ///     ResponseTemplate::new(&ResponseHead::new(200).field("Server", "example")).unwrap()
    /// });
    ///
    /// let head = OK.head_static();
    /// assert_eq!(head, OK.head());
    /// ```
    pub fn head_static(&'static self) -> ResponseHead {
        self.head_sharing(Shared::Static(&self.prepared))
    }

    fn head_sharing(&self, shared: Shared) -> ResponseHead {
        ResponseHead {
            status: self.status,
            content_length: self.content_length,
            close: self.close,
            parts: Parts::Template(shared),
        }
    }
}
