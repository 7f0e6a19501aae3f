//! Baselines: a file of accepted findings' fingerprints. `rampart baseline FILE`
//! writes it; `rampart check --baseline FILE` reports only the findings not in
//! it. Matching is by [`Finding::fingerprint`] (policy, file, structural path
//! of the node, masked node text), so edits elsewhere in a file and reordered
//! services do not break it.

use serde_json::json;

use crate::report::{Finding, Report};

/// The format version written in the file: 2 since fingerprints hash the
/// structural path of the node (a version-1 file's fingerprints match nothing:
/// it is refused with a plain error, write the baseline again).
pub const VERSION: u64 = 2;

/// Largest baseline file read, in bytes (64 MiB).
pub const MAX_BASELINE_BYTES: u64 = 64 * 1024 * 1024;

/// What comparing a run with a baseline found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BaselineStats {
    /// Findings not in the baseline (still in `findings`).
    pub new: usize,
    /// Findings in the baseline (removed from `findings`).
    pub known: usize,
    /// Baseline entries no finding matched any more.
    pub fixed: usize,
}

impl BaselineStats {
    /// `N new, K known, M fixed`.
    pub fn line(&self) -> String {
        format!(
            "{} new, {} known, {} fixed",
            self.new, self.known, self.fixed
        )
    }
}

/// The baseline document for `findings` (fingerprint, policy, file, path,
/// line, message — messages are already redacted).
pub fn write(findings: &[Finding]) -> String {
    let entries: Vec<_> = findings
        .iter()
        .map(|f| {
            json!({
                "fingerprint": f.fingerprint, "policy": f.policy,
                "file": f.file, "path": f.path, "line": f.line, "message": f.message,
            })
        })
        .collect();
    let doc = json!({"rampart_baseline": VERSION, "findings": entries});
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// The fingerprints of a baseline document; `Err` with a plain reason when it
/// is not one.
pub fn parse(text: &str) -> Result<Vec<String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    match v
        .get("rampart_baseline")
        .and_then(serde_json::Value::as_u64)
    {
        Some(VERSION) => {}
        Some(n) => {
            return Err(format!(
                "baseline version {n} is not supported (expected {VERSION}); \
                 write it again with `rampart baseline`"
            ))
        }
        None => return Err("not a rampart baseline (no `rampart_baseline` version)".into()),
    }
    let Some(entries) = v.get("findings").and_then(serde_json::Value::as_array) else {
        return Err("no `findings` list".into());
    };
    entries
        .iter()
        .map(|e| {
            e.get("fingerprint")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| "a finding without a `fingerprint` string".to_string())
        })
        .collect()
}

/// Moves the findings of `report` whose fingerprint is in `known` to
/// [`Report::known`] (each baseline entry matches at most one finding) and
/// records the counts.
pub fn apply(report: &mut Report, known: &[String]) {
    let mut left: Vec<Option<&String>> = known.iter().map(Some).collect();
    let mut index: std::collections::HashMap<&str, Vec<usize>> = Default::default();
    for (i, k) in known.iter().enumerate() {
        index.entry(k.as_str()).or_default().push(i);
    }
    let findings = std::mem::take(&mut report.findings);
    let mut stats = BaselineStats::default();
    for f in findings {
        let slot = index.get_mut(f.fingerprint.as_str()).and_then(|v| v.pop());
        match slot {
            Some(i) => {
                if let Some(s) = left.get_mut(i) {
                    *s = None;
                }
                stats.known += 1;
                report.known.push(f);
            }
            None => {
                stats.new += 1;
                report.findings.push(f);
            }
        }
    }
    stats.fixed = left.iter().flatten().count();
    report.baseline = Some(stats);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_baselines_are_plain_errors() {
        assert!(parse("nope").unwrap_err().starts_with("not valid JSON"));
        assert!(parse("{}").unwrap_err().contains("not a rampart baseline"));
        assert!(parse("{\"rampart_baseline\": 9, \"findings\": []}")
            .unwrap_err()
            .contains("version 9"));
        assert!(parse("{\"rampart_baseline\": 2, \"findings\": [{}]}").is_err());
        assert_eq!(
            parse("{\"rampart_baseline\": 2, \"findings\": [{\"fingerprint\": \"a\"}]}").unwrap(),
            ["a"]
        );
    }
}
