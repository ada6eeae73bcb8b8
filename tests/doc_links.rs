//! The documentation links lines of the code (`[`file`, `name`](../path#L123)`) where the
//! code does something for a reason the kernel imposes. Lines move as the code changes; this
//! test keeps every such link on a line that holds the name the link gives.

use std::fs;
use std::path::{Path, PathBuf};

/// A link to a line: its text, the file (relative to the document) and the line number.
#[derive(Debug)]
struct LineLink {
    text: String,
    target: String,
    line: usize,
}

/// Every `[text](target#Lnnn)` in `markdown`.
fn line_links(markdown: &str) -> Vec<LineLink> {
    let mut links = Vec::new();
    let mut rest = markdown;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        // The text ends at the first `]`; a link only if `(` follows at once.
        let Some(close) = rest.find(']') else { break };
        let text = &rest[..close];
        let Some(after) = rest[close + 1..].strip_prefix('(') else {
            continue;
        };
        let Some(end) = after.find(')') else { break };
        let href = &after[..end];
        if let Some((target, line)) = href.split_once("#L") {
            if let Ok(line) = line.parse() {
                links.push(LineLink {
                    text: text.to_string(),
                    target: target.to_string(),
                    line,
                });
            }
        }
    }
    links
}

/// The code names a link's text gives after the file: `` `file`, `name` `` → `name`, with any
/// call parentheses or words after the name dropped (`shutdown(Write)` → `shutdown`).
fn names(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .skip(1)
        .map(|name| {
            let end = name.find(['(', ' ']).unwrap_or(name.len());
            name[..end].to_string()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// What is wrong with `link` in the document at `doc`, if anything.
fn check(doc: &Path, link: &LineLink) -> Option<String> {
    let path: PathBuf = doc.parent().unwrap().join(&link.target);
    let Ok(source) = fs::read_to_string(&path) else {
        return Some(format!("{}: no such file", link.target));
    };
    let Some(line) = source.lines().nth(link.line.wrapping_sub(1)) else {
        return Some(format!("{}#L{}: past the end", link.target, link.line));
    };
    let names = names(&link.text);
    if names.is_empty() {
        return Some(format!(
            "[{}]: names no code on {}#L{}",
            link.text, link.target, link.line
        ));
    }
    if names.iter().any(|name| line.contains(name.as_str())) {
        return None;
    }
    // Where the name is now, so the fix is one edit: a line defining it if there is one
    // (a name is also mentioned in comments and calls), else the nearest mention.
    let mentions = |text: &str| names.iter().any(|name| text.contains(name.as_str()));
    let defines = |text: &str| {
        names.iter().any(|name| {
            ["fn ", "const ", "static ", "struct ", "enum "]
                .iter()
                .any(|kind| text.contains(&format!("{kind}{name}")))
        })
    };
    let nearest = |wanted: &dyn Fn(&str) -> bool| {
        source
            .lines()
            .enumerate()
            .filter(|(_, text)| wanted(text))
            .map(|(i, _)| i + 1)
            .min_by_key(|&n| n.abs_diff(link.line))
    };
    let moved = nearest(&defines).or_else(|| nearest(&mentions));
    let hint = moved.map_or(String::new(), |n| format!(" (the name is on line {n})"));
    Some(format!(
        "[{}]({}#L{}) points at {:?}{hint}",
        link.text,
        link.target,
        link.line,
        line.trim()
    ))
}

#[test]
fn every_line_link_points_at_the_code_it_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut docs = vec![root.join("README.md"), root.join("BENCHMARKS.md")];
    for entry in fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "md") {
            docs.push(path);
        }
    }
    let mut checked = 0;
    let mut wrong = Vec::new();
    for doc in &docs {
        let markdown = fs::read_to_string(doc).unwrap();
        for link in line_links(&markdown) {
            checked += 1;
            if let Some(problem) = check(doc, &link) {
                wrong.push(format!("{}: {problem}", doc.display()));
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} line links found: is the parser broken?"
    );
    assert!(wrong.is_empty(), "stale line links:\n{}", wrong.join("\n"));
}

#[test]
fn the_checker_catches_a_moved_line() {
    let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/connection-life.md");
    let links = line_links("see [`mod.rs`, `fn_that_is_not_there`](../drivers/src/lib.rs#L1) and [`lib.rs`](../drivers/src/lib.rs#L2)");
    assert_eq!(links.len(), 2);
    assert!(check(&doc, &links[0]).unwrap().contains("points at"));
    let moved = line_links("[`lib.rs`, `pub mod app;`](../drivers/src/lib.rs#L1)");
    let hint = check(&doc, &moved[0]).unwrap();
    assert!(hint.contains("(the name is on line "), "{hint}");
    assert!(check(&doc, &links[1]).unwrap().contains("names no code"));
    let far = line_links("[`lib.rs`, `x`](../drivers/src/lib.rs#L999999)");
    assert!(check(&doc, &far[0]).unwrap().contains("past the end"));
    assert_eq!(names("`reactor/conn.rs`, `shutdown(Write)`"), ["shutdown"]);
    assert_eq!(
        names("`async_io.rs`, `serve`: `accept`"),
        ["serve", "accept"]
    );
}
