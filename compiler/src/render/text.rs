//! The text renderer: a codespan snippet per finding with the node
//! underlined, the message and the remediation; problems first, a summary last.

use super::{printable, printable_source};
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::{self, Files};
use codespan_reporting::term::{emit_into_string, Config};
use rampart_runtime::model::Span;
use rampart_runtime::source::line_starts;

use super::{level, Level};
use crate::policy::compile::Severity;
use crate::report::{InputError, Report, WaivedBy};

/// Renders the report for a terminal: a snippet per finding with the node
/// underlined, the message and the remediation. Secret values in snippets are
/// masked character for character (([`rampart_runtime::project::Project::masked_text`], kept in [`Report::sources`])); each snippet
/// shows at most [`SNIPPET_LINES`] lines of at most about
/// [`SNIPPET_LINE_BYTES`] bytes, so the output is proportional to the findings.
pub fn render(report: &Report) -> String {
    let mut starts: std::collections::HashMap<_, Vec<usize>> = std::collections::HashMap::new();
    let mut snippet = |span: Span, column: usize| -> Option<(Snippet, std::ops::Range<usize>)> {
        let f = report.sources.get(&span.file)?;
        let starts = starts
            .entry(span.file)
            .or_insert_with(|| line_starts(&f.masked));
        Some(Snippet::new(
            &f.path,
            &f.masked,
            starts,
            span.start()..span.end(),
            column,
        ))
    };
    let config = Config::default();
    let mut out = String::new();
    for e in &report.errors {
        let mut d = with_code(CsDiagnostic::error().with_message(printable(&e.message)), e);
        let shown = e.span.and_then(|s| snippet(s, e.column));
        match &shown {
            Some((sn, range)) => d = with_snippet(d, sn, range.clone()),
            None => d = d.with_notes(vec![where_note(e)]),
        }
        out.push_str(
            &emit(&config, shown.as_ref().map(|s| &s.0), &d).unwrap_or_else(|| {
                format!("error: {}: {}\n", printable(&e.file), printable(&e.message))
            }),
        );
    }
    for w in &report.warnings {
        let mut d = with_code(
            CsDiagnostic::warning().with_message(printable(&w.message)),
            w,
        );
        let shown = w.span.and_then(|s| snippet(s, w.column));
        match &shown {
            Some((sn, range)) => d = with_snippet(d, sn, range.clone()),
            None if !w.file.is_empty() => d = d.with_notes(vec![where_note(w)]),
            None => {}
        }
        out.push_str(&emit(&config, shown.as_ref().map(|s| &s.0), &d).unwrap_or_default());
    }
    for n in &report.input_notes {
        let d = with_code(CsDiagnostic::note().with_message(printable(&n.message)), n)
            .with_notes(vec![where_note(n)]);
        out.push_str(&emit(&config, None, &d).unwrap_or_default());
    }
    for f in &report.findings {
        let sev = match level(f.severity) {
            Level::Error => codespan_reporting::diagnostic::Severity::Error,
            Level::Warning => codespan_reporting::diagnostic::Severity::Warning,
            Level::Note => codespan_reporting::diagnostic::Severity::Note,
        };
        let notes = vec![format!("{} · {}", f.severity.as_str(), printable(&f.title))];
        let mut d = CsDiagnostic::new(sev)
            .with_code(&f.policy)
            .with_message(printable(&f.message))
            .with_notes(notes);
        let shown = snippet(f.span, f.column);
        if let Some((sn, range)) = &shown {
            d = with_snippet(d, sn, range.clone());
        }
        out.push_str(
            &emit(&config, shown.as_ref().map(|s| &s.0), &d).unwrap_or_else(|| {
                format!(
                    "{}:{}: {}\n",
                    printable(&f.file),
                    f.line,
                    printable(&f.message)
                )
            }),
        );
    }
    out.push_str(&by_policy(report));
    out.push_str(&summary(report));
    out
}

/// The closing per-policy table: each policy with findings once (the most
/// severe first), its severity and count, how to fix it and how to suppress
/// it — the remediation is printed here, not under every finding.
fn by_policy(report: &Report) -> String {
    let mut rows: Vec<(&str, Severity, usize, &str)> = Vec::new();
    for f in &report.findings {
        match rows.iter_mut().find(|r| r.0 == f.policy) {
            Some(r) => r.2 += 1,
            None => rows.push((&f.policy, f.severity, 1, &*f.remediation)),
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let mut out = format!("{:width$}  {:8}  {:>5}\n", "policy", "severity", "count");
    for (id, severity, n, remediation) in rows {
        out.push_str(&format!("{id:width$}  {:8}  {n:>5}\n", severity.as_str()));
        if !remediation.is_empty() {
            out.push_str(&format!("  how to fix:\n{}\n", indent(remediation)));
        }
        out.push_str(&format!(
            "  how to suppress: `# rampart:ignore {id} -- reason` on the line (or the line \
             above), or a waiver in rampart.yaml\n"
        ));
    }
    out.push('\n');
    out
}

/// The summary lines: counts, the config in use, the waived findings (also
/// all `--quiet` prints, and the end of the `short` format).
pub(crate) fn summary(report: &Report) -> String {
    let mut out = String::new();
    let mut counts: Vec<String> = Vec::new();
    for s in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ] {
        let n = report.findings.iter().filter(|f| f.severity == s).count();
        if n > 0 {
            counts.push(format!("{n} {}", s.as_str()));
        }
    }
    out.push_str(&format!(
        "{} finding{}{} · {} error{}{} · {} file{} checked with {} polic{}\n",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        if counts.is_empty() {
            String::new()
        } else {
            format!(" ({})", counts.join(", "))
        },
        report.errors.len(),
        if report.errors.len() == 1 { "" } else { "s" },
        match report.warnings.len() + report.config_warnings.len() {
            0 => String::new(),
            1 => " · 1 warning".to_string(),
            n => format!(" · {n} warnings"),
        },
        report.files,
        if report.files == 1 { "" } else { "s" },
        report.policies,
        if report.policies == 1 { "y" } else { "ies" },
    ));
    if let Some(b) = &report.baseline {
        out.push_str(&format!("baseline: {}\n", b.line()));
    }
    if let Some(config) = &report.config {
        out.push_str(&format!("config: {}\n", printable(config)));
    }
    if !report.waived.is_empty() {
        let inline = report
            .waived
            .iter()
            .filter(|w| matches!(w.by, WaivedBy::Inline { .. }))
            .count();
        let n = report.waived.len();
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
            text.push_str(&printable_source(file_text.get(w_from..w_to).unwrap_or("")));
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
            name: printable(name).into_owned(),
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

/// `d` with the problem's code, when it has one.
fn with_code(d: CsDiagnostic<()>, e: &InputError) -> CsDiagnostic<()> {
    if e.code.is_empty() {
        d
    } else {
        d.with_code(&e.code)
    }
}

/// `in file` or `at file:line:column` for a problem without a snippet.
fn where_note(e: &InputError) -> String {
    if e.line > 0 {
        format!("at {}:{}:{}", printable(&e.file), e.line, e.column)
    } else {
        format!("in {}", printable(&e.file))
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
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
