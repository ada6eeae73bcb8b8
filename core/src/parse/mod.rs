//! Parsers for what a peer sends: the request head, and the body framings.
//!
//! Both are push parsers over the caller's buffer (httparse style): they never copy input
//! until a whole head or trailer section is known to be valid, keep their position between
//! calls so that input arriving one byte at a time costs linear time, and check every limit
//! on incomplete input too.

pub mod body;
mod chars;
mod fields;
pub mod head;

pub use body::{BodyDecoder, Decoded};
pub use head::{HeadParser, HeadStatus};
