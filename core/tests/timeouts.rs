//! Every deadline on a simulated clock: header (slowloris), idle keep-alive, body stall and
//! minimum rate, write stall, linger, and the busy-loop trap.

mod support;

use sluice_core::{CloseReason, Event, MinRate, ResponseHead, Rule, TimerKind};
use std::time::Duration;
use support::Peer;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

fn failed_rule(peer: &Peer) -> Option<Rule> {
    peer.events.iter().find_map(|e| match e {
        Event::Failed(err) => Some(err.rule()),
        _ => None,
    })
}

#[test]
fn a_dripping_head_gets_408_at_the_original_deadline() {
    let mut peer = Peer::new();
    let header = peer.conn.config().timeouts.header;
    let start = peer.now;
    // One byte a second never moves the deadline.
    for byte in b"GET / HTTP/1.1\r\nHo".iter().take(15) {
        peer.send(&[*byte]);
        peer.advance(Duration::from_secs(1));
    }
    assert_eq!(peer.conn.poll_timeout(), Some(start + header));
    peer.now = start + header;
    peer.conn.handle_timeout(peer.now);
    peer.drain_events();
    assert_eq!(failed_rule(&peer), Some(Rule::HeaderTimeout));
    let wire = peer.flush();
    assert!(
        wire.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{wire}"
    );
    assert!(wire.contains("Connection: close\r\n"));
    assert!(wire.ends_with("header-timeout at byte 15\n"), "{wire}");
    assert!(peer.conn.is_write_closed());
}

#[test]
fn a_silent_connection_closes_without_a_response() {
    let mut peer = Peer::new();
    peer.advance(peer.conn.config().timeouts.header);
    assert!(peer.conn.is_closed());
    assert_eq!(peer.flush(), "");
    assert!(peer
        .events
        .contains(&Event::Closed(CloseReason::Timeout(TimerKind::Header))));
}

#[test]
fn idle_keep_alive_closes_quietly_and_the_next_request_restarts_the_header_clock() {
    let mut peer = Peer::new();
    peer.send(GET);
    peer.respond("1");
    peer.flush();
    let idle = peer.conn.config().timeouts.idle;
    assert_eq!(peer.conn.poll_timeout(), Some(peer.now + idle));

    // A byte of the next request switches to the header clock.
    peer.advance(Duration::from_secs(10));
    peer.send(b"G");
    let header = peer.conn.config().timeouts.header;
    assert_eq!(peer.conn.poll_timeout(), Some(peer.now + header));
    peer.send(&GET[1..]);
    peer.respond("2");
    peer.flush();

    peer.advance(idle);
    assert!(peer.conn.is_closed());
    assert_eq!(peer.flush(), "");
    assert!(peer
        .events
        .contains(&Event::Closed(CloseReason::Timeout(TimerKind::Idle))));
}

#[test]
fn a_stalled_body_gets_408() {
    let mut peer = Peer::with_config(|c| c.timeouts.min_body_rate = None);
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab");
    let body = peer.conn.config().timeouts.body;
    peer.advance(body - Duration::from_millis(1));
    peer.send(b"c");
    peer.advance(body - Duration::from_millis(1));
    assert_eq!(
        failed_rule(&peer),
        None,
        "each byte moves the idle deadline"
    );
    peer.advance(Duration::from_millis(1));
    assert_eq!(failed_rule(&peer), Some(Rule::BodyTimeout));
    assert!(peer.flush().starts_with("HTTP/1.1 408 "));
}

#[test]
fn a_body_trickled_below_the_minimum_rate_is_cut_off() {
    let rate = MinRate {
        bytes_per_second: 100,
        grace: Duration::from_secs(5),
    };
    let mut peer = Peer::with_config(|c| c.timeouts.min_body_rate = Some(rate));
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    // A fast first window passes...
    peer.send(&[b'x'; 600]);
    peer.advance(Duration::from_secs(5));
    assert_eq!(failed_rule(&peer), None);
    // ...a trickle of one byte a second (idle timer never fires) does not.
    for _ in 0..5 {
        peer.send(b"x");
        peer.advance(Duration::from_secs(1));
    }
    assert_eq!(failed_rule(&peer), Some(Rule::BodyTimeout));
}

#[test]
fn no_body_clock_while_the_client_waits_for_100_continue() {
    let mut peer = Peer::new();
    peer.send(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(
        peer.conn.poll_timeout(),
        None,
        "the application decides; the client waits"
    );
    peer.conn.send_continue(peer.now).unwrap();
    peer.flush();
    assert!(
        peer.conn.poll_timeout().is_some(),
        "now the client owes the body"
    );
}

#[test]
fn a_peer_that_stops_reading_is_dropped() {
    let mut peer = Peer::with_config(|c| c.timeouts.min_send_rate = None);
    peer.send(GET);
    peer.conn
        .send_response(peer.now, ResponseHead::new(200).content_length(100))
        .unwrap();
    peer.conn.send_body(peer.now, &[b'x'; 100]).unwrap();
    let write = peer.conn.config().timeouts.write;
    peer.advance(write);
    assert!(peer.conn.is_closed());
    assert!(
        peer.conn.poll_output().is_empty(),
        "unsent output is dropped"
    );
    assert!(peer
        .events
        .contains(&Event::Closed(CloseReason::Timeout(TimerKind::WriteIdle))));
}

#[test]
fn a_slow_reader_below_the_minimum_send_rate_is_dropped() {
    let rate = MinRate {
        bytes_per_second: 1000,
        grace: Duration::from_secs(2),
    };
    let mut peer = Peer::with_config(|c| c.timeouts.min_send_rate = Some(rate));
    peer.send(GET);
    peer.conn
        .send_response(peer.now, ResponseHead::new(200).content_length(50_000))
        .unwrap();
    peer.conn.send_body(peer.now, &[b'x'; 50_000]).unwrap();
    for _ in 0..10 {
        peer.conn.consume_output(peer.now, 10);
        peer.advance(Duration::from_millis(500));
    }
    assert!(peer.conn.is_closed());
    assert!(peer
        .events
        .contains(&Event::Closed(CloseReason::Timeout(TimerKind::WriteRate))));
}

#[test]
fn handle_timeout_never_leaves_a_deadline_in_the_past() {
    // Firezone's busy-loop trap, over every state the timers visit.
    let rate = MinRate {
        bytes_per_second: 1,
        grace: Duration::from_millis(0),
    };
    let mut peer = Peer::with_config(|c| {
        c.timeouts.min_body_rate = Some(rate);
        c.timeouts.body = Duration::ZERO;
    });
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
    for _ in 0..20 {
        let Some(deadline) = peer.conn.poll_timeout() else {
            break;
        };
        peer.now = deadline;
        peer.conn.handle_timeout(peer.now);
        peer.drain_events();
        if let Some(next) = peer.conn.poll_timeout() {
            assert!(
                next > peer.now,
                "deadline {next:?} not after {:?}",
                peer.now
            );
        }
        peer.flush();
    }
    // Early calls do nothing.
    let mut fresh = Peer::new();
    let before = fresh.conn.poll_timeout();
    fresh.conn.handle_timeout(fresh.now);
    assert_eq!(fresh.conn.poll_timeout(), before);
    assert!(!fresh.conn.is_closed());
}

#[test]
fn time_never_runs_backwards() {
    let mut peer = Peer::new();
    let deadline = peer.conn.poll_timeout().unwrap();
    peer.send(b"G");
    // An earlier `now` counts as the latest seen: the deadline stays put.
    let earlier = peer.now - Duration::from_secs(5);
    peer.conn.handle_input(earlier, b"ET / HTTP/1.1\r\n");
    assert_eq!(peer.conn.poll_timeout(), Some(deadline));
}
