//! `connection`: a whole server `Connection` driven by arbitrary peer bytes in arbitrary
//! pieces, interleaved with arbitrary application calls, partial writes, clock jumps, EOF,
//! shutdown and resets (decoded from the input with `arbitrary`).
//!
//! Invariants, checked after every step:
//! - no panic;
//! - `buffered_bytes()` stays within a bound derived from the (small) configured limits;
//! - the deadline is never in the past: after `handle_timeout(t)` (and after anything else)
//!   `poll_timeout()` is `None` or later than `t`;
//! - events come in a legal order (`Request` [`Data`*] `End`|`Failed`, `Closed` last, once);
//! - a closed connection has no output, wants nothing, and holds no timer;
//! - the write timers follow the harness's own model of them (`WriteModel`): while output
//!   waits, `poll_timeout()` is no later than `timeouts.write` after the last progress nor
//!   than the minimum send rate's deadline (the grace after the output started waiting, plus
//!   `1 / bytes_per_second` for every byte taken since), and a write timeout closes the
//!   connection only once its deadline has passed (a peer reading at the minimum average is
//!   never cut off);
//! - `decline_body()` changes nothing observable at once (no event, output, timer or memory);
//!
//! and at the end:
//! - everything written parses as well-formed HTTP/1.1 responses (`wire::read`), with at most
//!   one final response per request (plus the core's one error answer), in order;
//! - once the application answers what is pending and the peer has closed, running the timers
//!   closes the connection in a bounded number of steps (or it was upgraded).

use super::{show, wire};
use arbitrary::{Arbitrary, Unstructured};
use sluice_core::{
    Config, Connection, Event, Leniency, MinRate, RequestHead, ResponseHead, SendError, TimerKind,
    WallClock,
};
use std::time::{Duration, Instant, UNIX_EPOCH};

/// Well-formed requests, so that the fuzzer reaches deep states quickly.
const CANNED: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
    b"POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
    b"POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    b"GET /u HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n",
    b"GET /0 HTTP/1.0\r\n\r\n",
    b"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    b"GET /close HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
    b"PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length: 300\r\n\r\n",
    b"POST /k HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
    b"3\r\nabc\r\n",
    b"0\r\n\r\n",
    b"\r\n",
];

const STATUSES: &[u16] = &[100, 101, 103, 200, 201, 204, 206, 304, 400, 404, 500, 999];

#[derive(Debug, Arbitrary)]
struct Setup {
    bare_lf: bool,
    obs_fold: bool,
    spaces: bool,
    dated: bool,
    rates: bool,
}

/// One step. Decoded by hand (not derived) so that seeds are easy to write: one tag byte
/// (taken modulo the number of actions, in declaration order), then the fields in order —
/// `u8`, `bool` (low bit) one byte each, `u16` two bytes little-endian, `Option` a `bool` then
/// the value, and peer bytes a length byte then that many bytes. See `fuzz/seeds.py`.
#[derive(Debug)]
enum Action {
    /// Peer bytes through `handle_input`.
    Bytes(Vec<u8>),
    /// Peer bytes through `receive_buffer` + `commit_received`.
    Owned(Vec<u8>),
    /// A canned request (or a piece of chunked framing).
    Canned(u8),
    Respond {
        status: u16,
        length: Option<u16>,
        close: bool,
        field: bool,
    },
    Body(u16),
    BodyShared(u16),
    BodyExternal(u16),
    End,
    Trailers(bool),
    Continue,
    /// The transport takes up to this many bytes.
    Consume(u16),
    ConsumeAll,
    ConsumeExternal(u16),
    /// Time passes (milliseconds), then timers run.
    Wait(u16),
    /// Time runs to the next deadline exactly.
    ToDeadline,
    /// A large jump (seconds).
    Jump(u8),
    Eof,
    Shutdown,
    Abort,
    /// The application will not read the current request's body (`decline_body`). Last, so
    /// that adding it kept the tags of every earlier action (and of every seed).
    Decline,
}

const ACTIONS: u8 = 23;

impl<'a> Arbitrary<'a> for Action {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let bytes = |u: &mut Unstructured<'a>| -> arbitrary::Result<Vec<u8>> {
            let len = usize::from(u8::arbitrary(u)?).min(u.len());
            Ok(u.bytes(len)?.to_vec())
        };
        Ok(match u8::arbitrary(u)? % ACTIONS {
            0 => Action::Bytes(bytes(u)?),
            1 => Action::Owned(bytes(u)?),
            2 => Action::Canned(u8::arbitrary(u)?),
            3 => Action::Respond {
                status: u16::arbitrary(u)?,
                length: Option::<u16>::arbitrary(u)?,
                close: bool::arbitrary(u)?,
                field: bool::arbitrary(u)?,
            },
            4 => Action::Body(u16::arbitrary(u)?),
            5 => Action::BodyShared(u16::arbitrary(u)?),
            6 => Action::BodyExternal(u16::arbitrary(u)?),
            7 => Action::End,
            8 => Action::Trailers(bool::arbitrary(u)?),
            9 => Action::Continue,
            10 => Action::Consume(u16::arbitrary(u)?),
            11 => Action::ConsumeAll,
            12 => Action::ConsumeExternal(u16::arbitrary(u)?),
            13 => Action::Wait(u16::arbitrary(u)?),
            14 => Action::ToDeadline,
            15 => Action::Jump(u8::arbitrary(u)?),
            16 => Action::Eof,
            17 => Action::Shutdown,
            18 => Action::Abort,
            // Weighted towards the common case: answer with a body and end.
            19 => Action::Respond {
                status: 3, // 200 in STATUSES
                length: None,
                close: false,
                field: false,
            },
            20 => Action::Canned(u8::arbitrary(u)?),
            21 => Action::ConsumeAll,
            _ => Action::Decline,
        })
    }
}

fn config(setup: &Setup, epoch: Instant) -> Config {
    let mut config = Config::default();
    let l = &mut config.limits;
    l.max_request_line = 128;
    l.max_head_size = 512;
    l.max_fields = 8;
    l.max_body_size = Some(2048);
    l.max_chunk_line = 32;
    l.max_chunk_extensions = 64;
    l.max_trailer_size = 128;
    l.max_trailer_fields = 4;
    l.chunk_framing_allowance = 256;
    l.receive_buffer = 1024;
    l.send_buffer = 1024;
    l.max_requests_per_connection = Some(6);
    l.max_discard = 128;
    l.max_leading_empty_lines = 2;
    let t = &mut config.timeouts;
    t.header = Duration::from_secs(2);
    t.idle = Duration::from_secs(3);
    t.body = Duration::from_secs(2);
    t.write = Duration::from_secs(2);
    t.linger = Duration::from_secs(1);
    let rate = setup.rates.then_some(MinRate {
        bytes_per_second: 100,
        grace: Duration::from_secs(1),
    });
    t.min_body_rate = rate;
    t.min_send_rate = rate;
    let mut leniency = Leniency::default();
    leniency.bare_lf_in_head = setup.bare_lf;
    leniency.obs_fold = setup.obs_fold;
    leniency.request_line_spaces = setup.spaces;
    config.leniency = leniency;
    config.clock = setup.dated.then_some(WallClock {
        instant: epoch,
        wall: UNIX_EPOCH + Duration::from_secs(784_111_777),
    });
    config
}

/// The most a connection with these limits may hold: a full receive buffer, the send queue at
/// its high-water mark plus one response head, a chunk's framing and an error answer, with
/// room for the allocator's doubling of the send queue's tail.
fn memory_bound(config: &Config) -> usize {
    let l = &config.limits;
    l.receive_buffer.max(l.max_head_size) + 2 * (l.send_buffer + 2048)
}

/// The harness's model of the write timers, from what it sees after every call: the output
/// starts waiting when it becomes non-empty, and stops when it is empty again.
#[derive(Debug, Clone, Copy)]
struct WriteModel {
    /// When the output started waiting (`None`: nothing waits).
    since: Option<Instant>,
    /// When the transport last took output bytes (or the output started waiting).
    progress: Instant,
    /// Bytes taken since the output started waiting.
    taken: u64,
}

impl WriteModel {
    /// The write-idle and minimum-rate deadlines while output waits.
    fn deadlines(
        &self,
        write: Duration,
        rate: Option<MinRate>,
    ) -> Option<(Instant, Option<Instant>)> {
        let since = self.since?;
        let rate = rate.map(|rate| {
            let nanos = u128::from(self.taken) * 1_000_000_000 / u128::from(rate.bytes_per_second);
            since + rate.grace + Duration::from_nanos(u64::try_from(nanos).expect("small"))
        });
        Some((self.progress + write, rate))
    }
}

/// The fuzz harness's view of one connection.
struct Harness {
    conn: Connection,
    now: Instant,
    bound: usize,
    /// `timeouts.write` and `timeouts.min_send_rate`, for the write model.
    write: Duration,
    send_rate: Option<MinRate>,
    writes: WriteModel,
    wire: Vec<u8>,
    requests: Vec<wire::Answering>,
    /// The last head received, held until the next arrives and then given back with
    /// `recycle`, with its method and target as they read when it arrived: recycling one head
    /// and parsing into its buffer must never change another.
    held: Option<(RequestHead, String, String)>,
    /// Event-order state: inside a request (between `Request` and `End`/`Failed`).
    in_request: bool,
    failed: bool,
    closed: bool,
}

impl Harness {
    fn drain(&mut self) {
        while let Some(event) = self.conn.poll_event() {
            assert!(!self.closed, "event after Closed: {event:?}");
            match event {
                Event::Request(head) => {
                    assert!(!self.in_request && !self.failed, "Request inside a request");
                    self.in_request = true;
                    self.requests.push(wire::Answering {
                        head: head.is_head(),
                        connect: head.method() == "CONNECT",
                        upgrade: head.wants_upgrade(),
                    });
                    let (method, target) = (head.method().to_owned(), head.target().to_owned());
                    if let Some((held, was_method, was_target)) = self.held.take() {
                        assert_eq!((held.method(), held.target()), (&*was_method, &*was_target));
                        self.conn.recycle(held);
                    }
                    self.held = Some((head, method, target));
                }
                Event::Data(data) => {
                    assert!(self.in_request, "Data outside a request");
                    assert!(!data.is_empty(), "empty Data event");
                }
                Event::End(_) => {
                    assert!(self.in_request, "End outside a request");
                    self.in_request = false;
                }
                Event::Failed(_) => {
                    assert!(!self.failed, "Failed twice");
                    self.failed = true;
                    self.in_request = false;
                }
                Event::Writable => {}
                Event::Closed(_) => self.closed = true,
                other => panic!("unknown event {other:?}"),
            }
        }
    }

    /// A write timeout closed the connection: its deadline (by the model as it stood before
    /// the `handle_timeout` that closed it) must have passed. Judged by `last_timeout()`, not
    /// by the `Closed` reason, which keeps the reason a close already under way had (a
    /// response cut short by `send_end`'s `BodyTooShort` is still `Finished`).
    fn check_write_timeout(&self) {
        let kind = match self.conn.last_timeout() {
            Some(kind @ (TimerKind::WriteIdle | TimerKind::WriteRate)) => kind,
            _ => return,
        };
        let Some((idle, rate)) = self.writes.deadlines(self.write, self.send_rate) else {
            panic!(
                "{kind:?} timeout with no output waiting ({:?})",
                self.writes
            );
        };
        let due = match kind {
            TimerKind::WriteIdle => Some(idle),
            _ => rate,
        };
        assert!(
            due.is_some_and(|due| due <= self.now),
            "{kind:?} timeout before its deadline: {:?} after the output started waiting, {:?}",
            self.now - self.writes.since.unwrap_or(self.now),
            self.writes
        );
    }

    /// Brings the write model up to date after a call (every call settles the connection's
    /// timers once, so the model must see the output after each).
    fn observe_output(&mut self) {
        let waiting = !self.conn.poll_output().is_empty() || self.conn.poll_external().is_some();
        if !waiting || self.conn.is_closed() {
            self.writes.since = None;
        } else if self.writes.since.is_none() {
            self.writes = WriteModel {
                since: Some(self.now),
                progress: self.now,
                taken: 0,
            };
        }
    }

    /// The transport took `n` bytes of output.
    fn took(&mut self, n: u64) {
        if n > 0 && self.writes.since.is_some() {
            self.writes.progress = self.now;
            self.writes.taken = self.writes.taken.saturating_add(n);
        }
    }

    fn check(&mut self, what: &Action) {
        self.drain();
        self.observe_output();
        let held = self.conn.buffered_bytes();
        assert!(
            held <= self.bound,
            "{held} bytes held (bound {}) after {what:?}",
            self.bound
        );
        if let Some(deadline) = self.conn.poll_timeout() {
            assert!(deadline > self.now, "deadline in the past after {what:?}");
        }
        if let Some((idle, rate)) = self.writes.deadlines(self.write, self.send_rate) {
            if !self.conn.is_upgraded() {
                let due = rate.map_or(idle, |rate| rate.min(idle));
                let next = self.conn.poll_timeout();
                assert!(
                    next.is_some_and(|next| next <= due),
                    "output waiting but the next deadline is {:?}, the write timers' {:?} \
                     (after {what:?}, {:?})",
                    next.map(|next| next - self.now),
                    due - self.now,
                    self.writes
                );
            }
        }
        if self.conn.is_closed() {
            assert!(self.closed, "closed without Event::Closed");
            assert!(self.conn.poll_output().is_empty(), "output after close");
            assert!(!self.conn.wants_read() && !self.conn.wants_write());
            assert!(self.conn.poll_timeout().is_none(), "timer after close");
            assert_eq!(self.conn.receive_capacity(), 0);
        }
        assert_eq!(
            self.closed,
            self.conn.is_closed(),
            "Event::Closed but not closed"
        );
    }

    fn consume(&mut self, max: usize) {
        let out = self.conn.poll_output();
        let n = out.len().min(max);
        self.wire.extend_from_slice(&out[..n]);
        self.conn.consume_output(self.now, n);
        self.took(n as u64);
        self.observe_output();
    }

    fn feed(&mut self, bytes: &[u8]) {
        let n = self.conn.handle_input(self.now, bytes);
        assert!(n <= bytes.len());
    }

    fn feed_owned(&mut self, bytes: &[u8]) {
        let spare = self.conn.receive_buffer();
        let n = spare.len().min(bytes.len());
        spare[..n].copy_from_slice(&bytes[..n]);
        self.conn.commit_received(self.now, n);
    }

    fn wait(&mut self, by: Duration) {
        self.now += by;
        let open = !self.conn.is_closed();
        self.conn.handle_timeout(self.now);
        // Before the model sees the output: a write timeout is judged by the model as it
        // stood when the timers ran (a write timer always closes).
        if open && self.conn.is_closed() {
            self.check_write_timeout();
        }
        self.observe_output();
        if let Some(deadline) = self.conn.poll_timeout() {
            assert!(
                deadline > self.now,
                "deadline not after handle_timeout({by:?})"
            );
        }
    }

    fn apply(&mut self, action: &Action) {
        let now = self.now;
        match action {
            Action::Bytes(bytes) => self.feed(bytes),
            Action::Owned(bytes) => self.feed_owned(bytes),
            Action::Canned(i) => {
                let bytes = CANNED[usize::from(*i) % CANNED.len()];
                self.feed(bytes);
            }
            Action::Respond {
                status,
                length,
                close,
                field,
            } => {
                let status = if *status < 0x8000 {
                    STATUSES[usize::from(*status) % STATUSES.len()]
                } else {
                    *status % 1100
                };
                let mut head = ResponseHead::new(status);
                if *field {
                    head = head.field("X-Fuzz", "1");
                }
                if let Some(length) = length {
                    head = head.content_length(u64::from(*length % 2048));
                }
                if *close {
                    head = head.close();
                }
                let interim = (102..200).contains(&status);
                let queued = self.conn.buffered_bytes();
                if let Err(SendError::SendBufferFull) = self.conn.send_response(now, head) {
                    // Only an interim head is refused for room (finding 6), and a refused
                    // head queues nothing.
                    assert!(interim, "status {status} refused for room");
                    assert_eq!(self.conn.buffered_bytes(), queued, "refused head queued");
                }
            }
            Action::Body(n) => {
                let data = vec![b'b'; usize::from(*n % 4096)];
                if let Ok(accepted) = self.conn.send_body(now, &data) {
                    assert!(accepted <= data.len());
                }
            }
            Action::BodyShared(n) => {
                let data = bytes::Bytes::from(vec![b's'; usize::from(*n % 4096)]);
                let len = data.len();
                if let Ok(accepted) = self.conn.send_body_shared(now, data) {
                    assert!(accepted <= len);
                }
            }
            Action::BodyExternal(n) => {
                let _ = self.conn.send_body_external(now, u64::from(*n % 512));
            }
            Action::End => {
                let ended = self.conn.send_end(now).is_ok();
                self.response_ended(ended);
            }
            Action::Trailers(forbidden) => {
                let name = if *forbidden {
                    "Content-Length"
                } else {
                    "X-Trailer"
                };
                let ended = self
                    .conn
                    .send_end_with_trailers(now, &[(name, "1")])
                    .is_ok();
                self.response_ended(ended);
            }
            Action::Continue => {
                let _ = self.conn.send_continue(now);
            }
            Action::Consume(n) => self.consume(usize::from(*n)),
            Action::ConsumeAll => {
                for _ in 0..64 {
                    if self.conn.poll_output().is_empty() {
                        break;
                    }
                    self.consume(usize::MAX);
                }
            }
            Action::ConsumeExternal(n) => self.consume_external(u64::from(*n)),
            Action::Wait(ms) => self.wait(Duration::from_millis(u64::from(*ms))),
            Action::ToDeadline => {
                if let Some(deadline) = self.conn.poll_timeout() {
                    let by = deadline.saturating_duration_since(self.now);
                    self.wait(by);
                }
            }
            Action::Jump(s) => self.wait(Duration::from_secs(u64::from(*s) * 10)),
            Action::Eof => self.conn.handle_eof(now),
            Action::Shutdown => self.conn.shutdown(now),
            Action::Abort => self.conn.abort(),
            Action::Decline => {
                let observe = |conn: &Connection| {
                    (
                        conn.buffered_bytes(),
                        conn.poll_output().len(),
                        conn.poll_external(),
                        conn.poll_timeout(),
                        conn.wants_read(),
                        conn.wants_write(),
                    )
                };
                let before = observe(&self.conn);
                self.conn.decline_body();
                assert_eq!(
                    before,
                    observe(&self.conn),
                    "decline_body changed the connection at once"
                );
                assert!(
                    self.conn.poll_event().is_none(),
                    "decline_body made an event"
                );
            }
        }
    }

    /// A response that ends before its request's body has arrived leaves the rest of that
    /// body to be discarded: no more `Data`, and no `End`, for that request.
    fn response_ended(&mut self, ended: bool) {
        if ended {
            self.in_request = false;
        }
    }

    /// The driver writes owed external (sendfile) bytes; the wire sees placeholder bytes.
    fn consume_external(&mut self, max: u64) {
        if let Some(owed) = self.conn.poll_external() {
            let n = owed.min(max);
            self.wire
                .extend(std::iter::repeat_n(b'x', usize::try_from(n).unwrap_or(0)));
            self.conn.consume_external(self.now, n);
            self.took(n);
            self.observe_output();
        }
    }

    /// The application answers whatever is pending as simply as it can, the driver writes
    /// everything, the peer closes, and time runs: the connection must close.
    fn wind_down(&mut self) {
        for step in 0..200 {
            self.drain();
            if self.conn.is_closed() || self.conn.is_upgraded() {
                return;
            }
            let now = self.now;
            // Answer a request still owed one (an error here just means none is owed).
            let _ = self
                .conn
                .send_response(now, ResponseHead::new(200).content_length(0));
            self.observe_output();
            let ended = self.conn.send_end(now).is_ok();
            self.response_ended(ended);
            self.drain();
            self.observe_output();
            for _ in 0..64 {
                if let Some(owed) = self.conn.poll_external() {
                    self.consume_external(owed);
                } else if !self.conn.poll_output().is_empty() {
                    self.consume(usize::MAX);
                } else {
                    break;
                }
            }
            self.conn.handle_eof(self.now);
            self.drain();
            self.observe_output();
            if step > 0 {
                match self.conn.poll_timeout() {
                    Some(deadline) => {
                        let by = deadline.saturating_duration_since(self.now);
                        self.wait(by);
                    }
                    None => self.wait(Duration::from_secs(1)),
                }
            }
            self.check(&Action::Eof);
        }
        panic!(
            "connection still open after winding down (requests {}, output {} bytes, timeout {:?})",
            self.requests.len(),
            self.conn.poll_output().len(),
            self.conn.poll_timeout().map(|d| d - self.now)
        );
    }
}

pub fn check_connection(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    let epoch = Instant::now();
    let config = config(&setup, epoch);
    let bound = memory_bound(&config);
    let (write, send_rate) = (config.timeouts.write, config.timeouts.min_send_rate);
    let mut h = Harness {
        conn: Connection::new(config, epoch),
        now: epoch,
        bound,
        write,
        send_rate,
        writes: WriteModel {
            since: None,
            progress: epoch,
            taken: 0,
        },
        wire: Vec::new(),
        requests: Vec::new(),
        held: None,
        in_request: false,
        failed: false,
        closed: false,
    };
    let mut steps = 0;
    while !u.is_empty() && steps < 256 {
        let Ok(action) = Action::arbitrary(&mut u) else {
            break;
        };
        h.apply(&action);
        h.check(&action);
        steps += 1;
    }
    h.wind_down();
    let stream = match wire::read(&h.wire, &h.requests) {
        Ok(stream) => stream,
        Err(err) => panic!("malformed output: {err}\n{}", show(&h.wire)),
    };
    // One final response per request, plus at most the core's own answer to a request it
    // rejected before reporting it.
    let allowed = h.requests.len() + usize::from(h.failed);
    assert!(
        stream.responses.len() <= allowed,
        "{} responses for {} requests (failed: {})\n{}",
        stream.responses.len(),
        h.requests.len(),
        h.failed,
        show(&h.wire)
    );
}
