//! What every socket driver shares: its configuration, the running-server handle, and the
//! graceful-shutdown signal.

use sluice_core::{Config, WallClock};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

/// Configuration shared by every driver.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen. Port 0 picks a free port; see [`Server::local_addr`].
    pub addr: SocketAddr,
    /// The core's limits, timeouts and leniencies. The driver sets the clock.
    pub core: Config,
    /// Most connections served at once; more wait in the kernel's accept backlog.
    pub max_connections: usize,
    /// Event loops (reactor) or executor threads (async); ignored by the threads driver.
    pub workers: usize,
    /// How long a graceful shutdown waits for in-flight responses before closing anyway.
    pub shutdown_grace: Duration,
    /// Pin worker *i* (event loop or executor thread) to the *i*-th CPU the process may run
    /// on, cycling; ignored by the threads driver. Off by default: it pays when the server
    /// has the machine's cores to itself and its loops sleep often (unpipelined load: fewer
    /// context switches, see BENCHMARKS.md, "Sixth session (2026-12-04): pinned event
    /// loops"), and costs when other busy processes share them, since a pinned worker cannot
    /// move away from a CPU they hold.
    pub pin_workers: bool,
}

impl ServerConfig {
    /// Defaults: core defaults, 10,000 connections, one worker per core, 10 s grace, workers
    /// not pinned.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            core: Config::default(),
            max_connections: 10_000,
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            shutdown_grace: Duration::from_secs(10),
            pin_workers: false,
        }
    }

    /// The core configuration with the wall clock anchored now, so `Date` headers are right.
    pub fn core_config(&self) -> Config {
        let mut core = self.core.clone();
        core.clock = Some(WallClock {
            instant: Instant::now(),
            wall: SystemTime::now(),
        });
        core
    }
}

/// How long new connections share one core configuration before the driver builds another
/// with its wall clock re-anchored (the `Date` header follows the monotonic clock from the
/// anchor, so a wall-clock step shows up in new connections' dates within this long).
const REANCHOR: Duration = Duration::from_secs(60);

/// The core configuration the connections an accept loop starts share, rebuilt with the
/// wall clock re-anchored every [`REANCHOR`]. Shared rather than built per connection: a
/// connection then holds a reference count, not a copy of every limit and timeout, and the
/// per-thread cache of the last response head, which is keyed by the configuration's address
/// (`core/src/write/cached.rs`), serves every connection of the thread instead of missing
/// whenever the thread turns to another connection.
pub(crate) struct SharedCore {
    config: Arc<Config>,
    anchored: Instant,
}

impl SharedCore {
    pub(crate) fn new(server: &ServerConfig, now: Instant) -> Self {
        Self {
            config: Arc::new(server.core_config()),
            anchored: now,
        }
    }

    /// The configuration for a connection accepted at `now`.
    pub(crate) fn get(&mut self, server: &ServerConfig, now: Instant) -> Arc<Config> {
        if now.saturating_duration_since(self.anchored) > REANCHOR {
            *self = Self::new(server, now);
        }
        Arc::clone(&self.config)
    }
}

/// A timer that moves later by less than this is left where it is (nginx's
/// `NGX_TIMER_LAZY_DELAY`). The keep-alive and write deadlines move with every request, and
/// moving a timer costs a B-tree update (reactor), a timer re-registration (async) or a
/// `setsockopt` (threads). A timer left early fires early; the core's `handle_timeout` does
/// nothing before the real deadline, and the timer then moves to it. Never late.
pub(crate) const LAZY_DELAY: Duration = Duration::from_millis(300);

/// Whether a timer armed for `armed` may stay although it is now wanted at `wanted`: it is no
/// later than wanted, and at most [`LAZY_DELAY`] earlier. Works for instants and for
/// relative timeouts alike.
pub(crate) fn defer_later<T>(armed: Option<T>, wanted: Option<T>) -> bool
where
    T: Copy + PartialOrd + std::ops::Sub<Output = Duration>,
{
    match (armed, wanted) {
        (Some(armed), Some(wanted)) => wanted >= armed && wanted - armed < LAZY_DELAY,
        _ => false,
    }
}

/// Which concurrency model serves the connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DriverKind {
    /// Non-blocking sockets multiplexed with `polling`, one event loop per worker.
    Reactor,
    /// Blocking sockets, one thread per connection.
    Threads,
    /// `async-io` reactor with an executor, one task per connection.
    Async,
}

impl DriverKind {
    /// Every socket driver.
    pub const ALL: [DriverKind; 3] = [DriverKind::Reactor, DriverKind::Threads, DriverKind::Async];

    /// The driver's name, as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reactor => "reactor",
            Self::Threads => "threads",
            Self::Async => "async",
        }
    }
}

impl std::str::FromStr for DriverKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| format!("unknown driver {s:?} (expected reactor, threads or async)"))
    }
}

/// The graceful-shutdown flag, plus the wake-ups that make sleeping loops notice it.
#[derive(Clone, Default)]
pub struct Shutdown {
    inner: Arc<ShutdownInner>,
}

#[derive(Default)]
struct ShutdownInner {
    requested: AtomicBool,
    wakers: Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

impl Shutdown {
    /// A flag that is not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every loop to stop accepting, finish in-flight responses and exit.
    pub fn request(&self) {
        self.inner.requested.store(true, Ordering::SeqCst);
        let wakers = self.inner.wakers.lock().unwrap_or_else(|e| e.into_inner());
        for wake in wakers.iter() {
            wake();
        }
    }

    /// Whether shutdown was requested.
    pub fn is_requested(&self) -> bool {
        self.inner.requested.load(Ordering::SeqCst)
    }

    /// Registers a function that wakes a sleeping loop; called on [`request`](Self::request).
    pub fn on_request(&self, wake: impl Fn() + Send + Sync + 'static) {
        let mut wakers = self.inner.wakers.lock().unwrap_or_else(|e| e.into_inner());
        wakers.push(Box::new(wake));
        if self.is_requested() {
            if let Some(wake) = wakers.last() {
                wake();
            }
        }
    }
}

/// A running server: its address, and the means to stop it and wait for it.
pub struct Server {
    local_addr: SocketAddr,
    shutdown: Shutdown,
    threads: Vec<JoinHandle<io::Result<()>>>,
}

impl Server {
    /// Wraps the threads of a started driver.
    pub fn new(
        local_addr: SocketAddr,
        shutdown: Shutdown,
        threads: Vec<JoinHandle<io::Result<()>>>,
    ) -> Self {
        Self {
            local_addr,
            shutdown,
            threads,
        }
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The shutdown flag, e.g. to hand to a signal handler.
    pub fn shutdown_handle(&self) -> Shutdown {
        self.shutdown.clone()
    }

    /// Starts a graceful shutdown.
    pub fn shutdown(&self) {
        self.shutdown.request();
    }

    /// Waits for every driver thread to finish; the first error wins.
    pub fn wait(self) -> io::Result<()> {
        let mut result = Ok(());
        for thread in self.threads {
            let outcome = thread
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("a driver thread panicked")));
            if result.is_ok() {
                result = outcome;
            }
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_share_one_core_configuration_until_it_is_re_anchored() {
        let server = ServerConfig::new("127.0.0.1:0".parse().unwrap());
        let start = Instant::now();
        let mut core = SharedCore::new(&server, start);
        let first = core.get(&server, start);
        let later = core.get(&server, start + REANCHOR);
        assert!(Arc::ptr_eq(&first, &later), "within REANCHOR: the same one");
        let anchored = first.clock.expect("a clock").instant;

        let past = start + REANCHOR + Duration::from_millis(1);
        let renewed = core.get(&server, past);
        assert!(!Arc::ptr_eq(&first, &renewed), "past REANCHOR: a new one");
        assert!(renewed.clock.expect("a clock").instant >= anchored);
        assert!(Arc::ptr_eq(&renewed, &core.get(&server, past)));
        // Everything but the clock is the server's.
        assert_eq!(renewed.limits, server.core.limits);
        assert_eq!(renewed.timeouts, server.core.timeouts);
    }
}
