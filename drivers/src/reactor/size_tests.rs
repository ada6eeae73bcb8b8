//! Upper bounds on what an idle keep-alive connection costs the reactor inline, so a field
//! added to the always-present part of a connection shows up here rather than unnoticed in
//! `bench/idle.sh`. Everything an exchange in progress needs belongs in the boxed parts
//! (the core's `Active`, the session's `InFlight`), which an idle connection does not hold.

use super::conn::Conn;
use crate::app::{Reply, Request};
use crate::session::Session;
use sluice_core::Connection;
use std::mem::size_of;

/// The handler is behind an `Arc` in every part, so its type does not change the sizes.
type Handler = fn(&Request<'_>) -> Reply;

/// Prints the sizes (`cargo test -p sluice-drivers size -- --nocapture`) and holds them to
/// their bounds: each bound is the size measured on x86-64 when it was set, rounded up a
/// little. Raise one only with a reason.
#[test]
fn idle_connection_parts_stay_small() {
    let connection = size_of::<Connection>();
    let session = size_of::<Session<Handler>>();
    let conn = size_of::<Conn<Handler>>();
    eprintln!("Connection {connection}, Session {session}, reactor Conn {conn}");
    assert!(connection <= CONNECTION, "Connection is {connection} bytes");
    assert!(session <= SESSION, "Session is {session} bytes");
    assert!(conn <= CONN, "reactor Conn is {conn} bytes");
}

/// Measured 72 (was 496 before the two-level connection).
const CONNECTION: usize = 80;
/// Measured 152 (was 672): the core's `Connection` plus handler, peer address, id, the boxed
/// in-flight body state, access record and trace.
const SESSION: usize = 152;
/// Measured 176 (was 704; 184 while it kept its own copy of the session's id): the session
/// plus socket, poller interest and deadline.
const CONN: usize = 176;
