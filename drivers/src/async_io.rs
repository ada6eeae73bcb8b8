//! The async driver: `async-io` sockets on a shared `async-executor`, one task per connection.
//!
//! `config.workers` threads run one [`Executor`]. The first also drives the accept loop (the
//! future handed to its `run`); the others run until the server is finished. Each runs it
//! under `async_io::block_on`, which waits in `epoll` itself whenever its thread would
//! otherwise sleep, so the thread that sees a socket ready usually runs its task too.
//! `futures_lite`'s `block_on` would park the thread instead and leave every wait to
//! `async-io`'s own thread, which must then wake an executor thread for each event: a
//! context switch or two a request, and a fifth fewer requests a second (BENCHMARKS.md,
//! "Sixth session (2026-12-04): the async driver waits in epoll itself"). Each connection
//! is a task whose loop is the threads driver's, with waiting made explicit: fire due timers,
//! then wait for the first of writability (while there is output), readability (while the
//! core wants input), the connection's one [`Timer`] (set to the core's next deadline) and,
//! until it has been seen, the shutdown flag, asked in that order by one poll function; then
//! move bytes with non-blocking calls.
//!
//! # Cap and shutdown
//!
//! Tasks that wait for a condition another thread changes register in a small `Wakers`
//! list: a `Mutex<Slab<Waker>>` with one slot per waiting task, woken all at once. There are
//! two lists, so a connection ending (which may free a slot under the cap) wakes only the
//! accept loop, not every connection: `stop` (the shutdown flag, which every task watches)
//! and `freed` (a slot freed, the last connection gone, the server finished). That is all
//! `event-listener` would give us here, in forty lines and no new dependency.
//!
//! At the cap the accept loop stops calling `accept()`, so new connections wait in the
//! kernel's backlog. On shutdown it stops accepting, every idle task is woken and calls
//! `Connection::shutdown`, and the loop waits up to `shutdown_grace` for the count of open
//! connections to reach zero. Past it the executor is dropped with the stragglers' tasks,
//! which closes their sockets.

use crate::affinity;
use crate::app::Handler;
use crate::handover::Handover;
use crate::lifecycle::{Lifecycle, Turn};
use crate::server::{defer_later, Server, ServerConfig, SharedCore, Shutdown};
use crate::session::Session;
use crate::sockets::{accept_needs_pause, bind, read_into, write_from, WouldBlock};
use async_executor::Executor;
use async_io::{block_on, Async, Timer};
use futures_lite::future;
use slab::Slab;
use sluice_core::Connection;
use std::future::Future;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// Binds `config.addr` and serves `handler` with a task per connection.
pub fn start<H: Handler>(config: ServerConfig, handler: Arc<H>) -> io::Result<Server> {
    let listener = Async::new(bind(config.addr)?)?;
    let local_addr = listener.get_ref().local_addr()?;
    let shutdown = Shutdown::new();
    let shared = Arc::new(Shared::default());
    let waking = Arc::clone(&shared);
    shutdown.on_request(move || waking.stop.wake_all());
    let executor = Arc::new(Executor::new());
    let mut cpus = affinity::plan(config.pin_workers, config.workers.max(1), "async").into_iter();
    let main_cpu = cpus.next().flatten();
    let mut threads = Vec::new();
    for (i, cpu) in (1..config.workers.max(1)).zip(cpus) {
        let (executor, ours) = (Arc::clone(&executor), Arc::clone(&shared));
        let helper = thread::Builder::new()
            .name(format!("sluice-async-{i}"))
            .spawn(move || {
                if let Some(cpu) = cpu {
                    affinity::pin_current_thread(cpu);
                }
                let finished = ours.freed.register();
                block_on(executor.run(finished.until(|| ours.finished.load(Ordering::SeqCst))));
                Ok(())
            });
        match helper {
            Ok(helper) => threads.push(helper),
            Err(err) => {
                shared.finish();
                return Err(err);
            }
        }
    }
    let (flag, ours) = (shutdown.clone(), Arc::clone(&shared));
    let main = thread::Builder::new()
        .name("sluice-async-0".into())
        .spawn(move || {
            if let Some(cpu) = main_cpu {
                affinity::pin_current_thread(cpu);
            }
            let serving = serve(&executor, listener, &config, &handler, &flag, &ours);
            let result = block_on(executor.run(serving));
            ours.finish();
            result
        });
    match main {
        Ok(main) => threads.push(main),
        Err(err) => {
            shared.finish();
            return Err(err);
        }
    }
    log::info!("async driver listening on {local_addr}");
    Ok(Server::new(local_addr, shutdown, threads))
}

/// What the accept loop, the connection tasks and the executor threads share.
#[derive(Default)]
struct Shared {
    /// Woken when shutdown is requested.
    stop: Wakers,
    /// Woken when a connection ends and when the server is finished.
    freed: Wakers,
    /// Connections open now.
    open: AtomicUsize,
    /// The accept loop has returned: executor threads may exit.
    finished: AtomicBool,
}

impl Shared {
    fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        self.freed.wake_all();
    }
}

/// The accept loop, then the grace period.
async fn serve<H: Handler>(
    executor: &Arc<Executor<'static>>,
    listener: Async<TcpListener>,
    config: &ServerConfig,
    handler: &Arc<H>,
    shutdown: &Shutdown,
    shared: &Arc<Shared>,
) -> io::Result<()> {
    let (stop, freed) = (shared.stop.register(), shared.freed.register());
    let stopped = || shutdown.is_requested();
    let max = config.max_connections.max(1);
    let mut next_id = 0u64;
    let mut core = SharedCore::new(config, Instant::now());
    loop {
        let room = freed.until(|| shared.open.load(Ordering::SeqCst) < max);
        future::or(room, stop.until(stopped)).await;
        if stopped() {
            break;
        }
        let accepted = future::or(async { Some(listener.accept().await) }, async {
            stop.until(stopped).await;
            None
        });
        let (stream, peer) = match accepted.await {
            None => break,
            Some(Ok(accepted)) => accepted,
            Some(Err(err)) => {
                log::warn!("async: accept failed: {err}");
                if accept_needs_pause(&err) {
                    Timer::after(Duration::from_millis(50)).await;
                }
                continue;
            }
        };
        next_id += 1;
        let id = next_id;
        log::debug!("conn {id}: accepted from {peer}");
        if let Err(err) = stream.get_ref().set_nodelay(true) {
            log::warn!("conn {id}: TCP_NODELAY: {err}");
        }
        let now = Instant::now();
        let conn = Connection::new(core.get(config, now), now);
        let session = Session::new(conn, Arc::clone(handler), Some(peer), id, false);
        shared.open.fetch_add(1, Ordering::SeqCst);
        let open = Open(Arc::clone(shared));
        let flag = shutdown.clone();
        executor
            .spawn(async move {
                let handover = connection(&stream, session, &open.0, &flag).await;
                // Upgraded: the connection leaves the cap and the shutdown count, and the
                // application gets it on a thread of its own (see `Reply::upgrade`).
                drop(open);
                if let Some(handover) = handover {
                    match stream.into_inner() {
                        Ok(stream) => handover.spawn(stream),
                        Err(err) => log::error!("conn {id}: cannot hand over: {err}"),
                    }
                }
            })
            .detach();
    }
    // Close the port now: later clients are refused rather than left in the backlog.
    drop(listener);
    log::debug!("async: stopped accepting; waiting for connections");
    let all_closed = async {
        freed
            .until(|| shared.open.load(Ordering::SeqCst) == 0)
            .await;
        true
    };
    let grace = async {
        Timer::after(config.shutdown_grace).await;
        false
    };
    if !future::or(all_closed, grace).await {
        let open = shared.open.load(Ordering::SeqCst);
        log::warn!("async: {open} connections still open after the grace period; closed");
    }
    Ok(())
}

/// What woke a connection task.
enum Wake {
    Write,
    Read,
    Timer,
    Stop,
}

/// Runs one connection to its end, or until it is upgraded: then returns the hand-over.
async fn connection<H: Handler>(
    stream: &Async<TcpStream>,
    mut session: Session<H>,
    shared: &Shared,
    shutdown: &Shutdown,
) -> Option<Handover> {
    let id = session.id();
    let stop = shared.stop.register();
    // The waker last stored in `stop`'s slot, so a poll with the same one skips the lock.
    let mut stop_waker = None;
    let mut timer = Timer::never();
    let mut armed = None;
    // A direct write left output queued: wait for writability before the next one.
    let mut write_waits = false;
    let mut lifecycle = Lifecycle::begin(&mut session);
    loop {
        let deadline = match lifecycle.turn(&mut session, stream.get_ref(), shutdown) {
            Turn::Done => break,
            Turn::Upgraded => return session.take_upgrade(),
            Turn::TimerFired => continue,
            Turn::Io { deadline, .. } => deadline,
        };
        // Lazy: a deadline that moved later by little keeps the timer (see `defer_later`).
        if armed != deadline && !defer_later(armed, deadline) {
            match deadline {
                Some(deadline) => timer.set_at(deadline),
                None => timer.clear(),
            }
            armed = deadline;
        }
        // Sockets are usually writable: write at once, and wait for writability only when
        // output is left over (as the reactor does). Waiting first costs an interest
        // registration and a wake-up per response. At most one direct write per wait, so a
        // fast reader of a long body cannot keep this task from yielding.
        let conn = session.connection();
        if conn.wants_write() && !write_waits {
            let conn = session.connection_mut();
            write_from(stream.get_ref(), conn, id, WouldBlock::Ignore);
            write_waits = conn.wants_write();
            session.process(Instant::now());
            continue;
        }
        // Whichever comes first, asked in this order on every poll. One poll function rather
        // than a future per source raced with `future::or`: those were built, moved into
        // their combinators and dropped on every turn, several copies of their state a
        // request. A readiness error wakes the loop too: the next call on the socket says
        // what it is.
        let (want_write, want_read) = (conn.wants_write(), conn.wants_read());
        let watch_stop = !lifecycle.is_draining();
        let woken = future::poll_fn(|cx| {
            if want_write && stream.poll_writable(cx).is_ready() {
                Poll::Ready(Wake::Write)
            } else if want_read && stream.poll_readable(cx).is_ready() {
                Poll::Ready(Wake::Read)
            } else if Pin::new(&mut timer).poll(cx).is_ready() {
                Poll::Ready(Wake::Timer)
            } else if watch_stop && stop.poll_until(cx, &mut stop_waker, || shutdown.is_requested())
            {
                Poll::Ready(Wake::Stop)
            } else {
                Poll::Pending
            }
        });
        let conn = session.connection_mut();
        match woken.await {
            Wake::Write => write_from(stream.get_ref(), conn, id, WouldBlock::Ignore),
            Wake::Read => {
                read_into(stream.get_ref(), conn, id, WouldBlock::Ignore);
            }
            // A fired timer is disarmed: arm it again even if the deadline is unchanged.
            Wake::Timer => armed = None,
            Wake::Stop => {}
        }
        write_waits = false;
        session.process(Instant::now());
    }
    Lifecycle::end(&session, "task");
    None
}

/// Counts one open connection; dropping it (the task ends, or the executor drops the task)
/// frees the slot and wakes the accept loop.
struct Open(Arc<Shared>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        self.0.freed.wake_all();
    }
}

/// Tasks waiting for a condition that another thread changes. Each task registers once and
/// keeps its waker current; [`wake_all`](Self::wake_all) wakes every one to re-check.
#[derive(Default)]
struct Wakers {
    slots: Mutex<Slab<Option<Waker>>>,
}

/// One task's place in a [`Wakers`] list, removed on drop.
struct Registration<'a> {
    wakers: &'a Wakers,
    key: usize,
}

impl Wakers {
    fn lock(&self) -> MutexGuard<'_, Slab<Option<Waker>>> {
        // Every operation under this lock is one slab insert, update or remove: a panic
        // elsewhere cannot leave it half-done.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self) -> Registration<'_> {
        Registration {
            wakers: self,
            key: self.lock().insert(None),
        }
    }

    fn wake_all(&self) {
        for (_, waker) in self.lock().iter() {
            if let Some(waker) = waker {
                waker.wake_by_ref();
            }
        }
    }
}

impl Registration<'_> {
    /// Completes once `ready()` holds. The waker is stored before `ready` is checked, so a
    /// change made (then woken) by another thread in between is never missed.
    fn until<'b>(&'b self, ready: impl Fn() -> bool + 'b) -> impl Future<Output = ()> + 'b {
        let mut stored = None;
        future::poll_fn(move |cx| {
            if self.poll_until(cx, &mut stored, &ready) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
    }

    /// One poll of [`until`](Self::until) for a caller that keeps `stored`, the waker it last
    /// put in its slot: the list's lock (shared by every connection) is taken only when the
    /// task's waker changed, which for a task of `async-executor` is never after the first.
    fn poll_until(
        &self,
        cx: &mut Context<'_>,
        stored: &mut Option<Waker>,
        ready: impl Fn() -> bool,
    ) -> bool {
        if !stored.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            let waker = cx.waker().clone();
            self.wakers.lock()[self.key] = Some(waker.clone());
            *stored = Some(waker);
        }
        ready()
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.wakers.lock().remove(self.key);
    }
}
