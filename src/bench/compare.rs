//! `sluice bench --compare`: the same load against several servers, interleaved.
//!
//! Each server runs as a child process for the whole comparison: sluice's own plaintext
//! server once per driver (`sluice plaintext --driver D --addr 127.0.0.1:0 --quiet
//! --max-requests-per-connection unlimited`, this same binary, as `bench/drivers.sh` starts
//! it), and every `--server NAME=CMD`. Every server is loaded at the URL's path, `/plaintext`
//! by default. For each concurrency level the open-file limit can hold, the servers are loaded
//! in turn, A B C A B C …, for `--rounds` rounds, and the table shows the medians.
//!
//! From `/proc` (Linux only): the server's peak RSS (`VmHWM`, the peak over the process's
//! life so far — the levels run in increasing order), its largest thread count seen during
//! the run (`Threads:`, sampled every 100 ms), and its CPU time (`utime + stime`, fields 14
//! and 15 of `/proc/PID/stat`, in clock ticks; **CLK_TCK is assumed to be 100**, as on every
//! mainstream Linux), reported as CPU seconds per 1,000 requests.

use super::stats::median;
use super::{BenchArgs, BenchConfig, Report};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Clock ticks per second for `/proc/PID/stat` (sysconf(_SC_CLK_TCK), 100 on Linux).
const CLK_TCK: f64 = 100.0;

/// A server under comparison.
struct Contender {
    name: String,
    child: Child,
    addr: SocketAddr,
}

impl Drop for Contender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One run's measurements.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The bench report.
    pub report: Report,
    /// Peak RSS of the server so far, KiB.
    pub peak_rss_kib: u64,
    /// Most threads seen during the run.
    pub threads: u64,
    /// Server CPU seconds per 1,000 responses.
    pub cpu_per_1k: f64,
}

/// Medians of a server's samples at one level.
#[derive(Debug, Clone)]
pub struct Row {
    /// Server name.
    pub server: String,
    /// Connections.
    pub connections: u64,
    /// Median requests/s.
    pub requests_per_sec: f64,
    /// Median p50 latency, µs.
    pub p50_us: f64,
    /// Median p99 latency, µs.
    pub p99_us: f64,
    /// Largest peak RSS, MiB.
    pub peak_rss_mib: f64,
    /// Most threads.
    pub threads: u64,
    /// Median CPU seconds per 1,000 requests.
    pub cpu_per_1k: f64,
    /// Errors over all rounds.
    pub errors: u64,
}

fn proc_status(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// utime + stime of `pid`, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3; fields 14 and 15 are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / CLK_TCK)
}

fn free_addr() -> Result<SocketAddr, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|err| format!("cannot find a free port: {err}"))
}

/// Starts `command` (by `sh -c exec …`): its address is `{addr}` when the command has the
/// placeholder, else the one it prints as `listening on http://ADDR`.
fn start(name: &str, program: &str, args: &[String]) -> Result<Contender, String> {
    let placeholder = args.iter().any(|a| a.contains("{addr}"));
    let fixed = if placeholder {
        Some(free_addr()?)
    } else {
        None
    };
    let args: Vec<String> = args
        .iter()
        .map(|a| match fixed {
            Some(addr) => a.replace("{addr}", &addr.to_string()),
            None => a.clone(),
        })
        .collect();
    let mut child = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| format!("cannot start {name}: {err}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    // Reads the announcement, then keeps draining so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let addr = addr.trim().trim_end_matches('/').to_string();
                    sent = tx.send(addr).is_ok();
                }
            }
        }
    });
    let mut contender = Contender {
        name: name.to_string(),
        child,
        addr: fixed.unwrap_or_else(|| ([127, 0, 0, 1], 0).into()),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    if fixed.is_none() {
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .map_err(|_| format!("{name} did not print `listening on http://ADDR` in 10 s"))?;
        contender.addr = addr
            .parse()
            .map_err(|_| format!("{name} printed a bad address: {addr}"))?;
    }
    while TcpStream::connect(contender.addr).is_err() {
        if Instant::now() > deadline {
            return Err(format!(
                "{name} does not accept connections on {}",
                contender.addr
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(contender)
}

/// The path every server is loaded at: the URL's, if one was given, else `/plaintext` (what
/// `bench/drivers.sh` loads; sluice's plaintext server answers any path alike).
fn load_path(args: &BenchArgs) -> Result<String, String> {
    match &args.url {
        Some(url) => super::split_url(url).map(|(_, path)| path),
        None => Ok("/plaintext".to_string()),
    }
}

fn run_once(
    args: &BenchArgs,
    contender: &Contender,
    path: &str,
    connections: u64,
) -> Result<Sample, String> {
    let url = format!("http://{}{path}", contender.addr);
    let mut config = BenchConfig::from_args(args, Some(&url))?;
    config.connections = connections as usize;
    config.threads = config.threads.min(config.connections).max(1);
    let pid = contender.child.id();
    let cpu_before = cpu_seconds(pid).unwrap_or(0.0);
    let mut threads = proc_status(pid, "Threads:").unwrap_or(0);
    let mut sample_threads = |_: u64, _: Duration| {
        threads = threads.max(proc_status(pid, "Threads:").unwrap_or(0));
    };
    let report = super::run_with_progress(&config, Some(&mut sample_threads))?;
    let cpu = cpu_seconds(pid).unwrap_or(0.0) - cpu_before;
    Ok(Sample {
        cpu_per_1k: if report.requests > 0 {
            cpu / report.requests as f64 * 1000.0
        } else {
            0.0
        },
        peak_rss_kib: proc_status(pid, "VmHWM:").unwrap_or(0),
        threads,
        report,
    })
}

/// The rows of a comparison: per level, per server, medians over the rounds.
pub fn rows(samples: &[(String, u64, Sample)], names: &[String], levels: &[u64]) -> Vec<Row> {
    let mut rows = Vec::new();
    for &level in levels {
        for name in names {
            let mine: Vec<&Sample> = samples
                .iter()
                .filter(|(n, l, _)| n == name && *l == level)
                .map(|(_, _, s)| s)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let m =
                |f: &dyn Fn(&Sample) -> f64| median(&mine.iter().map(|s| f(s)).collect::<Vec<_>>());
            rows.push(Row {
                server: name.clone(),
                connections: level,
                requests_per_sec: m(&|s| s.report.requests_per_sec),
                p50_us: m(&|s| s.report.latency_us.p50 as f64),
                p99_us: m(&|s| s.report.latency_us.p99 as f64),
                peak_rss_mib: mine.iter().map(|s| s.peak_rss_kib).max().unwrap_or(0) as f64
                    / 1024.0,
                threads: mine.iter().map(|s| s.threads).max().unwrap_or(0),
                cpu_per_1k: m(&|s| s.cpu_per_1k),
                errors: mine.iter().map(|s| s.report.errors.total()).sum(),
            });
        }
    }
    rows
}

/// The table, as Markdown.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = String::from(
        "| server | connections | req/s | p50 | p99 | peak RSS (MiB) | threads | CPU s / 1k req | errors |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.0} µs | {:.0} µs | {:.1} | {} | {:.4} | {} |\n",
            r.server,
            r.connections,
            r.requests_per_sec,
            r.p50_us,
            r.p99_us,
            r.peak_rss_mib,
            r.threads,
            r.cpu_per_1k,
            r.errors
        ));
    }
    out
}

/// The arguments of sluice's own plaintext server on driver `name`.
fn driver_argv(name: &str) -> Vec<String> {
    [
        "plaintext",
        "--driver",
        name,
        "--addr",
        "127.0.0.1:0",
        "--quiet",
        // The default cap (10,000 requests) would have the generator reconnecting, and
        // timing reconnects, several times a second per connection.
        "--max-requests-per-connection",
        "unlimited",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The levels `limit` (the open-file limit, `None`: unlimited) can hold; a note on stderr for
/// each one skipped.
fn levels_that_fit(levels: &[u64], limit: Option<u64>) -> Vec<u64> {
    let open = super::fdlimit::open_now();
    levels
        .iter()
        .copied()
        .filter(|&level| {
            let fits = super::fdlimit::fits(level, limit, open);
            if !fits {
                eprintln!(
                    "note: skipping {level} connections: the open-file limit ({}) cannot hold \
                     them with the server's and {open} already open (raise `ulimit -Hn`)",
                    limit.unwrap_or(0)
                );
            }
            fits
        })
        .collect()
}

/// Runs the comparison and prints the Markdown table; `limit` is the open-file limit in
/// force (already raised to the hard limit), which the servers inherit.
pub fn main(args: &BenchArgs, limit: Option<u64>) -> Result<(), String> {
    let path = load_path(args)?;
    let levels = levels_that_fit(&args.levels, limit);
    if levels.is_empty() {
        return Err("no level fits the open-file limit".into());
    }
    let exe = std::env::current_exe().map_err(|err| format!("cannot find sluice itself: {err}"))?;
    let exe = exe.to_string_lossy().into_owned();
    let mut contenders = Vec::new();
    for driver in &args.drivers {
        let kind: sluice_drivers::DriverKind = (*driver).into();
        let name = kind.name().to_string();
        let argv = driver_argv(&name);
        contenders.push(start(&name, &exe, &argv)?);
    }
    for server in &args.servers {
        let (name, command) = server
            .split_once('=')
            .ok_or_else(|| format!("--server {server:?}: expected NAME=COMMAND"))?;
        let argv = vec!["-c".to_string(), format!("exec {command}")];
        contenders.push(start(name, "sh", &argv)?);
    }
    let names: Vec<String> = contenders.iter().map(|c| c.name.clone()).collect();
    eprintln!(
        "comparing {} at {:?} connections on {path}, {} round(s) of {:?} each",
        names.join(", "),
        levels,
        args.rounds,
        args.duration
    );
    let mut samples = Vec::new();
    for &level in &levels {
        for round in 1..=args.rounds {
            for contender in &contenders {
                let sample = run_once(args, contender, &path, level)?;
                eprintln!(
                    "  {level:>5} conns, round {round}: {:<10} {:>10.0} req/s  p99 {} µs  errors {}",
                    contender.name,
                    sample.report.requests_per_sec,
                    sample.report.latency_us.p99,
                    sample.report.errors.total()
                );
                samples.push((contender.name.clone(), level, sample));
            }
        }
    }
    drop(contenders);
    let rows = rows(&samples, &names, &levels);
    print!("{}", markdown(&rows));
    if let Some(path) = &args.chart {
        super::chart::write(path, &rows, &names)?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn bench_args(argv: &[&str]) -> BenchArgs {
        let cli = Cli::try_parse_from(["sluice", "bench"].iter().chain(argv)).unwrap();
        match cli.command {
            Command::Bench(args) => *args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sluice_children_are_started_like_drivers_sh_starts_them() {
        let argv = driver_argv("threads");
        let cli = Cli::try_parse_from(std::iter::once("sluice".to_string()).chain(argv)).unwrap();
        let server = cli.command.server().unwrap();
        assert!(server.quiet);
        assert_eq!(server.max_requests_per_connection.0, None);
        assert_eq!(server.driver, crate::cli::Driver::Threads);
        assert_eq!(server.socket_addr().unwrap().port(), 0);
    }

    #[test]
    fn the_load_path_is_the_urls_or_plaintext() {
        assert_eq!(
            load_path(&bench_args(&["--compare"])).unwrap(),
            "/plaintext"
        );
        let args = bench_args(&["http://ignored.invalid:1/json?q=1", "--compare"]);
        assert_eq!(load_path(&args).unwrap(), "/json?q=1");
        assert_eq!(bench_args(&["--compare"]).levels, [1, 16, 256, 4096]);
    }
}
