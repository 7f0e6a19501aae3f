//! Hiding accepted findings: inline `rampart:ignore` comments in inputs and
//! the waivers of `rampart.yaml`. A hidden finding is kept as *waived* so
//! reports can show what was accepted, by whom and why.
//!
//! Inline rule: a `#` comment (at the start of a line or after a blank) reading
//! `rampart:ignore <policy-id>[, <policy-id>…] -- <reason>` suppresses those
//! policies' findings on its own line, and — when the comment is alone on its
//! line — on the first line below the run of comment lines it belongs to.

use std::collections::HashMap;

use rampart_runtime::model::{FileId, Span};
use rampart_runtime::project::Project;

use crate::config::{Config, ConfigError, ConfigProblem};
use crate::diagnostics::did_you_mean;
use crate::report::{Finding, InputError, Report, Waived, WaivedBy};

/// The marker that starts an inline suppression.
pub const MARKER: &str = "rampart:ignore";

/// A waiver or inline suppression and what became of it (`rampart waivers`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acceptance {
    /// The file it is written in (the config's path for a waiver).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// Byte offset in its file (for a waiver: in the config text).
    pub offset: usize,
    /// What it covers: policy ids, or the waiver's label.
    pub covers: String,
    /// `waiver` or `inline`.
    pub kind: &'static str,
    /// Owner (waivers only).
    pub owner: String,
    /// Expiry date (waivers only).
    pub expires: String,
    /// Reason given.
    pub reason: String,
    /// `active`, `expiring`, `expired` or `unused`.
    pub status: &'static str,
    /// Findings it hid.
    pub hidden: usize,
}

/// One `rampart:ignore` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// 1-based line of the comment.
    pub line: usize,
    /// Whether the comment is alone on its line (it then covers the line below).
    pub own_line: bool,
    /// Policy ids named.
    pub ids: Vec<String>,
    /// The reason after `--`, when given.
    pub reason: Option<String>,
    /// Byte range of the marker and what follows it.
    pub start: usize,
    /// End of that range.
    pub end: usize,
}

/// Every `rampart:ignore` comment of a text.
pub fn scan(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.trim_end_matches(['\n', '\r']);
        if let Some(s) = parse_line(line, offset, i + 1) {
            out.push(s);
        }
        offset += raw.len();
    }
    out
}

fn parse_line(line: &str, offset: usize, number: usize) -> Option<Suppression> {
    let at = line.find(MARKER)?;
    let before = line.get(..at)?;
    let hash = before.rfind('#')?;
    let head = before.get(..hash)?;
    // A comment: `#` at the start or after a blank, and only blanks up to the marker.
    if !(head.is_empty() || head.ends_with([' ', '\t']))
        || !before.get(hash + 1..)?.trim().is_empty()
    {
        return None;
    }
    let rest = line.get(at + MARKER.len()..)?;
    let (ids, reason) = match rest.split_once("--") {
        Some((ids, reason)) => (
            ids,
            Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
        ),
        None => (rest, None),
    };
    Some(Suppression {
        line: number,
        own_line: head.trim().is_empty(),
        ids: ids
            .split([',', ' ', '\t'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        reason,
        start: offset + at,
        end: offset + line.trim_end().len(),
    })
}

/// Whether `line` (1-based) of `text` holds only a `#` comment.
fn is_comment_line(lines: &[&str], line: usize) -> bool {
    line >= 1
        && lines
            .get(line - 1)
            .is_some_and(|l| l.trim_start().starts_with('#'))
}

/// Hides suppressed and waived findings of `outcome`, moving them to
/// `outcome.waived`; adds warnings for suppressions without a reason or
/// naming unknown policies. Returns the problems of the config's waivers
/// (a warning for each waiver that hid nothing).
///
/// `rel` maps a finding's file to its path relative to the config directory.
pub fn apply(
    outcome: &mut Report,
    project: &Project,
    config: Option<&Config>,
    rel: &dyn Fn(&str) -> String,
    policy_ids: &[&str],
) -> Vec<ConfigProblem> {
    // Inline suppressions, per file.
    let mut by_file: HashMap<FileId, (Vec<Suppression>, Vec<&str>)> = HashMap::new();
    // Which suppressions hid something, per file (an unused one is a warning).
    let mut hits: HashMap<FileId, (String, Vec<usize>)> = HashMap::new();
    for (id, f) in project.sources.files() {
        if !f.text.contains(MARKER) {
            continue;
        }
        let sups = scan(&f.text);
        for s in &sups {
            let span = Span::new(id, s.start, s.end);
            let loc = project.sources.location(span);
            let warn = |code: &str, message: String| InputError {
                file: f.path.clone(),
                line: loc.as_ref().map_or(s.line, |l| l.line),
                column: loc.as_ref().map_or(0, |l| l.column),
                message,
                span: Some(span),
                code: code.to_string(),
            };
            if s.ids.is_empty() {
                outcome.warnings.push(warn(
                    "ignore-no-policy",
                    format!("`{MARKER}` names no policy"),
                ));
            }
            for pid in &s.ids {
                if !policy_ids.contains(&pid.as_str()) {
                    let hint = did_you_mean(pid, policy_ids.iter().copied())
                        .map(|d| format!("; did you mean `{d}`?"))
                        .unwrap_or_default();
                    outcome.warnings.push(warn(
                        "ignore-unknown-policy",
                        format!("`{MARKER}` names unknown policy `{pid}`{hint}"),
                    ));
                }
            }
            if s.reason.is_none() {
                outcome.warnings.push(warn(
                    "ignore-no-reason",
                    format!(
                        "`{MARKER}` without a reason; write `{MARKER} <policy-id> -- <reason>`"
                    ),
                ));
            }
        }
        hits.insert(id, (f.path.clone(), vec![0; sups.len()]));
        by_file.insert(id, (sups, f.text.lines().collect()));
    }
    let mut used = vec![0usize; config.map_or(0, |c| c.waivers.len())];
    // Suppressed and waived findings move out; the rest stay where they are
    // (no second vector of every finding).
    let mut by: Vec<WaivedBy> = Vec::new();
    let moved: Vec<Finding> = outcome
        .findings
        .extract_if(.., |f| {
            if let Some((i, reason)) = inline_reason(&by_file, f) {
                if let Some(h) = hits.get_mut(&f.span.file).and_then(|(_, h)| h.get_mut(i)) {
                    *h += 1;
                }
                by.push(WaivedBy::Inline { reason });
                return true;
            }
            let waiver = config.and_then(|c| {
                c.waiver_for(&f.policy, &rel(&f.file))
                    .and_then(|i| c.waivers.get(i).map(|w| (i, w)))
            });
            match waiver {
                Some((i, w)) => {
                    if let Some(u) = used.get_mut(i) {
                        *u += 1;
                    }
                    by.push(WaivedBy::Config {
                        reason: w.reason.clone(),
                        owner: w.owner.clone(),
                        expires: w.expires.value.to_string(),
                    });
                    true
                }
                None => false,
            }
        })
        .collect();
    outcome.waived.extend(
        moved
            .into_iter()
            .zip(by)
            .map(|(finding, by)| Waived { finding, by }),
    );
    for (id, (sups, _)) in &by_file {
        let Some((path, used)) = hits.get(id) else {
            continue;
        };
        for (i, s) in sups.iter().enumerate() {
            let span = Span::new(*id, s.start, s.end);
            let loc = project.sources.location(span);
            let hidden = used.get(i).copied().unwrap_or(0);
            outcome.acceptances.push(Acceptance {
                file: path.clone(),
                line: loc.as_ref().map_or(s.line, |l| l.line),
                offset: s.start,
                covers: s.ids.join(", "),
                kind: "inline",
                owner: String::new(),
                expires: String::new(),
                reason: s.reason.clone().unwrap_or_default(),
                status: if hidden == 0 { "unused" } else { "active" },
                hidden,
            });
            // A comment naming no policy, or an unknown one, already has its warning.
            if s.ids.is_empty()
                || s.ids.iter().any(|p| !policy_ids.contains(&p.as_str()))
                || hidden > 0
            {
                continue;
            }
            outcome.warnings.push(InputError {
                file: path.clone(),
                line: loc.as_ref().map_or(s.line, |l| l.line),
                column: loc.as_ref().map_or(0, |l| l.column),
                message: format!(
                    "`{MARKER} {}` suppresses nothing; remove it if the finding is fixed",
                    s.ids.join(", ")
                ),
                span: Some(span),
                code: "ignore-unused".to_string(),
            });
        }
    }
    outcome.warnings.sort();
    outcome.warnings.dedup();
    let Some(config) = config else {
        return Vec::new();
    };
    for (w, u) in config.waivers.iter().zip(&used) {
        outcome.acceptances.push(Acceptance {
            file: String::new(),
            line: 0,
            offset: w.start,
            covers: w.label(),
            kind: "waiver",
            owner: w.owner.clone(),
            expires: w.expires.value.to_string(),
            reason: w.reason.clone(),
            status: if w.expired {
                "expired"
            } else if *u == 0 {
                "unused"
            } else if w.expiring {
                "expiring"
            } else {
                "active"
            },
            hidden: *u,
        });
    }
    config
        .waivers
        .iter()
        .zip(used)
        .filter(|(w, u)| *u == 0 && !w.expired)
        .map(|(w, _)| ConfigProblem {
            start: w.policy.text.start,
            end: w.policy.text.end,
            error: ConfigError::UnusedWaiver { waiver: w.label() },
        })
        .collect()
}

/// The index and reason of the inline suppression covering `f`, if one does
/// (reason `None`: suppressed without a reason).
fn inline_reason(
    by_file: &HashMap<FileId, (Vec<Suppression>, Vec<&str>)>,
    f: &Finding,
) -> Option<(usize, Option<String>)> {
    let (sups, lines) = by_file.get(&f.span.file)?;
    let names = |(_, s): &(usize, &Suppression)| s.ids.contains(&f.policy);
    if let Some((i, s)) = sups
        .iter()
        .enumerate()
        .filter(names)
        .find(|(_, s)| s.line == f.line)
    {
        return Some((i, s.reason.clone()));
    }
    // Comment lines directly above the finding's line.
    let mut l = f.line.saturating_sub(1);
    while is_comment_line(lines, l) {
        if let Some((i, s)) = sups
            .iter()
            .enumerate()
            .filter(names)
            .find(|(_, s)| s.line == l && s.own_line)
        {
            return Some((i, s.reason.clone()));
        }
        l -= 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_recognised() {
        let text = "a: 1 # rampart:ignore compose.x -- legacy\n  # rampart:ignore a.b, c.d\nb: \"#rampart:ignore no\"\nc: x#rampart:ignore no\n#rampart:ignore e.f --\n";
        let s = scan(text);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].ids, ["compose.x"]);
        assert_eq!(s[0].reason.as_deref(), Some("legacy"));
        assert!(!s[0].own_line);
        assert_eq!(
            &text[s[0].start..s[0].end],
            "rampart:ignore compose.x -- legacy"
        );
        assert_eq!(s[1].ids, ["a.b", "c.d"]);
        assert_eq!(s[1].reason, None);
        assert!(s[1].own_line);
        assert_eq!(s[1].line, 2);
        assert_eq!(s[2].ids, ["e.f"]);
        assert_eq!(s[2].reason, None);
    }

    proptest::proptest! {
        #[test]
        fn scan_never_panics(text in "\\PC{0,200}") {
            let _ = scan(&text);
        }
    }
}
