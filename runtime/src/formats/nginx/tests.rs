//! Model, route, peer-parity and corpus tests of the nginx front end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::model::{Level, Value};
use crate::schema::Type;
use crate::test_support::corpus;

/// Validates the model and routes against the schema.
fn assert_schema(l: &Loaded) {
    let s = Schema::standard();
    let mut errors = Vec::new();
    s.validate(
        &l.model,
        &Type::Object("NginxConfig".into()),
        "nginx",
        &mut errors,
    );
    for (i, r) in l.routes.iter().enumerate() {
        s.validate(
            r,
            &Type::Object("Route".into()),
            &format!("route[{i}]"),
            &mut errors,
        );
    }
    assert!(errors.is_empty(), "{errors:#?}");
}

fn spans_valid(node: &Node, texts: &BTreeMap<FileId, String>) {
    let Some(t) = texts.get(&node.span.file) else {
        panic!("span in unknown file {:?}", node.span);
    };
    assert!(
        node.span.start() <= node.span.end() && node.span.end() <= t.len(),
        "{:?}",
        node.span
    );
    assert!(t.is_char_boundary(node.span.start()) && t.is_char_boundary(node.span.end()));
    match &node.value {
        Value::List(items) => items.iter().for_each(|n| spans_valid(n, texts)),
        Value::Object(fields) => fields.iter().for_each(|(_, n)| spans_valid(n, texts)),
        _ => {}
    }
}

fn text(src: &str, span: Span) -> &str {
    &src[span.start()..span.end()]
}

fn servers(l: &Loaded) -> &[Node] {
    model::field_list(&l.model, "servers")
}

fn header_names(n: &Node, field: &str) -> Vec<String> {
    model::field_list(n, field)
        .iter()
        .map(|h| model::field_str(h, "name").to_string())
        .collect()
}

fn location<'a>(l: &'a Loaded, path: &str) -> &'a Node {
    servers(l)
        .iter()
        .flat_map(|s| model::field_list(s, "locations"))
        .find(|n| model::field_str(n, "path") == path && model::field_str(n, "kind") == "location")
        .unwrap()
}

fn route<'a>(l: &'a Loaded, path: &str) -> &'a Node {
    l.routes
        .iter()
        .find(|r| model::field_str(r, "path") == path)
        .unwrap()
}

#[test]
fn schema_resolves() {
    let s = Schema::standard();
    for t in [
        "NginxConfig",
        "Server",
        "Location",
        "Directive",
        "Arg",
        "Header",
        "Listen",
        "Decls",
        "Route",
    ] {
        assert!(s.get(t).is_some(), "{t}");
    }
}

/// End to end: include + inheritance, through the in-memory reader.
#[test]
fn hsts_lost_in_static_location() {
    let files: BTreeMap<PathBuf, String> = [
        (
            "/repo/nginx/nginx.conf",
            "events {}\nhttp {\n  server_tokens off;\n  include /etc/nginx/conf.d/*.conf;\n  include /etc/nginx/mime.types;\n}\n",
        ),
        (
            "/repo/nginx/conf.d/site.conf",
            "server {\n  listen 443 ssl;\n  server_name example.com www.example.com;\n  ssl_protocols TLSv1.2 TLSv1.3;\n  \
             add_header Strict-Transport-Security \"max-age=31536000\" always;\n  \
             location / { proxy_pass http://app:8080; }\n  \
             location /static/ { add_header Cache-Control \"public\"; }\n}\n\
             server {\n  listen 80;\n  server_name example.com;\n  return 301 https://$host$request_uri;\n}\n",
        ),
    ]
    .into_iter()
    .map(|(p, t)| (PathBuf::from(p), t.to_string()))
    .collect();
    let tree = SourceTree::new(Path::new("/repo"), files.keys().cloned());
    let ids: Vec<PathBuf> = files.keys().cloned().collect();
    let entry = PathBuf::from("/repo/nginx/nginx.conf");
    let mut read = |p: &Path| {
        let i = ids.iter().position(|k| k == p)?;
        Some((FileId(i as u32 + 10), files[p].clone()))
    };
    let l = load(FileId(0), &entry, &files[&entry], &tree, &mut read);
    assert_schema(&l);
    // mime.types is missing: a warning naming it, and nothing else.
    assert_eq!(l.problems.len(), 1, "{:?}", l.problems);
    assert_eq!(l.problems[0].level, Level::Warning);
    assert!(l.problems[0].message.contains("/etc/nginx/mime.types"));
    assert_eq!(
        model::field_list(&l.model, "unresolved_includes")[0].as_str(),
        Some("/etc/nginx/mime.types")
    );
    let site_src = &files[&PathBuf::from("/repo/nginx/conf.d/site.conf")];

    let stat = location(&l, "/static/");
    assert_eq!(header_names(stat, "headers"), ["Cache-Control"]);
    assert_eq!(
        header_names(stat, "lost_headers"),
        ["Strict-Transport-Security"]
    );
    let lost = &model::field_list(stat, "lost_headers")[0];
    assert_eq!(
        text(site_src, lost.span),
        "add_header Cache-Control \"public\";"
    );
    assert_eq!(
        text(site_src, lost.get("name").unwrap().span),
        "Strict-Transport-Security"
    );
    let root = location(&l, "/");
    assert_eq!(header_names(root, "headers"), ["Strict-Transport-Security"]);
    assert!(model::field_list(root, "lost_headers").is_empty());
    assert!(model::field_list(&l.model, "servers")[0]
        .get("headers")
        .is_some());

    // Routes: `/` and `/static/` for the TLS server, `/` for the redirect server.
    assert_eq!(l.routes.len(), 3);
    let r = route(&l, "/static/");
    assert!(r.get("https").unwrap().as_bool().unwrap());
    assert!(!model::field_bool(r, "plain_http"));
    assert!(model::field_bool(r, "server_tokens_hidden"));
    assert_eq!(model::field_str(r, "site"), "example.com www.example.com");
    assert_eq!(text(site_src, r.span), "location /static/");
    let protos: Vec<_> = model::field_list(r, "tls_protocols")
        .iter()
        .filter_map(Node::as_str)
        .collect();
    assert_eq!(protos, ["TLSv1.2", "TLSv1.3"]);
    assert!(r.get("decl").unwrap().get("hsts").is_none());
    let r = &l.routes[0];
    assert!(model::field_bool(r, "proxy"));
    assert_eq!(model::field_str(r, "upstream"), "http://app:8080");
    let hsts = r.get("decl").unwrap().get("hsts").unwrap();
    assert_eq!(hsts.as_str(), Some("max-age=31536000"));
    let redirect = l.routes.last().unwrap();
    assert!(model::field_bool(redirect, "plain_http"));
    assert!(model::field_bool(redirect, "redirects_to_https"));
    assert!(model::field_bool(redirect, "redirect_only"));
    let listen = redirect.get("decl").unwrap().get("listen").unwrap();
    assert_eq!(text(site_src, listen.span), "listen 80;");
}

fn gixy_positive(l: &Loaded) -> usize {
    servers(l)
        .iter()
        .flat_map(|s| std::iter::once(s).chain(model::field_list(s, "locations")))
        .filter(|n| !model::field_list(n, "lost_headers").is_empty())
        .count()
}

/// gixy `add_header_redefinition` parity: gixy reports any parent header a
/// nested `add_header` drops (MEDIUM for security headers, LOW otherwise), so
/// every non-`_fp` fixture must yield exactly one level with lost headers and
/// every `_fp` fixture none.
#[test]
fn gixy_add_header_redefinition_parity() {
    let Some(c) = corpus("nginx::gixy_add_header_redefinition_parity") else {
        return;
    };
    let dir = c.join("peers/gixy/add_header_redefinition");
    let mut checked = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".conf") {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        let l = load_str(FileId(0), &src);
        assert_schema(&l);
        assert!(l.problems.is_empty(), "{name}: {:?}", l.problems);
        let n = gixy_positive(&l);
        if name.ends_with("_fp.conf") {
            assert_eq!(n, 0, "{name} must not report");
        } else {
            assert_eq!(n, 1, "{name} must report once");
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn nested_block_fixture_names_the_dropped_header() {
    let src = "server {\n  add_header X-Frame-Options \"DENY\" always;\n  location / {\n    location /some {\n      add_header X-Frame-Options \"DENY\" always;\n    }\n    location /another {\n      add_header X-Foo foo;\n    }\n  }\n}";
    let l = load_str(FileId(0), src);
    let another = location(&l, "/another");
    assert_eq!(header_names(another, "lost_headers"), ["X-Frame-Options"]);
    assert_eq!(model::field_str(another, "parent"), "/");
    assert_eq!(
        model::field_str(&model::field_list(another, "lost_headers")[0], "origin"),
        "server"
    );
    assert!(model::field_list(location(&l, "/some"), "lost_headers").is_empty());
}

#[test]
fn add_header_inherit_merge_keeps_parent_headers() {
    let src = "server { add_header A a; location / { add_header_inherit merge; add_header B b; } }";
    let l = load_str(FileId(0), src);
    let loc = location(&l, "/");
    assert_eq!(header_names(loc, "headers"), ["B", "A"]);
    assert!(model::field_list(loc, "lost_headers").is_empty());
}

#[test]
fn array_directives_do_not_merge() {
    let src = "http { limit_req_zone $binary_remote_addr zone=api:10m rate=1r/s;\n\
        server { listen 80; allow 10.0.0.0/8; deny all; limit_req zone=api; access_log off;\n\
          location /admin { } \n\
          location /open { allow all; limit_req zone=nope; }\n\
          location /in { internal; access_log /var/log/x; }\n\
          location /big { client_max_body_size 0; }\n } }";
    let l = load_str(FileId(0), src);
    assert_schema(&l);
    let admin = location(&l, "/admin");
    assert!(model::field_bool(admin, "restricted"));
    assert!(model::field_bool(admin, "rate_limited"));
    assert!(model::field_bool(admin, "access_log_off"));
    let open = location(&l, "/open");
    assert!(!model::field_bool(open, "restricted"));
    assert!(!model::field_bool(open, "rate_limited"));
    let inn = location(&l, "/in");
    assert!(model::field_bool(inn, "restricted"));
    assert!(!model::field_bool(inn, "access_log_off"));
    assert_eq!(model::field_str(location(&l, "/big"), "body_limit"), "0");
    let zones: Vec<_> = model::field_list(&l.model, "limit_req_zones")
        .iter()
        .filter_map(Node::as_str)
        .collect();
    assert_eq!(zones, ["api"]);
    // No `location /`: a server-level route exists.
    assert!(l.routes.iter().any(|r| model::field_str(r, "path") == "/"));
    assert!(!model::field_bool(route(&l, "/admin"), "access_log"));
}

#[test]
fn redirect_forms() {
    let cases = [
        ("server { listen 80; return 301 https://$host$request_uri; }", true, true),
        ("server { listen 80; location / { return 308 https://x$request_uri; } }", true, true),
        ("server { listen 80; if ($scheme = http) { return 301 https://$host$request_uri; } location / { proxy_pass http://a; } }", true, false),
        ("server { listen 80; if ($host = a.com) { return 301 https://$host$request_uri; } return 404; }", true, true),
        ("server { listen 80; rewrite ^ https://$host$request_uri permanent; }", true, false),
        ("server { listen 80; return https://a.com; }", true, true),
        ("server { listen 80; return 301 http://a.com; }", false, true),
        ("server { listen 80; location / { root /srv; } }", false, false),
    ];
    for (src, https, only) in cases {
        let l = load_str(FileId(0), src);
        assert_schema(&l);
        let r = l
            .routes
            .iter()
            .find(|r| model::field_str(r, "path") == "/")
            .unwrap();
        assert_eq!(model::field_bool(r, "redirects_to_https"), https, "{src}");
        assert_eq!(model::field_bool(r, "redirect_only"), only, "{src}");
        assert!(model::field_bool(r, "plain_http"));
    }
}

#[test]
fn listen_forms() {
    let src = "server { listen 443 ssl http2; listen [::]:443 quic; listen 127.0.0.1:8080; listen 8443; listen unix:/tmp/s; listen localhost; listen ${PORT}; }";
    let l = load_str(FileId(0), src);
    let ls = model::field_list(&servers(&l)[0], "listens");
    let got: Vec<(String, i64, bool)> = ls
        .iter()
        .map(|n| {
            (
                model::field_str(n, "address").to_string(),
                n.get("port").unwrap().as_int().unwrap(),
                model::field_bool(n, "tls"),
            )
        })
        .collect();
    let want = [
        ("*", 443, true),
        ("[::]", 443, true),
        ("127.0.0.1", 8080, false),
        ("*", 8443, false),
        ("unix:/tmp/s", 0, false),
        ("localhost", 80, false),
        ("${PORT}", 0, false),
    ];
    let want: Vec<(String, i64, bool)> = want
        .iter()
        .map(|(a, p, t)| (a.to_string(), *p, *t))
        .collect();
    assert_eq!(got, want);
    assert!(model::field_bool(&servers(&l)[0], "ssl"));
    assert!(model::field_bool(&servers(&l)[0], "plain_http"));
    let l = load_str(FileId(0), "http { ssl on; server { listen 443; } }");
    assert!(model::field_bool(&servers(&l)[0], "ssl"));
    assert!(!model::field_bool(&servers(&l)[0], "plain_http"));
}

#[test]
fn location_modifiers_and_if_blocks() {
    let src = "server { location = /a { } location ~* \\.php$ { if ($x) { add_header Y y; } } location ^~ /b { } location =/c { } location @named { } }";
    let l = load_str(FileId(0), src);
    assert_schema(&l);
    let locs = model::field_list(&servers(&l)[0], "locations");
    let got: Vec<(&str, &str, &str)> = locs
        .iter()
        .map(|n| {
            (
                model::field_str(n, "kind"),
                model::field_str(n, "modifier"),
                model::field_str(n, "path"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("location", "=", "/a"),
            ("location", "~*", "\\.php$"),
            ("if", "", "\\.php$"),
            ("location", "^~", "/b"),
            ("location", "=", "/c"),
            ("location", "", "@named"),
        ]
    );
    assert_eq!(model::field_str(&locs[2], "condition"), "$x");
    // `if` blocks are not routes.
    assert_eq!(l.routes.len(), 6);
}

#[test]
fn site_snippet_top_level_is_http() {
    let src = "add_header X-Frame-Options DENY;\nserver { listen 80; location / { } }\nserver { listen 81; add_header A b; }";
    let l = load_str(FileId(0), src);
    assert_eq!(servers(&l).len(), 2);
    assert_eq!(
        header_names(location(&l, "/"), "headers"),
        ["X-Frame-Options"]
    );
    assert_eq!(
        header_names(&servers(&l)[1], "lost_headers"),
        ["X-Frame-Options"]
    );
}

#[test]
fn include_cycle_reported_through_load() {
    let files: BTreeMap<PathBuf, String> = [
        ("/r/nginx.conf", "http { include a.conf; }"),
        ("/r/a.conf", "include nginx.conf;"),
    ]
    .into_iter()
    .map(|(p, t)| (PathBuf::from(p), t.to_string()))
    .collect();
    let tree = SourceTree::new(Path::new("/r"), files.keys().cloned());
    let entry = PathBuf::from("/r/nginx.conf");
    let l = load(FileId(0), &entry, &files[&entry], &tree, &mut |p| {
        files.get(p).map(|t| (FileId(1), t.clone()))
    });
    assert!(l
        .problems
        .iter()
        .any(|p| p.code == "nginx-include-cycle" && p.level == Level::Error));
}

proptest::proptest! {
    #[test]
    fn load_never_panics(src in "\\PC{0,200}|(server|location|if|add_header|listen|return|include|[ {};#\"'$/a-z0-9\n]){0,80}") {
        let l = load_str(FileId(0), &src);
        let texts: BTreeMap<FileId, String> = [(FileId(0), src.clone())].into_iter().collect();
        spans_valid(&l.model, &texts);
        for r in &l.routes { spans_valid(r, &texts); }
        assert_schema(&l);
    }
}

/// Every file of `real/nginx` parses (or yields located errors) and its model
/// validates against the schema.
#[test]
fn corpus_real_nginx() {
    let Some(c) = corpus("nginx::corpus_real_nginx") else {
        return;
    };
    let dir = c.join("real/nginx");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let (mut clean, mut with_errors, mut servers_n, mut routes_n, mut entries) = (0, 0, 0, 0, 0);
    for p in &paths {
        let bytes = std::fs::read(p).unwrap();
        let src = String::from_utf8_lossy(&bytes).into_owned();
        let l = load_str(FileId(0), &src);
        assert_schema(&l);
        let texts: BTreeMap<FileId, String> = [(FileId(0), src.clone())].into_iter().collect();
        spans_valid(&l.model, &texts);
        let errors: Vec<_> = l
            .problems
            .iter()
            .filter(|p| p.level == Level::Error)
            .collect();
        if errors.is_empty() {
            clean += 1;
        } else {
            with_errors += 1;
            for e in &errors {
                let line = src[..e.span.start()].matches('\n').count() + 1;
                eprintln!(
                    "{}:{line}: {} {}",
                    p.file_name().unwrap().to_string_lossy(),
                    e.code,
                    e.message
                );
            }
        }
        if is_entry(&src) {
            entries += 1;
        }
        servers_n += servers(&l).len();
        routes_n += l.routes.len();
    }
    eprintln!(
        "real/nginx: {} files, {clean} clean, {with_errors} with errors, {entries} entries, {servers_n} servers, {routes_n} routes",
        paths.len()
    );
    assert_eq!(paths.len(), 147);
    assert!(with_errors <= 3, "unexpected syntax errors in real configs");
}

fn load_repo(repo: &Path) -> Vec<(PathBuf, Loaded)> {
    let tree = SourceTree::scan(repo).unwrap();
    let cands: Vec<PathBuf> = tree
        .files()
        .filter(|p| is_candidate_name(p))
        .cloned()
        .collect();
    let entries = entry_files(&cands, &tree, &mut |p| std::fs::read_to_string(p).ok());
    entries
        .into_iter()
        .map(|e| {
            let (l, sources) = load_from_disk(&e, repo, 0).unwrap();
            let texts: BTreeMap<FileId, String> =
                sources.into_iter().map(|s| (s.id, s.text)).collect();
            assert_schema(&l);
            spans_valid(&l.model, &texts);
            for r in &l.routes {
                spans_valid(r, &texts);
            }
            (e, l)
        })
        .collect()
}

fn rel(repo: &Path, p: &Path) -> String {
    p.strip_prefix(repo).unwrap().to_string_lossy().into_owned()
}

#[test]
fn corpus_repo_h5bp() {
    let Some(c) = corpus("nginx::corpus_repo_h5bp") else {
        return;
    };
    let repo = c.join("repos/h5bp__server-configs-nginx");
    let loaded = load_repo(&repo);
    let names: Vec<String> = loaded.iter().map(|(e, _)| rel(&repo, e)).collect();
    eprintln!("h5bp entries: {names:?}");
    // conf.d/no-ssl.default.conf is reached from nginx.conf: not an entry.
    assert!(names.contains(&"nginx.conf".to_string()));
    assert!(!names.contains(&"conf.d/no-ssl.default.conf".to_string()));
    assert!(names.contains(&"test/vhosts/server.localhost.conf".to_string()));
    let (_, main) = loaded
        .iter()
        .find(|(e, _)| e.ends_with("nginx.conf"))
        .unwrap();
    let files = model::field_list(&main.model, "files");
    let files: Vec<&str> = files.iter().filter_map(Node::as_str).collect();
    eprintln!(
        "nginx.conf reads {files:?}, unresolved {:?}",
        main.unresolved
    );
    assert!(files.contains(&"mime.types"));
    assert!(files.contains(&"conf.d/no-ssl.default.conf"));
    assert!(!files
        .iter()
        .any(|f| f.contains(".default.conf") && f.starts_with("conf.d/.")));
    assert!(
        main.problems.iter().all(|p| p.level == Level::Warning),
        "{:?}",
        main.problems
    );
    for (e, l) in &loaded {
        eprintln!(
            "{}: {} servers, {} routes, {} problems, unresolved {:?}",
            rel(&repo, e),
            servers(l).len(),
            l.routes.len(),
            l.problems.len(),
            l.unresolved.iter().map(|u| &u.path).collect::<Vec<_>>()
        );
        assert!(
            l.problems.iter().all(|p| p.level == Level::Warning),
            "{:?}",
            l.problems
        );
    }
    // The secure vhost includes h5bp/basic.conf and the security headers.
    let (_, secure) = loaded
        .iter()
        .find(|(e, _)| e.ends_with("secure.server.localhost.conf"))
        .unwrap();
    let https_routes: Vec<&Node> = secure
        .routes
        .iter()
        .filter(|r| model::field_bool(r, "https"))
        .collect();
    assert!(!https_routes.is_empty());
    for r in &https_routes {
        let names = header_names(r, "headers");
        eprintln!(
            "{} {} {:?}",
            model::field_str(r, "site"),
            model::field_str(r, "path"),
            names
        );
    }
}

#[test]
fn corpus_repo_swag_and_sentry() {
    let Some(c) = corpus("nginx::corpus_repo_swag_and_sentry") else {
        return;
    };
    let repo = c.join("repos/linuxserver__docker-swag");
    let loaded = load_repo(&repo);
    for (e, l) in &loaded {
        eprintln!(
            "swag {}: {} servers, {} routes, files {:?}, unresolved {:?}",
            rel(&repo, e),
            servers(l).len(),
            l.routes.len(),
            l.files
                .iter()
                .map(|(_, p)| rel(&repo, p))
                .collect::<Vec<_>>(),
            l.unresolved.iter().map(|u| &u.path).collect::<Vec<_>>()
        );
        assert!(
            l.problems.iter().all(|p| p.level == Level::Warning),
            "{:?}",
            l.problems
        );
    }
    let (_, site) = loaded
        .iter()
        .find(|(e, _)| e.ends_with("site-confs/default.conf.sample"))
        .unwrap();
    let unresolved: Vec<&str> = site.unresolved.iter().map(|u| u.path.as_str()).collect();
    assert!(unresolved.contains(&"/config/nginx/ssl.conf"));
    assert!(unresolved.contains(&"/etc/nginx/fastcgi_params"));
    // The port-80 server redirects; the TLS server serves.
    let r80 = site
        .routes
        .iter()
        .find(|r| model::field_bool(r, "plain_http"))
        .unwrap();
    assert!(model::field_bool(r80, "redirects_to_https"));
    assert!(model::field_bool(r80, "redirect_only"));

    let repo = c.join("repos/getsentry__self-hosted");
    let loaded = load_repo(&repo);
    assert!(!loaded.is_empty());
    for (e, l) in &loaded {
        eprintln!(
            "sentry {}: {} servers, {} routes, unresolved {:?}",
            rel(&repo, e),
            servers(l).len(),
            l.routes.len(),
            l.unresolved.iter().map(|u| &u.path).collect::<Vec<_>>()
        );
        assert!(
            l.problems.iter().all(|p| p.level == Level::Warning),
            "{:?}",
            l.problems
        );
    }
    let (_, main) = loaded
        .iter()
        .find(|(e, _)| rel(&repo, e) == "nginx.conf")
        .unwrap();
    assert_eq!(main.unresolved[0].path, "/etc/nginx/mime.types");
}

/// Every repo tree of the corpus: entries load, models validate, spans hold.
#[test]
fn corpus_all_repos() {
    let Some(c) = corpus("nginx::corpus_all_repos") else {
        return;
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(c.join("repos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let (mut entries, mut unresolved, mut errors) = (0, 0, 0);
    for repo in &dirs {
        for (e, l) in load_repo(repo) {
            entries += 1;
            unresolved += l.unresolved.len();
            for p in l.problems.iter().filter(|p| p.level == Level::Error) {
                errors += 1;
                eprintln!("{}: {} {}", rel(repo, &e), p.code, p.message);
            }
        }
    }
    eprintln!("repos: {entries} nginx entries, {unresolved} unresolved includes, {errors} errors");
    assert!(entries > 20);
    assert_eq!(errors, 0, "no include cycle or escape in the real trees");
}

#[test]
fn reads_as_nginx_tells_nginx_from_other_conf_files() {
    use crate::formats::nginx::reads_as_nginx;
    for yes in [
        "user nginx;\nworker_processes auto;\n",
        "location /api {\n  proxy_pass http://app;\n}\n",
        "server {\n  listen 80;\n", // broken, but nginx
        "# comment only\n",         // nothing says otherwise
        "map $http_upgrade $connection_upgrade {\n  default upgrade;\n  '' close;\n}\n",
        "if ($request_method = POST) { return 405; }\n",
        "location = /x { return 204; }\n",
        "resolver\n  1.1.1.1 [2606:4700:4700::1111]\n  valid=60s;\nresolver_timeout 2s;\n",
        "brotli_static on;\n",
    ] {
        assert!(reads_as_nginx(yes), "{yes}");
    }
    for no in [
        "[www]\nuser = www-data\npm = dynamic\n", // php-fpm pool
        "protocols = imap pop3\nmail_location = maildir:~/Maildir\n", // dovecot
        "akka {\n  loglevel = \"INFO\"\n}\n",     // HOCON
        "[mysqld]\nbind-address = 0.0.0.0\n",
        "key: value\nother: 1\n",
        "(snippet) {\n\theader {\n\t\treverse_proxy localhost:3000\n\t\t{block}\n\t}\n}\n", // Caddy
    ] {
        assert!(!reads_as_nginx(no), "{no}");
    }
}
