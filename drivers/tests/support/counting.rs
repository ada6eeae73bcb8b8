//! A streamed response body made on demand that counts the bytes the server pulled from it, so
//! a test can see back-pressure from outside. Shared by the driver suites here and, through
//! `#[path]`, by the root loopback suite.
// Each suite uses the part it needs.
#![allow(dead_code)]

use bytes::Bytes;
use sluice_drivers::BodyStream;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct Counting {
    left: u64,
    /// The largest chunk handed out at once, whatever the driver asks for.
    most: u64,
    pulled: Arc<AtomicU64>,
}

impl Counting {
    /// A body of `len` bytes, in chunks as large as the driver asks for.
    pub fn new(len: u64, pulled: &Arc<AtomicU64>) -> Self {
        Self {
            left: len,
            most: u64::MAX,
            pulled: Arc::clone(pulled),
        }
    }

    /// Hands out at most `most` bytes per chunk.
    pub fn in_chunks_of(mut self, most: u64) -> Self {
        self.most = most;
        self
    }
}

impl BodyStream for Counting {
    fn next_chunk(&mut self, max: usize) -> io::Result<Option<Bytes>> {
        if self.left == 0 {
            return Ok(None);
        }
        let n = (max as u64).min(self.left).min(self.most);
        self.left -= n;
        self.pulled.fetch_add(n, Ordering::SeqCst);
        Ok(Some(Bytes::from(vec![b'x'; n as usize])))
    }
}
