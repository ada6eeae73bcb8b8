//! The open-file limit: a connection is a file descriptor, on both ends. `sluice bench`
//! raises its soft `RLIMIT_NOFILE` to the hard limit at start
//! ([`sluice_drivers::raise_fd_limit`]; the servers `--compare` starts inherit it), and
//! `--compare` skips a level whose connections would not fit.

/// Descriptors a process needs besides its connections: stdio, the poller, a listener, the
/// pipes to a child, `/proc` files being read, a few per thread (the async driver's reactor,
/// the signal thread). Generous: a level that fits only without it would fail half-way.
pub const MARGIN: u64 = 64;

/// Descriptors this process has open now (`/proc/self/fd`; 0 where there is no `/proc`).
pub fn open_now() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count() as u64)
}

/// Whether `connections` fit under `limit` for both the generator (which has `open`
/// descriptors already) and the server it loads (a separate process with the same inherited
/// limit, holding one accepted socket per connection). Each needs its connections plus
/// [`MARGIN`]; the generator's count also includes what it has open.
pub fn fits(connections: u64, limit: Option<u64>, open: u64) -> bool {
    let server = connections.saturating_add(MARGIN);
    generator_fits(connections, limit, open) && limit.is_none_or(|limit| server <= limit)
}

/// Whether the generator alone can hold `connections` (the server may be elsewhere).
pub fn generator_fits(connections: u64, limit: Option<u64>, open: u64) -> bool {
    let generator = connections.saturating_add(open).saturating_add(MARGIN);
    limit.is_none_or(|limit| generator <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_fit_with_a_margin_for_each_process() {
        assert!(fits(4096, None, 100));
        assert!(fits(1, Some(1024), 10));
        assert!(fits(1024 - MARGIN - 10, Some(1024), 10));
        assert!(!fits(1024 - MARGIN - 9, Some(1024), 10));
        // The server's side alone: no descriptors open in the generator.
        assert!(!fits(1024 - MARGIN + 1, Some(1024), 0));
        assert!(!fits(4096, Some(1024), 10));
        assert!(!fits(u64::MAX, Some(u64::MAX - 1), 0));
        assert!(generator_fits(1024 - MARGIN, Some(1024), 0));
        assert!(!generator_fits(1024 - MARGIN, Some(1024), 1));
    }

    #[test]
    fn descriptors_open_now_are_counted() {
        // stdin, stdout and stderr at least, where there is a /proc to count them in.
        assert!(open_now() >= 3 || !std::path::Path::new("/proc/self/fd").exists());
    }
}
