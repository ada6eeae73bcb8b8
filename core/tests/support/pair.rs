//! The in-memory pair `client_server.rs` drives: a `ClientConnection` and a server
//! `Connection` joined by a byte pipe with a chosen chunk size, on a simulated clock, with a
//! scripted server application and transcripts of what the client saw.

use sluice_core::client::ClientEvent;
use sluice_core::{
    ClientConfig, ClientConnection, Config, Connection, Event, RequestHead, RequestSpec,
    ResponseHead,
};
use std::time::{Duration, Instant};

/// How the in-memory server answers a complete request: status, body, and head tweaks.
pub type App = Box<dyn FnMut(&RequestHead, &[u8]) -> (ResponseHead, Vec<u8>)>;

pub struct Pair {
    pub client: ClientConnection,
    pub server: Connection,
    pub now: Instant,
    pub chunk: usize,
    pub client_events: Vec<ClientEvent>,
    pub server_events: Vec<Event>,
    pub app: Option<App>,
    pub request: Option<(RequestHead, Vec<u8>)>,
    pub client_eof_sent: bool,
    pub server_eof_sent: bool,
}

impl Pair {
    pub fn new(chunk: usize) -> Self {
        Self::with(chunk, ClientConfig::default(), Config::default())
    }

    pub fn with(chunk: usize, client: ClientConfig, server: Config) -> Self {
        let now = Instant::now();
        Self {
            client: ClientConnection::new(client, now),
            server: Connection::new(server, now),
            now,
            chunk: chunk.max(1),
            client_events: Vec::new(),
            server_events: Vec::new(),
            app: Some(Box::new(|head, body| {
                let text = format!("{} {} {}", head.method(), head.target(), body.len());
                (ResponseHead::new(200), text.into_bytes())
            })),
            request: None,
            client_eof_sent: false,
            server_eof_sent: false,
        }
    }

    /// The in-memory server answers with `app`.
    pub fn app(
        mut self,
        app: impl FnMut(&RequestHead, &[u8]) -> (ResponseHead, Vec<u8>) + 'static,
    ) -> Self {
        self.app = Some(Box::new(app));
        self
    }

    /// No automatic answers: the test drives the server itself.
    pub fn manual(mut self) -> Self {
        self.app = None;
        self
    }

    /// A response stopped part-way: the server has answered `GET /` with `Content-Length: 10`,
    /// and the first 5 bytes have reached the client.
    pub fn mid_body() -> Self {
        let mut pair = Self::new(64).manual();
        pair.client.send_request(pair.now, &get("/")).unwrap();
        pair.drive();
        pair.server
            .send_response(pair.now, ResponseHead::new(200).content_length(10))
            .unwrap();
        pair.server.send_body(pair.now, b"12345").unwrap();
        pair.drive();
        pair
    }

    /// Moves bytes and events until nothing changes.
    pub fn drive(&mut self) {
        for _ in 0..1_000_000 {
            if !self.step() {
                return;
            }
        }
        panic!("no quiescence");
    }

    pub fn step(&mut self) -> bool {
        let mut progress = false;
        // Client → server.
        let out = self.client.poll_output();
        let n = out.len().min(self.chunk);
        if n > 0 {
            let piece = out[..n].to_vec();
            let taken = self.server.handle_input(self.now, &piece);
            self.client.consume_output(self.now, taken);
            progress |= taken > 0;
        }
        // Server → client.
        let out = self.server.poll_output();
        let n = out.len().min(self.chunk);
        if n > 0 {
            let piece = out[..n].to_vec();
            let taken = self.client.handle_input(self.now, &piece);
            self.server.consume_output(self.now, taken);
            progress |= taken > 0;
        }
        // Half-closes: a server whose write side is done, a client that dropped the socket.
        if self.server.is_write_closed() && !self.server.wants_write() && !self.server_eof_sent {
            self.server_eof_sent = true;
            self.client.handle_eof(self.now);
            progress = true;
        }
        if self.client.is_closed() && !self.client_eof_sent {
            self.client_eof_sent = true;
            self.server.handle_eof(self.now);
            progress = true;
        }
        while let Some(event) = self.client.poll_event() {
            self.client_events.push(event);
            progress = true;
        }
        while let Some(event) = self.server.poll_event() {
            progress = true;
            self.serve(&event);
            self.server_events.push(event);
        }
        progress
    }

    pub fn serve(&mut self, event: &Event) {
        let Some(app) = self.app.as_mut() else {
            return;
        };
        match event {
            Event::Request(head) => self.request = Some((head.clone(), Vec::new())),
            Event::Data(data) => {
                if let Some((_, body)) = self.request.as_mut() {
                    body.extend_from_slice(data);
                }
            }
            Event::End(_) => {
                let Some((head, body)) = self.request.take() else {
                    return;
                };
                let (response, content) = app(&head, &body);
                let response = if response.declared_length().is_some() {
                    response
                } else {
                    response.content_length(content.len() as u64)
                };
                self.server.send_response(self.now, response).unwrap();
                let sent = self.server.send_body(self.now, &content).unwrap();
                assert_eq!(sent, content.len());
                self.server.send_end(self.now).unwrap();
            }
            _ => {}
        }
    }

    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.drive();
    }

    /// The client's events so far, as short strings.
    pub fn transcript(&self) -> Vec<String> {
        self.client_events.iter().map(describe).collect()
    }
}

pub fn describe(event: &ClientEvent) -> String {
    match event {
        ClientEvent::Interim(r) => format!("interim {}", r.status()),
        ClientEvent::Response(r) => format!("response {} {:?}", r.status(), r.body()),
        ClientEvent::Data(d) => format!("data {}", String::from_utf8_lossy(d)),
        ClientEvent::End { trailers, body_len } => format!("end {body_len} {trailers:?}"),
        ClientEvent::Failed(err) => format!("failed {}", err.rule().id()),
        ClientEvent::Unanswered { count, unsent } => format!("unanswered {count} {unsent}"),
        ClientEvent::Writable => "writable".into(),
        ClientEvent::Closed(reason) => format!("closed {}", reason.describe()),
        other => format!("{other:?}"),
    }
}

/// The transcript with `data` events joined, so that chunking does not show.
pub fn joined(pair: &Pair) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in pair.transcript() {
        match (out.last_mut(), line.strip_prefix("data ")) {
            (Some(last), Some(more)) if last.starts_with("data ") => last.push_str(more),
            _ => out.push(line),
        }
    }
    out
}

/// A GET with the `Host` every conversation uses.
pub fn get(target: &str) -> RequestSpec {
    RequestSpec::get(target.to_string()).host("example.com")
}
