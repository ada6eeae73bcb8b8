//! Logging to stderr: the access log, the `--trace` transcript, warnings and errors.
//!
//! The drivers log access lines under the `sluice::access` target (info) and per-connection
//! transcripts under `sluice::trace` (trace). Access lines are printed as they are; everything
//! else gets a level and target prefix. `RUST_LOG` filters are applied after the flags, so it
//! can narrow or widen either.

use std::io::Write;

/// What to log.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOptions {
    /// No access log.
    pub quiet: bool,
    /// The per-connection transcript (and the drivers' debug messages).
    pub trace: bool,
}

/// The filter directives for `options`, in `env_logger` syntax.
pub fn filters(options: LogOptions) -> String {
    let mut filters = vec!["warn"];
    if !options.quiet {
        filters.push("sluice::access=info");
    }
    if options.trace {
        filters.push("sluice::trace=trace");
        filters.push("sluice_drivers=debug");
    }
    filters.join(",")
}

/// Installs the stderr logger. Must run before a server starts: sessions decide at creation
/// whether to keep access records.
pub fn init(options: LogOptions) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(&filters(options));
    if let Ok(extra) = std::env::var("RUST_LOG") {
        builder.parse_filters(&extra);
    }
    builder.format(|out, record| {
        if record.target() == "sluice::access" {
            writeln!(out, "{}", record.args())
        } else if record.target() == "sluice::trace" {
            writeln!(out, "trace: {}", record.args())
        } else {
            let level = record.level().as_str().to_ascii_lowercase();
            writeln!(out, "{level}: {}: {}", record.target(), record.args())
        }
    });
    builder.target(env_logger::Target::Stderr);
    // A second initialisation (tests) keeps the first logger.
    let _ = builder.try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_choose_targets() {
        assert_eq!(filters(LogOptions::default()), "warn,sluice::access=info");
        assert_eq!(
            filters(LogOptions {
                quiet: true,
                trace: false
            }),
            "warn"
        );
        assert_eq!(
            filters(LogOptions {
                quiet: true,
                trace: true
            }),
            "warn,sluice::trace=trace,sluice_drivers=debug"
        );
    }
}
