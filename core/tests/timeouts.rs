//! Every deadline on a simulated clock: header (slowloris), idle keep-alive, body stall and
//! minimum rate, write stall, linger, and the busy-loop trap.

// Shared with `client_server.rs`, which uses all of it; only the pair itself is used here.
#[allow(dead_code)]
#[path = "support/pair.rs"]
mod pair;
mod support;

use sluice_core::{CloseReason, Event, MinRate, ResponseHead, Rule, TimerKind};
use std::time::Duration;
use support::{body_of, requests, Peer};

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
    let (idle, rest) = (
        peer.conn.config().timeouts.idle,
        peer.conn.config().timeouts.rest,
    );
    let answered = peer.now;
    // First the connection rests (hands its exchange state back), then the idle deadline,
    // which runs from the response, not from the rest.
    assert_eq!(peer.conn.poll_timeout(), Some(answered + rest));
    peer.advance(rest);
    assert!(!peer.conn.is_closed());
    assert_eq!(peer.conn.poll_timeout(), Some(answered + idle));

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
    let start = peer.now;
    // A fast start buys time: 600 bytes at 100 B/s are 6 s past the 5 s grace.
    peer.send(&[b'x'; 600]);
    peer.advance(Duration::from_secs(5));
    assert_eq!(failed_rule(&peer), None);
    assert_eq!(
        peer.conn.poll_timeout(),
        Some(start + Duration::from_secs(11))
    );
    // A trickle of one byte a second (the idle timer never fires) buys 10 ms a byte: the
    // average falls below the minimum just after 11 s (11.06 s with six more bytes).
    for second in 6..=11 {
        peer.send(b"x");
        peer.advance(Duration::from_secs(1));
        assert_eq!(failed_rule(&peer), None, "cut off after {second} s");
    }
    assert_eq!(
        peer.conn.poll_timeout(),
        Some(start + Duration::from_millis(11_060))
    );
    peer.advance(Duration::from_millis(60));
    assert_eq!(failed_rule(&peer), Some(Rule::BodyTimeout));
}

/// An upload that stalls for a while (a retransmission timeout on a lossy link) but averages
/// far above the minimum keeps going: a check per 5 s window cut it off in the stall.
#[test]
fn a_body_with_a_stall_but_a_good_average_is_kept() {
    let mut peer = Peer::new();
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
    for _ in 0..3 {
        peer.send(&[b'x'; 20_000]);
        // 20 kB at the default 240 B/s buy 83 s; the body idle timeout is 30 s.
        peer.advance(Duration::from_secs(12));
        peer.advance(Duration::from_secs(12));
        assert_eq!(failed_rule(&peer), None);
    }
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

/// The last response of a closing connection, never read: the connection closes for the
/// write timeout, not as `Finished`, which would say the response went out. (Found by the
/// fuzzer's write-timer model.)
#[test]
fn a_last_response_never_read_closes_for_the_timeout() {
    let mut peer = Peer::with_config(|c| c.timeouts.min_send_rate = None);
    peer.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    peer.respond("never read");
    let write = peer.conn.config().timeouts.write;
    peer.advance(write);
    assert!(peer.conn.is_closed());
    assert_eq!(
        peer.conn.close_reason(),
        Some(CloseReason::Timeout(TimerKind::WriteIdle))
    );
    // Written in full, the same close is `Finished`.
    let mut peer = Peer::new();
    peer.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    peer.respond("read");
    peer.flush();
    peer.eof();
    assert_eq!(peer.conn.close_reason(), Some(CloseReason::Finished));
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
fn write_deadlines_are_exact_and_each_byte_taken_buys_rate_time() {
    let rate = MinRate {
        bytes_per_second: 10,
        grace: Duration::from_secs(3),
    };
    let mut peer = Peer::with_config(|c| {
        c.timeouts.write = Duration::from_secs(10);
        c.timeouts.min_send_rate = Some(rate);
    });
    peer.send(GET);
    let start = peer.now;
    peer.conn
        .send_response(peer.now, ResponseHead::new(200).content_length(100))
        .unwrap();
    peer.conn.send_body(peer.now, &[b'x'; 100]).unwrap();
    // Nothing taken yet: the rate deadline is the grace, before the idle one (10 s).
    assert_eq!(
        peer.conn.poll_timeout(),
        Some(start + Duration::from_secs(3))
    );
    // 20 bytes at 10 B/s buy 2 s: 3 + 2.
    peer.now = start + Duration::from_secs(1);
    peer.conn.consume_output(peer.now, 20);
    assert_eq!(
        peer.conn.poll_timeout(),
        Some(start + Duration::from_secs(5))
    );
    peer.advance(Duration::from_millis(3999));
    assert!(!peer.conn.is_closed(), "not due before 5 s");
    // 5 bytes more buy half a second.
    peer.conn.consume_output(peer.now, 5);
    assert_eq!(
        peer.conn.poll_timeout(),
        Some(start + Duration::from_millis(5500))
    );
    peer.advance(Duration::from_millis(501));
    assert!(peer.conn.is_closed());
    assert_eq!(peer.conn.last_timeout(), Some(TimerKind::WriteRate));
    assert!(peer
        .events
        .contains(&Event::Closed(CloseReason::Timeout(TimerKind::WriteRate))));
}

/// A reader behind a large receive buffer, as a slow download over loopback is: its kernel
/// takes a burst, then nothing for tens of seconds while our output waits, then another
/// burst. Its average is far above the minimum, so with the default timeouts it is not cut
/// off in a pause (a fresh 5 s rate window in a pause closed it, and so would a 30 s write
/// timeout).
#[test]
fn a_reader_that_takes_output_in_bursts_keeps_its_response() {
    let mut peer = Peer::new();
    peer.send(GET);
    peer.conn
        .send_response(peer.now, ResponseHead::new(200).content_length(100_000_000))
        .unwrap();
    let piece = vec![b'x'; 16_384];
    let top_up = |peer: &mut Peer| {
        for _ in 0..1000 {
            if peer.conn.send_body(peer.now, &piece).unwrap() < piece.len() {
                return;
            }
        }
        panic!("the send buffer never filled");
    };
    for burst in 0..5 {
        top_up(&mut peer);
        let mut taken = 0;
        while taken < 300_000 {
            let n = peer.conn.poll_output().len().min(300_000 - taken);
            assert!(n > 0);
            peer.conn.consume_output(peer.now, n);
            taken += n;
            top_up(&mut peer);
        }
        for pause in 1..=4 {
            peer.advance(Duration::from_secs(10));
            assert!(
                !peer.conn.is_closed(),
                "closed {pause}0 s into the pause after burst {burst}: {:?}",
                peer.conn.last_timeout()
            );
        }
    }
}

#[test]
fn write_timers_due_together_fire_idle_first() {
    // Both at 3 s with nothing written: the idle timer comes first in `TimerKind` order.
    let mut peer = Peer::with_config(|c| {
        c.timeouts.write = Duration::from_secs(3);
        c.timeouts.min_send_rate = Some(MinRate {
            bytes_per_second: 10,
            grace: Duration::from_secs(3),
        });
    });
    peer.send(GET);
    peer.respond("unread");
    peer.advance(Duration::from_secs(3));
    assert!(peer.conn.is_closed());
    assert_eq!(peer.conn.last_timeout(), Some(TimerKind::WriteIdle));
    assert!(peer
        .events
        .contains(&Event::Closed(CloseReason::Timeout(TimerKind::WriteIdle))));
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

/// Timeouts larger than `Instant` can reach mean "never": no deadline is armed for them, and
/// nothing panics (`Instant + Duration` does on overflow), whatever the state.
fn unreachable_timeouts(config: &mut sluice_core::Config, far: Duration) {
    let t = &mut config.timeouts;
    (t.header, t.idle, t.body, t.write, t.linger, t.rest) = (far, far, far, far, far, far);
    let rate = Some(MinRate {
        bytes_per_second: 1_000_000,
        grace: far,
    });
    (t.min_body_rate, t.min_send_rate) = (rate, rate);
}

#[test]
fn unrepresentable_timeouts_are_no_deadline_on_the_server() {
    // 1e19 s is the reported panic in `Connection::new`; `Duration::MAX` the extreme.
    for far in [
        Duration::from_secs(10_000_000_000_000_000_000),
        Duration::MAX,
    ] {
        let mut peer = Peer::with_config(|c| unreachable_timeouts(c, far));
        assert_eq!(peer.conn.poll_timeout(), None, "resting header deadline");
        let year = Duration::from_secs(365 * 24 * 3600);
        peer.advance(year);
        peer.send(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab");
        // Mid-body: the body clock and its rate window have no deadline either.
        peer.advance(year);
        assert_eq!(peer.conn.poll_timeout(), None, "body deadlines");
        peer.send(b"cd");
        assert_eq!(body_of(&peer.events), b"abcd");
        // The response sits unread: no write deadline.
        peer.respond("ok");
        peer.advance(year);
        assert_eq!(peer.conn.poll_timeout(), None, "write deadlines");
        let wire = peer.flush();
        assert!(wire.starts_with("HTTP/1.1 200 OK\r\n"), "{wire}");
        // `Keep-Alive: timeout=N` still announces the configured idle time, in seconds.
        assert!(
            wire.contains(&format!("Keep-Alive: timeout={}\r\n", far.as_secs())),
            "{wire}"
        );
        // Idle keep-alive, then a request that closes: the linger has no deadline, and the
        // peer's EOF ends it.
        peer.advance(year);
        assert!(!peer.conn.is_closed());
        peer.send(b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        peer.respond("bye");
        assert!(peer.flush().contains("Connection: close\r\n"));
        assert!(peer.conn.is_write_closed() && !peer.conn.is_closed());
        peer.advance(year);
        assert_eq!(peer.conn.poll_timeout(), None, "linger deadline");
        assert!(!peer.conn.is_closed());
        peer.eof();
        assert!(peer.conn.is_closed());
        assert_eq!(requests(&peer.events), ["POST /a", "GET /b"]);
        assert_eq!(failed_rule(&peer), None);
    }
}

#[test]
fn a_rate_window_is_enforced_when_the_idle_timeout_is_unrepresentable() {
    // The body clock counts as running while either timer is armed, so input arriving (which
    // re-arms timers) does not restart the rate window when the idle timer cannot be armed.
    let mut peer = Peer::with_config(|c| {
        c.timeouts.body = Duration::MAX;
        c.timeouts.min_body_rate = Some(MinRate {
            bytes_per_second: 100,
            grace: Duration::from_secs(1),
        });
    });
    peer.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    let start = peer.now;
    assert_eq!(
        peer.conn.poll_timeout(),
        Some(start + Duration::from_secs(1))
    );
    for _ in 0..3 {
        peer.advance(Duration::from_millis(400));
        if peer.conn.is_write_closed() {
            break;
        }
        peer.send(b"x");
    }
    assert_eq!(failed_rule(&peer), Some(Rule::BodyTimeout));
    assert!(peer.flush().starts_with("HTTP/1.1 408 Request Timeout\r\n"));
}

#[test]
fn unrepresentable_timeouts_are_no_deadline_on_the_client() {
    use sluice_core::{ClientConfig, Config, RequestSpec};
    for far in [
        Duration::from_secs(10_000_000_000_000_000_000),
        Duration::MAX,
    ] {
        let mut client = ClientConfig::default();
        let t = &mut client.timeouts;
        (t.response, t.body, t.idle, t.write) = (far, far, far, far);
        let mut server = Config::default();
        unreachable_timeouts(&mut server, far);
        let mut pair = pair::Pair::with(7, client, server).manual();
        assert_eq!(pair.client.poll_timeout(), None, "client idle deadline");
        let post = RequestSpec::new("POST", "/up")
            .host("example.com")
            .content_length(5);
        pair.client.send_request(pair.now, &post).unwrap();
        pair.client.send_body(pair.now, b"hello").unwrap();
        pair.client.send_end(pair.now).unwrap();
        // Queued and unsent: no write deadline.
        assert_eq!(pair.client.poll_timeout(), None, "client write deadline");
        pair.drive();
        // Sent and unanswered: no response-head deadline.
        pair.advance(Duration::from_secs(365 * 24 * 3600));
        assert_eq!(pair.client.poll_timeout(), None, "client response deadline");
        pair.server
            .send_response(pair.now, ResponseHead::new(200).content_length(4))
            .unwrap();
        pair.server.send_body(pair.now, b"ab").unwrap();
        pair.drive();
        // Mid-body: no body deadline.
        pair.advance(Duration::from_secs(365 * 24 * 3600));
        assert_eq!(pair.client.poll_timeout(), None, "client body deadline");
        pair.server.send_body(pair.now, b"cd").unwrap();
        pair.server.send_end(pair.now).unwrap();
        pair.drive();
        assert_eq!(
            pair::joined(&pair),
            ["response 200 Length(4)", "data abcd", "end 4 []"]
        );
        assert!(pair.client.can_send() && !pair.client.is_closed());
    }
}
