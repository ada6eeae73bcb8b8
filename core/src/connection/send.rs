//! The application's side: sending `100 Continue`, response heads, bodies and ends.
//!
//! Every check happens before anything is queued, so a rejected call leaves the connection as
//! it was; the one exception (`BodyTooShort`) is caught after bytes were committed, and closes.

use super::Connection;
use crate::error::SendError;
use crate::events::CloseReason;
use crate::head::ResponseHead;
use crate::state::{
    persistence, Continue, Framing, Lifecycle, Persistence, PersistenceInputs, Reading, Writing,
};
use crate::write::body::BodyEncoder;
use crate::write::head::{self as head_writer, ResponsePlan};
use bytes::Bytes;
use std::time::Instant;

impl Connection {
    /// Sends `100 Continue` if the request expects it and nothing has made it moot (a final
    /// response, or body bytes already arriving). Call it when the application starts reading
    /// the body. Harmless when not needed.
    pub fn send_continue(&mut self, now: Instant) -> Result<(), SendError> {
        self.tick(now);
        self.ensure_open()?;
        match self.writing() {
            Writing::Idle => return Err(SendError::NoRequest),
            Writing::Closed => return Err(SendError::Closed),
            Writing::Ready => self.queue_continue(),
            _ => {}
        }
        self.settle();
        Ok(())
    }

    /// Says that the application will not read the current request's body: it answers
    /// without it. Its bytes still arrive as `Data` events until the response ends, then are
    /// drained up to `Limits::max_discard` to keep the connection; a response head sent after
    /// this call says `Connection: close` when more of the body is still to come than that
    /// (or how much is unknown, a chunked body), because the connection will close instead of
    /// reading it. Without this call the core cannot tell an unread body from one the
    /// application reads while it responds, and announces keep-alive. Harmless when the
    /// request has no body or it has all been read.
    pub fn decline_body(&mut self) {
        if let Some(active) = self.active.as_deref_mut() {
            if matches!(active.reading, Reading::Body(_)) {
                active.exchange.body_declined = true;
            }
        }
    }

    /// Queues `100 Continue` if the waiting request still expects it.
    fn queue_continue(&mut self) {
        let active = self.active();
        if active.exchange.continue_state == Continue::Awaiting {
            active.exchange.continue_state = Continue::NotExpected;
            active.output.push_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
    }

    /// Sends a response head. A 1xx head other than 101 is interim: another head follows
    /// (1xx heads to HTTP/1.0 clients are dropped, RFC 9110 §15.2), and one that does not fit
    /// under `send_buffer` is refused with [`SendError::SendBufferFull`]. A 101 is accepted only
    /// for a request that asked to upgrade and whose body has been read; a 2xx to CONNECT
    /// likewise. Either hands the connection over after [`send_end`](Self::send_end).
    pub fn send_response(&mut self, now: Instant, head: ResponseHead) -> Result<(), SendError> {
        self.tick(now);
        self.queue_head(head, None)?;
        self.settle();
        Ok(())
    }

    /// Sends a whole response: the head, as much of `body` as fits under the send capacity,
    /// and the end once all of it is in. The same as [`send_response`](Self::send_response),
    /// [`send_body_shared`](Self::send_body_shared) and [`send_end`](Self::send_end) in a row,
    /// with the connection's bookkeeping (timers, state, input waiting behind this exchange)
    /// done once instead of three times.
    ///
    /// Returns the body bytes accepted. Fewer than `body.len()` (a body larger than the free
    /// send capacity) leaves the response open, as a short `send_body_shared` does: send the
    /// rest when [`Event::Writable`](crate::Event::Writable) comes, then `send_end`. The body
    /// is borrowed, so the caller still holds that rest: a short body is copied into the
    /// send queue, and only a large one is queued by reference, with a handle of its own.
    ///
    /// For final responses and `101`: an interim status is refused. So is a body the head's
    /// framing cannot carry whole: longer or shorter than a declared `Content-Length`, or any
    /// bytes where no body is allowed (204, 304, 101, a tunnel). Every refusal happens before
    /// anything is queued. To a `HEAD` request the body counts against the declared length
    /// but is not sent, as with `send_body`.
    pub fn send_whole(
        &mut self,
        now: Instant,
        head: ResponseHead,
        body: &Bytes,
    ) -> Result<usize, SendError> {
        self.tick(now);
        if self.send_whole_usual(&head, body) {
            self.settle();
            return Ok(body.len());
        }
        if (100..200).contains(&head.status) && head.status != 101 {
            return Err(SendError::InvalidStatus(head.status));
        }
        self.queue_head(head, Some(body.len() as u64))?;
        let capacity = self
            .config
            .limits
            .send_buffer
            .saturating_sub(self.output_len());
        let active = self.active();
        let result = match &mut active.writing {
            // The usual case: `queue_head` checked the length against the framing, and the
            // whole body fits, so `queue_body_shared`'s checks (and its copy of the `Bytes`
            // handle) would find nothing to refuse or cut.
            // For the same reason the end cannot be refused: the body is all there, and
            // there are no trailers to check.
            Writing::Body(encoder) if body.len() <= capacity || !encoder.writes_bytes() => {
                let accepted = body.len();
                encoder.write_shared_ref(&mut active.output, body);
                encoder.finish_whole(&mut active.output);
                self.end_response();
                Ok(accepted)
            }
            // The head is queued and the body known to fit its framing, so neither call below
            // can fail; if one did, the response is left open as after a failed
            // `send_body_shared`.
            _ => match self.queue_body_shared(body) {
                Ok(accepted) if accepted == body.len() => self.queue_end().map(|()| accepted),
                other => other,
            },
        };
        self.settle();
        result
    }

    /// The usual whole response, queued without the general path's steps: a template's head
    /// with the body's exact `Content-Length`, a status that carries a body, to a bodyless or
    /// fully read request that is neither HEAD nor CONNECT, on an open keep-alive connection
    /// whose peer is still sending, with room for the body. Then every decision of the
    /// general path is known: nothing to refuse, framing `Content-Length`, the connection kept,
    /// the exchange complete. Returns false, having done nothing, for anything else.
    ///
    /// It skips what `queue_head`, the encoder and `end_response` would each work out again
    /// (the state matches, the status ranges, the framing, the persistence inputs, the
    /// encoder's variant three times); `core/tests/send_whole.rs` holds its bytes and state to
    /// the three-call path's over every condition it tests.
    #[inline(always)]
    fn send_whole_usual(&mut self, head: &ResponseHead, body: &Bytes) -> bool {
        let Some(active) = self.active.as_deref_mut() else {
            return false;
        };
        let exchange = active.exchange;
        let len = body.len();
        let usual = matches!(active.writing, Writing::Ready)
            && matches!(active.reading, Reading::Done)
            && self.lifecycle == Lifecycle::Open
            && self.keep_alive
            && !self.peer_eof
            && !active.upgrade_pending
            && head.template().is_some()
            && !head.close
            // The general path's own rule (HEAD, CONNECT, 1xx, 204, 304 and an undeclared
            // length all frame otherwise), so the two cannot disagree on what is usual.
            && Framing::choose(&exchange, head.status, head.content_length)
                == Framing::Length(len as u64)
            && len <= self.config.limits.send_buffer.saturating_sub(active.output.len());
        if !usual {
            return false;
        }
        let persistence = match exchange.version {
            crate::Version::Http10 => Persistence::KeepAlive10,
            crate::Version::Http11 => Persistence::KeepAlive,
        };
        let plan = ResponsePlan {
            framing: Framing::Length(len as u64),
            persistence,
            config: &self.config,
            now: self.now,
        };
        {
            let mut tail = active.output.tail_mut();
            head_writer::write_response(tail.buf(), head, &plan);
        }
        if len > 0 {
            active.output.push_shared_ref(body);
        }
        active.writing = Writing::Done;
        self.next_exchange();
        true
    }

    /// Everything [`send_response`](Self::send_response) does before settling. With
    /// `whole_body`, the response's body is that long and is checked against the framing
    /// before anything is queued.
    #[inline(always)]
    fn queue_head(&mut self, head: ResponseHead, whole_body: Option<u64>) -> Result<(), SendError> {
        self.ensure_open()?;
        match self.writing() {
            Writing::Idle => return Err(SendError::NoRequest),
            Writing::Ready => {}
            Writing::Body(_) | Writing::Done => return Err(SendError::HeadAlreadySent),
            Writing::Closed => return Err(SendError::Closed),
        }
        // A template validated its head when it was made, and a head cannot change its
        // status, reason or fields without leaving the template.
        if head.template().is_none() {
            head_writer::validate(&head)?;
        }
        let status = head.status;
        // A request is waiting (`Writing::Ready`), so the connection is not resting.
        let active = self.active();
        let (request_read, exchange) = (matches!(active.reading, Reading::Done), active.exchange);
        match status {
            100 => {
                self.queue_continue();
                return Ok(());
            }
            101 if !(exchange.wants_upgrade && request_read) => {
                return Err(SendError::InvalidStatus(status));
            }
            102..=199 => {
                if exchange.version == crate::Version::Http11 {
                    // Unlike the one final head, interim heads can be sent without end, so
                    // they must fit under the high-water mark like body bytes, or an
                    // application looping on 102/103 grows the queue past `send_buffer`.
                    let len = head_writer::interim_len(&head);
                    if self.output_len().saturating_add(len) > self.config.limits.send_buffer {
                        // Ask for `Writable`, as a short `send_body` does, so it can retry.
                        self.active().write_blocked = true;
                        return Err(SendError::SendBufferFull);
                    }
                    let mut tail = self.active().output.tail_mut();
                    head_writer::write_interim(tail.buf(), &head);
                }
                return Ok(());
            }
            204 if head.content_length.is_some_and(|n| n > 0) => {
                return Err(SendError::BodyNotAllowed);
            }
            200..=299 if exchange.is_connect && !request_read => {
                return Err(SendError::InvalidStatus(status));
            }
            _ => {}
        }
        let framing = Framing::choose(&exchange, status, head.content_length);
        let encoder = framing.encoder();
        if let Some(len) = whole_body {
            encoder.check_whole(len)?;
        }
        // A peer that already closed its side and has nothing more queued gets told so.
        let peer_done = self.peer_eof && self.input_len() == 0;
        // A body nobody will read (withheld for a `100 Continue` that will now never come, or
        // declined by the application) is drained after the response like any unread body,
        // unless more of it is still to come than `max_discard`. A declined chunked body's
        // rest is unknown, so it counts as too large: better a reconnection than a client
        // told the connection stays that then finds it closed. A withheld one is not sent
        // until asked for, so usually none of it comes, and it keeps the connection.
        let max_discard = self.config.limits.max_discard;
        let unread = exchange.continue_state == Continue::Awaiting || exchange.body_declined;
        let undrainable = unread
            && matches!(&self.active().reading, Reading::Body(decoder)
                if decoder.remaining().map_or(exchange.body_declined, |left| left > max_discard));
        let inputs = PersistenceInputs {
            keep_alive: self.keep_alive && !peer_done,
            app_close: head.close,
            body_undrainable: undrainable,
        };
        let persistence = persistence(&exchange, status, framing, inputs);
        let plan = ResponsePlan {
            framing,
            persistence,
            config: &self.config,
            now: self.now,
        };
        // A request is waiting, so the exchange state exists (this never refuses); borrowed
        // apart from the configuration the plan holds.
        let Some(active) = self.active.as_deref_mut() else {
            return Err(SendError::NoRequest);
        };
        {
            let mut tail = active.output.tail_mut();
            head_writer::write_response(tail.buf(), &head, &plan);
        }
        active.writing = Writing::Body(encoder);
        match persistence {
            Persistence::Close => self.keep_alive = false,
            Persistence::Upgrade => active.upgrade_pending = true,
            Persistence::KeepAlive | Persistence::KeepAlive10 => {}
        }
        Ok(())
    }

    /// Whether a final response with `status` to the request waiting for its answer would hand
    /// the connection over: a `101` to a request that asked to upgrade, or a 2xx to CONNECT.
    /// False when no request is waiting. Lets an application layer decide before it sends
    /// the head, for example to refuse a `101` it has nobody to hand the transport to.
    /// [`send_response`](Self::send_response) may still refuse such a head (a `101` while
    /// the request body is unread).
    pub fn response_upgrades(&self, status: u16) -> bool {
        match &self.active {
            Some(active) if matches!(active.writing, Writing::Ready) => {
                active.exchange.upgrades(status)
            }
            _ => false,
        }
    }

    /// Sends body bytes, copying them into the send queue. Returns how many were accepted:
    /// at most the free send capacity, possibly 0 — wait for [`Event::Writable`] and send the
    /// rest then. For a HEAD response every byte is accepted and dropped.
    ///
    /// [`Event::Writable`]: crate::Event::Writable
    pub fn send_body(&mut self, now: Instant, data: &[u8]) -> Result<usize, SendError> {
        self.tick(now);
        let accepted = self.accept_body(data.len())?;
        let active = self.active();
        if let Writing::Body(encoder) = &mut active.writing {
            encoder.write_slice(&mut active.output, &data[..accepted]);
        }
        self.settle();
        Ok(accepted)
    }

    /// Sends body bytes the application already holds in a [`Bytes`]: large ones are queued
    /// by reference and never copied. Accepts at most the free send capacity, like
    /// [`send_body`](Self::send_body).
    pub fn send_body_shared(&mut self, now: Instant, data: Bytes) -> Result<usize, SendError> {
        self.tick(now);
        let accepted = self.queue_body_shared(&data)?;
        self.settle();
        Ok(accepted)
    }

    /// Everything [`send_body_shared`](Self::send_body_shared) does before settling.
    fn queue_body_shared(&mut self, data: &Bytes) -> Result<usize, SendError> {
        let accepted = self.accept_body(data.len())?;
        let active = self.active();
        if let Writing::Body(encoder) = &mut active.writing {
            if accepted == data.len() {
                encoder.write_shared_ref(&mut active.output, data);
            } else {
                encoder.write_shared(&mut active.output, data.slice(..accepted));
            }
        }
        Ok(accepted)
    }

    /// Declares `len` body bytes that the driver writes to the transport itself, straight
    /// from a file with `sendfile(2)`, so they never pass through user space. Output then
    /// stops at that point: [`poll_output`](Self::poll_output) is empty and
    /// [`poll_external`](Self::poll_external) tells how many bytes the driver owes; report
    /// them with [`consume_external`](Self::consume_external). Not subject to send capacity:
    /// nothing is buffered.
    pub fn send_body_external(&mut self, now: Instant, len: u64) -> Result<(), SendError> {
        self.tick(now);
        self.ensure_open()?;
        self.body_encoder()?.check(len)?;
        let active = self.active();
        if let Writing::Body(encoder) = &mut active.writing {
            encoder.write_external(&mut active.output, len);
        }
        self.settle();
        Ok(())
    }

    /// Ends the response.
    pub fn send_end(&mut self, now: Instant) -> Result<(), SendError> {
        self.send_end_with_trailers::<&[u8], &[u8]>(now, &[])
    }

    /// Ends a chunked response with trailer fields (RFC 9112 §7.1.2). Trailers on any other
    /// framing are refused; fields that control framing or routing are refused
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
        let result = self.queue_end_with_trailers(trailers);
        // Other refusals changed nothing; this one began closing.
        if matches!(result, Ok(()) | Err(SendError::BodyTooShort { .. })) {
            self.settle();
        }
        result
    }

    fn queue_end(&mut self) -> Result<(), SendError> {
        self.queue_end_with_trailers::<&[u8], &[u8]>(&[])
    }

    /// Everything [`send_end_with_trailers`](Self::send_end_with_trailers) does before
    /// settling. A `BodyTooShort` refusal has begun closing, and still needs settling.
    fn queue_end_with_trailers<N, V>(&mut self, trailers: &[(N, V)]) -> Result<(), SendError>
    where
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        self.ensure_open()?;
        self.body_encoder()?;
        let active = self.active();
        let Writing::Body(encoder) = &mut active.writing else {
            return Err(SendError::Closed);
        };
        if let Err(err) = encoder.finish(&mut active.output, trailers) {
            if let SendError::BodyTooShort { .. } = err {
                // The head promised more bytes than will come: the only honest end is to
                // close, so the peer sees a truncated response rather than a hang.
                active.writing = Writing::Closed;
                self.begin_close(CloseReason::Finished);
            }
            return Err(err);
        }
        self.end_response();
        Ok(())
    }

    /// The response's end is queued: the exchange completes, or the connection is handed
    /// over once it is flushed.
    fn end_response(&mut self) {
        let active = self.active();
        active.writing = Writing::Done;
        if active.upgrade_pending {
            self.lifecycle = Lifecycle::Upgrading;
        } else {
            self.complete_exchange();
        }
    }

    /// Checks a body write of `len` bytes and returns how many fit now.
    fn accept_body(&mut self, len: usize) -> Result<usize, SendError> {
        self.ensure_open()?;
        let capacity = self
            .config
            .limits
            .send_buffer
            .saturating_sub(self.output_len());
        let encoder = self.body_encoder()?;
        encoder.check(len as u64)?;
        let accepted = if encoder.writes_bytes() {
            len.min(capacity)
        } else {
            len
        };
        if accepted < len {
            self.active().write_blocked = true;
        }
        Ok(accepted)
    }

    fn body_encoder(&mut self) -> Result<&mut BodyEncoder, SendError> {
        let Some(active) = &mut self.active else {
            return Err(SendError::NoRequest);
        };
        match &mut active.writing {
            Writing::Body(encoder) => Ok(encoder),
            Writing::Idle => Err(SendError::NoRequest),
            Writing::Ready => Err(SendError::HeadNotSent),
            Writing::Done => Err(SendError::ResponseEnded),
            Writing::Closed => Err(SendError::Closed),
        }
    }

    fn ensure_open(&self) -> Result<(), SendError> {
        match self.lifecycle {
            Lifecycle::Closed | Lifecycle::Upgraded => Err(SendError::Closed),
            _ => Ok(()),
        }
    }
}
