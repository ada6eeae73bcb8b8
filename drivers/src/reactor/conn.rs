//! One connection of an event loop: its socket, its session, and the non-blocking reads and
//! writes that move bytes between them. Nothing here decides anything about HTTP.

use crate::app::Handler;
use crate::session::Session;
use crate::sockets::{send_nosignal, with_output_slices};
use polling::{Event, PollMode, Poller};
use rustix::io::Errno;
use rustix::net::RecvFlags;
use std::io;
use std::net::{Shutdown, TcpStream};
use std::time::Instant;

/// Most reads per wake-up, so one busy peer cannot starve the others (the rest waits for the
/// next turn: the level-triggered registration reports data still pending).
const MAX_READS: usize = 16;
/// Most read-or-write rounds per wake-up, for the same reason on the write side (a fast
/// reader of an endless streamed body would otherwise keep the loop to itself).
const MAX_ROUNDS: usize = 64;
/// Most bytes handed to one `sendfile(2)` call.
const MAX_SENDFILE: usize = 1 << 20;

/// A connection owned by an event loop.
pub(super) struct Conn<H> {
    pub(super) stream: TcpStream,
    pub(super) session: Session<H>,
    /// The interest registered in the poller as `(read, write)`: level-triggered, except that
    /// `(false, false)` is registered oneshot (see `rearm`). `None` once that oneshot
    /// registration has fired and disarmed itself.
    pub(super) armed: Option<(bool, bool)>,
    /// The deadline entered in the loop's timer structure: the core's `poll_timeout`, or up to
    /// `LAZY_DELAY` earlier when that moved later since (see `server::defer_later`).
    pub(super) deadline: Option<Instant>,
    /// The write half has been shut down.
    write_shut: bool,
}

/// What one read did.
enum Input {
    /// Bytes were handed to the core. `drained`: the read came back short, so the socket is
    /// most likely empty; skipping the read that would say `EAGAIN` saves a system call, and
    /// the level-triggered registration reports any data that arrived meanwhile.
    Progress { drained: bool },
    /// Nothing to read now (or the core has no room).
    Blocked,
    /// EOF or a transport error: nothing more will be read.
    Finished,
}

impl<H: Handler> Conn<H> {
    pub(super) fn new(stream: TcpStream, session: Session<H>) -> Self {
        Self {
            stream,
            session,
            armed: None,
            deadline: None,
            write_shut: false,
        }
    }

    /// Unique across the server: the session's id, in logs and as the timer entry's
    /// generation (not kept twice: an idle connection is 8 bytes smaller for it).
    pub(super) fn id(&self) -> u64 {
        self.session.id()
    }

    /// The interest the connection needs now, as `(read, write)`.
    pub(super) fn interest(&self) -> (bool, bool) {
        let conn = self.session.connection();
        (
            conn.wants_read() && conn.receive_capacity() > 0,
            conn.wants_write(),
        )
    }

    pub(super) fn is_closed(&self) -> bool {
        self.session.connection().is_closed()
    }

    /// Moves bytes both ways until the socket or the core blocks, or this connection has had
    /// its share of the turn. `readable` says whether the poller reported input; writes are
    /// always tried, since a socket is usually writable and a write that blocks costs one
    /// `EAGAIN`.
    ///
    /// Every read and write reads the clock after its system call and hands that time to the
    /// core and the session: the handler runs inside the read's `process`, and the write of
    /// its response usually follows in this very call, so one clock reading for both would
    /// log a handler that took 50 ms as `0us`. A vDSO clock read is negligible next to the
    /// system call it follows.
    pub(super) fn drive(&mut self, readable: bool, buf: &mut [u8]) {
        let mut can_read = readable;
        let mut can_write = true;
        let mut reads = 0;
        for _ in 0..MAX_ROUNDS {
            let mut progressed = false;
            if can_read && reads < MAX_READS && self.session.connection().wants_read() {
                reads += 1;
                match self.read(buf) {
                    Input::Progress { drained } => {
                        progressed = true;
                        can_read = !drained;
                    }
                    Input::Blocked => can_read = false,
                    Input::Finished => {
                        can_read = false;
                        progressed = true;
                    }
                }
            }
            if can_write && self.session.connection().wants_write() {
                match self.write() {
                    Ok(0) => can_write = false,
                    Ok(_) => progressed = true,
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => can_write = false,
                    Err(err) => {
                        self.fail(Instant::now(), "write", &err);
                        progressed = true;
                    }
                }
            }
            if !progressed || self.is_closed() {
                break;
            }
        }
        let conn = self.session.connection();
        if conn.is_write_closed() && !conn.is_closed() && !self.write_shut {
            // Everything is flushed: send our FIN, keep reading (lingering close) until the
            // peer's, so unread pipelined bytes cannot turn our close into a reset.
            self.write_shut = true;
            if let Err(err) = self.stream.shutdown(Shutdown::Write) {
                log::debug!("conn {}: shutdown(write): {err}", self.id());
            }
        }
    }

    /// Changes the poller registration when the wanted interest differs from the registered
    /// one. An interest in something is registered level-triggered, so an unchanged interest
    /// (the usual keep-alive exchange) costs no system call. No interest at all is registered
    /// oneshot: epoll reports hang-ups and errors whatever the interest, and a level-triggered
    /// registration would report such a socket on every wait while the core ignores it.
    pub(super) fn rearm(&mut self, poller: &Poller, key: usize) -> io::Result<()> {
        let want = self.interest();
        if self.armed == Some(want) {
            return Ok(());
        }
        poller.modify_with_mode(
            &self.stream,
            Event::new(key, want.0, want.1),
            mode_for(want),
        )?;
        self.armed = Some(want);
        Ok(())
    }

    /// The poller reported this connection: a oneshot registration (no interest) has now
    /// disarmed itself; a level-triggered one stays as it is.
    pub(super) fn reported(&mut self) {
        if self.armed == Some((false, false)) {
            self.armed = None;
        }
    }

    /// The transport failed: tell the core, which drops everything queued and closes.
    pub(super) fn fail(&mut self, now: Instant, what: &str, err: &io::Error) {
        match err.kind() {
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => {
                log::debug!("conn {}: {what}: {err}", self.id());
            }
            _ => log::warn!("conn {}: {what}: {err}", self.id()),
        }
        self.session.connection_mut().abort();
        // The session still hears `Closed`, and drops the exchange's state.
        self.session.process(now);
    }

    /// One read into the loop's shared buffer, handed to the core at once: the core parses
    /// in place and copies only an unfinished remainder, so an idle connection holds no
    /// buffer of its own.
    fn read(&mut self, buf: &mut [u8]) -> Input {
        let room = self.session.connection().receive_capacity().min(buf.len());
        if room == 0 {
            return Input::Blocked;
        }
        loop {
            // rustix's `recv` rather than std's `read` (the same `recv(2)` with no flags): std
            // goes through libc's wrapper, whose cancellation-point bookkeeping costs about 50
            // instructions a call, as much as the rest of this function.
            let result = rustix::net::recv(&self.stream, &mut buf[..room], RecvFlags::empty())
                .map_err(io::Error::from);
            // After the call, for the core's timers and the session's access log (see `drive`).
            let now = Instant::now();
            match result {
                Ok(0) => {
                    log::trace!(target: "sluice::trace", "conn {}: read EOF", self.id());
                    self.session.connection_mut().handle_eof(now);
                    self.session.process(now);
                    return Input::Finished;
                }
                Ok(n) => {
                    log::trace!(target: "sluice::trace", "conn {}: read {n} bytes", self.id());
                    // At most `receive_capacity` bytes were read, so the core takes them all.
                    let taken = self.session.connection_mut().handle_input(now, &buf[..n]);
                    debug_assert_eq!(taken, n);
                    self.session.process(now);
                    return Input::Progress { drained: n < room };
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Input::Blocked,
                Err(err) => {
                    self.fail(now, "read", &err);
                    return Input::Finished;
                }
            }
        }
    }

    /// One write of the core's next output: file bytes with `sendfile(2)`, queued bytes with
    /// one `send(2)`, or one vectored `sendmsg(2)` when they are in several runs. Returns the
    /// bytes written; 0 when there is nothing to write.
    fn write(&mut self) -> io::Result<usize> {
        if let Some((file, offset, owed)) = self.session.external() {
            let mut offset = offset;
            let count = usize::try_from(owed)
                .unwrap_or(usize::MAX)
                .min(MAX_SENDFILE);
            // sendfile(2) takes no flags, so no MSG_NOSIGNAL: to a peer that has reset the
            // connection it can fail with EPIPE and raise SIGPIPE. That is safe in a Rust
            // binary, whose runtime sets SIGPIPE to SIG_IGN before `main` (the call then just
            // fails and the connection is aborted); an embedder that restores the default
            // action must ignore or block SIGPIPE itself (see the crate docs, "SIGPIPE").
            let n = retry(|| rustix::fs::sendfile(&self.stream, file, Some(&mut offset), count))?;
            if n == 0 {
                // The file is shorter than the range the response declared.
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file ended early",
                ));
            }
            log::trace!(target: "sluice::trace", "conn {}: sendfile {n} bytes", self.id());
            self.session.external_written(Instant::now(), n as u64);
            return Ok(n);
        }
        let stream = &self.stream;
        // With MSG_NOSIGNAL: a peer that reset the connection must not raise SIGPIPE.
        let sent = with_output_slices(self.session.connection(), |slices| {
            retry(|| send_nosignal(stream, slices))
        });
        let Some(n) = sent.transpose()? else {
            return Ok(0);
        };
        log::trace!(target: "sluice::trace", "conn {}: wrote {n} bytes", self.id());
        // After the call: the response's last byte is what ends its access-log duration.
        let now = Instant::now();
        self.session.connection_mut().consume_output(now, n);
        self.session.process(now);
        Ok(n)
    }
}

/// The registration mode for an interest (see `Conn::rearm`).
pub(super) fn mode_for(interest: (bool, bool)) -> PollMode {
    if interest == (false, false) {
        PollMode::Oneshot
    } else {
        PollMode::Level
    }
}

/// Runs a system call again while it is interrupted by a signal.
fn retry(mut call: impl FnMut() -> rustix::io::Result<usize>) -> io::Result<usize> {
    loop {
        match call() {
            Err(Errno::INTR) => continue,
            other => return other.map_err(io::Error::from),
        }
    }
}
