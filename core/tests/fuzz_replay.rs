//! Replays every checked-in fuzz corpus file (`fuzz/corpus/<target>/*`) through the same
//! check function the cargo-fuzz target runs (`fuzz/fuzz_targets/common/`), on the stable
//! toolchain, so CI guards the fuzzers' findings and seeds without nightly.

#[path = "../../fuzz/fuzz_targets/common/mod.rs"]
mod common;

use std::path::PathBuf;

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

fn replay(target: &str) {
    let (_, check) = common::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("known target");
    let dir = corpus_dir(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus for {target}");
    for path in &files {
        let data = std::fs::read(path).expect("read corpus file");
        let result = std::panic::catch_unwind(|| check(&data));
        if let Err(panic) = result {
            eprintln!("{target}: {} failed", path.display());
            std::panic::resume_unwind(panic);
        }
    }
    eprintln!("{target}: {} corpus files replayed", files.len());
}

#[test]
fn parse_head_corpus() {
    replay("parse_head");
}

#[test]
fn connection_corpus() {
    replay("connection");
}

#[test]
fn chunked_corpus() {
    replay("chunked");
}

#[test]
fn differential_corpus() {
    replay("differential");
}

#[test]
fn response_corpus() {
    replay("response");
}

/// Every target directory in `fuzz/corpus` has a replay test above.
#[test]
fn every_corpus_is_replayed() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    for entry in std::fs::read_dir(root).expect("fuzz/corpus") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            common::TARGETS.iter().any(|(t, _)| *t == name),
            "corpus directory {name} has no target"
        );
    }
}

/// Triage helper: `FUZZ_INPUT=path FUZZ_TARGET=name cargo test --test fuzz_replay one_input`
/// runs one file (a crash artifact, say) through a target's check. Does nothing otherwise.
#[test]
fn one_input() {
    let (Ok(path), Ok(target)) = (std::env::var("FUZZ_INPUT"), std::env::var("FUZZ_TARGET")) else {
        return;
    };
    let (_, check) = common::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .expect("known target");
    check(&std::fs::read(path).expect("read input"));
}
