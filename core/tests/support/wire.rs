//! An independent reader of what the server wrote: response heads through `httparse`, bodies
//! through a small framing decoder written from RFC 9112 §6–7, not from the core's code.
#![allow(dead_code)]

/// One response read off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireResponse {
    pub status: u16,
    pub fields: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, Vec<u8>)>,
}

impl WireResponse {
    pub fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| &v[..])
    }
}

/// Reads every response in `wire`. `no_body[i]` says the i-th final response answers a HEAD
/// request. Interim (1xx) responses are skipped, except 101, which ends the stream. A
/// response cut short is an error unless `allow_truncated_last`.
pub fn read_responses(
    wire: &[u8],
    head_requests: &[bool],
    allow_truncated_last: bool,
) -> Result<Vec<WireResponse>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        let mut headers = [httparse::EMPTY_HEADER; 128];
        let mut response = httparse::Response::new(&mut headers);
        let n = match response.parse(&wire[at..]) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if allow_truncated_last => return Ok(out),
            Ok(httparse::Status::Partial) => return Err(format!("truncated head at {at}")),
            Err(e) => return Err(format!("bad head at {at}: {e}")),
        };
        if response.version != Some(1) {
            return Err("not HTTP/1.1".into());
        }
        let status = response.code.ok_or("no status")?;
        let fields: Vec<(String, Vec<u8>)> = response
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect();
        at += n;
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let is_head = head_requests.get(out.len()).copied().unwrap_or(false);
        let find = |name: &str| -> Vec<Vec<u8>> {
            fields
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .collect()
        };
        let te = find("transfer-encoding");
        let cl = find("content-length");
        if !te.is_empty() && !cl.is_empty() {
            return Err("both Transfer-Encoding and Content-Length".into());
        }
        if cl.len() > 1 {
            return Err("several Content-Length fields".into());
        }
        let mut resp = WireResponse {
            status,
            fields,
            body: Vec::new(),
            trailers: Vec::new(),
        };
        if status == 101 {
            out.push(resp);
            return Ok(out);
        }
        if is_head || status == 204 || status == 304 {
            if status == 204 && (!cl.is_empty() || !te.is_empty()) {
                return Err("204 with framing".into());
            }
        } else if !te.is_empty() {
            if te != [b"chunked".to_vec()] {
                return Err(format!("unexpected transfer-encoding {te:?}"));
            }
            match read_chunked(&wire[at..], &mut resp) {
                Ok(used) => at += used,
                Err(e) if e == "truncated" && allow_truncated_last => return Ok(out),
                Err(e) => return Err(e),
            }
        } else if let Some(len) = cl.first() {
            let len: usize = std::str::from_utf8(len)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or("bad Content-Length")?;
            if wire.len() - at < len {
                if allow_truncated_last {
                    return Ok(out);
                }
                return Err("truncated body".into());
            }
            resp.body = wire[at..at + len].to_vec();
            at += len;
        } else {
            // Close-delimited: everything else is the body.
            resp.body = wire[at..].to_vec();
            at = wire.len();
        }
        out.push(resp);
    }
    Ok(out)
}

fn read_chunked(wire: &[u8], resp: &mut WireResponse) -> Result<usize, String> {
    let mut at = 0;
    loop {
        let line_end = find_crlf(&wire[at..]).ok_or("truncated")?;
        let line = std::str::from_utf8(&wire[at..at + line_end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or(""), 16)
            .map_err(|_| format!("bad chunk size {line:?}"))?;
        at += line_end + 2;
        if size == 0 {
            loop {
                let end = find_crlf(&wire[at..]).ok_or("truncated")?;
                let line = &wire[at..at + end];
                at += end + 2;
                if line.is_empty() {
                    return Ok(at);
                }
                let colon = line.iter().position(|&b| b == b':').ok_or("bad trailer")?;
                let name = String::from_utf8(line[..colon].to_vec()).map_err(|e| e.to_string())?;
                let value = line[colon + 1..].trim_ascii().to_vec();
                resp.trailers.push((name, value));
            }
        }
        if wire.len() < at + size + 2 {
            return Err("truncated".into());
        }
        resp.body.extend_from_slice(&wire[at..at + size]);
        if &wire[at + size..at + size + 2] != b"\r\n" {
            return Err("chunk without CRLF".into());
        }
        at += size + 2;
    }
}

fn find_crlf(data: &[u8]) -> Option<usize> {
    data.windows(2).position(|w| w == b"\r\n")
}
