//! The JSON renderer: the stable contract of docs/cli.md.

use serde_json::json;

use crate::report::{Finding, InputError, Report, Waived, WaivedBy};

/// A problem: its location, message and code (`null` when it has none).
fn problem(e: &InputError) -> serde_json::Value {
    let code = (!e.code.is_empty()).then_some(e.code.as_str());
    json!({"file": e.file, "line": e.line, "column": e.column, "message": e.message, "code": code})
}

/// The items of a list, each made into a JSON value only when it is
/// written: the document is streamed, never held whole as values.
struct Lazy<'a, T, F>(&'a [T], F);

impl<T, F: Fn(&T) -> serde_json::Value> serde::Serialize for Lazy<'_, T, F> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.1)(item))?;
        }
        seq.end()
    }
}

/// A finding as the contract shows it: its keys in sorted order (as a JSON
/// object of values prints them), its texts borrowed, so writing tens of
/// thousands of findings builds no value per finding.
#[derive(serde::Serialize)]
struct FindingOut<'a> {
    column: usize,
    end_column: usize,
    end_line: usize,
    file: &'a str,
    fingerprint: &'a str,
    line: usize,
    message: &'a str,
    policy: &'a str,
    severity: &'a str,
    title: &'a str,
}

impl<'a> FindingOut<'a> {
    fn of(f: &'a Finding) -> Self {
        FindingOut {
            column: f.column,
            end_column: f.end_column,
            end_line: f.end_line,
            file: &f.file,
            fingerprint: &f.fingerprint,
            line: f.line,
            message: &f.message,
            policy: &f.policy,
            severity: f.severity.as_str(),
            title: &f.title,
        }
    }
}

/// The shown findings, streamed.
struct Findings<'a>(&'a [Finding]);

impl serde::Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(FindingOut::of))
    }
}

/// A finding as a JSON value (the start of a waived finding's object).
fn finding(f: &Finding) -> serde_json::Value {
    serde_json::to_value(FindingOut::of(f)).unwrap_or_default()
}

/// A waived finding: the finding and who waived it.
fn waived(w: &Waived) -> serde_json::Value {
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
}

/// The whole document; its keys in the order a JSON object of values
/// prints them (sorted), so streaming changes no byte. The findings written
/// are the third field's (the report's, or none when [`write`] writes them).
struct Document<'a>(&'a Report, &'a [InputError], &'a [Finding]);

impl serde::Serialize for Document<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let report = self.0;
        let mut m = s.serialize_map(None)?;
        if let Some(b) = &report.baseline {
            m.serialize_entry(
                "baseline",
                &json!({"new": b.new, "known": b.known, "fixed": b.fixed}),
            )?;
        }
        m.serialize_entry("config", &report.config)?;
        m.serialize_entry("errors", &Lazy(&report.errors, problem))?;
        m.serialize_entry("findings", &Findings(self.2))?;
        m.serialize_entry("notes", &Lazy(&report.input_notes, problem))?;
        m.serialize_entry(
            "summary",
            &json!({
                "files": report.files, "policies": report.policies,
                "findings": report.findings.len(), "errors": report.errors.len(),
                "waived": report.waived.len(),
            }),
        )?;
        m.serialize_entry("version", &1)?;
        m.serialize_entry("waived", &Lazy(&report.waived, waived))?;
        m.serialize_entry("warnings", &Lazy(self.1, problem))?;
        m.end()
    }
}

/// The input warnings and the config's, as the document lists them.
fn all_warnings(report: &Report) -> Vec<InputError> {
    report
        .warnings
        .iter()
        .chain(&report.config_warnings)
        .cloned()
        .collect()
}

/// Writes the report as the stable JSON contract (DESIGN.md § CLI) to `out`.
///
/// The findings, most of a large report, are printed on the cores, a chunk
/// each, and written where the rest of the document (printed with none)
/// has its empty `findings` list: the bytes are those of printing the
/// whole document at once.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let warnings = all_warnings(report);
    let whole = |out: &mut dyn std::io::Write| {
        let doc = Document(report, &warnings, &report.findings);
        serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
        out.write_all(b"\n")
    };
    if report.findings.is_empty() {
        return whole(out);
    }
    let rest = Document(report, &warnings, &[]);
    let rest = serde_json::to_vec_pretty(&rest).map_err(std::io::Error::from)?;
    // A top-level key at the start of a line: no string holds a raw newline.
    const EMPTY: &[u8] = b"\n  \"findings\": []";
    let Some(at) = rest.windows(EMPTY.len()).position(|w| w == EMPTY) else {
        return whole(out);
    };
    let (head, tail) = rest.split_at(at + EMPTY.len() - 1);
    out.write_all(head)?;
    out.write_all(b"\n")?;
    write_findings(&report.findings, out)?;
    out.write_all(b"\n  ")?;
    out.write_all(tail)?;
    out.write_all(b"\n")
}

/// Findings printed per chunk.
const CHUNK: usize = 256;

/// Chunks printed at once, into buffers reused from batch to batch (the
/// output is never held whole).
const BATCH: usize = 16;

/// Writes the findings as the pretty printer prints them as items of the
/// document's `findings` list (two levels in: each line indented by four
/// spaces), separated by `,` and a newline; each batch of chunks is printed
/// on the cores.
fn write_findings(findings: &[Finding], out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use rayon::prelude::*;
    let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); BATCH];
    for (b, batch) in findings.chunks(CHUNK * BATCH).enumerate() {
        rampart_runtime::project::on_cores(|| {
            bufs.par_iter_mut()
                .zip(batch.par_chunks(CHUNK))
                .try_for_each(|(buf, chunk)| print_chunk(chunk, buf))
        })?;
        for (i, buf) in bufs.iter().take(batch.len().div_ceil(CHUNK)).enumerate() {
            if b > 0 || i > 0 {
                out.write_all(b",\n")?;
            }
            out.write_all(buf)?;
        }
    }
    Ok(())
}

/// Prints a chunk of findings into `buf` (cleared first), as [`write_findings`] writes them.
fn print_chunk(chunk: &[Finding], buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    let mut one = Vec::with_capacity(1024);
    for (i, f) in chunk.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(b",\n");
        }
        one.clear();
        serde_json::to_writer_pretty(&mut one, &FindingOut::of(f)).map_err(std::io::Error::from)?;
        for (k, line) in one.split(|b| *b == b'\n').enumerate() {
            if k > 0 {
                buf.push(b'\n');
            }
            buf.extend_from_slice(b"    ");
            buf.extend_from_slice(line);
        }
    }
    Ok(())
}

/// Renders the report as the stable JSON contract (DESIGN.md § CLI).
pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    let _ = write(report, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::compile::Severity;
    use rampart_runtime::model::{FileId, Span};

    /// What printing the whole document at once gives.
    fn at_once(report: &Report) -> Vec<u8> {
        let warnings = all_warnings(report);
        let doc = Document(report, &warnings, &report.findings);
        let mut out = serde_json::to_vec_pretty(&doc).unwrap();
        out.push(b'\n');
        out
    }

    fn finding(i: usize) -> Finding {
        Finding {
            file: format!("svc-{}/compose.yaml", i % 7),
            line: i,
            column: 1 + i % 3,
            end_line: i + 1,
            end_column: 4,
            policy: "compose.no-default-secrets".into(),
            severity: Severity::High,
            title: "Title with \"quotes\"".into(),
            // Escapes, a newline and non-ASCII text in the strings.
            message: format!("value `{i}`\n\tüber \\ \u{1}\"x\""),
            remediation: "".into(),
            span: Span::new(FileId(0), i, i + 1),
            fingerprint: format!("{i:016x}"),
            path: String::new(),
        }
    }

    #[test]
    fn findings_printed_in_chunks_give_the_bytes_of_printing_at_once() {
        for n in [0, 1, 2, 255, 256, 257, 4095, 4096, 4097, 9000] {
            let mut report = Report {
                findings: (0..n).map(finding).collect(),
                config: Some("rampart.toml".into()),
                ..Report::default()
            };
            report.errors.push(InputError {
                file: "a".into(),
                line: 1,
                column: 1,
                message: "\n  \"findings\": [] in a message".into(),
                span: None,
                code: "x".into(),
            });
            report.waived.push(crate::report::Waived {
                finding: finding(n + 1),
                by: crate::report::WaivedBy::Inline {
                    reason: Some("ok".into()),
                },
            });
            let mut ours = Vec::new();
            write(&report, &mut ours).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(at_once(&report)).unwrap(),
                "{n} findings"
            );
        }
    }
}
