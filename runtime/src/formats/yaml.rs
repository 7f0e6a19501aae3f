//! YAML to a generic spanned tree, through serde-saphyr.
//!
//! Anchors, aliases and `<<` merge keys are resolved by serde-saphyr; budgets
//! (depth, node count, aliases) guard against alias bombs. A node reached
//! through an alias is located where it is *defined* (at the anchor), so a
//! finding on it points where the fix goes; the report names the services
//! that reach it (one finding per root cause).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Budget, Options, Spanned};

use crate::model::{FileId, InputProblem, Span};

/// A YAML node with its byte span.
#[derive(Clone, Debug, PartialEq)]
pub struct YNode {
    /// Byte range of the value in the source.
    pub span: Span,
    /// Byte range where the value was defined (differs for aliases and merge keys).
    pub defined: Span,
    /// The value.
    pub kind: YKind,
}

/// A YAML value.
#[derive(Clone, Debug, PartialEq)]
pub enum YKind {
    /// `null`, `~` or empty.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<YNode>),
    /// A mapping, keys in document order.
    Map(Vec<(YKey, YNode)>),
}

/// A mapping key: its text and span.
#[derive(Clone, Debug, PartialEq)]
pub struct YKey {
    /// The key as text (numbers and booleans are written out).
    pub text: String,
    /// Where the key is.
    pub span: Span,
}

impl YNode {
    /// The value of key `name` in a mapping.
    pub fn get(&self, name: &str) -> Option<&YNode> {
        match &self.kind {
            YKind::Map(entries) => entries.iter().find(|(k, _)| k.text == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of `name` in a mapping.
    pub fn key(&self, name: &str) -> Option<&YKey> {
        match &self.kind {
            YKind::Map(entries) => entries.iter().find(|(k, _)| k.text == name).map(|(k, _)| k),
            _ => None,
        }
    }

    /// The entries of a mapping (empty for other kinds).
    pub fn entries(&self) -> &[(YKey, YNode)] {
        match &self.kind {
            YKind::Map(entries) => entries,
            _ => &[],
        }
    }

    /// The items of a sequence (empty for other kinds).
    pub fn items(&self) -> &[YNode] {
        match &self.kind {
            YKind::Seq(items) => items,
            _ => &[],
        }
    }

    /// A scalar as text, as a compose tool would read it: strings as they are,
    /// other scalars spelled as in the source (so `0755` and `yes` survive).
    pub fn scalar_text(&self, source: &str) -> Option<String> {
        match &self.kind {
            YKind::Str(s) => Some(s.clone()),
            YKind::Null => Some(String::new()),
            YKind::Bool(_) | YKind::Int(_) | YKind::Float(_) => {
                let raw = source
                    .get(self.span.start()..self.span.end())
                    .map(str::trim);
                Some(match (raw, &self.kind) {
                    (Some(r), _) if !r.is_empty() => r.to_string(),
                    (_, YKind::Bool(b)) => b.to_string(),
                    (_, YKind::Int(i)) => i.to_string(),
                    (_, YKind::Float(f)) => f.to_string(),
                    _ => String::new(),
                })
            }
            YKind::Seq(_) | YKind::Map(_) => None,
        }
    }

    /// A boolean, accepting YAML 1.1 spellings (`yes`, `on`, `"true"`).
    pub fn as_bool_lenient(&self) -> Option<bool> {
        match &self.kind {
            YKind::Bool(b) => Some(*b),
            YKind::Str(s) => match s.to_ascii_lowercase().as_str() {
                "true" | "yes" | "on" | "y" => Some(true),
                "false" | "no" | "off" | "n" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether this is a mapping.
    pub fn is_map(&self) -> bool {
        matches!(self.kind, YKind::Map(_))
    }
}

/// Limits applied to every YAML input. Documented in `docs/cli.md`.
#[derive(Clone, Copy, Debug)]
pub struct YamlLimits {
    /// Maximum nesting depth.
    pub max_depth: usize,
    /// Maximum number of nodes after alias expansion.
    pub max_nodes: usize,
}

impl Default for YamlLimits {
    fn default() -> Self {
        YamlLimits {
            max_depth: 128,
            max_nodes: 250_000,
        }
    }
}

/// Parses one YAML document into a spanned tree.
///
/// An empty document is `Null`. Any syntax or budget error is one located
/// [`InputProblem`] (code `yaml-syntax`).
pub fn parse(file: FileId, source: &str, limits: YamlLimits) -> Result<YNode, InputProblem> {
    let mut budget = Budget::default();
    budget.max_depth = limits.max_depth;
    budget.max_nodes = limits.max_nodes;
    // Real files (Sentry's self-hosted compose file) use many aliases per
    // anchor; the node budget above is what stops alias bombs.
    budget.enforce_alias_anchor_ratio = false;
    let mut options = Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    if source.trim().is_empty() {
        return Ok(YNode {
            span: Span::new(file, 0, 0),
            defined: Span::new(file, 0, 0),
            kind: YKind::Null,
        });
    }
    let raw: Result<Option<RawNode>, _> = serde_saphyr::from_str_with_options(source, options);
    match raw {
        Ok(Some(node)) => Ok(node.into_ynode(file, source)),
        Ok(None) => Ok(YNode {
            span: Span::new(file, 0, 0),
            defined: Span::new(file, 0, 0),
            kind: YKind::Null,
        }),
        Err(e) => {
            let offset = e
                .location()
                .map(|l| line_col_to_offset(source, l.line(), l.column()))
                .unwrap_or(0);
            let end = next_char_boundary(source, offset);
            let message = plain_message(&e, limits);
            Err(InputProblem::error(
                "yaml-syntax",
                Span::new(file, offset, end),
                message,
            ))
        }
    }
}

/// A user message for a parse error: budget breaches in plain words (the
/// library's own text is a Debug dump, `budget breached: Nodes { nodes: … }`).
fn plain_message(e: &serde_saphyr::Error, limits: YamlLimits) -> String {
    use serde_saphyr::budget::BudgetBreach;
    let mut inner = e;
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = inner
    {
        inner = error;
    }
    let serde_saphyr::Error::Budget { breach, .. } = inner else {
        let text = first_line(&e.to_string());
        if text.contains("budget breached") || text.contains("limits breached") {
            return "the YAML document is too large or too complex to read".to_string();
        }
        return text;
    };
    let (max_nodes, max_depth) = (limits.max_nodes, limits.max_depth);
    match breach {
        BudgetBreach::Nodes { .. } => format!(
            "the YAML document has more than {max_nodes} nodes (aliases expanded); \
             the limit is {max_nodes}"
        ),
        BudgetBreach::Depth { .. } => format!(
            "the YAML document nests deeper than {max_depth} levels; the limit is {max_depth}"
        ),
        BudgetBreach::Events { .. } => "the YAML document has too many parser events".into(),
        BudgetBreach::Aliases { .. } => "the YAML document has too many aliases (`*name`)".into(),
        BudgetBreach::Anchors { .. } => "the YAML document has too many anchors (`&name`)".into(),
        BudgetBreach::Documents { .. } => "the file has too many YAML documents".into(),
        BudgetBreach::ScalarBytes { .. } => {
            "the YAML document's values are too large in total".into()
        }
        BudgetBreach::MergeKeys { .. } => "the YAML document has too many merge keys (`<<`)".into(),
        BudgetBreach::AliasAnchorRatio { .. } => {
            "the YAML document uses too many aliases per anchor".into()
        }
        _ => "the YAML document is too large or too complex to read".into(),
    }
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("invalid yaml").trim();
    // serde-saphyr prefixes "error: line X column Y: "; the location is shown separately.
    let line = line.strip_prefix("error: ").unwrap_or(line);
    let line = match line.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") => rest,
        _ => line,
    };
    let mut out = line.to_string();
    if out.len() > 200 {
        let mut cut = 200;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

fn next_char_boundary(s: &str, offset: usize) -> usize {
    let mut end = (offset + 1).min(s.len());
    while end < s.len() && !s.is_char_boundary(end) {
        end += 1;
    }
    end.max(offset)
}

/// 1-based line and column (in chars) to a byte offset, clamped to the text
/// (see [`crate::source::offset_of`]).
pub fn line_col_to_offset(source: &str, line: u64, column: u64) -> usize {
    crate::source::offset_of(
        source,
        usize::try_from(line).unwrap_or(usize::MAX),
        usize::try_from(column).unwrap_or(usize::MAX),
    )
}

// ---- raw deserialisation -------------------------------------------------

struct RawNode(Spanned<RawKind>);

enum RawKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<RawNode>),
    Map(Vec<(Spanned<RawKey>, RawNode)>),
}

struct RawKey(String);

fn to_span(file: FileId, source: &str, loc: &serde_saphyr::Location) -> Span {
    let sp = loc.span();
    match (sp.byte_offset(), sp.byte_len()) {
        (Some(off), Some(len)) => {
            let start = (off as usize).min(source.len());
            let end = (start + len as usize).min(source.len());
            Span::new(file, start, end)
        }
        _ => {
            let start = line_col_to_offset(source, loc.line(), loc.column());
            Span::new(file, start, start)
        }
    }
}

impl RawNode {
    fn into_ynode(self, file: FileId, source: &str) -> YNode {
        let span = to_span(file, source, &self.0.referenced);
        let defined = to_span(file, source, &self.0.defined);
        let kind = match self.0.value {
            RawKind::Null => YKind::Null,
            RawKind::Bool(b) => YKind::Bool(b),
            RawKind::Int(i) => YKind::Int(i),
            RawKind::Float(f) => YKind::Float(f),
            RawKind::Str(s) => YKind::Str(s),
            RawKind::Seq(items) => YKind::Seq(
                items
                    .into_iter()
                    .map(|n| n.into_ynode(file, source))
                    .collect(),
            ),
            RawKind::Map(entries) => YKind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| {
                        let key = YKey {
                            span: to_span(file, source, &k.referenced),
                            text: k.value.0,
                        };
                        (key, v.into_ynode(file, source))
                    })
                    .collect(),
            ),
        };
        // A node reached through an alias or a `<<` merge key is located where it
        // is defined (the anchor), where the fix goes: findings on it from several
        // services then share one location and are reported once.
        let at = if defined.end() > defined.start() {
            defined
        } else {
            span
        };
        YNode {
            span: widen_to_block(at, &kind),
            defined,
            kind,
        }
    }
}

/// A collection's span from serde-saphyr covers its first token; widen it to
/// the last child so a finding on a whole block underlines the block.
fn widen_to_block(span: Span, kind: &YKind) -> Span {
    let last = match kind {
        YKind::Seq(items) => items.last().map(|n| n.span),
        YKind::Map(entries) => entries.last().map(|(_, v)| v.span),
        _ => None,
    };
    match last {
        Some(l) if l.file == span.file && l.end() > span.end() && l.start() >= span.start() => {
            Span::new(span.file, span.start(), l.end())
        }
        _ => span,
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Spanned::<RawKind>::deserialize(d).map(RawNode)
    }
}

impl<'de> Deserialize<'de> for RawKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = RawKind;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any yaml value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawKind, E> {
        Ok(RawKind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawKind, D::Error> {
        RawKind::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawKind, E> {
        Ok(RawKind::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawKind, E> {
        Ok(RawKind::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Str(v.to_string()),
        })
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Str(v.to_string()),
        })
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawKind, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawKind::Int(i),
            Err(_) => RawKind::Str(v.to_string()),
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawKind, E> {
        Ok(RawKind::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawKind, E> {
        Ok(RawKind::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawKind, E> {
        Ok(RawKind::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawKind, E> {
        Ok(RawKind::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<RawNode>()? {
            items.push(item);
        }
        Ok(RawKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawKind, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Spanned<RawKey>, RawNode>()? {
            entries.push((k, v));
        }
        Ok(RawKind::Map(entries))
    }
}

impl<'de> Deserialize<'de> for RawKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match RawKind::deserialize(d)? {
            RawKind::Str(s) => Ok(RawKey(s)),
            RawKind::Int(i) => Ok(RawKey(i.to_string())),
            RawKind::Float(f) => Ok(RawKey(f.to_string())),
            RawKind::Bool(b) => Ok(RawKey(b.to_string())),
            RawKind::Null => Ok(RawKey(String::new())),
            RawKind::Seq(_) | RawKind::Map(_) => {
                Err(de::Error::custom("a mapping key must be a scalar"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(src: &str) -> YNode {
        parse(FileId(0), src, YamlLimits::default()).unwrap()
    }

    #[test]
    fn spans_point_at_values() {
        let src = "services:\n  redis:\n    ports:\n      - \"6380:6379\"\n";
        let root = p(src);
        let port = &root
            .get("services")
            .unwrap()
            .get("redis")
            .unwrap()
            .get("ports")
            .unwrap()
            .items()[0];
        assert_eq!(&src[port.span.start()..port.span.end()], "\"6380:6379\"");
        assert_eq!(port.kind, YKind::Str("6380:6379".into()));
    }

    #[test]
    fn merge_keys_and_aliases_resolve() {
        let src = "x-base: &base\n  read_only: true\n  user: app\nservices:\n  a:\n    <<: *base\n    image: a\n";
        let root = p(src);
        let a = root.get("services").unwrap().get("a").unwrap();
        assert_eq!(a.get("read_only").unwrap().kind, YKind::Bool(true));
        assert_eq!(a.get("user").unwrap().kind, YKind::Str("app".into()));
    }

    #[test]
    fn syntax_error_is_located() {
        let src = "services:\n  a: [1, 2\n";
        let err = parse(FileId(0), src, YamlLimits::default()).unwrap_err();
        assert_eq!(err.code, "yaml-syntax");
        assert!(!err.message.is_empty());
        assert!(!err.message.contains('\n'));
    }

    #[test]
    fn alias_bomb_is_an_error_not_a_hang() {
        let mut src =
            String::from("a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        let mut prev = 'a';
        for c in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            src.push_str(&format!("{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
            prev = c;
        }
        let err = parse(FileId(0), &src, YamlLimits::default()).unwrap_err();
        assert_eq!(
            err.message,
            "the YAML document has more than 250000 nodes (aliases expanded); the limit is 250000"
        );
    }

    #[test]
    fn budget_breaches_are_plain_words() {
        // Debug builds recurse with large frames: give the parser a big stack.
        let err = std::thread::Builder::new()
            .stack_size(256 * 1024 * 1024)
            .spawn(|| {
                let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
                parse(FileId(0), &deep, YamlLimits::default()).unwrap_err()
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(
            err.message.contains("deeper than 128 levels"),
            "{}",
            err.message
        );
        let many: String = (0..300_000).map(|i| format!("- {i}\n")).collect();
        let err = parse(FileId(0), &many, YamlLimits::default()).unwrap_err();
        assert!(
            err.message.contains("more than 250000 nodes"),
            "{}",
            err.message
        );
        assert!(!err.message.contains('{') && !err.message.contains("breach"));
    }

    #[test]
    fn yaml_11_scalars_keep_their_text() {
        let src = "a: 0755\nb: yes\n";
        let root = p(src);
        assert_eq!(root.get("a").unwrap().scalar_text(src).unwrap(), "0755");
        assert_eq!(root.get("b").unwrap().as_bool_lenient(), Some(true));
    }
}
