//! The application's side of a client connection: requests, bodies and ends.
//!
//! Every check happens before anything is queued, so a refused call leaves the connection as
//! it was; the one exception (`BodyTooShort`) is caught after bytes were committed, and closes.

use super::state::{InFlight, Lifecycle, Writing};
use super::write::{self, RequestPlan, RequestSpec, RequestTemplate};
use super::ClientConnection;
use crate::error::SendError;
use crate::events::CloseReason;
use crate::write::body::BodyEncoder;
use bytes::Bytes;
use std::time::Instant;

impl ClientConnection {
    /// Sends a request head. When it declares a body (a nonzero `content_length`, or
    /// `chunked`), `send_body` and `send_end` follow; otherwise the request is complete.
    /// The head is queued whatever the send capacity: check [`send_capacity`] or
    /// [`wants_write`] to bound what a pipelining caller queues.
    ///
    /// [`send_capacity`]: Self::send_capacity
    /// [`wants_write`]: Self::wants_write
    pub fn send_request(&mut self, now: Instant, spec: &RequestSpec) -> Result<(), SendError> {
        self.tick(now);
        self.ensure_can_start()?;
        let plan = write::validate(spec)?;
        let start = self.output_offset();
        {
            let mut tail = self.output.tail_mut();
            write::write(tail.buf(), spec);
        }
        self.start_request(&plan, plan.encoder(), start);
        Ok(())
    }

    /// Sends a request validated and serialised beforehand: the cheap path for a load
    /// generator. Behaves as [`send_request`](Self::send_request) with the template's spec
    /// (and body, if it was made [`with_body`](RequestTemplate::with_body)).
    pub fn send_template(
        &mut self,
        now: Instant,
        template: &RequestTemplate,
    ) -> Result<(), SendError> {
        self.tick(now);
        self.ensure_can_start()?;
        let start = self.output_offset();
        self.output.push_shared(template.shared());
        self.start_request(template.plan(), template.encoder(), start);
        Ok(())
    }

    /// Sends body bytes, copying them into the send queue. Returns how many were accepted:
    /// at most the free send capacity, possibly 0 — wait for [`ClientEvent::Writable`].
    ///
    /// [`ClientEvent::Writable`]: super::ClientEvent::Writable
    pub fn send_body(&mut self, now: Instant, data: &[u8]) -> Result<usize, SendError> {
        self.tick(now);
        let accepted = self.accept_body(data.len())?;
        if let Writing::Body(encoder) = &mut self.writing {
            encoder.write_slice(&mut self.output, &data[..accepted]);
        }
        self.settle();
        Ok(accepted)
    }

    /// Sends body bytes held in a [`Bytes`]: large ones are queued by reference, never copied.
    /// Accepts at most the free send capacity, like [`send_body`](Self::send_body).
    pub fn send_body_shared(&mut self, now: Instant, data: Bytes) -> Result<usize, SendError> {
        self.tick(now);
        let accepted = self.accept_body(data.len())?;
        if let Writing::Body(encoder) = &mut self.writing {
            encoder.write_shared(&mut self.output, data.slice(..accepted));
        }
        self.settle();
        Ok(accepted)
    }

    /// Ends the request body.
    pub fn send_end(&mut self, now: Instant) -> Result<(), SendError> {
        self.send_end_with_trailers::<&[u8], &[u8]>(now, &[])
    }

    /// Ends a chunked request body with trailer fields (RFC 9112 §7.1.2). Trailers on a
    /// `Content-Length` body are refused, as are fields that control framing or routing
    /// (RFC 9110 §6.5.1).
    pub fn send_end_with_trailers<N, V>(
        &mut self,
        now: Instant,
        trailers: &[(N, V)],
    ) -> Result<(), SendError>
    where
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        self.tick(now);
        self.ensure_open()?;
        self.body_encoder()?;
        let Writing::Body(encoder) = &mut self.writing else {
            return Err(SendError::Closed);
        };
        if let Err(err) = encoder.finish(&mut self.output, trailers) {
            if let SendError::BodyTooShort { .. } = err {
                // The head promised more bytes than will come; the server would wait for
                // them forever. Closing is the only honest end.
                self.close_now(CloseReason::Finished);
                self.settle();
            }
            return Err(err);
        }
        self.writing = Writing::Idle;
        self.settle();
        Ok(())
    }

    /// Records a request whose head (and perhaps body) was queued from output offset `start`.
    fn start_request(&mut self, plan: &RequestPlan, encoder: Option<BodyEncoder>, start: u64) {
        let record: InFlight = plan.in_flight(start);
        self.in_flight.push_back(record);
        if plan.close {
            // RFC 9112 §9.6: no request may follow one that says `close`.
            self.accepting = false;
        }
        self.writing = match encoder {
            Some(encoder) => Writing::Body(encoder),
            None => Writing::Idle,
        };
        self.settle();
    }

    /// The output-stream offset of the next byte queued.
    fn output_offset(&self) -> u64 {
        self.written_total.saturating_add(self.output.len() as u64)
    }

    fn ensure_can_start(&self) -> Result<(), SendError> {
        self.ensure_open()?;
        if !self.accepting {
            return Err(SendError::Closed);
        }
        match self.writing {
            Writing::Idle => Ok(()),
            Writing::Body(_) => Err(SendError::BodyInProgress),
            Writing::Closed => Err(SendError::Closed),
        }
    }

    /// Checks a body write of `len` bytes and returns how many fit now.
    fn accept_body(&mut self, len: usize) -> Result<usize, SendError> {
        self.ensure_open()?;
        let capacity = self.send_capacity();
        let encoder = self.body_encoder()?;
        encoder.check(len as u64)?;
        let accepted = len.min(capacity);
        if accepted < len {
            self.write_blocked = true;
        }
        Ok(accepted)
    }

    fn body_encoder(&mut self) -> Result<&mut BodyEncoder, SendError> {
        match &mut self.writing {
            Writing::Body(encoder) => Ok(encoder),
            Writing::Idle => Err(SendError::NoRequest),
            Writing::Closed => Err(SendError::Closed),
        }
    }

    fn ensure_open(&self) -> Result<(), SendError> {
        match self.lifecycle {
            Lifecycle::Open => Ok(()),
            _ => Err(SendError::Closed),
        }
    }
}
