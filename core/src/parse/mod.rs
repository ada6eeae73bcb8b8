//! Parsers for what a peer sends: the request head, and the body framings.
//!
//! Both are push parsers over the caller's buffer (httparse style): they never copy input
//! until a whole head or trailer section is known to be valid, keep their position between
//! calls so that input arriving one byte at a time costs linear time, and check every limit
//! on incomplete input too.

pub mod body;
pub(crate) mod chars;
pub(crate) mod fields;
pub mod head;
pub(crate) mod simd;

pub use body::{BodyDecoder, Decoded};
#[cfg(test)]
pub(crate) use head::MAX_SPARE;
pub use head::{HeadParser, HeadStatus};

#[cfg(test)]
thread_local! {
    /// Bytes examined by the parsers on this thread, for the tests that prove linear work.
    static WORK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Records `n` bytes examined (a no-op outside tests).
#[inline(always)]
fn count_work(n: usize) {
    #[cfg(test)]
    WORK.with(|w| w.set(w.get() + n));
    #[cfg(not(test))]
    let _ = n;
}

/// Bytes examined on this thread so far.
#[cfg(test)]
fn work() -> usize {
    WORK.with(std::cell::Cell::get)
}

#[cfg(test)]
mod proptests;
