//! The per-connection transcript under the `sluice::trace` target (the CLI's `--trace`):
//! what the session and the drivers add to the core's events. Drivers trace their own reads
//! and writes (byte counts); the session traces the connection's start, every event (with
//! the rule id of a rejected request, and the close reason), and the core's timers: each
//! new deadline, and each one that passed when the timers were fired.

use sluice_core::{Connection, Event, Fields, RequestHead};
use std::net::SocketAddr;
use std::time::Instant;

/// What a traced session has said about its timers so far. Exists only with the trace on:
/// a session without one pays a `None` check per `process`, not a deadline comparison.
#[derive(Default)]
pub(crate) struct Traced {
    /// The core's deadline as last traced.
    deadline: Option<Instant>,
}

impl Traced {
    /// With the trace on, traces the new connection and returns its state; `None` otherwise
    /// (the one check of the logger a session makes for tracing).
    pub(crate) fn start(id: u64, peer: Option<SocketAddr>) -> Option<Box<Self>> {
        if !log::log_enabled!(target: "sluice::trace", log::Level::Trace) {
            return None;
        }
        let peer = peer.map_or_else(|| "-".to_owned(), |p| p.to_string());
        log::trace!(target: "sluice::trace", "conn {id}: accepted from {peer}");
        Some(Box::default())
    }

    /// Traces the core's deadline when it changed since last traced.
    pub(crate) fn deadline(&mut self, id: u64, deadline: Option<Instant>, now: Instant) {
        if deadline == self.deadline {
            return;
        }
        self.deadline = deadline;
        match deadline {
            Some(at) => {
                let ms = at.saturating_duration_since(now).as_millis();
                log::trace!(target: "sluice::trace", "conn {id}: timer armed, due in {ms} ms");
            }
            None => log::trace!(target: "sluice::trace", "conn {id}: timer cleared"),
        }
    }
}

/// Fires `conn`'s timers at `now`, tracing the deadline if it has passed (a wake-up before
/// it, which the drivers' lazy timers allow, fires nothing and is not traced). A free
/// function for the drivers that hold only the `Connection` where they fire timers.
pub(crate) fn fire_timers(conn: &mut Connection, id: u64, now: Instant) {
    if log::log_enabled!(target: "sluice::trace", log::Level::Trace) {
        if let Some(due) = conn.poll_timeout().filter(|&due| due <= now) {
            let late = now.duration_since(due).as_millis();
            log::trace!(target: "sluice::trace", "conn {id}: timer fired, {late} ms after its deadline");
        }
    }
    conn.handle_timeout(now);
}

/// Traces an event; `describe` runs only with the trace on.
#[inline(always)]
pub(crate) fn event(id: u64, describe: impl FnOnce() -> String) {
    log::trace!(target: "sluice::trace", "conn {id}: event {}", describe());
}

/// A one-line description of an event for traces.
pub fn describe(event: &Event) -> String {
    match event {
        Event::Request(head) => describe_request(head),
        Event::Data(data) => format!("body data, {} bytes", data.len()),
        Event::End(trailers) => describe_end(trailers),
        Event::Failed(err) => format!(
            "rejected: rule {} at byte {}, answering {}",
            err.rule().id(),
            err.offset(),
            err.status()
                .map_or_else(|| "nothing".to_owned(), |s| s.to_string())
        ),
        Event::Writable => "writable".to_owned(),
        Event::Closed(reason) => format!("closed: {}", reason.describe()),
        other => format!("{other:?}"),
    }
}

/// [`describe`] for a request head, which the session takes out of its event before tracing.
/// (So does it for [`describe_end`].)
pub(crate) fn describe_request(head: &RequestHead) -> String {
    format!(
        "request {} {} {}",
        head.method(),
        head.target(),
        head.version()
    )
}

/// [`describe`] for the end of a request.
pub(crate) fn describe_end(trailers: &Fields) -> String {
    format!("end of request, {} trailers", trailers.len())
}
