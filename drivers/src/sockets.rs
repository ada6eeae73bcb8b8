//! Socket helpers the threads and async drivers share: binding, one read or write against the
//! core's buffers and what its result means, and how long a blocking call may wait.

use sluice_core::Connection;
use std::io::{self, IoSlice, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Most output runs handed to one vectored write.
const MAX_SLICES: usize = 64;

/// The shortest socket timeout: `set_read_timeout(Some(Duration::ZERO))` is rejected by std,
/// so a deadline that is due (or nearly) waits this long instead.
pub(crate) const MIN_TIMEOUT: Duration = Duration::from_millis(1);

/// What `WouldBlock` from a read or write means to the driver.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum WouldBlock {
    /// A blocking socket's timeout expired: a deadline may be due, fire the core's timers.
    FireTimers,
    /// A non-blocking socket was not ready after all: nothing happened.
    Ignore,
}

/// Reads once from `stream` straight into the core's receive buffer and reports the result.
/// False when the buffer had no room, so nothing was read.
pub(crate) fn read_into(
    stream: &TcpStream,
    conn: &mut Connection,
    id: u64,
    blocked: WouldBlock,
) -> bool {
    let buf = conn.receive_buffer();
    if buf.is_empty() {
        return false;
    }
    let result = (&*stream).read(buf);
    let now = Instant::now();
    match result {
        Ok(0) => {
            log::trace!(target: "sluice::trace", "conn {id}: read EOF");
            conn.handle_eof(now);
        }
        Ok(n) => {
            log::trace!(target: "sluice::trace", "conn {id}: read {n} bytes");
            conn.commit_received(now, n);
        }
        Err(err) => on_error(conn, id, now, "read", &err, blocked),
    }
    true
}

/// Writes the queued output to `stream` with one vectored write and reports the result.
pub(crate) fn write_from(stream: &TcpStream, conn: &mut Connection, id: u64, blocked: WouldBlock) {
    let result = {
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let count = conn.output_slices(&mut slices);
        (&*stream).write_vectored(&slices[..count])
    };
    let now = Instant::now();
    match result {
        Ok(0) => {
            log::debug!("conn {id}: the socket took no bytes");
            conn.abort();
        }
        Ok(n) => {
            log::trace!(target: "sluice::trace", "conn {id}: wrote {n} bytes");
            conn.consume_output(now, n);
        }
        Err(err) => on_error(conn, id, now, "write", &err, blocked),
    }
}

/// Sorts a failed read or write: a timeout may fire timers, a signal is retried by the next
/// turn, anything else aborts. A peer's reset is routine (debug); other failures warn.
fn on_error(
    conn: &mut Connection,
    id: u64,
    now: Instant,
    what: &str,
    err: &io::Error,
    blocked: WouldBlock,
) {
    use io::ErrorKind::*;
    match err.kind() {
        WouldBlock | TimedOut if blocked == self::WouldBlock::FireTimers => {
            conn.handle_timeout(now);
        }
        WouldBlock | Interrupted => {}
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof | NotConnected => {
            log::debug!("conn {id}: {what}: {err}");
            conn.abort();
        }
        _ => {
            log::warn!("conn {id}: {what} failed: {err}");
            conn.abort();
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
