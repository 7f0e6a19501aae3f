#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};

use super::*;
use crate::model::Level;
use crate::schema::Type;
use crate::test_support::{corpus, walk};

fn errors(p: &Parsed) -> Vec<&InputProblem> {
    p.problems
        .iter()
        .filter(|x| x.level == Level::Error)
        .collect()
}

fn validate(p: &Parsed) {
    let s = Schema::standard();
    let mut errs = Vec::new();
    s.validate(
        &p.model,
        &Type::Object("Caddyfile".into()),
        "caddy",
        &mut errs,
    );
    for r in routes(&p.model) {
        s.validate(&r, &Type::Object("Route".into()), "route", &mut errs);
    }
    assert!(errs.is_empty(), "{errs:#?}");
}

fn text_at(src: &str, span: Span) -> &str {
    src.get(span.start()..span.end()).unwrap_or("<bad span>")
}

fn route_by_path<'a>(rs: &'a [Node], site: &str, path: &str) -> &'a Node {
    rs.iter()
        .find(|r| {
            r.get("site").and_then(Node::as_str) == Some(site)
                && r.get("path").and_then(Node::as_str) == Some(path)
        })
        .unwrap_or_else(|| panic!("no route {site} {path}"))
}

fn b(n: &Node, f: &str) -> bool {
    n.get(f).and_then(Node::as_bool).unwrap()
}

fn header_names(r: &Node) -> Vec<String> {
    r.get("headers")
        .and_then(Node::as_list)
        .unwrap()
        .iter()
        .map(|h| h.get("name").and_then(Node::as_str).unwrap().to_string())
        .collect()
}

#[test]
fn acceptance_snippet_headers_are_credited_to_the_site() {
    let src = "(security) {\n\theader {\n\t\tStrict-Transport-Security \"max-age=31536000\"\n\t\t-Server\n\t}\n}\n\nexample.com {\n\timport security\n\treverse_proxy app:8080\n}\n";
    let p = parse_str(FileId(0), src);
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    validate(&p);
    let rs = routes(&p.model);
    let r = route_by_path(&rs, "example.com", "");
    assert_eq!(header_names(r), ["Strict-Transport-Security"]);
    let h = &r.get("headers").and_then(Node::as_list).unwrap()[0];
    assert_eq!(
        text_at(src, h.span),
        "Strict-Transport-Security \"max-age=31536000\""
    );
    assert!(h
        .get("origin")
        .and_then(Node::as_str)
        .unwrap()
        .contains("security"));
    assert!(b(r, "server_tokens_hidden"));
    assert!(b(r, "https") && b(r, "redirects_to_https") && !b(r, "plain_http"));
    assert_eq!(
        text_at(src, r.get("decl").unwrap().get("hsts").unwrap().span),
        "Strict-Transport-Security \"max-age=31536000\""
    );
    // the site's own header list credits the snippet too
    let site = &p.model.get("sites").and_then(Node::as_list).unwrap()[0];
    assert_eq!(
        site.get("headers").and_then(Node::as_list).unwrap().len(),
        1
    );
}

#[test]
fn acceptance_http_site_that_proxies() {
    let src = "http://example.com {\n\treverse_proxy localhost:3000\n}\n";
    let p = parse_str(FileId(0), src);
    assert!(p.problems.is_empty());
    validate(&p);
    let rs = routes(&p.model);
    let r = route_by_path(&rs, "http://example.com", "");
    assert!(b(r, "plain_http"));
    assert!(!b(r, "redirects_to_https"));
    assert!(!b(r, "https"));
    assert!(b(r, "proxy"));
    assert_eq!(
        r.get("upstream").and_then(Node::as_str),
        Some("localhost:3000")
    );
    let l = &r.get("listens").and_then(Node::as_list).unwrap()[0];
    assert_eq!(l.get("port").and_then(Node::as_int), Some(80));
}

#[test]
fn acceptance_admin_option_with_span() {
    let src = "{\n\tadmin 0.0.0.0:2019\n}\n\nexample.com {\n\trespond hi\n}\n";
    let p = parse_str(FileId(0), src);
    assert!(p.problems.is_empty());
    validate(&p);
    let admin = p.model.get("global").unwrap().get("admin").unwrap();
    assert_eq!(admin.as_str(), Some("0.0.0.0:2019"));
    assert_eq!(text_at(src, admin.span), "admin 0.0.0.0:2019");
    let p = parse_str(FileId(0), "{\n\tadmin off\n}\n:80\n");
    assert_eq!(
        p.model
            .get("global")
            .unwrap()
            .get("admin")
            .and_then(Node::as_str),
        Some("off")
    );
}

#[test]
fn http_site_redirecting_counts_as_redirect() {
    let src = "http://example.com {\n\tredir https://{host}{uri} permanent\n}\nexample.com {\n\trespond ok\n}\n";
    let p = parse_str(FileId(0), src);
    let rs = routes(&p.model);
    let r = route_by_path(&rs, "http://example.com", "");
    assert!(b(r, "plain_http") && b(r, "redirects_to_https") && b(r, "redirect_only"));
}

#[test]
fn automatic_https_rules() {
    let cases = [
        ("example.com", true),
        ("localhost", true),
        ("127.0.0.1", true),
        ("*.example.com", true),
        ("example.com:8080", true),
        (":443", true),
        ("https://:8443", true),
        ("http://example.com", false),
        (":80", false),
        ("example.com:80", false),
        (":8080", false),
        ("[::1]:8443", true),
        ("{$DOMAIN}", true),
        ("{$PROTOCOL}://{$DOMAIN}:{$PORT}", true),
        ("{$PROTOCOL:http}://{$DOMAIN}:{$PORT}", false),
        ("https://{$DOMAIN:localhost}:{$PORT:8443}", true),
        ("{$ADDR::8080}", false),
    ];
    for (a, want) in cases {
        let addr = parse_address(a).unwrap();
        assert_eq!(address_is_https(&addr, 80, 443), want, "{a}");
    }
    assert_eq!(
        parse_address(":70000").unwrap_err(),
        "port 70000 is out of range"
    );
    assert_eq!(parse_address(":-1").unwrap_err(), "port -1 is out of range");
    assert!(parse_address("foo://x")
        .unwrap_err()
        .contains("unsupported URL scheme foo://"));
    assert!(parse_address("wss://x").unwrap_err().contains("wss://"));
}

#[test]
fn auto_https_options_change_redirects_only() {
    for (opt, redirect) in [
        ("off", false),
        ("disable_redirects", false),
        ("disable_certs", true),
    ] {
        let src = format!("{{\n\tauto_https {opt}\n}}\nexample.com {{\n\treverse_proxy a:1\n}}\n");
        let p = parse_str(FileId(0), &src);
        let rs = routes(&p.model);
        let r = route_by_path(&rs, "example.com", "");
        assert!(b(r, "https"), "{opt}");
        assert_eq!(b(r, "redirects_to_https"), redirect, "{opt}");
    }
}

#[test]
fn sub_routes_headers_restrictions_limits() {
    let src = r#"example.com {
	header X-Content-Type-Options nosniff
	header /api/* X-Api yes
	@blocked {
		path /admin*
		not remote_ip 10.0.0.0/8
	}
	abort @blocked
	handle /api/* {
		rate_limit {
			zone api {
				key {remote_host}
				events 10
				window 1m
			}
		}
		request_body {
			max_size 10MB
		}
		reverse_proxy api:8080
	}
	handle /admin* {
		reverse_proxy admin:80
	}
	reverse_proxy @ws ws:9000
	@ws path /ws
	handle_path /static/* {
		handle /img* {
			file_server
		}
	}
	reverse_proxy web:3000
}
"#;
    let p = parse_str(FileId(0), src);
    let errs = errors(&p);
    assert!(errs.is_empty(), "{errs:?}");
    validate(&p);
    let rs = routes(&p.model);
    let site = route_by_path(&rs, "example.com", "");
    assert!(b(site, "proxy") && !b(site, "restricted") && !b(site, "rate_limited"));
    assert_eq!(header_names(site), ["X-Content-Type-Options"]);
    let api = route_by_path(&rs, "example.com", "/api/*");
    assert_eq!(header_names(api), ["X-Content-Type-Options", "X-Api"]);
    assert!(b(api, "rate_limited") && b(api, "proxy"));
    assert_eq!(api.get("body_limit").and_then(Node::as_str), Some("10MB"));
    let admin = route_by_path(&rs, "example.com", "/admin*");
    assert!(b(admin, "restricted"));
    let ws = route_by_path(&rs, "example.com", "/ws");
    assert_eq!(ws.get("upstream").and_then(Node::as_str), Some("ws:9000"));
    route_by_path(&rs, "example.com", "/static/img*");
}

#[test]
fn imports_from_files_globs_cycles_and_root() {
    let mut m = MemSource::new();
    m.insert("/r/Caddyfile", FileId(0), "");
    m.insert(
        "/r/sites/a.caddy",
        FileId(1),
        "a.example.com {\n\theader X-A 1\n}\n",
    );
    m.insert("/r/sites/.hidden.caddy", FileId(2), "hidden.example.com\n");
    m.insert(
        "/r/snips/sec.caddy",
        FileId(3),
        "header X-Frame-Options DENY\n",
    );
    m.insert("/r/loop1", FileId(4), "import loop2\n");
    m.insert("/r/loop2", FileId(5), "import loop3\n");
    m.insert("/r/loop3", FileId(6), "import loop1\n");
    let src = "import sites/*\nimport nothing/*.caddy\nimport missing.caddy\nimport ../outside\nb.example.com {\n\timport snips/sec.caddy\n}\nimport loop1\n";
    let p = parse_file(
        FileId(0),
        Path::new("/r/Caddyfile"),
        src,
        Path::new("/r"),
        &mut m,
    );
    validate(&p);
    let codes: Vec<(&str, Level)> = p.problems.iter().map(|x| (x.code, x.level)).collect();
    assert!(
        codes.contains(&("caddy-import-missing", Level::Warning)),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("caddy-import-outside-root", Level::Error)),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("caddy-import-cycle", Level::Error)),
        "{codes:?}"
    );
    let sites: Vec<&str> = p
        .model
        .get("sites")
        .and_then(Node::as_list)
        .unwrap()
        .iter()
        .map(|s| {
            s.get("addresses").and_then(Node::as_list).unwrap()[0]
                .get("raw")
                .and_then(Node::as_str)
                .unwrap()
        })
        .collect();
    assert_eq!(sites, ["a.example.com", "b.example.com"]);
    let rs = routes(&p.model);
    let h = &route_by_path(&rs, "b.example.com", "")
        .get("headers")
        .and_then(Node::as_list)
        .unwrap()[0];
    assert_eq!(h.span.file, FileId(3));
    let unresolved = p
        .model
        .get("unresolved_imports")
        .and_then(Node::as_list)
        .unwrap();
    assert_eq!(unresolved.len(), 1);
}

#[test]
fn snippet_args_and_blocks() {
    let src = "(proxy) {\n\treverse_proxy {args[0]} {args[1:]}\n}\n(wrap) {\n\theader {\n\t\t{block}\n\t}\n}\nexample.com {\n\timport proxy a:1 b:2 c:3\n\timport wrap {\n\t\tX-Foo bar\n\t}\n}\n";
    let p = parse_str(FileId(0), src);
    assert!(errors(&p).is_empty(), "{:?}", p.problems);
    let site = &p.model.get("sites").and_then(Node::as_list).unwrap()[0];
    let ups: Vec<&str> = site
        .get("upstreams")
        .and_then(Node::as_list)
        .unwrap()
        .iter()
        .filter_map(Node::as_str)
        .collect();
    assert_eq!(ups, ["a:1", "b:2", "c:3"]);
    let hs = site.get("headers").and_then(Node::as_list).unwrap();
    assert_eq!(hs[0].get("name").and_then(Node::as_str), Some("X-Foo"));
}

#[test]
fn structural_errors() {
    for (src, code) in [
        ("example.com { respond hi }\n", "caddy-syntax"),
        ("@foo path /x\n", "caddy-matcher-outside-site"),
        ("handle\n\nrespond x\n", "caddy-directive-as-address"),
        (":8080 {\n}\n:8080 {\n}\n", "caddy-ambiguous-site"),
        (
            "example.com\nrespond 1\n\nexample.org\nrespond 2\n",
            "caddy-ambiguous-site",
        ),
        (":80 {\n\tinvoke nope\n}\n", "caddy-invoke-undefined"),
        (
            "(a) {\n\timport b\n}\n(b) {\n\timport a\n}\nimport a\n",
            "caddy-import-cycle",
        ),
        (
            "example.com {\n\treverse_proxy x\n\t{\n\t}\n}\n",
            "caddy-syntax",
        ),
    ] {
        let p = parse_str(FileId(0), src);
        assert!(
            p.problems
                .iter()
                .any(|x| x.code == code && x.level == Level::Error),
            "{src:?}: {:?}",
            p.problems
        );
    }
}

#[test]
fn env_placeholders_are_kept_and_listed() {
    let p = parse_str(
        FileId(0),
        "{$DOMAIN:localhost} {\n\treverse_proxy {$UPSTREAM} {env.X}\n}\n",
    );
    let refs = p.model.get("env_refs").and_then(Node::as_list).unwrap();
    assert_eq!(refs.len(), 2);
    let site = &p.model.get("sites").and_then(Node::as_list).unwrap()[0];
    let ups = site.get("upstreams").and_then(Node::as_list).unwrap();
    assert_eq!(ups[0].as_str(), Some("{$UPSTREAM}"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let mut src = String::from(":80 {\n");
    for _ in 0..500 {
        src.push_str("a {\n");
    }
    for _ in 0..500 {
        src.push_str("}\n");
    }
    src.push_str("}\n");
    let p = parse_str(FileId(0), &src);
    assert!(p.problems.iter().any(|x| x.code == "caddy-depth"));
    let _ = routes(&p.model);
}

fn codes(src: &str) -> Vec<&'static str> {
    let p = parse_str(FileId(0), src);
    p.problems
        .iter()
        .filter(|x| x.level == Level::Error)
        .map(|x| x.code)
        .collect()
}

#[test]
fn directive_checks() {
    // tls DNS challenge options need a provider somewhere.
    assert_eq!(
        codes("a.com {\n\ttls {\n\t\tresolvers 1.1.1.1\n\t}\n}\n"),
        ["caddy-tls-dns-provider"]
    );
    assert!(codes("a.com {\n\ttls {\n\t\tdns mock\n\t\tdns_ttl 5m\n\t}\n}\n").is_empty());
    assert!(codes(
        "{\n\tdns mock\n}\na.com {\n\ttls {\n\t\tdns\n\t\tpropagation_delay 1s\n\t}\n}\n"
    )
    .is_empty());
    assert_eq!(
        codes("a.com {\n\ttls {\n\t\tdns\n\t}\n}\n"),
        ["caddy-tls-dns-provider"]
    );
    assert!(
        codes("{\n\tacme_dns mock\n}\na.com {\n\ttls {\n\t\tresolvers 1.1.1.1\n\t}\n}\n")
            .is_empty()
    );
    // acme_dns without a provider needs the global dns option.
    assert_eq!(codes("{\n\tacme_dns\n}\n"), ["caddy-acme-dns"]);
    assert!(codes("{\n\tdns mock\n\tacme_dns\n}\n").is_empty());
    // servers takes options directly.
    assert_eq!(
        codes("{\n\tservers {\n\t\tsrv0 {\n\t\t}\n\t}\n}\n"),
        ["caddy-servers-option"]
    );
    assert!(codes(
        "{\n\tservers :443 {\n\t\tprotocols h1 h2\n\t\ttimeouts {\n\t\t\tidle 1m\n\t\t}\n\t}\n}\n"
    )
    .is_empty());
    // reverse_proxy subdirectives, also nested in handle and named routes.
    assert_eq!(
        codes("a.com {\n\thandle {\n\t\treverse_proxy b {\n\t\t\tbogus 1\n\t\t}\n\t}\n}\n"),
        ["caddy-unknown-subdirective"]
    );
    assert_eq!(
        codes("&(r) {\n\treverse_proxy b {\n\t\tbogus\n\t}\n}\n"),
        ["caddy-unknown-subdirective"]
    );
    assert!(codes("a.com {\n\treverse_proxy b {\n\t\t@e status 5xx\n\t\theader_up Host {host}\n\t\t{$EXTRA}\n\t\thandle_response @e {\n\t\t\trespond 502\n\t\t}\n\t}\n}\n").is_empty());
    // handle_response takes at most one matcher.
    assert_eq!(
        codes("a.com {\n\tintercept {\n\t\thandle_response a b {\n\t\t}\n\t}\n}\n"),
        ["caddy-handle-response-args"]
    );
    // forward_auth declares uri once.
    assert_eq!(
        codes("a.com {\n\tforward_auth x {\n\t\turi /a\n\t\turi /b\n\t}\n}\n"),
        ["caddy-duplicate-subdirective"]
    );
}

fn split_test(text: &str) -> Option<(&str, &str)> {
    let mut off = 0usize;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "----------" {
            return Some((text.get(..off)?, text.get(off + line.len()..)?));
        }
        off += line.len();
    }
    None
}

/// Fixtures where we deliberately disagree with `caddy adapt`, with the reason.
const ORACLE_EXCEPTIONS: &[(&str, &str)] = &[(
    "heredoc_missing_marker",
    "caddy rejects the unknown directive `Hello`; unknown directives are only \
     warnings for us (`caddy-unknown-directive`) because plugins add directives",
)];

#[test]
fn oracle_caddy_adapt_fixtures() {
    let Some(c) = corpus("caddyfile::oracle_caddy_adapt_fixtures") else {
        return;
    };
    let repo = c.join("repos/caddyserver__caddy");
    let mut files: Vec<PathBuf> = std::fs::read_dir(c.join("peers/caddy_adapt"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut ok_ok, mut ok_total, mut bad_bad, mut bad_total) = (0, 0, 0, 0);
    let mut exceptions = 0;
    let mut disagreements = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let Some((input, expected)) = split_test(&text) else {
            continue;
        };
        let accepted = expected.trim_start().starts_with('{') || expected.trim().is_empty();
        let mut fs = FsSource::new(1);
        let p = parse_file(
            FileId(0),
            &repo.join("caddytest/integration/Caddyfile"),
            input,
            &repo,
            &mut fs,
        );
        validate(&p);
        let errs = errors(&p);
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if let Some((_, why)) = ORACLE_EXCEPTIONS
            .iter()
            .find(|(n, _)| name.strip_suffix(".caddyfiletest") == Some(*n))
        {
            eprintln!("  pinned exception {name}: {why}");
            assert!(
                accepted != errs.is_empty(),
                "pinned exception {name} now agrees with caddy; remove it from ORACLE_EXCEPTIONS"
            );
            exceptions += 1;
            continue;
        }
        if accepted {
            ok_total += 1;
            if errs.is_empty() {
                ok_ok += 1;
            } else {
                disagreements.push(format!(
                    "ACCEPTED by caddy, we err: {name}: {}",
                    errs[0].message
                ));
            }
        } else {
            bad_total += 1;
            if errs.is_empty() {
                disagreements.push(format!(
                    "REJECTED by caddy, we accept: {name}: {}",
                    expected.lines().next().unwrap_or("")
                ));
            } else {
                bad_bad += 1;
            }
        }
    }
    eprintln!(
        "caddy_adapt oracle: accepted {ok_ok}/{ok_total}, rejected {bad_bad}/{bad_total}, {exceptions} pinned"
    );
    for d in &disagreements {
        eprintln!("  {d}");
    }
    assert_eq!(exceptions, ORACLE_EXCEPTIONS.len());
    assert!(ok_total + bad_total + exceptions >= 233, "fixtures missing");
    assert!(
        disagreements.is_empty(),
        "every fixture outside ORACLE_EXCEPTIONS must agree with caddy adapt"
    );
}

#[test]
fn corpus_real_and_repos() {
    let Some(c) = corpus("caddyfile::corpus_real_and_repos") else {
        return;
    };
    let mut files = Vec::new();
    walk(&c.join("real/caddy"), &mut files);
    for repo in [
        "caddyserver__caddy",
        "caddyserver__website",
        "07-Pixel__docker-caddy",
        "lucaslorentz__caddy-docker-proxy",
    ] {
        let mut all = Vec::new();
        walk(&c.join("repos").join(repo), &mut all);
        files.extend(all.into_iter().filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with("Caddyfile") || p.to_string_lossy().contains("caddyserver__caddy")
        }));
    }
    files.sort();
    let (mut clean, mut with_err, mut routes_n) = (0, 0, 0);
    let mut examples = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let root = if f.starts_with(c.join("repos")) {
            c.join("repos").join(
                f.strip_prefix(c.join("repos"))
                    .unwrap()
                    .components()
                    .next()
                    .unwrap(),
            )
        } else {
            f.parent().unwrap().to_path_buf()
        };
        let mut fs = FsSource::new(1);
        let p = parse_file(FileId(0), f, &text, &root, &mut fs);
        validate(&p);
        routes_n += routes(&p.model).len();
        let errs = errors(&p);
        if errs.is_empty() {
            clean += 1;
        } else {
            with_err += 1;
            let line = text
                .get(..errs[0].span.start())
                .map_or(0, |t| t.matches('\n').count() + 1);
            examples.push(format!(
                "{}:{line}: {} [{}]",
                f.file_name().unwrap().to_string_lossy(),
                errs[0].message,
                errs[0].code
            ));
        }
    }
    eprintln!(
        "caddy corpus: {} files, {clean} clean, {with_err} with errors, {routes_n} routes",
        files.len()
    );
    for e in &examples {
        eprintln!("  {e}");
    }
    assert!(files.len() > 250);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn check(src: &str) {
        let p = parse_str(FileId(0), src);
        let rs = routes(&p.model);
        fn spans(n: &Node, src: &str) {
            assert!(n.span.start() <= n.span.end() && n.span.end() <= src.len());
            assert!(src.is_char_boundary(n.span.start()) && src.is_char_boundary(n.span.end()));
            match &n.value {
                Value::List(items) => items.iter().for_each(|i| spans(i, src)),
                Value::Object(fs) => fs.iter().for_each(|(_, v)| spans(v, src)),
                _ => {}
            }
        }
        spans(&p.model, src);
        for r in &rs {
            spans(r, src);
        }
        for x in &p.problems {
            assert!(
                x.span.end() <= src.len()
                    && src.is_char_boundary(x.span.start())
                    && src.is_char_boundary(x.span.end())
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC*") {
            check(&s);
        }

        #[test]
        fn never_panics_on_caddy_like_text(s in proptest::collection::vec(prop_oneof![
            Just("{"), Just("}"), Just("\n"), Just(" "), Just("import"), Just("(s)"), Just("s"),
            Just("<<END\n"), Just("END"), Just("\""), Just("`"), Just("\\"), Just("#"), Just("@m"),
            Just("handle"), Just("/a*"), Just("header"), Just("-Server"), Just("http://x"), Just(":80"),
            Just("{args[0]}"), Just("{args[:]}"), Just("{block}"), Just("é"), Just("&(r)"), Just("invoke"),
            Just("reverse_proxy"), Just("redir"), Just("https://{host}"), Just("not"), Just("remote_ip"),
        ], 0..80)) {
            check(&s.concat());
        }
    }
}

/// The number of import-limit errors, all of them for the byte budget.
fn limit_errors(p: &Parsed) -> usize {
    let limits: Vec<_> = p
        .problems
        .iter()
        .filter(|x| x.code == "caddy-import-limit")
        .collect();
    assert!(
        limits.iter().all(|x| x.message.contains("16 MiB")),
        "{limits:?}"
    );
    limits.len()
}

#[test]
fn snippet_doubling_stops_at_the_byte_budget() {
    // s0 imports s1 twice, … 20 levels, the last holding a 100 KB token:
    // 100 GB once expanded. The old parser only counted tokens and imports
    // (2,000 imports of 100 KB each: 1.2 GB of memory).
    let mut src = format!("(s20) {{\n\theader X-Big \"{}\"\n}}\n", "a".repeat(100_000));
    for i in (0..20).rev() {
        src.push_str(&format!(
            "(s{i}) {{\n\timport s{0}\n\timport s{0}\n}}\n",
            i + 1
        ));
    }
    src.push_str("example.com {\n\timport s0\n}\n");
    let p = parse_str(FileId(0), &src);
    assert_eq!(limit_errors(&p), 1, "{:?}", p.problems);
    let msg = &p
        .problems
        .iter()
        .find(|x| x.code == "caddy-import-limit")
        .unwrap()
        .message;
    assert!(msg.contains("16 MiB"), "{msg}");
}

#[test]
fn file_import_doubling_and_mesh_are_bounded() {
    // Files: f0 imports f1 twice, … f20 holds a 100 KB token; each file is
    // lexed once and the expansion stops at the byte budget.
    let mut m = MemSource::new();
    m.insert(
        "/r/i/f20",
        FileId(21),
        format!("header X-Big \"{}\"\n", "a".repeat(100_000)),
    );
    for i in 0..20u32 {
        m.insert(
            format!("/r/i/f{i}"),
            FileId(i + 1),
            format!("import f{0}\nimport f{0}\n", i + 1),
        );
    }
    let src = "example.com {\n\timport i/f0\n}\n";
    let p = parse_file(
        FileId(0),
        Path::new("/r/Caddyfile"),
        src,
        Path::new("/r"),
        &mut m,
    );
    assert_eq!(limit_errors(&p), 1, "{:?}", p.problems);

    // A mesh: 21 files that each import every file of the directory. Each
    // cycle is reported once per (importer, imported) pair, not per path.
    let mut m = MemSource::new();
    for i in 0..21u32 {
        m.insert(format!("/r/i/f{i:02}"), FileId(i + 1), "import *\n");
    }
    let src = "example.com {\n\timport i/*\n}\n";
    let p = parse_file(
        FileId(0),
        Path::new("/r/Caddyfile"),
        src,
        Path::new("/r"),
        &mut m,
    );
    let cycles = p
        .problems
        .iter()
        .filter(|x| x.code == "caddy-import-cycle")
        .count();
    assert!(cycles <= 21 * 21, "{cycles} cycle errors");
    // Problems per file are capped (100 + one summary), whatever the paths.
    let mut per_file = std::collections::BTreeMap::new();
    for x in &p.problems {
        *per_file.entry(x.span.file).or_insert(0usize) += 1;
    }
    assert!(per_file.values().all(|&n| n <= 101), "{per_file:?}");
}

#[test]
fn the_run_budget_counts_earlier_caddyfiles() {
    let mut m = MemSource::new();
    m.insert("/r/big", FileId(1), "header X-Big \"0123456789\"\n");
    let src = "example.com {\n\timport big\n}\n";
    let parse = |m: &mut MemSource, used: &mut RunUsed| {
        parse_file_within(
            FileId(0),
            Path::new("/r/Caddyfile"),
            src,
            Path::new("/r"),
            m,
            used,
        )
    };
    let limits = |p: &Parsed| {
        p.problems
            .iter()
            .filter(|x| x.code == "caddy-import-limit")
            .map(|x| x.message.clone())
            .collect::<Vec<_>>()
    };
    let mut used = RunUsed::default();
    let p = parse(&mut m, &mut used);
    assert!(errors(&p).is_empty(), "{:?}", p.problems);
    assert!(used.bytes > 0 && used.bytes == p.expanded_bytes);
    assert!(used.tokens > 0 && used.tokens == p.expanded_tokens);
    // Bytes of the run almost spent.
    let mut used = RunUsed {
        bytes: parser::MAX_RUN_EXPANDED_BYTES - 20,
        tokens: 0,
    };
    let l = limits(&parse(&mut m, &mut used));
    assert_eq!(l.len(), 1, "{l:?}");
    assert!(l[0].contains("all Caddyfiles of the run"));
    // Tokens of the run almost spent (short tokens, few bytes).
    let mut used = RunUsed {
        bytes: 0,
        tokens: parser::MAX_RUN_TOKENS - 5,
    };
    let l = limits(&parse(&mut m, &mut used));
    assert_eq!(l.len(), 1, "{l:?}");
}

#[test]
fn unconditional_abort_closes_the_connection() {
    // mathewcsims/self-hosted pi-reverse-proxy: the catch-all `:80` only aborts.
    let src = ":80 {\n\tlog\n\tabort\n}\nexample.com {\n\t@bad remote_ip 10.0.0.0/8\n\tabort @bad\n\treverse_proxy app:80\n}\n:8080 {\n\treverse_proxy app:80\n\tabort\n}\n";
    let p = parse_str(FileId(0), src);
    validate(&p);
    let rs = routes(&p.model);
    let code = |r: &Node| r.get("return_code").and_then(Node::as_int);
    assert_eq!(code(route_by_path(&rs, ":80", "")), Some(444));
    // A matched abort, or one beside a proxy, serves content still.
    assert_eq!(code(route_by_path(&rs, "example.com", "")), None);
    assert_eq!(code(route_by_path(&rs, ":8080", "")), None);
}
