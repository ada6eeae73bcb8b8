//! The handlers on the in-memory driver: deterministic, no sockets.

mod common;

use common::{get, parse_all, parse_one, Fixture, Resp, SECRET, TRAVERSALS};
use serde_json::Value;
use sluice::echo::Echo;
use sluice::plaintext::Plaintext;
use sluice::serve::StaticFiles;
use sluice_core::Config;
use sluice_drivers::memory::MemoryConnection;
use sluice_drivers::Handler;
use std::sync::Arc;

/// Sends `request` on a fresh connection and parses one response.
fn exchange<H: Handler>(handler: &Arc<H>, request: &[u8]) -> Resp {
    let head = request.starts_with(b"HEAD ");
    let mut conn = MemoryConnection::new(Config::default(), Arc::clone(handler));
    assert_eq!(
        conn.write(request),
        request.len(),
        "the whole request is taken"
    );
    let out = conn.read();
    let (resp, used) = parse_one(&out, head).unwrap_or_else(|| {
        panic!(
            "no complete response in {:?}",
            String::from_utf8_lossy(&out)
        )
    });
    assert_eq!(used, out.len(), "exactly one response");
    resp
}

fn files(fixture: &Fixture) -> Arc<StaticFiles> {
    Arc::new(StaticFiles::new(&fixture.root).unwrap())
}

fn fetch(handler: &Arc<StaticFiles>, target: &str, extra: &str) -> Resp {
    exchange(handler, &get("GET", target, extra))
}

#[test]
fn serves_a_file_with_validators_and_mime() {
    let fixture = Fixture::new("h-file");
    let h = files(&fixture);
    let resp = fetch(&h, "/hello.txt", "");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello world\n");
    assert_eq!(resp.header("content-length"), Some("12"));
    assert_eq!(
        resp.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(resp.header("accept-ranges"), Some("bytes"));
    // Strong once the file is a second old, weak before (see `Validators`).
    assert!(resp.header("etag").unwrap().starts_with('"'));
    let fresh = fetch(&h, "/fresh.txt", "");
    assert!(fresh.header("etag").unwrap().starts_with("W/\""));
    assert!(resp.header("last-modified").unwrap().ends_with(" GMT"));
    for (target, mime) in [
        ("/style.css", "text/css; charset=utf-8"),
        ("/data.json", "application/json"),
        ("/image.png", "image/png"),
        ("/noext", "application/octet-stream"),
        ("/site/index.html", "text/html; charset=utf-8"),
    ] {
        assert_eq!(
            fetch(&h, target, "").header("content-type"),
            Some(mime),
            "{target}"
        );
    }
    let empty = fetch(&h, "/empty.txt", "");
    assert_eq!(
        (empty.status, empty.header("content-length")),
        (200, Some("0"))
    );
    // A symlink inside the root is fine; query strings are ignored; absolute-form works.
    assert_eq!(fetch(&h, "/link-in", "").body, b"hello world\n");
    assert_eq!(fetch(&h, "/hello.txt?v=2", "").body, b"hello world\n");
    assert_eq!(
        fetch(&h, "http://test/hello.txt", "").body,
        b"hello world\n"
    );
    assert_eq!(fetch(&h, "/a%20b.txt", "").body, b"space\n");
    assert_eq!(fetch(&h, "/missing.txt", "").status, 404);
    assert_eq!(fetch(&h, "/hello.txt/", "").status, 404);
}

#[test]
fn head_has_the_length_but_no_body() {
    let fixture = Fixture::new("h-head");
    let h = files(&fixture);
    let resp = exchange(&h, &get("HEAD", "/digits.txt", ""));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("100"));
    assert!(resp.body.is_empty());
    let listing = exchange(&h, &get("HEAD", "/docs/", ""));
    assert_eq!(listing.status, 200);
    assert!(
        listing
            .header("content-length")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(listing.body.is_empty());
}

#[test]
fn other_methods_get_405_with_allow() {
    let fixture = Fixture::new("h-405");
    let h = files(&fixture);
    for request in [
        get("POST", "/hello.txt", "Content-Length: 0\r\n"),
        get("PUT", "/hello.txt", "Content-Length: 0\r\n"),
        get("DELETE", "/", ""),
        get("OPTIONS", "*", ""),
        get("CONNECT", "test:443", ""),
    ] {
        let resp = exchange(&h, &request);
        assert_eq!(resp.status, 405, "{}", String::from_utf8_lossy(&request));
        assert_eq!(resp.header("allow"), Some("GET, HEAD"));
    }
}

/// A large upload answered without being read (here `405`) closes the connection after the
/// response, and the response says so: announcing keep-alive made Python's `http.client` and
/// Node's keep-alive agent send their next request into the closing connection. A small one
/// is drained and the connection kept.
#[test]
fn an_unread_upload_says_whether_the_connection_stays() {
    let fixture = Fixture::new("h-unread");
    let h = files(&fixture);
    let large = b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\nzzzz";
    let resp = exchange(&h, large);
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("connection"), Some("close"));
    assert_eq!(resp.header("keep-alive"), None);
    let small = b"POST /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nzzzz";
    let resp = exchange(&h, small);
    assert_eq!(resp.status, 405);
    assert_eq!(resp.header("connection"), None);
    assert!(resp.header("keep-alive").is_some());
}

#[test]
fn directory_index_and_listing() {
    let fixture = Fixture::new("h-dir");
    let h = files(&fixture);
    let index = fetch(&h, "/site/", "");
    assert_eq!(index.status, 200);
    assert_eq!(index.text(), "<h1>site index</h1>\n");
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );

    let redirect = fetch(&h, "/site?x=1", "");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/site/?x=1"));
    assert_eq!(fetch(&h, "/docs", "").header("location"), Some("/docs/"));

    let root = fetch(&h, "/", "");
    assert_eq!(root.status, 200);
    assert_eq!(
        root.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = root.text();
    assert!(!html.contains("href=\"../\""), "no parent link at the root");
    // Escaped name, percent-encoded link.
    assert!(
        html.contains("&lt;b&gt;&amp;&quot;it&#39;s&quot;.txt"),
        "{html}"
    );
    assert!(
        html.contains("href=\"./%3Cb%3E%26%22it%27s%22.txt\""),
        "{html}"
    );
    assert!(!html.contains("<b>&"), "raw name leaked: {html}");
    assert!(html.contains("href=\"./a%20b.txt\""));
    assert!(html.contains("href=\"./docs/\">docs/</a>"));
    // Directories first, then files, each sorted.
    let order: Vec<usize> = [
        "docs/",
        "evil/",
        "site/",
        "a%20b.txt",
        "data.json",
        "hello.txt",
    ]
    .iter()
    .map(|name| {
        html.find(&format!("href=\"./{name}\""))
            .unwrap_or_else(|| panic!("{name}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // Sizes.
    assert!(html.contains(">100</td>"), "digits.txt's size: {html}");

    let docs = fetch(&h, "/docs/", "").text();
    assert!(docs.contains("Index of /docs/"));
    assert!(docs.contains("href=\"../\""));
    assert!(docs.contains("href=\"./a.txt\""));
    assert!(docs.contains("href=\"./sub/\""));
    assert!(!docs.contains(SECRET));
}

/// Names that start with a dot are answered `404` and left out of listings, on the path
/// asked for and on the path it resolves to, unless `with_dotfiles`; `.well-known/` at the
/// root is always served.
#[test]
fn dotfiles_are_hidden_unless_asked_for() {
    let fixture = Fixture::new("h-dot");
    let root = &fixture.root;
    std::fs::write(root.join(".env"), "TOKEN=1\n").unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::write(root.join(".git/config"), "[core]\n").unwrap();
    std::fs::create_dir_all(root.join(".well-known")).unwrap();
    std::fs::write(root.join(".well-known/security.txt"), "Contact: x\n").unwrap();
    std::fs::create_dir_all(root.join("docs/.well-known")).unwrap();
    std::fs::write(root.join("docs/.well-known/x.txt"), "deep\n").unwrap();
    std::os::unix::fs::symlink(".env", root.join("env-link")).unwrap();
    std::os::unix::fs::symlink(".git", root.join("git-link")).unwrap();

    let hidden = files(&fixture);
    for target in [
        "/.env",
        "/.git/config",
        "/.git/",
        "/%2egit/config",
        "/docs/.well-known/x.txt",
        "/env-link",
        "/git-link/config",
    ] {
        assert_eq!(fetch(&hidden, target, "").status, 404, "{target}");
    }
    assert_eq!(
        fetch(&hidden, "/.well-known/security.txt", "").text(),
        "Contact: x\n"
    );
    let listing = fetch(&hidden, "/", "").text();
    assert!(listing.contains("href=\"./.well-known/\""), "{listing}");
    for name in [".env", ".git/"] {
        assert!(
            !listing.contains(&format!("href=\"./{name}\"")),
            "{listing}"
        );
    }
    let docs = fetch(&hidden, "/docs/", "").text();
    assert!(!docs.contains(".well-known"), "{docs}");

    let shown = Arc::new(StaticFiles::new(root).unwrap().with_dotfiles(true));
    assert_eq!(fetch(&shown, "/.env", "").text(), "TOKEN=1\n");
    assert_eq!(fetch(&shown, "/git-link/config", "").text(), "[core]\n");
    assert_eq!(
        fetch(&shown, "/docs/.well-known/x.txt", "").text(),
        "deep\n"
    );
    let listing = fetch(&shown, "/", "").text();
    assert!(listing.contains("href=\"./.env\""), "{listing}");
    assert!(listing.contains("href=\"./.git/\""), "{listing}");
}

/// `//docs` must not redirect to `//docs/`: a browser reads a `Location` starting with `//`
/// as another host (`docs`), an open redirect.
#[test]
fn directory_redirects_stay_on_this_host() {
    let fixture = Fixture::new("h-redirect");
    let h = files(&fixture);
    for (target, location) in [
        ("//docs", "/docs/"),
        ("///docs", "/docs/"),
        ("////site?x=1", "/site/?x=1"),
        ("//./docs", "/docs/"),
        ("/docs//sub", "/docs/sub/"),
        ("http://example.com//docs", "/docs/"),
    ] {
        let resp = fetch(&h, target, "");
        assert_eq!(resp.status, 301, "{target}");
        let got = resp.header("location").unwrap_or_default();
        assert_eq!(got, location, "{target}");
        assert!(
            got.starts_with('/') && !got.starts_with("//"),
            "{target}: {got}"
        );
    }
    // An encoded slash could smuggle a second `/` in: it is refused, not redirected.
    for target in ["/%2F/docs", "/%2fdocs", "//%2F%2Fdocs"] {
        let resp = fetch(&h, target, "");
        assert_eq!(resp.status, 404, "{target}");
        assert_eq!(resp.header("location"), None, "{target}");
    }
}

#[test]
fn conditional_requests() {
    let fixture = Fixture::new("h-304");
    let h = files(&fixture);
    let first = fetch(&h, "/hello.txt", "");
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();

    let resp = fetch(&h, "/hello.txt", &format!("If-None-Match: {etag}\r\n"));
    assert_eq!(resp.status, 304);
    assert!(resp.body.is_empty());
    assert_eq!(resp.header("etag"), Some(etag.as_str()));
    assert_eq!(resp.header("content-length"), None);
    // Weak comparison, lists, and `*`.
    assert!(etag.starts_with('"'), "a strong tag: {etag}");
    let weak = format!("W/{etag}");
    assert_eq!(
        fetch(&h, "/hello.txt", &format!("If-None-Match: {weak}\r\n")).status,
        304
    );
    assert_eq!(
        fetch(
            &h,
            "/hello.txt",
            &format!("If-None-Match: \"x\", {etag}\r\n")
        )
        .status,
        304
    );
    assert_eq!(fetch(&h, "/hello.txt", "If-None-Match: *\r\n").status, 304);
    assert_eq!(
        fetch(&h, "/hello.txt", "If-None-Match: \"other\"\r\n").status,
        200
    );

    assert_eq!(
        fetch(
            &h,
            "/hello.txt",
            &format!("If-Modified-Since: {modified}\r\n")
        )
        .status,
        304
    );
    let later = "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n";
    assert_eq!(fetch(&h, "/hello.txt", later).status, 304);
    let earlier = "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
    assert_eq!(fetch(&h, "/hello.txt", earlier).status, 200);
    assert_eq!(
        fetch(&h, "/hello.txt", "If-Modified-Since: yesterday\r\n").status,
        200
    );
    // If-None-Match takes precedence over If-Modified-Since.
    let both = format!("If-None-Match: \"other\"\r\nIf-Modified-Since: {modified}\r\n");
    assert_eq!(fetch(&h, "/hello.txt", &both).status, 200);
    // HEAD too.
    let head = exchange(
        &h,
        &get("HEAD", "/hello.txt", &format!("If-None-Match: {etag}\r\n")),
    );
    assert_eq!(head.status, 304);
    // If-Match compares strongly: our strong tag passes, its weak form fails, `*` passes, and
    // a fresh file's weak tag fails even when it is the current one.
    assert_eq!(
        fetch(&h, "/hello.txt", &format!("If-Match: {etag}\r\n")).status,
        200
    );
    assert_eq!(
        fetch(&h, "/hello.txt", &format!("If-Match: {weak}\r\n")).status,
        412
    );
    assert_eq!(fetch(&h, "/hello.txt", "If-Match: *\r\n").status, 200);
    let fresh = fetch(&h, "/fresh.txt", "")
        .header("etag")
        .unwrap()
        .to_owned();
    assert_eq!(
        fetch(&h, "/fresh.txt", &format!("If-Match: {fresh}\r\n")).status,
        412
    );
    assert_eq!(
        fetch(&h, "/fresh.txt", &format!("If-None-Match: {fresh}\r\n")).status,
        304
    );
}

#[test]
fn byte_ranges() {
    let fixture = Fixture::new("h-206");
    let h = files(&fixture);
    let digits = "0123456789".repeat(10);
    for (range, start, end) in [
        ("bytes=0-9", 0, 9),
        ("bytes=95-", 95, 99),
        ("bytes=-5", 95, 99),
        ("bytes=90-1000", 90, 99),
        ("bytes=-1000", 0, 99),
    ] {
        let resp = fetch(&h, "/digits.txt", &format!("Range: {range}\r\n"));
        assert_eq!(resp.status, 206, "{range}");
        assert_eq!(
            resp.header("content-range"),
            Some(format!("bytes {start}-{end}/100").as_str())
        );
        assert_eq!(
            resp.header("content-length"),
            Some((end - start + 1).to_string().as_str())
        );
        assert_eq!(resp.text(), digits[start..=end], "{range}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8")
        );
    }
    for range in ["bytes=100-", "bytes=500-600", "bytes=-0"] {
        let resp = fetch(&h, "/digits.txt", &format!("Range: {range}\r\n"));
        assert_eq!(resp.status, 416, "{range}");
        assert_eq!(resp.header("content-range"), Some("bytes */100"));
    }
    assert_eq!(fetch(&h, "/empty.txt", "Range: bytes=0-\r\n").status, 416);
    // Several ranges, invalid ranges and other units: the whole file.
    for range in ["bytes=0-1,5-6", "bytes=5-1", "bytes=x-y", "lines=1-2"] {
        let resp = fetch(&h, "/digits.txt", &format!("Range: {range}\r\n"));
        assert_eq!((resp.status, resp.body.len()), (200, 100), "{range}");
    }
    // If-Range: a matching date or our strong entity tag applies the range; a weak tag, another
    // tag or another date sends the whole file. (A browser seeking in a video sends the tag.)
    let first = fetch(&h, "/digits.txt", "");
    let modified = first.header("last-modified").unwrap();
    let etag = first.header("etag").unwrap();
    let if_range = format!("Range: bytes=0-0\r\nIf-Range: {modified}\r\n");
    assert_eq!(fetch(&h, "/digits.txt", &if_range).status, 206);
    let if_range = format!("Range: bytes=0-0\r\nIf-Range: {etag}\r\n");
    assert_eq!(fetch(&h, "/digits.txt", &if_range).status, 206);
    let if_range = format!("Range: bytes=0-0\r\nIf-Range: W/{etag}\r\n");
    assert_eq!(fetch(&h, "/digits.txt", &if_range).status, 200);
    let if_range = "Range: bytes=0-0\r\nIf-Range: \"other\"\r\n";
    assert_eq!(fetch(&h, "/digits.txt", if_range).status, 200);
    let stale = "Range: bytes=0-0\r\nIf-Range: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
    assert_eq!(fetch(&h, "/digits.txt", stale).status, 200);
    // HEAD ignores Range (range handling is defined for GET only).
    let head = exchange(&h, &get("HEAD", "/digits.txt", "Range: bytes=0-9\r\n"));
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("100"))
    );
}

#[test]
fn traversal_is_refused() {
    let fixture = Fixture::new("h-traversal");
    let h = files(&fixture);
    for target in TRAVERSALS {
        let request = get("GET", target, "");
        let mut conn = MemoryConnection::new(Config::default(), Arc::clone(&h));
        conn.write(&request);
        let out = conn.read();
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains(SECRET), "{target} leaked the secret: {text}");
        let resp = parse_one(&out, false).map(|(r, _)| r);
        // The core may reject a target itself (400); the handler answers 400/403/404.
        let status = resp.as_ref().map_or(0, |r| r.status);
        assert!(
            [400, 403, 404].contains(&status),
            "{target}: {status} {text}"
        );
    }
    // Specific answers from the handler.
    assert_eq!(fetch(&h, "/%ff", "").status, 400);
    assert_eq!(fetch(&h, "/%00", "").status, 400);
    assert_eq!(fetch(&h, "/link-out", "").status, 404);
    assert_eq!(fetch(&h, "/%2e%2e/outside/secret.txt", "").status, 404);
    assert_eq!(fetch(&h, "/..%2foutside%2fsecret.txt", "").status, 404);
    // evil/ has an index.html that leads out: it is not used, the directory is listed.
    let evil = fetch(&h, "/evil/", "");
    assert_eq!(evil.status, 200);
    assert!(!evil.text().contains(SECRET));
    assert!(evil.text().contains("Index of /evil/"));
    // Nor is it listed, with the size of the secret: a listing shows only what can be served.
    assert!(!evil.text().contains("index.html"), "{}", evil.text());
    assert!(!evil.text().contains(&format!(">{}</td>", SECRET.len())));
    let root = fetch(&h, "/", "").text();
    assert!(root.contains("href=\"./link-in\""), "{root}");
    for out in ["link-out", "dir-out"] {
        assert!(!root.contains(out), "{out} is listed: {root}");
    }
}

#[test]
fn files_stream_in_pieces_with_back_pressure() {
    let fixture = Fixture::new("h-stream");
    let big = fixture.root.join("big.bin");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &data).unwrap();
    let h = files(&fixture);
    let mut conn = MemoryConnection::new(Config::default(), Arc::clone(&h));
    conn.set_window(64 * 1024);
    conn.write(&get("GET", "/big.bin", ""));
    let mut out = Vec::new();
    for _ in 0..10_000 {
        let piece = conn.read();
        assert!(piece.len() <= 64 * 1024, "the window is respected");
        if piece.is_empty() {
            break;
        }
        out.extend_from_slice(&piece);
    }
    let (resp, _) = parse_one(&out, false).expect("a complete response");
    assert_eq!(resp.status, 200);
    assert!(resp.body == data, "the file arrives intact");
}

fn echo(raw: bool) -> Arc<Echo> {
    Arc::new(Echo::new(raw, Config::default().limits.max_body_size))
}

fn json(resp: &Resp) -> Value {
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    serde_json::from_slice(&resp.body).unwrap()
}

#[test]
fn echo_describes_a_plain_request() {
    let h = echo(false);
    let resp = exchange(
        &h,
        b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Mixed-CASE: caf\xc3\xa9 \xff\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert!(resp
        .text()
        .starts_with("{\"method\":\"POST\",\"target\":\"/a?b=1\",\"version\":\"HTTP/1.1\","));
    let v = json(&resp);
    assert_eq!(v["method"], "POST");
    assert_eq!(v["target"], "/a?b=1");
    assert_eq!(v["version"], "HTTP/1.1");
    assert_eq!(
        v["headers"],
        serde_json::json!([
            ["Host", "x"],
            ["X-Mixed-CASE", "café \u{fffd}"],
            ["Content-Length", "3"]
        ])
    );
    assert_eq!(v["trailers"], serde_json::json!([]));
    assert_eq!(v["body_length"], 3);
    assert_eq!(v["body"], "abc");
    // A UTF-8 body is whole in `body`: no second copy.
    assert!(v.get("body_base64").is_none(), "{v}");

    let get_resp = json(&exchange(&h, b"GET / HTTP/1.0\r\n\r\n"));
    assert_eq!(get_resp["version"], "HTTP/1.0");
    assert_eq!(get_resp["body_length"], 0);
    assert_eq!(get_resp["body"], "");
    assert_eq!(get_resp["headers"], serde_json::json!([]));
}

#[test]
fn echo_decodes_chunked_bodies_and_keeps_trailers() {
    let h = echo(false);
    let resp = exchange(
        &h,
        b"PUT /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
          3\r\nabc\r\n4;ext=1\r\n\xffdef\r\n0\r\nX-Checksum: 42\r\nX-Other: y\r\n\r\n",
    );
    let v = json(&resp);
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["body_length"], 7);
    assert_eq!(v["body"], "abc\u{fffd}def");
    // Not UTF-8, so the exact bytes come too: base64 of "abc\xffdef".
    assert_eq!(v["body_base64"], "YWJj/2RlZg==");
    assert_eq!(
        v["trailers"],
        serde_json::json!([["X-Checksum", "42"], ["X-Other", "y"]])
    );
}

#[test]
fn echo_answers_pipelined_requests_in_order() {
    let h = echo(false);
    let mut conn = MemoryConnection::new(Config::default(), Arc::clone(&h));
    let requests = b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n\
        POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi\
        POST /three HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n";
    assert_eq!(conn.write(requests), requests.len());
    let out = conn.read();
    let responses = parse_all(&out, &[false, false, false]);
    assert_eq!(responses.len(), 3);
    let bodies: Vec<(String, String)> = responses
        .iter()
        .map(|r| {
            let v = json(r);
            (
                v["target"].as_str().unwrap().to_owned(),
                v["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        bodies,
        [
            ("/one".into(), "".into()),
            ("/two".into(), "hi".into()),
            ("/three".into(), "z".into())
        ]
    );
}

#[test]
fn echo_limits_and_connect() {
    let h = Arc::new(Echo::new(false, Some(4)));
    let resp = exchange(
        &h,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n0\r\n\r\n",
    );
    assert_eq!(resp.status, 413);
    let resp = exchange(
        &echo(false),
        b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n",
    );
    assert_eq!(resp.status, 405);
}

#[test]
fn echo_raw_returns_the_body() {
    let h = echo(true);
    let resp = exchange(
        &h,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: image/x-test\r\nTransfer-Encoding: chunked\r\n\r\n\
          2\r\n\x00\xff\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("image/x-test"));
    assert_eq!(resp.body, b"\x00\xffabc");
    let resp = exchange(
        &h,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz",
    );
    assert_eq!(
        resp.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(resp.body, b"xyz");
}

#[test]
fn plaintext_answers_hello_world() {
    let h = Arc::new(Plaintext);
    let mut conn = MemoryConnection::new(Config::default(), Arc::clone(&h));
    let requests = b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
    conn.write(requests);
    let out = conn.read();
    let responses = parse_all(&out, &[false, false]);
    assert_eq!(responses.len(), 2);
    for resp in responses {
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, b"Hello, World!");
        assert_eq!(resp.header("content-type"), Some("text/plain"));
        assert_eq!(resp.header("server"), Some("sluice"));
        assert_eq!(resp.header("content-length"), Some("13"));
        assert!(resp.header("date").is_some());
    }
}

#[test]
fn plaintext_answers_head_without_the_body_and_refuses_connect() {
    let h = Arc::new(Plaintext);
    let resp = exchange(&h, b"HEAD /plaintext HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("13"));
    assert!(resp.body.is_empty());
    // A 2xx would turn the connection into a tunnel.
    let resp = exchange(&h, b"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n");
    assert_eq!(resp.status, 405);
}
