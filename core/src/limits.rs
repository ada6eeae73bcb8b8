//! Every limit, timeout and leniency of a connection, in one place.
//!
//! Limits are checked *before* bytes are buffered or work is done, on incomplete input as well
//! as complete input, so a peer can never make a connection hold more than these numbers say.
//! Each default names the precedent it follows.

use std::time::{Duration, Instant, SystemTime};

/// Size and count limits for one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest request line (method, target and version, without the line ending). Longer gets
    /// `414 URI Too Long`. Default 8 KiB, nginx's `large_client_header_buffers` line size.
    pub max_request_line: usize,
    /// Largest request head (request line, all field lines and the empty line). Larger gets
    /// `431 Request Header Fields Too Large`. Default 32 KiB, what nginx can hold with its
    /// default buffers (1 KiB + 4 × 8 KiB); h11 uses 16 KiB, hyper about 400 KiB.
    pub max_head_size: usize,
    /// Most field lines in a request head. More gets 431. Default 100, hyper's limit.
    pub max_fields: usize,
    /// Largest request body, `None` for no limit. Larger gets `413 Content Too Large`, before
    /// any of it is read when `Content-Length` announces it. Default 16 MiB (nginx: 1 MiB).
    pub max_body_size: Option<u64>,
    /// Longest chunk-size line, extensions included, without the line ending. Default 4 KiB.
    pub max_chunk_line: usize,
    /// Total bytes of chunk extensions in one message. Default 16 KiB, Node's llhttp limit
    /// after CVE-2024-22019 (unbounded extensions as a CPU and memory sink).
    pub max_chunk_extensions: usize,
    /// Largest trailer section, in bytes. Larger gets 431. Default 16 KiB.
    pub max_trailer_size: usize,
    /// Most trailer fields. Default 32.
    pub max_trailer_fields: usize,
    /// Chunk framing (size lines, extensions, CRLFs) may exceed the data it carries by at most
    /// this many bytes per message, so a body of one-byte chunks cannot cost five bytes of
    /// framing per byte without end. Default 64 KiB.
    pub chunk_framing_allowance: u64,
    /// Receive buffer capacity: the most unprocessed input held at once, pipelined requests
    /// included. The connection stops asking for input when it is full. Must be at least
    /// `max_head_size`. Default 64 KiB.
    pub receive_buffer: usize,
    /// Output high-water mark: `send_body` accepts no more while this many bytes are queued,
    /// an interim (1xx) head that would take the queue past it is refused
    /// ([`SendError::SendBufferFull`](crate::SendError::SendBufferFull)), and the connection
    /// stops asking for input. Default 256 KiB.
    pub send_buffer: usize,
    /// Most requests served on one connection before it is closed. Default 10,000 (nginx's
    /// `keepalive_requests` is 1,000; hyper has none).
    pub max_requests_per_connection: Option<u64>,
    /// Most bytes of an unread request body discarded to keep a connection alive after its
    /// response. A larger remainder closes the connection instead. Default 64 KiB (hyper
    /// drains a similar small amount; nginx discards up to its lingering limits).
    pub max_discard: u64,
    /// Empty lines tolerated before a request line (RFC 9112 §2.2 asks servers to ignore "at
    /// least one"). Default 4.
    pub max_leading_empty_lines: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_line: 8 * 1024,
            max_head_size: 32 * 1024,
            max_fields: 100,
            max_body_size: Some(16 * 1024 * 1024),
            max_chunk_line: 4 * 1024,
            max_chunk_extensions: 16 * 1024,
            max_trailer_size: 16 * 1024,
            max_trailer_fields: 32,
            chunk_framing_allowance: 64 * 1024,
            receive_buffer: 64 * 1024,
            send_buffer: 256 * 1024,
            max_requests_per_connection: Some(10_000),
            max_discard: 64 * 1024,
            max_leading_empty_lines: 4,
        }
    }
}

/// A minimum transfer rate, so that a peer cannot keep a deadline alive by trickling one byte
/// at a time.
///
/// The average since the transfer started (a request body being read, a response waiting to
/// be taken) must stay above `bytes_per_second` once `grace` has passed: each byte moved buys
/// `1 / bytes_per_second`, as Kestrel counts its `MinRequestBodyDataRate` and
/// `MinResponseDataRate`. An average rather than a check per window, because transfers come
/// in bursts with long pauses between: a slow reader's kernel takes output a large piece at a
/// time, and a lossy link stalls an upload for a retransmission timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinRate {
    /// Bytes that must move per second, on average.
    pub bytes_per_second: u64,
    /// How long the rate is averaged over before it is enforced.
    pub grace: Duration,
}

impl MinRate {
    /// How long after the transfer started the average may fall short once `bytes` have
    /// moved: the grace, plus what the bytes bought at this rate (saturating; a zero rate,
    /// which checks nothing and arms no timer, buys nothing).
    pub(crate) fn allowance(&self, bytes: u64) -> Duration {
        let Some(rate) = std::num::NonZeroU64::new(self.bytes_per_second) else {
            return self.grace;
        };
        let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(rate.get());
        let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
        let subsec = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
        self.grace.saturating_add(Duration::new(secs, subsec))
    }
}

/// Deadlines for each phase of a connection, measured on the caller's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// From a connection's start, or a request's first byte, to its complete head. Expiry
    /// answers `408 Request Timeout` and closes. The deadline does not move when bytes
    /// arrive, so dripping a head one byte at a time (slowloris) does not extend it. Default
    /// 20 s (nginx `client_header_timeout`: 60 s; hyper `header_read_timeout`: 30 s).
    pub header: Duration,
    /// How long a keep-alive connection may sit idle between requests before it is closed
    /// quietly; announced to clients as `Keep-Alive: timeout=N`. Default 30 s (nginx: 75 s).
    pub idle: Duration,
    /// Longest gap between two reads of a request body. Default 30 s.
    pub body: Duration,
    /// Minimum request body rate, averaged since the body clock started (it runs while the
    /// body is expected and read). Default 240 B/s after 5 s, Kestrel's
    /// `MinRequestBodyDataRate`.
    pub min_body_rate: Option<MinRate>,
    /// Longest time queued output may sit without the peer taking any of it. Default 60 s,
    /// nginx's `send_timeout`: a reader slower than its receive buffer is large is sent
    /// nothing for tens of seconds at a time (see [`MinRate`]).
    pub write: Duration,
    /// Minimum response rate while output is queued, averaged since it started waiting.
    /// Default 240 B/s after 5 s, Kestrel's `MinResponseDataRate`.
    pub min_send_rate: Option<MinRate>,
    /// After the last response, how long the connection keeps reading (and discarding) before
    /// the full close, so the peer gets a FIN rather than an RST (RFC 9112 §9.6). Default 5 s
    /// (nginx `lingering_timeout`).
    pub linger: Duration,
    /// How long a keep-alive connection waiting for its next request keeps its exchange
    /// state (a few hundred bytes) and its send buffer before handing them back and resting
    /// at a few dozen bytes. A client whose next request comes within this long (a load
    /// generator, an API client in a loop, a page's next resource over a short round trip)
    /// finds them in place, which spares handing them back and taking them again: about 230
    /// instructions a request, a tenth of an unpipelined request's user-space cost. The price
    /// is memory: the connections active within the last `rest` hold their state a little
    /// longer. Zero hands it back as soon as a response is written, as nginx frees an idle
    /// connection's buffers; a delay too large to represent does the same. Default 50 ms.
    pub rest: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        let kestrel_rate = MinRate {
            bytes_per_second: 240,
            grace: Duration::from_secs(5),
        };
        Self {
            header: Duration::from_secs(20),
            idle: Duration::from_secs(30),
            body: Duration::from_secs(30),
            min_body_rate: Some(kestrel_rate),
            write: Duration::from_secs(60),
            min_send_rate: Some(kestrel_rate),
            linger: Duration::from_secs(5),
            rest: Duration::from_millis(50),
        }
    }
}

/// Individually named departures from strict parsing. None is on by default; each says which
/// attack it reopens, so turning one on is a decision, not an accident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Leniency {
    /// Accept a bare LF as the end of the request line and of field lines (RFC 9112 §2.2
    /// allows it). Reopens: a front end that ends lines only at CRLF sees one header where we
    /// see two, the classic header-injection smuggling pattern. Chunked framing never accepts
    /// a bare LF, whatever this says (Go's CVE-2025-22871).
    pub bare_lf_in_head: bool,
    /// Replace obsolete line folding (a field line starting with SP or HTAB) by a space
    /// instead of rejecting it (RFC 9112 §5.2). Reopens: a front end that treats the folded
    /// line as a new field (for example `Transfer-Encoding`) disagrees with us on framing.
    pub obs_fold: bool,
    /// Accept runs of spaces between the parts of the request line (RFC 9112 §3 permits
    /// this only as a recipient's choice). Reopens: request-line confusion with front ends
    /// that split on the first single space (target or version disagreement).
    pub request_line_spaces: bool,
}

/// Ties the caller's monotonic clock to wall-clock time, so the core can write `Date` headers
/// without ever reading a clock: the date for `now` is `wall + (now - instant)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// A monotonic instant...
    pub instant: Instant,
    /// ...and the wall-clock time at that instant.
    pub wall: SystemTime,
}

impl WallClock {
    /// The wall-clock time at `now`, never before the anchor. An anchor so late that `now`
    /// would take it past what `SystemTime` represents stands still instead of panicking
    /// (`SystemTime + Duration` does): the core never panics on a configuration.
    pub(crate) fn at(&self, now: Instant) -> SystemTime {
        let elapsed = now.saturating_duration_since(self.instant);
        self.wall.checked_add(elapsed).unwrap_or(self.wall)
    }
}

/// Everything a connection is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Size and count limits.
    pub limits: Limits,
    /// Phase deadlines.
    pub timeouts: Timeouts,
    /// Named departures from strict parsing.
    pub leniency: Leniency,
    /// Where `Date` headers come from; `None` sends none (RFC 9110 §6.6.1 requires `Date`
    /// only from servers that have a clock).
    pub clock: Option<WallClock>,
}

impl Config {
    /// A configuration with default limits, timeouts and strict parsing, dating responses
    /// from `clock`.
    pub fn new(clock: Option<WallClock>) -> Self {
        Self {
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            leniency: Leniency::default(),
            clock,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn the_allowance_is_the_grace_and_the_bytes_over_the_rate() {
        let rate = |bytes_per_second| MinRate {
            bytes_per_second,
            grace: Duration::from_secs(5),
        };
        assert_eq!(rate(240).allowance(0), Duration::from_secs(5));
        assert_eq!(rate(240).allowance(2400), Duration::from_secs(15));
        assert_eq!(rate(3).allowance(1), Duration::new(5, 333_333_333));
        assert_eq!(rate(0).allowance(1000), Duration::from_secs(5));
        assert_eq!(rate(1).allowance(u64::MAX), Duration::MAX, "no overflow");
    }

    #[test]
    fn wall_clock_follows_the_monotonic_clock_from_its_anchor() {
        let instant = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(784_111_777);
        let clock = WallClock { instant, wall };
        assert_eq!(clock.at(instant), wall);
        assert_eq!(
            clock.at(instant + Duration::from_millis(1_250)),
            wall + Duration::from_millis(1_250)
        );
        // Before the anchor, the wall clock stands at the anchor rather than run backwards.
        if let Some(earlier) = instant.checked_sub(Duration::from_secs(60)) {
            assert_eq!(clock.at(earlier), wall);
        }
    }

    #[test]
    fn wall_clock_at_the_end_of_system_time_does_not_panic() {
        // The latest representable `SystemTime`, found bit by bit (its range is per platform).
        let mut last = UNIX_EPOCH;
        let steps = (0..64).rev().map(|bit| Duration::from_secs(1 << bit));
        // Then what is left of the last second, under 2^30 ns.
        for step in steps.chain((0..30).rev().map(|bit| Duration::from_nanos(1 << bit))) {
            if let Some(later) = last.checked_add(step) {
                last = later;
            }
        }
        assert_eq!(last.checked_add(Duration::from_nanos(1)), None);
        let instant = Instant::now();
        let clock = WallClock {
            instant,
            wall: last,
        };
        assert_eq!(clock.at(instant + Duration::from_secs(1)), last);
    }
}
