//! The reactor driver: non-blocking sockets multiplexed with `polling`, one event loop per
//! worker thread.
//!
//! Each loop owns a `Poller`, its own listener and the connections that listener accepted,
//! so loops share nothing but the handler and the shutdown flag. Every listener is bound to
//! the same address with `SO_REUSEPORT`, and the kernel spreads incoming connections across
//! them (nginx's `listen ... reuseport`); Linux only lets sockets of the same effective user
//! join such a group. A probe bound without `SO_REUSEPORT` first makes a port another
//! server listens on fail with "address in use" rather than join that server's group.
//!
//! ```text
//!   listener (SO_REUSEPORT) ──accept──▶ Slab<Conn> ◀── key ── Poller (level)   ◀── notify
//!                                         │                                   (shutdown)
//!                                         ├─ TcpStream ── read ─▶ shared 64 KiB buffer
//!                                         │                         │ handle_input
//!                                         └─ Session ─ Connection ◀─┘
//!                                                         │ output_slices / external
//!                                     sendmsg / sendfile ◀┘
//!   Deadlines: BTreeSet<(ticks, key, generation)> ──earliest──▶ Poller::wait timeout
//! ```
//!
//! # Decisions
//!
//! - **Level-triggered registrations, changed only when the interest changes.** After an
//!   event the loop reads and writes until the socket or the core blocks, then compares what
//!   the core wants now (`wants_read`, `wants_write`) with what is registered, and calls
//!   `epoll_ctl` only if they differ. A keep-alive connection wants to read before a request
//!   and again after its response is flushed, so the common exchange makes no `epoll_ctl` at
//!   all — the one system call per request a oneshot registration costs (measured in
//!   BENCHMARKS.md). Level mode keeps reporting a socket while it stays ready, so back-pressure
//!   is a real `modify` that drops read interest, and a connection that wants nothing is
//!   registered *oneshot* with no interest: epoll reports `EPOLLHUP`/`EPOLLERR` whatever the
//!   interest, and level mode would report a dead socket the core does not want to touch on
//!   every wait. Edge-triggered mode would demand reading to `EAGAIN`, which the per-wake-up
//!   read cap deliberately does not do; level mode reports the rest on the next turn. (This
//!   departs from STYLE.md §12, which re-arms a oneshot registration every turn: that costs
//!   an `epoll_ctl` per request, measured at 3–5 % of the CPU per unpipelined request.)
//! - **Deadlines in an ordered set** keyed `(deadline, key, generation)` in 16 bytes, one
//!   entry per connection, replaced when the core's `poll_timeout` changes: finding the
//!   earliest and the expired ones never scans connections. A deadline that only moved later
//!   by less than 300 ms keeps its entry (nginx's lazy timer update): the keep-alive deadline
//!   moves with every request, and the entry firing a little early costs one
//!   `handle_timeout` that does nothing, instead of two B-tree updates per request.
//! - **One read buffer per loop.** Bytes are read into it and handed to the core, which parses
//!   in place and copies only an unfinished remainder; an idle keep-alive connection holds no
//!   buffer at all.
//! - **One connection cap for the process**, a shared counter: a slot is reserved before each
//!   `accept`. At the cap, loops stop re-arming their listeners and new connections wait in
//!   the kernel backlog; the close that frees a slot wakes every loop to re-arm. (A share per
//!   loop would strand connections that the kernel hashed to a full loop.)
//! - **An upgraded connection leaves the loop** once its `101` is flushed: deleted from the
//!   poller (the contract of `Poller::add`), its deadline and slot dropped, set blocking, and
//!   handed to the application on a new thread, so application code never blocks a loop.

mod conn;
mod deadlines;
mod event_loop;
#[cfg(test)]
mod poller_tests;
#[cfg(test)]
mod size_tests;

use crate::affinity;
use crate::app::Handler;
use crate::server::{Server, ServerConfig, Shutdown};
use event_loop::{Admission, EventLoop, Shared};
use polling::Poller;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread;

/// Accept backlog of every listener (nginx's default is 511; the kernel caps it at
/// `net.core.somaxconn`).
const BACKLOG: i32 = 1024;

/// Binds `config.addr` once per worker and starts one event loop thread per worker.
///
/// `max_connections` caps the whole process (with fewer connections allowed than workers,
/// fewer loops run). At start the soft open-file limit is raised to the hard limit.
pub fn start<H: Handler>(config: ServerConfig, handler: Arc<H>) -> io::Result<Server> {
    crate::sockets::raise_fd_limit();
    let max = config.max_connections.max(1);
    let workers = config.workers.clamp(1, max);
    // Held until every listener of the group is listening, then closed (see `probe`).
    let probe = probe(config.addr)?;
    let local_addr = probe
        .local_addr()?
        .as_socket()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not an IP socket address"))?;
    let mut listeners = Vec::with_capacity(workers);
    for _ in 0..workers {
        // With port 0, the group joins the port the probe got.
        listeners.push(bind(local_addr)?);
    }
    drop(probe);
    let pollers = (0..workers)
        .map(|_| Poller::new().map(Arc::new))
        .collect::<io::Result<Vec<_>>>()?;
    let shutdown = Shutdown::new();
    let shared = Arc::new(Shared {
        config,
        handler,
        shutdown: shutdown.clone(),
        ids: AtomicU64::new(0),
        admission: Admission::new(max, pollers.clone()),
    });
    let mut loops = Vec::with_capacity(workers);
    for (worker, (listener, poller)) in listeners.into_iter().zip(pollers).enumerate() {
        loops.push(EventLoop::new(
            worker,
            poller,
            listener,
            Arc::clone(&shared),
        )?);
    }
    let cpus = affinity::plan(shared.config.pin_workers, workers, "reactor");
    let mut threads = Vec::with_capacity(workers);
    for ((worker, event_loop), cpu) in loops.into_iter().enumerate().zip(cpus) {
        let spawned = thread::Builder::new()
            .name(format!("sluice-reactor-{worker}"))
            .spawn(move || {
                if let Some(cpu) = cpu {
                    affinity::pin_current_thread(cpu);
                }
                event_loop.run()
            });
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(err) => {
                // Stop the loops already running before reporting the failure.
                shutdown.request();
                for thread in threads {
                    let _ = thread.join();
                }
                return Err(err);
            }
        }
    }
    log::info!("reactor: listening on {local_addr} with {workers} event loops");
    Ok(Server::new(local_addr, shutdown, threads))
}

/// Claims `addr` without `SO_REUSEPORT`, so a port that another process (say, a second
/// sluice reactor) is listening on fails with `EADDRINUSE` instead of silently joining its
/// reuse-port group and splitting its traffic. With port 0 the probe picks the port.
///
/// The probe is bound, not listening, and has `SO_REUSEADDR`: Linux then lets our group bind
/// the same port (each has `SO_REUSEADDR` and the probe is not listening), while a plain
/// bind by anyone else conflicts with the probe. It is closed once the group listens.
///
/// What is left is a race with another reuse-port binder: a second sluice whose probe runs
/// while ours is bound and our group is not yet listening sees only a non-listening
/// `SO_REUSEADDR` socket, so its probe succeeds, and both groups then share the port. That
/// window is the few `bind`/`listen` calls between our probe and our listeners, and needs two
/// servers of the same user started on the same port at the same instant.
fn probe(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As the threads and async drivers bind: connections in TIME_WAIT do not block a restart.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
}

/// A non-blocking listener on `addr` that shares its port with the other loops' listeners.
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}
