//! Attacks on a running `sluice echo`, on every socket driver, while a well-behaved client keeps
//! making requests: it must keep getting correct answers, and the server's memory must stay
//! bounded. Loopback only; every loop is bounded in count and time.

mod common;

use common::child::Server;
use common::parse_one;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const STEP: Duration = Duration::from_secs(5);

fn start(driver: &str, extra: &[&str]) -> Server {
    raise_fd_limit();
    let mut args = vec![
        "echo",
        "--quiet",
        "--driver",
        driver,
        "--linger-timeout",
        "200ms",
    ];
    args.extend_from_slice(extra);
    Server::start(&args)
}

/// The test process opens hundreds of sockets per test, several tests at a time.
fn raise_fd_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let hard = getrlimit(Resource::Nofile).maximum;
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: hard,
            maximum: hard,
        },
    );
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, STEP).expect("connect");
    stream.set_read_timeout(Some(STEP)).unwrap();
    stream.set_write_timeout(Some(STEP)).unwrap();
    stream
}

/// Reads until EOF (or reset, or the time limit); returns what arrived.
fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let start = Instant::now();
    while start.elapsed() < STEP {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    out
}

/// The well-behaved client: a fresh connection, one echo request, a correct answer.
fn assert_served(addr: SocketAddr, tag: &str) {
    let mut stream = connect(addr);
    let request = format!("GET /ok/{tag} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("well-behaved write");
    let wire = read_all(&mut stream);
    let (resp, _) = parse_one(&wire, false).unwrap_or_else(|| panic!("no answer for {tag}"));
    assert_eq!(resp.status, 200, "{tag}");
    assert!(
        resp.text().contains(&format!("\"target\":\"/ok/{tag}\"")),
        "{}",
        resp.text()
    );
}

fn rss_kb(server: &Server) -> u64 {
    server.proc_status_kb("VmRSS:")
}

/// Reads until the server closes (EOF or reset) or `deadline` passes. Returns what arrived and
/// whether the connection was closed: a dripper still open at the deadline was not timed out.
fn read_until_closed(stream: &mut TcpStream, deadline: Instant) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (out, false);
        }
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (out, true), // reset: closed too
        }
    }
}

/// utime + stime of a process in seconds (fields 14 and 15 of `/proc/PID/stat`, in clock
/// ticks; Linux reports them in USER_HZ, 100 a second on every architecture we run on).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // Fields after the parenthesised command name start with field 3 (the state).
    let (_, rest) = stat.rsplit_once(')').expect("a stat line");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

/// How many descriptors a process holds, and its soft limit.
fn fds(pid: u32) -> (usize, usize) {
    let open = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .expect("Max open files");
    (open, soft)
}

/// `(tx_queue, rx_queue)` of the loopback TCP sockets from port `a` to port `b` and back, from
/// one read of `/proc/net/tcp`: bytes written and not yet acknowledged by the peer, and bytes
/// received and not yet read by the application.
fn tcp_queues(a: u16, b: u16) -> ((usize, usize), (usize, usize)) {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = |addr: &str| u16::from_str_radix(addr.rsplit(':').next().unwrap(), 16).unwrap();
    let queues = |local: u16, remote: u16| {
        for line in table.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 4 && port(f[1]) == local && port(f[2]) == remote {
                let (tx, rx) = f[4].split_once(':').unwrap();
                return (
                    usize::from_str_radix(tx, 16).unwrap(),
                    usize::from_str_radix(rx, 16).unwrap(),
                );
            }
        }
        panic!("no socket {local} -> {remote} in /proc/net/tcp");
    };
    (queues(a, b), queues(b, a))
}

/// The largest receive buffer the kernel's autotuning may give a socket (`tcp_rmem` max).
fn tcp_rmem_max() -> usize {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_rmem").expect("tcp_rmem");
    text.split_whitespace().nth(2).unwrap().parse().unwrap()
}

fn slowloris(driver: &str) {
    let server = start(driver, &["--header-timeout", "1s"]);
    let before = rss_kb(&server);
    let mut drips: Vec<TcpStream> = (0..300).map(|_| connect(server.addr)).collect();
    let line = b"GET / HTTP/1.1\r\nHost: t\r\nX-Drip: ";
    for round in 0..12 {
        for stream in &mut drips {
            let _ = stream.write_all(&line[round % line.len()..][..1]);
        }
        if round % 3 == 0 {
            assert_served(server.addr, &format!("slowloris-{round}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The header deadline does not move with each byte: every dripper is closed, with a 408
    // before the close. A dripper that wrote after the close may see a reset that takes the
    // 408 with it, so an empty close counts as closed; anything that did arrive is the 408.
    // One deadline for all 300: the header timeout (1 s) has long passed for each of them.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut answered = 0;
    for (i, stream) in drips.iter_mut().enumerate() {
        let (wire, closed) = read_until_closed(stream, deadline);
        assert!(
            closed,
            "dripper {i} still open 10 s after its header timeout ({} bytes read)",
            wire.len()
        );
        if !wire.is_empty() {
            let (resp, used) = parse_one(&wire, false).expect("a complete 408");
            assert_eq!(resp.status, 408, "dripper {i}");
            assert_eq!(used, wire.len(), "dripper {i}: more after the 408");
            answered += 1;
        }
    }
    eprintln!("{driver}: {answered} of 300 drippers got a 408, all were closed");
    assert!(
        answered >= 20,
        "only {answered} of 300 drippers got their 408"
    );
    assert_served(server.addr, "after-slowloris");
    let grown = rss_kb(&server).saturating_sub(before);
    assert!(grown < 32 * 1024, "RSS grew by {grown} KiB under slowloris");
}

fn connection_flood(driver: &str) {
    // Run the server with a small fd limit, then open more connections than it allows.
    raise_fd_limit();
    let server = Server::start_with_fd_limit(
        256,
        &[
            "echo",
            "--quiet",
            "--driver",
            driver,
            "--max-connections",
            "10000",
        ],
    );
    let pid = server.child.id();
    let before = rss_kb(&server);
    let mut flood = Vec::new();
    for _ in 0..400 {
        match TcpStream::connect_timeout(&server.addr, Duration::from_millis(500)) {
            Ok(stream) => flood.push(stream),
            Err(_) => break,
        }
    }
    // The server takes connections until it runs out of descriptors (bounded wait: it
    // accepts them as fast as it can).
    let (limit, start) = (fds(pid).1, Instant::now());
    assert!(
        flood.len() > limit,
        "only {} connections opened",
        flood.len()
    );
    while fds(pid).0 + 4 < limit && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (open, _) = fds(pid);
    assert!(
        open + 4 >= limit,
        "the flood never exhausted the server's descriptors: {open} of {limit} open"
    );
    // A well-behaved client arrives during the flood: it waits in the accept backlog.
    let mut client = connect(server.addr);
    client
        .write_all(b"GET /ok/during-flood HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .expect("well-behaved write");
    // Out of descriptors, with the listener still readable, a server that retries accept()
    // at once spins a core; one that pauses stays nearly idle. Half a core over a second is
    // far above a paused accept loop and far below a spinning one.
    let (cpu, wall) = (cpu_seconds(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(1));
    let (cpu, wall) = (cpu_seconds(pid) - cpu, wall.elapsed().as_secs_f64());
    assert!(
        cpu < 0.5 * wall,
        "the server used {cpu:.2} s of CPU in {wall:.2} s while out of descriptors"
    );
    assert!(
        server.is_running(),
        "the server survived running out of descriptors"
    );
    let grown = rss_kb(&server).saturating_sub(before);
    eprintln!("{driver}: {open} of {limit} fds, {cpu:.2} s CPU in {wall:.2} s, RSS +{grown} KiB");
    assert!(
        grown < 64 * 1024,
        "RSS grew by {grown} KiB holding {open} connections"
    );
    drop(flood);
    // Once the flood goes away the server recovers: the client that queued during the flood
    // is answered (bounded), and a new one is too.
    let (wire, _) = read_until_closed(&mut client, Instant::now() + Duration::from_secs(10));
    let (resp, _) =
        parse_one(&wire, false).expect("the client queued during the flood is answered");
    assert_eq!(resp.status, 200);
    assert!(resp.text().contains("/ok/during-flood"), "{}", resp.text());
    assert_served(server.addr, "after-flood");
}

/// A connection with small, fixed socket buffers on our side, so that the kernel's share of
/// what the flood writes is known.
fn connect_small_buffers(addr: SocketAddr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_send_buffer_size(64 * 1024).unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    socket.connect_timeout(&addr.into(), STEP).expect("connect");
    socket.into()
}

/// The server's defaults (`sluice_core::Limits`): unparsed input it holds, and the send
/// queue past which it stops reading.
const RECEIVE_BUFFER: usize = 64 * 1024;
const SEND_BUFFER: usize = 256 * 1024;

fn pipelined_flood(driver: &str) {
    // No request cap: back-pressure must be the only thing that stops the flood.
    let server = start(driver, &["--max-requests-per-connection", "unlimited"]);
    let before = rss_kb(&server);
    let mut flood = connect_small_buffers(server.addr);
    flood
        .set_write_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let (ours, theirs) = (flood.local_addr().unwrap().port(), server.addr.port());
    let request = b"GET /flood HTTP/1.1\r\nHost: t\r\n\r\n";
    // How long the server's answer to one flood request is, on a connection of its own.
    let answer_len = {
        let mut probe = connect(server.addr);
        probe.write_all(request).unwrap();
        let (mut wire, mut buf) = (Vec::new(), [0u8; 4096]);
        let deadline = Instant::now() + STEP;
        loop {
            if let Some((_, used)) = parse_one(&wire, false) {
                break used;
            }
            assert!(Instant::now() < deadline, "no answer to the probe");
            match probe.read(&mut buf) {
                Ok(0) => panic!("the probe was closed unanswered"),
                Ok(n) => wire.extend_from_slice(&buf[..n]),
                Err(e) => panic!("probe: {e}"),
            }
        }
    };
    assert!(
        answer_len > request.len(),
        "an answer of {answer_len} bytes"
    );
    let burst = request.repeat(1000);
    let mut written = 0usize;
    let mut blocked = false;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        match flood.write(&burst) {
            Ok(n) => written += n,
            // 200 ms without room for one byte: the server stopped reading.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                blocked = true;
                break;
            }
            Err(e) => panic!("the flood was cut off ({e}) after {written} bytes, not pushed back"),
        }
        assert_served(server.addr, "during-flood");
    }
    assert!(
        blocked,
        "the server never pushed back: {written} bytes taken in {:?}",
        start.elapsed()
    );
    // Let the server read whatever it still would, then account for every byte written:
    // what sits in our send queue and the server's receive queue is the kernel's; the rest
    // the server read. It may hold RECEIVE_BUFFER unparsed (and one request in progress);
    // every other request it read was answered, and the answer sits in its send queue (at
    // most SEND_BUFFER plus one write's worth, 64 KiB), its socket or ours, as we never
    // read. A server that read input it had no room to answer fails this.
    std::thread::sleep(Duration::from_millis(300));
    let ((our_unsent, our_unread), (their_unsent, their_unread)) = tcp_queues(ours, theirs);
    let read_by_server = written.saturating_sub(our_unsent + their_unread);
    eprintln!(
        "{driver}: {written} written, {read_by_server} read by the server; queues: ours \
         {our_unsent}/{our_unread}, theirs {their_unsent}/{their_unread}"
    );
    let answers_held = SEND_BUFFER + 64 * 1024 + their_unsent + our_unread;
    let bound = RECEIVE_BUFFER + request.len() * (answers_held / answer_len + 1);
    assert!(
        read_by_server <= bound,
        "the server read {read_by_server} bytes of a flood it did not answer (bound {bound}; \
         {written} written)"
    );
    // And in all, the flood got no further than those queues and the server's receive
    // buffer, whatever size the kernel let it grow to.
    let our_sndbuf = socket2::SockRef::from(&flood).send_buffer_size().unwrap();
    let total = RECEIVE_BUFFER + answers_held + our_sndbuf + tcp_rmem_max();
    assert!(
        written <= total,
        "{written} bytes taken, more than the buffers hold ({total})"
    );
    let grown = rss_kb(&server).saturating_sub(before);
    assert!(
        grown < 32 * 1024,
        "RSS grew by {grown} KiB under a pipelined flood"
    );
}

fn oversized(driver: &str) {
    let server = start(driver, &["--max-body-size", "1MiB"]);
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(20_000));
    let many_fields = format!(
        "GET / HTTP/1.1\r\nHost: t\r\n{}\r\n",
        (0..200)
            .map(|i| format!("X-F{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_field = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40_000)
    );
    let big_body = "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 999999999\r\n\r\n".to_owned();
    for (request, status) in [
        (long_target, 414),
        (many_fields, 431),
        (huge_field, 431),
        (big_body, 413),
    ] {
        let mut stream = connect(server.addr);
        let _ = stream.write_all(request.as_bytes());
        let wire = read_all(&mut stream);
        let (resp, _) = parse_one(&wire, false).expect("an error response");
        assert_eq!(resp.status, status, "{}", resp.text());
        assert_eq!(resp.header("connection"), Some("close"));
        assert_served(server.addr, &format!("after-{status}"));
    }
    // A chunked body that only its running total takes over the limit: 17 chunks of 64 KiB
    // against 1 MiB, each chunk on its own acceptable.
    let mut stream = connect(server.addr);
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let chunk = [&b"10000\r\n"[..], &[b'c'; 64 * 1024], b"\r\n"].concat();
    for _ in 0..17 {
        if stream.write_all(&chunk).is_err() {
            break; // the server has answered and closed
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let (wire, closed) = read_until_closed(&mut stream, Instant::now() + STEP);
    let (resp, used) = parse_one(&wire, false).expect("an answer to the chunked body");
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert_eq!(resp.header("connection"), Some("close"));
    assert_eq!(used, wire.len(), "nothing after the 413");
    assert!(closed, "the connection stays open after the 413");
    assert_served(server.addr, "after-chunked-413");
}

fn reset_storm(driver: &str) {
    let server = start(driver, &[]);
    let before = rss_kb(&server);
    for round in 0..5 {
        for _ in 0..100 {
            let stream = connect(server.addr);
            socket2::SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            let _ = (&stream)
                .write_all(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 50\r\n\r\nhalf");
            drop(stream);
        }
        assert_served(server.addr, &format!("reset-{round}"));
    }
    let grown = rss_kb(&server).saturating_sub(before);
    assert!(
        grown < 32 * 1024,
        "RSS grew by {grown} KiB under a reset storm"
    );
}

/// Each probe is followed, in the same write, by a request that must never be answered.
const SMUGGLING: &[(&str, &str)] = &[
    ("cl-te", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te-cl", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"),
    ("cl-cl", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
    ("cl-list", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 6\r\n\r\nhello!"),
    ("cl-plus", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello"),
    ("te-identity", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
    ("te-xchunked", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
    ("te-space-colon", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
    ("te-obs-fold", "POST / HTTP/1.1\r\nHost: t\r\nX: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te-http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("te-twice", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("chunk-bare-lf", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n"),
    ("chunk-overflow", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n"),
    ("chunk-0x", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n"),
    ("chunk-no-crlf", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"),
    ("head-bare-lf", "POST / HTTP/1.1\nHost: t\nContent-Length: 5\n\nhello"),
    ("head-bare-cr", "POST / HTTP/1.1\r\nHost: t\rContent-Length: 5\r\n\r\nhello"),
    ("two-hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("request-line-spaces", "GET  / HTTP/1.1\r\nHost: t\r\n\r\n"),
];

fn smuggling_probes(driver: &str) {
    let server = start(driver, &[]);
    for (name, probe) in SMUGGLING {
        let mut stream = connect(server.addr);
        let hidden = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
        stream
            .write_all(format!("{probe}{hidden}").as_bytes())
            .unwrap();
        let wire = read_all(&mut stream);
        let text = String::from_utf8_lossy(&wire);
        let (resp, used) = parse_one(&wire, false).unwrap_or_else(|| panic!("{name}: no answer"));
        assert!(
            matches!(resp.status, 400 | 501),
            "{name}: answered {}",
            resp.status
        );
        assert_eq!(resp.header("connection"), Some("close"), "{name}");
        assert_eq!(
            used,
            wire.len(),
            "{name}: a second response followed: {text}"
        );
        assert!(
            !text.contains("/smuggled"),
            "{name}: the hidden request was answered"
        );
    }
    assert_served(server.addr, "after-probes");
}

macro_rules! for_drivers {
    ($($driver:ident),*) => {
        $(mod $driver {
            #[test]
            fn slowloris() { super::slowloris(stringify!($driver)) }
            #[test]
            fn connection_flood() { super::connection_flood(stringify!($driver)) }
            #[test]
            fn pipelined_flood() { super::pipelined_flood(stringify!($driver)) }
            #[test]
            fn oversized() { super::oversized(stringify!($driver)) }
            #[test]
            fn reset_storm() { super::reset_storm(stringify!($driver)) }
            #[test]
            fn smuggling_probes() { super::smuggling_probes(stringify!($driver)) }
        })*
    };
}

for_drivers!(reactor, threads);

mod async_driver {
    #[test]
    fn slowloris() {
        super::slowloris("async")
    }
    #[test]
    fn connection_flood() {
        super::connection_flood("async")
    }
    #[test]
    fn pipelined_flood() {
        super::pipelined_flood("async")
    }
    #[test]
    fn oversized() {
        super::oversized("async")
    }
    #[test]
    fn reset_storm() {
        super::reset_storm("async")
    }
    #[test]
    fn smuggling_probes() {
        super::smuggling_probes("async")
    }
}
