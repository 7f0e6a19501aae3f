//! The SARIF 2.1.0 renderer, for code scanning: typed serde structs of the
//! parts of the format rampart writes (fields in alphabetical order, as the
//! output has always listed them).

use std::collections::HashMap;

use serde::Serialize;

use super::Level;
use crate::policy::compile::Severity;
use crate::report::{Finding, InputError, Report, Rule, WaivedBy};

/// The SARIF schema the output follows.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The repository rampart is developed in: the workspace `repository` of
/// `Cargo.toml`, the one place it is written (`informationUri`, and each
/// rule's `helpUri` below it).
pub const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// Where a policy's page of the catalog (`rampart docs`) lives in the
/// repository, under [`REPOSITORY`].
const POLICY_PAGES: &str = "/blob/main/docs/policies/";

/// The base id every location is relative to: the directory scanned (the
/// repository's root in CI; code scanning resolves it to the checkout).
const SRCROOT: &str = "%SRCROOT%";

/// `runs[].automationDetails.id`: a stable category (the trailing `/` says
/// there is no run id), so code scanning matches runs of rampart with each
/// other and with nothing else.
const AUTOMATION_ID: &str = "rampart/check/";

/// The URL of policy `id`'s catalog page.
pub fn help_uri(id: &str) -> String {
    format!("{REPOSITORY}{POLICY_PAGES}{}.md", uri_path(id))
}

/// A relative path as a URI reference: characters a URI cannot hold as they
/// are (spaces, `%`, `#`, `?`, non-ASCII, controls) percent-encoded; `/` kept.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: Vec<Run<'a>>,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    automation_details: AutomationDetails,
    invocations: Vec<Invocation<'a>>,
    original_uri_base_ids: BaseIds,
    /// `baseline: {new, known, fixed}` with `--baseline`.
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<serde_json::Value>,
    results: Vec<SarifResult<'a>>,
    tool: Tool<'a>,
}

#[derive(Serialize)]
struct AutomationDetails {
    id: &'static str,
}

/// `originalUriBaseIds`: `%SRCROOT%`, the directory scanned. It has no `uri`:
/// the absolute path of the machine the check ran on means nothing where the
/// log is read (code scanning substitutes the checkout).
#[derive(Serialize)]
struct BaseIds {
    #[serde(rename = "%SRCROOT%")]
    srcroot: BaseId,
}

#[derive(Serialize)]
struct BaseId {
    description: Message<'static>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation<'a> {
    execution_successful: bool,
    tool_execution_notifications: Vec<Notification<'a>>,
    /// The config file in use (`properties.config`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<InvocationProperties<'a>>,
}

#[derive(Serialize)]
struct InvocationProperties<'a> {
    config: &'a str,
}

#[derive(Serialize)]
struct Notification<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    descriptor: Option<DescriptorReference<'a>>,
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    locations: Option<Vec<Location>>,
    message: Message<'a>,
}

/// The code of a notification.
#[derive(Serialize)]
struct DescriptorReference<'a> {
    id: &'a str,
}

/// A result's fingerprint ([`crate::report::fingerprint`]).
#[derive(Serialize)]
struct PartialFingerprints<'a> {
    #[serde(rename = "rampart/v1")]
    rampart_v1: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    /// With `--baseline`: `new` for a finding not in it, `unchanged` for one
    /// it knows (waived findings have none).
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    level: &'static str,
    locations: Vec<Location>,
    message: Message<'a>,
    partial_fingerprints: PartialFingerprints<'a>,
    rule_id: &'a str,
    /// Absent (not `null`, which the schema forbids) for a rule not listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressions: Option<Vec<Suppression>>,
}

/// Why a result is not shown as open: a waiver (`external`) or a
/// `rampart:ignore` comment (`inSource`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Suppression {
    justification: String,
    kind: &'static str,
    /// The waiver's owner and expiry (a waiver of `rampart.yaml` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<SuppressionProperties>,
    status: &'static str,
}

#[derive(Serialize)]
struct SuppressionProperties {
    expires: String,
    owner: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

impl ArtifactLocation {
    /// A file of the scan, relative to [`SRCROOT`].
    fn of(file: &str) -> ArtifactLocation {
        ArtifactLocation {
            uri: uri_path(file),
            uri_base_id: SRCROOT,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    start_column: usize,
    start_line: usize,
}

#[derive(Serialize)]
struct Message<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    information_uri: &'static str,
    name: &'static str,
    rules: Vec<ReportingDescriptor<'a>>,
    version: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor<'a> {
    default_configuration: Configuration,
    full_description: Message<'a>,
    help: Help,
    help_uri: String,
    id: &'a str,
    name: &'a str,
    properties: Properties<'a>,
    short_description: Message<'a>,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct Help {
    markdown: String,
    text: String,
}

#[derive(Serialize)]
struct Properties<'a> {
    precision: &'static str,
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    sources: &'a [String],
    tags: Vec<&'a str>,
}

/// The SARIF level of a severity ([`super::level`], as in every format).
fn sarif_level(s: Severity) -> &'static str {
    match super::level(s) {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Note => "note",
    }
}

/// GitHub code scanning's `security-severity` (CVSS-like, 0–10).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn rule(r: &Rule) -> ReportingDescriptor<'_> {
    ReportingDescriptor {
        default_configuration: Configuration {
            level: sarif_level(r.severity),
        },
        full_description: Message { text: &r.rationale },
        help: Help {
            markdown: help_markdown(r),
            text: format!(
                "{}\n\n{}\n\nRemediation:\n{}",
                r.title, r.rationale, r.remediation
            ),
        },
        help_uri: help_uri(&r.id),
        id: &r.id,
        name: &r.id,
        properties: Properties {
            precision: "high",
            security_severity: security_severity(r.severity),
            sources: &r.sources,
            tags: r
                .tags
                .iter()
                .map(String::as_str)
                .chain(std::iter::once("security"))
                .collect(),
        },
        short_description: Message { text: &r.title },
    }
}

/// A rule's `help.markdown`: the rationale, the remediation (a code block:
/// remediations are configuration snippets) and how to suppress it.
fn help_markdown(r: &Rule) -> String {
    let fence = if r.remediation.contains("```") {
        "~~~~"
    } else {
        "```"
    };
    format!(
        "**{}** ({})\n\n{}\n\n## Remediation\n\n{fence}\n{}\n{fence}\n\n\
         ## Suppressing\n\nA `# rampart:ignore {} -- reason` comment on the line or \
         the line above, or a waiver (reason, owner, expiry) in `rampart.yaml`.\n",
        r.title,
        r.severity.as_str(),
        r.rationale,
        r.remediation,
        r.id
    )
}

fn notification<'a>(level: &'static str, e: &'a InputError) -> Notification<'a> {
    let locations = (!e.file.is_empty()).then(|| {
        vec![Location {
            physical_location: PhysicalLocation {
                artifact_location: ArtifactLocation::of(&e.file),
                region: (e.line > 0).then(|| Region {
                    end_column: None,
                    end_line: None,
                    start_column: e.column.max(1),
                    start_line: e.line,
                }),
            },
        }]
    });
    Notification {
        descriptor: (!e.code.is_empty()).then_some(DescriptorReference { id: &e.code }),
        level,
        locations,
        message: Message { text: &e.message },
    }
}

/// SARIF 2.1.0: one run, a rule per policy run, a result per finding (waived
/// ones with a suppression), errors
/// and warnings (the config's included) as tool execution notifications.
pub fn render<'a>(report: &'a Report) -> String {
    // Rule indexes by id: one lookup per finding (linear in the findings).
    let mut index_of: HashMap<&str, usize> = HashMap::new();
    for (i, r) in report.rules.iter().enumerate() {
        index_of.entry(r.id.as_str()).or_insert(i);
    }
    let result =
        |f: &'a Finding, suppressions: Option<Vec<Suppression>>, known: bool| SarifResult {
            baseline_state: report
                .baseline
                .as_ref()
                .filter(|_| suppressions.is_none())
                .map(|_| if known { "unchanged" } else { "new" }),
            level: sarif_level(f.severity),
            locations: vec![Location {
                physical_location: PhysicalLocation {
                    artifact_location: ArtifactLocation::of(&f.file),
                    region: Some(Region {
                        end_column: Some(f.end_column),
                        end_line: Some(f.end_line),
                        start_column: f.column,
                        start_line: f.line,
                    }),
                },
            }],
            message: Message { text: &f.message },
            partial_fingerprints: PartialFingerprints {
                rampart_v1: &f.fingerprint,
            },
            rule_id: &f.policy,
            rule_index: index_of.get(f.policy.as_str()).copied(),
            suppressions,
        };
    // Waived findings are results too, marked suppressed (code scanning
    // shows them as dismissed, with the justification). Findings the
    // `--baseline` knows are results with `baselineState: "unchanged"`:
    // code scanning closes the alert of a result missing from an upload, so
    // leaving them out would mark them fixed. Baseline entries nothing
    // matches any more (`fixed`) are not results (code scanning would open
    // alerts for them, it does not read `baselineState`); they are counted
    // in the run's `properties.baseline`.
    let results = report
        .findings
        .iter()
        .map(|f| result(f, None, false))
        .chain(report.known.iter().map(|f| result(f, None, true)))
        .chain(report.waived.iter().map(|w| {
            let (kind, properties) = match &w.by {
                WaivedBy::Config { owner, expires, .. } => (
                    "external",
                    Some(SuppressionProperties {
                        expires: expires.clone(),
                        owner: owner.clone(),
                    }),
                ),
                WaivedBy::Inline { .. } => ("inSource", None),
            };
            let s = Suppression {
                justification: super::waived_by(&w.by),
                kind,
                properties,
                status: "accepted",
            };
            result(&w.finding, Some(vec![s]), false)
        }))
        .collect();
    let notifications = report
        .errors
        .iter()
        .map(|e| notification("error", e))
        .chain(
            report
                .warnings
                .iter()
                .chain(&report.config_warnings)
                .map(|w| notification("warning", w)),
        )
        .chain(report.input_notes.iter().map(|n| notification("note", n)))
        .collect();
    let log = Log {
        schema: SCHEMA,
        runs: vec![Run {
            automation_details: AutomationDetails { id: AUTOMATION_ID },
            invocations: vec![Invocation {
                execution_successful: report.errors.is_empty(),
                tool_execution_notifications: notifications,
                properties: report
                    .config
                    .as_deref()
                    .map(|config| InvocationProperties { config }),
            }],
            original_uri_base_ids: BaseIds {
                srcroot: BaseId {
                    description: Message {
                        text: "The directory rampart checked (the repository's root in CI).",
                    },
                },
            },
            properties: report.baseline.as_ref().map(|b| {
                serde_json::json!({"baseline": {"new": b.new, "known": b.known, "fixed": b.fixed}})
            }),
            results,
            tool: Tool {
                driver: Driver {
                    information_uri: REPOSITORY,
                    name: "rampart",
                    rules: report.rules.iter().map(rule).collect(),
                    version: env!("CARGO_PKG_VERSION"),
                },
            },
        }],
        version: "2.1.0",
    };
    serde_json::to_string_pretty(&log).unwrap_or_default() + "\n"
}
