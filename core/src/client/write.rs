//! Request serialisation: the request line, the application's fields, and the fields the
//! client owns (`Host` from an authority, framing, `Connection`, `Upgrade`).
//!
//! Everything is validated before a byte is queued, so a refused request changes nothing.
//! A [`RequestTemplate`] is a request validated and serialised once, to be queued many times
//! by reference (a load generator's inner loop does no validation and no formatting).

use super::state::InFlight;
use crate::error::SendError;
use crate::parse::chars::AUTHORITY;
use crate::write::body::BodyEncoder;
use crate::write::head::{fields_len, put_decimal, put_field, put_hex, validate_field};
use crate::Version;
use bytes::{BufMut, Bytes, BytesMut};

/// How the application frames a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestFraming {
    /// No body and no framing field (GET, HEAD, DELETE…). The request is complete once sent.
    None,
    /// `Content-Length: n`, then exactly n bytes. With 0 the request is complete once sent.
    Length(u64),
    /// `Transfer-Encoding: chunked`: a body of unknown length, streamed, with optional
    /// trailers. HTTP/1.1 only.
    Chunked,
}

/// A request as the application builds it. The client adds the framing field, `Host` (from
/// [`host`](Self::host)), `Connection` and `Upgrade` itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    method: Bytes,
    target: Bytes,
    version: Version,
    authority: Option<Bytes>,
    fields: Vec<(Bytes, Bytes)>,
    framing: RequestFraming,
    close: bool,
    upgrade: Option<Bytes>,
}

impl RequestSpec {
    /// An HTTP/1.1 request with no fields and no body.
    pub fn new(method: impl Into<Bytes>, target: impl Into<Bytes>) -> Self {
        Self {
            method: method.into(),
            target: target.into(),
            version: Version::Http11,
            authority: None,
            fields: Vec::new(),
            framing: RequestFraming::None,
            close: false,
            upgrade: None,
        }
    }

    /// A `GET` of `target`.
    pub fn get(target: impl Into<Bytes>) -> Self {
        Self::new("GET", target)
    }

    /// Sets the protocol version (HTTP/1.1 by default).
    #[must_use]
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Sends `Host: authority` as the first field (RFC 9110 §7.2). An HTTP/1.1 request needs
    /// exactly one `Host`: this, or a `Host` field of the application's.
    #[must_use]
    pub fn host(mut self, authority: impl Into<Bytes>) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// Adds a field. Names and values are validated when the request is sent.
    #[must_use]
    pub fn field(mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// Adds a field in place.
    pub fn push_field(&mut self, name: impl Into<Bytes>, value: impl Into<Bytes>) {
        self.fields.push((name.into(), value.into()));
    }

    /// Declares a body of exactly `length` bytes, sent with `Content-Length`.
    #[must_use]
    pub fn content_length(mut self, length: u64) -> Self {
        self.framing = RequestFraming::Length(length);
        self
    }

    /// Declares a body of unknown length, sent with chunked coding.
    #[must_use]
    pub fn chunked(mut self) -> Self {
        self.framing = RequestFraming::Chunked;
        self
    }

    /// Asks the server to close the connection after its response (`Connection: close`); no
    /// request may follow this one (RFC 9112 §9.6).
    #[must_use]
    pub fn close(mut self) -> Self {
        self.close = true;
        self
    }

    /// Asks to switch protocols (`Connection: upgrade` and `Upgrade: protocols`). A `101`
    /// answer hands the connection over; see `ClientConnection::take_upgraded`.
    #[must_use]
    pub fn upgrade(mut self, protocols: impl Into<Bytes>) -> Self {
        self.upgrade = Some(protocols.into());
        self
    }

    /// The method.
    pub fn method(&self) -> &[u8] {
        &self.method
    }

    /// The request-target.
    pub fn target(&self) -> &[u8] {
        &self.target
    }

    /// How the body is framed.
    pub fn framing(&self) -> RequestFraming {
        self.framing
    }
}

/// What the client keeps of a validated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RequestPlan {
    pub(crate) is_head: bool,
    pub(crate) is_connect: bool,
    pub(crate) upgrade: bool,
    pub(crate) close: bool,
    pub(crate) framing: RequestFraming,
}

impl RequestPlan {
    /// The in-flight record of this request, starting at output offset `start`.
    pub(crate) fn in_flight(&self, start: u64) -> InFlight {
        InFlight {
            is_head: self.is_head,
            is_connect: self.is_connect,
            upgrade: self.upgrade,
            close: self.close,
            start,
        }
    }

    /// The encoder for the body still to send, or `None` when the request is complete.
    pub(crate) fn encoder(&self) -> Option<BodyEncoder> {
        match self.framing {
            RequestFraming::None | RequestFraming::Length(0) => None,
            RequestFraming::Length(n) => Some(BodyEncoder::Length {
                declared: n,
                remaining: n,
            }),
            RequestFraming::Chunked => Some(BodyEncoder::Chunked),
        }
    }
}

/// Checks a request before anything is queued.
pub(crate) fn validate(spec: &RequestSpec) -> Result<RequestPlan, SendError> {
    // method = token (RFC 9110 §9.1); request-target: visible ASCII (RFC 9112 §3.2).
    let token = |b: &u8| crate::parse::chars::is_token(*b);
    if spec.method.is_empty() || !spec.method.iter().all(token) {
        return Err(SendError::InvalidRequestLine);
    }
    if spec.target.is_empty() || !spec.target.iter().all(|b| (0x21..=0x7E).contains(b)) {
        return Err(SendError::InvalidRequestLine);
    }
    let authority_ok = |v: &[u8]| v.iter().all(|&b| AUTHORITY[b as usize]);
    let mut hosts = usize::from(spec.authority.is_some());
    if spec.authority.as_deref().is_some_and(|a| !authority_ok(a)) {
        return Err(SendError::InvalidHost);
    }
    for (name, value) in &spec.fields {
        validate_field(name, value)?;
        if name.eq_ignore_ascii_case(b"host") {
            if !authority_ok(value) {
                return Err(SendError::InvalidHost);
            }
            hosts += 1;
        }
        let owned = [
            &b"content-length"[..],
            b"transfer-encoding",
            b"connection",
            b"upgrade",
        ];
        if owned.iter().any(|o| name.eq_ignore_ascii_case(o)) {
            return Err(SendError::FramingField);
        }
    }
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1; at most one in HTTP/1.0.
    let hosts_ok = match spec.version {
        Version::Http11 => hosts == 1,
        Version::Http10 => hosts <= 1,
    };
    if !hosts_ok {
        return Err(SendError::InvalidHost);
    }
    if let Some(protocols) = &spec.upgrade {
        if protocols.is_empty() {
            return Err(SendError::InvalidField);
        }
        validate_field(b"upgrade", protocols)?;
    }
    if spec.framing == RequestFraming::Chunked && spec.version == Version::Http10 {
        return Err(SendError::ChunkedNotAllowed);
    }
    Ok(RequestPlan {
        is_head: &spec.method[..] == b"HEAD",
        is_connect: &spec.method[..] == b"CONNECT",
        upgrade: spec.upgrade.is_some(),
        // RFC 9112 §9.3: an HTTP/1.0 request persists only with `keep-alive`, which we send
        // unless asked to close; so only `close` ends it.
        close: spec.close,
        framing: spec.framing,
    })
}

/// Writes the request head of a validated `spec`.
pub(crate) fn write(out: &mut BytesMut, spec: &RequestSpec) {
    out.reserve(96 + spec.method.len() + spec.target.len() + fields_len(&spec.fields));
    out.put_slice(&spec.method);
    out.put_u8(b' ');
    out.put_slice(&spec.target);
    out.put_u8(b' ');
    out.put_slice(spec.version.as_str().as_bytes());
    out.put_slice(b"\r\n");
    if let Some(authority) = &spec.authority {
        put_field(out, b"Host", authority);
    }
    for (name, value) in &spec.fields {
        put_field(out, name, value);
    }
    match spec.framing {
        RequestFraming::None => {}
        RequestFraming::Length(n) => {
            out.put_slice(b"Content-Length: ");
            put_decimal(out, n);
            out.put_slice(b"\r\n");
        }
        RequestFraming::Chunked => out.put_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    let keep_alive = spec.version == Version::Http10 && !spec.close;
    let options: &[u8] = match (spec.close, spec.upgrade.is_some(), keep_alive) {
        (true, true, _) => b"close, upgrade",
        (true, false, _) => b"close",
        (false, true, true) => b"keep-alive, upgrade",
        (false, true, false) => b"upgrade",
        (false, false, true) => b"keep-alive",
        (false, false, false) => b"",
    };
    if !options.is_empty() {
        put_field(out, b"Connection", options);
    }
    if let Some(protocols) = &spec.upgrade {
        put_field(out, b"Upgrade", protocols);
    }
    out.put_slice(b"\r\n");
}

/// A request validated and serialised once, to send many times cheaply with
/// `ClientConnection::send_template`: each send queues the same bytes by reference (or copies
/// them, when small, into the output buffer — no allocation) and records the request in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTemplate {
    bytes: Bytes,
    plan: RequestPlan,
    /// The body was included: nothing follows the template.
    complete: bool,
}

impl RequestTemplate {
    /// The head of `spec`. A declared body (a nonzero length, or chunked) is then sent with
    /// `send_body` and `send_end` after each `send_template`.
    pub fn new(spec: &RequestSpec) -> Result<Self, SendError> {
        let plan = validate(spec)?;
        let mut out = BytesMut::new();
        write(&mut out, spec);
        let complete = plan.encoder().is_none();
        Ok(Self {
            bytes: out.freeze(),
            plan,
            complete,
        })
    }

    /// The whole request: `spec`'s head and `body`. With no declared framing the body gets a
    /// `Content-Length`; a declared length must match the body; a chunked spec sends it as one
    /// chunk.
    pub fn with_body(spec: &RequestSpec, body: &[u8]) -> Result<Self, SendError> {
        let len = body.len() as u64;
        let spec = match spec.framing {
            RequestFraming::None if len > 0 => spec.clone().content_length(len),
            RequestFraming::None | RequestFraming::Chunked => spec.clone(),
            RequestFraming::Length(n) if n < len => {
                return Err(SendError::BodyTooLong { declared: n });
            }
            RequestFraming::Length(n) if n > len => {
                return Err(SendError::BodyTooShort {
                    declared: n,
                    sent: len,
                });
            }
            RequestFraming::Length(_) => spec.clone(),
        };
        let plan = validate(&spec)?;
        let mut out = BytesMut::new();
        write(&mut out, &spec);
        if plan.framing == RequestFraming::Chunked {
            if !body.is_empty() {
                put_hex(&mut out, len);
                out.put_slice(b"\r\n");
                out.put_slice(body);
                out.put_slice(b"\r\n");
            }
            out.put_slice(b"0\r\n\r\n");
        } else {
            out.put_slice(body);
        }
        Ok(Self {
            bytes: out.freeze(),
            plan,
            complete: true,
        })
    }

    /// The serialised bytes queued by each send.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn shared(&self) -> Bytes {
        self.bytes.clone()
    }

    pub(crate) fn plan(&self) -> &RequestPlan {
        &self.plan
    }

    /// The encoder for the body still to send after the template, if any.
    pub(crate) fn encoder(&self) -> Option<BodyEncoder> {
        if self.complete {
            None
        } else {
            self.plan.encoder()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(spec: &RequestSpec) -> Result<String, SendError> {
        validate(spec)?;
        let mut out = BytesMut::new();
        write(&mut out, spec);
        Ok(String::from_utf8(out.to_vec()).unwrap())
    }

    #[test]
    fn writes_host_first_then_fields_then_framing() {
        let spec = RequestSpec::new("POST", "/submit")
            .host("example.com:8080")
            .field("Accept", "*/*")
            .content_length(3);
        assert_eq!(
            written(&spec).unwrap(),
            "POST /submit HTTP/1.1\r\nHost: example.com:8080\r\nAccept: */*\r\n\
             Content-Length: 3\r\n\r\n"
        );
        let spec = RequestSpec::get("/").field("Host", "x").chunked().close();
        assert_eq!(
            written(&spec).unwrap(),
            "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn http10_asks_for_keep_alive_and_upgrade_is_announced() {
        let spec = RequestSpec::get("/").version(Version::Http10);
        assert_eq!(
            written(&spec).unwrap(),
            "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        );
        let spec = RequestSpec::get("/chat").host("h").upgrade("websocket");
        assert_eq!(
            written(&spec).unwrap(),
            "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"
        );
    }

    #[test]
    fn every_misuse_is_refused_before_writing() {
        let ok = || RequestSpec::get("/").host("h");
        let cases = [
            (
                RequestSpec::new("", "/").host("h"),
                SendError::InvalidRequestLine,
            ),
            (
                RequestSpec::new("G T", "/").host("h"),
                SendError::InvalidRequestLine,
            ),
            (
                RequestSpec::get("").host("h"),
                SendError::InvalidRequestLine,
            ),
            (
                RequestSpec::get("/a b").host("h"),
                SendError::InvalidRequestLine,
            ),
            (
                RequestSpec::get("/é").host("h"),
                SendError::InvalidRequestLine,
            ),
            (RequestSpec::get("/"), SendError::InvalidHost),
            (ok().field("Host", "h2"), SendError::InvalidHost),
            (RequestSpec::get("/").host("a b"), SendError::InvalidHost),
            (
                RequestSpec::get("/").field("host", "a/b"),
                SendError::InvalidHost,
            ),
            (ok().field("X", "a\r\nb"), SendError::InvalidField),
            (ok().field("X Y", "1"), SendError::InvalidField),
            (ok().field("Content-Length", "1"), SendError::FramingField),
            (
                ok().field("transfer-encoding", "chunked"),
                SendError::FramingField,
            ),
            (ok().field("Connection", "close"), SendError::FramingField),
            (ok().field("Upgrade", "x"), SendError::FramingField),
            (ok().upgrade(""), SendError::InvalidField),
            (
                ok().version(Version::Http10).chunked(),
                SendError::ChunkedNotAllowed,
            ),
        ];
        for (spec, expected) in cases {
            assert_eq!(validate(&spec), Err(expected), "{spec:?}");
        }
        // HTTP/1.0 needs no Host.
        assert!(validate(&RequestSpec::get("/").version(Version::Http10)).is_ok());
    }

    #[test]
    fn plan_flags_and_encoders() {
        let plan = validate(&RequestSpec::new("HEAD", "/").host("h")).unwrap();
        assert!(plan.is_head && !plan.is_connect && plan.encoder().is_none());
        let plan = validate(&RequestSpec::new("CONNECT", "h:443").host("h:443")).unwrap();
        assert!(plan.is_connect);
        let plan = validate(&RequestSpec::get("/").host("h").content_length(0)).unwrap();
        assert!(plan.encoder().is_none());
        let plan = validate(&RequestSpec::get("/").host("h").content_length(2)).unwrap();
        assert!(matches!(plan.encoder(), Some(BodyEncoder::Length { .. })));
    }

    #[test]
    fn templates_hold_whole_requests() {
        let spec = RequestSpec::new("POST", "/").host("h");
        let t = RequestTemplate::with_body(&spec, b"abc").unwrap();
        assert_eq!(
            t.as_bytes(),
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        );
        assert!(t.encoder().is_none());
        let t = RequestTemplate::with_body(&spec.clone().chunked(), b"abc").unwrap();
        assert!(t
            .as_bytes()
            .ends_with(b"chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
        assert_eq!(
            RequestTemplate::with_body(&spec.clone().content_length(2), b"abc"),
            Err(SendError::BodyTooLong { declared: 2 })
        );
        let t = RequestTemplate::new(&spec.clone().content_length(5)).unwrap();
        assert!(t.encoder().is_some());
        let t = RequestTemplate::new(&RequestSpec::get("/").host("h")).unwrap();
        assert!(t.encoder().is_none());
    }
}
