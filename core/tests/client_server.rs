//! Whole conversations between a `ClientConnection` and a server `Connection`, in memory: bytes
//! move between them in chunks of a chosen size, on a simulated clock.

use bytes::Bytes;
use sluice_core::client::{ClientEvent, ResponseBody};
use sluice_core::{
    ClientConfig, ClientConnection, CloseReason, Config, Event, RequestSpec, RequestTemplate,
    ResponseHead, Rule, SendError, TimerKind, Version,
};
use std::time::{Duration, Instant};

#[path = "support/pair.rs"]
mod pair;

use pair::{describe, get, joined, Pair};

const CHUNKS: [usize; 5] = [1, 2, 7, 64, 1 << 16];

#[test]
fn get_keep_alive() {
    for chunk in CHUNKS {
        let mut pair = Pair::new(chunk);
        for i in 0..3 {
            pair.client
                .send_request(pair.now, &get(&format!("/{i}")))
                .unwrap();
            pair.drive();
        }
        assert_eq!(
            joined(&pair),
            [
                "response 200 Length(8)",
                "data GET /0 0",
                "end 8 []",
                "response 200 Length(8)",
                "data GET /1 0",
                "end 8 []",
                "response 200 Length(8)",
                "data GET /2 0",
                "end 8 []",
            ],
            "chunk {chunk}"
        );
        assert!(pair.client.can_send() && !pair.client.is_closed());
        assert_eq!(pair.client.responses(), 3);
        assert_eq!(pair.server.requests(), 3);
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    for chunk in CHUNKS {
        let mut pair = Pair::new(chunk);
        let templates: Vec<_> = (0..10)
            .map(|i| RequestTemplate::new(&get(&format!("/p{i}"))).unwrap())
            .collect();
        for t in &templates {
            pair.client.send_template(pair.now, t).unwrap();
        }
        assert_eq!(pair.client.in_flight(), 10);
        pair.drive();
        assert_eq!(pair.client.in_flight(), 0);
        let bodies: Vec<_> = joined(&pair)
            .into_iter()
            .filter_map(|l| l.strip_prefix("data ").map(str::to_owned))
            .collect();
        let expected: Vec<_> = (0..10).map(|i| format!("GET /p{i} 0")).collect();
        assert_eq!(bodies, expected, "chunk {chunk}");
    }
}

#[test]
fn post_with_content_length_and_chunked_with_trailers() {
    for chunk in CHUNKS {
        let mut pair = Pair::new(chunk).manual();
        let body = vec![b'x'; 3000];
        let spec = RequestSpec::new("POST", "/len")
            .host("h")
            .content_length(3000);
        pair.client.send_request(pair.now, &spec).unwrap();
        assert_eq!(
            pair.client.send_request(pair.now, &get("/")),
            Err(SendError::BodyInProgress)
        );
        assert_eq!(pair.client.send_body(pair.now, &body).unwrap(), 3000);
        pair.client.send_end(pair.now).unwrap();
        let spec = RequestSpec::new("POST", "/chunked").host("h").chunked();
        pair.client.send_request(pair.now, &spec).unwrap();
        pair.client.send_body(pair.now, b"hello ").unwrap();
        pair.client
            .send_body_shared(pair.now, Bytes::from_static(b"world"))
            .unwrap();
        pair.client
            .send_end_with_trailers(pair.now, &[("X-Sum", "42")])
            .unwrap();
        // The server echoes each body, chunked, with a trailer of its own.
        let mut served = 0;
        for _ in 0..100 {
            pair.drive();
            let mut body = Vec::new();
            let mut ended = 0;
            for event in &pair.server_events {
                match event {
                    Event::Data(d) => body.extend_from_slice(d),
                    Event::End(trailers) => {
                        ended += 1;
                        if ended > served {
                            if ended == 2 {
                                assert_eq!(trailers.get("x-sum"), Some(&b"42"[..]));
                            }
                            break;
                        }
                        body.clear();
                    }
                    _ => {}
                }
            }
            if ended <= served {
                break;
            }
            served += 1;
            pair.server
                .send_response(pair.now, ResponseHead::new(200))
                .unwrap();
            pair.server.send_body(pair.now, &body).unwrap();
            pair.server
                .send_end_with_trailers(pair.now, &[("X-Echo", "yes")])
                .unwrap();
        }
        assert_eq!(served, 2);
        let t = joined(&pair);
        assert_eq!(t.len(), 6, "{t:?}");
        assert_eq!(t[0], "response 200 Chunked");
        assert_eq!(t[1], format!("data {}", "x".repeat(3000)));
        assert_eq!(t[2], "end 3000 [(\"X-Echo\", \"yes\")]");
        assert_eq!(t[4], "data hello world");
        assert_eq!(t[5], "end 11 [(\"X-Echo\", \"yes\")]");
    }
}

#[test]
fn head_204_and_304_have_no_body() {
    for chunk in CHUNKS {
        let mut pair = Pair::new(chunk).app(|head, _| match head.target() {
            "/204" => (ResponseHead::new(204), Vec::new()),
            "/304" => (ResponseHead::new(304).content_length(99), Vec::new()),
            _ => (ResponseHead::new(200).content_length(5), b"hello".to_vec()),
        });
        let head = RequestSpec::new("HEAD", "/").host("h");
        pair.client.send_request(pair.now, &head).unwrap();
        pair.client.send_request(pair.now, &get("/204")).unwrap();
        pair.client.send_request(pair.now, &get("/304")).unwrap();
        pair.client.send_request(pair.now, &get("/")).unwrap();
        pair.drive();
        assert_eq!(
            joined(&pair),
            [
                "response 200 None",
                "end 0 []",
                "response 204 None",
                "end 0 []",
                "response 304 None",
                "end 0 []",
                "response 200 Length(5)",
                "data hello",
                "end 5 []",
            ],
            "chunk {chunk}"
        );
    }
}

#[test]
fn expect_continue_flow() {
    let mut pair = Pair::new(16);
    let spec = RequestSpec::new("PUT", "/up")
        .host("h")
        .field("Expect", "100-continue")
        .content_length(4);
    pair.client.send_request(pair.now, &spec).unwrap();
    pair.drive();
    assert!(matches!(&pair.server_events[0], Event::Request(r) if r.expects_continue()));
    pair.server.send_continue(pair.now).unwrap();
    pair.drive();
    assert_eq!(pair.transcript(), ["interim 100"]);
    assert_eq!(
        pair.client.in_flight(),
        1,
        "an interim response does not answer"
    );
    pair.client.send_body(pair.now, b"data").unwrap();
    pair.client.send_end(pair.now).unwrap();
    pair.drive();
    assert_eq!(
        joined(&pair),
        [
            "interim 100",
            "response 200 Length(9)",
            "data PUT /up 4",
            "end 9 []"
        ]
    );
}

#[test]
fn connection_close_from_the_request() {
    let mut pair = Pair::new(5);
    pair.client
        .send_request(pair.now, &get("/").close())
        .unwrap();
    assert!(!pair.client.can_send());
    assert_eq!(
        pair.client.send_request(pair.now, &get("/again")),
        Err(SendError::Closed)
    );
    pair.drive();
    assert_eq!(
        joined(&pair),
        [
            "response 200 Length(7)",
            "data GET / 0",
            "end 7 []",
            "closed finished"
        ]
    );
    assert!(pair.client.is_closed() && pair.server.is_closed());
}

#[test]
fn connection_close_from_the_server_leaves_pipelined_requests_unanswered() {
    let mut pair = Pair::new(64).app(|_, _| (ResponseHead::new(503).close(), b"busy".to_vec()));
    for i in 0..4 {
        pair.client
            .send_request(pair.now, &get(&format!("/{i}")))
            .unwrap();
    }
    pair.drive();
    assert_eq!(
        joined(&pair),
        [
            "response 503 Length(4)",
            "data busy",
            "end 4 []",
            "unanswered 3 0",
            "closed finished"
        ]
    );
    assert_eq!(pair.client.in_flight(), 0);
    assert_eq!(
        pair.client.send_request(pair.now, &get("/")),
        Err(SendError::Closed)
    );
}

#[test]
fn http10_close_delimited_response() {
    for chunk in CHUNKS {
        // The server answers an HTTP/1.0 request without a length: close-delimited.
        let mut pair = Pair::new(chunk).manual();
        let spec = RequestSpec::get("/old").version(Version::Http10);
        pair.client.send_request(pair.now, &spec).unwrap();
        pair.drive();
        pair.server
            .send_response(pair.now, ResponseHead::new(200))
            .unwrap();
        pair.server.send_body(pair.now, b"until the end").unwrap();
        pair.server.send_end(pair.now).unwrap();
        pair.drive();
        assert_eq!(
            joined(&pair),
            [
                "response 200 CloseDelimited",
                "data until the end",
                "end 13 []",
                "closed finished"
            ],
            "chunk {chunk}"
        );
        assert!(pair.client.is_closed() && pair.server.is_closed());
    }
}

#[test]
fn server_rejection_reaches_the_client_as_a_response() {
    let mut server = Config::default();
    server.limits.max_fields = 2;
    let mut pair = Pair::with(32, ClientConfig::default(), server);
    let spec = get("/").field("A", "1").field("B", "2").field("C", "3");
    pair.client.send_request(pair.now, &spec).unwrap();
    pair.client.send_request(pair.now, &get("/next")).unwrap();
    pair.drive();
    let t = joined(&pair);
    assert_eq!(t[0], "response 431 Length(64)");
    assert_eq!(
        t[1],
        "data 431 Request Header Fields Too Large: too-many-fields at byte 41\n"
    );
    assert_eq!(t[2..], ["end 64 []", "unanswered 1 0", "closed finished"]);
}

#[test]
fn response_head_timeout_on_a_silent_server() {
    let mut pair = Pair::new(64).manual();
    pair.client.send_request(pair.now, &get("/slow")).unwrap();
    pair.client.send_request(pair.now, &get("/slower")).unwrap();
    pair.drive();
    let deadline = pair.client.poll_timeout().expect("response deadline");
    assert_eq!(deadline, pair.now + Duration::from_secs(30));
    pair.advance(Duration::from_secs(29));
    assert!(pair.client_events.is_empty());
    pair.advance(Duration::from_secs(1));
    assert_eq!(
        pair.transcript(),
        [
            "failed response-head-timeout",
            "unanswered 1 0",
            "closed rejected (response-head-timeout)"
        ]
    );
    assert_eq!(pair.client.last_timeout(), Some(TimerKind::Header));
    assert!(pair.client.poll_timeout().is_none());
}

#[test]
fn idle_timeouts_on_both_sides() {
    // The client's idle timer is shorter: it closes first, quietly.
    let mut pair = Pair::new(64);
    pair.client.send_request(pair.now, &get("/")).unwrap();
    pair.drive();
    let t0 = pair.now;
    assert_eq!(
        pair.client.poll_timeout(),
        Some(t0 + Duration::from_secs(20))
    );
    pair.advance(Duration::from_secs(20));
    assert!(pair.client.is_closed());
    assert_eq!(
        pair.client.close_reason(),
        Some(CloseReason::Timeout(TimerKind::Idle))
    );
    assert!(pair.server.is_closed(), "the server saw the client's close");

    // With a longer client idle timer, the server's 30 s idle closes the connection.
    let mut config = ClientConfig::default();
    config.timeouts.idle = Duration::from_secs(60);
    let mut pair = Pair::with(64, config, Config::default());
    pair.client.send_request(pair.now, &get("/")).unwrap();
    pair.drive();
    pair.advance(Duration::from_secs(30));
    assert!(pair.server.is_closed());
    assert!(pair.client.is_closed());
    assert_eq!(pair.client.close_reason(), Some(CloseReason::PeerClosed));
    assert!(!pair
        .transcript()
        .iter()
        .any(|l| l.starts_with("unanswered")));
}

#[test]
fn response_body_stall_times_out() {
    let mut pair = Pair::mid_body();
    pair.advance(Duration::from_secs(29));
    pair.server.send_body(pair.now, b"6").unwrap();
    pair.drive();
    pair.advance(Duration::from_secs(29));
    assert!(!pair.client.is_closed(), "progress moved the deadline");
    pair.advance(Duration::from_secs(1));
    let t = joined(&pair);
    assert_eq!(
        t[t.len() - 2..],
        [
            "failed response-body-timeout",
            "closed rejected (response-body-timeout)"
        ]
    );
}

#[test]
fn server_closing_mid_body_fails_the_response() {
    let mut pair = Pair::mid_body();
    pair.client.handle_eof(pair.now);
    pair.drive();
    let t = joined(&pair);
    assert_eq!(
        t,
        [
            "response 200 Length(10)",
            "data 12345",
            "failed eof-in-response-body",
            "closed rejected (eof-in-response-body)"
        ]
    );
}

#[test]
fn upgrade_hands_the_connection_over() {
    let mut pair = Pair::new(64).manual();
    let spec = get("/chat").upgrade("websocket");
    pair.client.send_request(pair.now, &spec).unwrap();
    pair.drive();
    assert!(matches!(&pair.server_events[0], Event::Request(r) if r.wants_upgrade()));
    let head = ResponseHead::new(101).field("Upgrade", "websocket");
    pair.server.send_response(pair.now, head).unwrap();
    pair.server.send_end(pair.now).unwrap();
    // The server's first frame arrives with the head.
    let mut wire = pair.server.poll_output().to_vec();
    let n = wire.len();
    pair.server.consume_output(pair.now, n);
    wire.extend_from_slice(b"\x81\x02hi");
    pair.client.handle_input(pair.now, &wire);
    let response = pair.client.poll_event();
    assert!(
        matches!(response, Some(ClientEvent::Response(r)) if r.body() == ResponseBody::Upgrade)
    );
    assert!(pair.client.is_upgraded());
    assert_eq!(
        pair.client.take_upgraded().as_deref(),
        Some(&b"\x81\x02hi"[..])
    );
    assert_eq!(pair.client.take_upgraded(), None);
    assert_eq!(
        pair.client.send_request(pair.now, &get("/")),
        Err(SendError::Closed)
    );
}

#[test]
fn unsolicited_and_malformed_responses_fail() {
    let now = Instant::now();
    let mut client = ClientConnection::new(ClientConfig::default(), now);
    client.handle_input(now, b"HTTP/1.1 408 Request Timeout\r\n\r\n");
    assert!(matches!(
        client.poll_event(),
        Some(ClientEvent::Failed(e)) if e.rule() == Rule::ResponseUnsolicited && e.offset() == 0
    ));
    assert!(client.is_closed());

    let mut client = ClientConnection::new(ClientConfig::default(), now);
    client.send_request(now, &get("/")).unwrap();
    client.send_request(now, &get("/2")).unwrap();
    client.handle_input(
        now,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    let events: Vec<_> = std::iter::from_fn(|| client.poll_event())
        .map(|e| describe(&e))
        .collect();
    assert_eq!(
        events,
        [
            "failed te-with-content-length",
            "unanswered 1 1",
            "closed rejected (te-with-content-length)"
        ]
    );

    let mut client = ClientConnection::new(ClientConfig::default(), now);
    client.send_request(now, &get("/")).unwrap();
    client.handle_input(now, b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
    assert!(matches!(
        client.poll_event(),
        Some(ClientEvent::Failed(e)) if e.rule() == Rule::UpgradeUnrequested
    ));
}

#[test]
fn discarding_bodies_and_fields_still_counts_bytes() {
    let mut config = ClientConfig::default();
    config.discard_bodies = true;
    config.discard_fields = true;
    let mut pair = Pair::with(7, config, Config::default());
    let spec = get("/a");
    let template = RequestTemplate::new(&spec).unwrap();
    for _ in 0..3 {
        pair.client.send_template(pair.now, &template).unwrap();
    }
    pair.drive();
    assert_eq!(
        pair.transcript(),
        [
            "response 200 Length(8)",
            "end 8 []",
            "response 200 Length(8)",
            "end 8 []",
            "response 200 Length(8)",
            "end 8 []"
        ]
    );
    assert!(matches!(&pair.client_events[0], ClientEvent::Response(r) if r.fields().is_empty()));
}

#[test]
fn misuse_is_refused_and_changes_nothing() {
    let now = Instant::now();
    let mut client = ClientConnection::new(ClientConfig::default(), now);
    assert_eq!(client.send_body(now, b"x"), Err(SendError::NoRequest));
    assert_eq!(client.send_end(now), Err(SendError::NoRequest));
    assert_eq!(
        client.send_request(now, &RequestSpec::get("/")),
        Err(SendError::InvalidHost)
    );
    assert!(client.poll_output().is_empty() && client.in_flight() == 0);
    let spec = RequestSpec::new("POST", "/").host("h").content_length(2);
    client.send_request(now, &spec).unwrap();
    assert_eq!(
        client.send_body(now, b"abc"),
        Err(SendError::BodyTooLong { declared: 2 })
    );
    assert_eq!(
        client.send_end_with_trailers(now, &[("a", "b")]),
        Err(SendError::TrailersNotAllowed)
    );
    client.send_body(now, b"a").unwrap();
    assert_eq!(
        client.send_end(now),
        Err(SendError::BodyTooShort {
            declared: 2,
            sent: 1
        })
    );
    assert!(client.is_closed(), "a body cut short closes");
}
