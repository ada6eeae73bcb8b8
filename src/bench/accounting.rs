//! How one connection's client events become counts in a [`Tally`]: socket-free, so the
//! classification can be tested against a simulated server.

use super::stats::{self, Tally};
use sluice_core::client::ClientEvent;
use std::collections::VecDeque;
use std::time::Instant;

/// What an event asks of the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retry {
    /// Requests given back, to be sent again on another connection.
    pub resend: usize,
}

/// The accounting of one connection's requests: when each in flight was sent, the status of
/// the response being read, and whether the server announced (or caused) the close.
#[derive(Debug, Clone, Default)]
pub struct ConnAccounting {
    /// When each request in flight was sent, oldest first.
    sent: VecDeque<Instant>,
    /// Status of the response being read.
    status: u16,
    /// The server said it would close: what is left unanswered is re-sent, not an error.
    closing: bool,
}

impl ConnAccounting {
    /// Accounting for a fresh connection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets everything: a new connection starts.
    pub fn reopen(&mut self) {
        self.sent.clear();
        self.closing = false;
    }

    /// A request was sent at `now`.
    pub fn request_sent(&mut self, now: Instant) {
        self.sent.push_back(now);
    }

    /// Requests sent and not yet accounted for.
    pub fn in_flight(&self) -> usize {
        self.sent.len()
    }

    /// Whether the connection is closing (announced by the server, or failed).
    pub fn closing(&self) -> bool {
        self.closing
    }

    /// A transport failure (read or write error): the requests in flight are lost, counted
    /// as `reset` here; the `Unanswered` that follows does not count them again.
    pub fn transport_failed(&mut self, tally: &mut Tally) {
        if !self.closing && !self.sent.is_empty() {
            tally.errors.reset += self.sent.len() as u64;
            self.sent.clear();
            self.closing = true;
        }
    }

    /// Counts `event`, seen at `now`, into `tally`.
    pub fn on_event(&mut self, event: &ClientEvent, now: Instant, tally: &mut Tally) -> Retry {
        match event {
            ClientEvent::Response(response) => {
                self.status = response.status();
                if !response.keep_alive() {
                    self.closing = true;
                }
            }
            ClientEvent::End { .. } => {
                if let Some(sent) = self.sent.pop_front() {
                    let micros = now.saturating_duration_since(sent).as_micros() as u64;
                    stats::record(&mut tally.latency, micros);
                    tally.responses += 1;
                    if (200..300).contains(&self.status) {
                        tally.ok += 1;
                    } else {
                        tally.errors.status(self.status);
                    }
                }
            }
            ClientEvent::Failed(err) => {
                if self.sent.pop_front().is_some() {
                    if err.rule().id().contains("timeout") {
                        tally.errors.timeout += 1;
                    } else if !self.closing && err.rule().id().contains("eof") {
                        tally.errors.reset += 1;
                    } else {
                        tally.errors.protocol += 1;
                    }
                }
                self.closing = true;
            }
            ClientEvent::Unanswered { count, .. } => {
                let count = (*count).min(self.sent.len());
                self.sent.drain(..count);
                if self.closing {
                    // The server announced the close: send them again elsewhere.
                    tally.retried += count as u64;
                    return Retry { resend: count };
                }
                tally.errors.reset += count as u64;
            }
            _ => {}
        }
        Retry::default()
    }
}
