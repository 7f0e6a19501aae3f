//! The JSON renderer: the stable contract of docs/cli.md.

use serde_json::json;

use crate::report::{Finding, InputError, Report, WaivedBy};

/// A problem: its location, message and code (`null` when it has none).
fn problem(e: &InputError) -> serde_json::Value {
    let code = (!e.code.is_empty()).then_some(e.code.as_str());
    json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message, "code": code})
}

/// Renders the report as the stable JSON contract (DESIGN.md § CLI).
pub fn render(report: &Report) -> String {
    let finding = |f: &Finding| {
        json!({
            "policy": f.policy, "severity": f.severity.as_str(), "title": f.title,
            "message": f.message, "file": f.file, "line": f.line, "column": f.column,
            "end_line": f.end_line, "end_column": f.end_column,
            "fingerprint": f.fingerprint,
        })
    };
    let findings: Vec<_> = report.findings.iter().map(finding).collect();
    let waived: Vec<_> = report
        .waived
        .iter()
        .map(|w| {
            let mut v = finding(&w.finding);
            let by = match &w.by {
                WaivedBy::Config {
                    reason,
                    owner,
                    expires,
                } => json!({"by": "config", "reason": reason, "owner": owner, "expires": expires}),
                WaivedBy::Inline { reason } => json!({"by": "inline", "reason": reason}),
            };
            if let (Some(obj), Some(extra)) = (v.as_object_mut(), by.as_object()) {
                obj.extend(extra.clone());
            }
            v
        })
        .collect();
    let errors: Vec<_> = report.errors.iter().map(problem).collect();
    let warnings: Vec<_> = report
        .warnings
        .iter()
        .chain(&report.config_warnings)
        .map(problem)
        .collect();
    let notes: Vec<_> = report.input_notes.iter().map(problem).collect();
    let doc = json!({
        "version": 1,
        "config": report.config,
        "summary": {
            "files": report.files, "policies": report.policies,
            "findings": report.findings.len(), "errors": report.errors.len(),
            "waived": report.waived.len(),
        },
        "findings": findings,
        "errors": errors,
        "warnings": warnings,
        "notes": notes,
        "waived": waived,
    });
    let mut doc = doc;
    if let (Some(b), Some(o)) = (&report.baseline, doc.as_object_mut()) {
        o.insert(
            "baseline".into(),
            json!({"new": b.new, "known": b.known, "fixed": b.fixed}),
        );
    }
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
