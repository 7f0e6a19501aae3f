//! The one result model of `rampart check`: a [`Report`]. The session builds
//! it; every renderer (`crate::render`) reads it and nothing else.
//!
//! - [`suppress`]: hiding accepted findings (waivers, `rampart:ignore`);
//! - [`fingerprint`]: a finding's stable identity across edits.

use std::collections::BTreeMap;

use rampart_runtime::model::{FileId, Span};
use rampart_runtime::project::Project;

use crate::policy::compile::{CompiledPolicy, Severity};

pub mod baseline;
pub mod fingerprint;
pub mod grouping;
pub mod suppress;

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
    /// Policy title (shared by the policy's findings).
    pub title: std::sync::Arc<str>,
    /// Rendered message (redacted).
    pub message: String,
    /// Remediation text (shared by the policy's findings).
    pub remediation: std::sync::Arc<str>,
    /// The input's file id and byte range, for snippets.
    pub span: Span,
    /// Stable identity ([`fingerprint`]); empty until the session sets it.
    pub fingerprint: String,
    /// Structural path of the flagged node in its document
    /// (`services.web.ports[0]`, [`fingerprint::locate`]); empty until the
    /// session sets it, or when no node of a document has the span.
    pub path: String,
}

/// A problem about an input, a policy run or the config, located.
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
    pub span: Option<Span>,
    /// Stable code naming the kind of problem (`""` when it has none).
    pub code: String,
}

/// A problem: [`InputError`] is its historical name.
pub type Problem = InputError;

/// The metadata of a policy that ran: what renderers say about a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Policy id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Severity in effect (after the config's overrides).
    pub severity: Severity,
    /// Why the rule exists (the help of the rule).
    pub rationale: String,
    /// How to fix a finding.
    pub remediation: String,
    /// Tags.
    pub tags: Vec<String>,
    /// References.
    pub sources: Vec<String>,
    /// The target whose documents it reads (`compose`, `http`…).
    pub target: String,
}

impl Rule {
    /// The metadata of a compiled policy.
    pub fn of(p: &CompiledPolicy) -> Rule {
        Rule {
            id: p.id.clone(),
            title: p.title.clone(),
            severity: p.severity,
            rationale: p.rationale.clone(),
            remediation: p.remediation.clone(),
            tags: p.tags.clone(),
            sources: p.sources.clone(),
            target: p.target.clone(),
        }
    }
}

/// The text of an input file as renderers may show it: secrets masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceText {
    /// Display path.
    pub path: String,
    /// The file's text with every secret masked ([`Project::masked_text`]).
    pub masked: String,
}

/// A file the run read, for audit reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Examined {
    /// Display path.
    pub path: String,
    /// The targets its documents feed (`compose`, `http`…); empty for a
    /// file read only as an include or import.
    pub targets: Vec<String>,
    /// Its text as read (shared with the run's source map): the SHA-256 is
    /// computed only by the formats that print it ([`Examined::sha256`]).
    pub text: std::sync::Arc<str>,
}

impl Examined {
    /// SHA-256 of its text as read (inputs are UTF-8), lowercase hex.
    pub fn sha256(&self) -> String {
        use sha2::Digest;
        use std::fmt::Write as _;
        let digest = sha2::Sha256::digest(self.text.as_bytes());
        let mut hex = String::with_capacity(64);
        for b in digest {
            let _ = write!(hex, "{b:02x}");
        }
        hex
    }
}

/// Facts about the run itself, for audit reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunInfo {
    /// rampart's version.
    pub version: String,
    /// SHA-256 over every policy source compiled (paths and texts, in order):
    /// two runs with the same digest ran the same policy set.
    pub policy_digest: String,
    /// The profile in effect.
    pub profile: String,
    /// When the run happened (seconds since 1970, UTC): `SOURCE_DATE_EPOCH`
    /// when set, so a report can be reproduced byte for byte.
    pub time: u64,
}

/// The outcome of `rampart check`.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Files checked.
    pub files: usize,
    /// Policies run.
    pub policies: usize,
    /// The policies run, in order.
    pub rules: Vec<Rule>,
    /// Findings, sorted.
    pub findings: Vec<Finding>,
    /// Errors, sorted.
    pub errors: Vec<InputError>,
    /// Warnings (missing links, unused waivers…), sorted.
    pub warnings: Vec<InputError>,
    /// Notes about inputs that never fail a run (a file named on the command
    /// line that is not a config of any format), located, sorted.
    pub input_notes: Vec<InputError>,
    /// Findings hidden by a waiver or an inline suppression, sorted.
    pub waived: Vec<Waived>,
    /// Warnings about the config file (waivers that hid nothing).
    pub config_warnings: Vec<InputError>,
    /// Paths skipped during discovery, and why (redacted).
    pub skipped: Vec<String>,
    /// The config file in use (display path), if any.
    pub config: Option<String>,
    /// Every file read, with its hash (sorted by path).
    pub inputs: Vec<Examined>,
    /// The run's metadata.
    pub run: RunInfo,
    /// Notes of the run (checks not done and why; redacted).
    pub notes: Vec<String>,
    /// Every waiver and inline suppression with its status (`rampart waivers`).
    pub acceptances: Vec<suppress::Acceptance>,
    /// The comparison with `--baseline`, when one was given.
    pub baseline: Option<baseline::BaselineStats>,
    /// Findings the `--baseline` knows (not in `findings`: they do not fail
    /// the run); SARIF lists them with `baselineState: "unchanged"`.
    pub known: Vec<Finding>,
    /// The masked texts of the files a finding or a problem points into.
    pub sources: BTreeMap<FileId, SourceText>,
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

/// The counts of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Files checked.
    pub files: usize,
    /// Policies run.
    pub policies: usize,
    /// Findings shown.
    pub findings: usize,
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Findings waived.
    pub waived: usize,
}

/// Sorts findings into their [`Ord`] order (file, position, policy, …) by
/// comparing small integer keys first — the rank of the file path and of
/// the policy id among those present — and whole findings only where the
/// keys tie; then moves each finding once. Sorting the findings themselves
/// compared paths byte by byte and moved 200-byte values at every step.
pub fn sort_findings(findings: &mut [Finding]) {
    use std::collections::HashMap;
    fn ranks<'a>(names: impl Iterator<Item = &'a str>) -> HashMap<&'a str, u32> {
        // Findings come in runs of one file (and often one policy): the
        // runs are told apart before sorting what is left.
        let mut distinct: Vec<&str> = Vec::new();
        for n in names {
            if distinct.last() != Some(&n) {
                distinct.push(n);
            }
        }
        distinct.sort_unstable();
        distinct.dedup();
        distinct
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, u32::try_from(i).unwrap_or(u32::MAX)))
            .collect()
    }
    let files = ranks(findings.iter().map(|f| f.file.as_str()));
    let ids = ranks(findings.iter().map(|f| f.policy.as_str()));
    let key = |f: &Finding| {
        (
            files.get(f.file.as_str()).copied().unwrap_or(u32::MAX),
            f.line,
            f.column,
            f.end_line,
            f.end_column,
            ids.get(f.policy.as_str()).copied().unwrap_or(u32::MAX),
        )
    };
    // The key orders as the fields it stands for do, so ties are broken by
    // the whole findings and the order is exactly theirs. On the cores.
    let order = rampart_runtime::project::on_cores(|| {
        use rayon::prelude::*;
        let mut order: Vec<(_, usize)> = findings
            .par_iter()
            .enumerate()
            .map(|(i, f)| (key(f), i))
            .collect();
        order.par_sort_unstable_by(|(ka, a), (kb, b)| {
            ka.cmp(kb)
                .then_with(|| findings.get(*a).cmp(&findings.get(*b)))
        });
        order
    });
    let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
    permute(findings, &order);
}

/// Reorders `items` so that position `k` holds what was at `order[k]`
/// (`order` a permutation), following its cycles: each item moves once.
fn permute<T>(items: &mut [T], order: &[usize]) {
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        if done.get(start).copied().unwrap_or(true) {
            continue;
        }
        // Along the cycle start <- order[start] <- order[order[start]] …
        let mut at = start;
        loop {
            if let Some(d) = done.get_mut(at) {
                *d = true;
            }
            let from = order.get(at).copied().unwrap_or(start);
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

impl Report {
    /// The counts.
    pub fn summary(&self) -> Summary {
        Summary {
            files: self.files,
            policies: self.policies,
            findings: self.findings.len(),
            errors: self.errors.len(),
            warnings: self.warnings.len(),
            waived: self.waived.len(),
        }
    }

    /// Whether some finding is at or above `floor`.
    pub fn fails_at(&self, floor: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= floor)
    }

    /// The rule of a policy id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Keeps the masked text of every file a finding or a problem points
    /// into, so renderers can show snippets without the project.
    pub fn keep_sources(&mut self, project: &Project) {
        let kept = self.sources_to_keep(project);
        self.sources.extend(kept);
    }

    /// The masked texts [`Report::keep_sources`] keeps, masked on the cores
    /// (each file on its own); reads the report only, so it can run beside
    /// work that changes the findings.
    pub fn sources_to_keep(&self, project: &Project) -> Vec<(FileId, SourceText)> {
        let files = self
            .findings
            .iter()
            .map(|f| f.span.file)
            .chain(self.waived.iter().map(|w| w.finding.span.file))
            .chain(
                self.errors
                    .iter()
                    .chain(&self.warnings)
                    .chain(&self.input_notes)
                    .filter_map(|e| e.span.map(|s| s.file)),
            );
        let mut wanted: Vec<FileId> = files.filter(|id| !self.sources.contains_key(id)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        use rayon::prelude::*;
        let _ = project.redactor();
        rampart_runtime::project::on_cores(|| {
            wanted
                .par_iter()
                .filter_map(|&id| {
                    project.sources.get(id).map(|f| {
                        let text = SourceText {
                            path: f.path.clone(),
                            masked: project.masked_text(id),
                        };
                        (id, text)
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod sort_tests {
    use super::*;
    use proptest::prelude::*;

    fn finding(file: u8, line: u8, policy: u8, message: u8, start: u8) -> Finding {
        Finding {
            file: format!("dir/{}.yml", ["a", "b", "a/b", "ab"][usize::from(file % 4)]),
            line: usize::from(line % 5),
            column: 1,
            end_line: usize::from(line % 5),
            end_column: 3,
            policy: format!("compose.p{}", policy % 3),
            severity: Severity::Low,
            title: "".into(),
            message: format!("m{}", message % 3),
            remediation: "".into(),
            span: Span::new(FileId(u32::from(file % 4)), usize::from(start % 4), 9),
            fingerprint: String::new(),
            path: String::new(),
        }
    }

    proptest! {
        // Ranked keys and one move per finding give exactly the order of
        // sorting the findings themselves, ties and duplicates included.
        #[test]
        fn sort_findings_orders_as_ord_does(
            parts in proptest::collection::vec((0u8..8, 0u8..8, 0u8..8, 0u8..8, 0u8..8), 0..60)
        ) {
            let mut ours: Vec<Finding> =
                parts.iter().map(|&(f, l, p, m, s)| finding(f, l, p, m, s)).collect();
            let mut plain = ours.clone();
            plain.sort();
            sort_findings(&mut ours);
            prop_assert_eq!(ours, plain);
        }
    }

    #[test]
    fn permute_moves_each_item_to_its_place() {
        let mut items = vec!['a', 'b', 'c', 'd', 'e'];
        permute(&mut items, &[3, 0, 4, 1, 2]);
        assert_eq!(items, vec!['d', 'a', 'e', 'b', 'c']);
    }
}
