//! `include` resolution over an abstract file tree.
//!
//! The core never touches the filesystem: it sees the scan root as a
//! [`SourceTree`] (the set of file paths under the scan root) and reads file
//! text through a callback, so tests use an in-memory map and the CLI uses
//! [`SourceTree::scan`] plus reads through [`crate::fs::Confined`].
//!
//! Resolution of `include ARG` (first hit wins):
//! 1. Candidate *suffixes*: a relative `ARG` as written; an absolute `ARG`
//!    (`/etc/nginx/conf.d/a.conf`) with its leading components stripped one by
//!    one (`etc/nginx/conf.d/a.conf`, `nginx/conf.d/a.conf`, `conf.d/a.conf`,
//!    `a.conf`) — the file a container image would see at `/etc/nginx/…` is
//!    usually the repository file at the same place below the config root.
//!    An absolute path that lies inside the scan root is tried as is first.
//!    A glob keeps at least one directory (`conf.d/*.conf`, never `*.conf`).
//! 2. Candidate *bases*, for each suffix (longest suffix first): the config
//!    root (the directory of the entry file, as nginx resolves relative
//!    includes against its conf prefix), then the including file's directory
//!    (a fallback nginx itself does not do, for snippets written relative to
//!    themselves), then each ancestor of the config root up to the scan root.
//! 3. For a file whose name ends in `.sample` (linuxserver/swag), a missing
//!    `X` is also looked up as `X.sample`: those trees ship `proxy.conf.sample`
//!    which the container copies to `proxy.conf` at start-up.
//! 4. Globs (`*`, `?`, `[`) match files (not dotfiles, `*` never crosses `/`)
//!    and are included in sorted path order, like nginx's `glob(3)`.
//!
//! Outcomes: an include the tree does not contain is a warning
//! (`nginx-include-unresolved`) naming it, recorded in the unresolved list, and
//! the check goes on without it; a relative path that leaves the scan root is
//! an error (`nginx-include-escape`) and is never read; an include cycle is an
//! error (`nginx-include-cycle`, once per include directive that closes it);
//! more than [`MAX_INCLUDE_DEPTH`] nested includes, [`MAX_FILES`] files, or a
//! file growing past [`MAX_EXPANDED`] directives or [`MAX_EXPANDED_BYTES`]
//! bytes once its includes are spliced in is an error (`nginx-include-limit`)
//! at the include that crossed the limit, which is not followed.
//!
//! Each file is parsed and expanded once per entry and shared by every
//! include site, so the work is proportional to the distinct files.
//!
//! INVARIANT: `read` is only ever called with a path the [`SourceTree`] holds,
//! so nothing outside the scan root is read ([`SourceTree::scan`] lists no
//! symbolic links).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use globset::GlobBuilder;

use super::parse::{parse, Directive};
use crate::model::{FileId, InputProblem, Span};

/// Deepest chain of nested includes followed.
pub const MAX_INCLUDE_DEPTH: usize = 32;
/// Most distinct files one entry may pull in.
pub const MAX_FILES: usize = 2000;
/// Most directives (counted with their blocks) one file may hold once its
/// includes are spliced in: a file included twice at every level grows
/// exponentially.
pub const MAX_EXPANDED: usize = 100_000;
/// Most bytes of source text one file may hold once its includes are spliced
/// in (the largest input file is 16 MiB).
pub const MAX_EXPANDED_BYTES: usize = 16 * 1024 * 1024;
/// Most directives all the nginx entries of one run may hold once their
/// includes are spliced in (many small entries including one large tree).
pub const MAX_RUN_EXPANDED: usize = 200_000;
/// Most bytes all the nginx entries of one run may hold once their includes
/// are spliced in.
pub const MAX_RUN_EXPANDED_BYTES: usize = 32 * 1024 * 1024;

/// The files under the scan root, as the resolver sees them.
///
/// INVARIANT: every path in `files` is lexically normalised and lies under
/// `root`.
#[derive(Clone, Debug, Default)]
pub struct SourceTree {
    root: PathBuf,
    files: BTreeSet<PathBuf>,
}

impl SourceTree {
    /// A tree rooted at `root` holding `files` (absolute, or relative to the
    /// current directory like `root`). Paths outside `root` are dropped.
    pub fn new(root: &Path, files: impl IntoIterator<Item = PathBuf>) -> SourceTree {
        let root = normalize(root);
        let files = files
            .into_iter()
            .map(|f| normalize(&f))
            .filter(|f| f.starts_with(&root))
            .collect();
        SourceTree { root, files }
    }

    /// Walks the real directory `root` (skipping `.git`, not following
    /// symbolic links to directories, at most 200,000 files).
    pub fn scan(root: &Path) -> std::io::Result<SourceTree> {
        let mut files = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let ty = entry.file_type()?;
                let path = entry.path();
                if ty.is_dir() {
                    if entry.file_name() != ".git" {
                        stack.push(path);
                    }
                } else if ty.is_file() {
                    files.push(path);
                }
                if files.len() > 200_000 {
                    return Ok(SourceTree::new(root, files));
                }
            }
        }
        Ok(SourceTree::new(root, files))
    }

    /// The scan root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether the tree holds `path` (normalised).
    pub fn contains(&self, path: &Path) -> bool {
        self.files.contains(path)
    }

    /// The files, sorted.
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.iter()
    }

    /// `path` relative to the root, with `/` separators.
    pub fn display(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Lexical normalisation (see [`crate::fs::normalize_path`]).
pub use crate::fs::normalize_path as normalize;

/// An include that could not be resolved inside the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// The path as written.
    pub path: String,
    /// The `include` directive.
    pub span: Span,
}

/// The expanded directive tree of one entry file.
#[derive(Clone, Debug, Default)]
pub struct Expanded {
    /// The entry's directives; `include` directives carry their files'
    /// directives in `included` (shared between include sites).
    pub directives: Vec<Directive>,
    /// Every file read, entry first: id and path.
    pub files: Vec<(FileId, PathBuf)>,
    /// Includes the tree does not contain.
    pub unresolved: Vec<Unresolved>,
    /// Syntax errors of every file, and include warnings/errors (at most
    /// [`crate::project::MAX_PROBLEMS_PER_FILE`] per file, then one summary).
    pub problems: Vec<InputProblem>,
    /// Files parsed (each at most once per entry).
    pub parsed_files: usize,
    /// Size of the entry once its includes are spliced in.
    pub expanded: Size,
}

/// The size of a file once its includes are spliced in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Size {
    /// Directives (each block and included directive counted).
    pub directives: usize,
    /// Bytes of source text.
    pub bytes: usize,
}

impl Size {
    fn add(self, o: Size) -> Size {
        Size {
            directives: self.directives.saturating_add(o.directives),
            bytes: self.bytes.saturating_add(o.bytes),
        }
    }

    fn over_budget(self) -> bool {
        self.directives > MAX_EXPANDED || self.bytes > MAX_EXPANDED_BYTES
    }

    fn over_run_budget(self) -> bool {
        self.directives > MAX_RUN_EXPANDED || self.bytes > MAX_RUN_EXPANDED_BYTES
    }

    /// `self` plus `o`.
    pub fn plus(self, o: Size) -> Size {
        self.add(o)
    }
}

/// Reads one file of the tree: its id and text, or `None` when unreadable.
pub type ReadFn<'a> = dyn FnMut(&Path) -> Option<(FileId, String)> + 'a;

/// One file while its includes are being expanded, or once it is done.
enum Memo {
    /// On the current include chain: including it again is a cycle.
    Active,
    /// Expanded (or unreadable: `None`), shared by every include site.
    Done(Option<(Arc<Vec<Directive>>, Size)>),
}

struct Loader<'t, 'r, 'f> {
    tree: &'t SourceTree,
    read: &'r mut ReadFn<'f>,
    config_root: PathBuf,
    /// Every file of this entry by path, expanded once.
    memo: BTreeMap<PathBuf, Memo>,
    /// What earlier entries of the run spliced in.
    run_used: Size,
    out: Expanded,
}

fn count(ds: &[Directive]) -> usize {
    ds.iter()
        .map(|d| 1 + d.block.as_deref().map_or(0, count))
        .sum()
}

/// Parses `entry` (already read, with id `entry_id`) and expands its includes.
///
/// Every file is parsed and expanded once; a file included at several places
/// is shared ([`Arc`]), so work and memory follow the distinct files, and the
/// splices each file may make are bounded by [`MAX_EXPANDED`] directives and
/// [`MAX_EXPANDED_BYTES`] bytes *after* expansion. An include that would cross
/// the budget is not followed and is a located error.
pub fn expand(
    entry_id: FileId,
    entry: &Path,
    src: &str,
    tree: &SourceTree,
    read: &mut ReadFn<'_>,
) -> Expanded {
    expand_within(entry_id, entry, src, tree, read, Size::default())
}

/// [`expand`] for one entry of a run whose earlier entries already spliced in
/// `run_used`: the entry's includes may not take the run past
/// [`MAX_RUN_EXPANDED`] directives or [`MAX_RUN_EXPANDED_BYTES`] bytes (many
/// small entries including the same large tree).
pub fn expand_within(
    entry_id: FileId,
    entry: &Path,
    src: &str,
    tree: &SourceTree,
    read: &mut ReadFn<'_>,
    run_used: Size,
) -> Expanded {
    let entry = normalize(entry);
    let config_root = entry.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut loader = Loader {
        tree,
        read,
        config_root,
        memo: BTreeMap::new(),
        run_used,
        out: Expanded::default(),
    };
    loader.out.files.push((entry_id, entry.clone()));
    let (directives, size) = loader.expand_text(entry_id, &entry, src, 0);
    loader.out.directives = directives;
    loader.out.expanded = size;
    loader.out.problems = crate::project::cap_problems(std::mem::take(&mut loader.out.problems));
    loader.out
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

impl Loader<'_, '_, '_> {
    /// Parses one file and expands its includes; `depth` is its include depth.
    fn expand_text(
        &mut self,
        id: FileId,
        path: &Path,
        src: &str,
        depth: usize,
    ) -> (Vec<Directive>, Size) {
        let parsed = parse(id, src);
        self.out.parsed_files += 1;
        self.out.problems.extend(parsed.problems);
        let mut directives = parsed.directives;
        let mut size = Size {
            directives: count(&directives),
            bytes: src.len(),
        };
        self.memo.insert(path.to_path_buf(), Memo::Active);
        self.expand_list(&mut directives, path, depth, &mut size);
        (directives, size)
    }

    fn expand_list(
        &mut self,
        directives: &mut [Directive],
        including: &Path,
        depth: usize,
        size: &mut Size,
    ) {
        for d in directives.iter_mut() {
            if d.is("include") && d.block.is_none() {
                self.expand_include(d, including, depth, size);
            } else if let Some(block) = &mut d.block {
                self.expand_list(block, including, depth, size);
            }
        }
    }

    fn expand_include(
        &mut self,
        d: &mut Directive,
        including: &Path,
        depth: usize,
        size: &mut Size,
    ) {
        let Some(arg) = d.args.first().map(|a| a.text.clone()) else {
            self.out.problems.push(InputProblem::error(
                "nginx-syntax",
                d.head,
                "`include` needs a path",
            ));
            return;
        };
        let targets = match self.resolve(&arg, including) {
            Ok(t) => t,
            Err(Resolve::Escape) => {
                self.out.problems.push(InputProblem::error(
                    "nginx-include-escape",
                    d.head,
                    format!("include `{arg}` leaves the scan root"),
                ));
                return;
            }
            Err(Resolve::Missing) => {
                let what = if has_glob(&arg) {
                    format!(
                        "include `{arg}` matches no file in the scanned tree; checked without it"
                    )
                } else {
                    format!("include `{arg}` is not in the scanned tree; checked without it")
                };
                self.out.problems.push(InputProblem::warning(
                    "nginx-include-unresolved",
                    d.head,
                    what,
                ));
                self.out.unresolved.push(Unresolved {
                    path: arg,
                    span: d.head,
                });
                return;
            }
        };
        if depth >= MAX_INCLUDE_DEPTH {
            self.out.problems.push(InputProblem::error(
                "nginx-include-limit",
                d.head,
                format!("includes nested deeper than {MAX_INCLUDE_DEPTH} levels are not followed"),
            ));
            return;
        }
        // One error per include directive, however many targets close a cycle.
        let mut cyclic: Vec<String> = Vec::new();
        for target in targets {
            let shown = self.tree.display(&target);
            let Some((children, child_size)) = (match self.memo.get(&target) {
                Some(Memo::Active) => {
                    cyclic.push(shown);
                    continue;
                }
                Some(Memo::Done(done)) => done.clone(),
                None => self.load_file(&target, d.head, depth + 1),
            }) else {
                continue;
            };
            // The file's name, listed in the include's `files`, counts too.
            let listed = Size {
                directives: 1,
                bytes: shown.len(),
            };
            let grown = size.add(child_size).add(listed);
            // The entry's own splices also count against the whole run.
            if depth == 0 && grown.add(self.run_used).over_run_budget() {
                self.out.problems.push(InputProblem::error(
                    "nginx-include-limit",
                    d.head,
                    format!(
                        "include `{arg}`: `{shown}` would grow the nginx configurations of this run past {MAX_RUN_EXPANDED} directives or {} MiB once includes are spliced in; it is not followed",
                        MAX_RUN_EXPANDED_BYTES >> 20
                    ),
                ));
                break;
            }
            if grown.over_budget() {
                self.out.problems.push(InputProblem::error(
                    "nginx-include-limit",
                    d.head,
                    format!(
                        "include `{arg}`: `{shown}` would grow this file past {MAX_EXPANDED} directives or {} MiB once includes are spliced in; it is not followed",
                        MAX_EXPANDED_BYTES >> 20
                    ),
                ));
                break;
            }
            *size = grown;
            d.included.push(children);
            d.included_files.push(shown);
        }
        if let Some(first) = cyclic.first() {
            let more = match cyclic.len() {
                1 => String::new(),
                n => format!(" (and {} more files)", n - 1),
            };
            self.out.problems.push(InputProblem::error(
                "nginx-include-cycle",
                d.head,
                format!("include `{arg}` includes `{first}`{more} again: include cycle"),
            ));
        }
    }

    /// Reads, parses and expands `path` once; later includes reuse it.
    fn load_file(
        &mut self,
        path: &Path,
        at: Span,
        depth: usize,
    ) -> Option<(Arc<Vec<Directive>>, Size)> {
        if self.out.files.len() > MAX_FILES {
            self.out.problems.push(InputProblem::error(
                "nginx-include-limit",
                at,
                format!("more than {MAX_FILES} included files; the rest are not followed"),
            ));
            return None;
        }
        let loaded = match (self.read)(path) {
            Some((id, text)) => {
                self.out.files.push((id, path.to_path_buf()));
                let (directives, size) = self.expand_text(id, path, &text, depth);
                Some((Arc::new(directives), size))
            }
            None => {
                self.out.problems.push(InputProblem::error(
                    "nginx-include-unreadable",
                    at,
                    format!("included file `{}` cannot be read", self.tree.display(path)),
                ));
                None
            }
        };
        self.memo
            .insert(path.to_path_buf(), Memo::Done(loaded.clone()));
        loaded
    }

    fn bases(&self, including: &Path) -> Vec<PathBuf> {
        let mut bases = vec![self.config_root.clone()];
        if let Some(dir) = including.parent() {
            bases.push(dir.to_path_buf());
        }
        let mut cur = self.config_root.parent();
        while let Some(dir) = cur {
            if !dir.starts_with(self.tree.root()) {
                break;
            }
            bases.push(dir.to_path_buf());
            cur = dir.parent();
        }
        let mut seen = BTreeSet::new();
        bases.retain(|b| seen.insert(b.clone()));
        bases
    }

    fn resolve(&self, arg: &str, including: &Path) -> Result<Vec<PathBuf>, Resolve> {
        let path = Path::new(arg);
        let root = self.tree.root();
        let mut suffixes: Vec<PathBuf> = Vec::new();
        if path.is_absolute() {
            let literal = normalize(path);
            if literal.starts_with(root) {
                if let Some(found) = self.find(&literal, including) {
                    return Ok(found);
                }
            }
            let parts: Vec<Component<'_>> = path
                .components()
                .filter(|c| {
                    matches!(
                        c,
                        Component::Normal(_) | Component::ParentDir | Component::CurDir
                    )
                })
                .collect();
            for k in 0..parts.len() {
                let suffix: PathBuf = parts.get(k..).unwrap_or_default().iter().collect();
                let norm = normalize(&suffix);
                if norm.as_os_str().is_empty() {
                    continue;
                }
                if matches!(norm.components().next(), Some(Component::ParentDir)) {
                    return Err(Resolve::Escape);
                }
                // A glob keeps its directory: `/etc/nginx/conf.d/*.conf` may
                // become `conf.d/*.conf`, never a bare `*.conf` that would
                // match the entry's own siblings.
                if has_glob(arg) && parts.len() > 1 && norm.components().count() < 2 {
                    continue;
                }
                suffixes.push(norm);
            }
        } else {
            // INVARIANT: a relative include never reads outside the scan root.
            let primary = normalize(&self.config_root.join(path));
            if !primary.starts_with(root) {
                return Err(Resolve::Escape);
            }
            suffixes.push(path.to_path_buf());
        }
        let bases = self.bases(including);
        for suffix in &suffixes {
            for base in &bases {
                let candidate = normalize(&base.join(suffix));
                if !candidate.starts_with(root) {
                    continue;
                }
                if let Some(found) = self.find(&candidate, including) {
                    return Ok(found);
                }
            }
        }
        Err(Resolve::Missing)
    }

    /// The files `candidate` (a normalised path, maybe a glob) names in the tree.
    fn find(&self, candidate: &Path, including: &Path) -> Option<Vec<PathBuf>> {
        let text = candidate.to_string_lossy();
        let rel = candidate.strip_prefix(self.tree.root()).ok()?;
        let rel_text = rel.to_string_lossy();
        if !has_glob(&rel_text) {
            if self.tree.contains(candidate) {
                return Some(vec![candidate.to_path_buf()]);
            }
            let sample_ok = including
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with(".sample"));
            if sample_ok {
                let sample = PathBuf::from(format!("{text}.sample"));
                if self.tree.contains(&sample) {
                    return Some(vec![sample]);
                }
            }
            return None;
        }
        let pattern = format!(
            "{}/{}",
            globset::escape(&self.tree.root().to_string_lossy()),
            rel_text
        );
        let matcher = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .ok()?
            .compile_matcher();
        let pattern_parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let found: Vec<PathBuf> = self
            .tree
            .files()
            .filter(|f| f.starts_with(self.tree.root()) && matcher.is_match(f))
            .filter(|f| {
                // glob(3): a leading `.` is only matched by a literal `.`.
                let Ok(frel) = f.strip_prefix(self.tree.root()) else {
                    return false;
                };
                frel.components().zip(&pattern_parts).all(|(c, p)| {
                    let name = c.as_os_str().to_string_lossy();
                    !name.starts_with('.') || p.starts_with('.')
                })
            })
            .cloned()
            .collect();
        if found.is_empty() {
            None
        } else {
            Some(found)
        }
    }
}

enum Resolve {
    Escape,
    Missing,
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

    fn mem(files: &[(&str, &str)]) -> (SourceTree, BTreeMap<PathBuf, String>) {
        let map: BTreeMap<PathBuf, String> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(format!("/repo/{p}")), t.to_string()))
            .collect();
        (
            SourceTree::new(Path::new("/repo"), map.keys().cloned()),
            map,
        )
    }

    fn run(files: &[(&str, &str)], entry: &str) -> Expanded {
        let (tree, map) = mem(files);
        let entry_path = PathBuf::from(format!("/repo/{entry}"));
        let src = map[&entry_path].clone();
        let ids: Vec<PathBuf> = map.keys().cloned().collect();
        let mut read = |p: &Path| {
            let id = ids.iter().position(|k| k == p)? as u32;
            map.get(p).map(|t| (FileId(id + 1), t.clone()))
        };
        expand(FileId(0), &entry_path, &src, &tree, &mut read)
    }

    fn included(e: &Expanded) -> Vec<String> {
        fn walk(ds: &[Directive], out: &mut Vec<String>) {
            for d in ds {
                out.extend(d.included_files.iter().cloned());
                for f in &d.included {
                    walk(f, out);
                }
                if let Some(b) = &d.block {
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&e.directives, &mut out);
        out
    }

    #[test]
    fn relative_glob_sorted_and_no_dotfiles() {
        let e = run(
            &[
                ("nginx/nginx.conf", "http { include conf.d/*.conf; }"),
                ("nginx/conf.d/b.conf", "server { listen 81; }"),
                ("nginx/conf.d/a.conf", "server { listen 80; }"),
                ("nginx/conf.d/.hidden.conf", "server { listen 82; }"),
                ("nginx/conf.d/sub/c.conf", "server { listen 83; }"),
            ],
            "nginx/nginx.conf",
        );
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        assert_eq!(included(&e), ["nginx/conf.d/a.conf", "nginx/conf.d/b.conf"]);
    }

    #[test]
    fn absolute_paths_rebased_on_config_root() {
        let e = run(
            &[
                (
                    "deploy/nginx.conf",
                    "include /etc/nginx/conf.d/a.conf; include /etc/nginx/x.conf;",
                ),
                ("deploy/conf.d/a.conf", "a 1;"),
                ("deploy/x.conf", "x 1;"),
            ],
            "deploy/nginx.conf",
        );
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        assert_eq!(included(&e), ["deploy/conf.d/a.conf", "deploy/x.conf"]);
    }

    #[test]
    fn absolute_glob_keeps_its_directory() {
        let e = run(
            &[
                (
                    "nginx/nginx.conf",
                    "http { include /etc/nginx/conf.d/*.conf; }",
                ),
                ("nginx/other.conf", "x;"),
            ],
            "nginx/nginx.conf",
        );
        assert_eq!(e.unresolved.len(), 1, "{:?}", e.problems);
        assert!(e
            .problems
            .iter()
            .all(|p| p.level == crate::model::Level::Warning));
    }

    #[test]
    fn missing_include_is_a_warning() {
        let e = run(
            &[(
                "nginx.conf",
                "http { include /etc/nginx/mime.types; include conf.d/*.conf; }",
            )],
            "nginx.conf",
        );
        assert_eq!(e.unresolved.len(), 2);
        assert_eq!(e.unresolved[0].path, "/etc/nginx/mime.types");
        assert!(e
            .problems
            .iter()
            .all(|p| p.level == crate::model::Level::Warning));
    }

    #[test]
    fn escape_is_an_error() {
        let e = run(
            &[("a/nginx.conf", "include ../../etc/passwd;")],
            "a/nginx.conf",
        );
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].code, "nginx-include-escape");
    }

    #[test]
    fn cycle_is_an_error() {
        let e = run(
            &[
                ("nginx.conf", "include a.conf;"),
                ("a.conf", "include b.conf;"),
                ("b.conf", "include a.conf;"),
            ],
            "nginx.conf",
        );
        assert!(
            e.problems.iter().any(|p| p.code == "nginx-include-cycle"),
            "{:?}",
            e.problems
        );
    }

    #[test]
    fn self_include_is_a_cycle() {
        let e = run(&[("nginx.conf", "include nginx.conf;")], "nginx.conf");
        assert_eq!(e.problems[0].code, "nginx-include-cycle");
    }

    #[test]
    fn including_file_dir_fallback_and_sample() {
        let e = run(
            &[
                (
                    "sites/site.conf.sample",
                    "server { include snip/x.conf; include /config/nginx/proxy.conf; }",
                ),
                ("sites/snip/x.conf", "x 1;"),
                ("proxy.conf.sample", "proxy_set_header A b;"),
            ],
            "sites/site.conf.sample",
        );
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        assert_eq!(included(&e), ["sites/snip/x.conf", "proxy.conf.sample"]);
    }

    #[test]
    fn same_file_twice_is_fine() {
        let e = run(
            &[
                (
                    "nginx.conf",
                    "server { include t.conf; } server { include t.conf; }",
                ),
                ("t.conf", "t 1;"),
            ],
            "nginx.conf",
        );
        assert!(e.problems.is_empty(), "{:?}", e.problems);
        assert_eq!(included(&e).len(), 2);
        assert_eq!(e.files.len(), 2);
    }

    #[test]
    fn include_bomb_is_capped() {
        let mut files = vec![(
            "nginx.conf".to_string(),
            "include f0.conf; include f0.conf;".to_string(),
        )];
        for i in 0..30 {
            files.push((
                format!("f{i}.conf"),
                format!("include f{}.conf; include f{}.conf; a; b;", i + 1, i + 1),
            ));
        }
        files.push(("f30.conf".to_string(), "x;".to_string()));
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let e = run(&refs, "nginx.conf");
        assert!(
            e.problems.iter().any(|p| p.code == "nginx-include-limit"),
            "{:?}",
            e.problems.first()
        );
    }

    #[test]
    fn include_mesh_is_parsed_once_per_file_and_each_cycle_reported_once() {
        // 21 tiny files that all include each other: the old loader
        // enumerated every simple path (1.9 million cycle errors).
        let mut files = vec![(
            "nginx.conf".to_string(),
            "http { include m/*.conf; }".to_string(),
        )];
        for i in 0..21 {
            files.push((format!("m/f{i:02}.conf"), "include m/*.conf;".to_string()));
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let e = run(&refs, "nginx.conf");
        assert_eq!(e.parsed_files, 22);
        assert_eq!(e.files.len(), 22);
        let cycles = e
            .problems
            .iter()
            .filter(|p| p.code == "nginx-include-cycle")
            .count();
        // At most one per include directive.
        assert!((1..=21).contains(&cycles), "{cycles} cycle errors");
        // The mesh is also a doubling tree (each file includes all later
        // ones): the expansion budget stops it, once per include at most.
        let limits = e
            .problems
            .iter()
            .filter(|p| p.code == "nginx-include-limit")
            .count();
        assert!((1..=22).contains(&limits), "{limits} limit errors");
        assert_eq!(e.problems.len(), cycles + limits, "{:?}", e.problems);
        assert!(e.expanded.directives <= MAX_EXPANDED);
    }

    #[test]
    fn doubling_tree_is_shared_and_stops_at_the_byte_budget() {
        // A 10 KB file included twice at each of 11 levels: 20 MiB once
        // spliced in, over the 16 MiB budget.
        let mut files = vec![(
            "nginx.conf".to_string(),
            "http { server { include t/l0.conf; include t/l0.conf; } }".to_string(),
        )];
        for i in 0..10 {
            files.push((
                format!("t/l{i}.conf"),
                format!("include t/l{0}.conf; include t/l{0}.conf;", i + 1),
            ));
        }
        files.push((
            "t/l10.conf".to_string(),
            format!("add_header X \"{}\";", "a".repeat(10_000)),
        ));
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let e = run(&refs, "nginx.conf");
        // Each file parsed once, whatever the number of include sites.
        assert_eq!(e.parsed_files, 12);
        let limits: Vec<_> = e
            .problems
            .iter()
            .filter(|p| p.code == "nginx-include-limit")
            .collect();
        assert_eq!(limits.len(), 1, "{:?}", e.problems);
        assert!(
            limits[0].message.contains("16 MiB"),
            "{}",
            limits[0].message
        );
        // The error is at the entry's second include, which crossed the budget.
        assert_eq!(limits[0].span.file, FileId(0));
        assert!(e.expanded.bytes <= MAX_EXPANDED_BYTES);
        assert!(e.expanded.bytes > MAX_EXPANDED_BYTES / 2);
    }

    #[test]
    fn the_run_budget_counts_earlier_entries() {
        let files = [
            ("nginx.conf", "http { include big.conf; }"),
            ("big.conf", "add_header X y;"),
        ];
        let (tree, map) = mem(&files);
        let entry = PathBuf::from("/repo/nginx.conf");
        let mut read = |p: &Path| map.get(p).map(|t| (FileId(1), t.clone()));
        let fresh = expand_within(
            FileId(0),
            &entry,
            &map[&entry],
            &tree,
            &mut read,
            Size::default(),
        );
        assert!(fresh.problems.is_empty(), "{:?}", fresh.problems);
        let used = Size {
            directives: 0,
            bytes: MAX_RUN_EXPANDED_BYTES - 20,
        };
        let e = expand_within(FileId(0), &entry, &map[&entry], &tree, &mut read, used);
        assert_eq!(e.problems.len(), 1, "{:?}", e.problems);
        assert!(e.problems[0].message.contains("of this run"));
        assert!(e.directives[0].block.as_ref().unwrap()[0]
            .included
            .is_empty());
    }

    #[test]
    fn problems_are_capped_per_file() {
        let src = "}".repeat(500);
        let e = run(&[("nginx.conf", &src)], "nginx.conf");
        assert_eq!(e.problems.len(), crate::project::MAX_PROBLEMS_PER_FILE + 1);
        let last = e.problems.last().unwrap();
        assert_eq!(last.code, "too-many-problems");
        assert!(last.message.contains("and 400 more"), "{}", last.message);
    }

    #[test]
    fn normalize_keeps_escaping_parents() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
    }
}
