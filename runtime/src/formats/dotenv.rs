//! The `dotenv` front end: `.env` files as docker compose reads them.
//!
//! Follows compose's reader (compose-go `dotenv`): `KEY=VALUE` or the YAML-ish
//! `KEY: VALUE`, an optional `export ` prefix, blanks around the separator,
//! full-line `#` comments and blank lines. Values:
//! - unquoted: to the end of the line, cut at the first ` #` (an inline
//!   comment), trailing blanks trimmed;
//! - single-quoted: literal (only `\'` is an escape), may span lines;
//! - double-quoted: `\n` and `\r` become line breaks, `\X` becomes `X` (so
//!   `\"`, `\\`, `\$`), may span lines.
//!
//! A key alone on its line (`KEY`) takes its value from the environment at
//! run time: `inherited` is true and `value` empty. Variables are never
//! expanded (`${X}` stays as written); `refs` lists the names referenced.
//! A malformed line is an error at its location and the next lines are still
//! read.

use crate::formats::registry::Target;
use crate::model::{FileId, InputProblem, Node, Span};
use crate::schema::Schema;

/// Name parts that mark an example file (`.env.example`, `example.env`…).
const EXAMPLE_WORDS: [&str; 9] = [
    "example",
    "examples",
    "sample",
    "samples",
    "template",
    "templates",
    "tmpl",
    "tpl",
    "dist",
];

fn base_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase()
}

/// Whether a file name is an env file's: `.env`, `.env.*` or `*.env`.
pub fn is_env_file_name(name: &str) -> bool {
    let b = base_name(name);
    b == ".env" || b.starts_with(".env.") || (b.ends_with(".env") && b.len() > ".env".len())
}

/// Whether an env file name marks an example: a dot-separated part is
/// `example`, `sample`, `template`, `dist` (or `examples`, `samples`,
/// `templates`, `tmpl`, `tpl`): `.env.example`, `.env.sample`,
/// `.env.template`, `.env.dist`, `example.env`, `prod.env.example`,
/// `.env.local.sample`…
pub fn is_example_name(name: &str) -> bool {
    base_name(name)
        .split('.')
        .any(|part| EXAMPLE_WORDS.contains(&part))
}

/// Registers the `dotenv` target and its types.
pub fn schema(s: &mut Schema) {
    s.target(
        Target::DOTENV,
        "DotenvFile",
        "An environment file (`.env`, `.env.*`, `*.env`)",
    );
    s.object("DotenvFile", "One environment file")
        .opt("path", "string", "File path, relative to the scan root")
        .field("gitignore_present", "bool", "some `.gitignore` exists between the scan root and the file (set by linking; false until linked)")
        .opt("git_ignored", "bool", "whether the repository's `.gitignore` rules ignore the file (absent without a `.gitignore`)")
        .field(
            "is_example",
            "bool",
            "Whether the name marks an example or template (`.env.example`, `example.env`…)",
        )
        .field(
            "entries",
            "list<DotenvEntry>",
            "Variables in file order (a repeated name appears twice; the last wins)",
        )
        .done();
    s.object("DotenvEntry", "One variable")
        .field("name", "string", "Variable name")
        .field(
            "value",
            "string",
            "Value with quotes removed and escapes decoded; variables not expanded",
        )
        .field(
            "quoted",
            "bool",
            "Whether the value was in single or double quotes",
        )
        .field("export", "bool", "Whether written with `export `")
        .field(
            "inherited",
            "bool",
            "Whether the name stands alone (value taken from the environment)",
        )
        .field(
            "refs",
            "list<string>",
            "Names of variables the value references (`$X`, `${X:-d}`); none for single quotes",
        )
        .field("line", "int", "1-based line of the name")
        .done();
}

struct Parser<'s> {
    file: FileId,
    src: &'s str,
    b: &'s [u8],
    i: usize,
    line_starts: Vec<usize>,
    problems: Vec<InputProblem>,
    entries: Vec<Node>,
}

/// Blanks within a line (compose's `isSpace`, line feed excluded).
fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']')
}

/// Entries read from one `.env` file; the rest of a longer file is not
/// checked (an error at the first line left out).
pub const MAX_ENTRIES: usize = 10_000;

/// Parses an env file into a `DotenvFile` node and every problem found.
/// Never panics; the caller sets `path` on the returned node.
pub fn parse(file: FileId, source: &str, is_example: bool) -> (Node, Vec<InputProblem>) {
    let start = if source.starts_with('\u{feff}') { 3 } else { 0 };
    let line_starts = crate::source::line_starts(source);
    let mut p = Parser {
        file,
        src: source,
        b: source.as_bytes(),
        i: start,
        line_starts,
        problems: Vec::new(),
        entries: Vec::new(),
    };
    p.run();
    let whole = Span::new(file, 0, source.len());
    let node = Node::object(whole)
        .field("is_example", Node::bool(whole, is_example))
        .field("entries", Node::list(whole, p.entries))
        .field("gitignore_present", Node::bool(whole, false))
        .build();
    (node, p.problems)
}

impl Parser<'_> {
    fn span(&self, a: usize, b: usize) -> Span {
        Span::new(self.file, a, b)
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Index of the end of the line containing `i` (its `\n`, or the end).
    fn line_end(&self, i: usize) -> usize {
        self.src
            .get(i..)
            .and_then(|r| r.find('\n'))
            .map_or(self.src.len(), |p| i + p)
    }

    fn skip_line(&mut self) {
        self.i = (self.line_end(self.i) + 1).min(self.src.len());
    }

    fn error(&mut self, span: Span, msg: impl Into<String>) {
        self.problems
            .push(InputProblem::error("dotenv-syntax", span, msg));
    }

    fn run(&mut self) {
        while self.i < self.b.len() {
            match self.peek() {
                Some(c) if is_blank(c) || c == b'\n' => self.i += 1,
                Some(b'#') => self.skip_line(),
                Some(_) if self.entries.len() >= MAX_ENTRIES => {
                    let end = self
                        .src
                        .get(self.i..)
                        .and_then(|r| r.find('\n'))
                        .map_or(self.b.len(), |n| self.i + n);
                    self.problems.push(InputProblem::error(
                        "dotenv-too-many-entries",
                        self.span(self.i, end),
                        format!(
                            "the file has more than {MAX_ENTRIES} entries (the limit); \
                             this line and the rest of the file are not checked"
                        ),
                    ));
                    break;
                }
                Some(_) => self.statement(),
                None => break,
            }
        }
    }

    fn statement(&mut self) {
        let stmt_start = self.i;
        let mut export = false;
        let rest = self.src.get(self.i..).unwrap_or("");
        if let Some(after) = rest.strip_prefix("export") {
            if after.starts_with([' ', '\t']) {
                export = true;
                self.i += "export".len();
                while self.peek().is_some_and(is_blank) {
                    self.i += 1;
                }
            }
        }
        // The key: up to `=`, `:` or the end of the line.
        let key_start = self.i;
        let mut key_end = self.i;
        let mut sep = None;
        let mut bad: Option<(usize, char)> = None;
        let mut inner_space = false;
        let rest = self.src.get(self.i..).unwrap_or("");
        for (off, c) in rest.char_indices() {
            let at = key_start + off;
            match c {
                '=' | ':' => {
                    sep = Some(at);
                    break;
                }
                '\n' => break,
                c if c.is_ascii() && is_blank(c as u8) => {}
                c if is_key_char(c) => {
                    if key_end < at && self.src.get(key_end..at).is_some_and(|g| !g.is_empty()) {
                        inner_space = true;
                    }
                    key_end = at + c.len_utf8();
                }
                c => {
                    bad = Some((at, c));
                    break;
                }
            }
        }
        if let Some((at, c)) = bad {
            let span = self.span(at, at + c.len_utf8());
            self.error(span, format!("unexpected character `{c}` in variable name"));
            self.skip_line();
            return;
        }
        let key = self.src.get(key_start..key_end).unwrap_or("").to_string();
        let key_span = self.span(key_start, key_end);
        if key.is_empty() {
            let at = sep.unwrap_or(key_start);
            let span = self.span(at, (at + 1).min(self.src.len()));
            self.error(span, "missing variable name");
            self.skip_line();
            return;
        }
        if inner_space {
            self.problems.push(InputProblem::warning(
                "dotenv-key",
                key_span,
                format!("variable name `{key}` contains blanks"),
            ));
        }
        let line = self.line_of(key_start);
        let Some(sep) = sep else {
            // `KEY` alone: inherited from the environment.
            self.i = self.line_end(key_end);
            let v = self.span(key_end, key_end);
            self.push(Entry {
                name: key,
                key_span,
                value: String::new(),
                value_span: v,
                quoted: false,
                export,
                inherited: true,
                refs: Vec::new(),
                span: self.span(stmt_start, key_end),
                line,
            });
            return;
        };
        self.i = sep + 1;
        while self.peek().is_some_and(is_blank) {
            self.i += 1;
        }
        let value_start = self.i;
        match self.peek() {
            Some(q @ (b'"' | b'\'')) => self.quoted(stmt_start, key, key_span, export, line, q),
            _ => {
                let end = self.line_end(value_start);
                let raw = self.src.get(value_start..end).unwrap_or("");
                let raw = raw.find(" #").map_or(raw, |p| raw.get(..p).unwrap_or(""));
                let raw = raw.trim_end_matches(|c: char| c.is_ascii() && is_blank(c as u8));
                let value_end = value_start + raw.len();
                self.i = end;
                self.push(Entry {
                    name: key,
                    key_span,
                    value: raw.to_string(),
                    value_span: self.span(value_start, value_end),
                    quoted: false,
                    export,
                    inherited: false,
                    refs: refs(raw, true),
                    span: self.span(stmt_start, value_end.max(sep + 1)),
                    line,
                });
            }
        }
    }

    fn quoted(
        &mut self,
        stmt_start: usize,
        name: String,
        key_span: Span,
        export: bool,
        line: usize,
        q: u8,
    ) {
        let open = self.i;
        let body_start = open + 1;
        let mut value = String::new();
        let mut raw_refs = String::new();
        let mut i = body_start;
        let mut close = None;
        while let Some(rest) = self.src.get(i..) {
            let Some(c) = rest.chars().next() else {
                break;
            };
            if c == char::from(q) {
                close = Some(i);
                break;
            }
            if c == '\\' {
                let Some(n) = rest.get(1..).and_then(|r| r.chars().next()) else {
                    break;
                };
                if n == char::from(q) {
                    value.push(n);
                } else if q == b'\'' {
                    value.push('\\');
                    value.push(n);
                } else {
                    match n {
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        '$' => {
                            value.push('$');
                            // An escaped `$` is no reference.
                            raw_refs.push('_');
                            i += 1 + n.len_utf8();
                            continue;
                        }
                        other => value.push(other),
                    }
                }
                raw_refs.push(c);
                raw_refs.push(n);
                i += 1 + n.len_utf8();
                continue;
            }
            value.push(c);
            raw_refs.push(c);
            i += c.len_utf8();
        }
        let Some(close) = close else {
            let span = self.span(open, open + 1);
            self.error(span, "unterminated quoted value");
            // Recover: the rest of this line is the value; go on on the next line.
            let end = self.line_end(body_start);
            let raw = self.src.get(body_start..end).unwrap_or("").trim_end();
            self.push(Entry {
                name,
                key_span,
                value: raw.to_string(),
                value_span: self.span(body_start, body_start + raw.len()),
                quoted: true,
                export,
                inherited: false,
                refs: Vec::new(),
                span: self.span(stmt_start, end),
                line,
            });
            self.i = end;
            return;
        };
        self.i = close + 1;
        // After the closing quote: blanks, then a comment or the end of the line.
        let mut j = self.i;
        while self.b.get(j).copied().is_some_and(is_blank) {
            j += 1;
        }
        match self.b.get(j) {
            None | Some(b'\n' | b'#') => {}
            Some(_) => {
                let end = self.line_end(j);
                let trimmed = self.src.get(j..end).unwrap_or("").trim_end();
                self.problems.push(InputProblem::warning(
                    "dotenv-trailing-text",
                    self.span(j, j + trimmed.len()),
                    "text after a quoted value is ignored",
                ));
            }
        }
        self.i = self.line_end(self.i);
        let refs = if q == b'"' {
            refs(&raw_refs, false)
        } else {
            Vec::new()
        };
        self.push(Entry {
            name,
            key_span,
            value,
            value_span: self.span(body_start, close),
            quoted: true,
            export,
            inherited: false,
            refs,
            span: self.span(stmt_start, close + 1),
            line,
        });
    }

    fn push(&mut self, e: Entry) {
        let line_span = e.key_span;
        let refs: Vec<Node> = e
            .refs
            .into_iter()
            .map(|r| Node::str(e.value_span, r))
            .collect();
        self.entries.push(
            Node::object(e.span)
                .str("name", e.key_span, e.name)
                .str("value", e.value_span, e.value)
                .field("quoted", Node::bool(e.value_span, e.quoted))
                .field("export", Node::bool(e.span, e.export))
                .field("inherited", Node::bool(e.span, e.inherited))
                .field("refs", Node::list(e.value_span, refs))
                .field(
                    "line",
                    Node::int(line_span, i64::try_from(e.line).unwrap_or(i64::MAX)),
                )
                .build(),
        );
    }
}

/// One parsed variable before it becomes a node.
struct Entry {
    name: String,
    key_span: Span,
    value: String,
    value_span: Span,
    quoted: bool,
    export: bool,
    inherited: bool,
    refs: Vec<String>,
    span: Span,
    line: usize,
}

/// Names referenced by `$NAME` or `${NAME…}` in `text`; with `backslash`,
/// `\$` is an escape (no reference). `$$` is a literal `$`.
fn refs(text: &str, backslash: bool) -> Vec<String> {
    let b = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if backslash && c == b'\\' {
            i += 2;
            continue;
        }
        if c != b'$' {
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&b'$') {
            i += 2;
            continue;
        }
        let braced = b.get(i + 1) == Some(&b'{');
        let start = if braced { i + 2 } else { i + 1 };
        let mut end = start;
        while b
            .get(end)
            .is_some_and(|d| d.is_ascii_alphanumeric() || *d == b'_')
        {
            end += 1;
        }
        if end > start && !b.get(start).is_some_and(u8::is_ascii_digit) {
            if let Some(name) = text.get(start..end) {
                if !out.iter().any(|o| o == name) {
                    out.push(name.to_string());
                }
            }
        }
        i = end.max(i + 1);
    }
    out
}

/// The `.env` format (see [`crate::formats::registry`]).
pub struct Dotenv;

impl crate::formats::registry::Format for Dotenv {
    fn name(&self) -> &'static str {
        "dotenv"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["env"]
    }
    fn label(&self) -> &'static str {
        ".env"
    }
    fn targets(&self) -> &'static [Target] {
        &[Target::DOTENV]
    }
    fn code_language(&self) -> &'static str {
        "sh"
    }
    fn default_file_name(&self) -> &'static str {
        ".env"
    }
    fn matches_name(&self, base: &str) -> bool {
        is_env_file_name(base)
    }
    fn schema(&self, s: &mut Schema) {
        schema(s);
    }
    fn load(
        &self,
        input: &crate::formats::registry::Input<'_>,
        _cx: &mut crate::formats::registry::LoadCx<'_>,
    ) -> crate::formats::registry::Loaded {
        let (mut root, problems) = parse(input.file, input.text, is_example_name(input.path));
        root.set(
            "path",
            Node::str(Span::new(input.file, 0, 0), input.path.to_string()),
        );
        crate::formats::registry::Loaded {
            documents: vec![(Target::DOTENV, root)],
            problems,
        }
    }
}

#[cfg(test)]
mod tests;
