//! The canonical printer: AST to policy text.
//!
//! INVARIANT: `parse(print(ast)) == ast` (spans aside) for every AST the
//! parser produces; tested by property tests.

use std::fmt::Write as _;

use crate::ast::*;

/// Prints a file in canonical form.
pub fn print(file: &File) -> String {
    let mut out = String::new();
    docs(&mut out, &file.docs, "");
    let _ = writeln!(out, "package {}", file.package.name);
    for item in &file.items {
        out.push('\n');
        match item {
            Item::Const(c) => {
                docs(&mut out, &c.docs, "");
                let _ = writeln!(out, "const {} = {}", c.name.name, c.value.text);
            }
            Item::Param(p) => {
                docs(&mut out, &p.docs, "");
                let _ = writeln!(
                    out,
                    "param {}: {} = {}",
                    p.name.name, p.ty.name, p.default.text
                );
            }
            Item::Def(d) => {
                docs(&mut out, &d.docs, "");
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
                let _ = writeln!(out, "def {}{} = {}", d.name.name, params, d.body.text);
            }
            Item::Policy(p) => policy(&mut out, p),
            Item::Test(t) => test(&mut out, t),
        }
    }
    out
}

fn docs(out: &mut String, docs: &[String], indent: &str) {
    for d in docs {
        if d.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {d}");
        }
    }
}

fn policy(out: &mut String, p: &Policy) {
    docs(out, &p.docs, "");
    let _ = writeln!(out, "policy {} {{", p.name.name);
    for m in &p.meta {
        match m {
            Meta::Title(s) => {
                let _ = writeln!(out, "  title {}", string(s, "  "));
            }
            Meta::Severity(i) => {
                let _ = writeln!(out, "  severity {}", i.name);
            }
            Meta::Sources(list, _) => {
                let _ = writeln!(out, "  sources {}", string_list(list, "  "));
            }
            Meta::Rationale(s) => {
                let _ = writeln!(out, "  rationale {}", string(s, "  "));
            }
            Meta::Remediation(s) => {
                let _ = writeln!(out, "  remediation {}", string(s, "  "));
            }
            Meta::Tags(list, _) => {
                let _ = writeln!(out, "  tags {}", string_list(list, "  "));
            }
            Meta::Profile(i) => {
                let _ = writeln!(out, "  profile {}", i.name);
            }
        }
    }
    for c in &p.clauses {
        match c {
            Clause::For { var, path } => {
                let _ = writeln!(out, "  for {} in {}", var.name, path);
            }
            Clause::Where(cel) => {
                let _ = writeln!(out, "  where {}", cel.text);
            }
            Clause::Deny {
                node,
                when,
                message,
                ..
            } => {
                let _ = write!(out, "  deny {node}");
                if let Some(w) = when {
                    let _ = write!(out, " when {}", w.text);
                }
                out.push('\n');
                if let Some(m) = message {
                    let _ = writeln!(out, "    message {}", string(m, "    "));
                }
            }
        }
    }
    out.push_str("}\n");
}

fn test(out: &mut String, t: &TestBlock) {
    let _ = writeln!(out, "test {} {{", t.name.name);
    for c in &t.cases {
        let kw = match c.expect {
            Expect::Deny => "deny",
            Expect::Allow => "allow",
        };
        let _ = write!(out, "  {kw} {}", string(&c.name, "  "));
        if let Some(l) = c.line {
            let _ = write!(out, " at line {l}");
        }
        match &c.input {
            CaseInput::Inline { format, text } => {
                let _ = writeln!(out, " {} {}", format.name, block(&text.value, "  "));
            }
            CaseInput::File(p) => {
                let _ = writeln!(out, " file {}", string(p, "  "));
            }
            CaseInput::Files(files) => {
                out.push_str(" files {\n");
                for (path, text) in files {
                    let _ = writeln!(
                        out,
                        "    {} {}",
                        string(path, "    "),
                        block(&text.value, "    ")
                    );
                }
                out.push_str("  }\n");
            }
        }
    }
    out.push_str("}\n");
}

fn string_list(list: &[Str], indent: &str) -> String {
    let items: Vec<String> = list.iter().map(|s| string(s, indent)).collect();
    format!("[{}]", items.join(", "))
}

/// A string value, as `"…"` when it is one line, as `"""…"""` otherwise.
fn string(s: &Str, indent: &str) -> String {
    if s.value.contains('\n') && can_triple(&s.value) {
        block(&s.value, indent)
    } else {
        quoted(&s.value)
    }
}

fn can_triple(v: &str) -> bool {
    !v.contains("\"\"\"")
        && !v.ends_with('"')
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
        )
            .prop_map(|(name, title, sev, rationale, sources, var, cond, msg)| {
                let f = File {
                    docs: vec![],
                    package: Ident {
                        name: "p".into(),
                        span: Span::default(),
                    },
                    items: vec![Item::Policy(Policy {
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
                            Meta::Sources(sources.iter().map(|x| s(x)).collect(), Span::default()),
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
                    })],
                };
                print(&f)
            })
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
