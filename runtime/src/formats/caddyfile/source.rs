//! Where imported files come from: a read callback, so the core never touches
//! the file system itself (tests use [`MemSource`], the CLI [`FsSource`]).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::model::FileId;

/// Why a file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// No such file.
    NotFound,
    /// The path names a directory.
    IsDir,
    /// Any other failure (too large, not UTF-8, permission…), described.
    Other(String),
    /// Refused: the path leads outside the scan root through a link (the
    /// message names the link); a warning, the check goes on.
    Refused(String),
}

/// Reads files for `import`. Paths are lexically normalised and lie under the
/// scan root when this is called.
pub trait FileSource {
    /// The text of the file at `path`, with the id its spans use. Reading the
    /// same path twice should return the same id.
    fn read(&mut self, path: &Path) -> Result<(FileId, String), ReadError>;
    /// The names of the entries of directory `dir` (files and directories).
    fn list(&mut self, dir: &Path) -> Result<Vec<String>, ReadError>;
}

/// An in-memory file tree (for tests and for callers that already hold the text).
#[derive(Clone, Debug, Default)]
pub struct MemSource {
    files: BTreeMap<PathBuf, (FileId, String)>,
}

impl MemSource {
    /// An empty tree.
    pub fn new() -> Self {
        MemSource::default()
    }
    /// Adds a file with its id.
    pub fn insert(&mut self, path: impl Into<PathBuf>, id: FileId, text: impl Into<String>) {
        self.files
            .insert(normalize(&path.into()), (id, text.into()));
    }
    /// The path a file id was registered under.
    pub fn path_of(&self, id: FileId) -> Option<&Path> {
        self.files
            .iter()
            .find(|(_, (i, _))| *i == id)
            .map(|(p, _)| p.as_path())
    }
}

impl FileSource for MemSource {
    fn read(&mut self, path: &Path) -> Result<(FileId, String), ReadError> {
        if let Some((id, text)) = self.files.get(&normalize(path)) {
            return Ok((*id, text.clone()));
        }
        let p = normalize(path);
        if self.files.keys().any(|k| k.starts_with(&p) && k != &p) {
            return Err(ReadError::IsDir);
        }
        Err(ReadError::NotFound)
    }
    fn list(&mut self, dir: &Path) -> Result<Vec<String>, ReadError> {
        let dir = normalize(dir);
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&dir).ok())
            .filter_map(|rest| rest.components().next())
            .filter_map(|c| match c {
                Component::Normal(n) => n.to_str().map(str::to_string),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

/// Reads the real file system through the confined layer (anywhere the
/// operator points it, only regular files, bounded); assigns file ids from
/// `first_id` upwards.
#[derive(Debug)]
pub struct FsSource {
    next: u32,
    fs: crate::fs::Confined,
    /// Every file read, with its id (so the caller can build its source map).
    pub files: Vec<(FileId, PathBuf, String)>,
}

impl FsSource {
    /// A source whose first file gets id `first_id`.
    pub fn new(first_id: u32) -> Self {
        FsSource {
            next: first_id,
            fs: crate::fs::Confined::anywhere(Path::new("")),
            files: Vec::new(),
        }
    }
}

impl FileSource for FsSource {
    fn read(&mut self, path: &Path) -> Result<(FileId, String), ReadError> {
        if let Some((id, _, text)) = self.files.iter().find(|(_, p, _)| p == path) {
            return Ok((*id, text.clone()));
        }
        let text = self.fs.read_text(path).map_err(read_error)?;
        let id = FileId(self.next);
        self.next = self.next.saturating_add(1);
        self.files.push((id, path.to_path_buf(), text.clone()));
        Ok((id, text))
    }
    fn list(&mut self, dir: &Path) -> Result<Vec<String>, ReadError> {
        let names = self.fs.list(dir).map_err(read_error)?;
        Ok(names
            .into_iter()
            .filter_map(|n| n.to_str().map(str::to_string))
            .collect())
    }
}

/// A confined-read failure as the import resolver sees it.
pub fn read_error(e: crate::fs::FsError) -> ReadError {
    use crate::fs::FsError;
    match e {
        FsError::NotFound => ReadError::NotFound,
        FsError::IsDir => ReadError::IsDir,
        FsError::OutsideRoot { .. } => ReadError::Refused(e.to_string()),
        e => ReadError::Other(e.to_string()),
    }
}

/// Lexical normalisation (see [`crate::fs::normalize_path`]).
pub use crate::fs::normalize_path as normalize;

/// Matches one path component against a Go-`filepath.Match`-style pattern
/// with `*` and `?` (Caddy rejects patterns with character classes).
pub fn component_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // iterative wildcard matching with backtracking on the last `*`
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || Some(&c) == n.get(ni) => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    while p.get(pi) == Some(&'*') {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn normalise_and_match() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(normalize(Path::new("a/../../x")), PathBuf::from("../x"));
        assert!(component_matches("*.conf", "a.conf"));
        assert!(component_matches("import_glob?.txt", "import_glob1.txt"));
        assert!(!component_matches("*.conf", "a.conf.bak"));
        assert!(component_matches("*", ".dotfile"));
    }

    #[test]
    fn mem_source_lists() {
        let mut m = MemSource::new();
        m.insert("/r/a/x.txt", FileId(1), "x");
        m.insert("/r/a/b/y.txt", FileId(2), "y");
        assert_eq!(m.list(Path::new("/r/a")).unwrap(), ["b", "x.txt"]);
        assert_eq!(m.read(Path::new("/r/a/b")), Err(ReadError::IsDir));
        assert_eq!(m.read(Path::new("/r/a/./x.txt")).unwrap().1, "x");
    }
}
