//! Reporters: one result model, rendered as text (codespan) or JSON.

pub mod suppress;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label, Severity as CsSeverity};
use std::collections::HashMap;

use codespan_reporting::files::{self, Files, SimpleFiles};
use codespan_reporting::term::{emit_into_string, Config};
use rampart_runtime::model::{FileId, Span};
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
/// masked character for character ([`Project::masked_text`]); each snippet
/// shows at most [`SNIPPET_LINES`] lines of at most about
/// [`SNIPPET_LINE_BYTES`] bytes, so the output is proportional to the findings.
pub fn text(outcome: &Outcome, project: &Project) -> String {
    let mut masked: HashMap<FileId, (String, Vec<usize>)> = HashMap::new();
    let mut snippet = |span: Span, column: usize| -> Option<(Snippet, std::ops::Range<usize>)> {
        let f = project.sources.get(span.file)?;
        let (text, starts) = masked.entry(span.file).or_insert_with(|| {
            let t = project.masked_text(span.file);
            let starts = line_starts(&t);
            (t, starts)
        });
        Some(Snippet::new(
            &f.path,
            text,
            starts,
            span.start..span.end,
            column,
        ))
    };
    let config = Config::default();
    let mut out = String::new();
    for e in &outcome.errors {
        let mut d = CsDiagnostic::error().with_message(&e.message);
        let shown = e.span.and_then(|s| snippet(s, e.column));
        match &shown {
            Some((sn, range)) => d = with_snippet(d, sn, range.clone()),
            None => d = d.with_notes(vec![where_note(e)]),
        }
        out.push_str(
            &emit(&config, shown.as_ref().map(|s| &s.0), &d)
                .unwrap_or_else(|| format!("error: {}: {}\n", e.file, e.message)),
        );
    }
    for w in &outcome.warnings {
        let mut d = CsDiagnostic::warning().with_message(&w.message);
        let shown = w.span.and_then(|s| snippet(s, w.column));
        match &shown {
            Some((sn, range)) => d = with_snippet(d, sn, range.clone()),
            None if !w.file.is_empty() => d = d.with_notes(vec![where_note(w)]),
            None => {}
        }
        out.push_str(&emit(&config, shown.as_ref().map(|s| &s.0), &d).unwrap_or_default());
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
        let shown = snippet(f.span, f.column);
        if let Some((sn, range)) = &shown {
            d = with_snippet(d, sn, range.clone());
        }
        out.push_str(
            &emit(&config, shown.as_ref().map(|s| &s.0), &d)
                .unwrap_or_else(|| format!("{}:{}: {}\n", f.file, f.line, f.message)),
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

/// The most lines a snippet shows; a longer label is cut (with a note).
pub const SNIPPET_LINES: usize = 8;

/// Lines longer than this many bytes are shown as a window of about this
/// width around the label, cut with `…`.
pub const SNIPPET_LINE_BYTES: usize = 160;

/// Bytes of context shown before a label that starts far into a long line.
const SNIPPET_CONTEXT_BYTES: usize = 40;

/// Byte offsets of the line starts of `text`.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// The largest char boundary of `text` at or below `i`.
fn floor_boundary(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest char boundary of `text` at or above `i`.
fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i.min(text.len())
}

/// The few lines of a file one label needs, long lines clipped around the
/// label: a one-file [`Files`] for codespan whose line numbers are the real
/// ones. Building it costs the size of the snippet, not of the file.
struct Snippet {
    name: String,
    text: String,
    starts: Vec<usize>,
    /// Index (0-based) of the file line the snippet starts at.
    first_line: usize,
    /// The label's start in `text` and its real column (1-based, characters).
    header: (usize, usize),
    /// Lines of the label not shown.
    cut_lines: usize,
}

impl Snippet {
    /// The snippet of `file_text` (line starts `starts`) for `label`, whose
    /// start is at real column `column`, and the label's range in the snippet.
    fn new(
        name: &str,
        file_text: &str,
        starts: &[usize],
        label: std::ops::Range<usize>,
        column: usize,
    ) -> (Snippet, std::ops::Range<usize>) {
        let len = file_text.len();
        let ls = floor_boundary(file_text, label.start.min(len));
        let le = floor_boundary(file_text, label.end.clamp(ls, len));
        let line_of = |b: usize| match starts.binary_search(&b) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let (first, last) = (line_of(ls), line_of(le));
        let shown_last = last.min(first + SNIPPET_LINES - 1);
        let mut text = String::new();
        let mut snippet_starts = Vec::new();
        let (mut start, mut end) = (0, 0);
        for line in first..=shown_last {
            let from = starts.get(line).copied().unwrap_or(len);
            let to = starts
                .get(line + 1)
                .map_or(len, |n| n.saturating_sub(1))
                .max(from);
            let content = file_text.get(from..to).unwrap_or("");
            let content = content.strip_suffix('\r').unwrap_or(content);
            let to = from + content.len();
            // The window of this line to show.
            let (w_from, w_to) = if content.len() <= SNIPPET_LINE_BYTES {
                (from, to)
            } else {
                let anchor = if line == first { ls } else { from };
                let a = floor_boundary(
                    file_text,
                    anchor.saturating_sub(SNIPPET_CONTEXT_BYTES).max(from),
                );
                let b = ceil_boundary(file_text, (a + SNIPPET_LINE_BYTES).min(to));
                (a, b)
            };
            snippet_starts.push(text.len());
            let prefix = if w_from > from { "…" } else { "" };
            text.push_str(prefix);
            let base = text.len();
            text.push_str(file_text.get(w_from..w_to).unwrap_or(""));
            if w_to < to {
                text.push('…');
            }
            let map = |b: usize| base + b.clamp(w_from, w_to) - w_from;
            if line == first {
                start = map(ls);
            }
            end = if line == last { map(le) } else { text.len() };
            if line < shown_last {
                text.push('\n');
            }
        }
        let sn = Snippet {
            name: name.to_string(),
            text,
            starts: snippet_starts,
            first_line: first,
            header: (start, column.max(1)),
            cut_lines: last - shown_last,
        };
        (sn, start..end.max(start))
    }
}

impl<'a> Files<'a> for Snippet {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, files::Error> {
        Ok(&self.name)
    }

    fn source(&'a self, (): ()) -> Result<&'a str, files::Error> {
        Ok(&self.text)
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, files::Error> {
        Ok(match self.starts.binary_search(&byte_index) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        })
    }

    fn line_number(&'a self, (): (), line_index: usize) -> Result<usize, files::Error> {
        Ok(self.first_line + line_index + 1)
    }

    fn column_number(
        &'a self,
        (): (),
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, files::Error> {
        if byte_index == self.header.0 {
            return Ok(self.header.1);
        }
        let range = self.line_range((), line_index)?;
        Ok(files::column_index(&self.text, range, byte_index) + 1)
    }

    fn line_range(
        &'a self,
        (): (),
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, files::Error> {
        let start = *self
            .starts
            .get(line_index)
            .ok_or(files::Error::LineTooLarge {
                given: line_index,
                max: self.starts.len().saturating_sub(1),
            })?;
        let end = self
            .starts
            .get(line_index + 1)
            .map_or(self.text.len(), |n| n.saturating_sub(1));
        Ok(start..end.max(start))
    }
}

/// `d` labelled in a snippet (with a note when the label was cut).
fn with_snippet(
    d: CsDiagnostic<()>,
    sn: &Snippet,
    range: std::ops::Range<usize>,
) -> CsDiagnostic<()> {
    let mut d = d.with_labels(vec![Label::primary((), range)]);
    if sn.cut_lines > 0 {
        d.notes.push(format!(
            "({} more line{} of this span not shown)",
            sn.cut_lines,
            if sn.cut_lines == 1 { "" } else { "s" }
        ));
    }
    d
}

/// One diagnostic rendered with its snippet (or none).
fn emit(config: &Config, sn: Option<&Snippet>, d: &CsDiagnostic<()>) -> Option<String> {
    match sn {
        Some(sn) => emit_into_string(config, sn, d).ok(),
        None => {
            let empty = Snippet {
                name: String::new(),
                text: String::new(),
                starts: vec![0],
                first_line: 0,
                header: (0, 1),
                cut_lines: 0,
            };
            emit_into_string(config, &empty, d).ok()
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, label: std::ops::Range<usize>) -> String {
        let starts = line_starts(text);
        let (sn, range) = Snippet::new("f.yml", text, &starts, label, 7);
        let d = with_snippet(CsDiagnostic::error().with_message("m"), &sn, range);
        emit(&Config::default(), Some(&sn), &d).unwrap()
    }

    #[test]
    fn long_lines_are_windowed_around_the_label() {
        let mut text = "a: 1\n".to_string();
        text.push_str(&"x".repeat(100_000));
        let at = text.len();
        text.push_str("TARGET");
        text.push_str(&"y".repeat(100_000));
        text.push_str("\nz: 2\n");
        let out = render(&text, at..at + 6);
        assert!(out.len() < 2 * (SNIPPET_LINE_BYTES + 200), "{out}");
        assert!(out.contains("f.yml:2:7"), "{out}");
        let line = out.lines().find(|l| l.contains("TARGET")).unwrap();
        let carets = out.lines().find(|l| l.contains('^')).unwrap();
        // The carets stand under the label.
        let col = |l: &str, pat: &str| l.find(pat).map(|b| l[..b].chars().count());
        assert_eq!(col(line, "TARGET"), col(carets, "^"), "{out}");
        assert!(line.starts_with("2 │ …") && line.ends_with('…'), "{out}");
    }

    #[test]
    fn long_labels_are_cut() {
        let text: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
        let out = render(&text, 0..text.len() - 1);
        assert!(out.contains("line 8") && !out.contains("line 9"), "{out}");
        assert!(
            out.contains("992 more lines of this span not shown"),
            "{out}"
        );
        // Line numbers are the file's.
        let tail = "line 500\nline 501\n";
        let at = text.find(tail).unwrap();
        let out = render(&text, at..at + tail.len() - 1);
        assert!(out.contains("500 │") && out.contains("501 │"), "{out}");
    }

    #[test]
    fn a_label_at_the_end_of_a_long_line_is_shown() {
        let text = format!("{}END", "é".repeat(50_000));
        let out = render(&text, text.len() - 3..text.len());
        assert!(out.contains("END") && out.len() < 2_000, "{out}");
    }
}
