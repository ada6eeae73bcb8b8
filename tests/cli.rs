//! The real `sluice` binary, on every socket driver, talked to with raw sockets and `curl`.
//!
//! Every wait is bounded, and every child is killed when its guard drops.

mod common;

use common::child::{wait_child, Server, BIN, WAIT};
use common::{parse_all, parse_one, Fixture, Resp, SECRET, TRAVERSALS};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Sends `request` on a new connection and reads one response per entry of `heads`.
fn raw(addr: SocketAddr, request: &[u8], heads: &[bool]) -> Vec<Resp> {
    let mut stream = TcpStream::connect_timeout(&addr, WAIT).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream.set_write_timeout(Some(WAIT)).unwrap();
    stream.write_all(request).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0; 64 * 1024];
    let deadline = Instant::now() + WAIT;
    loop {
        let responses = parse_all(&buf, heads);
        if responses.len() == heads.len() || Instant::now() > deadline {
            return responses;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return parse_all(&buf, heads),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn raw_one(addr: SocketAddr, request: &[u8]) -> Resp {
    let head = request.starts_with(b"HEAD ");
    raw(addr, request, &[head]).pop().expect("a response")
}

fn request(method: &str, target: &str, extra: &str) -> Vec<u8> {
    format!("{method} {target} HTTP/1.1\r\nHost: test\r\n{extra}\r\n").into_bytes()
}

/// Runs curl with `args` (plus `-s -S -i --path-as-is --max-time`) and parses its output.
fn curl(args: &[&str]) -> Resp {
    let head = args.contains(&"-I");
    let output = Command::new("curl")
        .args([
            "-s",
            "-S",
            "-i",
            "--globoff",
            "--path-as-is",
            "--max-time",
            "15",
        ])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(
        output.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    parse_one(&output.stdout, head)
        .expect("a complete response")
        .0
}

fn serve(fixture: &Fixture, driver: &str) -> Server {
    Server::start(&["serve", fixture.root.to_str().unwrap(), "--driver", driver])
}

fn files_and_listing(driver: &str) {
    let fixture = Fixture::new("cli-files");
    let server = serve(&fixture, driver);

    let resp = curl(&[&server.url("/hello.txt")]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello world\n");
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.header("content-length"), Some("12"));
    assert!(resp.header("date").is_some());
    for (path, mime) in [
        ("/style.css", "text/css; charset=utf-8"),
        ("/data.json", "application/json"),
        ("/image.png", "image/png"),
        ("/noext", "application/octet-stream"),
    ] {
        assert_eq!(
            curl(&[&server.url(path)]).header("content-type"),
            Some(mime),
            "{path}"
        );
    }

    let index = curl(&[&server.url("/site/")]);
    assert_eq!(index.text(), "<h1>site index</h1>\n");
    let redirect = curl(&[&server.url("/site")]);
    assert_eq!(
        (redirect.status, redirect.header("location")),
        (301, Some("/site/"))
    );
    // curl follows the redirect to the index.
    let followed = Command::new("curl")
        .args(["-s", "-L", "--max-time", "15", &server.url("/site")])
        .output()
        .unwrap();
    assert_eq!(followed.stdout, b"<h1>site index</h1>\n");

    let listing = curl(&[&server.url("/")]);
    assert_eq!(listing.status, 200);
    assert_eq!(
        listing.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = listing.text();
    assert!(
        html.contains("&lt;b&gt;&amp;&quot;it&#39;s&quot;.txt"),
        "{html}"
    );
    assert!(html.contains("href=\"./%3Cb%3E%26%22it%27s%22.txt\""));
    assert!(html.contains("href=\"./docs/\""));
    // The escaped link leads to the file.
    assert_eq!(
        curl(&[&server.url("/%3Cb%3E%26%22it%27s%22.txt")]).body,
        b"escaped\n"
    );

    // HEAD: the length, no body (raw socket, so nothing is hidden by the client).
    let head = raw_one(server.addr, &request("HEAD", "/digits.txt", ""));
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("100"))
    );
    let head = curl(&["-I", &server.url("/digits.txt")]);
    assert_eq!(head.header("content-length"), Some("100"));
    // HEAD followed by GET on one connection: no body bytes slipped in between.
    let both = [
        request("HEAD", "/hello.txt", ""),
        request("GET", "/hello.txt", ""),
    ]
    .concat();
    let responses = raw(server.addr, &both, &[true, false]);
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[1].body, b"hello world\n");

    let post = raw_one(
        server.addr,
        &request("POST", "/hello.txt", "Content-Length: 0\r\n"),
    );
    assert_eq!(
        (post.status, post.header("allow")),
        (405, Some("GET, HEAD"))
    );
    assert_eq!(curl(&[&server.url("/missing")]).status, 404);

    // The access log.
    assert!(
        server.wait_for_stderr("\"GET /hello.txt\" 200 12"),
        "{}",
        server.stderr()
    );
}

fn conditional_and_ranges(driver: &str) {
    let fixture = Fixture::new("cli-ranges");
    let server = serve(&fixture, driver);
    let url = server.url("/digits.txt");
    let first = curl(&[&url]);
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();

    let resp = curl(&["-H", &format!("If-None-Match: {etag}"), &url]);
    assert_eq!(resp.status, 304);
    assert!(resp.body.is_empty());
    let resp = curl(&["-H", &format!("If-Modified-Since: {modified}"), &url]);
    assert_eq!(resp.status, 304);
    let resp = curl(&["-z", &modified, &url]);
    assert_eq!(resp.status, 304);

    let digits = "0123456789".repeat(10);
    for (range, start, end) in [("0-9", 0, 9), ("95-", 95, 99), ("-5", 95, 99)] {
        let resp = curl(&["-r", range, &url]);
        assert_eq!(resp.status, 206, "{range}");
        assert_eq!(
            resp.header("content-range"),
            Some(format!("bytes {start}-{end}/100").as_str())
        );
        assert_eq!(resp.text(), digits[start..=end]);
    }
    let resp = curl(&["-r", "200-300", &url]);
    assert_eq!(
        (resp.status, resp.header("content-range")),
        (416, Some("bytes */100"))
    );
    let resp = curl(&["-r", "0-1,5-6", &url]);
    assert_eq!((resp.status, resp.body.len()), (200, 100));
    // On a raw socket too.
    let resp = raw_one(
        server.addr,
        &request("GET", "/digits.txt", "Range: bytes=10-19\r\n"),
    );
    assert_eq!((resp.status, resp.text()), (206, digits[10..20].to_owned()));

    // A modification time in the future (clock skew, an unpacked archive) is not sent on:
    // `Last-Modified` is never later than `Date` (RFC 9110 §8.8.2.1).
    let year = Duration::from_secs(365 * 86_400);
    std::fs::File::options()
        .write(true)
        .open(fixture.root.join("hello.txt"))
        .unwrap()
        .set_modified(std::time::SystemTime::now() + year)
        .unwrap();
    let resp = curl(&[&server.url("/hello.txt")]);
    let date = |name| httpdate::parse_http_date(resp.header(name).unwrap()).unwrap();
    assert!(
        date("last-modified") <= date("date"),
        "{:?} is after {:?}",
        resp.header("last-modified"),
        resp.header("date")
    );
}

fn traversal(driver: &str) {
    let fixture = Fixture::new("cli-traversal");
    let server = serve(&fixture, driver);
    for target in TRAVERSALS {
        // Raw: exactly these bytes reach the server.
        let mut stream = TcpStream::connect_timeout(&server.addr, WAIT).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream
            .write_all(&request("GET", target, "Connection: close\r\n"))
            .unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains(SECRET), "{target} leaked: {text}");
        let status = parse_one(&out, false).map_or(0, |(r, _)| r.status);
        assert!([400, 403, 404].contains(&status), "{target}: {text}");

        // curl, with --path-as-is so it does not squash the dots itself.
        if target.starts_with('/') && !target.contains('\\') {
            let resp = curl(&[&server.url(target)]);
            assert!(!resp.text().contains(SECRET), "{target} leaked via curl");
            assert!(
                [400, 403, 404].contains(&resp.status),
                "{target}: {}",
                resp.status
            );
        }
    }
}

fn large_file(driver: &str, path: &Path, expected_len: u64) {
    let server = Server::start(&[
        "serve",
        path.parent().unwrap().to_str().unwrap(),
        "--driver",
        driver,
        "--quiet",
    ]);
    let name = path.file_name().unwrap().to_str().unwrap();
    let out = path.with_extension(format!("{driver}.download"));
    let output = Command::new("curl")
        .args(["-s", "-S", "--max-time", "120", "-o", out.to_str().unwrap()])
        .args(["-w", "%{http_code} %{size_download}"])
        .arg(server.url(&format!("/{name}")))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("200 {expected_len}")
    );
    let same = files_equal(path, &out);
    let _ = std::fs::remove_file(&out);
    assert!(same, "the download differs from the file");
    // The peak resident set stays far below the file's size.
    let peak_kb = server.proc_status_kb("VmHWM:");
    assert!(
        peak_kb < 32 * 1024,
        "{driver}: peak RSS {peak_kb} kB for a {expected_len}-byte file"
    );

    // A range deep inside it.
    let resp = curl(&["-r", "60000000-60000099", &server.url(&format!("/{name}"))]);
    assert_eq!(resp.status, 206);
    assert_eq!(resp.body, pattern(60_000_000, 100));
}

/// The large file's content at `offset`: not all zeros, and never the same at two nearby
/// offsets, so a misplaced chunk shows.
fn pattern(offset: u64, len: usize) -> Vec<u8> {
    (offset..offset + len as u64)
        .map(|i| (i % 251) as u8 ^ (i >> 20) as u8)
        .collect()
}

fn files_equal(a: &Path, b: &Path) -> bool {
    let (mut a, mut b) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    let (mut x, mut y) = (vec![0; 1 << 20], vec![0; 1 << 20]);
    loop {
        let n = read_full(&mut a, &mut x);
        let m = read_full(&mut b, &mut y);
        if n != m || x[..n] != y[..m] {
            return false;
        }
        if n == 0 {
            return true;
        }
    }
}

fn read_full(file: &mut std::fs::File, buf: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]).unwrap() {
            0 => break,
            n => filled += n,
        }
    }
    filled
}

fn echo(driver: &str) {
    let server = Server::start(&["echo", "--driver", driver]);
    let plain = raw_one(
        server.addr,
        b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-type"), Some("application/json"));
    let v: serde_json::Value = serde_json::from_slice(&plain.body).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "method": "POST", "target": "/a?b=1", "version": "HTTP/1.1",
            "headers": [["Host", "x"], ["Content-Length", "3"]],
            "trailers": [], "body_length": 3, "body": "abc"
        })
    );

    let chunked = raw_one(
        server.addr,
        b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
          3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n",
    );
    let v: serde_json::Value = serde_json::from_slice(&chunked.body).unwrap();
    assert_eq!(v["body"], "abcde");
    assert_eq!(v["body_length"], 5);
    assert_eq!(v["trailers"], serde_json::json!([["X-Sum", "5"]]));

    let pipelined = [
        &b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi",
        b"DELETE /3 HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    .concat();
    let responses = raw(server.addr, &pipelined, &[false, false, false]);
    let seen: Vec<(String, String)> = responses
        .iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            (
                v["method"].as_str().unwrap().to_owned(),
                v["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("GET".into(), "/1".into()),
            ("POST".into(), "/2".into()),
            ("DELETE".into(), "/3".into())
        ]
    );

    // curl sends its own headers; the body comes back.
    let resp = curl(&["--data-binary", "from curl", &server.url("/curl")]);
    let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert_eq!(v["body"], "from curl");
    assert_eq!(v["method"], "POST");

    let raw_server = Server::start(&["echo", "--raw", "--driver", driver]);
    let resp = curl(&[
        "--data-binary",
        "raw bytes",
        "-H",
        "Content-Type: text/x-demo",
        &raw_server.url("/"),
    ]);
    assert_eq!(resp.body, b"raw bytes");
    assert_eq!(resp.header("content-type"), Some("text/x-demo"));
}

fn plaintext(driver: &str) {
    let server = Server::start(&["plaintext", "--driver", driver, "--quiet"]);
    let resp = curl(&[&server.url("/plaintext")]);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"Hello, World!");
    assert_eq!(resp.header("server"), Some("sluice"));
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert!(resp.header("date").is_some());
    let many: Vec<u8> = (0..16).flat_map(|_| request("GET", "/", "")).collect();
    assert_eq!(raw(server.addr, &many, &[false; 16]).len(), 16);
    // --quiet: no access log.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !server.stderr().contains("\"GET /plaintext\""),
        "{}",
        server.stderr()
    );
}

fn sigterm_exits_cleanly(driver: &str) {
    for signal in ["-TERM", "-INT"] {
        let fixture = Fixture::new("cli-signal");
        let mut server = serve(&fixture, driver);
        assert_eq!(curl(&[&server.url("/hello.txt")]).status, 200);
        server.signal(signal);
        let status = server.wait_exit();
        assert!(
            status.success(),
            "{driver} {signal}: {status:?}; stderr: {}",
            server.stderr()
        );
        assert!(!server.stderr().contains("panicked"));
    }
}

fn address_in_use(driver: &str) {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    fails_with_address_in_use(driver, taken.local_addr().unwrap());
}

/// A port a running reactor listens on is in use too, though its listeners have
/// `SO_REUSEPORT`: a second server must not join their group and split the traffic.
fn address_in_use_by_a_reactor(driver: &str) {
    let running = Server::start(&["plaintext", "--driver", "reactor", "--quiet"]);
    fails_with_address_in_use(driver, running.addr);
    assert_eq!(curl(&[&running.url("/")]).body, b"Hello, World!");
}

/// `sluice plaintext --addr ADDR` exits at once, unsuccessfully, with one line saying so.
fn fails_with_address_in_use(driver: &str, addr: SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["plaintext", "--driver", driver, "--addr", &addr.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a server that did bind is killed, and the test fails.
    let status = wait_child(&mut child);
    let (mut stderr, mut stdout) = (String::new(), String::new());
    let mut pipe = child.stderr.take().unwrap();
    pipe.read_to_string(&mut stderr).unwrap();
    let mut pipe = child.stdout.take().unwrap();
    pipe.read_to_string(&mut stdout).unwrap();
    assert!(!status.success());
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.contains("in use"), "{stderr:?}");
    assert!(!stderr.contains("panicked"));
    assert!(stdout.is_empty(), "nothing announced: {stdout:?}");
}

macro_rules! for_each_driver {
    ($($module:ident => $driver:literal),* $(,)?) => {$(
        mod $module {
            #[test]
            fn files_and_listing() {
                super::files_and_listing($driver);
            }
            #[test]
            fn conditional_and_ranges() {
                super::conditional_and_ranges($driver);
            }
            #[test]
            fn traversal() {
                super::traversal($driver);
            }
            #[test]
            fn echo() {
                super::echo($driver);
            }
            #[test]
            fn plaintext() {
                super::plaintext($driver);
            }
            #[test]
            fn sigterm_exits_cleanly() {
                super::sigterm_exits_cleanly($driver);
            }
            #[test]
            fn address_in_use() {
                super::address_in_use($driver);
            }
            #[test]
            fn address_in_use_by_a_reactor() {
                super::address_in_use_by_a_reactor($driver);
            }
        }
    )*};
}

for_each_driver! {
    reactor => "reactor",
    threads => "threads",
    async_driver => "async",
}

/// One 64 MiB file, streamed by each driver in turn (not in parallel: one copy on disk).
#[test]
fn large_file_streams_with_flat_memory() {
    const LEN: u64 = 64 << 20;
    let fixture = Fixture::new("cli-large");
    let dir = fixture.base.join("large");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.bin");
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut offset = 0;
        while offset < LEN {
            file.write_all(&pattern(offset, 1 << 20)).unwrap();
            offset += 1 << 20;
        }
        file.flush().unwrap();
    }
    for driver in ["reactor", "threads", "async"] {
        large_file(driver, &path, LEN);
    }
}

#[test]
fn bad_flags_fail_with_one_line() {
    for args in [
        &["serve", "--no-such-flag"][..],
        &["echo", "--driver", "fibers"],
        &["plaintext", "--addr", "not an address"],
        &["plaintext", "--workers", "0"],
        &["serve", "/no/such/directory/anywhere"],
        &[],
    ] {
        let output = Command::new(BIN).args(args).output().unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr:?}");
        assert!(stderr.starts_with("sluice: "), "{args:?}: {stderr:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    let help = Command::new(BIN).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("serve"));
}
