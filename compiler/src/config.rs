//! `rampart.yaml`: the project's settings for `rampart check`.
//!
//! Read through serde-saphyr (the runtime's spanned YAML tree), so every
//! problem has a line: unknown keys (with "did you mean"), values of the
//! wrong type, unknown profiles and severities, malformed globs and dates.
//! Ids, params and waivers are checked against the compiled policies later
//! ([`Config::check_ids`], [`Config::waiver_problems`]); those problems point
//! into this file too.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use globset::{Glob, GlobBuilder, GlobMatcher};
use rampart_runtime::formats::yaml::{self, YKind, YNode, YamlLimits};
use rampart_runtime::model::FileId;

use crate::diagnostics::{did_you_mean, Code, Diagnostic, Level};
use crate::policy::compile::{Profile, Severity};

pub mod load;

/// The file name looked for at the scan root.
pub const CONFIG_FILE: &str = "rampart.yaml";

/// The largest config file read, in bytes.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// The longest glob accepted in the config (`include`, `exclude`, `enable`,
/// `disable`, waivers), in bytes.
pub const MAX_GLOB_BYTES: usize = 1024;
/// The deepest nesting of `{…}` alternations in a glob.
pub const MAX_GLOB_BRACE_DEPTH: usize = 4;
/// The most `{…}` alternatives (branches) in one glob.
pub const MAX_GLOB_ALTERNATIVES: usize = 256;

/// Why a glob is too complex to hand to the glob compiler, if it is: its
/// regex grows with the product of nested alternations, and deep nesting
/// overflows its stack.
pub fn glob_complexity(pattern: &str) -> Option<String> {
    if pattern.len() > MAX_GLOB_BYTES {
        return Some(format!(
            "too long ({} bytes; the limit is {MAX_GLOB_BYTES})",
            pattern.len()
        ));
    }
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    let mut alternatives = 0usize;
    let mut escaped = false;
    let mut in_class = false;
    for c in pattern.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            _ if in_class => {}
            '{' => {
                depth += 1;
                max_depth = max_depth.max(depth);
                alternatives += 1;
            }
            '}' => depth = depth.saturating_sub(1),
            ',' if depth > 0 => alternatives += 1,
            _ => {}
        }
    }
    if max_depth > MAX_GLOB_BRACE_DEPTH {
        return Some(format!(
            "`{{…}}` nested {max_depth} deep; the limit is {MAX_GLOB_BRACE_DEPTH}"
        ));
    }
    if alternatives > MAX_GLOB_ALTERNATIVES {
        return Some(format!(
            "{alternatives} `{{…}}` alternatives; the limit is {MAX_GLOB_ALTERNATIVES}"
        ));
    }
    None
}

/// A value and the byte range of its text in the config file.
#[derive(Clone, Debug, PartialEq)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl<T> At<T> {
    fn new(value: T, node: &YNode) -> Self {
        At {
            value,
            start: node.span.start(),
            end: node.span.end(),
        }
    }
}

/// A calendar date (`YYYY-MM-DD`), compared as dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u32,
    /// Day, 1–31.
    pub day: u32,
}

impl Date {
    /// Parses `YYYY-MM-DD` (a real date: `2025-02-30` is rejected).
    pub fn parse(s: &str) -> Option<Date> {
        let mut parts = s.trim().split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if !(all_digits(y) && all_digits(m) && all_digits(d)) {
            return None;
        }
        let date = Date {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        let valid = (1..=12).contains(&date.month)
            && date.day >= 1
            && date.day <= days_in_month(date.year, date.month);
        valid.then_some(date)
    }

    /// Today in UTC.
    pub fn today_utc() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days(i64::try_from(secs / 86_400).unwrap_or(0))
    }

    /// Days since 1970-01-01 (the inverse of [`Date::from_days`]).
    pub fn days(self) -> i64 {
        // Howard Hinnant's `days_from_civil`.
        let m = i64::from(self.month);
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01 (a proleptic Gregorian civil date).
    pub fn from_days(days: i64) -> Date {
        // Howard Hinnant's `civil_from_days`.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A policy id or a glob over ids (`compose.*`).
#[derive(Clone, Debug)]
pub struct IdPattern {
    /// As written.
    pub text: At<String>,
    matcher: Option<GlobMatcher>,
}

impl IdPattern {
    /// Whether `id` matches.
    pub fn matches(&self, id: &str) -> bool {
        match &self.matcher {
            Some(m) => m.is_match(id),
            None => self.text.value == id,
        }
    }

    /// Whether this is a glob rather than one id.
    pub fn is_glob(&self) -> bool {
        self.matcher.is_some()
    }
}

/// A path glob relative to the config file's directory.
#[derive(Clone, Debug)]
pub struct PathPattern {
    /// As written.
    pub text: At<String>,
    matcher: GlobMatcher,
}

impl PathPattern {
    /// Whether `rel` (a `/`-separated path relative to the config directory)
    /// matches. A pattern that names a directory also matches what is below it.
    pub fn matches(&self, rel: &str) -> bool {
        if self.matcher.is_match(rel) {
            return true;
        }
        let mut cut = rel;
        while let Some(i) = cut.rfind('/') {
            cut = cut.get(..i).unwrap_or("");
            if self.matcher.is_match(cut) {
                return true;
            }
        }
        false
    }
}

/// One waiver: findings of `policy` in files matching `path` are accepted
/// until `expires`, for a stated reason, by an owner.
#[derive(Clone, Debug)]
pub struct Waiver {
    /// Policy id or glob.
    pub policy: IdPattern,
    /// Files it covers (every file when absent).
    pub path: Option<PathPattern>,
    /// Why the finding is accepted.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// Last day it holds.
    pub expires: At<Date>,
    /// Past its expiry date (set by [`Config::expired_waivers`]): it hides
    /// nothing any more.
    pub expired: bool,
    /// Expiring within `waiver_warning_days` (set with `expired`).
    pub expiring: bool,
    /// The whole entry.
    pub start: usize,
    /// End of the entry.
    pub end: usize,
}

impl Waiver {
    /// A short name for messages: `compose.image-pinned` or
    /// `compose.image-pinned` on `legacy/**`.
    pub fn label(&self) -> String {
        match &self.path {
            Some(p) => format!("`{}` on `{}`", self.policy.text.value, p.text.value),
            None => format!("`{}`", self.policy.text.value),
        }
    }
}

/// The settings of a `rampart.yaml`.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// `profile:`.
    pub profile: Option<At<Profile>>,
    /// `enable:` ids or globs; turns policies on whatever their profile.
    pub enable: Vec<IdPattern>,
    /// `disable:` ids or globs; wins over `enable`.
    pub disable: Vec<IdPattern>,
    /// `severity:` overrides, in file order (a later match wins).
    pub severity: Vec<(IdPattern, Severity)>,
    /// `params:` by qualified name, as CEL values, with the key's position.
    pub params: Vec<(At<String>, cel::Value)>,
    /// `policies:` paths, relative to the config file.
    pub policies: Vec<At<String>>,
    /// `include:` globs: when given, only matching inputs are checked.
    pub include: Vec<PathPattern>,
    /// `exclude:` globs: matching inputs are not checked.
    pub exclude: Vec<PathPattern>,
    /// `waivers:`.
    pub waivers: Vec<Waiver>,
    /// `waiver_warning_days:` (default [`WAIVER_WARNING_DAYS`]): a waiver
    /// expiring within this many days is a warning.
    pub waiver_warning_days: Option<u32>,
}

/// Default of `waiver_warning_days:`.
pub const WAIVER_WARNING_DAYS: u32 = 14;
/// Largest `waiver_warning_days:` accepted (ten years).
pub const MAX_WAIVER_WARNING_DAYS: u32 = 3650;

/// What is wrong in a config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The file is not valid YAML (or too large, or too deep).
    Syntax {
        /// The parser's words.
        message: String,
    },
    /// A key this section does not have.
    UnknownKey {
        /// The key.
        key: String,
        /// Where (`waivers[0]`, or the top level).
        section: String,
        /// The closest known key.
        suggestion: Option<&'static str>,
        /// Every known key of the section.
        known: &'static [&'static str],
    },
    /// A value of the wrong kind.
    WrongType {
        /// The key (or `waivers[0].owner`).
        key: String,
        /// What it must be, in words.
        expected: &'static str,
    },
    /// An unknown value from a fixed set (profile, severity level).
    UnknownValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// The closest allowed value.
        suggestion: Option<&'static str>,
        /// Every allowed value.
        allowed: Vec<&'static str>,
    },
    /// A glob that does not compile.
    BadGlob {
        /// The pattern.
        pattern: String,
        /// Why.
        reason: String,
    },
    /// A waiver without a required field.
    MissingField {
        /// `waivers[0]`.
        entry: String,
        /// The field.
        field: &'static str,
    },
    /// A date that is not `YYYY-MM-DD`.
    BadDate {
        /// As written.
        value: String,
    },
    /// An id that names no policy.
    UnknownPolicy {
        /// The id.
        id: String,
        /// The closest id.
        suggestion: Option<String>,
    },
    /// A glob that matches no policy.
    NoPolicyMatches {
        /// The glob.
        pattern: String,
    },
    /// A param no policy package declares.
    UnknownParam {
        /// Qualified name.
        name: String,
        /// The closest param.
        suggestion: Option<String>,
    },
    /// A param value that does not fit the declared type.
    ParamType {
        /// Qualified name.
        name: String,
        /// The declared type.
        expected: String,
    },
    /// A waiver past its expiry date.
    ExpiredWaiver {
        /// [`Waiver::label`].
        waiver: String,
        /// Its owner.
        owner: String,
        /// Its date.
        expires: Date,
    },
    /// A waiver expiring within `waiver_warning_days`.
    ExpiringWaiver {
        /// [`Waiver::label`].
        waiver: String,
        /// Its owner.
        owner: String,
        /// Its date.
        expires: Date,
        /// Days left (0: it expires today, its last day).
        days: i64,
    },
    /// A waiver that hid no finding.
    UnusedWaiver {
        /// [`Waiver::label`].
        waiver: String,
    },
    /// A `policies:` path that cannot be read.
    UnreadablePolicy {
        /// As written.
        path: String,
        /// Why.
        reason: String,
    },
}

/// A located config problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// First byte in the config text.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// What.
    pub error: ConfigError,
}

impl ConfigProblem {
    fn new<T>(at: &At<T>, error: ConfigError) -> Self {
        ConfigProblem {
            start: at.start,
            end: at.end,
            error,
        }
    }

    fn at(node: &YNode, error: ConfigError) -> Self {
        ConfigProblem {
            start: node.span.start(),
            end: node.span.end(),
            error,
        }
    }

    /// Error or warning.
    pub fn level(&self) -> Level {
        self.code().level()
    }

    /// The stable code.
    pub fn code(&self) -> Code {
        match self.error {
            ConfigError::Syntax { .. } => Code::E0501,
            ConfigError::UnknownKey { .. } => Code::E0502,
            ConfigError::WrongType { .. } => Code::E0503,
            ConfigError::UnknownValue { .. } => Code::E0504,
            ConfigError::BadGlob { .. } => Code::E0505,
            ConfigError::MissingField { .. } => Code::E0506,
            ConfigError::BadDate { .. } => Code::E0507,
            ConfigError::UnknownPolicy { .. } => Code::E0508,
            ConfigError::NoPolicyMatches { .. } => Code::W0509,
            ConfigError::UnknownParam { .. } => Code::E0510,
            ConfigError::ParamType { .. } => Code::E0511,
            ConfigError::ExpiredWaiver { .. } => Code::W0512,
            ConfigError::UnusedWaiver { .. } => Code::W0513,
            ConfigError::ExpiringWaiver { .. } => Code::W0515,
            ConfigError::UnreadablePolicy { .. } => Code::E0514,
        }
    }

    /// The one-line message.
    pub fn message(&self) -> String {
        match &self.error {
            ConfigError::Syntax { message } => format!("invalid config: {message}"),
            ConfigError::UnknownKey { key, section, .. } => {
                if section.is_empty() {
                    format!("unknown key `{key}`")
                } else {
                    format!("unknown key `{key}` in `{section}`")
                }
            }
            ConfigError::WrongType { key, expected } => format!("`{key}` must be {expected}"),
            ConfigError::UnknownValue { key, value, .. } => {
                format!("unknown {key} `{value}`")
            }
            ConfigError::BadGlob { pattern, reason } => {
                format!("invalid glob `{pattern}`: {reason}")
            }
            ConfigError::MissingField { entry, field } => {
                format!("`{entry}` has no `{field}`")
            }
            ConfigError::BadDate { value } => format!("`{value}` is not a date like `2025-12-31`"),
            ConfigError::UnknownPolicy { id, .. } => format!("no policy `{id}`"),
            ConfigError::NoPolicyMatches { pattern } => {
                format!("`{pattern}` matches no policy")
            }
            ConfigError::UnknownParam { name, .. } => format!("unknown param `{name}`"),
            ConfigError::ParamType { name, expected } => {
                format!("the configured value of `{name}` is not a `{expected}`")
            }
            ConfigError::ExpiredWaiver {
                waiver,
                owner,
                expires,
            } => format!(
                "waiver for {waiver} (owner `{owner}`) expired on `{expires}`; its findings count again"
            ),
            ConfigError::ExpiringWaiver {
                waiver,
                owner,
                expires,
                days,
            } => format!(
                "waiver for {waiver} (owner `{owner}`) expires on `{expires}`, in {days} day{}",
                if *days == 1 { "" } else { "s" }
            ),
            ConfigError::UnusedWaiver { waiver } => {
                format!("waiver for {waiver} matches no finding")
            }
            ConfigError::UnreadablePolicy { path, reason } => {
                format!("cannot read policy path `{path}`: {reason}")
            }
        }
    }

    /// A suggestion, when there is one.
    pub fn help(&self) -> Option<String> {
        match &self.error {
            ConfigError::UnknownKey {
                suggestion, known, ..
            } => Some(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("known keys: {}", known.join(", ")),
            }),
            ConfigError::UnknownValue {
                suggestion,
                allowed,
                ..
            } => Some(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("use one of {}", allowed.join(", ")),
            }),
            ConfigError::UnknownPolicy { suggestion, .. }
            | ConfigError::UnknownParam { suggestion, .. } => {
                suggestion.as_ref().map(|s| format!("did you mean `{s}`?"))
            }
            ConfigError::ExpiredWaiver { .. } => {
                Some("fix the findings, or renew the waiver with a new `expires` date".into())
            }
            ConfigError::UnusedWaiver { .. } => Some("remove it if the finding is fixed".into()),
            ConfigError::ExpiringWaiver { .. } => {
                Some("fix the findings, or renew the waiver before it expires".into())
            }
            ConfigError::MissingField { .. } => Some(
                "a waiver needs `policy`, `reason`, `owner` and `expires` (and may have `path`)"
                    .into(),
            ),
            _ => None,
        }
    }

    /// As a diagnostic in the config file (source index `source`).
    pub fn to_diagnostic(&self, source: u32) -> Diagnostic {
        let mut d = Diagnostic::new(self.code(), source, self.start, self.end, self.message());
        d.help = self.help();
        d
    }
}

const TOP_KEYS: &[&str] = &[
    "profile",
    "enable",
    "disable",
    "severity",
    "params",
    "policies",
    "include",
    "exclude",
    "waivers",
    "waiver_warning_days",
];
const WAIVER_KEYS: &[&str] = &["policy", "path", "reason", "owner", "expires"];

/// Parses a config file's text. Problems are collected; the config is
/// returned when the file is YAML at all (keys with problems are left out).
pub fn parse(text: &str) -> (Config, Vec<ConfigProblem>) {
    let mut problems = Vec::new();
    let mut config = Config::default();
    if text.len() > MAX_CONFIG_BYTES {
        problems.push(ConfigProblem {
            start: 0,
            end: 0,
            error: ConfigError::Syntax {
                message: format!("larger than {MAX_CONFIG_BYTES} bytes"),
            },
        });
        return (config, problems);
    }
    let root = match yaml::parse(FileId(0), text, YamlLimits::default()) {
        Ok(r) => r,
        Err(p) => {
            problems.push(ConfigProblem {
                start: p.span.start(),
                end: p.span.end(),
                error: ConfigError::Syntax { message: p.message },
            });
            return (config, problems);
        }
    };
    match &root.kind {
        YKind::Null => return (config, problems),
        YKind::Map(_) => {}
        _ => {
            problems.push(ConfigProblem::at(
                &root,
                ConfigError::WrongType {
                    key: CONFIG_FILE.into(),
                    expected: "a mapping of settings",
                },
            ));
            return (config, problems);
        }
    }
    let mut r = Reader {
        text,
        problems: &mut problems,
    };
    for (key, value) in root.entries() {
        match key.text.as_str() {
            "profile" => {
                let chosen = r.choice("profile", value, Profile::names(Profile::SELECTABLE));
                if let Some(p) = chosen.as_deref().and_then(Profile::parse) {
                    config.profile = Some(At::new(p, value));
                }
            }
            "enable" => config.enable = r.id_list("enable", value),
            "disable" => config.disable = r.id_list("disable", value),
            "severity" => {
                if r.want_map("severity", value) {
                    for (k, v) in value.entries() {
                        let key_at = At {
                            value: k.text.clone(),
                            start: k.span.start(),
                            end: k.span.end(),
                        };
                        let level = r
                            .choice("severity", v, Severity::names())
                            .and_then(|s| Severity::parse(&s));
                        if let (Some(pattern), Some(level)) = (r.id_pattern(key_at), level) {
                            config.severity.push((pattern, level));
                        }
                    }
                }
            }
            "params" => {
                if r.want_map("params", value) {
                    for (k, v) in value.entries() {
                        config.params.push((
                            At {
                                value: k.text.clone(),
                                start: k.span.start(),
                                end: k.span.end(),
                            },
                            to_cel(v),
                        ));
                    }
                }
            }
            "policies" => config.policies = r.string_list("policies", value),
            "include" => config.include = r.path_list("include", value),
            "exclude" => config.exclude = r.path_list("exclude", value),
            "waivers" => config.waivers = r.waivers(value),
            "waiver_warning_days" => {
                let days = r
                    .string("waiver_warning_days", value)
                    .and_then(|t| t.parse::<u32>().ok())
                    .filter(|d| *d <= MAX_WAIVER_WARNING_DAYS);
                match days {
                    Some(d) => config.waiver_warning_days = Some(d),
                    None => r.wrong(value, "waiver_warning_days", "a number of days (0 to 3650)"),
                }
            }
            other => r.unknown_key(other, key.span.start(), key.span.end(), "", TOP_KEYS),
        }
    }
    (config, problems)
}

struct Reader<'a> {
    text: &'a str,
    problems: &'a mut Vec<ConfigProblem>,
}

impl Reader<'_> {
    fn unknown_key(
        &mut self,
        key: &str,
        start: usize,
        end: usize,
        section: &str,
        known: &'static [&'static str],
    ) {
        self.problems.push(ConfigProblem {
            start,
            end,
            error: ConfigError::UnknownKey {
                key: key.to_string(),
                section: section.to_string(),
                suggestion: did_you_mean(key, known.iter().copied()),
                known,
            },
        });
    }

    fn wrong(&mut self, node: &YNode, key: &str, expected: &'static str) {
        self.problems.push(ConfigProblem::at(
            node,
            ConfigError::WrongType {
                key: key.to_string(),
                expected,
            },
        ));
    }

    fn want_map(&mut self, key: &str, node: &YNode) -> bool {
        match node.kind {
            YKind::Map(_) => true,
            YKind::Null => false,
            _ => {
                self.wrong(node, key, "a mapping");
                false
            }
        }
    }

    fn string(&mut self, key: &str, node: &YNode) -> Option<String> {
        match &node.kind {
            YKind::Str(_) | YKind::Int(_) | YKind::Float(_) | YKind::Bool(_) => {
                node.scalar_text(self.text)
            }
            _ => {
                self.wrong(node, key, "a string");
                None
            }
        }
    }

    fn choice(&mut self, key: &str, node: &YNode, allowed: Vec<&'static str>) -> Option<String> {
        let s = self.string(key, node)?;
        if allowed.contains(&s.as_str()) {
            return Some(s);
        }
        self.problems.push(ConfigProblem::at(
            node,
            ConfigError::UnknownValue {
                key: key.to_string(),
                suggestion: did_you_mean(&s, allowed.iter().copied()),
                value: s,
                allowed,
            },
        ));
        None
    }

    /// A list of strings; a single string is a list of one.
    fn string_list(&mut self, key: &str, node: &YNode) -> Vec<At<String>> {
        match &node.kind {
            YKind::Null => Vec::new(),
            YKind::Seq(items) => items
                .iter()
                .filter_map(|i| self.string(key, i).map(|s| At::new(s, i)))
                .collect(),
            YKind::Str(s) => vec![At::new(s.clone(), node)],
            _ => {
                self.wrong(node, key, "a list of strings");
                Vec::new()
            }
        }
    }

    /// Reports a glob too complex to compile; true when it is fine.
    fn glob_ok(&mut self, text: &At<String>) -> bool {
        match glob_complexity(&text.value) {
            None => true,
            Some(reason) => {
                self.problems.push(ConfigProblem::new(
                    text,
                    ConfigError::BadGlob {
                        pattern: shorten(&text.value),
                        reason,
                    },
                ));
                false
            }
        }
    }

    fn id_pattern(&mut self, text: At<String>) -> Option<IdPattern> {
        if !text.value.contains(['*', '?', '[', '{']) {
            return Some(IdPattern {
                text,
                matcher: None,
            });
        }
        if !self.glob_ok(&text) {
            return None;
        }
        match Glob::new(&text.value) {
            Ok(g) => Some(IdPattern {
                matcher: Some(g.compile_matcher()),
                text,
            }),
            Err(e) => {
                self.problems.push(ConfigProblem::new(
                    &text,
                    ConfigError::BadGlob {
                        pattern: text.value.clone(),
                        reason: glob_reason(&e),
                    },
                ));
                None
            }
        }
    }

    fn id_list(&mut self, key: &str, node: &YNode) -> Vec<IdPattern> {
        self.string_list(key, node)
            .into_iter()
            .filter_map(|t| self.id_pattern(t))
            .collect()
    }

    fn path_pattern(&mut self, text: At<String>) -> Option<PathPattern> {
        if !self.glob_ok(&text) {
            return None;
        }
        let pattern = text.value.trim_start_matches("./").trim_end_matches('/');
        match GlobBuilder::new(pattern).literal_separator(true).build() {
            Ok(g) => Some(PathPattern {
                matcher: g.compile_matcher(),
                text,
            }),
            Err(e) => {
                self.problems.push(ConfigProblem::new(
                    &text,
                    ConfigError::BadGlob {
                        pattern: text.value.clone(),
                        reason: glob_reason(&e),
                    },
                ));
                None
            }
        }
    }

    fn path_list(&mut self, key: &str, node: &YNode) -> Vec<PathPattern> {
        self.string_list(key, node)
            .into_iter()
            .filter_map(|t| self.path_pattern(t))
            .collect()
    }

    fn waivers(&mut self, node: &YNode) -> Vec<Waiver> {
        let items = match &node.kind {
            YKind::Null => return Vec::new(),
            YKind::Seq(items) => items,
            _ => {
                self.wrong(node, "waivers", "a list of waivers");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let entry = format!("waivers[{i}]");
            if !matches!(item.kind, YKind::Map(_)) {
                self.wrong(
                    item,
                    &entry,
                    "a mapping with `policy`, `reason`, `owner`, `expires`",
                );
                continue;
            }
            let mut policy = None;
            let mut path = None;
            let mut reason = None;
            let mut owner = None;
            let mut expires = None;
            let mut ok = true;
            for (k, v) in item.entries() {
                let key = format!("{entry}.{}", k.text);
                match k.text.as_str() {
                    "policy" => {
                        policy = self
                            .string(&key, v)
                            .and_then(|s| self.id_pattern(At::new(s, v)));
                    }
                    "path" => {
                        path = self
                            .string(&key, v)
                            .and_then(|s| self.path_pattern(At::new(s, v)));
                    }
                    "reason" => reason = self.string(&key, v).filter(|s| !s.trim().is_empty()),
                    "owner" => owner = self.string(&key, v).filter(|s| !s.trim().is_empty()),
                    "expires" => {
                        if let Some(s) = self.string(&key, v) {
                            match Date::parse(&s) {
                                Some(d) => expires = Some(At::new(d, v)),
                                None => {
                                    self.problems.push(ConfigProblem::at(
                                        v,
                                        ConfigError::BadDate { value: s },
                                    ));
                                    ok = false;
                                }
                            }
                        }
                    }
                    other => {
                        self.unknown_key(other, k.span.start(), k.span.end(), &entry, WAIVER_KEYS);
                    }
                }
            }
            for (field, missing) in [
                ("policy", policy.is_none()),
                ("reason", reason.is_none()),
                ("owner", owner.is_none()),
                ("expires", expires.is_none() && ok),
            ] {
                if missing {
                    self.problems.push(ConfigProblem::at(
                        item,
                        ConfigError::MissingField {
                            entry: entry.clone(),
                            field,
                        },
                    ));
                }
            }
            if let (Some(policy), Some(reason), Some(owner), Some(expires)) =
                (policy, reason, owner, expires)
            {
                out.push(Waiver {
                    policy,
                    path,
                    reason,
                    owner,
                    expires,
                    expired: false,
                    expiring: false,
                    start: item.span.start(),
                    end: item.span.end(),
                });
            }
        }
        out
    }
}

/// A pattern cut to its first 60 characters for a message.
fn shorten(s: &str) -> String {
    if s.chars().count() <= 60 {
        return s.to_string();
    }
    let mut out: String = s.chars().take(60).collect();
    out.push('…');
    out
}

fn glob_reason(e: &globset::Error) -> String {
    let s = e.kind().to_string();
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => s,
    }
}

/// A YAML value as a CEL value: strings, numbers, booleans, lists and
/// string-keyed maps; `null` is CEL's `null`.
pub fn to_cel(node: &YNode) -> cel::Value {
    match &node.kind {
        YKind::Null => cel::Value::Null,
        YKind::Bool(b) => cel::Value::Bool(*b),
        YKind::Int(i) => cel::Value::Int(*i),
        YKind::Float(f) => cel::Value::Float(*f),
        YKind::Str(s) => cel::Value::String(Arc::new(s.clone())),
        YKind::Seq(items) => {
            cel::Value::List(Arc::new(items.iter().map(to_cel).collect::<Vec<_>>()))
        }
        YKind::Map(entries) => {
            let map: std::collections::HashMap<cel::objects::Key, cel::Value> = entries
                .iter()
                .map(|(k, v)| {
                    (
                        cel::objects::Key::String(Arc::new(k.text.clone())),
                        to_cel(v),
                    )
                })
                .collect();
            cel::Value::Map(cel::objects::Map { map: Arc::new(map) })
        }
    }
}

impl Config {
    /// Param overrides for the compiler, by qualified name.
    pub fn param_values(&self) -> BTreeMap<String, cel::Value> {
        self.params
            .iter()
            .map(|(k, v)| (k.value.clone(), v.clone()))
            .collect()
    }

    /// The position of the key of param `name`.
    pub fn param_key(&self, name: &str) -> Option<&At<String>> {
        self.params.iter().map(|(k, _)| k).find(|k| k.value == name)
    }

    /// Problems with the policy ids of `enable`, `disable`, `severity` and
    /// `waivers`: an exact id that names no policy is an error (with "did you
    /// mean"), a glob that matches none a warning.
    pub fn check_ids(&self, ids: &[&str]) -> Vec<ConfigProblem> {
        let patterns = self
            .enable
            .iter()
            .chain(&self.disable)
            .chain(self.severity.iter().map(|(p, _)| p))
            .chain(self.waivers.iter().map(|w| &w.policy));
        let mut out = Vec::new();
        for p in patterns {
            if ids.iter().any(|id| p.matches(id)) {
                continue;
            }
            let error = if p.is_glob() {
                ConfigError::NoPolicyMatches {
                    pattern: p.text.value.clone(),
                }
            } else {
                ConfigError::UnknownPolicy {
                    id: p.text.value.clone(),
                    suggestion: did_you_mean(&p.text.value, ids.iter().copied())
                        .map(str::to_string),
                }
            };
            out.push(ConfigProblem::new(&p.text, error));
        }
        out
    }

    /// Marks the waivers whose `expires` is before `today` as expired (they
    /// hide nothing any more) and returns a warning naming the owner for each.
    pub fn expired_waivers(&mut self, today: Date) -> Vec<ConfigProblem> {
        let window = i64::from(self.waiver_warning_days.unwrap_or(WAIVER_WARNING_DAYS));
        for w in &mut self.waivers {
            w.expired = w.expires.value < today;
            w.expiring = !w.expired && w.expires.value.days() - today.days() < window;
        }
        self.waivers
            .iter()
            .filter(|w| w.expired)
            .map(|w| {
                ConfigProblem::new(
                    &w.expires,
                    ConfigError::ExpiredWaiver {
                        waiver: w.label(),
                        owner: w.owner.clone(),
                        expires: w.expires.value,
                    },
                )
            })
            .chain(self.waivers.iter().filter(|w| w.expiring).map(|w| {
                let days = w.expires.value.days() - today.days();
                {
                    ConfigProblem::new(
                        &w.expires,
                        ConfigError::ExpiringWaiver {
                            waiver: w.label(),
                            owner: w.owner.clone(),
                            expires: w.expires.value,
                            days,
                        },
                    )
                }
            }))
            .collect()
    }

    /// Whether policy `id` runs, given whether its profile selects it.
    pub fn selects(&self, id: &str, by_profile: bool) -> bool {
        if self.disable.iter().any(|p| p.matches(id)) {
            return false;
        }
        by_profile || self.enable.iter().any(|p| p.matches(id))
    }

    /// The configured severity of policy `id` (the last matching entry).
    pub fn severity_of(&self, id: &str) -> Option<Severity> {
        self.severity
            .iter()
            .rev()
            .find(|(p, _)| p.matches(id))
            .map(|(_, s)| *s)
    }

    /// Whether an input at `rel` (relative to the config directory) is checked.
    pub fn includes(&self, rel: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(rel)))
            && !self.exclude.iter().any(|p| p.matches(rel))
    }

    /// The first waiver covering a finding of `policy` at `rel`.
    pub fn waiver_for(&self, policy: &str, rel: &str) -> Option<usize> {
        self.waivers.iter().position(|w| {
            !w.expired && w.policy.matches(policy) && w.path.as_ref().is_none_or(|p| p.matches(rel))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<(String, String)> {
        parse(text)
            .1
            .iter()
            .map(|p| {
                (
                    p.message(),
                    text.get(p.start..p.end).unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn complex_globs_are_located_errors_not_panics() {
        let nested = format!("{}b{}", "{a,".repeat(125), "}".repeat(125));
        for key in ["exclude", "include", "enable", "disable"] {
            let text = format!("{key}:\n  - \"{nested}\"\n");
            let ps = parse(&text).1;
            assert_eq!(ps.len(), 1, "{key}: {ps:?}");
            assert_eq!(ps[0].code(), "E0505");
            assert!(
                ps[0].message().contains("nested 125 deep"),
                "{}",
                ps[0].message()
            );
            assert_eq!(&text[ps[0].start..ps[0].end], format!("\"{nested}\""));
        }
        let waiver = format!(
            "waivers:\n  - policy: compose.x\n    path: \"{nested}\"\n    reason: r\n    owner: o\n    expires: 2099-01-01\n"
        );
        assert!(parse(&waiver).1.iter().any(|p| p.code() == "E0505"));
        let many = format!("{{{}}}", vec!["x"; 300].join(","));
        assert!(glob_complexity(&many).unwrap().contains("300"));
        assert!(glob_complexity(&"a".repeat(MAX_GLOB_BYTES + 1)).is_some());
        // Ordinary globs pass, `{` inside a class or escaped is not nesting.
        assert_eq!(glob_complexity("**/{a,b/{c,d}}/*.yml"), None);
        assert_eq!(glob_complexity(&"[{]".repeat(100)), None);
        assert_eq!(glob_complexity(&"\\{".repeat(100)), None);
    }

    #[test]
    fn dates() {
        assert_eq!(
            Date::parse("2025-02-28"),
            Some(Date {
                year: 2025,
                month: 2,
                day: 28
            })
        );
        for bad in [
            "2025-02-30",
            "2025-13-01",
            "25-01-01",
            "2025-1-1",
            "soon",
            "2024-02-30",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
        assert!(Date::parse("2024-02-29").is_some());
        assert_eq!(Date::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_days(19_723).to_string(), "2024-01-01");
        assert_eq!(Date::from_days(11_016).to_string(), "2000-02-29");
    }

    #[test]
    fn a_full_config_parses() {
        let text = r#"
profile: strict
enable: [compose.*]
disable:
  - compose.image-pinned
severity:
  compose.no-privileged: low
params:
  compose.allowed_caps: [NET_BIND_SERVICE, SYS_PTRACE]
  secrets.min_secret_length: 16
policies: [org/]
include: ["deploy/**"]
exclude: ["**/testdata/**"]
waivers:
  - policy: compose.read-only-rootfs
    path: legacy/**
    reason: the vendor image writes to /var
    owner: alice
    expires: 2999-12-31
"#;
        let (mut c, p) = parse(text);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(c.profile.as_ref().map(|p| p.value), Some(Profile::Strict));
        assert!(c.selects("compose.x", false));
        assert!(!c.selects("compose.image-pinned", true));
        assert_eq!(c.severity_of("compose.no-privileged"), Some(Severity::Low));
        assert_eq!(c.params.len(), 2);
        assert!(c.includes("deploy/docker-compose.yml"));
        assert!(!c.includes("docker-compose.yml"));
        assert!(!c.includes("deploy/testdata/docker-compose.yml"));
        assert_eq!(
            c.waiver_for("compose.read-only-rootfs", "legacy/a/docker-compose.yml"),
            Some(0)
        );
        assert_eq!(
            c.waiver_for("compose.read-only-rootfs", "docker-compose.yml"),
            None
        );
        assert!(c.expired_waivers(Date::today_utc()).is_empty());
    }

    #[test]
    fn unknown_keys_suggest_and_point_at_the_key() {
        assert_eq!(
            problems("profle: strict\n"),
            [("unknown key `profle`".to_string(), "profle".to_string())]
        );
        let p = parse("profle: strict\n").1;
        assert_eq!(p[0].help().as_deref(), Some("did you mean `profile`?"));
        let p =
            parse("waivers:\n  - policy: a\n    ownr: b\n    reason: c\n    expires: 2030-01-01\n")
                .1;
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[0].message(), "unknown key `ownr` in `waivers[0]`");
        assert_eq!(p[0].help().as_deref(), Some("did you mean `owner`?"));
        assert_eq!(p[1].message(), "`waivers[0]` has no `owner`");
    }

    #[test]
    fn wrong_values_are_located() {
        let p = problems("profile: strikt\nseverity: {a.b: hgh}\nenable: 3\nwaivers:\n  - {policy: a, reason: r, owner: o, expires: 31.12.2030}\n");
        let msgs: Vec<&str> = p.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "unknown profile `strikt`",
                "unknown severity `hgh`",
                "`enable` must be a list of strings",
                "`31.12.2030` is not a date like `2025-12-31`"
            ]
        );
        assert_eq!(p[0].1, "strikt");
        let p = problems("services: [\n");
        assert!(p[0].0.starts_with("invalid config"), "{p:?}");
    }

    #[test]
    fn ids_are_checked_against_the_policies() {
        let (c, _) = parse("disable: [compose.image-pined, nginx.*]\n");
        let p = c.check_ids(&["compose.image-pinned"]);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].message(), "no policy `compose.image-pined`");
        assert_eq!(
            p[0].help().as_deref(),
            Some("did you mean `compose.image-pinned`?")
        );
        assert_eq!(p[1].level(), Level::Warning);
    }

    #[test]
    fn expired_waivers_name_their_owner() {
        let (mut c, p) =
            parse("waivers:\n  - {policy: a.b, reason: r, owner: bob, expires: 2020-01-01}\n");
        assert!(p.is_empty());
        let e = c.expired_waivers(Date::parse("2020-01-02").unwrap());
        assert_eq!(
            e[0].message(),
            "waiver for `a.b` (owner `bob`) expired on `2020-01-01`; its findings count again"
        );
        assert_eq!(e[0].level(), Level::Warning);
        // An expired waiver hides nothing.
        assert_eq!(c.waiver_for("a.b", "x.yml"), None);
        // Its last day: still holds, with a warning.
        let last = c.expired_waivers(Date::parse("2020-01-01").unwrap());
        assert_eq!(last.len(), 1);
        assert!(last[0].message().ends_with("in 0 days"), "{last:?}");
        assert_eq!(c.waiver_for("a.b", "x.yml"), Some(0));
        // Expiring within the window (default 14 days): a warning.
        let soon = c.expired_waivers(Date::parse("2019-12-25").unwrap());
        assert_eq!(
            soon[0].message(),
            "waiver for `a.b` (owner `bob`) expires on `2020-01-01`, in 7 days"
        );
        assert_eq!(soon[0].level(), Level::Warning);
        assert!(c
            .expired_waivers(Date::parse("2019-12-01").unwrap())
            .is_empty());
        let (mut c, p) = parse(
            "waiver_warning_days: 60\nwaivers:\n  - {policy: a.b, reason: r, owner: bob, expires: 2020-01-01}\n",
        );
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            c.expired_waivers(Date::parse("2019-12-01").unwrap()).len(),
            1
        );
        assert_eq!(parse("waiver_warning_days: soon\n").1.len(), 1);
        for d in [0i64, 1, 59, 365, 10_957, 20_000, -1, -800] {
            assert_eq!(Date::from_days(d).days(), d);
        }
    }

    #[test]
    fn params_convert_to_cel() {
        let (c, _) = parse("params:\n  a.b: [x, 1, true, 1.5]\n  a.m: {k: v}\n");
        let cel::Value::List(l) = &c.params[0].1 else {
            panic!()
        };
        assert_eq!(l.len(), 4);
        assert!(matches!(c.params[1].1, cel::Value::Map(_)));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_near_valid(text in "(profile: [a-z]{0,8}\n)?(enable: \\[[a-z.*]{0,10}\\]\n)?(waivers:\n  - \\{policy: [a-z.]{0,6}, expires: [0-9-]{0,12}, owner: [a-z]{0,3}, reason: x\\}\n)?(params: \\{[a-z.]{1,6}: \\[[a-z0-9, ]{0,10}\\]\\}\n)?") {
            let (mut c, _) = parse(&text);
            let _ = c.expired_waivers(Date::today_utc());
            let _ = c.check_ids(&["a.b"]);
        }
    }
}
