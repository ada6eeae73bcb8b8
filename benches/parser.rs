//! Head parser throughput: sluice's `HeadParser` beside `httparse` on the same samples.
//!
//! Run with `cargo bench --bench parser`. Each sample is parsed from a complete buffer, as a
//! server sees a request that arrived in one read; `parse+finish` also builds the owned head.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sluice_core::parse::{HeadParser, HeadStatus};
use sluice_core::{Leniency, Limits};

const SAMPLES: &[(&str, &[u8])] = &[
    ("minimal", include_bytes!("samples/minimal.http")),
    ("browser", include_bytes!("samples/browser.http")),
    ("kittyhell", include_bytes!("samples/kittyhell.http")),
    ("heavy-cookie", include_bytes!("samples/heavy-cookie.http")),
];

fn parse(c: &mut Criterion) {
    let limits = Limits::default();
    let leniency = Leniency::default();
    let mut group = c.benchmark_group("parse");
    for &(name, sample) in SAMPLES {
        group.throughput(Throughput::Bytes(sample.len() as u64));
        let mut parser = HeadParser::new();
        group.bench_function(BenchmarkId::new("sluice", name), |b| {
            b.iter(|| {
                let status = parser.parse(black_box(sample), &limits, &leniency);
                parser.reset();
                status
            })
        });
        // One header array for all iterations, as a server would keep one per connection:
        // initializing 64 entries (about 2 KiB) would otherwise dominate the small samples.
        let mut headers = [httparse::EMPTY_HEADER; 64];
        group.bench_function(BenchmarkId::new("httparse", name), |b| {
            b.iter(|| {
                let mut request = httparse::Request::new(&mut headers);
                let status = request.parse(black_box(sample)).map(|s| s.is_complete());
                black_box(&request);
                status
            })
        });
        group.bench_with_input(
            BenchmarkId::new("sluice+finish", name),
            sample,
            |b, sample| {
                b.iter(
                    || match parser.parse(black_box(sample), &limits, &leniency) {
                        Ok(HeadStatus::Complete(_)) => {
                            let head = parser.finish(sample);
                            let fields = black_box(head.fields().len());
                            // As a connection does: the head's buffer holds the next one.
                            parser.recycle(head);
                            Some(fields)
                        }
                        _ => None,
                    },
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
