//! The audit report (`--format html`, `--format markdown`): what was checked,
//! with what, and with what result — every policy evaluated (passed, failed,
//! waived, not applicable), every input with its SHA-256, the run's metadata.
//! One self-contained page: no external assets, works offline, prints well.
//! A function of the [`Report`] only, like every renderer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::docs::{code, emit, seed_citation, text, Block, DocFormat, Inline};
use crate::policy::compile::Severity;
use crate::report::{Report, Rule};

/// What happened to one policy in the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// At least one finding shown.
    Failed,
    /// Findings, all hidden by a waiver or a `rampart:ignore` comment.
    Waived,
    /// Evaluated on at least one document, no finding.
    Passed,
    /// No input of its target: nothing to evaluate.
    NotApplicable,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Failed => "failed",
            Outcome::Waived => "waived",
            Outcome::Passed => "passed",
            Outcome::NotApplicable => "not applicable",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            Outcome::Failed => "#c62828",
            Outcome::Waived => "#8d6e63",
            Outcome::Passed => "#2e7d32",
            Outcome::NotApplicable => "#9e9e9e",
        }
    }

    const ALL: [Outcome; 4] = [
        Outcome::Failed,
        Outcome::Waived,
        Outcome::Passed,
        Outcome::NotApplicable,
    ];
}

fn outcome(report: &Report, rule: &Rule) -> Outcome {
    if report.findings.iter().any(|f| f.policy == rule.id) {
        Outcome::Failed
    } else if report.waived.iter().any(|w| w.finding.policy == rule.id) {
        Outcome::Waived
    } else if report
        .inputs
        .iter()
        .any(|i| i.targets.contains(&rule.target))
    {
        Outcome::Passed
    } else {
        Outcome::NotApplicable
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` of a Unix time.
fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let d = crate::config::Date::from_days(days);
    let rem = secs % 86_400;
    format!(
        "{d} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// A horizontal stacked bar per row (label → counts per outcome), as SVG.
fn stacked_bars(title: &str, rows: &[(String, [usize; 4])]) -> String {
    const BAR_W: usize = 360;
    const LABEL_W: usize = 170;
    const ROW_H: usize = 22;
    let height = ROW_H * rows.len() + 34;
    let max = rows
        .iter()
        .map(|(_, c)| c.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = format!(
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" aria-label=\"{t}\">\n<title>{t}</title>\n",
        w = LABEL_W + BAR_W + 60,
        t = crate::docs::html_escape(title)
    );
    for (i, (label, counts)) in rows.iter().enumerate() {
        let y = i * ROW_H;
        let _ = writeln!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text>",
            y + 15,
            crate::docs::html_escape(label)
        );
        let mut x = LABEL_W;
        for (o, n) in Outcome::ALL.iter().zip(counts) {
            if *n == 0 {
                continue;
            }
            let w = (n * BAR_W / max).max(2);
            let _ = writeln!(
                svg,
                "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"16\" fill=\"{}\"><title>{n} {}</title></rect>",
                y + 3,
                o.colour(),
                o.label()
            );
            x += w;
        }
        let _ = writeln!(
            svg,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
            x + 6,
            y + 15,
            counts.iter().sum::<usize>()
        );
    }
    let mut x = 0;
    let legend_y = ROW_H * rows.len() + 20;
    for o in Outcome::ALL {
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{legend_y}\" font-size=\"11\">{}</text>",
            legend_y - 9,
            o.colour(),
            x + 14,
            o.label()
        );
        x += 110;
    }
    svg.push_str("</svg></figure>");
    svg
}

fn counts_table(first: &str, rows: &[(String, [usize; 4])]) -> Block {
    Block::Table(
        std::iter::once(first.to_string())
            .chain(Outcome::ALL.iter().map(|o| o.label().to_string()))
            .collect(),
        rows.iter()
            .map(|(label, c)| {
                std::iter::once(vec![text(label)])
                    .chain(c.iter().map(|n| vec![text(n.to_string())]))
                    .collect()
            })
            .collect(),
    )
}

/// The lines of `path`'s masked text from `line` to `end_line` (at most 8).
fn snippet(
    report: &Report,
    span: rampart_runtime::model::Span,
    line: usize,
    end: usize,
) -> Option<String> {
    let src = report.sources.get(&span.file)?;
    let last = end.max(line).min(line + 7);
    let lines: Vec<String> = src
        .masked
        .lines()
        .enumerate()
        .skip(line.saturating_sub(1))
        .take(last + 1 - line)
        .map(|(i, l)| format!("{:>4} | {}", i + 1, super::printable(l)))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

fn blocks(report: &Report) -> Vec<Block> {
    let mut out = vec![Block::Heading(1, vec![text("rampart audit report")])];
    let run = &report.run;
    out.push(Block::Table(
        vec!["run".into(), "".into()],
        vec![
            vec![vec![text("rampart version")], vec![code(&run.version)]],
            vec![
                vec![text("policy set (SHA-256)")],
                vec![code(&run.policy_digest)],
            ],
            vec![
                vec![text("config")],
                vec![match &report.config {
                    Some(c) => code(c),
                    None => text("none"),
                }],
            ],
            vec![vec![text("profile")], vec![code(&run.profile)]],
            vec![vec![text("time")], vec![text(utc(run.time))]],
            vec![
                vec![text("files checked")],
                vec![text(report.files.to_string())],
            ],
        ],
    ));

    // Results per policy.
    let results: Vec<(&Rule, Outcome)> = report
        .rules
        .iter()
        .map(|r| (r, outcome(report, r)))
        .collect();
    let tally = |filter: &dyn Fn(&Rule) -> bool| {
        let mut c = [0usize; 4];
        for (r, o) in &results {
            if filter(r) {
                if let Some(i) = Outcome::ALL.iter().position(|x| x == o) {
                    if let Some(slot) = c.get_mut(i) {
                        *slot += 1;
                    }
                }
            }
        }
        c
    };
    let all = tally(&|_| true);
    out.push(Block::Heading(2, vec![text("Summary")]));
    out.push(Block::Para(vec![text(format!(
        "{} policies evaluated: {} failed, {} waived, {} passed, {} not applicable. {} findings shown, {} waived; {} errors, {} warnings.",
        results.len(),
        all[0],
        all[1],
        all[2],
        all[3],
        report.findings.len(),
        report.waived.len(),
        report.errors.len(),
        report.warnings.len() + report.config_warnings.len()
    ))]));
    let by_severity: Vec<(String, [usize; 4])> = Severity::ALL
        .iter()
        .rev()
        .map(|s| (s.as_str().to_string(), tally(&|r: &Rule| r.severity == *s)))
        .filter(|(_, c)| c.iter().sum::<usize>() > 0)
        .collect();
    out.push(Block::Heading(3, vec![text("By severity")]));
    out.push(Block::Raw(stacked_bars(
        "Policies by severity and result",
        &by_severity,
    )));
    out.push(counts_table("severity", &by_severity));
    let mut targets: Vec<&str> = report.rules.iter().map(|r| r.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    let by_format: Vec<(String, [usize; 4])> = targets
        .iter()
        .map(|t| (t.to_string(), tally(&|r: &Rule| r.target == *t)))
        .collect();
    out.push(Block::Heading(3, vec![text("By input format")]));
    out.push(Block::Raw(stacked_bars(
        "Policies by input format and result",
        &by_format,
    )));
    out.push(counts_table("format", &by_format));
    let mut seeds: BTreeMap<String, ()> = BTreeMap::new();
    for r in &report.rules {
        for s in &r.sources {
            if let Some((file, _)) = seed_citation(s) {
                seeds.insert(file.to_string(), ());
            }
        }
    }
    if !seeds.is_empty() {
        let by_seed: Vec<(String, [usize; 4])> = seeds
            .keys()
            .map(|f| {
                let c = tally(&|r: &Rule| {
                    r.sources
                        .iter()
                        .any(|s| seed_citation(s).is_some_and(|(x, _)| x == f))
                });
                (f.clone(), c)
            })
            .collect();
        out.push(Block::Heading(3, vec![text("By source document")]));
        out.push(counts_table("source document", &by_seed));
    }

    out.push(Block::Heading(2, vec![text("Policies")]));
    let mut sorted = results.clone();
    sorted.sort_by(|a, b| (a.1, b.0.severity, &a.0.id).cmp(&(b.1, a.0.severity, &b.0.id)));
    out.push(Block::Table(
        vec![
            "policy".into(),
            "severity".into(),
            "result".into(),
            "findings".into(),
            "title".into(),
        ],
        sorted
            .iter()
            .map(|(r, o)| {
                let n = report.findings.iter().filter(|f| f.policy == r.id).count();
                let w = report
                    .waived
                    .iter()
                    .filter(|x| x.finding.policy == r.id)
                    .count();
                let count = match (n, w) {
                    (0, 0) => String::new(),
                    (n, 0) => n.to_string(),
                    (n, w) => format!("{n} (+{w} waived)"),
                };
                vec![
                    vec![code(&r.id)],
                    vec![text(r.severity.as_str())],
                    vec![text(o.label())],
                    vec![text(count)],
                    vec![text(&r.title)],
                ]
            })
            .collect(),
    ));

    if !report.findings.is_empty() {
        out.push(Block::Heading(2, vec![text("Findings")]));
        for (r, _) in sorted.iter().filter(|(_, o)| *o == Outcome::Failed) {
            out.push(Block::Heading(
                3,
                vec![
                    code(&r.id),
                    text(format!(" ({}) — {}", r.severity.as_str(), r.title)),
                ],
            ));
            for f in report.findings.iter().filter(|f| f.policy == r.id) {
                out.push(Block::Para(vec![
                    code(format!("{}:{}:{}", f.file, f.line, f.column)),
                    text(" — "),
                    text(super::printable(&f.message)),
                ]));
                if let Some(s) = snippet(report, f.span, f.line, f.end_line) {
                    out.push(Block::Code("text".into(), s));
                }
            }
            if !r.remediation.trim().is_empty() {
                out.push(Block::Para(vec![text("How to fix:")]));
                out.push(Block::Code(
                    "text".into(),
                    r.remediation.trim_end().to_string(),
                ));
            }
        }
    }

    if !report.waived.is_empty() {
        out.push(Block::Heading(
            2,
            vec![text("Waived and suppressed findings")],
        ));
        out.push(Block::List(
            report
                .waived
                .iter()
                .map(|w| {
                    vec![
                        code(&w.finding.policy),
                        text(" at "),
                        code(format!("{}:{}", w.finding.file, w.finding.line)),
                        text(format!(
                            ": {} — {}",
                            super::printable(&w.finding.message),
                            super::printable(&super::waived_by(&w.by))
                        )),
                    ]
                })
                .collect(),
        ));
    }

    let problems: Vec<Vec<Inline>> = report
        .errors
        .iter()
        .map(|e| ("error", e))
        .chain(report.warnings.iter().map(|e| ("warning", e)))
        .chain(report.config_warnings.iter().map(|e| ("warning", e)))
        .chain(report.input_notes.iter().map(|e| ("note", e)))
        .map(|(level, e)| {
            let at = if e.line > 0 {
                format!("{}:{}", e.file, e.line)
            } else {
                e.file.clone()
            };
            let mut line = vec![text(format!("{level} ")), code(at)];
            if !e.code.is_empty() {
                line.push(text(" ["));
                line.push(code(&e.code));
                line.push(text("]"));
            }
            line.push(text(format!(": {}", super::printable(&e.message))));
            line
        })
        .collect();
    if !problems.is_empty() {
        out.push(Block::Heading(2, vec![text("Errors, warnings and notes")]));
        out.push(Block::List(problems));
    }

    out.push(Block::Heading(2, vec![text("Inputs")]));
    out.push(Block::Para(vec![text(format!(
        "{} files read (inputs and the files they include or import), with the SHA-256 of their text.",
        report.inputs.len()
    ))]));
    out.push(Block::Table(
        vec!["file".into(), "read as".into(), "SHA-256".into()],
        report
            .inputs
            .iter()
            .map(|i| {
                let kind = if i.targets.is_empty() {
                    "include / import".to_string()
                } else {
                    i.targets.join(", ")
                };
                vec![
                    vec![code(&i.path)],
                    vec![text(kind)],
                    vec![code(i.sha256())],
                ]
            })
            .collect(),
    ));
    out
}

/// The audit report as one self-contained HTML page.
pub fn render_html(report: &Report) -> String {
    emit(&blocks(report), DocFormat::Html, "rampart audit report")
}

/// The audit report as Markdown (for `$GITHUB_STEP_SUMMARY`, wikis, PRs).
pub fn render_markdown(report: &Report) -> String {
    let mut s = emit(&blocks(report), DocFormat::Markdown, "rampart audit report");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_a_known_time() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn bars_escape_labels() {
        let svg = stacked_bars("t", &[("<x>".into(), [1, 0, 2, 0])]);
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"));
    }
}
