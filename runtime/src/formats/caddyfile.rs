//! Caddyfile front end: target `caddy` (see [`schema`]) and the Caddy half of
//! the shared HTTP route model ([`routes`]).
//!
//! Pipeline: [`lexer`] (Caddy's lexing rules, spans on every token) →
//! [`parser`] (server blocks, snippets, named routes, `import` expanded at
//! token level through a [`FileSource`]) → this module (the `Caddyfile`
//! model: global options, sites, addresses under automatic HTTPS) →
//! [`routes`] (one `Route` per site and per path-scoped sub-route).
//!
//! # Placeholders
//! `{$ENV}` / `{$ENV:default}` are kept verbatim (the process environment is
//! never read) and listed in `env_refs`. For address analysis only, an
//! `{$ENV:default}` is read as its default; `{$ENV}` without a default is an
//! opaque host name. `{env.X}`, `{args[…]}` and runtime placeholders stay text;
//! `{args[…]}` are substituted when a snippet or file is imported with
//! arguments.
//!
//! # Imports
//! `import NAME args…` imports the snippet `NAME` when one is defined before
//! that point, otherwise a file or glob relative to the importing file's
//! directory. Missing files are warnings (`caddy-import-missing`, listed in
//! `unresolved_imports`); a glob matching nothing is silently fine (Caddy only
//! logs it); paths leaving the scan root are errors; absolute paths under
//! `/etc/caddy` are read from the main Caddyfile's directory, other absolute
//! paths are unresolved (warning). Cycles between files and/or snippets are
//! errors (`caddy-import-cycle`, once per importer and imported pair).
//! Each imported file is lexed once. Limits: [`parser::MAX_IMPORTS`],
//! [`parser::MAX_TOKENS`], [`parser::MAX_EXPANDED_BYTES`] (token text after
//! expansion), [`parser::MAX_DEPTH`]; problems per file are capped like
//! nginx's ([`crate::project::MAX_PROBLEMS_PER_FILE`]).
//!
//! # Automatic HTTPS (the `https` of an address)
//! Following Caddy's documentation (and checked against `caddy adapt` 2.11):
//! 1. scheme `http://` → plain HTTP; scheme `https://` → HTTPS (any port);
//! 2. otherwise the HTTP port (`80`, or the `http_port` option) → plain HTTP,
//!    the HTTPS port (`443`/`https_port`) → HTTPS;
//! 3. otherwise an address with no host (`:8080`) → plain HTTP (no name to
//!    get a certificate for);
//! 4. otherwise (a domain, `localhost`, an IP, a wildcard, a placeholder) →
//!    HTTPS: public ACME certificates, or Caddy's internal CA for `localhost`
//!    and IPs. `auto_https off` does not change this — Caddy still puts a TLS
//!    listener on the HTTPS port but manages no certificate and adds no
//!    redirect; `disable_redirects` only drops the redirect.
//!
//! A site `redirects_to_https` when it has no plain-HTTP address, has a host,
//! and `auto_https` is neither `off` nor `disable_redirects` (Caddy's
//! automatic HTTP→HTTPS redirect), or when an unconditional `redir` (no
//! matcher or `*`, at site level or in an unconditional `handle`/`route`)
//! sends every request to `https://…`. `plain_http` is true when some address
//! is plain HTTP.
//!
//! # Directive checks
//! After parsing, `validate` reproduces a few of Caddy's directive-level adapt
//! errors (DNS challenge providers, `servers` options, `reverse_proxy`
//! subdirectives, `handle_response` arguments, duplicate `forward_auth` `uri`).
//! Unknown directives stay warnings: plugins add directives.

pub mod entry;
pub mod lexer;
pub mod parser;
pub mod routes;
pub mod source;
mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::formats::registry::Target;
#[cfg(test)]
use crate::model::Value;
use crate::model::{FileId, InputProblem, Node, Span};
use crate::schema::Schema;

pub use routes::routes;
pub use source::{read_error, FileSource, FsSource, MemSource, ReadError};

use lexer::Token;
use parser::{BlockKind, Directive, ImportCtx, ServerBlock};

/// The standard directives of Caddy 2 (and the deprecated spellings it still accepts).
pub const STANDARD_DIRECTIVES: &[&str] = &[
    "abort",
    "acme_server",
    "basic_auth",
    "basicauth",
    "bind",
    "copy_response",
    "copy_response_headers",
    "encode",
    "error",
    "file_server",
    "forward_auth",
    "fs",
    "handle",
    "handle_errors",
    "handle_path",
    "header",
    "import",
    "intercept",
    "invoke",
    "log",
    "log_append",
    "log_name",
    "log_skip",
    "map",
    "method",
    "metrics",
    "php_fastcgi",
    "push",
    "redir",
    "request_body",
    "request_header",
    "respond",
    "reverse_proxy",
    "rewrite",
    "root",
    "route",
    "skip_log",
    "templates",
    "tls",
    "tracing",
    "try_files",
    "uri",
    "vars",
];

/// Directives of widely used plugins: accepted without a warning.
pub const PLUGIN_DIRECTIVES: &[&str] = &[
    "rate_limit",
    "crowdsec",
    "cache",
    "coraza_waf",
    "waf",
    "jwtauth",
    "authorize",
    "authenticate",
    "security",
    "geoip",
    "replace",
    "cgi",
    "webdav",
    "dynamic_dns",
    "maxmind_geolocation",
    "appsec",
    "cors",
    "souin",
    "layer4",
    "ratelimit",
    "git",
    "hugo",
    "exec",
    "transform",
    "filter",
    "brotli",
    "zstd",
    "redirect",
    "torproxy",
];

/// Result of parsing one Caddyfile (with its imports).
#[derive(Debug)]
pub struct Parsed {
    /// The `Caddyfile` model.
    pub model: Node,
    /// Every problem, errors and warnings, in source order of discovery.
    pub problems: Vec<InputProblem>,
    /// Files read through `import`: (id, path).
    pub imported_files: Vec<(FileId, std::path::PathBuf)>,
    /// Bytes of token text after import expansion.
    pub expanded_bytes: usize,
    /// Tokens after import expansion.
    pub expanded_tokens: usize,
}

/// Parses a Caddyfile held in memory with no file imports possible (they
/// become `caddy-import-missing` warnings). Snippet imports work.
pub fn parse_str(file: FileId, text: &str) -> Parsed {
    let ctx = ImportCtx {
        source: None,
        root: std::path::PathBuf::from("/"),
        etc_caddy: None,
        files: Vec::new(),
        run_used: 0,
        run_tokens: 0,
    };
    build(file, text, ctx)
}

/// Parses the Caddyfile `path` (id `file`, text `text`); imports are read
/// through `source` and never outside `root`.
pub fn parse_file(
    file: FileId,
    path: &Path,
    text: &str,
    root: &Path,
    source: &mut dyn FileSource,
) -> Parsed {
    parse_file_within(file, path, text, root, source, &mut RunUsed::default())
}

/// What the Caddyfiles of a run expanded to so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunUsed {
    /// Bytes of token text ([`parser::MAX_RUN_EXPANDED_BYTES`] bounds the sum).
    pub bytes: usize,
    /// Tokens ([`parser::MAX_RUN_TOKENS`] bounds the sum).
    pub tokens: usize,
}

/// [`parse_file`] for one Caddyfile of a run: `run_used` is what the run's
/// earlier Caddyfiles expanded to, and grows by this one's.
pub fn parse_file_within(
    file: FileId,
    path: &Path,
    text: &str,
    root: &Path,
    source: &mut dyn FileSource,
    run_used: &mut RunUsed,
) -> Parsed {
    let path = source::normalize(path);
    let ctx = ImportCtx {
        source: Some(source),
        root: source::normalize(root),
        etc_caddy: path.parent().map(Path::to_path_buf),
        files: vec![(file, path)],
        run_used: run_used.bytes,
        run_tokens: run_used.tokens,
    };
    let parsed = build(file, text, ctx);
    run_used.bytes = run_used.bytes.saturating_add(parsed.expanded_bytes);
    run_used.tokens = run_used.tokens.saturating_add(parsed.expanded_tokens);
    parsed
}

/// Reads `path` from the file system (ids from 0: the Caddyfile gets 0) and parses it.
pub fn parse_path(path: &Path, root: &Path) -> Result<(Parsed, FsSource), ReadError> {
    let mut fs = FsSource::new(0);
    let (id, text) = fs.read(path)?;
    let parsed = parse_file(id, path, &text, root, &mut fs);
    Ok((parsed, fs))
}

fn s(t: &Token) -> Node {
    Node::str(t.span, t.text.clone())
}

fn directive_node(d: &Directive) -> Node {
    let args = d.args.iter().map(s).collect();
    let block = d
        .block
        .as_ref()
        .map(|b| Node::list(d.span, b.iter().map(directive_node).collect()));
    let via = d.name.via.as_ref().map(|v| Node::str(v.1, v.0.clone()));
    Node::object(d.span)
        .field("name", s(&d.name))
        .field("args", Node::list(d.span, args))
        .opt("block", block)
        .opt("via", via)
        .build()
}

/// A site address split the way Caddy's `ParseAddress` does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// Scheme before `://`.
    pub scheme: Option<String>,
    /// Host (brackets of IPv6 removed), empty when only a port is given.
    pub host: String,
    /// Port as written.
    pub port: Option<String>,
    /// Path after the host, with its leading `/`.
    pub path: Option<String>,
}

/// Replaces `{$VAR:default}` by its default (for address analysis only).
fn env_defaults(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("{$") {
        let (before, from) = rest.split_at(i);
        out.push_str(before);
        match from.find('}') {
            Some(end) => {
                let inner = from.get(2..end).unwrap_or("");
                match inner.split_once(':') {
                    Some((_, def)) => out.push_str(def),
                    None => out.push_str(from.get(..=end).unwrap_or("")),
                }
                rest = from.get(end + 1..).unwrap_or("");
            }
            None => {
                out.push_str(from);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Splits an address; `Err` holds Caddy's message for an invalid one.
pub fn parse_address(raw: &str) -> Result<Address, String> {
    let text = env_defaults(raw.trim());
    let (scheme, rest) = match text.split_once("://") {
        Some((sc, r)) => (Some(sc.to_string()), r.to_string()),
        None => (None, text.clone()),
    };
    let (hostport, path) = match rest.split_once('/') {
        Some((h, p)) => (h.to_string(), Some(format!("/{p}"))),
        None => (rest.clone(), None),
    };
    let (host, port) = split_host_port(&hostport);
    if let Some(p) = &port {
        if !p.contains('{') {
            match p.parse::<i64>() {
                Ok(n) if !(0..=65535).contains(&n) => {
                    return Err(format!("port {n} is out of range"))
                }
                Ok(_) => {}
                Err(_) => return Err(format!("invalid port `{p}`")),
            }
        }
    }
    match scheme.as_deref() {
        Some("wss") => {
            return Err(
                "the scheme wss:// is only supported in browsers; use https:// instead".into(),
            )
        }
        Some("ws") => {
            return Err(
                "the scheme ws:// is only supported in browsers; use http:// instead".into(),
            )
        }
        Some("http" | "https") | None => {}
        // `{$PROTOCOL}://…`: an environment placeholder with no default is
        // an unknown value (Caddy substitutes it before parsing).
        Some(other) if other.contains('{') => {}
        Some(other) => return Err(format!("unsupported URL scheme {other}://")),
    }
    Ok(Address {
        scheme,
        host,
        port,
        path,
    })
}

/// Go's `net.SplitHostPort`, then the retry with a `:` appended, then the whole text as host.
fn split_host_port(hp: &str) -> (String, Option<String>) {
    if let Some(inner) = hp.strip_prefix('[') {
        if let Some((h, after)) = inner.split_once(']') {
            return match after.strip_prefix(':') {
                Some(p) if !p.contains(':') => {
                    (h.to_string(), (!p.is_empty()).then(|| p.to_string()))
                }
                _ if after.is_empty() => (h.to_string(), None),
                _ => (hp.to_string(), None),
            };
        }
        return (hp.to_string(), None);
    }
    match hp.matches(':').count() {
        0 => (hp.to_string(), None),
        1 => {
            let (h, p) = hp.split_once(':').unwrap_or((hp, ""));
            (h.to_string(), (!p.is_empty()).then(|| p.to_string()))
        }
        _ => (hp.to_string(), None),
    }
}

/// Whether an address is served over HTTPS (module docs, "Automatic HTTPS").
pub fn address_is_https(a: &Address, http_port: i64, https_port: i64) -> bool {
    match a.scheme.as_deref() {
        Some("http") => return false,
        Some("https") => return true,
        _ => {}
    }
    if let Some(p) = a.port.as_deref().and_then(|p| p.parse::<i64>().ok()) {
        if p == http_port {
            return false;
        }
        if p == https_port {
            return true;
        }
    }
    !a.host.is_empty()
}

/// The port an address listens on.
pub fn address_port(a: &Address, http_port: i64, https_port: i64) -> Option<i64> {
    match a.port.as_deref() {
        Some(p) => p.parse().ok(),
        None if a.scheme.as_deref() == Some("http") => Some(http_port),
        None => Some(https_port),
    }
}

struct Global {
    node: Node,
    http_port: i64,
    https_port: i64,
    auto_https: Option<String>,
}

fn global_node(block: Option<&ServerBlock>, problems: &mut Vec<InputProblem>) -> Global {
    let span = block.map(|b| b.open).unwrap_or_default();
    let dirs: &[Directive] = block.map_or(&[], |b| b.directives.as_slice());
    let mut g = Node::object(span);
    let mut http_port = 80;
    let mut https_port = 443;
    let mut auto_https = None;
    let mut debug = false;
    let line_span = |d: &Directive| d.span;
    for d in dirs {
        let joined = d
            .args
            .iter()
            .map(|a| a.text.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        match d.name.text.as_str() {
            "admin" => {
                let v = if joined.is_empty() {
                    "localhost:2019".to_string()
                } else {
                    joined.clone()
                };
                g = g.field("admin", Node::str(line_span(d), v));
            }
            "auto_https" => {
                auto_https = Some(joined.clone());
                g = g.field("auto_https", Node::str(line_span(d), joined.clone()));
            }
            "email" => g = g.field("email", Node::str(line_span(d), joined.clone())),
            "http_port" | "https_port" => {
                let Some(n) = d.args.first().and_then(|a| a.text.parse::<i64>().ok()) else {
                    if !d.args.first().is_some_and(|a| a.text.contains('{')) {
                        problems.push(InputProblem::error(
                            "caddy-global-option",
                            d.span,
                            format!("`{}` needs a port number", d.name.text),
                        ));
                    }
                    continue;
                };
                if d.name.text == "http_port" {
                    http_port = n;
                } else {
                    https_port = n;
                }
                g = g.field(
                    if d.name.text == "http_port" { "http_port" } else { "https_port" },
                    Node::int(line_span(d), n),
                );
            }
            "debug" => debug = true,
            n if n.starts_with('@') => problems.push(InputProblem::error(
                "caddy-matcher-outside-site",
                d.name.span,
                format!("request matchers may not be defined globally, they must be in a site block; found `{n}`"),
            )),
            _ => {}
        }
    }
    let options = Node::list(span, dirs.iter().map(directive_node).collect());
    let node = g
        .field("debug", Node::bool(span, debug))
        .field("options", options)
        .build();
    Global {
        node,
        http_port,
        https_port,
        auto_https,
    }
}

fn is_known(name: &str) -> bool {
    STANDARD_DIRECTIVES.contains(&name) || PLUGIN_DIRECTIVES.contains(&name)
}

fn looks_like_address(name: &str) -> bool {
    name.contains("://")
        || name.starts_with(':')
        || name == "localhost"
        || (name.contains('.') && !name.starts_with('/') && !name.starts_with('{'))
}

/// Warns about unknown directives at site level and in handler blocks.
fn check_directives(
    dirs: &[Directive],
    block_has_braces: bool,
    problems: &mut Vec<InputProblem>,
    depth: usize,
) {
    for d in dirs {
        let name = d.name.text.as_str();
        if name.starts_with('@') || name.starts_with('{') || name.is_empty() {
            continue;
        }
        if !is_known(name) {
            if !block_has_braces && depth == 0 && looks_like_address(name) {
                problems.push(InputProblem::error(
                    "caddy-ambiguous-site",
                    d.name.span,
                    format!("unrecognized directive: `{name}`; to define a second site, put curly braces around each site's configuration"),
                ));
            } else {
                problems.push(InputProblem::warning(
                    "caddy-unknown-directive",
                    d.name.span,
                    format!("unknown directive `{name}` (a plugin, or a typo?)"),
                ));
            }
            continue;
        }
        if matches!(name, "handle" | "handle_path" | "route" | "handle_errors")
            && depth < parser::MAX_DEPTH
        {
            if let Some(b) = &d.block {
                check_directives(b, true, problems, depth + 1);
            }
        }
    }
}

fn collect_invokes<'a>(dirs: &'a [Directive], out: &mut Vec<&'a Directive>, depth: usize) {
    for d in dirs {
        if d.name.text == "invoke" {
            out.push(d);
        }
        if depth < parser::MAX_DEPTH {
            if let Some(b) = &d.block {
                collect_invokes(b, out, depth + 1);
            }
        }
    }
}

fn site_node(b: &ServerBlock, g: &Global, problems: &mut Vec<InputProblem>) -> Node {
    let span = b.keys.first().map_or(b.open, |k| k.span);
    let mut addrs = Vec::new();
    let (mut any_https, mut any_plain, mut any_host_https) = (false, false, false);
    for k in &b.keys {
        if STANDARD_DIRECTIVES.contains(&k.text.as_str()) {
            problems.push(InputProblem::error(
                "caddy-directive-as-address",
                k.span,
                format!("parsed `{}` as a site address, but it is a known directive; directives must appear in a site block", k.text),
            ));
        }
        let a = match parse_address(&k.text) {
            Ok(a) => a,
            Err(msg) => {
                problems.push(InputProblem::error("caddy-site-address", k.span, msg));
                Address::default()
            }
        };
        let https = address_is_https(&a, g.http_port, g.https_port);
        any_https |= https;
        any_plain |= !https;
        any_host_https |= https && !a.host.is_empty();
        let port = a
            .port
            .as_deref()
            .and_then(|p| p.parse::<i64>().ok())
            .map(|p| Node::int(k.span, p));
        addrs.push(
            Node::object(k.span)
                .str("raw", k.span, k.text.clone())
                .opt("scheme", a.scheme.clone().map(|x| Node::str(k.span, x)))
                .opt(
                    "host",
                    (!a.host.is_empty()).then(|| Node::str(k.span, a.host.clone())),
                )
                .opt("port", port)
                .opt("path", a.path.clone().map(|x| Node::str(k.span, x)))
                .field("https", Node::bool(k.span, https))
                .build(),
        );
    }
    let auto_redirect = !any_plain
        && any_host_https
        && !matches!(g.auto_https.as_deref(), Some("off" | "disable_redirects"));
    let directives: Vec<Node> = b.directives.iter().map(directive_node).collect();
    let facts = routes::site_facts(&directives);
    let mut site = Node::object(span)
        .field("addresses", Node::list(span, addrs))
        .field("https", Node::bool(span, any_https))
        .field("plain_http", Node::bool(span, any_plain))
        .field(
            "redirects_to_https",
            Node::bool(span, auto_redirect || facts.explicit_https_redirect),
        )
        .field("directives", Node::list(span, directives.clone()))
        .field("matchers", Node::list(span, facts.matchers))
        .field("headers", Node::list(span, facts.headers))
        .field("headers_removed", Node::list(span, facts.headers_removed))
        .field("log", Node::bool(span, facts.log))
        .field("proxy", Node::bool(span, facts.proxy))
        .field("upstreams", Node::list(span, facts.upstreams));
    site = site.opt("tls", facts.tls);
    site.build()
}

fn build(file: FileId, text: &str, ctx: ImportCtx<'_>) -> Parsed {
    let mut problems = Vec::new();
    let parsed = parser::parse(file, text, ctx, &mut problems);
    let root_span = Span::new(file, 0, 0);

    let mut blocks: Vec<&ServerBlock> = Vec::new();
    let mut named_routes: Vec<(String, Span)> = Vec::new();
    for b in &parsed.blocks {
        match &b.kind {
            BlockKind::NamedRoute(n) => {
                if named_routes.iter().any(|(x, _)| x == n) {
                    problems.push(InputProblem::error(
                        "caddy-named-route-duplicate",
                        b.open,
                        format!("cannot have duplicate named_routes: `{n}`"),
                    ));
                } else {
                    named_routes.push((n.clone(), b.keys.first().map_or(b.open, |k| k.span)));
                }
            }
            BlockKind::Site => blocks.push(b),
        }
    }
    let mut global_block = None;
    let mut sites: Vec<&ServerBlock> = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        if b.keys.is_empty() {
            if i == 0 {
                global_block = Some(*b);
            } else {
                problems.push(InputProblem::error(
                    "caddy-global-not-first",
                    b.open,
                    "server block without any key is global configuration, and if used, it must be first",
                ));
            }
        } else {
            sites.push(b);
        }
    }
    let g = global_node(global_block, &mut problems);

    let mut seen_keys: BTreeMap<String, Span> = BTreeMap::new();
    let mut site_nodes = Vec::new();
    let mut invokes = Vec::new();
    for b in &sites {
        // Caddy only calls a key ambiguous when both blocks share a listener:
        // blocks with different `bind` addresses may repeat a key.
        let mut bind: Vec<&str> = b
            .directives
            .iter()
            .filter(|d| d.name.text == "bind")
            .flat_map(|d| d.args.iter().map(|a| a.text.as_str()))
            .collect();
        bind.sort_unstable();
        let bind = bind.join(" ");
        for k in &b.keys {
            if seen_keys
                .insert(format!("{}\u{0}{bind}", k.text), k.span)
                .is_some()
            {
                problems.push(InputProblem::error(
                    "caddy-ambiguous-site",
                    k.span,
                    format!("ambiguous site definition: `{}`", k.text),
                ));
            }
        }
        check_directives(&b.directives, b.has_braces, &mut problems, 0);
        collect_invokes(&b.directives, &mut invokes, 0);
        site_nodes.push(site_node(b, &g, &mut problems));
    }
    for b in &parsed.blocks {
        if matches!(b.kind, BlockKind::NamedRoute(_)) {
            collect_invokes(&b.directives, &mut invokes, 0);
        }
    }
    let route_blocks: Vec<&ServerBlock> = parsed
        .blocks
        .iter()
        .filter(|b| matches!(b.kind, BlockKind::NamedRoute(_)))
        .collect();
    validate::check(global_block, &sites, &route_blocks, &mut problems);
    let defined: BTreeSet<&str> = named_routes.iter().map(|(n, _)| n.as_str()).collect();
    for d in invokes {
        if let Some(n) = d.args.first() {
            if !defined.contains(n.text.as_str()) {
                problems.push(InputProblem::error(
                    "caddy-invoke-undefined",
                    d.span,
                    format!(
                        "cannot invoke named route `{}`, which was not defined",
                        n.text
                    ),
                ));
            }
        }
    }

    let env_refs = env_refs(&parsed.blocks, global_block);
    let model = Node::object(root_span)
        .field("global", g.node)
        .field("sites", Node::list(root_span, site_nodes))
        .field(
            "snippets",
            Node::list(
                root_span,
                parsed
                    .snippets
                    .iter()
                    .map(|(n, sp)| Node::str(*sp, n.clone()))
                    .collect(),
            ),
        )
        .field(
            "named_routes",
            Node::list(
                root_span,
                named_routes
                    .iter()
                    .map(|(n, sp)| Node::str(*sp, n.clone()))
                    .collect(),
            ),
        )
        .field(
            "unresolved_imports",
            Node::list(
                root_span,
                parsed
                    .unresolved
                    .iter()
                    .map(|(n, sp)| Node::str(*sp, n.clone()))
                    .collect(),
            ),
        )
        .field("env_refs", Node::list(root_span, env_refs))
        .build();
    Parsed {
        model,
        problems: crate::project::cap_problems(problems),
        expanded_bytes: parsed.expanded_bytes,
        expanded_tokens: parsed.expanded_tokens,
        imported_files: parsed
            .files
            .into_iter()
            .filter(|(id, _)| *id != file)
            .collect(),
    }
}

fn env_refs(blocks: &[ServerBlock], _global: Option<&ServerBlock>) -> Vec<Node> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    fn scan(t: &Token, out: &mut Vec<Node>, seen: &mut BTreeSet<(Span, String)>) {
        let mut rest = t.text.as_str();
        while let Some(i) = rest.find("{$") {
            let from = rest.get(i + 2..).unwrap_or("");
            let Some(end) = from.find('}') else { break };
            let inner = from.get(..end).unwrap_or("");
            let (name, default) = match inner.split_once(':') {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            if !name.is_empty() && seen.insert((t.span, inner.to_string())) {
                out.push(
                    Node::object(t.span)
                        .str("name", t.span, name)
                        .opt("default", default.map(|d| Node::str(t.span, d)))
                        .build(),
                );
            }
            rest = from.get(end + 1..).unwrap_or("");
        }
    }
    fn walk(
        ds: &[Directive],
        out: &mut Vec<Node>,
        seen: &mut BTreeSet<(Span, String)>,
        depth: usize,
    ) {
        for d in ds {
            scan(&d.name, out, seen);
            for a in &d.args {
                scan(a, out, seen);
            }
            if depth < parser::MAX_DEPTH {
                if let Some(b) = &d.block {
                    walk(b, out, seen, depth + 1);
                }
            }
        }
    }
    for b in blocks {
        for k in &b.keys {
            scan(k, &mut out, &mut seen);
        }
        walk(&b.directives, &mut out, &mut seen, 0);
    }
    out
}

/// Registers the `caddy` target and its types (and a private copy of the
/// shared HTTP route types, deduplicated at integration).
pub fn schema(s: &mut Schema) {
    s.object(
        "Caddyfile",
        "a Caddyfile after snippet and file imports are expanded",
    )
    .field(
        "global",
        "CaddyGlobal",
        "the global options block (empty when absent)",
    )
    .field("sites", "list<CaddySite>", "site blocks in file order")
    .field(
        "snippets",
        "list<string>",
        "names of defined snippets (span: the `(name)` key)",
    )
    .field(
        "named_routes",
        "list<string>",
        "names of `&(name)` route blocks",
    )
    .field(
        "unresolved_imports",
        "list<string>",
        "imports that named no readable file (span: the import line)",
    )
    .field(
        "env_refs",
        "list<CaddyEnvRef>",
        "`{$VAR}` / `{$VAR:default}` placeholders (never expanded)",
    )
    .done();
    s.object("CaddyGlobal", "global options")
        .opt("admin", "string", "address of the admin endpoint as written (`off` when disabled); span: the `admin` option")
        .opt("auto_https", "string", "`off`, `disable_redirects`, `disable_certs`, `ignore_loaded_certs`")
        .opt("email", "string", "ACME account email")
        .opt("http_port", "int", "the `http_port` option")
        .opt("https_port", "int", "the `https_port` option")
        .field("debug", "bool", "the `debug` option is set")
        .field("options", "list<CaddyDirective>", "every global option as a directive")
        .done();
    s.object("CaddySite", "one site block")
        .field("addresses", "list<CaddyAddress>", "the site addresses")
        .field(
            "https",
            "bool",
            "some address is served over HTTPS (automatic HTTPS rules)",
        )
        .field(
            "plain_http",
            "bool",
            "some address is served over plain HTTP",
        )
        .field(
            "redirects_to_https",
            "bool",
            "plain-HTTP requests for this site get a redirect to https:// (automatic or explicit)",
        )
        .field(
            "directives",
            "list<CaddyDirective>",
            "site directives after import expansion (imported ones point into the snippet/file)",
        )
        .field(
            "matchers",
            "list<CaddyMatcher>",
            "named matchers defined at site level",
        )
        .field(
            "headers",
            "list<Header>",
            "response headers set unconditionally at site level (imports included)",
        )
        .field(
            "headers_removed",
            "list<string>",
            "response headers removed unconditionally at site level (`header -Name`)",
        )
        .field(
            "log",
            "bool",
            "a `log` directive is present (Caddy logs no requests by default)",
        )
        .field(
            "proxy",
            "bool",
            "the site proxies (`reverse_proxy`/`php_fastcgi`) somewhere",
        )
        .field(
            "upstreams",
            "list<string>",
            "every proxy upstream as written",
        )
        .opt("tls", "CaddyTls", "the site's `tls` directive")
        .done();
    s.object("CaddyAddress", "a site address, split as Caddy does")
        .field("raw", "string", "as written")
        .opt("scheme", "string", "`http` or `https` when written")
        .opt(
            "host",
            "string",
            "host name, IP or wildcard (absent for `:port`)",
        )
        .opt("port", "int", "port when written as a number")
        .opt("path", "string", "path part, when written")
        .field(
            "https",
            "bool",
            "served over HTTPS under Caddy's automatic HTTPS",
        )
        .done();
    s.object("CaddyDirective", "a directive line with its block")
        .field("name", "string", "directive (or subdirective/option) name")
        .field("args", "list<string>", "arguments, unquoted")
        .opt("block", "list<CaddyDirective>", "the nested block")
        .opt(
            "via",
            "string",
            "the import that brought it in (snippet or file); span: the import line",
        )
        .done();
    s.object("CaddyMatcher", "a named matcher `@name`")
        .field("name", "string", "name with its `@`")
        .field(
            "paths",
            "list<string>",
            "paths of its `path` conditions (not negated)",
        )
        .field(
            "remote_ip",
            "bool",
            "it tests `remote_ip`/`client_ip` (possibly under `not`)",
        )
        .field("conditions", "list<CaddyDirective>", "its conditions")
        .done();
    s.object("CaddyTls", "the `tls` directive")
        .field(
            "args",
            "list<string>",
            "arguments (`internal`, an email, cert and key files)",
        )
        .field(
            "protocols",
            "list<string>",
            "`protocols` min [max] as written; span: that line",
        )
        .field("internal", "bool", "`tls internal` / `issuer internal`")
        .done();
    s.object("CaddyEnvRef", "an environment placeholder")
        .field("name", "string", "variable name")
        .opt("default", "string", "default after `:`")
        .done();
    s.target(Target::CADDY, "Caddyfile", "a Caddyfile with its imports");
    routes::schema(s);
}

/// The Caddyfile format, named `caddy` (see [`crate::formats::registry`]):
/// a Caddyfile with its imports; feeds `caddy` and the derived `http` routes.
pub struct Caddy;

impl crate::formats::registry::Format for Caddy {
    fn name(&self) -> &'static str {
        "caddy"
    }
    /// The keyword test cases used before the format had one name.
    fn aliases(&self) -> &'static [&'static str] {
        &["caddyfile"]
    }
    fn label(&self) -> &'static str {
        "Caddyfile"
    }
    fn targets(&self) -> &'static [Target] {
        &[Target::CADDY, Target::HTTP]
    }
    fn code_language(&self) -> &'static str {
        "caddyfile"
    }
    fn default_file_name(&self) -> &'static str {
        "Caddyfile"
    }
    fn matches_name(&self, base: &str) -> bool {
        is_caddyfile_name(base)
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
        let parsed = match cx.disk.clone() {
            Some((cwd, root)) => {
                let mut used: RunUsed = cx.state.take(self.name());
                let parsed = parse_file_within(
                    input.file,
                    &cwd.join(crate::fs::undisplay(input.path)),
                    input.text,
                    &cwd.join(crate::fs::undisplay(&root)),
                    &mut CxSource(cx),
                    &mut used,
                );
                cx.state.put(self.name(), used);
                parsed
            }
            None => parse_str(input.file, input.text),
        };
        let routes = routes(&parsed.model);
        let span = Span::new(input.file, 0, 0);
        let http = crate::formats::http::document(span, "caddy", input.path, routes);
        crate::formats::registry::Loaded {
            documents: vec![(Target::CADDY, parsed.model), (Target::HTTP, http)],
            problems: parsed.problems,
        }
    }
    /// The run budgets are consulted beside the file's own, which are a
    /// quarter of them or less: while what the run used plus what the file
    /// used leaves room for one more file's own budget, the run's can never
    /// be the one that stops an import, and the load ahead stands.
    fn join_state(
        &self,
        run: &mut crate::formats::registry::RunState,
        ahead: crate::formats::registry::RunState,
    ) -> bool {
        run.join(ahead, self.name(), |kept: &mut RunUsed, used: RunUsed| {
            let tokens = kept.tokens.saturating_add(used.tokens);
            let bytes = kept.bytes.saturating_add(used.bytes);
            let stands = tokens.saturating_add(parser::MAX_TOKENS) <= parser::MAX_RUN_TOKENS
                && bytes.saturating_add(parser::MAX_EXPANDED_BYTES)
                    <= parser::MAX_RUN_EXPANDED_BYTES;
            if stands {
                *kept = RunUsed { bytes, tokens };
            }
            stands
        })
    }
}

/// `Caddyfile`, `Caddyfile.*`, `*.caddyfile` (case-insensitive).
pub fn is_caddyfile_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "caddyfile"
        || n.starts_with("caddyfile.")
        || (n.ends_with(".caddyfile") && n.len() > ".caddyfile".len())
}

/// Imports read through the loading context (confined, registered once).
struct CxSource<'a, 'b>(&'a mut crate::formats::registry::LoadCx<'b>);

impl FileSource for CxSource<'_, '_> {
    fn read(&mut self, path: &Path) -> Result<(FileId, String), ReadError> {
        self.0.read(path).map_err(read_error)
    }

    fn list(&mut self, dir: &Path) -> Result<Vec<String>, ReadError> {
        let names = self.0.list(dir).map_err(read_error)?;
        Ok(names
            .into_iter()
            .filter_map(|n| n.to_str().map(str::to_string))
            .collect())
    }
}

#[cfg(test)]
mod tests;
