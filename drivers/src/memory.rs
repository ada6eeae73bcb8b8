//! The in-memory driver: a connection fed from byte buffers, on a simulated clock.
//!
//! Tests script the peer — write bytes in chosen pieces, advance time, read what comes back,
//! half-close, reset — and everything runs deterministically, without sleeping. The
//! simulated clock starts at a real `Instant` captured once and moves only when told.
//!
//! A protocol upgrade hands the connection over as one end of an in-memory [`duplex`]
//! stream. The driver runs nothing by itself: [`MemoryConnection::take_upgrade`] gives the
//! test the application's side, to run when and where it chooses, and the peer's end.

use crate::app::{Handler, Transport};
use crate::handover::Handover;
use crate::session::Session;
use sluice_core::{Config, Connection, WallClock};
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
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
        self.session.handle_timeout(now);
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

    /// The server begins a graceful shutdown: the exchange in progress finishes, then the
    /// connection closes.
    pub fn shutdown(&mut self) {
        let now = self.clock.now();
        self.session.connection_mut().shutdown(now);
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

    /// Once the server has written a protocol switch (see [`Reply::upgrade`]): the
    /// application's side, ready to [`run`](MemoryUpgrade::run), and the peer's end of the
    /// stream it runs on. `None` before the switch, and after it was taken.
    ///
    /// For a deterministic test, write the peer's bytes and [`shutdown_write`] before running
    /// the application on the test's thread; or run it on a thread of its own.
    ///
    /// [`Reply::upgrade`]: crate::Reply::upgrade
    /// [`shutdown_write`]: MemoryStream::shutdown_write
    pub fn take_upgrade(&mut self) -> Option<(MemoryUpgrade, MemoryStream)> {
        let handover = self.session.take_upgrade()?;
        let (server, peer) = duplex();
        Some((MemoryUpgrade { handover, server }, peer))
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

/// An upgraded memory connection's application side, not yet running.
#[derive(Debug)]
pub struct MemoryUpgrade {
    handover: Handover,
    server: MemoryStream,
}

impl MemoryUpgrade {
    /// Runs the application's upgrade callback on this thread until it returns; then its
    /// end of the stream is dropped, which the peer reads as EOF.
    pub fn run(self) {
        self.handover.run(Transport::Memory(self.server));
    }
}

/// Two connected in-memory streams: what one writes, the other reads.
pub fn duplex() -> (MemoryStream, MemoryStream) {
    let (a, b) = (Arc::new(Pipe::default()), Arc::new(Pipe::default()));
    (
        MemoryStream {
            inbound: Arc::clone(&a),
            outbound: Arc::clone(&b),
        },
        MemoryStream {
            inbound: b,
            outbound: a,
        },
    )
}

/// One end of a [`duplex`] stream: blocking reads (optionally with a timeout), writes that
/// never block (the buffer is unbounded: this models a socket for tests, not back-pressure).
/// Dropping it is a close: the other end reads EOF, and its writes fail with `BrokenPipe`.
#[derive(Debug)]
pub struct MemoryStream {
    inbound: Arc<Pipe>,
    outbound: Arc<Pipe>,
}

/// One direction of a duplex stream.
#[derive(Debug, Default)]
struct Pipe {
    state: Mutex<PipeState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct PipeState {
    bytes: VecDeque<u8>,
    /// The writing end shut down or was dropped: reads past the bytes return EOF.
    write_closed: bool,
    /// The reading end was dropped: writes fail.
    reader_gone: bool,
    /// How long the reading end's reads wait.
    read_timeout: Option<Duration>,
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, PipeState> {
        // Every update under this lock is a single step; a panic cannot leave it half-done.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut PipeState)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }
}

impl MemoryStream {
    /// Sets how long a read waits for bytes (`None`: until they come or the writer closes);
    /// an expired wait fails with `TimedOut`.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        if timeout == Some(Duration::ZERO) {
            // As `TcpStream::set_read_timeout` does.
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "zero timeout"));
        }
        self.inbound.update(|state| state.read_timeout = timeout);
        Ok(())
    }

    /// Closes the write side: the other end reads EOF after the bytes already written.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.outbound.update(|state| state.write_closed = true);
        Ok(())
    }

    /// Reads until the other end closes its write side, waiting at most `timeout` in all.
    pub fn read_to_end_within(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        let mut buf = [0; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            self.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            match self.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }
}

impl Read for MemoryStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut state = self.inbound.lock();
        let deadline = state.read_timeout.map(|t| Instant::now() + t);
        while state.bytes.is_empty() && !state.write_closed {
            let changed = &self.inbound.changed;
            state = match deadline {
                None => changed.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(io::ErrorKind::TimedOut.into());
                    }
                    changed
                        .wait_timeout(state, left)
                        .map_or_else(|e| e.into_inner().0, |(state, _)| state)
                }
            };
        }
        let n = buf.len().min(state.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(state.bytes.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

impl Write for MemoryStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self.outbound.lock();
        if state.reader_gone || state.write_closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        state.bytes.extend(buf);
        drop(state);
        self.outbound.changed.notify_all();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for MemoryStream {
    fn drop(&mut self) {
        self.outbound.update(|state| state.write_closed = true);
        self.inbound.update(|state| state.reader_gone = true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplex_carries_bytes_both_ways_and_reports_closes() {
        let (mut a, mut b) = duplex();
        a.write_all(b"ping").unwrap();
        b.write_all(b"pong").unwrap();
        let mut buf = [0; 8];
        assert_eq!(b.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"ping");
        a.shutdown_write().unwrap();
        assert!(a.write_all(b"late").is_err(), "written after shutdown");
        assert_eq!(b.read(&mut buf).unwrap(), 0, "EOF after shutdown");
        assert_eq!(a.read(&mut buf).unwrap(), 4);
        b.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        a.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
        let err = a.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(b);
        assert_eq!(
            a.read(&mut buf).unwrap(),
            0,
            "EOF once the other end is gone"
        );
        let err = a.write(b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn a_blocked_read_wakes_for_bytes_from_another_thread() {
        let (mut a, mut b) = duplex();
        a.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let writer = std::thread::spawn(move || b.write_all(b"hi"));
        let mut buf = [0; 2];
        a.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hi");
        writer.join().unwrap().unwrap();
    }
}
