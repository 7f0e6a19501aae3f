//! A finding's fingerprint: an identity that survives unrelated edits, for
//! baselines and code-scanning deduplication.
//!
//! The fingerprint is FNV-1a (64 bits, hex) over the policy id, the file's
//! display path, the text of the flagged node with secrets masked and runs of
//! whitespace folded to one space, and the finding's rank among the findings
//! of the same policy, file and text (in file order). The line number is not
//! part of it: inserting lines above a finding keeps its fingerprint; editing
//! the flagged node, renaming the file or adding an identical node before it
//! changes it. Inputs carry no structural path to a node yet; when they do,
//! it replaces the rank. A secret never reaches the hash (masked text only).

use std::collections::HashMap;

use super::{Finding, Report};

/// FNV-1a offset basis (64 bits).
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a prime (64 bits).
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h = FNV_OFFSET;
    for part in parts {
        for b in part.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

/// The flagged node's text, masked, whitespace folded.
fn node_text(report: &Report, f: &Finding) -> String {
    report
        .sources
        .get(&f.span.file)
        .and_then(|s| s.masked.get(f.span.start..f.span.end))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Sets the fingerprint of every finding (shown and waived) of `report`,
/// whose sources must be kept ([`Report::keep_sources`]).
pub fn assign(report: &mut Report) {
    let mut all: Vec<(usize, bool)> = (0..report.findings.len())
        .map(|i| (i, false))
        .chain((0..report.waived.len()).map(|i| (i, true)))
        .collect();
    fn finding(r: &Report, (i, waived): (usize, bool)) -> Option<&Finding> {
        if waived {
            r.waived.get(i).map(|w| &w.finding)
        } else {
            r.findings.get(i)
        }
    }
    // File order: rank identical nodes by position (a stable sort: ties keep
    // shown before waived, each in its order).
    all.sort_by(|a, b| {
        let key = |k| finding(report, k).map(|f| (f.file.as_str(), f.span.start, f.span.end));
        key(*a).cmp(&key(*b))
    });
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    let mut prints = Vec::with_capacity(all.len());
    for k in all {
        let Some(f) = finding(report, k) else {
            continue;
        };
        let text = node_text(report, f);
        let rank = seen
            .entry((f.policy.clone(), f.file.clone(), text.clone()))
            .or_insert(0);
        let print = format!(
            "{:016x}",
            fnv1a(&[
                f.policy.as_bytes(),
                f.file.as_bytes(),
                text.as_bytes(),
                rank.to_string().as_bytes(),
            ])
        );
        *rank += 1;
        prints.push((k, print));
    }
    for (k, print) in prints {
        let slot = if k.1 {
            report.waived.get_mut(k.0).map(|w| &mut w.finding)
        } else {
            report.findings.get_mut(k.0)
        };
        if let Some(slot) = slot {
            slot.fingerprint = print;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::compile::Severity;
    use crate::report::SourceText;
    use rampart_runtime::model::{FileId, Span};

    fn report(text: &str, at: &[usize]) -> Report {
        let file = FileId(0);
        let mut r = Report::default();
        r.sources.insert(
            file,
            SourceText {
                path: "a.yml".into(),
                masked: text.into(),
            },
        );
        for &start in at {
            r.findings.push(Finding {
                file: "a.yml".into(),
                line: 1 + text.get(..start).unwrap().matches('\n').count(),
                column: 1,
                end_line: 1,
                end_column: 1,
                policy: "p.x".into(),
                severity: Severity::High,
                title: "".into(),
                message: String::new(),
                remediation: "".into(),
                span: Span::new(file, start, start + 9),
                fingerprint: String::new(),
            });
        }
        assign(&mut r);
        r
    }

    #[test]
    fn lines_above_do_not_change_it_and_twins_differ() {
        let a = report("image: x\nports: 1\n", &[9]);
        let b = report("# new\n\nimage: x\nports: 1\n", &[16]);
        assert_eq!(a.findings[0].fingerprint, b.findings[0].fingerprint);
        assert_eq!(a.findings[0].fingerprint.len(), 16);
        let twins = report("ports: 1\nports: 1\n", &[0, 9]);
        assert_ne!(twins.findings[0].fingerprint, twins.findings[1].fingerprint);
        let edited = report("image: x\nports: 2\n", &[9]);
        assert_ne!(a.findings[0].fingerprint, edited.findings[0].fingerprint);
    }
}
