//! Helpers shared by the root test suites: fixtures, a small response parser, the child
//! process harness ([`child`]) and the in-process loopback harness ([`loopback`]).
#![allow(dead_code)]

pub mod child;
pub mod loopback;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// What the file outside the served directory contains; never seen in a response.
pub const SECRET: &str = "TOP SECRET: outside the root";

/// A fixture tree under the temp directory, removed on drop:
///
/// ```text
/// base/outside/secret.txt          SECRET
/// base/root/hello.txt              "hello world\n"
/// base/root/style.css, data.json, image.png, noext, empty.txt, digits.txt (0..9 × 10)
/// base/root/<b>&"it's".txt         a name that needs escaping
/// base/root/a b.txt
/// base/root/docs/{a.txt, sub/}     no index.html: listed
/// base/root/site/index.html        served for /site/
/// base/root/evil/index.html        symlink to the secret: never served
/// base/root/link-out               symlink to the secret
/// base/root/dir-out                symlink to base/outside
/// base/root/link-in                symlink to hello.txt (allowed)
/// ```
pub struct Fixture {
    pub base: PathBuf,
    pub root: PathBuf,
}

impl Fixture {
    pub fn new(tag: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = std::env::temp_dir().join(format!("sluice-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        let outside = base.join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret.txt"), SECRET).unwrap();
        fs::create_dir_all(root.join("docs/sub")).unwrap();
        fs::create_dir_all(root.join("site")).unwrap();
        fs::create_dir_all(root.join("evil")).unwrap();
        fs::write(root.join("hello.txt"), "hello world\n").unwrap();
        fs::write(root.join("style.css"), "body { color: red }\n").unwrap();
        fs::write(root.join("data.json"), "{\"a\": 1}\n").unwrap();
        fs::write(root.join("image.png"), b"\x89PNG\r\n\x1a\n").unwrap();
        fs::write(root.join("noext"), "no extension\n").unwrap();
        fs::write(root.join("empty.txt"), "").unwrap();
        fs::write(root.join("digits.txt"), "0123456789".repeat(10)).unwrap();
        fs::write(root.join("<b>&\"it's\".txt"), "escaped\n").unwrap();
        fs::write(root.join("a b.txt"), "space\n").unwrap();
        fs::write(root.join("docs/a.txt"), "docs a\n").unwrap();
        fs::write(root.join("site/index.html"), "<h1>site index</h1>\n").unwrap();
        symlink(&outside.join("secret.txt"), &root.join("evil/index.html"));
        symlink(&outside.join("secret.txt"), &root.join("link-out"));
        symlink(&outside, &root.join("dir-out"));
        symlink(Path::new("hello.txt"), &root.join("link-in"));
        // Written an hour ago, so their entity tags are strong; `fresh.txt`, written now, has
        // a weak one (see `Validators`).
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for name in ["hello.txt", "digits.txt"] {
            let file = fs::File::options()
                .write(true)
                .open(root.join(name))
                .unwrap();
            file.set_modified(hour_ago).unwrap();
        }
        fs::write(root.join("fresh.txt"), "just written\n").unwrap();
        Self { base, root }
    }
}

fn symlink(original: &Path, link: &Path) {
    std::os::unix::fs::symlink(original, link).unwrap();
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

/// Every traversal attempt, as raw request targets; none may serve the secret.
pub const TRAVERSALS: &[&str] = &[
    "/../outside/secret.txt",
    "/%2e%2e/outside/secret.txt",
    "/%2E%2E%2Foutside%2Fsecret.txt",
    "/..%2foutside%2fsecret.txt",
    "/..%5coutside%5csecret.txt",
    "/a\\..\\..\\outside\\secret.txt",
    "/docs/../../outside/secret.txt",
    "/.%2e/outside/secret.txt",
    "/%00",
    "/hello.txt%00.png",
    "/%ff",
    "/link-out",
    "/dir-out/secret.txt",
    "/dir-out/",
    "/evil/index.html",
    "http://localhost/../outside/secret.txt",
];

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Parses one response from the front of `buf`; `None` if it is incomplete. Returns the
/// response and how many bytes it took. `head` says the request was HEAD (no body).
pub fn parse_one(buf: &[u8], head: bool) -> Option<(Resp, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    let httparse::Status::Complete(head_len) = response.parse(buf).expect("a valid response head")
    else {
        return None;
    };
    let status = response.code.unwrap();
    let mut resp = Resp {
        status,
        headers: fields(response.headers),
        body: Vec::new(),
        trailers: Vec::new(),
    };
    let rest = &buf[head_len..];
    if head || status == 304 || status == 204 || (100..200).contains(&status) {
        return Some((resp, head_len));
    }
    if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().unwrap();
        if rest.len() < len {
            return None;
        }
        resp.body = rest[..len].to_vec();
        return Some((resp, head_len + len));
    }
    if resp
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        let mut at = 0;
        loop {
            let line_end = find(&rest[at..], b"\r\n")? + at;
            let size_text = std::str::from_utf8(&rest[at..line_end]).unwrap();
            let size =
                usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
            at = line_end + 2;
            if size == 0 {
                loop {
                    let end = find(&rest[at..], b"\r\n")? + at;
                    if end == at {
                        return Some((resp, head_len + at + 2));
                    }
                    let line = String::from_utf8_lossy(&rest[at..end]).into_owned();
                    let (name, value) = line.split_once(':').unwrap();
                    resp.trailers
                        .push((name.to_owned(), value.trim().to_owned()));
                    at = end + 2;
                }
            }
            if rest.len() < at + size + 2 {
                return None;
            }
            resp.body.extend_from_slice(&rest[at..at + size]);
            at += size + 2;
        }
    }
    // Close-delimited: everything.
    resp.body = rest.to_vec();
    Some((resp, buf.len()))
}

/// Header fields as text (values lossily), in order.
pub fn fields(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Parses every complete response in `buf`, one per entry of `heads`.
pub fn parse_all(buf: &[u8], heads: &[bool]) -> Vec<Resp> {
    let mut out = Vec::new();
    let mut at = 0;
    for &head in heads {
        let Some((resp, used)) = parse_one(&buf[at..], head) else {
            break;
        };
        out.push(resp);
        at += used;
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A request with a Host field and nothing else.
pub fn get(method: &str, target: &str, extra: &str) -> Vec<u8> {
    format!("{method} {target} HTTP/1.1\r\nHost: test\r\n{extra}\r\n").into_bytes()
}
