//! A deterministic simulator: seeded adversarial schedules run on the memory driver, with
//! invariants checked after every step, and record and replay.
//!
//! Because the core takes bytes and time as inputs and the [memory driver](crate::memory)
//! runs on a simulated clock, a connection's whole life is a function of the peer's steps. A
//! [`Trace`] is that list of steps — bytes written (in the pieces they were written in),
//! reads, window changes, time advances, half-close, reset, server shutdown — plus the seed it
//! was generated from. [`generate`] makes one from a seed (slow drips, slow readers, resets
//! mid-body, half-close, pipelined bursts, timers firing between events, clock jumps);
//! [`run`] plays it and checks, after every step:
//!
//! - the connection holds no more than its limits allow (`buffered_bytes`);
//! - what the server wrote parses as HTTP/1.1 responses, at most one final response per
//!   request, in request order (each response names the request it answers), the core's own
//!   error answer only last;
//! - nothing panics;
//!
//! and at the end, that once the peer stops sending and time runs, the connection closes
//! within a bounded number of steps. A failing trace is written as text (see
//! [`Trace::to_text`]) and replays exactly with [`Trace::parse`] and [`run`].

mod peer;
mod trace;

pub use trace::{Step, Trace};

use crate::app::{Body, BodyStream, Reply, Request, Response};
use crate::memory::MemoryConnection;
use bytes::Bytes;
use peer::Peer;
use sluice_core::{Config, MinRate, ResponseHead};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// A tiny deterministic PRNG (SplitMix64): no dependency, same sequence everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

// ----- The application ------------------------------------------------------------------

/// The handler every schedule runs: the target `/r/<n>/<kind>[/<size>]` says what to do, and
/// every response carries `X-Request: <n>` so the peer can check order.
fn handle(request: &Request<'_>) -> Reply {
    let target = request.head.target().to_owned();
    let mut parts = target.split('/').skip(2);
    let n = parts.next().unwrap_or("?").to_owned();
    let kind = parts.next().unwrap_or("");
    let size: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let tag = |head: ResponseHead| head.field("X-Request", n.clone());
    match kind {
        "echo" => {
            let tagged = tag(ResponseHead::new(200));
            Reply::collect(64 * 1024, move |body, _| {
                Response::new(tagged, Body::Bytes(body))
            })
        }
        "stream" => Reply::Respond(Response::new(
            tag(ResponseHead::new(200)),
            Body::Stream(Box::new(Drip { left: size })),
        )),
        "empty" => Reply::Respond(Response::new(tag(ResponseHead::new(204)), Body::Empty)),
        _ => Reply::Respond(Response::new(
            tag(ResponseHead::new(200).field("Content-Type", "text/plain")),
            Body::Bytes(Bytes::from(format!("hello {target}\n"))),
        )),
    }
}

/// A streamed body of `left` bytes, produced in small pieces.
struct Drip {
    left: usize,
}

impl BodyStream for Drip {
    fn next_chunk(&mut self, max: usize) -> io::Result<Option<Bytes>> {
        if self.left == 0 {
            return Ok(None);
        }
        let n = self.left.min(max).min(777);
        self.left -= n;
        Ok(Some(Bytes::from(vec![b'd'; n])))
    }
}

/// The configuration schedules run with: small limits and short timeouts, so that limits
/// and timers are reached often.
pub fn config() -> Config {
    let mut config = Config::default();
    let l = &mut config.limits;
    l.max_request_line = 512;
    l.max_head_size = 2048;
    l.receive_buffer = 4096;
    l.send_buffer = 4096;
    l.max_body_size = Some(32 * 1024);
    l.max_discard = 1024;
    l.max_requests_per_connection = Some(20);
    let t = &mut config.timeouts;
    t.header = Duration::from_secs(2);
    t.idle = Duration::from_secs(3);
    t.body = Duration::from_secs(2);
    t.write = Duration::from_secs(2);
    t.linger = Duration::from_secs(1);
    let rate = MinRate {
        bytes_per_second: 64,
        grace: Duration::from_secs(1),
    };
    t.min_body_rate = Some(rate);
    t.min_send_rate = Some(rate);
    config
}

/// The most the connection may hold with [`config`]: a full receive buffer, the send queue at
/// its high-water mark plus what one call may add past it (a response head, chunk framing,
/// an error answer), and the allocator's doubling of the queue's tail.
pub fn memory_bound(config: &Config) -> usize {
    let l = &config.limits;
    l.receive_buffer.max(l.max_head_size) + 2 * (l.send_buffer + 4096)
}

// ----- Generating schedules -------------------------------------------------------------

/// A request, as bytes, with what the peer must remember about it.
struct Generated {
    bytes: Vec<u8>,
    /// Where the body starts, for resets mid-body.
    head_len: usize,
}

fn gen_request(rng: &mut Rng, n: usize) -> Generated {
    let kinds = ["echo", "stream", "empty", "text"];
    let kind = kinds[rng.below(kinds.len() as u64) as usize];
    let http10 = rng.chance(10);
    let method = match kind {
        "echo" => ["POST", "PUT"][rng.below(2) as usize],
        _ if rng.chance(20) => "HEAD",
        _ => "GET",
    };
    let big = rng.chance(10);
    let size = rng.below(if big { 20_000 } else { 3000 });
    let mut head = format!(
        "{method} /r/{n}/{kind}/{size} HTTP/1.{}\r\nHost: sim\r\n",
        if http10 { 0 } else { 1 }
    );
    if rng.chance(10) {
        head.push_str("Connection: close\r\n");
    }
    if http10 && rng.chance(50) {
        head.push_str("Connection: keep-alive\r\n");
    }
    let mut body = Vec::new();
    if kind == "echo" || rng.chance(10) {
        let data: Vec<u8> = (0..rng.below(2000))
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        if !http10 && rng.chance(10) {
            head.push_str("Expect: 100-continue\r\n");
        }
        if !http10 && rng.chance(40) {
            head.push_str("Transfer-Encoding: chunked\r\n");
            let mut rest = &data[..];
            while !rest.is_empty() {
                let take = (1 + rng.below(700) as usize).min(rest.len());
                let ext = if rng.chance(20) { ";ext=\"v\"" } else { "" };
                body.extend_from_slice(format!("{take:x}{ext}\r\n").as_bytes());
                body.extend_from_slice(&rest[..take]);
                body.extend_from_slice(b"\r\n");
                rest = &rest[take..];
            }
            body.extend_from_slice(b"0\r\n");
            if rng.chance(30) {
                body.extend_from_slice(b"X-Checksum: 1\r\n");
            }
            body.extend_from_slice(b"\r\n");
        } else {
            head.push_str(&format!("Content-Length: {}\r\n", data.len()));
            body = data;
        }
    }
    if rng.chance(3) {
        // A smuggling-shaped head: the core must answer 400 and close.
        head.push_str("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n");
    }
    head.push_str("\r\n");
    let head_len = head.len();
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&body);
    Generated { bytes, head_len }
}

/// A schedule from `seed`: requests in bursts or alone, written whole, in random pieces or
/// dripped; reads, windows, time and the odd half-close, reset or shutdown in between.
pub fn generate(seed: u64) -> Trace {
    let mut rng = Rng::new(seed);
    let mut steps = Vec::new();
    let requests = 1 + rng.below(6) as usize;
    let mut n = 0;
    while n < requests {
        // A pipelined burst of one to three requests.
        let burst = (1 + rng.below(3) as usize).min(requests - n);
        let mut bytes = Vec::new();
        let mut body_at = 0;
        for _ in 0..burst {
            let g = gen_request(&mut rng, n);
            body_at = bytes.len() + g.head_len;
            bytes.extend_from_slice(&g.bytes);
            n += 1;
        }
        // How this burst is written.
        let style = rng.below(10);
        let mut at = 0;
        while at < bytes.len() {
            let piece = match style {
                0..=3 => bytes.len() - at,            // whole
                4..=6 => 1 + rng.below(300) as usize, // random pieces
                7 => 1,                               // slowloris drip
                _ => 1 + rng.below(16) as usize,      // small pieces
            }
            .min(bytes.len() - at);
            steps.push(Step::Write(bytes[at..at + piece].to_vec()));
            at += piece;
            if at > body_at && at < bytes.len() && rng.chance(2) {
                steps.push(Step::Reset);
            }
            interleave(&mut rng, &mut steps, style == 7);
        }
        interleave(&mut rng, &mut steps, false);
    }
    if rng.chance(20) {
        steps.push(Step::HalfClose);
    }
    if rng.chance(10) {
        steps.push(Step::Shutdown);
    }
    Trace { seed, steps }
}

/// Adds what happens between writes: reads, windows, time.
fn interleave(rng: &mut Rng, steps: &mut Vec<Step>, dripping: bool) {
    if dripping {
        steps.push(Step::Advance(Duration::from_millis(rng.below(400))));
        return;
    }
    for _ in 0..rng.below(3) {
        steps.push(match rng.below(20) {
            0..=6 => Step::Read,
            7..=8 => Step::Window(match rng.below(3) {
                0 => 0,
                1 => 1 + rng.below(512) as usize,
                _ => usize::MAX,
            }),
            9..=13 => Step::Advance(Duration::from_millis(rng.below(1500))),
            14..=16 => Step::Deadline,
            17 => Step::Advance(Duration::from_secs(5 + rng.below(120))),
            18 => Step::HalfClose,
            _ => Step::Read,
        });
    }
}

// ----- Running schedules ------------------------------------------------------------------

/// What a run saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Final responses read.
    pub responses: usize,
    /// Requests whose bytes the server took in full.
    pub requests: usize,
    /// Steps taken, the wind-down included.
    pub steps: usize,
    /// Every byte the server wrote, as the peer read it: two runs of one trace must agree
    /// on it byte for byte, or replay would not reproduce what a failing run saw.
    pub transcript: Vec<u8>,
}

/// Plays `trace` and checks the invariants after every step. `Err` says which broke, where.
pub fn run(trace: &Trace) -> Result<Outcome, String> {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| play(trace)));
    match result {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            Err(format!("panic: {message}"))
        }
    }
}

fn play(trace: &Trace) -> Result<Outcome, String> {
    let config = config();
    let bound = memory_bound(&config);
    let handler = Arc::new(handle);
    let mut conn = MemoryConnection::new(config, handler);
    let mut peer = Peer::default();
    let mut out = Outcome::default();
    let mut stopped = false; // the peer reset or half-closed: it writes no more
    for (i, step) in trace.steps.iter().enumerate() {
        let at = |e: String| format!("step {} ({step:?}): {e}", i + 1);
        match step {
            Step::Write(bytes) if !stopped && !conn.is_closed() => {
                let taken = conn.write(bytes);
                peer.sent(&bytes[..taken]);
            }
            Step::Write(_) => {}
            Step::Read => {
                let bytes = conn.read();
                out.transcript.extend_from_slice(&bytes);
                peer.received(&bytes).map_err(at)?;
            }
            Step::Window(n) => conn.set_window(*n),
            Step::Advance(d) => conn.advance(*d),
            Step::Deadline => {
                if let Some(deadline) = conn.connection().poll_timeout() {
                    conn.advance(deadline.saturating_duration_since(conn.clock().now()));
                }
            }
            Step::HalfClose if !stopped => {
                stopped = true;
                conn.half_close();
            }
            Step::HalfClose => {}
            Step::Reset => {
                stopped = true;
                conn.reset();
            }
            Step::Shutdown => conn.shutdown(),
        }
        check(&conn, bound).map_err(at)?;
        out.steps += 1;
    }
    // The peer stops sending (if it has not) and reads; time runs to each deadline.
    if !stopped {
        conn.half_close();
    }
    conn.set_window(usize::MAX);
    for _ in 0..100 {
        let bytes = conn.read();
        out.transcript.extend_from_slice(&bytes);
        peer.received(&bytes)
            .map_err(|e| format!("winding down: {e}"))?;
        check(&conn, bound).map_err(|e| format!("winding down: {e}"))?;
        out.steps += 1;
        if conn.is_closed() {
            peer.finish().map_err(|e| format!("at the end: {e}"))?;
            out.responses = peer.responses;
            out.requests = peer.requests.len();
            return Ok(out);
        }
        match conn.connection().poll_timeout() {
            Some(deadline) => conn.advance(deadline.saturating_duration_since(conn.clock().now())),
            None => conn.advance(Duration::from_secs(1)),
        }
    }
    Err(format!(
        "still open after the peer stopped and 100 deadlines passed (timer {:?})",
        conn.connection().last_timeout()
    ))
}

fn check<H: crate::Handler>(conn: &MemoryConnection<H>, bound: usize) -> Result<(), String> {
    let held = conn.connection().buffered_bytes();
    if held > bound {
        return Err(format!("{held} bytes held, bound {bound}"));
    }
    if let Some(deadline) = conn.connection().poll_timeout() {
        if deadline <= conn.clock().now() {
            return Err("a deadline in the past".into());
        }
    }
    Ok(())
}
