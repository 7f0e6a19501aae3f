//! The format registry: every input format rampart reads, in one list
//! ([`FORMATS`]), each behind one trait ([`Format`]).
//!
//! Discovery (by file name, by content), `Project::add_file`, the schema,
//! test-case keywords, help texts and error hints all read this list; adding
//! a format is a folder under `runtime/src/formats/` implementing [`Format`],
//! one line in [`FORMATS`], and its stdlib folder.
//!
//! Two kinds of names are kept apart: an [`InputKind`] is a format a file is
//! read as (`compose`, `caddy`…); a [`Target`] is a kind of document policies
//! iterate. Most formats feed the target of their own name; nginx and Caddy
//! also feed `http` (the routes derived from either).

use std::any::Any;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::formats::{caddyfile, compose, dockerfile, dotenv, nginx};
use crate::fs::{Confined, FsError};
use crate::model::{FileId, InputProblem, Node};
use crate::schema::Schema;
use crate::source::SourceMap;

/// Every input format, in the order their targets are documented.
pub static FORMATS: &[&dyn Format] = &[
    &compose::Compose,
    &dockerfile::Dockerfile,
    &dotenv::Dotenv,
    &nginx::Nginx,
    &caddyfile::Caddy,
];

/// One input format.
pub trait Format: Sync {
    /// Its one name: the test-case keyword, and the target it feeds first.
    fn name(&self) -> &'static str;
    /// Older keywords still accepted in test cases (deprecated spellings).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// How people call its files in messages (`Dockerfile`, `.env`).
    fn label(&self) -> &'static str {
        self.name()
    }
    /// The targets its documents feed, in the order they are produced.
    fn targets(&self) -> &'static [Target];
    /// The file name given to an inline test input of this format.
    fn default_file_name(&self) -> &'static str;
    /// The language of its code blocks in generated docs (`yaml`).
    fn code_language(&self) -> &'static str {
        "text"
    }
    /// Whether a file of this base name is of this format (by name alone).
    fn matches_name(&self, base: &str) -> bool;
    /// Whether a file named on the command line is read as this format on
    /// its name, even when the walk would not pick it (any `*.yml` is compose).
    fn matches_explicit_name(&self, _path: &Path) -> bool {
        false
    }
    /// Whether a file's name makes it a candidate whose content decides
    /// (see [`Format::sniff`]); none by default.
    fn candidate_name(&self, _path: &Path) -> bool {
        false
    }
    /// Whether a candidate's content is of this format; none by default.
    fn sniff(&self, _text: &str) -> bool {
        false
    }
    /// Whether the text of a file this format claims by its name reads as
    /// this format. `false` means recognisably something else (monaco's
    /// `dockerfile.js` syntax, a php-fpm pool `www.conf`): the file is
    /// skipped with a note, never parsed (so never an error). A file that is
    /// the format but broken must read as it (`true`): it is then an error.
    fn reads_as(&self, _text: &str) -> bool {
        true
    }
    /// Registers the object types and targets of [`Format::targets`].
    fn schema(&self, s: &mut Schema);
    /// Reads one file into documents (each for one of its targets) and
    /// problems. Other files (includes, imports) are read through `cx`.
    fn load(&self, input: &Input<'_>, cx: &mut LoadCx<'_>) -> Loaded;
    /// Loading ahead (files loaded in parallel, then kept in input order;
    /// see `Project::add_inputs`): sets `run` up before a batch is loaded
    /// ahead, e.g. a cache the loads ahead share. Nothing by default.
    fn share_state(&self, _run: &mut RunState) {}
    /// The state a load ahead starts from (`ahead` is empty, `run` is the
    /// state of the files kept so far). Nothing by default: a fresh state.
    fn fork_state(&self, _run: &RunState, _ahead: &mut RunState) {}
    /// Whether a load ahead that read no other file, started from
    /// [`Format::fork_state`] and ended with `ahead`, produced what loading
    /// the file after the files of `run` produces; when it did, folds what it
    /// used of the run's budgets into `run` (else `run` is left as it was
    /// and the file is loaded again, in order). Yes by default (no state).
    fn join_state(&self, _run: &mut RunState, _ahead: RunState) -> bool {
        true
    }
}

/// A format a file is read as: a handle on one entry of [`FORMATS`],
/// compared by name.
#[derive(Clone, Copy)]
pub struct InputKind(&'static dyn Format);

impl InputKind {
    /// docker-compose files.
    pub const COMPOSE: InputKind = InputKind(&compose::Compose);
    /// Dockerfiles.
    pub const DOCKERFILE: InputKind = InputKind(&dockerfile::Dockerfile);
    /// `.env` files.
    pub const DOTENV: InputKind = InputKind(&dotenv::Dotenv);
    /// nginx entry files (with their includes).
    pub const NGINX: InputKind = InputKind(&nginx::Nginx);
    /// Caddyfiles (with their imports).
    pub const CADDY: InputKind = InputKind(&caddyfile::Caddy);

    /// Every input kind, in registry order.
    pub fn all() -> impl Iterator<Item = InputKind> {
        FORMATS.iter().map(|f| InputKind(*f))
    }

    /// Its format.
    pub fn format(self) -> &'static dyn Format {
        self.0
    }

    /// Its one name.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The kind named `name` (its one name only).
    pub fn named(name: &str) -> Option<InputKind> {
        InputKind::all().find(|k| k.name() == name)
    }

    /// The kind for a test-input keyword: its name or a deprecated alias.
    pub fn from_keyword(k: &str) -> Option<InputKind> {
        InputKind::all().find(|f| f.name() == k || f.0.aliases().contains(&k))
    }

    /// The file name used for an inline test input of this kind.
    pub fn default_file_name(self) -> &'static str {
        self.0.default_file_name()
    }

    /// The kind of a file by its name alone (nginx needs its content too:
    /// see [`InputKind::candidate`]). `name` may be a path. A name with a
    /// code, markup, image or archive extension ([`NEVER_CONFIG_EXTENSIONS`]:
    /// `dockerfile.js`, `dockerfile.svg`, `Dockerfile.md`) is never an input.
    pub fn by_name(name: &str) -> Option<InputKind> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        if never_config_name(base) {
            return None;
        }
        InputKind::all().find(|k| k.0.matches_name(base))
    }

    /// The kind of a file named on the command line, by name alone: its
    /// name, else a name that format claims when given explicitly.
    pub fn by_explicit_name(path: &Path) -> Option<InputKind> {
        let name = path.file_name()?.to_string_lossy().to_string();
        InputKind::by_name(&name)
            .or_else(|| InputKind::all().find(|k| k.0.matches_explicit_name(path)))
    }

    /// The kind whose content decides for a file of this name (a candidate).
    pub fn candidate(path: &Path) -> Option<InputKind> {
        let base = path.file_name()?.to_string_lossy().to_string();
        if never_config_name(&base) {
            return None;
        }
        InputKind::all().find(|k| k.0.candidate_name(path))
    }

    /// The kind a text's content says it is (content sniffing).
    pub fn sniff(text: &str) -> Option<InputKind> {
        InputKind::all().find(|k| k.0.sniff(text))
    }

    /// The targets its documents feed.
    pub fn targets(self) -> &'static [Target] {
        self.0.targets()
    }

    /// The keywords test cases accept, for hints: ``use `a`, `b` or `c` ``.
    pub fn keyword_list() -> String {
        or_list(InputKind::all().map(|k| format!("`{}`", k.name())))
    }

    /// The formats as people call them, for messages: `compose, Dockerfile … or Caddyfile`.
    pub fn label_list() -> String {
        or_list(InputKind::all().map(|k| k.0.label().to_string()))
    }
}

/// Extensions of files that are never configuration of any format, whatever
/// the rest of their name says: source code, markup, data, images, archives
/// (front-end bundles ship `dockerfile.js`, icon packs `dockerfile.svg`).
/// `.txt` is among them: a `Dockerfile.txt` is documentation or a sample,
/// and a Dockerfile is never named so for a build. Compared ignoring case.
pub const NEVER_CONFIG_EXTENSIONS: &[&str] = &[
    "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", "vue", "svelte", "coffee", "map", "svg",
    "png", "jpg", "jpeg", "gif", "ico", "webp", "bmp", "avif", "woff", "woff2", "ttf", "eot", "md",
    "markdown", "rst", "adoc", "txt", "html", "htm", "xml", "css", "scss", "sass", "less", "json",
    "py", "rb", "go", "rs", "java", "kt", "php", "pl", "lua", "sh", "bash", "ps1", "bat", "vim",
    "el", "snap", "lock", "pdf", "zip", "gz", "tgz", "bz2", "xz", "tar", "jar",
];

/// Whether a base name's last extension is in [`NEVER_CONFIG_EXTENSIONS`].
pub fn never_config_name(base: &str) -> bool {
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => {
            let ext = ext.to_ascii_lowercase();
            NEVER_CONFIG_EXTENSIONS.contains(&ext.as_str())
        }
        _ => false,
    }
}

/// `a, b or c`.
fn or_list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

impl PartialEq for InputKind {
    fn eq(&self, other: &InputKind) -> bool {
        self.name() == other.name()
    }
}
impl Eq for InputKind {}
impl PartialOrd for InputKind {
    fn partial_cmp(&self, other: &InputKind) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for InputKind {
    fn cmp(&self, other: &InputKind) -> std::cmp::Ordering {
        self.name().cmp(other.name())
    }
}
impl std::hash::Hash for InputKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}
impl fmt::Debug for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InputKind({})", self.name())
    }
}
impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A kind of document policies iterate (`target compose`), by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target(&'static str);

impl Target {
    /// `compose`.
    pub const COMPOSE: Target = Target("compose");
    /// `dockerfile`.
    pub const DOCKERFILE: Target = Target("dockerfile");
    /// `dotenv`.
    pub const DOTENV: Target = Target("dotenv");
    /// `nginx`.
    pub const NGINX: Target = Target("nginx");
    /// `caddy`.
    pub const CADDY: Target = Target("caddy");
    /// `http`: the routes derived from an nginx entry or a Caddyfile.
    pub const HTTP: Target = Target("http");

    /// A target of this name (for a new format's own target).
    pub const fn new(name: &'static str) -> Target {
        Target(name)
    }

    /// The name policies use.
    pub fn name(self) -> &'static str {
        self.0
    }

    /// Every target some format feeds, once: each format's own target in
    /// registry order, then the derived ones (`http`).
    pub fn all() -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        let own = FORMATS.iter().filter_map(|f| f.targets().first());
        let derived = FORMATS.iter().flat_map(|f| f.targets().iter().skip(1));
        for t in own.chain(derived) {
            if !out.contains(t) {
                out.push(*t);
            }
        }
        out
    }

    /// The target named `name`.
    pub fn named(name: &str) -> Option<Target> {
        Target::all().into_iter().find(|t| t.0 == name)
    }

    /// The target names, for help texts: `` `a`, `b` or `c` ``.
    pub fn name_list() -> String {
        or_list(Target::all().into_iter().map(|t| format!("`{}`", t.0)))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The schema of every format, composed in registry order.
pub fn schema() -> Schema {
    let mut s = Schema::default();
    for f in FORMATS {
        f.schema(&mut s);
    }
    let order = Target::all();
    s.sort_targets(|name| order.iter().position(|t| t.name() == name));
    s
}

/// One file to load.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Its id.
    pub file: FileId,
    /// Its display path (normalised, `/`-separated).
    pub path: &'a str,
    /// Its text (decoded, without a byte-order mark).
    pub text: &'a str,
}

/// What a format read from one file.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// Documents, each with the target it feeds.
    pub documents: Vec<(Target, Node)>,
    /// Problems found (the caller caps them per file).
    pub problems: Vec<InputProblem>,
}

/// What a format may use while loading a file: confined reads of other
/// files (registered in the source map once), and state kept across the
/// files of a run (caches, run budgets).
pub struct LoadCx<'a> {
    /// The texts read so far.
    pub sources: &'a mut SourceMap,
    /// Every read from disk goes through this layer.
    pub fs: &'a Confined,
    /// On disk: the working directory and the scan root (display path) of
    /// the file; `None` in memory (no other file can be read).
    pub disk: Option<(PathBuf, String)>,
    /// State kept across the files of a run, per format.
    pub state: &'a mut RunState,
    /// Loading ahead of the files before it: no other file is read (each
    /// read fails as not found and sets `asked`; the file is then loaded
    /// again, in order).
    pub ahead: bool,
    /// Whether a load ahead asked to read another file.
    pub asked: bool,
}

impl LoadCx<'_> {
    /// Reads another file through the confined layer: its id and text, the
    /// same id when it was read before (one file, one id).
    pub fn read(&mut self, path: &Path) -> Result<(FileId, String), FsError> {
        if self.ahead {
            self.asked = true;
            return Err(FsError::NotFound);
        }
        let cwd = self
            .disk
            .as_ref()
            .map_or(Path::new("."), |(c, _)| c.as_path());
        let display = crate::fs::display(cwd, path);
        if let Some(id) = self.sources.find(&display) {
            if let Some(f) = self.sources.get(id) {
                return Ok((id, f.text.to_string()));
            }
        }
        let text = self.fs.read_text(path)?;
        let id = self.sources.add(display, text.clone());
        Ok((id, text))
    }

    /// The entry names of a directory, through the confined layer.
    pub fn list(&self, dir: &Path) -> Result<Vec<OsString>, FsError> {
        self.fs.list(dir)
    }
}

/// State formats keep across the files of one run, by format name.
#[derive(Default)]
pub struct RunState {
    slots: BTreeMap<&'static str, Box<dyn Any + Send + Sync>>,
}

impl RunState {
    /// Takes the state of `format` out (its default when none, or of another type).
    pub fn take<T: Any + Default + Send + Sync>(&mut self, format: &'static str) -> T {
        self.slots
            .remove(format)
            .and_then(|b| b.downcast::<T>().ok())
            .map(|b| *b)
            .unwrap_or_default()
    }

    /// The state of `format`, if it is set and of type `T`.
    pub fn get<T: Any>(&self, format: &'static str) -> Option<&T> {
        self.slots.get(format).and_then(|b| b.downcast_ref::<T>())
    }

    /// Puts the state of `format` back.
    pub fn put<T: Any + Send + Sync>(&mut self, format: &'static str, value: T) {
        self.slots.insert(format, Box::new(value));
    }

    /// Joins what a load ahead used (`ahead`'s state of `format`) into this
    /// run's: `join(kept, used)` updates the run's state and says whether the
    /// load ahead stands ([`Format::join_state`]).
    pub fn join<T: Any + Default + Send + Sync>(
        &mut self,
        mut ahead: RunState,
        format: &'static str,
        join: impl FnOnce(&mut T, T) -> bool,
    ) -> bool {
        let used: T = ahead.take(format);
        let mut kept: T = self.take(format);
        let stands = join(&mut kept, used);
        self.put(format, kept);
        stands
    }
}

impl fmt::Debug for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.slots.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_target_is_in_the_schema() {
        let mut names: Vec<&str> = Vec::new();
        for f in FORMATS {
            for n in std::iter::once(f.name()).chain(f.aliases().iter().copied()) {
                assert!(!names.contains(&n), "{n} named twice");
                names.push(n);
            }
            assert_eq!(f.targets().first().map(|t| t.name()), Some(f.name()));
        }
        let s = schema();
        let targets: Vec<&str> = s.targets().iter().map(|t| t.name).collect();
        let all: Vec<&str> = Target::all().iter().map(|t| t.name()).collect();
        assert_eq!(targets, all);
    }

    #[test]
    fn detection() {
        assert_eq!(
            InputKind::by_name("deploy/Dockerfile.prod"),
            Some(InputKind::DOCKERFILE)
        );
        assert_eq!(InputKind::by_name(".env.example"), Some(InputKind::DOTENV));
        assert_eq!(InputKind::by_name("Caddyfile"), Some(InputKind::CADDY));
        assert_eq!(InputKind::by_name("x.yml"), None);
        // Code, markup and images are never configs, whatever the name says.
        for never in [
            "public/vendor/monaco/dockerfile.js",
            "icons/dockerfile.svg",
            "Dockerfile.md",
            "dockerfile.min.js.map",
            "Caddyfile.html",
            ".env.d.ts",
        ] {
            assert_eq!(InputKind::by_name(never), None, "{never}");
        }
        assert_eq!(InputKind::candidate(Path::new("site.conf.js")), None);
        assert_eq!(
            InputKind::by_name("Dockerfile-prod"),
            Some(InputKind::DOCKERFILE)
        );
        assert_eq!(
            InputKind::candidate(Path::new("nginx/conf.d/example")),
            Some(InputKind::NGINX)
        );
        assert_eq!(
            InputKind::candidate(Path::new("nginx.conf.j2")),
            Some(InputKind::NGINX)
        );
        assert_eq!(
            InputKind::by_explicit_name(Path::new("x.yml")),
            Some(InputKind::COMPOSE)
        );
        assert_eq!(
            InputKind::candidate(Path::new("a/site.conf")),
            Some(InputKind::NGINX)
        );
        assert_eq!(InputKind::sniff("http { }"), Some(InputKind::NGINX));
        assert_eq!(InputKind::from_keyword("caddyfile"), Some(InputKind::CADDY));
        assert_eq!(InputKind::from_keyword("env"), Some(InputKind::DOTENV));
        assert_eq!(InputKind::named("caddyfile"), None);
        assert!(InputKind::label_list().starts_with("compose, Dockerfile, .env, nginx"));
        assert!(
            Target::name_list().starts_with("`compose`, `dockerfile`, `dotenv`, `nginx`, `caddy`")
        );
        assert!(Target::name_list().ends_with(" or `http`"));
    }
}
