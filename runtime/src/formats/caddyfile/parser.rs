//! Caddyfile parser: tokens → server blocks of directive trees, with `import`
//! expanded at the token level the way Caddy does it (so a snippet may hold
//! whole site blocks, and `{args[…]}`/`{block}` are substituted in its tokens).
//!
//! Structure (Caddy's rules): a server block is a line of addresses (comma
//! and/or space separated, a trailing comma continues on the next line)
//! followed by a `{ … }` block, or, without braces, by every directive to the
//! end of the file. A block with no address is the global options block. A
//! single key `(name)` defines a snippet, `&(name)` a named route. Inside a
//! block each line is a directive: its arguments, then optionally a `{` that
//! must end the line and opens a nested block closed by `}`.
//!
//! Errors are collected and parsing goes on; unlike Caddy, which stops at the
//! first one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::lexer::{lex, new_line, Quote, Token};
use super::source::{component_matches, normalize, FileSource, ReadError};
use crate::model::{FileId, InputProblem, Span};

/// Deepest block nesting accepted.
pub const MAX_DEPTH: usize = 100;
/// Most `import` expansions in one parse.
pub const MAX_IMPORTS: usize = 2_000;
/// Most tokens after import expansion.
pub const MAX_TOKENS: usize = 250_000;
/// Most bytes of token text after import expansion (the largest input file
/// is 16 MiB): a snippet or file imported twice at every level grows
/// exponentially.
pub const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;
/// Most bytes of token text all the Caddyfiles of one run may expand to
/// (many small Caddyfiles importing one large tree).
pub const MAX_RUN_EXPANDED_BYTES: usize = 32 * 1024 * 1024;
/// Most tokens all the Caddyfiles of one run may expand to (many Caddyfiles
/// importing a snippet of short lines stay under the byte budget, but each
/// token becomes a model value).
pub const MAX_RUN_TOKENS: usize = 1_000_000;

/// A directive line and its nested block.
#[derive(Clone, Debug)]
pub(crate) struct Directive {
    pub name: Token,
    pub args: Vec<Token>,
    pub block: Option<Vec<Directive>>,
    /// From the name to the last argument (same file).
    pub span: Span,
}

/// What kind of top-level block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BlockKind {
    Site,
    NamedRoute(String),
}

/// One top-level block.
#[derive(Clone, Debug)]
pub(crate) struct ServerBlock {
    pub kind: BlockKind,
    pub keys: Vec<Token>,
    pub directives: Vec<Directive>,
    pub has_braces: bool,
    /// Span of the `{` (or the first key when there is none).
    pub open: Span,
}

/// Everything the token-level parse produces.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub blocks: Vec<ServerBlock>,
    pub snippets: Vec<(String, Span)>,
    /// Imports that named nothing readable: (pattern, span of the import line).
    pub unresolved: Vec<(String, Span)>,
    /// Every file read through `import` (id, normalised path).
    pub files: Vec<(FileId, PathBuf)>,
    /// Bytes of token text after import expansion.
    pub expanded_bytes: usize,
    /// Tokens after import expansion.
    pub expanded_tokens: usize,
}

/// How file imports are resolved.
pub(crate) struct ImportCtx<'a> {
    pub source: Option<&'a mut dyn FileSource>,
    /// Scan root (normalised); nothing outside it is read.
    pub root: PathBuf,
    /// Directory that stands in for `/etc/caddy` (the main Caddyfile's directory).
    pub etc_caddy: Option<PathBuf>,
    /// Known paths of file ids.
    pub files: Vec<(FileId, PathBuf)>,
    /// Bytes of token text the run's earlier Caddyfiles expanded to.
    pub run_used: usize,
    /// Tokens the run's earlier Caddyfiles expanded to.
    pub run_tokens: usize,
}

struct Parser<'a, 'p> {
    toks: Vec<Token>,
    i: usize,
    problems: &'p mut Vec<InputProblem>,
    ctx: ImportCtx<'a>,
    snippets: HashMap<String, Vec<Token>>,
    out: Parsed,
    graph: BTreeMap<String, BTreeSet<String>>,
    imports: usize,
    limit_hit: bool,
    /// Bytes of token text in `toks`.
    bytes: usize,
    /// Each imported file lexed once (its lexing problems reported once).
    lexed: HashMap<FileId, Rc<Vec<Token>>>,
    /// Import cycles already reported: (importer, imported).
    cycles: BTreeSet<(String, String)>,
}

fn text_bytes(toks: &[Token]) -> usize {
    toks.iter().map(|t| t.text.len()).sum()
}

/// Parses the file `file` with text `src`.
pub(crate) fn parse(
    file: FileId,
    src: &str,
    ctx: ImportCtx<'_>,
    problems: &mut Vec<InputProblem>,
) -> Parsed {
    let toks = lex(file, src, problems);
    let bytes = text_bytes(&toks);
    let mut p = Parser {
        toks,
        bytes,
        lexed: HashMap::new(),
        cycles: BTreeSet::new(),
        i: 0,
        problems,
        ctx,
        snippets: HashMap::new(),
        out: Parsed::default(),
        graph: BTreeMap::new(),
        imports: 0,
        limit_hit: false,
    };
    while p.i < p.toks.len() {
        let before = (p.i, p.toks.len());
        if let Some(b) = p.server_block() {
            if !b.keys.is_empty() || !b.directives.is_empty() || b.has_braces {
                p.out.blocks.push(b);
            }
        }
        if (p.i, p.toks.len()) == before {
            p.i += 1; // always make progress
        }
    }
    p.out.files = p.ctx.files.clone();
    p.out.expanded_bytes = p.bytes;
    p.out.expanded_tokens = p.toks.len();
    p.out
}

fn cover(a: Span, b: Span) -> Span {
    a.cover(b)
}

impl Parser<'_, '_> {
    fn tok(&self, i: usize) -> Option<&Token> {
        self.toks.get(i)
    }
    fn is_new_line(&self, i: usize) -> bool {
        match (
            i.checked_sub(1).and_then(|p| self.toks.get(p)),
            self.toks.get(i),
        ) {
            (Some(prev), Some(cur)) => new_line(prev, cur),
            (None, _) => true,
            (_, None) => false,
        }
    }
    fn err(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.problems.push(InputProblem::error(code, span, msg));
    }
    fn last_span(&self) -> Span {
        self.toks.last().map(|t| t.span).unwrap_or_default()
    }
    fn is_import(&self, i: usize) -> bool {
        self.tok(i)
            .is_some_and(|t| t.quote == Quote::None && t.text == "import")
    }

    /// Skips the rest of the current line and any block it opens.
    fn skip_statement(&mut self) {
        let mut depth = 0usize;
        let start = self.i;
        while let Some(t) = self.tok(self.i) {
            if self.i > start && depth == 0 && self.is_new_line(self.i) {
                break;
            }
            if t.is_open() {
                depth += 1;
            } else if t.is_close() {
                depth = depth.saturating_sub(1);
            }
            self.i += 1;
        }
    }

    fn server_block(&mut self) -> Option<ServerBlock> {
        let mut keys: Vec<Token> = Vec::new();
        let mut expecting = false;
        let mut has_braces = false;
        let mut brace_consumed = false;
        let first_span = self.tok(self.i)?.span;
        let mut open = first_span;
        loop {
            let Some(t) = self.tok(self.i).cloned() else {
                if expecting {
                    let s = self.last_span();
                    self.err(
                        "caddy-syntax",
                        s,
                        "unexpected end of file, expected another site address",
                    );
                }
                return Some(ServerBlock {
                    kind: BlockKind::Site,
                    keys,
                    directives: Vec::new(),
                    has_braces,
                    open,
                });
            };
            if t.quote == Quote::None && t.text.starts_with('@') {
                self.err(
                    "caddy-matcher-outside-site",
                    t.span,
                    format!("request matchers may not be defined globally, they must be in a site block; found `{}`", t.text),
                );
                self.skip_statement();
                return None;
            }
            if self.is_import(self.i) && self.is_new_line(self.i) {
                self.do_import(0);
                continue;
            }
            if t.is_open() {
                if expecting {
                    self.err(
                        "caddy-syntax",
                        t.span,
                        "expected another address but found `{` - check for an extra comma",
                    );
                }
                has_braces = true;
                open = t.span;
                break;
            }
            let mut text = t.text.clone();
            if t.quote == Quote::None && text.len() > 1 && text.ends_with('{') {
                self.err(
                    "caddy-syntax",
                    t.span,
                    format!("site addresses cannot end with a curly brace: `{text}` - put a space between the token and the brace"),
                );
                text.pop();
                has_braces = true;
                brace_consumed = true;
            }
            if !brace_consumed {
                if let Some(stripped) = text.strip_suffix(',') {
                    text = stripped.to_string();
                    expecting = true;
                } else {
                    expecting = false;
                }
            }
            if text.contains(',') {
                self.err(
                    "caddy-syntax",
                    t.span,
                    format!("site addresses cannot contain a comma: `{text}` - put a space after the comma to separate site addresses"),
                );
                for part in text.split(',').filter(|p| !p.is_empty()) {
                    let mut k = t.clone();
                    k.text = part.to_string();
                    keys.push(k);
                }
            } else if !text.is_empty() {
                let mut k = t.clone();
                k.text = text;
                keys.push(k);
            }
            self.i += 1;
            if brace_consumed {
                open = t.span;
                break;
            }
            match self.tok(self.i) {
                None => {
                    if expecting {
                        self.err(
                            "caddy-syntax",
                            t.span,
                            "unexpected end of file, expected another site address",
                        );
                    }
                    return Some(ServerBlock {
                        kind: BlockKind::Site,
                        keys,
                        directives: Vec::new(),
                        has_braces: false,
                        open,
                    });
                }
                Some(_) if !expecting && self.is_new_line(self.i) => break,
                Some(_) => {}
            }
        }

        // Snippet definition.
        if let [only] = keys.as_slice() {
            let name_text = only.text.clone();
            if name_text.len() >= 2 && name_text.starts_with('(') && name_text.ends_with(')') {
                let name = name_text
                    .get(1..name_text.len() - 1)
                    .unwrap_or("")
                    .to_string();
                let span = only.span;
                self.snippet(name, span, has_braces, brace_consumed);
                return None;
            }
            if name_text.len() >= 3 && name_text.starts_with("&(") && name_text.ends_with(')') {
                let name = name_text
                    .get(2..name_text.len() - 1)
                    .unwrap_or("")
                    .to_string();
                if !has_braces {
                    self.err(
                        "caddy-syntax",
                        only.span,
                        format!("named route `{name}` must be followed by a block"),
                    );
                    return None;
                }
                if !brace_consumed {
                    self.i += 1;
                }
                let directives = self.block_body(1, true);
                return Some(ServerBlock {
                    kind: BlockKind::NamedRoute(name),
                    keys,
                    directives,
                    has_braces,
                    open,
                });
            }
        }

        let directives = if has_braces {
            if !brace_consumed {
                self.i += 1;
            }
            self.block_body(0, true)
        } else {
            self.block_body(0, false)
        };
        Some(ServerBlock {
            kind: BlockKind::Site,
            keys,
            directives,
            has_braces,
            open,
        })
    }

    fn snippet(&mut self, name: String, span: Span, has_braces: bool, brace_consumed: bool) {
        if !has_braces {
            self.err(
                "caddy-syntax",
                span,
                format!("snippet `({name})` must be followed by a block"),
            );
            self.skip_statement();
            return;
        }
        if !brace_consumed {
            self.i += 1;
        }
        let mut depth = 1usize;
        let mut body = Vec::new();
        let snippet_name: Rc<str> = Rc::from(name.as_str());
        loop {
            let Some(t) = self.tok(self.i).cloned() else {
                self.err(
                    "caddy-syntax",
                    span,
                    format!("snippet `({name})` is not closed; expected `}}`"),
                );
                break;
            };
            self.i += 1;
            if t.is_close() {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            } else if t.is_open() {
                depth += 1;
            }
            let mut t = t;
            t.snippet = Some(snippet_name.clone());
            body.push(t);
        }
        if self.snippets.contains_key(&name) {
            self.err(
                "caddy-snippet-redeclared",
                span,
                format!("redeclaration of previously declared snippet `{name}`"),
            );
            return;
        }
        self.out.snippets.push((name.clone(), span));
        self.snippets.insert(name, body);
    }

    /// Directives of a block; `braced` blocks end at their `}` (consumed).
    fn block_body(&mut self, depth: usize, braced: bool) -> Vec<Directive> {
        let mut out = Vec::new();
        loop {
            let Some(t) = self.tok(self.i) else {
                if braced {
                    let s = self.last_span();
                    self.err("caddy-syntax", s, "unexpected end of file, expected `}`");
                }
                break;
            };
            if t.is_close() {
                self.i += 1;
                break;
            }
            if self.is_import(self.i) && (depth == 0 || self.is_new_line(self.i)) {
                self.do_import(1);
                continue;
            }
            if let Some(d) = self.directive(depth) {
                out.push(d);
            }
        }
        out
    }

    /// One directive starting at the current token.
    fn directive(&mut self, depth: usize) -> Option<Directive> {
        let name = self.tok(self.i)?.clone();
        self.i += 1;
        let mut args: Vec<Token> = Vec::new();
        let mut block = None;
        let mut span = name.span;
        while let Some(t) = self.tok(self.i) {
            if t.is_open() {
                let t = t.clone();
                if self.is_new_line(self.i) {
                    self.err(
                        "caddy-syntax",
                        t.span,
                        "unexpected `{` on a new line; did you mean to place the `{` on the previous line?",
                    );
                }
                if self.tok(self.i + 1).is_some() && !self.is_new_line(self.i + 1) {
                    self.err(
                        "caddy-syntax",
                        t.span,
                        "unexpected next token after `{` on the same line",
                    );
                }
                self.i += 1;
                if depth + 1 >= MAX_DEPTH {
                    self.err(
                        "caddy-depth",
                        t.span,
                        format!("blocks are nested deeper than {MAX_DEPTH} levels"),
                    );
                    self.skip_balanced();
                    continue;
                }
                let inner = self.block_body(depth + 1, true);
                block = Some(match block {
                    Some(mut prev) => {
                        let mut prev: Vec<Directive> = std::mem::take(&mut prev);
                        prev.extend(inner);
                        prev
                    }
                    None => inner,
                });
                continue;
            }
            if t.quote == Quote::None && t.text == "{}" {
                let next_new = self.tok(self.i + 1).is_none() || self.is_new_line(self.i + 1);
                if next_new {
                    self.i += 1;
                    continue;
                }
            }
            if self.is_new_line(self.i) {
                break;
            }
            if t.is_close() {
                if depth == 0 {
                    let s = t.span;
                    self.err(
                        "caddy-syntax",
                        s,
                        "unexpected `}` because no matching opening brace",
                    );
                }
                break;
            }
            if t.span.file == span.file {
                span = cover(span, t.span);
            }
            args.push(t.clone());
            self.i += 1;
        }
        Some(Directive {
            name,
            args,
            block,
            span,
        })
    }

    /// After an opening brace: skips to its matching close without recursion.
    fn skip_balanced(&mut self) {
        let mut depth = 1usize;
        while let Some(t) = self.tok(self.i) {
            let (open, close) = (t.is_open(), t.is_close());
            self.i += 1;
            if open {
                depth += 1;
            } else if close {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
        }
    }

    fn file_path(&self, id: FileId) -> Option<PathBuf> {
        self.ctx
            .files
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, p)| p.clone())
    }

    fn node_name(&self, file: FileId, snippet: Option<&str>) -> String {
        let f = self
            .file_path(file)
            .map(|p| {
                p.strip_prefix(&self.ctx.root)
                    .map(Path::to_path_buf)
                    .unwrap_or(p)
                    .display()
                    .to_string()
            })
            .unwrap_or_else(|| "Caddyfile".to_string());
        match snippet {
            Some(s) => format!("{f}:{s}"),
            None => f,
        }
    }

    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_string()];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if !seen.insert(n.clone()) {
                continue;
            }
            if let Some(next) = self.graph.get(&n) {
                stack.extend(next.iter().cloned());
            }
        }
        false
    }

    /// Expands the `import` at the current token in place.
    fn do_import(&mut self, nesting: i32) {
        let at = self.i;
        let Some(imp) = self.tok(at).cloned() else {
            return;
        };
        let mut j = at + 1;
        let mut words: Vec<Token> = Vec::new();
        while let Some(t) = self.tok(j) {
            if self.is_new_line(j) || t.is_open() {
                break;
            }
            words.push(t.clone());
            j += 1;
        }
        // A block passed to the import.
        let mut block: Vec<Token> = Vec::new();
        if self.tok(j).is_some_and(Token::is_open) && !self.is_new_line(j) {
            let mut depth = 1usize;
            j += 1;
            while let Some(t) = self.tok(j) {
                j += 1;
                if t.is_open() {
                    depth += 1;
                } else if t.is_close() {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                block.push(t.clone());
            }
        }
        let line_span = words
            .last()
            .filter(|w| w.span.file == imp.span.file)
            .map_or(imp.span, |w| imp.span.cover(w.span));
        let Some((pattern, args)) = words.split_first() else {
            self.err(
                "caddy-import",
                imp.span,
                "`import` requires a file path or snippet name",
            );
            self.toks.drain(at..j);
            return;
        };
        let (pattern, args) = (pattern.clone(), args.to_vec());
        if pattern.text.is_empty() {
            self.err(
                "caddy-import",
                pattern.span,
                "`import` requires a non-empty file path",
            );
            self.toks.drain(at..j);
            return;
        }
        self.imports += 1;
        if self.imports > MAX_IMPORTS {
            if !self.limit_hit {
                self.limit_hit = true;
                self.err(
                    "caddy-import-limit",
                    line_span,
                    format!("more than {MAX_IMPORTS} imports; the rest are not expanded"),
                );
            }
            self.toks.drain(at..j);
            return;
        }
        let mapping = match self.block_mapping(&block) {
            Ok(m) => m,
            Err(span) => {
                self.err("caddy-import", span, "anonymous blocks are not supported");
                self.toks.drain(at..j);
                return;
            }
        };
        let from = self.node_name(imp.span.file, imp.snippet.as_deref());
        // Snippets first, then files.
        let mut pieces: Vec<(String, Rc<Vec<Token>>)> = Vec::new();
        let what;
        if let Some(body) = self.snippets.get(&pattern.text) {
            let file = body.first().map_or(imp.span.file, |t| t.span.file);
            let node = self.node_name(file, Some(&pattern.text));
            pieces.push((node, Rc::new(body.clone())));
            what = format!("snippet {}", pattern.text);
        } else {
            what = pattern.text.clone();
            for (id, text) in self.resolve_files(&pattern, line_span) {
                if self.over_bytes(self.bytes.saturating_add(text.len())) {
                    self.limit(line_span);
                    self.toks.drain(at..j);
                    return;
                }
                let toks = match self.lexed.get(&id) {
                    Some(t) => t.clone(),
                    None => {
                        let t = Rc::new(lex(id, &text, self.problems));
                        self.lexed.insert(id, t.clone());
                        t
                    }
                };
                let node = self.node_name(id, None);
                pieces.push((node, toks));
            }
        }
        let mut spliced: Vec<Token> = Vec::new();
        let via = Rc::new((what, line_span));
        for (node, body) in pieces {
            if node == from || self.reaches(&node, &from) {
                // Once per (importer, imported) pair, not once per path.
                if self.cycles.insert((from.clone(), node.clone())) {
                    self.err(
                        "caddy-import-cycle",
                        line_span,
                        format!("a cycle of imports exists between `{from}` and `{node}`"),
                    );
                }
                continue;
            }
            self.graph.entry(from.clone()).or_default().insert(node);
            if self.over_bytes(self.bytes.saturating_add(text_bytes(&body))) {
                self.limit(line_span);
                self.toks.drain(at..j);
                return;
            }
            spliced.extend(substitute(&body, &args, &block, &mapping, nesting, &via));
        }
        let removed = self.toks.get(at..j).map_or(0, text_bytes);
        let bytes = (self.bytes + text_bytes(&spliced)).saturating_sub(removed);
        let tokens = self.toks.len() - (j - at) + spliced.len();
        if tokens > MAX_TOKENS
            || tokens.saturating_add(self.ctx.run_tokens) > MAX_RUN_TOKENS
            || self.over_bytes(bytes)
        {
            self.limit(line_span);
            self.toks.drain(at..j);
            return;
        }
        self.bytes = bytes;
        self.toks.splice(at..j, spliced);
    }

    /// Whether `bytes` of expanded text is over this file's or the run's budget.
    fn over_bytes(&self, bytes: usize) -> bool {
        bytes > MAX_EXPANDED_BYTES
            || bytes.saturating_add(self.ctx.run_used) > MAX_RUN_EXPANDED_BYTES
    }

    /// Reports (once) that imports grew past [`MAX_TOKENS`] or [`MAX_EXPANDED_BYTES`].
    fn limit(&mut self, line_span: Span) {
        if !self.limit_hit {
            self.limit_hit = true;
            self.err(
                "caddy-import-limit",
                line_span,
                format!(
                    "imports expand to more than {MAX_TOKENS} tokens or {} MiB ({MAX_RUN_TOKENS} tokens or {} MiB for all Caddyfiles of the run); this import and any later one over the limit are not expanded",
                    MAX_EXPANDED_BYTES >> 20,
                    MAX_RUN_EXPANDED_BYTES >> 20
                ),
            );
        }
    }

    /// Keys of a block passed to an import: `key args…` or `key { tokens }`.
    fn block_mapping(&self, block: &[Token]) -> Result<BTreeMap<String, Vec<Token>>, Span> {
        let mut map = BTreeMap::new();
        let mut k = 0usize;
        while let Some(key) = block.get(k) {
            if key.is_open() {
                return Err(key.span);
            }
            let mut vals = Vec::new();
            k += 1;
            let mut prev = key;
            while let Some(t) = block.get(k) {
                if new_line(prev, t) || t.is_open() {
                    break;
                }
                vals.push(t.clone());
                prev = t;
                k += 1;
            }
            if vals.is_empty()
                && block
                    .get(k)
                    .is_some_and(|t| t.is_open() && !new_line(prev, t))
            {
                let mut depth = 1usize;
                k += 1;
                while let Some(t) = block.get(k) {
                    k += 1;
                    if t.is_open() {
                        depth += 1;
                    } else if t.is_close() {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    vals.push(t.clone());
                }
            } else {
                // skip a block after arguments (not mapped, as in Caddy)
                if block
                    .get(k)
                    .is_some_and(|t| t.is_open() && !new_line(prev, t))
                {
                    let mut depth = 1usize;
                    k += 1;
                    while let Some(t) = block.get(k) {
                        k += 1;
                        if t.is_open() {
                            depth += 1;
                        } else if t.is_close() {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                    }
                }
            }
            map.insert(key.text.clone(), vals);
        }
        Ok(map)
    }

    /// Files named by an import pattern (relative to the importing file).
    fn resolve_files(&mut self, pattern: &Token, line_span: Span) -> Vec<(FileId, String)> {
        let mut out = Vec::new();
        let raw = Path::new(&pattern.text);
        let candidate = if raw.is_absolute() {
            match (raw.strip_prefix("/etc/caddy"), &self.ctx.etc_caddy) {
                (Ok(rest), Some(dir)) => dir.join(rest),
                _ => {
                    self.unresolved(
                        pattern,
                        line_span,
                        "is an absolute path outside the scan root; not read",
                    );
                    return out;
                }
            }
        } else {
            match self.file_path(pattern.span.file) {
                Some(base) => base
                    .parent()
                    .map_or_else(PathBuf::new, Path::to_path_buf)
                    .join(raw),
                None => {
                    self.unresolved(
                        pattern,
                        line_span,
                        "cannot be resolved: the importing file has no path",
                    );
                    return out;
                }
            }
        };
        let candidate = normalize(&candidate);
        if !candidate.starts_with(&self.ctx.root) {
            self.err(
                "caddy-import-outside-root",
                pattern.span,
                format!("import `{}` leaves the scan root", pattern.text),
            );
            return out;
        }
        let text = candidate.to_string_lossy().to_string();
        let stars = text.matches('*').count();
        let qs = text.matches('?').count();
        if stars > 1 || qs > 1 || (text.contains('[') && text.contains(']')) {
            self.err(
                "caddy-import",
                pattern.span,
                format!(
                    "glob pattern may only contain one wildcard (*), but has others: `{}`",
                    pattern.text
                ),
            );
            return out;
        }
        let paths: Vec<PathBuf> = if stars + qs > 0 {
            self.glob(&candidate)
        } else {
            vec![candidate]
        };
        let is_glob = stars + qs > 0;
        for p in paths {
            let Some(src) = self.ctx.source.as_deref_mut() else {
                self.unresolved(pattern, line_span, "cannot be read: no file source");
                return out;
            };
            match src.read(&p) {
                Ok((id, text)) => {
                    if !self.ctx.files.iter().any(|(i, _)| *i == id) {
                        self.ctx.files.push((id, p.clone()));
                    }
                    out.push((id, text));
                }
                Err(ReadError::NotFound) => {
                    self.unresolved(
                        pattern,
                        line_span,
                        "was not found; the check goes on without it",
                    );
                }
                Err(ReadError::IsDir) if is_glob => {}
                Err(ReadError::IsDir) => {
                    self.err(
                        "caddy-import",
                        pattern.span,
                        format!("could not import `{}`: is a directory", pattern.text),
                    );
                }
                Err(ReadError::Refused(why)) => {
                    self.problems.push(InputProblem::warning(
                        "caddy-import-refused",
                        pattern.span,
                        format!("import `{}` was not read: {why}", pattern.text),
                    ));
                }
                Err(ReadError::Other(why)) => {
                    self.err(
                        "caddy-import",
                        pattern.span,
                        format!("could not import `{}`: {why}", pattern.text),
                    );
                }
            }
        }
        out
    }

    fn unresolved(&mut self, pattern: &Token, line_span: Span, why: &str) {
        self.problems.push(InputProblem::warning(
            "caddy-import-missing",
            pattern.span,
            format!("import `{}` {why}", pattern.text),
        ));
        self.out.unresolved.push((pattern.text.clone(), line_span));
    }

    /// Expands a pattern with one wildcard component. Matches are sorted; when
    /// the last component starts with `*`, dotfiles are skipped (Caddy #5295).
    fn glob(&mut self, pattern: &Path) -> Vec<PathBuf> {
        let comps: Vec<String> = pattern
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect();
        let Some(k) = comps
            .iter()
            .position(|c| c.contains('*') || c.contains('?'))
        else {
            return vec![pattern.to_path_buf()];
        };
        let dir: PathBuf = comps.iter().take(k).collect();
        let rest: PathBuf = comps.iter().skip(k + 1).collect();
        let Some(pat) = comps.get(k) else {
            return Vec::new();
        };
        let skip_dot = comps.last().is_some_and(|l| l.starts_with('*'));
        let Some(src) = self.ctx.source.as_deref_mut() else {
            return Vec::new();
        };
        let names = src.list(&dir).unwrap_or_default();
        names
            .into_iter()
            .filter(|n| component_matches(pat, n))
            .filter(|n| !(skip_dot && rest.as_os_str().is_empty() && n.starts_with('.')))
            .map(|n| dir.join(n).join(&rest))
            .map(|p| {
                // `join` with an empty `rest` adds nothing
                normalize(&p)
            })
            .collect()
    }
}

/// Copies imported tokens, substituting `{block}`, `{blocks.KEY}`, variadic
/// `{args[a:b]}` tokens and `{args[N]}` placeholders (Caddy's rules; snippet
/// definitions inside a top-level import are copied untouched).
fn substitute(
    body: &[Token],
    args: &[Token],
    block: &[Token],
    mapping: &BTreeMap<String, Vec<Token>>,
    mut nesting: i32,
    via: &Rc<(String, Span)>,
) -> Vec<Token> {
    let mut out = Vec::with_capacity(body.len());
    let (mut maybe_snippet, mut maybe_id, mut index) = (false, false, 0usize);
    let mut prev: Option<&Token> = None;
    for tok in body {
        if !maybe_snippet && nesting == 0 {
            if prev.is_none_or(|p| new_line(p, tok)) {
                index = 0;
            } else {
                index += 1;
            }
            if index == 0
                && tok.text.len() >= 3
                && tok.text.starts_with('(')
                && tok.text.ends_with(')')
            {
                maybe_id = true;
            }
        }
        prev = Some(tok);
        if tok.is_open() {
            nesting += 1;
            if index == 1 && maybe_id && nesting == 1 {
                maybe_snippet = true;
                maybe_id = false;
            }
        } else if tok.is_close() {
            nesting -= 1;
            if nesting == 0 && maybe_snippet {
                maybe_snippet = false;
            }
        }
        let mut t = tok.clone();
        t.via = Some(via.clone());
        if tok.text == "{block}" {
            if block.is_empty() {
                out.push(t);
            } else {
                out.extend(block.iter().cloned());
            }
            continue;
        }
        if let Some(key) = tok
            .text
            .strip_prefix("{blocks.")
            .and_then(|r| r.strip_suffix('}'))
        {
            match mapping.get(key) {
                Some(v) if !v.is_empty() => out.extend(v.iter().cloned()),
                _ => out.push(t),
            }
            continue;
        }
        if maybe_snippet {
            out.push(t);
            continue;
        }
        if let Some((a, b)) = variadic(&tok.text, args.len()) {
            for arg in args.get(a..b).unwrap_or(&[]) {
                let mut c = t.clone();
                c.text = arg.text.clone();
                out.push(c);
            }
            continue;
        }
        t.text = replace_args(&tok.text, args);
        out.push(t);
    }
    out
}

/// `{args[a:b]}` as a whole token → the index range, when in bounds.
fn variadic(text: &str, argc: usize) -> Option<(usize, usize)> {
    let inner = text.strip_prefix("{args[")?.strip_suffix("]}")?;
    let (a, b) = inner.split_once(':')?;
    let a = if a.is_empty() { 0 } else { a.parse().ok()? };
    let b = if b.is_empty() { argc } else { b.parse().ok()? };
    (a <= b && b <= argc).then_some((a, b))
}

/// Replaces `{args[N]}` and the deprecated `{args.N}` inside a token; unknown
/// or out-of-range placeholders stay as written.
pub(crate) fn replace_args(text: &str, args: &[Token]) -> String {
    if !text.contains("{args") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let (before, from) = rest.split_at(open);
        out.push_str(before);
        let Some(close) = from.find('}') else {
            out.push_str(from);
            return out;
        };
        let key = from.get(1..close).unwrap_or("");
        let idx = key
            .strip_prefix("args[")
            .and_then(|r| r.strip_suffix(']'))
            .or_else(|| key.strip_prefix("args."))
            .and_then(|n| n.parse::<usize>().ok());
        match idx.and_then(|n| args.get(n)) {
            Some(a) => out.push_str(&a.text),
            None => out.push_str(from.get(..=close).unwrap_or("")),
        }
        rest = from.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}
