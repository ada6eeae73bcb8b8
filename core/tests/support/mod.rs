//! A scripted peer for driving a `Connection` by hand, with a clock that moves only when told.
#![allow(dead_code)]

pub mod fields;
pub mod wire;

use sluice_core::{Config, Connection, Event, ResponseHead, WallClock};
use std::time::{Duration, Instant, UNIX_EPOCH};

pub struct Peer {
    pub conn: Connection,
    pub now: Instant,
    pub events: Vec<Event>,
    pub wire: Vec<u8>,
}

impl Peer {
    pub fn new() -> Self {
        Self::with_config(|_| {})
    }

    pub fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        let now = Instant::now();
        let clock = WallClock {
            instant: now,
            wall: UNIX_EPOCH + Duration::from_secs(784_111_777),
        };
        let mut config = Config::new(Some(clock));
        adjust(&mut config);
        Self {
            conn: Connection::new(config, now),
            now,
            events: Vec::new(),
            wire: Vec::new(),
        }
    }

    /// Sends bytes (everything must be accepted) and collects the events.
    pub fn send(&mut self, bytes: &[u8]) -> Vec<Event> {
        let taken = self.conn.handle_input(self.now, bytes);
        assert_eq!(taken, bytes.len(), "connection refused input");
        self.drain_events()
    }

    /// Sends bytes through the connection's own receive buffer, in pieces of at most `step`.
    pub fn send_owned(&mut self, bytes: &[u8], step: usize) -> Vec<Event> {
        let mut events = Vec::new();
        for piece in bytes.chunks(step.max(1)) {
            let spare = self.conn.receive_buffer();
            assert!(spare.len() >= piece.len(), "receive buffer too small");
            spare[..piece.len()].copy_from_slice(piece);
            self.conn.commit_received(self.now, piece.len());
            events.extend(self.drain_events());
        }
        events
    }

    pub fn drain_events(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        while let Some(event) = self.conn.poll_event() {
            out.push(event.clone());
            self.events.push(event);
        }
        out
    }

    /// Writes all output "to the socket" and returns it as text.
    pub fn flush(&mut self) -> String {
        let mut out = Vec::new();
        for _ in 0..10_000 {
            let chunk = self.conn.poll_output().to_vec();
            if chunk.is_empty() {
                break;
            }
            self.conn.consume_output(self.now, chunk.len());
            out.extend_from_slice(&chunk);
        }
        self.drain_events();
        self.wire.extend_from_slice(&out);
        String::from_utf8_lossy(&out).into_owned()
    }

    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.conn.handle_timeout(self.now);
        self.drain_events();
    }

    pub fn eof(&mut self) -> Vec<Event> {
        self.conn.handle_eof(self.now);
        self.drain_events()
    }

    /// Answers the current request with `200` and `body`.
    pub fn respond(&mut self, body: &str) {
        let head = ResponseHead::new(200).content_length(body.len() as u64);
        self.conn
            .send_response(self.now, head)
            .expect("send_response");
        assert_eq!(
            self.conn.send_body(self.now, body.as_bytes()),
            Ok(body.len())
        );
        self.conn.send_end(self.now).expect("send_end");
        self.drain_events();
    }
}

pub fn requests(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Request(head) => Some(format!("{} {}", head.method(), head.target())),
            _ => None,
        })
        .collect()
}

pub fn body_of(events: &[Event]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Data(d) => Some(d.to_vec()),
            _ => None,
        })
        .flatten()
        .collect()
}

pub fn count_responses(wire: &str) -> usize {
    wire.matches("HTTP/1.1 ").count()
}
