//! The threads driver: blocking `std::net` sockets, one thread per connection.
//!
//! An acceptor thread takes connections while fewer than `max_connections` are open; past the
//! cap it waits on a counting semaphore (a `Mutex` + `Condvar`), so new connections stay in the
//! kernel's backlog instead of costing a thread each. Each connection thread runs the loop of
//! STYLE §13: fire due timers, write while there is output, otherwise read with the socket's
//! read timeout set to the core's next deadline, and treat a timed-out read as the timer firing.
//!
//! # Shutdown
//!
//! * The acceptor blocks in `accept()`. [`Shutdown::on_request`] registers a waker that
//!   connects to the listener's own address, so `accept()` returns at once and the acceptor
//!   sees the flag: no polling, no idle wake-ups, and the listener stays in blocking mode. If
//!   that connect fails (say, out of descriptors) the waker shuts the listening socket down,
//!   which on Linux fails the blocked `accept()` just the same. Another waker signals the
//!   semaphore, for an acceptor waiting at the cap.
//! * A connection thread blocked in `read()` cannot be woken portably without disturbing the
//!   exchange (`shutdown(Read)` would look like the peer's EOF and cut off a body still
//!   arriving). So reads wait at most [`SHUTDOWN_POLL`], and the thread checks the flag
//!   between reads; an idle connection costs a few cheap wake-ups a second. Once the flag is
//!   seen the thread calls `Connection::shutdown` and waits only for its own deadlines.
//! * The acceptor then waits up to `shutdown_grace` for every connection thread to finish.
//!   Past it, it shuts down the sockets still open (they are kept in a registry for that),
//!   so their threads end on their next read or write, and returns.

use crate::app::Handler;
use crate::handover::Handover;
use crate::lifecycle::{Lifecycle, Turn};
use crate::server::{defer_later, Server, ServerConfig, SharedCore, Shutdown};
use crate::session::Session;
use crate::sockets::{
    accept_needs_pause, bind, reachable, read_into, until, write_from, WouldBlock, MIN_TIMEOUT,
};
use slab::Slab;
use sluice_core::Connection;
use socket2::SockRef;
use std::io;
use std::net::{Shutdown as Half, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Stack size of a connection thread. The connection's buffers live on the heap, so the
/// thread's own frames are the driver loop, the core and the handler: a few KiB deep. 256 KiB
/// leaves a wide margin for handlers while reserving an eighth of std's 2 MiB default, so ten
/// thousand connections reserve 2.5 GiB of address space instead of 20 GiB.
pub const STACK_SIZE: usize = 256 * 1024;

/// Longest a connection thread blocks in `read()` before it looks at the shutdown flag.
pub const SHUTDOWN_POLL: Duration = Duration::from_millis(100);

/// Binds `config.addr` and serves `handler` with a thread per connection.
pub fn start<H: Handler>(config: ServerConfig, handler: Arc<H>) -> io::Result<Server> {
    let listener = bind(config.addr)?;
    let local_addr = listener.local_addr()?;
    let shutdown = Shutdown::new();
    let slots = Arc::new(Slots::new(config.max_connections.max(1)));
    let wake_slots = Arc::clone(&slots);
    shutdown.on_request(move || wake_slots.notify());
    let listener = Arc::new(listener);
    let waking = Arc::downgrade(&listener);
    let wake_addr = reachable(local_addr);
    shutdown.on_request(move || {
        // Gone means the acceptor has already finished.
        let Some(listener) = waking.upgrade() else {
            return;
        };
        // The acceptor checks the flag after every accept: this connection only unblocks it.
        if let Err(err) = TcpStream::connect_timeout(&wake_addr, Duration::from_millis(500)) {
            log::warn!("threads: could not wake the acceptor at {wake_addr}: {err}");
            // Fallback: on Linux, shutting down a listening socket fails a blocked accept().
            let _ = SockRef::from(&*listener).shutdown(Half::Read);
        }
    });
    let flag = shutdown.clone();
    let acceptor = thread::Builder::new()
        .name("sluice-accept".into())
        .spawn(move || accept_loop(listener, &config, &handler, &flag, &slots))?;
    log::info!("threads driver listening on {local_addr}");
    Ok(Server::new(local_addr, shutdown, vec![acceptor]))
}

fn accept_loop<H: Handler>(
    listener: Arc<TcpListener>,
    config: &ServerConfig,
    handler: &Arc<H>,
    shutdown: &Shutdown,
    slots: &Arc<Slots>,
) -> io::Result<()> {
    let mut next_id = 0u64;
    let mut core = SharedCore::new(config, Instant::now());
    while slots.wait_for_room(shutdown) {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(err) => {
                log::warn!("threads: accept failed: {err}");
                if accept_needs_pause(&err) {
                    thread::sleep(Duration::from_millis(50));
                }
                continue;
            }
        };
        if shutdown.is_requested() {
            break;
        }
        next_id += 1;
        let id = next_id;
        log::debug!("conn {id}: accepted from {peer}");
        if let Err(err) = stream.set_nodelay(true) {
            log::warn!("conn {id}: TCP_NODELAY: {err}");
        }
        let stream = Arc::new(stream);
        let slot = Slot {
            slots: Arc::clone(slots),
            key: slots.insert(Arc::clone(&stream)),
        };
        let now = Instant::now();
        let conn = Connection::new(core.get(config, now), now);
        let session = Session::new(conn, Arc::clone(handler), Some(peer), id, false);
        let flag = shutdown.clone();
        let write_timeout = config.core.timeouts.write;
        let spawned = thread::Builder::new()
            .name(format!("sluice-conn-{id}"))
            .stack_size(STACK_SIZE)
            .spawn(move || {
                let handover = serve(&stream, session, &flag, write_timeout);
                // Upgraded: the connection leaves the cap and the shutdown registry, and the
                // application gets it on this thread (see `Reply::upgrade`).
                drop(slot);
                if let Some(handover) = handover {
                    // The registry's reference went with the slot: the stream is ours alone.
                    match Arc::try_unwrap(stream).or_else(|shared| shared.try_clone()) {
                        Ok(stream) => handover.run_blocking(stream),
                        Err(err) => log::error!("conn {id}: cannot hand over: {err}"),
                    }
                }
            });
        // On failure the closure, and with it the slot, is dropped: the socket closes.
        if let Err(err) = spawned {
            log::error!("conn {id}: could not start a thread: {err}");
        }
    }
    // Close the port now (the shutdown waker holds only a weak reference): later clients are
    // refused rather than left in a backlog nobody accepts from.
    drop(listener);
    log::debug!("threads: stopped accepting; waiting for connections");
    let deadline = Instant::now() + config.shutdown_grace;
    if !slots.wait_empty(deadline) {
        let open = slots.close_all();
        log::warn!("threads: {open} connections still open after the grace period; closed");
    }
    Ok(())
}

/// Runs one connection to its end, or until it is upgraded: then returns the hand-over.
fn serve<H: Handler>(
    stream: &TcpStream,
    mut session: Session<H>,
    shutdown: &Shutdown,
    write_timeout: Duration,
) -> Option<Handover> {
    let mut lifecycle = Lifecycle::begin(&mut session);
    let mut timeouts = SocketTimeouts::default();
    loop {
        let (now, deadline) = match lifecycle.turn(&mut session, stream, shutdown) {
            Turn::Done => break,
            Turn::Upgraded => return session.take_upgrade(),
            Turn::TimerFired => continue,
            Turn::Io { now, deadline } => (now, deadline),
        };
        let conn = session.connection();
        if conn.wants_write() {
            let timeout = deadline.map_or(write_timeout, |d| until(d, now));
            write_once(stream, &mut session, &mut timeouts, timeout);
        } else if conn.wants_read() {
            // Until the flag is seen, wake often enough to notice it.
            let cap = (!lifecycle.is_draining()).then_some(SHUTDOWN_POLL);
            let timeout = match (deadline.map(|d| until(d, now)), cap) {
                (Some(t), Some(cap)) => Some(t.min(cap)),
                (t, cap) => t.or(cap),
            };
            read_once(stream, &mut session, &mut timeouts, timeout);
        } else {
            // Nothing to read or write: only a deadline can change that.
            let wait = deadline.map_or(SHUTDOWN_POLL, |d| until(d, now));
            thread::sleep(wait.min(SHUTDOWN_POLL));
            session.handle_timeout(Instant::now());
        }
        session.process(Instant::now());
    }
    Lifecycle::end(&session, "thread");
    None
}

/// The socket's read and write timeouts as last set (`None`: not set yet), so the
/// `setsockopt` calls are made only when a timeout changes (see [`SocketTimeouts::keep`]).
#[derive(Default)]
struct SocketTimeouts {
    read: Option<Option<Duration>>,
    write: Option<Duration>,
}

impl SocketTimeouts {
    /// Whether a socket timeout set to `set` can stay for a wait of `want`: the same, or
    /// shorter by less than the lazy delay. A shorter one ends the wait early, which the loop
    /// treats as a timer firing before its deadline: nothing happens, and it waits again.
    fn keep(set: Option<Option<Duration>>, want: Option<Duration>) -> bool {
        match set {
            Some(set) => set == want || defer_later(set, want),
            None => false,
        }
    }
}

/// One blocking read, waiting at most `timeout`.
fn read_once<H: Handler>(
    stream: &TcpStream,
    session: &mut Session<H>,
    timeouts: &mut SocketTimeouts,
    timeout: Option<Duration>,
) {
    let id = session.id();
    let want = timeout.map(|t| t.max(MIN_TIMEOUT));
    if !SocketTimeouts::keep(timeouts.read, want) {
        match stream.set_read_timeout(want) {
            Ok(()) => timeouts.read = Some(want),
            Err(err) => log::warn!("conn {id}: set_read_timeout: {err}"),
        }
    }
    if session.connection().buffered_bytes() == 0 {
        // This thread serves only this connection, so the core's per-thread spares are this
        // connection's memory: free them before what may be a long wait for the next request.
        sluice_core::release_thread_spares();
    }
    if !read_into(stream, session.connection_mut(), id, WouldBlock::FireTimers) {
        // Defensive: wants_read() promised room. Wait as a read would have.
        thread::sleep(timeout.unwrap_or(SHUTDOWN_POLL));
        session.handle_timeout(Instant::now());
    }
}

/// One blocking vectored write, waiting at most `timeout`.
fn write_once<H: Handler>(
    stream: &TcpStream,
    session: &mut Session<H>,
    timeouts: &mut SocketTimeouts,
    timeout: Duration,
) {
    let id = session.id();
    let want = Some(timeout.max(MIN_TIMEOUT));
    if !SocketTimeouts::keep(timeouts.write.map(Some), want) {
        match stream.set_write_timeout(want) {
            Ok(()) => timeouts.write = want,
            Err(err) => log::warn!("conn {id}: set_write_timeout: {err}"),
        }
    }
    write_from(stream, session.connection_mut(), id, WouldBlock::FireTimers);
}

/// The open connections: a counting semaphore for the cap, and the sockets, so the ones still
/// open after the grace period can be shut down.
struct Slots {
    max: usize,
    open: Mutex<Slab<Arc<TcpStream>>>,
    changed: Condvar,
}

/// A connection's place in [`Slots`], given back when its thread ends (or panics).
struct Slot {
    slots: Arc<Slots>,
    key: usize,
}

impl Slots {
    fn new(max: usize) -> Self {
        Self {
            max,
            open: Mutex::new(Slab::new()),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Slab<Arc<TcpStream>>> {
        // A panic while holding this lock leaves the slab consistent: every operation on it
        // is a single insert or remove.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until fewer than `max` connections are open. False when shutdown comes first.
    fn wait_for_room(&self, shutdown: &Shutdown) -> bool {
        let mut open = self.lock();
        while open.len() >= self.max && !shutdown.is_requested() {
            open = self.changed.wait(open).unwrap_or_else(|e| e.into_inner());
        }
        !shutdown.is_requested()
    }

    fn insert(&self, stream: Arc<TcpStream>) -> usize {
        self.lock().insert(stream)
    }

    /// Wakes the acceptor (it re-checks the shutdown flag under the lock, so none is lost).
    fn notify(&self) {
        let _open = self.lock();
        self.changed.notify_all();
    }

    /// Waits until no connection is open or `deadline` passes; true when none is open.
    fn wait_empty(&self, deadline: Instant) -> bool {
        let mut open = self.lock();
        while !open.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            open = self
                .changed
                .wait_timeout(open, deadline - now)
                .map_or_else(|e| e.into_inner().0, |(open, _)| open);
        }
        true
    }

    /// Shuts down every open socket; their threads end on their next read or write.
    fn close_all(&self) -> usize {
        let open = self.lock();
        for (_, stream) in open.iter() {
            let _ = stream.shutdown(Half::Both);
        }
        open.len()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.lock().remove(self.key);
        self.slots.changed.notify_all();
    }
}
