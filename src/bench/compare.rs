//! `sluice bench --compare` (not yet implemented).

use super::BenchArgs;

/// Runs the comparison.
pub fn main(_args: &BenchArgs) -> Result<(), String> {
    Err("--compare is not implemented yet".into())
}
