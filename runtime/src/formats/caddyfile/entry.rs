//! Which Caddyfiles are checked on their own (roots), and which only
//! through the `import` of another one (fragments): the entry logic nginx
//! has for its includes, for Caddy.
//!
//! A file another Caddyfile of the tree imports (`import headers.Caddyfile`,
//! `import sites/*`) is a fragment: Caddy reads it in the importing context
//! (often a bare `header { … }` inside a site block), so checked alone it
//! would be read as a root and misjudged. It is checked through the file
//! that imports it. Files that only import each other (a cycle no root
//! reaches) are checked on their own, the first by path as the root.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::source::normalize;

/// `import` lines looked at per file.
const MAX_IMPORTS_PER_FILE: usize = 1_000;

/// The fragments among `candidates` (Caddyfiles of one walk): every file
/// some other root-reachable candidate imports. `read` gives a file's text.
pub fn fragments(
    candidates: &[PathBuf],
    read: &mut dyn FnMut(&Path) -> Option<String>,
) -> BTreeSet<PathBuf> {
    fragment_roots(candidates, read).into_keys().collect()
}

/// Each fragment among `candidates` with the roots that reach it through
/// their imports (where it is checked).
pub fn fragment_roots(
    candidates: &[PathBuf],
    read: &mut dyn FnMut(&Path) -> Option<String>,
) -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let cands: BTreeSet<PathBuf> = candidates.iter().map(|p| normalize(p)).collect();
    let mut imports: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for c in &cands {
        let Some(text) = read(c) else { continue };
        let dir = c.parent().unwrap_or(Path::new(""));
        let targets: BTreeSet<PathBuf> = import_args(&text)
            .into_iter()
            .flat_map(|arg| resolve(dir, &arg, &cands))
            .filter(|t| t != c)
            .collect();
        imports.insert(c.clone(), targets);
    }
    let imported: BTreeSet<&PathBuf> = imports.values().flatten().collect();
    // Roots: files nobody imports; then, for cycles, the first file no root reaches.
    let mut roots: Vec<PathBuf> = cands
        .iter()
        .filter(|c| !imported.contains(c))
        .cloned()
        .collect();
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    loop {
        let mut stack: Vec<PathBuf> = roots.clone();
        while let Some(p) = stack.pop() {
            if !reached.insert(p.clone()) {
                continue;
            }
            if let Some(ts) = imports.get(&p) {
                stack.extend(ts.iter().cloned());
            }
        }
        match cands.iter().find(|c| !reached.contains(*c)) {
            Some(c) => roots.push(c.clone()),
            None => break,
        }
    }
    let root_set: BTreeSet<PathBuf> = roots.iter().cloned().collect();
    let mut out: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    for r in &roots {
        let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
        let mut stack: Vec<PathBuf> = imports.get(r).into_iter().flatten().cloned().collect();
        while let Some(p) = stack.pop() {
            if root_set.contains(&p) || !seen.insert(p.clone()) {
                continue;
            }
            out.entry(p.clone()).or_default().insert(r.clone());
            if let Some(ts) = imports.get(&p) {
                stack.extend(ts.iter().cloned());
            }
        }
    }
    out
}

/// The arguments of the `import` directives of a Caddyfile (first word after
/// `import` at the start of a line; snippet names included, they match no file).
fn import_args(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("import")).then(|| words.next())?
        })
        .map(|w| w.trim_matches('"').to_string())
        .take(MAX_IMPORTS_PER_FILE)
        .collect()
}

/// The candidates an import argument names, relative to the importing
/// file's directory: one path, or a `*` glob in its last component.
fn resolve(dir: &Path, arg: &str, cands: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let path = normalize(&dir.join(arg));
    if !arg.contains('*') {
        return cands.contains(&path).then_some(path).into_iter().collect();
    }
    let (Some(parent), Some(pattern)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let pattern = pattern.to_string_lossy();
    cands
        .iter()
        .filter(|c| c.parent() == Some(parent))
        .filter(|c| {
            c.file_name()
                .is_some_and(|n| glob_match(&pattern, &n.to_string_lossy()))
        })
        .cloned()
        .collect()
}

/// `*` matches any run of characters; everything else itself.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    if parts.len() == 1 {
        return pattern == name;
    }
    if !name.starts_with(first) || name.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = name.get(first.len()..).unwrap_or("");
    for mid in parts.iter().skip(1).take(parts.len().saturating_sub(2)) {
        match rest.find(mid) {
            Some(i) => rest = rest.get(i + mid.len()..).unwrap_or(""),
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imported_files_are_fragments_cycles_keep_a_root() {
        let files: BTreeMap<PathBuf, &str> = [
            (
                "r/Caddyfile",
                "example.com {\n\timport headers.Caddyfile\n}\n",
            ),
            ("r/headers.Caddyfile", "header {\n\t-Server\n}\n"),
            ("r/sites/a.caddyfile", "a.example {\n}\n"),
            ("r/main.caddyfile", "import sites/*.caddyfile\n"),
            ("r/x.caddyfile", "import y.caddyfile\n"),
            ("r/y.caddyfile", "import x.caddyfile\n"),
        ]
        .into_iter()
        .map(|(p, t)| (PathBuf::from(p), t))
        .collect();
        let cands: Vec<PathBuf> = files.keys().cloned().collect();
        let got = fragments(&cands, &mut |p| files.get(p).map(|t| t.to_string()));
        let got: Vec<&str> = got.iter().filter_map(|p| p.to_str()).collect();
        assert_eq!(
            got,
            [
                "r/headers.Caddyfile",
                "r/sites/a.caddyfile",
                "r/y.caddyfile"
            ]
        );
        assert!(glob_match("*.caddy", "a.caddy") && !glob_match("a*b", "ab c"));
        let roots = fragment_roots(&cands, &mut |p| files.get(p).map(|t| t.to_string()));
        let of = |f: &str| -> Vec<String> {
            roots[&PathBuf::from(f)]
                .iter()
                .map(|p| p.display().to_string())
                .collect()
        };
        assert_eq!(of("r/headers.Caddyfile"), ["r/Caddyfile"]);
        assert_eq!(of("r/sites/a.caddyfile"), ["r/main.caddyfile"]);
    }
}
