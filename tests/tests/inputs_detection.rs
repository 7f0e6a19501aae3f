//! Detection by content as well as name (issue 10, items 2 and 3): files that
//! are not configs are never parsed as one, templates and ciphertext are
//! skipped (or checked with placeholders) with a warning, and only a file that
//! really is the format and broken fails the run (exit 2).

use rampart_tests::{findings, json, rampart, write};

fn codes(v: &serde_json::Value, key: &str) -> Vec<(String, String)> {
    v[key]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["file"].as_str().unwrap_or("").to_string(),
                        p["code"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn check(dir: &std::path::Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let (code, out, err) = rampart(dir, &all);
    let v = json(&out);
    assert_eq!(v["version"], 1, "no report (exit {code}): {err}");
    (code, v)
}

#[test]
fn vendored_assets_named_like_dockerfiles_are_not_checked() {
    let d = tempfile::tempdir().unwrap();
    // Monaco's syntax module and an icon: names say Dockerfile, extensions say code and image.
    write(
        d.path(),
        "public/vendor/monaco/dockerfile.js",
        "define(\"vs/basic-languages/dockerfile/dockerfile\",[\"require\",\"exports\"],function(e,t){});\n",
    );
    write(
        d.path(),
        "icons/dockerfile.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M0 0\"/></svg>\n",
    );
    write(
        d.path(),
        "docs/Dockerfile.md",
        "# How to build\n\nRun `docker build`.\n",
    );
    // Dockerfile-* and *.Dockerfile are candidates; content decides.
    write(
        d.path(),
        "Dockerfile-prod",
        "# syntax=docker/dockerfile:1\nFROM alpine:3.20\nUSER app\n",
    );
    write(
        d.path(),
        "api.Dockerfile",
        "ARG V=3.20\nFROM alpine:${V}\nUSER app\n",
    );
    let (code, v) = check(d.path(), &[]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["summary"]["files"], 2, "{v}");
    let files: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    assert!(
        files
            .iter()
            .all(|f| f == "Dockerfile-prod" || f == "api.Dockerfile"),
        "{files:?}"
    );
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn a_named_php_fpm_pool_conf_is_a_note_not_an_error() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "www.conf",
        "; php-fpm pool\n[www]\nuser = www-data\ngroup = www-data\nlisten = /run/php/php8.2-fpm.sock\npm = dynamic\npm.max_children = 5\n",
    );
    let (code, v) = check(d.path(), &["www.conf"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        codes(&v, "notes"),
        [("www.conf".to_string(), "input-not-config".to_string())]
    );
    assert_eq!(v["summary"]["files"], 0);
    // The note reaches SARIF as a `note` notification with its code.
    let (_, out, _) = rampart(d.path(), &["check", "--format", "sarif", "www.conf"]);
    let s = json(&out);
    let n = &s["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(n["level"], "note", "{s}");
    assert_eq!(n["descriptor"]["id"], "input-not-config");
    // A dovecot config and a README named on the command line: notes too.
    write(
        d.path(),
        "dovecot.conf",
        "protocols = imap pop3\nmail_location = maildir:~/Maildir\n",
    );
    write(d.path(), "README.md", "# hi\n");
    let (code, v) = check(d.path(), &["dovecot.conf", "README.md"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(codes(&v, "notes").len(), 2, "{v}");
    // A broken file that reads as nginx is still an error.
    write(
        d.path(),
        "site.conf",
        "server {\n  listen 80;\n  server_name a.example;\n",
    );
    let (code, v) = check(d.path(), &["site.conf"]);
    assert_eq!(code, 2, "{v}");
}

#[test]
fn caddy_env_placeholders_in_site_addresses_parse() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Caddyfile",
        "{$PROTOCOL}://{$DOMAIN}:{$PORT} {\n\treverse_proxy app:8080\n}\n{$SCHEME:https}://{$HOST:localhost}:{$ALT_PORT:8443} {\n\trespond ok\n}\n",
    );
    let (code, v) = check(d.path(), &[]);
    assert_ne!(code, 2, "{v}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["summary"]["files"], 1);
}

#[test]
fn a_caddy_fragment_is_checked_only_through_the_site_importing_it() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Caddyfile",
        "example.com {\n\timport headers.Caddyfile\n\treverse_proxy app:8080\n}\n",
    );
    // A bare `header` block: a root Caddyfile it is not.
    write(
        d.path(),
        "headers.Caddyfile",
        "header {\n\tX-Content-Type-Options nosniff\n\t-Server\n}\n",
    );
    let (code, v) = check(d.path(), &[]);
    assert_ne!(code, 2, "{v}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    assert_eq!(v["summary"]["files"], 1, "{v}");
    let f = findings(&v);
    // Checked through the site: the imported header counts there.
    assert!(
        !f.iter().any(|(p, _, _)| p == "http.content-type-options"),
        "{f:?}"
    );
    assert!(
        !f.iter().any(|(_, _, m)| m.contains("`header`")),
        "the fragment was read as a site: {f:?}"
    );
}

#[test]
fn templates_and_ciphertext_are_warnings_not_errors() {
    let d = tempfile::tempdir().unwrap();
    // gomplate nginx template whose structure survives placeholders.
    write(
        d.path(),
        "nginx/nginx.conf.tmpl",
        "worker_processes {{ .Env.WORKERS }};\nevents { worker_connections 1024; }\nhttp {\n  server {\n    listen 443 ssl;\n    server_name {{ .Env.HOST }};\n    {{ if .Env.HSTS }}\n    add_header Strict-Transport-Security \"max-age=63072000\" always;\n    {{ end }}\n  }\n}\n",
    );
    // A Jinja Dockerfile that does not read as one until rendered.
    write(
        d.path(),
        "Dockerfile.j2",
        "{% if base %}\nFROM {{ base }}\n{% endif %}\nUSER app\n",
    );
    // What a CI checkout without the git-crypt key sees.
    write(d.path(), ".env", b"\0GITCRYPT\0\x8e\x11\x93\x02secretbytes");
    write(
        d.path(),
        "deploy/.env.prod",
        "DB_PASSWORD=ENC[AES256_GCM,data:aGVsbG8=,iv:abc=,tag:def=,type:str]\nsops_version=3.8.1\n",
    );
    write(
        d.path(),
        "vault/.env",
        "$ANSIBLE_VAULT;1.1;AES256\n61626364656667686970\n",
    );
    let (code, v) = check(d.path(), &[]);
    assert_ne!(code, 2, "{v}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    let w = codes(&v, "warnings");
    for (file, code) in [
        (".env", "input-encrypted"),
        ("deploy/.env.prod", "input-encrypted"),
        ("vault/.env", "input-encrypted"),
        ("nginx/nginx.conf.tmpl", "input-template"),
        ("Dockerfile.j2", "input-template"),
    ] {
        assert!(
            w.contains(&(file.to_string(), code.to_string())),
            "{file}: {code} missing in {w:?}"
        );
    }
    // The nginx template was checked (its placeholders as unknown values).
    assert_eq!(v["summary"]["files"], 1, "{v}");
    // Also when named on the command line, and in SARIF.
    let (code, out, _) = rampart(
        d.path(),
        &[
            "check",
            "--format",
            "sarif",
            ".env",
            "nginx/nginx.conf.tmpl",
        ],
    );
    assert_ne!(code, 2);
    let s = json(&out);
    let ids: Vec<&str> = s["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["descriptor"]["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"input-encrypted") && ids.contains(&"input-template"),
        "{ids:?}"
    );
}

#[test]
fn a_broken_template_is_an_error_only_when_not_a_template() {
    let d = tempfile::tempdir().unwrap();
    // Broken beyond its placeholders: skipped with a warning.
    write(
        d.path(),
        "a/site.conf.template",
        "server {\n  listen {{ .Port }};\n  {{ range .Locations }}\n  location {{ .Path }} {\n",
    );
    let (code, v) = check(d.path(), &["a/site.conf.template"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        codes(&v, "warnings"),
        [(
            "a/site.conf.template".to_string(),
            "input-template".to_string()
        )]
    );
    // The same file without template syntax is a broken nginx file.
    write(
        d.path(),
        "b/site.conf",
        "server {\n  listen 80;\n  location / {\n",
    );
    let (code, _) = check(d.path(), &["b/site.conf"]);
    assert_eq!(code, 2);
}

#[test]
fn a_caddy_fragment_named_alone_is_checked_through_its_importer() {
    // pre-commit passes only the changed file: the fragment.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "web/Caddyfile",
        "example.com {\n\timport headers.Caddyfile\n\treverse_proxy app:8080\n}\n",
    );
    write(
        d.path(),
        "web/headers.Caddyfile",
        "header {\n\tX-Content-Type-Options nosniff\n}\n",
    );
    let (code, v) = check(d.path(), &["web/headers.Caddyfile"]);
    assert_ne!(code, 2, "{v}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    let files: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !files.is_empty() && files.iter().all(|f| f == "web/Caddyfile"),
        "{files:?}"
    );
}

#[test]
fn yaml_that_is_not_compose_named_on_the_command_line_is_a_note() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        ".github/workflows/ci.yml",
        "name: CI\non:\n  push:\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ secrets.TOKEN }}\n",
    );
    write(
        d.path(),
        "k8s/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    );
    let (code, v) = check(d.path(), &[".github/workflows/ci.yml", "k8s/cm.yaml"]);
    assert_eq!(code, 0, "{v}");
    let n = codes(&v, "notes");
    assert_eq!(n.len(), 2, "{v}");
    assert!(n.iter().all(|(_, c)| c == "input-not-config"), "{n:?}");
    assert!(v["warnings"].as_array().unwrap().is_empty(), "{v}");
}

#[test]
fn the_detection_corpus_checks_without_errors() {
    // tests/corpus/inputs: one case per folder (see its README).
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/inputs");
    let (code, v) = check(&root, &["."]);
    assert_ne!(code, 2, "{v}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v}");
    let w = codes(&v, "warnings");
    for (file, code) in [
        ("git-crypt/.env", "input-encrypted"),
        ("sops/.env.prod", "input-encrypted"),
        ("gomplate-nginx/nginx.conf.tmpl", "input-template"),
        ("jinja-dockerfile/Dockerfile.j2", "input-template"),
    ] {
        assert!(
            w.contains(&(file.to_string(), code.to_string())),
            "{file}: {code} missing in {w:?}"
        );
    }
    let files: std::collections::BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    // Checked: the Caddyfile, the nginx template and the extension-less
    // conf.d site file; no fragment, asset, pool file or ciphertext.
    assert_eq!(v["summary"]["files"], 3, "{v}");
    for never in [
        "caddy-env/headers.Caddyfile",
        "php-fpm/www.conf",
        "dovecot/dovecot.conf",
    ] {
        assert!(!files.contains(never), "{never}: {files:?}");
    }
    assert!(
        !files.iter().any(|f| f.starts_with("vendored-assets/")),
        "{files:?}"
    );
}
