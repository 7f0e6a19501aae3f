//! Directive-specific checks Caddy makes while adapting, run on the parsed
//! directive tree (imports already expanded):
//!
//! - global `acme_dns` without a provider needs a global `dns` option
//!   (`caddy-acme-dns`);
//! - global `servers [<address>] { … }` takes server options directly; any
//!   other name (for example a named sub-block) is an error
//!   (`caddy-servers-option`);
//! - a site's `tls` block setting DNS challenge options (`resolvers`,
//!   `propagation_delay`, `propagation_timeout`, `dns_ttl`,
//!   `dns_challenge_override_domain`) needs a DNS provider: the block's `dns`
//!   subdirective, or the global `dns` or `acme_dns` option
//!   (`caddy-tls-dns-provider`); a `dns` subdirective without a provider
//!   name needs the global `dns` option;
//! - `reverse_proxy` accepts only its own subdirectives (and response
//!   matcher definitions) (`caddy-unknown-subdirective`);
//! - `handle_response` in `reverse_proxy` or `intercept` takes at most one
//!   response matcher name (`caddy-handle-response-args`);
//! - `forward_auth` declares `uri` at most once (`caddy-duplicate-subdirective`).
//!
//! Handler directives are checked at site level, in named routes, and inside
//! `handle`, `handle_path`, `route`, `handle_errors` and `handle_response`.

use crate::model::InputProblem;

use super::parser::{self, Directive, ServerBlock};

/// Subdirectives of `reverse_proxy` (Caddy 2.11 documentation, plus the
/// deprecated names Caddy still parses).
const REVERSE_PROXY_SUBDIRECTIVES: &[&str] = &[
    "to",
    "dynamic",
    "lb_policy",
    "lb_retries",
    "lb_try_duration",
    "lb_try_interval",
    "lb_retry_match",
    "health_uri",
    "health_path",
    "health_upstream",
    "health_port",
    "health_interval",
    "health_passes",
    "health_fails",
    "health_timeout",
    "health_method",
    "health_status",
    "health_request_body",
    "health_body",
    "health_follow_redirects",
    "health_headers",
    "fail_duration",
    "max_fails",
    "max_conns",
    "unhealthy_status",
    "unhealthy_latency",
    "unhealthy_request_count",
    "flush_interval",
    "request_buffers",
    "response_buffers",
    "buffer_requests",
    "buffer_responses",
    "max_buffer_size",
    "stream_buffer_size",
    "stream_timeout",
    "stream_close_delay",
    "stream_logs",
    "verbose_logs",
    "trusted_proxies",
    "header_up",
    "header_down",
    "method",
    "rewrite",
    "transport",
    "replace_status",
    "handle_response",
];

/// Options of the global `servers` option.
const SERVER_OPTIONS: &[&str] = &[
    "name",
    "listener_wrappers",
    "packet_conn_wrappers",
    "timeouts",
    "keepalive",
    "keepalive_interval",
    "keepalive_idle",
    "keepalive_count",
    "trusted_proxies",
    "trusted_proxies_strict",
    "trusted_proxies_unix",
    "client_ip_headers",
    "trace",
    "max_header_size",
    "enable_full_duplex",
    "log_credentials",
    "protocols",
    "strict_sni_host",
    "metrics",
    "0rtt",
    "allow_0rtt",
    "experimental_http3",
];

/// `tls` subdirectives that configure the DNS challenge.
const TLS_DNS_OPTIONS: &[&str] = &[
    "resolvers",
    "propagation_delay",
    "propagation_timeout",
    "dns_ttl",
    "dns_challenge_override_domain",
];

/// Blocks whose contents are handler directives.
const ROUTE_CONTAINERS: &[&str] = &["handle", "handle_path", "route", "handle_errors"];

/// Names that are not literal subdirectives: matcher definitions,
/// placeholders (an unexpanded `{$ENV}` may stand for anything).
fn is_literal(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('@') && !name.starts_with('{')
}

fn quoted_args(d: &Directive) -> String {
    d.args
        .iter()
        .map(|a| a.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Global facts the site checks need.
struct GlobalDns {
    /// A global `dns` option is set.
    dns: bool,
    /// A global `acme_dns` option is set.
    acme_dns: bool,
}

/// Runs every check; `global` is the global options block, `sites` the site
/// blocks (not the global one), `named_routes` the `&(name)` blocks.
pub(crate) fn check(
    global: Option<&ServerBlock>,
    sites: &[&ServerBlock],
    named_routes: &[&ServerBlock],
    problems: &mut Vec<InputProblem>,
) {
    let gdirs: &[Directive] = global.map_or(&[], |b| b.directives.as_slice());
    let g = GlobalDns {
        dns: gdirs.iter().any(|d| d.name.text == "dns"),
        acme_dns: gdirs.iter().any(|d| d.name.text == "acme_dns"),
    };
    check_global(gdirs, &g, problems);
    for b in sites {
        for d in &b.directives {
            if d.name.text == "tls" {
                check_tls(d, &g, problems);
            }
        }
        check_handlers(&b.directives, problems, 0);
    }
    for b in named_routes {
        check_handlers(&b.directives, problems, 0);
    }
}

fn check_global(dirs: &[Directive], g: &GlobalDns, problems: &mut Vec<InputProblem>) {
    for d in dirs {
        match d.name.text.as_str() {
            "acme_dns" if d.args.is_empty() && !g.dns => problems.push(InputProblem::error(
                "caddy-acme-dns",
                d.span,
                "`acme_dns` has no dns provider, and no provider is set with the global `dns` option",
            )),
            "servers" => {
                for o in d.block.iter().flatten() {
                    let name = o.name.text.as_str();
                    if is_literal(name) && !SERVER_OPTIONS.contains(&name) {
                        problems.push(InputProblem::error(
                            "caddy-servers-option",
                            o.name.span,
                            format!("unrecognized `servers` option `{name}`; server options go directly in the `servers` block"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
}

fn check_tls(d: &Directive, g: &GlobalDns, problems: &mut Vec<InputProblem>) {
    let Some(block) = &d.block else { return };
    let mut provider = g.dns || g.acme_dns;
    for s in block {
        if s.name.text != "dns" {
            continue;
        }
        if s.args.is_empty() && !g.dns {
            problems.push(InputProblem::error(
                "caddy-tls-dns-provider",
                s.span,
                "`dns` without a provider name needs the global `dns` option",
            ));
        }
        provider = true;
    }
    if provider {
        return;
    }
    let set: Vec<&Directive> = block
        .iter()
        .filter(|s| TLS_DNS_OPTIONS.contains(&s.name.text.as_str()))
        .collect();
    let Some(first) = set.first() else { return };
    let names = set
        .iter()
        .map(|s| format!("`{}`", s.name.text))
        .collect::<Vec<_>>()
        .join(", ");
    problems.push(InputProblem::error(
        "caddy-tls-dns-provider",
        first.span,
        format!("setting dns challenge options ({names}) requires a dns provider (set with the `dns` subdirective or the `acme_dns` global option)"),
    ));
}

fn check_handle_response(owner: &str, block: &[Directive], problems: &mut Vec<InputProblem>) {
    for s in block {
        if s.name.text == "handle_response" && s.args.len() > 1 {
            problems.push(InputProblem::error(
                "caddy-handle-response-args",
                s.span,
                format!(
                    "too many arguments for `handle_response` in `{owner}`: only a single response matcher name is allowed, got `{}`",
                    quoted_args(s)
                ),
            ));
        }
    }
}

fn check_handlers(dirs: &[Directive], problems: &mut Vec<InputProblem>, depth: usize) {
    if depth > parser::MAX_DEPTH {
        return;
    }
    for d in dirs {
        let name = d.name.text.as_str();
        let Some(block) = &d.block else { continue };
        match name {
            "reverse_proxy" => {
                for s in block {
                    let sub = s.name.text.as_str();
                    if is_literal(sub) && !REVERSE_PROXY_SUBDIRECTIVES.contains(&sub) {
                        problems.push(InputProblem::error(
                            "caddy-unknown-subdirective",
                            s.name.span,
                            format!("unrecognized `reverse_proxy` subdirective `{sub}`"),
                        ));
                    }
                }
                check_handle_response(name, block, problems);
                check_response_handlers(block, problems, depth);
            }
            "intercept" => {
                check_handle_response(name, block, problems);
                check_response_handlers(block, problems, depth);
            }
            "forward_auth" => {
                let mut seen = false;
                for s in block.iter().filter(|s| s.name.text == "uri") {
                    if seen {
                        problems.push(InputProblem::error(
                            "caddy-duplicate-subdirective",
                            s.span,
                            format!(
                                "`uri` may be declared only once in `forward_auth`; declared again as `{}`",
                                quoted_args(s)
                            ),
                        ));
                    }
                    seen = true;
                }
            }
            n if ROUTE_CONTAINERS.contains(&n) => check_handlers(block, problems, depth + 1),
            _ => {}
        }
    }
}

/// Checks the handler directives inside `handle_response` blocks.
fn check_response_handlers(block: &[Directive], problems: &mut Vec<InputProblem>, depth: usize) {
    for s in block {
        if s.name.text == "handle_response" {
            if let Some(inner) = &s.block {
                check_handlers(inner, problems, depth + 1);
            }
        }
    }
}
