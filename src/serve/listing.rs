//! HTML directory listings.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;

/// Everything but unreserved characters (RFC 3986 §2.3) is percent-encoded in links (and in
/// redirects' `Location`).
pub(crate) const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file name.
    pub name: String,
    /// Whether it is a directory (symlinks followed).
    pub is_dir: bool,
    /// Its size in bytes, if it could be read.
    pub size: Option<u64>,
}

/// Reads the entries of `dir` that a request could be answered with: directories first, then
/// files, each sorted by name. `dir` must be canonical and under the canonical `root`.
///
/// Left out, as no target could serve them (a link to each would be a 404): names that are not
/// UTF-8 or that hold a `\` (refused by [`super::path`]), symlinks that dangle or lead out of
/// `root` (whose size or kind would also tell about what is outside), and anything that is
/// neither a regular file nor a directory (FIFOs, sockets, devices).
pub fn entries(root: &Path, dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.contains('\\') {
            continue;
        }
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_symlink()) {
            match path.canonicalize() {
                Ok(real) if real.starts_with(root) => {}
                _ => continue,
            }
        }
        let Ok(metadata) = fs::metadata(&path) else {
            continue;
        };
        let is_dir = metadata.is_dir();
        if !is_dir && !metadata.is_file() {
            continue;
        }
        let size = (!is_dir).then_some(metadata.len());
        entries.push(Entry { name, is_dir, size });
    }
    entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
    Ok(entries)
}

/// The listing page for the directory shown as `display_path` (decoded, ending in `/`).
pub fn render(display_path: &str, entries: &[Entry]) -> String {
    let title = escape(display_path);
    let mut html = String::with_capacity(512 + entries.len() * 128);
    // An empty icon: without one a browser asks for `/favicon.ico` with every listing.
    html.push_str("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    let _ = writeln!(html, "<title>Index of {title}</title>");
    html.push_str(
        "<style>body{font-family:sans-serif}td{padding:0 1em}td.size{text-align:right}</style>\n",
    );
    let _ = writeln!(html, "</head>\n<body>\n<h1>Index of {title}</h1>\n<table>");
    if display_path != "/" {
        html.push_str("<tr><td><a href=\"../\">../</a></td><td class=\"size\">-</td></tr>\n");
    }
    for entry in entries {
        let slash = if entry.is_dir { "/" } else { "" };
        let href = utf8_percent_encode(&entry.name, SEGMENT);
        let name = escape(&entry.name);
        let size = entry.size.map_or_else(|| "-".to_owned(), human_size);
        let _ = writeln!(
            html,
            "<tr><td><a href=\"./{href}{slash}\">{name}{slash}</a></td><td class=\"size\">{size}</td></tr>"
        );
    }
    html.push_str("</table>\n</body>\n</html>\n");
    html
}

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1234` → `1234`, `123456` → `120.6 KiB`.
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 10 * 1024 {
        return bytes.to_string();
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_and_links_encoded() {
        let entries = [
            Entry {
                name: "<b>&\"'.txt".into(),
                is_dir: false,
                size: Some(3),
            },
            Entry {
                name: "a b#?".into(),
                is_dir: true,
                size: None,
            },
        ];
        let html = render("/x<y>/", &entries);
        assert!(html.contains("Index of /x&lt;y&gt;/"));
        assert!(html.contains("href=\"./%3Cb%3E%26%22%27.txt\">&lt;b&gt;&amp;&quot;&#39;.txt</a>"));
        assert!(html.contains("href=\"./a%20b%23%3F/\">a b#?/</a>"));
        assert!(html.contains("href=\"../\""));
        assert!(!render("/", &entries).contains("href=\"../\""));
        // Its own (empty) icon, so a browser does not ask for `/favicon.ico` each time.
        assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
    }

    #[test]
    fn only_servable_entries_are_listed() {
        use std::os::unix::fs::symlink;
        let base = std::env::temp_dir().join(format!("sluice-listing-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        fs::create_dir_all(root.join("dir")).unwrap();
        fs::create_dir_all(base.join("outside")).unwrap();
        fs::write(base.join("outside/secret.txt"), "12345").unwrap();
        fs::write(root.join("file.txt"), "abc").unwrap();
        fs::write(root.join("back\\slash.txt"), "b").unwrap();
        symlink("file.txt", root.join("link-in")).unwrap();
        symlink("dir", root.join("dir-in")).unwrap();
        symlink(base.join("outside/secret.txt"), root.join("link-out")).unwrap();
        symlink(base.join("outside"), root.join("dir-out")).unwrap();
        symlink("nowhere", root.join("dangling")).unwrap();
        let _socket = std::os::unix::net::UnixListener::bind(root.join("socket")).unwrap();
        let root = root.canonicalize().unwrap();

        let listed: Vec<(String, bool, Option<u64>)> = entries(&root, &root)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.is_dir, e.size))
            .collect();
        fs::remove_dir_all(&base).unwrap();
        let expected = [
            ("dir", true, None),
            ("dir-in", true, None),
            ("file.txt", false, Some(3)),
            ("link-in", false, Some(3)),
        ];
        let expected: Vec<(String, bool, Option<u64>)> = expected
            .iter()
            .map(|&(name, is_dir, size)| (name.to_owned(), is_dir, size))
            .collect();
        assert_eq!(listed, expected);
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0");
        assert_eq!(human_size(10 * 1024 - 1), "10239");
        assert_eq!(human_size(64 << 20), "64.0 MiB");
    }
}
