//! The JUnit XML renderer, for test dashboards.

use std::collections::HashMap;

use crate::report::{Finding, Report};

pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
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
/// (a passing case when the policy found nothing); waived findings as
/// skipped cases of a `rampart.waived` suite; input errors in a
/// `rampart.errors` suite.
pub fn render(report: &Report) -> String {
    let policies = &report.rules;
    let mut suites = String::new();
    let mut total = 0;
    let mut failures = 0;
    // Findings grouped by policy once (linear, not policies × findings).
    let mut by_policy: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &report.findings {
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
    if !report.waived.is_empty() {
        let n = report.waived.len();
        total += n;
        suites.push_str(&format!(
            "  <testsuite name=\"rampart.waived\" tests=\"{n}\" failures=\"0\" errors=\"0\" skipped=\"{n}\">\n"
        ));
        for w in &report.waived {
            let f = &w.finding;
            suites.push_str(&format!(
                "    <testcase classname=\"{id}\" name=\"{file}:{line}:{col}\" file=\"{file}\" line=\"{line}\">\n      <skipped message=\"{why}\"/>\n    </testcase>\n",
                id = xml_escape(&f.policy),
                file = xml_escape(&f.file),
                line = f.line,
                col = f.column,
                why = xml_escape(&super::waived_by(&w.by)),
            ));
        }
        suites.push_str("  </testsuite>\n");
    }
    if !report.errors.is_empty() {
        total += report.errors.len();
        suites.push_str(&format!(
            "  <testsuite name=\"rampart.errors\" tests=\"{n}\" failures=\"0\" errors=\"{n}\">\n",
            n = report.errors.len()
        ));
        for e in &report.errors {
            suites.push_str(&format!(
                "    <testcase classname=\"rampart.errors\" name=\"{file}:{line}\">\n      <error type=\"{code}\" message=\"{msg}\">{file}:{line}:{col}: {msg}</error>\n    </testcase>\n",
                file = xml_escape(&e.file),
                line = e.line,
                col = e.column,
                msg = xml_escape(&e.message),
                code = xml_escape(&e.code),
            ));
        }
        suites.push_str("  </testsuite>\n");
    }
    let baseline = report
        .baseline
        .as_ref()
        .map(|b| format!("<!-- rampart baseline: {} -->\n", b.line()))
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{baseline}<testsuites name=\"rampart\" tests=\"{total}\" failures=\"{failures}\" errors=\"{}\">\n{suites}</testsuites>\n",
        report.errors.len()
    )
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
    }
}
