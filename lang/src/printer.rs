//! The canonical printer: AST to policy text.
//!
//! INVARIANT: `parse(print(ast)) == ast` (spans aside) for every AST the
//! parser produces; tested by property tests.

use std::fmt::Write as _;

use crate::ast::*;

/// Prints a file in canonical form.
pub fn print(file: &File) -> String {
    let mut p = Printer::new(&[]);
    p.file(file);
    p.out
}

/// Prints a file and reports, for each printed element (a doc line, an item
/// header, a metadata entry, a clause, a message, a test case, a closing
/// brace), the source offset it came from and its printed lines: what the
/// formatter needs to put comments back. `doc_offsets` are the source offsets
/// of the `///` lines, in order.
pub(crate) fn print_mapped(file: &File, doc_offsets: &[usize]) -> (String, Vec<Element>) {
    let mut p = Printer::new(doc_offsets);
    p.file(file);
    (p.out, p.elements)
}

/// A printed element (see [`print_mapped`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Element {
    /// Source offset of its first token (`None` when unknown).
    pub start: Option<usize>,
    /// First printed line (0-based).
    pub first: usize,
    /// Last printed line.
    pub last: usize,
    /// Indentation for comment lines placed before it.
    pub indent: &'static str,
}

struct Printer<'a> {
    out: String,
    lines: usize,
    elements: Vec<Element>,
    doc_offsets: &'a [usize],
    doc_ix: usize,
}

impl Printer<'_> {
    fn new(doc_offsets: &[usize]) -> Printer<'_> {
        Printer {
            out: String::new(),
            lines: 0,
            elements: Vec::new(),
            doc_offsets,
            doc_ix: 0,
        }
    }

    /// Writes `text` (whole lines) as one element starting at `start`.
    fn element(&mut self, start: Option<usize>, indent: &'static str, text: &str) {
        let first = self.lines;
        self.out.push_str(text);
        self.lines += text.matches('\n').count();
        self.elements.push(Element {
            start,
            first,
            last: self.lines.saturating_sub(1).max(first),
            indent,
        });
    }

    fn blank(&mut self) {
        self.out.push('\n');
        self.lines += 1;
    }

    fn file(&mut self, file: &File) {
        self.docs(&file.docs, "");
        self.element(
            Some(file.package.span.start),
            "",
            &format!("package {}\n", file.package.name),
        );
        if !file.imports.is_empty() {
            self.blank();
        }
        for i in &file.imports {
            self.element(Some(i.span.start), "", &format!("import {}\n", i.name));
        }
        for item in &file.items {
            self.blank();
            match item {
                Item::Const(c) => {
                    self.docs(&c.docs, "");
                    self.element(
                        Some(c.span.start),
                        "",
                        &format!("const {} = {}\n", c.name.name, c.value.text),
                    );
                }
                Item::Param(p) => {
                    self.docs(&p.docs, "");
                    self.element(
                        Some(p.span.start),
                        "",
                        &format!(
                            "param {}: {} = {}\n",
                            p.name.name, p.ty.name, p.default.text
                        ),
                    );
                }
                Item::Def(d) => {
                    self.docs(&d.docs, "");
                    let params = if d.has_parens {
                        format!(
                            "({})",
                            d.params
                                .iter()
                                .map(|p| p.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    } else {
                        String::new()
                    };
                    self.element(
                        Some(d.span.start),
                        "",
                        &format!("def {}{} = {}\n", d.name.name, params, d.body.text),
                    );
                }
                Item::Policy(p) => self.policy(p),
                Item::Test(t) => self.test(t),
            }
        }
    }

    fn docs(&mut self, docs: &[String], indent: &'static str) {
        for d in docs {
            let start = self.doc_offsets.get(self.doc_ix).copied();
            self.doc_ix += 1;
            let line = if d.is_empty() {
                format!("{indent}///\n")
            } else {
                format!("{indent}/// {d}\n")
            };
            self.element(start, indent, &line);
        }
    }

    fn policy(&mut self, p: &Policy) {
        self.docs(&p.docs, "");
        self.element(
            Some(p.span.start),
            "",
            &format!("policy {} {{\n", p.name.name),
        );
        for m in &p.meta {
            let (start, line) = match m {
                Meta::Title(s) => (s.span.start, format!("  title {}\n", string(s, "  "))),
                Meta::Severity(i) => (i.span.start, format!("  severity {}\n", i.name)),
                Meta::Sources(list, span) => (
                    span.start,
                    format!("  sources {}\n", string_list(list, "  ")),
                ),
                Meta::Rationale(s) => (s.span.start, format!("  rationale {}\n", string(s, "  "))),
                Meta::Remediation(s) => {
                    (s.span.start, format!("  remediation {}\n", string(s, "  ")))
                }
                Meta::Tags(list, span) => {
                    (span.start, format!("  tags {}\n", string_list(list, "  ")))
                }
                Meta::Profile(i) => (i.span.start, format!("  profile {}\n", i.name)),
            };
            self.element(Some(start), "  ", &line);
        }
        for c in &p.clauses {
            match c {
                Clause::For { var, path } => {
                    self.element(
                        Some(var.span.start),
                        "  ",
                        &format!("  for {} in {}\n", var.name, path),
                    );
                }
                Clause::Where(cel) => {
                    self.element(
                        Some(cel.span.start),
                        "  ",
                        &format!("  where {}\n", cel.text),
                    );
                }
                Clause::Deny {
                    node,
                    when,
                    message,
                    span,
                } => {
                    let mut line = format!("  deny {node}");
                    if let Some(w) = when {
                        let _ = write!(line, " when {}", w.text);
                    }
                    line.push('\n');
                    self.element(Some(span.start), "  ", &line);
                    if let Some(m) = message {
                        self.element(
                            Some(m.span.start),
                            "    ",
                            &format!("    message {}\n", string(m, "    ")),
                        );
                    }
                }
            }
        }
        self.element(Some(p.span.end.saturating_sub(1)), "  ", "}\n");
    }

    fn test(&mut self, t: &TestBlock) {
        self.element(
            Some(t.span.start),
            "",
            &format!("test {} {{\n", t.name.name),
        );
        for c in &t.cases {
            let kw = match c.expect {
                Expect::Deny => "deny",
                Expect::Allow => "allow",
            };
            let mut head = format!("  {kw} {}", string(&c.name, "  "));
            if let Some(l) = c.line {
                let _ = write!(head, " at line {l}");
            }
            if !c.params.is_empty() {
                let sets: Vec<String> = c
                    .params
                    .iter()
                    .map(|p| format!("{} = {}", p.name, p.value.text))
                    .collect();
                let _ = write!(head, " with params {{ {} }}", sets.join(", "));
            }
            match &c.input {
                CaseInput::Inline { format, text } => {
                    let _ = writeln!(head, " {} {}", format.name, block(&text.value, "  "));
                    self.element(Some(c.span.start), "  ", &head);
                }
                CaseInput::File(p) => {
                    let _ = writeln!(head, " file {}", string(p, "  "));
                    self.element(Some(c.span.start), "  ", &head);
                }
                CaseInput::Files(files) => {
                    head.push_str(" files {\n");
                    self.element(Some(c.span.start), "  ", &head);
                    for (path, text) in files {
                        self.element(
                            Some(path.span.start),
                            "    ",
                            &format!(
                                "    {} {}\n",
                                string(path, "    "),
                                block(&text.value, "    ")
                            ),
                        );
                    }
                    self.element(Some(c.span.end.saturating_sub(1)), "    ", "  }\n");
                }
            }
        }
        self.element(Some(t.span.end.saturating_sub(1)), "  ", "}\n");
    }
}

fn string_list(list: &[Str], indent: &str) -> String {
    let items: Vec<String> = list.iter().map(|s| string(s, indent)).collect();
    format!("[{}]", items.join(", "))
}

/// A string value: a `"""…"""` block when it has several lines or was
/// written as a block (and a block can hold it exactly), `"…"` otherwise.
fn string(s: &Str, indent: &str) -> String {
    if (s.value.contains('\n') || s.triple) && can_triple(&s.value) {
        block(&s.value, indent)
    } else {
        quoted(&s.value)
    }
}

/// Whether a block (`"""` on its own lines, content indented) reads back as
/// exactly `v` after dedenting.
fn can_triple(v: &str) -> bool {
    !v.contains("\"\"\"")
        && !v
            .lines()
            .any(|l| l.starts_with([' ', '\t']) && l.trim().is_empty())
        && v.lines()
            .filter(|l| !l.trim().is_empty())
            .any(|l| !l.starts_with([' ', '\t']))
        && !v.starts_with(['\n', '\r'])
        && !v.ends_with(['\n', ' ', '\t', '\r'])
        && !v.contains('\r')
}

fn quoted(v: &str) -> String {
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A triple-quoted block indented two more than `indent`; falls back to a
/// quoted string when the value cannot round-trip as a block.
fn block(v: &str, indent: &str) -> String {
    if !can_triple(v) && !v.is_empty() {
        return quoted(v);
    }
    if v.is_empty() {
        return "\"\"\"\n\"\"\"".to_string();
    }
    let inner = format!("{indent}  ");
    let mut out = String::from("\"\"\"\n");
    for l in v.split('\n') {
        if l.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{inner}{l}");
        }
    }
    let _ = write!(out, "{inner}\"\"\"");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;
    use proptest::prelude::*;

    #[test]
    fn print_is_stable() {
        let src = "package p\n\n/// doc\npolicy a {\n  title \"T\"\n  severity high\n  rationale \"\"\"\n    line one\n      indented\n    \"\"\"\n  for s in compose.services\n  deny s when !has(s.user)\n    message \"`{s.name}` runs as root\"\n}\n\ntest a {\n  deny \"x\" at line 2 compose \"\"\"\n    services:\n      a: {}\n    \"\"\"\n}\n";
        let f = parse(src).unwrap();
        let printed = print(&f);
        assert_eq!(printed, src);
        assert_eq!(parse(&printed).unwrap(), f);
    }

    #[test]
    fn imports_and_case_params_print_stably() {
        let src = "package p\n\nimport compose\nimport secrets\n\ntest a {\n  deny \"x\" at line 2 with params { allowed = [\"a, b\", \"}\"], secrets.min_secret_length = 8 } compose \"\"\"\n    services:\n      a: {}\n    \"\"\"\n}\n";
        let f = parse(src).unwrap();
        assert_eq!(f.imports.len(), 2);
        let case = match &f.items[0] {
            Item::Test(t) => &t.cases[0],
            _ => panic!(),
        };
        assert_eq!(case.params.len(), 2);
        assert_eq!(case.params[0].value.text, "[\"a, b\", \"}\"]");
        assert_eq!(case.params[1].name.to_string(), "secrets.min_secret_length");
        assert_eq!(print(&f), src);
        // Several lines, no commas.
        let multi = src.replace(", secrets", "\n    secrets");
        assert_eq!(parse(&multi).unwrap(), f);
    }

    fn arb_text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 `{}.:_-]{0,20}",
            "[a-z]{1,5}\n  [a-z: ]{0,10}\n[a-z]{1,4}",
            "[a-z \"\\\\]{0,12}",
        ]
    }

    fn arb_policy() -> impl Strategy<Value = String> {
        (
            "[a-z][a-z0-9-]{0,10}",
            arb_text(),
            prop::sample::select(vec!["critical", "high", "medium", "low", "info"]),
            arb_text(),
            prop::collection::vec("[a-z .§0-9]{1,10}", 0..3),
            "[a-z]{1,6}",
            prop::sample::select(vec![
                "x.y > 1",
                "!has(x.user)",
                "x.a in [\"a\", \"b\"] && (x.b ||\n  x.c)",
                "size(x.p) == 0",
            ]),
            prop::option::of(arb_text()),
            (
                prop::collection::vec("[a-z][a-z0-9_]{0,6}", 0..3),
                prop::collection::vec(
                    (
                        "[a-z][a-z_]{0,6}(\\.[a-z][a-z_]{0,6})?",
                        prop::sample::select(vec![
                            "1",
                            "[\"a, b\", \"}\"]",
                            "\"x // y\"",
                            "{\"k\": [1, 2]}",
                            "true",
                        ]),
                    ),
                    0..3,
                ),
            ),
        )
            .prop_map(
                |(name, title, sev, rationale, sources, var, cond, msg, (imports, sets))| {
                    let ident = |n: &str| Ident {
                        name: n.to_string(),
                        span: Span::default(),
                    };
                    let f = File {
                        docs: vec![],
                        package: Ident {
                            name: "p".into(),
                            span: Span::default(),
                        },
                        imports: imports.iter().map(|i| ident(i)).collect(),
                        items: vec![
                            Item::Policy(Policy {
                                docs: vec!["doc".into()],
                                name: Ident {
                                    name: name.clone(),
                                    span: Span::default(),
                                },
                                meta: vec![
                                    Meta::Title(s(&title)),
                                    Meta::Severity(Ident {
                                        name: sev.into(),
                                        span: Span::default(),
                                    }),
                                    Meta::Rationale(s(&rationale)),
                                    Meta::Sources(
                                        sources.iter().map(|x| s(x)).collect(),
                                        Span::default(),
                                    ),
                                ],
                                clauses: vec![
                                    Clause::For {
                                        var: Ident {
                                            name: var.clone(),
                                            span: Span::default(),
                                        },
                                        path: Path {
                                            segments: vec!["compose".into(), "services".into()],
                                            span: Span::default(),
                                        },
                                    },
                                    Clause::Deny {
                                        node: Path {
                                            segments: vec![var.clone()],
                                            span: Span::default(),
                                        },
                                        when: Some(Cel {
                                            text: cond.replace('x', &var),
                                            span: Span::default(),
                                        }),
                                        message: msg.map(|m| s(&m)),
                                        span: Span::default(),
                                    },
                                ],
                                span: Span::default(),
                            }),
                            Item::Test(TestBlock {
                                name: ident(&name),
                                cases: vec![Case {
                                    expect: Expect::Deny,
                                    name: s("case"),
                                    line: None,
                                    params: sets
                                        .iter()
                                        .map(|(n, v)| ParamSet {
                                            name: Path {
                                                segments: n
                                                    .split('.')
                                                    .map(str::to_string)
                                                    .collect(),
                                                span: Span::default(),
                                            },
                                            value: Cel {
                                                text: v.to_string(),
                                                span: Span::default(),
                                            },
                                        })
                                        .collect(),
                                    input: CaseInput::Inline {
                                        format: ident("compose"),
                                        text: s("services: {}"),
                                    },
                                    span: Span::default(),
                                }],
                                span: Span::default(),
                            }),
                        ],
                    };
                    print(&f)
                },
            )
    }

    fn s(v: &str) -> Str {
        Str {
            value: v.to_string(),
            span: Span::default(),
            triple: false,
            line_starts: vec![],
        }
    }

    proptest! {
        #[test]
        fn parse_print_roundtrip(src in arb_policy()) {
            let f = parse(&src).unwrap();
            let printed = print(&f);
            let again = parse(&printed).unwrap();
            prop_assert_eq!(&again, &f);
            prop_assert_eq!(print(&again), printed);
        }

        #[test]
        fn parser_never_panics(src in "\\PC{0,200}") {
            let _ = parse(&src);
        }

        #[test]
        fn parser_never_panics_on_near_valid(src in "(package p\n)?(policy [a-z]+ \\{ (title \"[a-z]*\" )?(deny [a-z.]+ (when [a-z.()!&|=<> \"]*)?)? \\}\n){0,3}") {
            let _ = parse(&src);
        }
    }
}
