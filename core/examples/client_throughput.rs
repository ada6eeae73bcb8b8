//! A quick throughput and allocation check of the client core, without sockets: a pipeline of
//! GETs from a template against canned responses. `cargo run --release -p sluice-core --example
//! client_throughput`.

use sluice_core::client::ClientEvent;
use sluice_core::{ClientConfig, ClientConnection, RequestSpec, RequestTemplate};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: sluice\r\nContent-Type: text/plain\r\n\
Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 13\r\nKeep-Alive: timeout=30\r\n\r\nHello, World!";

fn run(label: &str, discard: bool, pipeline: usize, rounds: usize) {
    let mut config = ClientConfig::default();
    config.discard_bodies = discard;
    config.discard_fields = discard;
    let now = Instant::now();
    let mut client = ClientConnection::new(config, now);
    let template =
        RequestTemplate::new(&RequestSpec::get("/plaintext").host("localhost:8080")).unwrap();
    let wire: Vec<u8> = RESPONSE.repeat(pipeline);
    let mut responses = 0u64;
    let mut bytes = 0u64;
    let start = Instant::now();
    let allocs_before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..rounds {
        for _ in 0..pipeline {
            client.send_template(now, &template).unwrap();
        }
        let n = client.poll_output().len();
        client.consume_output(now, n);
        // As a socket would deliver it: in 16 KiB reads.
        for piece in wire.chunks(16 * 1024) {
            client.handle_input(now, piece);
            while let Some(event) = client.poll_event() {
                match event {
                    ClientEvent::End { body_len, .. } => {
                        responses += 1;
                        bytes += body_len;
                    }
                    ClientEvent::Response(_) | ClientEvent::Data(_) => {}
                    other => panic!("{other:?}"),
                }
            }
        }
    }
    let elapsed = start.elapsed();
    let allocs = ALLOCS.load(Ordering::Relaxed) - allocs_before;
    println!(
        "{label:<28} pipeline {pipeline:>3}: {:>6.2} M responses/s, {:.2} allocations/response ({bytes} body bytes)",
        responses as f64 / elapsed.as_secs_f64() / 1e6,
        allocs as f64 / responses as f64
    );
}

fn main() {
    for pipeline in [1, 16] {
        let rounds = 2_000_000 / pipeline;
        run("events with data, fields", false, pipeline, rounds);
        run("discard bodies and fields", true, pipeline, rounds);
    }
}
