//! Renderers: one module per output format, each a pure function of the
//! [`Report`](crate::report::Report) and nothing else. How a severity is shown
//! (error, warning, note) is decided here, once: [`level`].

pub mod audit;
pub mod diagnostics;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod short;
pub mod text;

use crate::policy::compile::Severity;
use crate::report::WaivedBy;

/// How loudly a finding is shown, whatever the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// `critical` and `high`.
    Error,
    /// `medium` and `low`.
    Warning,
    /// `info`.
    Note,
}

/// The output level of a severity, for every format.
pub fn level(s: Severity) -> Level {
    match s {
        Severity::Critical | Severity::High => Level::Error,
        Severity::Medium | Severity::Low => Level::Warning,
        Severity::Info => Level::Note,
    }
}

/// The output formats of `rampart check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Snippets for people.
    Text,
    /// The stable JSON contract.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
    /// GitHub Actions workflow commands.
    Github,
    /// The audit report as one self-contained HTML page.
    Html,
    /// The audit report as Markdown.
    Markdown,
    /// One line per finding, for CI logs.
    Short,
    /// GitLab's Code Quality report (a Code Climate subset).
    Gitlab,
}

/// Renders `report` in `format`.
pub fn render(report: &crate::report::Report, format: Format) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Junit => junit::render(report),
        Format::Github => github::render(report),
        Format::Html => audit::render_html(report),
        Format::Markdown => audit::render_markdown(report),
        Format::Short => short::render(report),
        Format::Gitlab => gitlab::render(report),
    }
}

/// Renders `report` in `format` for `--quiet`: the summary only where the
/// format is read by people (`text`, `short`); the machine formats are
/// documents and are rendered whole.
pub fn render_quiet(report: &crate::report::Report, format: Format) -> String {
    match format {
        Format::Text | Format::Short => short::quiet(report),
        _ => render(report, format),
    }
}

/// What hid a waived finding, in one line (`waived by rampart.yaml (owner
/// alice, expires 2025-12-31): reason`).
pub fn waived_by(by: &WaivedBy) -> String {
    match by {
        WaivedBy::Config {
            reason,
            owner,
            expires,
        } => format!("waived by rampart.yaml (owner {owner}, expires {expires}): {reason}"),
        WaivedBy::Inline { reason: Some(r) } => format!("waived by `rampart:ignore`: {r}"),
        WaivedBy::Inline { reason: None } => "waived by `rampart:ignore` (no reason)".to_string(),
    }
}

/// Whether a character must not reach a terminal or a CI log as it is: a
/// control character other than tab (a newline in a file name or a YAML key
/// would start a line of its own — a forged `::error` workflow command — and
/// ESC starts terminal escape sequences), or a bidirectional override
/// ("Trojan source").
fn is_unprintable(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `s` with every unprintable character written as an escape (`\n`, `\r`,
/// `\u{1b}`): for file names, messages and titles in the formats people read.
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_unprintable) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_unprintable(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Snippet text with each unprintable character but the newline replaced by
/// `?` per byte, so byte offsets (and so labels) stay where they were.
pub(crate) fn printable_source(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| is_unprintable(c) && c != '\n') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unprintable(c) && c != '\n' {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A policy or config file's text for snippets with the values of secret-like
/// keys and URL credentials masked (such a file may be a link to a `.env` in
/// the repository): offsets unchanged.
pub(crate) fn masked_plain(text: &str) -> String {
    use rampart_runtime::project::{mask, secret_assignments, url_credentials};
    let mut ranges = secret_assignments(text);
    ranges.extend(url_credentials(text));
    mask(text, ranges)
}
