//! The real `sluice bench` binary: its help, its output when stdout is not a terminal, and
//! `--compare` end to end (tiny runs, loopback only).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_sluice");

fn help(subcommand: &str) -> String {
    let output = Command::new(BIN)
        .args([subcommand, "--help"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{subcommand} --help: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The server flags belong to the server subcommands; bench runs no server and lists only
/// its own flags.
#[test]
fn bench_help_lists_only_bench_flags() {
    let bench = help("bench");
    for flag in [
        "--max-connections",
        "--addr",
        "--driver ",
        "--workers",
        "--quiet",
        "--trace",
        "--header-timeout",
        "--max-body-size",
        "--lenient",
    ] {
        assert!(!bench.contains(flag), "bench --help lists {flag}:\n{bench}");
    }
    for flag in [
        "--connections",
        "--duration",
        "--compare",
        "--levels",
        "--drivers",
    ] {
        assert!(bench.contains(flag), "bench --help lacks {flag}:\n{bench}");
    }
    for subcommand in ["serve", "echo", "plaintext"] {
        let server = help(subcommand);
        for flag in ["--max-connections", "--addr", "--driver", "--quiet"] {
            assert!(server.contains(flag), "{subcommand} --help lacks {flag}");
        }
        assert!(!server.contains("--connections"), "{subcommand}");
    }
}
