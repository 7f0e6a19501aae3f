//! Front-end benchmarks (issue 14): parsing each input format, and linking a
//! project of generated service folders. `cargo bench -p rampart-runtime
//! --bench front`; `-- --quick` for a short run. Timings are read here,
//! never asserted in tests.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rampart_runtime::project::Project;

#[allow(dead_code)] // `project` is for the compiler's benches
mod inputs;

/// Files per parse benchmark.
const FILES: usize = 50;

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for (format, name, make, kind) in inputs::formats() {
        let texts: Vec<(String, Vec<u8>)> = (0..FILES)
            .map(|i| (format!("svc-{i}/{name}"), make(i).into_bytes()))
            .collect();
        group.throughput(Throughput::Elements(FILES as u64));
        group.bench_function(format, |b| {
            b.iter_batched(
                || texts.clone(),
                |texts| {
                    let mut project = Project::default();
                    for (path, bytes) in texts {
                        project.add_file(&path, bytes, kind);
                    }
                    project
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn link(c: &mut Criterion) {
    let mut group = c.benchmark_group("link");
    for folders in [10, 100] {
        group.throughput(Throughput::Elements((folders * 5) as u64));
        group.bench_function(format!("{folders} folders"), |b| {
            b.iter_batched(
                || inputs::unlinked(folders),
                |mut project| {
                    project.link();
                    project
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, parse, link);
criterion_main!(benches);
