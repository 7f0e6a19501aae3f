//! Which nginx files are checked on their own (entries), and which only
//! through the `include` of another file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::include::{expand, normalize, SourceTree};
use super::parse::{parse, Directive};
use crate::model::FileId;

/// Whether `path`'s name makes it an nginx candidate: `nginx.conf`, `*.conf`,
/// `*.conf.sample`, `*.conf.template` (`.tmpl`, `.tpl`, `.j2`), or any file
/// in a `sites-*` or `conf.d` directory (`sites-available/example`). Its
/// content decides ([`reads_as_nginx`], [`is_entry`]).
pub fn is_candidate_name(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else {
        return false;
    };
    if name == "nginx.conf"
        || name.ends_with(".conf")
        || [".sample", ".template", ".tmpl", ".tpl", ".j2"]
            .iter()
            .any(|t| name.strip_suffix(t).is_some_and(|n| n.ends_with(".conf")))
    {
        return true;
    }
    path.parent().and_then(Path::file_name).is_some_and(|d| {
        let d = d.to_string_lossy();
        d.starts_with("sites-") || d == "conf.d"
    })
}

/// Directive names of nginx's core and common modules: a file whose lines
/// start with one of them reads as nginx ([`reads_as_nginx`]).
const KNOWN_DIRECTIVES: &[&str] = &[
    "http",
    "server",
    "events",
    "stream",
    "mail",
    "location",
    "upstream",
    "map",
    "geo",
    "types",
    "if",
    "limit_except",
    "split_clients",
    "include",
    "user",
    "worker_processes",
    "worker_connections",
    "worker_rlimit_nofile",
    "pid",
    "error_log",
    "access_log",
    "log_format",
    "load_module",
    "daemon",
    "master_process",
    "env",
    "pcre_jit",
    "listen",
    "server_name",
    "root",
    "alias",
    "index",
    "try_files",
    "return",
    "rewrite",
    "set",
    "error_page",
    "internal",
    "expires",
    "charset",
    "default_type",
    "sendfile",
    "tcp_nopush",
    "tcp_nodelay",
    "keepalive_timeout",
    "keepalive_requests",
    "client_max_body_size",
    "client_body_buffer_size",
    "client_body_timeout",
    "client_header_timeout",
    "large_client_header_buffers",
    "send_timeout",
    "server_tokens",
    "add_header",
    "more_set_headers",
    "proxy_pass",
    "proxy_set_header",
    "proxy_http_version",
    "proxy_redirect",
    "proxy_buffering",
    "proxy_buffers",
    "proxy_buffer_size",
    "proxy_read_timeout",
    "proxy_connect_timeout",
    "proxy_send_timeout",
    "proxy_cache",
    "proxy_cache_path",
    "proxy_hide_header",
    "proxy_intercept_errors",
    "proxy_ssl_verify",
    "fastcgi_pass",
    "fastcgi_param",
    "fastcgi_index",
    "fastcgi_split_path_info",
    "fastcgi_buffers",
    "fastcgi_read_timeout",
    "uwsgi_pass",
    "uwsgi_param",
    "scgi_pass",
    "grpc_pass",
    "ssl_certificate",
    "ssl_certificate_key",
    "ssl_protocols",
    "ssl_ciphers",
    "ssl_prefer_server_ciphers",
    "ssl_session_cache",
    "ssl_session_timeout",
    "ssl_session_tickets",
    "ssl_dhparam",
    "ssl_stapling",
    "ssl_stapling_verify",
    "ssl_trusted_certificate",
    "ssl_client_certificate",
    "ssl_verify_client",
    "gzip",
    "gzip_types",
    "gzip_vary",
    "gzip_proxied",
    "gzip_comp_level",
    "gzip_min_length",
    "gzip_static",
    "brotli",
    "allow",
    "deny",
    "auth_basic",
    "auth_basic_user_file",
    "auth_request",
    "autoindex",
    "limit_req",
    "limit_req_zone",
    "limit_conn",
    "limit_conn_zone",
    "resolver",
    "real_ip_header",
    "set_real_ip_from",
    "open_file_cache",
    "resolver_timeout",
    "variables_hash_max_size",
    "types_hash_max_size",
    "server_names_hash_bucket_size",
    "underscores_in_headers",
    "ignore_invalid_headers",
    "absolute_redirect",
    "port_in_redirect",
    "etag",
    "if_modified_since",
    "sub_filter",
    "lua_package_path",
    "content_by_lua_block",
    "access_by_lua_block",
    "proxy_cookie_path",
    "http2",
    "quic_retry",
    "ssl_early_data",
    "aio",
    "directio",
    "output_buffers",
    "postpone_output",
    "reset_timedout_connection",
    "satisfy",
    "valid_referers",
    "client_body_temp_path",
    "proxy_temp_path",
    "fastcgi_temp_path",
    "log_not_found",
    "server_name_in_redirect",
    "merge_slashes",
    "msie_padding",
    "chunked_transfer_encoding",
    "proxy_next_upstream",
    "proxy_ignore_headers",
    "proxy_pass_header",
    "proxy_no_cache",
    "proxy_cache_bypass",
    "proxy_cache_valid",
    "proxy_cache_key",
    "proxy_request_buffering",
    "keepalive",
    "least_conn",
    "ip_hash",
    "hash",
    "zone",
    "health_check",
];

/// Lines looked at to tell whether a file reads as nginx.
const READS_AS_LINES: usize = 400;

/// Whether `src` reads as nginx (for a candidate such as a named `*.conf`):
/// a whole configuration ([`is_entry`]), or lines that start with known
/// directives and none shaped like another format's (`[section]` headers,
/// `key = value` or `key: value` settings of INI, php-fpm pools, dovecot,
/// HOCON, YAML). A broken nginx file still reads as nginx (and is then an
/// error); an empty one too.
pub fn reads_as_nginx(src: &str) -> bool {
    let mut known = 0usize;
    let mut seen = 0usize;
    for line in src.lines().take(READS_AS_LINES) {
        let line = line.split('#').next().unwrap_or("").trim();
        let line = line.trim_start_matches('}').trim();
        if line.is_empty() {
            continue;
        }
        seen += 1;
        // `[section]` (INI), `(snippet) {` and a lone `{placeholder}` (Caddy).
        if (line.starts_with('[') && line.ends_with(']'))
            || (line.starts_with('(') && line.ends_with('{'))
            || (line.starts_with('{') && line.ends_with('}') && !line.contains(' '))
        {
            return false;
        }
        let word_end = line
            .find(|c: char| c.is_whitespace() || c == ';' || c == '{')
            .unwrap_or(line.len());
        let word = line.get(..word_end).unwrap_or(line);
        let rest = line.get(word_end..).unwrap_or("").trim_start();
        // nginx statements end in `;` or open a block; settings of INI-like
        // formats (`key = value`, `key: value`) do neither.
        let statement = line.ends_with(';') || line.ends_with('{');
        let assigns = !statement
            && ((rest.starts_with('=') && !rest.starts_with("=~"))
                || rest.starts_with(':')
                || (word.ends_with(':') && !word.starts_with(['\'', '"']))
                || (word.contains('=') && !word.starts_with(['~', '\'', '"', '$'])));
        let is_known = KNOWN_DIRECTIVES.contains(&word.to_ascii_lowercase().as_str());
        if assigns && !is_known {
            return false;
        }
        // A known directive, or directive syntax (`name args;`, `name {`).
        let directive_shaped = statement
            && !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if is_known || directive_shaped {
            known += 1;
        }
    }
    seen == 0 || known > 0 || is_entry(src)
}

/// Whether `src` is a whole nginx configuration or site file: its top level
/// has an `http`, `server` or `events` block.
pub fn is_entry(src: &str) -> bool {
    top_blocks(src).0
}

/// Whether `src` is a main configuration (nginx's `-c` file): its top level
/// has an `http` or `events` block.
pub fn is_main(src: &str) -> bool {
    top_blocks(src).1
}

/// (has an `http`/`server`/`events` block, has an `http`/`events` block) at the top level.
fn top_blocks(src: &str) -> (bool, bool) {
    let parsed = parse(FileId(0), src);
    let has = |names: &[&str]| {
        parsed
            .directives
            .iter()
            .any(|d| d.block.is_some() && names.iter().any(|n| d.is(n)))
    };
    (has(&["http", "server", "events"]), has(&["http", "events"]))
}

/// The entry files among `candidates`, sorted. The rule cannot be abused by a
/// stray `include` elsewhere:
/// - a *main* configuration (top-level `http` or `events` block) is always an
///   entry, whoever includes it;
/// - a *site* file (top-level `server` block, no `http`/`events`) is an entry
///   unless a main configuration includes it in `http` context (directly in
///   an `http` block, possibly through included files), where nginx reads it
///   and where it is then checked with that context; an include from any
///   other place (`events`, `server`, `location`, another site file) demotes
///   nothing;
/// - anything else is a fragment, checked only through the files including it.
///
/// `read` gives a file's text.
pub fn entry_files(
    candidates: &[PathBuf],
    tree: &SourceTree,
    read: &mut (dyn FnMut(&Path) -> Option<String> + Send),
) -> Vec<PathBuf> {
    entries_and_orphans(candidates, tree, read).0
}

/// The entry files among `candidates` (see [`entry_files`]), and the
/// *orphans*: candidates that were read but are neither an entry nor
/// included by one, so nothing checks them (discovery reports them instead
/// of dropping them silently). Both sorted.
///
/// Each file is read once (`read`, one at a time); the candidates are told
/// apart and the main and site files expanded on the cores.
pub fn entries_and_orphans(
    candidates: &[PathBuf],
    tree: &SourceTree,
    read: &mut (dyn FnMut(&Path) -> Option<String> + Send),
) -> (Vec<PathBuf>, Vec<PathBuf>) {
    use rayon::prelude::*;
    let cands: BTreeSet<PathBuf> = candidates.iter().map(|p| normalize(p)).collect();
    let firsts: Vec<(PathBuf, Option<String>)> =
        cands.iter().map(|c| (c.clone(), read(c))).collect();
    let kinds: Vec<Option<(bool, bool)>> = crate::project::on_cores(|| {
        firsts
            .par_iter()
            .map(|(_, src)| src.as_deref().map(top_blocks))
            .collect()
    });
    let mut mains = Vec::new();
    let mut sites = Vec::new();
    let mut fragments = Vec::new();
    for ((c, src), kind) in firsts.iter().zip(kinds) {
        let (Some(src), Some(kind)) = (src, kind) else {
            continue;
        };
        match kind {
            (_, true) => mains.push((c, src.as_str())),
            (true, false) => sites.push((c, src.as_str())),
            _ => fragments.push(c.clone()),
        }
    }
    // The files includes reach: a candidate's text as read above, any other
    // file read once, through the reader (one caller at a time).
    let known: BTreeMap<&Path, Option<&str>> = firsts
        .iter()
        .map(|(p, t)| (p.as_path(), t.as_deref()))
        .collect();
    let others: BTreeMap<PathBuf, Option<String>> = BTreeMap::new();
    let reader = std::sync::Mutex::new((others, read));
    let text_of = |p: &Path| -> Option<String> {
        if let Some(text) = known.get(p) {
            return text.map(str::to_string);
        }
        let mut guard = reader.lock().ok()?;
        let (texts, read) = &mut *guard;
        texts
            .entry(p.to_path_buf())
            .or_insert_with(|| read(p))
            .clone()
    };
    // Expands one file: the files it reads through its includes, and (for a
    // main configuration) the files it includes in `http` context.
    let expand_one = |c: &Path, src: &str, http: bool| {
        let mut ids: u32 = 0;
        let mut read_one = |p: &Path| {
            let text = text_of(p)?;
            ids = ids.saturating_add(1);
            Some((FileId(ids), text))
        };
        let exp = expand(FileId(0), c, src, tree, &mut read_one);
        let mut in_http = BTreeSet::new();
        if http {
            let mut seen = BTreeSet::new();
            http_includes(&exp.directives, false, &mut in_http, &mut seen);
        }
        let reached: Vec<PathBuf> = exp.files.iter().map(|(_, p)| normalize(p)).collect();
        (reached, in_http)
    };
    let mut expanded: Vec<(&Path, &str, bool)> = mains
        .iter()
        .map(|(c, src)| (c.as_path(), *src, true))
        .collect();
    if !fragments.is_empty() {
        expanded.extend(sites.iter().map(|(c, src)| (c.as_path(), *src, false)));
    }
    let found: Vec<(Vec<PathBuf>, BTreeSet<String>)> = crate::project::on_cores(|| {
        expanded
            .par_iter()
            .map(|&(c, src, http)| expand_one(c, src, http))
            .collect()
    });
    // Every file some main or site file reads through its includes, and the
    // site files a main configuration reads in `http` context (display paths).
    let mut reached: BTreeSet<PathBuf> = BTreeSet::new();
    let mut in_http: BTreeSet<String> = BTreeSet::new();
    for (r, h) in found {
        reached.extend(r);
        in_http.extend(h);
    }
    let orphans: Vec<PathBuf> = fragments
        .into_iter()
        .filter(|f| !reached.contains(f))
        .collect();
    let mut entries: Vec<PathBuf> = mains.into_iter().map(|(c, _)| c.clone()).collect();
    entries.extend(
        sites
            .into_iter()
            .map(|(c, _)| c.clone())
            .filter(|c| !in_http.contains(&tree.display(c))),
    );
    entries.sort();
    (entries, orphans)
}

/// Collects the files included in `http` context: in the body of an `http`
/// block (`http_ctx`), or included from there. `seen` keeps each (file,
/// context) walked once, so shared includes cost nothing more.
fn http_includes(
    ds: &[Directive],
    http_ctx: bool,
    out: &mut BTreeSet<String>,
    seen: &mut BTreeSet<(String, bool)>,
) {
    for d in ds {
        if d.is("include") && d.block.is_none() {
            for (file, body) in d.included_files.iter().zip(&d.included) {
                if http_ctx {
                    out.insert(file.clone());
                }
                if seen.insert((file.clone(), http_ctx)) {
                    http_includes(body, http_ctx, out, seen);
                }
            }
        } else if !http_ctx && d.is("http") {
            if let Some(b) = &d.block {
                http_includes(b, true, out, seen);
            }
        }
    }
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

    #[test]
    fn names() {
        for n in [
            "nginx.conf",
            "a/b.conf",
            "x.conf.sample",
            "sites-enabled/example",
            "s.conf.template",
        ] {
            assert!(is_candidate_name(Path::new(n)), "{n}");
        }
        for n in ["Dockerfile", "a.yaml", "conf", "mime.types"] {
            assert!(!is_candidate_name(Path::new(n)), "{n}");
        }
    }

    #[test]
    fn entry_content() {
        assert!(is_entry("events {} http { }"));
        assert!(is_entry("# c\nserver { listen 80; }"));
        assert!(!is_entry("location / { }\nadd_header X y;"));
        assert!(!is_entry("server 127.0.0.1;"));
    }

    #[test]
    fn included_files_are_not_entries() {
        let files: BTreeMap<PathBuf, &str> = [
            ("/r/nginx.conf", "http { include conf.d/*.conf; }"),
            ("/r/conf.d/a.conf", "server { listen 80; }"),
            (
                "/r/sites/b.conf",
                "server { listen 81; include ../snip.conf; }",
            ),
            ("/r/snip.conf", "add_header X y;"),
            ("/r/loop1.conf", "server { include loop2.conf; }"),
            ("/r/loop2.conf", "server { include loop1.conf; }"),
        ]
        .into_iter()
        .map(|(p, t)| (PathBuf::from(p), t))
        .collect();
        let tree = SourceTree::new(Path::new("/r"), files.keys().cloned());
        let cands: Vec<PathBuf> = files.keys().cloned().collect();
        let got = entry_files(&cands, &tree, &mut |p| files.get(p).map(|t| t.to_string()));
        let got: Vec<_> = got
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        // An include inside a `server` block demotes nothing: both loops stay.
        assert_eq!(
            got,
            [
                "/r/loop1.conf",
                "/r/loop2.conf",
                "/r/nginx.conf",
                "/r/sites/b.conf"
            ]
        );
    }

    fn entries_of(files: &[(&str, &str)]) -> Vec<String> {
        let files: BTreeMap<PathBuf, &str> = files
            .iter()
            .map(|(p, t)| (PathBuf::from(format!("/r/{p}")), *t))
            .collect();
        let tree = SourceTree::new(Path::new("/r"), files.keys().cloned());
        let cands: Vec<PathBuf> = files.keys().cloned().collect();
        entry_files(&cands, &tree, &mut |p| files.get(p).map(|t| t.to_string()))
            .iter()
            .map(|p| tree.display(p))
            .collect()
    }

    #[test]
    fn a_stray_include_demotes_no_entry() {
        // The attack: including the real nginx.conf from an `events` block.
        let got = entries_of(&[
            ("evil.conf", "events { include nginx.conf; }"),
            ("nginx.conf", "events {} http { server { listen 80; } }"),
        ]);
        assert_eq!(got, ["evil.conf", "nginx.conf"]);
        // A main configuration stays an entry even when included in `http`.
        let got = entries_of(&[
            ("evil.conf", "http { include nginx.conf; }"),
            ("nginx.conf", "events {} http { server { listen 80; } }"),
        ]);
        assert_eq!(got, ["evil.conf", "nginx.conf"]);
        // A site file included from `events`, a `location` or another site
        // file stays an entry.
        let got = entries_of(&[
            ("evil.conf", "events { include site.conf; }"),
            ("other.conf", "server { location / { include site.conf; } }"),
            ("more.conf", "server { listen 81; } include site.conf;"),
            ("site.conf", "server { listen 80; }"),
        ]);
        assert_eq!(got, ["evil.conf", "more.conf", "other.conf", "site.conf"]);
        // Through an included fragment in `http`, it is demoted (checked there).
        let got = entries_of(&[
            ("nginx.conf", "events {} http { include frag.conf; }"),
            ("frag.conf", "include sites/*.conf;"),
            ("sites/site.conf", "server { listen 80; }"),
        ]);
        assert_eq!(got, ["nginx.conf"]);
    }
}
