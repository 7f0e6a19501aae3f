//! The SARIF 2.1.0 renderer, for code scanning.

use std::collections::HashMap;

use serde_json::json;

use crate::compile::Severity;
use crate::report::Report;

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning's `security-severity` (CVSS-like, 0–10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// SARIF 2.1.0: one run, a rule per policy run, a result per finding, input
/// errors as tool execution notifications.
pub fn render(report: &Report) -> String {
    let policies = &report.rules;
    let rules: Vec<_> = policies
        .iter()
        .map(|p| {
            json!({
                "id": p.id,
                "name": p.id,
                "shortDescription": { "text": p.title },
                "fullDescription": { "text": p.rationale },
                "help": { "text": p.remediation, "markdown": format!("```\n{}\n```", p.remediation) },
                "defaultConfiguration": { "level": sarif_level(p.severity) },
                "properties": {
                    "tags": p.tags.iter().cloned().chain(std::iter::once("security".to_string())).collect::<Vec<_>>(),
                    "precision": "high",
                    "security-severity": security_severity(p.severity),
                    "sources": p.sources,
                },
            })
        })
        .collect();
    // Rule indexes by id: one lookup per finding (linear in the findings).
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for (i, p) in policies.iter().enumerate() {
        index_of.entry(p.id.as_str()).or_insert(i);
    }
    let results: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            let index = index_of.get(f.policy.as_str());
            json!({
                "ruleId": f.policy,
                "ruleIndex": index,
                "level": sarif_level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": f.file },
                        "region": {
                            "startLine": f.line, "startColumn": f.column,
                            "endLine": f.end_line, "endColumn": f.end_column,
                        },
                    },
                }],
            })
        })
        .collect();
    let notifications: Vec<_> = report
        .errors
        .iter()
        .map(|e| {
            let mut n = json!({ "level": "error", "message": { "text": e.message } });
            if !e.file.is_empty() {
                let mut physical = json!({ "artifactLocation": { "uri": e.file } });
                if let (true, Some(p)) = (e.line > 0, physical.as_object_mut()) {
                    p.insert(
                        "region".into(),
                        json!({ "startLine": e.line, "startColumn": e.column.max(1) }),
                    );
                }
                if let Some(obj) = n.as_object_mut() {
                    obj.insert(
                        "locations".into(),
                        json!([{ "physicalLocation": physical }]),
                    );
                }
            }
            n
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "rampart",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/rampart",
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
