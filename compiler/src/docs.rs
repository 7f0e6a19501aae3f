//! Policy documentation generated from the policies themselves: a catalog
//! (an index by format, severity and source document, and one page per
//! policy) as Markdown or self-contained HTML, for `rampart docs`, and the
//! same page in the terminal for `rampart explain`.
//!
//! Pages are built once as a small document model ([`Block`]s) and written
//! out by one emitter per output format, so Markdown and HTML never say
//! different things.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rampart_lang::ast::{CaseInput, Expect};

use crate::policy::compile::{Compiled, CompiledPolicy, Severity};

/// An output format of the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocFormat {
    /// GitHub-flavoured Markdown (`.md` pages).
    Markdown,
    /// Self-contained HTML (`.html` pages; no external assets).
    Html,
}

impl DocFormat {
    /// The file extension of a page.
    pub fn extension(self) -> &'static str {
        match self {
            DocFormat::Markdown => "md",
            DocFormat::Html => "html",
        }
    }
}

/// One generated file: its path relative to the output folder, and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// `index.md`, `compose.no-privileged.md`…
    pub path: String,
    /// The page.
    pub text: String,
}

/// A piece of a page (also used by the audit report renderers).
#[derive(Clone, Debug)]
pub(crate) enum Block {
    /// A heading of level 1–3.
    Heading(u8, Vec<Inline>),
    /// A paragraph.
    Para(Vec<Inline>),
    /// A bulleted list.
    List(Vec<Vec<Inline>>),
    /// A table: header and rows.
    Table(Vec<String>, Vec<Vec<Vec<Inline>>>),
    /// Preformatted text with a language for highlighting.
    Code(String, String),
    /// Markup for HTML pages only (an inline SVG chart); Markdown omits it.
    Raw(String),
}

/// Inline text.
#[derive(Clone, Debug)]
pub(crate) enum Inline {
    /// Plain text.
    Text(String),
    /// Code (`backticks`).
    Code(String),
    /// A link to another page of the catalog (its id and its text).
    Link(String, String),
}

pub(crate) fn text(s: impl Into<String>) -> Inline {
    Inline::Text(s.into())
}

pub(crate) fn code(s: impl Into<String>) -> Inline {
    Inline::Code(s.into())
}

/// A source citation split into the seed document and its section, when it
/// cites one (`000_ecf7841f01b2b484.txt § Docker Compose`).
pub(crate) fn seed_citation(source: &str) -> Option<(&str, Option<&str>)> {
    let (file, section) = match source.split_once(" § ") {
        Some((f, s)) => (f.trim(), Some(s.trim())),
        None => (source.trim(), None),
    };
    let is_seed = file.ends_with(".txt")
        && file.len() > 4
        && file.bytes().take(3).all(|b| b.is_ascii_digit());
    is_seed.then_some((file, section))
}

/// The parameters a policy reads: its package's params that one of its
/// compiled expressions (defs inlined) refers to, with type and default.
fn params_of(compiled: &Compiled, p: &CompiledPolicy) -> Vec<(String, String, String)> {
    let pkg = p.id.split('.').next().unwrap_or("");
    let mut exprs = Vec::new();
    for step in &p.rule.steps {
        if let rampart_runtime::engine::Step::Where(e) = step {
            exprs.push(e);
        }
    }
    for d in &p.rule.denies {
        if let Some(w) = &d.when {
            exprs.push(w);
        }
        for part in &d.message {
            if let rampart_runtime::engine::MessagePart::Expr(e) = part {
                exprs.push(e);
            }
        }
    }
    compiled
        .params
        .iter()
        .filter_map(|(full, (ty, value))| {
            let (ppkg, name) = full.split_once('.')?;
            let used = ppkg == pkg
                && exprs
                    .iter()
                    .any(|e| e.program.references().has_variable(name));
            used.then(|| (full.clone(), ty.to_string(), cel_literal(value)))
        })
        .collect()
}

/// A CEL value as written in a policy.
fn cel_literal(v: &cel::Value) -> String {
    match v {
        cel::Value::List(items) => format!(
            "[{}]",
            items.iter().map(cel_literal).collect::<Vec<_>>().join(", ")
        ),
        cel::Value::String(s) => format!("{:?}", s.as_str()),
        cel::Value::Int(i) => i.to_string(),
        cel::Value::UInt(i) => i.to_string(),
        cel::Value::Bool(b) => b.to_string(),
        cel::Value::Float(f) => f.to_string(),
        cel::Value::Null => "null".into(),
        cel::Value::Map(m) => {
            let mut parts: Vec<String> = m
                .map
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        cel::objects::Key::String(s) => format!("{:?}", s.as_str()),
                        other => format!("{other:?}"),
                    };
                    format!("{key}: {}", cel_literal(v))
                })
                .collect();
            parts.sort();
            format!("{{{}}}", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

/// The language of a code block for a format or target name, from the
/// format registry (a target such as `http` has none: plain text).
fn lang_of(name: &str) -> &'static str {
    rampart_runtime::formats::registry::InputKind::named(name)
        .map_or("text", |k| k.format().code_language())
}

/// The blocks of one policy's page.
fn policy_blocks(compiled: &Compiled, p: &CompiledPolicy) -> Vec<Block> {
    let mut out = vec![
        Block::Heading(1, vec![code(&p.id), text(format!(" — {}", p.title))]),
        Block::Table(
            vec!["severity".into(), "profile".into(), "input".into()],
            vec![vec![
                vec![text(p.severity.as_str())],
                vec![text(p.profile.as_str())],
                vec![code(&p.target)],
            ]],
        ),
    ];
    for d in p.docs.iter().filter(|d| !d.trim().is_empty()) {
        out.push(Block::Para(vec![text(d.trim())]));
    }
    out.push(Block::Heading(2, vec![text("Why")]));
    for para in p.rationale.split("\n\n").filter(|s| !s.trim().is_empty()) {
        out.push(Block::Para(vec![text(
            para.split_whitespace().collect::<Vec<_>>().join(" "),
        )]));
    }
    if !p.remediation.trim().is_empty() {
        out.push(Block::Heading(2, vec![text("Remediation")]));
        out.push(Block::Code(
            lang_of(&p.target).into(),
            p.remediation.trim_end().to_string(),
        ));
    }
    if !p.sources.is_empty() {
        out.push(Block::Heading(2, vec![text("Sources")]));
        out.push(Block::List(
            p.sources
                .iter()
                .map(|s| match seed_citation(s) {
                    Some((file, Some(section))) => vec![
                        text("seed document "),
                        code(file),
                        text(format!(", § {section}")),
                    ],
                    Some((file, None)) => {
                        vec![
                            text("seed document "),
                            code(file),
                            text(" (whole document)"),
                        ]
                    }
                    None => vec![text(s.as_str())],
                })
                .collect(),
        ));
    }
    let params = params_of(compiled, p);
    if !params.is_empty() {
        out.push(Block::Heading(2, vec![text("Parameters")]));
        out.push(Block::Para(vec![
            text("Set in "),
            code("rampart.yaml"),
            text(" under "),
            code("params:"),
            text("."),
        ]));
        out.push(Block::Table(
            vec!["param".into(), "type".into(), "default".into()],
            params
                .into_iter()
                .map(|(n, t, d)| vec![vec![code(n)], vec![code(t)], vec![code(d)]])
                .collect(),
        ));
    }
    let cases: Vec<_> = compiled
        .tests
        .iter()
        .filter(|t| t.policy == p.id)
        .flat_map(|t| &t.cases)
        .collect();
    if !cases.is_empty() {
        out.push(Block::Heading(2, vec![text("Examples")]));
        out.push(Block::Para(vec![text(
            "From the policy's own test cases, run by `rampart test`.",
        )]));
        for (label, want) in [("Flagged", Expect::Deny), ("Accepted", Expect::Allow)] {
            for c in cases.iter().filter(|c| c.expect == want) {
                let at = c
                    .line
                    .map(|l| format!(" (at line {l})"))
                    .unwrap_or_default();
                out.push(Block::Heading(
                    3,
                    vec![text(format!("{label}: {}{at}", c.name.value))],
                ));
                if !c.params.is_empty() {
                    let sets: Vec<String> = c
                        .params
                        .iter()
                        .map(|p| format!("{} = {}", p.name, p.value.text))
                        .collect();
                    out.push(Block::Para(vec![
                        text("with params "),
                        code(sets.join(", ")),
                    ]));
                }
                match &c.input {
                    CaseInput::Inline { format, text: t } => {
                        out.push(Block::Code(lang_of(&format.name).into(), t.value.clone()));
                    }
                    CaseInput::File(path) => {
                        out.push(Block::Para(vec![text("the fixture "), code(&path.value)]));
                    }
                    CaseInput::Files(files) => {
                        for (name, body) in files {
                            out.push(Block::Para(vec![code(&name.value), text(":")]));
                            out.push(Block::Code("text".into(), body.value.clone()));
                        }
                    }
                }
            }
        }
    }
    out
}

/// The blocks of the index page.
fn index_blocks(compiled: &Compiled, title: &str) -> Vec<Block> {
    let policies = &compiled.policies;
    let mut out = vec![
        Block::Heading(1, vec![text(title)]),
        Block::Para(vec![text(format!(
            "{} policies. Generated by `rampart docs` from the policies themselves; do not edit.",
            policies.len()
        ))]),
        Block::Heading(2, vec![text("By severity")]),
    ];
    out.push(Block::Table(
        vec!["severity".into(), "policies".into()],
        Severity::ALL
            .iter()
            .rev()
            .map(|s| {
                let n = policies.iter().filter(|p| p.severity == *s).count();
                vec![vec![text(s.as_str())], vec![text(n.to_string())]]
            })
            .collect(),
    ));
    let mut by_target: BTreeMap<&str, Vec<&CompiledPolicy>> = BTreeMap::new();
    for p in policies {
        by_target.entry(p.target.as_str()).or_default().push(p);
    }
    out.push(Block::Heading(2, vec![text("By input")]));
    for (target, list) in by_target {
        out.push(Block::Heading(3, vec![code(target)]));
        out.push(Block::Table(
            vec![
                "policy".into(),
                "title".into(),
                "severity".into(),
                "profile".into(),
            ],
            list.iter()
                .map(|p| {
                    vec![
                        vec![Inline::Link(p.id.clone(), p.id.clone())],
                        vec![text(&p.title)],
                        vec![text(p.severity.as_str())],
                        vec![text(p.profile.as_str())],
                    ]
                })
                .collect(),
        ));
    }
    let mut by_seed: BTreeMap<&str, Vec<(&CompiledPolicy, Option<&str>)>> = BTreeMap::new();
    for p in policies {
        for s in &p.sources {
            if let Some((file, section)) = seed_citation(s) {
                by_seed.entry(file).or_default().push((p, section));
            }
        }
    }
    if !by_seed.is_empty() {
        out.push(Block::Heading(2, vec![text("By source document")]));
        for (file, list) in by_seed {
            out.push(Block::Heading(3, vec![code(file)]));
            out.push(Block::List(
                list.iter()
                    .map(|(p, section)| {
                        let mut line = vec![Inline::Link(p.id.clone(), p.id.clone())];
                        if let Some(s) = section {
                            line.push(text(format!(" — § {s}")));
                        }
                        line
                    })
                    .collect(),
            ));
        }
    }
    out
}

/// The catalog of `compiled`'s policies: `index` plus one page per policy.
pub fn catalog(compiled: &Compiled, format: DocFormat, title: &str) -> Vec<Page> {
    let ext = format.extension();
    let mut pages = vec![Page {
        path: format!("index.{ext}"),
        text: emit(&index_blocks(compiled, title), format, title),
    }];
    for p in &compiled.policies {
        pages.push(Page {
            path: format!("{}.{ext}", p.id),
            text: emit(&policy_blocks(compiled, p), format, &p.id),
        });
    }
    pages
}

/// One policy's page as Markdown (what `rampart explain` prints).
pub fn policy_markdown(compiled: &Compiled, p: &CompiledPolicy) -> String {
    emit(&policy_blocks(compiled, p), DocFormat::Markdown, &p.id)
}

pub(crate) fn emit(blocks: &[Block], format: DocFormat, title: &str) -> String {
    match format {
        DocFormat::Markdown => markdown(blocks),
        DocFormat::Html => html(blocks, title),
    }
}

fn md_inline(parts: &[Inline], in_table: bool) -> String {
    let mut s = String::new();
    for p in parts {
        match p {
            Inline::Text(t) => {
                let t = if in_table {
                    t.replace('|', "\\|")
                } else {
                    t.clone()
                };
                s.push_str(&t.replace('\n', " "));
            }
            Inline::Code(c) => {
                let c = if in_table {
                    c.replace('|', "\\|")
                } else {
                    c.clone()
                };
                let fence = if c.contains('`') { "`` " } else { "`" };
                let close = if c.contains('`') { " ``" } else { "`" };
                let _ = write!(s, "{fence}{}{close}", c.replace('\n', " "));
            }
            Inline::Link(id, label) => {
                let _ = write!(s, "[`{label}`]({id}.md)");
            }
        }
    }
    s
}

fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for b in blocks {
        match b {
            Block::Heading(level, parts) => {
                let _ = writeln!(
                    out,
                    "{} {}\n",
                    "#".repeat(usize::from(*level)),
                    md_inline(parts, false)
                );
            }
            Block::Para(parts) => {
                let _ = writeln!(out, "{}\n", md_inline(parts, false));
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(out, "- {}", md_inline(i, false));
                }
                out.push('\n');
            }
            Block::Table(head, rows) => {
                let _ = writeln!(out, "| {} |", head.join(" | "));
                let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
                for r in rows {
                    let cells: Vec<String> = r.iter().map(|c| md_inline(c, true)).collect();
                    let _ = writeln!(out, "| {} |", cells.join(" | "));
                }
                out.push('\n');
            }
            Block::Raw(_) => {}
            Block::Code(lang, body) => {
                let fence = if body.contains("```") { "~~~~" } else { "```" };
                let _ = writeln!(
                    out,
                    "{fence}{lang}\n{}\n{fence}\n",
                    body.trim_end_matches('\n')
                );
            }
        }
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// `s` with `&`, `<`, `>` and `"` escaped for HTML text and attributes.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

fn html_inline(parts: &[Inline]) -> String {
    let mut s = String::new();
    for p in parts {
        match p {
            Inline::Text(t) => s.push_str(&html_escape(t)),
            Inline::Code(c) => {
                let _ = write!(s, "<code>{}</code>", html_escape(c));
            }
            Inline::Link(id, label) => {
                let _ = write!(
                    s,
                    "<a href=\"{}.html\"><code>{}</code></a>",
                    html_escape(id),
                    html_escape(label)
                );
            }
        }
    }
    s
}

/// The style sheet of generated pages (inline: pages work offline).
pub const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}\
code,pre{font-family:ui-monospace,monospace;font-size:90%}\
pre{background:#f4f5f7;padding:.7rem;overflow-x:auto;border-radius:4px}\
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d0d4da;padding:.25rem .6rem;text-align:left;vertical-align:top}\
th{background:#f4f5f7}h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:1.6rem}h3{font-size:1.05rem}\
@media print{body{margin:0;max-width:none}pre{white-space:pre-wrap}a{color:inherit}}";

fn html(blocks: &[Block], title: &str) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        html_escape(title)
    );
    for b in blocks {
        match b {
            Block::Heading(level, parts) => {
                let _ = writeln!(out, "<h{level}>{}</h{level}>", html_inline(parts));
            }
            Block::Para(parts) => {
                let _ = writeln!(out, "<p>{}</p>", html_inline(parts));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(out, "<li>{}</li>", html_inline(i));
                }
                out.push_str("</ul>\n");
            }
            Block::Table(head, rows) => {
                out.push_str("<table>\n<tr>");
                for h in head {
                    let _ = write!(out, "<th>{}</th>", html_escape(h));
                }
                out.push_str("</tr>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for c in r {
                        let _ = write!(out, "<td>{}</td>", html_inline(c));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</table>\n");
            }
            Block::Raw(markup) => {
                out.push_str(markup);
                out.push('\n');
            }
            Block::Code(lang, body) => {
                let _ = writeln!(
                    out,
                    "<pre><code class=\"language-{}\">{}</code></pre>",
                    html_escape(lang),
                    html_escape(body.trim_end_matches('\n'))
                );
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_citations_are_recognised() {
        assert_eq!(
            seed_citation("000_ecf7841f01b2b484.txt § Docker Compose"),
            Some(("000_ecf7841f01b2b484.txt", Some("Docker Compose")))
        );
        assert_eq!(
            seed_citation("004_cb2aa4753933bd7e.txt"),
            Some(("004_cb2aa4753933bd7e.txt", None))
        );
        assert_eq!(seed_citation("CIS Docker Benchmark 5.4"), None);
        assert_eq!(seed_citation("KICS: Privileged Containers Enabled"), None);
    }

    #[test]
    fn html_escapes_everything_it_prints() {
        let b = vec![
            Block::Heading(1, vec![text("<script>")]),
            Block::Code("yaml".into(), "a: \"<b>\" & c".into()),
        ];
        let h = html(&b, "t<");
        assert!(!h.contains("<script>"));
        assert!(h.contains("&lt;script&gt;"));
        assert!(h.contains("&quot;&lt;b&gt;&quot; &amp; c"));
        assert!(h.contains("<title>t&lt;</title>"));
    }

    /// `docs/policies/` is the stdlib catalog as `rampart docs` writes it.
    #[test]
    fn stdlib_catalog_is_current() {
        let request = crate::session::PolicyRequest {
            policy: Vec::new(),
            no_stdlib: false,
        };
        let mut sink = Vec::new();
        let compiled =
            crate::session::compile_policies(&request, std::path::Path::new("."), &mut sink)
                .unwrap();
        let pages = catalog(&compiled, DocFormat::Markdown, "rampart standard library");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policies");
        if std::env::var_os("RAMPART_BLESS").is_some() {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for p in &pages {
                std::fs::write(dir.join(&p.path), &p.text).unwrap();
            }
        }
        let mut have: Vec<String> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        have.sort();
        let mut want: Vec<String> = pages.iter().map(|p| p.path.clone()).collect();
        want.sort();
        let hint = "run `RAMPART_BLESS=1 cargo test -p rampart stdlib_catalog_is_current`";
        assert_eq!(have, want, "docs/policies/ has other pages: {hint}");
        for p in &pages {
            let on_disk = std::fs::read_to_string(dir.join(&p.path)).unwrap_or_default();
            assert!(
                on_disk == p.text,
                "docs/policies/{} is stale: {hint}",
                p.path
            );
        }
        // Every policy cites a seed document or says it has none.
        for p in &compiled.policies {
            let page = pages
                .iter()
                .find(|x| x.path == format!("{}.md", p.id))
                .unwrap();
            assert!(page.text.contains("## Sources"), "{} has no sources", p.id);
        }
    }

    #[test]
    fn markdown_tables_escape_pipes() {
        let md = markdown(&[Block::Table(
            vec!["a".into()],
            vec![vec![vec![code("x|y")]]],
        )]);
        assert!(md.contains("`x\\|y`"), "{md}");
    }
}
