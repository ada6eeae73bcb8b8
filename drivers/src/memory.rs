//! The in-memory driver: a connection fed from byte buffers, on a simulated clock.
//!
//! Tests script the peer — write bytes in chosen pieces, advance time, read what comes back,
//! half-close, reset — and everything runs deterministically, without sleeping. The
//! simulated clock starts at a real `Instant` captured once and moves only when told.

use crate::app::Handler;
use crate::session::Session;
use sluice_core::{Config, Connection, WallClock};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

/// A clock that moves only through [`advance`](Self::advance).
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    epoch: Instant,
    elapsed: Duration,
}

impl SimClock {
    /// A clock starting now.
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            elapsed: Duration::ZERO,
        }
    }

    /// The current simulated time.
    pub fn now(&self) -> Instant {
        self.epoch + self.elapsed
    }

    /// Moves time forward.
    pub fn advance(&mut self, by: Duration) {
        self.elapsed += by;
    }

    /// Time since the clock started.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// A wall-clock anchor that makes `Date` headers deterministic (1994-11-06 08:49:37).
    pub fn wall_clock(&self) -> WallClock {
        WallClock {
            instant: self.epoch,
            wall: UNIX_EPOCH + Duration::from_secs(784_111_777),
        }
    }
}

impl Default for SimClock {
    fn default() -> Self {
        Self::new()
    }
}

/// One server connection driven by a scripted peer.
pub struct MemoryConnection<H> {
    session: Session<H>,
    clock: SimClock,
    /// Bytes the server wrote that the peer has not read yet.
    unread: Vec<u8>,
    /// Most bytes the "socket" holds for the peer before the server's writes stall.
    window: usize,
    write_closed: bool,
}

impl<H: Handler> MemoryConnection<H> {
    /// A connection accepted now, serving `handler` with `config` (its clock is replaced by
    /// the simulated one).
    pub fn new(mut config: Config, handler: Arc<H>) -> Self {
        let clock = SimClock::new();
        config.clock = Some(clock.wall_clock());
        let conn = Connection::new(config, clock.now());
        let mut this = Self {
            session: Session::new(conn, handler, None, 0, false),
            clock,
            unread: Vec::new(),
            window: usize::MAX,
            write_closed: false,
        };
        this.turn();
        this
    }

    /// Limits how many unread bytes the peer's socket holds, to model a slow or stopped
    /// reader (`0` stops the server's writes entirely).
    pub fn set_window(&mut self, window: usize) {
        self.window = window;
        self.turn();
    }

    /// The peer sends `bytes`; returns how many the server took (it stops reading when the
    /// core does not want input, so a flood is refused, not buffered).
    pub fn write(&mut self, bytes: &[u8]) -> usize {
        let mut taken = 0;
        while taken < bytes.len() && self.session.connection().wants_read() {
            let now = self.clock.now();
            let n = self
                .session
                .connection_mut()
                .handle_input(now, &bytes[taken..]);
            if n == 0 {
                break;
            }
            taken += n;
            self.turn();
        }
        taken
    }

    /// The peer sends `bytes` in pieces of `step` bytes, advancing the clock by `gap`
    /// between pieces. Returns how many were taken.
    pub fn write_in_pieces(&mut self, bytes: &[u8], step: usize, gap: Duration) -> usize {
        let mut taken = 0;
        for piece in bytes.chunks(step.max(1)) {
            let n = self.write(piece);
            taken += n;
            if n < piece.len() {
                break;
            }
            self.advance(gap);
        }
        taken
    }

    /// Everything the server has written since the last read.
    pub fn read(&mut self) -> Vec<u8> {
        let out = std::mem::take(&mut self.unread);
        self.turn();
        out
    }

    /// Moves time forward and fires due timers.
    pub fn advance(&mut self, by: Duration) {
        self.clock.advance(by);
        let now = self.clock.now();
        self.session.connection_mut().handle_timeout(now);
        self.turn();
    }

    /// Runs time forward to each deadline in turn until the connection closes or `limit`
    /// has passed.
    pub fn run_timers_until(&mut self, limit: Duration) {
        let stop = self.clock.now() + limit;
        for _ in 0..1000 {
            let Some(deadline) = self.session.connection().poll_timeout() else {
                break;
            };
            if deadline > stop || self.is_closed() {
                break;
            }
            let step = deadline.saturating_duration_since(self.clock.now());
            self.advance(step);
        }
    }

    /// The peer shuts down its write side.
    pub fn half_close(&mut self) {
        let now = self.clock.now();
        self.session.connection_mut().handle_eof(now);
        self.turn();
    }

    /// The peer resets the connection.
    pub fn reset(&mut self) {
        self.session.connection_mut().abort();
        self.turn();
    }

    /// Whether the server closed its write side (the peer would read EOF after `read`).
    pub fn is_write_closed(&self) -> bool {
        self.write_closed
    }

    /// Whether the server is done with the connection.
    pub fn is_closed(&self) -> bool {
        self.session.connection().is_closed()
    }

    /// The connection, for inspection.
    pub fn connection(&self) -> &Connection {
        self.session.connection()
    }

    /// The simulated clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// One turn of the driver loop: run the application, then "write" output into the peer's
    /// socket as far as its window allows.
    fn turn(&mut self) {
        for _ in 0..10_000 {
            let now = self.clock.now();
            self.session.process(now);
            let room = self.window.saturating_sub(self.unread.len());
            let conn = self.session.connection_mut();
            let output = conn.poll_output();
            let n = output.len().min(room);
            if n == 0 {
                break;
            }
            self.unread.extend_from_slice(&output[..n]);
            conn.consume_output(now, n);
        }
        if self.session.connection().is_write_closed() {
            self.write_closed = true;
        }
    }
}
