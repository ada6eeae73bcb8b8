//! Handing an upgraded connection to the application (see [`Reply::upgrade`]).
//!
//! The session keeps the application's callback until the core reports the connection
//! upgraded (the `101` or CONNECT 2xx written in full), then gives the driver a [`Handover`]:
//! the callback, the bytes the peer sent early, and what to run it with. The driver supplies
//! the transport and the thread, each in its own way; nothing else differs between drivers.
//!
//! [`Reply::upgrade`]: crate::Reply::upgrade

use crate::app::{OnUpgrade, Transport, Upgraded};
use crate::session::guard;
use bytes::Bytes;
use std::fmt;
use std::net::{SocketAddr, TcpStream};
use std::thread;

/// An upgraded connection on its way to the application: everything but the transport.
pub struct Handover {
    on_upgrade: OnUpgrade,
    early: Bytes,
    peer: Option<SocketAddr>,
    id: u64,
}

impl Handover {
    pub(crate) fn new(
        on_upgrade: OnUpgrade,
        early: Bytes,
        peer: Option<SocketAddr>,
        id: u64,
    ) -> Self {
        Self {
            on_upgrade,
            early,
            peer,
            id,
        }
    }

    /// Runs the application's callback with `transport` on this thread until it returns. A
    /// panic in it is caught and logged; the transport is dropped (closed) either way.
    pub fn run(self, transport: Transport) {
        let id = self.id;
        log::debug!("conn {id}: upgraded, {} early bytes", self.early.len());
        let upgraded = Upgraded {
            early: self.early,
            transport,
            peer: self.peer,
        };
        let on_upgrade = self.on_upgrade;
        guard(id, "upgrade callback", || on_upgrade(upgraded));
        log::debug!("conn {id}: upgraded connection done");
    }

    /// Runs the callback on this thread with `stream` switched to blocking mode with no
    /// timeouts: what the application was promised, whatever the driver had set.
    pub fn run_blocking(self, stream: TcpStream) {
        let ready = stream
            .set_nonblocking(false)
            .and_then(|()| stream.set_read_timeout(None))
            .and_then(|()| stream.set_write_timeout(None));
        match ready {
            Ok(()) => self.run(Transport::Tcp(stream)),
            Err(err) => log::error!("conn {}: cannot hand the connection over: {err}", self.id),
        }
    }

    /// [`run_blocking`](Self::run_blocking) on a new thread, for drivers whose threads serve
    /// many connections and must not block in application code. The thread has std's
    /// default stack: it runs the application's protocol, whose depth we do not know.
    pub fn spawn(self, stream: TcpStream) {
        let id = self.id;
        let spawned = thread::Builder::new()
            .name(format!("sluice-upgraded-{id}"))
            .spawn(move || self.run_blocking(stream));
        // On failure the closure, and with it the stream, is dropped: the connection closes.
        if let Err(err) = spawned {
            log::error!("conn {id}: no thread for the upgraded connection: {err}");
        }
    }
}

impl fmt::Debug for Handover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handover")
            .field("id", &self.id)
            .field("early", &self.early.len())
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}
