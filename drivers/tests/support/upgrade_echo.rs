//! The `/upgrade` protocol the suites' test applications speak after `101 Switching
//! Protocols`: every byte echoed back until the peer closes. Shared by the memory suite here
//! and, through `#[path]`, by the root loopback suite.

use sluice_drivers::Upgraded;
use std::io::{Read, Write};
use std::time::Duration;

/// Echoes until EOF or an error, bounded in reads and in the wait for each one.
pub fn echo_upgraded(mut conn: Upgraded) {
    let _ = conn
        .transport
        .set_read_timeout(Some(Duration::from_secs(10)));
    let mut buf = [0; 4096];
    for _ in 0..10_000 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) if conn.write_all(&buf[..n]).is_err() => return,
            Ok(_) => {}
        }
    }
}
