//! `rampart test [PATHS]`: runs the test blocks of policy files.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{TestArgs, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::policy::compile::{compile, CompileOptions, PolicySource};
use crate::policy::sources::{load_policy_sources, stdlib_sources};
use crate::session::print_policy_diagnostics;

pub(super) fn run(a: &TestArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (sources, bases): (Vec<PolicySource>, Vec<Option<PathBuf>>) = if a.paths.is_empty() {
        let s = stdlib_sources();
        let n = s.len();
        (s, vec![None; n])
    } else {
        let Some(s) = load_policy_sources(&a.paths, cwd, None, err) else {
            return EXIT_ERROR;
        };
        let bases = s
            .iter()
            .map(|p| cwd.join(&p.path).parent().map(Path::to_path_buf))
            .collect();
        (s, bases)
    };
    let compiled = compile(sources, &CompileOptions::default());
    print_policy_diagnostics(&compiled, err);
    if compiled.has_errors() {
        return EXIT_ERROR;
    }
    let (results, coverage) = crate::policy::testing::run_tests(&compiled, &bases);
    let mut failed = 0;
    for r in &results {
        match &r.failure {
            None => {
                let _ = writeln!(out, "ok      {} :: {}", r.policy, r.name);
            }
            Some(why) => {
                failed += 1;
                let _ = writeln!(out, "FAILED  {} :: {}\n        {why}", r.policy, r.name);
            }
        }
    }
    for c in &coverage {
        let _ = writeln!(out, "MISSING {c}");
    }
    let _ = writeln!(
        out,
        "{} passed, {} failed",
        results.len() - failed,
        failed + coverage.len()
    );
    if failed + coverage.len() > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
