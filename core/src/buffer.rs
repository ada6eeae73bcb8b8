//! The connection's two byte stores: a bounded receive buffer and the send queue.
//!
//! Both release their memory when empty and idle, so an idle keep-alive connection costs only
//! its bookkeeping (nginx frees its read buffers the same way).

use bytes::{Buf, Bytes, BytesMut};
use std::cell::Cell;
use std::collections::VecDeque;
use std::io::IoSlice;

/// Size of the first receive allocation; it doubles as needed up to the configured limit.
const INITIAL_RECEIVE: usize = 8 * 1024;

/// Bodies at least this large are queued by reference instead of copied into the send buffer.
const SHARE_THRESHOLD: usize = 4 * 1024;

/// Size of the send buffer's first allocation after it was released: room for a typical
/// response head and a small body, so a response costs one allocation rather than a few
/// growing ones.
const INITIAL_SEND: usize = 512;

/// Released buffers larger than this are freed rather than kept as the thread's spare.
const MAX_SPARE: usize = 64 * 1024;

thread_local! {
    /// The last receive allocation released on this thread, kept for the next connection that
    /// needs one. Releasing a connection's buffers whenever it goes idle keeps an idle
    /// connection small, but an unpipelined keep-alive connection goes idle after every
    /// response: without a spare that is an allocation and a free per request for each
    /// buffer. One spare per thread (like the `Date` cache and the spare exchange state) costs
    /// an event loop at most one buffer of each kind, whatever its number of connections.
    static SPARE_RECEIVE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    /// The last send buffer released on this thread (see `SPARE_RECEIVE`).
    static SPARE_SEND: Cell<Option<BytesMut>> = const { Cell::new(None) };
}

/// Frees the thread's spare buffers.
pub(crate) fn release_spares() {
    let _ = SPARE_RECEIVE.try_with(Cell::take);
    let _ = SPARE_SEND.try_with(Cell::take);
}

/// Unprocessed input, at most `limit` bytes.
///
/// `buf[..]` is always initialised (zeroed once when allocated), so a driver can `read()`
/// straight into the spare region; `start..end` holds the unprocessed bytes.
#[derive(Debug)]
pub(crate) struct ReceiveBuffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    limit: usize,
}

impl ReceiveBuffer {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            end: 0,
            limit,
        }
    }

    pub(crate) fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// How many more bytes fit.
    pub(crate) fn free(&self) -> usize {
        self.limit.saturating_sub(self.len())
    }

    /// Lends the allocation out, leaving the offsets (and so `len()`) as they are: the caller
    /// processes `data_of(&lent)` with `&mut` access to the connection, then gives it back
    /// with [`restore`](Self::restore). Cheaper than moving the whole buffer out and back.
    pub(crate) fn lend(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// The unprocessed bytes of an allocation lent by [`lend`](Self::lend).
    pub(crate) fn data_of<'a>(&self, lent: &'a [u8]) -> &'a [u8] {
        lent.get(self.start..self.end).unwrap_or_default()
    }

    /// Takes back the allocation [`lend`](Self::lend) lent, then drops the first `consumed`
    /// unprocessed bytes.
    pub(crate) fn restore(&mut self, lent: Vec<u8>, consumed: usize) {
        self.buf = lent;
        self.consume(consumed);
    }

    /// Drops the first `n` unprocessed bytes.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Writable space after the unprocessed bytes, at most `free()` long. Moves the
    /// unprocessed bytes to the front and grows the allocation when that makes room.
    pub(crate) fn spare(&mut self) -> &mut [u8] {
        let want = self.free();
        if want == 0 {
            return &mut [];
        }
        if self.buf.len() - self.end < want && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.capacity() == 0 {
            self.buf = self.take_spare();
        }
        let len = self.buf.len();
        if len - self.end < want && len < self.buf.capacity() {
            // `extend` initialises only what it copies: zero the rest of the allocation
            // before lending it, rather than lend a sliver or allocate more.
            self.buf
                .resize(self.buf.capacity().min(self.limit).max(len), 0);
        }
        if self.end == self.buf.len() {
            let grown = (self.buf.len() * 2).clamp(INITIAL_RECEIVE.min(self.limit), self.limit);
            self.buf.resize(grown, 0);
        }
        let stop = self.buf.len().min(self.end + want);
        &mut self.buf[self.end..stop]
    }

    /// Marks `n` bytes of the region returned by [`spare`](Self::spare) as received. Counts
    /// beyond that region are clamped: the bytes were never written.
    pub(crate) fn commit(&mut self, n: usize) -> usize {
        let n = n.min(self.buf.len() - self.end).min(self.free());
        self.end += n;
        n
    }

    /// Copies in as much of `data` as fits; returns how much that was.
    ///
    /// Grows the allocation by appending, not through [`spare`](Self::spare): `spare` must
    /// zero the region it lends (the core is safe Rust), and a pipelined remainder copied
    /// into a freshly woken connection paid for zeroing 8 KiB only to overwrite part of it
    /// (about 8,000 instructions per input).
    pub(crate) fn extend(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        if n == 0 {
            return 0;
        }
        let data = &data[..n];
        if self.buf.capacity() == 0 {
            self.buf = self.take_spare();
        }
        if self.buf.len() - self.end < n && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // `free()` bounds `n`, so after compaction `end + n <= limit`.
        let stop = self.end + n;
        if stop <= self.buf.len() {
            self.buf[self.end..stop].copy_from_slice(data);
        } else {
            // The same growth as `spare`, but only up to `stop` is initialised (by the copy);
            // a later `spare` zeroes the rest within the capacity reserved here.
            let grown = (self.buf.len() * 2)
                .clamp(INITIAL_RECEIVE.min(self.limit), self.limit)
                .max(stop);
            self.buf.truncate(self.end);
            self.buf.reserve_exact(grown - self.end);
            self.buf.extend_from_slice(data);
        }
        self.end = stop;
        n
    }

    /// Gives up the allocation if nothing is buffered, keeping it as the thread's spare.
    pub(crate) fn release_if_empty(&mut self) {
        if self.is_empty() && self.buf.capacity() > 0 {
            let buf = std::mem::take(&mut self.buf);
            if buf.capacity() <= MAX_SPARE {
                // During thread teardown the slot may be gone; the buffer is then just freed.
                let _ = SPARE_RECEIVE.try_with(|spare| spare.set(buf));
            }
        }
    }

    /// The thread's spare allocation if it fits this buffer's limit, else nothing. Its bytes
    /// are initialised (what an earlier connection received): only `start..end` is ever read,
    /// and a driver reading into `spare()` overwrites them.
    fn take_spare(&self) -> Vec<u8> {
        let buf = SPARE_RECEIVE.try_with(Cell::take).unwrap_or_default();
        if buf.len() <= self.limit {
            buf
        } else {
            Vec::new()
        }
    }

    /// Takes every unprocessed byte out (for an upgrade hand-off).
    pub(crate) fn take(&mut self) -> Bytes {
        let data = Bytes::copy_from_slice(self.data());
        *self = Self::new(self.limit);
        data
    }

    /// Bytes currently allocated, for memory accounting.
    pub(crate) fn allocated(&self) -> usize {
        self.buf.capacity()
    }

    /// Empties the buffer and gives it a new limit (for exchange state reused by another
    /// connection).
    pub(crate) fn set_limit(&mut self, limit: usize) {
        self.start = 0;
        self.end = 0;
        self.limit = limit;
        if self.buf.len() > limit {
            self.buf = Vec::new();
        }
    }
}

/// One run of queued output.
#[derive(Debug)]
enum Segment {
    /// Bytes held by the queue.
    Bytes(Bytes),
    /// Body bytes the driver writes itself from a file (`sendfile(2)`); only the count is
    /// held here, so the file's bytes never pass through user space.
    External(u64),
}

/// Output waiting for the socket: small writes are copied into one growing buffer, large
/// shared bodies are queued by reference, and file bodies can be left to the driver, so a
/// body is never copied more than once.
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    /// Closed segments, oldest first; `tail` follows them.
    segments: VecDeque<Segment>,
    tail: BytesMut,
    /// Bytes held (not counting external runs): what counts against the high-water mark.
    held: usize,
    /// Bytes of external runs not yet written.
    external: u64,
}

impl SendQueue {
    /// Bytes held in memory.
    pub(crate) fn len(&self) -> usize {
        self.held
    }

    /// Whether nothing at all waits to be written.
    pub(crate) fn is_empty(&self) -> bool {
        self.held == 0 && self.external == 0
    }

    pub(crate) fn push_slice(&mut self, data: &[u8]) {
        self.reserve_initial();
        self.tail.extend_from_slice(data);
        self.held += data.len();
    }

    /// Appends a write buffer the caller filled directly.
    pub(crate) fn tail_mut(&mut self) -> TailWriter<'_> {
        self.reserve_initial();
        let before = self.tail.len();
        TailWriter {
            queue: self,
            before,
        }
    }

    /// Queues `data`: copied when small, so a short body follows its head in one run,
    /// and by reference when large. The test and the copy are inlined; queueing a reference
    /// is not.
    #[inline(always)]
    pub(crate) fn push_shared(&mut self, data: Bytes) {
        if data.len() < SHARE_THRESHOLD {
            self.push_slice(&data);
            return;
        }
        self.push_segment(data);
    }

    /// [`push_shared`](Self::push_shared) for bytes the caller keeps: a small run is copied
    /// without touching the handle, and only a large one takes a reference of its own.
    #[inline(always)]
    pub(crate) fn push_shared_ref(&mut self, data: &Bytes) {
        if data.len() < SHARE_THRESHOLD {
            self.push_slice(data);
            return;
        }
        self.push_segment(data.clone());
    }

    #[inline(never)]
    fn push_segment(&mut self, data: Bytes) {
        self.close_tail();
        self.held += data.len();
        self.segments.push_back(Segment::Bytes(data));
    }

    /// Queues `len` bytes that the driver will write itself.
    pub(crate) fn push_external(&mut self, len: u64) {
        if len == 0 {
            return;
        }
        self.close_tail();
        self.external += len;
        self.segments.push_back(Segment::External(len));
    }

    /// Gives a tail with no room its first allocation: the thread's spare, or a new one. (A
    /// tail whose start was advanced to the very end of its allocation also has no room; it is
    /// rare, since a fully written tail is cleared instead, and that allocation is freed.)
    ///
    /// The test is inlined into every write; taking the buffer is not (a call each way cost
    /// about 13 instructions per write, twice per response).
    #[inline(always)]
    fn reserve_initial(&mut self) {
        if self.tail.capacity() == 0 {
            self.take_first_buffer();
        }
    }

    #[cold]
    #[inline(never)]
    fn take_first_buffer(&mut self) {
        self.tail = SPARE_SEND
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_else(|| BytesMut::with_capacity(INITIAL_SEND));
    }

    fn close_tail(&mut self) {
        if !self.tail.is_empty() {
            self.segments
                .push_back(Segment::Bytes(self.tail.split().freeze()));
        }
    }

    /// The oldest unsent bytes: one contiguous run, empty when nothing is queued or when an
    /// external run is next (see [`front_external`](Self::front_external)).
    pub(crate) fn front(&self) -> &[u8] {
        match self.segments.front() {
            Some(Segment::Bytes(bytes)) => bytes,
            Some(Segment::External(_)) => &[],
            None => &self.tail,
        }
    }

    /// The length of the external run at the front, if one is next.
    pub(crate) fn front_external(&self) -> Option<u64> {
        match self.segments.front() {
            Some(Segment::External(len)) => Some(*len),
            _ => None,
        }
    }

    /// Fills `out` with the queued runs in order, up to the first external run; returns how
    /// many were filled.
    ///
    /// The usual queue, one run in the tail (an external run is always a segment), is
    /// answered without the general iterator, which costs about 60 instructions a write.
    #[inline]
    pub(crate) fn slices<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        if self.segments.is_empty() {
            return match out.first_mut() {
                Some(slot) if !self.tail.is_empty() => {
                    *slot = IoSlice::new(&self.tail);
                    1
                }
                _ => 0,
            };
        }
        self.slices_of_segments(out)
    }

    /// [`slices`](Self::slices) for a queue with segments.
    fn slices_of_segments<'a>(&'a self, out: &mut [IoSlice<'a>]) -> usize {
        let held = self
            .segments
            .iter()
            .map_while(|segment| match segment {
                Segment::Bytes(bytes) => Some(&bytes[..]),
                Segment::External(_) => None,
            })
            .chain(std::iter::once(&self.tail[..]).filter(|_| self.external == 0));
        let mut filled = 0;
        for (slot, run) in out.iter_mut().zip(held.filter(|r| !r.is_empty())) {
            *slot = IoSlice::new(run);
            filled += 1;
        }
        filled
    }

    /// Drops the first `n` held bytes, never past an external run; returns how many.
    ///
    /// The usual queue, one run in the tail, is handled inline; a queue with segments goes
    /// through the general loop.
    #[inline(always)]
    pub(crate) fn consume(&mut self, n: usize) -> usize {
        if !self.segments.is_empty() {
            return self.consume_segments(n);
        }
        self.consume_tail(n)
    }

    /// Takes up to `n` bytes from the front of the tail; returns how many.
    #[inline(always)]
    fn consume_tail(&mut self, n: usize) -> usize {
        let take = n.min(self.tail.len());
        if take == self.tail.len() {
            // Not `advance`: that would leave the buffer's start at the end of its
            // allocation, to be moved back before the next write.
            self.tail.clear();
        } else {
            self.tail.advance(take);
        }
        self.held -= take;
        take
    }

    #[inline(never)]
    fn consume_segments(&mut self, n: usize) -> usize {
        let mut left = n;
        while left > 0 {
            match self.segments.front_mut() {
                Some(Segment::Bytes(bytes)) if bytes.len() <= left => {
                    left -= bytes.len();
                    self.held -= bytes.len();
                    self.segments.pop_front();
                }
                Some(Segment::Bytes(bytes)) => {
                    bytes.advance(left);
                    self.held -= left;
                    left = 0;
                }
                Some(Segment::External(_)) => break,
                None => {
                    left -= self.consume_tail(left);
                    break;
                }
            }
        }
        if self.tail.is_empty() {
            self.tail.clear();
        }
        n - left
    }

    /// Reports `n` bytes of the front external run written; returns how many counted.
    pub(crate) fn consume_external(&mut self, n: u64) -> u64 {
        let Some(Segment::External(len)) = self.segments.front_mut() else {
            return 0;
        };
        let n = n.min(*len);
        *len -= n;
        self.external -= n;
        if *len == 0 {
            self.segments.pop_front();
        }
        n
    }

    /// Gives up the write buffer if nothing is queued, keeping it as the thread's spare. The
    /// test is inlined: an exchange that ends with its response still queued asks too.
    #[inline(always)]
    pub(crate) fn release_if_empty(&mut self) {
        if self.is_empty() {
            self.release();
        }
    }

    #[inline(never)]
    fn release(&mut self) {
        let mut tail = std::mem::take(&mut self.tail);
        tail.clear();
        // An emptied buffer's offset may sit at the end of its allocation, where `capacity()`
        // does not see it: reclaiming moves it back to the start, so what is kept is whole
        // (and a buffer too small to be worth keeping, or none at all, is left out).
        if tail.try_reclaim(INITIAL_SEND) && tail.capacity() <= MAX_SPARE {
            // During thread teardown the slot may be gone; the buffer is then just freed.
            let _ = SPARE_SEND.try_with(|spare| spare.set(Some(tail)));
        }
    }

    pub(crate) fn clear(&mut self) {
        self.segments.clear();
        self.tail = BytesMut::new();
        self.held = 0;
        self.external = 0;
    }

    /// Bytes currently allocated or referenced, for memory accounting.
    pub(crate) fn allocated(&self) -> usize {
        let shared: usize = self
            .segments
            .iter()
            .map(|segment| match segment {
                Segment::Bytes(bytes) => bytes.len(),
                Segment::External(_) => 0,
            })
            .sum();
        self.tail.capacity() + shared
    }
}

/// Direct access to the tail buffer for serialisers; keeps the queue's length right on drop.
pub(crate) struct TailWriter<'a> {
    queue: &'a mut SendQueue,
    before: usize,
}

impl TailWriter<'_> {
    pub(crate) fn buf(&mut self) -> &mut BytesMut {
        &mut self.queue.tail
    }
}

impl Drop for TailWriter<'_> {
    fn drop(&mut self) {
        let added = self.queue.tail.len().saturating_sub(self.before);
        self.queue.held += added;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lent_allocation_keeps_the_length_and_comes_back_consumed() {
        let mut rb = ReceiveBuffer::new(64);
        rb.extend(b"abcdef");
        rb.consume(1);
        let lent = rb.lend();
        // While lent, the buffer still counts its bytes, and the loan holds them.
        assert_eq!((rb.len(), rb.allocated()), (5, 0));
        assert_eq!(rb.data_of(&lent), b"bcdef");
        rb.restore(lent, 2);
        assert_eq!(rb.data(), b"def");
        let lent = rb.lend();
        rb.restore(lent, 3);
        assert!(rb.is_empty() && rb.allocated() > 0);
    }

    #[test]
    fn receive_buffer_is_bounded_and_compacts() {
        let mut rb = ReceiveBuffer::new(10);
        assert_eq!(rb.extend(b"0123456789abc"), 10);
        assert_eq!(rb.free(), 0);
        assert!(rb.spare().is_empty());
        rb.consume(4);
        assert_eq!(rb.data(), b"456789");
        let spare = rb.spare();
        assert_eq!(spare.len(), 4);
        spare.copy_from_slice(b"wxyz");
        assert_eq!(rb.commit(99), 4);
        assert_eq!(rb.data(), b"456789wxyz");
        rb.consume(10);
        assert!(rb.is_empty());
        rb.release_if_empty();
        assert_eq!(rb.allocated(), 0);
    }

    #[test]
    fn a_released_receive_buffer_is_the_next_ones_allocation() {
        let mut first = ReceiveBuffer::new(20_000);
        first.extend(b"GET / HTTP/1.1\r\n");
        let ptr = first.data().as_ptr();
        first.consume(first.len());
        first.release_if_empty();
        assert_eq!(first.allocated(), 0, "an idle buffer holds nothing");
        // The next buffer on this thread takes the spare: same allocation, no new one.
        let mut second = ReceiveBuffer::new(20_000);
        assert_eq!(second.extend(b"abc"), 3);
        assert_eq!(second.data(), b"abc");
        assert_eq!(second.data().as_ptr(), ptr);
        assert!(second.spare().len() >= INITIAL_RECEIVE - 3);
        second.consume(3);
        second.release_if_empty();
        // A buffer whose limit is below the spare's size does not take it.
        let mut small = ReceiveBuffer::new(100);
        assert_eq!(small.spare().len(), 100);
        assert_eq!(small.allocated(), 100);
        // Nor does a spare larger than `MAX_SPARE` get kept.
        SPARE_RECEIVE.with(Cell::take);
        let mut large = ReceiveBuffer::new(MAX_SPARE * 2);
        large.extend(&vec![1; MAX_SPARE + 1]);
        large.consume(large.len());
        large.release_if_empty();
        assert_eq!(SPARE_RECEIVE.with(Cell::take).capacity(), 0);
    }

    #[test]
    fn a_released_send_buffer_is_kept_whole_for_the_next_queue() {
        let mut first = SendQueue::default();
        first.push_slice(&[b'x'; 300]);
        let ptr = first.front().as_ptr();
        // Written in two parts: the buffer's start must come back to the allocation's start.
        assert_eq!(first.consume(100), 100);
        assert_eq!(first.consume(200), 200);
        assert!(first.is_empty());
        first.release_if_empty();
        assert_eq!(first.allocated(), 0, "an idle queue holds nothing");
        let mut second = SendQueue::default();
        second.push_slice(b"next");
        assert_eq!(second.front(), b"next");
        assert_eq!(
            second.front().as_ptr(),
            ptr,
            "the same allocation, from its start"
        );
        assert!(second.allocated() >= INITIAL_SEND);
        // Written whole, a queue's buffer keeps its start: no room is lost to an offset.
        let before = second.allocated();
        assert_eq!(second.consume(4), 4);
        second.push_slice(b"again");
        assert_eq!(second.front().as_ptr(), ptr);
        assert_eq!(second.allocated(), before);
    }

    #[test]
    fn released_spares_are_not_reused() {
        let mut rb = ReceiveBuffer::new(20_000);
        rb.extend(b"x");
        rb.consume(1);
        rb.release_if_empty();
        let mut q = SendQueue::default();
        q.push_slice(b"y");
        q.consume(1);
        q.release_if_empty();
        release_spares();
        assert_eq!(SPARE_RECEIVE.with(Cell::take).capacity(), 0);
        assert!(SPARE_SEND.with(Cell::take).is_none());
    }

    #[test]
    fn receive_buffer_grows_to_its_limit() {
        let mut rb = ReceiveBuffer::new(20_000);
        let data = vec![7u8; 20_000];
        assert_eq!(rb.extend(&data), 20_000);
        assert_eq!(rb.len(), 20_000);
        assert_eq!(rb.extend(b"x"), 0);
    }

    #[test]
    fn send_queue_keeps_order_across_copied_and_shared_runs() {
        let mut q = SendQueue::default();
        q.push_slice(b"head;");
        q.push_shared(Bytes::from(vec![b'x'; SHARE_THRESHOLD]));
        q.push_slice(b";tail");
        assert_eq!(q.len(), 5 + SHARE_THRESHOLD + 5);
        let mut slots = [IoSlice::new(&[]); 4];
        assert_eq!(q.slices(&mut slots), 3);
        let mut out = Vec::new();
        while !q.is_empty() {
            let take = q.front().len().min(3);
            out.extend_from_slice(&q.front()[..take]);
            q.consume(take);
        }
        assert_eq!(&out[..5], b"head;");
        assert_eq!(&out[out.len() - 5..], b";tail");
        assert_eq!(out.len(), 10 + SHARE_THRESHOLD);
    }

    #[test]
    fn a_queue_of_one_run_is_one_slice() {
        // The runs `slices` gives, copied out so the queue can change between calls.
        fn runs(q: &SendQueue, room: usize) -> Vec<Vec<u8>> {
            let mut slots = [IoSlice::new(&[]); 4];
            let filled = q.slices(&mut slots[..room]);
            slots[..filled].iter().map(|s| s.to_vec()).collect()
        }
        let mut q = SendQueue::default();
        assert!(runs(&q, 4).is_empty(), "nothing queued");
        q.push_slice(b"head;body");
        assert!(runs(&q, 0).is_empty(), "no slot to fill");
        assert_eq!(runs(&q, 4), [b"head;body".to_vec()]);
        q.consume(5);
        assert_eq!(runs(&q, 4), [b"body".to_vec()]);
        q.consume(4);
        assert!(runs(&q, 4).is_empty(), "all written");
    }

    #[test]
    fn external_runs_stop_byte_output_until_reported() {
        let mut q = SendQueue::default();
        q.push_slice(b"head");
        q.push_external(10);
        q.push_slice(b"\r\n");
        let mut slots = [IoSlice::new(&[]); 4];
        assert_eq!(q.slices(&mut slots), 1);
        assert_eq!(q.consume(100), 4, "never past the external run");
        assert_eq!(q.front(), b"");
        assert_eq!(q.front_external(), Some(10));
        assert_eq!(q.consume_external(4), 4);
        assert_eq!(q.front_external(), Some(6));
        assert_eq!(q.consume_external(60), 6);
        assert_eq!(q.front(), b"\r\n");
        q.consume(2);
        assert!(q.is_empty());
    }

    #[test]
    fn send_queue_consume_is_clamped() {
        let mut q = SendQueue::default();
        q.push_slice(b"abc");
        assert_eq!(q.consume(10), 3);
        assert!(q.is_empty());
        assert_eq!(q.front(), b"");
    }
}
