//! Caddy sites → shared HTTP `Route` objects.
//!
//! # How a site is split into routes
//! - One route for the site itself (span: the first site address, path `""`
//!   = every request). It holds the site-level directives that apply to every
//!   request (no matcher, or `*`), including those inside `handle`/`route`
//!   blocks that have no matcher (their content applies to all requests).
//! - One sub-route per `handle`/`handle_path`/`route` with a matcher, and per
//!   `reverse_proxy`/`php_fastcgi` with a matcher (span: that line). A named
//!   matcher gives one sub-route per (non-negated) `path` of it, or a single
//!   one with path `@name` when it has no path. Nested matched blocks give
//!   nested sub-routes; inside `handle_path /p/*` inner paths are prefixed
//!   with `/p`.
//! - A sub-route inherits the site-level facts: unconditional headers, headers
//!   whose path matcher covers its path (`header /api/* …` for `/api/*`),
//!   rate and body limits, logging, TLS, redirects; its own block adds to them.
//!   Headers bound to a named matcher with no path (host, header, expression…)
//!   are conditional and credited to no route.
//!
//! # Facts
//! - headers: `header Name value` / `>Name` set (replacing), `+Name` adds,
//!   `?Name` sets a default (counts as sent), `-Name` and `Name ""` remove;
//!   `header Name find replace` only edits an existing value and is ignored.
//!   `always` is true (Caddy's `header` applies to every response of the
//!   route). `origin` is `site` or `route`, plus ` via import X` when the
//!   directive came from a snippet or file.
//! - restricted: a `remote_ip`/`client_ip` matcher (plain or under `not`)
//!   bound to `abort`, `respond … 4xx` or `error … 4xx` whose paths cover the
//!   route (no path = everything), or the route's own matcher tests the
//!   client address.
//! - rate_limited: a `rate_limit` directive in scope; body_limit: the
//!   `max_size` of `request_body` in scope.
//! - server_tokens_hidden: `Server` is removed by an effective header op.
//! - access_log: a `log` directive is present (Caddy logs no requests by
//!   default, so absence means no access log).

use std::collections::BTreeMap;

use crate::model::{Node, Span};
use crate::schema::Schema;

/// Deepest nesting walked.
const MAX_WALK: usize = 100;

struct D<'a> {
    name: &'a str,
    args: Vec<(&'a str, Span)>,
    block: &'a [Node],
    span: Span,
    via: Option<&'a str>,
}

fn view(n: &Node) -> Option<D<'_>> {
    let name = n.get("name")?.as_str()?;
    let args = n
        .get("args")
        .and_then(Node::as_list)
        .unwrap_or(&[])
        .iter()
        .filter_map(|a| a.as_str().map(|s| (s, a.span)))
        .collect();
    let block = n.get("block").and_then(Node::as_list).unwrap_or(&[]);
    Some(D {
        name,
        args,
        block,
        span: n.span,
        via: n.get("via").and_then(Node::as_str),
    })
}

#[derive(Clone, Debug, Default)]
struct MInfo {
    paths: Vec<String>,
    remote_ip: bool,
}

type Matchers = BTreeMap<String, MInfo>;

fn is_ip_cond(name: &str) -> bool {
    matches!(name, "remote_ip" | "client_ip")
}

fn matcher_info(d: &D) -> MInfo {
    let mut m = MInfo::default();
    let mut conds: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    if let Some(((first, _), rest)) = d.args.split_first() {
        conds.push((
            first.to_string(),
            rest.iter().map(|(a, _)| a.to_string()).collect(),
            Vec::new(),
        ));
    }
    for c in d.block {
        if let Some(cd) = view(c) {
            let inner: Vec<String> = cd
                .block
                .iter()
                .filter_map(|b| b.get("name").and_then(Node::as_str).map(str::to_string))
                .collect();
            conds.push((
                cd.name.to_string(),
                cd.args.iter().map(|(a, _)| a.to_string()).collect(),
                inner,
            ));
        }
    }
    for (name, args, inner) in conds {
        match name.as_str() {
            "path" => m.paths.extend(args),
            n if is_ip_cond(n) => m.remote_ip = true,
            "not"
                if args.first().is_some_and(|a| is_ip_cond(a))
                    || inner.iter().any(|i| is_ip_cond(i)) =>
            {
                m.remote_ip = true;
            }
            "expression"
                if args
                    .iter()
                    .any(|a| a.contains("remote_ip") || a.contains("client_ip")) =>
            {
                m.remote_ip = true;
            }
            _ => {}
        }
    }
    m
}

fn matcher_node(d: &D, info: &MInfo) -> Node {
    let conds: Vec<Node> = d.block.to_vec();
    Node::object(d.span)
        .str("name", d.span, d.name)
        .field(
            "paths",
            Node::list(
                d.span,
                info.paths
                    .iter()
                    .map(|p| Node::str(d.span, p.clone()))
                    .collect(),
            ),
        )
        .field("remote_ip", Node::bool(d.span, info.remote_ip))
        .field("conditions", Node::list(d.span, conds))
        .build()
}

#[derive(Clone, Debug, PartialEq)]
enum M {
    None,
    All,
    Path(String),
    Named(String),
}

/// The matcher token of a handler directive, and the remaining arguments.
fn split_matcher<'a>(d: &'a D) -> (M, &'a [(&'a str, Span)]) {
    let Some(((first, _), rest)) = d.args.split_first() else {
        return (M::None, &d.args);
    };
    if matches!(d.name, "rewrite" | "root") && rest.is_empty() {
        return (M::None, &d.args);
    }
    if *first == "*" {
        (M::All, rest)
    } else if first.starts_with('/') {
        (M::Path(first.to_string()), rest)
    } else if first.starts_with('@') {
        (M::Named(first.to_string()), rest)
    } else {
        (M::None, &d.args)
    }
}

/// Whether matcher path `m` covers route path `p`.
fn covers(m: &str, p: &str) -> bool {
    if m == "*" || m == "/*" {
        return true;
    }
    let p = p.trim_end_matches('*');
    match m.strip_suffix('*') {
        Some(prefix) => p.starts_with(prefix),
        None => p == m,
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Op {
    Set,
    Add,
    Default,
    Remove,
}

#[derive(Clone, Debug)]
struct HOp {
    op: Op,
    name: String,
    value: String,
    span: Span,
    origin: String,
}

fn header_op(field: &str, rest: &[(&str, Span)], span: Span, origin: &str) -> Option<HOp> {
    let (op, name) = match field.chars().next() {
        Some('-') => (Op::Remove, field.get(1..)?),
        Some('+') => (Op::Add, field.get(1..)?),
        Some('?') => (Op::Default, field.get(1..)?),
        Some('>') => (Op::Set, field.get(1..)?),
        _ => (Op::Set, field),
    };
    if name.is_empty() || name == "defer" || name == "match" {
        return None;
    }
    let value = match (&op, rest) {
        (Op::Remove, _) => String::new(),
        (_, [(v, _)]) => v.to_string(),
        (_, []) => return None,
        _ => return None, // find/replace edits an existing header
    };
    let op = if op == Op::Set && value.is_empty() {
        Op::Remove
    } else {
        op
    };
    Some(HOp {
        op,
        name: name.to_string(),
        value,
        span,
        origin: origin.to_string(),
    })
}

fn origin(level: &str, via: Option<&str>) -> String {
    match via {
        Some(v) => format!("{level} via import {v}"),
        None => level.to_string(),
    }
}

fn header_ops(d: &D, rest: &[(&str, Span)], level: &str) -> Vec<HOp> {
    let mut out = Vec::new();
    if let Some(((field, _), vals)) = rest.split_first() {
        out.extend(header_op(field, vals, d.span, &origin(level, d.via)));
    }
    for line in d.block {
        if let Some(l) = view(line) {
            out.extend(header_op(
                l.name,
                &l.args,
                l.span,
                &origin(level, l.via.or(d.via)),
            ));
        }
    }
    out
}

#[derive(Clone, Debug, Default)]
struct Scope {
    headers: Vec<HOp>,
    cond_headers: Vec<(Vec<String>, Vec<HOp>)>,
    guards: Vec<Vec<String>>,
    proxy: Option<(String, Span)>,
    rate: Option<Span>,
    body: Option<(String, Span)>,
    cond_body: Vec<(Vec<String>, String, Span)>,
    redirect: Option<(String, Span)>,
    /// An unconditional `abort`: every request gets its connection closed.
    closed: Option<Span>,
    log: bool,
}

enum SubKind<'a> {
    Block(&'a [Node], bool),
    Proxy(String, Span),
}

struct Pending<'a> {
    paths: Vec<String>,
    span: Span,
    ip: bool,
    kind: SubKind<'a>,
}

fn upstream_of(d: &D, rest: &[(&str, Span)]) -> String {
    if let Some((u, _)) = rest.first() {
        return u.to_string();
    }
    d.block
        .iter()
        .filter_map(view)
        .find(|l| l.name == "to")
        .and_then(|l| l.args.first().map(|(a, _)| a.to_string()))
        .unwrap_or_default()
}

fn is_4xx(s: &str) -> bool {
    s.len() == 3 && s.starts_with('4') && s.chars().all(|c| c.is_ascii_digit())
}

fn named_paths(m: &M, matchers: &Matchers) -> (Vec<String>, bool) {
    match m {
        M::Path(p) => (vec![p.clone()], false),
        M::Named(n) => match matchers.get(n) {
            Some(info) if !info.paths.is_empty() => (info.paths.clone(), info.remote_ip),
            Some(info) => (vec![n.clone()], info.remote_ip),
            None => (vec![n.clone()], false),
        },
        M::None | M::All => (Vec::new(), false),
    }
}

/// Walks one level of directives (descending into unconditional
/// `handle`/`route` blocks), filling `scope` and collecting matched sub-routes.
fn walk<'a>(
    dirs: &'a [Node],
    level: &str,
    matchers: &mut Matchers,
    scope: &mut Scope,
    subs: &mut Vec<Pending<'a>>,
    depth: usize,
) {
    if depth > MAX_WALK {
        return;
    }
    // matcher definitions apply to the whole block, wherever they are written
    for n in dirs {
        if let Some(d) = view(n) {
            if d.name.starts_with('@') {
                matchers.insert(d.name.to_string(), matcher_info(&d));
            }
        }
    }
    for n in dirs {
        let Some(d) = view(n) else { continue };
        let (m, rest) = split_matcher(&d);
        let unconditional = matches!(m, M::None | M::All);
        match d.name {
            "handle" | "route" | "handle_path" => {
                if unconditional {
                    walk(d.block, level, matchers, scope, subs, depth + 1);
                } else {
                    let (paths, ip) = named_paths(&m, matchers);
                    subs.push(Pending {
                        paths,
                        span: d.span,
                        ip,
                        kind: SubKind::Block(d.block, d.name == "handle_path"),
                    });
                }
            }
            "reverse_proxy" | "php_fastcgi" => {
                let up = upstream_of(&d, rest);
                if unconditional {
                    scope.proxy = Some((up, d.span));
                } else {
                    let (paths, ip) = named_paths(&m, matchers);
                    subs.push(Pending {
                        paths,
                        span: d.span,
                        ip,
                        kind: SubKind::Proxy(up, d.span),
                    });
                }
            }
            "header" => {
                let ops = header_ops(&d, rest, level);
                match &m {
                    M::None | M::All => scope.headers.extend(ops),
                    M::Path(p) => scope.cond_headers.push((vec![p.clone()], ops)),
                    M::Named(n) => {
                        if let Some(info) = matchers.get(n).filter(|i| !i.paths.is_empty()) {
                            scope.cond_headers.push((info.paths.clone(), ops));
                        }
                    }
                }
            }
            "redir" if unconditional => {
                if let Some((t, _)) = rest.first() {
                    scope.redirect = Some((t.to_string(), d.span));
                }
            }
            "abort" | "respond" | "error" => {
                if d.name == "abort" && unconditional && scope.closed.is_none() {
                    scope.closed = Some(d.span);
                }
                if let M::Named(name) = &m {
                    let guarded = d.name == "abort" || rest.iter().any(|(a, _)| is_4xx(a));
                    if let Some(info) = matchers.get(name).filter(|i| i.remote_ip && guarded) {
                        scope.guards.push(info.paths.clone());
                    }
                }
            }
            "rate_limit" => scope.rate = Some(d.span),
            "request_body" => {
                let size = d
                    .block
                    .iter()
                    .filter_map(view)
                    .find(|l| l.name == "max_size")
                    .and_then(|l| l.args.first().map(|(a, _)| a.to_string()));
                if let Some(size) = size {
                    match &m {
                        M::None | M::All => scope.body = Some((size, d.span)),
                        _ => {
                            let (paths, _) = named_paths(&m, matchers);
                            scope.cond_body.push((paths, size, d.span));
                        }
                    }
                }
            }
            "log" => scope.log = true,
            _ => {}
        }
    }
}

/// Effective headers: (set headers in order, removed names).
fn effective(ops: &[HOp]) -> (Vec<&HOp>, Vec<&HOp>) {
    let mut set: Vec<&HOp> = Vec::new();
    let mut removed: Vec<&HOp> = Vec::new();
    for op in ops {
        match op.op {
            Op::Set => {
                set.retain(|h| !h.name.eq_ignore_ascii_case(&op.name));
                set.push(op);
            }
            Op::Add => set.push(op),
            Op::Default => {
                if !set.iter().any(|h| h.name.eq_ignore_ascii_case(&op.name)) {
                    set.push(op);
                }
            }
            Op::Remove => {
                set.retain(|h| !h.name.eq_ignore_ascii_case(&op.name));
                removed.retain(|h| !h.name.eq_ignore_ascii_case(&op.name));
                removed.push(op);
            }
        }
    }
    (set, removed)
}

fn header_node(h: &HOp) -> Node {
    Node::object(h.span)
        .str("name", h.span, h.name.clone())
        .str("value", h.span, h.value.clone())
        .field("always", Node::bool(h.span, true))
        .str("origin", h.span, h.origin.clone())
        .build()
}

/// Site-level facts for the `CaddySite` node.
pub(crate) struct SiteFacts {
    pub matchers: Vec<Node>,
    pub headers: Vec<Node>,
    pub headers_removed: Vec<Node>,
    pub log: bool,
    pub proxy: bool,
    pub upstreams: Vec<Node>,
    pub tls: Option<Node>,
    pub explicit_https_redirect: bool,
}

fn all_upstreams(dirs: &[Node], out: &mut Vec<Node>, depth: usize) {
    if depth > MAX_WALK {
        return;
    }
    for n in dirs {
        let Some(d) = view(n) else { continue };
        if matches!(d.name, "reverse_proxy" | "php_fastcgi") {
            let (_, rest) = split_matcher(&d);
            if rest.is_empty() {
                for l in d.block.iter().filter_map(view).filter(|l| l.name == "to") {
                    out.extend(l.args.iter().map(|(a, s)| Node::str(*s, *a)));
                }
            } else {
                out.extend(rest.iter().map(|(a, s)| Node::str(*s, *a)));
            }
        } else {
            all_upstreams(d.block, out, depth + 1);
        }
    }
}

fn tls_node(dirs: &[Node]) -> Option<Node> {
    let d = dirs.iter().filter_map(view).find(|d| d.name == "tls")?;
    let mut protocols = Vec::new();
    let mut internal = d.args.first().is_some_and(|(a, _)| *a == "internal");
    for l in d.block.iter().filter_map(view) {
        match l.name {
            "protocols" => protocols.extend(l.args.iter().map(|(a, _)| Node::str(l.span, *a))),
            "issuer" if l.args.first().is_some_and(|(a, _)| *a == "internal") => internal = true,
            _ => {}
        }
    }
    Some(
        Node::object(d.span)
            .field(
                "args",
                Node::list(
                    d.span,
                    d.args.iter().map(|(a, s)| Node::str(*s, *a)).collect(),
                ),
            )
            .field("protocols", Node::list(d.span, protocols))
            .field("internal", Node::bool(d.span, internal))
            .build(),
    )
}

pub(crate) fn site_facts(dirs: &[Node]) -> SiteFacts {
    let mut matchers = Matchers::new();
    let mut scope = Scope::default();
    let mut subs = Vec::new();
    walk(dirs, "site", &mut matchers, &mut scope, &mut subs, 0);
    let matcher_nodes = dirs
        .iter()
        .filter_map(view)
        .filter(|d| d.name.starts_with('@'))
        .map(|d| matcher_node(&d, &matcher_info(&d)))
        .collect();
    let (set, removed) = effective(&scope.headers);
    let mut upstreams = Vec::new();
    all_upstreams(dirs, &mut upstreams, 0);
    SiteFacts {
        matchers: matcher_nodes,
        headers: set.into_iter().map(header_node).collect(),
        headers_removed: removed
            .into_iter()
            .map(|h| Node::str(h.span, h.name.clone()))
            .collect(),
        log: scope.log,
        proxy: !upstreams.is_empty() || scope.proxy.is_some(),
        upstreams,
        tls: tls_node(dirs),
        explicit_https_redirect: scope
            .redirect
            .as_ref()
            .is_some_and(|(t, _)| t.starts_with("https://")),
    }
}

/// Per-site constants shared by its routes.
struct SiteCtx {
    site: String,
    https: bool,
    plain_http: bool,
    redirects: bool,
    listens: Vec<Node>,
    listen_decl: Option<Node>,
    tls_protocols: Vec<Node>,
    tls_decl: Option<Node>,
}

fn listen_nodes(site: &Node, global: Option<&Node>) -> Vec<Node> {
    let http_port = global
        .and_then(|g| g.get("http_port"))
        .and_then(Node::as_int)
        .unwrap_or(80);
    let https_port = global
        .and_then(|g| g.get("https_port"))
        .and_then(Node::as_int)
        .unwrap_or(443);
    // `bind` decides the interfaces a site listens on; without it, every
    // interface (the address keeps the site's host name).
    let binds: Vec<(String, Span)> = site
        .get("directives")
        .and_then(Node::as_list)
        .unwrap_or(&[])
        .iter()
        .filter(|d| d.get("name").and_then(Node::as_str) == Some("bind"))
        .flat_map(|d| d.get("args").and_then(Node::as_list).unwrap_or(&[]).iter())
        .filter_map(|a| {
            let t = a.as_str()?;
            let host = t.split_once('/').map_or(t, |(_, rest)| rest);
            Some((
                host.trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                a.span,
            ))
        })
        .collect();
    let mut out = Vec::new();
    for a in site.get("addresses").and_then(Node::as_list).unwrap_or(&[]) {
        let tls = a.get("https").and_then(Node::as_bool).unwrap_or(false);
        let plain_scheme = a.get("scheme").and_then(Node::as_str) == Some("http");
        let port = a
            .get("port")
            .and_then(Node::as_int)
            .unwrap_or(if plain_scheme { http_port } else { https_port });
        let host = a
            .get("host")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let addresses: Vec<(String, Span)> = if binds.is_empty() {
            vec![(host, a.span)]
        } else {
            binds.clone()
        };
        let env = a
            .get("raw")
            .and_then(Node::as_str)
            .and_then(|raw| crate::formats::http::port_env(raw, false));
        for (address, span) in addresses {
            out.push(
                Node::object(a.span)
                    .str("address", span, address)
                    .field("port", Node::int(a.span, port))
                    .field("tls", Node::bool(a.span, tls))
                    .opt("port_env", env.clone().map(|v| Node::str(a.span, v)))
                    .build(),
            );
        }
    }
    out
}

fn decl(span: Span, text: String) -> Node {
    Node::str(span, text)
}

struct RouteOut {
    path: String,
    span: Span,
    scope: Scope,
    restricted: bool,
    body: Option<(String, Span)>,
    headers: Vec<HOp>,
}

fn route_node(ctx: &SiteCtx, r: &RouteOut) -> Node {
    let (set, removed) = effective(&r.headers);
    let hsts = set
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("Strict-Transport-Security"))
        .map(|h| decl(h.span, format!("{}: {}", h.name, h.value)));
    let server_hidden = removed
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("Server"));
    let sp = r.span;
    let decls = Node::object(sp)
        .opt("ssl_protocols", ctx.tls_decl.clone())
        .opt("hsts", hsts)
        .opt(
            "server_tokens",
            server_hidden.map(|h| decl(h.span, format!("-{}", h.name))),
        )
        .opt(
            "body_limit",
            r.body.as_ref().map(|(v, s)| decl(*s, v.clone())),
        )
        .opt(
            "rate_limit",
            r.scope.rate.map(|s| decl(s, "rate_limit".to_string())),
        )
        .opt("listen", ctx.listen_decl.clone())
        .build();
    let redirect_https = r
        .scope
        .redirect
        .as_ref()
        .is_some_and(|(t, _)| t.starts_with("https://"));
    Node::object(sp)
        .str("server", sp, "caddy")
        .str("site", sp, ctx.site.clone())
        .str("path", sp, r.path.clone())
        .field("https", Node::bool(sp, ctx.https))
        .field("listens", Node::list(sp, ctx.listens.clone()))
        .field("plain_http", Node::bool(sp, ctx.plain_http))
        .field(
            "redirects_to_https",
            Node::bool(sp, ctx.redirects || redirect_https),
        )
        .field("redirect_only", Node::bool(sp, r.scope.redirect.is_some()))
        // An unconditional `abort` closes the connection, as nginx's `return 444`.
        .opt(
            "return_code",
            r.scope
                .closed
                .filter(|_| r.scope.proxy.is_none())
                .map(|s| Node::int(s, 444)),
        )
        .field("proxy", Node::bool(sp, r.scope.proxy.is_some()))
        .opt(
            "upstream",
            r.scope
                .proxy
                .as_ref()
                .map(|(u, s)| Node::str(*s, u.clone())),
        )
        .field(
            "headers",
            Node::list(sp, set.iter().map(|h| header_node(h)).collect()),
        )
        .field(
            "headers_removed",
            Node::list(
                sp,
                removed
                    .iter()
                    .map(|h| Node::str(h.span, h.name.clone()))
                    .collect(),
            ),
        )
        .field("tls_protocols", Node::list(sp, ctx.tls_protocols.clone()))
        .field("restricted", Node::bool(sp, r.restricted))
        .field("rate_limited", Node::bool(sp, r.scope.rate.is_some()))
        .opt(
            "body_limit",
            r.body.as_ref().map(|(v, s)| Node::str(*s, v.clone())),
        )
        .field(
            "server_tokens_hidden",
            Node::bool(sp, server_hidden.is_some()),
        )
        .field("access_log", Node::bool(sp, r.scope.log))
        .field("decl", decls)
        .build()
}

fn guarded(guards: &[Vec<String>], path: &str) -> bool {
    guards
        .iter()
        .any(|g| g.is_empty() || g.iter().any(|m| covers(m, path)))
}

fn join_path(prefix: &str, p: &str) -> String {
    if prefix.is_empty() || p.starts_with('@') {
        return p.to_string();
    }
    let pre = prefix.trim_end_matches('*').trim_end_matches('/');
    format!("{pre}{p}")
}

fn body_for(scope: &Scope, path: &str) -> Option<(String, Span)> {
    scope.body.clone().or_else(|| {
        scope
            .cond_body
            .iter()
            .find(|(paths, _, _)| paths.iter().any(|m| covers(m, path)))
            .map(|(_, v, s)| (v.clone(), *s))
    })
}

fn subroutes(
    parent: &Scope,
    prefix: &str,
    pending: Vec<Pending<'_>>,
    matchers: &Matchers,
    out: &mut Vec<RouteOut>,
    depth: usize,
) {
    if depth > MAX_WALK {
        return;
    }
    for p in pending {
        for path in &p.paths {
            let full = join_path(prefix, path);
            let mut inherited = parent.clone();
            for (paths, ops) in &parent.cond_headers {
                if paths.iter().any(|m| covers(m, &full)) {
                    inherited.headers.extend(ops.iter().cloned());
                }
            }
            inherited.proxy = None;
            inherited.closed = None;
            let mut own = Scope::default();
            let mut nested = Vec::new();
            let mut local = matchers.clone();
            let mut strip = false;
            match &p.kind {
                SubKind::Block(dirs, s) => {
                    strip = *s;
                    walk(dirs, "route", &mut local, &mut own, &mut nested, depth + 1);
                }
                SubKind::Proxy(u, s) => own.proxy = Some((u.clone(), *s)),
            }
            let mut eff = inherited;
            eff.headers.extend(own.headers);
            eff.cond_headers.extend(own.cond_headers);
            eff.guards.extend(own.guards);
            eff.proxy = own.proxy;
            eff.rate = own.rate.or(eff.rate);
            if own.body.is_some() {
                eff.body = own.body;
            }
            eff.cond_body.extend(own.cond_body);
            if own.redirect.is_some() {
                eff.redirect = own.redirect;
            }
            eff.log |= own.log;
            let restricted = p.ip || guarded(&eff.guards, &full);
            let body = body_for(&eff, &full);
            let headers = eff.headers.clone();
            out.push(RouteOut {
                path: full.clone(),
                span: p.span,
                scope: eff.clone(),
                restricted,
                body,
                headers,
            });
            let child_prefix = if strip { full.clone() } else { String::new() };
            subroutes(&eff, &child_prefix, nested, &local, out, depth + 1);
        }
    }
}

/// The routes of every site of a `Caddyfile` model (see the module docs).
pub fn routes(file: &Node) -> Vec<Node> {
    let global = file.get("global");
    let mut out = Vec::new();
    for site in file.get("sites").and_then(Node::as_list).unwrap_or(&[]) {
        let addresses = site.get("addresses").and_then(Node::as_list).unwrap_or(&[]);
        let site_text = addresses
            .iter()
            .filter_map(|a| a.get("raw").and_then(Node::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let dirs = site
            .get("directives")
            .and_then(Node::as_list)
            .unwrap_or(&[]);
        let tls = site.get("tls");
        let tls_protocols: Vec<Node> = tls
            .and_then(|t| t.get("protocols"))
            .and_then(Node::as_list)
            .unwrap_or(&[])
            .to_vec();
        let tls_decl = tls_protocols.first().map(|p| {
            let words: Vec<&str> = tls_protocols.iter().filter_map(Node::as_str).collect();
            decl(p.span, format!("protocols {}", words.join(" ")))
        });
        let ctx = SiteCtx {
            site: site_text,
            https: site.get("https").and_then(Node::as_bool).unwrap_or(false),
            plain_http: site
                .get("plain_http")
                .and_then(Node::as_bool)
                .unwrap_or(false),
            redirects: site
                .get("redirects_to_https")
                .and_then(Node::as_bool)
                .unwrap_or(false),
            listens: listen_nodes(site, global),
            listen_decl: addresses.first().map(|a| {
                decl(
                    a.span,
                    a.get("raw")
                        .and_then(Node::as_str)
                        .unwrap_or("")
                        .to_string(),
                )
            }),
            tls_protocols,
            tls_decl,
        };
        let mut matchers = Matchers::new();
        let mut scope = Scope::default();
        let mut pending = Vec::new();
        walk(dirs, "site", &mut matchers, &mut scope, &mut pending, 0);
        let site_span = addresses.first().map_or(site.span, |a| a.span);
        let mut routes = vec![RouteOut {
            path: String::new(),
            span: site_span,
            scope: scope.clone(),
            restricted: guarded(&scope.guards, ""),
            body: scope.body.clone(),
            headers: scope.headers.clone(),
        }];
        // site-level guards only restrict the site route when they cover every path
        if let Some(first) = routes.first_mut() {
            first.restricted = scope
                .guards
                .iter()
                .any(|g| g.is_empty() || g.iter().any(|m| m == "*" || m == "/*"));
        }
        subroutes(&scope, "", pending, &matchers, &mut routes, 0);
        out.extend(routes.iter().map(|r| route_node(&ctx, r)));
    }
    out
}

/// Registers the shared HTTP route types (see `formats::http`).
pub fn schema(s: &mut Schema) {
    crate::formats::http::schema(s);
}
