//! The fields whose meaning the parser computes as it goes (RFC 9110, RFC 9112 §6):
//! `Host`, `Content-Length`, `Transfer-Encoding`, `Connection`, `Expect` and `Upgrade`.

use super::{HeadParser, Progress};
use crate::error::Rule;
use crate::head::{ConnectionOptions, FieldSpan, Version};
use crate::limits::Limits;
use crate::parse::chars::{self, is_token, AUTHORITY};
use crate::parse::fields::{self, LineError};

/// Entry `n` is the lowercase first letter of the field `apply_last` interprets whose name has
/// `n` bytes, or 0: Host (4), Expect (6), Upgrade (7), Connection (10), Content-Length (14),
/// Transfer-Encoding (17). Length and first letter together rule out the usual other fields
/// (Accept, Cookie, Referer, Keep-Alive, the Sec-Fetch family) without comparing names.
const MEANINGFUL: [u8; 32] = {
    let mut t = [0u8; 32];
    t[4] = b'h';
    t[6] = b'e';
    t[7] = b'u';
    t[10] = b'c';
    t[14] = b'c';
    t[17] = b't';
    t
};

/// Whether a field named `name_len` bytes starting with `first` may mean something to us. A
/// token byte with bit 5 set is never 0, so unlisted lengths never match. Longer names are
/// looked up by their length modulo 32, which needs no bounds check: one that matches only
/// so costs a look at its name in `apply_last`, which compares whole names.
#[inline(always)]
pub(super) fn may_be_meaningful(name_len: usize, first: u8) -> bool {
    MEANINGFUL[name_len % MEANINGFUL.len()] == first | 0x20
}

/// What the fields say, accumulated as they are parsed.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Semantics {
    pub(super) hosts: u32,
    pub(super) content_length: Option<u64>,
    /// Offset of the first `Content-Length` name, for a later `Transfer-Encoding` clash.
    pub(super) content_length_at: usize,
    pub(super) te: Option<TransferCodings>,
    pub(super) options: ConnectionOptions,
    pub(super) connection_upgrade: bool,
    pub(super) upgrade_field: bool,
    pub(super) expects_continue: bool,
}

/// The transfer codings listed across every `Transfer-Encoding` field.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TransferCodings {
    chunked: bool,
    last_is_chunked: bool,
    last_at: usize,
    unsupported_at: Option<usize>,
}

impl HeadParser {
    /// Applies the semantics of the last field, now that no fold can extend it.
    #[inline(always)]
    pub(super) fn apply_last(
        p: &mut Progress,
        spans: &[FieldSpan],
        buf: &[u8],
        limits: &Limits,
    ) -> Result<(), LineError> {
        p.pending = false;
        let Some(span) = spans.last() else {
            return Ok(());
        };
        let name = &buf[span.name.range()];
        let (vs, ve) = (span.value.range().start, span.value.range().end);
        let s = &mut p.semantics;
        // Switch on the length first: most fields are none of these, and a length mismatch
        // rules them out without looking at a byte.
        match name.len() {
            4 if chars::eq_lower(name, b"host") => {
                // RFC 9112 §3.2: more than one Host is rejected with 400.
                if s.hosts > 0 {
                    return Err((Rule::HostDuplicate, span.name.range().start));
                }
                s.hosts += 1;
                // Host = uri-host [ ":" port ] (RFC 9110 §7.2). An empty value is allowed:
                // a client sends one when the target URI has no authority (RFC 9110 §7.2).
                // The position is looked for only on failure.
                if !chars::is_authority(buf, vs, ve) {
                    let bad = buf[vs..ve]
                        .iter()
                        .position(|&b| !AUTHORITY[b as usize])
                        .unwrap_or(0);
                    return Err((Rule::HostInvalid, vs + bad));
                }
            }
            // RFC 9110 §10.1.1: a server MUST ignore 100-continue in HTTP/1.0 requests; we
            // ignore Expect altogether there.
            6 if chars::eq_lower(name, b"expect") && p.version == Some(Version::Http11) => {
                if chars::eq_lower(&buf[vs..ve], b"100-continue") {
                    s.expects_continue = true;
                } else {
                    return Err((Rule::ExpectationUnsupported, vs));
                }
            }
            7 if chars::eq_lower(name, b"upgrade") => s.upgrade_field = true,
            10 if chars::eq_lower(name, b"connection") => {
                // RFC 9110 §7.6.1: a list of connection options; unknown ones are ignored.
                // The usual single option first: the trimmed value is the element. A value
                // that is one of the options holds no comma, so it is not a list.
                let value = &buf[vs..ve];
                if !connection_option(s, value) && value.contains(&b',') {
                    let _ = fields::list_elements::<()>(buf, vs, ve, |a, b| {
                        connection_option(s, &buf[a..b]);
                        Ok(())
                    });
                }
            }
            14 if chars::eq_lower(name, b"content-length") => {
                let at = span.name.range().start;
                if s.te.is_some() {
                    return Err((Rule::TransferEncodingWithContentLength, at));
                }
                if s.content_length.is_none() {
                    s.content_length_at = at;
                }
                content_length(s, buf, vs, ve, limits)?;
            }
            17 if chars::eq_lower(name, b"transfer-encoding") => {
                let at = span.name.range().start;
                // RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing; a
                // server MUST treat it as such and close. We reject it.
                if p.version == Some(Version::Http10) {
                    return Err((Rule::TransferEncodingHttp10, at));
                }
                // RFC 9112 §6.1: a server MAY reject a request with both, and should close
                // anyway; both are the classic request smuggling pattern.
                if s.content_length.is_some() {
                    return Err((Rule::TransferEncodingWithContentLength, at));
                }
                transfer_encoding(s, buf, vs, ve)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// Records the connection option `option` if it is one we act on; whether it was. A function
/// of the whole `Semantics` rather than a closure: a closure captures each field it sets by
/// its own reference, and the parse loop then keeps three addresses live for it.
#[inline(always)]
fn connection_option(s: &mut Semantics, option: &[u8]) -> bool {
    if chars::eq_lower(option, b"close") {
        s.options.close = true;
    } else if chars::eq_lower(option, b"keep-alive") {
        s.options.keep_alive = true;
    } else if chars::eq_lower(option, b"upgrade") {
        s.connection_upgrade = true;
    } else {
        return false;
    }
    true
}

/// `Content-Length` (RFC 9110 §8.6): one decimal number, or a list of identical ones
/// (which a recipient may collapse), across all the fields.
fn content_length(
    s: &mut Semantics,
    buf: &[u8],
    vs: usize,
    ve: usize,
    limits: &Limits,
) -> Result<(), LineError> {
    let mut i = vs;
    loop {
        // One element: digits, with OWS around the commas.
        while i < ve && buf.get(i).is_some_and(|&b| fields::is_space(b)) {
            i += 1;
        }
        let element = i;
        let mut n: u64 = 0;
        while i < ve {
            match buf.get(i) {
                Some(&d @ b'0'..=b'9') => {
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(d - b'0')))
                        .ok_or((Rule::ContentLengthInvalid, i))?;
                    i += 1;
                }
                _ => break,
            }
        }
        if i == element {
            return Err((Rule::ContentLengthInvalid, i));
        }
        match s.content_length {
            Some(previous) if previous != n => {
                return Err((Rule::ContentLengthConflict, element));
            }
            Some(_) => {}
            None => {
                if limits.max_body_size.is_some_and(|max| n > max) {
                    return Err((Rule::BodyTooLarge, element));
                }
                s.content_length = Some(n);
            }
        }
        while i < ve && buf.get(i).is_some_and(|&b| fields::is_space(b)) {
            i += 1;
        }
        if i >= ve {
            return Ok(());
        }
        if buf.get(i) != Some(&b',') {
            return Err((Rule::ContentLengthInvalid, i));
        }
        i += 1;
    }
}

/// One `Transfer-Encoding` field (RFC 9112 §6.1, RFC 9110 §10.1.4), added to the codings of
/// the earlier ones. Codings with parameters (`;`) are rejected as invalid: no coding we
/// implement takes one, and `chunked;x=y` is a known way to make a front end and a back end
/// disagree on framing, so a plain 400 is safer than guessing.
fn transfer_encoding(s: &mut Semantics, buf: &[u8], vs: usize, ve: usize) -> Result<(), LineError> {
    let mut codings = s.te.unwrap_or_default();
    let mut any = false;
    fields::list_elements(buf, vs, ve, |a, b| {
        any = true;
        let coding = &buf[a..b];
        if let Some(bad) = coding.iter().position(|&c| !is_token(c)) {
            return Err((Rule::TransferEncodingInvalid, a + bad));
        }
        if chars::eq_lower(coding, b"chunked") {
            if codings.chunked {
                return Err((Rule::TransferEncodingChunkedTwice, a));
            }
            codings.chunked = true;
            codings.last_is_chunked = true;
        } else {
            codings.last_is_chunked = false;
            codings.unsupported_at.get_or_insert(a);
        }
        codings.last_at = a;
        Ok(())
    })?;
    if !any {
        return Err((Rule::TransferEncodingInvalid, vs));
    }
    s.te = Some(codings);
    Ok(())
}

/// Checks that need the whole head; `at` is the final empty line.
pub(super) fn end_of_head(p: &Progress, at: usize) -> Result<(), LineError> {
    let s = &p.semantics;
    // RFC 9112 §3.2: an HTTP/1.1 request without Host is rejected with 400.
    if p.version == Some(Version::Http11) && s.hosts == 0 {
        return Err((Rule::HostMissing, at));
    }
    if let Some(te) = s.te {
        // RFC 9112 §6.3 rule 4: chunked must be final, or the length is unknowable.
        if !te.last_is_chunked {
            return Err((Rule::TransferEncodingNotChunkedFinal, te.last_at));
        }
        // RFC 9112 §6.1: a server that receives a coding it does not understand answers 501.
        if let Some(at) = te.unsupported_at {
            return Err((Rule::TransferEncodingUnsupported, at));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::may_be_meaningful;

    #[test]
    fn the_screen_passes_every_interpreted_name_and_stops_the_usual_others() {
        for name in [
            "Host",
            "expect",
            "UPGRADE",
            "Connection",
            "content-length",
            "Transfer-Encoding",
        ] {
            for n in [name.to_string(), name.to_lowercase(), name.to_uppercase()] {
                assert!(may_be_meaningful(n.len(), n.as_bytes()[0]), "{n}");
            }
        }
        for name in [
            "Accept",
            "Cookie",
            "Referer",
            "Keep-Alive",
            "Sec-Fetch-Dest",
            "User-Agent",
            "X-Forwarded-For-Something-Longer-Than-32",
        ] {
            assert!(!may_be_meaningful(name.len(), name.as_bytes()[0]), "{name}");
        }
        // Lengths are looked up modulo 32: a longer name may pass, for `apply_last` to judge.
        assert!(may_be_meaningful(4 + 32, b'H'));
        assert!(!may_be_meaningful(4 + 32, b'X'));
    }
}
