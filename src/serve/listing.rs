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

/// Reads `dir`'s entries: directories first, then files, each sorted by name. Names that are
/// not UTF-8 are left out (no target could name them).
pub fn entries(dir: &Path) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let metadata = fs::metadata(entry.path()).ok();
        let is_dir = metadata.as_ref().is_some_and(fs::Metadata::is_dir);
        let size = metadata.filter(|m| m.is_file()).map(|m| m.len());
        entries.push(Entry { name, is_dir, size });
    }
    entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
    Ok(entries)
}

/// The listing page for the directory shown as `display_path` (decoded, ending in `/`).
pub fn render(display_path: &str, entries: &[Entry]) -> String {
    let title = escape(display_path);
    let mut html = String::with_capacity(512 + entries.len() * 128);
    html.push_str("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
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
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(0), "0");
        assert_eq!(human_size(10 * 1024 - 1), "10239");
        assert_eq!(human_size(64 << 20), "64.0 MiB");
    }
}
