//! Per-stage benchmarks of a check (issue 14): compiling the embedded
//! standard library (all of it, and one target's rules on demand), evaluating
//! each policy family on generated service folders, and rendering the report
//! in every format. `cargo bench -p rampart --bench stages`; `-- --quick` for
//! a short run. Parsing and linking: `rampart-runtime`'s `front` bench.
//! Timings are read here, never asserted in tests.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rampart::policy::compile::{compile, CompileOptions, CompiledPolicy};
use rampart::policy::sources::stdlib_sources;
use rampart::render::{self, Format};
use rampart_runtime::engine::{Engine, Rule};

#[path = "../../runtime/benches/inputs/mod.rs"]
mod inputs;

/// Service folders of the evaluation and rendering benchmarks (five files each).
const FOLDERS: usize = 20;

fn compile_stdlib(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(20);
    group.bench_function("stdlib, every rule", |b| {
        b.iter(|| compile(stdlib_sources(), &CompileOptions::default()));
    });
    let deferred = CompileOptions {
        defer_rules: true,
        ..CompileOptions::default()
    };
    group.bench_function("stdlib, metadata only", |b| {
        b.iter(|| compile(stdlib_sources(), &deferred));
    });
    group.bench_function("stdlib, compose rules on demand", |b| {
        b.iter(|| {
            let mut c = compile(stdlib_sources(), &deferred);
            c.complete(|p| p.target == "compose");
            c
        });
    });
    group.finish();
}

fn evaluate(c: &mut Criterion) {
    let compiled = compile(stdlib_sources(), &CompileOptions::default());
    let project = inputs::project(FOLDERS);
    let Ok(engine) = Engine::new() else {
        return;
    };
    let mut group = c.benchmark_group("evaluate");
    group.sample_size(20);
    let mut targets: Vec<&str> = compiled
        .policies
        .iter()
        .map(|p| p.target.as_str())
        .collect();
    targets.sort_unstable();
    targets.dedup();
    for target in targets {
        let rules: Vec<Rule> = compiled
            .policies
            .iter()
            .filter(|p| p.target == target)
            .map(|p| p.rule.clone())
            .collect();
        let docs = project
            .documents
            .iter()
            .filter(|d| d.target.name() == target)
            .count();
        group.throughput(Throughput::Elements(docs as u64));
        group.bench_function(format!("{target} ({} policies)", rules.len()), |b| {
            b.iter(|| engine.run(&rules, &project));
        });
    }
    group.finish();
}

fn render_formats(c: &mut Criterion) {
    let compiled = compile(stdlib_sources(), &CompileOptions::default());
    let project = inputs::project(FOLDERS);
    let policies: Vec<&CompiledPolicy> = compiled.policies.iter().collect();
    let mut report = rampart::session::evaluate(&project, &policies, &compiled);
    report.rules = policies
        .iter()
        .map(|p| rampart::report::Rule::of(p))
        .collect();
    report.keep_sources(&project);
    rampart::report::fingerprint::assign(&mut report);
    let mut group = c.benchmark_group("render");
    group.throughput(Throughput::Elements(report.findings.len() as u64));
    for (name, format) in [
        ("text", Format::Text),
        ("json", Format::Json),
        ("sarif", Format::Sarif),
        ("junit", Format::Junit),
        ("github", Format::Github),
        ("short", Format::Short),
        ("html", Format::Html),
        ("markdown", Format::Markdown),
    ] {
        group.bench_function(name, |b| b.iter(|| render::render(&report, format)));
    }
    group.finish();
}

criterion_group!(benches, compile_stdlib, evaluate, render_formats);
criterion_main!(benches);
