//! Renderers for CI systems: SARIF 2.1.0 (code scanning), JUnit XML (test
//! dashboards) and GitHub Actions workflow commands (annotations). Each is a
//! pure function of the one result model ([`Outcome`]) and the policies run.

use std::collections::HashMap;

use serde_json::json;

use crate::compile::{CompiledPolicy, Severity};
use crate::report::Outcome;

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
pub fn sarif(outcome: &Outcome, policies: &[&CompiledPolicy]) -> String {
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
    let results: Vec<_> = outcome
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
    let notifications: Vec<_> = outcome
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
                "executionSuccessful": outcome.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 forbids most control characters.
            // A raw newline would let a message start a line of the CI log
            // (a forged workflow command): kept, as a character reference.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            // XML 1.0 forbids most control characters.
            c if (c as u32) < 0x20 && c != '\t' => out.push_str("&#xFFFD;"),
            c if c.is_control()
                || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a test suite per policy run, a failing test case per finding
/// (a passing case when the policy found nothing); input errors in a
/// `rampart.errors` suite.
pub fn junit(outcome: &Outcome, policies: &[&CompiledPolicy]) -> String {
    let mut suites = String::new();
    let mut total = 0;
    let mut failures = 0;
    // Findings grouped by policy once (linear, not policies × findings).
    let mut by_policy: HashMap<&str, Vec<&crate::report::Finding>> = HashMap::new();
    for f in &outcome.findings {
        by_policy.entry(f.policy.as_str()).or_default().push(f);
    }
    for p in policies {
        let mine = by_policy.remove(p.id.as_str()).unwrap_or_default();
        let cases = mine.len().max(1);
        total += cases;
        failures += mine.len();
        suites.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{cases}\" failures=\"{}\" errors=\"0\">\n",
            xml_escape(&p.id),
            mine.len()
        ));
        if mine.is_empty() {
            suites.push_str(&format!(
                "    <testcase classname=\"{id}\" name=\"{title}\"/>\n",
                id = xml_escape(&p.id),
                title = xml_escape(&p.title)
            ));
        }
        for f in mine {
            suites.push_str(&format!(
                "    <testcase classname=\"{id}\" name=\"{file}:{line}:{col}\" file=\"{file}\" line=\"{line}\">\n      <failure type=\"{sev}\" message=\"{msg}\">{file}:{line}:{col}: {msg}&#10;{title}</failure>\n    </testcase>\n",
                id = xml_escape(&p.id),
                file = xml_escape(&f.file),
                line = f.line,
                col = f.column,
                sev = f.severity.as_str(),
                msg = xml_escape(&f.message),
                title = xml_escape(&f.title),
            ));
        }
        suites.push_str("  </testsuite>\n");
    }
    if !outcome.errors.is_empty() {
        total += outcome.errors.len();
        suites.push_str(&format!(
            "  <testsuite name=\"rampart.errors\" tests=\"{n}\" failures=\"0\" errors=\"{n}\">\n",
            n = outcome.errors.len()
        ));
        for e in &outcome.errors {
            suites.push_str(&format!(
                "    <testcase classname=\"rampart.errors\" name=\"{file}:{line}\">\n      <error message=\"{msg}\">{file}:{line}:{col}: {msg}</error>\n    </testcase>\n",
                file = xml_escape(&e.file),
                line = e.line,
                col = e.column,
                msg = xml_escape(&e.message),
            ));
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rampart\" tests=\"{total}\" failures=\"{failures}\" errors=\"{}\">\n{suites}</testsuites>\n",
        outcome.errors.len()
    )
}

/// Escapes a workflow command's message.
fn gh_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    // Other control characters (ESC: terminal escapes) as visible escapes.
    crate::report::printable(&s).into_owned()
}

/// Escapes a workflow command's property value.
fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: an annotation per finding and error.
pub fn github(outcome: &Outcome) -> String {
    let mut out = String::new();
    for e in &outcome.errors {
        out.push_str(&format!(
            "::error file={},line={},col={},title=rampart::{}\n",
            gh_prop(&e.file),
            e.line.max(1),
            e.column.max(1),
            gh_data(&e.message)
        ));
    }
    for f in &outcome.findings {
        let cmd = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium | Severity::Low => "warning",
            Severity::Info => "notice",
        };
        out.push_str(&format!(
            "::{cmd} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            gh_prop(&f.file),
            f.line,
            f.column,
            f.end_line,
            f.end_column,
            gh_prop(&format!("{} ({})", f.policy, f.severity.as_str())),
            gh_data(&f.message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            xml_escape("a<b>&\"'\u{1}"),
            "a&lt;b&gt;&amp;&quot;&apos;&#xFFFD;"
        );
        assert_eq!(gh_data("50%\nx"), "50%25%0Ax");
        assert_eq!(gh_prop("a:b,c"), "a%3Ab%2Cc");
    }
}
