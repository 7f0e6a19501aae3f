//! The `http.*`, `nginx.*` and `caddy.*` standard library end to end: small
//! trees written to a temporary directory and checked with the embedded
//! stdlib, and the seed 001/002 before/after examples under `docs/examples`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_tests::write;
use rampart_tests::{findings, json, rampart};

/// (policy, line, message) of every finding of `rampart check` in `dir`.
fn check(dir: &Path) -> Vec<(String, u64, String)> {
    let (code, out, err) = rampart(dir, &["check", "--format", "json", "."]);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let report = json(&out);
    let errors = report["errors"].as_array().map_or(0, Vec::len);
    assert_eq!(errors, 0, "{out}");
    findings(&report)
}

fn has(f: &[(String, u64, String)], policy: &str, line: u64) -> bool {
    f.iter().any(|(p, l, _)| p == policy && *l == line)
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("examples")
}

/// The policies with at least one finding, among those with `prefix`es.
fn failing(f: &[(String, u64, String)], prefixes: &[&str]) -> BTreeSet<String> {
    f.iter()
        .filter(|(p, ..)| prefixes.iter().any(|x| p.starts_with(x)))
        .map(|(p, ..)| p.clone())
        .collect()
}

/// Acceptance (1): a location with its own `add_header` loses the server's
/// HSTS; both policies point at that location, and `location /` (which
/// inherits the header) is clean.
#[test]
fn nginx_location_add_header_drops_hsts() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "nginx.conf",
        r#"events {}
http {
    server {
        listen 443 ssl;
        server_name example.com;
        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        location / {
            proxy_pass http://app:8000;
        }
        location /static/ {
            add_header Cache-Control "public, max-age=86400";
            root /srv;
        }
    }
}
"#,
    );
    let f = check(dir.path());
    assert!(has(&f, "http.hsts", 10), "{f:#?}");
    assert!(has(&f, "nginx.add-header-inheritance", 10), "{f:#?}");
    let lost = f
        .iter()
        .find(|(p, l, _)| p == "nginx.add-header-inheritance" && *l == 10)
        .unwrap();
    assert!(
        lost.2.contains("Strict-Transport-Security") && lost.2.contains("Cache-Control"),
        "{lost:?}"
    );
    // `location /` inherits the header: neither policy reports it, nor the server.
    for line in [3, 7] {
        assert!(!has(&f, "http.hsts", line), "line {line}: {f:#?}");
        assert!(!has(&f, "nginx.add-header-inheritance", line), "{f:#?}");
    }
}

/// A missing header decided by the server is reported once, on the `server`
/// line, not once per location.
#[test]
fn nginx_missing_header_is_reported_once_per_server() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "nginx.conf",
        r#"http {
    server {
        listen 443 ssl;
        location / { proxy_pass http://app; }
        location /api/ { proxy_pass http://api; }
        location /files/ { root /srv; }
    }
}
"#,
    );
    let f = check(dir.path());
    let cto: Vec<_> = f
        .iter()
        .filter(|(p, ..)| p == "http.content-type-options")
        .collect();
    assert_eq!(cto.len(), 1, "{f:#?}");
    assert_eq!(cto[0].1, 2);
    assert!(has(&f, "http.hsts", 2));
}

/// Acceptance (2): headers from an imported snippet (named snippet and file
/// import) are credited; an `http://` site that proxies is flagged by
/// http.https-redirect; `admin 0.0.0.0:2019` is flagged by caddy.admin-api-local.
#[test]
fn caddy_snippets_redirects_and_admin() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Caddyfile",
        r#"{
	admin 0.0.0.0:2019
}

(security) {
	header {
		Strict-Transport-Security "max-age=31536000; includeSubDomains"
		X-Content-Type-Options nosniff
		X-Frame-Options DENY
		Content-Security-Policy "default-src 'self'"
		Referrer-Policy strict-origin-when-cross-origin
		Permissions-Policy "camera=()"
	}
}

example.com {
	import security
	reverse_proxy app:8000
}

shop.example.com {
	import snippets/headers.caddy
	reverse_proxy shop:8000
}

http://legacy.example.com {
	reverse_proxy legacy:8000
}
"#,
    );
    write(
        dir.path(),
        "snippets/headers.caddy",
        r#"header {
	Strict-Transport-Security "max-age=63072000"
	X-Content-Type-Options nosniff
	Content-Security-Policy "default-src 'self'; frame-ancestors 'none'"
	Referrer-Policy no-referrer
	Permissions-Policy "geolocation=()"
}
"#,
    );
    let f = check(dir.path());
    for p in [
        "http.hsts",
        "http.content-type-options",
        "http.frame-options",
        "http.content-security-policy",
        "http.referrer-policy",
        "http.permissions-policy",
    ] {
        assert!(!has(&f, p, 16), "{p} on example.com: {f:#?}");
        assert!(!has(&f, p, 21), "{p} on shop.example.com: {f:#?}");
    }
    assert!(has(&f, "http.https-redirect", 26), "{f:#?}");
    assert!(!has(&f, "http.https-redirect", 16));
    assert!(!has(&f, "http.https-redirect", 21));
    assert!(has(&f, "caddy.admin-api-local", 2), "{f:#?}");
    // The plain-HTTP site serves content without headers: it is reported too.
    assert!(has(&f, "http.content-type-options", 26));
}

/// `auto_https off` leaves a host site without the automatic redirect.
#[test]
fn caddy_auto_https_off_needs_a_redirect() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Caddyfile",
        "{\n\tauto_https off\n}\n\nexample.com {\n\treverse_proxy app:8000\n}\n",
    );
    let f = check(dir.path());
    assert!(has(&f, "http.https-redirect", 5), "{f:#?}");
    write(
        dir.path(),
        "Caddyfile",
        "{\n\tauto_https off\n}\n\n:80 {\n\tredir https://{host}{uri} permanent\n}\n\nexample.com {\n\treverse_proxy app:8000\n}\n",
    );
    let f = check(dir.path());
    assert!(
        !f.iter().any(|(p, ..)| p == "http.https-redirect"),
        "{f:#?}"
    );
}

/// Acceptance (3), seed 001: the nginx "after" configuration passes every
/// http.* and nginx.* policy; the "before" one fails what the document fixed.
#[test]
fn seed_001_nginx_before_and_after() {
    let after = check(&examples().join("seed-001-nginx").join("after"));
    assert!(
        failing(&after, &["http.", "nginx."]).is_empty(),
        "{after:#?}"
    );
    let before = check(&examples().join("seed-001-nginx").join("before"));
    let got = failing(&before, &["http.", "nginx."]);
    for p in [
        "http.https-redirect",
        "http.content-type-options",
        "http.frame-options",
        "http.content-security-policy",
        "http.referrer-policy",
        "http.permissions-policy",
        "http.no-wildcard-cors",
        "http.rate-limiting",
    ] {
        assert!(got.contains(p), "{p} missing: {before:#?}");
    }
}

/// Acceptance (3), seed 002: the Caddy "after" configuration passes every
/// http.* and caddy.* policy; the "before" one fails what the plan fixes.
#[test]
fn seed_002_caddy_before_and_after() {
    let after = check(&examples().join("seed-002-caddy").join("after"));
    assert!(
        failing(&after, &["http.", "caddy."]).is_empty(),
        "{after:#?}"
    );
    let before = check(&examples().join("seed-002-caddy").join("before"));
    let got = failing(&before, &["http.", "caddy."]);
    for p in [
        "http.https-redirect",
        "http.admin-paths-restricted",
        "http.request-body-limit",
        "http.rate-limiting",
        "http.content-type-options",
        "http.frame-options",
        "http.content-security-policy",
        "http.referrer-policy",
        "http.permissions-policy",
    ] {
        assert!(got.contains(p), "{p} missing: {before:#?}");
    }
    // Caddy sends `Server: Caddy` without a version: not a disclosure (issue 11).
    assert!(!got.contains("http.server-version-hidden"), "{before:#?}");
    // The admin route is the one reported, on its own line.
    assert!(
        has(&before, "http.admin-paths-restricted", 8),
        "{before:#?}"
    );
}

#[test]
fn an_nginx_fragment_named_explicitly_is_checked() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "snippets/headers.conf",
        "add_header Strict-Transport-Security \"max-age=31536000\" always;\nlocation /static/ {\n    add_header Cache-Control public;\n}\n",
    );
    let (code, out, err) = rampart(
        d.path(),
        &["check", "--format", "json", "snippets/headers.conf"],
    );
    assert_ne!(code, 2, "{out}{err}");
    let f = findings(&json(&out));
    assert!(
        f.iter()
            .any(|(p, l, _)| p == "nginx.add-header-inheritance" && *l == 2),
        "{f:#?}"
    );
}
