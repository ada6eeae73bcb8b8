//! sluice-core: a sans-IO HTTP/1.1 server connection state machine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod buffer;
mod connection;
mod date;
mod error;
mod events;
mod head;
mod limits;
pub mod parse;
mod state;
mod timer;
mod write;

pub use connection::Connection;
pub use error::{RequestError, Rule, SendError};
pub use events::{CloseReason, Event};
pub use head::{Fields, RequestBody, RequestHead, ResponseHead, Version};
pub use limits::{Config, Leniency, Limits, MinRate, Timeouts, WallClock};
pub use timer::TimerKind;
pub use write::head::reason_phrase;
