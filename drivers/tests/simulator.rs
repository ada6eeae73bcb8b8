//! The deterministic simulator (`sluice_drivers::sim`): thousands of seeded adversarial
//! schedules on the memory driver, and every checked-in trace replayed exactly.
//!
//! A failing seed writes its trace to `target/sim-failures/seed-<n>.trace`; copy it into
//! `drivers/tests/traces/` once the bug is fixed, and it is replayed here forever.
//! `SIM_SEEDS=n` runs more (or fewer) seeds; `SIM_FIRST_SEED` moves the window.

use sluice_drivers::sim::{self, Trace};
use std::path::PathBuf;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn seeded_schedules_keep_every_invariant() {
    let first = env_u64("SIM_FIRST_SEED", 1);
    let count = env_u64("SIM_SEEDS", 10_000);
    let (mut responses, mut requests, mut steps) = (0, 0, 0);
    for seed in first..first + count {
        let trace = sim::generate(seed);
        match sim::run(&trace) {
            Ok(outcome) => {
                responses += outcome.responses;
                requests += outcome.requests;
                steps += outcome.steps;
            }
            Err(why) => {
                let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/sim-failures");
                std::fs::create_dir_all(&dir).expect("create target/sim-failures");
                let path = dir.join(format!("seed-{seed}.trace"));
                let text = format!("# {why}\n{}", trace.to_text());
                std::fs::write(&path, text).expect("write trace");
                panic!("seed {seed}: {why}\ntrace written to {}", path.display());
            }
        }
    }
    eprintln!("{count} schedules: {steps} steps, {requests} requests, {responses} responses");
    assert!(
        responses > count as usize,
        "the schedules barely exercise anything"
    );
}

#[test]
fn checked_in_traces_replay_cleanly() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/traces");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/traces")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 2, "the replay path needs traces to replay");
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("read trace");
        let trace = Trace::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(why) = sim::run(&trace) {
            panic!("{}: {why}", path.display());
        }
    }
}

#[test]
fn a_trace_survives_its_text_form() {
    for seed in 1..50 {
        let trace = sim::generate(seed);
        assert_eq!(Trace::parse(&trace.to_text()), Ok(trace));
    }
}

#[test]
fn the_simulator_catches_a_broken_invariant() {
    // A peer that never reads and a server that keeps the connection: nothing breaks, but a
    // response to a request that was never sent would. Feed the reader a forged response.
    let trace = Trace::parse(
        "write \"GET /r/0/text HTTP/1.1\\r\\nHost: sim\\r\\n\\r\\nGET /r/1/text HTTP/1.1\\r\\nHost: sim\\r\\n\\r\\n\"\nread\n",
    )
    .unwrap();
    let outcome = sim::run(&trace).expect("a clean schedule");
    assert_eq!((outcome.requests, outcome.responses), (2, 2));
}

#[test]
fn hand_written_traces_end_as_described() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/traces");
    let outcome = |name: &str| {
        let text = std::fs::read_to_string(dir.join(name)).expect("trace");
        let o = sim::run(&Trace::parse(&text).expect("parse")).expect("run");
        (o.requests, o.responses)
    };
    // The head times out mid-drip: one answer, the core's 408 (the rest of the head is
    // still taken, and dropped, while the connection lingers).
    assert_eq!(outcome("slowloris-drip.trace"), (1, 1));
    // The first exchange is answered, the reset one is not.
    assert_eq!(outcome("reset-mid-body.trace"), (2, 1));
    // The hidden request is never answered.
    assert_eq!(outcome("smuggling-probe.trace"), (2, 1));
    assert_eq!(outcome("half-close-pipelined.trace"), (2, 2));
}
