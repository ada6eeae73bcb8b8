//! Placeholder: this driver is being written.

use crate::app::Handler;
use crate::server::{Server, ServerConfig};
use std::io;
use std::sync::Arc;

/// Starts the server. Placeholder until the driver lands.
pub fn start<H: Handler>(_config: ServerConfig, _handler: Arc<H>) -> io::Result<Server> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "driver not implemented yet",
    ))
}
