//! The documents of one run: every input file parsed into its model, the
//! problems found, the cross-file links between them, and the secret values
//! they hold (for redaction).
//!
//! Files are addressed by their display path (relative to the working
//! directory, `/`-separated). Texts come from what was added (inputs, and
//! auxiliary files such as `.gitignore` in tests) and, when a disk root is
//! set, from the disk on demand — never outside the scan roots.

mod link;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::formats::{caddyfile, compose, dockerfile, dotenv, http, nginx};
use crate::fs::{Confined, FsError};
use crate::functions::secrets::is_secret_name;
use crate::model::{FileId, InputProblem, Node, Span, Value};
use crate::source::SourceMap;

/// The largest input file read, in bytes; a larger one is an error.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// The kinds of input rampart reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A docker-compose file.
    Compose,
    /// A Dockerfile.
    Dockerfile,
    /// A `.env` file.
    Dotenv,
    /// An nginx entry file (with its includes).
    Nginx,
    /// A Caddyfile (with its imports).
    Caddyfile,
    /// The HTTP routes derived from an nginx entry or a Caddyfile.
    Http,
}

impl Kind {
    /// The target name policies use for this kind.
    pub fn target(self) -> &'static str {
        match self {
            Kind::Compose => "compose",
            Kind::Dockerfile => "dockerfile",
            Kind::Dotenv => "dotenv",
            Kind::Nginx => "nginx",
            Kind::Caddyfile => "caddy",
            Kind::Http => "http",
        }
    }

    /// The kind for a test-input keyword (`compose`, `dockerfile`, `dotenv`, `nginx`, `caddyfile`).
    pub fn from_keyword(k: &str) -> Option<Kind> {
        match k {
            "compose" => Some(Kind::Compose),
            "dockerfile" => Some(Kind::Dockerfile),
            "dotenv" | "env" => Some(Kind::Dotenv),
            "nginx" => Some(Kind::Nginx),
            "caddyfile" | "caddy" => Some(Kind::Caddyfile),
            _ => None,
        }
    }

    /// The file name used for an inline test input of this kind.
    pub fn default_file_name(self) -> &'static str {
        match self {
            Kind::Compose => "docker-compose.yml",
            Kind::Dockerfile => "Dockerfile",
            Kind::Dotenv => ".env",
            Kind::Nginx => "nginx.conf",
            Kind::Caddyfile | Kind::Http => "Caddyfile",
        }
    }

    /// The kind of a file by its name alone (nginx needs its content too: see
    /// [`nginx::is_candidate_name`] and [`nginx::is_entry`]).
    pub fn by_name(name: &str) -> Option<Kind> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        if compose::is_compose_name(base) {
            Some(Kind::Compose)
        } else if dockerfile::is_dockerfile_name(base) {
            Some(Kind::Dockerfile)
        } else if dotenv::is_env_file_name(base) {
            Some(Kind::Dotenv)
        } else if is_caddyfile_name(base) {
            Some(Kind::Caddyfile)
        } else {
            None
        }
    }
}

/// `Caddyfile`, `Caddyfile.*`, `*.caddyfile` (case-insensitive).
pub fn is_caddyfile_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "caddyfile"
        || n.starts_with("caddyfile.")
        || (n.ends_with(".caddyfile") && n.len() > ".caddyfile".len())
}

/// One parsed input.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file.
    pub file: FileId,
    /// Its kind.
    pub kind: Kind,
    /// Its model (following the schema of `kind.target()`).
    pub root: Node,
}

/// All inputs of a run.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// File texts.
    pub sources: SourceMap,
    /// Parsed documents, in the order added.
    pub documents: Vec<Document>,
    /// Problems found while reading inputs.
    pub problems: Vec<InputProblem>,
    /// Secret values seen in any input, never to be printed.
    pub secrets: BTreeSet<String>,
    /// Texts of auxiliary files (`.gitignore`, `.dockerignore`) by display path.
    aux: BTreeMap<String, String>,
    /// Where display paths are relative to, for reading from disk; none in memory.
    disk: Option<PathBuf>,
    /// Directories (display paths) nothing may be read outside of; empty: no limit.
    roots: Vec<String>,
    /// Every read from disk goes through this layer (confined to `roots`).
    fs: Confined,
    /// Whether `.gitignore` rules were found for a dotenv file (for `--verbose` notes).
    pub notes: Vec<String>,
    /// The replacer for `secrets`, built on first use (reset when secrets change).
    redactor: std::sync::OnceLock<Redactor>,
    /// nginx include trees by scan root, scanned once.
    nginx_trees: BTreeMap<String, std::sync::Arc<nginx::SourceTree>>,
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
        match kind {
            Kind::Compose => {
                let (model, problems) = compose::parse(id, &text, &path);
                self.problems.extend(problems);
                if let Some(root) = model {
                    self.push(id, kind, root);
                }
            }
            Kind::Dockerfile => {
                let (mut root, problems) = dockerfile::parse(id, &text);
                root.set("path", Node::str(Span::new(id, 0, 0), path.clone()));
                self.problems.extend(problems);
                self.push(id, kind, root);
            }
            Kind::Dotenv => {
                let (mut root, problems) = dotenv::parse(id, &text, dotenv::is_example_name(&path));
                root.set("path", Node::str(Span::new(id, 0, 0), path.clone()));
                self.problems.extend(problems);
                self.push(id, kind, root);
            }
            Kind::Nginx => self.load_nginx(id, &path, &text),
            Kind::Caddyfile => self.load_caddyfile(id, &path, &text),
            Kind::Http => {}
        }
        id
    }

    fn push(&mut self, file: FileId, kind: Kind, root: Node) {
        collect_secrets(&root, &mut self.secrets);
        self.redactor = std::sync::OnceLock::new();
        self.documents.push(Document { file, kind, root });
    }

    /// Decodes and registers a file's text, reporting size and encoding problems.
    fn decode(&mut self, path: &str, bytes: Vec<u8>) -> Option<(FileId, String)> {
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
                let t = t.strip_prefix('\u{feff}').map(str::to_string).unwrap_or(t);
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

    fn load_nginx(&mut self, id: FileId, path: &str, text: &str) {
        let loaded = match (&self.disk, self.root_of(path)) {
            (Some(cwd), Some(root)) => {
                let cwd = cwd.clone();
                let root_disk = cwd.join(crate::fs::undisplay(&root));
                // One scan per root, shared by every entry file under it.
                let tree = self
                    .nginx_trees
                    .entry(root.clone())
                    .or_insert_with(|| {
                        std::sync::Arc::new(
                            nginx::SourceTree::scan(&root_disk)
                                .unwrap_or_else(|_| nginx::SourceTree::new(&root_disk, Vec::new())),
                        )
                    })
                    .clone();
                let mut refused: Vec<(String, FsError)> = Vec::new();
                let mut read = |p: &Path| -> Option<(FileId, String)> {
                    let display = display_of(&cwd, p);
                    if let Some(existing) = self.sources.find(&display) {
                        return self
                            .sources
                            .get(existing)
                            .map(|f| (existing, f.text.to_string()));
                    }
                    match self.fs.read_text(p) {
                        Ok(t) => {
                            let fid = self.sources.add(display, t.clone());
                            Some((fid, t))
                        }
                        Err(FsError::NotFound) => None,
                        Err(e) => {
                            refused.push((display, e));
                            None
                        }
                    }
                };
                let loaded = nginx::load(
                    id,
                    &cwd.join(crate::fs::undisplay(path)),
                    text,
                    &tree,
                    &mut read,
                );
                for (shown, e) in refused {
                    self.problems.push(InputProblem::warning(
                        "link-refused",
                        Span::new(id, 0, 0),
                        format!("include `{shown}` was not read: {e}"),
                    ));
                }
                loaded
            }
            _ => nginx::load_str(id, text),
        };
        self.problems.extend(loaded.problems);
        let routes = loaded.routes;
        let span = Span::new(id, 0, 0);
        self.push(id, Kind::Nginx, loaded.model);
        self.push(id, Kind::Http, http::document(span, "nginx", path, routes));
    }

    fn load_caddyfile(&mut self, id: FileId, path: &str, text: &str) {
        let parsed = match (&self.disk, self.root_of(path)) {
            (Some(cwd), Some(root)) => {
                let cwd = cwd.clone();
                let mut src = SourceMapFs {
                    sources: &mut self.sources,
                    cwd: cwd.clone(),
                    fs: &self.fs,
                };
                caddyfile::parse_file(
                    id,
                    &cwd.join(crate::fs::undisplay(path)),
                    text,
                    &cwd.join(crate::fs::undisplay(&root)),
                    &mut src,
                )
            }
            _ => caddyfile::parse_str(id, text),
        };
        self.problems.extend(parsed.problems);
        let routes = caddyfile::routes(&parsed.model);
        let span = Span::new(id, 0, 0);
        self.push(id, Kind::Caddyfile, parsed.model);
        self.push(id, Kind::Http, http::document(span, "caddy", path, routes));
    }

    /// The scan root (display path) a file lies in: the longest matching root,
    /// or its own directory when no root was given.
    fn root_of(&self, path: &str) -> Option<String> {
        if self.roots.is_empty() {
            return Some(parent(path).to_string());
        }
        self.roots
            .iter()
            .filter(|r| within(path, r))
            .max_by_key(|r| r.len())
            .cloned()
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
        if !self.roots.is_empty() && !self.roots.iter().any(|r| within(&path, r)) {
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
        self.roots.is_empty() || self.roots.iter().any(|r| within(path, r))
    }

    /// Resolves the links between documents (compose → Dockerfile and `.env`,
    /// Dockerfile → `.dockerignore`, env files → `.gitignore`). Call once,
    /// after every input is added.
    pub fn link(&mut self) {
        link::link(self);
        self.redactor = std::sync::OnceLock::new();
    }

    /// Replaces every secret value in `text` with its redacted form.
    pub fn redact(&self, text: &str) -> String {
        self.redactor
            .get_or_init(|| Redactor::new(&self.secrets))
            .apply(text)
    }
}

/// A caddyfile [`caddyfile::FileSource`] that registers what it reads in the source map.
struct SourceMapFs<'a> {
    sources: &'a mut SourceMap,
    cwd: PathBuf,
    fs: &'a Confined,
}

impl caddyfile::FileSource for SourceMapFs<'_> {
    fn read(&mut self, path: &Path) -> Result<(FileId, String), caddyfile::ReadError> {
        let display = display_of(&self.cwd, path);
        if let Some(id) = self.sources.find(&display) {
            if let Some(f) = self.sources.get(id) {
                return Ok((id, f.text.to_string()));
            }
        }
        let text = self.fs.read_text(path).map_err(|e| match e {
            FsError::NotFound => caddyfile::ReadError::NotFound,
            FsError::IsDir => caddyfile::ReadError::IsDir,
            FsError::OutsideRoot { .. } => caddyfile::ReadError::Refused(e.to_string()),
            e => caddyfile::ReadError::Other(e.to_string()),
        })?;
        let id = self.sources.add(display, text.clone());
        Ok((id, text))
    }

    fn list(&mut self, dir: &Path) -> Result<Vec<String>, caddyfile::ReadError> {
        let names = self.fs.list(dir).map_err(|e| match e {
            FsError::NotFound => caddyfile::ReadError::NotFound,
            FsError::OutsideRoot { .. } => caddyfile::ReadError::Refused(e.to_string()),
            e => caddyfile::ReadError::Other(e.to_string()),
        })?;
        Ok(names
            .into_iter()
            .filter_map(|n| n.to_str().map(str::to_string))
            .collect())
    }
}

/// A path for reports: relative to `cwd` when below it, `/`-separated.
/// Bytes that are not UTF-8 are shown as `\xNN` and a backslash as `\\`, so
/// distinct paths have distinct display paths (see [`crate::fs::display`]).
pub fn display_of(cwd: &Path, path: &Path) -> String {
    crate::fs::display(cwd, path)
}

/// Lexical normalisation of a `/`-separated path: drops `.` and empty parts,
/// resolves `..` against earlier parts (a leading `..` is kept).
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&"..") | None => {
                    if !absolute {
                        parts.push("..");
                    }
                }
                Some(_) => {
                    parts.pop();
                }
            },
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// The directory part of a display path (`.` for a bare name).
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => path.get(..i).unwrap_or("."),
        None => ".",
    }
}

/// `dir`/`rel`, normalised (`rel` absolute stays as is).
pub fn join(dir: &str, rel: &str) -> String {
    if rel.starts_with('/') || dir == "." {
        normalize(rel)
    } else {
        normalize(&format!("{dir}/{rel}"))
    }
}

/// Whether `path` is `root` or lies below it.
pub fn within(path: &str, root: &str) -> bool {
    let (p, r) = (normalize(path), normalize(root));
    if r == "." {
        return !p.starts_with("../") && p != ".." && !p.starts_with('/');
    }
    p == r || p.strip_prefix(&r).is_some_and(|rest| rest.starts_with('/')) || r == "/"
}

/// Replaces every occurrence of a secret (the longest match wins; secrets
/// under 4 characters only when they are the whole text) with its redacted form.
pub fn redact_all(text: &str, secrets: &BTreeSet<String>) -> String {
    Redactor::new(secrets).apply(text)
}

/// A one-pass secret replacer, built once per set of secrets (Aho-Corasick,
/// leftmost-longest): redaction costs the length of the text, not the number
/// of secrets in the project.
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    automaton: Option<aho_corasick::AhoCorasick>,
    replacements: Vec<String>,
    short: BTreeSet<String>,
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
        Redactor {
            automaton,
            replacements: long
                .iter()
                .map(|s| crate::functions::secrets::redact(s))
                .collect(),
            short: short.into_iter().cloned().collect(),
        }
    }

    /// `text` with every secret redacted.
    pub fn apply(&self, text: &str) -> String {
        if self.short.contains(text) {
            return crate::functions::secrets::redact(text);
        }
        match &self.automaton {
            Some(ac) if !self.replacements.is_empty() => ac.replace_all(text, &self.replacements),
            _ => text.to_string(),
        }
    }
}

/// Collects secret values from a model: the value of any object with a
/// secret-like `name` (environment entries, `.env` entries, `ENV`/`ARG`) and
/// the default of any interpolation of a secret-like variable or key.
pub fn collect_secrets(node: &Node, out: &mut BTreeSet<String>) {
    match &node.value {
        Value::Object(fields) => {
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, v)| v.as_str())
            };
            let name = get("name").unwrap_or("");
            let key = get("key").unwrap_or("");
            if is_secret_name(name) || is_secret_name(key) {
                for field in ["value", "default", "resolved"] {
                    if let Some(v) = get(field) {
                        // A reference is not a secret; its default is collected on its own node.
                        if !v.is_empty() && !v.trim_start().starts_with("${") {
                            out.insert(v.to_string());
                        }
                    }
                }
            }
            for (_, v) in fields {
                collect_secrets(v, out);
            }
        }
        Value::List(items) => {
            for i in items {
                collect_secrets(i, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_collected_and_redacted() {
        let mut p = Project::default();
        p.add_file(
            "docker-compose.yml",
            b"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-cdb_secure_password}\n      API_TOKEN: abcdefghijkl\n      POSTGRES_USER: admin\n".to_vec(),
            Kind::Compose,
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.secrets.contains("cdb_secure_password"));
        assert!(p.secrets.contains("abcdefghijkl"));
        assert!(!p.secrets.contains("admin"));
        assert_eq!(p.redact("x cdb_secure_password y"), "x cd****rd y");
    }

    #[test]
    fn bad_utf8_is_a_located_error() {
        let mut p = Project::default();
        p.add_file(
            "docker-compose.yml",
            vec![b's', b':', 0xff, 0xfe],
            Kind::Compose,
        );
        assert_eq!(p.problems[0].code, "input-not-utf8");
    }

    #[test]
    fn paths() {
        assert_eq!(normalize("./a/../b//c/"), "b/c");
        assert_eq!(normalize("../x"), "../x");
        assert_eq!(join("a/b", "../c/Dockerfile"), "a/c/Dockerfile");
        assert_eq!(join(".", "./app"), "app");
        assert_eq!(parent("a/b/c.yml"), "a/b");
        assert_eq!(parent("c.yml"), ".");
        assert!(within("a/b", "a"));
        assert!(!within("ab/c", "a"));
        assert!(within("x/y", "."));
        assert!(!within("../y", "."));
        assert_eq!(
            Kind::by_name("deploy/Dockerfile.prod"),
            Some(Kind::Dockerfile)
        );
        assert_eq!(Kind::by_name(".env.example"), Some(Kind::Dotenv));
        assert_eq!(Kind::by_name("Caddyfile"), Some(Kind::Caddyfile));
    }
}
