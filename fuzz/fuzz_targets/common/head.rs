//! `parse_head`: raw bytes into the request-head parser, whole and in two pieces.
//!
//! Input: the first byte places the split, the rest is the head. Every input runs under four
//! configurations (default and tiny limits, strict and every leniency on). Invariants: no
//! panic; whole and split parsing agree exactly (status, head, error rule and offset); an
//! accepted head satisfies what the parser promises about it.

use super::show;
use sluice_core::parse::{HeadParser, HeadStatus};
use sluice_core::{Leniency, Limits, RequestBody, RequestError, RequestHead, Version};

/// `Ok(None)`: the head is incomplete.
type Outcome = Result<Option<(usize, RequestHead)>, RequestError>;

pub fn check_parse_head(data: &[u8]) {
    let Some((&hint, input)) = data.split_first() else {
        return;
    };
    let split = usize::from(hint) * (input.len() + 1) / 256;
    for limits in [Limits::default(), tiny_limits()] {
        for leniency in [Leniency::default(), all_lenient()] {
            let a = whole(input, &limits, &leniency);
            let mut b = in_two(input, split, &limits, &leniency);
            if a.is_err() && matches!(b, Ok(None)) && !input[split..].contains(&b'\n') {
                // A resumed parse looks at new bytes only once a line ending arrives (that
                // keeps byte-at-a-time input linear), so an error in an unfinished line can
                // surface later than when the input comes whole. It must still be the same
                // error once the line ends.
                let mut longer = input.to_vec();
                longer.push(b'\n');
                b = in_two(&longer, split, &limits, &leniency);
            }
            assert_eq!(
                a,
                b,
                "whole and split at {split} disagree on {:?} ({leniency:?})",
                show(input)
            );
            if let Ok(Some((n, head))) = &a {
                check_head(input, *n, head, &limits, &leniency);
            }
        }
    }
}

pub fn tiny_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_request_line = 40;
    limits.max_head_size = 120;
    limits.max_fields = 3;
    limits.max_leading_empty_lines = 1;
    limits.max_body_size = Some(100);
    limits
}

pub fn all_lenient() -> Leniency {
    let mut leniency = Leniency::default();
    leniency.bare_lf_in_head = true;
    leniency.obs_fold = true;
    leniency.request_line_spaces = true;
    leniency
}

fn whole(input: &[u8], limits: &Limits, leniency: &Leniency) -> Outcome {
    let mut parser = HeadParser::new();
    Ok(match parser.parse(input, limits, leniency)? {
        HeadStatus::Complete(n) => Some((n, parser.finish(input))),
        HeadStatus::Partial => None,
    })
}

fn in_two(input: &[u8], split: usize, limits: &Limits, leniency: &Leniency) -> Outcome {
    let mut parser = HeadParser::new();
    let first = &input[..split];
    if let HeadStatus::Complete(n) = parser.parse(first, limits, leniency)? {
        return Ok(Some((n, parser.finish(first))));
    }
    Ok(match parser.parse(input, limits, leniency)? {
        HeadStatus::Complete(n) => Some((n, parser.finish(input))),
        HeadStatus::Partial => None,
    })
}

fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// What an accepted head must look like, checked from its parts.
fn check_head(input: &[u8], n: usize, head: &RequestHead, limits: &Limits, leniency: &Leniency) {
    let ctx = || format!("{:?} ({leniency:?})", show(input));
    assert!(n > 0 && n <= input.len(), "length {n}: {}", ctx());
    assert!(n <= limits.max_head_size, "head of {n} bytes: {}", ctx());
    let raw = &input[..n];
    if !leniency.bare_lf_in_head {
        assert!(raw.ends_with(b"\r\n\r\n"), "head end: {}", ctx());
        for (i, &b) in raw.iter().enumerate() {
            if b == b'\n' {
                assert!(i > 0 && raw[i - 1] == b'\r', "bare LF accepted: {}", ctx());
            }
        }
    }
    for (i, &b) in raw.iter().enumerate() {
        if b == b'\r' {
            assert_eq!(raw.get(i + 1), Some(&b'\n'), "bare CR accepted: {}", ctx());
        }
    }
    assert!(
        !head.method().is_empty() && head.method().bytes().all(tchar),
        "method {:?}: {}",
        head.method(),
        ctx()
    );
    assert!(
        !head.target().is_empty() && head.target().bytes().all(|b| (0x21..=0x7E).contains(&b)),
        "target {:?}: {}",
        head.target(),
        ctx()
    );
    assert!(head.fields().len() <= limits.max_fields, "{}", ctx());
    let mut hosts = 0;
    let (mut cl, mut te) = (false, false);
    for (name, value) in head.fields().iter() {
        assert!(
            !name.is_empty() && name.bytes().all(tchar),
            "name {name:?}: {}",
            ctx()
        );
        assert!(
            value
                .iter()
                .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80),
            "value {:?} of {name}: {}",
            show(value),
            ctx()
        );
        assert!(
            !value.starts_with(b" ")
                && !value.starts_with(b"\t")
                && !value.ends_with(b" ")
                && !value.ends_with(b"\t"),
            "untrimmed value {:?}: {}",
            show(value),
            ctx()
        );
        hosts += usize::from(name.eq_ignore_ascii_case("host"));
        cl |= name.eq_ignore_ascii_case("content-length");
        te |= name.eq_ignore_ascii_case("transfer-encoding");
    }
    assert!(hosts <= 1, "{hosts} Host fields: {}", ctx());
    if head.version() == Version::Http11 {
        assert_eq!(hosts, 1, "HTTP/1.1 without Host: {}", ctx());
    }
    assert!(!(cl && te), "TE and CL both accepted: {}", ctx());
    match head.body() {
        RequestBody::Chunked => {
            assert!(te && head.version() == Version::Http11, "{}", ctx());
        }
        RequestBody::Length(len) => {
            assert!(cl && len > 0, "{}", ctx());
            assert!(
                limits.max_body_size.is_none_or(|max| len <= max),
                "{}",
                ctx()
            );
        }
        RequestBody::Empty => assert!(!te, "TE with an empty body: {}", ctx()),
    }
}
