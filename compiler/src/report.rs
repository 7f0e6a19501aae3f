//! Reporters: one result model, rendered as text (codespan) or JSON.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{emit_into_string, Config};
use rampart_runtime::project::Project;
use serde_json::json;

use crate::compile::{Compiled, Severity};
use crate::diagnostics::{Diagnostic, Level};

/// One finding, located.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// File path as reported.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// End line.
    pub end_line: usize,
    /// End column.
    pub end_column: usize,
    /// Policy id.
    pub policy: String,
    /// Severity.
    pub severity: Severity,
    /// Policy title.
    pub title: String,
    /// Rendered message (redacted).
    pub message: String,
    /// Remediation text.
    pub remediation: String,
    /// The input's file id and byte range, for snippets.
    pub span: rampart_runtime::model::Span,
}

/// An error about an input (or a failing policy expression), located.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputError {
    /// File path.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: usize,
    /// 1-based column (0 when unknown).
    pub column: usize,
    /// Message.
    pub message: String,
    /// Byte span when known.
    pub span: Option<rampart_runtime::model::Span>,
}

/// The outcome of `rampart check`.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Files checked.
    pub files: usize,
    /// Policies run.
    pub policies: usize,
    /// Findings, sorted.
    pub findings: Vec<Finding>,
    /// Errors, sorted.
    pub errors: Vec<InputError>,
    /// Warnings (missing links…), sorted.
    pub warnings: Vec<InputError>,
    /// Findings hidden by a waiver or an inline suppression, sorted.
    pub waived: Vec<Waived>,
}

/// A finding hidden by a waiver or a `rampart:ignore` comment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Waived {
    /// The finding.
    pub finding: Finding,
    /// What hid it.
    pub by: WaivedBy,
}

/// What hid a finding.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum WaivedBy {
    /// A waiver of `rampart.yaml`.
    Config {
        /// Its reason.
        reason: String,
        /// Its owner.
        owner: String,
        /// Its expiry date (`YYYY-MM-DD`).
        expires: String,
    },
    /// A `rampart:ignore` comment in the input.
    Inline {
        /// Its reason, when given.
        reason: Option<String>,
    },
}

/// Renders the outcome as the stable JSON contract (DESIGN.md § CLI).
pub fn json(outcome: &Outcome) -> String {
    let finding = |f: &Finding| {
        json!({
            "policy": f.policy, "severity": f.severity.as_str(), "title": f.title,
            "message": f.message, "file": f.file, "line": f.line, "column": f.column,
            "end_line": f.end_line, "end_column": f.end_column,
        })
    };
    let findings: Vec<_> = outcome.findings.iter().map(finding).collect();
    let waived: Vec<_> = outcome
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
    let errors: Vec<_> = outcome
        .errors
        .iter()
        .map(|e| json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message}))
        .collect();
    let warnings: Vec<_> = outcome
        .warnings
        .iter()
        .map(|e| json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message}))
        .collect();
    let doc = json!({
        "version": 1,
        "summary": {
            "files": outcome.files, "policies": outcome.policies,
            "findings": outcome.findings.len(), "errors": outcome.errors.len(),
            "waived": outcome.waived.len(),
        },
        "findings": findings,
        "errors": errors,
        "warnings": warnings,
        "waived": waived,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Renders the outcome for a terminal: a snippet per finding with the node
/// underlined, the message and the remediation. Secret values in snippets are
/// masked character for character.
pub fn text(outcome: &Outcome, project: &Project) -> String {
    let mut files = SimpleFiles::new();
    let mut ids = std::collections::HashMap::new();
    for (id, f) in project.sources.files() {
        let masked = mask_secrets(&f.text, project);
        ids.insert(id, files.add(f.path.clone(), masked));
    }
    let config = Config::default();
    let mut out = String::new();
    for e in &outcome.errors {
        let mut d = CsDiagnostic::error().with_message(&e.message);
        match e.span.and_then(|s| ids.get(&s.file).map(|fid| (s, *fid))) {
            Some((s, fid)) => d = d.with_labels(vec![Label::primary(fid, s.start..s.end)]),
            None => d = d.with_notes(vec![where_note(e)]),
        }
        out.push_str(
            &emit_into_string(&config, &files, &d)
                .unwrap_or_else(|_| format!("error: {}: {}\n", e.file, e.message)),
        );
    }
    for w in &outcome.warnings {
        let mut d = CsDiagnostic::warning().with_message(&w.message);
        match w.span.and_then(|s| ids.get(&s.file).map(|fid| (s, *fid))) {
            Some((s, fid)) => d = d.with_labels(vec![Label::primary(fid, s.start..s.end)]),
            None if !w.file.is_empty() => d = d.with_notes(vec![where_note(w)]),
            None => {}
        }
        out.push_str(&emit_into_string(&config, &files, &d).unwrap_or_default());
    }
    for f in &outcome.findings {
        let sev = match f.severity {
            Severity::Critical | Severity::High => CsSeverity::Error,
            Severity::Medium | Severity::Low => CsSeverity::Warning,
            Severity::Info => CsSeverity::Note,
        };
        let mut notes = vec![format!("{} · {}", f.severity.as_str(), f.title)];
        if !f.remediation.is_empty() {
            notes.push(format!("remediation:\n{}", indent(&f.remediation)));
        }
        let mut d = CsDiagnostic::new(sev)
            .with_code(&f.policy)
            .with_message(&f.message)
            .with_notes(notes);
        if let Some(fid) = ids.get(&f.span.file) {
            d = d.with_labels(vec![Label::primary(*fid, f.span.start..f.span.end)]);
        }
        out.push_str(
            &emit_into_string(&config, &files, &d)
                .unwrap_or_else(|_| format!("{}:{}: {}\n", f.file, f.line, f.message)),
        );
    }
    let mut counts: Vec<String> = Vec::new();
    for s in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let n = outcome.findings.iter().filter(|f| f.severity == s).count();
        if n > 0 {
            counts.push(format!("{n} {}", s.as_str()));
        }
    }
    out.push_str(&format!(
        "{} finding{}{} · {} error{} · {} file{} checked with {} polic{}\n",
        outcome.findings.len(),
        if outcome.findings.len() == 1 { "" } else { "s" },
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        },
        outcome.errors.len(),
        if outcome.errors.len() == 1 { "" } else { "s" },
        outcome.files,
        if outcome.files == 1 { "" } else { "s" },
        outcome.policies,
        if outcome.policies == 1 { "y" } else { "ies" },
    ));
    if !outcome.waived.is_empty() {
        let inline = outcome
            .waived
            .iter()
            .filter(|w| matches!(w.by, WaivedBy::Inline { .. }))
            .count();
        let n = outcome.waived.len();
        out.push_str(&format!(
            "{n} finding{} waived ({} by rampart.yaml, {inline} by `rampart:ignore` comments)\n",
            if n == 1 { "" } else { "s" },
            n - inline,
        ));
    }
    out
}

/// `in file` or `at file:line:column` for a problem without a snippet.
fn where_note(e: &InputError) -> String {
    if e.line > 0 {
        format!("at {}:{}:{}", e.file, e.line, e.column)
    } else {
        format!("in {}", e.file)
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text with every secret replaced by `*` of the same length (positions stay valid).
fn mask_secrets(text: &str, project: &Project) -> String {
    let mut out = text.to_string();
    // Longest first: a secret that contains a shorter one (`admin123_CHANGE_ME`
    // and a compose default `admin123`) is masked whole.
    let mut secrets: Vec<&String> = project.secrets.iter().collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in secrets {
        if s.chars().count() >= 4 && out.contains(s.as_str()) {
            let keep: String = s.chars().take(2).collect();
            let masked: String = keep.clone() + &"*".repeat(s.len().saturating_sub(keep.len()));
            out = out.replace(s.as_str(), &masked);
        }
    }
    out
}

/// Renders policy diagnostics with their policy-file snippets.
pub fn policy_diagnostics(compiled: &Compiled, diags: &[Diagnostic]) -> String {
    let sources: Vec<(&str, &str)> = compiled
        .sources
        .iter()
        .map(|s| (s.path.as_str(), s.text.as_str()))
        .collect();
    diagnostics(&sources, diags)
}

/// Renders diagnostics about one file (a config file: source index 0).
pub fn file_diagnostics(path: &str, text: &str, diags: &[Diagnostic]) -> String {
    diagnostics(&[(path, text)], diags)
}

/// Renders diagnostics whose `source` indexes `sources` (path, text).
fn diagnostics(sources: &[(&str, &str)], diags: &[Diagnostic]) -> String {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = sources
        .iter()
        .map(|(path, text)| files.add(path.to_string(), text.to_string()))
        .collect();
    let config = Config::default();
    let mut out = String::new();
    for d in diags {
        let mut cs = match d.level {
            Level::Error => CsDiagnostic::error(),
            Level::Warning => CsDiagnostic::warning(),
        }
        .with_code(d.code)
        .with_message(&d.message);
        if let Some(fid) = ids.get(d.source as usize) {
            let len = sources.get(d.source as usize).map_or(0, |s| s.1.len());
            let start = d.start.min(len);
            let end = d.end.max(start).min(len);
            cs = cs.with_labels(vec![Label::primary(*fid, start..end)]);
        }
        if let Some(h) = &d.help {
            cs = cs.with_notes(vec![format!("help: {h}")]);
        }
        out.push_str(
            &emit_into_string(&config, &files, &cs)
                .unwrap_or_else(|_| format!("error[{}]: {}\n", d.code, d.message)),
        );
    }
    out
}
