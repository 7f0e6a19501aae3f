//! The confined file system: every file rampart reads from a repository goes
//! through [`Confined`].
//!
//! A path is resolved (canonicalised) and checked against the scan roots
//! *after* resolution, so a committed symbolic link is followed only when its
//! target stays inside a root; otherwise the read is refused with an error
//! naming the link (never the target's content). Only regular files are
//! opened: no directories, FIFOs, sockets or devices, and nothing under
//! `/proc`, `/sys` or `/dev` even if a root were there. The size limit is
//! checked on the metadata and again by a bounded read (files under `/proc`
//! report a size of 0).
//!
//! Display paths (see [`display`]) are an injective, escaped form of the
//! path's bytes: invalid UTF-8 bytes are shown as `\xNN` and a literal
//! backslash as `\\`, so two distinct files never share a display path and
//! [`undisplay`] gives the bytes back.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// The largest file read through the layer, in bytes (the same as the
/// largest input file).
pub const MAX_READ_BYTES: u64 = 16 * 1024 * 1024;

/// Trees whose files are never opened, whatever the roots.
const SPECIAL_TREES: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Why a read was refused or failed. Messages are plain, lowercase, and never
/// contain a file's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FsError {
    /// No such file.
    NotFound,
    /// The path leaves the scan roots once resolved; `link` is the symbolic
    /// link through which it leaves (or the path itself when no link is
    /// involved), as a display path.
    OutsideRoot {
        /// The link (or path) as a display path.
        link: String,
        /// Whether `link` is a symbolic link (else the path itself lies outside).
        through_link: bool,
    },
    /// A directory where a file was expected.
    IsDir,
    /// Not a regular file (FIFO, socket, device, or under `/proc`, `/sys`, `/dev`).
    NotRegular,
    /// Larger than the limit.
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Inside a `.git` directory: git's own files (`.git/config` holds the
    /// checkout's credentials in CI) are never read, whatever leads there.
    GitDir,
    /// Not valid UTF-8 text.
    NotUtf8,
    /// Any other failure, described.
    Io(String),
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::NotFound => f.write_str("no such file or directory"),
            FsError::OutsideRoot {
                link,
                through_link: true,
            } => write!(
                f,
                "the symbolic link `{link}` leads outside the scan root; it is not followed"
            ),
            FsError::OutsideRoot { link, .. } => {
                write!(f, "`{link}` lies outside the scan root; it is not read")
            }
            FsError::IsDir => f.write_str("is a directory"),
            FsError::NotRegular => f.write_str("is not a regular file; it is not read"),
            FsError::TooLarge { limit } => write!(f, "file is larger than {limit} bytes"),
            FsError::GitDir => f.write_str(
                "lies inside a `.git` directory (git's own files, which may hold credentials); it is not read",
            ),
            FsError::NotUtf8 => f.write_str("file is not valid UTF-8 text"),
            FsError::Io(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for FsError {}

/// The scan roots (canonicalised) every read is confined to.
#[derive(Clone, Debug, Default)]
pub struct Confined {
    /// Relative paths are resolved against this (the working directory);
    /// display paths are relative to it.
    base: PathBuf,
    /// Canonical roots.
    roots: Vec<PathBuf>,
    /// No root check (paths the operator named on the command line); the
    /// special-file and size checks still apply.
    anywhere: bool,
    /// The size limit, in bytes.
    limit: u64,
    /// The canonical form of each directory resolved so far (shared by
    /// clones): most inputs share their directory with others, and
    /// canonicalising a whole path looks at every component of it.
    dirs: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<PathBuf, PathBuf>>>,
}

impl Confined {
    /// A layer confined to `roots` (relative ones resolved against `base`).
    /// A root that does not exist is dropped: nothing can be read below it.
    pub fn new(base: &Path, roots: impl IntoIterator<Item = PathBuf>) -> Confined {
        let mut canon: Vec<PathBuf> = roots
            .into_iter()
            .filter_map(|r| std::fs::canonicalize(base.join(r)).ok())
            .collect();
        canon.sort();
        canon.dedup();
        Confined {
            base: base.to_path_buf(),
            roots: canon,
            anywhere: false,
            limit: MAX_READ_BYTES,
            dirs: Default::default(),
        }
    }

    /// A layer with no root (for paths the operator chose): only regular
    /// files, nothing under `/proc`, `/sys`, `/dev`, the size limit.
    pub fn anywhere(base: &Path) -> Confined {
        Confined {
            base: base.to_path_buf(),
            roots: Vec::new(),
            anywhere: true,
            limit: MAX_READ_BYTES,
            dirs: Default::default(),
        }
    }

    /// The same layer with another size limit.
    pub fn with_limit(mut self, limit: u64) -> Confined {
        self.limit = limit;
        self
    }

    /// The canonical roots.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The directory relative paths are resolved against.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// Whether a canonical path lies inside a root.
    pub fn contains(&self, canonical: &Path) -> bool {
        self.anywhere || self.roots.iter().any(|r| canonical.starts_with(r))
    }

    /// The canonical form of `path`, when it stays inside the roots.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, FsError> {
        self.resolve_with(path).map(|(c, _)| c)
    }

    /// [`Confined::resolve`], with the metadata of the file when resolving
    /// read it (the last component was not a link: what `lstat` said is
    /// what `stat` would say).
    fn resolve_with(&self, path: &Path) -> Result<(PathBuf, Option<std::fs::Metadata>), FsError> {
        let full = self.base.join(path);
        match self.canonicalize(&full) {
            Ok((c, meta)) if self.contains(&c) => {
                if self.in_git_dir(&c) {
                    Err(FsError::GitDir)
                } else {
                    Ok((c, meta))
                }
            }
            Ok(_) => {
                let (link, through_link) = self.culprit(&full);
                Err(FsError::OutsideRoot { link, through_link })
            }
            Err(e) => Err(io_error(&e)),
        }
    }

    /// `std::fs::canonicalize(full)`, with the directory's canonical form
    /// remembered: the last component is looked at on its own (one `lstat`,
    /// whose metadata comes back when it is not a link) and a link there is
    /// resolved whole.
    fn canonicalize(&self, full: &Path) -> std::io::Result<(PathBuf, Option<std::fs::Metadata>)> {
        let (Some(dir), Some(name)) = (full.parent(), full.file_name()) else {
            return std::fs::canonicalize(full).map(|c| (c, None));
        };
        let known = self.dirs.lock().ok().and_then(|d| d.get(dir).cloned());
        let dir_canonical = match known {
            Some(c) => c,
            None => {
                let c = std::fs::canonicalize(dir)?;
                if let Ok(mut d) = self.dirs.lock() {
                    d.insert(dir.to_path_buf(), c.clone());
                }
                c
            }
        };
        let candidate = dir_canonical.join(name);
        let meta = std::fs::symlink_metadata(&candidate)?;
        if meta.file_type().is_symlink() {
            std::fs::canonicalize(&candidate).map(|c| (c, None))
        } else {
            Ok((candidate, Some(meta)))
        }
    }

    /// Whether a canonical path inside the roots lies in a `.git` directory
    /// below its root (operator-named paths, with no root, are not checked).
    fn in_git_dir(&self, canonical: &Path) -> bool {
        if self.anywhere {
            return false;
        }
        self.roots
            .iter()
            .filter_map(|r| canonical.strip_prefix(r).ok())
            .any(|below| below.components().any(|c| c.as_os_str() == ".git"))
    }

    /// The symbolic link, living inside a root, through which `full` leaves
    /// the roots (as a display path, `true`); `full` itself when there is none.
    fn culprit(&self, full: &Path) -> (String, bool) {
        let mut prefix = PathBuf::new();
        for c in full.components() {
            prefix.push(c);
            let is_link = std::fs::symlink_metadata(&prefix)
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            if !is_link {
                continue;
            }
            let lives_inside = prefix
                .parent()
                .and_then(|p| std::fs::canonicalize(p).ok())
                .is_some_and(|p| self.contains(&p));
            let leads_out = std::fs::canonicalize(&prefix).map_or(true, |t| !self.contains(&t));
            if lives_inside && leads_out {
                return (display(&self.base, &prefix), true);
            }
        }
        (display(&self.base, full), false)
    }

    /// The bytes of a regular file inside the roots, at most the size limit.
    pub fn read(&self, path: &Path) -> Result<Vec<u8>, FsError> {
        let (file, len) = self.open(path)?;
        if len > self.limit {
            return Err(FsError::TooLarge { limit: self.limit });
        }
        // Sized from the open file: one read for the text and one for the
        // end, where growing from empty took ten for a small file.
        let mut bytes = Vec::with_capacity(len.saturating_add(1) as usize);
        file.take(self.limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(&e))?;
        if bytes.len() as u64 > self.limit {
            return Err(FsError::TooLarge { limit: self.limit });
        }
        Ok(bytes)
    }

    /// The first `max` bytes (at most) of a regular file inside the roots,
    /// whatever its size: enough to tell what a file is before the size limit
    /// rejects it.
    pub fn read_prefix(&self, path: &Path, max: u64) -> Result<Vec<u8>, FsError> {
        let (file, len) = self.open(path)?;
        let mut bytes = Vec::with_capacity(len.min(max).saturating_add(1) as usize);
        file.take(max)
            .read_to_end(&mut bytes)
            .map_err(|e| io_error(&e))?;
        Ok(bytes)
    }

    /// Opens a regular file inside the roots; returns it with its length.
    fn open(&self, path: &Path) -> Result<(std::fs::File, u64), FsError> {
        let (canonical, known) = self.resolve_with(path)?;
        if is_special(&canonical) {
            return Err(FsError::NotRegular);
        }
        let meta = match known {
            Some(meta) => meta,
            None => std::fs::metadata(&canonical).map_err(|e| io_error(&e))?,
        };
        if meta.is_dir() {
            return Err(FsError::IsDir);
        }
        if !meta.is_file() {
            return Err(FsError::NotRegular);
        }
        // O_NONBLOCK: a FIFO swapped in after the check cannot block the open;
        // O_NOFOLLOW: nor can a link swapped in for the last component.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&canonical)
            .map_err(|e| io_error(&e))?;
        let opened = file.metadata().map_err(|e| io_error(&e))?;
        if !opened.is_file() {
            return Err(FsError::NotRegular);
        }
        Ok((file, opened.len()))
    }

    /// The text of a regular file inside the roots (a leading BOM is kept).
    pub fn read_text(&self, path: &Path) -> Result<String, FsError> {
        String::from_utf8(self.read(path)?).map_err(|_| FsError::NotUtf8)
    }

    /// The entry names of a directory inside the roots, sorted.
    pub fn list(&self, dir: &Path) -> Result<Vec<OsString>, FsError> {
        let canonical = self.resolve(dir)?;
        if is_special(&canonical) {
            return Err(FsError::NotRegular);
        }
        let rd = std::fs::read_dir(&canonical).map_err(|e| io_error(&e))?;
        let mut names: Vec<OsString> = rd.filter_map(Result::ok).map(|e| e.file_name()).collect();
        names.sort();
        Ok(names)
    }

    /// What a file is without opening it: `Ok(canonical)` for a regular file
    /// inside the roots, the refusal otherwise.
    pub fn check_file(&self, path: &Path) -> Result<PathBuf, FsError> {
        let canonical = self.resolve(path)?;
        if is_special(&canonical) {
            return Err(FsError::NotRegular);
        }
        let meta = std::fs::metadata(&canonical).map_err(|e| io_error(&e))?;
        if meta.is_dir() {
            Err(FsError::IsDir)
        } else if !meta.is_file() {
            Err(FsError::NotRegular)
        } else if meta.len() > self.limit {
            Err(FsError::TooLarge { limit: self.limit })
        } else {
            Ok(canonical)
        }
    }
}

/// The largest git index (`.git/index`) read, in bytes: the index of a
/// repository with a few hundred thousand tracked files.
pub const MAX_GIT_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// The largest `.git` *file* (a `gitdir: PATH` pointer of a linked worktree
/// or a submodule) read, in bytes.
const MAX_GIT_POINTER_BYTES: u64 = 4096;

/// The one file inside a `.git` directory rampart reads: the index of the
/// work tree whose top directory is `top` (the directory holding `.git`), to
/// know which files git tracks. Nothing else under `.git` is ever read
/// (`.git/config` holds the checkout's credentials in CI): the path read is
/// always `<git dir>/index`, a regular file (a link is not followed), at most
/// [`MAX_GIT_INDEX_BYTES`].
///
/// `.git` is a directory, or a regular file `gitdir: PATH` (a linked worktree,
/// a submodule) that is followed only when `PATH` resolves inside `top`; a
/// link named `.git` is never followed. `Ok(None)`: `top` has no `.git`.
/// `Err`: a plain reason the index was not read (the caller falls back to the
/// ignore rules alone and says so).
pub fn read_git_index(top: &Path) -> Result<Option<Vec<u8>>, String> {
    let dot = top.join(".git");
    let meta = match std::fs::symlink_metadata(&dot) {
        Ok(m) => m,
        Err(_) => return Ok(None),
    };
    let git_dir = if meta.file_type().is_symlink() {
        return Err("`.git` is a symbolic link; it is not followed".into());
    } else if meta.is_dir() {
        dot
    } else if meta.is_file() {
        let bytes = read_no_follow(&dot, MAX_GIT_POINTER_BYTES)?;
        let text = String::from_utf8_lossy(&bytes);
        let target = text
            .lines()
            .find_map(|l| l.strip_prefix("gitdir:"))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or("`.git` is a file without a `gitdir:` line")?;
        let target = top.join(target);
        let inside = match (std::fs::canonicalize(&target), std::fs::canonicalize(top)) {
            (Ok(t), Ok(root)) => t.starts_with(&root).then_some(t),
            _ => None,
        };
        inside.ok_or(
            "`.git` points outside the work tree (a linked worktree or a submodule); \
             its index is not read",
        )?
    } else {
        return Err("`.git` is not a directory or a regular file".into());
    };
    match read_no_follow(&git_dir.join("index"), MAX_GIT_INDEX_BYTES) {
        Ok(b) => Ok(Some(b)),
        Err(why) => Err(format!("the git index was not read: {why}")),
    }
}

/// The bytes of the regular file `path` (not a link, not special), at most
/// `limit` bytes (larger is an error).
fn read_no_follow(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| io_error(&e).to_string())?;
    let meta = file.metadata().map_err(|e| io_error(&e).to_string())?;
    if !meta.is_file() {
        return Err(FsError::NotRegular.to_string());
    }
    if meta.len() > limit {
        return Err(FsError::TooLarge { limit }.to_string());
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(&e).to_string())?;
    if bytes.len() as u64 > limit {
        return Err(FsError::TooLarge { limit }.to_string());
    }
    Ok(bytes)
}

/// Whether a canonical path lies under `/proc`, `/sys` or `/dev`.
fn is_special(canonical: &Path) -> bool {
    SPECIAL_TREES.iter().any(|t| canonical.starts_with(t))
}

/// An I/O error as a plain value (no OS error numbers).
fn io_error(e: &std::io::Error) -> FsError {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => FsError::NotFound,
        K::PermissionDenied => FsError::Io("permission denied".into()),
        K::IsADirectory => FsError::IsDir,
        K::NotADirectory => FsError::NotFound,
        _ if e.raw_os_error() == Some(libc::ELOOP) => {
            FsError::Io("too many levels of symbolic links".into())
        }
        k => FsError::Io(k.to_string().to_lowercase()),
    }
}

/// Lexical normalisation, the one copy: drops `.`, resolves `..` against
/// earlier components; a `..` that would climb above a relative start is
/// kept (so the result no longer lies under the root it came from), one
/// above `/` is dropped. No file system access.
pub fn normalize_path(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// [`normalize_path`] for a display path (`/`-separated text); `.` when
/// nothing is left.
pub fn normalize_display(path: &str) -> String {
    let p = normalize_path(Path::new(path));
    match p.to_string_lossy() {
        s if s.is_empty() => ".".to_string(),
        s => s.into_owned(),
    }
}

/// A path for reports: relative to `base` when below it, `/`-separated,
/// lexically normalised, each byte that is not UTF-8 shown as `\xNN` and a
/// backslash as `\\` (injective: see [`undisplay`]).
pub fn display(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    normalize_display(&escape(rel.as_os_str()))
}

/// The escaped form of a path's bytes (see [`display`]).
pub fn escape(s: &OsStr) -> String {
    let mut out = String::new();
    let mut rest = s.as_bytes();
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                push_escaped(&mut out, valid);
                break;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                push_escaped(&mut out, std::str::from_utf8(valid).unwrap_or_default());
                let bad = e.error_len().unwrap_or(after.len()).min(after.len());
                let (invalid, tail) = after.split_at(bad);
                for b in invalid {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                rest = tail;
            }
        }
    }
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for ch in s.chars() {
        if ch == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(ch);
        }
    }
}

/// The path bytes of a display path (the inverse of [`escape`]); relative
/// display paths are relative to the same base.
pub fn undisplay(shown: &str) -> PathBuf {
    let b = shown.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            match b.get(i + 1) {
                Some(b'\\') => {
                    out.push(b'\\');
                    i += 2;
                    continue;
                }
                Some(b'x') => {
                    let hex = b
                        .get(i + 2..i + 4)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        out.push(v);
                        i += 4;
                        continue;
                    }
                }
                _ => {}
            }
        }
        out.push(c);
        i += 1;
    }
    PathBuf::from(OsString::from_vec(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, PathBuf, Confined) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("repo");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/ok.txt"), "inside").unwrap();
        std::fs::write(d.path().join("outside.txt"), "OUTSIDE_TOKEN").unwrap();
        let c = Confined::new(&root, [PathBuf::from(".")]);
        (d, root, c)
    }

    #[test]
    fn plain_file_inside_is_read() {
        let (_d, _root, c) = tree();
        assert_eq!(c.read_text(Path::new("sub/ok.txt")).unwrap(), "inside");
        assert_eq!(c.read(Path::new("nope")), Err(FsError::NotFound));
    }

    #[test]
    fn nothing_inside_git_is_read_whatever_leads_there() {
        let (_d, root, c) = tree();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(
            root.join(".git/config"),
            "extraheader = AUTHORIZATION: basic x",
        )
        .unwrap();
        symlink(".git/config", root.join("Dockerfile")).unwrap();
        symlink(".git", root.join("g")).unwrap();
        for p in [
            ".git/config",
            "Dockerfile",
            "g/config",
            "sub/../.git/config",
        ] {
            assert_eq!(c.read(Path::new(p)), Err(FsError::GitDir), "{p}");
        }
        assert!(c.list(Path::new(".git")).is_err());
        // A name that merely contains `.git` is an ordinary file.
        std::fs::write(root.join(".gitignore"), "x").unwrap();
        assert!(c.read(Path::new(".gitignore")).is_ok());
    }

    #[test]
    fn link_to_etc_is_refused_naming_the_link() {
        let (_d, root, c) = tree();
        symlink("/etc", root.join("etclink")).unwrap();
        let e = c.read(Path::new("etclink/passwd")).unwrap_err();
        assert_eq!(
            e,
            FsError::OutsideRoot {
                link: "etclink".into(),
                through_link: true
            }
        );
        assert!(!e.to_string().contains("root:"));
        assert!(c.read(Path::new("etclink/hostname")).is_err());
    }

    #[test]
    fn link_to_proc_is_refused() {
        let (_d, root, c) = tree();
        symlink("/proc", root.join("proclink")).unwrap();
        assert_eq!(
            c.read(Path::new("proclink/self/environ")),
            Err(FsError::OutsideRoot {
                link: "proclink".into(),
                through_link: true
            })
        );
    }

    #[test]
    fn relative_escapes_are_refused() {
        let (_d, root, c) = tree();
        symlink("../outside.txt", root.join("up")).unwrap();
        symlink("../../../../../../../etc/passwd", root.join("sub/deep")).unwrap();
        assert_eq!(
            c.read(Path::new("up")),
            Err(FsError::OutsideRoot {
                link: "up".into(),
                through_link: true
            })
        );
        assert_eq!(
            c.read(Path::new("sub/deep")),
            Err(FsError::OutsideRoot {
                link: "sub/deep".into(),
                through_link: true
            })
        );
        // A plain `..` path, no link involved: the path itself is named.
        assert_eq!(
            c.read(Path::new("../outside.txt")),
            Err(FsError::OutsideRoot {
                link: "../outside.txt".into(),
                through_link: false
            })
        );
        assert!(matches!(
            c.read(Path::new("/etc/passwd")),
            Err(FsError::OutsideRoot { .. })
        ));
    }

    #[test]
    fn link_chains_are_resolved() {
        let (_d, root, c) = tree();
        symlink("b", root.join("a")).unwrap();
        symlink("sub/ok.txt", root.join("b")).unwrap();
        assert_eq!(c.read_text(Path::new("a")).unwrap(), "inside");
        symlink("d", root.join("c")).unwrap();
        symlink("../outside.txt", root.join("d")).unwrap();
        let e = c.read(Path::new("c")).unwrap_err();
        assert!(matches!(e, FsError::OutsideRoot { .. }), "{e:?}");
    }

    #[test]
    fn link_inside_to_inside_is_followed() {
        let (_d, root, c) = tree();
        symlink("sub", root.join("sublink")).unwrap();
        symlink("ok.txt", root.join("sub/alias.txt")).unwrap();
        assert_eq!(c.read_text(Path::new("sublink/ok.txt")).unwrap(), "inside");
        assert_eq!(c.read_text(Path::new("sub/alias.txt")).unwrap(), "inside");
    }

    #[test]
    fn special_files_are_never_opened() {
        let (_d, root, c) = tree();
        assert_eq!(c.read(Path::new("sub")), Err(FsError::IsDir));
        let fifo = root.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if made {
            // Opening a FIFO for reading would block: the test hanging is the failure.
            assert_eq!(c.read(Path::new("fifo")), Err(FsError::NotRegular));
        }
        // Even with `/` as a root, /proc and /dev are refused.
        let all = Confined::new(Path::new("/"), [PathBuf::from("/")]);
        assert_eq!(
            all.read(Path::new("/proc/self/environ")),
            Err(FsError::NotRegular)
        );
        assert_eq!(all.read(Path::new("/dev/null")), Err(FsError::NotRegular));
        let any = Confined::anywhere(Path::new("/"));
        assert_eq!(
            any.read(Path::new("/proc/self/environ")),
            Err(FsError::NotRegular)
        );
    }

    #[test]
    fn size_limit_by_metadata_and_by_read() {
        let (_d, _root, c) = tree();
        let small = c.clone().with_limit(3);
        assert_eq!(
            small.read(Path::new("sub/ok.txt")),
            Err(FsError::TooLarge { limit: 3 })
        );
        assert_eq!(
            c.with_limit(6).read(Path::new("sub/ok.txt")).unwrap().len(),
            6
        );
    }

    #[test]
    fn not_utf8_is_typed() {
        let (_d, root, c) = tree();
        std::fs::write(root.join("bin"), [0xff, 0xfe]).unwrap();
        assert_eq!(c.read_text(Path::new("bin")), Err(FsError::NotUtf8));
    }

    #[test]
    fn display_is_injective_and_reversible() {
        let base = Path::new("/w");
        let a = PathBuf::from(OsStr::from_bytes(b"/w/a\xff.env"));
        let b = PathBuf::from(OsStr::from_bytes(b"/w/a\xfe.env"));
        let c = PathBuf::from("/w/a\\xff.env");
        let (da, db, dc) = (display(base, &a), display(base, &b), display(base, &c));
        assert_eq!(da, "a\\xff.env");
        assert_eq!(dc, "a\\\\xff.env");
        assert!(da != db && da != dc && db != dc);
        for (p, d) in [(&a, &da), (&b, &db), (&c, &dc)] {
            assert_eq!(base.join(undisplay(d)), *p);
        }
        assert_eq!(display(base, Path::new("/w/ä/ok")), "ä/ok");
    }
    #[test]
    fn git_index_only_the_index_and_no_link() {
        let (d, root, _c) = tree();
        assert_eq!(read_git_index(&root), Ok(None));
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/config"), "SECRET_TOKEN").unwrap();
        std::fs::write(root.join(".git/index"), "DIRC").unwrap();
        assert_eq!(read_git_index(&root), Ok(Some(b"DIRC".to_vec())));
        // `index` as a link to the credentials is not followed.
        std::fs::remove_file(root.join(".git/index")).unwrap();
        symlink(root.join(".git/config"), root.join(".git/index")).unwrap();
        let e = read_git_index(&root).unwrap_err();
        assert!(!e.contains("SECRET_TOKEN"), "{e}");
        // `.git` as a link is not followed.
        let other = d.path().join("other");
        std::fs::create_dir_all(other.join(".git")).unwrap();
        std::fs::write(other.join(".git/index"), "DIRC").unwrap();
        let linked = d.path().join("linked");
        std::fs::create_dir_all(&linked).unwrap();
        symlink(other.join(".git"), linked.join(".git")).unwrap();
        assert!(read_git_index(&linked)
            .unwrap_err()
            .contains("symbolic link"));
    }

    #[test]
    fn git_index_is_bounded() {
        let (_d, root, _c) = tree();
        std::fs::write(root.join("big"), vec![b'x'; 100]).unwrap();
        assert_eq!(read_no_follow(&root.join("big"), 100).unwrap().len(), 100);
        let e = read_no_follow(&root.join("big"), 99).unwrap_err();
        assert!(e.contains("larger than 99 bytes"), "{e}");
    }

    #[test]
    fn git_file_pointer_is_followed_only_inside_the_work_tree() {
        let (d, root, _c) = tree();
        std::fs::create_dir_all(root.join("sub/gitdir")).unwrap();
        std::fs::write(root.join("sub/gitdir/index"), "DIRC").unwrap();
        std::fs::write(root.join(".git"), "gitdir: sub/gitdir\n").unwrap();
        assert_eq!(read_git_index(&root), Ok(Some(b"DIRC".to_vec())));
        std::fs::create_dir_all(d.path().join("elsewhere")).unwrap();
        std::fs::write(d.path().join("elsewhere/index"), "DIRC").unwrap();
        std::fs::write(root.join(".git"), "gitdir: ../elsewhere\n").unwrap();
        assert!(read_git_index(&root).unwrap_err().contains("outside"));
        std::fs::write(root.join(".git"), "nothing\n").unwrap();
        assert!(read_git_index(&root).is_err());
    }
}
