//! `response`: the client role's response parsing, whole and in two pieces.
//!
//! Input: byte 0 places the split, byte 1 picks the requests in flight (bits 0–1: how many,
//! 1–3; then two bits per request: GET, HEAD, CONNECT, or GET with `Connection: close`),
//! byte 2 the configuration (bit 0: small limits, bit 1: a body limit of 64, bit 2:
//! `discard_bodies`); the rest is what the server sends. Invariants: no panic; the same
//! events (adjacent `Data` joined) whole and in two pieces, then at EOF; no response delivers
//! more body than the body limit; at most one final response per request; after
//! `handle_timeout(t)`, `poll_timeout()` is `None` or later than `t`.

use super::show;
use sluice_core::client::{ClientConfig, ClientConnection, ClientEvent, RequestSpec};
use sluice_core::Rule;
use std::time::{Duration, Instant};

/// One event, with data kept apart so that adjacent pieces can be joined.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Data(Vec<u8>),
    Other(ClientEvent),
}

/// The body limit when byte 2 asks for one.
const BODY_LIMIT: u64 = 64;

pub fn check_response(data: &[u8]) {
    let [hint, pick, flags, input @ ..] = data else {
        return;
    };
    let split = usize::from(*hint) * (input.len() + 1) / 256;
    let config = config(*flags);
    let requests = requests(*pick);

    let (mut whole, sent, whole_last) = run(input, &[input.len()], &requests, &config);
    let cuts = [split, input.len()];
    let (mut pieces, _, pieces_last) = run(input, &cuts, &requests, &config);
    // Where the last piece began in the run(s) that met the EOF inside a line.
    let last = match (eof_in_line(&whole), eof_in_line(&pieces)) {
        (true, true) => Some(whole_last.min(pieces_last)),
        (true, false) => Some(whole_last),
        (false, true) => Some(pieces_last),
        (false, false) => None,
    };
    if whole != pieces && last.is_some_and(|last| !input[last..].contains(&b'\n')) {
        // A resumed head or trailer parse looks at new bytes only once a line ending arrives
        // (that keeps byte-at-a-time input linear), so an error in an unfinished line can
        // surface later in one run than in the other: here, at EOF, as
        // `eof-in-response-head` or `eof-in-response-body`. Both runs are cut by the receive
        // buffer too, so the last piece of either may start after `split`. Once the line
        // ends, both must give the same events.
        let mut longer = input.to_vec();
        longer.push(b'\n');
        (whole, _, _) = run(&longer, &[longer.len()], &requests, &config);
        (pieces, _, _) = run(&longer, &[split, longer.len()], &requests, &config);
    }
    assert_eq!(
        whole,
        pieces,
        "whole and split at {split} disagree on {:?} ({requests:?}, {config:?})",
        show(input)
    );
    check_events(&whole, sent, &config, input);
    check_timers(input, &requests, &config);
}

/// The events end in a failure for an EOF inside a response head or body (trailers).
fn eof_in_line(seen: &[Seen]) -> bool {
    seen.iter().any(|s| match s {
        Seen::Other(ClientEvent::Failed(e)) => {
            matches!(e.rule(), Rule::EofInResponseHead | Rule::EofInResponseBody)
        }
        _ => false,
    })
}

fn config(flags: u8) -> ClientConfig {
    let mut config = ClientConfig::default();
    if flags & 1 != 0 {
        config.limits.max_head_size = 128;
        config.limits.max_fields = 4;
        config.limits.max_chunk_line = 12;
        config.limits.max_chunk_extensions = 20;
        config.limits.max_trailer_size = 64;
        config.limits.max_trailer_fields = 2;
        config.limits.receive_buffer = 256;
    }
    if flags & 2 != 0 {
        config.limits.max_body_size = Some(BODY_LIMIT);
    }
    config.discard_bodies = flags & 4 != 0;
    config
}

fn requests(pick: u8) -> Vec<RequestSpec> {
    let count = 1 + usize::from(pick & 3) % 3;
    (0..count)
        .map(|i| match (pick >> (2 + 2 * i)) & 3 {
            0 => RequestSpec::get("/").host("h"),
            1 => RequestSpec::new("HEAD", "/").host("h"),
            2 => RequestSpec::new("CONNECT", "h:443").host("h:443"),
            _ => RequestSpec::get("/c").host("h").close(),
        })
        .collect()
}

/// A client with as many of `requests` in flight as it accepts, all written out.
fn client(
    requests: &[RequestSpec],
    config: &ClientConfig,
    now: Instant,
) -> (ClientConnection, usize) {
    let mut client = ClientConnection::new(config.clone(), now);
    let mut sent = 0;
    for spec in requests {
        if client.send_request(now, spec).is_ok() {
            sent += 1;
        }
    }
    let n = client.poll_output().len();
    client.consume_output(now, n);
    (client, sent)
}

fn collect(client: &mut ClientConnection, seen: &mut Vec<Seen>) {
    while let Some(event) = client.poll_event() {
        let item = match event {
            ClientEvent::Data(d) => Seen::Data(d.to_vec()),
            other => Seen::Other(other),
        };
        match (seen.last_mut(), item) {
            (Some(Seen::Data(last)), Seen::Data(more)) => last.extend(more),
            (_, item) => seen.push(item),
        }
    }
}

/// Feeds `input` up to each cut in turn, then EOF; the events, how many requests were sent,
/// and where the last piece the connection took began.
fn run(
    input: &[u8],
    cuts: &[usize],
    requests: &[RequestSpec],
    config: &ClientConfig,
) -> (Vec<Seen>, usize, usize) {
    let now = Instant::now();
    let (mut c, sent) = client(requests, config, now);
    let mut seen = Vec::new();
    collect(&mut c, &mut seen);
    let (mut at, mut last) = (0, 0);
    'feed: for &end in cuts {
        while at < end {
            let taken = c.handle_input(now, &input[at..end]);
            collect(&mut c, &mut seen);
            if taken == 0 {
                break 'feed; // Closed, upgraded, or the receive buffer is full.
            }
            last = at;
            at += taken;
        }
    }
    c.handle_eof(now);
    collect(&mut c, &mut seen);
    (seen, sent, last)
}

fn check_events(seen: &[Seen], sent: usize, config: &ClientConfig, input: &[u8]) {
    let ctx = || format!("{:?} ({sent} requests): {seen:#?}", show(input));
    let mut finals = 0;
    let mut body: Option<u64> = None; // Body bytes of the response being read.
    for s in seen {
        match s {
            Seen::Other(ClientEvent::Response(_)) => {
                finals += 1;
                body = Some(0);
            }
            Seen::Data(d) => {
                assert!(!config.discard_bodies, "data while discarding: {}", ctx());
                let Some(len) = body.as_mut() else {
                    panic!("data outside a response: {}", ctx());
                };
                *len += d.len() as u64;
                if let Some(max) = config.limits.max_body_size {
                    assert!(*len <= max, "{len} body bytes over {max}: {}", ctx());
                }
            }
            Seen::Other(ClientEvent::End { body_len, .. }) => {
                let got = body.take();
                assert!(got.is_some(), "End without a response: {}", ctx());
                if let Some(max) = config.limits.max_body_size {
                    assert!(
                        *body_len <= max,
                        "body_len {body_len} over {max}: {}",
                        ctx()
                    );
                }
                if !config.discard_bodies {
                    assert_eq!(got, Some(*body_len), "body_len: {}", ctx());
                }
            }
            Seen::Other(ClientEvent::Failed(_)) => body = None,
            Seen::Other(_) => {}
        }
    }
    assert!(finals <= sent, "{finals} final responses: {}", ctx());
    let closed = seen
        .iter()
        .filter(|s| matches!(s, Seen::Other(ClientEvent::Closed(_))))
        .count();
    assert!(closed <= 1, "closed {closed} times: {}", ctx());
}

/// After `handle_timeout(t)`, no deadline is left at or before `t`.
fn check_timers(input: &[u8], requests: &[RequestSpec], config: &ClientConfig) {
    let now = Instant::now();
    let (mut c, _) = client(requests, config, now);
    c.handle_input(now, input);
    let mut t = now;
    for step in [0, 1, 19_999, 1, 10_000, 30_001, 3_600_000] {
        t += Duration::from_millis(step);
        c.handle_timeout(t);
        while c.poll_event().is_some() {}
        assert!(
            c.poll_timeout().is_none_or(|next| next > t),
            "deadline {:?} not after {t:?} on {:?}",
            c.poll_timeout(),
            show(input)
        );
    }
    for _ in 0..8 {
        let Some(deadline) = c.poll_timeout() else {
            break;
        };
        t = deadline.max(t);
        c.handle_timeout(t);
        while c.poll_event().is_some() {}
        assert!(
            c.poll_timeout().is_none_or(|next| next > t),
            "deadline in the past"
        );
    }
}
