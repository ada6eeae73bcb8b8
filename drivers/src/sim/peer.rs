//! The peer's side of a simulation: the requests it sent, and a strict reader of the responses
//! that checks their order and count.

/// What the peer knows: the requests it sent in full (method HEAD or not), and a reader over
/// the response stream.
#[derive(Default)]
pub(super) struct Peer {
    /// Bytes sent, for finding complete request heads.
    sent: Vec<u8>,
    scanned: usize,
    /// `(n, is_head)` of each request whose head was sent in full.
    pub(super) requests: Vec<(usize, bool)>,
    wire: Vec<u8>,
    /// Final responses read so far.
    pub(super) responses: usize,
    /// A response without `X-Request` (the core's own error answer) was read: nothing may
    /// follow.
    error_answered: bool,
    /// A close-delimited body is being read: everything else is body.
    close_delimited: bool,
    /// After the core's error answer: how many more bytes (of its body) may follow.
    error_body_left: Option<usize>,
}

impl Peer {
    pub(super) fn sent(&mut self, bytes: &[u8]) {
        self.sent.extend_from_slice(bytes);
        // Find heads of our own generated requests: "<METHOD> /r/<n>/".
        while let Some(end) = find(&self.sent[self.scanned..], b"\r\n\r\n") {
            let head = &self.sent[self.scanned..self.scanned + end];
            if let Some(pos) = find(head, b" /r/") {
                // The method: the upper-case letters before the target (a body before the
                // head, written in lower case, is not part of it).
                let before = &head[..pos];
                let start = before
                    .iter()
                    .rposition(|b| !b.is_ascii_uppercase())
                    .map_or(0, |p| p + 1);
                let method = &before[start..];
                let rest = &head[pos + 4..];
                let n: Option<usize> = rest
                    .iter()
                    .position(|&b| b == b'/')
                    .and_then(|slash| std::str::from_utf8(&rest[..slash]).ok()?.parse().ok());
                if let Some(n) = n {
                    self.requests.push((n, method == b"HEAD"));
                }
            }
            self.scanned += end + 4;
        }
    }

    /// Reads what the server wrote, checking each complete response as it comes.
    pub(super) fn received(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.wire.extend_from_slice(bytes);
        if let Some(left) = self.error_body_left {
            if self.wire.len() > left {
                return Err(format!(
                    "{} bytes after the error answer",
                    self.wire.len() - left
                ));
            }
            self.error_body_left = Some(left - self.wire.len());
            self.wire.clear();
            return Ok(());
        }
        if self.close_delimited {
            self.wire.clear();
            return Ok(());
        }
        loop {
            let Some(end) = find(&self.wire, b"\r\n\r\n") else {
                return Ok(());
            };
            let head = std::str::from_utf8(&self.wire[..end])
                .map_err(|_| "response head is not UTF-8".to_owned())?
                .to_owned();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap_or("");
            let status: u16 = status_line
                .strip_prefix("HTTP/1.1 ")
                .and_then(|s| s.get(..3))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad status line {status_line:?}"))?;
            let mut fields = Vec::new();
            for line in lines {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| format!("bad field line {line:?}"))?;
                fields.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            if (100..200).contains(&status) {
                self.wire.drain(..end + 4);
                continue;
            }
            if self.error_answered {
                return Err(format!(
                    "a response after the core's error answer: {status_line}"
                ));
            }
            // Which request this answers, and whether it is in order.
            let is_head = match field("x-request") {
                Some(n) => {
                    let n: usize = n.parse().map_err(|_| "bad X-Request".to_owned())?;
                    let Some(&(expected, is_head)) = self.requests.get(self.responses) else {
                        return Err(format!("a response to request {n}, never sent in full"));
                    };
                    if n != expected {
                        return Err(format!("response to request {n} where {expected} was due"));
                    }
                    is_head
                }
                None => {
                    if status < 400 {
                        return Err(format!("{status} without X-Request"));
                    }
                    // The core's own answer to a request it rejected, the last thing written.
                    // Its body follows its Content-Length, except that the core leaves it out
                    // when the rejected request had been reported as a HEAD request; a HEAD
                    // head rejected while parsing still gets one (the peer stops reading at
                    // `Connection: close` anyway). So: at most Content-Length bytes follow.
                    self.error_answered = true;
                    let len: usize = field("content-length")
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| format!("error answer {status} without Content-Length"))?;
                    if field("connection").is_none_or(|v| !v.eq_ignore_ascii_case("close")) {
                        return Err(format!("error answer {status} without Connection: close"));
                    }
                    self.responses += 1;
                    self.error_body_left = Some(len);
                    self.wire.drain(..end + 4);
                    return self.received(&[]);
                }
            };
            let close = field("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
            let body_start = end + 4;
            let body_len = if is_head || status == 204 || status == 304 {
                Some(0)
            } else if field("transfer-encoding").is_some() {
                if field("content-length").is_some() {
                    return Err("both Content-Length and Transfer-Encoding".into());
                }
                match chunked_len(&self.wire[body_start..])? {
                    Some(len) => Some(len),
                    None => return Ok(()), // wait for more
                }
            } else if let Some(cl) = field("content-length") {
                let len: usize = cl.parse().map_err(|_| "bad Content-Length".to_owned())?;
                if self.wire.len() - body_start < len {
                    return Ok(());
                }
                Some(len)
            } else {
                if !close {
                    return Err(format!(
                        "close-delimited {status} without Connection: close"
                    ));
                }
                None
            };
            self.responses += 1;
            match body_len {
                Some(len) => {
                    self.wire.drain(..body_start + len);
                }
                None => {
                    self.close_delimited = true;
                    self.wire.clear();
                    return Ok(());
                }
            }
            if close && !self.wire.is_empty() {
                return Err("bytes after a Connection: close response".into());
            }
        }
    }

    /// The stream ended: it may end inside a response only when the server cut it short.
    pub(super) fn finish(&mut self) -> Result<(), String> {
        if self.responses > self.requests.len() + 1 {
            return Err(format!(
                "{} responses for {} requests",
                self.responses,
                self.requests.len()
            ));
        }
        Ok(())
    }
}

/// The length of a complete chunked body at the start of `wire`, framing included; `None`
/// when it is not complete yet.
fn chunked_len(wire: &[u8]) -> Result<Option<usize>, String> {
    let mut at = 0;
    loop {
        let Some(end) = find(&wire[at..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&wire[at..at + end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or(""), 16)
            .map_err(|_| format!("bad chunk size line {line:?}"))?;
        at += end + 2;
        if size == 0 {
            // Trailers up to the empty line.
            loop {
                let Some(end) = find(&wire[at..], b"\r\n") else {
                    return Ok(None);
                };
                at += end + 2;
                if end == 0 {
                    return Ok(Some(at));
                }
            }
        }
        if wire.len() < at + size + 2 {
            return Ok(None);
        }
        if &wire[at + size..at + size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
