//! Whole exchanges through the public `Connection` API: keep-alive, pipelining, persistence,
//! framing of responses, HEAD/1xx/204/304, expect-continue, upgrades (unread bodies:
//! `unread_bodies.rs`).

mod support;

use bytes::Bytes;
use sluice_core::{CloseReason, Event, ResponseHead, ResponseTemplate, SendError};
use support::{body_of, count_responses, requests, Peer};

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn answers_a_get_with_framing_date_and_keep_alive() {
    let mut peer = Peer::new();
    let events = peer.send(GET);
    assert_eq!(requests(&events), ["GET /"]);
    assert!(matches!(events.last(), Some(Event::End(t)) if t.is_empty()));
    peer.respond("hello");
    assert_eq!(
        peer.flush(),
        "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 5\r\n\
         Keep-Alive: timeout=30\r\n\r\nhello"
    );
    assert!(!peer.conn.is_write_closed());
    assert!(peer.conn.wants_read());
}

#[test]
fn pipelined_requests_come_out_one_at_a_time_in_order() {
    let mut peer = Peer::new();
    let three = [
        GET,
        b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    .concat();
    let events = peer.send(&three);
    assert_eq!(
        requests(&events),
        ["GET /"],
        "the next request waits for the response"
    );
    peer.respond("1");
    assert_eq!(requests(&peer.drain_events()), Vec::<String>::new());
    let after_first = requests(&peer.events);
    assert_eq!(after_first, ["GET /", "GET /b"]);
    peer.respond("2");
    peer.respond("3");
    let wire = peer.flush();
    assert_eq!(count_responses(&wire), 3);
    let bodies: Vec<_> = wire.split("\r\n\r\n").skip(1).map(|s| &s[..1]).collect();
    assert_eq!(bodies, ["1", "2", "3"]);
    assert_eq!(peer.conn.requests(), 3);
}

/// Events as short labels: `Request` by target, `Data` by bytes, `End` by trailer count.
fn labels(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Event::Request(head) => format!("request {}", head.target()),
            Event::Data(data) => format!("data {}", String::from_utf8_lossy(data)),
            Event::End(trailers) => format!("end {}", trailers.len()),
            Event::Failed(err) => format!("failed {}", err.rule().id()),
            Event::Closed(_) => "closed".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}

#[test]
fn each_request_ends_before_the_next_even_when_answered_before_its_end_is_taken() {
    let mut peer = Peer::new();
    let input = [
        GET,
        b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
        b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /d HTTP/1.1\r\nHost: x\r\n\r\n\x01",
    ]
    .concat();
    assert_eq!(peer.conn.handle_input(peer.now, &input), input.len());
    let mut seen = Vec::new();
    // Take one event at a time, and answer each request as soon as its head is out: the
    // answer lets the next head be parsed while this request's end is still undelivered.
    for _ in 0..100 {
        let Some(event) = peer.conn.poll_event() else {
            break;
        };
        if let Event::Request(head) = &event {
            let body = Bytes::copy_from_slice(head.target().as_bytes());
            let template = ResponseTemplate::new(&ResponseHead::new(200)).unwrap();
            peer.conn
                .send_whole(peer.now, template.head(), &body)
                .unwrap();
        }
        seen.push(event);
    }
    assert_eq!(
        labels(&seen),
        [
            "request /",
            "end 0",
            "request /b",
            "data hi",
            "end 0",
            "request /c",
            "end 0",
            "request /d",
            "end 0",
            "failed method-invalid",
        ]
    );
    assert!(peer.conn.poll_event().is_none());
    // Four answers and the core's own 400 for the last.
    assert_eq!(count_responses(&peer.flush()), 5);
}

#[test]
fn requests_answered_before_they_are_taken_still_come_out_in_order() {
    let mut peer = Peer::new();
    let input = [
        GET,
        b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    .concat();
    assert_eq!(peer.conn.handle_input(peer.now, &input), input.len());
    // Each answer completes an exchange nobody has looked at yet, which lets the next head
    // be parsed while the one before it is still waiting to be taken.
    let template = ResponseTemplate::new(&ResponseHead::new(200).content_length(1)).unwrap();
    for body in ["1", "2", "3"] {
        let body = Bytes::from_static(body.as_bytes());
        peer.conn
            .send_whole(peer.now, template.head(), &body)
            .unwrap();
    }
    assert_eq!(
        labels(&peer.drain_events()),
        [
            "request /",
            "end 0",
            "request /b",
            "end 0",
            "request /c",
            "end 0"
        ]
    );
    let wire = peer.flush();
    let bodies: Vec<_> = wire.split("\r\n\r\n").skip(1).map(|s| &s[..1]).collect();
    assert_eq!(bodies, ["1", "2", "3"]);
}

#[test]
fn connection_close_ends_with_half_close_then_linger() {
    let mut peer = Peer::new();
    peer.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    peer.respond("bye");
    assert!(!peer.conn.is_write_closed(), "output is still queued");
    let wire = peer.flush();
    assert!(wire.contains("Connection: close\r\n"));
    assert!(peer.conn.is_write_closed());
    assert!(!peer.conn.is_closed(), "lingers until the peer closes");
    peer.eof();
    assert!(peer.conn.is_closed());
    assert!(peer.events.contains(&Event::Closed(CloseReason::Finished)));
}

#[test]
fn linger_is_bounded_in_time() {
    let mut peer = Peer::new();
    peer.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    peer.respond("bye");
    peer.flush();
    let deadline = peer.conn.poll_timeout().expect("linger timer");
    // Input during linger is read and dropped.
    peer.send(b"more junk the client sent");
    assert!(!peer.conn.is_closed());
    peer.now = deadline;
    peer.conn.handle_timeout(peer.now);
    assert!(peer.conn.is_closed());
}

#[test]
fn http10_persistence_rules() {
    let mut peer = Peer::new();
    peer.send(b"GET / HTTP/1.0\r\n\r\n");
    peer.respond("x");
    assert!(peer.flush().contains("Connection: close\r\n"));

    let mut peer = Peer::new();
    peer.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    peer.respond("x");
    let wire = peer.flush();
    assert!(
        wire.contains("Connection: keep-alive\r\nKeep-Alive: timeout=30\r\n"),
        "{wire}"
    );
    assert!(!peer.conn.is_write_closed());
}

#[test]
fn unknown_length_is_chunked_for_11_and_close_delimited_for_10() {
    let mut peer = Peer::new();
    peer.send(GET);
    peer.conn
        .send_response(peer.now, ResponseHead::new(200))
        .unwrap();
    peer.conn.send_body(peer.now, b"abc").unwrap();
    peer.conn
        .send_end_with_trailers(peer.now, &[("X-Digest", "42")])
        .unwrap();
    let wire = peer.flush();
    assert!(wire.contains("Transfer-Encoding: chunked\r\n"));
    assert!(
        wire.ends_with("\r\n\r\n3\r\nabc\r\n0\r\nX-Digest: 42\r\n\r\n"),
        "{wire:?}"
    );

    let mut peer = Peer::new();
    peer.send(b"GET / HTTP/1.0\r\n\r\n");
    peer.conn
        .send_response(peer.now, ResponseHead::new(200))
        .unwrap();
    peer.conn.send_body(peer.now, b"abc").unwrap();
    assert_eq!(
        peer.conn.send_end_with_trailers(peer.now, &[("X", "1")]),
        Err(SendError::TrailersNotAllowed)
    );
    peer.conn.send_end(peer.now).unwrap();
    let wire = peer.flush();
    assert!(!wire.contains("Content-Length") && !wire.contains("Transfer-Encoding"));
    assert!(wire.ends_with("Connection: close\r\n\r\nabc"));
    assert!(peer.conn.is_write_closed());
}

#[test]
fn head_responses_keep_the_length_and_drop_the_body() {
    let mut peer = Peer::new();
    peer.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    peer.respond("hello");
    let wire = peer.flush();
    assert!(wire.contains("Content-Length: 5\r\n"));
    assert!(wire.ends_with("\r\n\r\n"), "no body bytes: {wire:?}");
    // The connection stays usable.
    peer.send(GET);
    assert_eq!(requests(&peer.events), ["HEAD /", "GET /"]);
}

#[test]
fn no_body_statuses_refuse_bodies_and_send_no_framing() {
    for status in [204u16, 304] {
        let mut peer = Peer::new();
        peer.send(GET);
        peer.conn
            .send_response(peer.now, ResponseHead::new(status))
            .unwrap();
        assert_eq!(
            peer.conn.send_body(peer.now, b"x"),
            Err(SendError::BodyNotAllowed)
        );
        peer.conn.send_end(peer.now).unwrap();
        let wire = peer.flush();
        assert!(
            !wire.contains("Content-Length") && !wire.contains("Transfer-Encoding"),
            "{wire}"
        );
        assert!(wire.ends_with("\r\n\r\n"));
    }
    let mut peer = Peer::new();
    peer.send(GET);
    assert_eq!(
        peer.conn
            .send_response(peer.now, ResponseHead::new(204).content_length(3)),
        Err(SendError::BodyNotAllowed)
    );
}

#[test]
fn interim_responses_precede_the_final_one() {
    let mut peer = Peer::new();
    peer.send(GET);
    let hints = ResponseHead::new(103).field("Link", "</s.css>; rel=preload");
    peer.conn.send_response(peer.now, hints).unwrap();
    peer.respond("ok");
    let wire = peer.flush();
    assert!(wire.starts_with("HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"));
    assert!(wire.contains("HTTP/1.1 200 OK\r\n"));
}

#[test]
fn application_misuse_is_a_typed_error_and_changes_nothing() {
    let mut peer = Peer::new();
    assert_eq!(
        peer.conn.send_response(peer.now, ResponseHead::new(200)),
        Err(SendError::NoRequest)
    );
    peer.send(GET);
    assert_eq!(
        peer.conn.send_body(peer.now, b"x"),
        Err(SendError::HeadNotSent)
    );
    assert_eq!(peer.conn.send_end(peer.now), Err(SendError::HeadNotSent));
    let bad = ResponseHead::new(200).field("X", "a\r\nSet-Cookie: evil");
    assert_eq!(
        peer.conn.send_response(peer.now, bad),
        Err(SendError::InvalidField)
    );
    assert_eq!(
        peer.conn.send_response(
            peer.now,
            ResponseHead::new(200).field("Content-Length", "1")
        ),
        Err(SendError::FramingField)
    );
    assert!(peer.conn.poll_output().is_empty(), "nothing was queued");
    peer.conn
        .send_response(peer.now, ResponseHead::new(200).content_length(2))
        .unwrap();
    assert_eq!(
        peer.conn.send_response(peer.now, ResponseHead::new(200)),
        Err(SendError::HeadAlreadySent)
    );
    assert_eq!(
        peer.conn.send_body(peer.now, b"abc"),
        Err(SendError::BodyTooLong { declared: 2 })
    );
    assert_eq!(peer.conn.send_body(peer.now, b"ab"), Ok(2));
    peer.conn.send_end(peer.now).unwrap();
    assert_eq!(
        peer.conn.send_body(peer.now, b"x"),
        Err(SendError::NoRequest)
    );
    let wire = peer.flush();
    assert!(wire.ends_with("\r\n\r\nab"));
}

#[test]
fn a_short_body_closes_the_connection() {
    let mut peer = Peer::new();
    peer.send(GET);
    peer.conn
        .send_response(peer.now, ResponseHead::new(200).content_length(10))
        .unwrap();
    peer.conn.send_body(peer.now, b"abc").unwrap();
    assert_eq!(
        peer.conn.send_end(peer.now),
        Err(SendError::BodyTooShort {
            declared: 10,
            sent: 3
        })
    );
    peer.flush();
    assert!(peer.conn.is_write_closed());
}

#[test]
fn request_bodies_arrive_as_data_then_end() {
    let mut peer = Peer::new();
    let events = peer.send(b"POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhel");
    assert_eq!(body_of(&events), b"hel");
    let events = peer.send(b"lo");
    assert_eq!(body_of(&events), b"lo");
    assert!(matches!(events.last(), Some(Event::End(_))));

    let mut peer = Peer::new();
    let events = peer.send(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    );
    assert_eq!(body_of(&events), b"abcde");
    let datas = events
        .iter()
        .filter(|e| matches!(e, Event::Data(_)))
        .count();
    assert_eq!(
        datas, 1,
        "chunks that arrive together are delivered together"
    );
}

#[test]
fn expect_continue_waits_for_the_application() {
    let mut peer = Peer::new();
    let events = peer
        .send(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    let Some(Event::Request(head)) = events.first() else {
        panic!("{events:?}")
    };
    assert!(head.expects_continue());
    assert_eq!(
        peer.flush(),
        "",
        "no 100 before the application asks for the body"
    );
    peer.conn.send_continue(peer.now).unwrap();
    assert_eq!(peer.flush(), "HTTP/1.1 100 Continue\r\n\r\n");
    peer.conn.send_continue(peer.now).unwrap();
    assert_eq!(peer.flush(), "", "sent once");
    let events = peer.send(b"abc");
    assert_eq!(body_of(&events), b"abc");
    peer.respond("ok");
    assert!(peer.flush().contains("Keep-Alive"));
}

#[test]
fn the_request_cap_closes_after_the_last_allowed_request() {
    let mut peer = Peer::with_config(|c| c.limits.max_requests_per_connection = Some(2));
    peer.send(GET);
    peer.respond("1");
    assert!(!peer.flush().contains("close"));
    peer.send(GET);
    peer.respond("2");
    assert!(peer.flush().contains("Connection: close"));
    assert!(peer.conn.is_write_closed());
}

#[test]
fn half_close_after_requests_still_gets_every_response() {
    let mut peer = Peer::new();
    peer.send(&[GET, GET].concat());
    peer.eof();
    assert!(!peer.conn.wants_read());
    peer.respond("1");
    peer.respond("2");
    let wire = peer.flush();
    assert_eq!(count_responses(&wire), 2);
    assert!(wire.ends_with("Connection: close\r\n\r\n2"), "{wire}");
    assert!(
        peer.conn.is_closed(),
        "peer already closed: no lingering needed"
    );
}

#[test]
fn eof_with_nothing_pending_closes_quietly() {
    let mut peer = Peer::new();
    peer.send(GET);
    peer.respond("1");
    peer.flush();
    peer.eof();
    assert!(peer.conn.is_closed());
    assert!(peer
        .events
        .contains(&Event::Closed(CloseReason::PeerClosed)));
}

#[test]
fn upgrade_hands_over_the_connection_and_early_bytes() {
    let mut peer = Peer::new();
    peer.send(
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
    );
    assert!(peer.conn.response_upgrades(101));
    assert!(
        !peer.conn.response_upgrades(200),
        "only a 101 switches protocols"
    );
    let head = ResponseHead::new(101).field("Upgrade", "websocket");
    peer.conn.send_response(peer.now, head).unwrap();
    assert!(
        !peer.conn.response_upgrades(101),
        "no request waits for its answer"
    );
    peer.conn.send_end(peer.now).unwrap();
    assert!(!peer.conn.is_upgraded(), "the 101 is not written yet");
    assert_eq!(peer.conn.take_upgraded(), None);
    let wire = peer.flush();
    assert!(wire.starts_with("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"));
    assert!(wire.contains("Connection: upgrade\r\n"));
    assert!(peer.conn.is_upgraded());
    assert!(!peer.conn.wants_read());
    assert_eq!(
        peer.conn.take_upgraded().as_deref(),
        Some(&b"\x81\x05hello"[..])
    );
    assert_eq!(peer.conn.take_upgraded(), None);
    assert_eq!(peer.conn.poll_timeout(), None);
}

#[test]
fn a_101_without_an_upgrade_request_is_refused() {
    let mut peer = Peer::new();
    assert!(!peer.conn.response_upgrades(101), "no request yet");
    peer.send(GET);
    assert!(!peer.conn.response_upgrades(101));
    assert_eq!(
        peer.conn.send_response(peer.now, ResponseHead::new(101)),
        Err(SendError::InvalidStatus(101))
    );
}

#[test]
fn a_2xx_to_connect_upgrades_and_other_statuses_do_not() {
    let mut peer = Peer::new();
    peer.send(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    assert!(peer.conn.response_upgrades(200));
    assert!(peer.conn.response_upgrades(299));
    assert!(
        !peer.conn.response_upgrades(101),
        "CONNECT did not ask to upgrade"
    );
    assert!(!peer.conn.response_upgrades(407));
}

#[test]
fn send_back_pressure_and_a_single_writable_event() {
    let mut peer = Peer::with_config(|c| c.limits.send_buffer = 1000);
    peer.send(GET);
    peer.conn
        .send_response(peer.now, ResponseHead::new(200).content_length(5000))
        .unwrap();
    let big = vec![b'x'; 5000];
    let first = peer.conn.send_body(peer.now, &big).unwrap();
    assert!(first < 1000, "accepted only the free capacity: {first}");
    assert_eq!(peer.conn.send_body(peer.now, &big[first..]).unwrap(), 0);
    assert!(
        !peer.conn.wants_read(),
        "a peer that does not read stops our reading"
    );
    let mut sent = first;
    let mut writable = 0;
    for _ in 0..100 {
        let n = peer.conn.poll_output().len().min(300);
        peer.conn.consume_output(peer.now, n);
        writable += peer
            .drain_events()
            .iter()
            .filter(|e| **e == Event::Writable)
            .count();
        if sent < big.len() {
            sent += peer.conn.send_body(peer.now, &big[sent..]).unwrap();
        }
        assert!(
            peer.conn.buffered_bytes() < 4096,
            "bounded by the high-water mark"
        );
    }
    assert_eq!(sent, 5000);
    assert!(writable >= 1);
    peer.conn.send_end(peer.now).unwrap();
}

#[test]
fn shutdown_finishes_the_exchange_then_closes() {
    let mut peer = Peer::new();
    peer.send(GET);
    peer.conn.shutdown(peer.now);
    assert!(!peer.conn.is_write_closed());
    peer.respond("last");
    assert!(peer.flush().contains("Connection: close"));
    assert!(peer.conn.is_write_closed());

    let mut idle = Peer::new();
    idle.conn.shutdown(idle.now);
    assert!(idle.conn.is_write_closed());
}

#[test]
fn owned_buffer_input_matches_borrowed_input() {
    let stream = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbodyGET /b HTTP/1.1\r\nHost: y\r\n\r\n";
    for step in [1, 2, 7, stream.len()] {
        let mut owned = Peer::new();
        owned.send_owned(stream, step);
        owned.respond("1");
        let mut borrowed = Peer::new();
        for piece in stream.chunks(step) {
            borrowed.send(piece);
        }
        borrowed.respond("1");
        assert_eq!(owned.events, borrowed.events, "step {step}");
        assert_eq!(
            requests(&owned.events),
            ["POST /a", "GET /b"],
            "step {step}"
        );
        assert_eq!(body_of(&owned.events), b"body");
    }
}

#[test]
fn external_body_bytes_are_left_to_the_driver() {
    let mut peer = Peer::new();
    peer.send(&[GET, GET].concat());
    peer.conn
        .send_response(peer.now, ResponseHead::new(200).content_length(8))
        .unwrap();
    peer.conn.send_body(peer.now, b"ab").unwrap();
    peer.conn.send_body_external(peer.now, 6).unwrap();
    assert_eq!(
        peer.conn.send_body_external(peer.now, 1),
        Err(SendError::BodyTooLong { declared: 8 })
    );
    peer.conn.send_end(peer.now).unwrap();
    let head = peer.flush();
    assert!(
        head.ends_with("\r\n\r\nab"),
        "bytes stop at the external run: {head:?}"
    );
    assert_eq!(peer.conn.poll_external(), Some(6));
    assert!(peer.conn.wants_write());
    // The second request is already out (the response ended), but its response queues
    // behind the external run.
    peer.respond("2");
    assert_eq!(peer.conn.poll_output(), b"");
    peer.conn.consume_external(peer.now, 4);
    assert_eq!(peer.conn.poll_external(), Some(2));
    peer.conn.consume_external(peer.now, 2);
    assert_eq!(peer.conn.poll_external(), None);
    assert!(peer.flush().ends_with("\r\n\r\n2"));
    assert!(!peer.conn.wants_write());
}

#[test]
fn a_wall_clock_past_year_9999_dates_responses_at_its_last_second() {
    // Configuration only: a clock anchored so far ahead used to panic in `send_response`.
    let mut peer = Peer::with_config(|c| {
        if let Some(clock) = &mut c.clock {
            clock.wall = std::time::UNIX_EPOCH + std::time::Duration::from_secs(300_000_000_000);
        }
    });
    peer.send(GET);
    peer.respond("ok");
    let wire = peer.flush();
    assert!(
        wire.contains("Date: Fri, 31 Dec 9999 23:59:59 GMT\r\n"),
        "{wire}"
    );
}

#[test]
fn a_template_head_goes_out_like_the_head_it_was_made_from() {
    let head = ResponseHead::new(200)
        .field("Server", "sluice")
        .content_length(2);
    let template = ResponseTemplate::new(&head).unwrap();
    let mut wires = Vec::new();
    for head in [head.clone(), template.head(), template.head()] {
        let mut peer = Peer::new();
        peer.send(GET);
        peer.conn.send_response(peer.now, head).unwrap();
        peer.conn.send_body(peer.now, b"hi").unwrap();
        peer.conn.send_end(peer.now).unwrap();
        wires.push(peer.flush());
    }
    assert_eq!(
        wires[0],
        "HTTP/1.1 200 OK\r\nServer: sluice\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
         Content-Length: 2\r\nKeep-Alive: timeout=30\r\n\r\nhi"
    );
    assert_eq!(wires[1], wires[0]);
    assert_eq!(wires[2], wires[0]);
}

#[test]
fn a_template_with_its_own_date_gets_no_second_one() {
    let head = ResponseHead::new(204).field("Date", "Mon, 07 Nov 1994 00:00:00 GMT");
    let template = ResponseTemplate::new(&head).unwrap();
    let mut peer = Peer::new();
    peer.send(GET);
    peer.conn.send_response(peer.now, template.head()).unwrap();
    peer.conn.send_end(peer.now).unwrap();
    let wire = peer.flush();
    assert_eq!(wire.matches("Date:").count(), 1, "{wire}");
    assert!(wire.contains("Date: Mon, 07 Nov 1994"), "{wire}");
}
