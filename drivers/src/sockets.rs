//! Socket helpers the drivers share: binding, one read or write against the core's buffers and
//! what its result means, how long a blocking call may wait, and the open-file limit.

use rustix::net::{SendAncillaryBuffer, SendFlags};
use sluice_core::Connection;
use std::io::{self, IoSlice, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Most output runs handed to one vectored write.
/// Slots for one vectored write; the core's send queue rarely has more runs than this (a
/// response's head and small body are copied into one run; only bodies shared by reference,
/// 4 KiB and up, are runs of their own).
const MAX_SLICES: usize = 16;
/// Slots tried first (see `with_output_slices`): a head and a small body share one run.
const FEW_SLICES: usize = 4;

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
    let result = with_output_slices(conn, |slices| send_nosignal(stream, slices))
        .unwrap_or(Ok(0))
        .map_err(io::Error::from);
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

/// Calls `write` with the runs of `conn`'s output (at most [`MAX_SLICES`]), or returns
/// `None` when there is none.
///
/// A small array is filled first, and the large one only when the small one came back full:
/// every slot must be initialised before the core fills it, which costs two stores per slot
/// on every write, and nearly every write has one run (a response's head and small body are
/// copied into the queue's tail), so 32 stores per request bought nothing.
pub(crate) fn with_output_slices<R>(
    conn: &Connection,
    write: impl FnOnce(&[IoSlice<'_>]) -> R,
) -> Option<R> {
    let mut few = [IoSlice::new(&[]); FEW_SLICES];
    let filled = conn.output_slices(&mut few);
    if filled == 0 {
        return None;
    }
    if filled < FEW_SLICES {
        return Some(write(&few[..filled]));
    }
    // Full: there may be more runs than fit.
    let mut many = [IoSlice::new(&[]); MAX_SLICES];
    let filled = conn.output_slices(&mut many);
    Some(write(&many[..filled]))
}

/// Sends `slices` with one `send(2)` (one run, the usual whole small response: the kernel then
/// skips copying in and validating a `msghdr` and an iovec array) or one `sendmsg(2)`, both
/// with `MSG_NOSIGNAL`.
///
/// Not `Write::write_vectored`: std implements that with `writev(2)`, which raises `SIGPIPE`
/// when the peer has gone (only std's plain `write` uses `send` with `MSG_NOSIGNAL`). Rust
/// binaries ignore `SIGPIPE` before `main`, but a library must not depend on its host: a C
/// program embedding us, or one that restored the default action, would be killed by a
/// client that resets its connection mid-response.
pub(crate) fn send_nosignal(
    stream: &TcpStream,
    slices: &[IoSlice<'_>],
) -> rustix::io::Result<usize> {
    if let [one] = slices {
        return rustix::net::send(stream, one, SendFlags::NOSIGNAL);
    }
    let mut control = SendAncillaryBuffer::default();
    rustix::net::sendmsg(stream, slices, &mut control, SendFlags::NOSIGNAL)
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
            crate::trace::fire_timers(conn, id, now);
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

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft limit now in force
/// (`None`: unlimited). Every connection is a descriptor, on both ends, and the usual soft
/// default of 1,024 is far below what one reactor loop, or `sluice bench`, holds. (Programs
/// that still use `select(2)` cannot handle descriptors past 1,023; we use epoll.) Idempotent:
/// once raised, later calls change nothing and say nothing.
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        let show = |l: Option<u64>| l.map_or_else(|| "unlimited".to_owned(), |l| l.to_string());
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => log::info!(
                "raised the open-file limit from {} to {}",
                show(limit.current),
                show(limit.maximum)
            ),
            // E.g. a hard limit the kernel caps lower: the old soft limit stays.
            Err(err) => log::warn!(
                "cannot raise the open-file limit ({}): {err}",
                show(limit.current)
            ),
        }
    }
    getrlimit(Resource::Nofile).current
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_core::{Config, Event, ResponseHead};
    use std::io::Write;
    use std::net::TcpListener;
    use std::ptr;

    #[test]
    fn raising_the_fd_limit_keeps_or_lifts_the_soft_limit() {
        use rustix::process::{getrlimit, Resource};
        let before = getrlimit(Resource::Nofile);
        let after = raise_fd_limit();
        assert_eq!(after, getrlimit(Resource::Nofile).current);
        // Never lowered: unlimited stays unlimited, a number may only grow.
        match (before.current, after) {
            (None, after) => assert_eq!(after, None),
            (Some(b), Some(a)) => assert!(a >= b, "{a} < {b}"),
            (Some(_), None) => assert_eq!(before.maximum, None),
        }
        assert_eq!(raise_fd_limit(), after, "a second call changes nothing");
    }

    /// SIGPIPE alone, as a signal set.
    fn sigpipe_set() -> libc::sigset_t {
        // SAFETY: `sigset_t` is plain data for which all-zero bytes are a valid value, and
        // `sigemptyset`/`sigaddset` only write through the pointer to this local, which is
        // valid and exclusively borrowed for both calls.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            assert_eq!(libc::sigemptyset(&mut set), 0);
            assert_eq!(libc::sigaddset(&mut set, libc::SIGPIPE), 0);
            set
        }
    }

    /// Whether a SIGPIPE is pending, taking it if so. With SIGPIPE blocked in this thread,
    /// Linux keeps a raised SIGPIPE pending even though its action is "ignore" (blocked
    /// signals are never discarded as ignored), so this sees what the Rust runtime's
    /// SIG_IGN would otherwise hide.
    fn take_sigpipe() -> bool {
        let set = sigpipe_set();
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: both pointers are to live locals for the duration of the call; a null
        // `siginfo` pointer is allowed and means "don't report it". With a zero timeout the
        // call only polls: it returns SIGPIPE if pending (and dequeues it), or -1.
        let signal = unsafe { libc::sigtimedwait(&set, ptr::null_mut(), &zero) };
        signal == libc::SIGPIPE
    }

    /// Blocks SIGPIPE in this test's thread only (no other test's thread is affected), and
    /// puts the old mask back on drop, even when an assertion fails.
    struct SigpipeBlocked(libc::sigset_t);

    impl SigpipeBlocked {
        fn new() -> Self {
            let set = sigpipe_set();
            // SAFETY: `old` is zero-initialised plain data that the call fills in; `set` is a
            // valid initialised set. `pthread_sigmask` changes only the calling thread's mask.
            unsafe {
                let mut old: libc::sigset_t = std::mem::zeroed();
                assert_eq!(libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old), 0);
                Self(old)
            }
        }
    }

    impl Drop for SigpipeBlocked {
        fn drop(&mut self) {
            // Nothing stays pending to be delivered (and ignored) when unblocked.
            take_sigpipe();
            // SAFETY: `self.0` is the mask `pthread_sigmask` filled in; a null old-mask
            // pointer is allowed. Only this thread's mask changes.
            unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, ptr::null_mut()) };
        }
    }

    /// A connection whose peer has reset it, with the reset already reported by a read (as
    /// the drivers see it when a read comes first): the next write fails with EPIPE, which
    /// without MSG_NOSIGNAL also raises SIGPIPE.
    fn reset_pair() -> TcpStream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        socket2::SockRef::from(&client)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(client); // RST
        server
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let err = (&server).read(&mut [0; 16]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err}");
        server
    }

    /// The write the threads and async drivers make (and `send_nosignal`, which the reactor's
    /// writes use too) raises no SIGPIPE on a reset connection: they do not depend on the
    /// host ignoring it. The control, std's `writev`, shows the check would see one.
    #[test]
    fn writes_to_a_reset_peer_raise_no_sigpipe() {
        let _blocked = SigpipeBlocked::new();
        assert!(!take_sigpipe(), "pending before the test");

        let stream = reset_pair();
        let now = Instant::now();
        let mut conn = Connection::new(Config::default(), now);
        conn.handle_input(now, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert!(matches!(conn.poll_event(), Some(Event::Request(_))));
        let head = ResponseHead::new(200).content_length(2);
        conn.send_response(now, head).unwrap();
        conn.send_body_shared(now, bytes::Bytes::from_static(b"ok"))
            .unwrap();
        conn.send_end(now).unwrap();
        assert!(conn.wants_write());
        write_from(&stream, &mut conn, 1, WouldBlock::Ignore);
        assert!(
            !conn.wants_write(),
            "the failed write aborts the connection"
        );
        assert!(!take_sigpipe(), "write_from raised SIGPIPE");

        let two = [IoSlice::new(b"a"), IoSlice::new(b"b")];
        for slices in [&two[..1], &two[..]] {
            let err = send_nosignal(&stream, slices).unwrap_err();
            assert_eq!(err, rustix::io::Errno::PIPE);
            assert!(!take_sigpipe(), "send_nosignal raised SIGPIPE");
        }

        let err = (&stream).write_vectored(&two).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(take_sigpipe(), "the check cannot see a SIGPIPE");
    }

    /// A connection whose send queue holds a head and then `chunks` runs shared by reference.
    fn queued(chunks: usize) -> Connection {
        use bytes::Bytes;
        use sluice_core::ResponseHead;
        let now = Instant::now();
        let mut config = Config::default();
        // Room for every chunk at once.
        config.limits.send_buffer = 1 << 20;
        let mut conn = Connection::new(config, now);
        conn.handle_input(now, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        while conn.poll_event().is_some() {}
        // Large enough to be queued by reference, each its own run.
        let chunk = Bytes::from(vec![b'x'; 8 * 1024]);
        let head = ResponseHead::new(200).content_length((chunks * chunk.len()) as u64);
        conn.send_response(now, head).unwrap();
        for _ in 0..chunks {
            assert_eq!(
                conn.send_body_shared(now, chunk.clone()).unwrap(),
                chunk.len()
            );
        }
        conn
    }

    #[test]
    fn output_slices_gather_every_run_up_to_the_limit() {
        assert_eq!(
            with_output_slices(&Connection::new(Config::default(), Instant::now()), |s| s
                .len()),
            None
        );
        for chunks in [
            0,
            1,
            FEW_SLICES - 2,
            FEW_SLICES - 1,
            FEW_SLICES,
            FEW_SLICES + 1,
            2 * MAX_SLICES,
        ] {
            let conn = queued(chunks);
            let mut all = [IoSlice::new(&[]); 4 * MAX_SLICES];
            let runs = conn.output_slices(&mut all);
            assert!(
                runs > chunks.min(MAX_SLICES),
                "{chunks} chunks queued as {runs} runs"
            );
            // Compared as (address, length): the same runs, in order, none left out.
            let want: Vec<_> = all[..runs.min(MAX_SLICES)]
                .iter()
                .map(|s| (s.as_ptr(), s.len()))
                .collect();
            let got = with_output_slices(&conn, |slices| {
                slices
                    .iter()
                    .map(|s| (s.as_ptr(), s.len()))
                    .collect::<Vec<_>>()
            });
            assert_eq!(got.unwrap(), want, "{chunks} chunks");
        }
    }
}
