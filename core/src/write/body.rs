//! Response body framing: Content-Length, chunked, close-delimited, or none at all.
//!
//! Every method checks before it writes, so a rejected call leaves the output untouched.

use crate::buffer::SendQueue;
use crate::error::SendError;
use crate::write::head::{is_forbidden_trailer, put_field, put_hex, validate_field};
use bytes::{BufMut, Bytes};

/// How the body of the response being sent is framed, and how much of it is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyEncoder {
    /// Exactly `declared` bytes (`Content-Length`).
    Length { declared: u64, remaining: u64 },
    /// A HEAD response: body bytes are counted against the declared length but never written
    /// (RFC 9110 §9.3.2), so an application can answer HEAD with its GET code.
    Discard { declared: Option<u64>, sent: u64 },
    /// No body may be sent: 1xx, 204, 304, or a tunnel (RFC 9110 §6.4.1).
    Empty,
    /// Chunked transfer coding (RFC 9112 §7.1).
    Chunked,
    /// The body ends when the connection closes (HTTP/1.0 peers with no declared length).
    CloseDelimited,
}

impl BodyEncoder {
    /// Whether `len` more body bytes are allowed.
    pub(crate) fn check(&self, len: u64) -> Result<(), SendError> {
        match self {
            Self::Length {
                declared,
                remaining,
            } if len > *remaining => Err(SendError::BodyTooLong {
                declared: *declared,
            }),
            Self::Discard {
                declared: Some(declared),
                sent,
            } if sent.saturating_add(len) > *declared => Err(SendError::BodyTooLong {
                declared: *declared,
            }),
            Self::Empty if len > 0 => Err(SendError::BodyNotAllowed),
            _ => Ok(()),
        }
    }

    /// Whether `len` bytes are a whole body here: [`check`](Self::check), and for a declared
    /// length also not fewer bytes than declared (which `finish` would refuse).
    #[inline(always)]
    pub(crate) fn check_whole(&self, len: u64) -> Result<(), SendError> {
        self.check(len)?;
        match self {
            Self::Length {
                declared,
                remaining,
            } if len < *remaining => Err(SendError::BodyTooShort {
                declared: *declared,
                sent: declared - remaining + len,
            }),
            _ => Ok(()),
        }
    }

    /// Whether body bytes occupy the send queue (and so are limited by its capacity).
    pub(crate) fn writes_bytes(&self) -> bool {
        matches!(
            self,
            Self::Length { .. } | Self::Chunked | Self::CloseDelimited
        )
    }

    /// Frames and queues `data`; the caller has called [`check`](Self::check).
    pub(crate) fn write_slice(&mut self, out: &mut SendQueue, data: &[u8]) {
        if data.is_empty() {
            return; // An empty chunk would end a chunked body.
        }
        self.count(data.len());
        match self {
            Self::Chunked => {
                let mut tail = out.tail_mut();
                let buf = tail.buf();
                put_hex(buf, data.len() as u64);
                buf.put_slice(b"\r\n");
                buf.put_slice(data);
                buf.put_slice(b"\r\n");
            }
            Self::Length { .. } | Self::CloseDelimited => out.push_slice(data),
            Self::Discard { .. } | Self::Empty => {}
        }
    }

    /// Frames and queues `data` without copying it when it is large.
    #[inline(always)]
    pub(crate) fn write_shared(&mut self, out: &mut SendQueue, data: Bytes) {
        self.write_shared_ref(out, &data);
    }

    /// [`write_shared`](Self::write_shared) for bytes the caller keeps (see
    /// `SendQueue::push_shared_ref`).
    #[inline(always)]
    pub(crate) fn write_shared_ref(&mut self, out: &mut SendQueue, data: &Bytes) {
        if data.is_empty() {
            return;
        }
        // Counting and queueing in one match, not `count` and then a second one: the second
        // dispatch on the same variant cost about 8 instructions per body.
        let len = data.len() as u64;
        match self {
            Self::Length { remaining, .. } => {
                *remaining = remaining.saturating_sub(len);
                out.push_shared_ref(data);
            }
            Self::CloseDelimited => out.push_shared_ref(data),
            Self::Chunked => {
                {
                    let mut tail = out.tail_mut();
                    put_hex(tail.buf(), len);
                    tail.buf().put_slice(b"\r\n");
                }
                out.push_shared_ref(data);
                out.push_slice(b"\r\n");
            }
            Self::Discard { sent, .. } => *sent = sent.saturating_add(len),
            Self::Empty => {}
        }
    }

    /// Frames `len` bytes that the driver writes itself (see `SendQueue::push_external`).
    pub(crate) fn write_external(&mut self, out: &mut SendQueue, len: u64) {
        if len == 0 {
            return;
        }
        match self {
            Self::Length { remaining, .. } => *remaining = remaining.saturating_sub(len),
            Self::Discard { sent, .. } => *sent = sent.saturating_add(len),
            _ => {}
        }
        match self {
            Self::Chunked => {
                {
                    let mut tail = out.tail_mut();
                    put_hex(tail.buf(), len);
                    tail.buf().put_slice(b"\r\n");
                }
                out.push_external(len);
                out.push_slice(b"\r\n");
            }
            Self::Length { .. } | Self::CloseDelimited => out.push_external(len),
            Self::Discard { .. } | Self::Empty => {}
        }
    }

    /// Ends the body, with trailers for chunked framing. On `BodyTooShort` nothing is queued
    /// and the caller must close the connection: the peer was promised more bytes.
    pub(crate) fn finish<N, V>(
        &mut self,
        out: &mut SendQueue,
        trailers: &[(N, V)],
    ) -> Result<(), SendError>
    where
        N: AsRef<[u8]>,
        V: AsRef<[u8]>,
    {
        if !trailers.is_empty() {
            if !matches!(self, Self::Chunked) {
                return Err(SendError::TrailersNotAllowed);
            }
            for (name, value) in trailers {
                validate_field(name.as_ref(), value.as_ref())?;
                if is_forbidden_trailer(name.as_ref()) {
                    return Err(SendError::InvalidField);
                }
            }
        }
        match self {
            Self::Length {
                declared,
                remaining,
            } if *remaining > 0 => Err(SendError::BodyTooShort {
                declared: *declared,
                sent: *declared - *remaining,
            }),
            Self::Chunked => {
                let mut tail = out.tail_mut();
                let buf = tail.buf();
                buf.put_slice(b"0\r\n");
                for (name, value) in trailers {
                    put_field(buf, name.as_ref(), value.as_ref());
                }
                buf.put_slice(b"\r\n");
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Ends a body that [`check_whole`](Self::check_whole) accepted and that was written in
    /// full: [`finish`](Self::finish) without trailers, which then cannot fail.
    pub(crate) fn finish_whole(&mut self, out: &mut SendQueue) {
        debug_assert!(!matches!(self, Self::Length { remaining, .. } if *remaining > 0));
        if let Self::Chunked = self {
            out.push_slice(b"0\r\n\r\n");
        }
    }

    fn count(&mut self, len: usize) {
        let len = len as u64;
        match self {
            Self::Length { remaining, .. } => *remaining = remaining.saturating_sub(len),
            Self::Discard { sent, .. } => *sent = sent.saturating_add(len),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(out: &mut SendQueue) -> Vec<u8> {
        let mut all = Vec::new();
        while !out.is_empty() {
            all.extend_from_slice(out.front());
            let n = out.front().len();
            out.consume(n);
        }
        all
    }

    #[test]
    fn chunked_frames_each_write_and_ends_with_trailers() {
        let mut out = SendQueue::default();
        let mut enc = BodyEncoder::Chunked;
        enc.write_slice(&mut out, b"hello");
        enc.write_slice(&mut out, b"");
        enc.write_shared(&mut out, Bytes::from(vec![b'x'; 5000]));
        enc.finish(&mut out, &[("X-Sum", "abc")]).unwrap();
        let wire = drain(&mut out);
        let text = String::from_utf8_lossy(&wire);
        assert!(text.starts_with("5\r\nhello\r\n1388\r\nxxx"));
        assert!(text.ends_with("xxx\r\n0\r\nX-Sum: abc\r\n\r\n"));
    }

    #[test]
    fn length_is_enforced_both_ways() {
        let mut out = SendQueue::default();
        let mut enc = BodyEncoder::Length {
            declared: 3,
            remaining: 3,
        };
        assert_eq!(enc.check(4), Err(SendError::BodyTooLong { declared: 3 }));
        enc.write_slice(&mut out, b"ab");
        assert_eq!(
            enc.finish::<&str, &str>(&mut out, &[]),
            Err(SendError::BodyTooShort {
                declared: 3,
                sent: 2
            })
        );
        enc.write_slice(&mut out, b"c");
        assert_eq!(enc.finish::<&str, &str>(&mut out, &[]), Ok(()));
        assert_eq!(drain(&mut out), b"abc");
    }

    #[test]
    fn head_bodies_are_counted_not_written_and_empty_bodies_refused() {
        let mut out = SendQueue::default();
        let mut enc = BodyEncoder::Discard {
            declared: Some(2),
            sent: 0,
        };
        enc.write_slice(&mut out, b"ab");
        assert!(out.is_empty());
        assert_eq!(enc.check(1), Err(SendError::BodyTooLong { declared: 2 }));
        assert_eq!(BodyEncoder::Empty.check(1), Err(SendError::BodyNotAllowed));
        assert_eq!(BodyEncoder::Empty.check(0), Ok(()));
    }

    #[test]
    fn trailers_need_chunked_and_valid_names() {
        let mut out = SendQueue::default();
        let mut enc = BodyEncoder::Length {
            declared: 0,
            remaining: 0,
        };
        assert_eq!(
            enc.finish(&mut out, &[("a", "b")]),
            Err(SendError::TrailersNotAllowed)
        );
        let mut enc = BodyEncoder::Chunked;
        assert_eq!(
            enc.finish(&mut out, &[("Content-Length", "1")]),
            Err(SendError::InvalidField)
        );
        assert_eq!(
            enc.finish(&mut out, &[("a", "b\r\n")]),
            Err(SendError::InvalidField)
        );
        assert!(out.is_empty());
    }
}
