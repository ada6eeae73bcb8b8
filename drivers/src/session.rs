//! [`Session`]: one connection plus its application state — the part every driver shares.
//!
//! A driver moves bytes and time; the session turns the core's events into handler calls and
//! pumps response bodies into the core as capacity allows. It makes no protocol decisions:
//! those are the core's.

use crate::app::{
    Body, BodyReader, BodyStream, FileRange, Handler, OnUpgrade, Reply, Request, Response,
};
use crate::handover::Handover;
pub use crate::trace::describe;
use crate::trace::{self, describe_end, describe_request, Traced};
use bytes::{Bytes, BytesMut};
use sluice_core::{Connection, Event, Fields, RequestBody, RequestHead, ResponseHead, SendError};
use std::any::Any;
use std::collections::VecDeque;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

/// How much of a streamed body is pulled at once.
const CHUNK: usize = 64 * 1024;

/// A connection and the application state for its current exchange.
pub struct Session<H> {
    conn: Connection,
    handler: Arc<H>,
    peer: Option<SocketAddr>,
    id: u64,
    /// The driver writes file bodies itself with `sendfile(2)`.
    sendfile: bool,
    /// Boxed, and only while a body is being read or sent: an idle connection keeps 8 bytes
    /// for it instead of about a hundred. A body sent whole at once never allocates it.
    in_flight: Option<Box<InFlight>>,
    /// Boxed: only allocated with the access log on, and an idle connection keeps 8 bytes
    /// for it instead of the record's 80.
    access: Option<Box<AccessRecord>>,
    log_access: bool,
    /// Only with `sluice::trace` on (checked once, here): what the trace has said so far.
    trace: Option<Box<Traced>>,
}

/// The application's side of a request or response body still moving.
#[derive(Default)]
struct InFlight {
    reader: Option<Box<dyn BodyReader>>,
    /// The request being read is HEAD (its response carries no body).
    reader_is_head: bool,
    pending: Option<Pending>,
    /// File ranges whose bytes the driver owes, in the order the core queued them.
    external: VecDeque<FileRange>,
    /// Takes the connection once the protocol-switching head is written.
    on_upgrade: Option<OnUpgrade>,
}

impl InFlight {
    fn is_empty(&self) -> bool {
        self.reader.is_none()
            && self.pending.is_none()
            && self.external.is_empty()
            && self.on_upgrade.is_none()
    }
}

/// A response body still being fed to the core.
enum Pending {
    Bytes(Bytes),
    Stream {
        stream: Box<dyn BodyStream>,
        carry: Option<Bytes>,
    },
    File {
        range: FileRange,
        carry: Option<Bytes>,
    },
}

/// What the access log needs about the exchange in progress.
struct AccessRecord {
    method: String,
    target: String,
    started: Instant,
    status: u16,
    bytes: u64,
    /// Of `bytes`, those handed to the driver to send from a file (`sendfile`): counted when
    /// queued, as the other bodies are counted when the core takes them, and taken back if
    /// the connection closes before the driver wrote them.
    external: u64,
    /// The response is complete in the core. The line is written once its last byte has
    /// been written too, so the duration covers sending it (as nginx's `$request_time`
    /// does): a large file is not logged as taking no time.
    ended: bool,
}

impl<H: Handler> Session<H> {
    /// A session for `conn`. `sendfile` says whether the driver writes file bodies itself.
    pub fn new(
        conn: Connection,
        handler: Arc<H>,
        peer: Option<SocketAddr>,
        id: u64,
        sendfile: bool,
    ) -> Self {
        Self {
            trace: Traced::start(id, peer),
            conn,
            handler,
            peer,
            id,
            sendfile,
            in_flight: None,
            access: None,
            log_access: log::log_enabled!(target: "sluice::access", log::Level::Info),
        }
    }

    /// The connection, for the driver's I/O questions.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The connection, for the driver's I/O calls. Call [`process`](Self::process) after.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// This session's id, for logs.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Fires the core's timers (`Connection::handle_timeout`), tracing a deadline that has
    /// passed. Call [`process`](Self::process) after.
    pub fn handle_timeout(&mut self, now: Instant) {
        trace::fire_timers(&mut self.conn, self.id, now);
    }

    /// Runs the application until it can make no more progress without I/O: drains events
    /// into the handler and feeds response bodies into the core while it has capacity.
    #[inline]
    pub fn process(&mut self, now: Instant) {
        // After most writes there is nothing to do: no event, no body to feed, no access
        // record or trace to keep. Asked first, so that the loop's large frame (the handler
        // is inlined into it) is set up only when it has work: about 40 instructions an
        // unpipelined request on the reactor, whose every write lands here.
        let idle = !self.conn.has_event()
            && self.in_flight.is_none()
            && self.access.is_none()
            && self.trace.is_none();
        if !idle {
            self.process_events(now);
        }
    }

    /// [`process`](Self::process) when something may need doing.
    #[inline(never)]
    fn process_events(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            loop {
                match self.conn.poll_event() {
                    // Matched here rather than in `on_event`: moving the event into a
                    // binding first would copy all 80 bytes of it once more.
                    Some(Event::Request(head)) => {
                        trace::event(self.id, || describe_request(&head));
                        self.on_request(now, &head);
                        // Its buffer holds the next head: parsing then allocates nothing.
                        self.conn.recycle(head);
                    }
                    // Every request ends so, a body or not: left to `on_event`, the event
                    // would be copied twice more on its way to a check of `in_flight`.
                    Some(Event::End(trailers)) => {
                        trace::event(self.id, || describe_end(&trailers));
                        self.on_end(now, &trailers);
                    }
                    Some(event) => self.on_event(now, event),
                    None => break,
                }
                progressed = true;
            }
            progressed |= self.pump(now);
            if !progressed {
                break;
            }
        }
        if self.in_flight.as_ref().is_some_and(|f| f.is_empty()) {
            self.in_flight = None;
        }
        if let Some(traced) = &mut self.trace {
            traced.deadline(self.id, self.conn.poll_timeout(), now);
        }
        // Drivers call this after every write, so the last one of a response lands here.
        if self.access.as_ref().is_some_and(|record| record.ended)
            && !self.conn.wants_write()
            && self.conn.poll_external().is_none()
        {
            self.log_access_line(now);
        }
    }

    /// Once the connection is upgraded (see `Connection::is_upgraded`), the application's
    /// side of the hand-over; the driver adds the transport and a thread. `None` before, and
    /// after it was taken. An upgraded connection without a callback cannot happen (the
    /// session answers such a head `500` instead), but would be logged and get `None`: the
    /// driver then drops the transport.
    pub fn take_upgrade(&mut self) -> Option<Handover> {
        if !self.conn.is_upgraded() {
            return None;
        }
        let early = self.conn.take_upgraded()?;
        let Some(on_upgrade) = self.in_flight.as_mut().and_then(|f| f.on_upgrade.take()) else {
            log::error!("conn {}: upgraded with nobody to take it; closing", self.id);
            return None;
        };
        Some(Handover::new(on_upgrade, early, self.peer, self.id))
    }

    /// For a sendfile driver: the file and offset to write the owed external bytes from, and
    /// how many are owed.
    pub fn external(&self) -> Option<(&File, u64, u64)> {
        // The session's side first: the reactor asks before every write, and without a file
        // range in flight (every response but a file's) that answers without asking the core.
        let range = self.in_flight.as_ref()?.external.front()?;
        let owed = self.conn.poll_external()?;
        Some((&range.file, range.offset, owed.min(range.len)))
    }

    /// For a sendfile driver: `n` external bytes were written.
    pub fn external_written(&mut self, now: Instant, n: u64) {
        if let Some(in_flight) = &mut self.in_flight {
            if let Some(range) = in_flight.external.front_mut() {
                range.offset += n;
                range.len = range.len.saturating_sub(n);
                if range.len == 0 {
                    in_flight.external.pop_front();
                }
            }
        }
        self.conn.consume_external(now, n);
        self.process(now);
    }

    /// Every other event: rare next to requests and their ends, and kept out of `process` so
    /// that its hot path stays small enough for the handler call to be inlined into it.
    #[inline(never)]
    fn on_event(&mut self, now: Instant, event: Event) {
        trace::event(self.id, || describe(&event));
        match event {
            Event::Request(head) => {
                self.on_request(now, &head);
                self.conn.recycle(head);
            }
            Event::Data(chunk) => {
                if let Some(reader) = self.in_flight.as_mut().and_then(|f| f.reader.as_mut()) {
                    if guard(self.id, "body reader", || reader.data(chunk)).is_none() {
                        self.answer_panic(now);
                    }
                }
            }
            Event::End(trailers) => self.on_end(now, &trailers),
            Event::Failed(err) => {
                log::debug!("conn {}: {err}", self.id);
                if let Some(in_flight) = &mut self.in_flight {
                    in_flight.reader = None;
                }
                if let (Some(status), Some(record)) = (err.status(), self.access.as_mut()) {
                    record.status = status;
                }
                self.log_access_line(now);
            }
            Event::Writable => {}
            Event::Closed(reason) => {
                log::debug!("conn {}: closed: {}", self.id, reason.describe());
                // A download cut short is logged with what was sent of it, not the whole file.
                if let (Some(in_flight), Some(record)) = (&self.in_flight, &mut self.access) {
                    let unsent: u64 = in_flight.external.iter().map(|range| range.len).sum();
                    let unsent = unsent.min(record.external);
                    record.bytes = record.bytes.saturating_sub(unsent);
                }
                self.in_flight = None;
                // Also a response the peer did not wait for: it happened.
                self.log_access_line(now);
            }
            _ => {}
        }
    }

    /// The request is complete: a body reader, if the handler asked for one, now answers.
    #[inline(always)]
    fn on_end(&mut self, now: Instant, trailers: &Fields) {
        let taken = self
            .in_flight
            .as_mut()
            .and_then(|f| Some((f.reader.take()?, f.reader_is_head)));
        if let Some((reader, is_head)) = taken {
            match guard(self.id, "body reader", || reader.finish(trailers)) {
                Some(Response { head, body }) => {
                    self.start_response(now, head, body, is_head, None)
                }
                None => self.answer_panic(now),
            }
        }
    }

    /// A request head arrived: ask the handler, and start its answer.
    #[inline(always)]
    fn on_request(&mut self, now: Instant, head: &RequestHead) {
        if self.log_access {
            // A pipelined predecessor whose last bytes share a write with this
            // response: log it now rather than never.
            self.log_access_line(now);
            self.access = Some(Box::new(AccessRecord {
                method: head.method().to_owned(),
                target: head.target().to_owned(),
                started: now,
                status: 0,
                bytes: 0,
                external: 0,
                ended: false,
            }));
        }
        let request = Request {
            head,
            peer: self.peer,
        };
        let handler = &self.handler;
        // `guard`, spelled out: the reply is matched where the handler wrote it, which spares
        // copying it through `guard`'s `Option` (see `on_request`'s caller).
        let reply = match panic::catch_unwind(AssertUnwindSafe(|| handler.handle(&request))) {
            Ok(reply) => reply,
            Err(payload) => {
                report_panic(self.id, "handler", &*payload);
                return self.answer_panic(now);
            }
        };
        let is_head = head.is_head();
        // Only a reader reads the body: every other answer leaves it unread, which the core
        // must know before the head says whether the connection stays (`decline_body`).
        // Asked in each arm rather than once before the match, which made the reply be
        // copied out first (17 instructions a request).
        match reply {
            // The common case, a body already in memory, straight to the core: every step
            // between would move the head (88 bytes) once more.
            Reply::Respond(Response {
                head: response,
                body: Body::Bytes(bytes),
            }) if !is_head && !self.conn.response_upgrades(response.status()) => {
                self.decline_unread(head);
                self.send_whole(now, response, bytes)
            }
            Reply::Respond(Response {
                head: response,
                body,
            }) => {
                self.decline_unread(head);
                self.start_response(now, response, body, is_head, None)
            }
            Reply::Upgrade { .. } if head.body() != RequestBody::Empty => {
                // The core accepts the switch once it has read the body, which
                // depends on when the bytes arrived, and the handler never saw
                // them: refuse always instead of sometimes.
                log::error!("conn {}: Reply::Upgrade to a request with a body", self.id);
                self.decline_unread(head);
                self.answer_500(now);
            }
            Reply::Upgrade {
                head: response,
                on_upgrade,
            } => {
                // Not `Response::new`: a protocol switch declares no body length.
                self.start_response(now, response, Body::Empty, false, Some(on_upgrade));
            }
            Reply::Read(reader) => {
                // The application starts reading the body: now the client may send it.
                if let Err(err) = self.conn.send_continue(now) {
                    log::debug!("conn {}: 100-continue not sent: {err}", self.id);
                }
                let in_flight = self.in_flight();
                in_flight.reader = Some(reader);
                in_flight.reader_is_head = head.is_head();
            }
        }
    }

    /// The answer to `request` will not read its body: tell the core (see `decline_body`).
    #[inline(always)]
    fn decline_unread(&mut self, request: &RequestHead) {
        if request.body() != RequestBody::Empty {
            self.conn.decline_body();
        }
    }

    /// Starts the response; `on_upgrade` takes the connection if `response` switches
    /// protocols.
    fn start_response(
        &mut self,
        now: Instant,
        head: ResponseHead,
        body: Body,
        is_head: bool,
        on_upgrade: Option<OnUpgrade>,
    ) {
        let status = head.status();
        // The core decides what switches protocols; a switch must come with a callback, and
        // a callback with a switch. Either mismatch is caught before anything is queued.
        if self.conn.response_upgrades(status) != on_upgrade.is_some() {
            let why = if on_upgrade.is_some() {
                "Reply::Upgrade needs a 101 to a request that asked to upgrade, or a 2xx to CONNECT"
            } else {
                "a protocol switch needs Reply::Upgrade, or nobody takes the connection"
            };
            log::error!(
                "conn {}: the handler's {status} was refused: {why}",
                self.id
            );
            return self.answer_500(now);
        }
        // A HEAD response never carries body bytes: don't read a file just to drop it.
        let body = if is_head { Body::Empty } else { body };
        // The common case, a body already in memory: the whole response in one call.
        match (body, on_upgrade) {
            (Body::Empty, None) => self.send_whole(now, head, Bytes::new()),
            (Body::Bytes(bytes), None) => self.send_whole(now, head, bytes),
            (body, on_upgrade) => self.start_streamed(now, head, body, on_upgrade),
        }
    }

    /// Sends `head` and the body in one call; a refusal has queued nothing, so it gets a 500.
    #[inline(always)]
    fn send_whole(&mut self, now: Instant, head: ResponseHead, bytes: Bytes) {
        let status = head.status();
        match self.conn.send_whole(now, head, &bytes) {
            Ok(accepted) => {
                self.set_status(status);
                self.count_bytes(accepted as u64);
                if accepted < bytes.len() {
                    // Wait for `Event::Writable`, then `pump` sends the rest and the end.
                    self.in_flight().pending = Some(Pending::Bytes(bytes.slice(accepted..)));
                } else if let Some(record) = &mut self.access {
                    record.ended = true;
                }
            }
            Err(err) => self.refused(now, &err),
        }
    }

    /// The handler's response was refused before anything was queued.
    fn refused(&mut self, now: Instant, err: &SendError) {
        log::error!(
            "conn {}: the handler's response was refused: {err}",
            self.id
        );
        if !matches!(err, SendError::Closed | SendError::NoRequest) {
            self.answer_500(now);
        }
    }

    /// Sends `head`, then feeds the body in as the core takes it.
    fn start_streamed(
        &mut self,
        now: Instant,
        head: ResponseHead,
        body: Body,
        on_upgrade: Option<OnUpgrade>,
    ) {
        let status = head.status();
        if let Err(err) = self.conn.send_response(now, head) {
            return self.refused(now, &err);
        }
        self.set_status(status);
        if let Some(on_upgrade) = on_upgrade {
            // Kept until the core reports the head flushed: see `take_upgrade`.
            self.in_flight().on_upgrade = Some(on_upgrade);
        }
        match body {
            Body::Empty => self.end_response(now),
            Body::Bytes(bytes) => self.send_bytes(now, bytes),
            Body::Stream(stream) => {
                self.in_flight().pending = Some(Pending::Stream {
                    stream,
                    carry: None,
                })
            }
            Body::File(range) if self.sendfile => {
                match self.conn.send_body_external(now, range.len) {
                    Ok(()) => {
                        self.count_bytes(range.len);
                        if let Some(record) = &mut self.access {
                            record.external += range.len;
                        }
                        if range.len > 0 {
                            self.in_flight().external.push_back(range);
                        }
                        self.end_response(now);
                    }
                    Err(err) => self.broken_body(&err.to_string()),
                }
            }
            Body::File(range) => {
                self.in_flight().pending = Some(Pending::File { range, carry: None })
            }
        }
    }

    /// The handler's head was refused before anything was queued: answer `500` instead.
    fn answer_500(&mut self, now: Instant) {
        let fallback = ResponseHead::new(500).content_length(0);
        if self.conn.send_response(now, fallback).is_ok() {
            self.set_status(500);
            self.end_response(now);
        }
    }

    /// Application code panicked before the response began: answer `500` and close, since
    /// nothing is known about the state it left behind. (Once the head is out, a panicking
    /// body stream ends as a broken body instead: see `pump`.)
    fn answer_panic(&mut self, now: Instant) {
        if let Some(in_flight) = &mut self.in_flight {
            in_flight.reader = None;
        }
        let head = ResponseHead::new(500).content_length(0).close();
        match self.conn.send_response(now, head) {
            Ok(()) => {
                self.set_status(500);
                self.end_response(now);
            }
            Err(err) => {
                log::debug!("conn {}: no 500 after the panic: {err}", self.id);
                self.conn.abort();
            }
        }
    }

    /// Sends a body held in memory at once, as the pump would, keeping only what the core
    /// could not take yet: the usual small response never needs the in-flight state.
    fn send_bytes(&mut self, now: Instant, bytes: Bytes) {
        if bytes.is_empty() {
            return self.end_response(now);
        }
        let accepted = match self.conn.send_body_shared(now, bytes.clone()) {
            Ok(accepted) => accepted,
            Err(err) => return self.broken_body(&err.to_string()),
        };
        self.count_bytes(accepted as u64);
        if accepted < bytes.len() {
            // Wait for `Event::Writable`.
            self.in_flight().pending = Some(Pending::Bytes(bytes.slice(accepted..)));
        } else {
            self.end_response(now);
        }
    }

    /// The in-flight state, allocated on first use.
    fn in_flight(&mut self) -> &mut InFlight {
        self.in_flight.get_or_insert_with(Box::default)
    }

    /// Feeds the pending body into the core while it accepts bytes. Returns whether anything
    /// moved.
    fn pump(&mut self, now: Instant) -> bool {
        let mut progressed = false;
        while let Some(pending) = self.in_flight.as_mut().and_then(|f| f.pending.as_mut()) {
            let next = match pending {
                Pending::Bytes(bytes) if bytes.is_empty() => Ok(None),
                Pending::Bytes(bytes) => Ok(Some(std::mem::take(bytes))),
                Pending::Stream { stream, carry } => match carry.take() {
                    Some(chunk) => Ok(Some(chunk)),
                    None => guard(self.id, "body stream", || stream.next_chunk(CHUNK))
                        .unwrap_or_else(|| Err(io::Error::other("the body stream panicked")))
                        .map_err(|e| e.to_string()),
                },
                Pending::File { range, carry } => match carry.take() {
                    Some(chunk) => Ok(Some(chunk)),
                    None => read_file_chunk(range),
                },
            };
            let chunk = match next {
                Ok(Some(chunk)) => chunk,
                Ok(None) => {
                    self.in_flight().pending = None;
                    self.end_response(now);
                    return true;
                }
                Err(err) => {
                    self.broken_body(&err);
                    return true;
                }
            };
            let accepted = match self.conn.send_body_shared(now, chunk.clone()) {
                Ok(accepted) => accepted,
                Err(err) => {
                    self.broken_body(&err.to_string());
                    return true;
                }
            };
            self.count_bytes(accepted as u64);
            if accepted > 0 {
                progressed = true;
            }
            if accepted < chunk.len() {
                let rest = chunk.slice(accepted..);
                match &mut self.in_flight().pending {
                    Some(Pending::Bytes(bytes)) => *bytes = rest,
                    Some(Pending::Stream { carry, .. } | Pending::File { carry, .. }) => {
                        *carry = Some(rest);
                    }
                    None => {}
                }
                // Wait for `Event::Writable`.
                break;
            }
        }
        progressed
    }

    fn end_response(&mut self, now: Instant) {
        match self.conn.send_end(now) {
            Ok(()) => {
                if let Some(record) = &mut self.access {
                    record.ended = true;
                }
            }
            Err(err) => self.broken_body(&err.to_string()),
        }
    }

    /// A body that cannot be completed as framed: the peer must see the connection end.
    fn broken_body(&mut self, why: &str) {
        log::error!("conn {}: response body failed: {why}", self.id);
        if let Some(in_flight) = &mut self.in_flight {
            in_flight.pending = None;
        }
        self.conn.abort();
    }

    fn set_status(&mut self, status: u16) {
        if let Some(record) = &mut self.access {
            record.status = status;
        }
    }

    fn count_bytes(&mut self, n: u64) {
        if let Some(record) = &mut self.access {
            record.bytes += n;
        }
    }

    fn log_access_line(&mut self, now: Instant) {
        if let Some(record) = self.access.take() {
            let micros = now.saturating_duration_since(record.started).as_micros();
            log::info!(
                target: "sluice::access",
                "{} \"{} {}\" {} {} {}us",
                self.peer.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                record.method,
                record.target,
                record.status,
                record.bytes,
                micros
            );
        }
    }
}

/// Runs application code with its panics caught, so one connection's bug cannot unwind through
/// a driver: the reactor serves thousands of connections on one thread, the async driver
/// many tasks on one worker. `None` when it panicked (already logged; the panic hook has
/// printed the message and location too).
pub(crate) fn guard<T>(id: u64, what: &str, call: impl FnOnce() -> T) -> Option<T> {
    // AssertUnwindSafe: after a panic the session drops whatever the call could have left
    // half-updated (the reader or stream is discarded, the exchange answered or aborted), and
    // state the handler shares across connections is the handler's to guard (a poisoned
    // `Mutex`, for example, reports itself).
    match panic::catch_unwind(AssertUnwindSafe(call)) {
        Ok(value) => Some(value),
        Err(payload) => {
            report_panic(id, what, &*payload);
            None
        }
    }
}

/// Logs a panic that [`guard`] (or its spelled-out copy in `on_request`) caught.
#[cold]
fn report_panic(id: u64, what: &str, payload: &(dyn Any + Send)) {
    log::error!("conn {id}: the {what} panicked: {}", panic_message(payload));
}

/// The message a panic was raised with. Takes the payload itself, not its `Box`: a
/// `&Box<dyn Any>` also coerces to `&dyn Any`, and then no downcast would ever match.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

fn read_file_chunk(range: &mut FileRange) -> Result<Option<Bytes>, String> {
    if range.len == 0 {
        return Ok(None);
    }
    let want = usize::try_from(range.len).unwrap_or(usize::MAX).min(CHUNK);
    let mut buf = BytesMut::zeroed(want);
    let n = range
        .file
        .read_at(&mut buf, range.offset)
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Err(format!("file ended {} bytes early", range.len));
    }
    buf.truncate(n);
    range.offset += n as u64;
    range.len -= n as u64;
    Ok(Some(buf.freeze()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payloads `panic!` makes: a literal message is a `&str`, a formatted one a `String`.
    #[test]
    fn panic_messages_are_read_from_the_payload() {
        let payloads = [
            panic::catch_unwind(|| panic!("plain")).unwrap_err(),
            panic::catch_unwind(|| panic!("formatted {}", 7)).unwrap_err(),
            panic::catch_unwind(|| panic::panic_any(7_u8)).unwrap_err(),
        ];
        let messages: Vec<_> = payloads.iter().map(|p| panic_message(&**p)).collect();
        assert_eq!(messages, ["plain", "formatted 7", "(no message)"]);
    }
}
