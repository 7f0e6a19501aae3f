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
/// prints them (sorted), so streaming changes no byte.
struct Document<'a>(&'a Report, Vec<InputError>);

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
        m.serialize_entry("findings", &Findings(&report.findings))?;
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
        m.serialize_entry("warnings", &Lazy(&self.1, problem))?;
        m.end()
    }
}

/// Writes the report as the stable JSON contract (DESIGN.md § CLI) to `out`.
pub fn write(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let warnings: Vec<InputError> = report
        .warnings
        .iter()
        .chain(&report.config_warnings)
        .cloned()
        .collect();
    let doc = Document(report, warnings);
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// Renders the report as the stable JSON contract (DESIGN.md § CLI).
pub fn render(report: &Report) -> String {
    let mut out = Vec::new();
    let _ = write(report, &mut out);
    String::from_utf8(out).unwrap_or_default()
}
