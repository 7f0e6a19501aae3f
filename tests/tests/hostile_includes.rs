//! Include and import graphs on a hostile repository: a file is checked as
//! what it is whether or not another file includes it, a stray include
//! demotes no nginx entry, a config that cannot be read is reported, and
//! include meshes and doubling trees stop at a budget with a located error
//! (issue 8, "Inputs hidden" and "Unbounded work").

use std::collections::BTreeSet;
use std::path::Path;

use rampart_tests::{json, rampart};
use rampart_tests::{write, CANARY};

const COMPOSE: &[u8] =
    b"services:\n  web:\n    image: nginx:1.27\n    privileged: true\n    user: \"1000\"\n";
const DOCKERFILE: &[u8] = b"FROM ubuntu:24.04\nUSER root\n";
fn check(dir: &Path) -> (i32, serde_json::Value) {
    let (code, out, err) = rampart(dir, &["check", "--format", "json"]);
    let v = json(&out);
    assert_eq!(v["version"], 1, "no report (exit {code}); stderr: {err}");
    (code, v)
}

/// (file, policy) of every finding.
fn hits(v: &serde_json::Value) -> BTreeSet<(String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["policy"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has(v: &serde_json::Value, file: &str, policy: &str) -> bool {
    hits(v).contains(&(file.to_string(), policy.to_string()))
}

fn errors(v: &serde_json::Value) -> Vec<(String, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_caddy_import_hides_no_compose_file() {
    let d = tempfile::tempdir().unwrap();
    // `Caddyfile` sorts before `docker-compose.yml`: the import reads it first.
    write(
        d.path(),
        "Caddyfile",
        b"{\n\timport docker-compose.yml\n}\n:80 {\n\trespond ok\n}\n",
    );
    write(d.path(), "docker-compose.yml", COMPOSE);
    let (code, v) = check(d.path());
    assert!(
        has(&v, "docker-compose.yml", "compose.no-privileged"),
        "{:?}",
        hits(&v)
    );
    assert!(
        has(&v, "Caddyfile", "http.https-redirect"),
        "{:?}",
        hits(&v)
    );
    assert_eq!(v["summary"]["files"], 2);
    assert_eq!(code, 1, "{:?}", errors(&v));
}

#[test]
fn an_nginx_include_glob_hides_no_dockerfile_or_compose_file() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.conf",
        b"events {}\nhttp { server { listen 443 ssl; server_tokens off; } }\ninclude */*;\n",
    );
    write(d.path(), "zapp/Dockerfile", DOCKERFILE);
    write(d.path(), "zapp/docker-compose.yml", COMPOSE);
    let (code, v) = check(d.path());
    assert!(
        has(&v, "zapp/Dockerfile", "dockerfile.non-root-user"),
        "{:?}",
        hits(&v)
    );
    assert!(
        has(&v, "zapp/docker-compose.yml", "compose.no-privileged"),
        "{:?}",
        hits(&v)
    );
    assert_eq!(v["summary"]["files"], 3);
    // Read as nginx, the Dockerfile and compose file are syntax errors of
    // the include; each is reported once.
    let errs = errors(&v);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(code, 2);
}

#[test]
fn a_stray_include_does_not_demote_nginx_conf() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "evil.conf", b"events { include nginx.conf; }\n");
    write(
        d.path(),
        "nginx.conf",
        b"events {}\nhttp {\n  server {\n    listen 80;\n    location / { proxy_pass http://app:8000; }\n  }\n}\n",
    );
    let (code, v) = check(d.path());
    assert!(
        has(&v, "nginx.conf", "http.https-redirect"),
        "{:?}",
        hits(&v)
    );
    assert_eq!(code, 1, "{:?}", errors(&v));
}

#[test]
fn a_latin1_nginx_conf_is_reported_not_dropped() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "nginx/nginx.conf",
        b"http { server { listen 80; # caf\xe9\n } }\n",
    );
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let (code, v) = check(d.path());
    let errs = errors(&v);
    assert!(
        errs.iter()
            .any(|(f, m)| f == "nginx/nginx.conf" && m.contains("UTF-8")),
        "{errs:?}"
    );
    assert!(has(
        &v,
        "canary/docker-compose.yml",
        "compose.datastore-loopback-only"
    ));
    assert_eq!(code, 2);
}

#[test]
fn an_oversized_nginx_conf_is_reported_not_dropped() {
    let d = tempfile::tempdir().unwrap();
    let mut big = b"http {\n  server { listen 80; }\n".to_vec();
    big.resize(17 * 1024 * 1024, b' ');
    big.extend_from_slice(b"}\n");
    write(d.path(), "nginx.conf", &big);
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let (code, v) = check(d.path());
    let errs = errors(&v);
    assert!(
        errs.iter()
            .any(|(f, m)| f == "nginx.conf" && m.contains("larger than")),
        "{errs:?}"
    );
    assert!(has(
        &v,
        "canary/docker-compose.yml",
        "compose.datastore-loopback-only"
    ));
    assert_eq!(code, 2);
}

#[test]
fn an_include_mesh_is_bounded() {
    // 21 files of 18 bytes that include each other: the old loader
    // enumerated every simple path (1.9 million cycle errors, 4.6 GB).
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "nginx.conf", b"http { include m/*.conf; }\n");
    for i in 0..21 {
        write(d.path(), &format!("m/f{i:02}.conf"), b"include m/*.conf;\n");
    }
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let (code, v) = check(d.path());
    let errs = errors(&v);
    assert!(!errs.is_empty() && errs.len() <= 2 * 22, "{}", errs.len());
    assert!(errs
        .iter()
        .all(|(_, m)| m.contains("include cycle") || m.contains("not followed")));
    assert!(has(
        &v,
        "canary/docker-compose.yml",
        "compose.datastore-loopback-only"
    ));
    assert_eq!(code, 2);
}

#[test]
fn an_include_doubling_tree_stops_at_the_budget() {
    // A 10 KB file included twice at each of 11 levels: 20 MiB spliced in.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "nginx.conf",
        b"http { server { listen 80; include t/l0.conf; include t/l0.conf; } }\n",
    );
    for i in 0..10 {
        write(
            d.path(),
            &format!("t/l{i}.conf"),
            format!("include t/l{0}.conf; include t/l{0}.conf;\n", i + 1).as_bytes(),
        );
    }
    write(
        d.path(),
        "t/l10.conf",
        format!("add_header X-Big \"{}\";\n", "a".repeat(10_000)).as_bytes(),
    );
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let (code, v) = check(d.path());
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "nginx.conf");
    assert!(errs[0].1.contains("16 MiB"), "{}", errs[0].1);
    assert!(
        has(&v, "nginx.conf", "http.https-redirect"),
        "{:?}",
        hits(&v)
    );
    assert!(has(
        &v,
        "canary/docker-compose.yml",
        "compose.datastore-loopback-only"
    ));
    assert_eq!(code, 2);
}

#[test]
fn a_caddy_snippet_doubling_tree_stops_at_the_budget() {
    let d = tempfile::tempdir().unwrap();
    let mut src = format!("(s20) {{\n\theader X-Big \"{}\"\n}}\n", "a".repeat(100_000));
    for i in (0..20).rev() {
        src.push_str(&format!(
            "(s{i}) {{\n\timport s{0}\n\timport s{0}\n}}\n",
            i + 1
        ));
    }
    src.push_str("example.com {\n\timport s0\n}\n");
    write(d.path(), "Caddyfile", src.as_bytes());
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let (code, v) = check(d.path());
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].1.contains("16 MiB"), "{}", errs[0].1);
    assert!(has(
        &v,
        "canary/docker-compose.yml",
        "compose.datastore-loopback-only"
    ));
    assert_eq!(code, 2);
}

#[test]
fn a_file_read_as_an_import_and_as_an_input_has_one_id() {
    use rampart_runtime::project::{Kind, Project, Target};
    let d = tempfile::tempdir().unwrap();
    let caddy: &[u8] = b"{\n\timport docker-compose.yml\n}\n:80 {\n\trespond ok\n}\n";
    write(d.path(), "Caddyfile", caddy);
    write(d.path(), "docker-compose.yml", COMPOSE);
    let mut p = Project::on_disk(d.path(), vec![".".into()]);
    p.add_file("Caddyfile", caddy.to_vec(), Kind::CADDY);
    let imported = p.sources.find("docker-compose.yml").unwrap();
    let id = p.add_file("docker-compose.yml", COMPOSE.to_vec(), Kind::COMPOSE);
    assert_eq!(id, imported);
    assert_eq!(p.sources.len(), 2);
    assert!(p
        .documents
        .iter()
        .any(|doc| doc.target == Target::COMPOSE && doc.file == id));
}

#[test]
fn a_fragment_shared_by_two_entries_reports_its_errors_once() {
    let d = tempfile::tempdir().unwrap();
    for name in ["a.conf", "b.conf"] {
        write(
            d.path(),
            name,
            b"events {}\nhttp { include frag/x.inc; server { listen 80; } }\n",
        );
    }
    write(d.path(), "frag/x.inc", b"add_header X \"y\"\n");
    let (code, v) = check(d.path());
    let errs = errors(&v);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].0, "frag/x.inc");
    assert_eq!(code, 2);
}

#[test]
fn many_entries_sharing_one_large_tree_stop_at_the_run_budget() {
    // Each entry alone stays under the per-file budget (10 MiB spliced in),
    // but five of them would splice 50 MiB: the run budget (32 MiB) stops
    // the fourth, with one located error at its include.
    let d = tempfile::tempdir().unwrap();
    for e in 0..5 {
        write(
            d.path(),
            &format!("e{e}.conf"),
            b"events {}\nhttp { server { listen 80; include t/l0.conf; } }\n",
        );
    }
    for i in 0..10 {
        write(
            d.path(),
            &format!("t/l{i}.conf"),
            format!("include t/l{0}.conf; include t/l{0}.conf;\n", i + 1).as_bytes(),
        );
    }
    write(
        d.path(),
        "t/l10.conf",
        format!("add_header X-Big \"{}\";\n", "a".repeat(10_000)).as_bytes(),
    );
    let (code, v) = check(d.path());
    let errs = errors(&v);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs.iter().all(|(_, m)| m.contains("of this run")),
        "{errs:?}"
    );
    assert_eq!(code, 2);
}

#[test]
fn an_nginx_fragment_no_entry_includes_is_noted_not_dropped() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "nginx.conf", b"}}}}\n");
    write(d.path(), "conf.d/orphan.conf", b"add_header X-A 1;\n");
    write(
        d.path(),
        "site/nginx.conf",
        b"events {}\nhttp { include used.conf; server { listen 80; } }\n",
    );
    write(d.path(), "site/used.conf", b"add_header X-B 1;\n");
    let (_, _, err) = rampart(d.path(), &["check", "--format", "json", "-v"]);
    for orphan in ["nginx.conf", "conf.d/orphan.conf"] {
        assert!(
            err.contains(&format!("note: {orphan}: not checked")),
            "{orphan} dropped silently: {err}"
        );
    }
    assert!(!err.contains("site/used.conf: not checked"), "{err}");
}
