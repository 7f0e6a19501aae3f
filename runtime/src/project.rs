//! The documents of one run: every input file parsed into its model, the
//! problems found, the cross-file links between them, and the secret values
//! they hold (for redaction).
//!
//! Files are addressed by their display path (relative to the working
//! directory, `/`-separated). Texts come from what was added (inputs, and
//! auxiliary files such as `.gitignore` in tests) and, when a disk root is
//! set, from the disk on demand — never outside the scan roots.

mod link;
mod overlay;
mod reach;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::formats::registry::{Input, LoadCx, Loaded, RunState};
use crate::fs::{Confined, FsError};
use crate::model::{FileId, InputProblem, Node, Span, Value};
pub use crate::secrets::url_credentials;
use crate::secrets::{is_run_wide_secret, is_secret_name, masks_span};
use crate::source::SourceMap;

/// The largest input file read, in bytes; a larger one is an error.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Problems reported per file by one front end; the rest are counted in one
/// last entry ("… and N more problems in this file").
pub const MAX_PROBLEMS_PER_FILE: usize = 100;

/// Model nodes (values of the document trees) all the documents of one run
/// may hold before [`MODEL_NODES_PER_INPUT_BYTE`] adds to it: each file is
/// bounded by its own limits, and this bounds their sum (measured: about 250
/// bytes of peak memory per node kept; a 10,000-instruction Dockerfile of
/// `RUN a&&b` lines is about 500,000 nodes). Files added once it is spent are
/// reported and not checked.
pub const MAX_RUN_MODEL_NODES: usize = 1_000_000;

/// The run's model budget grows by this many nodes per byte of input read:
/// real files make about 0.4 nodes per byte (10,000 files of the benchmark
/// set: 9.4 MB, about 4 M nodes), so a large monorepo is never refused, while
/// inputs written to multiply the model (5 nodes per byte and more) are.
pub const MODEL_NODES_PER_INPUT_BYTE: usize = 1;

/// Nodes in the tree under `node` (itself included).
pub fn count_nodes(node: &Node) -> usize {
    let mut n = 0usize;
    let mut stack = vec![node];
    while let Some(x) = stack.pop() {
        n += 1;
        match x.value() {
            Value::List(items) => stack.extend(items.iter()),
            Value::Object(fields) => stack.extend(fields.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    n
}

/// Gives every list and object under `node` (itself included) the exact
/// capacity it holds and returns the number of nodes ([`count_nodes`],
/// a shared subtree counted whole).
/// Parsers build trees by pushing, which leaves a quarter to a half of each
/// vector unused; a run keeps every model until it exits, so the slack was
/// about a third of its memory. Moving the items is cheaper than cloning.
pub fn compact(node: &mut Node) -> usize {
    fn exact<T>(v: &mut Vec<T>) {
        if v.capacity() > v.len() {
            let mut fitted = Vec::with_capacity(v.len());
            fitted.append(v);
            *v = fitted;
        }
    }
    let mut n = 0usize;
    let mut stack = vec![node];
    while let Some(x) = stack.pop() {
        n += 1;
        match &mut x.value {
            Value::List(items) => {
                exact(items);
                stack.extend(items.iter_mut());
            }
            Value::Object(fields) => {
                exact(fields);
                stack.extend(fields.iter_mut().map(|(_, v)| v));
            }
            // Fitted where it was made; counted for each holder (the model
            // budget counts what a document reads, as if it were copied).
            Value::Shared(inner) => n += count_nodes(inner) - 1,
            _ => {}
        }
    }
    n
}

/// Keeps the first [`MAX_PROBLEMS_PER_FILE`] problems of each file, in order,
/// and replaces the rest of a file's problems with one entry that counts them
/// (an error if any of them was one).
pub fn cap_problems(problems: Vec<InputProblem>) -> Vec<InputProblem> {
    let mut seen: BTreeMap<FileId, (usize, usize, bool, Span)> = BTreeMap::new();
    let mut out = Vec::new();
    for p in problems {
        // Already capped (a front end that caps its own): kept as it is.
        if p.code == "too-many-problems" {
            out.push(p);
            continue;
        }
        let entry = seen.entry(p.span.file).or_insert((0, 0, false, p.span));
        if entry.0 < MAX_PROBLEMS_PER_FILE {
            entry.0 += 1;
            out.push(p);
        } else {
            if entry.1 == 0 {
                entry.3 = p.span;
            }
            entry.1 += 1;
            entry.2 |= p.level == crate::model::Level::Error;
        }
    }
    for (_, (_, more, error, span)) in seen {
        if more > 0 {
            let message = format!(
                "… and {more} more problem{} in this file (only the first \
                 {MAX_PROBLEMS_PER_FILE} are listed)",
                if more == 1 { "" } else { "s" }
            );
            out.push(if error {
                InputProblem::error("too-many-problems", span, message)
            } else {
                InputProblem::warning("too-many-problems", span, message)
            });
        }
    }
    out
}

pub use crate::formats::registry::{InputKind, Target};

/// Input files loaded ahead at a time by [`Project::add_inputs`] (in
/// parallel) before they are kept in order: bounds the texts and models in
/// flight, and the work lost to a load ahead that has to be done again.
pub const LOAD_AHEAD_FILES: usize = 64;

/// The stack of the run's worker threads ([`on_cores`]): the parsers, the
/// CEL parser and checker, and the evaluator recurse over nested inputs and
/// expressions (bounded by their depth limits), as on the binary's main
/// thread.
const LOAD_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Runs `f` in the run's pool of threads with [`LOAD_STACK_BYTES`] stacks
/// (rayon's parallel iterators inside it use them), or on this thread when
/// no pool can be made. One pool for every stage before and after
/// evaluation, and for compiling policies and evaluating rules: its threads,
/// and the memory their allocator holds, are reused from stage to stage.
pub fn on_cores<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(LOAD_STACK_BYTES)
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(f),
        None => f(),
    }
}

/// An input as far as [`Project::prepare`] took it.
struct Prepared {
    path: String,
    kind: Kind,
    /// Bytes read.
    len: usize,
    /// What screening found (within [`MAX_INPUT_BYTES`]).
    skip: Option<crate::formats::screen::Skip>,
    /// The bytes, unless decoded into `text`.
    bytes: Vec<u8>,
    /// The text, when decoded ahead.
    text: Option<Arc<str>>,
    /// The load ahead, when it read no other file.
    ahead: Option<Ahead>,
}

/// A load ahead: the id it assumed, what it produced, the state it ended with.
struct Ahead {
    id: FileId,
    flow: Flow,
    state: RunState,
}

/// What loading a file produced, with a template's second load.
enum Flow {
    /// Parsed as it stands (with or without problems).
    Plain(Ready),
    /// Did not parse as it stands, and has template syntax at `line`: parsed
    /// again with its placeholders masked (`None`: that failed too).
    Template { line: usize, again: Option<Ready> },
}

impl Flow {
    /// Moves every span of file `from` to file `to`.
    fn remap(&mut self, from: FileId, to: FileId) {
        match self {
            Flow::Plain(r) | Flow::Template { again: Some(r), .. } => r.remap(from, to),
            Flow::Template { again: None, .. } => {}
        }
    }
}

/// A load with its models fitted ([`compact`]) and their secret sites found.
struct Ready {
    problems: Vec<InputProblem>,
    documents: Vec<ReadyDocument>,
}

struct ReadyDocument {
    target: Target,
    root: Node,
    /// Its nodes.
    size: usize,
    /// [`secret_sites`] of `root`.
    sites: Vec<(String, Span, bool)>,
}

impl Ready {
    fn of(loaded: Loaded) -> Ready {
        let documents = loaded
            .documents
            .into_iter()
            .map(|(target, mut root)| {
                let size = compact(&mut root);
                let mut sites = Vec::new();
                secret_sites(&root, &mut sites);
                ReadyDocument {
                    target,
                    root,
                    size,
                    sites,
                }
            })
            .collect();
        Ready {
            problems: loaded.problems,
            documents,
        }
    }

    fn remap(&mut self, from: FileId, to: FileId) {
        let mv = |span: &mut Span| {
            if span.file == from {
                span.file = to;
            }
        };
        for p in &mut self.problems {
            mv(&mut p.span);
        }
        for d in &mut self.documents {
            let mut stack = vec![&mut d.root];
            while let Some(n) = stack.pop() {
                mv(&mut n.span);
                match &mut n.value {
                    Value::List(items) => stack.extend(items.iter_mut()),
                    Value::Object(fields) => stack.extend(fields.iter_mut().map(|(_, v)| v)),
                    // A subtree shared within the document (a Dockerfile's
                    // final stage): each holder moves its own copy (the
                    // sharing is given up; spans are never left behind).
                    Value::Shared(inner) => stack.push(std::sync::Arc::make_mut(inner)),
                    _ => {}
                }
            }
            for (_, span, _) in &mut d.sites {
                mv(span);
            }
        }
    }
}

/// Loads a decoded file as `kind`; a file that does not parse but has
/// template syntax is loaded again with its placeholders masked.
fn load_flow(cx: &mut LoadCx<'_>, id: FileId, path: &str, text: &str, kind: Kind) -> Flow {
    let load = |cx: &mut LoadCx<'_>, text: &str| {
        let input = Input {
            file: id,
            path,
            text,
        };
        kind.format().load(&input, cx)
    };
    let broken = |l: &Loaded| {
        l.problems
            .iter()
            .any(|p| p.level == crate::model::Level::Error)
    };
    let loaded = load(cx, text);
    let masked = if broken(&loaded) {
        crate::formats::screen::mask_templates(text)
    } else {
        None
    };
    let Some(masked) = masked else {
        return Flow::Plain(Ready::of(loaded));
    };
    let line = crate::formats::screen::template_line(text).unwrap_or(1);
    let again = load(cx, &masked);
    Flow::Template {
        line,
        again: (!broken(&again)).then(|| Ready::of(again)),
    }
}

/// The format a file is read as (see [`crate::formats::registry`]).
pub type Kind = InputKind;

/// One parsed input.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file.
    pub file: FileId,
    /// The target it feeds.
    pub target: Target,
    /// Its model (following the schema of `target`).
    pub root: Node,
}

/// All inputs of a run.
#[derive(Debug, Default)]
pub struct Project {
    /// File texts.
    pub sources: SourceMap,
    /// Parsed documents, in the order added.
    pub documents: Vec<Document>,
    /// Problems found while reading inputs.
    pub problems: Vec<InputProblem>,
    /// Secret values seen in any input, never to be printed.
    pub secrets: BTreeSet<String>,
    /// Where secret values are written in the input texts (the raw spelling,
    /// escapes and continuations included), by file: text snippets mask these bytes.
    pub secret_spans: BTreeMap<FileId, Vec<std::ops::Range<usize>>>,
    /// Texts of auxiliary files (`.gitignore`, `.dockerignore`) by display path.
    aux: BTreeMap<String, String>,
    /// Where display paths are relative to, for reading from disk; none in memory.
    disk: Option<PathBuf>,
    /// Directories (display paths) nothing may be read outside of; empty: no limit.
    roots: Vec<String>,
    /// `roots` normalized once ([`normalize`]): a path is tested against
    /// every root, and with a root per file named on the command line,
    /// normalizing both sides at every test was most of linking.
    norm_roots: Vec<String>,
    /// Every read from disk goes through this layer (confined to `roots`).
    fs: Confined,
    /// Whether `.gitignore` rules were found for a dotenv file (for `--verbose` notes).
    pub notes: Vec<String>,
    /// The replacer for `secrets`, built on first use (reset when secrets change).
    redactor: std::sync::OnceLock<Redactor>,
    /// What formats keep across the files of the run (caches, run budgets).
    run: RunState,
    /// Model nodes of the documents kept so far (run budget).
    model_nodes: usize,
    /// Bytes of input files read (the model budget grows with them).
    input_bytes: usize,
    /// The run's model budget, when not [`MAX_RUN_MODEL_NODES`] (tests).
    model_limit: Option<usize>,
    /// The first file refused once the model budget was spent (a file with
    /// two documents is reported once).
    model_refused: Option<FileId>,
}

impl Project {
    /// A project that reads linked files from disk, relative to `cwd`, within `roots`
    /// (display paths of the scanned directories).
    pub fn on_disk(cwd: &Path, roots: Vec<String>) -> Project {
        let fs = if roots.is_empty() {
            Confined::new(cwd, [PathBuf::from(".")])
        } else {
            Confined::new(cwd, roots.iter().map(|r| crate::fs::undisplay(r)))
        };
        Project {
            disk: Some(cwd.to_path_buf()),
            norm_roots: roots.iter().map(|r| normalize(r)).collect(),
            roots,
            fs,
            ..Project::default()
        }
    }

    /// Adds an auxiliary file (not checked itself, read by links: `.gitignore`, `.dockerignore`).
    pub fn add_aux(&mut self, path: &str, text: &str) {
        self.aux.insert(normalize(path), text.to_string());
    }

    /// Reads one input file of a known kind from its bytes. Invalid UTF-8, an
    /// oversized file or a syntax error is a located problem; the run goes on.
    /// nginx and Caddyfile inputs added this way resolve includes and imports
    /// only when the project reads from disk.
    pub fn add_file(&mut self, path: &str, bytes: Vec<u8>, kind: Kind) -> FileId {
        let path = normalize(path);
        let Some((id, text)) = self.decode(&path, bytes) else {
            return self.sources.find(&path).unwrap_or_default();
        };
        if self.model_refused.is_some() {
            // Spent: not even parsed.
            self.refuse_model(id);
            return id;
        }
        let loaded = self.load(id, &path, &text, kind);
        self.keep(id, loaded);
        id
    }

    /// Reads one input file found by discovery or named on the command line:
    /// [`Project::add_file`] after screening ([`crate::formats::screen`]).
    /// Ciphertext and binary files are skipped with a warning, a file whose
    /// text is recognisably not `kind` with a note; a template that does not
    /// parse as it stands is parsed again with its placeholders as unknown
    /// values, and skipped with a warning when its structure does not survive.
    /// `None` when the file was skipped (it is then not counted as checked).
    pub fn add_input(&mut self, path: &str, bytes: Vec<u8>, kind: Kind) -> Option<FileId> {
        let prepared = self.prepare(path, bytes, kind, None);
        self.add_prepared(prepared)
    }

    /// Reads many input files, as [`Project::add_input`] on each in order
    /// would, loading them in parallel: [`LOAD_AHEAD_FILES`] at a time are
    /// read, decoded, screened and parsed on the cores (each from a fresh
    /// run state, reading no other file), then kept one by one in input
    /// order, so ids, problems, run budgets and secrets come out as in order.
    /// A load ahead that asked for another file (an include, an import, an
    /// `extends`), whose file was already read, or whose run budget
    /// ([`Format::join_state`](crate::formats::registry::Format::join_state))
    /// could have mattered, is done again in order. `read` gives an input's
    /// display path, bytes and kind, or the error it is reported with;
    /// `done` receives each input's outcome in order (`Ok(None)`: skipped).
    pub fn add_inputs<T: Sync, E: Send>(
        &mut self,
        inputs: &[T],
        read: impl Fn(&T) -> Result<(String, Vec<u8>, Kind), E> + Sync,
        mut done: impl FnMut(&T, Result<Option<FileId>, E>),
    ) {
        use rayon::prelude::*;
        for chunk in inputs.chunks(LOAD_AHEAD_FILES.max(1)) {
            for f in crate::formats::registry::FORMATS {
                f.share_state(&mut self.run);
            }
            let base = self.sources.len();
            let this = &*self;
            let ahead = |(i, input): (usize, &T)| {
                read(input).map(|(path, bytes, kind)| {
                    let id = u32::try_from(base.saturating_add(i)).unwrap_or(u32::MAX);
                    this.prepare(&path, bytes, kind, Some(FileId(id)))
                })
            };
            let loaded: Vec<Result<Prepared, E>> = if chunk.len() > 1 {
                on_cores(|| chunk.par_iter().enumerate().map(ahead).collect())
            } else {
                chunk.iter().enumerate().map(ahead).collect()
            };
            for (input, r) in chunk.iter().zip(loaded) {
                let outcome = r.map(|p| self.add_prepared(p));
                done(input, outcome);
            }
        }
    }

    /// What can be done of [`Project::add_input`] without the files before
    /// it: normalising the path, screening, decoding and, with `ahead` (the
    /// id the file is expected to get), loading it from a fresh run state.
    /// Reads nothing of the project that loading files changes.
    fn prepare(&self, path: &str, bytes: Vec<u8>, kind: Kind, ahead: Option<FileId>) -> Prepared {
        let path = normalize(path);
        let len = bytes.len();
        let mut prepared = Prepared {
            path,
            kind,
            len,
            skip: None,
            bytes,
            text: None,
            ahead: None,
        };
        if len > MAX_INPUT_BYTES {
            return prepared;
        }
        prepared.skip = crate::formats::screen::screen(kind, &prepared.bytes);
        // Once the model budget is spent no file is parsed (nor ahead).
        let Some(id) = ahead.filter(|_| self.model_refused.is_none()) else {
            return prepared;
        };
        if prepared.skip.is_some() {
            return prepared;
        }
        let Ok(text) = std::str::from_utf8(&prepared.bytes) else {
            return prepared;
        };
        let text: Arc<str> = Arc::from(text.strip_prefix('\u{feff}').unwrap_or(text));
        prepared.bytes = Vec::new();
        let mut state = RunState::default();
        kind.format().fork_state(&self.run, &mut state);
        let mut scratch = SourceMap::default();
        let mut cx = LoadCx {
            sources: &mut scratch,
            fs: &self.fs,
            disk: self.disk.clone().zip(self.root_of(&prepared.path)),
            state: &mut state,
            ahead: true,
            asked: false,
        };
        let flow = load_flow(&mut cx, id, &prepared.path, &text, kind);
        let asked = cx.asked;
        prepared.text = Some(text);
        if !asked {
            prepared.ahead = Some(Ahead { id, flow, state });
        }
        prepared
    }

    /// The rest of [`Project::add_input`], in order: registers the file,
    /// then keeps its load ahead when it stands, else loads it now.
    fn add_prepared(&mut self, p: Prepared) -> Option<FileId> {
        let Prepared {
            path,
            kind,
            len,
            skip,
            bytes,
            text,
            ahead,
        } = p;
        let known = self.sources.find(&path);
        if known.is_none() && len <= MAX_INPUT_BYTES {
            if let Some(skip) = skip {
                let id = self.sources.add(&path, "");
                self.problems.push(InputProblem {
                    level: skip.level,
                    code: skip.code,
                    span: Span::new(id, 0, 0),
                    message: skip.message,
                });
                return None;
            }
        }
        let decoded = match (known, text) {
            (None, Some(text)) => {
                // Decoded ahead: registered as `decode` would.
                self.input_bytes = self.input_bytes.saturating_add(len);
                let id = self.sources.add(&path, text.clone());
                Some((id, text))
            }
            _ => self.decode(&path, bytes),
        };
        let Some((id, text)) = decoded else {
            return self.sources.find(&path);
        };
        if self.model_refused.is_some() {
            self.refuse_model(id);
            return Some(id);
        }
        let ahead = ahead.filter(|_| known.is_none()).and_then(|a| {
            let Ahead {
                id: expected,
                mut flow,
                state,
            } = a;
            if !kind.format().join_state(&mut self.run, state) {
                return None;
            }
            if expected != id {
                flow.remap(expected, id);
            }
            Some(flow)
        });
        let flow = match ahead {
            Some(flow) => flow,
            None => {
                let mut cx = self.load_cx(&path);
                load_flow(&mut cx, id, &path, &text, kind)
            }
        };
        let label = kind.format().label();
        match flow {
            Flow::Plain(loaded) => {
                self.keep_ready(id, loaded);
                Some(id)
            }
            Flow::Template { line, again: None } => {
                self.problems.push(InputProblem::warning(
                    "input-template",
                    Span::new(id, 0, 0),
                    format!(
                        "a template (template syntax at line {line}) that does not parse as {label} until rendered; not checked: check the rendered file"
                    ),
                ));
                None
            }
            Flow::Template {
                line,
                again: Some(again),
            } => {
                self.problems.push(InputProblem::warning(
                    "input-template",
                    Span::new(id, 0, 0),
                    format!(
                        "a template (template syntax at line {line}): checked as {label} with each `{{{{ … }}}}` as an unknown value"
                    ),
                ));
                self.keep_ready(id, again);
                Some(id)
            }
        }
    }

    /// The context a file of `path` is loaded in, in order (not ahead): the
    /// run's sources, state and budgets, and the scan root it lies in.
    fn load_cx(&mut self, path: &str) -> LoadCx<'_> {
        let root = self.root_of(path);
        LoadCx {
            sources: &mut self.sources,
            fs: &self.fs,
            disk: self.disk.clone().zip(root),
            state: &mut self.run,
            ahead: false,
            asked: false,
        }
    }

    /// Loads a decoded file as `kind` (nothing is kept yet).
    fn load(&mut self, id: FileId, path: &str, text: &str, kind: Kind) -> Loaded {
        let mut cx = self.load_cx(path);
        let input = Input {
            file: id,
            path,
            text,
        };
        kind.format().load(&input, &mut cx)
    }

    /// Keeps what a load produced.
    fn keep(&mut self, id: FileId, loaded: Loaded) {
        self.keep_ready(id, Ready::of(loaded));
    }

    /// Keeps a load made ready ([`Ready::of`]).
    fn keep_ready(&mut self, id: FileId, ready: Ready) {
        self.problems.extend(cap_problems(ready.problems));
        for doc in ready.documents {
            self.push(id, doc);
        }
    }

    fn push(&mut self, file: FileId, doc: ReadyDocument) {
        let ReadyDocument {
            target,
            root,
            size,
            sites,
        } = doc;
        for (value, span, run_wide) in sites {
            let raw = self
                .sources
                .get(span.file)
                .and_then(|f| f.text.get(span.start()..span.end()));
            if let Some(raw) = raw {
                let spans = self.secret_spans.entry(span.file).or_default();
                written_spans(raw, &value, span.start(), spans);
            }
            // Only values that look like secrets and are long enough are
            // searched for in every output (short values and plain words
            // would mask service names and ordinary words).
            if run_wide {
                self.secrets.insert(value);
            }
        }
        self.redactor = std::sync::OnceLock::new();
        let limit = self.model_budget();
        let nodes = self.model_nodes.saturating_add(size);
        if self.model_refused.is_some() || nodes > limit {
            // Once spent, every later file is refused (not a smaller one that
            // would still fit: the files checked do not depend on their sizes).
            if self.model_refused.is_none() {
                // The file's first document may have been kept (nginx, Caddy).
                self.documents.retain(|d| d.file != file);
            }
            self.refuse_model(file);
            return;
        }
        self.model_nodes = nodes;
        self.documents.push(Document { file, target, root });
    }

    /// The run's model budget: [`MAX_RUN_MODEL_NODES`] plus
    /// [`MODEL_NODES_PER_INPUT_BYTE`] per byte of input read so far.
    fn model_budget(&self) -> usize {
        match self.model_limit {
            Some(fixed) => fixed,
            None => MAX_RUN_MODEL_NODES
                .saturating_add(self.input_bytes.saturating_mul(MODEL_NODES_PER_INPUT_BYTE)),
        }
    }

    /// Reports (once per file) that the run's model budget is spent.
    fn refuse_model(&mut self, file: FileId) {
        let limit = self.model_budget();
        if self.model_refused != Some(file) {
            self.problems.push(InputProblem::error(
                "run-model-budget",
                Span::new(file, 0, 0),
                format!(
                    "the run's model budget is spent ({limit} values read from the files before this one); this file was not checked"
                ),
            ));
        }
        self.model_refused = Some(file);
    }

    /// Sets the run's model budget to a fixed number of nodes (tests of the
    /// mechanism with small inputs).
    #[doc(hidden)]
    pub fn set_model_limit(&mut self, nodes: usize) {
        self.model_limit = Some(nodes);
    }

    /// Decodes and registers a file's text, reporting size and encoding problems.
    fn decode(&mut self, path: &str, bytes: Vec<u8>) -> Option<(FileId, Arc<str>)> {
        // Already read as an include or import: one file, one id, the same text.
        if let Some(id) = self.sources.find(path) {
            return self.sources.get(id).map(|f| (id, f.text.clone()));
        }
        if bytes.len() <= MAX_INPUT_BYTES {
            self.input_bytes = self.input_bytes.saturating_add(bytes.len());
        }
        if bytes.len() > MAX_INPUT_BYTES {
            let id = self.sources.add(path, "");
            self.problems.push(InputProblem::error(
                "input-too-large",
                Span::new(id, 0, 0),
                format!(
                    "file is {} bytes; the limit is {MAX_INPUT_BYTES}",
                    bytes.len()
                ),
            ));
            return None;
        }
        match String::from_utf8(bytes) {
            Ok(t) => {
                // One copy of the text, shared by the source map and the parser.
                let t: Arc<str> = Arc::from(t.strip_prefix('\u{feff}').unwrap_or(&t));
                let id = self.sources.add(path, t.clone());
                Some((id, t))
            }
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let len = lossy.len();
                let id = self.sources.add(path, lossy);
                self.problems.push(InputProblem::error(
                    "input-not-utf8",
                    Span::new(id, at.min(len), at.min(len)),
                    "file is not valid UTF-8 text",
                ));
                None
            }
        }
    }

    /// The scan root (display path) a file lies in: the longest matching root,
    /// or its own directory when no root was given.
    fn root_of(&self, path: &str) -> Option<String> {
        if self.roots.is_empty() {
            return Some(parent(path).to_string());
        }
        let path = normalize(path);
        self.roots
            .iter()
            .zip(&self.norm_roots)
            .filter(|(_, r)| within_normalized(&path, r))
            .max_by_key(|(r, _)| r.len())
            .map(|(r, _)| r.clone())
    }

    /// The text of a file by display path: an added input or auxiliary file,
    /// else (on disk, within a scan root) read from disk.
    pub fn read_text(&self, path: &str) -> Option<String> {
        self.read_checked(path).ok()
    }

    /// [`Project::read_text`] with the reason a file was not read: not found,
    /// outside the scan roots once resolved (naming the link), not a regular
    /// file, too large, not UTF-8. Reads go through the confined layer.
    pub fn read_checked(&self, path: &str) -> Result<String, FsError> {
        let path = normalize(path);
        if let Some(t) = self.aux.get(&path) {
            return Ok(t.clone());
        }
        if let Some(id) = self.sources.find(&path) {
            return self
                .sources
                .get(id)
                .map(|f| f.text.to_string())
                .ok_or(FsError::NotFound);
        }
        if self.disk.is_none() {
            return Err(FsError::NotFound);
        }
        if !self.roots.is_empty() && !self.norm_roots.iter().any(|r| within_normalized(&path, r)) {
            return Err(FsError::OutsideRoot {
                link: path,
                through_link: false,
            });
        }
        self.fs.read_text(&crate::fs::undisplay(&path))
    }

    /// The confined layer disk reads go through.
    pub fn fs(&self) -> &Confined {
        &self.fs
    }

    /// Whether a path lies inside the scan roots (always, in memory).
    pub fn in_roots(&self, path: &str) -> bool {
        if self.roots.is_empty() {
            return true;
        }
        let path = normalize(path);
        self.norm_roots.iter().any(|r| within_normalized(&path, r))
    }

    /// Resolves the links between documents (compose → Dockerfile and `.env`,
    /// Dockerfile → `.dockerignore`, env files → `.gitignore`). Call once,
    /// after every input is added.
    pub fn link(&mut self) {
        link::link(self);
        reach::link(self);
        self.redactor = std::sync::OnceLock::new();
    }

    /// Replaces every secret value in `text` with its redacted form.
    pub fn redact(&self, text: &str) -> String {
        self.redactor().apply(text)
    }

    /// The replacer for this project's secrets.
    pub fn redactor(&self) -> &Redactor {
        self.redactor.get_or_init(|| {
            // A file that failed to parse has no model to collect secrets
            // from: the values of its secret-like assignments count too (a
            // parser's message may quote them).
            let broken: BTreeSet<FileId> = self
                .problems
                .iter()
                .filter(|p| p.level == crate::model::Level::Error)
                .map(|p| p.span.file)
                .collect();
            let mut secrets = self.secrets.clone();
            for f in broken.iter().filter_map(|id| self.sources.get(*id)) {
                for r in secret_assignments(&f.text) {
                    let v = f.text.get(r).unwrap_or("").trim();
                    // The value as written, inside its quotes, and its first token.
                    let inner = match v.chars().next() {
                        Some(q @ ('"' | '\'')) => {
                            let rest = v.get(1..).unwrap_or("");
                            rest.find(q).and_then(|e| rest.get(..e)).unwrap_or(rest)
                        }
                        _ => v,
                    };
                    let token = inner
                        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ']' | '}'))
                        .next()
                        .unwrap_or("")
                        .trim_end_matches(':');
                    for piece in [v, inner, token] {
                        if is_run_wide_secret(piece) {
                            secrets.insert(piece.to_string());
                        }
                    }
                }
            }
            Redactor::new(&secrets)
        })
    }

    /// The text of file `id` for snippets, every secret masked (see [`mask`]):
    /// the spans of secret values as written, every occurrence of a collected
    /// secret, URL credentials, and the values of secret-like keys found by
    /// [`secret_assignments`] (which also covers lines that failed to parse).
    /// Each masked character becomes as many `*` as its UTF-8 bytes, so line
    /// structure and byte offsets are unchanged. Linear in the text (plus
    /// sorting the ranges).
    pub fn masked_text(&self, id: FileId) -> String {
        let Some(f) = self.sources.get(id) else {
            return String::new();
        };
        let text: &str = &f.text;
        let mut ranges = self.secret_spans.get(&id).cloned().unwrap_or_default();
        ranges.extend(self.redactor().ranges(text));
        ranges.extend(secret_assignments(text));
        mask(text, ranges)
    }

    /// An interpolated value as a message shows it: redacted whole when it is
    /// a secret or derived from one ([`Project::is_secret_derived`]), else with
    /// its secrets redacted and cut to [`MAX_SHOWN_VALUE_CHARS`] characters.
    pub fn shown(&self, value: &str) -> String {
        // The name of a secret-like key (`GRAFANA_PASSWORD`) is what a finding
        // is about, not a secret: it may share letters with a secret's value
        // (`…password…`), so only exact (case-insensitive) redaction applies.
        let is_key_name = !value.is_empty()
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            && is_secret_name(value);
        // Redacted once: the redacted text is also what the derived-value
        // test looks at.
        let redactor = self.redactor();
        let redacted = redactor.apply(value);
        if !is_key_name
            && (self.secrets.contains(value) || redactor.is_derived_given(value, &redacted))
        {
            return crate::functions::secrets::redact(value);
        }
        match redacted.char_indices().nth(MAX_SHOWN_VALUE_CHARS) {
            Some((cut, _)) => format!("{}…", redacted.get(..cut).unwrap_or("")),
            None => redacted,
        }
    }

    /// Whether a value to print is a secret or derived from one (see
    /// [`Redactor::is_derived`]).
    pub fn is_secret_derived(&self, value: &str) -> bool {
        self.secrets.contains(value) || self.redactor().is_derived(value)
    }
}

/// Lexical normalisation of a `/`-separated path: drops `.` and empty parts,
/// resolves `..` against earlier parts (a leading `..` is kept); see
/// [`crate::fs::normalize_display`].
pub fn normalize(path: &str) -> String {
    crate::fs::normalize_display(path)
}

/// The directory part of a display path (`.` for a bare name).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => path.get(..i).unwrap_or("."),
        None => ".",
    }
}

/// `dir`/`rel`, normalised (`rel` absolute stays as is). `dir` is a display
/// path; `rel` is a path as written in a file, so its backslashes are
/// escaped (`\\`): a written `evil\x41` names that file, never `evilA`.
pub fn join(dir: &str, rel: &str) -> String {
    let escaped;
    let rel = if rel.contains('\\') {
        escaped = rel.replace('\\', "\\\\");
        escaped.as_str()
    } else {
        rel
    };
    if rel.starts_with('/') || dir == "." {
        normalize(rel)
    } else {
        normalize(&format!("{dir}/{rel}"))
    }
}

/// Whether `path` is `root` or lies below it.
pub fn within(path: &str, root: &str) -> bool {
    within_normalized(&normalize(path), &normalize(root))
}

/// [`within`] for paths already normalized ([`normalize`]).
fn within_normalized(p: &str, r: &str) -> bool {
    if r == "." {
        return !p.starts_with("../") && p != ".." && !p.starts_with('/');
    }
    p == r || p.strip_prefix(r).is_some_and(|rest| rest.starts_with('/')) || r == "/"
}

/// Replaces every occurrence of a secret (the longest match wins; secrets
/// under 4 characters only when they are the whole text) with its redacted form.
pub fn redact_all(text: &str, secrets: &BTreeSet<String>) -> String {
    Redactor::new(secrets).apply(text)
}

/// An interpolated message value longer than this many characters is cut
/// (with `…`): a 16 MiB site address is not repeated in every finding.
pub const MAX_SHOWN_VALUE_CHARS: usize = 200;

/// Secrets at least this long (in characters) that mix two classes of
/// characters are "strong": matched ignoring ASCII case, and their fragments
/// count as derived values (see [`Redactor::is_derived`]).
pub const MIN_STRONG_SECRET_CHARS: usize = 8;

/// An interpolated message value that shares this many consecutive bytes
/// (ignoring ASCII case, forwards or reversed) with a strong secret is
/// redacted, when those bytes mix letters with digits or symbols (a run of
/// letters is a piece of a word, a run of digits one of a number: see
/// `mixed_window`).
pub const SECRET_FRAGMENT_BYTES: usize = 6;

/// An interpolated message value of 4 or 5 bytes that is, ignoring ASCII
/// case, a substring of a strong secret (or its reverse) is redacted.
pub const MIN_SECRET_PIECE_BYTES: usize = 4;

/// A one-pass secret replacer, built once per set of secrets (Aho-Corasick,
/// leftmost-longest): redaction costs the length of the text, not the number
/// of secrets in the project.
///
/// Three passes, each linear in the text: strong secrets ignoring ASCII case
/// (an `upperAscii()` of a secret), every secret of 4 characters or more as
/// written, and the credentials of every URL (`scheme://user:PASSWORD@host`,
/// see [`url_credentials`]) whether collected or not.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    automaton: Option<aho_corasick::AhoCorasick>,
    replacements: Vec<String>,
    insensitive: Option<aho_corasick::AhoCorasick>,
    insensitive_replacements: Vec<String>,
    short: BTreeSet<String>,
    /// Lowercased byte windows (4 and 6 bytes, packed) of strong secrets.
    grams: std::collections::HashSet<u64>,
}

/// Whether a secret is strong: long, with at least two classes of characters.
fn is_strong(secret: &str) -> bool {
    if secret.chars().count() < MIN_STRONG_SECRET_CHARS {
        return false;
    }
    let classes = [
        secret.chars().any(|c| c.is_lowercase()),
        secret.chars().any(|c| c.is_uppercase()),
        secret.chars().any(|c| c.is_numeric()),
        secret.chars().any(|c| !c.is_alphanumeric()),
    ];
    classes.iter().filter(|c| **c).count() >= 2
}

/// Whether a window of a secret mixes letters with digits or symbols: only
/// such windows make a value "derived" ([`Redactor::is_derived`]). A run of
/// letters and word separators (`e-data` of `very-secure-database-password`)
/// is a piece of words and a run of digits a piece of a number, both shared
/// with identifiers, ports and rampart's own messages.
fn mixed_window(w: &[u8]) -> bool {
    let wordish = |b: &u8| b.is_ascii_alphabetic() || matches!(b, b'-' | b'_' | b'.' | b' ');
    w.iter().any(wordish) && !w.iter().all(wordish)
}

/// Up to 7 bytes and their count packed into a word (exact, no hashing).
fn pack(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .take(7)
        .fold(bytes.len().min(7) as u64, |acc, b| {
            (acc << 8) | u64::from(*b)
        })
}

impl Redactor {
    /// A replacer for `secrets`.
    pub fn new(secrets: &BTreeSet<String>) -> Redactor {
        let (long, short): (Vec<&String>, Vec<&String>) = secrets
            .iter()
            .filter(|s| !s.is_empty())
            .partition(|s| s.chars().count() >= 4);
        let automaton = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&long)
            .ok();
        let strong: Vec<&String> = long.iter().copied().filter(|s| is_strong(s)).collect();
        let insensitive = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .ascii_case_insensitive(true)
            .build(&strong)
            .ok();
        let mut grams = std::collections::HashSet::new();
        for s in &strong {
            let lower = s.to_ascii_lowercase();
            for k in [MIN_SECRET_PIECE_BYTES, SECRET_FRAGMENT_BYTES] {
                grams.extend(
                    lower
                        .as_bytes()
                        .windows(k)
                        .filter(|w| mixed_window(w))
                        .map(pack),
                );
            }
        }
        Redactor {
            automaton,
            replacements: long
                .iter()
                .map(|s| crate::functions::secrets::redact(s))
                .collect(),
            insensitive,
            insensitive_replacements: strong
                .iter()
                .map(|s| crate::functions::secrets::redact(s))
                .collect(),
            short: short.into_iter().cloned().collect(),
            grams,
        }
    }

    /// `text` with every secret redacted.
    pub fn apply(&self, text: &str) -> String {
        if self.short.contains(text) {
            return crate::functions::secrets::redact(text);
        }
        let mut out = match &self.insensitive {
            Some(ac) if !self.insensitive_replacements.is_empty() => {
                ac.replace_all(text, &self.insensitive_replacements)
            }
            _ => text.to_string(),
        };
        if let Some(ac) = self
            .automaton
            .as_ref()
            .filter(|_| !self.replacements.is_empty())
        {
            out = ac.replace_all(&out, &self.replacements);
        }
        let creds = crate::secrets::masked_url_credentials(&out);
        if creds.is_empty() {
            return out;
        }
        let mut masked = String::with_capacity(out.len());
        let mut at = 0;
        for r in creds {
            masked.push_str(out.get(at..r.start).unwrap_or(""));
            masked.push_str("****");
            at = r.end;
        }
        masked.push_str(out.get(at..).unwrap_or(""));
        masked
    }

    /// The byte ranges of `text` that hold a secret (see [`Redactor`]'s three
    /// passes), in no particular order; they may overlap.
    pub fn ranges(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let mut out: Vec<std::ops::Range<usize>> = Vec::new();
        for ac in [&self.insensitive, &self.automaton].into_iter().flatten() {
            out.extend(ac.find_iter(text).map(|m| m.range()));
        }
        out.extend(crate::secrets::masked_url_credentials(text));
        out
    }

    /// Whether an interpolated value is derived from a strong secret once
    /// the secrets it contains are redacted ([`Redactor::apply`], which the
    /// whole message goes through anyway): it still shares
    /// [`SECRET_FRAGMENT_BYTES`] consecutive bytes with one, ignoring ASCII
    /// case, forwards or reversed (`substring()`, `upperAscii()`, `reverse()`);
    /// or, 4 or 5 bytes long, it is a piece of one. Linear in the value.
    pub fn is_derived(&self, value: &str) -> bool {
        // As `is_derived_given`, redacting only when there are fragments to find.
        self.short.contains(value)
            || (!self.grams.is_empty() && self.shares_grams(&self.apply(value)))
    }

    /// [`Redactor::is_derived`] of `value`, whose redacted form
    /// ([`Redactor::apply`]) is `applied`.
    pub fn is_derived_given(&self, value: &str, applied: &str) -> bool {
        self.short.contains(value) || (!self.grams.is_empty() && self.shares_grams(applied))
    }

    /// Whether a redacted value shares a secret's fragment or is a piece of
    /// one (see [`Redactor::is_derived`]).
    fn shares_grams(&self, applied: &str) -> bool {
        let forward = applied.to_ascii_lowercase();
        let backward: String = forward.chars().rev().collect();
        [forward, backward].iter().any(|v| {
            let b = v.as_bytes();
            if b.len() < SECRET_FRAGMENT_BYTES {
                // Every 4-byte window of a piece is one of a secret's.
                b.len() >= MIN_SECRET_PIECE_BYTES
                    && b.windows(MIN_SECRET_PIECE_BYTES)
                        .all(|w| self.grams.contains(&pack(w)))
            } else {
                b.windows(SECRET_FRAGMENT_BYTES)
                    .any(|w| self.grams.contains(&pack(w)))
            }
        })
    }
}

/// `text` with the bytes of `ranges` masked: each character but line breaks,
/// indentation (blanks that start a line) and a pair of quotes around a whole
/// range becomes as many `*` as its UTF-8 length.
pub fn mask(text: &str, mut ranges: Vec<std::ops::Range<usize>>) -> String {
    ranges.retain(|r| r.start < r.end && r.end <= text.len());
    if ranges.is_empty() {
        return text.to_string();
    }
    ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut ranges = ranges.into_iter().peekable();
    while let Some(r) = ranges.next() {
        let (mut start, mut end) = (r.start.max(at), r.end);
        // Merge overlapping ranges.
        while let Some(next) = ranges.peek() {
            if next.start > end {
                break;
            }
            end = end.max(next.end);
            ranges.next();
        }
        if start >= end {
            continue;
        }
        // Keep a pair of quotes around the whole range.
        let first = bytes.get(start).copied();
        if end - start >= 2
            && matches!(first, Some(b'"' | b'\''))
            && bytes.get(end - 1).copied() == first
        {
            start += 1;
            end -= 1;
        }
        out.push_str(text.get(at..start).unwrap_or(""));
        let line_start = text
            .get(..start)
            .map_or(0, |t| t.rfind('\n').map_or(0, |i| i + 1));
        let mut indent = text
            .get(line_start..start)
            .is_some_and(|t| t.chars().all(|c| c == ' ' || c == '\t'));
        for c in text.get(start..end).unwrap_or("").chars() {
            match c {
                '\n' => {
                    out.push('\n');
                    indent = true;
                }
                '\r' => out.push('\r'),
                ' ' | '\t' if indent => out.push(c),
                c => {
                    indent = false;
                    out.extend(std::iter::repeat_n('*', c.len_utf8()));
                }
            }
        }
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

/// The value ranges of lines that assign a secret-like key, read without a
/// parser (so they are found on lines that failed to parse too): `KEY: value`,
/// `KEY=value`, `- KEY=value`, `export KEY=value`, `"KEY": value`,
/// `ENV KEY value`, `ARG KEY=value`; a YAML block scalar (`KEY: |`) masks the
/// more indented lines that follow. A value that cannot be a secret (a reference, a
/// boolean, `null`, a path: `secrets::masks_span`) is not masked; secret arguments of
/// command lines (`--requirepass X`) are. Linear in the text.
pub fn secret_assignments(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut block_indent: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start().len();
        if let Some(bi) = block_indent {
            if body.trim().is_empty() || indent > bi {
                out.push(start + indent..start + body.len());
                continue;
            }
            block_indent = None;
        }
        if let Some((range, block)) = assignment_value(body) {
            let value = body.get(range.clone()).unwrap_or("");
            if block {
                block_indent = Some(indent);
            } else if masks_span(written_value(value)) {
                out.push(start + range.start..start + range.end);
            }
        }
        out.extend(
            flow_assignments(body)
                .into_iter()
                .chain(
                    crate::secrets::command_secrets(body)
                        .into_iter()
                        .map(|c| c.range),
                )
                .map(|r| start + r.start..start + r.end),
        );
    }
    out
}

/// The value of an assignment as written on its line, for the shape check:
/// inside its quotes, or up to a ` #` comment (`pass # change this`).
fn written_value(value: &str) -> &str {
    let v = value.trim();
    match v.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let rest = v.get(1..).unwrap_or("");
            rest.find(q).and_then(|e| rest.get(..e)).unwrap_or(rest)
        }
        _ => v.find(" #").and_then(|e| v.get(..e)).unwrap_or(v).trim(),
    }
}

/// The longest value [`flow_assignments`] looks at (keeps the scan linear).
const MAX_FLOW_VALUE: usize = 4096;

/// Value ranges of secret-like keys inside a flow mapping or JSON object on
/// one line (`{DB_PASSWORD: x, "API_TOKEN": "y"}`): after each `{` or `,`, a
/// key (quoted or not), `:` or `=`, and a value up to the next `,` or `}` (or
/// its closing quote).
fn flow_assignments(line: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b != b'{' && *b != b',' {
            continue;
        }
        let Some(rest) = line.get(i + 1..) else {
            continue;
        };
        let r = rest.trim_start();
        let mut at = i + 1 + (rest.len() - r.len());
        let quote = r.chars().next().filter(|c| *c == '"' || *c == '\'');
        let key_from = usize::from(quote.is_some());
        let Some(key_part) = r.get(key_from..) else {
            continue;
        };
        let key_len = key_part
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
            .unwrap_or(key_part.len());
        let key = key_part.get(..key_len).unwrap_or("");
        if key.is_empty() || !is_secret_name(key) {
            continue;
        }
        if let Some(q) = quote {
            if !key_part.get(key_len..).is_some_and(|t| t.starts_with(q)) {
                continue;
            }
        }
        at += key_from + key_len + usize::from(quote.is_some());
        let Some(tail) = line.get(at..) else {
            continue;
        };
        let t = tail.trim_start();
        if !(t.starts_with(':') || t.starts_with('=')) {
            continue;
        }
        at += tail.len() - t.len() + 1;
        let Some(tail) = line.get(at..) else {
            continue;
        };
        let v = tail.trim_start();
        at += tail.len() - v.len();
        let window = v.get(..v.len().min(MAX_FLOW_VALUE)).unwrap_or(v);
        let end = match window.chars().next() {
            Some(q @ ('"' | '\'')) => window
                .get(1..)
                .and_then(|w| w.find(q))
                .map_or(window.len(), |e| e + 2),
            _ => window.find([',', '}']).unwrap_or(window.len()),
        };
        let value = window.get(..end).unwrap_or("").trim_end();
        // A `${X}` reference is cut at its `}` here: `$` starts a reference.
        if value.trim_start_matches(['"', '\'']).starts_with('$') || !masks_span(value) {
            continue;
        }
        out.push(at..at + value.len());
    }
    out
}

/// The value range of one assignment line to a secret-like key, and whether
/// it opens a YAML block scalar.
fn assignment_value(line: &str) -> Option<(std::ops::Range<usize>, bool)> {
    let trimmed = line.trim_start();
    let mut at = line.len() - trimmed.len();
    let mut rest = trimmed;
    let mut spaced = false;
    for prefix in ["- ", "export ", "ENV ", "ARG ", "env ", "arg "] {
        if let Some(r) = rest.strip_prefix(prefix) {
            spaced = prefix.len() == 4;
            let r2 = r.trim_start();
            at += prefix.len() + (r.len() - r2.len());
            rest = r2;
            break;
        }
    }
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
    let key_from = usize::from(quote.is_some());
    let key_len = rest
        .get(key_from..)?
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .unwrap_or(rest.len() - key_from);
    let key = rest.get(key_from..key_from + key_len)?;
    if key.is_empty() || !is_secret_name(key) {
        return None;
    }
    let mut after = key_from + key_len + usize::from(quote.is_some());
    let tail = rest.get(after..)?;
    let t = tail.trim_start();
    let sep = match t.chars().next() {
        Some(':' | '=') => 1,
        Some(_) if spaced && t.len() < tail.len() => 0,
        _ => return None,
    };
    after += tail.len() - t.len() + sep;
    let value = rest.get(after..)?;
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let from = at + after + (value.len() - value.trim_start().len());
    let block = sep == 1 && t.starts_with(':') && (v.starts_with('|') || v.starts_with('>'));
    Some((from..from + v.len(), block))
}

/// Collects secret values from a model: the value of any object with a
/// secret-like `name` (environment entries, `.env` entries, `ENV`/`ARG`), the
/// default of any interpolation of a secret-like variable or key, and the
/// password (and the whole userinfo) of any URL written in a string.
///
/// Subtrees shared with other documents ([`Value::Shared`], a compose
/// service's build Dockerfile) are left out: their secrets are theirs.
pub fn collect_secrets(node: &Node, out: &mut BTreeSet<String>) {
    let mut sites = Vec::new();
    sites_in(node, &mut sites, false);
    out.extend(
        sites
            .into_iter()
            .filter(|(_, _, run_wide)| *run_wide)
            .map(|(v, _, _)| v),
    );
}

/// The secret values of a model with the span of the node each was read from
/// (see [`collect_secrets`]).
///
/// Each comes with whether it is a run-wide pattern (searched for in every
/// output, [`is_run_wide_secret`]): not when it is a plain word, short, or
/// its own variable's name (`ACCESS_TOKEN_SECRET=access_token_secret`, a
/// placeholder that would mask the name in every message).
pub fn secret_sites(node: &Node, out: &mut Vec<(String, Span, bool)>) {
    sites_in(node, out, true);
}

/// [`secret_sites`], through shared subtrees or not.
fn sites_in(node: &Node, out: &mut Vec<(String, Span, bool)>, through_shared: bool) {
    let value = if through_shared {
        node.value()
    } else {
        &node.value
    };
    match value {
        Value::Object(fields) => {
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(n, _)| crate::model::same_name(n, k))
                    .and_then(|(_, v)| v.as_str().map(|s| (s, v.span)))
            };
            // The first `name` and `key` fields, found in one pass (this
            // runs on every object of every document).
            let (mut name, mut key): (Option<&Node>, Option<&Node>) = (None, None);
            for (k, v) in fields {
                match k.as_str() {
                    "name" => name = name.or(Some(v)),
                    "key" => key = key.or(Some(v)),
                    _ => {}
                }
            }
            let name = name.and_then(Node::as_str).unwrap_or("");
            let key = key.and_then(Node::as_str).unwrap_or("");
            if is_secret_name(name) || is_secret_name(key) {
                for field in ["value", "default", "resolved"] {
                    if let Some((v, span)) = get(field) {
                        // A reference is not a secret (its default is
                        // collected on its own node), nor is a boolean, a
                        // path or `null` (see `secrets::masks_span`).
                        if v.contains("://") {
                            // A URL: its credentials are the secret, not
                            // its host and database names.
                            for r in crate::secrets::masked_url_credentials(v) {
                                if let Some(secret) = v.get(r) {
                                    out.push(site(secret, span));
                                }
                            }
                        } else {
                            // Shaped once for both questions (each runs
                            // several regexes).
                            let shape = crate::secrets::value_shape(v);
                            if crate::secrets::masks_shape(shape) {
                                let own_name =
                                    v.eq_ignore_ascii_case(name) || v.eq_ignore_ascii_case(key);
                                let run_wide = crate::secrets::is_run_wide_given(v, Some(shape));
                                out.push((v.to_string(), span, run_wide && !own_name));
                            }
                        }
                    }
                }
            }
            for (k, v) in fields {
                // Secret arguments of a command line (`--requirepass X`).
                if let ("command" | "entrypoint" | "test", Some(s)) = (k.as_str(), v.as_str()) {
                    for found in crate::secrets::command_secrets(s) {
                        if let Some(secret) = s.get(found.range) {
                            out.push(site(secret, v.span));
                        }
                    }
                }
                sites_in(v, out, through_shared);
            }
        }
        Value::List(items) => {
            for i in items {
                sites_in(i, out, through_shared);
            }
        }
        Value::Str(s) => {
            for r in crate::secrets::masked_url_credentials(s) {
                if let Some(secret) = s.get(r) {
                    out.push(site(secret, node.span));
                }
            }
        }
        _ => {}
    }
}

/// A secret site: the value, where it was read, and whether it is a
/// run-wide pattern.
fn site(value: &str, span: Span) -> (String, Span, bool) {
    (value.to_string(), span, is_run_wide_secret(value))
}

/// Nodes whose span is longer than this many bytes plus four times their
/// value are derived nodes spanning a block, not the scalar itself: their
/// span is not masked.
const MAX_SPAN_SLACK: usize = 64;

/// The byte ranges where `value`, read from the node at `start` (raw text `raw`),
/// is written: each verbatim occurrence inside the node, else (an escaped,
/// quoted, folded or continued spelling) the node's whole span.
fn written_spans(raw: &str, value: &str, start: usize, out: &mut Vec<std::ops::Range<usize>>) {
    // A derived node spanning a block is left to the value pass (its value is
    // written verbatim in a node of its own), which keeps this linear.
    if value.is_empty() || raw.len() > value.len().saturating_mul(4) + MAX_SPAN_SLACK {
        return;
    }
    let before = out.len();
    out.extend(
        raw.match_indices(value)
            .map(|(i, _)| start + i..start + i + value.len()),
    );
    if out.len() == before {
        out.push(start..start + raw.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_model_budget_refuses_later_files() {
        let doc = |i: usize| format!("FROM alpine:3\nRUN echo {i}\n").into_bytes();
        let mut one = Project::default();
        one.add_file("a/Dockerfile", doc(0), Kind::DOCKERFILE);
        let per_file = one.model_nodes;
        assert!(per_file > 10 && one.problems.is_empty());
        let mut p = Project::default();
        p.set_model_limit(per_file * 3 + per_file / 2);
        for i in 0..6 {
            p.add_file(&format!("d{i}/Dockerfile"), doc(i), Kind::DOCKERFILE);
        }
        // A Caddyfile brings two documents (its model and its routes): one error.
        p.add_file(
            "c/Caddyfile",
            b"a.example.com {\n  respond 200\n}\n".to_vec(),
            Kind::CADDY,
        );
        assert_eq!(p.documents.len(), 3);
        let refused: Vec<_> = p
            .problems
            .iter()
            .filter(|e| e.code == "run-model-budget")
            .map(|e| p.sources.get(e.span.file).map(|f| f.path.to_string()))
            .collect();
        assert_eq!(refused.len(), 4, "{:?}", p.problems);
        assert!(p.problems[0].message.contains("model budget is spent"));
        assert!(p.model_nodes <= per_file * 3 + per_file / 2);
    }

    /// The files of a run that exercises what loading ahead must give up or
    /// fix: includes, imports and `extends` (reads of other files), an input
    /// already read as an include, a duplicate, a template, screened and
    /// undecodable files, a read error (ids shift), Caddy snippets (run
    /// budget), secrets.
    fn ahead_tree() -> (tempfile::TempDir, Vec<(String, Kind)>) {
        let d = tempfile::tempdir().unwrap();
        let files: &[(&str, &[u8])] = &[
            ("app/a/base.yaml", b"services:\n  base:\n    image: alpine:3\n    environment:\n      API_TOKEN: tok-Xy12ab34cd56ef78\n"),
            ("app/a/compose.yaml", b"services:\n  web:\n    extends:\n      file: base.yaml\n      service: base\n    build: .\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n"),
            ("app/a/Dockerfile", b"FROM alpine:3\nRUN apt-get install -y curl\nUSER app\n"),
            ("app/a/.env", b"DB_PASSWORD=s3cr3t-Passw0rd-xyz\nURL=postgres://u:pa55-W0rd-long@db/x\n"),
            ("app/a/nginx.conf", b"events {}\nhttp {\n  include conf.d/*.conf;\n}\n"),
            ("app/a/conf.d/x.conf", b"server {\n  listen 80;\n  location / { proxy_pass http://app:8080; }\n}\n"),
            ("app/a/Caddyfile", b"(common) {\n  encode gzip\n}\nimport snippets.caddy\na.example.com {\n  import common\n  reverse_proxy app:8080\n}\n"),
            ("app/a/snippets.caddy", b"b.example.com {\n  respond 200\n}\n"),
            ("app/b/compose.yaml", b"services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: Hunter2-Very-Secret-1\n"),
            ("app/b/Dockerfile", b"FROM {{ .Values.base }}\nRUN echo hi\n"),
            ("app/c/compose.yaml", b"services:\n  web:\n    image: {{ .Values.image }}\n    ports:\n      - \"80:80\"\n"),
            ("app/c/Dockerfile", b"\x00\x01\x02binary\x00\x00"),
            ("app/c/.env", b"A=\xff\xfe\n"),
            ("app/c/nginx.conf", b"server {\n  listen 443 ssl;\n  ssl_protocols TLSv1 TLSv1.2;\n}\n"),
            ("app/c/Caddyfile", b"(s) {\n  header X-A b\n}\nc.example.com {\n  import s\n  import s\n}\n"),
        ];
        for (path, bytes) in files {
            let full = d.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, bytes).unwrap();
        }
        let inputs = vec![
            ("app/a/compose.yaml", Kind::COMPOSE),
            ("app/a/Dockerfile", Kind::DOCKERFILE),
            ("app/a/.env", Kind::DOTENV),
            ("app/a/nginx.conf", Kind::NGINX),
            ("app/a/conf.d/x.conf", Kind::NGINX),
            ("app/missing/Dockerfile", Kind::DOCKERFILE),
            ("app/a/Caddyfile", Kind::CADDY),
            ("app/b/compose.yaml", Kind::COMPOSE),
            ("app/b/Dockerfile", Kind::DOCKERFILE),
            ("app/b/compose.yaml", Kind::COMPOSE),
            ("app/c/compose.yaml", Kind::COMPOSE),
            ("app/c/Dockerfile", Kind::DOCKERFILE),
            ("app/c/.env", Kind::DOTENV),
            ("app/c/nginx.conf", Kind::NGINX),
            ("app/c/Caddyfile", Kind::CADDY),
        ];
        let inputs = inputs
            .into_iter()
            .map(|(p, k)| (p.to_string(), k))
            .collect();
        (d, inputs)
    }

    /// Everything a run keeps of its inputs, for comparing two ways of loading.
    fn kept(p: &Project, outcomes: &[Result<Option<FileId>, String>]) -> String {
        let sources: Vec<_> = (0..p.sources.len())
            .filter_map(|i| p.sources.get(FileId(i as u32)))
            .map(|f| (f.path.clone(), f.text.to_string()))
            .collect();
        format!(
            "{outcomes:?}\n{sources:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{} {:?} {:?}",
            p.documents,
            p.problems,
            p.secrets,
            p.secret_spans,
            p.model_nodes,
            p.model_refused,
            p.run
                .get::<crate::formats::caddyfile::RunUsed>("caddy")
                .map(|u| (u.bytes, u.tokens))
        )
    }

    fn load_tree(
        dir: &Path,
        inputs: &[(String, Kind)],
        limit: Option<usize>,
        ahead: bool,
    ) -> (Project, Vec<Result<Option<FileId>, String>>) {
        let mut p = Project::on_disk(dir, vec!["app".into()]);
        if let Some(l) = limit {
            p.set_model_limit(l);
        }
        let read = |(path, kind): &(String, Kind)| {
            std::fs::read(dir.join(path))
                .map(|b| (path.clone(), b, *kind))
                .map_err(|e| e.kind().to_string())
        };
        let mut outcomes = Vec::new();
        if ahead {
            p.add_inputs(inputs, read, |_, o| outcomes.push(o));
        } else {
            for input in inputs {
                outcomes.push(read(input).map(|(path, b, k)| p.add_input(&path, b, k)));
            }
        }
        (p, outcomes)
    }

    #[test]
    fn loading_ahead_keeps_what_loading_in_order_keeps() {
        let (d, inputs) = ahead_tree();
        let (seq, seq_out) = load_tree(d.path(), &inputs, None, false);
        let (par, par_out) = load_tree(d.path(), &inputs, None, true);
        let want = kept(&seq, &seq_out);
        assert_eq!(want, kept(&par, &par_out));
        // What the tree covers, so the comparison means something.
        let codes: BTreeSet<&str> = seq.problems.iter().map(|p| p.code).collect();
        for code in ["input-template", "input-binary", "input-not-utf8"] {
            assert!(codes.contains(code), "{code}: {codes:?}");
        }
        assert!(seq_out.iter().any(Result::is_err));
        assert!(seq.sources.find("app/a/conf.d/x.conf").is_some());
        assert!(seq.sources.find("app/a/snippets.caddy").is_some());
        assert!(seq.sources.find("app/a/base.yaml").is_some());
        assert!(!seq.secrets.is_empty());
        let total = seq.model_nodes;
        assert!(total > 0);
        // The model budget spent inside a batch: the same files refused,
        // at every limit from none kept to all kept.
        for limit in (0..=total + 1).step_by((total / 23).max(1)) {
            let (seq, seq_out) = load_tree(d.path(), &inputs, Some(limit), false);
            let (par, par_out) = load_tree(d.path(), &inputs, Some(limit), true);
            assert_eq!(kept(&seq, &seq_out), kept(&par, &par_out), "limit {limit}");
        }
    }

    #[test]
    fn a_load_ahead_under_another_id_is_moved_to_its_own() {
        // Loaded ahead as file 7, kept as file 1 (a file before it was read
        // as an include): the same as loading it as file 1.
        let text = "services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: Hunter2-Very-Secret-1\n";
        let p = Project::default();
        let mut moved = p.prepare(
            "c.yaml",
            text.as_bytes().to_vec(),
            Kind::COMPOSE,
            Some(FileId(7)),
        );
        let mut direct = p.prepare(
            "c.yaml",
            text.as_bytes().to_vec(),
            Kind::COMPOSE,
            Some(FileId(1)),
        );
        let (Some(m), Some(d)) = (moved.ahead.as_mut(), direct.ahead.as_mut()) else {
            panic!("both loaded ahead");
        };
        m.flow.remap(FileId(7), FileId(1));
        let (Flow::Plain(m), Flow::Plain(d)) = (&m.flow, &d.flow) else {
            panic!("plain loads");
        };
        assert_eq!(format!("{:?}", m.problems), format!("{:?}", d.problems));
        assert_eq!(m.documents.len(), d.documents.len());
        for (a, b) in m.documents.iter().zip(&d.documents) {
            assert_eq!(a.root, b.root);
            assert_eq!(a.sites, b.sites);
            assert_eq!(a.size, b.size);
        }
        assert!(!d.documents.iter().all(|x| x.sites.is_empty()));
    }

    #[test]
    fn secrets_are_collected_and_redacted() {
        let mut p = Project::default();
        p.add_file(
            "docker-compose.yml",
            b"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-cdb_secure_password}\n      API_TOKEN: abcdef123456\n      POSTGRES_USER: admin\n      REDIS_PASSWORD: redisword\n      MYSQL_RANDOM_ROOT_PASSWORD: \"true\"\n      ACCESS_TOKEN_SECRET: access_token_secret\n".to_vec(),
            Kind::COMPOSE,
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.secrets.contains("cdb_secure_password"));
        assert!(p.secrets.contains("abcdef123456"));
        assert!(!p.secrets.contains("admin"));
        // A plain word is masked where it is written, not searched for
        // everywhere; a switch is no secret at all.
        assert!(!p.secrets.contains("redisword"));
        assert!(!p.secrets.contains("true"));
        // A value equal to its own name would mask the name everywhere.
        assert!(!p.secrets.contains("access_token_secret"));
        assert_eq!(p.shown("ACCESS_TOKEN_SECRET"), "ACCESS_TOKEN_SECRET");
        assert_eq!(p.redact("x cdb_secure_password y"), "x cd****rd y");
    }

    /// The masked text of the only file of a project built from `files`.
    fn masked(files: &[(&str, &str, Kind)]) -> Vec<String> {
        let mut p = Project::default();
        let ids: Vec<FileId> = files
            .iter()
            .map(|(path, text, kind)| p.add_file(path, text.as_bytes().to_vec(), *kind))
            .collect();
        p.link();
        ids.into_iter().map(|id| p.masked_text(id)).collect()
    }

    fn assert_masked(text: &str, out: &str, secrets: &[&str]) {
        assert_eq!(out.len(), text.len(), "{out}");
        assert_eq!(
            out.match_indices('\n').collect::<Vec<_>>(),
            text.match_indices('\n').collect::<Vec<_>>(),
            "line structure changed:\n{out}"
        );
        for s in secrets {
            assert!(!out.contains(s), "`{s}` shown in\n{out}");
        }
    }

    #[test]
    fn secrets_are_masked_as_written() {
        let compose = "services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD: \"Zq7x\\x2DK2pW9vLr\"\n      API_TOKEN: 'Ab''cdEfGh12345'\n      PRIVATE_KEY: |\n        -----BEGIN KEY-----\n        Mn4bV8cX1zQwErTy\n        -----END KEY-----\n      DATABASE_URL: postgres://app:Hu7nT3r22Xy@db/app\n      ÄPI_SECRET: \"é\\u00e9Gh5Jk6Lm7\"\n";
        let dockerfile = "FROM alpine\nENV DB_PASSWORD=Pw9\\\nLk3Jh7Gf2Ds\nARG API_SECRET=\"Qa1\\\"Ws2Ed3Rf\"\nENV A=1 \\\n    AUTH_TOKEN=Yx\\ Cv8Bn7\n";
        let dotenv = "DB_PASSWORD=\"Tg5\\$Yh6Uj7Ik8\"\nREDIS_PASSWORD=\"Ol9\\\"Pk8Ij7Uh\"\n";
        let example = "API_KEY=abc\nGH_TOKEN=ghp_x\n";
        let out = masked(&[
            ("docker-compose.yml", compose, Kind::COMPOSE),
            ("Dockerfile", dockerfile, Kind::DOCKERFILE),
            (".env", dotenv, Kind::DOTENV),
            (".env.example", example, Kind::DOTENV),
        ]);
        assert_masked(
            compose,
            &out[0],
            &[
                "Zq7x", "x2DK2", "Ab''", "cdEfGh", "Mn4bV8", "BEGIN", "Hu7nT3r", "Gh5Jk",
            ],
        );
        assert!(
            out[0].contains("DATABASE_URL: postgres://app:"),
            "{}",
            out[0]
        );
        assert!(
            out[0].contains("      -----") || out[0].contains("        ****"),
            "{}",
            out[0]
        );
        assert_masked(
            dockerfile,
            &out[1],
            &["Pw9", "Lk3Jh", "Qa1", "Ws2Ed", "Cv8Bn7"],
        );
        assert_masked(dotenv, &out[2], &["Tg5", "Yh6U", "Ol9", "Pk8Ij"]);
        assert_masked(example, &out[3], &["abc", "ghp"]);
    }

    #[test]
    fn lines_that_fail_to_parse_are_masked_by_key() {
        let compose = "services:\n  db:\n    environment:\n      DB_PASSWORD: Zq7xK2pW9vLr\n    bad: [\n      API_TOKEN=Ab3cdEfGh12345\n  - x: {\n";
        let dotenv =
            "DB_PASSWORD=Tg5Yh6Uj7Ik8\n'broken\nexport AUTH_TOKEN = 'Mn4bV8cX1zQ'\nUSER=admin\n";
        let out = masked(&[
            ("docker-compose.yml", compose, Kind::COMPOSE),
            (".env", dotenv, Kind::DOTENV),
        ]);
        assert_masked(compose, &out[0], &["Zq7xK2", "Ab3cd"]);
        assert_masked(dotenv, &out[1], &["Tg5Yh", "Mn4bV8"]);
        assert!(out[1].contains("USER=admin"));
        // A reference is not masked.
        assert_eq!(
            secret_assignments(
                "  - DB_PASSWORD=${DB_PASSWORD}\nPASSWORD: |\n  Zq7xK2\n  Ab3cd\nX: 1\n"
            )
            .len(),
            2
        );
    }

    #[test]
    fn values_of_broken_files_are_redacted_in_messages() {
        let mut p = Project::default();
        p.add_file(
            "docker-compose.yml",
            b"services:\n  x:\n    environment:\n      DB_PASSWORD: \"Br0Ken1Ya2Ml\" ]\n".to_vec(),
            Kind::COMPOSE,
        );
        assert!(!p.problems.is_empty());
        assert_eq!(p.redact("near `Br0Ken1Ya2Ml`"), "near `Br****Ml`");
    }

    #[test]
    fn shown_values_are_redacted_then_cut() {
        let mut p = Project::default();
        let key = format!("Zq7xK2pW9vLr{}", "Ab3".repeat(100));
        p.add_file(
            ".env",
            format!("PRIVATE_KEY={key}\n").into_bytes(),
            Kind::DOTENV,
        );
        let long = format!("x{key}y");
        let shown = p.shown(&long);
        assert!(
            !shown.contains("Zq7xK2") && !shown.contains("Ab3Ab3"),
            "{shown}"
        );
        let plain = "a".repeat(1000);
        assert_eq!(p.shown(&plain).chars().count(), MAX_SHOWN_VALUE_CHARS + 1);
    }

    #[test]
    fn a_secret_key_name_is_shown_even_when_it_shares_letters_with_a_value() {
        let mut p = Project::default();
        p.add_file(
            ".env",
            b"GRAFANA_PASSWORD=admin123_CHANGE_ME\nPOSTGRES_PASSWORD=cdb_secure_password_CHANGE_ME\n".to_vec(),
            Kind::DOTENV,
        );
        assert_eq!(p.shown("GRAFANA_PASSWORD"), "GRAFANA_PASSWORD");
        assert_ne!(
            p.shown("cdb_secure_password_CHANGE_ME"),
            "cdb_secure_password_CHANGE_ME"
        );
        assert!(!p.shown("CDB_SECURE_PASSWORD_CHANGE_ME").contains("SECURE"));
    }

    #[test]
    fn secrets_in_flow_mappings_and_awkward_urls_are_found() {
        let shown = |t: &str| {
            let mut r = secret_assignments(t);
            r.extend(url_credentials(t));
            mask(t, r)
        };
        for (text, secret) in [
            (
                "environment: {DB_PASSWORD: S3cretFlowParse, [",
                "S3cretFlowParse",
            ),
            (
                "{\"services\": {\"a\": {\"DB_PASSWORD\": \"S3cretJson\"}}}, }}",
                "S3cretJson",
            ),
            ("{\"DB_PASSWORD\":\"S3cretBadEnvG2\"}", "S3cretBadEnvG2"),
            ("url: postgres://user:S3cret;Semi@db/x", "Semi@"),
            ("proxy_pass \"http://u:pa\\\"ss[1]{2}@h\";", "[1]{2}"),
        ] {
            let m = shown(text);
            assert!(!m.contains(secret), "{text} → {m}");
            assert_eq!(m.len(), text.len());
        }
        // References and non-secret keys stay readable.
        assert_eq!(
            shown("{DB_PASSWORD: ${DB_PASSWORD}, image: x}"),
            "{DB_PASSWORD: ${DB_PASSWORD}, image: x}"
        );
    }

    #[test]
    fn url_credentials_are_found() {
        let t = "proxy_pass http://admin:Rt6Yu7Io8Pq9@backend; x https://ghp_0123456789abcdef@github.com/a ssh://git@h/ p://u:@h";
        let found: Vec<&str> = url_credentials(t).into_iter().map(|r| &t[r]).collect();
        assert_eq!(found, ["Rt6Yu7Io8Pq9", "ghp_0123456789abcdef"]);
        let p = Project::default();
        assert_eq!(
            p.redact("to `postgres://app:hunter22@db/app`"),
            "to `postgres://app:****@db/app`"
        );
    }

    #[test]
    fn urls_in_any_value_are_secrets() {
        let mut p = Project::default();
        p.add_file(
            "docker-compose.yml",
            b"services:\n  a:\n    image: x\n    environment:\n      DATABASE_URL: postgres://app:Hu7nT3r22Xy@db/app\n".to_vec(),
            Kind::COMPOSE,
        );
        assert!(p.secrets.contains("Hu7nT3r22Xy"));
        assert_eq!(p.redact("Hu7nT3r22Xy"), "Hu****Xy");
    }

    #[test]
    fn derived_values_are_recognised() {
        let secrets: BTreeSet<String> = ["Zq7xK2pW9vLr", "postgres", "admin123"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = Redactor::new(&secrets);
        for v in ["zq7xk2", "K2pW9v", "rLv9Wp", "x-7xK2pW", "Zq7x", "9vLr"] {
            assert!(r.is_derived(v), "{v}");
        }
        for v in ["POSTGRES_PASSWORD", "postgres", "db", "Zq7", "service-1"] {
            assert!(!r.is_derived(v), "{v}");
        }
        // Case changes of a strong secret are redacted in any text.
        assert_eq!(r.apply("a ZQ7XK2PW9VLR b"), "a Zq****Lr b");
        assert_eq!(r.apply("POSTGRES_PASSWORD"), "POSTGRES_PASSWORD");
    }

    #[test]
    fn words_and_numbers_shared_with_a_passphrase_are_not_derived() {
        // Real placeholders (Haxxnet yourls, drone, awesome-compose).
        let secrets: BTreeSet<String> = [
            "very-secure-database-password",
            "MySecureAdminPasswordForLogin",
            "mirotalkp2p_default_secret",
            "ChooseYourOwnPasswordHere5432",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let r = Redactor::new(&secrets);
        for v in [
            "DATABASE_URL",
            "NET_ADMIN",
            "drone-server",
            " (it may be a real secret)",
            "5432:5432",
            "5432",
            "default",
        ] {
            assert!(!r.is_derived(v), "{v}");
        }
        // A window mixing letters and digits still is.
        for v in ["talkp2p", "P2P_DE", "here5432"] {
            assert!(r.is_derived(v), "{v}");
        }
    }

    #[test]
    fn masking_keeps_bytes_per_line() {
        let t = "ab: \"é😀x\"\n  y\n";
        let out = mask(t, vec![4..13, 5..7, 16..17]);
        assert_eq!(out.len(), t.len());
        assert_eq!(out, "ab: \"*******\"\n  *\n");
        // A range across lines keeps the next line's indentation.
        assert_eq!(
            mask("k: |\n  ab\n  cd\n", std::iter::once(5..15).collect()),
            "k: |\n  **\n  **\n"
        );
    }

    #[test]
    fn problems_per_file_are_capped_with_a_count() {
        let mut p = Project::default();
        let stray = "}\n".repeat(50_000);
        p.add_file("Dockerfile", stray.clone().into_bytes(), Kind::DOCKERFILE);
        p.add_file("other/Dockerfile", stray.into_bytes(), Kind::DOCKERFILE);
        assert_eq!(p.problems.len(), 2 * (MAX_PROBLEMS_PER_FILE + 1));
        let last = p.problems.last().unwrap();
        assert_eq!(last.code, "too-many-problems");
        assert!(
            last.message.starts_with("… and ")
                && last.message.contains("more problems in this file"),
            "{}",
            last.message
        );
        assert_eq!(last.level, crate::model::Level::Error);
    }

    #[test]
    fn bad_utf8_is_a_located_error() {
        let mut p = Project::default();
        p.add_file(
            "docker-compose.yml",
            vec![b's', b':', 0xff, 0xfe],
            Kind::COMPOSE,
        );
        assert_eq!(p.problems[0].code, "input-not-utf8");
    }

    #[test]
    fn roots_written_loosely_are_matched_as_written_normalized() {
        // Roots are normalized once when the project is made: `./svc/`,
        // `svc//x` and `.` match as `within` matches them one by one.
        let p = Project::on_disk(
            std::path::Path::new("."),
            vec!["./svc/".into(), "svc//x".into(), "other".into()],
        );
        assert!(p.in_roots("svc/compose.yaml"));
        assert!(p.in_roots("./svc/x/Dockerfile"));
        assert!(!p.in_roots("svcx/compose.yaml"));
        assert!(!p.in_roots("../svc/compose.yaml"));
        // The longest root wins and is given back as it was written.
        assert_eq!(p.root_of("svc/x/a.yml").as_deref(), Some("svc//x"));
        assert_eq!(p.root_of("svc/a.yml").as_deref(), Some("./svc/"));
        assert_eq!(p.root_of("elsewhere/a.yml"), None);
        for (path, root) in [("svc/a", "./svc/"), ("svc/x/b", "svc//x"), ("o/b", "other")] {
            assert_eq!(
                p.in_roots(path),
                p.roots.iter().any(|r| within(path, r)),
                "{path} against {root}"
            );
        }
    }

    #[test]
    fn paths() {
        assert_eq!(normalize("./a/../b//c/"), "b/c");
        assert_eq!(normalize("../x"), "../x");
        assert_eq!(join("a/b", "../c/Dockerfile"), "a/c/Dockerfile");
        assert_eq!(join(".", "./app"), "app");
        // A written backslash is a backslash, not a display escape.
        assert_eq!(join("a", "evil\\x41"), "a/evil\\\\x41");
        assert_eq!(
            crate::fs::undisplay(&join("a", "evil\\x41")),
            std::path::PathBuf::from("a/evil\\x41")
        );
        assert_eq!(parent("a/b/c.yml"), "a/b");
        assert_eq!(parent("c.yml"), ".");
        assert!(within("a/b", "a"));
        assert!(!within("ab/c", "a"));
        assert!(within("x/y", "."));
        assert!(!within("../y", "."));
        assert_eq!(
            Kind::by_name("deploy/Dockerfile.prod"),
            Some(Kind::DOCKERFILE)
        );
        assert_eq!(Kind::by_name(".env.example"), Some(Kind::DOTENV));
        assert_eq!(Kind::by_name("Caddyfile"), Some(Kind::CADDY));
    }
}
