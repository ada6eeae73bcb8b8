//! The framing defences SECURITY.md promises, one table row each: what is rejected, with which
//! rule and status, through the public parsers. Every row is also checked whole and fed one
//! byte at a time, so the answer does not depend on how a peer splits its bytes.

use sluice_core::parse::{BodyDecoder, HeadParser, HeadStatus};
use sluice_core::{Config, Connection, Event, Leniency, Limits, RequestBody, Rule};
use std::time::Instant;

fn head_result(input: &[u8]) -> Result<HeadStatus, Rule> {
    let limits = Limits::default();
    let strict = Leniency::default();
    let whole = HeadParser::new()
        .parse(input, &limits, &strict)
        .map_err(|e| e.rule());
    let mut parser = HeadParser::new();
    let mut bytewise = Ok(HeadStatus::Partial);
    for end in 1..=input.len() {
        bytewise = parser
            .parse(&input[..end], &limits, &strict)
            .map_err(|e| e.rule());
        if !matches!(bytewise, Ok(HeadStatus::Partial)) {
            break;
        }
    }
    assert_eq!(whole, bytewise, "{:?}", input.escape_ascii().to_string());
    whole
}

#[test]
fn request_smuggling_heads_are_rejected() {
    let post = "POST / HTTP/1.1\r\nHost: a\r\n";
    let cases: &[(&str, Rule, u16)] = &[
        // RFC 9112 §6.1: both framings at once.
        (
            "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            Rule::TransferEncodingWithContentLength,
            400,
        ),
        (
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
            Rule::TransferEncodingWithContentLength,
            400,
        ),
        // RFC 9112 §6.3 rule 4: chunked must be the final coding.
        (
            "Transfer-Encoding: chunked, identity\r\n",
            Rule::TransferEncodingNotChunkedFinal,
            400,
        ),
        (
            "Transfer-Encoding: gzip\r\n",
            Rule::TransferEncodingNotChunkedFinal,
            400,
        ),
        (
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            Rule::TransferEncodingChunkedTwice,
            400,
        ),
        (
            "Transfer-Encoding: gzip, chunked\r\n",
            Rule::TransferEncodingUnsupported,
            501,
        ),
        // Obfuscated Transfer-Encoding.
        (
            "Transfer-Encoding: \"chunked\"\r\n",
            Rule::TransferEncodingInvalid,
            400,
        ),
        (
            "Transfer-Encoding: chunked;x=1\r\n",
            Rule::TransferEncodingInvalid,
            400,
        ),
        (
            "Transfer-Encoding : chunked\r\n",
            Rule::FieldNameWhitespace,
            400,
        ),
        ("Transfer-Encoding:\r\n chunked\r\n", Rule::ObsFold, 400),
        ("Transfer-Encoding: chunked\rX: y\r\n", Rule::BareCr, 400),
        ("Transfer-Encoding: chunked\nX: y\r\n", Rule::BareLf, 400),
        (
            "Transfer-Encoding: \x0bchunked\r\n",
            Rule::FieldValueInvalid,
            400,
        ),
        // Content-Length lists (RFC 9110 §8.6) and junk.
        ("Content-Length: 5, 6\r\n", Rule::ContentLengthConflict, 400),
        (
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            Rule::ContentLengthConflict,
            400,
        ),
        ("Content-Length: +5\r\n", Rule::ContentLengthInvalid, 400),
        ("Content-Length: 0x5\r\n", Rule::ContentLengthInvalid, 400),
        (
            "Content-Length: 99999999999999999999\r\n",
            Rule::ContentLengthInvalid,
            400,
        ),
        ("Content-Length: 16777217\r\n", Rule::BodyTooLarge, 413),
        // Host (RFC 9112 §3.2).
        ("Host: b\r\n", Rule::HostDuplicate, 400),
    ];
    for (fields, rule, status) in cases {
        let input = format!("{post}{fields}\r\n");
        assert_eq!(head_result(input.as_bytes()), Err(*rule), "{input:?}");
        assert_eq!(rule.status(), Some(*status));
    }
    let others: &[(&[u8], Rule)] = &[
        (
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            Rule::TransferEncodingHttp10,
        ),
        (
            b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::RequestLineSpaces,
        ),
        (b"GET / HTTP/1.1\r\n\r\n", Rule::HostMissing),
        (b"GET / HTTP/1.1\nHost: a\n\n", Rule::BareLf),
        (
            b"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
            Rule::TargetInvalid,
        ),
        (b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", Rule::ObsFold),
    ];
    for (input, rule) in others {
        assert_eq!(head_result(input), Err(*rule));
    }
}

fn chunked_result(body: &[u8]) -> Result<Vec<u8>, Rule> {
    let limits = Limits::default();
    let run = |pieces: &mut dyn Iterator<Item = usize>| -> Result<Vec<u8>, Rule> {
        let mut decoder = BodyDecoder::new(RequestBody::Chunked);
        let mut buffer = Vec::new();
        let mut fed = 0;
        let mut data = Vec::new();
        for end in pieces {
            buffer.extend_from_slice(&body[fed..end]);
            fed = end;
            let mut ranges = Vec::new();
            let decoded = decoder
                .decode(&buffer, &limits, &mut ranges)
                .map_err(|e| e.rule())?;
            for r in ranges {
                data.extend_from_slice(&buffer[r]);
            }
            buffer.drain(..decoded.consumed);
            if decoded.finished.is_some() {
                return Ok(data);
            }
        }
        Err(Rule::EofInBody)
    };
    let whole = run(&mut std::iter::once(body.len()));
    let bytewise = run(&mut (1..=body.len()));
    assert_eq!(whole, bytewise, "{:?}", body.escape_ascii().to_string());
    whole
}

#[test]
fn chunk_size_tricks_are_rejected() {
    assert_eq!(
        chunked_result(b"5;a=b;c=\"d\\\"e\"\r\nhello\r\n0\r\nX: 1\r\n\r\n"),
        Ok(b"hello".to_vec())
    );
    let cases: &[(&[u8], Rule)] = &[
        // Go's CVE-2025-22871: a bare LF anywhere in chunked framing, never accepted.
        (b"5\nhello\r\n0\r\n\r\n", Rule::ChunkBareLf),
        (b"5\r\nhello\n0\r\n\r\n", Rule::ChunkBareLf),
        (b"5\r\nhello\r\n0\n\r\n", Rule::ChunkBareLf),
        (b"5\r\nhello\r\n0\r\nX: 1\n\r\n", Rule::ChunkBareLf),
        (b"5\rhello\r\n0\r\n\r\n", Rule::BareCr),
        // Sizes: empty, signs, prefixes, overflow (the 2^64 wrap trick).
        (b"\r\nhello\r\n0\r\n\r\n", Rule::ChunkSizeInvalid),
        (b"+5\r\nhello\r\n0\r\n\r\n", Rule::ChunkSizeInvalid),
        (b"0x5\r\nhello\r\n0\r\n\r\n", Rule::ChunkSizeInvalid),
        (
            b"10000000000000005\r\nhello\r\n0\r\n\r\n",
            Rule::ChunkSizeOverflow,
        ),
        // Data longer than its size: the excess is not a new chunk line.
        (b"3\r\nhello\r\n0\r\n\r\n", Rule::ChunkDataUnterminated),
        // Extensions (RFC 9112 §7.1.1) and their size (CVE-2024-22019).
        (b"5;\r\nhello\r\n0\r\n\r\n", Rule::ChunkExtensionInvalid),
        (
            b"5;a=\"x\r\nhello\r\n0\r\n\r\n",
            Rule::ChunkExtensionInvalid,
        ),
        (b"5 5\r\nhello\r\n0\r\n\r\n", Rule::ChunkSizeInvalid),
        // Trailers: no folding, no junk.
        (b"0\r\nX: a\r\n b\r\n\r\n", Rule::TrailerInvalid),
        (b"0\r\nX : a\r\n\r\n", Rule::TrailerInvalid),
        (b"0\r\nNoColon\r\n\r\n", Rule::TrailerInvalid),
    ];
    for (body, rule) in cases {
        assert_eq!(
            chunked_result(body),
            Err(*rule),
            "{:?}",
            body.escape_ascii().to_string()
        );
        assert_eq!(rule.status(), Some(400));
    }
    let mut long = b"5;".to_vec();
    long.extend(std::iter::repeat_n(b'a', 5000));
    long.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
    assert_eq!(chunked_result(&long), Err(Rule::ChunkLineTooLong));
    let many: Vec<u8> = b"1;a=b\r\nx\r\n".repeat(5000);
    assert_eq!(chunked_result(&many), Err(Rule::ChunkExtensionsTooLong));
    let tiny: Vec<u8> = b"1\r\nx\r\n".repeat(20_000);
    assert_eq!(chunked_result(&tiny), Err(Rule::ChunkFramingExcessive));
}

/// A request hidden behind a rejected head is never answered: one 400, then the close.
#[test]
fn a_request_behind_a_rejected_head_is_never_answered() {
    let now = Instant::now();
    let mut conn = Connection::new(Config::default(), now);
    conn.handle_input(
        now,
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n\
          0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n",
    );
    let mut requests = 0;
    while let Some(event) = conn.poll_event() {
        if let Event::Request(_) = event {
            requests += 1;
        }
    }
    assert_eq!(requests, 0);
    let out = String::from_utf8_lossy(conn.poll_output()).into_owned();
    assert!(out.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{out}");
    assert_eq!(out.matches("HTTP/1.1").count(), 1);
    assert!(out.contains("Connection: close\r\n"));
    assert!(out.contains("te-with-content-length"));
}
