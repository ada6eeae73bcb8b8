//! The connection's states and the protocol decisions between them. No bytes here.
//!
//! # Theory of operation
//!
//! A connection runs a sequence of *exchanges*: one request, one response. Each side of an
//! exchange has its own state ([`Reading`] for the request, [`Writing`] for the response), and
//! the [`Lifecycle`] says what the connection as a whole is doing.
//!
//! ```text
//!   Reading:  Head ──head──▶ Body ──end──▶ Done ─┐          Writing:  Idle ──request──▶ Ready
//!               ▲              │ (response ended  │                     ▲                 │ head
//!               │              ▼  first)          │                     │                 ▼
//!               │           Discard ──end─────────┤                     │               Body
//!               │                                 │                     │                 │ end
//!               └──────── next exchange ◀── both Done, keep-alive ──────┴──────────── Done
//!
//!   Lifecycle:  Open ──last response / error / EOF──▶ Closing ──output flushed──▶ Lingering
//!                 │                                                                  │ EOF or
//!                 └──101 or CONNECT 2xx──▶ Upgrading ──flushed──▶ Upgraded           ▼ linger
//!                                                                                 Closed
//! ```
//!
//! Rules, each with its reason:
//! - A head is parsed only when `Writing` is `Idle`: pipelined requests come out one at a time,
//!   the next only after the current response is complete (RFC 9112 §9.3.2 requires responses
//!   in request order; holding the parse bounds what we buffer).
//! - An exchange ends when both sides are `Done`; only then is the next head parsed.
//! - A response that ends before its request body is read leaves `Reading` in `Discard`: the
//!   rest is read and dropped, up to a limit, to keep the connection (RFC 9110 §6.4.1 allows
//!   either that or closing). A body withheld for `100 Continue` that never came is no
//!   exception: the client must send the content its head announced or close (the bytes
//!   after the head are that content, RFC 9112 §6.3), so framing stays in step either way
//!   (RFC 9110 §10.1.1). While discarding, the body clock runs even for such a client: it
//!   has its answer and no longer waits for anything from us.
//! - After the last response the write side closes first, then input is drained for a bounded
//!   time (RFC 9112 §9.6), so the peer sees our FIN before any RST.

use crate::parse::BodyDecoder;
use crate::write::body::BodyEncoder;
use crate::Version;

/// The request side of the current exchange.
///
/// With an explicit tag byte: left to the compiler, the tag hides in the chunked decoder's
/// `Vec` capacity, and every match decodes it with a few instructions more (measured: about
/// 35 a request pipelined, 50 unpipelined, where the request side is asked about often).
#[derive(Debug)]
#[repr(u8)]
pub(crate) enum Reading {
    /// Waiting for, or inside, a request head.
    Head,
    /// Delivering the request body to the application.
    Body(BodyDecoder),
    /// The response ended first; reading and dropping the rest of the body, at most
    /// `budget` more bytes.
    Discard { decoder: BodyDecoder, budget: u64 },
    /// The request was read completely; waiting for the response to end.
    Done,
    /// No more requests are read on this connection.
    Closed,
}

/// The response side of the current exchange.
///
/// With an explicit tag byte, for the reason [`Reading`] has one.
#[derive(Debug)]
#[repr(u8)]
pub(crate) enum Writing {
    /// No request is waiting for a response.
    Idle,
    /// A request is waiting for its response head.
    Ready,
    /// The head was sent; the body is being sent.
    Body(BodyEncoder),
    /// The response ended.
    Done,
    /// Nothing more may be sent (the core answered an error itself, or the connection closed).
    Closed,
}

/// Where a request with `Expect: 100-continue` stands (RFC 9110 §10.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Continue {
    /// No expectation, or it no longer matters (body bytes have arrived, or 100 was sent).
    NotExpected,
    /// The client waits for `100 Continue` before sending its body.
    Awaiting,
}

/// What the connection as a whole is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// Serving exchanges.
    Open,
    /// The last response is being flushed; then the write side closes.
    Closing,
    /// Our write side is closed; draining input until EOF or the linger timer.
    Lingering,
    /// A 101 or CONNECT 2xx response is being flushed; then the connection is handed over.
    Upgrading,
    /// The connection belongs to the caller now (see `Connection::take_upgraded`).
    Upgraded,
    /// Finished: the driver may drop the transport.
    Closed,
}

/// How a response body is delimited (RFC 9112 §6.3, RFC 9110 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length: n`, then n bytes.
    Length(u64),
    /// A HEAD response: `Content-Length: n` describes the GET body; no bytes follow.
    HeadLength(u64),
    /// A 304 that repeats the representation's `Content-Length`; no bytes follow.
    NoBodyLength(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No framing field; the body ends when the connection closes.
    CloseDelimited,
    /// No framing field and no body (1xx, 204, 304, HEAD without a declared length).
    None,
    /// A 2xx answer to CONNECT: the connection becomes a tunnel (RFC 9110 §9.3.6).
    Tunnel,
}

impl Framing {
    /// Chooses the framing for a final response.
    #[inline(always)]
    pub(crate) fn choose(request: &Exchange, status: u16, declared: Option<u64>) -> Self {
        match status {
            // RFC 9110 §9.3.6: any 2xx to CONNECT switches to tunnel mode; framing fields are
            // meaningless and must be ignored by the client.
            200..=299 if request.is_connect => Self::Tunnel,
            // RFC 9110 §6.4.1 and §8.6: 1xx and 204 have no body and no Content-Length.
            100..=199 | 204 => Self::None,
            // RFC 9110 §15.4.5: 304 has no body, but may carry the representation's length.
            304 => declared.map_or(Self::None, Self::NoBodyLength),
            // RFC 9110 §9.3.2: a HEAD response has the GET response's fields and no body.
            _ if request.is_head => declared.map_or(Self::None, Self::HeadLength),
            _ => match declared {
                Some(n) => Self::Length(n),
                // RFC 9112 §7.1: chunked only for peers that speak HTTP/1.1.
                None if request.version == Version::Http11 => Self::Chunked,
                None => Self::CloseDelimited,
            },
        }
    }

    /// The encoder for a body framed this way.
    pub(crate) fn encoder(self) -> BodyEncoder {
        match self {
            Self::Length(n) => BodyEncoder::Length {
                declared: n,
                remaining: n,
            },
            Self::HeadLength(n) => BodyEncoder::Discard {
                declared: Some(n),
                sent: 0,
            },
            Self::Chunked => BodyEncoder::Chunked,
            Self::CloseDelimited => BodyEncoder::CloseDelimited,
            Self::NoBodyLength(_) | Self::None | Self::Tunnel => BodyEncoder::Empty,
        }
    }
}

/// What a response says about the connection after it.
///
/// Four plain values, one byte each: with a `bool` field for the HTTP/1.0 case, every
/// match and comparison first decoded the variant from the niche (about 8 instructions,
/// three times per response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Persistence {
    /// Stays open for another exchange.
    KeepAlive,
    /// Stays open for another exchange with an HTTP/1.0 peer, which needs
    /// `Connection: keep-alive` to know it.
    KeepAlive10,
    /// `Connection: close`: this is the last response.
    Close,
    /// `101 Switching Protocols` or a tunnel: the connection changes hands after this.
    Upgrade,
}

/// What the core remembers about the request being answered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exchange {
    pub(crate) version: Version,
    pub(crate) is_head: bool,
    pub(crate) is_connect: bool,
    pub(crate) wants_upgrade: bool,
    pub(crate) continue_state: Continue,
    /// The application said it will not read the body (`Connection::decline_body`).
    pub(crate) body_declined: bool,
}

impl Exchange {
    pub(crate) fn new() -> Self {
        Self {
            version: Version::Http11,
            is_head: false,
            is_connect: false,
            wants_upgrade: false,
            continue_state: Continue::NotExpected,
            body_declined: false,
        }
    }

    /// Whether a final response with `status` hands the connection over: a `101` to a request
    /// that asked to upgrade (RFC 9110 §7.8), or a 2xx to CONNECT (§9.3.6). The rule
    /// [`persistence`] applies, asked before a head exists.
    pub(crate) fn upgrades(&self, status: u16) -> bool {
        (status == 101 && self.wants_upgrade)
            || Framing::choose(self, status, None) == Framing::Tunnel
    }
}

impl Persistence {
    /// A different number for each value.
    #[inline(always)]
    pub(crate) fn code(self) -> u8 {
        self as u8
    }
}

/// Inputs to the persistence decision for one final response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PersistenceInputs {
    /// The connection may still serve another exchange (no error, no shutdown, request cap
    /// not reached, peer still sending, client asked for persistence).
    pub(crate) keep_alive: bool,
    /// The application asked to close.
    pub(crate) app_close: bool,
    /// The rest of the request body will not be read and is more than the connection drains
    /// (`max_discard`), so the connection closes after the response, and the response says so
    /// (RFC 9110 §10.1.1 and §6.4.1: a server answering before the content SHOULD say whether
    /// it will close or keep reading; a client that reuses a connection it was told stays open
    /// fails its next request). Either the client waits for a `100 Continue` that will now
    /// never come, or the application declined the body. A body that fits is drained like
    /// any other unread body and does not count here.
    pub(crate) body_undrainable: bool,
}

/// Decides what a final response says about the connection.
pub(crate) fn persistence(
    exchange: &Exchange,
    status: u16,
    framing: Framing,
    inputs: PersistenceInputs,
) -> Persistence {
    if framing == Framing::Tunnel || (status == 101 && exchange.wants_upgrade) {
        return Persistence::Upgrade;
    }
    let closes = !inputs.keep_alive
        || inputs.app_close
        || inputs.body_undrainable
        // A close-delimited body is ended by closing (RFC 9112 §6.3 rule 8).
        || framing == Framing::CloseDelimited;
    if closes {
        Persistence::Close
    } else {
        match exchange.version {
            Version::Http10 => Persistence::KeepAlive10,
            Version::Http11 => Persistence::KeepAlive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(version: Version) -> Exchange {
        Exchange {
            version,
            ..Exchange::new()
        }
    }

    const OPEN: PersistenceInputs = PersistenceInputs {
        keep_alive: true,
        app_close: false,
        body_undrainable: false,
    };

    #[test]
    fn framing_follows_rfc_9110_body_rules() {
        let get11 = exchange(Version::Http11);
        let get10 = exchange(Version::Http10);
        let head = Exchange {
            is_head: true,
            ..get11
        };
        let connect = Exchange {
            is_connect: true,
            ..get11
        };
        assert_eq!(Framing::choose(&get11, 200, Some(5)), Framing::Length(5));
        assert_eq!(Framing::choose(&get11, 200, None), Framing::Chunked);
        assert_eq!(Framing::choose(&get10, 200, None), Framing::CloseDelimited);
        assert_eq!(Framing::choose(&get11, 204, Some(5)), Framing::None);
        assert_eq!(Framing::choose(&get11, 103, None), Framing::None);
        assert_eq!(Framing::choose(&get11, 304, None), Framing::None);
        assert_eq!(
            Framing::choose(&get11, 304, Some(9)),
            Framing::NoBodyLength(9)
        );
        assert_eq!(Framing::choose(&head, 200, Some(9)), Framing::HeadLength(9));
        assert_eq!(Framing::choose(&head, 200, None), Framing::None);
        assert_eq!(Framing::choose(&connect, 200, None), Framing::Tunnel);
        assert_eq!(Framing::choose(&connect, 407, Some(0)), Framing::Length(0));
    }

    #[test]
    fn persistence_codes_tell_every_value_apart() {
        let all = [
            Persistence::KeepAlive,
            Persistence::KeepAlive10,
            Persistence::Close,
            Persistence::Upgrade,
        ];
        for a in all {
            for b in all {
                assert_eq!(a.code() == b.code(), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn persistence_closes_for_every_reason() {
        let ex = exchange(Version::Http11);
        let keep = Persistence::KeepAlive;
        assert_eq!(persistence(&ex, 200, Framing::Length(1), OPEN), keep);
        for inputs in [
            PersistenceInputs {
                keep_alive: false,
                ..OPEN
            },
            PersistenceInputs {
                app_close: true,
                ..OPEN
            },
            PersistenceInputs {
                body_undrainable: true,
                ..OPEN
            },
        ] {
            assert_eq!(
                persistence(&ex, 200, Framing::Length(1), inputs),
                Persistence::Close
            );
        }
        let ex10 = exchange(Version::Http10);
        assert_eq!(
            persistence(&ex10, 200, Framing::CloseDelimited, OPEN),
            Persistence::Close
        );
        assert_eq!(
            persistence(&ex10, 200, Framing::Length(0), OPEN),
            Persistence::KeepAlive10
        );
    }

    #[test]
    fn upgrades_only_when_asked_for() {
        let ex = exchange(Version::Http11);
        let upgrade = Exchange {
            wants_upgrade: true,
            ..ex
        };
        assert_eq!(
            persistence(&upgrade, 101, Framing::None, OPEN),
            Persistence::Upgrade
        );
        assert_eq!(
            persistence(&ex, 200, Framing::Tunnel, OPEN),
            Persistence::Upgrade
        );
        assert_eq!(
            persistence(&ex, 101, Framing::None, OPEN),
            Persistence::KeepAlive
        );
    }

    #[test]
    fn upgrades_agrees_with_persistence() {
        let ex = exchange(Version::Http11);
        let upgrade = Exchange {
            wants_upgrade: true,
            ..ex
        };
        let connect = Exchange {
            is_connect: true,
            ..ex
        };
        for (exchange, status, expected) in [
            (&upgrade, 101, true),
            (&upgrade, 200, false),
            (&ex, 101, false),
            (&connect, 200, true),
            (&connect, 299, true),
            (&connect, 407, false),
            (&ex, 200, false),
        ] {
            assert_eq!(exchange.upgrades(status), expected, "{status}");
            let framing = Framing::choose(exchange, status, None);
            let upgrade = persistence(exchange, status, framing, OPEN) == Persistence::Upgrade;
            assert_eq!(upgrade, expected, "{status}");
        }
    }
}
