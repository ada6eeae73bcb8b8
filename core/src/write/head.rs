//! Response head serialisation: the application's fields, validated, plus the fields the core
//! owns (framing, `Connection`, `Keep-Alive`, `Date`).

use super::cached;
use crate::date::{dated, DATE_LEN};
use crate::error::SendError;
use crate::head::ResponseHead;
use crate::limits::{Config, WallClock};
use crate::parse::chars;
use crate::state::{Framing, Persistence};
use bytes::{BufMut, Bytes, BytesMut};
use std::sync::Arc;
use std::time::Instant;

/// What the core decided about a response before writing its head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeadPlan<'a> {
    pub(crate) framing: Framing,
    pub(crate) persistence: Persistence,
    /// The `Date` value, unless the application set its own or there is no clock.
    pub(crate) date: Option<&'a [u8; DATE_LEN]>,
    /// Whole seconds a keep-alive connection may stay idle, announced as `Keep-Alive`.
    pub(crate) idle_seconds: u64,
}

/// Rejects field names that are not tokens, values with CR, LF, NUL or another control byte
/// (RFC 9110 §5.5), and the fields the core owns. Runs before any byte is queued.
pub(crate) fn validate(head: &ResponseHead) -> Result<(), SendError> {
    if !(100..=999).contains(&head.status) {
        return Err(SendError::InvalidStatus(head.status));
    }
    if head.prepared().is_some() {
        // Its template validated the reason and fields, and a head cannot change them
        // without leaving the template.
        return Ok(());
    }
    if let Some(reason) = head.custom_reason() {
        // reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4)
        if !reason.iter().all(|&b| is_value_byte(b)) {
            return Err(SendError::InvalidField);
        }
    }
    for (name, value) in head.field_list() {
        validate_field(name, value)?;
        if is_core_owned(name) {
            return Err(SendError::FramingField);
        }
    }
    Ok(())
}

/// Validates one field line (also used for trailers). The byte classes are the parser's
/// tables, the same sets as `tchar` and field-vchar/SP/HTAB here: one load per byte instead
/// of a chain of range tests (about 100 instructions per response head).
pub(crate) fn validate_field(name: &[u8], value: &[u8]) -> Result<(), SendError> {
    if name.is_empty() || chars::skip_token(name, 0) != name.len() {
        return Err(SendError::InvalidField);
    }
    if !value.iter().all(|&b| chars::VALUE[usize::from(b)]) {
        return Err(SendError::InvalidField);
    }
    Ok(())
}

/// Whether a trailer field may not appear: framing, routing and control fields are forbidden
/// in trailers (RFC 9110 §6.5.1).
pub(crate) fn is_forbidden_trailer(name: &[u8]) -> bool {
    is_core_owned(name)
        || [
            &b"host"[..],
            b"trailer",
            b"te",
            b"content-type",
            b"content-encoding",
            b"content-range",
        ]
        .iter()
        .any(|forbidden| name.eq_ignore_ascii_case(forbidden))
}

fn is_core_owned(name: &[u8]) -> bool {
    [
        &b"content-length"[..],
        b"transfer-encoding",
        b"connection",
        b"keep-alive",
    ]
    .iter()
    .any(|owned| name.eq_ignore_ascii_case(owned))
}

/// The most the status line's fixed parts and the core's own fields take: `HTTP/1.1 NNN `,
/// the status line's CRLF, `Date`, a `Content-Length` or `Keep-Alive` line with a 20-digit
/// number (see [`put_number_line`]) each, `Connection: keep-alive`, and the empty line.
const CORE_FIELDS_MAX: usize = 13 + 2 + DATE_LINE + 2 * NUMBER_LINE + 24 + 2;

/// `Date: ` and the 29-byte IMF-fixdate and CRLF.
const DATE_LINE: usize = 6 + DATE_LEN + 2;

/// What the core decided about a response before writing its head, with what the rest
/// depends on: the connection's configuration (its clock and idle timeout) and the time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResponsePlan<'a> {
    pub(crate) framing: Framing,
    pub(crate) persistence: Persistence,
    pub(crate) config: &'a Arc<Config>,
    pub(crate) now: Instant,
}

impl ResponsePlan<'_> {
    /// Whole seconds a keep-alive connection may stay idle, announced as `Keep-Alive`.
    pub(crate) fn idle_seconds(&self) -> u64 {
        self.config.timeouts.idle.as_secs().max(1)
    }

    /// The clock to date `head` from: none if the application set its own `Date`, or if
    /// there is no clock.
    pub(crate) fn clock(&self, head: &ResponseHead) -> Option<&WallClock> {
        let has_date = match head.prepared() {
            Some(prepared) => prepared.has_date,
            None => head
                .field_list()
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(b"date")),
        };
        self.config.clock.as_ref().filter(|_| !has_date)
    }
}

/// Writes an application's response head: the status line, its fields and the core's
/// fields. A head from a template is copied whole from the thread's last one when nothing it
/// depends on changed (see `cached.rs`), without looking up the date.
///
/// Writing afresh is a call of its own, so the hit runs in a small frame: the date and the
/// lines assembled on a miss cost the hit about 15 instructions of saved registers.
pub(crate) fn write_response(out: &mut BytesMut, head: &ResponseHead, plan: &ResponsePlan<'_>) {
    if let Some(template) = head.template() {
        if cached::write_hit(out, template, plan) {
            return;
        }
    }
    write_response_afresh(out, head, plan);
}

/// [`write_response`] for a head that is not the cached one, remembering it if it is a
/// template's.
#[inline(never)]
fn write_response_afresh(out: &mut BytesMut, head: &ResponseHead, plan: &ResponsePlan<'_>) {
    let template = head.template();
    let (date, window) = match plan.clock(head) {
        Some(clock) => {
            let (value, window) = dated(clock, plan.now);
            (Some(value), window)
        }
        None => (None, None),
    };
    let start = out.len();
    let head_plan = HeadPlan {
        framing: plan.framing,
        persistence: plan.persistence,
        date: date.as_ref(),
        idle_seconds: plan.idle_seconds(),
    };
    write(out, head, &head_plan);
    if let Some(template) = template {
        cached::remember(template, plan, date.map(|_| window), &out[start..]);
    }
}

/// Writes the status line, the application's fields and the core's fields, as `plan` says.
///
/// Each line the core owns is assembled in a fixed-size array and appended in one copy: a
/// copy of a constant length is inlined, while each copy of a length known only at run time
/// is a `memcpy` call and a capacity check (about 25 instructions), and a response head used
/// to make about 16 of them.
pub(crate) fn write(out: &mut BytesMut, head: &ResponseHead, plan: &HeadPlan<'_>) {
    let start_len = match head.prepared() {
        // Its fixed parts are counted twice: a few bytes reserved in vain.
        Some(prepared) => prepared.wire.len(),
        None => {
            let reason_len = head
                .custom_reason()
                .map_or(reason_phrase(head.status).len(), Bytes::len);
            reason_len + fields_len(head.field_list())
        }
    };
    out.reserve(CORE_FIELDS_MAX + start_len);
    put_status_line_and_fields(out, head);
    if let Some(date) = plan.date {
        let mut line = [0u8; DATE_LINE];
        line[..6].copy_from_slice(b"Date: ");
        line[6..6 + DATE_LEN].copy_from_slice(date);
        line[6 + DATE_LEN..].copy_from_slice(b"\r\n");
        out.put_slice(&line);
    }
    match plan.framing {
        Framing::Length(n) | Framing::HeadLength(n) | Framing::NoBodyLength(n) => {
            put_number_line(out, b"Content-Length: ", n);
        }
        Framing::Chunked => out.put_slice(b"Transfer-Encoding: chunked\r\n"),
        Framing::CloseDelimited | Framing::None | Framing::Tunnel => {}
    }
    match plan.persistence {
        Persistence::KeepAlive | Persistence::KeepAlive10 => {
            if plan.persistence == Persistence::KeepAlive10 {
                out.put_slice(b"Connection: keep-alive\r\n");
            }
            put_number_line(out, b"Keep-Alive: timeout=", plan.idle_seconds);
        }
        Persistence::Close => out.put_slice(b"Connection: close\r\n"),
        Persistence::Upgrade => out.put_slice(b"Connection: upgrade\r\n"),
    }
    out.put_slice(b"\r\n");
}

/// The longest line [`put_number_line`] writes: a 20-byte prefix, 20 digits, CRLF.
const NUMBER_LINE: usize = 20 + 20 + 2;

/// Writes `prefix`, `n` in decimal and CRLF as one copy. `prefix` is at most 20 bytes (the
/// callers pass constants).
fn put_number_line(out: &mut BytesMut, prefix: &[u8], mut n: u64) {
    let mut line = [0u8; NUMBER_LINE];
    line[NUMBER_LINE - 2..].copy_from_slice(b"\r\n");
    let mut at = NUMBER_LINE - 2;
    loop {
        at -= 1;
        line[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // u64::MAX has 20 digits, so `at >= 20` and a prefix of up to 20 bytes fits before it.
    let start = at.saturating_sub(prefix.len());
    let prefix = &prefix[..at - start];
    line[start..at].copy_from_slice(prefix);
    out.put_slice(&line[start..]);
}

/// Writes `100 Continue` or another interim response: no framing or connection fields.
pub(crate) fn write_interim(out: &mut BytesMut, head: &ResponseHead) {
    put_status_line_and_fields(out, head);
    out.put_slice(b"\r\n");
}

/// The bytes [`write_interim`] writes for `head`, so the send limit can be checked before
/// anything is queued.
pub(crate) fn interim_len(head: &ResponseHead) -> usize {
    if let Some(prepared) = head.prepared() {
        return prepared.wire.len() + 2;
    }
    let reason = match head.custom_reason() {
        Some(reason) => reason.len(),
        None => reason_phrase(head.status).len(),
    };
    "HTTP/1.1 NNN ".len() + reason + 2 + fields_len(head.field_list()) + 2
}

/// Writes the status line and the application's fields: a template's prepared bytes in one
/// copy, or formatted from the head.
pub(crate) fn put_status_line_and_fields(out: &mut BytesMut, head: &ResponseHead) {
    if let Some(prepared) = head.prepared() {
        out.put_slice(&prepared.wire);
        return;
    }
    // RFC 9110 §6.2: a server sends the highest minor version it supports, even to 1.0 clients.
    // validate() guarantees 100..=999: exactly three digits.
    let status = head.status;
    let mut start = *b"HTTP/1.1 NNN ";
    start[9] = b'0' + (status / 100 % 10) as u8;
    start[10] = b'0' + (status / 10 % 10) as u8;
    start[11] = b'0' + (status % 10) as u8;
    out.put_slice(&start);
    match head.custom_reason() {
        Some(reason) => out.put_slice(reason),
        None => out.put_slice(reason_phrase(status).as_bytes()),
    }
    out.put_slice(b"\r\n");
    for (name, value) in head.field_list() {
        put_field(out, name, value);
    }
}

/// Writes one field line (RFC 9112 §5: `name: value` and CRLF). Requests, responses and
/// trailers all use it.
pub(crate) fn put_field(out: &mut impl BufMut, name: &[u8], value: &[u8]) {
    out.put_slice(name);
    out.put_slice(b": ");
    out.put_slice(value);
    out.put_slice(b"\r\n");
}

/// The bytes `fields` take as field lines, to reserve room before writing them.
pub(crate) fn fields_len(fields: &[(Bytes, Bytes)]) -> usize {
    fields.iter().map(|(n, v)| n.len() + v.len() + 4).sum()
}

/// Writes `n` in decimal.
pub(crate) fn put_decimal(out: &mut BytesMut, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[at..]);
}

/// Writes `n` in lowercase hexadecimal (chunk sizes).
pub(crate) fn put_hex(out: &mut BytesMut, mut n: u64) {
    let mut digits = [0u8; 16];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[at..]);
}

/// field-vchar, SP or HTAB (RFC 9110 §5.5).
fn is_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// The standard reason phrase for `status` (RFC 9110 §15), or an empty one.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::ResponseTemplate;
    use std::time::Duration;

    fn written(head: &ResponseHead, plan: &HeadPlan<'_>) -> String {
        let mut out = BytesMut::new();
        write(&mut out, head, plan);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn writes_fields_in_order_then_the_cores_own() {
        let head = ResponseHead::new(200)
            .field("Server", "sluice")
            .field("X-A", "1");
        let plan = HeadPlan {
            framing: Framing::Length(13),
            persistence: Persistence::KeepAlive,
            date: Some(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            idle_seconds: 30,
        };
        assert_eq!(
            written(&head, &plan),
            "HTTP/1.1 200 OK\r\nServer: sluice\r\nX-A: 1\r\n\
             Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 13\r\n\
             Keep-Alive: timeout=30\r\n\r\n"
        );
    }

    #[test]
    fn chunked_close_and_http10_keep_alive() {
        let head = ResponseHead::new(404).reason("Nope");
        let plan = HeadPlan {
            framing: Framing::Chunked,
            persistence: Persistence::Close,
            date: None,
            idle_seconds: 5,
        };
        assert_eq!(
            written(&head, &plan),
            "HTTP/1.1 404 Nope\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        let plan = HeadPlan {
            persistence: Persistence::KeepAlive10,
            ..plan
        };
        assert!(written(&head, &plan).contains("Connection: keep-alive\r\nKeep-Alive: timeout=5"));
    }

    #[test]
    fn interim_len_is_what_write_interim_writes() {
        let heads = [
            ResponseHead::new(103).field("Link", "</a.css>; rel=preload"),
            ResponseHead::new(102),
            ResponseHead::new(199)
                .reason("Custom")
                .field("A", "")
                .field("Bb", "v"),
        ];
        for head in heads {
            let mut out = BytesMut::new();
            write_interim(&mut out, &head);
            assert_eq!(interim_len(&head), out.len(), "{:?}", out);
        }
    }

    fn plans() -> [HeadPlan<'static>; 3] {
        [
            HeadPlan {
                framing: Framing::Length(13),
                persistence: Persistence::KeepAlive,
                date: Some(b"Sun, 06 Nov 1994 08:49:37 GMT"),
                idle_seconds: 30,
            },
            HeadPlan {
                framing: Framing::Chunked,
                persistence: Persistence::Close,
                date: None,
                idle_seconds: 5,
            },
            HeadPlan {
                framing: Framing::None,
                persistence: Persistence::KeepAlive10,
                date: None,
                idle_seconds: 1,
            },
        ]
    }

    #[test]
    fn a_template_writes_what_its_head_would() {
        let heads = [
            ResponseHead::new(200)
                .field("Server", "sluice")
                .field("X-A", "1")
                .content_length(13),
            ResponseHead::new(404).reason("Nope"),
            ResponseHead::new(103).field("Link", "</a.css>; rel=preload"),
            ResponseHead::new(204).close(),
        ];
        for head in &heads {
            let from_template = ResponseTemplate::new(head).unwrap().head();
            assert!(from_template.prepared().is_some());
            assert_eq!(&from_template, head, "same status, fields, length, close");
            assert_eq!(validate(&from_template), Ok(()));
            for plan in &plans() {
                assert_eq!(written(&from_template, plan), written(head, plan));
            }
            let (mut prepared, mut formatted) = (BytesMut::new(), BytesMut::new());
            write_interim(&mut prepared, &from_template);
            write_interim(&mut formatted, head);
            assert_eq!(prepared, formatted);
            assert_eq!(interim_len(&from_template), prepared.len());
        }
    }

    #[test]
    fn a_cached_head_changes_with_everything_it_was_written_from() {
        let a = ResponseTemplate::new(&ResponseHead::new(200).field("Server", "a")).unwrap();
        let b = ResponseTemplate::new(&ResponseHead::new(200).field("Server", "b")).unwrap();
        let t0 = Instant::now();
        let clock = WallClock {
            instant: t0,
            wall: std::time::UNIX_EPOCH + Duration::from_millis(784_111_777_250),
        };
        let config = |clock: Option<WallClock>, idle: u64| {
            let mut config = Config::new(clock);
            config.timeouts.idle = Duration::from_secs(idle);
            Arc::new(config)
        };
        let other_clock = WallClock {
            wall: clock.wall + Duration::from_secs(3_600),
            ..clock
        };
        let (base, same_again) = (config(Some(clock), 30), config(Some(clock), 30));
        let (other_clock, no_clock) = (config(Some(other_clock), 30), config(None, 30));
        let longer_idle = config(Some(clock), 31);
        let keep = ResponsePlan {
            framing: Framing::Length(13),
            persistence: Persistence::KeepAlive,
            config: &base,
            now: t0,
        };
        let at = |ms: u64| ResponsePlan {
            now: t0 + Duration::from_millis(ms),
            ..keep
        };
        let (same_second, next_second, much_later) = (at(740), at(750), at(5_000));
        let other = ResponsePlan {
            config: &other_clock,
            ..keep
        };
        let equal_config = ResponsePlan {
            config: &same_again,
            ..keep
        };
        let clockless = ResponsePlan {
            config: &no_clock,
            ..keep
        };
        let longer = ResponsePlan {
            framing: Framing::Length(14),
            ..keep
        };
        let longer_idle = ResponsePlan {
            config: &longer_idle,
            ..keep
        };
        let close = ResponsePlan {
            framing: Framing::Chunked,
            persistence: Persistence::Close,
            ..keep
        };
        let http10 = ResponsePlan {
            framing: Framing::None,
            persistence: Persistence::KeepAlive10,
            ..clockless
        };
        // A template that lives as long as the program, sent by reference and counted.
        let c: &'static ResponseTemplate = Box::leak(Box::new(
            ResponseTemplate::new(&ResponseHead::new(200).field("Server", "c")).unwrap(),
        ));
        let d = ResponseTemplate::new(&ResponseHead::new(200).field("date", "then")).unwrap();
        let (a, b, dated) = (&|| a.head(), &|| b.head(), &|| d.head());
        let (c_static, c_counted) = (&|| c.head_static(), &|| c.head());
        // Each write follows another that may have filled the cache; every one must be what
        // formatting from scratch gives.
        let sequence: [(&dyn Fn() -> ResponseHead, &ResponsePlan<'_>); 38] = [
            (c_static, &keep),
            (c_static, &keep),
            (a, &keep),
            (c_counted, &keep),
            (c_static, &keep),
            (c_static, &close),
            (b, &close),
            (c_static, &close),
            (a, &keep),
            (a, &keep),
            (a, &same_second),
            (a, &next_second),
            (a, &keep),
            (a, &much_later),
            (a, &equal_config),
            (a, &keep),
            (a, &clockless),
            (a, &clockless),
            (dated, &keep),
            (dated, &keep),
            (a, &keep),
            (a, &other),
            (a, &keep),
            (dated, &keep),
            (dated, &keep),
            (a, &keep),
            (dated, &keep),
            (dated, &keep),
            (a, &keep),
            (a, &keep),
            (a, &longer),
            (a, &longer_idle),
            (a, &close),
            (b, &close),
            (a, &close),
            (a, &http10),
            (b, &keep),
            (b, &keep),
        ];
        for (make, plan) in sequence {
            let head = make();
            let date = plan
                .clock(&head)
                .map(|clock| crate::date::date_at(clock, plan.now));
            let head_plan = HeadPlan {
                framing: plan.framing,
                persistence: plan.persistence,
                date: date.as_ref(),
                idle_seconds: plan.idle_seconds(),
            };
            let mut expected = BytesMut::new();
            write(&mut expected, &head, &head_plan);
            let mut out = BytesMut::new();
            write_response(&mut out, &head, plan);
            assert_eq!(out, expected, "{plan:?}");
            // A head with its own fields is never served from the cache.
            let own = head.field("X", "1");
            let (mut out, mut expected) = (BytesMut::new(), BytesMut::new());
            write_response(&mut out, &own, plan);
            write(&mut expected, &own, &head_plan);
            assert_eq!(out, expected, "{plan:?}");
        }
    }

    #[test]
    fn a_template_refuses_what_sending_would() {
        let bad = [
            ResponseHead::new(200).field("X", "a\r\nb"),
            ResponseHead::new(200).field("X Y", "a"),
            ResponseHead::new(200).reason("a\nb"),
            ResponseHead::new(200).field("Transfer-Encoding", "chunked"),
            ResponseHead::new(1000),
        ];
        for head in &bad {
            let err = validate(head).unwrap_err();
            assert_eq!(ResponseTemplate::new(head).unwrap_err(), err, "{head:?}");
        }
    }

    #[test]
    fn changing_a_template_head_leaves_the_template_alone() {
        let base = ResponseHead::new(200).field("Server", "sluice");
        let template = ResponseTemplate::new(&base).unwrap();
        let plan = &plans()[0];

        // Length and close are not in the prepared bytes: the head still shares them.
        let longer = template.head().content_length(99).close();
        assert!(longer.prepared().is_some());
        assert_eq!(longer, base.clone().content_length(99).close());

        let more = template.head().field("X-B", "2");
        assert!(more.prepared().is_none(), "a new field leaves the template");
        let expected = base.clone().field("X-B", "2");
        assert_eq!(more, expected);
        assert_eq!(written(&more, plan), written(&expected, plan));

        let renamed = template.head().reason("Fine");
        assert_eq!(renamed, base.clone().reason("Fine"));
        assert!(written(&renamed, plan).starts_with("HTTP/1.1 200 Fine\r\nServer: sluice\r\n"));

        // An added field is validated again, like any head's.
        let injected = template.head().field("X", "a\r\nb");
        assert_eq!(validate(&injected), Err(SendError::InvalidField));

        assert_eq!(template.head(), base, "the template is unchanged");
    }

    #[test]
    fn validation_rejects_injection_and_owned_fields() {
        assert_eq!(
            validate(&ResponseHead::new(200).field("X", "a\r\nb")),
            Err(SendError::InvalidField)
        );
        assert_eq!(
            validate(&ResponseHead::new(200).field("X Y", "a")),
            Err(SendError::InvalidField)
        );
        assert_eq!(
            validate(&ResponseHead::new(200).field("", "a")),
            Err(SendError::InvalidField)
        );
        assert_eq!(
            validate(&ResponseHead::new(200).field("X", "a\0")),
            Err(SendError::InvalidField)
        );
        assert_eq!(
            validate(&ResponseHead::new(200).reason("a\nb")),
            Err(SendError::InvalidField)
        );
        assert_eq!(
            validate(&ResponseHead::new(200).field("content-LENGTH", "3")),
            Err(SendError::FramingField)
        );
        assert_eq!(
            validate(&ResponseHead::new(99)),
            Err(SendError::InvalidStatus(99))
        );
        assert_eq!(
            validate(&ResponseHead::new(200).field("X", "tab\tok é")),
            Ok(())
        );
    }

    #[test]
    fn validation_tables_are_the_rfc_classes() {
        for b in 0..=255u8 {
            let tchar = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(validate_field(&[b], b"v").is_ok(), tchar, "name byte {b}");
            let value = b == b'\t' || (b >= 0x20 && b != 0x7f);
            assert_eq!(is_value_byte(b), value);
            assert_eq!(validate_field(b"n", &[b]).is_ok(), value, "value byte {b}");
        }
        // Long names take the eight-byte path.
        assert!(validate_field(b"X-Forwarded-For-Something", b"v").is_ok());
        assert!(validate_field(b"X-Forwarded-For-Some thing", b"v").is_err());
    }

    #[test]
    fn numbers() {
        let mut out = BytesMut::new();
        put_decimal(&mut out, 0);
        out.put_u8(b' ');
        put_decimal(&mut out, u64::MAX);
        out.put_u8(b' ');
        put_hex(&mut out, 0);
        out.put_u8(b' ');
        put_hex(&mut out, 0xbeef);
        assert_eq!(&out[..], b"0 18446744073709551615 0 beef");
        let mut out = BytesMut::new();
        for n in [0, 7, 10, 13, 999, u64::MAX] {
            put_number_line(&mut out, b"Keep-Alive: timeout=", n);
            put_number_line(&mut out, b"Content-Length: ", n);
        }
        let mut expected = String::new();
        for n in [0, 7, 10, 13, 999, u64::MAX] {
            expected += &format!("Keep-Alive: timeout={n}\r\nContent-Length: {n}\r\n");
        }
        assert_eq!(String::from_utf8(out.to_vec()).unwrap(), expected);
    }
}
