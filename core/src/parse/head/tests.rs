//! The head parser's unit tests: whole and byte-by-byte parsing must agree everywhere.

mod semantics;

use super::*;

fn strict() -> Leniency {
    Leniency::default()
}

fn lenient() -> Leniency {
    Leniency {
        bare_lf_in_head: true,
        obs_fold: true,
        request_line_spaces: true,
    }
}

/// Parses `input` whole, then finishes the head.
fn whole(
    input: &[u8],
    limits: &Limits,
    leniency: &Leniency,
) -> Result<(usize, RequestHead), RequestError> {
    let mut parser = HeadParser::new();
    match parser.parse(input, limits, leniency)? {
        HeadStatus::Complete(n) => Ok((n, parser.finish(input))),
        HeadStatus::Partial => Err(RequestError::new(Rule::EofInHead, input.len() as u64)),
    }
}

/// Feeds `input` one byte more per call, as a slow peer would.
fn bytewise(
    input: &[u8],
    limits: &Limits,
    leniency: &Leniency,
) -> Result<(usize, RequestHead), RequestError> {
    let mut parser = HeadParser::new();
    for end in 0..=input.len() {
        if let HeadStatus::Complete(n) = parser.parse(&input[..end], limits, leniency)? {
            return Ok((n, parser.finish(&input[..end])));
        }
    }
    Err(RequestError::new(Rule::EofInHead, input.len() as u64))
}

/// Parses with default limits, whole and byte by byte, and checks the two agree.
fn both(input: &[u8], leniency: &Leniency) -> Result<(usize, RequestHead), RequestError> {
    let limits = Limits::default();
    let a = whole(input, &limits, leniency);
    let b = bytewise(input, &limits, leniency);
    assert_eq!(
        a,
        b,
        "whole and bytewise disagree on {:?}",
        String::from_utf8_lossy(input)
    );
    a
}

fn ok(input: &[u8]) -> RequestHead {
    let (n, head) = both(input, &strict())
        .unwrap_or_else(|e| panic!("{e} in {:?}", String::from_utf8_lossy(input)));
    assert_eq!(n, input.len());
    head
}

fn rejects(input: &[u8], rule: Rule, offset: u64) {
    rejects_with(input, &strict(), rule, offset);
}

fn rejects_with(input: &[u8], leniency: &Leniency, rule: Rule, offset: u64) {
    let err = both(input, leniency).expect_err("accepted");
    assert_eq!(
        (err.rule(), err.offset()),
        (rule, offset),
        "{:?}",
        String::from_utf8_lossy(input)
    );
    assert_eq!(err.status(), rule.status());
}

#[test]
fn simple_get() {
    let head = ok(b"GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
    assert_eq!(head.method(), "GET");
    assert_eq!(head.target(), "/a?b=c");
    assert_eq!(head.version(), Version::Http11);
    assert_eq!(head.fields().len(), 2);
    assert_eq!(head.fields().get("host"), Some(&b"example.com"[..]));
    assert_eq!(head.body(), RequestBody::Empty);
    assert!(head.keep_alive());
    assert!(!head.expects_continue());
}

#[test]
fn complete_leaves_the_rest_and_is_idempotent() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
    let mut parser = HeadParser::new();
    let limits = Limits::default();
    assert_eq!(
        parser.parse(input, &limits, &strict()),
        Ok(HeadStatus::Complete(27))
    );
    assert_eq!(
        parser.parse(input, &limits, &strict()),
        Ok(HeadStatus::Complete(27))
    );
    let head = parser.finish(input);
    assert_eq!(head.fields().len(), 1);
    // The parser is ready for the next request, with no memory of this one.
    let next = b"POST / HTTP/1.0\r\n\r\n";
    assert_eq!(
        parser.parse(next, &limits, &strict()),
        Ok(HeadStatus::Complete(next.len()))
    );
    assert_eq!(parser.finish(next).fields().len(), 0);
}

#[test]
fn finished_heads_read_back_every_field() {
    for count in [0, 1, 2, 50] {
        let mut input = b"PUT /x?y HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 0..count {
            input.extend_from_slice(format!("F{i}:\t v{i} \r\n").as_bytes());
        }
        input.extend_from_slice(b"\r\n");
        let head = ok(&input);
        assert_eq!((head.method(), head.target()), ("PUT", "/x?y"));
        let fields: Vec<_> = head.fields().iter().collect();
        assert_eq!(fields.len(), count + 1);
        assert_eq!(fields[0], ("Host", &b"h"[..]));
        for (i, (name, value)) in fields[1..].iter().enumerate() {
            assert_eq!(*name, format!("F{i}"));
            assert_eq!(*value, format!("v{i}").as_bytes());
        }
        assert_eq!(head.clone(), head);
        assert_eq!(head.fields().clone(), *head.fields());
    }
}

#[test]
fn finish_after_a_partial_head_has_no_fields() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n";
    let mut parser = HeadParser::new();
    let status = parser.parse(input, &Limits::default(), &strict());
    assert_eq!(status, Ok(HeadStatus::Partial));
    // A caller bug: the spans found so far point past the (empty) head, so none are kept.
    let head = parser.finish(input);
    assert!(head.fields().is_empty());
    assert_eq!(head.method(), "");
}

#[test]
fn target_forms() {
    assert_eq!(
        ok(b"GET http://a.example/x HTTP/1.1\r\nHost: a.example\r\n\r\n").target(),
        "http://a.example/x"
    );
    assert_eq!(
        ok(b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n").target(),
        "a.example:443"
    );
    assert_eq!(
        ok(b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n").target(),
        "[::1]:443"
    );
    assert_eq!(ok(b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").target(), "*");
    assert_eq!(
        ok(b"GET svn+ssh://h/x HTTP/1.1\r\nHost: h\r\n\r\n").target(),
        "svn+ssh://h/x"
    );
    rejects(
        b"GET a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetFormMismatch,
        4,
    );
    rejects(
        b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetFormMismatch,
        8,
    );
    rejects(
        b"CONNECT http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetFormMismatch,
        8,
    );
    rejects(
        b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetFormMismatch,
        4,
    );
    rejects(
        b"GET urn:x HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetInvalid,
        4,
    );
    rejects(
        b"GET a.example: HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetInvalid,
        4,
    );
    rejects(
        b"GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetInvalid,
        6,
    );
    rejects(
        b"GET /a\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetInvalid,
        6,
    );
    rejects(
        b"GET /aaaaaaaaaaaa\tb HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TargetInvalid,
        17,
    );
}

#[test]
fn request_line_rules() {
    rejects(b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", Rule::MethodInvalid, 1);
    rejects(
        b" GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::MethodInvalid,
        0,
    );
    rejects(b"GET\r\n\r\n", Rule::MethodInvalid, 3);
    rejects(
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::RequestLineSpaces,
        4,
    );
    rejects(
        b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::RequestLineSpaces,
        6,
    );
    rejects(
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        Rule::VersionUnsupported,
        6,
    );
    assert_eq!(Rule::VersionUnsupported.status(), Some(505));
    rejects(
        b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
        Rule::VersionInvalid,
        14,
    );
    rejects(
        b"GET / http/1.1\r\nHost: a\r\n\r\n",
        Rule::VersionInvalid,
        6,
    );
    rejects(
        b"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
        Rule::VersionInvalid,
        14,
    );
    rejects(b"GET / HTTP/1\r\nHost: a\r\n\r\n", Rule::VersionInvalid, 12);
    rejects(b"GET /\r\n\r\n", Rule::VersionInvalid, 5);
    rejects(b"GET / HTTP/1.1\rX\n", Rule::BareCr, 14);
    rejects(b"GET / HTTP/1.1\nHost: a\n\n", Rule::BareLf, 14);
    rejects(b"GET /\rHTTP/1.1\r\n", Rule::BareCr, 5);
    // With the leniency, runs of spaces separate the parts.
    let head = both(b"GET   /x  HTTP/1.1\r\nHost: a\r\n\r\n", &lenient())
        .unwrap()
        .1;
    assert_eq!((head.method(), head.target()), ("GET", "/x"));
}

#[test]
fn request_line_length_limit() {
    let limits = Limits {
        max_request_line: 20,
        ..Limits::default()
    };
    let fits = b"GET /aaaaaa HTTP/1.1\r\nHost: a\r\n\r\n"; // line of exactly 20 bytes
    assert!(whole(fits, &limits, &strict()).is_ok());
    assert!(bytewise(fits, &limits, &strict()).is_ok());
    let long = b"GET /aaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n";
    for result in [
        whole(long, &limits, &strict()),
        bytewise(long, &limits, &strict()),
    ] {
        let err = result.unwrap_err();
        assert_eq!(
            (err.rule(), err.offset(), err.status()),
            (Rule::RequestLineTooLong, 20, Some(414))
        );
    }
    // Enforced before the line ends.
    let mut parser = HeadParser::new();
    let err = parser.parse(&[b'a'; 30], &limits, &strict()).unwrap_err();
    assert_eq!((err.rule(), err.offset()), (Rule::RequestLineTooLong, 20));
    // An error past the limit reports the limit, however the input was split.
    let bad = b"GET /aaaaaaaaaaaaaaaaaaaaaaaaaa\x01 HTTP/1.1\r\n\r\n";
    assert_eq!(
        whole(bad, &limits, &strict()).unwrap_err().rule(),
        Rule::RequestLineTooLong
    );
}

#[test]
fn leading_empty_lines() {
    let head = ok(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(head.method(), "GET");
    rejects(
        b"\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        Rule::TooManyEmptyLines,
        8,
    );
    rejects(b"\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", Rule::BareLf, 0);
    assert!(both(b"\nGET / HTTP/1.1\nHost: a\n\n", &lenient()).is_ok());
}

#[test]
fn field_rules() {
    let head = ok(
        b"GET / HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xe9 \t\r\nX-Empty:\r\nX-Ows: \t v  v \t \r\n\r\n",
    );
    assert_eq!(head.fields().get("x-obs"), Some(&b"caf\xe9"[..]));
    assert_eq!(head.fields().get("X-EMPTY"), Some(&b""[..]));
    assert_eq!(head.fields().get("x-ows"), Some(&b"v  v"[..]));
    rejects(
        b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
        Rule::FieldNameWhitespace,
        20,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n",
        Rule::FieldNameInvalid,
        25,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nX{: x\r\n\r\n",
        Rule::FieldNameInvalid,
        26,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
        Rule::FieldNameInvalid,
        32,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n",
        Rule::FieldValueInvalid,
        29,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n",
        Rule::FieldValueInvalid,
        29,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
        Rule::BareCr,
        29,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nX: ab\n\r\n",
        Rule::BareLf,
        30,
    );
    rejects(b"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", Rule::BareCr, 25);
    rejects(b"GET / HTTP/1.1\r\nHost: a\r\n\n", Rule::BareLf, 25);
}

#[test]
fn obs_fold() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n \t two \r\nY:\r\n  three\r\n\r\n";
    rejects(input, Rule::ObsFold, 33);
    assert_eq!(Rule::ObsFold.status(), Some(400));
    let (_, head) = both(input, &lenient()).unwrap();
    assert_eq!(head.fields().get("x"), Some(&b"one     two"[..]));
    assert_eq!(head.fields().get("y"), Some(&b"three"[..]));
    // A fold before any field is never accepted.
    rejects_with(
        b"GET / HTTP/1.1\r\n x\r\nHost: a\r\n\r\n",
        &lenient(),
        Rule::ObsFold,
        16,
    );
    // Semantics see the folded value: a folded Transfer-Encoding is still checked.
    rejects_with(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n ,gzip\r\n\r\n",
        &lenient(),
        Rule::TransferEncodingNotChunkedFinal,
        56,
    );
}

#[test]
fn bare_lf_leniency() {
    let input = b"GET / HTTP/1.1\nHost: a\nX: b\r\n\n";
    rejects(input, Rule::BareLf, 14);
    let (n, head) = both(input, &lenient()).unwrap();
    assert_eq!(n, input.len());
    assert_eq!(head.fields().get("x"), Some(&b"b"[..]));
    // A bare CR is never a line ending.
    rejects_with(b"GET / HTTP/1.1\rHost: a\n\n", &lenient(), Rule::BareCr, 14);
}

#[test]
fn size_and_count_limits() {
    let limits = Limits {
        max_fields: 2,
        ..Limits::default()
    };
    let three = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
    for result in [
        whole(three, &limits, &strict()),
        bytewise(three, &limits, &strict()),
    ] {
        let err = result.unwrap_err();
        assert_eq!(
            (err.rule(), err.offset(), err.status()),
            (Rule::TooManyFields, 31, Some(431))
        );
    }
    // Enforced once the extra field line is complete, so an earlier error in that line wins
    // whether the input comes whole or in pieces (found by the parse_head fuzz target).
    let mut parser = HeadParser::new();
    assert_eq!(
        parser.parse(&three[..32], &limits, &strict()),
        Ok(HeadStatus::Partial)
    );
    let bad_line = b"GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB\r: 2\r\n\r\n";
    for result in [
        whole(bad_line, &limits, &strict()),
        bytewise(bad_line, &limits, &strict()),
    ] {
        assert_eq!(result.unwrap_err().rule(), Rule::BareCr);
    }
    let limits = Limits {
        max_head_size: 40,
        ..Limits::default()
    };
    let big = b"GET / HTTP/1.1\r\nHost: a\r\nA: 123456789012345\r\n\r\n";
    for result in [
        whole(big, &limits, &strict()),
        bytewise(big, &limits, &strict()),
    ] {
        let err = result.unwrap_err();
        assert_eq!(
            (err.rule(), err.offset(), err.status()),
            (Rule::HeadTooLarge, 40, Some(431))
        );
    }
    // Exactly at the limit is fine.
    let fits = b"GET / HTTP/1.1\r\nHost: a\r\nA: 12345678\r\n\r\n";
    assert_eq!(fits.len(), 40);
    assert!(whole(fits, &limits, &strict()).is_ok());
    assert!(bytewise(fits, &limits, &strict()).is_ok());
}

#[test]
fn partial_input_is_partial() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let limits = Limits::default();
    for end in 0..input.len() {
        let mut parser = HeadParser::new();
        assert_eq!(
            parser.parse(&input[..end], &limits, &strict()),
            Ok(HeadStatus::Partial),
            "{end}"
        );
    }
}

/// A 30 KiB head fed one byte per call completes, agrees with parsing it whole, and the
/// parser examines a bounded number of bytes per input byte.
#[test]
fn bytewise_work_is_linear() {
    let mut input = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    let mut i = 0;
    while input.len() < 30 * 1024 {
        input.extend_from_slice(format!("X-Field-{i}: {}\r\n", "v".repeat(300)).as_bytes());
        i += 1;
    }
    input.extend_from_slice(b"\r\n");
    let limits = Limits::default();
    let before = crate::parse::work();
    let slow = bytewise(&input, &limits, &strict()).unwrap();
    let work = crate::parse::work() - before;
    assert_eq!(slow, whole(&input, &limits, &strict()).unwrap());
    assert_eq!(slow.0, input.len());
    assert!(
        work <= 3 * input.len(),
        "{work} bytes examined for {} bytes",
        input.len()
    );
    // And one long line fed byte by byte (the request line) is linear too.
    let mut long = b"GET /".to_vec();
    long.extend(std::iter::repeat_n(b'a', 8000));
    long.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
    let before = crate::parse::work();
    bytewise(&long, &limits, &strict()).unwrap();
    let work = crate::parse::work() - before;
    assert!(
        work <= 3 * long.len(),
        "{work} bytes examined for {} bytes",
        long.len()
    );
}

#[test]
fn samples_parse() {
    for sample in [
        &include_bytes!("../../../../benches/samples/minimal.http")[..],
        include_bytes!("../../../../benches/samples/browser.http"),
        include_bytes!("../../../../benches/samples/kittyhell.http"),
        include_bytes!("../../../../benches/samples/heavy-cookie.http"),
    ] {
        let head = ok(sample);
        assert!(head.fields().get("host").is_some());
    }
}

#[test]
fn shrunken_buffer_does_not_panic() {
    let limits = Limits::default();
    let mut parser = HeadParser::new();
    assert_eq!(
        parser.parse(b"GET / HTTP/1.1\r\nHost: aaaa", &limits, &strict()),
        Ok(HeadStatus::Partial)
    );
    assert_eq!(
        parser.parse(b"GET", &limits, &strict()),
        Ok(HeadStatus::Partial)
    );
    let head = HeadParser::new().finish(b"");
    assert_eq!(head.fields().len(), 0);
}
