//! Finding inputs: walks like ripgrep (respects `.gitignore`/`.ignore` inside
//! a git work tree, never skips hidden files such as `.env`, skips `.git`);
//! a file named on the command line is always checked.

use std::path::{Path, PathBuf};

use rampart_runtime::formats::compose;
use rampart_runtime::project::Kind;

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Input {
    /// Path on disk.
    pub path: PathBuf,
    /// Path as reported (relative to the working directory when below it, `/`-separated).
    pub display: String,
    /// Its kind.
    pub kind: Kind,
}

/// A path that could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoverError {
    /// The path as given or found.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// The kind of a file by its name, for files found while walking.
pub fn kind_by_name(name: &str) -> Option<Kind> {
    if compose::is_compose_name(name) {
        return Some(Kind::Compose);
    }
    None
}

/// The kind of a file named explicitly: by name, then any YAML file is compose.
fn kind_explicit(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy().to_string();
    kind_by_name(&name).or_else(|| {
        let lower = name.to_ascii_lowercase();
        (lower.ends_with(".yml") || lower.ends_with(".yaml")).then_some(Kind::Compose)
    })
}

/// A path for reports: relative to `cwd` when below it, with `/` separators.
pub fn display_path(path: &Path, cwd: &Path) -> String {
    let rel = path.strip_prefix(cwd).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s).to_string();
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

/// Finds every input under `paths` (relative ones resolved against `cwd`).
pub fn discover(
    paths: &[PathBuf],
    cwd: &Path,
    no_ignore: bool,
) -> (Vec<Input>, Vec<DiscoverError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
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
                errors.push(DiscoverError {
                    path: p.to_string_lossy().to_string(),
                    message: format!("cannot read: {}", io_reason(&e)),
                });
                continue;
            }
        };
        if meta.is_file() {
            match kind_explicit(&full) {
                Some(kind) => inputs.push(Input {
                    path: full,
                    display: shown,
                    kind,
                }),
                None => errors.push(DiscoverError {
                    path: shown,
                    message: "cannot tell the format of this file; rampart reads docker-compose YAML files".into(),
                }),
            }
            continue;
        }
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
        for entry in walker.build() {
            match entry {
                Ok(e) => {
                    if !e.file_type().is_some_and(|t| t.is_file()) {
                        continue;
                    }
                    let name = e.file_name().to_string_lossy().to_string();
                    if let Some(kind) = kind_by_name(&name) {
                        inputs.push(Input {
                            display: display_path(e.path(), cwd),
                            path: e.path().to_path_buf(),
                            kind,
                        });
                    }
                }
                Err(e) => errors.push(DiscoverError {
                    path: shown.clone(),
                    message: format!("cannot walk: {e}"),
                }),
            }
        }
    }
    inputs.sort();
    inputs.dedup_by(|a, b| a.path == b.path);
    (inputs, errors)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string().to_lowercase(),
    }
}
