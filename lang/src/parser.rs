//! Policy text to AST (pest), with errors as located values.

use pest::iterators::Pair;
use pest::Parser as _;
use pest_derive::Parser;

use crate::ast::*;

#[derive(Parser)]
#[grammar = "grammar.pest"]
struct Grammar;

/// A syntax error in a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where.
    pub span: Span,
    /// What was expected there, in words (`a policy`, `a string`…).
    pub expected: Vec<String>,
    /// A free-form reason, when the error is not about expected tokens.
    pub reason: Option<String>,
}

/// The largest policy file accepted, in bytes.
pub const MAX_POLICY_BYTES: usize = 4 * 1024 * 1024;

/// The deepest nesting of brackets (`(`, `[`, `{`) accepted anywhere in a
/// policy file; checked before parsing, whose recursion follows it.
pub const MAX_NESTING: usize = 256;

/// Parses a policy file.
pub fn parse(source: &str) -> Result<File, SyntaxError> {
    if source.len() > MAX_POLICY_BYTES {
        return Err(SyntaxError {
            span: Span::new(0, 0),
            expected: vec![],
            reason: Some(format!(
                "policy file larger than {MAX_POLICY_BYTES} bytes ({} bytes)",
                source.len()
            )),
        });
    }
    if let Some(at) = too_deep(source) {
        return Err(SyntaxError {
            span: Span::new(at, at + 1),
            expected: vec![],
            reason: Some(format!("brackets nested deeper than {MAX_NESTING}")),
        });
    }
    // Guard pest's recursion against hostile nesting.
    pest::set_call_limit(std::num::NonZeroUsize::new(5_000_000));
    let mut pairs = Grammar::parse(Rule::file, source).map_err(|e| to_error(&e))?;
    let Some(file) = pairs.next() else {
        return Err(internal(source.len()));
    };
    build_file(file)
}

/// The offset of the first bracket nested deeper than [`MAX_NESTING`],
/// outside strings and comments.
fn too_deep(source: &str) -> Option<usize> {
    let b = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' => {
                let triple = b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c);
                i += if triple { 3 } else { 1 };
                while let Some(&d) = b.get(i) {
                    if d == b'\\' && !triple {
                        i += 2;
                        continue;
                    }
                    if d == b'\n' && !triple {
                        break;
                    }
                    if d == c && (!triple || (b.get(i + 1) == Some(&c) && b.get(i + 2) == Some(&c)))
                    {
                        i += if triple { 3 } else { 1 };
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while b.get(i).is_some_and(|&d| d != b'\n') {
                    i += 1;
                }
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn internal(at: usize) -> SyntaxError {
    SyntaxError {
        span: Span::new(at, at),
        expected: vec![],
        reason: Some("the parser produced no tree".into()),
    }
}

fn to_error(e: &pest::error::Error<Rule>) -> SyntaxError {
    let span = match e.location {
        pest::error::InputLocation::Pos(p) => Span::new(p, p),
        pest::error::InputLocation::Span((s, t)) => Span::new(s, t),
    };
    match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut expected: Vec<String> = positives
                .iter()
                .filter_map(|r| describe(*r))
                .map(String::from)
                .collect();
            expected.sort();
            expected.dedup();
            SyntaxError {
                span,
                expected,
                reason: None,
            }
        }
        pest::error::ErrorVariant::CustomError { message } => SyntaxError {
            span,
            expected: vec![],
            reason: Some(match message.as_str() {
                "call limit reached" | "stack limit reached" => {
                    "the policy file is too complex to parse".to_string()
                }
                other => other.to_string(),
            }),
        },
    }
}

fn describe(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::file => "`package <name>` at the top of the file",
        Rule::doc => "a doc comment",
        Rule::package => "`package <name>`",
        Rule::item => "an item (`policy`, `test`, `const`, `param`, `def`)",
        Rule::ident => "a name",
        Rule::policy_name => "a policy name",
        Rule::path => "a path like `service.ports`",
        Rule::int => "a number",
        Rule::const_decl => "`const`",
        Rule::param_decl => "`param`",
        Rule::type_expr => "a type like `list<string>`",
        Rule::def_decl => "`def`",
        Rule::def_params => "`(`",
        Rule::policy => "`policy`",
        Rule::meta => "metadata (`title`, `severity`, `sources`, `rationale`, `remediation`, `tags`, `profile`)",
        Rule::meta_title => "`title`",
        Rule::meta_severity => "`severity`",
        Rule::meta_sources => "`sources`",
        Rule::meta_rationale => "`rationale`",
        Rule::meta_remediation => "`remediation`",
        Rule::meta_tags => "`tags`",
        Rule::meta_profile => "`profile`",
        Rule::string_list => "a list of strings `[\"…\"]`",
        Rule::for_clause => "`for`",
        Rule::where_clause => "`where`",
        Rule::deny_clause => "`deny`",
        Rule::test_block => "`test`",
        Rule::case => "a test case (`deny \"…\"` or `allow \"…\"`)",
        Rule::expect => "`deny` or `allow`",
        Rule::case_line => "`at line N`",
        Rule::case_params => "`with params { name = value }`",
        Rule::param_set => "`name = value`",
        Rule::param_value => "a value",
        Rule::import_decl => "`import <package>`",
        Rule::case_input => "a test input (`compose \"\"\"…\"\"\"`, `file \"…\"`, `files { … }`)",
        Rule::string | Rule::plain_string | Rule::triple_string => "a string",
        Rule::cel => "an expression",
        _ => return None,
    })
}

fn span_of(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

fn ident(p: Pair<'_, Rule>) -> Ident {
    Ident {
        name: p.as_str().to_string(),
        span: span_of(&p),
    }
}

fn build_file(p: Pair<'_, Rule>) -> Result<File, SyntaxError> {
    let mut docs = Vec::new();
    let mut package = None;
    let mut imports = Vec::new();
    let mut items = Vec::new();
    for inner in p.into_inner() {
        match inner.as_rule() {
            Rule::doc => docs.push(doc_text(inner.as_str())),
            Rule::import_decl => imports.extend(inner.into_inner().next().map(ident)),
            Rule::package => {
                let name = inner.into_inner().next().map(ident);
                package = name;
            }
            Rule::item => items.push(build_item(inner)?),
            _ => {}
        }
    }
    let package = package.ok_or_else(|| internal(0))?;
    Ok(File {
        docs,
        package,
        imports,
        items,
    })
}

fn doc_text(s: &str) -> String {
    let t = s.strip_prefix("///").unwrap_or(s);
    t.strip_prefix(' ').unwrap_or(t).trim_end().to_string()
}

fn build_item(p: Pair<'_, Rule>) -> Result<Item, SyntaxError> {
    let item_span = span_of(&p);
    let mut docs = Vec::new();
    for inner in p.into_inner() {
        match inner.as_rule() {
            Rule::doc => docs.push(doc_text(inner.as_str())),
            Rule::const_decl => {
                let span = span_of(&inner);
                let mut it = inner.into_inner();
                let name = it.next().map(ident).ok_or_else(|| internal(span.start))?;
                let value = it.next().map(cel).ok_or_else(|| internal(span.start))?;
                return Ok(Item::Const(Const {
                    docs,
                    name,
                    value,
                    span,
                }));
            }
            Rule::param_decl => {
                let span = span_of(&inner);
                let mut it = inner.into_inner();
                let name = it.next().map(ident).ok_or_else(|| internal(span.start))?;
                let ty = it.next().map(ident).ok_or_else(|| internal(span.start))?;
                let default = it.next().map(cel).ok_or_else(|| internal(span.start))?;
                return Ok(Item::Param(Param {
                    docs,
                    name,
                    ty,
                    default,
                    span,
                }));
            }
            Rule::def_decl => {
                let span = span_of(&inner);
                let mut name = None;
                let mut params = Vec::new();
                let mut has_parens = false;
                let mut body = None;
                for x in inner.into_inner() {
                    match x.as_rule() {
                        Rule::ident => name = Some(ident(x)),
                        Rule::def_params => {
                            has_parens = true;
                            params = x.into_inner().map(ident).collect();
                        }
                        Rule::cel => body = Some(cel(x)),
                        _ => {}
                    }
                }
                return Ok(Item::Def(Def {
                    docs,
                    name: name.ok_or_else(|| internal(span.start))?,
                    params,
                    has_parens,
                    body: body.ok_or_else(|| internal(span.start))?,
                    span,
                }));
            }
            Rule::policy => return build_policy(inner, docs).map(Item::Policy),
            Rule::test_block => return build_test(inner).map(Item::Test),
            _ => {}
        }
    }
    Err(internal(item_span.start))
}

/// CEL text with trailing blanks trimmed from both the text and the span.
fn cel(p: Pair<'_, Rule>) -> Cel {
    let span = span_of(&p);
    let text = p.as_str().trim_end();
    Cel {
        text: text.to_string(),
        span: Span::new(span.start, span.start + text.len()),
    }
}

fn build_policy(p: Pair<'_, Rule>, docs: Vec<String>) -> Result<Policy, SyntaxError> {
    let span = span_of(&p);
    let mut name = None;
    let mut meta = Vec::new();
    let mut clauses = Vec::new();
    for inner in p.into_inner() {
        match inner.as_rule() {
            Rule::policy_name => name = Some(ident(inner)),
            Rule::meta => {
                for m in inner.into_inner() {
                    meta.push(build_meta(m)?);
                }
            }
            Rule::for_clause => {
                let mut it = inner.into_inner();
                let var = it.next().map(ident).ok_or_else(|| internal(span.start))?;
                let path = it.next().map(path).ok_or_else(|| internal(span.start))?;
                clauses.push(Clause::For { var, path });
            }
            Rule::where_clause => {
                let c = inner
                    .into_inner()
                    .next()
                    .map(cel)
                    .ok_or_else(|| internal(span.start))?;
                clauses.push(Clause::Where(c));
            }
            Rule::deny_clause => {
                let dspan = span_of(&inner);
                let mut node = None;
                let mut when = None;
                let mut message = None;
                for x in inner.into_inner() {
                    match x.as_rule() {
                        Rule::path => node = Some(path(x)),
                        Rule::cel => when = Some(cel(x)),
                        Rule::string => message = Some(string(x)?),
                        _ => {}
                    }
                }
                clauses.push(Clause::Deny {
                    node: node.ok_or_else(|| internal(dspan.start))?,
                    when,
                    message,
                    span: dspan,
                });
            }
            _ => {}
        }
    }
    Ok(Policy {
        docs,
        name: name.ok_or_else(|| internal(span.start))?,
        meta,
        clauses,
        span,
    })
}

fn path(p: Pair<'_, Rule>) -> Path {
    Path {
        segments: p.as_str().split('.').map(str::to_string).collect(),
        span: span_of(&p),
    }
}

fn build_meta(p: Pair<'_, Rule>) -> Result<Meta, SyntaxError> {
    let span = span_of(&p);
    let rule = p.as_rule();
    let first = p.into_inner().next().ok_or_else(|| internal(span.start))?;
    Ok(match rule {
        Rule::meta_title => Meta::Title(string(first)?),
        Rule::meta_severity => Meta::Severity(ident(first)),
        Rule::meta_sources => Meta::Sources(string_list(first)?, span),
        Rule::meta_rationale => Meta::Rationale(string(first)?),
        Rule::meta_remediation => Meta::Remediation(string(first)?),
        Rule::meta_tags => Meta::Tags(string_list(first)?, span),
        Rule::meta_profile => Meta::Profile(ident(first)),
        _ => return Err(internal(span.start)),
    })
}

fn string_list(p: Pair<'_, Rule>) -> Result<Vec<Str>, SyntaxError> {
    p.into_inner().map(string).collect()
}

fn build_test(p: Pair<'_, Rule>) -> Result<TestBlock, SyntaxError> {
    let span = span_of(&p);
    let mut name = None;
    let mut cases = Vec::new();
    for inner in p.into_inner() {
        match inner.as_rule() {
            Rule::policy_name => name = Some(ident(inner)),
            Rule::case => cases.push(build_case(inner)?),
            _ => {}
        }
    }
    Ok(TestBlock {
        name: name.ok_or_else(|| internal(span.start))?,
        cases,
        span,
    })
}

fn build_case(p: Pair<'_, Rule>) -> Result<Case, SyntaxError> {
    let span = span_of(&p);
    let mut expect = Expect::Deny;
    let mut name = None;
    let mut line = None;
    let mut params = Vec::new();
    let mut input = None;
    for x in p.into_inner() {
        match x.as_rule() {
            Rule::expect => {
                expect = if x.as_str() == "allow" {
                    Expect::Allow
                } else {
                    Expect::Deny
                }
            }
            Rule::string => name = Some(string(x)?),
            Rule::case_line => {
                let n = x.into_inner().next().map(|i| i.as_str().parse::<u32>());
                match n {
                    Some(Ok(n)) => line = Some(n),
                    _ => {
                        return Err(SyntaxError {
                            span,
                            expected: vec![],
                            reason: Some("line number too large".into()),
                        })
                    }
                }
            }
            Rule::case_params => {
                for set in x.into_inner() {
                    let mut it = set.into_inner();
                    let (Some(name), Some(value)) = (it.next(), it.next()) else {
                        return Err(internal(span.start));
                    };
                    params.push(ParamSet {
                        name: path(name),
                        value: cel(value),
                    });
                }
            }
            Rule::case_input => {
                let Some(inner) = x.into_inner().next() else {
                    return Err(internal(span.start));
                };
                input = Some(match inner.as_rule() {
                    Rule::case_inline => {
                        let mut it = inner.into_inner();
                        let format = it.next().map(ident).ok_or_else(|| internal(span.start))?;
                        let text = it
                            .next()
                            .map(string)
                            .ok_or_else(|| internal(span.start))??;
                        CaseInput::Inline { format, text }
                    }
                    Rule::case_file => {
                        let s = inner
                            .into_inner()
                            .next()
                            .map(string)
                            .ok_or_else(|| internal(span.start))??;
                        CaseInput::File(s)
                    }
                    Rule::case_files => {
                        let strings: Vec<Str> =
                            inner.into_inner().map(string).collect::<Result<_, _>>()?;
                        let mut files = Vec::new();
                        let mut it = strings.into_iter();
                        while let (Some(a), Some(b)) = (it.next(), it.next()) {
                            files.push((a, b));
                        }
                        CaseInput::Files(files)
                    }
                    _ => return Err(internal(span.start)),
                });
            }
            _ => {}
        }
    }
    Ok(Case {
        expect,
        name: name.ok_or_else(|| internal(span.start))?,
        line,
        params,
        input: input.ok_or_else(|| internal(span.start))?,
        span,
    })
}

fn string(p: Pair<'_, Rule>) -> Result<Str, SyntaxError> {
    let span = span_of(&p);
    let inner = p.into_inner().next().ok_or_else(|| internal(span.start))?;
    let raw = inner.as_str();
    match inner.as_rule() {
        Rule::triple_string => {
            let body = raw.get(3..raw.len().saturating_sub(3)).unwrap_or("");
            let (value, line_starts) = dedent(body, span.start + 3);
            Ok(Str {
                value,
                span,
                triple: true,
                line_starts,
            })
        }
        _ => {
            let body = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
            let value = unescape(body).map_err(|offset| SyntaxError {
                span: Span::new(span.start + 1 + offset, span.start + 3 + offset),
                expected: vec![],
                reason: Some("unknown escape; use `\\\\`, `\\\"`, `\\n` or `\\t`".into()),
            })?;
            Ok(Str {
                value,
                span,
                triple: false,
                line_starts: vec![span.start + 1],
            })
        }
    }
}

/// Resolves `\\`, `\"`, `\n`, `\t`; the error is the byte offset of the bad escape.
pub fn unescape(s: &str) -> Result<String, usize> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '\\')) => out.push('\\'),
            Some((_, '"')) => out.push('"'),
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            _ => return Err(i),
        }
    }
    Ok(out)
}

/// Dedents a triple-quoted body: drops a first line that is empty and a last
/// line that is only blanks, removes the common indentation of non-blank lines.
/// Returns the text and the file offset where each kept line's text begins.
pub fn dedent(body: &str, body_start: usize) -> (String, Vec<usize>) {
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut offset = body_start;
    for l in body.split('\n') {
        lines.push((offset, l.strip_suffix('\r').unwrap_or(l)));
        offset += l.len() + 1;
    }
    if lines.first().is_some_and(|(_, l)| l.trim().is_empty()) && lines.len() > 1 {
        lines.remove(0);
    }
    if lines.last().is_some_and(|(_, l)| l.trim().is_empty()) && !lines.is_empty() {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(_, l)| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    let mut text = String::new();
    let mut starts = Vec::new();
    for (i, (off, l)) in lines.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let cut = indent.min(l.len() - l.trim_start_matches([' ', '\t']).len());
        starts.push(off + cut);
        text.push_str(l.get(cut..).unwrap_or(""));
    }
    (text, starts)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
/// Network exposure.
package compose

/// Datastores.
const datastore_images = ["postgres", "redis"]

param allowed_caps: list<string> = ["NET_BIND_SERVICE"] // overridable
def is_ds(s) = s.image.name in datastore_images

/// Datastores bind loopback.
policy datastore-loopback-only {
  title "Datastore ports are published on loopback only"
  severity high
  sources ["000 § Docker Compose"]
  rationale """
    A port published without a host address listens everywhere.
    """
  remediation """
    ports:
      - "127.0.0.1:6380:6379"
    """
  for service in compose.services
  where has(service.image) && is_ds(service)
  for port in service.ports
  deny port when !is_loopback(port.host_ip)
    && port.host_ip != "localhost"
    message "`{service.name}` publishes {port.target}"
}

test datastore-loopback-only {
  deny "redis everywhere" at line 3 compose """
    services:
      redis: { image: "redis:7", ports: ["6380:6379"] }
    """
  allow "loopback" files {
    "docker-compose.yml" """
      services: {}
      """
  }
}
"#;

    #[test]
    fn parses_the_sample() {
        let f = parse(SAMPLE).unwrap();
        assert_eq!(f.package.name, "compose");
        assert_eq!(f.items.len(), 5);
        let Item::Policy(p) = &f.items[3] else {
            panic!()
        };
        assert_eq!(p.name.name, "datastore-loopback-only");
        assert_eq!(p.clauses.len(), 4);
        let Clause::Deny { when, message, .. } = &p.clauses[3] else {
            panic!()
        };
        let when = when.as_ref().unwrap();
        assert_eq!(
            when.text,
            "!is_loopback(port.host_ip)\n    && port.host_ip != \"localhost\""
        );
        assert_eq!(&SAMPLE[when.span.start..when.span.end], when.text);
        assert_eq!(
            message.as_ref().unwrap().value,
            "`{service.name}` publishes {port.target}"
        );
        let Item::Param(par) = &f.items[1] else {
            panic!()
        };
        assert_eq!(par.default.text, "[\"NET_BIND_SERVICE\"]");
        let Item::Test(t) = &f.items[4] else { panic!() };
        assert_eq!(t.cases[0].line, Some(3));
        let CaseInput::Inline { text, .. } = &t.cases[0].input else {
            panic!()
        };
        assert_eq!(
            text.value,
            "services:\n  redis: { image: \"redis:7\", ports: [\"6380:6379\"] }"
        );
    }

    #[test]
    fn errors_are_located() {
        let e = parse("package x\npolicy p {\n  severity\n}\n").unwrap_err();
        assert!(e.span.start > 10, "{e:?}");
        let e = parse("policy p {}").unwrap_err();
        assert_eq!(e.span.start, 0);
        assert!(e.expected.iter().any(|x| x.contains("package")), "{e:?}");
    }

    #[test]
    fn deep_nesting_is_a_located_error_before_pest() {
        let n = 100_000;
        let src = format!(
            "package p\npolicy a {{\n deny x when {}true{}\n}}\n",
            "(".repeat(n),
            ")".repeat(n)
        );
        let e = parse(&src).unwrap_err();
        assert_eq!(e.reason.as_deref(), Some("brackets nested deeper than 256"));
        // `policy a {` is the first level.
        let first = src.find('(').unwrap();
        assert_eq!(e.span.start, first + MAX_NESTING - 1);
        // Unbalanced, and in a `[` / `{` mix.
        let src = format!("package p\nconst c = {}", "[{".repeat(200));
        assert!(parse(&src).unwrap_err().reason.unwrap().contains("nested"));
        // Brackets in strings and comments do not count.
        let src = format!(
            "package p\n// {}\nconst c = \"{}\"\n",
            "(".repeat(1000),
            "[".repeat(1000)
        );
        assert!(parse(&src).is_ok());
        let src = format!(
            "package p\npolicy a {{\n deny x when {}true{}\n}}\n",
            "(".repeat(200),
            ")".repeat(200)
        );
        assert!(parse(&src).is_ok());
    }

    #[test]
    fn oversized_file_is_an_error() {
        let src = format!("package p\n{}", " ".repeat(MAX_POLICY_BYTES));
        let e = parse(&src).unwrap_err();
        assert!(e.reason.unwrap().contains("larger than"));
    }

    #[test]
    fn dedent_keeps_relative_indentation() {
        let (t, starts) = dedent("\n    a:\n      - b\n    ", 10);
        assert_eq!(t, "a:\n  - b");
        assert_eq!(starts, vec![15, 22]);
    }

    #[test]
    fn cel_stops_before_closing_brace_and_message() {
        let f = parse("package p\npolicy a { deny x when x.y > 1 message \"m\" }\n").unwrap();
        let Item::Policy(p) = &f.items[0] else {
            panic!()
        };
        let Clause::Deny { when, .. } = &p.clauses[0] else {
            panic!()
        };
        assert_eq!(when.as_ref().unwrap().text, "x.y > 1");
        let f = parse("package p\npolicy a {\n deny x when x.y > 1 }\n").unwrap();
        let Item::Policy(p) = &f.items[0] else {
            panic!()
        };
        let Clause::Deny { when, .. } = &p.clauses[0] else {
            panic!()
        };
        assert_eq!(when.as_ref().unwrap().text, "x.y > 1");
    }
}
