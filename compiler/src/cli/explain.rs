//! `rampart explain ID`: one policy's page of the catalog (`rampart docs`),
//! in the terminal; `--source`: the policy as written, with the defs,
//! constants and params it uses.

use std::io::Write;
use std::path::Path;

use super::{PolicyArgs, EXIT_ERROR, EXIT_OK};
use crate::session::compile_policies_deferred;

pub(super) fn run(
    id: &str,
    source: bool,
    p: &PolicyArgs,
    cwd: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let Some(mut compiled) = compile_policies_deferred(&p.request(), cwd, err) else {
        return EXIT_ERROR;
    };
    compiled.complete(|p| p.id == id);
    let Some(policy) = compiled.policies.iter().find(|x| x.id == id) else {
        let ids: Vec<&str> = compiled.policies.iter().map(|p| p.id.as_str()).collect();
        let _ = writeln!(err, "error: no policy `{id}`");
        if let Some(s) = crate::diagnostics::did_you_mean(id, ids) {
            let _ = writeln!(err, "help: did you mean `{s}`?");
        }
        return EXIT_ERROR;
    };
    if source {
        let text = compiled
            .sources
            .get(policy.source as usize)
            .map(|s| (s.path.as_str(), s.text.as_str()));
        let Some((path, text)) = text else {
            let _ = writeln!(err, "error: the source of `{id}` is not available");
            return EXIT_ERROR;
        };
        let others: Vec<&str> = compiled.sources.iter().map(|s| s.text.as_str()).collect();
        let _ = out.write_all(policy_source(path, text, policy.span, &others).as_bytes());
        return EXIT_OK;
    }
    let _ = writeln!(out, "{}", crate::docs::policy_markdown(&compiled, policy));
    EXIT_OK
}

/// A policy's source: a `// file:line` header, its package line, its doc
/// comments and text, then the items of its file and its imports that it
/// names (defs, constants, params; followed through defs using others).
fn policy_source(path: &str, text: &str, span: (usize, usize), all: &[&str]) -> String {
    let (line, _) = rampart_runtime::source::line_col_in(text, span.0);
    let body = text.get(span.0..span.1).unwrap_or("");
    let Ok(file) = rampart_lang::parse(text) else {
        return format!("// {path}:{line}\n{body}\n");
    };
    let mut out = format!("// {path}:{line}\npackage {}\n", file.package.name);
    for i in &file.imports {
        out.push_str(&format!("import {}\n", i.name));
    }
    // Doc comments written above the policy.
    let mut docs = Vec::new();
    for l in text.get(..span.0).unwrap_or("").lines().rev() {
        let t = l.trim();
        if t.starts_with("///") {
            docs.push(t.to_string());
        } else if !t.is_empty() {
            break;
        }
    }
    out.push('\n');
    for d in docs.iter().rev() {
        out.push_str(d);
        out.push('\n');
    }
    out.push_str(body);
    out.push('\n');
    // The file's named items (defs, constants, params) the policy uses.
    let mut items: Vec<(String, String)> = Vec::new();
    let visible: Vec<&str> = std::iter::once(file.package.name.as_str())
        .chain(file.imports.iter().map(|i| i.name.as_str()))
        .collect();
    for other in all {
        let Ok(f) = rampart_lang::parse(other) else {
            continue;
        };
        if !visible.contains(&f.package.name.as_str()) {
            continue;
        }
        for item in &f.items {
            let (name, s) = match item {
                rampart_lang::ast::Item::Def(d) => (&d.name.name, d.span),
                rampart_lang::ast::Item::Const(c) => (&c.name.name, c.span),
                rampart_lang::ast::Item::Param(p) => (&p.name.name, p.span),
                _ => continue,
            };
            let item = other.get(s.start..s.end).unwrap_or("").to_string();
            if !items.iter().any(|(n, i)| n == name && *i == item) {
                items.push((name.clone(), item));
            }
        }
    }
    let mut used: Vec<usize> = Vec::new();
    let mut scan = vec![body.to_string()];
    while let Some(t) = scan.pop() {
        let words = words(&t);
        for (i, (name, item)) in items.iter().enumerate() {
            if !used.contains(&i) && words.contains(name) {
                used.push(i);
                scan.push(item.clone());
            }
        }
    }
    used.sort_unstable();
    if !used.is_empty() {
        out.push_str("\n// Defs, constants and params it uses:\n");
        for i in used {
            if let Some((_, item)) = items.get(i) {
                out.push_str(item);
                out.push('\n');
            }
        }
    }
    out
}

/// The identifiers of a text.
fn words(text: &str) -> std::collections::HashSet<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}
