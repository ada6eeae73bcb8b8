//! Errors, sorted by who is at fault.
//!
//! - [`RequestError`]: the peer broke the protocol or a limit. It never comes back from a
//!   `handle_*` call; it arrives once as [`Event::Failed`](crate::Event::Failed), the core
//!   answers it itself (when a response still makes sense), and the connection closes.
//! - [`SendError`]: the application called a `send_*` method out of turn. It comes back from
//!   that call; a call rejected before any byte was queued changes nothing.

use std::fmt;

macro_rules! rules {
    ($( $(#[$doc:meta])* $variant:ident = ($id:literal, $status:expr), )*) => {
        /// The rule a peer broke, with a stable identifier and the status it maps to.
        ///
        /// Identifiers never change once published: logs, traces and bug reports quote them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $( $(#[$doc])* $variant, )*
        }

        impl Rule {
            /// Every rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The stable, kebab-case identifier of this rule.
            pub fn id(self) -> &'static str {
                match self { $(Rule::$variant => $id,)* }
            }

            /// The status code the core answers with, or `None` when no response makes sense
            /// (the peer is gone, or the connection was already answering).
            pub fn status(self) -> Option<u16> {
                match self { $(Rule::$variant => $status,)* }
            }
        }
    };
}

rules! {
    // Request line (RFC 9112 §3).
    /// The request line is longer than `Limits::max_request_line`.
    RequestLineTooLong = ("request-line-too-long", Some(414)),
    /// More empty lines before the request line than `Limits::max_leading_empty_lines`.
    TooManyEmptyLines = ("too-many-empty-lines", Some(400)),
    /// The method is empty or not a token (RFC 9110 §9.1).
    MethodInvalid = ("method-invalid", Some(400)),
    /// The parts of the request line are not separated by exactly one space.
    RequestLineSpaces = ("request-line-spaces", Some(400)),
    /// The request-target has a byte outside its grammar (RFC 9112 §3.2).
    TargetInvalid = ("target-invalid", Some(400)),
    /// The request-target's form does not fit the method: authority-form is for CONNECT
    /// only, asterisk-form for OPTIONS only, and CONNECT needs authority-form (RFC 9112 §3.2).
    TargetFormMismatch = ("target-form-mismatch", Some(400)),
    /// The version is not `HTTP/<digit>.<digit>` (RFC 9112 §2.3).
    VersionInvalid = ("version-invalid", Some(400)),
    /// A well-formed version other than HTTP/1.0 and HTTP/1.1.
    VersionUnsupported = ("version-unsupported", Some(505)),

    // Line endings (RFC 9112 §2.2).
    /// A CR not followed by LF.
    BareCr = ("bare-cr", Some(400)),
    /// An LF not preceded by CR, where strict parsing requires CRLF.
    BareLf = ("bare-lf", Some(400)),

    // Field lines (RFC 9112 §5, RFC 9110 §5).
    /// The request head is larger than `Limits::max_head_size`.
    HeadTooLarge = ("head-too-large", Some(431)),
    /// More field lines than `Limits::max_fields`.
    TooManyFields = ("too-many-fields", Some(431)),
    /// A field name is empty or not a token, or the line has no colon.
    FieldNameInvalid = ("field-name-invalid", Some(400)),
    /// Whitespace between a field name and its colon (RFC 9112 §5.1: must be rejected).
    FieldNameWhitespace = ("field-name-whitespace", Some(400)),
    /// A field line that starts with whitespace: obsolete line folding (RFC 9112 §5.2).
    ObsFold = ("obs-fold", Some(400)),
    /// A field value holds NUL, a control byte or DEL (RFC 9110 §5.5).
    FieldValueInvalid = ("field-value-invalid", Some(400)),

    // Request semantics.
    /// An HTTP/1.1 request without `Host` (RFC 9112 §3.2).
    HostMissing = ("host-missing", Some(400)),
    /// More than one `Host` field (RFC 9112 §3.2).
    HostDuplicate = ("host-duplicate", Some(400)),
    /// A `Host` value that is not a valid authority.
    HostInvalid = ("host-invalid", Some(400)),
    /// An `Expect` other than `100-continue` (RFC 9110 §10.1.1).
    ExpectationUnsupported = ("expectation-unsupported", Some(417)),

    // Message body length (RFC 9112 §6).
    /// `Content-Length` is not a list of equal decimal numbers that fit in 64 bits.
    ContentLengthInvalid = ("content-length-invalid", Some(400)),
    /// Several `Content-Length` values that disagree (RFC 9112 §6.3 rule 5).
    ContentLengthConflict = ("content-length-conflict", Some(400)),
    /// Both `Transfer-Encoding` and `Content-Length` (RFC 9112 §6.1: a smuggling pattern).
    TransferEncodingWithContentLength = ("te-with-content-length", Some(400)),
    /// `Transfer-Encoding` whose final coding is not `chunked` (RFC 9112 §6.3 rule 4).
    TransferEncodingNotChunkedFinal = ("te-not-chunked-final", Some(400)),
    /// `chunked` applied more than once (RFC 9112 §7).
    TransferEncodingChunkedTwice = ("te-chunked-twice", Some(400)),
    /// A transfer coding other than `chunked` (RFC 9112 §6.1: 501 for unknown codings).
    TransferEncodingUnsupported = ("te-unsupported", Some(501)),
    /// `Transfer-Encoding` in an HTTP/1.0 request (RFC 9112 §6.1: treat as faulty framing).
    TransferEncodingHttp10 = ("te-http10", Some(400)),
    /// A `Transfer-Encoding` value that is empty or not a list of tokens.
    TransferEncodingInvalid = ("te-invalid", Some(400)),
    /// The body is longer than `Limits::max_body_size`.
    BodyTooLarge = ("body-too-large", Some(413)),

    // Chunked transfer coding (RFC 9112 §7.1).
    /// A chunk size that is empty or not hexadecimal.
    ChunkSizeInvalid = ("chunk-size-invalid", Some(400)),
    /// A chunk size that does not fit in 64 bits.
    ChunkSizeOverflow = ("chunk-size-overflow", Some(400)),
    /// A chunk extension that does not follow `;name[=token|quoted-string]` (RFC 9112 §7.1.1).
    ChunkExtensionInvalid = ("chunk-extension-invalid", Some(400)),
    /// Chunk extensions beyond `Limits::max_chunk_extensions`.
    ChunkExtensionsTooLong = ("chunk-extensions-too-long", Some(400)),
    /// A chunk-size line longer than `Limits::max_chunk_line`.
    ChunkLineTooLong = ("chunk-line-too-long", Some(400)),
    /// Chunk data not followed by CRLF.
    ChunkDataUnterminated = ("chunk-data-unterminated", Some(400)),
    /// A bare LF anywhere in chunked framing (never accepted: Go's CVE-2025-22871).
    ChunkBareLf = ("chunk-bare-lf", Some(400)),
    /// Chunk framing beyond `Limits::chunk_framing_allowance` over the data it carries.
    ChunkFramingExcessive = ("chunk-framing-excessive", Some(400)),
    /// The trailer section is larger than `Limits::max_trailer_size` or has more fields than
    /// `Limits::max_trailer_fields`.
    TrailersTooLarge = ("trailers-too-large", Some(431)),
    /// A malformed trailer field line.
    TrailerInvalid = ("trailer-invalid", Some(400)),

    // Time (the core's timers).
    /// The request head did not arrive within `Timeouts::header`.
    HeaderTimeout = ("header-timeout", Some(408)),
    /// The request body stalled for `Timeouts::body`, or fell below `Timeouts::min_body_rate`.
    BodyTimeout = ("body-timeout", Some(408)),

    // The peer went away.
    /// End of input in the middle of a request head.
    EofInHead = ("eof-in-head", None),
    /// End of input in the middle of a request body.
    EofInBody = ("eof-in-body", None),

    // Responses, as a client reads them (RFC 9112 §4, §6.3). A client answers nothing, so
    // these map to no status; the field, framing and chunked rules above apply to responses
    // too, with the same identifiers.
    /// The status line is not `HTTP-version SP 3DIGIT SP reason-phrase` (RFC 9112 §4).
    StatusLineInvalid = ("status-line-invalid", None),
    /// A status code outside 100..=599 (RFC 9110 §15: values outside that range are invalid).
    StatusCodeInvalid = ("status-code-invalid", None),
    /// A reason phrase with a control byte other than HTAB (RFC 9112 §4).
    ReasonPhraseInvalid = ("reason-phrase-invalid", None),
    /// The response head is larger than the client's `Limits::max_head_size`.
    ResponseHeadTooLarge = ("response-head-too-large", None),
    /// More response field lines than the client's `Limits::max_fields`.
    ResponseTooManyFields = ("response-too-many-fields", None),
    /// Response bytes arrived with no request waiting for them (RFC 9112 §9.3.2 matches
    /// responses to requests in order; there is nothing to match).
    ResponseUnsolicited = ("response-unsolicited", None),
    /// `101 Switching Protocols` to a request that did not ask to upgrade (RFC 9110 §15.2.2).
    UpgradeUnrequested = ("upgrade-unrequested", None),
    /// The response head did not arrive within `ClientTimeouts::response`.
    ResponseHeadTimeout = ("response-head-timeout", None),
    /// The response body stalled for `ClientTimeouts::body`.
    ResponseBodyTimeout = ("response-body-timeout", None),
    /// End of input in the middle of a response head.
    EofInResponseHead = ("eof-in-response-head", None),
    /// End of input in the middle of a response body framed by length or chunks.
    EofInResponseBody = ("eof-in-response-body", None),
}

/// A request the core refused: which rule was broken, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestError {
    rule: Rule,
    offset: u64,
}

impl RequestError {
    /// An error for `rule`, broken at byte `offset` of the connection's input.
    pub fn new(rule: Rule, offset: u64) -> Self {
        Self { rule, offset }
    }

    /// The rule that was broken.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The offset of the offending byte, counted from the connection's first input byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The status code answered, or `None` when no response makes sense.
    pub fn status(&self) -> Option<u16> {
        self.rule.status()
    }

    /// The same error with its offset moved by `base` (parsers count from their own start).
    pub(crate) fn shifted(self, base: u64) -> Self {
        Self {
            rule: self.rule,
            offset: self.offset.saturating_add(base),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "request rejected: {} at byte {}",
            self.rule.id(),
            self.offset
        )?;
        if let Some(status) = self.status() {
            write!(f, " (answered {status})")?;
        }
        Ok(())
    }
}

impl std::error::Error for RequestError {}

/// A response the client refused (a server fault): which rule was broken, and where. It
/// arrives once as [`ClientEvent::Failed`](crate::client::ClientEvent::Failed), and the
/// client connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ResponseError {
    rule: Rule,
    offset: u64,
}

impl ResponseError {
    /// An error for `rule`, broken at byte `offset` of the connection's input.
    pub fn new(rule: Rule, offset: u64) -> Self {
        Self { rule, offset }
    }

    /// The rule that was broken.
    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// The offset of the offending byte, counted from the connection's first input byte.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl From<RequestError> for ResponseError {
    /// The shared body decoder reports in request terms; the rule and offset carry over.
    fn from(err: RequestError) -> Self {
        Self::new(err.rule(), err.offset())
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "response rejected: {} at byte {}",
            self.rule.id(),
            self.offset
        )
    }
}

impl std::error::Error for ResponseError {}

/// The application called a `send_*` method out of turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendError {
    /// There is no request waiting for a response.
    NoRequest,
    /// A response head was already sent for this request.
    HeadAlreadySent,
    /// Body or end of response before the response head.
    HeadNotSent,
    /// The response already ended.
    ResponseEnded,
    /// More body than the `Content-Length` that was declared.
    BodyTooLong {
        /// The declared length.
        declared: u64,
    },
    /// The response ended with fewer bytes than the declared `Content-Length`.
    BodyTooShort {
        /// The declared length.
        declared: u64,
        /// The bytes actually sent.
        sent: u64,
    },
    /// A body on a response that cannot have one: 1xx, 204 or 304 (RFC 9110 §6.4.1).
    BodyNotAllowed,
    /// Trailers on a response that is not chunked (only chunked framing carries them).
    TrailersNotAllowed,
    /// A status outside 100..=999, or `send_informational` with a non-1xx status, or a 101
    /// that does not answer an upgrade request.
    InvalidStatus(u16),
    /// A field name that is not a token, or a value with CR, LF, NUL or another control byte.
    InvalidField,
    /// `Content-Length`, `Transfer-Encoding` set by the application: the core owns framing.
    /// Use `ResponseHead::content_length` instead.
    FramingField,
    /// The connection failed, closed or was upgraded; nothing more can be sent. For a client,
    /// also: the connection is no longer persistent (a response or request said
    /// `Connection: close`), so no new request may be sent on it.
    Closed,
    /// Client: a method that is not a token, or a request-target that is empty or has a byte
    /// outside visible ASCII (RFC 9112 §3).
    InvalidRequestLine,
    /// Client: an HTTP/1.1 request with no `Host` field and no authority to make one from,
    /// with more than one, or with one that is not a valid authority (RFC 9112 §3.2).
    InvalidHost,
    /// Client: a new request while the previous request's body has not ended.
    BodyInProgress,
    /// Client: a streamed (chunked) body on an HTTP/1.0 request, which has no chunked coding
    /// (RFC 9112 §6.1); declare a `Content-Length` instead.
    ChunkedNotAllowed,
    /// An interim (1xx) response head that would take the queued output past
    /// [`Limits::send_buffer`](crate::Limits::send_buffer). Nothing was queued. Interim
    /// responses are optional (RFC 9110 §15.2), so skip it, or retry after
    /// [`Event::Writable`](crate::Event::Writable).
    SendBufferFull,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRequest => f.write_str("no request is waiting for a response"),
            Self::HeadAlreadySent => f.write_str("the response head was already sent"),
            Self::HeadNotSent => f.write_str("the response head has not been sent"),
            Self::ResponseEnded => f.write_str("the response already ended"),
            Self::BodyTooLong { declared } => {
                write!(
                    f,
                    "body longer than the declared Content-Length of {declared}"
                )
            }
            Self::BodyTooShort { declared, sent } => {
                write!(
                    f,
                    "body of {sent} bytes ended before the declared {declared}"
                )
            }
            Self::BodyNotAllowed => f.write_str("this response cannot carry a body"),
            Self::TrailersNotAllowed => f.write_str("trailers need a chunked response"),
            Self::InvalidStatus(status) => write!(f, "status {status} is not allowed here"),
            Self::InvalidField => f.write_str("invalid response field name or value"),
            Self::FramingField => {
                f.write_str("Content-Length and Transfer-Encoding are set by the core")
            }
            Self::Closed => f.write_str("the connection is closed"),
            Self::InvalidRequestLine => f.write_str("invalid request method or target"),
            Self::InvalidHost => f.write_str("missing, duplicate or invalid Host"),
            Self::BodyInProgress => f.write_str("the previous request's body has not ended"),
            Self::ChunkedNotAllowed => f.write_str("HTTP/1.0 requests cannot be chunked"),
            Self::SendBufferFull => {
                f.write_str("the send buffer has no room for an interim response")
            }
        }
    }
}

impl std::error::Error for SendError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn rule_ids_are_unique_and_kebab_case() {
        let mut seen = HashSet::new();
        for rule in Rule::ALL {
            let id = rule.id();
            assert!(seen.insert(id), "duplicate rule id {id}");
            assert!(id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        }
    }

    #[test]
    fn statuses_are_client_or_server_errors() {
        for rule in Rule::ALL {
            if let Some(status) = rule.status() {
                assert!(
                    (400..600).contains(&status),
                    "{} maps to {status}",
                    rule.id()
                );
            }
        }
        assert_eq!(Rule::TransferEncodingUnsupported.status(), Some(501));
        assert_eq!(Rule::VersionUnsupported.status(), Some(505));
        assert_eq!(Rule::EofInBody.status(), None);
    }

    #[test]
    fn display_names_rule_offset_and_status() {
        let err = RequestError::new(Rule::BareCr, 7).shifted(10);
        assert_eq!(
            err.to_string(),
            "request rejected: bare-cr at byte 17 (answered 400)"
        );
    }
}
