//! The nginx front end: lexer/parser with spans ([`parse`]), `include`
//! resolution over an abstract file tree ([`include`]), contexts and
//! inheritance ([`model`]), the shared HTTP routes ([`route`]) and entry-file
//! detection ([`entry`]).
//!
//! Pipeline for one entry file: [`load`] parses it, expands its includes
//! through a caller-supplied reader, builds the `NginxConfig` node (target
//! `nginx`) and derives its `Route` nodes (target `http`). Every node carries
//! the span of the source text it came from, in whichever file that was.

pub mod entry;
pub mod include;
pub mod model;
pub mod parse;
pub mod route;

use std::path::{Path, PathBuf};

pub use entry::{entries_and_orphans, entry_files, is_candidate_name, is_entry, reads_as_nginx};
pub use include::{SourceTree, Unresolved};
pub use parse::{Directive, Word};
pub use route::routes;

use crate::formats::registry::Target;
use crate::model::{FileId, InputProblem, Node, Span};
use crate::schema::Schema;

/// One loaded entry: its model, routes and problems.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The `NginxConfig` node.
    pub model: Node,
    /// The `Route` nodes derived from it.
    pub routes: Vec<Node>,
    /// Every file read, entry first, with its id.
    pub files: Vec<(FileId, PathBuf)>,
    /// Includes the tree does not contain (warnings).
    pub unresolved: Vec<Unresolved>,
    /// Syntax errors of every file read, include warnings and errors.
    pub problems: Vec<InputProblem>,
}

/// Loads one entry file: `entry` (its path inside `tree`, already read as
/// `src` with id `entry_id`) and everything it includes, read through `read`.
/// No filesystem access happens here; see [`load_from_disk`] for the adapter.
pub fn load(
    entry_id: FileId,
    entry: &Path,
    src: &str,
    tree: &SourceTree,
    read: &mut dyn FnMut(&Path) -> Option<(FileId, String)>,
) -> Loaded {
    load_within(
        entry_id,
        entry,
        src,
        tree,
        read,
        &mut include::Size::default(),
    )
}

/// [`load`] for one entry of a run: `run_used` is what the run's earlier
/// entries spliced in through includes, and grows by this entry's
/// (see [`include::expand_within`]).
pub fn load_within(
    entry_id: FileId,
    entry: &Path,
    src: &str,
    tree: &SourceTree,
    read: &mut dyn FnMut(&Path) -> Option<(FileId, String)>,
    run_used: &mut include::Size,
) -> Loaded {
    let exp = include::expand_within(entry_id, entry, src, tree, read, *run_used);
    *run_used = run_used.plus(exp.expanded);
    let file_span = Span::new(entry_id, 0, 0);
    let unresolved: Vec<(Span, String)> = exp
        .unresolved
        .iter()
        .map(|u| (u.span, u.path.clone()))
        .collect();
    let files: Vec<String> = exp.files.iter().map(|(_, p)| tree.display(p)).collect();
    let model = model::config_node(&exp.directives, file_span, &unresolved, &files);
    let routes = route::routes(&model);
    Loaded {
        model,
        routes,
        files: exp.files,
        unresolved: exp.unresolved,
        problems: exp.problems,
    }
}

/// Loads a single text with no include resolution (every `include` is an
/// unresolved warning). For policy tests with inline configs.
pub fn load_str(file: FileId, src: &str) -> Loaded {
    let tree = SourceTree::new(Path::new("/"), Vec::new());
    load(file, Path::new("/nginx.conf"), src, &tree, &mut |_| None)
}

/// One file read by [`load_from_disk`].
#[derive(Clone, Debug)]
pub struct SourceText {
    /// Its id in spans.
    pub id: FileId,
    /// Its path.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// The real-filesystem adapter (reads through [`crate::fs::Confined`]): scans `scan_root`, reads `entry` and its
/// includes from disk, numbering files from `first_id`. Returns the loaded
/// entry and every file read, entry first.
pub fn load_from_disk(
    entry: &Path,
    scan_root: &Path,
    first_id: u32,
) -> std::io::Result<(Loaded, Vec<SourceText>)> {
    let tree = SourceTree::scan(scan_root)?;
    // Reads go through the confined layer (regular files only, bounded).
    let fs = crate::fs::Confined::anywhere(Path::new(""));
    let src = fs
        .read_text(entry)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut sources = vec![SourceText {
        id: FileId(first_id),
        path: entry.to_path_buf(),
        text: src.clone(),
    }];
    let mut next = first_id;
    let mut read = |p: &Path| {
        let text = fs.read_text(p).ok()?;
        next = next.saturating_add(1);
        sources.push(SourceText {
            id: FileId(next),
            path: p.to_path_buf(),
            text: text.clone(),
        });
        Some((FileId(next), text))
    };
    let loaded = load(FileId(first_id), entry, &src, &tree, &mut read);
    Ok((loaded, sources))
}

/// Registers the `nginx` and `http` targets and their types.
pub fn schema(s: &mut Schema) {
    s.target(
        Target::NGINX,
        "NginxConfig",
        "one nginx entry file with its includes expanded",
    );
    crate::formats::http::schema(s);

    s.object(
        "NginxConfig",
        "an nginx configuration entry file, includes expanded",
    )
    .field(
        "servers",
        "list<Server>",
        "every http `server` block (and the implicit server of a server-body snippet)",
    )
    .field(
        "unresolved_includes",
        "list<string>",
        "include paths the scanned tree does not contain, as written; span: the include",
    )
    .field(
        "files",
        "list<string>",
        "every file read, relative to the scan root, entry first",
    )
    .field(
        "limit_req_zones",
        "list<string>",
        "zone names declared by `limit_req_zone` anywhere",
    )
    .field(
        "directives",
        "list<Directive>",
        "the entry's top-level directive tree",
    )
    .done();

    s.object(
        "Directive",
        "one directive: `name args…;` or `name args… { block }`; span: name through `;` or `}`",
    )
    .field(
        "name",
        "string",
        "the directive name (a map/types/geo entry: its key)",
    )
    .field("args", "list<Arg>", "the arguments in order")
    .opt(
        "block",
        "list<Directive>",
        "the children, when the directive has a block",
    )
    .opt("raw", "string", "the verbatim body of a `*_by_lua_block`")
    .opt(
        "files",
        "list<string>",
        "`include` only: the files it resolved to, relative to the scan root",
    )
    .opt(
        "included",
        "list<Directive>",
        "`include` only: the directives of those files, in order",
    )
    .done();

    s.object(
        "Arg",
        "one directive argument; span: the source text, quotes included",
    )
    .field(
        "text",
        "string",
        "the text, unquoted and unescaped; `$var`/`${var}` verbatim",
    )
    .field("quoted", "bool", "written in single or double quotes")
    .done();

    s.object("Server", "an http `server` block with inheritance applied; span: the `server` word")
        .field("names", "list<string>", "`server_name` values in order")
        .field("listens", "list<Listen>", "`listen` directives as written (none means nginx's default `*:80`)")
        .field("ssl", "bool", "a `listen … ssl`/`quic` or an effective `ssl on`")
        .field("plain_http", "bool", "reachable over plain HTTP: a listen without ssl, or no listen at all")
        .field("implicit", "bool", "made from a file whose top level is a server body (no `server` block)")
        .field("locations", "list<Location>", "every location and `if` block, nested ones included, in source order")
        .field("headers", "list<Header>", "effective response headers (add_header, more_set_headers) at server level")
        .field("own_headers", "list<Header>", "`add_header`s set at this level")
        .field("lost_headers", "list<Header>", "outer headers this level drops by setting its own add_header; span: its first add_header")
        .field("headers_removed", "list<string>", "effective proxy_hide_header / more_clear_headers names")
        .field("tls_protocols", "list<string>", "effective `ssl_protocols` tokens; empty = nginx default")
        .field("restricted", "bool", "effective allow/deny ends in `deny all` before any `allow all`, or `internal`")
        .field("internal", "bool", "`internal` set at this level")
        .field("rate_limited", "bool", "effective `limit_req` naming a declared `limit_req_zone`")
        .opt("body_limit", "string", "effective `client_max_body_size` as written")
        .field("server_tokens_hidden", "bool", "effective `server_tokens off`")
        .field("behind_proxy", "bool", "an effective `set_real_ip_from`/`real_ip_header`: the server trusts a proxy in front of it")
        .field("access_log_off", "bool", "effective `access_log off`")
        .field("proxy", "bool", "this level passes requests on (proxy/fastcgi/uwsgi/grpc/scgi_pass)")
        .opt("upstream", "string", "the pass target as written")
        .opt("return_code", "int", "status of this level's unconditional `return` (`return URL` = 302)")
        .opt("return_target", "string", "URL or text of that `return`")
        .field("redirects_to_https", "bool", "a request here gets a 3xx to https:// (return/rewrite, also inside `if`; server-level counts for locations)")
        .field("redirect_only", "bool", "an unconditional `return 3xx` (here or server-level) answers every request")
        .field("decl", "Decls", "the directives that decided the facts above")
        .field("directives", "list<Directive>", "the directives of this level, includes expanded")
        .done();

    s.object(
        "Location",
        "a `location` (or an `if` block) with inheritance applied; span: the `location …` line",
    )
    .field("kind", "string", "`location` or `if`")
    .field(
        "path",
        "string",
        "the location path or regex; for `if`: the enclosing location's path (`/` at server level)",
    )
    .field(
        "modifier",
        "string",
        "`=`, `~`, `~*`, `^~` or `` (prefix match)",
    )
    .opt(
        "condition",
        "string",
        "`if` only: the condition without parentheses",
    )
    .opt(
        "parent",
        "string",
        "the path of the enclosing location, when nested",
    )
    .field(
        "headers",
        "list<Header>",
        "effective response headers after inheritance",
    )
    .field(
        "own_headers",
        "list<Header>",
        "`add_header`s set at this level",
    )
    .field(
        "lost_headers",
        "list<Header>",
        "outer headers this level drops by setting its own add_header; span: its first add_header",
    )
    .field(
        "headers_removed",
        "list<string>",
        "effective proxy_hide_header / more_clear_headers names",
    )
    .field(
        "tls_protocols",
        "list<string>",
        "effective `ssl_protocols` tokens; empty = nginx default",
    )
    .field(
        "restricted",
        "bool",
        "effective allow/deny ends in `deny all` before any `allow all`, or `internal`",
    )
    .field("internal", "bool", "`internal` set at this level")
    .field(
        "rate_limited",
        "bool",
        "effective `limit_req` naming a declared `limit_req_zone`",
    )
    .opt(
        "body_limit",
        "string",
        "effective `client_max_body_size` as written",
    )
    .field(
        "server_tokens_hidden",
        "bool",
        "effective `server_tokens off`",
    )
    .field(
        "behind_proxy",
        "bool",
        "an effective `set_real_ip_from`/`real_ip_header`: the server trusts a proxy in front of it",
    )
    .field("access_log_off", "bool", "effective `access_log off`")
    .field(
        "proxy",
        "bool",
        "this level passes requests on (proxy/fastcgi/uwsgi/grpc/scgi_pass, also in its `if`s)",
    )
    .opt("upstream", "string", "the pass target as written")
    .opt(
        "return_code",
        "int",
        "status of this level's unconditional `return` (`return URL` = 302)",
    )
    .opt("return_target", "string", "URL or text of that `return`")
    .field(
        "redirects_to_https",
        "bool",
        "a request here gets a 3xx to https:// (here, in an `if`, or server-level)",
    )
    .field(
        "redirect_only",
        "bool",
        "an unconditional `return 3xx` (here or server-level) answers every request",
    )
    .field(
        "decl",
        "Decls",
        "the directives that decided the facts above",
    )
    .field(
        "directives",
        "list<Directive>",
        "the directives of this level, includes expanded",
    )
    .done();
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may unwrap and index"
)]
mod tests;

/// The nginx format (see [`crate::formats::registry`]): an entry file with
/// its includes; feeds `nginx` and the derived `http` routes.
pub struct Nginx;

/// Include trees by scan root (display path).
type SharedTrees = std::sync::Arc<
    std::sync::Mutex<std::collections::BTreeMap<String, std::sync::Arc<SourceTree>>>,
>;

/// What the nginx format keeps across the files of a run.
#[derive(Default)]
struct RunNginx {
    /// Include trees by scan root (display path), scanned once (shared by
    /// the files loaded ahead, in parallel).
    trees: SharedTrees,
    /// What the entries so far spliced in through includes (run budget).
    expanded: include::Size,
}

impl crate::formats::registry::Format for Nginx {
    fn name(&self) -> &'static str {
        "nginx"
    }
    fn targets(&self) -> &'static [Target] {
        &[Target::NGINX, Target::HTTP]
    }
    fn code_language(&self) -> &'static str {
        "nginx"
    }
    fn default_file_name(&self) -> &'static str {
        "nginx.conf"
    }
    fn matches_name(&self, _base: &str) -> bool {
        false
    }
    /// Named on purpose: an nginx candidate name (`*.conf`, `sites-*/*`) is
    /// read as nginx even when it is a fragment (a server body).
    fn matches_explicit_name(&self, path: &Path) -> bool {
        is_candidate_name(path)
    }
    fn candidate_name(&self, path: &Path) -> bool {
        is_candidate_name(path)
    }
    fn sniff(&self, text: &str) -> bool {
        is_entry(text)
    }
    fn reads_as(&self, text: &str) -> bool {
        reads_as_nginx(text)
    }
    fn schema(&self, s: &mut Schema) {
        schema(s);
        crate::formats::http::schema(s);
    }
    fn load(
        &self,
        input: &crate::formats::registry::Input<'_>,
        cx: &mut crate::formats::registry::LoadCx<'_>,
    ) -> crate::formats::registry::Loaded {
        let mut problems = Vec::new();
        let loaded = match cx.disk.clone() {
            Some((cwd, root)) => {
                let mut run: RunNginx = cx.state.take(self.name());
                let root_disk = cwd.join(crate::fs::undisplay(&root));
                // One scan per root, shared by every entry file under it
                // (a file loaded ahead waits for the scan another one started).
                let tree = run
                    .trees
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .entry(root)
                    .or_insert_with(|| {
                        std::sync::Arc::new(
                            SourceTree::scan(&root_disk)
                                .unwrap_or_else(|_| SourceTree::new(&root_disk, Vec::new())),
                        )
                    })
                    .clone();
                let mut refused = Vec::new();
                let mut read = |p: &Path| match cx.read(p) {
                    Ok(read) => Some(read),
                    Err(crate::fs::FsError::NotFound) => None,
                    Err(e) => {
                        refused.push((crate::fs::display(&cwd, p), e));
                        None
                    }
                };
                let loaded = load_within(
                    input.file,
                    &cwd.join(crate::fs::undisplay(input.path)),
                    input.text,
                    &tree,
                    &mut read,
                    &mut run.expanded,
                );
                cx.state.put(self.name(), run);
                for (shown, e) in refused {
                    problems.push(InputProblem::warning(
                        "link-refused",
                        Span::new(input.file, 0, 0),
                        format!("include `{shown}` was not read: {e}"),
                    ));
                }
                loaded
            }
            None => load_str(input.file, input.text),
        };
        problems.extend(loaded.problems);
        let span = Span::new(input.file, 0, 0);
        let http = crate::formats::http::document(span, "nginx", input.path, loaded.routes);
        crate::formats::registry::Loaded {
            documents: vec![(Target::NGINX, loaded.model), (Target::HTTP, http)],
            problems,
        }
    }
    fn share_state(&self, run: &mut crate::formats::registry::RunState) {
        let shared: RunNginx = run.take(self.name());
        run.put(self.name(), shared);
    }
    fn fork_state(
        &self,
        run: &crate::formats::registry::RunState,
        ahead: &mut crate::formats::registry::RunState,
    ) {
        let trees = run
            .get::<RunNginx>(self.name())
            .map(|r| r.trees.clone())
            .unwrap_or_default();
        ahead.put(
            self.name(),
            RunNginx {
                trees,
                expanded: include::Size::default(),
            },
        );
    }
    /// The run budget is only consulted at an include that was read: a file
    /// loaded ahead read none, so its load does not depend on the run's.
    fn join_state(
        &self,
        run: &mut crate::formats::registry::RunState,
        ahead: crate::formats::registry::RunState,
    ) -> bool {
        run.join(ahead, self.name(), |kept: &mut RunNginx, used: RunNginx| {
            kept.expanded = kept.expanded.plus(used.expanded);
            true
        })
    }
}
