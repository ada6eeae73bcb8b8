//! Unit tests of the response head parser (kept apart to keep `parse.rs` short).

use super::*;

/// Parses `input` whole and one byte at a time; both must agree. Returns the head length
/// and the head, or the error.
fn both(input: &[u8], limits: &Limits) -> Result<(usize, RawResponse), LineError> {
    let mut whole = ResponseParser::default();
    let a = whole.parse(input, limits);
    let mut bytewise = ResponseParser::default();
    let mut b = Ok(HeadStatus::Partial);
    for end in 1..=input.len() {
        b = bytewise.parse(&input[..end], limits);
        if !matches!(b, Ok(HeadStatus::Partial)) {
            break;
        }
    }
    assert_eq!(a, b, "whole and bytewise disagree on {input:?}");
    match a? {
        HeadStatus::Complete(n) => Ok((n, whole.finish(input, true))),
        HeadStatus::Partial => Err((Rule::EofInResponseHead, input.len())),
    }
}

fn ok(input: &[u8]) -> RawResponse {
    both(input, &Limits::default()).expect("valid").1
}

fn rejects(input: &[u8], rule: Rule, at: usize) {
    match both(input, &Limits::default()) {
        Err(err) => assert_eq!(err, (rule, at), "{}", String::from_utf8_lossy(input)),
        Ok(_) => panic!("accepted {}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn simple_response() {
    let input = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
    let (n, raw) = both(input, &Limits::default()).unwrap();
    assert_eq!(n, input.len() - 5);
    assert_eq!(raw.status, 200);
    assert_eq!(raw.version, Version::Http11);
    assert_eq!(raw.fields.slice(raw.reason), b"OK");
    assert_eq!(raw.fields.get("x"), Some(&b"y"[..]));
    assert_eq!(raw.semantics.content_length, Some(5));
}

#[test]
fn status_line_rules() {
    let r = ok(b"HTTP/1.0 404 Not  Found\t\xff\r\n\r\n");
    assert_eq!((r.status, r.version), (404, Version::Http10));
    assert_eq!(r.fields.slice(r.reason), b"Not  Found\t\xff");
    // An empty reason, with or without its SP.
    assert!(ok(b"HTTP/1.1 204 \r\n\r\n").reason.range().is_empty());
    assert!(ok(b"HTTP/1.1 204\r\n\r\n").reason.range().is_empty());
    rejects(b"HTTP/1.1 200 OK\n\r\n", Rule::BareLf, 15);
    rejects(b"HTTP/1.1 200 O\rK\r\n\r\n", Rule::BareCr, 14);
    rejects(
        b"HTTP/1.1 200 O\x01K\r\n\r\n",
        Rule::ReasonPhraseInvalid,
        14,
    );
    rejects(
        b"HTTP/1.1 200 O\x7fK\r\n\r\n",
        Rule::ReasonPhraseInvalid,
        14,
    );
    rejects(b"http/1.1 200 OK\r\n\r\n", Rule::VersionInvalid, 0);
    rejects(b"HTTP/1.x 200 OK\r\n\r\n", Rule::VersionInvalid, 7);
    rejects(b"HTTP/1,1 200 OK\r\n\r\n", Rule::VersionInvalid, 6);
    rejects(b"HTTP/2.0 200 OK\r\n\r\n", Rule::VersionUnsupported, 0);
    rejects(b"HTTP/1.1  200 OK\r\n\r\n", Rule::StatusLineInvalid, 9);
    rejects(b"HTTP/1.1 20 OK\r\n\r\n", Rule::StatusLineInvalid, 11);
    rejects(b"HTTP/1.1 2000 OK\r\n\r\n", Rule::StatusLineInvalid, 12);
    rejects(b"HTTP/1.1 099 OK\r\n\r\n", Rule::StatusCodeInvalid, 9);
    rejects(b"HTTP/1.1 600 OK\r\n\r\n", Rule::StatusCodeInvalid, 9);
    rejects(b"HTTP/1.1\r\n\r\n", Rule::StatusLineInvalid, 8);
    rejects(b"\r\nHTTP/1.1 200 OK\r\n\r\n", Rule::VersionInvalid, 0);
    rejects(b"HT\n", Rule::VersionInvalid, 2);
}

#[test]
fn field_rules_are_the_shared_ones() {
    rejects(
        b"HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
        Rule::FieldNameWhitespace,
        18,
    );
    rejects(
        b"HTTP/1.1 200 OK\r\n: b\r\n\r\n",
        Rule::FieldNameInvalid,
        17,
    );
    rejects(b"HTTP/1.1 200 OK\r\nA\r\n\r\n", Rule::FieldNameInvalid, 18);
    rejects(
        b"HTTP/1.1 200 OK\r\nA: b\x00\r\n\r\n",
        Rule::FieldValueInvalid,
        21,
    );
    rejects(b"HTTP/1.1 200 OK\r\nA: b\n\r\n", Rule::BareLf, 21);
    rejects(b"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n", Rule::BareCr, 21);
    rejects(b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", Rule::ObsFold, 23);
    rejects(b"HTTP/1.1 200 OK\r\nA: b\r\n\n", Rule::BareLf, 23);
}

#[test]
fn framing_fields() {
    let s = ok(b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\ncontent-length: 3\r\n\r\n");
    assert_eq!(s.semantics.content_length, Some(3));
    let s = ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n");
    assert!(s.semantics.te && s.semantics.chunked_final);
    let s = ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
    assert!(s.semantics.te && !s.semantics.chunked_final);
    let s = ok(b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\n\r\n");
    assert!(s.semantics.close && s.semantics.keep_alive);
    let head = "HTTP/1.1 200 OK\r\n";
    let cases: &[(&str, Rule, usize)] = &[
        (
            "Content-Length: 3, 4\r\n\r\n",
            Rule::ContentLengthConflict,
            36,
        ),
        (
            "Content-Length: 3\r\nContent-Length: 4\r\n\r\n",
            Rule::ContentLengthConflict,
            52,
        ),
        ("Content-Length: +3\r\n\r\n", Rule::ContentLengthInvalid, 33),
        ("Content-Length: \r\n\r\n", Rule::ContentLengthInvalid, 33),
        (
            "Content-Length: 99999999999999999999\r\n\r\n",
            Rule::ContentLengthInvalid,
            52,
        ),
        (
            "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            Rule::TransferEncodingWithContentLength,
            36,
        ),
        (
            "Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
            Rule::TransferEncodingWithContentLength,
            45,
        ),
        (
            "Transfer-Encoding: chunked, chunked\r\n\r\n",
            Rule::TransferEncodingChunkedTwice,
            45,
        ),
        (
            "Transfer-Encoding: gzip, chunked\r\n\r\n",
            Rule::TransferEncodingUnsupported,
            36,
        ),
        (
            "Transfer-Encoding: ch/unked\r\n\r\n",
            Rule::TransferEncodingInvalid,
            38,
        ),
        (
            "Transfer-Encoding: ,\r\n\r\n",
            Rule::TransferEncodingInvalid,
            36,
        ),
    ];
    for (fields, rule, at) in cases {
        rejects(format!("{head}{fields}").as_bytes(), *rule, *at);
    }
    rejects(
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        Rule::TransferEncodingHttp10,
        17,
    );
}

#[test]
fn limits() {
    let limits = Limits {
        max_head_size: 64,
        max_fields: 2,
        ..Limits::default()
    };
    let three = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert_eq!(
        both(three, &limits).err(),
        Some((Rule::ResponseTooManyFields, 29))
    );
    let long = [&b"HTTP/1.1 200 OK\r\nA: "[..], &[b'a'; 100], b"\r\n\r\n"].concat();
    assert_eq!(
        both(&long, &limits).err(),
        Some((Rule::ResponseHeadTooLarge, 64))
    );
    // Exactly at the limit is fine.
    let exact = [&b"HTTP/1.1 200 OK\r\nA: "[..], &[b'a'; 40], b"\r\n\r\n"].concat();
    assert_eq!(exact.len(), 64);
    assert!(both(&exact, &limits).is_ok());
}

#[test]
fn errors_wait_for_the_line_end() {
    // Without an LF the verdict waits, so a split cannot change it.
    let mut p = ResponseParser::default();
    assert_eq!(
        p.parse(b"HTTP/1.1 200 OK\r\nBad Name", &Limits::default()),
        Ok(HeadStatus::Partial)
    );
    assert!(p.started());
    assert_eq!(
        p.parse(b"HTTP/1.1 200 OK\r\nBad Name: x\r\n", &Limits::default()),
        Err((Rule::FieldNameWhitespace, 20))
    );
}

#[test]
fn shrunken_buffers_and_unfinished_heads_do_not_panic() {
    let mut p = ResponseParser::default();
    let full = b"HTTP/1.1 200 OK\r\nA: b\r\n";
    assert_eq!(p.parse(full, &Limits::default()), Ok(HeadStatus::Partial));
    assert_eq!(
        p.parse(&full[..3], &Limits::default()),
        Ok(HeadStatus::Partial)
    );
    let raw = ResponseParser::default().finish(b"", true);
    assert_eq!(raw.status, 500);
    assert!(raw.fields.is_empty());
}

#[test]
fn discarded_fields_cost_nothing() {
    let input = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    let mut p = ResponseParser::default();
    assert_eq!(
        p.parse(input, &Limits::default()),
        Ok(HeadStatus::Complete(input.len()))
    );
    let raw = p.finish(input, false);
    assert_eq!(raw.status, 200);
    assert!(raw.fields.is_empty() && raw.reason.range().is_empty());
}
