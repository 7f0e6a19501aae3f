//! The GitLab renderer: the Code Quality report merge requests read
//! (`artifacts: reports: codequality:`), the subset of the Code Climate issue
//! format GitLab documents — a JSON array of objects with `description`,
//! `check_name`, `fingerprint`, `severity` and `location.path` /
//! `location.lines.begin`. GitLab ignores every other property, so none is
//! written.
//!
//! Only the findings shown are listed: waived findings are accepted, and
//! GitLab has no place for suppressions; errors and warnings are not code
//! quality issues (they are on stderr, in the other formats and in the exit
//! code 2). GitLab compares the report of a merge request with the target
//! branch's itself, by fingerprint, so `--baseline` is not needed here.

use serde::Serialize;

use crate::policy::compile::Severity;
use crate::report::Report;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: &'a str,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

/// GitLab's severity of a rampart severity: the five levels in order
/// (`info` → `info`, `low` → `minor`, `medium` → `major`, `high` →
/// `critical`, `critical` → `blocker`), so the order is kept.
pub fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "blocker",
        Severity::High => "critical",
        Severity::Medium => "major",
        Severity::Low => "minor",
        Severity::Info => "info",
    }
}

/// The report as a GitLab Code Quality JSON array (`[]` when there is no
/// finding: GitLab reads an empty report as "no issue").
pub fn render(report: &Report) -> String {
    let issues: Vec<Issue<'_>> = report
        .findings
        .iter()
        .map(|f| Issue {
            description: f.message.clone(),
            check_name: &f.policy,
            fingerprint: &f.fingerprint,
            severity: severity(f.severity),
            location: Location {
                // Relative to the repository (rampart runs at its root in
                // CI); GitLab wants no `./` prefix.
                path: f.file.strip_prefix("./").unwrap_or(&f.file),
                lines: Lines {
                    begin: f.line.max(1),
                },
            },
        })
        .collect();
    serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into()) + "\n"
}
