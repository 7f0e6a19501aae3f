//! `rampart test [PATHS]`: runs the test blocks of policy files, reports
//! coverage (`--format text|json|junit`, `--filter`, `--require-coverage`).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{TestArgs, TestFormat, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::policy::compile::{compile, CompileOptions, PolicySource};
use crate::policy::sources::{load_policy_sources, stdlib_sources};
use crate::policy::testing::TestRun;
use crate::render::junit::xml_escape;
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
    let run = crate::policy::testing::run_tests(&compiled, &bases, a.filter.as_deref());
    let failed = run.failed();
    let gaps = run.gaps();
    let text = match a.format {
        TestFormat::Text => text(&run, a.require_coverage),
        TestFormat::Json => json(&run, a.require_coverage),
        TestFormat::Junit => junit(&run, a.require_coverage),
    };
    let _ = out.write_all(text.as_bytes());
    if failed > 0 || (a.require_coverage && !gaps.is_empty()) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// Failures counted on the last line: failed cases, and coverage gaps
/// when they are required.
fn failures(run: &TestRun, require_coverage: bool) -> usize {
    run.failed()
        + if require_coverage {
            run.gaps().len()
        } else {
            0
        }
}

fn text(run: &TestRun, require_coverage: bool) -> String {
    let mut s = String::new();
    for r in &run.cases {
        match &r.failure {
            None => s.push_str(&format!("ok      {} :: {}\n", r.policy, r.name)),
            Some(why) => {
                s.push_str(&format!(
                    "FAILED  {} :: {} ({})\n        {why}\n",
                    r.policy, r.name, r.at
                ));
            }
        }
    }
    let clauses: usize = run.coverage.iter().map(|p| p.clauses.len()).sum();
    let exercised: usize = run
        .coverage
        .iter()
        .flat_map(|p| &p.clauses)
        .filter(|c| c.exercised)
        .count();
    let both = run
        .coverage
        .iter()
        .filter(|p| p.deny_cases > 0 && p.allow_cases > 0)
        .count();
    s.push_str(&format!(
        "coverage: {both} of {} policies with a deny and an allow case, {exercised} of {clauses} deny clauses exercised\n",
        run.coverage.len()
    ));
    let label = if require_coverage {
        "MISSING"
    } else {
        "gap    "
    };
    for (policy, gap) in run.gaps() {
        s.push_str(&format!("{label} {policy}: {gap}\n"));
    }
    let failed = failures(run, require_coverage);
    s.push_str(&format!(
        "{} passed, {failed} failed\n",
        run.cases.len() - run.failed()
    ));
    s
}

fn json(run: &TestRun, require_coverage: bool) -> String {
    let cases: Vec<serde_json::Value> = run
        .cases
        .iter()
        .map(|r| {
            json!({
                "policy": r.policy,
                "name": r.name,
                "expect": r.expect,
                "at": r.at,
                "passed": r.failure.is_none(),
                "expected": r.expected,
                "findings": r.findings.iter().map(|f| json!({
                    "file": f.file,
                    "line": f.line,
                    "message": f.message,
                    "clause": f.clause,
                })).collect::<Vec<_>>(),
                "failure": r.failure,
            })
        })
        .collect();
    let coverage: Vec<serde_json::Value> = run
        .coverage
        .iter()
        .map(|p| {
            json!({
                "policy": p.policy,
                "deny_cases": p.deny_cases,
                "allow_cases": p.allow_cases,
                "clauses": p.clauses.iter().map(|c| json!({
                    "at": c.at,
                    "exercised": c.exercised,
                })).collect::<Vec<_>>(),
                "gaps": p.gaps(),
            })
        })
        .collect();
    let doc = json!({
        "version": 1,
        "summary": {
            "cases": run.cases.len(),
            "passed": run.cases.len() - run.failed(),
            "failed": run.failed(),
            "gaps": run.gaps().len(),
            "require_coverage": require_coverage,
        },
        "cases": cases,
        "coverage": coverage,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn junit(run: &TestRun, require_coverage: bool) -> String {
    let mut suites = String::new();
    let mut policies: Vec<&str> = run.cases.iter().map(|c| c.policy.as_str()).collect();
    policies.dedup();
    for p in policies {
        let mine: Vec<_> = run.cases.iter().filter(|c| c.policy == p).collect();
        let failed = mine.iter().filter(|c| c.failure.is_some()).count();
        suites.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\">\n",
            xml_escape(p),
            mine.len()
        ));
        for c in mine {
            let (file, line) = c.at.rsplit_once(':').unwrap_or((c.at.as_str(), "0"));
            let head = format!(
                "    <testcase classname=\"{}\" name=\"{} {}\" file=\"{}\" line=\"{}\"",
                xml_escape(&c.policy),
                c.expect,
                xml_escape(&c.name),
                xml_escape(file),
                xml_escape(line)
            );
            match &c.failure {
                None => suites.push_str(&format!("{head}/>\n")),
                Some(why) => suites.push_str(&format!(
                    "{head}>\n      <failure type=\"expectation\" message=\"{}\">{}</failure>\n    </testcase>\n",
                    xml_escape(why),
                    xml_escape(&format!("{}: {}\nexpected {}", c.at, why, c.expected))
                )),
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    let gaps = run.gaps();
    if !gaps.is_empty() {
        let failed = if require_coverage { gaps.len() } else { 0 };
        suites.push_str(&format!(
            "  <testsuite name=\"rampart.coverage\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"{}\">\n",
            gaps.len(),
            gaps.len() - failed
        ));
        for (policy, gap) in &gaps {
            let head = format!(
                "    <testcase classname=\"rampart.coverage\" name=\"{}: {}\">",
                xml_escape(policy),
                xml_escape(gap)
            );
            if require_coverage {
                suites.push_str(&format!(
                    "{head}<failure type=\"coverage\" message=\"{}\"/></testcase>\n",
                    xml_escape(gap)
                ));
            } else {
                suites.push_str(&format!(
                    "{head}<skipped message=\"{}\"/></testcase>\n",
                    xml_escape(gap)
                ));
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    let total = run.cases.len() + gaps.len();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rampart test\" tests=\"{total}\" failures=\"{}\">\n{suites}</testsuites>\n",
        failures(run, require_coverage)
    )
}
