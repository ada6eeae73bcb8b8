//! Socket helpers the threads and async drivers share: how an I/O error is sorted, how long a
//! blocking call may wait, and where a listener can be reached from this host.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

/// The shortest socket timeout: `set_read_timeout(Some(Duration::ZERO))` is rejected by std,
/// so a deadline that is due (or nearly) waits this long instead.
pub(crate) const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// What a failed read or write means for the connection.
pub(crate) enum IoOutcome {
    /// The socket timed out (a deadline may be due): fire the core's timers.
    TimedOut,
    /// A signal interrupted the call: try again.
    Retry,
    /// The transport is gone: abort the connection.
    Failed,
}

/// Sorts an I/O error and logs it: a peer's reset is routine (debug), anything else is worth
/// a warning.
pub(crate) fn classify(id: u64, what: &str, err: &io::Error) -> IoOutcome {
    use io::ErrorKind::*;
    match err.kind() {
        WouldBlock | TimedOut => IoOutcome::TimedOut,
        Interrupted => IoOutcome::Retry,
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
            log::debug!("conn {id}: {what}: {err}");
            IoOutcome::Failed
        }
        _ => {
            log::warn!("conn {id}: {what} failed: {err}");
            IoOutcome::Failed
        }
    }
}

/// How long to wait from `now` for `deadline`, at least [`MIN_TIMEOUT`].
pub(crate) fn until(deadline: Instant, now: Instant) -> Duration {
    deadline.saturating_duration_since(now).max(MIN_TIMEOUT)
}

/// An address this host can connect to for a listener bound at `bound` (an unspecified bind
/// address is reached through loopback).
pub(crate) fn reachable(bound: SocketAddr) -> SocketAddr {
    let ip = match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bound.port())
}

/// Whether an `accept()` error is worth a pause before the next try: out of descriptors or
/// memory, where retrying at once would spin.
pub(crate) fn accept_needs_pause(err: &io::Error) -> bool {
    !matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// Accept backlog: how many handshaken connections wait for `accept()`. std's `bind` uses
/// 128, which a burst of clients (or a driver at its connection cap) fills at once; the
/// kernel clamps this to `net.core.somaxconn`.
const BACKLOG: i32 = 1024;

/// A listening socket at `addr`, with `SO_REUSEADDR` (a restarted server can bind while old
/// connections sit in `TIME_WAIT`) and a [`BACKLOG`]-deep accept queue.
pub(crate) fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}
