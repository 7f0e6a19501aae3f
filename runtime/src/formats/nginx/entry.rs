//! Which nginx files are checked on their own (entries), and which only
//! through the `include` of another file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::include::{expand, normalize, SourceTree};
use super::parse::parse;
use crate::model::FileId;

/// Whether `path`'s name makes it an nginx candidate: `nginx.conf`, `*.conf`,
/// `*.conf.sample`, `*.conf.template`, or any file in a `sites-*` directory
/// (`sites-available/example`).
pub fn is_candidate_name(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else {
        return false;
    };
    if name == "nginx.conf"
        || name.ends_with(".conf")
        || name.ends_with(".conf.sample")
        || name.ends_with(".conf.template")
    {
        return true;
    }
    path.parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d.to_string_lossy().starts_with("sites-"))
}

/// Whether `src` is a whole nginx configuration or site file: its top level
/// has an `http`, `server` or `events` block.
pub fn is_entry(src: &str) -> bool {
    parse(FileId(0), src)
        .directives
        .iter()
        .any(|d| d.block.is_some() && (d.is("http") || d.is("server") || d.is("events")))
}

/// The entry files among `candidates`: files whose content [`is_entry`] and
/// that no other candidate reaches through `include` (transitively, resolved
/// as if that candidate were the entry). When two candidates reach each other
/// (a cycle), the first in path order stays an entry. `read` gives a file's
/// text. The result is sorted.
pub fn entry_files(
    candidates: &[PathBuf],
    tree: &SourceTree,
    read: &mut dyn FnMut(&Path) -> Option<String>,
) -> Vec<PathBuf> {
    let mut texts: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let mut text_of = |p: &Path, texts: &mut BTreeMap<PathBuf, Option<String>>| -> Option<String> {
        texts
            .entry(p.to_path_buf())
            .or_insert_with(|| read(p))
            .clone()
    };
    let cands: BTreeSet<PathBuf> = candidates.iter().map(|p| normalize(p)).collect();
    let mut reach: BTreeMap<PathBuf, BTreeSet<PathBuf>> = BTreeMap::new();
    let mut entries = Vec::new();
    for c in &cands {
        let Some(src) = text_of(c, &mut texts) else {
            continue;
        };
        if !is_entry(&src) {
            continue;
        }
        let mut ids: Vec<PathBuf> = Vec::new();
        let mut read_one = |p: &Path| {
            let text = text_of(p, &mut texts)?;
            ids.push(p.to_path_buf());
            Some((FileId(u32::try_from(ids.len()).unwrap_or(u32::MAX)), text))
        };
        let exp = expand(FileId(0), c, &src, tree, &mut read_one);
        let reached = exp.files.iter().skip(1).map(|(_, p)| p.clone()).collect();
        reach.insert(c.clone(), reached);
        entries.push(c.clone());
    }
    entries
        .iter()
        .filter(|c| {
            !reach.iter().any(|(other, set)| {
                other != *c
                    && set.contains(*c)
                    && !(reach.get(*c).is_some_and(|mine| mine.contains(other)) && *c < other)
            })
        })
        .cloned()
        .collect()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may unwrap and index"
)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "nginx.conf",
            "a/b.conf",
            "x.conf.sample",
            "sites-enabled/example",
            "s.conf.template",
        ] {
            assert!(is_candidate_name(Path::new(n)), "{n}");
        }
        for n in ["Dockerfile", "a.yaml", "conf", "mime.types"] {
            assert!(!is_candidate_name(Path::new(n)), "{n}");
        }
    }

    #[test]
    fn entry_content() {
        assert!(is_entry("events {} http { }"));
        assert!(is_entry("# c\nserver { listen 80; }"));
        assert!(!is_entry("location / { }\nadd_header X y;"));
        assert!(!is_entry("server 127.0.0.1;"));
    }

    #[test]
    fn included_files_are_not_entries() {
        let files: BTreeMap<PathBuf, &str> = [
            ("/r/nginx.conf", "http { include conf.d/*.conf; }"),
            ("/r/conf.d/a.conf", "server { listen 80; }"),
            (
                "/r/sites/b.conf",
                "server { listen 81; include ../snip.conf; }",
            ),
            ("/r/snip.conf", "add_header X y;"),
            ("/r/loop1.conf", "server { include loop2.conf; }"),
            ("/r/loop2.conf", "server { include loop1.conf; }"),
        ]
        .into_iter()
        .map(|(p, t)| (PathBuf::from(p), t))
        .collect();
        let tree = SourceTree::new(Path::new("/r"), files.keys().cloned());
        let cands: Vec<PathBuf> = files.keys().cloned().collect();
        let got = entry_files(&cands, &tree, &mut |p| files.get(p).map(|t| t.to_string()));
        let got: Vec<_> = got
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        assert_eq!(got, ["/r/loop1.conf", "/r/nginx.conf", "/r/sites/b.conf"]);
    }
}
