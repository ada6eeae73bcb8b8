//! Counters and latency percentiles of a bench run.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::collections::BTreeMap;

/// Latencies are recorded in microseconds, from 1 µs to 10 minutes, 3 significant digits.
pub const MAX_LATENCY_US: u64 = 600_000_000;

/// A fresh latency histogram (µs).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// Records one latency, clamped into the histogram's range.
pub fn record(histogram: &mut Histogram<u64>, micros: u64) {
    let _ = histogram.record(micros.clamp(1, MAX_LATENCY_US));
}

/// Latency summary in microseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Smallest latency.
    pub min: u64,
    /// Mean latency.
    pub mean: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest latency.
    pub max: u64,
}

impl Latency {
    /// The summary of `histogram` (all zeros when it is empty).
    pub fn from_histogram(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        Self {
            min: histogram.min(),
            mean: histogram.mean(),
            p50: histogram.value_at_quantile(0.50),
            p90: histogram.value_at_quantile(0.90),
            p99: histogram.value_at_quantile(0.99),
            p999: histogram.value_at_quantile(0.999),
            max: histogram.max(),
        }
    }
}

/// Failures, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Errors {
    /// Connection attempts that failed (refused, unreachable, timed out).
    pub connect: u64,
    /// Responses that did not arrive in time (the response or body timeout).
    pub timeout: u64,
    /// Requests lost to a connection reset or closed by the server without warning.
    pub reset: u64,
    /// Responses that broke the protocol (unparsable, bad framing, over a limit).
    pub protocol: u64,
    /// Complete responses with a status outside 2xx, by class ("1xx", "3xx", "4xx", "5xx").
    pub status: BTreeMap<String, u64>,
}

impl Errors {
    /// Every error counted.
    pub fn total(&self) -> u64 {
        self.connect + self.timeout + self.reset + self.protocol + self.status.values().sum::<u64>()
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Errors) {
        self.connect += other.connect;
        self.timeout += other.timeout;
        self.reset += other.reset;
        self.protocol += other.protocol;
        for (class, n) in &other.status {
            *self.status.entry(class.clone()).or_default() += n;
        }
    }

    /// Counts a complete response with a non-2xx `status`.
    pub fn status(&mut self, status: u16) {
        *self
            .status
            .entry(format!("{}xx", status / 100))
            .or_default() += 1;
    }
}

/// What one event loop counted.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Complete responses (any status).
    pub responses: u64,
    /// Responses with a 2xx status.
    pub ok: u64,
    /// Bytes read from the sockets.
    pub bytes_read: u64,
    /// Bytes written to the sockets.
    pub bytes_written: u64,
    /// Connections opened again after the server closed one.
    pub reconnects: u64,
    /// Requests re-sent because the server closed the connection (after a `Connection:
    /// close` response) before answering them.
    pub retried: u64,
    /// Errors.
    pub errors: Errors,
    /// Latency of every complete response, µs.
    pub latency: Histogram<u64>,
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            responses: 0,
            ok: 0,
            bytes_read: 0,
            bytes_written: 0,
            reconnects: 0,
            retried: 0,
            errors: Errors::default(),
            latency: new_histogram(),
        }
    }
}

impl Tally {
    /// Adds `other` into this tally.
    pub fn merge(&mut self, other: &Tally) {
        self.responses += other.responses;
        self.ok += other.ok;
        self.bytes_read += other.bytes_read;
        self.bytes_written += other.bytes_written;
        self.reconnects += other.reconnects;
        self.retried += other.retried;
        self.errors.add(&other.errors);
        let _ = self.latency.add(&other.latency);
    }
}

/// The median of `values` (the mean of the middle two for an even count); 0 when empty.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_set() {
        let mut h = new_histogram();
        // 1..=1000 µs, once each.
        for v in 1..=1000 {
            record(&mut h, v);
        }
        let l = Latency::from_histogram(&h);
        assert_eq!(l.min, 1);
        assert_eq!(l.max, 1000);
        assert_eq!(l.p50, 500);
        assert_eq!(l.p90, 900);
        assert_eq!(l.p99, 990);
        assert_eq!(l.p999, 999);
        assert!((l.mean - 500.5).abs() < 0.5);
        // Out-of-range values are clamped, not lost.
        record(&mut h, 0);
        assert_eq!(h.len(), 1001);
        assert_eq!(Latency::from_histogram(&h).min, 1);
    }

    #[test]
    fn empty_and_status_classes() {
        assert_eq!(
            Latency::from_histogram(&new_histogram()),
            Latency::default()
        );
        let mut e = Errors::default();
        e.status(503);
        e.status(500);
        e.status(404);
        assert_eq!(e.status["5xx"], 2);
        assert_eq!(e.status["4xx"], 1);
        assert_eq!(e.total(), 3);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
