//! The formatter: canonical printing that keeps every `//` comment.
//!
//! The grammar skips `//` comments, so the AST does not hold them. The
//! formatter finds them in the source (outside strings and outside CEL text,
//! which keeps its own comments verbatim) and puts each back next to the
//! printed element it belongs to:
//! - a comment alone on its line goes on its own line before the element that
//!   follows it in the source (a doc line, an item, a metadata entry, a clause,
//!   a `message`, a test case, a closing `}`), indented like that element; at
//!   the end of the file it stays at the end;
//! - a comment after code goes at the end of the last printed line of the
//!   element that started before it on that line (`param x: int = 3 // why`);
//! - at the top level, a blank line before or after a run of comments is kept.
//!
//! INVARIANTS (property-tested): `format(format(x)) == format(x)`,
//! `parse(format(x)) == parse(x)`, and the multiset of comment texts is kept.

use std::collections::BTreeMap;

use crate::ast::{Clause, File, Item, Span};
use crate::parser::{parse, SyntaxError};
use crate::printer::print_mapped;

/// A `//` comment found in policy source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Byte offset of its `//`.
    pub offset: usize,
    /// The text, `//` included, trailing blanks removed.
    pub text: String,
    /// Whether code precedes it on its line.
    pub trailing: bool,
    /// Whether the line before it is blank (own-line comments only).
    pub blank_before: bool,
    /// Whether a blank line follows it before the next non-blank line.
    pub blank_after: bool,
}

/// What [`scan`] finds: comments, and the offsets of `///` doc lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scanned {
    /// `//` comments, in source order.
    pub comments: Vec<Comment>,
    /// Offsets of `///` doc comments, in source order.
    pub docs: Vec<usize>,
}

/// Formats a policy file: canonical layout, comments kept.
pub fn format(source: &str) -> Result<String, SyntaxError> {
    let file = parse(source)?;
    let scanned = scan(source, &cel_spans(&file));
    let (printed, elements) = print_mapped(&file, &scanned.docs);
    let lines: Vec<&str> = printed.lines().collect();

    // Comment lines to put before printed line `n`, trailing text after it.
    let mut before: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut after: BTreeMap<usize, String> = BTreeMap::new();
    let mut at_end: Vec<String> = Vec::new();
    // The element each own-line comment goes before (`None`: the end).
    let next_of = |offset: usize| {
        elements
            .iter()
            .filter(|e| e.start.is_some_and(|s| s > offset))
            .min_by_key(|e| (e.start, e.first))
    };
    let mut prev_next: Option<Option<usize>> = None;
    for (i, c) in scanned.comments.iter().enumerate() {
        if c.trailing {
            let target = elements
                .iter()
                .filter(|e| e.start.is_some_and(|s| s <= c.offset))
                .max_by_key(|e| (e.start, e.first));
            if let Some(e) = target {
                let t = after.entry(e.last).or_default();
                t.push(' ');
                t.push_str(&c.text);
                prev_next = None;
                continue;
            }
        }
        let next = next_of(c.offset);
        let key = next.map(|e| e.first);
        let first_of_run = prev_next != Some(key);
        prev_next = Some(key);
        let last_of_run = scanned
            .comments
            .get(i + 1)
            .is_none_or(|n| n.trailing || next_of(n.offset).map(|e| e.first) != key);
        let top = next.is_none_or(|e| e.indent.is_empty());
        let indent = next.map_or("", |e| e.indent);
        let slot: &mut Vec<String> = match next {
            Some(e) => before.entry(e.first).or_default(),
            None => &mut at_end,
        };
        // Blank lines around top-level comments are kept. Before an item the
        // printer already leaves one, so a run's first comment adds none there.
        if top && c.blank_before && (!first_of_run || next.is_none()) {
            slot.push(String::new());
        }
        slot.push(format!("{indent}{}", c.text));
        if top && c.blank_after && last_of_run && next.is_some() {
            slot.push(String::new());
        }
    }

    let mut out = String::with_capacity(printed.len() + 64);
    for (n, line) in lines.iter().enumerate() {
        if let Some(cs) = before.get(&n) {
            for c in cs {
                out.push_str(c);
                out.push('\n');
            }
        }
        out.push_str(line);
        if let Some(t) = after.get(&n) {
            out.push_str(t);
        }
        out.push('\n');
    }
    for c in &at_end {
        out.push_str(c);
        out.push('\n');
    }
    Ok(out)
}

/// The spans of every CEL text of a file (comments inside them are CEL's).
pub fn cel_spans(file: &File) -> Vec<Span> {
    let mut out = Vec::new();
    for item in &file.items {
        match item {
            Item::Const(c) => out.push(c.value.span),
            Item::Param(p) => out.push(p.default.span),
            Item::Def(d) => out.push(d.body.span),
            Item::Policy(p) => {
                for c in &p.clauses {
                    match c {
                        Clause::Where(w) => out.push(w.span),
                        Clause::Deny { when: Some(w), .. } => out.push(w.span),
                        _ => {}
                    }
                }
            }
            Item::Test(t) => {
                for c in &t.cases {
                    out.extend(c.params.iter().map(|p| p.value.span));
                }
            }
        }
    }
    out.sort_by_key(|s| s.start);
    out
}

/// Finds the `//` comments and `///` doc lines of `source`, skipping string
/// literals and the CEL texts at `cel` (sorted by start).
pub fn scan(source: &str, cel: &[Span]) -> Scanned {
    let b = source.as_bytes();
    let mut out = Scanned::default();
    let mut cel = cel.iter().peekable();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        while cel.peek().is_some_and(|s| s.end <= i) {
            cel.next();
        }
        if let Some(s) = cel.peek() {
            if s.start <= i && i < s.end {
                i = s.end;
                continue;
            }
        }
        match c {
            b'"' => {
                if b.get(i + 1) == Some(&b'"') && b.get(i + 2) == Some(&b'"') {
                    i = find(source, i + 3, "\"\"\"").map_or(b.len(), |e| e + 3);
                } else {
                    i += 1;
                    while let Some(&d) = b.get(i) {
                        match d {
                            b'\\' => i += 2,
                            b'"' | b'\n' => {
                                i += 1;
                                break;
                            }
                            _ => i += 1,
                        }
                    }
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = find(source, i, "\n").unwrap_or(b.len());
                if b.get(i + 2) == Some(&b'/') {
                    out.docs.push(i);
                } else {
                    let line_start = source
                        .get(..i)
                        .and_then(|t| t.rfind('\n'))
                        .map_or(0, |p| p + 1);
                    let head = source.get(line_start..i).unwrap_or("");
                    out.comments.push(Comment {
                        offset: i,
                        text: source.get(i..end).unwrap_or("").trim_end().to_string(),
                        trailing: !head.trim().is_empty(),
                        blank_before: blank_line_before(source, line_start),
                        blank_after: blank_line_after(source, end),
                    });
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    out
}

fn find(source: &str, from: usize, needle: &str) -> Option<usize> {
    source.get(from..)?.find(needle).map(|p| p + from)
}

/// Whether the line before the one starting at `line_start` is blank.
fn blank_line_before(source: &str, line_start: usize) -> bool {
    if line_start == 0 {
        return false;
    }
    let before = source.get(..line_start.saturating_sub(1)).unwrap_or("");
    let prev = before.rsplit('\n').next().unwrap_or("");
    prev.trim().is_empty()
}

/// Whether a blank line follows the line ending at `line_end` (its `\n`).
fn blank_line_after(source: &str, line_end: usize) -> bool {
    let rest = source.get(line_end + 1..).unwrap_or("");
    let mut lines = rest.split('\n');
    lines.next().is_some_and(|l| l.trim().is_empty()) && !rest.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"// Copyright: the rampart authors
// License: Apache-2.0

/// Compose checks.
package compose // the package

// Section: capabilities.

/// Caps a service may add.
param allowed_caps: list<string> = ["NET_BIND_SERVICE"] // overridable

// a def
def is_x(s) = s.name == "x" // trailing "quoted" {braces}

policy p { // header
    // before title
    title "T // not a comment"
    severity high // sev
  rationale """
    see https://example.com // not a comment
    and more
    """ // after the block
  for s in compose.services
  // before deny
  deny s when is_x(s) // why
    // before message
    message "{s.name} // no"
  // before close
} // after close

test p {
  // a case
  deny "x" compose """
    services: # yaml comment
      x: {}
    """ // case trailing
  allow "y" files {
    // a file
    "docker-compose.yml" """
      services: {}
      """
    // end of files
  }
}

// the end
"#;

    #[test]
    fn comments_are_found_outside_strings_and_cel() {
        let f = parse(SRC).unwrap();
        let s = scan(SRC, &cel_spans(&f));
        let texts: Vec<&str> = s.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "// Copyright: the rampart authors",
                "// License: Apache-2.0",
                "// the package",
                "// Section: capabilities.",
                "// overridable",
                "// a def",
                "// trailing \"quoted\" {braces}",
                "// header",
                "// before title",
                "// sev",
                "// after the block",
                "// before deny",
                "// why",
                "// before message",
                "// before close",
                "// after close",
                "// a case",
                "// case trailing",
                "// a file",
                "// end of files",
                "// the end",
            ]
        );
        assert_eq!(s.docs.len(), 2);
    }

    #[test]
    fn format_places_comments_and_is_idempotent() {
        let once = format(SRC).unwrap();
        let want = r#"// Copyright: the rampart authors
// License: Apache-2.0

/// Compose checks.
package compose // the package

// Section: capabilities.

/// Caps a service may add.
param allowed_caps: list<string> = ["NET_BIND_SERVICE"] // overridable

// a def
def is_x(s) = s.name == "x" // trailing "quoted" {braces}

policy p { // header
  // before title
  title "T // not a comment"
  severity high // sev
  rationale """
    see https://example.com // not a comment
    and more
    """ // after the block
  for s in compose.services
  // before deny
  deny s when is_x(s) // why
    // before message
    message "{s.name} // no"
  // before close
} // after close

test p {
  // a case
  deny "x" compose """
    services: # yaml comment
      x: {}
    """ // case trailing
  allow "y" files {
    // a file
    "docker-compose.yml" """
      services: {}
      """
    // end of files
  }
}

// the end
"#;
        assert_eq!(once, want);
        assert_eq!(format(&once).unwrap(), once);
        assert_eq!(parse(&once).unwrap(), parse(SRC).unwrap());
    }

    #[test]
    fn comments_inside_cel_stay_in_the_cel() {
        let src = "package p\n\nconst a = [1, // one\n  2]\n";
        let f = parse(src).unwrap();
        assert!(scan(src, &cel_spans(&f)).comments.is_empty());
        assert_eq!(format(src).unwrap(), src);
    }

    use proptest::prelude::*;

    /// One generated source line: text, whether a comment may follow it,
    /// whether a comment line may precede it.
    type Line = (String, bool, bool);

    fn structure() -> impl Strategy<Value = Vec<Line>> {
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::option::of("[a-z /{}`.]{0,12}"),
            prop::collection::vec("[a-z][a-z /:.]{0,12}", 1..4),
            "[a-z /:.\"]{0,10}",
        )
            .prop_map(
                |(has_const, has_param, continued, message, rationale, title)| {
                    let title = title.replace('"', "\\\"");
                    let mut l: Vec<Line> = vec![("package p".into(), true, true)];
                    if has_const {
                        l.push(("import secrets".into(), true, true));
                    }
                    if has_const {
                        l.push(("const c = [1, 2]".into(), true, true));
                    }
                    if has_param {
                        l.push(("param q: list<string> = [\"a // b\"]".into(), true, true));
                    }
                    l.push(("policy x {".into(), true, true));
                    l.push((format!("  title \"{title}\""), true, true));
                    l.push(("  severity high".into(), true, true));
                    l.push(("  rationale \"\"\"".into(), false, true));
                    for r in &rationale {
                        l.push((format!("    {r}"), false, false));
                    }
                    l.push(("    \"\"\"".into(), true, false));
                    l.push(("  for s in compose.services".into(), true, true));
                    l.push(("  where s.name != \"//x\"".into(), true, true));
                    l.push(("  deny s when s.name == 'a'".into(), !continued, true));
                    if continued {
                        l.push(("    && true".into(), true, false));
                    }
                    if let Some(m) = message {
                        l.push((format!("    message \"{m}\""), true, true));
                    }
                    l.push(("}".into(), true, true));
                    l.push(("test x {".into(), true, true));
                    if has_param {
                        l.push((
                            "  deny \"case\" with params { q = [\"a // b\", \"}\"] } compose \"\"\"".into(),
                            false,
                            true,
                        ));
                    } else {
                        l.push(("  deny \"case\" compose \"\"\"".into(), false, true));
                    }
                    l.push(("    services: {}".into(), false, false));
                    l.push(("    \"\"\"".into(), true, false));
                    l.push(("}".into(), true, true));
                    l
                },
            )
    }

    fn comment() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 ,.:\"{}/()]{0,16}".prop_map(|t| format!("// {t}").trim_end().to_string())
    }

    fn source() -> impl Strategy<Value = String> {
        (
            structure(),
            prop::collection::vec(
                (
                    prop::option::weighted(0.3, comment()),
                    prop::option::weighted(0.3, comment()),
                    0usize..4,
                    any::<bool>(),
                ),
                40,
            ),
            prop::option::of(comment()),
        )
            .prop_map(|(lines, decisions, at_end)| {
                let mut out = String::new();
                for ((text, can_trail, can_precede), (own, trail, pad, blank)) in
                    lines.iter().zip(decisions.iter())
                {
                    let movable = *can_precede;
                    if movable {
                        if *blank {
                            out.push('\n');
                        }
                        if let Some(c) = own {
                            out.push_str(&" ".repeat(*pad));
                            out.push_str(c);
                            out.push('\n');
                        }
                        out.push_str(&" ".repeat(*pad));
                    }
                    out.push_str(text);
                    if *can_trail {
                        if let Some(c) = trail {
                            out.push_str(&" ".repeat(*pad + 1));
                            out.push_str(c);
                        }
                    }
                    out.push('\n');
                }
                if let Some(c) = at_end {
                    out.push_str(&c);
                    out.push('\n');
                }
                out
            })
    }

    fn comment_texts(src: &str) -> Vec<String> {
        let f = parse(src).unwrap();
        let mut t: Vec<String> = scan(src, &cel_spans(&f))
            .comments
            .into_iter()
            .map(|c| c.text)
            .collect();
        t.sort();
        t
    }

    #[test]
    fn sample_sources_have_comments() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let mut with_comments = 0;
        for _ in 0..50 {
            let src = source().new_tree(&mut runner).unwrap().current();
            if comment_texts(&src).len() > 2 {
                with_comments += 1;
            }
        }
        assert!(with_comments > 25, "{with_comments}");
    }

    proptest! {
        #[test]
        fn format_never_panics(src in "\\PC{0,200}") {
            let _ = format(&src);
        }

        #[test]
        fn format_is_idempotent_and_keeps_meaning_and_comments(src in source()) {
            let ast = parse(&src).unwrap();
            let once = format(&src).unwrap();
            let twice = format(&once).unwrap();
            prop_assert_eq!(&twice, &once);
            prop_assert_eq!(parse(&once).unwrap(), ast);
            prop_assert_eq!(comment_texts(&once), comment_texts(&src));
        }
    }
}
