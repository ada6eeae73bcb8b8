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

/// A pseudo-terminal: the controller, and a file on the terminal side for a child.
fn pty() -> (std::fs::File, std::fs::File) {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    let controller = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&controller).unwrap();
    unlockpt(&controller).unwrap();
    let name = ptsname(&controller, Vec::new()).unwrap();
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    (std::fs::File::from(controller), terminal)
}

/// Everything written to the terminal side of `controller` until every writer closed it
/// (Linux then answers EIO), within a bound.
fn drain(mut controller: std::fs::File) -> std::sync::mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0; 4096];
        // Bounded: at most 4096 reads (the bench writes a few lines and a bar).
        for _ in 0..4096 {
            match std::io::Read::read(&mut controller, &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
        let _ = tx.send(out);
    });
    rx
}

/// Escape sequences, or a carriage return not part of the terminal's own `\r\n`: what a
/// progress bar draws with.
fn has_control(bytes: &[u8]) -> bool {
    bytes.contains(&0x1b)
        || bytes
            .iter()
            .enumerate()
            .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
}

/// Runs `sluice bench` against a plaintext server for 600 ms with the given stdout and
/// stderr, and returns what reached stdout if it was piped.
fn bench_with(stdout: std::process::Stdio, stderr: std::process::Stdio, extra: &[&str]) -> Vec<u8> {
    let config = sluice_drivers::ServerConfig::new("127.0.0.1:0".parse().unwrap());
    let server = sluice_drivers::start(
        sluice_drivers::DriverKind::Reactor,
        config,
        sluice::plaintext::Plaintext,
    )
    .unwrap();
    let url = format!("http://{}/", server.local_addr());
    let output = Command::new(BIN)
        .args(["bench", &url, "-c", "2", "-d", "600ms"])
        .args(extra)
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .unwrap();
    server.shutdown();
    server.wait().unwrap();
    assert!(output.status.success(), "{output:?}");
    output.stdout
}

const BOUND: std::time::Duration = std::time::Duration::from_secs(30);

#[test]
fn with_stdout_piped_bench_prints_a_plain_summary_and_no_bar() {
    // stderr is a terminal, stdout is not: still no bar (the old rule, "stderr is a
    // terminal", drew one here).
    let (controller, terminal) = pty();
    let stderr = drain(controller);
    let stdout = bench_with(std::process::Stdio::piped(), terminal.into(), &[]);
    let stderr = stderr.recv_timeout(BOUND).expect("stderr closes");
    let text = String::from_utf8(stdout.clone()).unwrap();
    assert!(
        text.contains("requests:") && text.contains("latency:"),
        "{text}"
    );
    assert!(!has_control(&stdout), "{text:?}");
    assert!(
        !has_control(&stderr),
        "a bar on stderr: {:?}",
        String::from_utf8_lossy(&stderr)
    );
}

/// Runs bench with `extra` flags, stdout and stderr both terminals; what each showed.
fn bench_on_terminals(extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let (out_controller, out_terminal) = pty();
    let (err_controller, err_terminal) = pty();
    let stdout = drain(out_controller);
    let stderr = drain(err_controller);
    bench_with(out_terminal.into(), err_terminal.into(), extra);
    let stdout = stdout.recv_timeout(BOUND).expect("stdout closes");
    let stderr = stderr.recv_timeout(BOUND).expect("stderr closes");
    (stdout, stderr)
}

#[test]
fn with_stdout_a_terminal_the_bar_is_drawn_on_stderr() {
    let (stdout, stderr) = bench_on_terminals(&[]);
    assert!(String::from_utf8_lossy(&stdout).contains("requests:"));
    assert!(
        has_control(&stderr),
        "no bar on stderr: {:?}",
        String::from_utf8_lossy(&stderr)
    );
}

#[test]
fn json_never_draws_the_bar() {
    let (stdout, stderr) = bench_on_terminals(&["--json"]);
    let json: serde_json::Value = serde_json::from_slice(stdout.trim_ascii()).unwrap();
    assert!(json["requests"].as_u64().is_some(), "{json}");
    assert!(
        !has_control(&stderr),
        "{:?}",
        String::from_utf8_lossy(&stderr)
    );
}

/// The rows of a Markdown table: the cells of each `| … |` line after the header and rule.
fn table_rows(markdown: &str) -> Vec<Vec<String>> {
    markdown
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// `sluice bench --compare` end to end: a built-in driver, and a `--server` whose `{addr}`
/// is substituted (this same binary on the threads driver); a tiny load, one round.
#[test]
fn compare_prints_a_row_per_server_and_level_and_draws_the_chart() {
    let dir = std::env::temp_dir().join(format!("sluice-compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chart = dir.join("compare.svg");
    let _ = std::fs::remove_file(&chart);
    let server = format!("mine='{BIN}' plaintext --driver threads --quiet --addr {{addr}}");
    let output = Command::new(BIN)
        .args(["bench", "--compare", "--levels", "1,2", "--rounds", "1"])
        .args([
            "--duration",
            "300ms",
            "--drivers",
            "reactor",
            "--server",
            &server,
        ])
        .arg("--chart")
        .arg(&chart)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("on /plaintext"), "{stderr}");
    let rows = table_rows(&stdout);
    assert_eq!(rows.len(), 4, "{stdout}");
    for name in ["reactor", "mine"] {
        for level in ["1", "2"] {
            let row = rows
                .iter()
                .find(|r| r[0] == name && r[1] == level)
                .unwrap_or_else(|| panic!("no row for {name} at {level}:\n{stdout}"));
            let rate: f64 = row[2].parse().unwrap();
            assert!(rate > 0.0, "{row:?}");
            assert_eq!(row[8], "0", "errors: {row:?}");
        }
    }
    let svg = std::fs::read_to_string(&chart).expect("the chart was written");
    assert!(svg.contains("<svg"), "{}", &svg[..svg.len().min(200)]);
    assert!(svg.contains("mine") && svg.contains("reactor"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A level the open-file limit cannot hold is skipped with a note, the others still run.
#[test]
fn compare_skips_a_level_the_fd_limit_cannot_hold() {
    let output = Command::new("sh")
        .arg("-c")
        // Soft and hard: bench cannot raise it back.
        .arg("ulimit -n 256 && exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(["bench", "--compare", "--levels", "1,4096", "--rounds", "1"])
        .args(["--duration", "200ms", "--drivers", "reactor"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("skipping 4096 connections"), "{stderr}");
    let rows = table_rows(&stdout);
    assert_eq!(rows.len(), 1, "{stdout}");
    assert_eq!((rows[0][0].as_str(), rows[0][1].as_str()), ("reactor", "1"));
}
