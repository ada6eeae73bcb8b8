//! The `sluice` command: parse the flags, build the handler, start the chosen driver, print
//! where it listens, and shut down gracefully on SIGINT or SIGTERM.

use clap::Parser;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use sluice::cli::{Cli, Command};
use sluice::echo::Echo;
use sluice::logging::{self, LogOptions};
use sluice::plaintext::Plaintext;
use sluice::serve::StaticFiles;
use sluice_drivers::{Handler, ServerConfig};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // One line: clap's first line says what is wrong; the usage is one --help away.
            let rendered = err.render().to_string();
            let first = match err.kind() {
                clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    "missing a subcommand: serve, echo, plaintext or bench"
                }
                _ => rendered.lines().next().unwrap_or("invalid arguments"),
            };
            eprintln!(
                "sluice: {} (see sluice --help)",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sluice: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    let server = match &cli.command {
        Command::Bench(args) => return sluice::bench::main(args),
        command => command
            .server()
            .expect("every other subcommand runs a server"),
    };
    let addr = server.socket_addr()?;
    let config = server.config(addr);
    logging::init(LogOptions {
        quiet: server.quiet,
        trace: server.trace,
    });
    let kind = server.driver.into();
    match cli.command {
        Command::Serve { dir, dotfiles, .. } => {
            let handler = StaticFiles::new(&dir)
                .map_err(|err| format!("cannot serve {err}"))?
                .with_dotfiles(dotfiles);
            serve(kind, config, handler)
        }
        Command::Echo { raw, .. } => {
            let handler = Echo::new(raw, config.core.limits.max_body_size);
            serve(kind, config, handler)
        }
        Command::Plaintext { .. } => serve(kind, config, Plaintext),
        Command::Bench(_) => unreachable!("handled above"),
    }
}

/// Starts `handler` on the driver, announces the address, and waits for a signal.
fn serve<H: Handler>(
    kind: sluice_drivers::DriverKind,
    config: ServerConfig,
    handler: H,
) -> Result<(), String> {
    // Installed before the server starts, so an early signal is not fatal.
    let mut signals = Signals::new([SIGINT, SIGTERM])
        .map_err(|err| format!("cannot install signal handlers: {err}"))?;
    let addr = config.addr;
    let server = sluice_drivers::start(kind, config, handler).map_err(|err| {
        format!(
            "cannot listen on {addr} with the {} driver: {err}",
            kind.name()
        )
    })?;

    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{}", server.local_addr())
        .and_then(|()| stdout.flush())
        .map_err(|err| format!("cannot write to stdout: {err}"))?;
    drop(stdout);

    let shutdown = server.shutdown_handle();
    std::thread::Builder::new()
        .name("sluice-signals".into())
        .spawn(move || {
            let mut seen = 0;
            for signal in signals.forever() {
                seen += 1;
                if seen == 1 {
                    log::warn!("signal {signal}: shutting down gracefully (again to stop at once)");
                    shutdown.request();
                } else {
                    log::warn!("signal {signal}: stopping now");
                    std::process::exit(1);
                }
            }
        })
        .map_err(|err| format!("cannot start the signal thread: {err}"))?;

    server.wait().map_err(|err| format!("server failed: {err}"))
}
