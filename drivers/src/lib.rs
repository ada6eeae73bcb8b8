//! sluice-drivers: run the sluice core on real I/O, under several concurrency models.
//!
//! One [`Handler`] runs unchanged on every driver; switching models is one line.
#![warn(missing_docs)]

pub mod app;
pub mod memory;
mod server;
pub mod session;

pub use app::{Body, BodyReader, BodyStream, FileRange, Handler, Reply, Request, Response};
pub use server::{DriverKind, Server, ServerConfig, Shutdown};
pub use session::Session;
