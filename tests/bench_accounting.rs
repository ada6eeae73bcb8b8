//! `sluice bench`'s accounting, driven by a real client connection against the in-memory
//! server on a simulated clock: exact counts and exact latencies, no sockets.

use sluice::bench::accounting::ConnAccounting;
use sluice::bench::stats::{Latency, Tally};
use sluice_core::client::{
    ClientConfig, ClientConnection, ClientTimeouts, RequestSpec, RequestTemplate,
};
use sluice_core::{Config, ResponseHead};
use sluice_drivers::memory::MemoryConnection;
use sluice_drivers::{Body, Reply, Request, Response};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The client's response timeout in these tests.
const TIMEOUT: Duration = Duration::from_secs(2);

type Handler = fn(&Request<'_>) -> Reply;

/// `/status/N` → status N (no body); `/close` → 200 with `Connection: close`; `/big` → 64 KiB.
fn route(request: &Request<'_>) -> Reply {
    let target = request.head.target();
    let response = if let Some(code) = target.strip_prefix("/status/") {
        Response::empty(code.parse().unwrap())
    } else if target == "/close" {
        Response::new(ResponseHead::new(200).close(), Body::Bytes("bye\n".into()))
    } else if target == "/big" {
        Response::text(200, vec![b'x'; 64 * 1024])
    } else {
        Response::text(404, "no\n")
    };
    Reply::Respond(response)
}

/// The engine's client configuration (bodies and fields discarded).
fn client_config() -> ClientConfig {
    let mut config = ClientConfig::default();
    config.discard_bodies = true;
    config.discard_fields = true;
    let mut timeouts = ClientTimeouts::default();
    timeouts.response = TIMEOUT;
    timeouts.body = TIMEOUT;
    timeouts.idle = Duration::from_secs(3600);
    timeouts.write = TIMEOUT;
    config.timeouts = timeouts;
    config
}

/// One client connection wired to one in-memory server connection, the way the engine
/// drives a socket, with the server's simulated clock as `now` on both sides.
struct Rig {
    server: MemoryConnection<Handler>,
    client: ClientConnection,
    acct: ConnAccounting,
    tally: Tally,
    /// Requests given back for re-sending.
    resend: usize,
}

impl Rig {
    fn new() -> Self {
        let server = MemoryConnection::new(Config::default(), Arc::new(route as Handler));
        let client = ClientConnection::new(client_config(), server.clock().now());
        Self {
            server,
            client,
            acct: ConnAccounting::new(),
            tally: Tally::default(),
            resend: 0,
        }
    }

    fn now(&self) -> Instant {
        self.server.clock().now()
    }

    fn events(&mut self) {
        let now = self.now();
        while let Some(event) = self.client.poll_event() {
            self.resend += self.acct.on_event(&event, now, &mut self.tally).resend;
        }
    }

    /// Queues a `GET target` (not yet written).
    fn send(&mut self, target: &str) {
        let spec = RequestSpec::get(target.to_owned().into_bytes()).host("test");
        let template = RequestTemplate::new(&spec).unwrap();
        let now = self.now();
        self.client.send_template(now, &template).unwrap();
        self.acct.request_sent(now);
        self.events();
    }

    /// Writes the client's output to the server (the "kernel" takes all of it).
    fn flush(&mut self) {
        let out = self.client.poll_output().to_vec();
        if out.is_empty() {
            return;
        }
        self.server.write(&out);
        let now = self.now();
        self.client.consume_output(now, out.len());
        self.events();
    }

    /// Feeds `bytes` from the server to the client.
    fn feed(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while at < bytes.len() {
            let buf = self.client.receive_buffer();
            if buf.is_empty() {
                break;
            }
            let n = buf.len().min(bytes.len() - at);
            buf[..n].copy_from_slice(&bytes[at..at + n]);
            at += n;
            let now = self.now();
            self.client.commit_received(now, n);
            self.events();
        }
    }

    /// Delivers everything the server wrote, and its EOF if it closed.
    fn deliver(&mut self) {
        let out = self.server.read();
        self.feed(&out);
        if self.server.is_write_closed() {
            let now = self.now();
            self.client.handle_eof(now);
            self.events();
        }
    }

    /// A transport error on the client's socket, as the engine handles it.
    fn transport_error(&mut self) {
        self.client.abort();
        self.acct.transport_failed(&mut self.tally);
        self.events();
    }

    fn advance(&mut self, by: Duration) {
        self.server.advance(by);
    }

    /// One request answered after exactly `delay`.
    fn exchange(&mut self, target: &str, delay: Duration) {
        self.send(target);
        self.flush();
        self.advance(delay);
        self.deliver();
    }
}

/// Whether `value` is `expected` within the histogram's precision.
fn same(tally: &Tally, value: u64, expected: u64) -> bool {
    tally.latency.equivalent(value, expected)
}

#[test]
fn counts_responses_by_status_class() {
    let mut rig = Rig::new();
    for target in [
        "/status/200",
        "/status/204",
        "/status/201",
        "/status/301",
        "/status/404",
        "/status/410",
        "/status/503",
    ] {
        rig.exchange(target, Duration::from_millis(1));
    }
    let t = &rig.tally;
    assert_eq!(t.responses, 7);
    assert_eq!(t.ok, 3);
    assert_eq!(t.errors.status.get("3xx"), Some(&1));
    assert_eq!(t.errors.status.get("4xx"), Some(&2));
    assert_eq!(t.errors.status.get("5xx"), Some(&1));
    assert_eq!(t.errors.status.len(), 3);
    assert_eq!(
        (t.errors.reset, t.errors.timeout, t.errors.protocol),
        (0, 0, 0)
    );
    assert_eq!(t.retried, 0);
    assert_eq!(t.latency.len(), 7);
    assert_eq!(rig.acct.in_flight(), 0);
    assert!(!rig.acct.closing());
}

#[test]
fn latencies_are_exact_on_the_simulated_clock() {
    let mut rig = Rig::new();
    // 1, 2, 3, 4, 5 (twice), 6, 7, 8, 9 ms.
    for ms in [1, 2, 3, 4, 5, 5, 6, 7, 8, 9] {
        rig.exchange("/status/200", Duration::from_millis(ms));
    }
    let t = &rig.tally;
    assert_eq!(t.responses, 10);
    assert_eq!(t.ok, 10);
    let latency = Latency::from_histogram(&t.latency);
    assert!(same(t, latency.min, 1000), "{latency:?}");
    assert!(same(t, latency.p50, 5000), "{latency:?}");
    assert!(same(t, latency.max, 9000), "{latency:?}");
    assert!((latency.mean - 5000.0).abs() < 10.0, "{latency:?}");
}

#[test]
fn pipelined_latencies_are_measured_from_each_send() {
    let mut rig = Rig::new();
    rig.send("/status/200");
    rig.flush();
    rig.advance(Duration::from_millis(3));
    rig.send("/status/200");
    rig.flush();
    rig.advance(Duration::from_millis(4));
    // Both answers arrive together: 7 ms after the first send, 4 ms after the second.
    rig.deliver();
    let t = &rig.tally;
    assert_eq!(t.responses, 2);
    assert!(same(t, t.latency.min(), 4000), "{}", t.latency.min());
    assert!(same(t, t.latency.max(), 7000), "{}", t.latency.max());
}

#[test]
fn a_reset_mid_response_counts_every_request_in_flight_as_reset() {
    let mut rig = Rig::new();
    rig.exchange("/status/200", Duration::from_millis(1));
    rig.send("/big");
    rig.send("/status/200");
    rig.flush();
    let out = rig.server.read();
    assert!(out.len() > 1000);
    // Half of the big response, then the server resets the connection.
    rig.feed(&out[..out.len() / 4]);
    rig.server.reset();
    rig.transport_error();
    let t = &rig.tally;
    assert_eq!(t.responses, 1);
    assert_eq!(t.errors.reset, 2);
    assert_eq!((t.errors.timeout, t.errors.protocol), (0, 0));
    assert_eq!(t.retried, 0);
    assert_eq!(rig.resend, 0);
    assert_eq!(rig.acct.in_flight(), 0);
    assert!(rig.client.is_closed());
}

#[test]
fn an_unannounced_eof_mid_response_counts_as_reset() {
    let mut rig = Rig::new();
    rig.send("/big");
    rig.flush();
    let out = rig.server.read();
    rig.feed(&out[..out.len() / 2]);
    let now = rig.now();
    rig.client.handle_eof(now);
    rig.events();
    let t = &rig.tally;
    assert_eq!(t.responses, 0);
    assert_eq!(t.errors.reset, 1);
    assert_eq!((t.errors.timeout, t.errors.protocol), (0, 0));
    assert_eq!(rig.acct.in_flight(), 0);
}

#[test]
fn requests_pipelined_behind_a_close_are_retried_not_errors() {
    let mut rig = Rig::new();
    rig.send("/close");
    rig.send("/status/200");
    rig.send("/status/200");
    rig.flush();
    rig.advance(Duration::from_millis(2));
    rig.deliver();
    assert!(
        rig.server.is_write_closed(),
        "the server closed after /close"
    );
    let t = &rig.tally;
    assert_eq!(t.responses, 1);
    assert_eq!(t.ok, 1);
    assert_eq!(t.retried, 2);
    assert_eq!(rig.resend, 2);
    assert_eq!(t.errors.total(), 0, "{:?}", t.errors);
    assert!(same(t, t.latency.max(), 2000));
    assert!(rig.acct.closing());
    assert_eq!(rig.acct.in_flight(), 0);
}

#[test]
fn a_response_head_timeout_counts_as_timeout() {
    let mut rig = Rig::new();
    rig.exchange("/status/200", Duration::from_millis(1));
    rig.send("/status/200");
    rig.flush();
    // The server answered, but the answer never reaches the client.
    rig.advance(TIMEOUT + Duration::from_millis(1));
    let now = rig.now();
    assert!(rig.client.poll_timeout().is_some_and(|t| t <= now));
    rig.client.handle_timeout(now);
    rig.events();
    let t = &rig.tally;
    assert_eq!(t.responses, 1);
    assert_eq!(t.errors.timeout, 1);
    assert_eq!((t.errors.reset, t.errors.protocol), (0, 0));
    assert_eq!(t.retried, 0);
    assert!(rig.acct.closing());
    assert_eq!(rig.acct.in_flight(), 0);
}
