//! Caddyfile lexer: text → tokens with spans, following Caddy's lexing rules.
//!
//! Rules (as Caddy's own lexer applies them):
//! - tokens are separated by Unicode whitespace; `{`, `}` and `,` are only
//!   special to the parser, never to the lexer (`foo{` is one token);
//! - `"…"` at the start of a token is a quoted token: `\"` is a literal quote,
//!   every other backslash is kept, newlines are allowed inside;
//! - `` `…` `` at the start of a token is a raw token: no escapes at all;
//! - `#` at the start of a token starts a comment to the end of the line
//!   (mid-token it is literal);
//! - a backslash before a newline joins the next line to the current one
//!   (a line continuation); Caddy also applies this when the backslash sits
//!   anywhere in a comment, and so do we;
//! - a token `<<MARKER` followed directly by a newline opens a heredoc that
//!   ends at the first `MARKER`; the whitespace before the closing marker is
//!   stripped from every content line (a line that does not start with it is
//!   an error); `<<` followed by a space is an ordinary token; `\<<` escapes
//!   the heredoc syntax;
//! - placeholders (`{$ENV}`, `{env.X}`, `{args[0]}`…) are ordinary text here.

use crate::model::{FileId, InputProblem, Span};

/// How a token was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    /// Bare text.
    None,
    /// `"…"`.
    Double,
    /// `` `…` ``.
    Backtick,
    /// `<<MARKER … MARKER`.
    Heredoc,
}

/// One token.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    /// The text after unquoting (and, for imported tokens, argument substitution).
    pub text: String,
    /// Where it was written.
    pub span: Span,
    /// Logical line of its first byte (line continuations do not count).
    pub line: u32,
    /// Logical line of its last byte (quoted tokens and heredocs may span lines).
    pub end_line: u32,
    /// How it was quoted.
    pub quote: Quote,
    /// The snippet this token was defined in, if any (for import-cycle detection).
    pub snippet: Option<std::rc::Rc<str>>,
    /// The import that brought this token in: (what was imported, span of the `import` line).
    pub via: Option<std::rc::Rc<(String, Span)>>,
}

impl Token {
    /// Whether this is an unquoted `{`.
    pub fn is_open(&self) -> bool {
        self.quote == Quote::None && self.text == "{"
    }
    /// Whether this is an unquoted `}`.
    pub fn is_close(&self) -> bool {
        self.quote == Quote::None && self.text == "}"
    }
}

/// Whether `cur` starts a new line relative to `prev` (Caddy's rule: another
/// file, another import expansion, or a later logical line).
pub(crate) fn new_line(prev: &Token, cur: &Token) -> bool {
    let same_import = match (&prev.via, &cur.via) {
        (None, None) => true,
        (Some(a), Some(b)) => std::rc::Rc::ptr_eq(a, b),
        _ => false,
    };
    prev.span.file != cur.span.file || !same_import || prev.end_line < cur.line
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: u32,
    file: FileId,
    out: Vec<Token>,
    problems: &'a mut Vec<InputProblem>,
}

/// Lexes one file.
pub(crate) fn lex(file: FileId, src: &str, problems: &mut Vec<InputProblem>) -> Vec<Token> {
    let mut lx = Lexer {
        src,
        pos: 0,
        line: 1,
        file,
        out: Vec::new(),
        problems,
    };
    lx.run();
    lx.out
}

fn marker_ok(m: &str) -> bool {
    !m.is_empty()
        && m.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..).and_then(|s| s.chars().next())
    }
    fn peek_at(&self, at: usize) -> Option<char> {
        self.src.get(at..).and_then(|s| s.chars().next())
    }
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }
    /// Length of a newline (`\n` or `\r\n`) at `at`, or 0.
    fn newline_at(&self, at: usize) -> usize {
        match self.src.get(at..at + 1) {
            Some("\n") => 1,
            Some("\r") if self.src.get(at + 1..at + 2) == Some("\n") => 2,
            _ => 0,
        }
    }

    fn run(&mut self) {
        // Skip whitespace, comments and line continuations between tokens.
        while let Some(c) = self.peek() {
            if c == '\n' {
                self.line += 1;
                self.pos += 1;
                continue;
            }
            if c.is_whitespace() {
                self.pos += c.len_utf8();
                continue;
            }
            if c == '\\' {
                let nl = self.newline_at(self.pos + 1);
                if nl > 0 {
                    self.pos += 1 + nl;
                    continue;
                }
            }
            if c == '#' {
                self.comment();
                continue;
            }
            let start = self.pos;
            match c {
                '"' => self.quoted(start),
                '`' => self.backtick(start),
                _ => self.bare(start),
            }
        }
    }

    /// A comment runs to the end of the line; a backslash anywhere in it makes
    /// that newline a continuation (Caddy's behaviour).
    fn comment(&mut self) {
        let mut escaped = false;
        while let Some(c) = self.peek() {
            if c == '\n' {
                self.pos += 1;
                if !escaped {
                    self.line += 1;
                }
                return;
            }
            if c == '\\' {
                escaped = true;
            }
            self.pos += c.len_utf8();
        }
    }

    fn push(&mut self, text: String, start: usize, start_line: u32, quote: Quote) {
        let span = self.span(start, self.pos);
        self.out.push(Token {
            text,
            span,
            line: start_line,
            end_line: self.line,
            quote,
            snippet: None,
            via: None,
        });
    }

    fn quoted(&mut self, start: usize) {
        let start_line = self.line;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.problems.push(InputProblem::error(
                    "caddy-unterminated-quote",
                    self.span(start, self.pos),
                    "quoted string is not closed before the end of the file",
                ));
                break;
            };
            self.pos += c.len_utf8();
            match c {
                '"' => break,
                '\\' => match self.peek() {
                    Some('"') => {
                        self.pos += 1;
                        text.push('"');
                    }
                    Some(n) => {
                        self.pos += n.len_utf8();
                        if n == '\n' {
                            self.line += 1;
                        }
                        text.push('\\');
                        text.push(n);
                    }
                    None => text.push('\\'),
                },
                '\n' => {
                    self.line += 1;
                    text.push('\n');
                }
                _ => text.push(c),
            }
        }
        self.push(text, start, start_line, Quote::Double);
    }

    fn backtick(&mut self, start: usize) {
        let start_line = self.line;
        self.pos += 1;
        let body_start = self.pos;
        let mut body_end = self.src.len();
        let mut closed = false;
        while let Some(c) = self.peek() {
            if c == '`' {
                body_end = self.pos;
                self.pos += 1;
                closed = true;
                break;
            }
            if c == '\n' {
                self.line += 1;
            }
            self.pos += c.len_utf8();
        }
        if !closed {
            self.problems.push(InputProblem::error(
                "caddy-unterminated-quote",
                self.span(start, self.pos),
                "backtick-quoted string is not closed before the end of the file",
            ));
        }
        let text = self.src.get(body_start..body_end).unwrap_or("").to_string();
        self.push(text, start, start_line, Quote::Backtick);
    }

    fn bare(&mut self, start: usize) {
        let start_line = self.line;
        let mut text = String::new();
        let mut heredoc_escaped = false;
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                break;
            }
            if c == '\\' {
                let nl = self.newline_at(self.pos + 1);
                if nl > 0 {
                    // continuation: ends the token, the next one stays on this line
                    break;
                }
                match self.peek_at(self.pos + 1) {
                    Some('<') => {
                        heredoc_escaped = true;
                        text.push('<');
                        self.pos += 2;
                    }
                    Some(n) if !n.is_whitespace() => {
                        text.push('\\');
                        text.push(n);
                        self.pos += 1 + n.len_utf8();
                    }
                    _ => {
                        text.push('\\');
                        self.pos += 1;
                    }
                }
                continue;
            }
            text.push(c);
            self.pos += c.len_utf8();
        }
        if !heredoc_escaped && text.starts_with("<<") {
            let nl = self.newline_at(self.pos);
            if nl > 0 {
                self.heredoc(start, start_line, text, nl);
                return;
            }
        }
        self.push(text, start, start_line, Quote::None);
    }

    /// `opener` is `<<MARKER`, the lexer sits on the newline that follows it.
    fn heredoc(&mut self, start: usize, start_line: u32, opener: String, nl: usize) {
        let opener_span = self.span(start, self.pos);
        if opener == "<<" {
            self.problems.push(InputProblem::error(
                "caddy-heredoc",
                opener_span,
                "missing opening heredoc marker; it must contain only alphanumeric characters, dashes and underscores",
            ));
            self.push(opener, start, start_line, Quote::None);
            return;
        }
        if opener.starts_with("<<<") {
            self.problems.push(InputProblem::error(
                "caddy-heredoc",
                opener_span,
                "too many `<` for heredoc; only use two, for example `<<END`",
            ));
            self.push(opener, start, start_line, Quote::None);
            return;
        }
        let marker = opener.get(2..).unwrap_or("").to_string();
        if !marker_ok(&marker) {
            self.problems.push(InputProblem::error(
                "caddy-heredoc",
                opener_span,
                format!("heredoc marker must contain only alphanumeric characters, dashes and underscores; got `{marker}`"),
            ));
            self.push(opener, start, start_line, Quote::None);
            return;
        }
        self.pos += nl;
        self.line += 1;
        let body_start = self.pos;
        // Scan until the body ends with the marker (Caddy checks after every character).
        let mut found = None;
        while let Some(c) = self.peek() {
            self.pos += c.len_utf8();
            if c == '\n' {
                self.line += 1;
            }
            if self
                .src
                .get(body_start..self.pos)
                .is_some_and(|b| b.ends_with(marker.as_str()))
            {
                found = Some(self.pos - marker.len());
                break;
            }
        }
        let Some(marker_start) = found else {
            self.problems.push(InputProblem::error(
                "caddy-heredoc",
                self.span(start, self.pos),
                format!("incomplete heredoc `<<{marker}`, expected ending marker `{marker}`"),
            ));
            let raw = self.src.get(body_start..).unwrap_or("").to_string();
            self.push(raw, start, start_line, Quote::Heredoc);
            return;
        };
        let body = self.src.get(body_start..marker_start).unwrap_or("");
        let (content, padding) = match body.rfind('\n') {
            Some(nl) => (
                body.get(..=nl).unwrap_or(""),
                body.get(nl + 1..).unwrap_or(""),
            ),
            None => ("", body),
        };
        let mut out = String::new();
        let mut offset = body_start;
        let mut bad = false;
        for line in content.split_inclusive('\n') {
            let bare = line.trim_end_matches('\n');
            if bare.is_empty() || bare == "\r" {
                out.push('\n');
            } else if let Some(rest) = bare.strip_prefix(padding) {
                out.push_str(&rest.replace('\r', ""));
                out.push('\n');
            } else if !bad {
                bad = true;
                let shown = bare.trim_end_matches('\r');
                self.problems.push(InputProblem::error(
                    "caddy-heredoc",
                    self.span(offset, offset + bare.len()),
                    format!(
                        "mismatched leading whitespace in heredoc `<<{marker}` line `{shown}`, expected whitespace `{padding}` to match the closing marker"
                    ),
                ));
            }
            offset += line.len();
        }
        if out.ends_with('\n') {
            out.pop();
        }
        self.push(out, start, start_line, Quote::Heredoc);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn texts(src: &str) -> (Vec<String>, Vec<InputProblem>) {
        let mut p = Vec::new();
        let t = lex(FileId(0), src, &mut p);
        (t.into_iter().map(|t| t.text).collect(), p)
    }

    #[test]
    fn basic_tokens_and_quotes() {
        let (t, p) = texts("a \"b c\" `d \\\" e` f#g # comment\nh \"x\\\"y\\z\"");
        assert!(p.is_empty());
        assert_eq!(t, ["a", "b c", "d \\\" e", "f#g", "h", "x\"y\\z"]);
    }

    #[test]
    fn continuation_and_lines() {
        let mut p = Vec::new();
        let t = lex(FileId(0), "a \\\n b\nc", &mut p);
        assert_eq!(t.len(), 3);
        assert!(!new_line(&t[0], &t[1]));
        assert!(new_line(&t[1], &t[2]));
        // backslash in a comment continues the line (Caddy quirk)
        let t = lex(FileId(0), "a # C:\\x\nb", &mut p);
        assert!(!new_line(&t[0], &t[1]));
    }

    #[test]
    fn heredocs() {
        let (t, p) = texts("respond <<END\n    a\n      b\n    END\nnext");
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(t, ["respond", "a\n  b", "next"]);
        let (_, p) = texts("respond <<END\n\tline1\n  END\n");
        assert_eq!(p.len(), 1);
        assert!(p[0].message.contains("mismatched leading whitespace"));
        let (_, p) = texts("respond <<END!\nx\nEND!\n");
        assert!(p[0].message.contains("alphanumeric"));
        let (_, p) = texts("respond <<<END\nx\nEND\n");
        assert!(p[0].message.contains("too many"));
        let (t, p) = texts("respond << \nHello\n");
        assert!(p.is_empty());
        assert_eq!(t, ["respond", "<<", "Hello"]);
        let (t, _) = texts("respond \\<<END\n");
        assert_eq!(t, ["respond", "<<END"]);
        let (_, p) = texts("respond <<EOF\nnever closed");
        assert!(p[0].message.contains("incomplete heredoc"));
    }
}
