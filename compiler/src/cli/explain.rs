//! `rampart explain ID`: one policy's rationale, remediation and sources.

use std::io::Write;
use std::path::Path;

use super::{PolicyArgs, EXIT_ERROR, EXIT_OK};
use crate::session::compile_policies;

pub(super) fn run(
    id: &str,
    p: &PolicyArgs,
    cwd: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let Some(compiled) = compile_policies(&p.request(), cwd, err) else {
        return EXIT_ERROR;
    };
    let Some(policy) = compiled.policies.iter().find(|x| x.id == id) else {
        let ids: Vec<&str> = compiled.policies.iter().map(|p| p.id.as_str()).collect();
        let _ = writeln!(err, "error: no policy `{id}`");
        if let Some(s) = crate::diagnostics::did_you_mean(id, ids) {
            let _ = writeln!(err, "help: did you mean `{s}`?");
        }
        return EXIT_ERROR;
    };
    let _ = writeln!(out, "{}\n{}\n", policy.id, policy.title);
    let _ = writeln!(
        out,
        "severity: {}    profile: {}    target: {}",
        policy.severity.as_str(),
        policy.profile.as_str(),
        policy.target
    );
    if !policy.docs.is_empty() {
        let _ = writeln!(out, "\n{}", policy.docs.join("\n"));
    }
    let _ = writeln!(out, "\nwhy:\n{}", indent(&policy.rationale));
    if !policy.remediation.is_empty() {
        let _ = writeln!(out, "\nremediation:\n{}", indent(&policy.remediation));
    }
    if !policy.sources.is_empty() {
        let _ = writeln!(out, "\nsources:");
        for s in &policy.sources {
            let _ = writeln!(out, "  - {s}");
        }
    }
    EXIT_OK
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
