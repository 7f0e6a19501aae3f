//! The shared HTTP `Route` objects derived from an `NginxConfig` model.
//!
//! One route per `location` (nested ones included, `if` blocks excluded: they
//! are conditions inside a route, not routes) and one *server-level* route
//! (path `/`) per server that has no top-level `location /` (or `^~ /`): that
//! route stands for the requests no location matches, which nginx serves with
//! the server-level configuration. When `location /` exists it catches them
//! all, so a server-level route would describe no request.

use super::model::{field_bool, field_list, field_or_empty, field_str};
use crate::model::{Node, Span};

/// The routes of an `NginxConfig` node (see the module docs).
pub fn routes(config: &Node) -> Vec<Node> {
    let mut out = Vec::new();
    for server in field_list(config, "servers") {
        let locations: Vec<&Node> = field_list(server, "locations")
            .iter()
            .filter(|l| field_str(l, "kind") == "location")
            .collect();
        let has_root = locations.iter().any(|l| {
            l.get("parent").is_none()
                && field_str(l, "path") == "/"
                && matches!(field_str(l, "modifier"), "" | "^~")
        });
        if !has_root {
            let path = Node::str(server.span, "/");
            out.push(route(server, server, path, server.span));
        }
        for loc in locations {
            let path = loc
                .get("path")
                .cloned()
                .unwrap_or_else(|| Node::str(loc.span, ""));
            out.push(route(server, loc, path, loc.span));
        }
    }
    out
}

/// One route: server-wide facts from `server`, the rest from `level` (the
/// server itself or one of its locations).
fn route(server: &Node, level: &Node, path: Node, span: Span) -> Node {
    let names = field_list(server, "names");
    let site_span = match (names.first(), names.last()) {
        (Some(a), Some(b)) => a.span.cover(b.span),
        _ => server.span,
    };
    let site = names
        .iter()
        .filter_map(Node::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    let bool_of = |n: &Node, name: &str| {
        n.get(name)
            .cloned()
            .unwrap_or_else(|| Node::bool(span, field_bool(n, name)))
    };
    let access_log = {
        let off = level.get("access_log_off");
        Node::bool(
            off.map_or(span, |n| n.span),
            !field_bool(level, "access_log_off"),
        )
    };
    let mut decl = level
        .get("decl")
        .cloned()
        .unwrap_or_else(|| Node::object(span).build());
    if let Some(listen) = server.get("decl").and_then(|d| d.get("listen")) {
        decl.set("listen", listen.clone());
    }
    Node::object(span)
        .str("server", span, "nginx")
        .str("site", site_span, site)
        .field("path", path)
        .field("https", bool_of(server, "ssl"))
        .field("listens", field_or_empty(server, "listens", span))
        .field("plain_http", bool_of(server, "plain_http"))
        .field("redirects_to_https", bool_of(level, "redirects_to_https"))
        .field("redirect_only", bool_of(level, "redirect_only"))
        .opt(
            "return_code",
            level
                .get("return_code")
                .or_else(|| server.get("return_code"))
                .cloned(),
        )
        .field("proxy", bool_of(level, "proxy"))
        .opt("upstream", level.get("upstream").cloned())
        .field("headers", field_or_empty(level, "headers", span))
        .field(
            "headers_removed",
            field_or_empty(level, "headers_removed", span),
        )
        .field(
            "tls_protocols",
            field_or_empty(level, "tls_protocols", span),
        )
        .field("restricted", bool_of(level, "restricted"))
        .field("rate_limited", bool_of(level, "rate_limited"))
        .opt("body_limit", level.get("body_limit").cloned())
        .field(
            "server_tokens_hidden",
            bool_of(level, "server_tokens_hidden"),
        )
        .field("behind_proxy", bool_of(level, "behind_proxy"))
        .field("access_log", access_log)
        .field("decl", decl)
        .build()
}
