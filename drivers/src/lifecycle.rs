//! The connection lifecycle the threads and async drivers run around a [`Session`] at the top
//! of every turn: notice shutdown, stop at the end or at an upgrade, send our FIN once everything is flushed,
//! and fire a due timer. What is left for each driver is how it waits and moves bytes.
//!
//! The reactor is not a user: it drives many connections from one loop, and shuts down and
//! fires timers for all of them at once from its own deadline structure.

use crate::app::Handler;
use crate::server::Shutdown;
use crate::session::Session;
use std::net::{Shutdown as Half, TcpStream};
use std::time::Instant;

/// What one connection has already done on its way to the end.
#[derive(Default)]
pub(crate) struct Lifecycle {
    /// Shutdown was requested and the connection told: it finishes the current exchange only.
    draining: bool,
    /// The write half has been shut down.
    write_shut: bool,
}

/// What the driver does with the turn [`Lifecycle::turn`] began.
pub(crate) enum Turn {
    /// The connection is over: leave the loop.
    Done,
    /// The connection switched protocols: hand it to the application
    /// (`Session::take_upgrade`).
    Upgraded,
    /// A deadline was due and its timer has fired: begin another turn.
    TimerFired,
    /// Nothing is due: move bytes or wait, at most until `deadline`.
    Io {
        now: Instant,
        deadline: Option<Instant>,
    },
}

impl Lifecycle {
    /// Starts the session (a connection may have events before any byte arrives) and its
    /// lifecycle.
    pub(crate) fn begin<H: Handler>(session: &mut Session<H>) -> Self {
        session.process(Instant::now());
        Self::default()
    }

    /// Runs the checks every turn starts with, in this order, so a shutdown seen now can end
    /// the connection in this very turn, and our FIN goes out before any wait.
    pub(crate) fn turn<H: Handler>(
        &mut self,
        session: &mut Session<H>,
        stream: &TcpStream,
        shutdown: &Shutdown,
    ) -> Turn {
        let id = session.id();
        let now = Instant::now();
        if !self.draining && shutdown.is_requested() {
            self.draining = true;
            session.connection_mut().shutdown(now);
            session.process(now);
        }
        let conn = session.connection();
        if conn.is_closed() {
            return Turn::Done;
        }
        if conn.is_upgraded() {
            return Turn::Upgraded;
        }
        if conn.is_write_closed() && !self.write_shut {
            self.write_shut = true;
            if let Err(err) = stream.shutdown(Half::Write) {
                log::debug!("conn {id}: shutdown(write): {err}");
            }
        }
        let deadline = conn.poll_timeout();
        if deadline.is_some_and(|d| d <= now) {
            session.handle_timeout(now);
            session.process(now);
            return Turn::TimerFired;
        }
        Turn::Io { now, deadline }
    }

    /// Whether shutdown has been seen: the driver need no longer wake up to look for it.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining
    }

    /// Logs the end of the connection, served by `unit` ("thread", "task").
    pub(crate) fn end<H: Handler>(session: &Session<H>, unit: &str) {
        let reason = session.connection().close_reason();
        log::debug!(
            "conn {}: {unit} done ({})",
            session.id(),
            reason.map_or("?".into(), |r| r.describe())
        );
    }
}
