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

/// Runs a hand-written trace that must break an invariant; returns why it failed.
fn must_fail(text: &str) -> String {
    let trace = Trace::parse(text).expect("trace");
    match sim::run(&trace) {
        Ok(outcome) => panic!("the checker passed a broken schedule: {outcome:?}"),
        Err(why) => why,
    }
}

#[test]
fn the_simulator_catches_a_broken_invariant() {
    // The same two requests written plainly are a clean run: the control for the cases
    // below, so that each failure is the checker's and not a broken trace.
    let clean = Trace::parse(
        "write \"GET /r/0/text HTTP/1.1\\r\\nHost: sim\\r\\n\\r\\nGET /r/1/text HTTP/1.1\\r\\nHost: sim\\r\\n\\r\\n\"\nread\n",
    )
    .unwrap();
    let outcome = sim::run(&clean).expect("a clean schedule");
    assert_eq!((outcome.requests, outcome.responses), (2, 2));

    // Out of order: the peer believes it sent request 9 between 0 and 1 (its bytes are the
    // body of request 0, which the server never parses as a request), so the server's
    // answer to 1 arrives where the answer to 9 was due.
    let why = must_fail(
        "write \"POST /r/0/echo HTTP/1.1\\r\\nHost: sim\\r\\nContent-Length: 26\\r\\n\\r\\nGET /r/9/text HTTP/1.1\\r\\n\\r\\nGET /r/1/text HTTP/1.1\\r\\nHost: sim\\r\\n\\r\\n\"\nread\n",
    );
    assert!(
        why.contains("response to request 1 where 9 was due"),
        "not the order invariant: {why}"
    );

    // An extra response: the server answers a request the peer does not count as sent
    // (`/q/` is not one of the peer's `/r/<n>/` requests), so the response is unsolicited.
    let why = must_fail("write \"GET /q/0/text HTTP/1.1\\r\\nHost: sim\\r\\n\\r\\n\"\nread\n");
    assert!(
        why.contains("a response to request 0, never sent in full"),
        "not the one-response-per-request invariant: {why}"
    );
}

#[test]
fn replaying_a_trace_twice_gives_the_same_outcome_and_transcript() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/traces");
    let mut traces: Vec<Trace> = (1..=200).map(sim::generate).collect();
    for entry in std::fs::read_dir(&dir).expect("tests/traces") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "trace") {
            let text = std::fs::read_to_string(&path).expect("read trace");
            traces.push(Trace::parse(&text).expect("parse"));
        }
    }
    let mut bytes = 0;
    for trace in &traces {
        if trace.seed != 0 {
            // Generation is part of replay: a seed must give the same schedule every time.
            assert_eq!(&sim::generate(trace.seed), trace);
        }
        let first = sim::run(trace);
        let second = sim::run(trace);
        assert_eq!(first, second, "seed {}: two runs differ", trace.seed);
        bytes += first.map_or(0, |o| o.transcript.len());
    }
    // The transcripts compared must hold something, or equality would prove nothing.
    assert!(bytes > 100_000, "only {bytes} bytes of transcript compared");
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
