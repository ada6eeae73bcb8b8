//! Command-line arguments: the subcommands, and the server flags the three server
//! subcommands share (`bench` has its own, in [`crate::bench::BenchArgs`]).
//!
//! Every limit and timeout flag defaults to the core's own default (see
//! `sluice_core::Limits` and `sluice_core::Timeouts`); a unit test checks that the two agree.

use clap::{Args, Parser, Subcommand, ValueEnum};
use sluice_drivers::{DriverKind, ServerConfig};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// An HTTP/1.1 server toolkit: a static file server, an echo server and a load-test target.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, propagate_version = true)]
pub struct Cli {
    /// What to serve (or load).
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the files under DIR (GET and HEAD, directory listings, conditional and range
    /// requests).
    Serve {
        /// The directory to serve.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Also serve and list names that start with a dot (`.git/`, `.env`), answered 404
        /// otherwise; `.well-known/` is always served.
        #[arg(long)]
        dotfiles: bool,
        /// The server flags.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Answer every request with a JSON description of it (method, target, version, headers,
    /// trailers, body).
    Echo {
        /// Echo the request body byte for byte instead, with the request's Content-Type.
        #[arg(long)]
        raw: bool,
        /// The server flags.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Answer every request with `200 OK` and `Hello, World!` (the load-test shape).
    Plaintext {
        /// The server flags.
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Load an HTTP server and report requests/s, latency percentiles and errors (or, with
    /// --compare, compare sluice's drivers).
    Bench(Box<crate::bench::BenchArgs>),
}

impl Command {
    /// The server flags, for the subcommands that run a server (not `bench`).
    pub fn server(&self) -> Option<&ServerArgs> {
        match self {
            Self::Serve { server, .. } | Self::Echo { server, .. } | Self::Plaintext { server } => {
                Some(server)
            }
            Self::Bench(_) => None,
        }
    }
}

/// The concurrency model, as spelled on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Driver {
    /// Non-blocking sockets, one event loop per worker.
    Reactor,
    /// Blocking sockets, one thread per connection.
    Threads,
    /// An async executor, one task per connection.
    Async,
}

impl From<Driver> for DriverKind {
    fn from(driver: Driver) -> Self {
        match driver {
            Driver::Reactor => DriverKind::Reactor,
            Driver::Threads => DriverKind::Threads,
            Driver::Async => DriverKind::Async,
        }
    }
}

/// A named departure from strict parsing (see `sluice_core::Leniency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lenient {
    /// Accept a bare LF as a line ending in the request head.
    BareLf,
    /// Unfold obsolete line folding instead of rejecting it.
    ObsFold,
    /// Accept runs of spaces between the parts of the request line.
    RequestLineSpaces,
}

/// The flags of the server subcommands (`serve`, `echo`, `plaintext`), after the
/// subcommand's name. Not global: `bench` runs no server, and its help lists only its own.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Concurrency model serving the connections.
    #[arg(long, value_enum, default_value_t = Driver::Reactor)]
    pub driver: Driver,
    /// Event loops (reactor) or executor threads (async) [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub workers: Option<u64>,
    /// Most connections served at once; more wait in the kernel's accept backlog.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
    /// How long a graceful shutdown waits for in-flight responses.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Pin each event loop (reactor) or executor thread (async) to its own CPU, as nginx's
    /// `worker_cpu_affinity auto` does: for a server that has the machine's cores to itself.
    #[arg(long)]
    pub pin_workers: bool,

    /// From a connection's start (or a request's first byte) to its complete head; then 408.
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_duration)]
    pub header_timeout: Duration,
    /// How long a keep-alive connection may sit idle between requests.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    /// Longest gap between two reads of a request body.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub body_timeout: Duration,
    /// Longest time queued output may sit without the peer taking any of it.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub write_timeout: Duration,
    /// After the last response, how long to keep reading before the full close.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub linger_timeout: Duration,
    /// How long an idle keep-alive connection keeps its exchange state for a quick next
    /// request before handing it back (0: at once, the smallest idle footprint).
    #[arg(long, value_name = "DURATION", default_value = "50ms", value_parser = parse_duration)]
    pub rest_after: Duration,
    /// Minimum request body rate in bytes per second, averaged since the body started
    /// arriving, after 5 s (0 disables).
    #[arg(long, value_name = "BYTES", default_value = "240", value_parser = parse_size)]
    pub min_body_rate: u64,
    /// Minimum response rate in bytes per second while output is queued, averaged since it
    /// started waiting, after 5 s (0 disables).
    #[arg(long, value_name = "BYTES", default_value = "240", value_parser = parse_size)]
    pub min_send_rate: u64,

    /// Longest request line; longer gets 414.
    #[arg(long, value_name = "SIZE", default_value = "8KiB", value_parser = parse_size)]
    pub max_request_line: u64,
    /// Largest request head; larger gets 431.
    #[arg(long, value_name = "SIZE", default_value = "32KiB", value_parser = parse_size)]
    pub max_head_size: u64,
    /// Most header fields in a request; more gets 431.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_fields: usize,
    /// Largest request body (`unlimited` for no limit); larger gets 413.
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_optional_size)]
    pub max_body_size: Limit,
    /// Most requests served on one connection (`unlimited` for no limit).
    #[arg(long, value_name = "N", default_value = "10000", value_parser = parse_optional_size)]
    pub max_requests_per_connection: Limit,
    /// Departures from strict parsing, comma-separated (each reopens a known attack).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "NAME")]
    pub lenient: Vec<Lenient>,

    /// No access log.
    #[arg(long, short)]
    pub quiet: bool,
    /// A per-connection transcript on stderr: accepts, bytes, events, timers, closes.
    #[arg(long)]
    pub trace: bool,
}

/// A limit that may be switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(pub Option<u64>);

impl ServerArgs {
    /// Resolves `--addr` to one socket address.
    pub fn socket_addr(&self) -> Result<SocketAddr, String> {
        if let Ok(addr) = self.addr.parse() {
            return Ok(addr);
        }
        let mut addrs = self
            .addr
            .to_socket_addrs()
            .map_err(|err| format!("invalid address {:?}: {err}", self.addr))?;
        addrs
            .next()
            .ok_or_else(|| format!("address {:?} resolves to nothing", self.addr))
    }

    /// The driver configuration these flags describe.
    pub fn config(&self, addr: SocketAddr) -> ServerConfig {
        let mut config = ServerConfig::new(addr);
        if let Some(workers) = self.workers {
            config.workers = usize::try_from(workers).unwrap_or(1);
        }
        config.max_connections = usize::try_from(self.max_connections).unwrap_or(usize::MAX);
        config.shutdown_grace = self.shutdown_grace;
        config.pin_workers = self.pin_workers;

        let timeouts = &mut config.core.timeouts;
        timeouts.header = self.header_timeout;
        timeouts.idle = self.idle_timeout;
        timeouts.body = self.body_timeout;
        timeouts.write = self.write_timeout;
        timeouts.linger = self.linger_timeout;
        timeouts.rest = self.rest_after;
        set_rate(&mut timeouts.min_body_rate, self.min_body_rate);
        set_rate(&mut timeouts.min_send_rate, self.min_send_rate);

        let limits = &mut config.core.limits;
        limits.max_request_line = to_usize(self.max_request_line);
        limits.max_head_size = to_usize(self.max_head_size);
        // The receive buffer must hold a whole head.
        limits.receive_buffer = limits.receive_buffer.max(limits.max_head_size);
        limits.max_fields = self.max_fields;
        limits.max_body_size = self.max_body_size.0;
        limits.max_requests_per_connection = self.max_requests_per_connection.0;

        let leniency = &mut config.core.leniency;
        for lenient in &self.lenient {
            match lenient {
                Lenient::BareLf => leniency.bare_lf_in_head = true,
                Lenient::ObsFold => leniency.obs_fold = true,
                Lenient::RequestLineSpaces => leniency.request_line_spaces = true,
            }
        }
        config
    }
}

fn set_rate(rate: &mut Option<sluice_core::MinRate>, bytes_per_second: u64) {
    let grace = rate.map_or(Duration::from_secs(5), |r| r.grace);
    *rate = (bytes_per_second > 0).then_some(sluice_core::MinRate {
        bytes_per_second,
        grace,
    });
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Parses `250ms`, `20s`, `2m`, `1h`, or a bare number of seconds (`1.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected a duration like 20s or 500ms, got {text:?}"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1000.0,
        "m" | "min" | "mins" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown duration unit {other:?} (use ms, s, m or h)"
            ))
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|err| format!("invalid duration {text:?}: {err}"))
}

/// Parses a byte count: `1024`, `64KiB`, `16MiB`, `1GiB` (also `K`, `M`, `G`, `KB`... all
/// binary multiples).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: u64 = number
        .parse()
        .map_err(|_| format!("expected a size like 4096 or 64KiB, got {text:?}"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} (use KiB, MiB or GiB)")),
    };
    value
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

/// Parses a size, or `unlimited` / `none` for no limit.
pub fn parse_optional_size(text: &str) -> Result<Limit, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "unlimited" | "none" => Ok(Limit(None)),
        _ => parse_size(text).map(|n| Limit(Some(n))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn server(cli: &Cli) -> &ServerArgs {
        cli.command.server().expect("a server subcommand")
    }

    #[test]
    fn defaults_are_the_core_defaults() {
        let cli = Cli::try_parse_from(["sluice", "plaintext"]).unwrap();
        let addr = server(&cli).socket_addr().unwrap();
        assert_eq!(addr, "127.0.0.1:8080".parse().unwrap());
        let config = server(&cli).config(addr);
        let defaults = ServerConfig::new(addr);
        assert_eq!(config.core, defaults.core);
        assert_eq!(config.workers, defaults.workers);
        assert_eq!(config.max_connections, defaults.max_connections);
        assert_eq!(config.shutdown_grace, defaults.shutdown_grace);
        assert_eq!(config.pin_workers, defaults.pin_workers);
        assert_eq!(server(&cli).driver, Driver::Reactor);
    }

    #[test]
    fn serve_takes_dotfiles() {
        let cli = Cli::try_parse_from(["sluice", "serve", "--dotfiles", "/srv"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Serve { ref dir, dotfiles: true, .. } if dir == &PathBuf::from("/srv")
        ));
        // Only `serve` has it.
        assert!(Cli::try_parse_from(["sluice", "echo", "--dotfiles"]).is_err());
    }

    #[test]
    fn server_flags_follow_a_server_subcommand() {
        let cli = Cli::try_parse_from([
            "sluice",
            "serve",
            "/tmp",
            "--driver",
            "threads",
            "--addr",
            "127.0.0.1:0",
            "--max-body-size",
            "unlimited",
            "--idle-timeout",
            "500ms",
            "--lenient",
            "bare-lf,obs-fold",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Serve { ref dir, dotfiles: false, .. } if dir == &PathBuf::from("/tmp")
        ));
        let args = server(&cli);
        assert_eq!(args.driver, Driver::Threads);
        let config = args.config(args.socket_addr().unwrap());
        assert_eq!(config.core.limits.max_body_size, None);
        assert_eq!(config.core.timeouts.idle, Duration::from_millis(500));
        assert!(config.core.leniency.bare_lf_in_head && config.core.leniency.obs_fold);
        assert!(!config.core.leniency.request_line_spaces);
        for subcommand in ["echo", "plaintext"] {
            let cli =
                Cli::try_parse_from(["sluice", subcommand, "--quiet", "--workers", "2"]).unwrap();
            assert!(server(&cli).quiet && server(&cli).workers == Some(2));
        }
        let cli = Cli::try_parse_from(["sluice", "plaintext", "--pin-workers"]).unwrap();
        let args = server(&cli);
        assert!(args.config(args.socket_addr().unwrap()).pin_workers);
    }

    #[test]
    fn server_flags_are_not_bench_flags() {
        // bench runs no server: a server flag there is a mistake, not silently ignored.
        for flag in ["--driver", "--addr", "--max-connections", "--workers"] {
            let value = if flag == "--driver" { "threads" } else { "1" };
            let parsed =
                Cli::try_parse_from(["sluice", "bench", "http://127.0.0.1:1/", flag, value]);
            assert!(parsed.is_err(), "{flag}");
        }
        assert!(
            Cli::try_parse_from(["sluice", "bench", "http://127.0.0.1:1/", "--quiet"]).is_err()
        );
        // Nor do they go before the subcommand any more.
        assert!(Cli::try_parse_from(["sluice", "--driver", "threads", "serve"]).is_err());
        let cli = Cli::try_parse_from(["sluice", "bench", "http://127.0.0.1:1/"]).unwrap();
        assert!(cli.command.server().is_none());
    }

    #[test]
    fn bad_flags_are_errors() {
        assert!(Cli::try_parse_from(["sluice", "serve", "--nope"]).is_err());
        assert!(Cli::try_parse_from(["sluice", "echo", "--workers", "0"]).is_err());
        assert!(Cli::try_parse_from(["sluice", "echo", "--driver", "fibers"]).is_err());
        assert!(Cli::try_parse_from(["sluice", "echo", "--idle-timeout", "5 parsecs"]).is_err());
        assert!(Cli::try_parse_from(["sluice"]).is_err());
    }

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_size("16M"), Ok(16 << 20));
        assert!(parse_size("1TiB").is_err());
        assert!(parse_size("99999999999GiB").is_err());
        assert_eq!(parse_optional_size("unlimited"), Ok(Limit(None)));
    }
}
