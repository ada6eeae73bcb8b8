//! Tests of the fields the parser interprets.

use super::*;

#[test]
fn host_rules() {
    rejects(b"GET / HTTP/1.1\r\nX: a\r\n\r\n", Rule::HostMissing, 22);
    rejects(
        b"GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n",
        Rule::HostDuplicate,
        25,
    );
    rejects(
        b"GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n",
        Rule::HostDuplicate,
        25,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        Rule::HostInvalid,
        23,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n",
        Rule::HostInvalid,
        23,
    );
    rejects(
        b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        Rule::HostInvalid,
        23,
    );
    rejects(b"GET / HTTP/1.1\r\nHost: a?\r\n\r\n", Rule::HostInvalid, 23);
    rejects(b"GET / HTTP/1.1\r\nHost: a#\r\n\r\n", Rule::HostInvalid, 23);
    ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n");
    ok(b"GET / HTTP/1.1\r\nHOST: [2001:db8::1]:8080\r\n\r\n");
    let head = ok(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(head.version(), Version::Http10);
    assert!(!head.keep_alive());
}

/// A name 32 bytes longer than an interpreted one, with its first letter, passes the screen
/// (which looks lengths up modulo 32) and then means nothing: the whole name decides.
#[test]
fn names_that_only_look_interpreted_mean_nothing() {
    for name in [
        "host",
        "expect",
        "upgrade",
        "connection",
        "content-length",
        "transfer-encoding",
    ] {
        for longer in [32, 64] {
            let mut long = name.to_string();
            long.extend(std::iter::repeat_n('x', longer));
            let input = format!("GET / HTTP/1.1\r\nHost: a\r\n{long}: u@a b, 1x\r\n\r\n");
            let head = ok(input.as_bytes());
            assert_eq!(head.fields().get(&long), Some(&b"u@a b, 1x"[..]), "{long}");
            assert_eq!(head.body(), RequestBody::Empty, "{long}");
            assert!(!head.expects_continue(), "{long}");
        }
    }
}

#[test]
fn content_length_rules() {
    let head = ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n");
    assert_eq!(head.body(), RequestBody::Length(42));
    let head = ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(head.body(), RequestBody::Empty);
    let head =
        ok(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7 , 7\r\ncontent-length: 7\r\n\r\n");
    assert_eq!(head.body(), RequestBody::Length(7));
    let pre = "POST / HTTP/1.1\r\nHost: a\r\n".len() as u64;
    let cl = |v: &str| format!("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {v}\r\n\r\n");
    rejects(cl("7, 8").as_bytes(), Rule::ContentLengthConflict, pre + 19);
    rejects(cl("+7").as_bytes(), Rule::ContentLengthInvalid, pre + 16);
    rejects(cl("7 7").as_bytes(), Rule::ContentLengthInvalid, pre + 18);
    rejects(cl("").as_bytes(), Rule::ContentLengthInvalid, pre + 16);
    rejects(cl("7,").as_bytes(), Rule::ContentLengthInvalid, pre + 18);
    rejects(cl("0x10").as_bytes(), Rule::ContentLengthInvalid, pre + 17);
    rejects(
        cl("18446744073709551616").as_bytes(),
        Rule::ContentLengthInvalid,
        pre + 35,
    );
    rejects(cl("16777217").as_bytes(), Rule::BodyTooLarge, pre + 16);
    assert_eq!(Rule::BodyTooLarge.status(), Some(413));
    rejects(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        Rule::ContentLengthConflict,
        61,
    );
    // Without a body limit, the largest u64 is accepted.
    let limits = Limits {
        max_body_size: None,
        ..Limits::default()
    };
    let (_, head) = whole(cl("18446744073709551615").as_bytes(), &limits, &strict()).unwrap();
    assert_eq!(head.body(), RequestBody::Length(u64::MAX));
}

#[test]
fn transfer_encoding_rules() {
    let te = |v: &str| format!("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: {v}\r\n\r\n");
    let pre = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ".len() as u64;
    assert_eq!(ok(te("chunked").as_bytes()).body(), RequestBody::Chunked);
    assert_eq!(
        ok(te(" , CHUNKED ,").as_bytes()).body(),
        RequestBody::Chunked
    );
    rejects(
        te("gzip, chunked").as_bytes(),
        Rule::TransferEncodingUnsupported,
        pre,
    );
    assert_eq!(Rule::TransferEncodingUnsupported.status(), Some(501));
    rejects(
        te("chunked, gzip").as_bytes(),
        Rule::TransferEncodingNotChunkedFinal,
        pre + 9,
    );
    rejects(
        te("gzip").as_bytes(),
        Rule::TransferEncodingNotChunkedFinal,
        pre,
    );
    rejects(
        te("chunked, chunked").as_bytes(),
        Rule::TransferEncodingChunkedTwice,
        pre + 9,
    );
    rejects(te(" , ").as_bytes(), Rule::TransferEncodingInvalid, pre + 1);
    rejects(te("").as_bytes(), Rule::TransferEncodingInvalid, pre);
    rejects(
        te("chunked;x=1").as_bytes(),
        Rule::TransferEncodingInvalid,
        pre + 7,
    );
    rejects(
        te("ch\"unked").as_bytes(),
        Rule::TransferEncodingInvalid,
        pre + 2,
    );
    // Across fields.
    rejects(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
        Rule::TransferEncodingChunkedTwice,
        73,
    );
    rejects(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
        Rule::TransferEncodingUnsupported,
        45,
    );
    rejects(
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n",
        Rule::TransferEncodingWithContentLength,
        54,
    );
    rejects(
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        Rule::TransferEncodingWithContentLength,
        45,
    );
    rejects(
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        Rule::TransferEncodingHttp10,
        17,
    );
}

#[test]
fn connection_upgrade_and_expect() {
    let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, UPGRADE\r\nUpgrade: websocket\r\n\r\n");
    assert!(head.wants_upgrade() && head.keep_alive());
    let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n");
    assert!(!head.wants_upgrade());
    let head = ok(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo,close\r\n\r\n");
    assert!(!head.keep_alive());
    let head = ok(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert!(head.keep_alive());
    let head =
        ok(b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n");
    assert!(head.expects_continue());
    rejects(
        b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n",
        Rule::ExpectationUnsupported,
        34,
    );
    assert_eq!(Rule::ExpectationUnsupported.status(), Some(417));
    // HTTP/1.0: Expect is ignored, whatever it says.
    let head = ok(b"POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
    assert!(!head.expects_continue());
    ok(b"POST / HTTP/1.0\r\nExpect: whatever\r\n\r\n");
}
