//! Finding inputs: walks like ripgrep (respects `.gitignore`/`.ignore` inside
//! a git work tree, never skips hidden files such as `.env`, skips `.git`);
//! a file named on the command line is always checked.

use std::path::{Path, PathBuf};

use rampart_runtime::formats::nginx;
use rampart_runtime::project::{Kind, MAX_INPUT_BYTES};

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

/// The kind of a file named explicitly: by name, by content for nginx, and any
/// YAML file is compose.
fn kind_explicit(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy().to_string();
    if let Some(k) = kind_by_name(&name) {
        return Some(k);
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".yml") || lower.ends_with(".yaml") {
        return Some(Kind::Compose);
    }
    // Named on purpose: an nginx candidate name (`*.conf`, `sites-*/*`) is read
    // as nginx even when it is a fragment (a server body) rather than an entry.
    if nginx::is_candidate_name(path) {
        return Some(Kind::Nginx);
    }
    let text = sniff_text(path).ok()?;
    nginx::is_entry(&text).then_some(Kind::Nginx)
}

/// A path for reports: relative to `cwd` when below it, with `/` separators.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    rampart_runtime::project::display_of(cwd, path)
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
}

/// Finds every input under `paths` (relative ones resolved against `cwd`).
pub fn discover(paths: &[PathBuf], cwd: &Path, no_ignore: bool) -> Discovered {
    let mut d = Discovered::default();
    for p in paths {
        let full = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        let shown = display_path(&full, cwd);
        let meta = match std::fs::metadata(&full) {
            Ok(m) => m,
            Err(e) => {
                d.errors.push(DiscoverError {
                    path: p.to_string_lossy().to_string(),
                    message: format!("cannot read: {}", io_reason(&e)),
                });
                continue;
            }
        };
        if meta.is_file() {
            d.roots
                .push(rampart_runtime::project::parent(&shown).to_string());
            match kind_explicit(&full) {
                Some(kind) => d.inputs.push(Input {
                    path: full,
                    display: shown,
                    kind,
                    explicit: true,
                }),
                None => d.errors.push(DiscoverError {
                    path: shown,
                    message: "cannot tell the format of this file (compose, Dockerfile, .env, nginx or Caddyfile)".into(),
                }),
            }
            continue;
        }
        d.roots.push(shown.clone());
        let mut walker = ignore::WalkBuilder::new(&full);
        walker
            .hidden(false)
            .git_global(false)
            .require_git(true)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(|e| e.file_name() != ".git");
        if no_ignore {
            walker.standard_filters(false).hidden(false);
        }
        let mut nginx_candidates = Vec::new();
        for entry in walker.build() {
            match entry {
                Ok(e) => {
                    if !e.file_type().is_some_and(|t| t.is_file()) {
                        continue;
                    }
                    let name = e.file_name().to_string_lossy().to_string();
                    if let Some(kind) = kind_by_name(&name) {
                        d.inputs.push(Input {
                            display: display_path(e.path(), cwd),
                            path: e.path().to_path_buf(),
                            kind,
                            explicit: false,
                        });
                    } else if nginx::is_candidate_name(e.path()) {
                        nginx_candidates.push(e.path().to_path_buf());
                    }
                }
                Err(e) => d.errors.push(DiscoverError {
                    path: shown.clone(),
                    message: format!("cannot walk: {e}"),
                }),
            }
        }
        // nginx: entry files are checked on their own (see `entry_files`: a
        // stray include cannot demote one); a candidate that cannot be read is
        // an error.
        if !nginx_candidates.is_empty() {
            let tree = nginx::SourceTree::new(&full, nginx_candidates.clone());
            let mut unreadable = Vec::new();
            let mut read = |p: &Path| match sniff_text(p) {
                Ok(t) => Some(t),
                Err(e) => {
                    unreadable.push(DiscoverError {
                        path: display_path(p, cwd),
                        message: format!("cannot read: {}", io_reason(&e)),
                    });
                    None
                }
            };
            let entries = nginx::entry_files(&nginx_candidates, &tree, &mut read);
            unreadable.sort_by(|a, b| a.path.cmp(&b.path));
            unreadable.dedup();
            d.errors.extend(unreadable);
            for entry in entries {
                d.inputs.push(Input {
                    display: display_path(&entry, cwd),
                    path: entry,
                    kind: Kind::Nginx,
                    explicit: false,
                });
            }
        }
    }
    d.inputs.sort();
    d.inputs.dedup_by(|a, b| a.path == b.path);
    d.roots.sort();
    d.roots.dedup();
    d
}

/// The text of an nginx candidate, enough to tell whether it is an entry:
/// read whole up to the input size limit, else only its first 64 KiB (the
/// too-large input is then reported when it is read); invalid UTF-8 is
/// replaced (the input is then reported as not UTF-8, never dropped).
fn sniff_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let limit = if file.metadata()?.len() > MAX_INPUT_BYTES as u64 {
        64 * 1024
    } else {
        MAX_INPUT_BYTES as u64
    };
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string().to_lowercase(),
    }
}
