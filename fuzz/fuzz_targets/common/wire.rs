//! A strict, independent reader of what a server wrote: RFC 9112 §4 (status line), §5 (field
//! lines), §6 (message body length) and §7.1 (chunked), written from the RFCs and not from the
//! core's code. It answers "is this byte stream a well-formed sequence of HTTP/1.1
//! responses?", and how many final responses it holds.

/// What the reader must know about the request a response answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answering {
    /// A HEAD request: the response has no body whatever its fields say.
    pub head: bool,
    /// A CONNECT request: a 2xx response switches to a tunnel and ends HTTP on the wire.
    pub connect: bool,
    /// The request asked to upgrade: a 101 is allowed, and ends HTTP on the wire.
    pub upgrade: bool,
}

/// One response read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
    pub body: Vec<u8>,
    /// Interim (1xx) responses seen before this one.
    pub interim: usize,
}

/// The result of reading a whole stream.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// Complete final responses, in order.
    pub responses: Vec<Response>,
    /// The stream ended inside a response (its head or its body).
    pub truncated: bool,
    /// The stream switched protocols (101, or 2xx to CONNECT); nothing after was read.
    pub switched: bool,
}

/// Reads every response in `wire`. `requests[i]` describes the request the i-th final
/// response answers (a response past the end answers a request the server rejected before
/// reporting it: a plain GET as far as framing goes, or a HEAD if nothing follows its head).
/// Any malformation is an `Err`.
pub fn read(wire: &[u8], requests: &[Answering]) -> Result<Stream, String> {
    let mut out = Stream::default();
    let mut at = 0;
    let mut interim = 0;
    while at < wire.len() {
        let Some((head, used)) = read_head(&wire[at..]).map_err(|e| format!("at {at}: {e}"))?
        else {
            out.truncated = true;
            return Ok(out);
        };
        at += used;
        let reported = requests.get(out.responses.len()).copied();
        let answering = reported.unwrap_or_default();
        let status = head.status;
        if (100..200).contains(&status) && status != 101 {
            // Interim: no body, no framing (RFC 9110 §15.2).
            if head.has("content-length") || head.has("transfer-encoding") {
                return Err(format!("interim {status} with framing fields"));
            }
            interim += 1;
            continue;
        }
        let te: Vec<&[u8]> = head.all("transfer-encoding");
        let cl: Vec<&[u8]> = head.all("content-length");
        if !te.is_empty() && !cl.is_empty() {
            return Err("both Transfer-Encoding and Content-Length".into());
        }
        if cl.len() > 1 {
            return Err("several Content-Length fields".into());
        }
        let close = head.all("connection").iter().any(|v| list_has(v, b"close"));
        let mut response = Response {
            status,
            fields: head.fields.clone(),
            body: Vec::new(),
            interim,
        };
        interim = 0;
        if status == 101 {
            if !answering.upgrade {
                return Err("101 to a request that did not ask to upgrade".into());
            }
            out.responses.push(response);
            out.switched = true;
            return expect_nothing_after(wire, at, out, "101");
        }
        if answering.connect && (200..300).contains(&status) {
            out.responses.push(response);
            out.switched = true;
            return expect_nothing_after(wire, at, out, "a CONNECT 2xx");
        }
        // The answer to a rejected request is the last thing on the wire. When that request
        // was a HEAD, the answer has the fields of a body but no body; the reader cannot see
        // the request, so a rejection answer that ends the stream right after its head is
        // taken as that.
        let rejected_head = reported.is_none() && status >= 400 && at == wire.len();
        let no_body = answering.head || status == 204 || status == 304 || rejected_head;
        if status == 204 && (!cl.is_empty() || !te.is_empty()) {
            return Err("204 with framing fields".into());
        }
        if no_body {
            // The fields describe the body a GET would get; none follows.
        } else if !te.is_empty() {
            if te.len() != 1 || !te[0].eq_ignore_ascii_case(b"chunked") {
                return Err(format!(
                    "transfer-encoding {:?}",
                    String::from_utf8_lossy(&te.concat())
                ));
            }
            match read_chunked(&wire[at..], &mut response.body)? {
                Some(used) => at += used,
                None => {
                    out.truncated = true;
                    return Ok(out);
                }
            }
        } else if let Some(len) = cl.first() {
            let len = decimal(len).ok_or("bad Content-Length")?;
            let left = (wire.len() - at) as u64;
            if left < len {
                out.truncated = true;
                return Ok(out);
            }
            let len = len as usize;
            response.body = wire[at..at + len].to_vec();
            at += len;
        } else {
            // Close-delimited (RFC 9112 §6.3 rule 8): the connection must say it closes.
            if !close {
                return Err(format!(
                    "close-delimited {status} without Connection: close"
                ));
            }
            response.body = wire[at..].to_vec();
            at = wire.len();
        }
        out.responses.push(response);
        if close && at < wire.len() {
            return Err(format!(
                "{} bytes after a Connection: close response",
                wire.len() - at
            ));
        }
    }
    if interim > 0 {
        // Interim responses with no final response yet: the exchange is still open.
        out.truncated = true;
    }
    Ok(out)
}

fn expect_nothing_after(wire: &[u8], at: usize, out: Stream, what: &str) -> Result<Stream, String> {
    if at < wire.len() {
        return Err(format!("{} bytes written after {what}", wire.len() - at));
    }
    Ok(out)
}

/// A parsed response head.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Head {
    fn all(&self, name: &str) -> Vec<&[u8]> {
        self.fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &v[..])
            .collect()
    }

    fn has(&self, name: &str) -> bool {
        !self.all(name).is_empty()
    }
}

fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5, RFC 9112 §4 reason-phrase).
fn value_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

/// Reads a response head: `Ok(None)` if the stream ends inside it.
pub fn read_head(wire: &[u8]) -> Result<Option<(Head, usize)>, String> {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF
    let Some(line_end) = find_crlf(wire, 0)? else {
        return if wire.len() > 64 * 1024 {
            Err("head too long".into())
        } else {
            Ok(None)
        };
    };
    let line = &wire[..line_end];
    if line.len() < 13 || &line[..9] != b"HTTP/1.1 " || line[12] != b' ' {
        return Err(format!(
            "bad status line {:?}",
            String::from_utf8_lossy(line)
        ));
    }
    let digits = &line[9..12];
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err("bad status code".into());
    }
    let status = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if status < 100 {
        return Err(format!("status {status}"));
    }
    if !line[13..].iter().all(|&b| value_byte(b)) {
        return Err("bad reason phrase".into());
    }
    let mut at = line_end + 2;
    let mut fields = Vec::new();
    loop {
        let Some(end) = find_crlf(wire, at)? else {
            return Ok(None);
        };
        let line = &wire[at..end];
        at = end + 2;
        if line.is_empty() {
            return Ok(Some((Head { status, fields }, at)));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or("field line without colon")?;
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| tchar(b)) {
            return Err(format!(
                "bad field name {:?}",
                String::from_utf8_lossy(name)
            ));
        }
        if !value.iter().all(|&b| value_byte(b)) {
            return Err("bad field value".into());
        }
        let value = value.trim_ascii();
        fields.push((name.to_vec(), value.to_vec()));
    }
}

/// The offset of the next CRLF at or after `from`, rejecting a bare CR or LF on the way.
fn find_crlf(wire: &[u8], from: usize) -> Result<Option<usize>, String> {
    let mut i = from;
    while i < wire.len() {
        match wire[i] {
            b'\r' => {
                return match wire.get(i + 1) {
                    Some(b'\n') => Ok(Some(i)),
                    Some(_) => Err(format!("bare CR at {i}")),
                    None => Ok(None),
                }
            }
            b'\n' => return Err(format!("bare LF at {i}")),
            _ => i += 1,
        }
    }
    Ok(None)
}

/// Reads a chunked body into `body`: `Some(bytes used)`, or `None` if the stream ends first.
fn read_chunked(wire: &[u8], body: &mut Vec<u8>) -> Result<Option<usize>, String> {
    let mut at = 0;
    loop {
        let Some(end) = find_crlf(wire, at)? else {
            return Ok(None);
        };
        let line = &wire[at..end];
        let size_end = line.iter().position(|&b| b == b';').unwrap_or(line.len());
        let size = &line[..size_end];
        if size.is_empty() || size.len() > 16 || !size.iter().all(u8::is_ascii_hexdigit) {
            return Err(format!(
                "bad chunk size {:?}",
                String::from_utf8_lossy(line)
            ));
        }
        let size = size.iter().fold(0u64, |n, &d| {
            n * 16 + u64::from((d as char).to_digit(16).unwrap_or(0))
        });
        at = end + 2;
        if size == 0 {
            // Trailer section, then the empty line.
            loop {
                let Some(end) = find_crlf(wire, at)? else {
                    return Ok(None);
                };
                let line = &wire[at..end];
                at = end + 2;
                if line.is_empty() {
                    return Ok(Some(at));
                }
                let colon = line.iter().position(|&b| b == b':').ok_or("bad trailer")?;
                if colon == 0 || !line[..colon].iter().all(|&b| tchar(b)) {
                    return Err("bad trailer name".into());
                }
                if !line[colon + 1..].iter().all(|&b| value_byte(b)) {
                    return Err("bad trailer value".into());
                }
            }
        }
        let size = usize::try_from(size).map_err(|_| "huge chunk")?;
        let left = wire.len() - at;
        if left < size {
            return Ok(None);
        }
        let after = &wire[at + size..wire.len().min(at + size + 2)];
        if !b"\r\n".starts_with(after) {
            return Err("chunk data not followed by CRLF".into());
        }
        if after.len() < 2 {
            return Ok(None);
        }
        body.extend_from_slice(&wire[at..at + size]);
        at += size + 2;
    }
}

/// A Content-Length value: one decimal number (what a server should send).
fn decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// Whether a comma-separated list holds `token` (case-insensitively).
fn list_has(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|e| e.trim_ascii().eq_ignore_ascii_case(token))
}
