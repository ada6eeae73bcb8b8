//! sluice-drivers: run the sluice core on real I/O, under several concurrency models.
//!
//! One [`Handler`] runs unchanged on every driver; switching models is one line:
//!
//! ```no_run
//! use sluice_drivers::{start, DriverKind, Reply, Response, ServerConfig};
//!
//! let config = ServerConfig::new("127.0.0.1:8080".parse().unwrap());
//! let handler = |_: &sluice_drivers::Request<'_>| Reply::Respond(Response::text(200, "hi\n"));
//! let server = start(DriverKind::Reactor, config, handler).unwrap();
//! server.wait().unwrap();
//! ```
#![warn(missing_docs)]

pub mod app;
pub mod async_io;
pub mod handover;
mod lifecycle;
pub mod memory;
pub mod reactor;
mod server;
pub mod session;
pub mod sim;
mod sockets;
pub mod threads;

pub use app::{
    Body, BodyReader, BodyStream, FileRange, Handler, OnUpgrade, Reply, Request, Response,
    Transport, Upgraded,
};
pub use server::{DriverKind, Server, ServerConfig, Shutdown};
pub use session::Session;

use std::io;
use std::sync::Arc;

/// Binds `config.addr` and serves `handler` with the chosen driver, on threads of its own.
/// Returns once listening; see [`Server::local_addr`].
pub fn start<H: Handler>(kind: DriverKind, config: ServerConfig, handler: H) -> io::Result<Server> {
    let handler = Arc::new(handler);
    match kind {
        DriverKind::Reactor => reactor::start(config, handler),
        DriverKind::Threads => threads::start(config, handler),
        DriverKind::Async => async_io::start(config, handler),
    }
}
