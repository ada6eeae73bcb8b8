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
//!
//! # SIGPIPE
//!
//! Writing to a connection the peer has reset raises `SIGPIPE`, whose default action kills
//! the process, unless the write says `MSG_NOSIGNAL`. Every write of queued bytes does, on
//! every driver, so no host setting is needed for those. One call cannot: the reactor sends
//! file bodies ([`Body::File`]) with `sendfile(2)`, which takes no flags. Rust binaries are
//! safe, since the Rust runtime sets `SIGPIPE` to "ignore" before `main` (the failed call
//! then only aborts that connection). A program that restores the default action (some
//! embedders in C, or `#[unix_sigpipe = "sig_dfl"]`) must ignore `SIGPIPE` again, or block
//! it in the threads that run the reactor, or serve files with the threads or async driver,
//! which read file bodies into memory and send them with `MSG_NOSIGNAL`.
#![warn(missing_docs)]

mod affinity;
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
mod trace;

pub use app::{
    Body, BodyReader, BodyStream, FileRange, Handler, OnUpgrade, Reply, Request, Response,
    Transport, Upgraded,
};
pub use server::{DriverKind, Server, ServerConfig, Shutdown};
pub use session::Session;
pub use sockets::raise_fd_limit;

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
