//! The GitHub Actions renderer: workflow commands (annotations).

use super::{level, Level};
use crate::report::Report;

/// Escapes a workflow command's message.
fn gh_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    // Other control characters (ESC: terminal escapes) as visible escapes.
    super::printable(&s).into_owned()
}

/// Escapes a workflow command's property value.
fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: an annotation per finding, error and
/// warning (the config's included), and the summary as `::notice` lines last.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for e in &report.errors {
        out.push_str(&format!(
            "::error file={},line={},col={},title=rampart::{}\n",
            gh_prop(&e.file),
            e.line.max(1),
            e.column.max(1),
            gh_data(&e.message)
        ));
    }
    for w in report.warnings.iter().chain(&report.config_warnings) {
        out.push_str(&format!(
            "::warning file={},line={},col={},title=rampart::{}\n",
            gh_prop(&w.file),
            w.line.max(1),
            w.column.max(1),
            gh_data(&w.message)
        ));
    }
    for n in &report.input_notes {
        out.push_str(&format!(
            "::notice file={},line={},col={},title=rampart::{}\n",
            gh_prop(&n.file),
            n.line.max(1),
            n.column.max(1),
            gh_data(&n.message)
        ));
    }
    for f in &report.findings {
        let cmd = match level(f.severity) {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
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
    if let Some(b) = &report.baseline {
        out.push_str(&format!("::notice title=rampart baseline::{}\n", b.line()));
    }
    // The summary, last: GitHub shows only the first annotations of a step.
    for line in super::text::summary(report).lines() {
        out.push_str(&format!("::notice title=rampart::{}\n", gh_data(line)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(gh_data("50%\nx"), "50%25%0Ax");
        assert_eq!(gh_prop("a:b,c"), "a%3Ab%2Cc");
    }
}
