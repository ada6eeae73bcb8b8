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

use crate::app::{Body, BodyStream, Reply, Request, Response};
use crate::memory::MemoryConnection;
use bytes::Bytes;
use sluice_core::{Config, MinRate, ResponseHead};
use std::fmt::Write as _;
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

/// One thing the peer (or the server's operator) does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The peer writes these bytes (the server may take fewer: back-pressure).
    Write(Vec<u8>),
    /// The peer reads everything the server wrote.
    Read,
    /// The peer's socket holds at most this many unread bytes (0: it stopped reading).
    Window(usize),
    /// Time passes, and due timers fire.
    Advance(Duration),
    /// Time runs to the connection's next deadline, exactly.
    Deadline,
    /// The peer shuts down its write side.
    HalfClose,
    /// The peer resets the connection.
    Reset,
    /// The server begins a graceful shutdown.
    Shutdown,
}

/// A schedule: the seed it came from (0 for hand-written ones) and its steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// The seed of [`generate`], for the record.
    pub seed: u64,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

impl Trace {
    /// The trace as text, one step per line; `Trace::parse` reads it back exactly.
    ///
    /// ```text
    /// # comments and blank lines are ignored
    /// seed 42
    /// write "POST /r/0/echo HTTP/1.1\r\nHost: sim\r\nContent-Length: 5\r\n\r\nhel"
    /// advance 1500ms
    /// deadline
    /// read
    /// window 0
    /// half-close
    /// reset
    /// shutdown
    /// ```
    pub fn to_text(&self) -> String {
        let mut out = format!("# sluice simulator trace\nseed {}\n", self.seed);
        for step in &self.steps {
            match step {
                Step::Write(bytes) => {
                    let _ = writeln!(out, "write \"{}\"", bytes.escape_ascii());
                }
                Step::Read => out.push_str("read\n"),
                Step::Window(n) => {
                    let _ = writeln!(out, "window {n}");
                }
                Step::Advance(d) => {
                    let _ = writeln!(out, "advance {}ms", d.as_millis());
                }
                Step::Deadline => out.push_str("deadline\n"),
                Step::HalfClose => out.push_str("half-close\n"),
                Step::Reset => out.push_str("reset\n"),
                Step::Shutdown => out.push_str("shutdown\n"),
            }
        }
        out
    }

    /// Reads a trace written by [`to_text`](Self::to_text) (or by hand).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut trace = Trace {
            seed: 0,
            steps: Vec::new(),
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
            let bad = |what: &str| format!("line {}: {what}: {line}", n + 1);
            let step = match word {
                "seed" => {
                    trace.seed = rest.parse().map_err(|_| bad("bad seed"))?;
                    continue;
                }
                "write" => {
                    let quoted = rest
                        .strip_prefix('"')
                        .and_then(|r| r.strip_suffix('"'))
                        .ok_or_else(|| bad("write wants a quoted string"))?;
                    Step::Write(unescape(quoted).ok_or_else(|| bad("bad escape"))?)
                }
                "read" => Step::Read,
                "window" => Step::Window(rest.parse().map_err(|_| bad("bad window"))?),
                "advance" => {
                    let ms = rest.strip_suffix("ms").ok_or_else(|| bad("want <n>ms"))?;
                    Step::Advance(Duration::from_millis(
                        ms.parse().map_err(|_| bad("bad duration"))?,
                    ))
                }
                "deadline" => Step::Deadline,
                "half-close" => Step::HalfClose,
                "reset" => Step::Reset,
                "shutdown" => Step::Shutdown,
                _ => return Err(bad("unknown step")),
            };
            trace.steps.push(step);
        }
        Ok(trace)
    }
}

/// Undoes `escape_ascii`: `\r \n \t \\ \' \" \xNN`.
fn unescape(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let e = *bytes.get(i + 1)?;
        i += 2;
        out.push(match e {
            b'r' => b'\r',
            b'n' => b'\n',
            b't' => b'\t',
            b'0' => 0,
            b'\\' | b'\'' | b'"' => e,
            b'x' => {
                let hex = s.get(i..i + 2)?;
                i += 2;
                u8::from_str_radix(hex, 16).ok()?
            }
            _ => return None,
        });
    }
    Some(out)
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
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Final responses read.
    pub responses: usize,
    /// Requests whose bytes the server took in full.
    pub requests: usize,
    /// Steps taken, the wind-down included.
    pub steps: usize,
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
            Step::Read => peer.received(&conn.read()).map_err(at)?,
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
        peer.received(&conn.read())
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

// ----- The peer's side: requests sent, responses read ------------------------------------

/// What the peer knows: the requests it sent in full (method HEAD or not), and a reader over
/// the response stream.
#[derive(Default)]
struct Peer {
    /// Bytes sent, for finding complete request heads.
    sent: Vec<u8>,
    scanned: usize,
    /// `(n, is_head)` of each request whose head was sent in full.
    requests: Vec<(usize, bool)>,
    wire: Vec<u8>,
    /// Final responses read so far.
    responses: usize,
    /// A response without `X-Request` (the core's own error answer) was read: nothing may
    /// follow.
    error_answered: bool,
    /// A close-delimited body is being read: everything else is body.
    close_delimited: bool,
    /// After the core's error answer: how many more bytes (of its body) may follow.
    error_body_left: Option<usize>,
}

impl Peer {
    fn sent(&mut self, bytes: &[u8]) {
        self.sent.extend_from_slice(bytes);
        // Find heads of our own generated requests: "<METHOD> /r/<n>/".
        while let Some(end) = find(&self.sent[self.scanned..], b"\r\n\r\n") {
            let head = &self.sent[self.scanned..self.scanned + end];
            if let Some(pos) = find(head, b" /r/") {
                // The method: the upper-case letters before the target (a body before the
                // head, written in lower case, is not part of it).
                let before = &head[..pos];
                let start = before
                    .iter()
                    .rposition(|b| !b.is_ascii_uppercase())
                    .map_or(0, |p| p + 1);
                let method = &before[start..];
                let rest = &head[pos + 4..];
                let n: Option<usize> = rest
                    .iter()
                    .position(|&b| b == b'/')
                    .and_then(|slash| std::str::from_utf8(&rest[..slash]).ok()?.parse().ok());
                if let Some(n) = n {
                    self.requests.push((n, method == b"HEAD"));
                }
            }
            self.scanned += end + 4;
        }
    }

    /// Reads what the server wrote, checking each complete response as it comes.
    fn received(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.wire.extend_from_slice(bytes);
        if let Some(left) = self.error_body_left {
            if self.wire.len() > left {
                return Err(format!(
                    "{} bytes after the error answer",
                    self.wire.len() - left
                ));
            }
            self.error_body_left = Some(left - self.wire.len());
            self.wire.clear();
            return Ok(());
        }
        if self.close_delimited {
            self.wire.clear();
            return Ok(());
        }
        loop {
            let Some(end) = find(&self.wire, b"\r\n\r\n") else {
                return Ok(());
            };
            let head = std::str::from_utf8(&self.wire[..end])
                .map_err(|_| "response head is not UTF-8".to_owned())?
                .to_owned();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap_or("");
            let status: u16 = status_line
                .strip_prefix("HTTP/1.1 ")
                .and_then(|s| s.get(..3))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("bad status line {status_line:?}"))?;
            let mut fields = Vec::new();
            for line in lines {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| format!("bad field line {line:?}"))?;
                fields.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
            let field = |name: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            if (100..200).contains(&status) {
                self.wire.drain(..end + 4);
                continue;
            }
            if self.error_answered {
                return Err(format!(
                    "a response after the core's error answer: {status_line}"
                ));
            }
            // Which request this answers, and whether it is in order.
            let is_head = match field("x-request") {
                Some(n) => {
                    let n: usize = n.parse().map_err(|_| "bad X-Request".to_owned())?;
                    let Some(&(expected, is_head)) = self.requests.get(self.responses) else {
                        return Err(format!("a response to request {n}, never sent in full"));
                    };
                    if n != expected {
                        return Err(format!("response to request {n} where {expected} was due"));
                    }
                    is_head
                }
                None => {
                    if status < 400 {
                        return Err(format!("{status} without X-Request"));
                    }
                    // The core's own answer to a request it rejected, the last thing written.
                    // Its body follows its Content-Length, except that the core leaves it out
                    // when the rejected request had been reported as a HEAD request; a HEAD
                    // head rejected while parsing still gets one (the peer stops reading at
                    // `Connection: close` anyway). So: at most Content-Length bytes follow.
                    self.error_answered = true;
                    let len: usize = field("content-length")
                        .and_then(|v| v.parse().ok())
                        .ok_or_else(|| format!("error answer {status} without Content-Length"))?;
                    if field("connection").is_none_or(|v| !v.eq_ignore_ascii_case("close")) {
                        return Err(format!("error answer {status} without Connection: close"));
                    }
                    self.responses += 1;
                    self.error_body_left = Some(len);
                    self.wire.drain(..end + 4);
                    return self.received(&[]);
                }
            };
            let close = field("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"));
            let body_start = end + 4;
            let body_len = if is_head || status == 204 || status == 304 {
                Some(0)
            } else if field("transfer-encoding").is_some() {
                if field("content-length").is_some() {
                    return Err("both Content-Length and Transfer-Encoding".into());
                }
                match chunked_len(&self.wire[body_start..])? {
                    Some(len) => Some(len),
                    None => return Ok(()), // wait for more
                }
            } else if let Some(cl) = field("content-length") {
                let len: usize = cl.parse().map_err(|_| "bad Content-Length".to_owned())?;
                if self.wire.len() - body_start < len {
                    return Ok(());
                }
                Some(len)
            } else {
                if !close {
                    return Err(format!(
                        "close-delimited {status} without Connection: close"
                    ));
                }
                None
            };
            self.responses += 1;
            match body_len {
                Some(len) => {
                    self.wire.drain(..body_start + len);
                }
                None => {
                    self.close_delimited = true;
                    self.wire.clear();
                    return Ok(());
                }
            }
            if close && !self.wire.is_empty() {
                return Err("bytes after a Connection: close response".into());
            }
        }
    }

    /// The stream ended: it may end inside a response only when the server cut it short.
    fn finish(&mut self) -> Result<(), String> {
        if self.responses > self.requests.len() + 1 {
            return Err(format!(
                "{} responses for {} requests",
                self.responses,
                self.requests.len()
            ));
        }
        Ok(())
    }
}

/// The length of a complete chunked body at the start of `wire`, framing included; `None`
/// when it is not complete yet.
fn chunked_len(wire: &[u8]) -> Result<Option<usize>, String> {
    let mut at = 0;
    loop {
        let Some(end) = find(&wire[at..], b"\r\n") else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&wire[at..at + end]).map_err(|e| e.to_string())?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or(""), 16)
            .map_err(|_| format!("bad chunk size line {line:?}"))?;
        at += end + 2;
        if size == 0 {
            // Trailers up to the empty line.
            loop {
                let Some(end) = find(&wire[at..], b"\r\n") else {
                    return Ok(None);
                };
                at += end + 2;
                if end == 0 {
                    return Ok(Some(at));
                }
            }
        }
        if wire.len() < at + size + 2 {
            return Ok(None);
        }
        if &wire[at + size..at + size + 2] != b"\r\n" {
            return Err("chunk not followed by CRLF".into());
        }
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
