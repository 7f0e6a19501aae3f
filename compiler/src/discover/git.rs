//! Which files git tracks: the index of the work tree a scan root lies in,
//! read through [`rampart_runtime::fs::read_git_index`] (the only file under
//! `.git` rampart reads) and decoded with `gix-index`.
//!
//! Inside a git work tree the inputs are the tracked files, whatever
//! `.gitignore` says (they are what gets committed), plus the untracked files
//! that are not ignored. The walk keeps its ignore rules; a path they ignore
//! is kept when the index tracks it (a directory when it holds a tracked file).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use gix_index::entry::Mode;

/// The largest number of index entries decoded into memory at once (the
/// index's own size is bounded by `MAX_GIT_INDEX_BYTES`).
const MAX_ALLOC_BYTES: usize = 512 * 1024 * 1024;

/// The tracked paths of one work tree.
#[derive(Debug, Default)]
pub struct Tracked {
    /// The work tree's top directory, canonical.
    top: PathBuf,
    /// Tracked files (and links), relative to `top`.
    files: BTreeSet<PathBuf>,
    /// Every directory holding a tracked file, relative to `top`.
    dirs: BTreeSet<PathBuf>,
}

/// What looking for the index gave.
#[derive(Debug)]
pub enum Lookup {
    /// Not inside a git work tree.
    NotGit,
    /// The tracked files.
    Index(Tracked),
    /// Inside a work tree whose index could not be used: the reason (the
    /// ignore rules then apply to tracked files too).
    Unusable(String),
}

/// The top of the git work tree holding `root` (the nearest directory, `root`
/// itself included, with a `.git` entry), lexically.
pub fn work_tree_top(root: &Path) -> Option<PathBuf> {
    let root = rampart_runtime::fs::normalize_path(root);
    root.ancestors()
        .find(|a| std::fs::symlink_metadata(a.join(".git")).is_ok())
        .map(Path::to_path_buf)
}

/// The index of the work tree holding `root`.
pub fn lookup(root: &Path) -> Lookup {
    let Some(top) = work_tree_top(root) else {
        return Lookup::NotGit;
    };
    let bytes = match rampart_runtime::fs::read_git_index(&top) {
        Ok(Some(b)) => b,
        Ok(None) => return Lookup::NotGit,
        Err(why) => return Lookup::Unusable(why),
    };
    let Ok(canonical_top) = std::fs::canonicalize(&top) else {
        return Lookup::Unusable("the work tree's directory cannot be resolved".into());
    };
    match decode(&bytes) {
        Ok(paths) => Lookup::Index(Tracked::new(canonical_top, paths)),
        Err(why) => Lookup::Unusable(why),
    }
}

/// The paths of the index entries that are files or links (not submodules or
/// sparse directories). A malformed index is an error, never a panic.
fn decode(bytes: &[u8]) -> Result<Vec<PathBuf>, String> {
    let options = gix_index::decode::Options {
        thread_limit: Some(1),
        alloc_limit_bytes: Some(MAX_ALLOC_BYTES),
        ..Default::default()
    };
    let decoded = std::panic::catch_unwind(|| {
        gix_index::State::from_bytes(
            bytes,
            filetime::FileTime::zero(),
            gix_index::hash::Kind::Sha1,
            options,
        )
        .map(|(state, _)| {
            state
                .entries()
                .iter()
                .filter(|e| !matches!(e.mode, Mode::COMMIT | Mode::DIR))
                .map(|e| PathBuf::from(OsStr::from_bytes(e.path(&state))))
                .collect::<Vec<_>>()
        })
    });
    match decoded {
        Ok(Ok(paths)) => Ok(paths),
        Ok(Err(_)) | Err(_) => Err(
            "the git index is not in a format rampart reads (a SHA-256 repository, or damaged)"
                .into(),
        ),
    }
}

impl Tracked {
    fn new(top: PathBuf, paths: Vec<PathBuf>) -> Tracked {
        let mut dirs = BTreeSet::new();
        for p in &paths {
            for a in p.ancestors().skip(1) {
                if a.as_os_str().is_empty() || !dirs.insert(a.to_path_buf()) {
                    break;
                }
            }
        }
        Tracked {
            top,
            files: paths.into_iter().collect(),
            dirs,
        }
    }

    /// Whether the index tracks the file `path`, or (`is_dir`) a file below
    /// the directory `path`. The path is resolved (its directory only: a
    /// tracked link is the link itself).
    pub fn tracks(&self, path: &Path, is_dir: bool) -> bool {
        let resolved = if is_dir {
            std::fs::canonicalize(path).ok()
        } else {
            match (path.parent(), path.file_name()) {
                (Some(dir), Some(name)) => std::fs::canonicalize(dir).ok().map(|d| d.join(name)),
                _ => None,
            }
        };
        let Some(rel) = resolved
            .as_deref()
            .and_then(|r| r.strip_prefix(&self.top).ok())
        else {
            return false;
        };
        if is_dir {
            self.dirs.contains(rel)
        } else {
            self.files.contains(rel)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"DIRC",
            b"DIRC\x00\x00\x00\x02\xff\xff\xff\xff",
            &[0u8; 200],
        ] {
            assert!(decode(bytes).is_err());
        }
    }

    #[test]
    fn directories_of_tracked_files() {
        let t = Tracked::new(
            PathBuf::from("/nowhere"),
            vec![PathBuf::from("a/b/.env"), PathBuf::from("c.yml")],
        );
        assert_eq!(t.files.len(), 2);
        assert!(t.dirs.contains(Path::new("a")));
        assert!(t.dirs.contains(Path::new("a/b")));
        assert!(!t.dirs.contains(Path::new("")));
    }
}
