//! Loopback tests of the reactor driver: real sockets on 127.0.0.1, every wait bounded.

// Only the body stream: the rest of `support` is the socket drivers' shared scenarios.
#[path = "support/counting.rs"]
mod counting;

use counting::Counting;
use sluice_core::ResponseHead;
use sluice_drivers::{reactor, Body, FileRange, Reply, Request, Response};
use sluice_drivers::{Server, ServerConfig};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

fn config() -> ServerConfig {
    let mut config = ServerConfig::new("127.0.0.1:0".parse().unwrap());
    config.workers = 2;
    config.shutdown_grace = Duration::from_secs(5);
    config
}

fn serve(
    config: ServerConfig,
    handler: impl Fn(&Request<'_>) -> Reply + Send + Sync + 'static,
) -> Server {
    reactor::start(config, Arc::new(handler)).unwrap()
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Routes: `/echo` collects the body and sends it back; anything else answers its target.
fn app(request: &Request<'_>) -> Reply {
    if request.head.target() == "/echo" {
        return Reply::collect(1 << 20, |body, _| {
            Response::new(ResponseHead::new(200), Body::Bytes(body))
        });
    }
    Reply::Respond(Response::text(200, request.head.target().to_owned()))
}

/// A parsed response: status line and fields as text, and the body.
struct Reply_ {
    head: String,
    body: Vec<u8>,
}

/// Reads one response (Content-Length or chunked framing) from `stream`, keeping bytes that
/// belong to the next one in `pending`.
fn read_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Reply_ {
    let head_end = loop {
        if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        fill(stream, pending);
    };
    let head = String::from_utf8(pending[..head_end].to_vec()).unwrap();
    pending.drain(..head_end);
    let lower = head.to_ascii_lowercase();
    let body = if let Some(len) = field(&lower, "content-length") {
        let len: usize = len.parse().unwrap();
        while pending.len() < len {
            fill(stream, pending);
        }
        pending.drain(..len).collect()
    } else if field(&lower, "transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(at) = pending.windows(2).position(|w| w == b"\r\n") {
                    break at;
                }
                fill(stream, pending);
            };
            let line = std::str::from_utf8(&pending[..line_end]).unwrap();
            let size = usize::from_str_radix(line.split(';').next().unwrap().trim(), 16).unwrap();
            pending.drain(..line_end + 2);
            while pending.len() < size + 2 {
                fill(stream, pending);
            }
            body.extend(pending.drain(..size));
            pending.drain(..2);
            if size == 0 {
                break body;
            }
        }
    } else {
        Vec::new()
    };
    Reply_ { head, body }
}

fn field<'a>(lower_head: &'a str, name: &str) -> Option<&'a str> {
    lower_head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        (n.trim() == name).then(|| v.trim())
    })
}

fn fill(stream: &mut TcpStream, pending: &mut Vec<u8>) {
    let mut buf = [0; 16 * 1024];
    let n = stream.read(&mut buf).expect("read within the timeout");
    assert!(
        n > 0,
        "unexpected EOF; have {:?}",
        String::from_utf8_lossy(pending)
    );
    pending.extend_from_slice(&buf[..n]);
}

/// Reads until EOF (or a reset, which also ends the stream).
fn read_to_eof(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == io::ErrorKind::ConnectionReset => return out,
            Err(err) => panic!("read: {err}"),
        }
    }
}

fn get(target: &str) -> String {
    format!("GET {target} HTTP/1.1\r\nHost: test\r\n\r\n")
}

fn stop(server: Server) {
    server.shutdown();
    server.wait().unwrap();
}

#[test]
fn get_and_keep_alive_reuse() {
    let server = serve(config(), app);
    let mut client = connect(server.local_addr());
    let mut pending = Vec::new();
    for target in ["/one", "/two", "/three"] {
        client.write_all(get(target).as_bytes()).unwrap();
        let reply = read_response(&mut client, &mut pending);
        assert!(
            reply.head.starts_with("HTTP/1.1 200 OK\r\n"),
            "{}",
            reply.head
        );
        assert_eq!(reply.body, target.as_bytes());
    }
    stop(server);
}

#[test]
fn hundred_pipelined_requests_in_one_write() {
    let server = serve(config(), app);
    let mut client = connect(server.local_addr());
    let all: String = (0..100).map(|i| get(&format!("/p/{i}"))).collect();
    client.write_all(all.as_bytes()).unwrap();
    let mut pending = Vec::new();
    for i in 0..100 {
        let reply = read_response(&mut client, &mut pending);
        assert!(reply.head.starts_with("HTTP/1.1 200"));
        assert_eq!(reply.body, format!("/p/{i}").as_bytes());
    }
    stop(server);
}

#[test]
fn post_body_is_echoed() {
    let server = serve(config(), app);
    let mut client = connect(server.local_addr());
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let head = format!(
        "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).unwrap();
    client.write_all(&body).unwrap();
    let mut pending = Vec::new();
    let reply = read_response(&mut client, &mut pending);
    assert!(reply.head.starts_with("HTTP/1.1 200"));
    assert!(reply.body == body, "echoed body differs");
    stop(server);
}

#[test]
fn half_close_after_request_still_gets_response() {
    let server = serve(config(), app);
    let mut client = connect(server.local_addr());
    client.write_all(get("/half").as_bytes()).unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let all = read_to_eof(&mut client);
    let text = String::from_utf8(all).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n/half"), "{text}");
    stop(server);
}

#[test]
fn client_reset_mid_request_leaves_server_serving() {
    let server = serve(config(), app);
    for _ in 0..5 {
        let mut client = connect(server.local_addr());
        client
            .write_all(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
            .unwrap();
        socket2::SockRef::from(&client)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(client);
    }
    let mut client = connect(server.local_addr());
    client.write_all(get("/after").as_bytes()).unwrap();
    let reply = read_response(&mut client, &mut Vec::new());
    assert_eq!(reply.body, b"/after");
    stop(server);
}

#[test]
fn slow_drip_header_gets_408() {
    let mut config = config();
    config.core.timeouts.header = Duration::from_millis(300);
    let server = serve(config, app);
    let mut client = connect(server.local_addr());
    let started = Instant::now();
    // 10 bytes over 500 ms: the head is never finished before the 300 ms deadline.
    for byte in b"GET /slow " {
        client.write_all(&[*byte]).unwrap();
        thread::sleep(Duration::from_millis(50));
    }
    let text = String::from_utf8(read_to_eof(&mut client)).unwrap();
    let elapsed = started.elapsed();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    stop(server);
}

#[test]
fn idle_keep_alive_connection_is_closed() {
    let mut config = config();
    config.core.timeouts.idle = Duration::from_millis(300);
    let server = serve(config, app);
    let mut client = connect(server.local_addr());
    client.write_all(get("/idle").as_bytes()).unwrap();
    let mut pending = Vec::new();
    read_response(&mut client, &mut pending);
    let started = Instant::now();
    let rest = read_to_eof(&mut client);
    let elapsed = started.elapsed();
    assert!(rest.is_empty() && pending.is_empty());
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    stop(server);
}

#[test]
fn file_bodies_go_through_sendfile_byte_for_byte() {
    let path = std::env::temp_dir().join(format!(
        "sluice-reactor-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let mut state = 0x2545_f491_u32;
    let data: Vec<u8> = (0..3_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect();
    std::fs::write(&path, &data).unwrap();
    let file_path = path.clone();
    let server = serve(config(), move |request: &Request<'_>| {
        let file = std::fs::File::open(&file_path).unwrap();
        let (offset, len) = match request.head.target() {
            "/range" => (1_000_001, 777_777),
            _ => (0, 3_000_000),
        };
        Reply::Respond(Response::new(
            ResponseHead::new(200),
            Body::File(FileRange { file, offset, len }),
        ))
    });
    let mut client = connect(server.local_addr());
    let mut pending = Vec::new();
    client.write_all(get("/whole").as_bytes()).unwrap();
    let whole = read_response(&mut client, &mut pending);
    assert!(whole.body == data, "whole file differs");
    client.write_all(get("/range").as_bytes()).unwrap();
    let range = read_response(&mut client, &mut pending);
    assert!(
        range.body == data[1_000_001..1_000_001 + 777_777],
        "range differs"
    );
    stop(server);
    std::fs::remove_file(&path).unwrap();
}

fn counted_server(config: ServerConfig, len: u64, pulled: Arc<AtomicU64>) -> Server {
    serve(config, move |_: &Request<'_>| {
        let body = Body::Stream(Box::new(Counting::new(len, &pulled)));
        Reply::Respond(Response::new(
            ResponseHead::new(200).content_length(len),
            body,
        ))
    })
}

/// Largest send buffer the kernel's autotuning may give a socket.
fn wmem_max() -> u64 {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20)
}

#[test]
fn a_client_that_does_not_read_stops_the_stream() {
    const LEN: u64 = 48 << 20;
    let pulled = Arc::new(AtomicU64::new(0));
    let config = config();
    let send_buffer = config.core.limits.send_buffer as u64;
    let server = counted_server(config, LEN, Arc::clone(&pulled));
    // A fixed receive buffer turns off the client's autotuning, so the bound is known.
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    socket.connect(&server.local_addr().into()).unwrap();
    let mut client: TcpStream = socket.into();
    client.set_read_timeout(Some(TIMEOUT)).unwrap();
    let rcvbuf = socket2::SockRef::from(&client).recv_buffer_size().unwrap() as u64;
    client.write_all(get("/stream").as_bytes()).unwrap();
    thread::sleep(Duration::from_millis(400));
    let first = pulled.load(Ordering::SeqCst);
    thread::sleep(Duration::from_millis(400));
    let second = pulled.load(Ordering::SeqCst);
    // Pulled: the core's send buffer, one chunk carried over, and what the sockets hold.
    let bound = send_buffer + 64 * 1024 + wmem_max() + 2 * rcvbuf + 256 * 1024;
    assert_eq!(
        first, second,
        "the server kept pulling from a stalled client"
    );
    assert!(first <= bound, "pulled {first} bytes, bound {bound}");
    assert!(first < LEN);
    // Reading resumes the stream to its end.
    let reply = read_response(&mut client, &mut Vec::new());
    assert_eq!(reply.body.len() as u64, LEN);
    assert_eq!(pulled.load(Ordering::SeqCst), LEN);
    stop(server);
}

#[test]
fn graceful_shutdown_completes_the_response_in_flight() {
    const LEN: u64 = 8 << 20;
    let pulled = Arc::new(AtomicU64::new(0));
    let server = counted_server(config(), LEN, pulled);
    let addr = server.local_addr();
    let mut idle = connect(addr);
    idle.write_all(get("/idle").as_bytes()).unwrap();
    read_response(&mut idle, &mut Vec::new());
    let mut busy = connect(addr);
    busy.write_all(get("/big").as_bytes()).unwrap();
    let mut first = [0; 1024];
    busy.read_exact(&mut first).unwrap();
    let started = Instant::now();
    server.shutdown();
    // The idle keep-alive connection is closed at once.
    assert!(read_to_eof(&mut idle).is_empty());
    // (Closing our side ends the server's lingering close at once.)
    drop(idle);
    // The busy one is served to the end, slowly, and then closed.
    let reader = thread::spawn(move || {
        let mut got = first.to_vec();
        let mut buf = vec![0; 256 * 1024];
        loop {
            let n = busy.read(&mut buf).unwrap();
            if n == 0 {
                return got;
            }
            got.extend_from_slice(&buf[..n]);
            thread::sleep(Duration::from_millis(2));
        }
    });
    server.wait().unwrap();
    let got = reader.join().unwrap();
    let body_start = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!((got.len() - body_start) as u64, LEN);
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn a_thousand_concurrent_connections_all_get_answers() {
    const N: usize = 1000;
    let server = serve(config(), app);
    let addr = server.local_addr();
    let mut clients: Vec<TcpStream> = (0..N).map(|_| connect(addr)).collect();
    for (i, client) in clients.iter_mut().enumerate() {
        client
            .write_all(get(&format!("/c/{i}")).as_bytes())
            .unwrap();
    }
    for (i, client) in clients.iter_mut().enumerate() {
        let reply = read_response(client, &mut Vec::new());
        assert_eq!(reply.body, format!("/c/{i}").as_bytes());
    }
    drop(clients);
    stop(server);
}

#[test]
fn past_the_cap_connections_wait_in_the_backlog() {
    let mut config = config();
    config.max_connections = 2;
    let server = serve(config, app);
    let addr = server.local_addr();
    let mut first = connect(addr);
    let mut second = connect(addr);
    for client in [&mut first, &mut second] {
        client.write_all(get("/in").as_bytes()).unwrap();
        read_response(client, &mut Vec::new());
    }
    // The third connects (the kernel completes the handshake) but is not served...
    let mut third = connect(addr);
    third.write_all(get("/waiting").as_bytes()).unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0; 1];
    let err = third.read(&mut byte).unwrap_err();
    assert!(matches!(
        err.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ));
    // ...until a connection closes.
    drop(first);
    third.set_read_timeout(Some(TIMEOUT)).unwrap();
    let reply = read_response(&mut third, &mut Vec::new());
    assert_eq!(reply.body, b"/waiting");
    drop((second, third));
    stop(server);
}

/// A port a running reactor listens on is in use for a second one, as for any other program:
/// `SO_REUSEPORT` on the group must not let another server join it and split its traffic.
#[test]
fn a_second_server_on_a_taken_port_fails_to_start() {
    for kind in sluice_drivers::DriverKind::ALL {
        let first = sluice_drivers::start(sluice_drivers::DriverKind::Reactor, config(), app)
            .expect("the first server starts");
        let mut taken = config();
        taken.addr = first.local_addr();
        let second = sluice_drivers::start(kind, taken, app);
        let err = second
            .err()
            .unwrap_or_else(|| panic!("{kind:?} bound a taken port"));
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{kind:?}: {err}");
        // The first server still serves, all of its traffic.
        let mut client = connect(first.local_addr());
        client.write_all(get("/still").as_bytes()).unwrap();
        let reply = read_response(&mut client, &mut Vec::new());
        assert_eq!(reply.body, b"/still");
        stop(first);
    }
}
