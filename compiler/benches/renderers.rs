//! Renderer benchmark (issue 8, "output proportional to findings"): renders
//! N synthetic findings in every format and prints the time per format, then
//! masks an env file of many secrets. Plain `std::time`, no harness:
//!
//! ```text
//! cargo bench -p rampart --bench renderers            # N = 10,000 and 50,000
//! cargo bench -p rampart --bench renderers -- 2000    # other sizes
//! ```
//!
//! Each format should take about 5× longer at 50k than at 10k (linear).

use std::time::Instant;

use rampart::policy::compile::{compile, CompileOptions, CompiledPolicy};
use rampart::render::{self, Format};
use rampart::report::{Finding, InputError, Report, Rule};
use rampart_runtime::model::Span;
use rampart_runtime::project::{Kind, Project};

/// A project with one compose file of `services` services (each with a
/// secret) and the findings of `n` hits spread over them.
fn outcome(n: usize, policies: &[&CompiledPolicy]) -> Report {
    let services = n / 8 + 1;
    let mut text = String::from("services:\n");
    for i in 0..services {
        text.push_str(&format!(
            "  s{i}:\n    image: nginx\n    environment:\n      API_TOKEN: \"Zq7x\\x2D{i:08}\"\n"
        ));
    }
    let mut project = Project::default();
    let file = project.add_file("docker-compose.yml", text.into_bytes(), Kind::COMPOSE);
    project.link();
    let mut findings = Vec::with_capacity(n);
    let len = project.sources.get(file).map_or(0, |f| f.text.len());
    for i in 0..n {
        let start = (i * 61) % len.max(1);
        let span = Span::new(file, start, (start + 5).min(len));
        let Some(loc) = project.sources.location(span) else {
            continue;
        };
        let Some(p) = policies.get(i % policies.len().max(1)) else {
            continue;
        };
        findings.push(Finding {
            file: loc.path,
            line: loc.line,
            column: loc.column,
            end_line: loc.end_line,
            end_column: loc.end_column,
            policy: p.id.clone(),
            severity: p.severity,
            title: p.title.clone(),
            message: format!("finding {i} of `{}`", p.id),
            remediation: p.remediation.clone(),
            span,
            fingerprint: String::new(),
            path: String::new(),
        });
    }
    findings.sort();
    let errors = (0..n / 100)
        .map(|i| InputError {
            file: "docker-compose.yml".into(),
            line: 1,
            column: 1,
            message: format!("error {i}"),
            span: Some(Span::new(file, 0, 8)),
            code: String::new(),
        })
        .collect();
    let mut report = Report {
        files: 1,
        policies: policies.len(),
        rules: policies.iter().map(|p| Rule::of(p)).collect(),
        findings,
        errors,
        ..Report::default()
    };
    report.keep_sources(&project);
    rampart::report::fingerprint::assign(&mut report);
    report
}

/// One renderer, bound to its inputs.
type Render<'a> = Box<dyn Fn() -> String + 'a>;

fn time<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64() * 1000.0)
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 50_000]
    } else {
        sizes
    };
    let compiled = compile(
        rampart::policy::sources::stdlib_sources(),
        &CompileOptions::default(),
    );
    let policies: Vec<&CompiledPolicy> = compiled.policies.iter().collect();
    println!("{} policies", policies.len());
    for n in sizes {
        let report = outcome(n, &policies);
        let formats: [(&str, Render); 5] = [
            ("text", Box::new(|| render::render(&report, Format::Text))),
            ("json", Box::new(|| render::render(&report, Format::Json))),
            ("sarif", Box::new(|| render::render(&report, Format::Sarif))),
            ("junit", Box::new(|| render::render(&report, Format::Junit))),
            (
                "github",
                Box::new(|| render::render(&report, Format::Github)),
            ),
        ];
        for (name, render) in formats {
            let (out, ms) = time(render);
            println!(
                "{name:>6}  N={n:>6}  {ms:>9.1} ms  {:>7.2} µs/finding  {:>11} bytes",
                ms * 1000.0 / n as f64,
                out.len()
            );
        }
    }
    // Masking: an env file of many secrets, one snippet.
    for secrets in [16_000, 64_000] {
        let text: String = (0..secrets)
            .map(|i| format!("K{i}_PASSWORD=\"v\\$Zq7x{i:08}\"\n"))
            .collect();
        let mut project = Project::default();
        let file = project.add_file(".env", text.into_bytes(), Kind::DOTENV);
        let (masked, ms) = time(|| project.masked_text(file));
        println!(
            " mask  {secrets:>6} env secrets  {ms:>9.1} ms  {:>11} bytes",
            masked.len()
        );
    }
}
