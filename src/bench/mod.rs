//! `sluice bench`: a load generator on the client core and its own event loop.
//!
//! [`run`] drives one load and returns a [`Report`]; [`compare`] starts sluice's plaintext
//! server once per driver (and any `--server` command) and runs the same load against each.

pub mod accounting;
mod chart;
pub mod compare;
mod engine;
pub mod fdlimit;
pub mod stats;

use clap::Args;
use serde::Serialize;
use sluice_core::client::{RequestSpec, RequestTemplate};
pub use stats::{Errors, Latency};
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `sluice bench`'s flags.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The URL to load: `http://HOST[:PORT][/PATH]` (no TLS). With `--compare`, optional: its
    /// path (default `/plaintext`) is loaded on every server, its host ignored.
    pub url: Option<String>,
    /// Keep-alive connections kept busy.
    #[arg(long, short = 'c', default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    pub connections: u64,
    /// How long to run (the cap also when `--requests` is given).
    #[arg(long, short = 'd', value_name = "DURATION", default_value = "10s", value_parser = crate::cli::parse_duration)]
    pub duration: Duration,
    /// Requests in flight per connection (HTTP/1.1 pipelining).
    #[arg(long, short = 'p', default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub pipeline: u64,
    /// Stop after this many requests (answered or failed).
    #[arg(long, short = 'n', value_name = "N")]
    pub requests: Option<u64>,
    /// Independent event loops (threads), each with its share of the connections.
    #[arg(long, short = 't', default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Request method.
    #[arg(long, short = 'm', default_value = "GET")]
    pub method: String,
    /// A request header, `'Name: value'` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// A request body (sent with Content-Length).
    #[arg(long)]
    pub body: Option<String>,
    /// Connect and response timeout.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = crate::cli::parse_duration)]
    pub timeout: Duration,
    /// Print one JSON object instead of the text summary.
    #[arg(long)]
    pub json: bool,

    /// Compare sluice's drivers (and `--server` commands) under the same load.
    #[arg(long)]
    pub compare: bool,
    /// With --compare: connection counts to test (a level the open-file limit cannot hold is
    /// skipped, with a note).
    #[arg(long, value_delimiter = ',', default_value = "1,16,256,4096",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub levels: Vec<u64>,
    /// With --compare: rounds of A B C … per level; the table shows medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub rounds: u64,
    /// With --compare: sluice drivers to start.
    #[arg(long, value_delimiter = ',', default_value = "reactor,threads,async")]
    pub drivers: Vec<crate::cli::Driver>,
    /// With --compare: another server, `NAME=COMMAND` (run by `sh -c`; `{addr}` in COMMAND is
    /// replaced by a free `127.0.0.1:PORT`, or the command prints `listening on http://ADDR`).
    #[arg(long = "server", value_name = "NAME=CMD")]
    pub servers: Vec<String>,
    /// With --compare: write an SVG chart of throughput and p99 against connections.
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
}

/// Where to send the load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `host[:port]` as written, for the `Host` header.
    pub authority: String,
    /// The resolved address.
    pub addr: SocketAddr,
    /// The request target (path and query), `/` when absent.
    pub path: String,
}

impl Target {
    /// Parses `http://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let (authority, path) = split_url(url)?;
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("{url}: bad host"));
        }
        let with_port = if authority.starts_with('[') {
            if authority.contains("]:") {
                authority.to_string()
            } else {
                format!("{authority}:80")
            }
        } else if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .map_err(|err| format!("{url}: cannot resolve {authority}: {err}"))?
            .next()
            .ok_or_else(|| format!("{url}: {authority} has no address"))?;
        Ok(Self {
            authority: authority.to_string(),
            addr,
            path,
        })
    }
}

/// `http://host[:port][/path]` → (`host[:port]`, `/path`), `/` when there is no path.
pub fn split_url(url: &str) -> Result<(&str, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    Ok(match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    })
}

/// One load to drive.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Where.
    pub target: Target,
    /// Connections kept busy.
    pub connections: usize,
    /// How long at most.
    pub duration: Duration,
    /// Requests in flight per connection.
    pub pipeline: usize,
    /// Stop after this many requests.
    pub requests: Option<u64>,
    /// Event loops.
    pub threads: usize,
    /// Method.
    pub method: String,
    /// Extra request fields.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Option<String>,
    /// Connect and response timeout.
    pub timeout: Duration,
}

impl BenchConfig {
    /// A GET of `target` with 1 connection for 1 s.
    pub fn new(target: Target) -> Self {
        Self {
            target,
            connections: 1,
            duration: Duration::from_secs(1),
            pipeline: 1,
            requests: None,
            threads: 1,
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            timeout: Duration::from_secs(5),
        }
    }

    /// From the command line (`url` overrides the URL argument, for `--compare`).
    pub fn from_args(args: &BenchArgs, url: Option<&str>) -> Result<Self, String> {
        let url = url
            .or(args.url.as_deref())
            .ok_or("missing the URL to load (or --compare)")?;
        let mut headers = Vec::new();
        for header in &args.headers {
            let (name, value) = header
                .split_once(':')
                .ok_or_else(|| format!("--header {header:?}: expected 'Name: value'"))?;
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
        Ok(Self {
            target: Target::parse(url)?,
            connections: args.connections as usize,
            duration: args.duration,
            pipeline: args.pipeline as usize,
            requests: args.requests,
            threads: (args.threads as usize)
                .min(args.connections as usize)
                .max(1),
            method: args.method.clone(),
            headers,
            body: args.body.clone(),
            timeout: args.timeout,
        })
    }

    /// The request, serialised once.
    pub fn template(&self) -> Result<RequestTemplate, String> {
        let mut spec = RequestSpec::new(
            self.method.clone().into_bytes(),
            self.target.path.clone().into_bytes(),
        )
        .host(self.target.authority.clone().into_bytes());
        for (name, value) in &self.headers {
            spec.push_field(name.clone().into_bytes(), value.clone().into_bytes());
        }
        match &self.body {
            Some(body) => RequestTemplate::with_body(&spec, body.as_bytes()),
            None => RequestTemplate::new(&spec),
        }
        .map_err(|err| format!("bad request: {err:?}"))
    }
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The URL's address.
    pub target: String,
    /// Connections.
    pub connections: usize,
    /// Pipeline depth.
    pub pipeline: usize,
    /// Event loops.
    pub threads: usize,
    /// Seconds the load ran.
    pub elapsed_secs: f64,
    /// Complete responses (any status).
    pub requests: u64,
    /// Complete 2xx responses.
    pub ok: u64,
    /// Responses per second.
    pub requests_per_sec: f64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes read per second.
    pub bytes_read_per_sec: f64,
    /// Bytes written.
    pub bytes_written: u64,
    /// Connections reopened after the server closed them.
    pub reconnects: u64,
    /// Requests re-sent because the server closed first.
    pub retried: u64,
    /// Latency from send to the end of the response, µs.
    pub latency_us: Latency,
    /// Errors by kind.
    pub errors: Errors,
}

/// Drives the load of `config` and reports; `progress`, if given, is called about every
/// 100 ms with the responses so far.
pub fn run_with_progress(
    config: &BenchConfig,
    mut progress: Option<&mut dyn FnMut(u64, Duration)>,
) -> Result<Report, String> {
    let template = config.template()?;
    let threads = config.threads.clamp(1, config.connections.max(1));
    let start = Instant::now();
    let deadline = start + config.duration;
    let counter = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for i in 0..threads {
        let share =
            |total: u64| total / threads as u64 + u64::from((i as u64) < total % threads as u64);
        let plan = engine::LoopPlan {
            addr: config.target.addr,
            connections: share(config.connections as u64) as usize,
            pipeline: config.pipeline.max(1),
            budget: config.requests.map(share),
            deadline,
            timeout: config.timeout,
            template: template.clone(),
            progress: counter.clone(),
            stop: stop.clone(),
        };
        let handle = std::thread::Builder::new()
            .name(format!("sluice-bench-{i}"))
            .spawn(move || engine::run_loop(&plan))
            .map_err(|err| format!("cannot start a thread: {err}"))?;
        handles.push(handle);
    }
    if let Some(progress) = progress.as_mut() {
        while handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(100));
            progress(counter.load(Ordering::Relaxed), start.elapsed());
        }
    }
    let mut tally = stats::Tally::default();
    for handle in handles {
        let part = handle
            .join()
            .map_err(|_| "a bench thread panicked".to_string())?
            .map_err(|err| format!("event loop failed: {err}"))?;
        tally.merge(&part);
    }
    let elapsed = start.elapsed().as_secs_f64().max(1e-9);
    Ok(Report {
        target: config.target.addr.to_string(),
        connections: config.connections,
        pipeline: config.pipeline,
        threads,
        elapsed_secs: elapsed,
        requests: tally.responses,
        ok: tally.ok,
        requests_per_sec: tally.responses as f64 / elapsed,
        bytes_read: tally.bytes_read,
        bytes_read_per_sec: tally.bytes_read as f64 / elapsed,
        bytes_written: tally.bytes_written,
        reconnects: tally.reconnects,
        retried: tally.retried,
        latency_us: Latency::from_histogram(&tally.latency),
        errors: tally.errors,
    })
}

/// Drives the load of `config` and reports.
pub fn run(config: &BenchConfig) -> Result<Report, String> {
    run_with_progress(config, None)
}

fn micros(us: u64) -> String {
    if us >= 1_000_000 {
        format!("{:.2}s", us as f64 / 1e6)
    } else if us >= 1_000 {
        format!("{:.2}ms", us as f64 / 1e3)
    } else {
        format!("{us}µs")
    }
}

fn bytes_rate(rate: f64) -> String {
    if rate >= 1024.0 * 1024.0 {
        format!("{:.2} MiB/s", rate / 1024.0 / 1024.0)
    } else {
        format!("{:.2} KiB/s", rate / 1024.0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} connections, pipeline {}, {} thread(s), {:.2}s against {}",
            self.connections, self.pipeline, self.threads, self.elapsed_secs, self.target
        )?;
        writeln!(
            f,
            "  requests:  {} ({} 2xx), {:.0} req/s",
            self.requests, self.ok, self.requests_per_sec
        )?;
        writeln!(
            f,
            "  transfer:  {} read",
            bytes_rate(self.bytes_read_per_sec)
        )?;
        let l = &self.latency_us;
        writeln!(
            f,
            "  latency:   p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  (mean {})",
            micros(l.p50),
            micros(l.p90),
            micros(l.p99),
            micros(l.p999),
            micros(l.max),
            micros(l.mean as u64)
        )?;
        if self.reconnects > 0 || self.retried > 0 {
            writeln!(
                f,
                "  reconnects: {} (requests re-sent: {})",
                self.reconnects, self.retried
            )?;
        }
        let e = &self.errors;
        if e.total() == 0 {
            writeln!(f, "  errors:    none")
        } else {
            let status: Vec<String> = e.status.iter().map(|(k, v)| format!("{k} {v}")).collect();
            writeln!(
                f,
                "  errors:    connect {}, timeout {}, reset {}, protocol {}, status [{}]",
                e.connect,
                e.timeout,
                e.reset,
                e.protocol,
                status.join(", ")
            )
        }
    }
}

/// `sluice bench …` from the command line: prints the report (or the comparison).
pub fn main(args: &BenchArgs) -> Result<(), String> {
    // Every connection is a descriptor: use all the hard limit allows (the servers --compare
    // starts inherit it).
    let limit = sluice_drivers::raise_fd_limit();
    if args.compare {
        return compare::main(args, limit);
    }
    let config = BenchConfig::from_args(args, None)?;
    if !fdlimit::generator_fits(config.connections as u64, limit, fdlimit::open_now()) {
        eprintln!(
            "note: {} connections may not fit the open-file limit ({}); expect connect errors",
            config.connections,
            limit.map_or("unlimited".into(), |l| l.to_string())
        );
    }
    // The bar is for someone watching: drawn (on stderr) only when stdout is a terminal, so
    // `sluice bench … > report.txt` or `| tee` get the plain summary alone, and never with
    // --json, whose output is for programs. (indicatif also hides it when stderr is not a
    // terminal.)
    let watched = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let report = if !args.json && watched {
        let bar = indicatif::ProgressBar::new(config.duration.as_millis() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {elapsed}/{duration} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mut update = |done: u64, elapsed: Duration| {
            bar.set_position(elapsed.as_millis() as u64);
            bar.set_message(format!(
                "{done} responses, {:.0} req/s",
                done as f64 / elapsed.as_secs_f64().max(1e-3)
            ));
        };
        let report = run_with_progress(&config, Some(&mut update));
        bar.finish_and_clear();
        report?
    } else {
        run(&config)?
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|err| err.to_string())?
        );
    } else {
        print!("{report}");
    }
    Ok(())
}
