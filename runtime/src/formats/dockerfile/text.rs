//! Text assembled from pieces of a source file, with a map back to it.
//!
//! A Dockerfile instruction is read from several physical lines (continuations
//! joined, comment lines dropped); a JSON string is decoded from escapes. The
//! parsers work on the assembled text and ask [`Mapped::span`] for the source
//! range of any slice of it.

use crate::model::{FileId, Span};

/// One run of assembled text taken from one range of the source.
#[derive(Clone, Copy, Debug)]
struct Segment {
    /// First byte in the assembled text.
    text_start: usize,
    /// One past the last byte in the assembled text.
    text_end: usize,
    /// First source byte.
    src_start: usize,
    /// One past the last source byte.
    src_end: usize,
    /// Whether text and source bytes correspond one to one (copied verbatim);
    /// otherwise the whole text run maps to the whole source run (a decoded escape).
    linear: bool,
}

/// Assembled text with its source map.
///
/// INVARIANT: segments are sorted, contiguous in the text, non-decreasing in
/// the source, and every `src_start`/`src_end` lies on a char boundary of the
/// source; so [`Mapped::span`] of a char-aligned text range is char-aligned.
#[derive(Clone, Debug)]
pub struct Mapped {
    file: FileId,
    text: String,
    segments: Vec<Segment>,
    /// Source offset an empty text maps to.
    anchor: usize,
}

impl Mapped {
    /// An empty text; empty spans of it point at `anchor`.
    pub fn new(file: FileId, anchor: usize) -> Self {
        Mapped {
            file,
            text: String::new(),
            segments: Vec::new(),
            anchor,
        }
    }

    /// A text copied verbatim from the source at `src_start`.
    pub fn verbatim(file: FileId, s: &str, src_start: usize) -> Self {
        let mut m = Mapped::new(file, src_start);
        m.push_verbatim(s, src_start);
        m
    }

    /// The assembled text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file the text came from.
    pub fn file(&self) -> FileId {
        self.file
    }

    /// Appends `s`, copied verbatim from the source at `src_start`.
    pub fn push_verbatim(&mut self, s: &str, src_start: usize) {
        if s.is_empty() {
            return;
        }
        let text_start = self.text.len();
        self.text.push_str(s);
        if let Some(last) = self.segments.last_mut() {
            if last.linear && last.text_end == text_start && last.src_end == src_start {
                last.text_end += s.len();
                last.src_end += s.len();
                return;
            }
        }
        self.segments.push(Segment {
            text_start,
            text_end: self.text.len(),
            src_start,
            src_end: src_start + s.len(),
            linear: true,
        });
    }

    /// Appends `s`, decoded from the source range `src_start..src_end`.
    pub fn push_decoded(&mut self, s: &str, src_start: usize, src_end: usize) {
        if s.is_empty() {
            return;
        }
        let text_start = self.text.len();
        self.text.push_str(s);
        self.segments.push(Segment {
            text_start,
            text_end: self.text.len(),
            src_start,
            src_end: src_end.max(src_start),
            linear: false,
        });
    }

    /// Appends a slice `a..b` of another mapped text, keeping its mapping.
    pub fn push_slice(&mut self, other: &Mapped, a: usize, b: usize) {
        let Some(slice) = other.text.get(a..b) else {
            return;
        };
        if slice.is_empty() {
            return;
        }
        // Walk the other text's segments overlapping a..b.
        let first = other.segments.partition_point(|s| s.text_end <= a);
        for seg in other.segments.get(first..).unwrap_or(&[]) {
            if seg.text_start >= b {
                break;
            }
            let lo = seg.text_start.max(a);
            let hi = seg.text_end.min(b);
            if lo >= hi {
                continue;
            }
            let Some(part) = other.text.get(lo..hi) else {
                continue;
            };
            if seg.linear {
                let off = seg.src_start + (lo - seg.text_start);
                self.push_verbatim(part, off);
            } else {
                self.push_decoded(part, seg.src_start, seg.src_end);
            }
        }
    }

    /// The text range `a..b` as its own mapped text.
    pub fn slice(&self, a: usize, b: usize) -> Mapped {
        let mut m = Mapped::new(self.file, self.src_start_of(a));
        m.push_slice(self, a, b);
        m
    }

    fn segment_at(&self, i: usize) -> Option<&Segment> {
        let idx = self.segments.partition_point(|s| s.text_end <= i);
        self.segments.get(idx).filter(|s| s.text_start <= i)
    }

    /// Source offset where the text byte `i` starts.
    fn src_start_of(&self, i: usize) -> usize {
        match self.segment_at(i) {
            Some(seg) if seg.linear => seg.src_start + (i - seg.text_start),
            Some(seg) => seg.src_start,
            None => self.segments.last().map_or(self.anchor, |s| s.src_end),
        }
    }

    /// Source offset just past the text byte `i`.
    fn src_end_of(&self, i: usize) -> usize {
        match self.segment_at(i) {
            Some(seg) if seg.linear => seg.src_start + (i - seg.text_start) + 1,
            Some(seg) => seg.src_end,
            None => self.segments.last().map_or(self.anchor, |s| s.src_end),
        }
    }

    /// The source span of the text range `a..b` (char-aligned in the text).
    pub fn span(&self, a: usize, b: usize) -> Span {
        if a >= b {
            let p = self.src_start_of(a);
            return Span::new(self.file, p, p);
        }
        Span::new(self.file, self.src_start_of(a), self.src_end_of(b - 1))
    }

    /// The source span of the whole text.
    pub fn full_span(&self) -> Span {
        self.span(0, self.text.len())
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_pieces_map_back() {
        let f = FileId(0);
        // source: "RUN a \\\n  && b"
        let mut m = Mapped::new(f, 0);
        m.push_verbatim("RUN a ", 0);
        m.push_verbatim("  && b", 8);
        assert_eq!(m.text(), "RUN a   && b");
        assert_eq!(m.span(4, 5), Span::new(f, 4, 5));
        assert_eq!(m.span(8, 10), Span::new(f, 10, 12));
        assert_eq!(m.span(4, 12), Span::new(f, 4, 14));
        assert_eq!(m.span(12, 12), Span::new(f, 14, 14));
    }

    #[test]
    fn decoded_pieces_cover_their_escape() {
        let f = FileId(0);
        // source: "\"a\\nb\"" -> a, \n, b
        let mut m = Mapped::new(f, 0);
        m.push_verbatim("a", 1);
        m.push_decoded("\n", 2, 4);
        m.push_verbatim("b", 4);
        assert_eq!(m.span(1, 2), Span::new(f, 2, 4));
        assert_eq!(m.span(0, 3), Span::new(f, 1, 5));
        let mut n = Mapped::new(f, 0);
        n.push_slice(&m, 1, 3);
        assert_eq!(n.text(), "\nb");
        assert_eq!(n.full_span(), Span::new(f, 2, 5));
    }
}
