//! From the expanded directive tree to the `nginx` model: contexts
//! `http > server > location` (nested locations, `if` blocks) with nginx's
//! inheritance rules.
//!
//! Inheritance: a directive set at an outer level is effective at an inner
//! level unless the inner level sets it. *Array* directives — `add_header`,
//! `proxy_set_header`, `allow`/`deny` (one group), `limit_req`, `access_log`,
//! `proxy_hide_header`/`more_clear_headers`, `more_set_headers` — are taken
//! whole from the nearest level that sets any of them: a level that sets any
//! `add_header` inherits none from above. `add_header_inherit merge|off`
//! (nginx 1.29.3) is honoured. An `if` block is a level nested in its
//! location (or server), as nginx implements it.
//!
//! Which context the top level of the entry file is:
//! - it has an `http` block: main context, servers are read from `http`;
//! - else it has `server` blocks: the file is an http-level snippet
//!   (`conf.d/*.conf`, `sites-enabled/*`), its top level is the http level;
//! - else it has `location`/`if`/`add_header`/`listen`/`server_name`/`return`:
//!   a server body; one *implicit* server is made of it.

use std::collections::BTreeSet;

use super::parse::{Directive, Word};
use crate::model::{Node, Span, Value};

/// Directives that make a location proxy its requests.
const PASS: [&str; 5] = [
    "proxy_pass",
    "fastcgi_pass",
    "uwsgi_pass",
    "grpc_pass",
    "scgi_pass",
];

/// Deepest `server`/`location`/`if` nesting analysed.
const MAX_LEVELS: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ctx {
    Http,
    Server,
    Location,
    If,
}

impl Ctx {
    fn name(self) -> &'static str {
        match self {
            Ctx::Http => "http",
            Ctx::Server => "server",
            Ctx::Location => "location",
            Ctx::If => "if",
        }
    }
}

struct Level<'a> {
    ctx: Ctx,
    own: Vec<&'a Directive>,
}

/// The directives of a block with `include`s replaced by what they include.
fn flatten<'a>(ds: &'a [Directive], out: &mut Vec<&'a Directive>) {
    for d in ds {
        if d.is("include") && d.block.is_none() {
            for f in &d.included {
                flatten(f, out);
            }
        } else {
            out.push(d);
        }
    }
}

fn flat(ds: &[Directive]) -> Vec<&Directive> {
    let mut out = Vec::new();
    flatten(ds, &mut out);
    out
}

/// The last directive `name` of the nearest level that sets it.
fn nearest<'a>(chain: &[Level<'a>], name: &str) -> Option<&'a Directive> {
    chain
        .iter()
        .rev()
        .find_map(|l| l.own.iter().rev().find(|d| d.is(name)).copied())
}

/// All directives named in `names` of the nearest level that sets any of them.
fn nearest_group<'a>(chain: &[Level<'a>], names: &[&str]) -> Vec<&'a Directive> {
    for l in chain.iter().rev() {
        let v: Vec<&Directive> = l
            .own
            .iter()
            .filter(|d| names.contains(&d.name.text.as_str()))
            .copied()
            .collect();
        if !v.is_empty() {
            return v;
        }
    }
    Vec::new()
}

/// One response header set by `add_header` or `more_set_headers`.
#[derive(Clone, Debug)]
struct Header<'a> {
    name: String,
    name_span: Span,
    value: String,
    value_span: Span,
    always: bool,
    origin: Ctx,
    directive: &'a Directive,
}

impl Header<'_> {
    fn node(&self, span: Span) -> Node {
        Node::object(span)
            .str("name", self.name_span, self.name.clone())
            .str("value", self.value_span, self.value.clone())
            .field("always", Node::bool(self.directive.span, self.always))
            .str("origin", self.directive.name.span, self.origin.name())
            .build()
    }
}

fn add_headers<'a>(level: &Level<'a>) -> Vec<Header<'a>> {
    level
        .own
        .iter()
        .filter(|d| d.is("add_header"))
        .filter_map(|d| {
            let name = d.args.first()?;
            let value = d.args.get(1);
            Some(Header {
                name: name.text.clone(),
                name_span: name.span,
                value: value.map(|v| v.text.clone()).unwrap_or_default(),
                value_span: value.map_or(name.span, |v| v.span),
                always: d.args.iter().skip(2).any(|a| a.text == "always"),
                origin: level.ctx,
                directive: d,
            })
        })
        .collect()
}

/// `more_set_headers [-s codes] [-t types] "Name: value"…` (headers-more).
fn more_set_headers<'a>(chain: &[Level<'a>]) -> Vec<Header<'a>> {
    let Some(level) = chain
        .iter()
        .rev()
        .find(|l| l.own.iter().any(|d| d.is("more_set_headers")))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in level.own.iter().filter(|d| d.is("more_set_headers")) {
        let always = !d.args.iter().any(|a| a.text == "-s");
        let mut skip = false;
        for a in &d.args {
            if skip {
                skip = false;
                continue;
            }
            if a.text == "-s" || a.text == "-t" {
                skip = true;
                continue;
            }
            let (name, value) = match a.text.split_once(':') {
                Some((n, v)) => (n.trim(), v.trim()),
                None => (a.text.trim(), ""),
            };
            if name.is_empty() || value.is_empty() {
                continue;
            }
            out.push(Header {
                name: name.to_string(),
                name_span: a.span,
                value: value.to_string(),
                value_span: a.span,
                always,
                origin: level.ctx,
                directive: d,
            });
        }
    }
    out
}

/// Effective, own and lost `add_header` headers at the last level of `chain`.
struct HeaderSets<'a> {
    effective: Vec<Header<'a>>,
    own: Vec<Header<'a>>,
    lost: Vec<Header<'a>>,
}

fn header_sets<'a>(chain: &[Level<'a>]) -> HeaderSets<'a> {
    let mut effective: Vec<Header<'a>> = Vec::new();
    let mut own = Vec::new();
    let mut lost = Vec::new();
    let mut mode = String::from("on");
    for level in chain {
        if let Some(m) = level
            .own
            .iter()
            .rev()
            .find(|d| d.is("add_header_inherit"))
            .and_then(|d| d.arg(0))
        {
            mode = m.to_ascii_lowercase();
        }
        own = add_headers(level);
        lost = Vec::new();
        if own.is_empty() {
            if mode == "off" {
                effective.clear();
            }
        } else if mode == "merge" {
            let mut merged = own.clone();
            merged.extend(effective);
            effective = merged;
        } else {
            let names: BTreeSet<String> = own.iter().map(|h| h.name.to_ascii_lowercase()).collect();
            lost = effective
                .iter()
                .filter(|h| !names.contains(&h.name.to_ascii_lowercase()))
                .cloned()
                .collect();
            effective = own.clone();
        }
    }
    HeaderSets {
        effective,
        own,
        lost,
    }
}

/// A `return` directive, read.
struct Return<'a> {
    code: Option<i64>,
    target: Option<&'a Word>,
    directive: &'a Directive,
}

fn is_redirect_code(code: i64) -> bool {
    matches!(code, 301 | 302 | 303 | 307 | 308)
}

fn is_url(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.starts_with("http://") || t.starts_with("https://") || t.starts_with("$scheme")
}

fn is_https(text: &str) -> bool {
    text.to_ascii_lowercase().starts_with("https://")
}

fn read_return(d: &Directive) -> Return<'_> {
    let first = d.args.first();
    match first.and_then(|a| a.text.parse::<i64>().ok()) {
        Some(code) => Return {
            code: Some(code),
            target: d.args.get(1),
            directive: d,
        },
        None => Return {
            code: first.filter(|a| is_url(&a.text)).map(|_| 302),
            target: first,
            directive: d,
        },
    }
}

/// The first `return` directly in `own` (it ends processing: unconditional).
fn own_return<'a>(own: &[&'a Directive]) -> Option<Return<'a>> {
    own.iter().find(|d| d.is("return")).map(|d| read_return(d))
}

/// The directive that answers a request with a redirect to `https://`:
/// `return 3xx https://…`, `rewrite … https://…`, or either inside an `if`.
fn https_redirect<'a>(own: &[&'a Directive], depth: usize) -> Option<&'a Directive> {
    for d in own {
        if d.is("return") {
            let r = read_return(d);
            if r.code.is_some_and(is_redirect_code) && r.target.is_some_and(|t| is_https(&t.text)) {
                return Some(d);
            }
        } else if d.is("rewrite") && d.arg(1).is_some_and(is_https) {
            return Some(d);
        } else if d.is("if") && depth < 4 {
            if let Some(block) = &d.block {
                if let Some(found) = https_redirect(&flat(block), depth + 1) {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// `allow`/`deny` rules, evaluated in order: restricted when a `deny all`
/// comes before any `allow all`.
fn access_restricted(rules: &[&Directive]) -> bool {
    for d in rules {
        if d.arg(0) == Some("all") {
            return d.is("deny");
        }
    }
    false
}

/// The zone name of a `zone=NAME[:size]` argument.
fn zone_of(d: &Directive) -> Option<&str> {
    d.args
        .iter()
        .find_map(|a| a.text.strip_prefix("zone="))
        .map(|z| z.split(':').next().unwrap_or(z))
}

/// Every `limit_req_zone` name declared anywhere in the tree.
fn declared_zones(ds: &[Directive], out: &mut BTreeSet<String>, depth: usize) {
    if depth > MAX_LEVELS * 2 {
        return;
    }
    for d in ds {
        if d.is("limit_req_zone") {
            if let Some(z) = zone_of(d) {
                out.insert(z.to_string());
            }
        }
        for f in &d.included {
            declared_zones(f, out, depth + 1);
        }
        if let Some(b) = &d.block {
            declared_zones(b, out, depth + 1);
        }
    }
}

fn str_list(span: Span, items: impl IntoIterator<Item = (Span, String)>) -> Node {
    Node::list(
        span,
        items.into_iter().map(|(s, t)| Node::str(s, t)).collect(),
    )
}

fn joined(d: &Directive) -> String {
    d.args
        .iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Converts a directive (and its subtree) to its model node.
pub fn directive_node(d: &Directive) -> Node {
    let args = d
        .args
        .iter()
        .map(|a| {
            Node::object(a.span)
                .str("text", a.span, a.text.clone())
                .field("quoted", Node::bool(a.span, a.quoted))
                .build()
        })
        .collect();
    let mut b = Node::object(d.span)
        .str("name", d.name.span, d.name.text.clone())
        .field("args", Node::list(d.head, args));
    if let Some(block) = &d.block {
        b = b.field(
            "block",
            Node::list(d.span, block.iter().map(directive_node).collect()),
        );
    }
    if let Some((text, span)) = &d.raw {
        b = b.str("raw", *span, text.clone());
    }
    if d.is("include") && d.block.is_none() {
        b = b
            .field(
                "files",
                str_list(d.head, d.included_files.iter().map(|f| (d.head, f.clone()))),
            )
            .field(
                "included",
                Node::list(
                    d.head,
                    d.included_directives().map(directive_node).collect(),
                ),
            );
    }
    b.build()
}

/// Facts about one level (server or location/if), with inheritance applied.
struct Facts<'a> {
    headers: HeaderSets<'a>,
    more_headers: Vec<Header<'a>>,
    removed: Vec<&'a Word>,
    tls: Option<&'a Directive>,
    access_log_off: bool,
    server_tokens: Option<&'a Directive>,
    real_ip: Option<&'a Directive>,
    body_limit: Option<&'a Directive>,
    rate_limit: Option<&'a Directive>,
    restricted: bool,
    internal: bool,
    proxy: Option<&'a Directive>,
    ret: Option<Return<'a>>,
    https_redirect: Option<&'a Directive>,
    redirect_only: bool,
}

fn facts<'a>(
    chain: &[Level<'a>],
    zones: &BTreeSet<String>,
    server: Option<&Facts<'a>>,
) -> Facts<'a> {
    let own: &[&Directive] = chain.last().map_or(&[], |l| l.own.as_slice());
    let internal = own.iter().any(|d| d.is("internal"));
    let access = nearest_group(chain, &["allow", "deny"]);
    let rate_limit = nearest_group(chain, &["limit_req"])
        .into_iter()
        .find(|d| zone_of(d).is_some_and(|z| zones.contains(z)));
    let removed = nearest_group(chain, &["proxy_hide_header", "more_clear_headers"])
        .into_iter()
        .flat_map(|d| d.args.iter().filter(|a| !a.text.starts_with('-')))
        .collect();
    let mut proxy = own
        .iter()
        .find(|d| PASS.contains(&d.name.text.as_str()))
        .copied();
    if proxy.is_none() {
        proxy = own
            .iter()
            .filter(|d| d.is("if"))
            .filter_map(|d| d.block.as_ref())
            .flat_map(|b| flat(b))
            .find(|d| PASS.contains(&d.name.text.as_str()));
    }
    let ret = own_return(own);
    let own_https = https_redirect(own, 0);
    let (https, redirect_only) = match server {
        // A server-level `return`/`if` runs before location matching.
        Some(s) if s.redirect_only => (s.https_redirect.or(own_https), true),
        Some(s) => {
            let https = s.https_redirect.or(own_https);
            (https, decides_redirect(ret.as_ref(), https.is_some()))
        }
        None => (
            own_https,
            decides_redirect(ret.as_ref(), own_https.is_some()),
        ),
    };
    Facts {
        headers: header_sets(chain),
        more_headers: more_set_headers(chain),
        removed,
        tls: nearest(chain, "ssl_protocols"),
        access_log_off: nearest_group(chain, &["access_log"])
            .iter()
            .any(|d| d.arg(0) == Some("off")),
        server_tokens: nearest(chain, "server_tokens"),
        real_ip: nearest(chain, "set_real_ip_from").or_else(|| nearest(chain, "real_ip_header")),
        body_limit: nearest(chain, "client_max_body_size"),
        rate_limit,
        restricted: internal || access_restricted(&access),
        internal,
        proxy,
        ret,
        https_redirect: https,
        redirect_only,
    }
}

/// Whether an unconditional `return` makes a level serve only redirects: a
/// 3xx, or any code next to a conditional redirect to HTTPS (certbot's
/// `if ($host = …) { return 301 https://… } return 404;`).
fn decides_redirect(ret: Option<&Return<'_>>, https: bool) -> bool {
    ret.is_some_and(|r| r.code.is_some_and(|c| is_redirect_code(c) || https))
}

/// Adds the fact fields shared by `Server` and `Location` to an object.
fn fact_fields(
    mut b: crate::model::ObjectBuilder,
    f: &Facts<'_>,
    span: Span,
    own: &[&Directive],
) -> crate::model::ObjectBuilder {
    let mut headers: Vec<Node> = f
        .headers
        .effective
        .iter()
        .map(|h| h.node(h.directive.span))
        .collect();
    headers.extend(f.more_headers.iter().map(|h| h.node(h.directive.span)));
    let first_own = f.headers.own.first().map_or(span, |h| h.directive.span);
    b = b
        .field("headers", Node::list(span, headers))
        .field(
            "own_headers",
            Node::list(
                span,
                f.headers
                    .own
                    .iter()
                    .map(|h| h.node(h.directive.span))
                    .collect(),
            ),
        )
        .field(
            "lost_headers",
            Node::list(
                first_own,
                f.headers.lost.iter().map(|h| h.node(first_own)).collect(),
            ),
        )
        .field(
            "headers_removed",
            str_list(span, f.removed.iter().map(|w| (w.span, w.text.clone()))),
        )
        .field(
            "tls_protocols",
            match f.tls {
                Some(d) => str_list(d.span, d.args.iter().map(|a| (a.span, a.text.clone()))),
                None => Node::list(span, Vec::new()),
            },
        )
        .field("restricted", Node::bool(span, f.restricted))
        .field("internal", Node::bool(span, f.internal))
        .field(
            "rate_limited",
            Node::bool(
                f.rate_limit.map_or(span, |d| d.span),
                f.rate_limit.is_some(),
            ),
        )
        .opt(
            "body_limit",
            f.body_limit
                .and_then(|d| d.args.first())
                .map(|a| Node::str(a.span, a.text.clone())),
        )
        .field(
            "server_tokens_hidden",
            Node::bool(
                f.server_tokens.map_or(span, |d| d.span),
                f.server_tokens.and_then(|d| d.arg(0)) == Some("off"),
            ),
        )
        .field(
            "behind_proxy",
            Node::bool(f.real_ip.map_or(span, |d| d.span), f.real_ip.is_some()),
        )
        .field("access_log_off", Node::bool(span, f.access_log_off))
        .field(
            "proxy",
            Node::bool(f.proxy.map_or(span, |d| d.span), f.proxy.is_some()),
        )
        .opt(
            "upstream",
            f.proxy
                .and_then(|d| d.args.first())
                .map(|a| Node::str(a.span, a.text.clone())),
        )
        .opt(
            "return_code",
            f.ret
                .as_ref()
                .and_then(|r| r.code.map(|c| Node::int(r.directive.span, c))),
        )
        .opt(
            "return_target",
            f.ret
                .as_ref()
                .and_then(|r| r.target.map(|t| Node::str(t.span, t.text.clone()))),
        )
        .field(
            "redirects_to_https",
            Node::bool(
                f.https_redirect.map_or(span, |d| d.span),
                f.https_redirect.is_some(),
            ),
        )
        .field("redirect_only", Node::bool(span, f.redirect_only))
        .field("decl", decls(f, span, None))
        .field(
            "directives",
            Node::list(span, own.iter().map(|d| directive_node(d)).collect()),
        );
    b
}

fn decls(f: &Facts<'_>, span: Span, listen: Option<&Directive>) -> Node {
    let hsts = f
        .headers
        .effective
        .iter()
        .chain(&f.more_headers)
        .find(|h| h.name.eq_ignore_ascii_case("strict-transport-security"));
    Node::object(span)
        .opt("ssl_protocols", f.tls.map(|d| Node::str(d.span, joined(d))))
        .opt(
            "hsts",
            hsts.map(|h| Node::str(h.directive.span, h.value.clone())),
        )
        .opt(
            "server_tokens",
            f.server_tokens.map(|d| Node::str(d.span, joined(d))),
        )
        .opt(
            "body_limit",
            f.body_limit.map(|d| Node::str(d.span, joined(d))),
        )
        .opt(
            "rate_limit",
            f.rate_limit.map(|d| Node::str(d.span, joined(d))),
        )
        .opt("listen", listen.map(|d| Node::str(d.span, joined(d))))
        .build()
}

/// A `listen` directive, read.
struct Listen {
    address: String,
    port: i64,
    tls: bool,
}

fn read_listen(d: &Directive, ssl_on: bool) -> Listen {
    let spec = d.arg(0).unwrap_or("");
    let tls = ssl_on
        || d.args
            .iter()
            .skip(1)
            .any(|a| a.text == "ssl" || a.text == "quic");
    let (address, port) = if spec.starts_with("unix:") || spec.contains('$') {
        (spec.to_string(), 0)
    } else if let Some(rest) = spec.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, tail)) => {
                let port = tail.strip_prefix(':').map_or(Some(80), |p| p.parse().ok());
                (format!("[{v6}]"), port.unwrap_or(0))
            }
            None => (spec.to_string(), 0),
        }
    } else if let Ok(port) = spec.parse::<i64>() {
        ("*".to_string(), port)
    } else if let Some((host, port)) = spec.rsplit_once(':') {
        (host.to_string(), port.parse().unwrap_or(0))
    } else {
        (spec.to_string(), 80)
    };
    Listen { address, port, tls }
}

fn listen_node(d: &Directive, l: &Listen) -> Node {
    let spec_span = d.args.first().map_or(d.span, |a| a.span);
    Node::object(d.span)
        .str("address", spec_span, l.address.clone())
        .field("port", Node::int(spec_span, l.port))
        .field("tls", Node::bool(d.span, l.tls))
        .opt(
            "port_env",
            d.arg(0)
                .and_then(|a| crate::formats::http::port_env(a, true))
                .map(|v| Node::str(spec_span, v)),
        )
        .build()
}

/// Builds the `NginxConfig` model of an expanded entry.
pub fn config_node(
    directives: &[Directive],
    file_span: Span,
    unresolved: &[(Span, String)],
    files: &[String],
) -> Node {
    let mut zones = BTreeSet::new();
    declared_zones(directives, &mut zones, 0);
    let top = flat(directives);
    let mut servers = Vec::new();
    let https: Vec<&Directive> = top
        .iter()
        .filter(|d| d.is("http") && d.block.is_some())
        .copied()
        .collect();
    if !https.is_empty() {
        for h in https {
            let own = h.block.as_deref().map(flat).unwrap_or_default();
            http_servers(
                Level {
                    ctx: Ctx::Http,
                    own,
                },
                &zones,
                &mut servers,
            );
        }
    } else if top.iter().any(|d| d.is("server") && d.block.is_some()) {
        http_servers(
            Level {
                ctx: Ctx::Http,
                own: top.clone(),
            },
            &zones,
            &mut servers,
        );
    } else if top.iter().any(|d| {
        [
            "location",
            "if",
            "add_header",
            "listen",
            "server_name",
            "return",
        ]
        .contains(&d.name.text.as_str())
    }) {
        let span = top.first().map_or(file_span, |d| d.head);
        let chain = vec![
            Level {
                ctx: Ctx::Http,
                own: Vec::new(),
            },
            Level {
                ctx: Ctx::Server,
                own: top.clone(),
            },
        ];
        servers.push(server_node(&chain, span, true, &zones));
    }
    Node::object(file_span)
        .field("servers", Node::list(file_span, servers))
        .field(
            "unresolved_includes",
            str_list(file_span, unresolved.iter().map(|(s, p)| (*s, p.clone()))),
        )
        .field(
            "files",
            str_list(file_span, files.iter().map(|f| (file_span, f.clone()))),
        )
        .field(
            "limit_req_zones",
            str_list(file_span, zones.iter().map(|z| (file_span, z.clone()))),
        )
        .field(
            "directives",
            Node::list(file_span, directives.iter().map(directive_node).collect()),
        )
        .build()
}

fn http_servers<'a>(http: Level<'a>, zones: &BTreeSet<String>, out: &mut Vec<Node>) {
    let servers: Vec<&Directive> = http
        .own
        .iter()
        .filter(|d| d.is("server") && d.block.is_some())
        .copied()
        .collect();
    let mut chain = vec![http];
    for s in servers {
        let own = s.block.as_deref().map(flat).unwrap_or_default();
        chain.push(Level {
            ctx: Ctx::Server,
            own,
        });
        let node = server_node(&chain, s.head, false, zones);
        out.push(node);
        chain.pop();
    }
}

fn server_node(chain: &[Level<'_>], span: Span, implicit: bool, zones: &BTreeSet<String>) -> Node {
    let own: Vec<&Directive> = chain.last().map(|l| l.own.clone()).unwrap_or_default();
    let ssl_on = nearest(chain, "ssl").and_then(|d| d.arg(0)) == Some("on");
    let listen_dirs: Vec<&Directive> = own.iter().filter(|d| d.is("listen")).copied().collect();
    let listens: Vec<(&Directive, Listen)> = listen_dirs
        .iter()
        .map(|d| (*d, read_listen(d, ssl_on)))
        .collect();
    let ssl = ssl_on || listens.iter().any(|(_, l)| l.tls);
    let plain_http = listens.is_empty() || listens.iter().any(|(_, l)| !l.tls);
    let decl_listen = listens
        .iter()
        .find(|(_, l)| !l.tls)
        .or(listens.first())
        .map(|(d, _)| *d);
    let names: Vec<&Word> = own
        .iter()
        .filter(|d| d.is("server_name"))
        .flat_map(|d| d.args.iter())
        .collect();
    let f = facts(chain, zones, None);
    let mut locations = Vec::new();
    let mut sub: Vec<Level<'_>> = chain
        .iter()
        .map(|l| Level {
            ctx: l.ctx,
            own: l.own.clone(),
        })
        .collect();
    collect_locations(&own, &mut sub, zones, &f, None, "/", &mut locations);
    let mut b = Node::object(span)
        .field(
            "names",
            str_list(span, names.iter().map(|w| (w.span, w.text.clone()))),
        )
        .field(
            "listens",
            Node::list(
                span,
                listens.iter().map(|(d, l)| listen_node(d, l)).collect(),
            ),
        )
        .field("ssl", Node::bool(span, ssl))
        .field(
            "plain_http",
            Node::bool(decl_listen.map_or(span, |d| d.span), plain_http),
        )
        .field("implicit", Node::bool(span, implicit))
        .field("locations", Node::list(span, locations));
    b = fact_fields(b, &f, span, &own);
    let mut node = b.build();
    if let Some(d) = decl_listen {
        if let Some(decl) = node.get_mut("decl") {
            decl.set("listen", Node::str(d.span, joined(d)));
        }
    }
    node
}

/// Splits a `location` directive's arguments into (modifier, path).
fn location_path(d: &Directive) -> (String, Word) {
    let empty = Word {
        text: String::new(),
        span: d.head,
        quoted: false,
    };
    let Some(first) = d.args.first() else {
        return (String::new(), empty);
    };
    if ["=", "~", "~*", "^~"].contains(&first.text.as_str()) {
        return (first.text.clone(), d.args.get(1).cloned().unwrap_or(empty));
    }
    for m in ["^~", "~*", "=", "~"] {
        if let Some(rest) = first.text.strip_prefix(m) {
            if !rest.is_empty() {
                let mut w = first.clone();
                w.text = rest.to_string();
                return (m.to_string(), w);
            }
        }
    }
    (String::new(), first.clone())
}

fn collect_locations<'a>(
    own: &[&'a Directive],
    chain: &mut Vec<Level<'a>>,
    zones: &BTreeSet<String>,
    server: &Facts<'a>,
    parent: Option<&Word>,
    parent_path: &str,
    out: &mut Vec<Node>,
) {
    if chain.len() > MAX_LEVELS {
        return;
    }
    for d in own {
        let kind = if d.is("location") {
            Ctx::Location
        } else if d.is("if") {
            Ctx::If
        } else {
            continue;
        };
        let Some(block) = &d.block else {
            continue;
        };
        let inner = flat(block);
        chain.push(Level {
            ctx: kind,
            own: inner.clone(),
        });
        let f = facts(chain, zones, Some(server));
        let (modifier, path, condition) = if kind == Ctx::Location {
            let (m, p) = location_path(d);
            (m, p, None)
        } else {
            let cond = joined(d);
            let cond = cond.trim();
            let cond = cond.strip_prefix('(').unwrap_or(cond);
            let cond = cond.strip_suffix(')').unwrap_or(cond).trim().to_string();
            let path = Word {
                text: parent_path.to_string(),
                span: parent.map_or(d.head, |w| w.span),
                quoted: false,
            };
            (String::new(), path, Some(cond))
        };
        let mut b = Node::object(d.head)
            .str("kind", d.name.span, kind.name())
            .str("path", path.span, path.text.clone())
            .str(
                "modifier",
                d.args.first().map_or(d.head, |a| a.span),
                modifier,
            )
            .opt("condition", condition.map(|c| Node::str(d.head, c)))
            .opt("parent", parent.map(|w| Node::str(w.span, w.text.clone())));
        b = fact_fields(b, &f, d.head, &inner);
        out.push(b.build());
        collect_locations(&inner, chain, zones, server, Some(&path), &path.text, out);
        chain.pop();
    }
}

/// The value of a model node's string field, or "".
pub(crate) fn field_str<'n>(node: &'n Node, name: &str) -> &'n str {
    node.get(name).and_then(Node::as_str).unwrap_or("")
}

/// The value of a model node's bool field, or false.
pub(crate) fn field_bool(node: &Node, name: &str) -> bool {
    node.get(name).and_then(Node::as_bool).unwrap_or(false)
}

/// The items of a model node's list field.
pub(crate) fn field_list<'n>(node: &'n Node, name: &str) -> &'n [Node] {
    node.get(name).and_then(Node::as_list).unwrap_or(&[])
}

/// A model node's field, cloned, or an empty list at `span`.
pub(crate) fn field_or_empty(node: &Node, name: &str, span: Span) -> Node {
    node.get(name)
        .cloned()
        .unwrap_or_else(|| Node::new(span, Value::List(Vec::new())))
}
