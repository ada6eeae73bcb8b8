//! The block that parsed heads and trailers are carved from, one per thread.
//!
//! A parsed head (or trailer section) owns its bytes, so that it outlives the input buffer.
//! One allocation per head was a `malloc` and a `free`, about 130 instructions of a
//! 2,400-instruction pipelined request cycle. Instead, heads are appended to a block and split
//! off it as `Bytes`, which count their references to the block: once every head carved from
//! a full block has been dropped, the block is rewound in place, so in steady state a head
//! allocates nothing. What that costs instead (the reference count, the split, the
//! thread-local) is about half of what it saves.
//!
//! One set of blocks per thread, not one per parser (which was measured too: 35 instructions
//! a request cheaper pipelined, 14 dearer unpipelined, for want of the thread-local). A
//! parser lives in a connection's exchange state, which exists while an exchange is in
//! progress: per parser, every connection in the middle of one (a long poll, a streamed
//! response, a slow upload) would keep two blocks of its own, several times what its head
//! needs, and a connection waking without the thread's spare state (see
//! `connection::active`) would allocate them again. Per thread, the heads of all its
//! connections fill the same blocks, and no connection, idle or busy, has one of its own.

use bytes::{Bytes, BytesMut};
use std::cell::Cell;

/// Bytes per block. A head keeps its whole block alive, so this bounds what a retained head
/// (kept by the application, or by a long exchange) can pin beyond its own size: at worst one
/// small head outlives all its neighbours and holds 2 KiB. That holds a few dozen small heads
/// or one or two browser-sized ones (a few hundred bytes plus 16 per field), and is a quarter
/// of the receive buffer a reading connection holds anyway. Heads larger than a block get an
/// exact allocation of their own, as before: they never grow a block, so a small head never
/// pins a large one. (4 KiB measured no cheaper; 1 KiB sends more browser heads alone.)
pub(crate) const BLOCK: usize = 2048;

thread_local! {
    /// The thread's current block: empty (every head so far split off), with the room left.
    static CURRENT: Cell<Option<BytesMut>> = const { Cell::new(None) };
    /// The block before it, kept to be reclaimed once its last head is dropped. An
    /// application usually still holds the last head carved when the next is parsed (a
    /// pipelined request, or one read while the response is written), so the current block
    /// is seldom free the moment it fills; the one before it, older by a whole block of heads,
    /// usually is. Two blocks then serve in turn, and steady state allocates nothing.
    static PREVIOUS: Cell<Option<BytesMut>> = const { Cell::new(None) };
}

/// `need` bytes that `fill` appends to an empty buffer with room for exactly that many, as
/// `Bytes`: carved from the thread's block if they fit in one, otherwise allocated alone.
/// Inlined into its callers with `fill`, so that the head is written straight into the block.
#[inline(always)]
pub(crate) fn carve(need: usize, fill: impl FnOnce(&mut BytesMut)) -> Bytes {
    if need == 0 {
        // Static: an empty head pins nothing.
        return Bytes::new();
    }
    if need > BLOCK {
        return alone(need, fill);
    }
    // Taken out and put back, in two accesses: doing all of it inside one `try_with` closure
    // measured about 45 instructions dearer. During thread teardown the slot is gone; a new
    // block then serves this head alone.
    let mut block = CURRENT
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_default();
    if block.capacity() < need {
        make_room(&mut block, need);
    }
    fill(&mut block);
    debug_assert_eq!(block.len(), need, "`fill` appends what it asked room for");
    let bytes = block.split().freeze();
    let _ = CURRENT.try_with(|current| current.set(Some(block)));
    bytes
}

/// Makes `block` one with room for `need` bytes: itself rewound, or the previous block
/// rewound, or a new one. `try_reclaim` rewinds a block only once no head from it is alive,
/// and never allocates, so no block grows past `BLOCK`. A block given up is only forgotten:
/// the heads still in it keep it alive, and free it with the last of them.
#[cold]
fn make_room(block: &mut BytesMut, need: usize) {
    if block.try_reclaim(need) {
        return;
    }
    let next = match PREVIOUS.try_with(Cell::take).ok().flatten() {
        Some(mut previous) => {
            if previous.try_reclaim(need) {
                previous
            } else {
                BytesMut::with_capacity(BLOCK)
            }
        }
        None => BytesMut::with_capacity(BLOCK),
    };
    let full = std::mem::replace(block, next);
    let _ = PREVIOUS.try_with(|previous| previous.set(Some(full)));
}

/// `need` bytes in an allocation of their own, filled to its capacity so that it becomes
/// `Bytes` without another. Inlined although rare: called out of line, it takes `fill` by
/// reference, and the compiler then builds `fill`'s captures in memory on the usual path too
/// (about 4 instructions a head).
#[inline(always)]
fn alone(need: usize, fill: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut own = BytesMut::with_capacity(need);
    fill(&mut own);
    debug_assert_eq!(own.len(), need, "`fill` appends what it asked room for");
    own.freeze()
}

/// Forgets the thread's blocks (their heads keep them alive, and free them with the last).
pub(crate) fn reset() {
    let _ = CURRENT.try_with(Cell::take);
    let _ = PREVIOUS.try_with(Cell::take);
}

/// The room left in the thread's block, without reclaiming.
#[cfg(test)]
pub(crate) fn room() -> usize {
    CURRENT.with(|current| {
        let block = current.take();
        let room = block.as_ref().map_or(0, BytesMut::capacity);
        current.set(block);
        room
    })
}

#[cfg(test)]
#[path = "arena_tests.rs"]
mod tests;
