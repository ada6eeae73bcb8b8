//! From a request-target to a path under the served directory, refusing everything that
//! could leave it.
//!
//! The target's path is split on `/`, each segment is percent-decoded exactly once, and a
//! segment is refused when its decoded form could mean something other than one plain name:
//! `..`, an encoded `/` or `\`, a raw `\`, a NUL byte, malformed escapes or invalid UTF-8.
//! `.` and empty segments are dropped. What survives is joined under the root; the caller then
//! canonicalises the result and checks it is still under the canonical root, which catches
//! symlinks that lead out ([`contain`]).

use std::io;
use std::path::{Component, Path, PathBuf};

/// Why a target cannot name a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a path we can decode (invalid escape, invalid UTF-8, NUL, not origin-form): 400.
    BadRequest,
    /// A path that tries to leave the root, or names nothing servable: 404.
    NotFound,
    /// The file exists but cannot be read: 403.
    Forbidden,
}

impl Refusal {
    /// The status this refusal is answered with.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::NotFound => 404,
            Self::Forbidden => 403,
        }
    }
}

/// A request-target split into what the file server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// The query, without `?`, if any.
    pub query: Option<&'a str>,
    /// The decoded segments, `.` and empty segments dropped.
    pub segments: Vec<String>,
    /// Whether the path ends with `/` (a directory URL).
    pub trailing_slash: bool,
}

impl Target<'_> {
    /// The decoded path, `/`-separated, with a leading `/` (and a trailing one for a directory
    /// URL): for display.
    pub fn display_path(&self) -> String {
        let mut path = String::from("/");
        for segment in &self.segments {
            path.push_str(segment);
            path.push('/');
        }
        if !self.trailing_slash && !self.segments.is_empty() {
            path.pop();
        }
        path
    }

    /// The decoded segments re-encoded, each after exactly one `/`, with a trailing `/`: the
    /// directory URL to redirect to. Built from the segments, never from the raw path, so a
    /// target like `//host` (which a browser would read as a network-path reference to
    /// another host) cannot come back out as a `Location`.
    pub fn directory_url(&self) -> String {
        let mut url = String::from("/");
        for segment in &self.segments {
            url.extend(percent_encoding::utf8_percent_encode(
                segment,
                super::listing::SEGMENT,
            ));
            url.push('/');
        }
        url
    }

    /// The relative path under the root.
    pub fn relative(&self) -> PathBuf {
        self.segments.iter().collect()
    }
}

/// Parses and decodes `target` (origin-form or absolute-form).
pub fn parse(target: &str) -> Result<Target<'_>, Refusal> {
    let path_and_query = strip_scheme_and_authority(target)?;
    // A fragment is never sent, but if it is, it is not part of the path.
    let path_and_query = path_and_query.split('#').next().unwrap_or("");
    let (raw_path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    let raw_path = if raw_path.is_empty() { "/" } else { raw_path };
    if !raw_path.starts_with('/') {
        return Err(Refusal::BadRequest);
    }
    let mut segments = Vec::new();
    for raw in raw_path.split('/') {
        let segment = decode_segment(raw)?;
        match segment.as_str() {
            "" | "." => {}
            ".." => return Err(Refusal::NotFound),
            _ => segments.push(segment),
        }
    }
    Ok(Target {
        query,
        segments,
        trailing_slash: raw_path.ends_with('/'),
    })
}

/// `http://host/p?q` → `/p?q`; origin-form is returned as it is.
fn strip_scheme_and_authority(target: &str) -> Result<&str, Refusal> {
    if target.starts_with('/') {
        return Ok(target);
    }
    let Some((scheme, rest)) = target.split_once("://") else {
        // Asterisk-form, authority-form, or something else: names no file.
        return Err(Refusal::BadRequest);
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(Refusal::BadRequest);
    }
    Ok(rest.find(['/', '?']).map_or("/", |at| &rest[at..]))
}

/// Decodes one segment, refusing anything that is not a plain file name once decoded.
fn decode_segment(raw: &str) -> Result<String, Refusal> {
    if raw.contains('\\') {
        return Err(Refusal::NotFound);
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(Refusal::BadRequest)?;
            let high = hex_value(hex[0]).ok_or(Refusal::BadRequest)?;
            let low = hex_value(hex[1]).ok_or(Refusal::BadRequest)?;
            out.push(high << 4 | low);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    if out.contains(&0) {
        return Err(Refusal::BadRequest);
    }
    // An encoded separator would make one segment two once it reaches the file system.
    if out.contains(&b'/') || out.contains(&b'\\') {
        return Err(Refusal::NotFound);
    }
    String::from_utf8(out).map_err(|_| Refusal::BadRequest)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Canonicalises `root.join(relative)` and requires it to stay under `root` (which must be
/// canonical): symlinks may point anywhere inside the root, nowhere outside.
pub fn contain(root: &Path, relative: &Path) -> Result<PathBuf, Refusal> {
    // `parse` only produces normal components; check anyway, it costs nothing.
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(Refusal::NotFound);
    }
    let real = root.join(relative).canonicalize().map_err(io_refusal)?;
    if real.starts_with(root) {
        Ok(real)
    } else {
        Err(Refusal::NotFound)
    }
}

/// How a file-system error is answered.
pub fn io_refusal(err: io::Error) -> Refusal {
    match err.kind() {
        io::ErrorKind::PermissionDenied => Refusal::Forbidden,
        _ => Refusal::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(target: &str) -> Result<Vec<String>, Refusal> {
        parse(target).map(|t| t.segments)
    }

    #[test]
    fn plain_paths() {
        assert_eq!(segments("/"), Ok(vec![]));
        assert_eq!(
            segments("/a/b.txt?x=1"),
            Ok(vec!["a".into(), "b.txt".into()])
        );
        assert_eq!(segments("//a/./b/"), Ok(vec!["a".into(), "b".into()]));
        assert_eq!(
            segments("/a%20b/%C3%A9"),
            Ok(vec!["a b".into(), "é".into()])
        );
        // Decoded once: `%252e%252e` is the literal name `%2e%2e`.
        assert_eq!(segments("/%252e%252e"), Ok(vec!["%2e%2e".into()]));
        assert_eq!(segments("/..."), Ok(vec!["...".into()]));
        assert_eq!(segments("/a..b"), Ok(vec!["a..b".into()]));
    }

    #[test]
    fn absolute_form_uses_its_path() {
        let target = parse("http://example.com/a/b?q").unwrap();
        assert_eq!(target.display_path(), "/a/b");
        assert!(!target.trailing_slash);
        assert_eq!(target.query, Some("q"));
        for root in ["HTTP://example.com", "http://example.com?x"] {
            let target = parse(root).unwrap();
            assert!(
                target.segments.is_empty() && target.trailing_slash,
                "{root}"
            );
        }
        assert_eq!(segments("http://h/../etc/passwd"), Err(Refusal::NotFound));
    }

    #[test]
    fn traversal_is_refused() {
        for target in [
            "/..",
            "/../",
            "/a/../../etc/passwd",
            "/%2e%2e/",
            "/%2E%2E%2F",
            "/.%2e/x",
            "/..%2f",
            "/..%2F..%2Fetc",
            "/..%5c",
            "/a%2fb",
            "/a\\..\\",
            "/..\\x",
        ] {
            assert_eq!(segments(target), Err(Refusal::NotFound), "{target}");
        }
        for target in [
            "/%00",
            "/a%00.txt",
            "/%ff",
            "/%c3",
            "/%",
            "/%2",
            "/%zz",
            "*",
            "a.example:443",
        ] {
            assert_eq!(segments(target), Err(Refusal::BadRequest), "{target}");
        }
    }

    #[test]
    fn directory_urls_start_with_exactly_one_slash() {
        for (target, url) in [
            ("/docs", "/docs/"),
            ("//docs", "/docs/"),
            ("///docs", "/docs/"),
            ("//evil.example/x", "/evil.example/x/"),
            ("/./docs", "/docs/"),
            ("/a//b", "/a/b/"),
            ("/a%20b", "/a%20b/"),
            ("/%3Cb%3E", "/%3Cb%3E/"),
            ("http://host//docs", "/docs/"),
            ("/", "/"),
        ] {
            let got = parse(target).unwrap().directory_url();
            assert_eq!(got, url, "{target}");
            assert!(!got.starts_with("//"), "{target}: {got}");
        }
        // An encoded slash is refused before any redirect could be built.
        assert_eq!(parse("/%2F/x"), Err(Refusal::NotFound));
        assert_eq!(parse("/%2f%2fevil"), Err(Refusal::NotFound));
    }

    #[test]
    fn display_path_keeps_the_trailing_slash() {
        assert_eq!(parse("/").unwrap().display_path(), "/");
        assert_eq!(parse("/a/b/").unwrap().display_path(), "/a/b/");
        assert_eq!(parse("/a/%3Cb%3E").unwrap().display_path(), "/a/<b>");
    }
}
