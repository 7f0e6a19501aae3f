//! `rampart schema`: the fields policies can read, per target, rendered from
//! [`Schema::standard`] — the same definitions the type checker uses.

use std::collections::HashSet;
use std::fmt::Write as _;

use rampart_runtime::functions::Signature;
use rampart_runtime::schema::{referenced_types, Schema};

/// A target that is not in the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTarget {
    /// As asked.
    pub name: String,
    /// The closest target name.
    pub suggestion: Option<String>,
    /// Every target name.
    pub targets: Vec<String>,
}

/// Renders the schema of `target` (every target when `None`): each object
/// type reachable from the target's root, once, in the order first reached;
/// each field with its type (`?` marks an optional field: guard it with
/// `has()`) and its one-line doc. Custom functions follow when all targets
/// are shown.
pub fn render(
    schema: &Schema,
    functions: &[Signature],
    target: Option<&str>,
) -> Result<String, UnknownTarget> {
    let targets: Vec<_> = match target {
        None => schema.targets().iter().collect(),
        Some(name) => match schema.target_named(name) {
            Some(t) => vec![t],
            None => {
                let names: Vec<String> = schema
                    .targets()
                    .iter()
                    .map(|t| t.name.to_string())
                    .collect();
                return Err(UnknownTarget {
                    name: name.to_string(),
                    suggestion: crate::diagnostics::did_you_mean(
                        name,
                        names.iter().map(String::as_str),
                    )
                    .map(str::to_string),
                    targets: names,
                });
            }
        },
    };
    let mut out = String::new();
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{} — {} (`for x in {}.…`)", t.name, t.doc, t.name);
        let mut seen: HashSet<String> = HashSet::from([t.root.to_string()]);
        let mut queue: Vec<String> = vec![t.root.to_string()];
        let mut next = 0;
        while let Some(name) = queue.get(next).cloned() {
            next += 1;
            let Some(ty) = schema.get(&name) else {
                continue;
            };
            let _ = writeln!(out, "\n  {} — {}", ty.name, ty.doc);
            let width = ty
                .fields
                .iter()
                .map(|f| f.name.len() + usize::from(f.optional))
                .max()
                .unwrap_or(0);
            let twidth = ty
                .fields
                .iter()
                .map(|f| f.ty.to_string().len())
                .max()
                .unwrap_or(0);
            for f in &ty.fields {
                let fname = format!("{}{}", f.name, if f.optional { "?" } else { "" });
                let _ = writeln!(
                    out,
                    "    {fname:<width$}  {:<twidth$}  {}",
                    f.ty.to_string(),
                    f.doc
                );
                let mut refs = Vec::new();
                referenced_types(&f.ty, &mut refs);
                for r in refs {
                    if seen.insert(r.clone()) {
                        queue.push(r);
                    }
                }
            }
        }
    }
    if target.is_none() && !functions.is_empty() {
        let _ = writeln!(out, "\nfunctions (besides CEL's standard library)\n");
        for f in functions {
            let params: Vec<String> = f.params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            let _ = writeln!(
                out,
                "  {}({}) -> {}\n      {}",
                f.name,
                params.join(", "),
                f.result,
                f.doc
            );
        }
    }
    out.push_str("\n`?` marks an optional field: read it after a `has()` guard.\n");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_lists_its_types_once() {
        let s = Schema::standard();
        let text = render(&s, &[], Some("compose")).unwrap();
        assert!(text.starts_with("compose — "));
        assert!(text.contains("\n  Service — "));
        assert!(text.contains("    image?"));
        assert_eq!(text.matches("\n  Port — ").count(), 1);
        assert_eq!(text.matches("\n  Interpolation — ").count(), 1);
    }

    #[test]
    fn unknown_target_suggests() {
        let s = Schema::standard();
        let e = render(&s, &[], Some("compse")).unwrap_err();
        assert_eq!(e.suggestion.as_deref(), Some("compose"));
    }

    #[test]
    fn every_target_renders() {
        let s = Schema::standard();
        let text = render(&s, &rampart_runtime::functions::signatures(), None).unwrap();
        for t in s.targets() {
            assert!(text.contains(&format!("{} — ", t.name)), "{}", t.name);
        }
        assert!(text.contains("is_loopback(address: string) -> bool"));
    }
}
