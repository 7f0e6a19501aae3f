//! Lexer and parser for the nginx configuration grammar: directives, blocks,
//! quoted strings, comments, and `*_by_lua_block` raw blocks.
//!
//! The grammar follows nginx's own tokenizer (`ngx_conf_read_token`):
//! - a token is a word or a single- or double-quoted string; whitespace is
//!   space, tab, CR and LF;
//! - `#` starts a comment only at the start of a token (`a#b` is one word);
//! - `;` ends a directive, `{` opens a block, `}` closes one — but `}` ends
//!   nothing inside a word (`ok}` is one word, as in nginx), and `{` right after
//!   `$` is part of a `${var}` reference;
//! - a backslash escapes the next character; `\"`, `\'`, `\\` lose their
//!   backslash and `\t`, `\r`, `\n` become control characters, every other
//!   `\x` is kept verbatim (regexes keep `\.`);
//! - a quoted string must be followed by whitespace, `;`, `{` or `)`.
//!
//! There is no directive whitelist: `map`, `types`, `geo`, `upstream`, `if`
//! blocks are parsed generically (a map entry is a directive named by its key).
//! A block opened by a directive whose name ends in `_by_lua_block` is kept as
//! raw text, skipped brace-balanced and Lua-string aware.
//!
//! Errors are collected with their location; parsing goes on.

use std::sync::Arc;

use crate::model::{FileId, InputProblem, Span};

/// Deepest block nesting accepted; deeper blocks are skipped with an error.
pub const MAX_DEPTH: usize = 100;

/// One token of a directive: its name or an argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The text after unquoting and escape processing; `$var` and `${var}`
    /// are kept verbatim.
    pub text: String,
    /// The source text, quotes included.
    pub span: Span,
    /// Whether the token was written in quotes.
    pub quoted: bool,
}

/// One directive: `name args… ;` or `name args… { block }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The directive name (a map/types/geo entry: its key).
    pub name: Word,
    /// The arguments, in order.
    pub args: Vec<Word>,
    /// The children, when the directive has a block (not for raw blocks).
    pub block: Option<Vec<Directive>>,
    /// The body of a `*_by_lua_block { … }`, verbatim, with its span.
    pub raw: Option<(String, Span)>,
    /// From the name through the closing `;` or `}`.
    pub span: Span,
    /// From the name through the last argument (the "directive line").
    pub head: Span,
    /// For `include`: the expanded directives of each file it resolved to, in
    /// order, parallel to `included_files` (filled by the loader; empty
    /// otherwise). A file included at several places is shared, not copied.
    pub included: Vec<Arc<Vec<Directive>>>,
    /// For `include`: the files it resolved to, relative to the scan root.
    pub included_files: Vec<String>,
}

impl Directive {
    /// The text of argument `i`.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(|w| w.text.as_str())
    }

    /// Whether the directive is named `name`.
    pub fn is(&self, name: &str) -> bool {
        self.name.text == name
    }

    /// For `include`: every directive of the files it resolved to, in order.
    pub fn included_directives(&self) -> impl Iterator<Item = &Directive> {
        self.included.iter().flat_map(|f| f.iter())
    }
}

/// The result of parsing one file.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    /// Top-level directives.
    pub directives: Vec<Directive>,
    /// Syntax errors, each located.
    pub problems: Vec<InputProblem>,
}

/// Parses one nginx configuration file.
pub fn parse(file: FileId, src: &str) -> Parsed {
    let mut p = Parser {
        lex: Lexer {
            file,
            src,
            bytes: src.as_bytes(),
            pos: 0,
            problems: Vec::new(),
        },
    };
    let (directives, _) = p.block(0, None);
    let mut problems = p.lex.problems;
    problems.sort_by_key(|p| (p.span.start(), p.span.end()));
    Parsed {
        directives,
        problems,
    }
}

#[derive(Debug)]
enum Tok {
    Word(Word),
    Semi(usize),
    Open(usize),
    Close(usize),
    Eof,
}

struct Lexer<'a> {
    file: FileId,
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    problems: Vec<InputProblem>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl Lexer<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    fn error(&mut self, code: &'static str, start: usize, end: usize, msg: impl Into<String>) {
        let span = self.span(start, end);
        self.problems.push(InputProblem::error(code, span, msg));
    }

    /// Skips whitespace and comments, then reads one token.
    fn next(&mut self) -> Tok {
        loop {
            let Some(b) = self.byte(self.pos) else {
                return Tok::Eof;
            };
            if is_space(b) {
                self.pos += 1;
            } else if b == b'#' {
                while let Some(c) = self.byte(self.pos) {
                    if c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
        let start = self.pos;
        match self.byte(start) {
            None => Tok::Eof,
            Some(b';') => {
                self.pos += 1;
                Tok::Semi(start)
            }
            Some(b'{') => {
                self.pos += 1;
                Tok::Open(start)
            }
            Some(b'}') => {
                self.pos += 1;
                Tok::Close(start)
            }
            Some(q @ (b'"' | b'\'')) => self.quoted(start, q),
            Some(_) => self.word(start),
        }
    }

    /// A quoted string starting at `start` (the quote).
    fn quoted(&mut self, start: usize, quote: u8) -> Tok {
        let mut i = start + 1;
        let mut closed = None;
        while let Some(b) = self.byte(i) {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == quote {
                closed = Some(i);
                break;
            }
            i += 1;
        }
        let (inner_end, end) = match closed {
            Some(c) => (c, c + 1),
            None => {
                let end = self.bytes.len();
                self.error(
                    "nginx-unterminated-string",
                    start,
                    end,
                    "quoted string is never closed",
                );
                (end, end)
            }
        };
        self.pos = end;
        let raw = self.src.get(start + 1..inner_end).unwrap_or("");
        if closed.is_some() {
            match self.byte(end) {
                None | Some(b';' | b'{' | b')') => {}
                Some(b) if is_space(b) => {}
                Some(_) => {
                    let ch_end = next_char_end(self.src, end);
                    let found = self.src.get(end..ch_end).unwrap_or("?").to_string();
                    self.error(
                        "nginx-syntax",
                        end,
                        ch_end,
                        format!("unexpected `{found}` after a quoted string"),
                    );
                }
            }
        }
        Tok::Word(Word {
            text: unescape(raw),
            span: self.span(start, end),
            quoted: true,
        })
    }

    /// An unquoted word starting at `start`.
    fn word(&mut self, start: usize) -> Tok {
        let mut i = start;
        let mut after_dollar = false;
        while let Some(b) = self.byte(i) {
            if b == b'{' && after_dollar {
                after_dollar = false;
                i += 1;
                continue;
            }
            after_dollar = false;
            if b == b'\\' {
                // The escaped character is part of the word, whatever it is.
                i = next_char_end(self.src, i + 1);
                continue;
            }
            if b == b'$' {
                after_dollar = true;
                i += 1;
                continue;
            }
            if is_space(b) || b == b';' || b == b'{' {
                break;
            }
            i += 1;
        }
        let end = i.min(self.bytes.len());
        self.pos = end;
        let raw = self.src.get(start..end).unwrap_or("");
        Tok::Word(Word {
            text: unescape(raw),
            span: self.span(start, end),
            quoted: false,
        })
    }

    /// Skips a raw Lua block body; `self.pos` is just after its `{`.
    /// Returns the end of the body (the position of the closing `}`), or
    /// `None` at end of input.
    fn skip_lua(&mut self) -> Option<usize> {
        let mut depth = 1usize;
        let mut i = self.pos;
        while let Some(b) = self.byte(i) {
            match b {
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        self.pos = i + 1;
                        return Some(i);
                    }
                }
                b'"' | b'\'' => {
                    i += 1;
                    while let Some(c) = self.byte(i) {
                        if c == b'\\' {
                            i += 2;
                            continue;
                        }
                        if c == b || c == b'\n' {
                            break;
                        }
                        i += 1;
                    }
                }
                b'-' if self.byte(i + 1) == Some(b'-') => {
                    i += 2;
                    if let Some(end) = self.long_bracket_end(i) {
                        i = end;
                        continue;
                    }
                    while let Some(c) = self.byte(i) {
                        if c == b'\n' {
                            break;
                        }
                        i += 1;
                    }
                    continue;
                }
                b'[' => {
                    if let Some(end) = self.long_bracket_end(i) {
                        i = end;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        self.pos = self.bytes.len();
        None
    }

    /// If a Lua long bracket `[==[` opens at `i`, the position after its
    /// matching `]==]` (or the end of input).
    fn long_bracket_end(&self, i: usize) -> Option<usize> {
        if self.byte(i) != Some(b'[') {
            return None;
        }
        let mut j = i + 1;
        let mut level = 0usize;
        while self.byte(j) == Some(b'=') {
            level += 1;
            j += 1;
        }
        if self.byte(j) != Some(b'[') {
            return None;
        }
        j += 1;
        while let Some(b) = self.byte(j) {
            if b == b']' {
                let mut k = j + 1;
                let mut l = 0usize;
                while self.byte(k) == Some(b'=') {
                    l += 1;
                    k += 1;
                }
                if l == level && self.byte(k) == Some(b']') {
                    return Some(k + 1);
                }
            }
            j += 1;
        }
        Some(self.bytes.len())
    }
}

/// The end of the character starting at byte `i` (or `i` at end of input).
fn next_char_end(src: &str, i: usize) -> usize {
    let mut j = i + 1;
    while j < src.len() && !src.is_char_boundary(j) {
        j += 1;
    }
    j.min(src.len()).max(i.min(src.len()))
}

/// nginx's escape processing of a token's text.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ ('"' | '\'' | '\\')) => out.push(e),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

struct Parser<'a> {
    lex: Lexer<'a>,
}

impl Parser<'_> {
    /// Parses directives until the matching `}` (when `open` is the position
    /// of the block's `{`) or end of input. Returns the directives and the
    /// position of the closing `}`.
    fn block(
        &mut self,
        depth: usize,
        open: Option<(usize, Span)>,
    ) -> (Vec<Directive>, Option<usize>) {
        let mut out = Vec::new();
        let mut words: Vec<Word> = Vec::new();
        loop {
            match self.lex.next() {
                Tok::Word(w) => words.push(w),
                Tok::Semi(at) => {
                    if words.is_empty() {
                        self.lex.error("nginx-syntax", at, at + 1, "unexpected `;`");
                    } else {
                        out.push(make(std::mem::take(&mut words), None, None, at + 1));
                    }
                }
                Tok::Open(at) => {
                    let taken = std::mem::take(&mut words);
                    if taken.is_empty() {
                        self.lex.error("nginx-syntax", at, at + 1, "unexpected `{`");
                        self.skip_block(at);
                        continue;
                    }
                    let head = head_span(&taken);
                    let is_lua = taken
                        .first()
                        .is_some_and(|w| w.text.ends_with("_by_lua_block"));
                    if is_lua {
                        let body_start = self.lex.pos;
                        match self.lex.skip_lua() {
                            Some(close) => {
                                let text = self.lex.src.get(body_start..close).unwrap_or("");
                                let raw = (text.to_string(), self.lex.span(body_start, close));
                                out.push(make(taken, None, Some(raw), close + 1));
                            }
                            None => {
                                self.lex.error(
                                    "nginx-unclosed-block",
                                    head.start(),
                                    head.end(),
                                    "raw block is never closed: expected `}`",
                                );
                                let end = self.lex.bytes.len();
                                let text = self.lex.src.get(body_start..end).unwrap_or("");
                                let raw = (text.to_string(), self.lex.span(body_start, end));
                                out.push(make(taken, None, Some(raw), end));
                            }
                        }
                        continue;
                    }
                    if depth + 1 > MAX_DEPTH {
                        self.lex.error(
                            "nginx-nesting",
                            head.start(),
                            head.end(),
                            format!("blocks nested deeper than {MAX_DEPTH} levels are skipped"),
                        );
                        let end = self.skip_block(at);
                        out.push(make(taken, Some(Vec::new()), None, end));
                        continue;
                    }
                    let (children, close) = self.block(depth + 1, Some((at, head)));
                    let end = close.map_or(self.lex.bytes.len(), |c| c + 1);
                    out.push(make(taken, Some(children), None, end));
                }
                Tok::Close(at) => {
                    if !words.is_empty() {
                        let taken = std::mem::take(&mut words);
                        let head = head_span(&taken);
                        self.lex.error(
                            "nginx-syntax",
                            head.start(),
                            head.end(),
                            "directive is not terminated by `;`",
                        );
                        out.push(make(taken, None, None, head.end()));
                    }
                    if open.is_some() {
                        return (out, Some(at));
                    }
                    self.lex.error("nginx-syntax", at, at + 1, "unexpected `}`");
                }
                Tok::Eof => {
                    if !words.is_empty() {
                        let taken = std::mem::take(&mut words);
                        let head = head_span(&taken);
                        self.lex.error(
                            "nginx-syntax",
                            head.start(),
                            head.end(),
                            "unexpected end of file: directive is not terminated by `;`",
                        );
                        out.push(make(taken, None, None, head.end()));
                    }
                    if let Some((_, head)) = open {
                        self.lex.error(
                            "nginx-unclosed-block",
                            head.start(),
                            head.end(),
                            "block is never closed: expected `}`",
                        );
                    }
                    return (out, None);
                }
            }
        }
    }

    /// Skips a block whose `{` is at `open`, brace-balanced over tokens.
    /// Returns the end of the skipped text.
    fn skip_block(&mut self, _open: usize) -> usize {
        let mut depth = 1usize;
        loop {
            match self.lex.next() {
                Tok::Open(_) => depth += 1,
                Tok::Close(at) => {
                    depth -= 1;
                    if depth == 0 {
                        return at + 1;
                    }
                }
                Tok::Eof => return self.lex.bytes.len(),
                Tok::Word(_) | Tok::Semi(_) => {}
            }
        }
    }
}

fn head_span(words: &[Word]) -> Span {
    match (words.first(), words.last()) {
        (Some(f), Some(l)) => f.span.cover(l.span),
        _ => Span::default(),
    }
}

fn make(
    mut words: Vec<Word>,
    block: Option<Vec<Directive>>,
    raw: Option<(String, Span)>,
    end: usize,
) -> Directive {
    let head = head_span(&words);
    let args = if words.is_empty() {
        Vec::new()
    } else {
        words.split_off(1)
    };
    let name = words.pop().unwrap_or(Word {
        text: String::new(),
        span: head,
        quoted: false,
    });
    let span = Span::new(head.file, head.start(), end.max(head.end()));
    Directive {
        name,
        args,
        block,
        raw,
        span,
        head,
        included: Vec::new(),
        included_files: Vec::new(),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may unwrap and index"
)]
mod tests {
    use super::*;

    fn p(src: &str) -> Parsed {
        parse(FileId(0), src)
    }

    fn names(ds: &[Directive]) -> Vec<&str> {
        ds.iter().map(|d| d.name.text.as_str()).collect()
    }

    #[test]
    fn simple_directives_and_blocks() {
        let src = "user nginx;\nhttp {\n  server { listen 80; location / { return 200; } }\n}\n";
        let r = p(src);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(names(&r.directives), ["user", "http"]);
        let http = &r.directives[1];
        let server = &http.block.as_ref().unwrap()[0];
        assert_eq!(server.name.text, "server");
        let loc = &server.block.as_ref().unwrap()[1];
        assert_eq!(loc.arg(0), Some("/"));
        assert_eq!(
            &src[loc.span.start()..loc.span.end()],
            "location / { return 200; }"
        );
        assert_eq!(&src[loc.head.start()..loc.head.end()], "location /");
        assert_eq!(
            &src[http.span.start()..http.span.end()],
            &src[12..src.len() - 1]
        );
    }

    #[test]
    fn quotes_escapes_and_variables() {
        let src = r#"add_header X-A "a \"b\" c" always; set $x '${host}x'; rewrite ^/a\.b$ /c; return 200 a\;b;"#;
        let r = p(src);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let d = &r.directives;
        assert_eq!(d[0].arg(1), Some(r#"a "b" c"#));
        assert!(d[0].args[1].quoted);
        assert_eq!(
            &src[d[0].args[1].span.start()..d[0].args[1].span.end()],
            r#""a \"b\" c""#
        );
        assert_eq!(d[1].arg(1), Some("${host}x"));
        assert_eq!(d[2].arg(0), Some(r"^/a\.b$"));
        assert_eq!(d[3].arg(1), Some(r"a\;b"));
    }

    #[test]
    fn dollar_brace_is_part_of_word() {
        let r = p("set $a ${b}c; proxy_pass http://${up}:80;");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(r.directives[0].arg(1), Some("${b}c"));
        assert_eq!(r.directives[1].arg(0), Some("http://${up}:80"));
    }

    #[test]
    fn comments_only_at_token_start() {
        let r = p("a b#c; # comment ; {\nd;");
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(names(&r.directives), ["a", "d"]);
        assert_eq!(r.directives[0].arg(0), Some("b#c"));
    }

    #[test]
    fn if_condition_tokens() {
        let r = p(r#"if ($scheme = "http") { return 301 https://$host$request_uri; }"#);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let d = &r.directives[0];
        let args: Vec<_> = d.args.iter().map(|a| a.text.as_str()).collect();
        assert_eq!(args, ["($scheme", "=", "http", ")"]);
        assert_eq!(
            d.block.as_ref().unwrap()[0].arg(1),
            Some("https://$host$request_uri")
        );
    }

    #[test]
    fn map_types_geo_upstream_are_generic() {
        let src = "map $http_upgrade $c { default upgrade; '' close; ~^a 1; }\n\
                   types { text/html html htm; }\n geo $g { 10.0.0.0/8 1; }\n\
                   upstream u { server 127.0.0.1:8080 weight=2; keepalive 4; }";
        let r = p(src);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let map = r.directives[0].block.as_ref().unwrap();
        assert_eq!(names(map), ["default", "", "~^a"]);
        assert_eq!(map[1].arg(0), Some("close"));
        assert_eq!(
            names(r.directives[3].block.as_ref().unwrap()),
            ["server", "keepalive"]
        );
    }

    #[test]
    fn lua_block_is_raw() {
        let src = "location / { content_by_lua_block { local t = { a = \"}\" } -- }\n ngx.say([[}]]) }\n  return 200; }";
        let r = p(src);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let loc = r.directives[0].block.as_ref().unwrap();
        assert_eq!(names(loc), ["content_by_lua_block", "return"]);
        let (raw, span) = loc[0].raw.as_ref().unwrap();
        assert!(raw.contains("ngx.say"));
        assert_eq!(&src[span.start()..span.end()], raw);
    }

    #[test]
    fn errors_are_located_and_parsing_continues() {
        let src = "a b\n}\nserver { listen 80 }\nc \"unterminated";
        let r = p(src);
        let codes: Vec<_> = r.problems.iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            [
                "nginx-syntax",
                "nginx-syntax",
                "nginx-syntax",
                "nginx-syntax",
                "nginx-unterminated-string"
            ],
            "{:?}",
            r.problems
        );
        // `a b` then `}`: not terminated, then a stray `}` at top level.
        assert_eq!(r.problems[0].span, Span::new(FileId(0), 0, 3));
        assert_eq!(r.problems[1].span, Span::new(FileId(0), 4, 5));
        assert_eq!(names(&r.directives), ["a", "server", "c"]);
    }

    #[test]
    fn close_brace_inside_a_word_does_not_close() {
        // As in nginx, `ok}` is one word: the block stays open.
        let r = p("server { return 200 ok}");
        let codes: Vec<_> = r.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["nginx-unclosed-block", "nginx-syntax"]);
        assert_eq!(
            r.directives[0].block.as_ref().unwrap()[0].arg(1),
            Some("ok}")
        );
    }

    #[test]
    fn stray_close_and_semicolon() {
        let r = p("}; a;");
        assert_eq!(r.problems.len(), 2, "{:?}", r.problems);
        assert_eq!(names(&r.directives), ["a"]);
    }

    #[test]
    fn quote_followed_by_garbage() {
        let r = p("a \"b\"c;");
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].span, Span::new(FileId(0), 5, 6));
    }

    #[test]
    fn deep_nesting_is_capped() {
        let src = "a {".repeat(500) + &"}".repeat(500);
        let r = p(&src);
        assert!(r.problems.iter().any(|p| p.code == "nginx-nesting"));
    }

    #[test]
    fn missing_semicolon_before_close() {
        let r = p("server { listen 80\n}");
        // `80\n}`: the newline ends the word, so `}` closes the block.
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert_eq!(r.problems[0].message, "directive is not terminated by `;`");
        assert_eq!(
            r.directives[0].block.as_ref().unwrap()[0].arg(0),
            Some("80")
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_spans_are_valid(
            src in "\\PC{0,300}|([ {};#\"'\\\\$a-zé\n]|x_by_lua_block|--|\\[\\[|\\]\\]|\\[=\\[|\\]=\\]){0,150}"
        ) {
            let r = p(&src);
            fn check(src: &str, ds: &[Directive]) {
                for d in ds {
                    for s in std::iter::once(d.span).chain([d.head, d.name.span]).chain(d.args.iter().map(|a| a.span)).chain(d.raw.iter().map(|r| r.1)) {
                        assert!(s.start() <= s.end() && s.end() <= src.len());
                        assert!(src.is_char_boundary(s.start()) && src.is_char_boundary(s.end()));
                    }
                    if let Some(b) = &d.block { check(src, b); }
                }
            }
            check(&src, &r.directives);
            for pr in &r.problems {
                assert!(pr.span.end() <= src.len());
                assert!(src.is_char_boundary(pr.span.start()) && src.is_char_boundary(pr.span.end()));
            }
        }
    }
}
