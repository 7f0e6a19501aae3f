//! Which nginx files are checked on their own (entries), and which only
//! through the `include` of another file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::include::{expand, normalize, SourceTree};
use super::parse::{parse, Directive};
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
    top_blocks(src).0
}

/// Whether `src` is a main configuration (nginx's `-c` file): its top level
/// has an `http` or `events` block.
pub fn is_main(src: &str) -> bool {
    top_blocks(src).1
}

/// (has an `http`/`server`/`events` block, has an `http`/`events` block) at the top level.
fn top_blocks(src: &str) -> (bool, bool) {
    let parsed = parse(FileId(0), src);
    let has = |names: &[&str]| {
        parsed
            .directives
            .iter()
            .any(|d| d.block.is_some() && names.iter().any(|n| d.is(n)))
    };
    (has(&["http", "server", "events"]), has(&["http", "events"]))
}

/// The entry files among `candidates`, sorted. The rule cannot be abused by a
/// stray `include` elsewhere:
/// - a *main* configuration (top-level `http` or `events` block) is always an
///   entry, whoever includes it;
/// - a *site* file (top-level `server` block, no `http`/`events`) is an entry
///   unless a main configuration includes it in `http` context (directly in
///   an `http` block, possibly through included files), where nginx reads it
///   and where it is then checked with that context; an include from any
///   other place (`events`, `server`, `location`, another site file) demotes
///   nothing;
/// - anything else is a fragment, checked only through the files including it.
///
/// `read` gives a file's text.
pub fn entry_files(
    candidates: &[PathBuf],
    tree: &SourceTree,
    read: &mut dyn FnMut(&Path) -> Option<String>,
) -> Vec<PathBuf> {
    entries_and_orphans(candidates, tree, read).0
}

/// The entry files among `candidates` (see [`entry_files`]), and the
/// *orphans*: candidates that were read but are neither an entry nor
/// included by one, so nothing checks them (discovery reports them instead
/// of dropping them silently). Both sorted.
pub fn entries_and_orphans(
    candidates: &[PathBuf],
    tree: &SourceTree,
    read: &mut dyn FnMut(&Path) -> Option<String>,
) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut texts: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let mut text_of = |p: &Path, texts: &mut BTreeMap<PathBuf, Option<String>>| -> Option<String> {
        texts
            .entry(p.to_path_buf())
            .or_insert_with(|| read(p))
            .clone()
    };
    let cands: BTreeSet<PathBuf> = candidates.iter().map(|p| normalize(p)).collect();
    let mut mains = Vec::new();
    let mut sites = Vec::new();
    let mut fragments = Vec::new();
    for c in &cands {
        let Some(src) = text_of(c, &mut texts) else {
            continue;
        };
        match top_blocks(&src) {
            (_, true) => mains.push((c.clone(), src)),
            (true, false) => sites.push((c.clone(), src)),
            _ => fragments.push(c.clone()),
        }
    }
    // Every file some main or site file reads through its includes.
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    // Site files a main configuration reads in `http` context (display paths).
    let mut in_http: BTreeSet<String> = BTreeSet::new();
    for (c, src) in &mains {
        let mut ids: u32 = 0;
        let mut read_one = |p: &Path| {
            let text = text_of(p, &mut texts)?;
            ids = ids.saturating_add(1);
            Some((FileId(ids), text))
        };
        let exp = expand(FileId(0), c, src, tree, &mut read_one);
        let mut seen = BTreeSet::new();
        http_includes(&exp.directives, false, &mut in_http, &mut seen);
        reached.extend(exp.files.iter().map(|(_, p)| normalize(p)));
    }
    if !fragments.is_empty() {
        for (c, src) in &sites {
            let mut ids: u32 = 0;
            let mut read_one = |p: &Path| {
                let text = text_of(p, &mut texts)?;
                ids = ids.saturating_add(1);
                Some((FileId(ids), text))
            };
            let exp = expand(FileId(0), c, src, tree, &mut read_one);
            reached.extend(exp.files.iter().map(|(_, p)| normalize(p)));
        }
    }
    let orphans: Vec<PathBuf> = fragments
        .into_iter()
        .filter(|f| !reached.contains(f))
        .collect();
    let mut entries: Vec<PathBuf> = mains.into_iter().map(|(c, _)| c).collect();
    entries.extend(
        sites
            .into_iter()
            .map(|(c, _)| c)
            .filter(|c| !in_http.contains(&tree.display(c))),
    );
    entries.sort();
    (entries, orphans)
}

/// Collects the files included in `http` context: in the body of an `http`
/// block (`http_ctx`), or included from there. `seen` keeps each (file,
/// context) walked once, so shared includes cost nothing more.
fn http_includes(
    ds: &[Directive],
    http_ctx: bool,
    out: &mut BTreeSet<String>,
    seen: &mut BTreeSet<(String, bool)>,
) {
    for d in ds {
        if d.is("include") && d.block.is_none() {
            for (file, body) in d.included_files.iter().zip(&d.included) {
                if http_ctx {
                    out.insert(file.clone());
                }
                if seen.insert((file.clone(), http_ctx)) {
                    http_includes(body, http_ctx, out, seen);
                }
            }
        } else if !http_ctx && d.is("http") {
            if let Some(b) = &d.block {
                http_includes(b, true, out, seen);
            }
        }
    }
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
        // An include inside a `server` block demotes nothing: both loops stay.
        assert_eq!(
            got,
            [
                "/r/loop1.conf",
                "/r/loop2.conf",
                "/r/nginx.conf",
                "/r/sites/b.conf"
            ]
        );
    }

    fn entries_of(files: &[(&str, &str)]) -> Vec<String> {
        let files: BTreeMap<PathBuf, &str> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(format!("/r/{p}")), *t))
            .collect();
        let tree = SourceTree::new(Path::new("/r"), files.keys().cloned());
        let cands: Vec<PathBuf> = files.keys().cloned().collect();
        entry_files(&cands, &tree, &mut |p| files.get(p).map(|t| t.to_string()))
            .iter()
            .map(|p| tree.display(p))
            .collect()
    }

    #[test]
    fn a_stray_include_demotes_no_entry() {
        // The attack: including the real nginx.conf from an `events` block.
        let got = entries_of(&[
            ("evil.conf", "events { include nginx.conf; }"),
            ("nginx.conf", "events {} http { server { listen 80; } }"),
        ]);
        assert_eq!(got, ["evil.conf", "nginx.conf"]);
        // A main configuration stays an entry even when included in `http`.
        let got = entries_of(&[
            ("evil.conf", "http { include nginx.conf; }"),
            ("nginx.conf", "events {} http { server { listen 80; } }"),
        ]);
        assert_eq!(got, ["evil.conf", "nginx.conf"]);
        // A site file included from `events`, a `location` or another site
        // file stays an entry.
        let got = entries_of(&[
            ("evil.conf", "events { include site.conf; }"),
            ("other.conf", "server { location / { include site.conf; } }"),
            ("more.conf", "server { listen 81; } include site.conf;"),
            ("site.conf", "server { listen 80; }"),
        ]);
        assert_eq!(got, ["evil.conf", "more.conf", "other.conf", "site.conf"]);
        // Through an included fragment in `http`, it is demoted (checked there).
        let got = entries_of(&[
            ("nginx.conf", "events {} http { include frag.conf; }"),
            ("frag.conf", "include sites/*.conf;"),
            ("sites/site.conf", "server { listen 80; }"),
        ]);
        assert_eq!(got, ["nginx.conf"]);
    }
}
