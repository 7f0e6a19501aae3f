//! Renderers: one module per output format, each a pure function of the
//! [`Report`](crate::report::Report) and nothing else. How a severity is shown
//! (error, warning, note) is decided here, once: [`level`].

pub mod diagnostics;
pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use crate::compile::Severity;
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
}

/// Renders `report` in `format`.
pub fn render(report: &crate::report::Report, format: Format) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
        Format::Junit => junit::render(report),
        Format::Github => github::render(report),
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
