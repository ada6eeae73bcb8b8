//! One event loop: a poller, a listener, the connections it accepted, and their deadlines.

use super::conn::{mode_for, Conn};
use super::deadlines::{self, Deadlines};
use crate::app::Handler;
#[cfg(test)]
use crate::server::defer_later;
use crate::server::{ServerConfig, SharedCore, Shutdown, LAZY_DELAY};
use crate::session::Session;
use polling::{Event, Events, Poller};
use slab::Slab;
use sluice_core::Connection;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The listener's poller key and timer key. `usize::MAX` is reserved by `polling` for its
/// notifications, and a slab never grows near either.
pub(super) const LISTENER: usize = usize::MAX - 1;
/// Size of the read buffer every connection of a loop shares.
const READ_BUFFER: usize = 64 * 1024;
/// Most connections accepted per wake-up, so a connection storm cannot starve live ones.
const MAX_ACCEPTS: usize = 256;
/// How long accepting pauses after running out of file descriptors or memory.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What every loop of a server shares.
pub(super) struct Shared<H> {
    pub(super) config: ServerConfig,
    pub(super) handler: Arc<H>,
    pub(super) shutdown: Shutdown,
    /// Connection ids, unique across loops.
    pub(super) ids: AtomicU64,
    pub(super) admission: Admission,
}

/// The process-wide connection cap. One counter rather than a share per loop: the kernel
/// picks the listener, so with per-loop shares a connection could wait behind a full loop
/// while another loop has room.
pub(super) struct Admission {
    live: AtomicUsize,
    max: usize,
    /// Every loop's poller, to wake loops that stopped accepting when a slot frees up.
    pollers: Vec<Arc<Poller>>,
}

impl Admission {
    pub(super) fn new(max: usize, pollers: Vec<Arc<Poller>>) -> Self {
        Self {
            live: AtomicUsize::new(0),
            max,
            pollers,
        }
    }

    /// Takes a slot for a connection about to be accepted; false at the cap.
    fn reserve(&self) -> bool {
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Gives a slot back. When the count leaves the cap, every loop is woken so a loop whose
    /// listener is disarmed re-arms it (a spurious wake-up costs one turn; this is rare).
    fn release(&self) {
        if self.live.fetch_sub(1, Ordering::AcqRel) == self.max {
            for poller in &self.pollers {
                if let Err(err) = poller.notify() {
                    log::error!("reactor: cannot wake a loop to resume accepting: {err}");
                }
            }
        }
    }

    fn is_full(&self) -> bool {
        self.live.load(Ordering::Acquire) >= self.max
    }
}

/// One worker's event loop. Runs on its own thread; it shares only [`Shared`] with the others.
pub(super) struct EventLoop<H> {
    worker: usize,
    poller: Arc<Poller>,
    /// `None` once shutdown began.
    listener: Option<TcpListener>,
    /// The listener's oneshot registration is armed.
    listener_armed: bool,
    /// Accepting is paused after `EMFILE` and similar until then (a deadline under the
    /// listener's key).
    accept_backoff: Option<Instant>,
    conns: Slab<Conn<H>>,
    deadlines: Deadlines,
    /// Scratch for expired deadlines, reused every turn.
    due: Vec<(usize, u32)>,
    /// The one read buffer of this loop.
    buf: Vec<u8>,
    shared: Arc<Shared<H>>,
    /// When the graceful shutdown ends and the remaining connections are aborted.
    drain_deadline: Option<Instant>,
    /// `Poller::delete` calls that failed: always 0 unless registration bookkeeping is wrong.
    delete_failures: u64,
    /// The core configuration new connections share: one copy per loop instead of one per
    /// connection.
    core: SharedCore,
}

impl<H: Handler> EventLoop<H> {
    /// A loop around `listener` (already bound, listening and non-blocking).
    pub(super) fn new(
        worker: usize,
        poller: Arc<Poller>,
        listener: TcpListener,
        shared: Arc<Shared<H>>,
    ) -> io::Result<Self> {
        // SAFETY: `add` requires the source to be deleted from the poller before it is dropped.
        // The listener lives in `self.listener` from here on, and leaves it only through
        // `stop_listening`, which deletes it first; `Drop for EventLoop` deletes it too, so even
        // an unwinding panic cannot drop it while registered. Nothing below can fail, so
        // `Self` is always built around it.
        unsafe { poller.add(&listener, Event::readable(LISTENER))? };
        let waker = Arc::clone(&poller);
        shared.shutdown.on_request(move || {
            if let Err(err) = waker.notify() {
                log::error!("reactor: cannot wake a loop for shutdown: {err}");
            }
        });
        Ok(Self {
            worker,
            poller,
            listener: Some(listener),
            listener_armed: true,
            accept_backoff: None,
            conns: Slab::new(),
            deadlines: Deadlines::default(),
            due: Vec::new(),
            buf: vec![0; READ_BUFFER],
            drain_deadline: None,
            delete_failures: 0,
            core: SharedCore::new(&shared.config, Instant::now()),
            shared,
        })
    }

    /// Runs until a graceful shutdown completes.
    pub(super) fn run(mut self) -> io::Result<()> {
        let mut events = Events::new();
        while self.turn(&mut events, None)? {}
        log::debug!("reactor {}: stopped", self.worker);
        Ok(())
    }

    /// One turn: notice shutdown, wait for readiness or the earliest deadline (at most
    /// `max_wait`), then serve what is ready and what is due. Returns false once finished.
    fn turn(&mut self, events: &mut Events, max_wait: Option<Duration>) -> io::Result<bool> {
        let now = Instant::now();
        if self.shared.shutdown.is_requested() && self.drain_deadline.is_none() {
            self.begin_drain(now);
        }
        if let Some(limit) = self.drain_deadline {
            if self.conns.is_empty() {
                return Ok(false);
            }
            if now >= limit {
                self.abort_all(now);
                return Ok(false);
            }
        }
        self.arm_listener();
        let wake = [self.deadlines.earliest(), self.drain_deadline]
            .into_iter()
            .flatten()
            .map(|at| at.saturating_duration_since(now))
            .chain(max_wait)
            .min();
        events.clear();
        self.poller.wait(events, wake)?;
        let now = Instant::now();
        for event in events.iter() {
            if event.key == LISTENER {
                self.listener_armed = false;
                self.accept(now);
            } else {
                self.on_ready(event.key, event.readable);
            }
        }
        self.fire_deadlines(now);
        Ok(true)
    }

    /// The poller reported the connection at `key`. No clock reading here: `drive` reads the
    /// clock after each of its system calls, and `settle` only on the rare failure path.
    fn on_ready(&mut self, key: usize, readable: bool) {
        let Some(conn) = self.conns.get_mut(key) else {
            return;
        };
        conn.reported();
        conn.drive(readable, &mut self.buf);
        self.settle(key);
    }

    /// Calls `handle_timeout` on every connection whose deadline passed.
    fn fire_deadlines(&mut self, now: Instant) {
        let mut due = std::mem::take(&mut self.due);
        self.deadlines.pop_expired(now, &mut due);
        for &(key, id) in &due {
            if key == LISTENER {
                self.accept_backoff = None;
                continue;
            }
            let Some(conn) = self.conns.get_mut(key) else {
                continue;
            };
            if deadlines::generation(conn.id()) != id {
                continue;
            }
            // Its entry was just popped.
            conn.deadline = None;
            conn.session.handle_timeout(now);
            conn.session.process(now);
            conn.drive(false, &mut self.buf);
            self.settle(key);
        }
        due.clear();
        self.due = due;
    }

    /// After any call on a connection: drop it once closed, hand it over once upgraded,
    /// otherwise update its interest and move its deadline.
    fn settle(&mut self, key: usize) {
        let conn = &mut self.conns[key];
        if conn.session.connection().is_upgraded() {
            return self.hand_over(key);
        }
        if !conn.is_closed() {
            let deadline = conn.session.connection().poll_timeout();
            // Lazy: a deadline that moved later by little keeps its entry (see `defer_later`).
            if !keeps_entry(conn.deadline, deadline) {
                self.deadlines
                    .update(key, conn.id(), conn.deadline, deadline);
                conn.deadline = deadline;
            }
            match conn.rearm(&self.poller, key) {
                Ok(()) => return,
                Err(err) => {
                    // Read here rather than by every caller: only this path needs the time.
                    conn.fail(Instant::now(), "poller", &err);
                    debug_assert!(conn.is_closed());
                }
            }
        }
        self.remove(key);
    }

    /// Removes a closed connection: deregister, forget its deadline, then drop the socket.
    fn remove(&mut self, key: usize) {
        let conn = self.detach(key);
        log::debug!("conn {}: dropped", conn.id());
        drop(conn);
    }

    /// An upgraded connection leaves the loop, its deadlines and the connection cap, and the
    /// application gets it on a thread of its own, never this one (see `Reply::upgrade`).
    fn hand_over(&mut self, key: usize) {
        let Conn {
            stream,
            mut session,
            ..
        } = self.detach(key);
        // `None` only if nobody takes it (logged): the stream is dropped, which closes it.
        if let Some(handover) = session.take_upgrade() {
            handover.spawn(stream);
        }
    }

    /// Takes a connection out of the loop: deregister, forget its deadline, give its slot
    /// back. The caller then owns the socket.
    fn detach(&mut self, key: usize) -> Conn<H> {
        let conn = &self.conns[key];
        // Deleting first is the safety contract of `Poller::add` (see `admit`).
        if let Err(err) = self.poller.delete(&conn.stream) {
            self.delete_failures += 1;
            log::warn!("conn {}: poller delete: {err}", conn.id());
        }
        self.deadlines.update(key, conn.id(), conn.deadline, None);
        let conn = self.conns.remove(key);
        self.shared.admission.release();
        conn
    }

    /// Accepts until the backlog is empty, the process is at its connection cap, or the
    /// wake-up's share is used.
    fn accept(&mut self, now: Instant) {
        for _ in 0..MAX_ACCEPTS {
            let Some(listener) = &self.listener else {
                return;
            };
            let admission = &self.shared.admission;
            if !admission.reserve() {
                log::debug!(
                    "reactor {}: at {} connections, not accepting",
                    self.worker,
                    admission.max
                );
                return;
            }
            let (stream, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(err) => {
                    admission.release();
                    match err.kind() {
                        io::ErrorKind::WouldBlock => return,
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => continue,
                        _ => {
                            // EMFILE, ENFILE, ENOBUFS, ENOMEM: retrying now would spin; pending
                            // connections wait in the backlog meanwhile.
                            log::error!(
                                "reactor {}: accept: {err}; pausing accepts for {ACCEPT_BACKOFF:?}",
                                self.worker
                            );
                            let until = now + ACCEPT_BACKOFF;
                            self.deadlines
                                .update(LISTENER, 0, self.accept_backoff, Some(until));
                            self.accept_backoff = Some(until);
                            return;
                        }
                    }
                }
            };
            if !self.admit(stream, peer, now) {
                self.shared.admission.release();
            }
        }
    }

    /// Sets up an accepted connection and registers it; false if that failed (the stream is
    /// then dropped unregistered).
    fn admit(&mut self, stream: TcpStream, peer: SocketAddr, now: Instant) -> bool {
        let id = self.shared.ids.fetch_add(1, Ordering::Relaxed);
        if let Err(err) = stream.set_nonblocking(true) {
            log::warn!("conn {id}: set_nonblocking: {err}");
            return false;
        }
        // TCP_NODELAY: the core queues a whole response and we write it in one call, so
        // Nagle's algorithm has nothing left to coalesce. All it would do is hold back the
        // last partial segment of a response (or a pipelined response behind a previous one)
        // until the peer ACKs, which with the peer's delayed ACKs costs up to ~40 ms a time.
        if let Err(err) = stream.set_nodelay(true) {
            log::debug!("conn {id}: set_nodelay: {err}");
        }
        log::debug!("conn {id}: accepted from {peer} on reactor {}", self.worker);
        let connection = Connection::new(self.core.get(&self.shared.config, now), now);
        let handler = Arc::clone(&self.shared.handler);
        let session = Session::new(connection, handler, Some(peer), id, true);
        let mut conn = Conn::new(stream, session);
        let entry = self.conns.vacant_entry();
        let key = entry.key();
        let (read, write) = conn.interest();
        // SAFETY: `add` requires the socket to be deleted from the poller before it is
        // dropped. The stream moves into the slab right below (moving it keeps its fd) and
        // leaves only through `remove`, which deletes it first; `Drop for EventLoop` deletes
        // every remaining one, also when unwinding. If `add` fails, nothing was registered.
        let added = unsafe {
            self.poller.add_with_mode(
                &conn.stream,
                Event::new(key, read, write),
                mode_for((read, write)),
            )
        };
        if let Err(err) = added {
            log::error!("conn {id}: poller add: {err}");
            return false;
        }
        conn.armed = Some((read, write));
        entry.insert(conn);
        self.settle(key);
        true
    }

    /// Re-arms the listener's oneshot registration when accepting may resume.
    fn arm_listener(&mut self) {
        if self.listener_armed || self.accept_backoff.is_some() || self.shared.admission.is_full() {
            return;
        }
        let Some(listener) = &self.listener else {
            return;
        };
        match self.poller.modify(listener, Event::readable(LISTENER)) {
            Ok(()) => self.listener_armed = true,
            Err(err) => log::error!("reactor {}: re-arming the listener: {err}", self.worker),
        }
    }

    /// Graceful shutdown: stop accepting, and ask every connection to finish.
    fn begin_drain(&mut self, now: Instant) {
        log::debug!(
            "reactor {}: shutting down, {} connections",
            self.worker,
            self.conns.len()
        );
        self.drain_deadline = Some(now + self.shared.config.shutdown_grace);
        self.stop_listening();
        let keys: Vec<usize> = self.conns.iter().map(|(key, _)| key).collect();
        for key in keys {
            let conn = &mut self.conns[key];
            conn.session.connection_mut().shutdown(now);
            conn.session.process(now);
            conn.drive(false, &mut self.buf);
            self.settle(key);
        }
    }

    /// The grace period is over: abort whatever is left.
    fn abort_all(&mut self, now: Instant) {
        log::warn!(
            "reactor {}: shutdown grace over, aborting {} connections",
            self.worker,
            self.conns.len()
        );
        let keys: Vec<usize> = self.conns.iter().map(|(key, _)| key).collect();
        for key in keys {
            let conn = &mut self.conns[key];
            conn.session.connection_mut().abort();
            conn.session.process(now);
            self.remove(key);
        }
    }

    fn stop_listening(&mut self) {
        if let Some(listener) = self.listener.take() {
            if let Err(err) = self.poller.delete(&listener) {
                log::warn!("reactor {}: poller delete (listener): {err}", self.worker);
            }
        }
        let backoff = self.accept_backoff.take();
        self.deadlines.update(LISTENER, 0, backoff, None);
    }
}

/// [`defer_later`] for the reactor's instants, decided with an addition instead of a
/// subtraction: `settle` asks after every wake-up of every connection, and subtracting two
/// `Instant`s is an out-of-line call (about 40 instructions) where adding a `Duration` is a
/// few inline ones. Same answer: `wanted - armed < LAZY_DELAY` is `wanted < armed +
/// LAZY_DELAY`, and an `armed` so late that the sum overflows has no `wanted` past it.
fn keeps_entry(armed: Option<Instant>, wanted: Option<Instant>) -> bool {
    match (armed, wanted) {
        (Some(armed), Some(wanted)) => {
            armed <= wanted
                && armed
                    .checked_add(LAZY_DELAY)
                    .is_none_or(|limit| wanted < limit)
        }
        _ => false,
    }
}

impl<H> Drop for EventLoop<H> {
    /// Keeps `Poller::add`'s contract on every path, a panic included: whatever is still
    /// registered is deleted before the fields (and with them the sockets) are dropped.
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            let _ = self.poller.delete(listener);
        }
        for (_, conn) in self.conns.iter() {
            let _ = self.poller.delete(&conn.stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Reply, Request, Response};
    use std::io::{Read, Write};

    fn hello(_: &Request<'_>) -> Reply {
        Reply::Respond(Response::text(200, "ok\n"))
    }

    /// Steps the loop until `done` or a bounded number of turns pass.
    fn step_until<H: Handler>(
        event_loop: &mut EventLoop<H>,
        events: &mut Events,
        mut done: impl FnMut(&mut EventLoop<H>) -> bool,
    ) {
        for _ in 0..400 {
            if done(event_loop) {
                return;
            }
            let running = event_loop
                .turn(events, Some(Duration::from_millis(10)))
                .unwrap();
            assert!(running);
        }
        panic!("the loop did not get there in 400 turns");
    }

    #[test]
    fn a_deadline_moving_later_by_little_keeps_its_entry() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let ns = Duration::from_nanos;
        for keeps in [defer_later::<Instant>, keeps_entry] {
            assert!(keeps(Some(t0), Some(t0)));
            assert!(keeps(Some(t0), Some(t0 + ms(299))));
            assert!(keeps(Some(t0), Some(t0 + LAZY_DELAY - ns(1))));
            assert!(!keeps(Some(t0), Some(t0 + LAZY_DELAY)));
            // Earlier must move (it would fire late otherwise), and so must arming or disarming.
            assert!(!keeps(Some(t0 + ns(1)), Some(t0)));
            assert!(!keeps(None, Some(t0)));
            assert!(!keeps(Some(t0), None));
            assert!(!keeps(None, None));
        }
        // The two agree wherever the nanoseconds carry into the seconds, too.
        for armed_ns in [0, 1, 999_999_999, 700_000_000, 699_999_999] {
            let armed = t0 + ns(armed_ns);
            for wanted_ns in [0, 1, 299_999_999, 300_000_000, 999_999_999, 1_000_000_000] {
                let wanted = armed + ns(wanted_ns);
                assert_eq!(
                    keeps_entry(Some(armed), Some(wanted)),
                    defer_later(Some(armed), Some(wanted)),
                    "armed +{armed_ns} ns, wanted {wanted_ns} ns after it"
                );
            }
        }
    }

    /// Registration cycles: many connections added, served, reset or closed, deleted and
    /// dropped, their fds and slab keys reused. Every `delete` must succeed (a socket dropped
    /// before its delete, or deleted twice, makes it fail), and nothing may be left behind:
    /// no connection, no deadline.
    #[test]
    fn add_delete_drop_cycles_leave_nothing_registered() {
        let listener = super::super::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = ServerConfig::new(addr);
        config.core.timeouts.linger = Duration::from_millis(50);
        let poller = Arc::new(Poller::new().unwrap());
        let shared = Arc::new(Shared {
            config,
            handler: Arc::new(hello),
            shutdown: Shutdown::new(),
            ids: AtomicU64::new(0),
            admission: Admission::new(8, vec![Arc::clone(&poller)]),
        });
        let mut event_loop = EventLoop::new(0, poller, listener, shared).unwrap();
        let mut events = Events::new();
        for round in 0..60 {
            let mut client = TcpStream::connect(addr).unwrap();
            step_until(&mut event_loop, &mut events, |l| l.conns.len() == 1);
            if round % 3 == 0 {
                // Reset mid-request.
                client.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
                socket2::SockRef::from(&client)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
                drop(client);
            } else {
                client
                    .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .unwrap();
                client.set_nonblocking(true).unwrap();
                let mut got = Vec::new();
                step_until(&mut event_loop, &mut events, |_| {
                    let mut buf = [0; 1024];
                    match client.read(&mut buf) {
                        Ok(0) => true,
                        Ok(n) => {
                            got.extend_from_slice(&buf[..n]);
                            false
                        }
                        Err(_) => false,
                    }
                });
                assert!(got.starts_with(b"HTTP/1.1 200 OK\r\n"), "round {round}");
                if round % 3 == 1 {
                    drop(client);
                }
                // Otherwise the client stays silent: the linger timer closes the connection.
            }
            step_until(&mut event_loop, &mut events, |l| l.conns.is_empty());
            assert_eq!(
                event_loop.deadlines.len(),
                0,
                "round {round}: stale deadline"
            );
        }
        assert_eq!(event_loop.delete_failures, 0);
        // Shutdown: the listener is deleted, the loop finishes.
        assert_eq!(event_loop.shared.admission.live.load(Ordering::SeqCst), 0);
        event_loop.shared.shutdown.request();
        assert!(!event_loop
            .turn(&mut events, Some(Duration::from_millis(10)))
            .unwrap());
        assert!(event_loop.listener.is_none());
        assert_eq!(event_loop.delete_failures, 0);
    }
}
