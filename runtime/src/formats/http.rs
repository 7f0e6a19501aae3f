//! The HTTP route model shared by the nginx and Caddyfile front ends: one
//! route per nginx server × location and per Caddy site × route, with the
//! effective response headers, TLS, redirects, proxying, restrictions and
//! limits. `http.*` policies are written once against it.

use crate::formats::registry::Target;
use crate::model::{Node, Span};
use crate::schema::Schema;

/// One `http` document: the routes of one nginx entry or one Caddyfile.
pub fn document(span: Span, server: &str, path: &str, routes: Vec<Node>) -> Node {
    Node::object(span)
        .str("server", span, server)
        .str("path", span, path)
        .field("routes", Node::list(span, routes))
        .build()
}

/// The environment variable a listen address takes its port from, when the
/// port is written as one: `${NAME}` or `$NAME` (nginx templates filled by
/// `envsubst`), `{$NAME}` or `{$NAME:default}` (Caddyfile). The port is what
/// follows the last `:` outside braces (after a `scheme://`, before a path);
/// with no such `:` the whole address is the port when `bare_is_port`
/// (nginx `listen ${PORT}`), else it is a host (Caddy `{$DOMAIN}`).
pub fn port_env(address: &str, bare_is_port: bool) -> Option<String> {
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let mut depth = 0usize;
    let mut colon = None;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ':' if depth == 0 => colon = Some(i),
            '/' if depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let port = match colon.filter(|&c| c < end) {
        Some(c) => rest.get(c + 1..end)?,
        None if bare_is_port => rest.get(..end)?,
        None => return None,
    };
    let name = if let Some(inner) = port.strip_prefix("${").and_then(|x| x.strip_suffix('}')) {
        inner
    } else if let Some(inner) = port.strip_prefix("{$").and_then(|x| x.strip_suffix('}')) {
        inner.split_once(':').map_or(inner, |(n, _)| n)
    } else {
        port.strip_prefix('$')?
    };
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    (first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')).then(|| name.to_string())
}

/// Registers the `http` target and the shared route types (idempotent).
pub fn schema(s: &mut Schema) {
    s.target(
        Target::HTTP,
        "HttpConfig",
        "the HTTP routes of one nginx entry file or one Caddyfile",
    );
    s.object("HttpConfig", "the routes of one web server configuration")
        .field("server", "string", "`nginx` or `caddy`")
        .field("path", "string", "the entry file")
        .field("routes", "list<Route>", "every route")
        .done();
    s.object(
        "Header",
        "a response header; span: the add_header / header directive",
    )
    .field("name", "string", "the header name as written")
    .field("value", "string", "the value as written (unquoted)")
    .field(
        "always",
        "bool",
        "sent on every status (nginx `always`; Caddy: always true)",
    )
    .field(
        "origin",
        "string",
        "where it was set: nginx `http`/`server`/`location`/`if`; Caddy: site/route",
    )
    .done();

    s.object(
        "Listen",
        "one listening address; span: the listen directive / site address",
    )
    .field(
        "address",
        "string",
        "host or IP as written (`*` when only a port is given, `[::]`, `unix:…`)",
    )
    .field(
        "port",
        "int",
        "the port (80 when absent, 0 when not a number, e.g. `${PORT}`)",
    )
    .field("tls", "bool", "TLS on this address (`ssl` or `quic`)")
    .opt(
        "port_env",
        "string",
        "the environment variable the port is taken from, when written as one \
         (nginx `listen ${PORT}`, Caddy `:{$PORT:8080}`: `PORT`)",
    )
    .done();

    s.object(
        "Decls",
        "the directive that decided each fact, for pointing findings at it",
    )
    .opt(
        "ssl_protocols",
        "string",
        "the effective ssl_protocols / tls protocols directive",
    )
    .opt(
        "hsts",
        "string",
        "the effective Strict-Transport-Security header (value)",
    )
    .opt(
        "server_tokens",
        "string",
        "the effective server_tokens directive",
    )
    .opt("body_limit", "string", "the effective body limit directive")
    .opt(
        "rate_limit",
        "string",
        "the deciding limit_req / rate_limit directive",
    )
    .opt(
        "listen",
        "string",
        "the first plain-HTTP listen (else the first listen)",
    )
    .done();

    s.object(
        "Route",
        "one HTTP route; span: the location line, or the server line for the server-level route",
    )
    .field("server", "string", "`nginx` or `caddy`")
    .field(
        "site",
        "string",
        "server_name list joined by a space / the site address(es)",
    )
    .field(
        "path",
        "string",
        "location path (`/` for the server itself) / path matcher (`` = all)",
    )
    .field("https", "bool", "this route is served over TLS")
    .field("listens", "list<Listen>", "the listening addresses")
    .field("plain_http", "bool", "reachable over plain HTTP")
    .field(
        "redirects_to_https",
        "bool",
        "a plain-HTTP request here gets a 301/302/307/308 to https://",
    )
    .field(
        "redirect_only",
        "bool",
        "the route only redirects, serves no content",
    )
    .opt(
        "return_code",
        "int",
        "nginx: the code of an unconditional `return` at this route or its server (`444` closes the connection); \
         Caddy: `444` for an unconditional `abort` in a route that does not proxy",
    )
    .field(
        "proxy",
        "bool",
        "the route proxies (proxy_pass/fastcgi_pass/…; reverse_proxy/php_fastcgi)",
    )
    .opt("upstream", "string", "the proxy target as written")
    .field(
        "headers",
        "list<Header>",
        "effective response headers after inheritance",
    )
    .field(
        "headers_removed",
        "list<string>",
        "headers explicitly removed",
    )
    .field(
        "tls_protocols",
        "list<string>",
        "effective TLS protocols as written; empty = server default",
    )
    .field(
        "restricted",
        "bool",
        "an address restriction applies (allow + deny all / internal; remote_ip matcher)",
    )
    .field(
        "rate_limited",
        "bool",
        "a rate limit applies (limit_req with a declared zone; rate_limit)",
    )
    .opt("body_limit", "string", "the request body limit as written")
    .field(
        "server_tokens_hidden",
        "bool",
        "the Server header version is hidden",
    )
    .opt(
        "behind_proxy",
        "bool",
        "nginx: an effective `set_real_ip_from`/`real_ip_header` (the server trusts a proxy in \
         front of it); absent for Caddy",
    )
    .field(
        "access_log",
        "bool",
        "requests are logged (nginx: false when `access_log off` is effective)",
    )
    .opt(
        "unpublished",
        "string",
        "how it was decided that only other containers (a proxy) reach this plain-HTTP route: \
         the compose services that run its configuration publish none of its plain-HTTP ports \
         but on loopback or a private address; absent when unknown or published",
    )
    .opt(
        "published_by",
        "string",
        "the compose service that runs this plain-HTTP route's configuration and publishes \
         its port on the host, with the `ports:` entry as written",
    )
    .opt(
        "server_tokens_from",
        "string",
        "nginx site file: the main configuration it inherits `server_tokens off` from, when \
         that decided `server_tokens_hidden`",
    )
    .field("decl", "Decls", "spans of the deciding directives")
    .done();
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests may unwrap")]
mod tests {
    use super::port_env;

    #[test]
    fn port_env_reads_the_variable_of_the_port() {
        for (address, bare, want) in [
            ("${PORT}", true, Some("PORT")),
            ("$PORT", true, Some("PORT")),
            ("0.0.0.0:${PORT}", true, Some("PORT")),
            ("[::]:${PORT}", true, Some("PORT")),
            ("${NGINX_PORT}", true, Some("NGINX_PORT")),
            (":{$PORT:8080}", false, Some("PORT")),
            (":{$PORT}", false, Some("PORT")),
            ("http://:{$PORT}", false, Some("PORT")),
            ("http://:{$PORT:80}/api", false, Some("PORT")),
            ("{$DOMAIN}:{$PORT}", false, Some("PORT")),
            // A host placeholder, a numeric port, none at all.
            ("{$DOMAIN:localhost}", false, None),
            (":8080", false, None),
            ("80", true, None),
            ("example.com", false, None),
            ("${HOST}:80", true, None),
            ("${PO RT}", true, None),
        ] {
            assert_eq!(port_env(address, bare).as_deref(), want, "{address}");
        }
    }
}
