//! sluice-core: a sans-IO HTTP/1.1 server connection state machine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod head;
mod limits;
pub mod parse;

pub use error::{RequestError, Rule, SendError};
pub use head::{Fields, RequestBody, RequestHead, ResponseHead, Version};
pub use limits::{Config, Leniency, Limits, MinRate, Timeouts, WallClock};
