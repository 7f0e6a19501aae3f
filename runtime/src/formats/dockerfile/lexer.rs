//! From physical lines to logical instructions: parser directives, line
//! continuations, comment lines and heredoc bodies.
//!
//! Follows BuildKit's reader: directives are only recognised in the leading
//! `# key=value` comment block; a line ending with the escape character
//! continues on the next one (the escape and the line break are dropped, the
//! next line keeps its indentation); comment and blank lines inside a
//! continuation are skipped; after a `RUN`/`COPY`/`ADD` line in shell form, each
//! `<<WORD` reads the following lines up to the line `WORD`.

use super::text::Mapped;
use crate::model::{FileId, InputProblem, Span};

/// A parser directive from the top of the file.
#[derive(Clone, Debug)]
pub struct Directive {
    /// Lower-case name: `syntax`, `escape` or `check`.
    pub name: String,
    /// Span of the name.
    pub name_span: Span,
    /// Value, trimmed.
    pub value: String,
    /// Span of the value.
    pub value_span: Span,
    /// Span of the whole directive line.
    pub span: Span,
}

/// One heredoc attached to an instruction.
#[derive(Clone, Debug)]
pub struct Heredoc {
    /// Text range of the `<<WORD` marker in the instruction's logical line.
    pub marker: (usize, usize),
    /// The body: every line up to the terminator, each ending in `\n`.
    pub body: Mapped,
    /// Span from the first body line through the terminator line.
    pub span: Span,
}

/// An instruction as read from its lines, before interpretation.
#[derive(Clone, Debug)]
pub struct RawInstruction {
    /// The logical line, leading whitespace removed, continuations joined.
    pub text: Mapped,
    /// 1-based line of its first character.
    pub line: usize,
    /// The whole instruction, heredoc bodies included.
    pub span: Span,
    /// Heredocs, in the order of their markers.
    pub heredocs: Vec<Heredoc>,
}

/// The result of reading a Dockerfile's lines.
#[derive(Clone, Debug, Default)]
pub struct Lexed {
    pub directives: Vec<Directive>,
    pub escape: char,
    pub instructions: Vec<RawInstruction>,
}

/// Instructions that may carry heredocs (shell form only).
const HEREDOC_INSTRUCTIONS: [&str; 3] = ["RUN", "COPY", "ADD"];

/// At most this many heredocs are read for one instruction.
const MAX_HEREDOCS_PER_INSTRUCTION: usize = 64;

/// Instructions read from one Dockerfile; the rest of a longer file is not
/// checked (an error at the first instruction left out).
pub const MAX_INSTRUCTIONS: usize = 10_000;

/// A physical line: content range (line break excluded, `\r` excluded).
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    end: usize,
}

fn split_lines(src: &str, from: usize) -> Vec<Line> {
    let mut lines = Vec::new();
    let bytes = src.as_bytes();
    let mut start = from;
    while start < src.len() {
        let nl = src
            .get(start..)
            .and_then(|r| r.find('\n'))
            .map(|i| start + i);
        let (mut end, next) = match nl {
            Some(i) => (i, i + 1),
            None => (src.len(), src.len()),
        };
        if end > start && bytes.get(end - 1) == Some(&b'\r') {
            end -= 1;
        }
        lines.push(Line { start, end });
        start = next;
    }
    lines
}

fn is_blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn is_comment(s: &str) -> bool {
    s.trim_start().starts_with('#')
}

/// A byte range `start..end` within a line.
type Range = (usize, usize);

/// `# key = value` at the top of the file: (key, key range, value range) in `s`.
fn directive_parts(s: &str) -> Option<(&str, Range, Range)> {
    let lead = s.len() - s.trim_start().len();
    let rest = s.get(lead..)?.strip_prefix('#')?;
    let mut i = lead + 1;
    let after_ws = rest.trim_start_matches([' ', '\t']);
    i += rest.len() - after_ws.len();
    let key_len = after_ws
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
        .map_or(after_ws.len(), |(j, _)| j);
    let key = after_ws.get(..key_len)?;
    if key.is_empty() || !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let key_range = (i, i + key_len);
    i += key_len;
    let rest = after_ws.get(key_len..)?;
    let after_ws = rest.trim_start_matches([' ', '\t']);
    i += rest.len() - after_ws.len();
    let value = after_ws.strip_prefix('=')?;
    i += 1;
    let trimmed = value.trim_start_matches([' ', '\t']);
    i += value.len() - trimmed.len();
    let trimmed = trimmed.trim_end();
    if trimmed.is_empty() {
        return None;
    }
    Some((key, key_range, (i, i + trimmed.len())))
}

/// If `s` ends with the escape character (then optional blanks), the text before it.
fn strip_continuation(s: &str, escape: char) -> Option<&str> {
    s.trim_end_matches([' ', '\t']).strip_suffix(escape)
}

/// Reads directives and logical instructions.
pub fn lex(file: FileId, src: &str, problems: &mut Vec<InputProblem>) -> Lexed {
    let from = if src.starts_with('\u{feff}') { 3 } else { 0 };
    let lines = split_lines(src, from);
    let line_text = |l: &Line| src.get(l.start..l.end).unwrap_or("");

    let mut out = Lexed {
        escape: '\\',
        ..Lexed::default()
    };

    // Parser directives: the leading run of `# key=value` lines with known keys.
    let mut idx = 0;
    while let Some(line) = lines.get(idx) {
        let text = line_text(line);
        let Some((key, kr, vr)) = directive_parts(text) else {
            break;
        };
        let name = key.to_ascii_lowercase();
        if !matches!(name.as_str(), "syntax" | "escape" | "check") {
            break;
        }
        let value = text.get(vr.0..vr.1).unwrap_or("").to_string();
        let d = Directive {
            name,
            name_span: Span::new(file, line.start + kr.0, line.start + kr.1),
            value,
            value_span: Span::new(file, line.start + vr.0, line.start + vr.1),
            span: Span::new(file, line.start, line.end),
        };
        if out.directives.iter().any(|o| o.name == d.name) {
            problems.push(InputProblem::error(
                "dockerfile-directive",
                d.span,
                format!("parser directive `{}` given more than once", d.name),
            ));
        } else {
            if d.name == "escape" {
                match d.value.as_str() {
                    "\\" => out.escape = '\\',
                    "`" => out.escape = '`',
                    _ => problems.push(InputProblem::error(
                        "dockerfile-directive",
                        d.value_span,
                        format!(
                            "invalid escape character `{}`: must be a backslash or a backtick",
                            d.value
                        ),
                    )),
                }
            }
            out.directives.push(d);
        }
        idx += 1;
    }

    let escape = out.escape;
    while let Some(first) = lines.get(idx) {
        let first_idx = idx;
        idx += 1;
        let text = line_text(first);
        if is_blank(text) || is_comment(text) {
            continue;
        }
        if out.instructions.len() >= MAX_INSTRUCTIONS {
            problems.push(InputProblem::error(
                "dockerfile-too-many-instructions",
                Span::new(file, first.start, first.end),
                format!(
                    "the Dockerfile has more than {MAX_INSTRUCTIONS} instructions (the limit); \
                     this one and the rest of the file are not checked"
                ),
            ));
            break;
        }
        let lead = text.len() - text.trim_start().len();
        let start = first.start + lead;
        let mut logical = Mapped::new(file, start);
        let mut end = first.end;
        let body = text.get(lead..).unwrap_or("");
        let mut continued = match strip_continuation(body, escape) {
            Some(before) => {
                logical.push_verbatim(before, start);
                true
            }
            None => {
                logical.push_verbatim(body, start);
                false
            }
        };
        while continued {
            let Some(next) = lines.get(idx) else {
                break;
            };
            idx += 1;
            let t = line_text(next);
            if is_comment(t) || is_blank(t) {
                continue;
            }
            end = next.end;
            match strip_continuation(t, escape) {
                Some(before) => logical.push_verbatim(before, next.start),
                None => {
                    logical.push_verbatim(t, next.start);
                    continued = false;
                }
            }
        }
        let line_no = first_idx + 1;

        let mut heredocs = Vec::new();
        if may_have_heredocs(logical.text()) {
            for marker in heredoc_markers(logical.text(), escape)
                .into_iter()
                .take(MAX_HEREDOCS_PER_INSTRUCTION)
            {
                let body_anchor = lines.get(idx).map_or(src.len(), |l| l.start);
                let mut body = Mapped::new(file, body_anchor);
                let mut terminated = false;
                let mut last_end = body_anchor;
                while let Some(l) = lines.get(idx) {
                    idx += 1;
                    let t = line_text(l);
                    let (t, off) = if marker.strip_tabs {
                        let s = t.trim_start_matches('\t');
                        (s, l.start + (t.len() - s.len()))
                    } else {
                        (t, l.start)
                    };
                    last_end = l.end;
                    if t.trim_end() == marker.name {
                        terminated = true;
                        break;
                    }
                    body.push_verbatim(t, off);
                    body.push_verbatim("\n", off + t.len());
                }
                let hd_span = Span::new(file, body_anchor, last_end.max(body_anchor));
                if !terminated {
                    problems.push(InputProblem::error(
                        "dockerfile-heredoc",
                        logical.span(marker.range.0, marker.range.1),
                        format!("heredoc `{}` is not terminated", marker.name),
                    ));
                }
                end = end.max(last_end);
                heredocs.push(Heredoc {
                    marker: marker.range,
                    body,
                    span: hd_span,
                });
            }
        }
        out.instructions.push(RawInstruction {
            span: Span::new(file, start, end.max(start)),
            text: logical,
            line: line_no,
            heredocs,
        });
    }
    out
}

/// Whether the instruction can carry heredocs: RUN/COPY/ADD (also after
/// ONBUILD) not in JSON form.
fn may_have_heredocs(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let Some(mut name) = words.next() else {
        return false;
    };
    if name.eq_ignore_ascii_case("ONBUILD") {
        let Some(inner) = words.next() else {
            return false;
        };
        name = inner;
    }
    if !HEREDOC_INSTRUCTIONS
        .iter()
        .any(|h| h.eq_ignore_ascii_case(name))
    {
        return false;
    }
    // JSON form never has heredocs; skip flags to find the arguments.
    let rest: Vec<&str> = words.skip_while(|w| w.starts_with("--")).collect();
    let joined = rest.join(" ");
    super::json::parse_string_array(&Mapped::verbatim(FileId(0), &joined, 0)).is_none()
}

/// A `<<WORD` marker found in a logical line.
#[derive(Clone, Debug)]
struct Marker {
    name: String,
    strip_tabs: bool,
    range: (usize, usize),
}

/// Finds heredoc markers: words (split on unquoted blanks) of the form
/// `[digits]<<[-]WORD`, with `WORD` possibly quoted; `<<<` is not one.
fn heredoc_markers(text: &str, escape: char) -> Vec<Marker> {
    let mut out = Vec::new();
    for (a, b) in shell_words(text, escape) {
        let Some(word) = text.get(a..b) else {
            continue;
        };
        let digits = word.len() - word.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let Some(rest) = word.get(digits..).and_then(|w| w.strip_prefix("<<")) else {
            continue;
        };
        let (strip_tabs, rest) = match rest.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if rest.is_empty() || rest.contains('<') {
            continue;
        }
        let name: String = rest.chars().filter(|c| *c != '"' && *c != '\'').collect();
        if name.is_empty() {
            continue;
        }
        out.push(Marker {
            name,
            strip_tabs,
            range: (a, b),
        });
    }
    out
}

/// Byte ranges of the words of `text`, split on unquoted blanks.
pub fn shell_words(text: &str, escape: char) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == escape && q == '"' {
                    chars.next();
                }
            }
            None => {
                if c == ' ' || c == '\t' {
                    if let Some(s) = start.take() {
                        out.push((s, i));
                    }
                    continue;
                }
                if start.is_none() {
                    start = Some(i);
                }
                if c == '"' || c == '\'' {
                    quote = Some(c);
                } else if c == escape {
                    chars.next();
                }
            }
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
mod tests {
    use super::*;

    fn lexed(src: &str) -> (Lexed, Vec<InputProblem>) {
        let mut p = Vec::new();
        let l = lex(FileId(0), src, &mut p);
        (l, p)
    }

    #[test]
    fn directives_only_at_top() {
        let (l, p) = lexed("# syntax=docker/dockerfile:1\n#escape = `\nFROM x\n# check=skip=all\n");
        assert!(p.is_empty());
        assert_eq!(l.directives.len(), 2);
        assert_eq!(l.escape, '`');
        assert_eq!(l.instructions.len(), 1);
        let (l, _) = lexed("# hello\n# escape=`\nFROM x\n");
        assert_eq!(l.escape, '\\');
        assert!(l.directives.is_empty());
        let (l, _) = lexed("\n# escape=`\nFROM x\n");
        assert!(l.directives.is_empty());
    }

    #[test]
    fn duplicate_and_bad_directives() {
        let (_, p) = lexed("# escape=`\n# escape=\\\nFROM x\n");
        assert_eq!(p.len(), 1);
        let (l, p) = lexed("# escape=x\nFROM x\n");
        assert_eq!(p.len(), 1);
        assert_eq!(l.escape, '\\');
    }

    #[test]
    fn continuations_skip_comments_and_blank_lines() {
        let src = "RUN a \\\n# note\n\n    && b \\  \n    c\nCMD x\n";
        let (l, _) = lexed(src);
        assert_eq!(l.instructions.len(), 2);
        let i = &l.instructions[0];
        assert_eq!(i.text.text(), "RUN a     && b     c");
        assert_eq!(i.line, 1);
        assert_eq!(
            &src[i.span.start()..i.span.end()],
            "RUN a \\\n# note\n\n    && b \\  \n    c"
        );
        assert_eq!(l.instructions[1].line, 6);
    }

    #[test]
    fn backtick_escape() {
        let src = "# escape=`\nFROM x\nRUN dir C:\\ `\n  /s\nRUN echo C:\\\n";
        let (l, _) = lexed(src);
        assert_eq!(l.instructions.len(), 3);
        assert_eq!(l.instructions[1].text.text(), "RUN dir C:\\   /s");
        assert_eq!(l.instructions[2].text.text(), "RUN echo C:\\");
    }

    #[test]
    fn heredocs() {
        let src =
            "RUN <<EOF\napt-get update\nEOF\nCOPY <<-\"A\" <<B /x\n\tone\n\tA\ntwo\nB\nCMD y\n";
        let (l, p) = lexed(src);
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(l.instructions.len(), 3);
        let r = &l.instructions[0];
        assert_eq!(r.heredocs.len(), 1);
        assert_eq!(r.heredocs[0].body.text(), "apt-get update\n");
        assert_eq!(
            &src[r.span.start()..r.span.end()],
            "RUN <<EOF\napt-get update\nEOF"
        );
        let c = &l.instructions[1];
        assert_eq!(c.heredocs.len(), 2);
        assert_eq!(c.heredocs[0].body.text(), "one\n");
        assert_eq!(c.heredocs[1].body.text(), "two\n");
        assert_eq!(l.instructions[2].line, 9);
    }

    #[test]
    fn no_heredoc_in_json_or_here_string() {
        let (l, _) = lexed("RUN [\"sh\", \"-c\", \"cat <<EOF\"]\nRUN cat <<<x\nCMD a\n");
        assert_eq!(l.instructions.len(), 3);
        assert!(l.instructions.iter().all(|i| i.heredocs.is_empty()));
    }

    #[test]
    fn unterminated_heredoc_is_error() {
        let (l, p) = lexed("RUN <<EOF\necho\n");
        assert_eq!(p.len(), 1);
        assert_eq!(l.instructions[0].heredocs[0].body.text(), "echo\n");
    }

    #[test]
    fn crlf_and_bom() {
        let (l, _) = lexed("\u{feff}FROM x\r\nRUN a \\\r\n b\r\n");
        assert_eq!(l.instructions.len(), 2);
        assert_eq!(l.instructions[1].text.text(), "RUN a  b");
    }
}
