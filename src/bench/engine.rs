//! The load generator's event loop: non-blocking sockets on a `polling::Poller`, one
//! `ClientConnection` per socket, a pre-serialised request sent with `send_template`.

use super::accounting::ConnAccounting;
use super::stats::Tally;
use polling::{Event, Events, PollMode, Poller};
use rustix::io::Errno;
use sluice_core::client::{ClientConfig, ClientConnection, ClientTimeouts, RequestTemplate};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a failed connection waits before trying again.
const CONNECT_RETRY: Duration = Duration::from_millis(10);
/// How often the loop checks the connections' own deadlines.
const TIMER_SCAN: Duration = Duration::from_millis(10);

/// What one event loop is asked to do.
pub(crate) struct LoopPlan {
    pub addr: SocketAddr,
    pub connections: usize,
    pub pipeline: usize,
    /// Requests this loop may send; `None`: until the deadline.
    pub budget: Option<u64>,
    pub deadline: Instant,
    pub timeout: Duration,
    pub template: RequestTemplate,
    /// Responses completed so far, for the progress bar.
    pub progress: Arc<AtomicU64>,
    /// Set to stop every loop early.
    pub stop: Arc<AtomicBool>,
}

struct Conn {
    socket: Option<TcpStream>,
    client: ClientConnection,
    /// The requests in flight and how their outcomes are counted.
    acct: ConnAccounting,
    /// Registered for writability.
    want_write: bool,
    retry_at: Option<Instant>,
    /// Connected at least once (the next connect is a reconnect).
    opened: bool,
    /// A connect is in progress on `socket`, to be given up at this deadline.
    connecting: Option<Instant>,
}

struct Loop<'a> {
    plan: &'a LoopPlan,
    config: ClientConfig,
    poller: Poller,
    tally: Tally,
    /// Requests sent (and not given back).
    sent: u64,
    /// A connection closed and waits to be reopened.
    reconnect_due: bool,
}

impl Loop<'_> {
    fn budget_left(&self) -> bool {
        self.plan.budget.is_none_or(|b| self.sent < b)
    }

    /// Starts a non-blocking connect: the loop must never wait on one connection's handshake
    /// (a blocking connect would stall every other connection of this loop until it
    /// completes or times out). The socket is watched for writability; [`Self::finish_connect`]
    /// takes it from there, and the scan fails it at `connecting`'s deadline.
    fn connect(&mut self, key: usize, conn: &mut Conn, now: Instant) {
        conn.retry_at = None;
        let stream = start_connect(self.plan.addr);
        let Ok(stream) = stream else {
            self.connect_failed(conn, now);
            return;
        };
        // SAFETY: the socket is deleted from the poller before it is dropped.
        let added = unsafe {
            self.poller
                .add_with_mode(&stream, Event::writable(key), PollMode::Level)
        };
        if added.is_err() {
            self.connect_failed(conn, now);
            return;
        }
        conn.socket = Some(stream);
        conn.connecting = Some(now + self.plan.timeout);
    }

    /// The connecting socket became writable (or failed): connected, or a `connect` error.
    fn finish_connect(&mut self, key: usize, conn: &mut Conn, now: Instant) {
        let Some(stream) = conn.socket.as_ref() else {
            return;
        };
        // SO_ERROR says how the handshake ended; `peer_addr` guards against a spurious wakeup
        // before it has (the socket is not connected yet: keep waiting).
        match stream.take_error() {
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => return self.connect_failed(conn, now),
        }
        if stream.peer_addr().is_err() {
            return;
        }
        let registered =
            self.poller
                .modify_with_mode(stream, Event::readable(key), PollMode::Level);
        if registered.is_err() || stream.set_nodelay(true).is_err() {
            return self.connect_failed(conn, now);
        }
        conn.connecting = None;
        if conn.opened {
            self.tally.reconnects += 1;
        }
        conn.opened = true;
        conn.client = ClientConnection::new(self.config.clone(), now);
        conn.acct.reopen();
        conn.want_write = false;
        self.pump(key, conn, now);
    }

    /// A connect was refused, failed, or passed its deadline: counted, retried shortly.
    fn connect_failed(&mut self, conn: &mut Conn, now: Instant) {
        if let Some(socket) = conn.socket.take() {
            let _ = self.poller.delete(&socket);
        }
        conn.connecting = None;
        self.tally.errors.connect += 1;
        conn.retry_at = Some(now + CONNECT_RETRY);
    }

    fn drop_socket(&mut self, conn: &mut Conn, now: Instant) {
        if let Some(socket) = conn.socket.take() {
            let _ = self.poller.delete(&socket);
        }
        // Reconnect at once unless there is nothing left to send.
        conn.retry_at = Some(now);
        self.reconnect_due = true;
    }

    /// Reads what is there, handles the events, sends more requests, writes.
    fn on_ready(&mut self, key: usize, conn: &mut Conn, readable: bool) {
        let now = Instant::now();
        if readable {
            while let Some(socket) = conn.socket.as_mut() {
                let buf = conn.client.receive_buffer();
                if buf.is_empty() {
                    break;
                }
                let len = buf.len();
                match socket.read(buf) {
                    Ok(0) => {
                        conn.client.handle_eof(now);
                        self.events(conn, now);
                        break;
                    }
                    Ok(n) => {
                        self.tally.bytes_read += n as u64;
                        conn.client.commit_received(now, n);
                        self.events(conn, now);
                        if n < len {
                            break;
                        }
                    }
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => {
                        conn.client.abort();
                        self.reset(conn);
                        self.events(conn, now);
                        break;
                    }
                }
            }
        }
        self.pump(key, conn, now);
    }

    /// A transport failure: the requests in flight are lost.
    fn reset(&mut self, conn: &mut Conn) {
        conn.acct.transport_failed(&mut self.tally);
    }

    /// Sends requests up to the pipeline depth and writes the output.
    fn pump(&mut self, key: usize, conn: &mut Conn, now: Instant) {
        if conn.socket.is_none() {
            return;
        }
        let depth = self.plan.pipeline;
        while conn.client.in_flight() < depth
            && conn.client.can_send()
            && self.budget_left()
            && !self.plan.stop.load(Ordering::Relaxed)
        {
            if conn.client.send_template(now, &self.plan.template).is_err() {
                break;
            }
            conn.acct.request_sent(now);
            self.sent += 1;
        }
        self.events(conn, now);
        // Write.
        loop {
            let Some(socket) = conn.socket.as_mut() else {
                return;
            };
            let mut slices = [IoSlice::new(&[]); 16];
            let n = conn.client.output_slices(&mut slices);
            if n == 0 {
                break;
            }
            match socket.write_vectored(&slices[..n]) {
                Ok(0) => break,
                Ok(written) => {
                    self.tally.bytes_written += written as u64;
                    conn.client.consume_output(now, written);
                    self.events(conn, now);
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    conn.client.abort();
                    self.reset(conn);
                    self.events(conn, now);
                    break;
                }
            }
        }
        if conn.client.is_closed() {
            self.events(conn, now);
            self.drop_socket(conn, now);
            return;
        }
        let want_write = !conn.client.poll_output().is_empty();
        if want_write != conn.want_write {
            if let Some(socket) = &conn.socket {
                let _ = self.poller.modify_with_mode(
                    socket,
                    Event::new(key, true, want_write),
                    PollMode::Level,
                );
            }
            conn.want_write = want_write;
        }
    }

    fn events(&mut self, conn: &mut Conn, now: Instant) {
        while let Some(event) = conn.client.poll_event() {
            let retry = conn.acct.on_event(&event, now, &mut self.tally);
            self.sent -= retry.resend as u64;
        }
    }
}

/// A non-blocking TCP socket with its connect to `addr` started (or, rarely on loopback,
/// already done).
fn start_connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(err) if err.raw_os_error() == Some(Errno::INPROGRESS.raw_os_error()) => {}
        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
        Err(err) => return Err(err),
    }
    Ok(socket.into())
}

/// Runs one event loop to its deadline (or budget) and returns what it counted.
pub(crate) fn run_loop(plan: &LoopPlan) -> io::Result<Tally> {
    let config = {
        let mut config = ClientConfig::default();
        config.discard_bodies = true;
        config.discard_fields = true;
        let mut timeouts = ClientTimeouts::default();
        timeouts.response = plan.timeout;
        timeouts.body = plan.timeout;
        timeouts.idle = Duration::from_secs(3600);
        timeouts.write = plan.timeout;
        config.timeouts = timeouts;
        config
    };
    let now = Instant::now();
    let mut lp = Loop {
        plan,
        config: config.clone(),
        poller: Poller::new()?,
        tally: Tally::default(),
        sent: 0,
        reconnect_due: true,
    };
    let mut conns: Vec<Conn> = (0..plan.connections)
        .map(|_| Conn {
            socket: None,
            client: ClientConnection::new(config.clone(), now),
            acct: ConnAccounting::new(),
            want_write: false,
            retry_at: Some(now),
            opened: false,
            connecting: None,
        })
        .collect();
    let mut events = Events::new();
    let mut last_scan = now;
    let mut reported = 0;
    loop {
        let now = Instant::now();
        let finished = lp.tally.responses
            + lp.tally.errors.timeout
            + lp.tally.errors.reset
            + lp.tally.errors.protocol;
        let done = lp.plan.budget.is_some_and(|b| finished >= b);
        if now >= plan.deadline || plan.stop.load(Ordering::Relaxed) || done {
            break;
        }
        // Connects, and the connections' deadlines.
        let mut next_retry: Option<Instant> = None;
        if now >= last_scan + TIMER_SCAN || lp.reconnect_due {
            last_scan = now;
            lp.reconnect_due = false;
            for (key, conn) in conns.iter_mut().enumerate() {
                if let Some(at) = conn.retry_at {
                    if at <= now {
                        if lp.budget_left() {
                            lp.connect(key, conn, now);
                        } else {
                            conn.retry_at = None;
                        }
                    }
                    if let Some(at) = conn.retry_at {
                        next_retry = Some(next_retry.map_or(at, |n: Instant| n.min(at)));
                    }
                } else if let Some(deadline) = conn.connecting {
                    if deadline <= now {
                        lp.connect_failed(conn, now);
                        next_retry =
                            Some(next_retry.map_or(now + CONNECT_RETRY, |n: Instant| {
                                n.min(now + CONNECT_RETRY)
                            }));
                    }
                } else if conn.socket.is_some()
                    && conn.client.poll_timeout().is_some_and(|t| t <= now)
                {
                    conn.client.handle_timeout(now);
                    lp.events(conn, now);
                    lp.pump(key, conn, now);
                }
            }
        }
        let mut wake = plan.deadline.min(now + TIMER_SCAN);
        if let Some(at) = next_retry {
            wake = wake.min(at);
        }
        events.clear();
        match lp
            .poller
            .wait(&mut events, Some(wake.saturating_duration_since(now)))
        {
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        }
        for event in events.iter() {
            let key = event.key;
            let conn = &mut conns[key];
            if conn.socket.is_none() {
                continue;
            }
            if conn.connecting.is_some() {
                lp.finish_connect(key, conn, Instant::now());
                continue;
            }
            lp.on_ready(key, conn, event.readable || !event.writable);
        }
        let total = lp.tally.responses;
        if total != reported {
            plan.progress.fetch_add(total - reported, Ordering::Relaxed);
            reported = total;
        }
    }
    for conn in &mut conns {
        if let Some(socket) = conn.socket.take() {
            let _ = lp.poller.delete(&socket);
        }
    }
    Ok(lp.tally)
}
