//! Finding inputs: walks like ripgrep (respects `.gitignore`/`.ignore` inside
//! a git work tree, never skips hidden files such as `.env`, skips `.git`);
//! a file named on the command line is always checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use rampart_runtime::formats::nginx;
use rampart_runtime::fs::{Confined, FsError};
use rampart_runtime::project::{Kind, MAX_INPUT_BYTES};

mod git;

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Path on disk.
    pub path: PathBuf,
    /// Path as reported (relative to the working directory when below it, `/`-separated).
    pub display: String,
    /// Its kind.
    pub kind: Kind,
    /// Named on the command line (not found by walking).
    pub explicit: bool,
}

/// A path that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoverError {
    /// The path as given or found.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// The kind of a file by its name, for files found while walking (nginx
/// candidates are decided by content later).
pub fn kind_by_name(name: &str) -> Option<Kind> {
    Kind::by_name(name)
}

/// The kind of a file named explicitly: by name (any YAML file is compose,
/// an nginx candidate name is nginx), else by content.
fn kind_explicit(path: &Path, fs: &Confined) -> Option<Kind> {
    if let Some(k) = Kind::by_explicit_name(path) {
        return Some(k);
    }
    let text = sniff_text(fs, path).ok()?;
    Kind::sniff(&text)
}

/// What discovery found.
#[derive(Clone, Debug, Default)]
pub struct Discovered {
    /// Inputs, sorted by path.
    pub inputs: Vec<Input>,
    /// Paths that could not be used.
    pub errors: Vec<DiscoverError>,
    /// Scan roots (display paths): nothing is read outside them.
    pub roots: Vec<String>,
    /// Files skipped for a reason (a link leading outside the root, a special
    /// file…) that did not look like inputs: notes for `--verbose`.
    pub notes: Vec<String>,
    /// Files named on the command line that are no config of any format
    /// (display paths): a located note each, never an error.
    pub unrecognised: Vec<String>,
}

/// Whether a file name looks like an input (by name alone).
fn looks_like_input(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    kind_by_name(&name).is_some() || Kind::candidate(path).is_some()
}

/// Finds every input under `paths` (relative ones resolved against `cwd`).
pub fn discover(paths: &[PathBuf], cwd: &Path, no_ignore: bool) -> Discovered {
    let mut d = Discovered::default();
    let mut saw_link = false;
    for p in paths {
        let full = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        let shown = rampart_runtime::fs::display(cwd, &full);
        let meta = match std::fs::metadata(&full) {
            Ok(m) => m,
            Err(e) => {
                d.errors.push(DiscoverError {
                    path: rampart_runtime::fs::escape(p.as_os_str()),
                    message: format!("cannot read: {}", io_reason(&e)),
                });
                continue;
            }
        };
        if meta.is_file() {
            d.roots
                .push(rampart_runtime::project::parent(&shown).to_string());
            let fs = Confined::new(cwd, full.parent().map(Path::to_path_buf));
            match kind_explicit(&full, &fs) {
                Some(kind) => d.inputs.push(Input {
                    path: full,
                    display: shown,
                    kind,
                    explicit: true,
                }),
                None => d.unrecognised.push(shown),
            }
            continue;
        }
        d.roots.push(shown.clone());
        let fs = Confined::new(cwd, [full.clone()]);
        // The ignore files are read here, through the confined layer (the
        // walker's own reading would follow a `.gitignore` link out of the root).
        let rules = std::sync::Arc::new(IgnoreRules::new(&full, fs.clone(), cwd));
        let filter = rules.clone();
        let mut walker = ignore::WalkBuilder::new(&full);
        walker
            .standard_filters(false)
            .hidden(false)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(move |e| {
                e.file_name() != ".git"
                    && (no_ignore
                        || e.depth() == 0
                        || !filter.skip(e.path(), e.file_type().is_some_and(|t| t.is_dir())))
            });
        let mut nginx_candidates = Vec::new();
        for entry in walker.build() {
            match entry {
                Ok(e) => {
                    let Some(ty) = e.file_type() else { continue };
                    if ty.is_dir() {
                        continue;
                    }
                    if !ty.is_file() {
                        // A link is followed only to a regular file inside the
                        // root; anything else is never opened, and reported.
                        match fs.check_file(e.path()) {
                            Ok(_) if ty.is_symlink() => {}
                            Ok(_) => continue,
                            Err(FsError::IsDir) => {
                                d.notes.push(format!(
                                    "{}: a link to a directory; not walked (its files are checked where they lie)",
                                    rampart_runtime::fs::display(cwd, e.path())
                                ));
                                continue;
                            }
                            Err(why) => {
                                let message = if ty.is_symlink() {
                                    format!("not read: {why}")
                                } else {
                                    "a special file (FIFO, socket or device); it is not read"
                                        .to_string()
                                };
                                let path = rampart_runtime::fs::display(cwd, e.path());
                                if looks_like_input(e.path()) {
                                    d.errors.push(DiscoverError { path, message });
                                } else {
                                    d.notes.push(format!("{path}: {message}"));
                                }
                                continue;
                            }
                        }
                    }
                    saw_link |= ty.is_symlink();
                    let name = e.file_name().to_string_lossy().to_string();
                    if let Some(kind) = kind_by_name(&name) {
                        d.inputs.push(Input {
                            display: rampart_runtime::fs::display(cwd, e.path()),
                            path: e.path().to_path_buf(),
                            kind,
                            explicit: false,
                        });
                    } else if Kind::candidate(e.path()) == Some(Kind::NGINX) {
                        nginx_candidates.push(e.path().to_path_buf());
                    }
                }
                Err(e) => d.errors.push(DiscoverError {
                    path: shown.clone(),
                    message: format!("cannot walk: {e}"),
                }),
            }
        }
        if let Ok(mut n) = rules.notes.lock() {
            d.notes.append(&mut n);
        }
        // nginx: entry files are checked on their own (see `entry_files`: a
        // stray include cannot demote one); a candidate that cannot be read is
        // reported.
        if !nginx_candidates.is_empty() {
            let tree = nginx::SourceTree::new(&full, nginx_candidates.clone());
            let mut unread: BTreeMap<PathBuf, FsError> = BTreeMap::new();
            let mut ahead = read_ahead(&nginx_candidates, |p| sniff_text(&fs, p));
            let mut read = |p: &Path| match ahead.take(p) {
                Ok(t) => Some(t),
                Err(e) => {
                    unread.insert(p.to_path_buf(), e);
                    None
                }
            };
            let (entries, orphans) =
                nginx::entries_and_orphans(&nginx_candidates, &tree, &mut read);
            for entry in entries {
                d.inputs.push(Input {
                    display: rampart_runtime::fs::display(cwd, &entry),
                    path: entry,
                    kind: Kind::NGINX,
                    explicit: false,
                });
            }
            // A fragment no entry includes is checked by nothing: said, not dropped.
            for p in orphans {
                d.notes.push(format!(
                    "{}: not checked: no top-level `http`, `server` or `events` block, \
                     and no nginx file includes it",
                    rampart_runtime::fs::display(cwd, &p)
                ));
            }
            // A candidate that could not be read is never silently dropped: an
            // error when it is named like nginx's own files, a note otherwise.
            for (p, why) in unread {
                let path = rampart_runtime::fs::display(cwd, &p);
                let message = format!("not read, so not checked as nginx: {why}");
                if path.to_ascii_lowercase().contains("nginx") {
                    d.errors.push(DiscoverError { path, message });
                } else {
                    d.notes.push(format!("{path}: {message}"));
                }
            }
        }
    }
    // Only a walk that met a link can have found a file twice.
    if saw_link {
        drop_duplicate_links(&mut d);
    }
    crate::classify::caddy_fragments(&mut d, cwd);
    d.inputs.sort();
    d.inputs.dedup_by(|a, b| a.path == b.path);
    d.roots.sort();
    d.roots.dedup();
    d
}

/// What `read` gave for each of a list of files, read on the cores before
/// a pass that asks for them one by one ([`ReadAhead::take`]).
pub(crate) struct ReadAhead<T, F> {
    by_path: std::collections::HashMap<PathBuf, T>,
    read: F,
}

/// Reads `paths` with `read` on the cores (each file on its own).
pub(crate) fn read_ahead<T: Send, F: Fn(&Path) -> T + Sync>(
    paths: &[PathBuf],
    read: F,
) -> ReadAhead<T, F> {
    use rayon::prelude::*;
    let norm = rampart_runtime::fs::normalize_path;
    let by_path = rampart_runtime::project::on_cores(|| {
        paths.par_iter().map(|p| (norm(p), read(p))).collect()
    });
    ReadAhead { by_path, read }
}

impl<T, F: Fn(&Path) -> T> ReadAhead<T, F> {
    /// What was read for `path` (once), or what reading it gives for a path
    /// that was not read ahead.
    pub(crate) fn take(&mut self, path: &Path) -> T {
        match self
            .by_path
            .remove(&rampart_runtime::fs::normalize_path(path))
        {
            Some(t) => t,
            None => (self.read)(path),
        }
    }
}

/// The text of an nginx candidate, enough to tell whether it is an entry:
/// read whole up to the input size limit, else only its first 64 KiB (the
/// too-large input is then reported when it is read); invalid UTF-8 is
/// replaced (the input is then reported as not UTF-8, never dropped). Read
/// through the confined layer.
fn sniff_text(fs: &Confined, path: &Path) -> Result<String, FsError> {
    let bytes = fs.read_prefix(path, MAX_INPUT_BYTES as u64 + 1)?;
    let bytes = if bytes.len() > MAX_INPUT_BYTES {
        fs.read_prefix(path, 64 * 1024)?
    } else {
        bytes
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `.gitignore` (inside a git work tree) and `.ignore` rules of one scan
/// root, read through the confined layer as the walk enters each directory.
/// A rule file that is a link out of the root, a special file or too large is
/// not read (a note). Rules of directories above the scan root apply when they
/// lie within the working directory (read confined to it), none above it.
#[derive(Default)]
struct IgnoreRules {
    fs: Confined,
    /// For the directories between the working directory and the root.
    parent_fs: Confined,
    cwd: PathBuf,
    root: PathBuf,
    /// The topmost directory whose rules apply (the working directory when
    /// the root lies below it, else the root).
    top: PathBuf,
    /// How many components `top` has.
    top_depth: usize,
    in_git: bool,
    /// Matchers by directory, in the order they apply (`.gitignore`, then
    /// `.ignore`, which wins).
    by_dir: Mutex<std::collections::HashMap<PathBuf, Vec<Gitignore>>>,
    notes: Mutex<Vec<String>>,
    /// The files git tracks, inside a work tree whose index was read.
    tracked: Option<git::Tracked>,
    /// Ignored directories walked only for the tracked files they hold:
    /// anything else below them stays ignored.
    rescued: Mutex<std::collections::BTreeSet<PathBuf>>,
}

impl IgnoreRules {
    fn new(root: &Path, fs: Confined, cwd: &Path) -> IgnoreRules {
        let plain = !root
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir));
        // Inside a git work tree, the `.gitignore` files from its top down
        // apply (as git applies them); elsewhere those from the working
        // directory down.
        let work_tree = git::work_tree_top(root).filter(|t| plain && root.starts_with(t));
        let top = match &work_tree {
            Some(t) => t.clone(),
            None if plain && root.starts_with(cwd) => cwd.to_path_buf(),
            None => root.to_path_buf(),
        };
        let root: PathBuf = root.components().collect();
        let root = root.as_path();
        let cwd: PathBuf = cwd.components().collect();
        let cwd = cwd.as_path();
        let mut rules = IgnoreRules {
            fs,
            parent_fs: Confined::new(cwd, [work_tree.unwrap_or_else(|| cwd.to_path_buf())]),
            cwd: cwd.to_path_buf(),
            root: root.to_path_buf(),
            top_depth: top.components().count(),
            top,
            in_git: root.ancestors().any(|a| a.join(".git").exists()),
            ..IgnoreRules::default()
        };
        match git::lookup(root) {
            git::Lookup::NotGit => {}
            git::Lookup::Index(t) => rules.tracked = Some(t),
            git::Lookup::Unusable(why) => rules.note(format!(
                "{}: {why}; `.gitignore` applies to tracked files too",
                rampart_runtime::fs::display(cwd, root)
            )),
        }
        let parents: Vec<PathBuf> = root
            .ancestors()
            .skip(1)
            .take_while(|a| a.starts_with(&rules.top))
            .map(Path::to_path_buf)
            .collect();
        for dir in parents {
            let m = rules.load(&dir);
            if let Ok(mut by_dir) = rules.by_dir.lock() {
                by_dir.insert(dir, m);
            }
        }
        rules
    }

    /// The matchers of `dir` (read on first use).
    fn load(&self, dir: &Path) -> Vec<Gitignore> {
        let mut names = vec![".ignore"];
        // `.git/info/exclude` is git's own file: never read (only the index
        // is, see `git`); what it excludes is checked.
        if self.in_git {
            names.insert(0, ".gitignore");
        }
        let fs = if dir.starts_with(&self.root) {
            &self.fs
        } else {
            &self.parent_fs
        };
        let mut out = Vec::new();
        for name in names {
            let file = dir.join(name);
            if std::fs::symlink_metadata(&file).is_err() {
                continue;
            }
            let text = match fs.read_text(&file) {
                Ok(t) => t,
                Err(FsError::NotFound) => continue,
                Err(why) => {
                    if let Ok(mut n) = self.notes.lock() {
                        n.push(format!(
                            "{}: ignore rules not read: {why}",
                            rampart_runtime::fs::display(&self.cwd, &file)
                        ));
                    }
                    continue;
                }
            };
            let mut b = GitignoreBuilder::new(dir);
            for line in text.lines() {
                // A malformed rule is skipped, never echoed.
                let _ = b.add_line(None, line);
            }
            if let Ok(m) = b.build() {
                out.push(m);
            }
        }
        out
    }

    fn note(&self, note: String) {
        if let Ok(mut n) = self.notes.lock() {
            n.push(note);
        }
    }

    /// Whether the walk skips `path`: ignored, and not tracked by git (a
    /// tracked file is checked whatever `.gitignore` says, and the note for
    /// `--verbose` says so).
    fn skip(&self, path: &Path, is_dir: bool) -> bool {
        let under_rescued = self
            .rescued
            .lock()
            .is_ok_and(|r| !r.is_empty() && path.ancestors().skip(1).any(|a| r.contains(a)));
        if !under_rescued && !self.ignored(path, is_dir) {
            return false;
        }
        let Some(tracked) = &self.tracked else {
            return true;
        };
        if !tracked.tracks(path, is_dir) {
            return true;
        }
        if is_dir {
            if let Ok(mut r) = self.rescued.lock() {
                r.insert(path.to_path_buf());
            }
        } else if looks_like_input(path) || Kind::candidate(path).is_some() {
            self.note(format!(
                "{}: tracked by git although `.gitignore` matches it; checked",
                rampart_runtime::fs::display(&self.cwd, path)
            ));
        }
        false
    }

    /// Whether `path` is ignored: the rules of each directory from the root
    /// down to its parent, deeper ones deciding last.
    fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        // `root/./a` → `root/a`: anchored rules match the path relative to
        // their directory.
        let path: PathBuf = path.components().collect();
        let path = path.as_path();
        let Some(parent) = path.parent() else {
            return false;
        };
        if !parent.starts_with(&self.root) {
            return false;
        }
        let Ok(mut by_dir) = self.by_dir.lock() else {
            return false;
        };
        if !by_dir.contains_key(parent) {
            let m = self.load(parent);
            by_dir.insert(parent.to_path_buf(), m);
        }
        let mut verdict = false;
        // The directories from `parent` up to the top (each of them starts
        // with it): as many as `parent` is deeper.
        let chain: Vec<&Path> = if parent.starts_with(&self.top) {
            let below = parent.components().count().saturating_sub(self.top_depth);
            parent.ancestors().take(below + 1).collect()
        } else {
            Vec::new()
        };
        for dir in chain.into_iter().rev() {
            for m in by_dir.get(dir).map_or(&[][..], Vec::as_slice) {
                let r = m.matched(path, is_dir);
                if r.is_ignore() {
                    verdict = true;
                } else if r.is_whitelist() {
                    verdict = false;
                }
            }
        }
        verdict
    }
}

/// A link to a file that is itself an input is checked once, where the file lies.
fn drop_duplicate_links(d: &mut Discovered) {
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    if !d.inputs.iter().any(|i| !i.explicit && is_link(&i.path)) {
        return;
    }
    let targets: std::collections::BTreeSet<PathBuf> = d
        .inputs
        .iter()
        .filter(|i| !is_link(&i.path))
        .filter_map(|i| std::fs::canonicalize(&i.path).ok())
        .collect();
    let mut notes = Vec::new();
    d.inputs.retain(|i| {
        if i.explicit || !is_link(&i.path) {
            return true;
        }
        let dup = std::fs::canonicalize(&i.path).is_ok_and(|t| targets.contains(&t));
        if dup {
            notes.push(format!(
                "{}: a link to a file checked under its own name; not checked twice",
                i.display
            ));
        }
        !dup
    });
    d.notes.extend(notes);
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string().to_lowercase(),
    }
}
