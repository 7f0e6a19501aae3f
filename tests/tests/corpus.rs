//! Every real-world file of the corpus (`../shared/corpus/real`: compose,
//! Dockerfile, dotenv, nginx, Caddy) is checked by the whole standard library
//! (every profile) or yields located errors; none panics, and no policy fails
//! at run time on real input.

use rampart::policy::compile::{compile, CompileOptions, CompiledPolicy};
use rampart::policy::sources::stdlib_sources;
use rampart::session::evaluate;
use rampart_runtime::project::{Kind, Project};
use rampart_tests::shared_or_skip;

#[test]
fn real_corpus_every_format() {
    let Some(shared) = shared_or_skip("real_corpus_every_format") else {
        return;
    };
    let compiled = compile(stdlib_sources(), &CompileOptions::default());
    assert!(!compiled.has_errors());
    let policies: Vec<&CompiledPolicy> = compiled.policies.iter().collect();
    let mut total_files = 0;
    for (dir, kind, files) in rampart_tests::real_corpus(&shared) {
        assert!(!files.is_empty(), "no files in corpus/real/{dir}");
        // The share of each format's files checked without an error.
        let min_clean = if kind == Kind::CADDY { 0.85 } else { 0.95 };
        let (mut clean, mut errored, mut findings) = (0, 0, 0);
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let mut project = Project::default();
            project.add_file(&name, std::fs::read(f).unwrap(), kind);
            project.link();
            let outcome = evaluate(&project, &policies, &compiled);
            for e in &outcome.errors {
                assert!(e.line >= 1, "{dir}/{name}: unlocated error: {}", e.message);
                assert!(
                    !e.message.contains("failed here"),
                    "{dir}/{name}: a policy failed at run time: {}",
                    e.message
                );
            }
            if outcome.errors.is_empty() {
                clean += 1;
            } else {
                errored += 1;
            }
            findings += outcome.findings.len();
        }
        eprintln!(
            "{dir}: {} files, {clean} checked, {errored} with located errors, {findings} findings",
            files.len()
        );
        assert!(
            clean as f64 >= files.len() as f64 * min_clean,
            "{dir}: too many errors ({errored})"
        );
        total_files += files.len();
    }
    assert!(total_files > 900);
}
