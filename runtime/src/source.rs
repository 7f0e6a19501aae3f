//! Source files of a run and position lookup.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::{FileId, Span};

/// One file's text and its display path.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// Path as shown in reports (relative to the working directory, `/`-separated).
    pub path: String,
    /// The text.
    pub text: Arc<str>,
    /// Byte offset of each line start.
    line_starts: Vec<usize>,
}

/// The byte offset of 1-based `line` and `column` (in characters) in
/// `text`, clamped to the text: the inverse of [`SourceFile::line_col`],
/// for positions other libraries report (YAML, CEL). Column 0 counts as 1.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let within: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + within;
        }
        offset += l.len();
    }
    text.len()
}

/// Byte offset of each line start of `text` (the first is 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// 1-based line and column (in characters) of byte `offset` in `text`,
/// for a text read once (a [`SourceFile`] keeps its line starts).
pub fn line_col_in(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl SourceFile {
    fn new(path: String, text: Arc<str>) -> Self {
        let line_starts = line_starts(&text);
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// The byte range of 1-based line `line` (without its newline).
    pub fn line_range(&self, line: usize) -> Option<(usize, usize)> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |e| e.saturating_sub(1));
        Some((start, end.max(start)))
    }
}

/// Every file read in a run, addressed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The first file of each display path (lookups stay constant-time on
    /// monorepos: every input and every link asks).
    by_path: HashMap<String, FileId>,
}

impl SourceMap {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<Arc<str>>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        let path = path.into();
        self.by_path.entry(path.clone()).or_insert(id);
        self.files.push(SourceFile::new(path, text.into()));
        id
    }

    /// The file `id`.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The id of the file with display path `path`.
    pub fn find(&self, path: &str) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    /// Start line/column and end line/column (1-based) of a span.
    pub fn location(&self, span: Span) -> Option<Location> {
        let f = self.get(span.file)?;
        let (line, column) = f.line_col(span.start());
        let (end_line, end_column) = f.line_col(span.end());
        Some(Location {
            path: f.path.clone(),
            line,
            column,
            end_line,
            end_column,
        })
    }

    /// All files, in id order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A resolved location.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Display path.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based end column (exclusive, characters).
    pub end_column: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        let mut m = SourceMap::default();
        let id = m.add("a.yml", "ab\ncdé\nf");
        let f = m.get(id).unwrap();
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(7), (2, 4));
        assert_eq!(f.line_col(8), (3, 1));
        assert_eq!(f.line_range(2), Some((3, 7)));
        assert_eq!(m.find("a.yml"), Some(id));
        for offset in [0, 3, 7, 8] {
            let (l, c) = f.line_col(offset);
            assert_eq!(offset_of(&f.text, l, c), offset);
        }
        assert_eq!(offset_of(&f.text, 9, 1), f.text.len());
    }
}
