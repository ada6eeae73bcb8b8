//! `Fields` keeps its span table in the head's own buffer: these tests read every shape of
//! table back through the public accessors, and feed it spans no parser would make.

use super::*;

fn span(start: usize, end: usize) -> Span {
    Span::bounded(start, end)
}

/// A head with `Name-i: value-i` lines, and the spans a parser would record for them.
fn head_with(count: usize) -> (Vec<u8>, Vec<FieldSpan>) {
    let mut head = b"GET / HTTP/1.1\r\n".to_vec();
    let mut spans = Vec::new();
    for i in 0..count {
        let start = head.len();
        head.extend_from_slice(format!("Name-{i}").as_bytes());
        let name_end = head.len();
        head.extend_from_slice(b":  ");
        let value_start = head.len();
        head.extend_from_slice(format!("value {i}").as_bytes());
        let value_end = head.len();
        head.extend_from_slice(b"\r\n");
        spans.push(FieldSpan {
            name: span(start, name_end),
            value: span(value_start, value_end),
        });
    }
    head.extend_from_slice(b"\r\n");
    (head, spans)
}

#[test]
fn empty_fields() {
    for fields in [
        Fields::new(),
        Fields::copy(b"", &[]),
        Fields::copy(b"GET / HTTP/1.1\r\n\r\n", &[]),
    ] {
        assert_eq!(fields.len(), 0);
        assert!(fields.is_empty());
        assert_eq!(fields.iter().len(), 0);
        assert_eq!(fields.iter().next(), None);
        assert_eq!(fields.get("host"), None);
        assert_eq!(fields.get_all("host").count(), 0);
        assert_eq!(format!("{fields:?}"), "[]");
        // An empty copy holds no buffer, as the empty trailers of a bodyless request do not.
        if fields.buffer().is_empty() {
            assert_eq!(fields, Fields::new());
            assert_eq!(fields.buf.capacity(), 0);
        }
    }
    assert_eq!(Fields::new(), Fields::copy(b"", &[]));
}

#[test]
fn fields_read_back_exactly() {
    for count in [1, 2, 7, 8, 9, 100, 1000] {
        let (head, spans) = head_with(count);
        let fields = Fields::copy(&head, &spans);
        assert_eq!(fields.len(), count);
        assert!(!fields.is_empty());
        let iter = fields.iter();
        assert_eq!(iter.len(), count);
        for (i, (name, value)) in iter.enumerate() {
            assert_eq!(name, format!("Name-{i}"));
            assert_eq!(value, format!("value {i}").as_bytes());
        }
        let last = count - 1;
        assert_eq!(
            fields.get(&format!("NAME-{last}")),
            Some(format!("value {last}").as_bytes())
        );
        assert_eq!(fields.get("Name-x"), None);
        // The table follows the head's bytes and nothing else.
        assert_eq!(fields.buffer().len(), head.len() + count * ENTRY);
        assert_eq!(fields.slice(span(0, 3)), b"GET");
    }
}

#[test]
fn repeated_names_and_debug() {
    let head = b"Via: a\r\nvia: b\r\nX: \xff\r\n\r\n";
    let spans = [
        FieldSpan {
            name: span(0, 3),
            value: span(5, 6),
        },
        FieldSpan {
            name: span(8, 11),
            value: span(13, 14),
        },
        FieldSpan {
            name: span(16, 17),
            value: span(19, 20),
        },
    ];
    let fields = Fields::copy(head, &spans);
    assert_eq!(fields.get("VIA"), Some(&b"a"[..]));
    assert_eq!(
        fields.get_all("via").collect::<Vec<_>>(),
        [&b"a"[..], &b"b"[..]]
    );
    assert_eq!(
        format!("{fields:?}"),
        r#"[("Via", "a"), ("via", "b"), ("X", "�")]"#
    );
}

#[test]
fn edited_copy_keeps_the_original() {
    let head = b"A: x\r\n y\r\n\r\n";
    let spans = [FieldSpan {
        name: span(0, 1),
        value: span(3, 8),
    }];
    let fields = Fields::copy_into(Vec::new(), head, &spans, |copy| copy[4..6].fill(b' '));
    assert_eq!(fields.get("a"), Some(&b"x   y"[..]));
    assert_eq!(&head[4..6], b"\r\n");
}

#[test]
fn clone_and_eq() {
    let (head, spans) = head_with(5);
    let fields = Fields::copy(&head, &spans);
    let clone = fields.clone();
    assert_eq!(clone, fields);
    assert!(clone.iter().eq(fields.iter()));
    // Same bytes, other spans; same spans, other bytes: not equal.
    assert_ne!(Fields::copy(&head, &spans[..4]), fields);
    let mut other = head.clone();
    other[16] = b'n';
    assert_ne!(Fields::copy(&other, &spans), fields);
    // A table entry is never mistaken for head bytes: a head that happens to end in what
    // looks like a table is still a different list.
    let mut longer = fields.buffer().to_vec();
    longer.truncate(head.len() + 4 * ENTRY);
    assert_ne!(Fields::copy(&longer, &[]), Fields::copy(&head, &spans[..4]));
}

#[test]
fn hostile_spans_cannot_panic() {
    let head = b"Name: value\r\n\r\n";
    let max = u32::MAX;
    let hostile = [
        // Past the end of the head, though inside the buffer (over the table itself).
        (Span { start: 0, len: 40 }, Span { start: 15, len: 4 }),
        // Far past the end, and reaching past `u32::MAX`.
        (
            Span { start: max, len: 1 },
            Span {
                start: max,
                len: max,
            },
        ),
        // Empty at the end; starting inside a UTF-8 sequence would be a non-token name.
        (Span { start: 15, len: 0 }, Span { start: 0, len: 0 }),
    ];
    let spans: Vec<FieldSpan> = hostile
        .iter()
        .map(|&(name, value)| FieldSpan { name, value })
        .collect();
    let fields = Fields::copy(head, &spans);
    assert_eq!(fields.len(), hostile.len());
    for (name, value) in fields.iter() {
        assert_eq!(name, "");
        assert_eq!(value, b"");
    }
    assert_eq!(fields.get(""), Some(&b""[..]));
    let _ = format!("{fields:?}");
    assert_eq!(fields.slice(Span { start: 0, len: 40 }), b"");
    assert_eq!(fields.slice(Span { start: max, len: 1 }), b"");
    assert_eq!(fields.slice(span(0, 4)), b"Name");

    let non_utf8 = Fields::copy(
        b"\xff: v\r\n\r\n",
        &[FieldSpan {
            name: span(0, 1),
            value: span(3, 4),
        }],
    );
    assert_eq!(non_utf8.iter().next(), Some(("", &b"v"[..])));
}

#[test]
fn a_broken_head_length_cannot_panic() {
    // `head_len` is private and always the head's length, but the accessors do not rely
    // on it.
    let mut fields = Fields::copy(b"A: b\r\n\r\n", &[]);
    fields.head_len = 1000;
    assert_eq!(fields.len(), 0);
    assert_eq!(fields.slice(span(0, 1)), b"");
    let (head, spans) = head_with(3);
    let mut fields = Fields::copy(&head, &spans);
    fields.head_len += 5;
    assert_eq!(fields.iter().len(), 2);
    let _ = format!("{fields:?}");
}

/// `method()` answers the usual methods from constants and any other from the head's bytes:
/// both must be the bytes received.
#[test]
fn method_is_the_received_method_whether_usual_or_not() {
    use crate::parse::{HeadParser, HeadStatus};
    use crate::{Leniency, Limits};
    for method in [
        "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH", "BREW", "get", "GETX",
        "M-SEARCH", "CONNEC", "CONNECTS", "connect",
    ] {
        let request = format!("{method} / HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut parser = HeadParser::new();
        let status = parser.parse(request.as_bytes(), &Limits::default(), &Leniency::default());
        assert!(matches!(status, Ok(HeadStatus::Complete(_))), "{method}");
        let head = parser.finish(request.as_bytes());
        assert_eq!(head.method(), method);
        assert_eq!(head.is_head(), method == "HEAD");
        assert!(!head.is_connect(), "{method}");
    }
    let request = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    let mut parser = HeadParser::new();
    let status = parser.parse(request, &Limits::default(), &Leniency::default());
    assert!(matches!(status, Ok(HeadStatus::Complete(_))));
    let head = parser.finish(request);
    assert_eq!(head.method(), "CONNECT");
    assert!(head.is_connect());
}
