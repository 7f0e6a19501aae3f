//! The short renderer, for CI logs: one line per finding
//! (`file:line:col: severity policy message`), one per error and warning,
//! and the summary of the text format last.

use super::printable;
use crate::report::{InputError, Report};

/// One line per problem and per finding, then the summary lines.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for e in &report.errors {
        out.push_str(&problem("error", e));
    }
    for w in report.warnings.iter().chain(&report.config_warnings) {
        out.push_str(&problem("warning", w));
    }
    for f in &report.findings {
        out.push_str(&format!(
            "{}:{}:{}: {} {} {}\n",
            printable(&f.file),
            f.line,
            f.column,
            f.severity.as_str(),
            f.policy,
            printable(&f.message)
        ));
    }
    out.push_str(&super::text::summary(report));
    out
}

/// `--quiet`: the summary lines only, after the errors (one line each: a
/// failed run says why).
pub fn quiet(report: &Report) -> String {
    let mut out = String::new();
    for e in &report.errors {
        out.push_str(&problem("error", e));
    }
    out.push_str(&super::text::summary(report));
    out
}

/// `file:line:col: error[code] message` (`file: …` when there is no line).
fn problem(kind: &str, e: &InputError) -> String {
    let at = if e.file.is_empty() {
        "rampart".to_string()
    } else if e.line > 0 {
        format!("{}:{}:{}", printable(&e.file), e.line, e.column.max(1))
    } else {
        printable(&e.file).into_owned()
    };
    let code = if e.code.is_empty() {
        String::new()
    } else {
        format!("[{}]", e.code)
    };
    format!("{at}: {kind}{code} {}\n", printable(&e.message))
}
