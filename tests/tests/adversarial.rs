//! The adversarial suite of issue 8, run out of process so that each case is
//! measured: exit code 0/1/2 only (never a signal or an abort), peak memory
//! under a generous bound read from the kernel (`ru_maxrss`), no planted
//! secret in any output, and the valid file beside the hostile one still
//! reported. Inputs are generated here, never committed. The deadline only
//! stops a hang; it is not a timing assertion.
//!
//! The front ends' own cases live beside them and in `hostile_*.rs`; this file
//! holds the acceptance cases end to end.

use std::fs;
use std::path::Path;
use std::time::Duration;

use rampart_tests::{bounded, json, Bounded};
use rampart_tests::{write, CANARY};

/// Peak memory allowed for any case (the bound: under 1 GiB).
const MEMORY_KIB: u64 = 1024 * 1024;
/// Stops a hung child (debug builds are slow; this is not a timing assertion).
const DEADLINE: Duration = Duration::from_secs(240);

fn with_canary(dir: &Path) {
    write(dir, "canary/docker-compose.yml", CANARY);
}

/// The run ended by itself with 0, 1 or 2, within the memory bound.
fn assert_sane(b: &Bounded, what: &str) {
    eprintln!("{what}: exit {:?}, peak {} MiB", b.code, b.peak_kib / 1024);
    assert!(!b.timed_out, "{what}: hung (killed at the deadline)");
    assert!(
        matches!(b.code, Some(0..=2)),
        "{what}: ended with {:?} / signal {:?}; stderr: {}",
        b.code,
        b.signal,
        tail(&b.stderr)
    );
    assert!(
        b.peak_kib < MEMORY_KIB,
        "{what}: peak memory {} MiB",
        b.peak_kib / 1024
    );
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(2000);
    let start = (start..=s.len())
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0);
    &s[start..]
}

fn check_json(dir: &Path, extra: &[&str], what: &str) -> serde_json::Value {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let b = bounded(dir, &args, &[], DEADLINE);
    assert_sane(&b, what);
    let v = json(&b.stdout);
    assert_eq!(
        v["version"],
        1,
        "{what}: no report; stderr: {}",
        tail(&b.stderr)
    );
    v
}

fn canary_reported(v: &serde_json::Value, what: &str) {
    let found = v["findings"].as_array().unwrap().iter().any(|f| {
        f["file"] == "canary/docker-compose.yml" && f["policy"] == "compose.datastore-loopback-only"
    });
    assert!(
        found,
        "{what}: the valid file beside the hostile one was not reported"
    );
}

fn has_error(v: &serde_json::Value) -> bool {
    !v["errors"].as_array().unwrap().is_empty()
}

// ---------------------------------------------------------------- secrets

const TOKEN: &str = "ghp_x9Qk2TokenOfTheJob";

fn every_format(dir: &Path, what: &str) {
    for format in ["text", "json", "sarif", "junit", "github"] {
        for verbose in [false, true] {
            let mut args = vec!["check", "--format", format];
            if verbose {
                args.push("--verbose");
            }
            let b = bounded(dir, &args, &[("CI_TOKEN", TOKEN)], DEADLINE);
            assert_sane(&b, what);
            let all = b.all_output();
            assert!(
                !all.contains(TOKEN),
                "{what} ({format}): the job's token was printed"
            );
            assert!(
                !all.contains("root:x:0:0"),
                "{what} ({format}): /etc/passwd was printed"
            );
            assert!(
                !all.contains("CI_TOKEN="),
                "{what} ({format}): the job's environment was printed"
            );
        }
    }
}

#[test]
fn links_out_of_the_root_never_print_the_job_environment() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::os::unix::fs::symlink("/etc", root.join("etclink")).unwrap();
    std::os::unix::fs::symlink("/proc", root.join("proclink")).unwrap();
    write(
        root,
        "docker-compose.yml",
        b"services:\n  app:\n    image: app:1\n    env_file: [etclink/passwd, proclink/self/environ]\n    build:\n      context: .\n      dockerfile: proclink/self/environ\n  web:\n    image: web:1\n    build:\n      context: etclink\n      dockerfile: passwd\n",
    );
    std::os::unix::fs::symlink("/proc/self/environ", root.join(".dockerignore")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join(".gitignore")).unwrap();
    write(
        root,
        "Caddyfile",
        b"import proclink/self/environ\nexample.com {\n  import etclink/passwd\n  respond ok\n}\n",
    );
    write(
        root,
        "nginx/nginx.conf",
        b"events {}\nhttp {\n  include ../proclink/self/environ;\n  server { listen 80; }\n}\n",
    );
    std::os::unix::fs::symlink("/proc/self/environ", root.join("secrets.env")).unwrap();
    with_canary(root);
    every_format(root, "links");
    let v = check_json(root, &[], "links");
    canary_reported(&v, "links");
}

#[test]
fn config_policy_paths_cannot_leave_the_repository() {
    for path in [
        "/proc/self/environ",
        "../../../../../../etc/hostname",
        "/etc",
        "/",
    ] {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        write(
            root,
            "rampart.yaml",
            format!("policies: [\"{path}\"]\n").as_bytes(),
        );
        with_canary(root);
        every_format(root, path);
        let b = bounded(root, &["check"], &[("CI_TOKEN", TOKEN)], DEADLINE);
        assert_eq!(
            b.code,
            Some(2),
            "{path}: a config naming a path outside the repository is an error"
        );
        assert!(
            b.stderr.contains("rampart.yaml"),
            "{path}: the error is located in the config: {}",
            b.stderr
        );
    }
}

// ---------------------------------------------------------------- budgets

#[test]
fn include_mesh_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    for i in 0..21 {
        write(root, &format!("n/f{i}.conf"), b"include f*.conf;\n");
    }
    write(
        root,
        "n/nginx.conf",
        b"events {}\nhttp {\n  include f*.conf;\n  server { listen 80; }\n}\n",
    );
    with_canary(root);
    let v = check_json(root, &[], "include mesh");
    canary_reported(&v, "include mesh");
    assert!(has_error(&v), "include mesh: the cycles are reported");
    assert!(
        v["errors"].as_array().unwrap().len() < 1000,
        "include mesh: {} errors (cycles are reported once each, errors per file are capped)",
        v["errors"].as_array().unwrap().len()
    );
}

#[test]
fn include_amplification_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut big = String::from("# 1 MB of directives\n");
    while big.len() < 1024 * 1024 {
        big.push_str("add_header X-Padding-Header-Of-Some-Length \"value value value\";\n");
    }
    write(root, "n/l0.conf", big.as_bytes());
    for level in 1..=10 {
        let prev = level - 1;
        write(
            root,
            &format!("n/l{level}.conf"),
            format!("include l{prev}.conf;\ninclude l{prev}.conf;\n").as_bytes(),
        );
    }
    write(
        root,
        "n/nginx.conf",
        b"events {}\nhttp {\n  server {\n    listen 80;\n    include l10.conf;\n  }\n}\n",
    );
    with_canary(root);
    let v = check_json(root, &[], "include amplification");
    canary_reported(&v, "include amplification");
    assert!(
        has_error(&v),
        "include amplification: the expansion budget is a located error"
    );
}

#[test]
fn huge_dockerfile_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut df = String::from("FROM alpine:3.20\n");
    while df.len() < 1_200_000 {
        df.push_str("RUN echo hi\n");
    }
    write(root, "big/Dockerfile", df.as_bytes());
    with_canary(root);
    let v = check_json(root, &[], "1.2 MB Dockerfile");
    canary_reported(&v, "1.2 MB Dockerfile");
    let about_it = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["findings"].as_array().unwrap())
        .any(|e| e["file"] == "big/Dockerfile");
    assert!(
        about_it,
        "1.2 MB Dockerfile: findings or a located error about it"
    );
}

#[test]
fn forty_thousand_services_are_bounded() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut c = String::from("services:\n");
    for i in 0..40_000 {
        c.push_str(&format!("  s{i}:\n    image: nginx:1.27\n"));
    }
    write(root, "big/docker-compose.yml", c.as_bytes());
    with_canary(root);
    let v = check_json(root, &[], "40,000 services");
    canary_reported(&v, "40,000 services");
}

#[test]
fn policy_fan_out_is_a_located_error() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let mut p = String::from("package evil\n\ndef a0(x) = x\n");
    for i in 1..=6 {
        let calls: Vec<String> = (0..10).map(|_| format!("a{}(x)", i - 1)).collect();
        p.push_str(&format!("def a{i}(x) = {}\n", calls.join(" + ")));
    }
    p.push_str("\npolicy boom {\n  title \"boom\"\n  severity low\n  rationale \"r\"\n  for service in compose.services\n  deny service when a6(1) > 0\n}\n");
    assert!(p.len() < 1024);
    assert_policy_error(root, &p, "policy fan-out");
}

/// Checks with `policy` as `evil.rampart` beside the canary: a located policy
/// error (exit 2) within the bounds.
fn assert_policy_error(root: &Path, policy: &str, what: &str) {
    write(root, "evil.rampart", policy);
    with_canary(root);
    let b = bounded(root, &["check", "--policy", "evil.rampart"], &[], DEADLINE);
    assert_sane(&b, what);
    assert_eq!(
        b.code,
        Some(2),
        "{what}: a located policy error; stderr: {}",
        tail(&b.stderr)
    );
    assert!(
        b.stderr.contains("evil.rampart"),
        "{what}: located: {}",
        tail(&b.stderr)
    );
}

#[test]
fn long_expression_is_a_located_error() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let terms = vec!["1"; 45_000].join("+");
    let p = format!("package evil\n\npolicy long {{\n  title \"long\"\n  severity low\n  rationale \"r\"\n  for service in compose.services\n  deny service when {terms} > 0\n}}\n");
    assert_policy_error(root, &p, "45,000 terms");
}

#[test]
fn stray_braces_print_a_bounded_report() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(root, "x/Caddyfile", "}".repeat(100_000).as_bytes());
    write(
        root,
        "y/docker-compose.yml",
        format!("services: {{a: {{image: \"{}\"}}}}\n", "x".repeat(40_000)).as_bytes(),
    );
    with_canary(root);
    let b = bounded(root, &["check"], &[], DEADLINE);
    assert_sane(&b, "stray braces");
    assert!(
        b.stdout.len() < 2 * 1024 * 1024,
        "text output of {} bytes for 140 KB of input",
        b.stdout.len()
    );
}

// ---------------------------------------------------------------- CI logs

#[test]
fn names_and_values_cannot_forge_ci_log_lines() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(
        root,
        "docker-compose.yml",
        b"services:\n  \"w\\n::error file=app.py,line=1::FORGED\\n\\e[8m\\u202e\":\n    image: nginx\n",
    );
    write(
        root,
        "x\n::add-mask::findings\n\x1b[2J/Dockerfile",
        b"FROM alpine\n",
    );
    for format in ["text", "json", "sarif", "junit", "github", "short"] {
        let b = bounded(
            root,
            &["check", "--format", format, "--verbose"],
            &[],
            DEADLINE,
        );
        assert_sane(&b, format);
        let all = b.all_output();
        assert!(
            !all.contains('\x1b'),
            "{format}: a raw ESC reached the output"
        );
        // JSON and SARIF are data: they carry names exactly (escaped as JSON
        // escapes them); the formats people read show a bidi override escaped.
        if !matches!(format, "json" | "sarif") {
            assert!(
                !all.contains('\u{202e}'),
                "{format}: a bidi override reached the output"
            );
        }
        for line in all.lines() {
            if let Some(rest) = line.strip_prefix("::") {
                assert!(
                    format == "github"
                        && [
                            "warning file=",
                            "error file=",
                            "notice file=",
                            "notice title=rampart::",
                            "error::",
                            "warning::",
                            "notice::"
                        ]
                        .iter()
                        .any(|p| rest.starts_with(p)),
                    "{format}: a forged workflow command: {line}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------- git's files

#[test]
fn git_credentials_are_never_read() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let token = "eC1hY2Nlc3MtdG9rZW46Z2hwX1NFQ1JFVA==";
    write(
        root,
        ".git/config",
        format!("[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic {token}\n")
            .as_bytes(),
    );
    write(
        root,
        "Caddyfile",
        b"import .git/config\nexample.com {\n  respond ok\n}\n",
    );
    write(
        root,
        "docker-compose.yml",
        b"services:\n  w:\n    image: nginx:1\n    build: {context: ., dockerfile: .git/config}\n    env_file: [.git/config]\n",
    );
    fs::create_dir_all(root.join("app")).unwrap();
    std::os::unix::fs::symlink("../.git/config", root.join("app/Dockerfile")).ok();
    with_canary(root);
    for format in ["text", "json", "sarif", "junit", "github"] {
        let b = bounded(
            root,
            &["check", "--format", format, "--verbose"],
            &[],
            DEADLINE,
        );
        assert_sane(&b, format);
        let all = b.all_output();
        assert!(
            !all.contains(token) && !all.contains("extraheader"),
            "{format}: .git/config was printed"
        );
    }
}

#[test]
fn a_written_backslash_names_the_file_docker_builds() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(
        root,
        "docker-compose.yml",
        b"services:\n  w:\n    image: nginx:1.25\n    build: {context: ., dockerfile: 'evil\\x41'}\n",
    );
    write(root, "evil\\x41", b"FROM alpine:latest\nUSER root\n");
    write(root, "evilA", b"FROM alpine:3.19\nUSER app\n");
    let v = check_json(root, &[], "backslash");
    let about_evil = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["file"] == "evil\\\\x41" && f["policy"] == "dockerfile.non-root-user");
    assert!(
        about_evil,
        "the Dockerfile compose names (`evil\\x41`) was not the one checked: {v}"
    );
}

#[test]
fn test_fixtures_stay_under_their_policy_directory() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let outside = tempfile::tempdir().unwrap();
    write(
        outside.path(),
        "Caddyfile",
        b"example.com {\n  header X-Foo OUTSIDE_PLAIN_VALUE\n}\n",
    );
    write(
        root,
        ".git/config",
        b"[http]\n\textraheader = AUTHORIZATION: basic GITSECRETVALUE\n",
    );
    fs::create_dir_all(root.join("pol/a")).unwrap();
    fs::create_dir_all(root.join("pol/b")).unwrap();
    std::os::unix::fs::symlink("../../.git/config", root.join("pol/a/Caddyfile")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("Caddyfile"),
        root.join("pol/b/Caddyfile"),
    )
    .unwrap();
    let policy = "package leak\n\n/// d\npolicy dump {\n  title \"D\"\n  severity low\n  rationale \"r\"\n  remediation \"r\"\n  for site in caddy.sites\n  for d in site.directives\n  deny d when size(d.args) > 0\n    message \"{d.args.join(' ')}\"\n}\n\ntest dump {\n  allow \"git\" file \"a/Caddyfile\"\n  allow \"outside\" file \"b/Caddyfile\"\n}\n";
    write(root, "pol/leak.rampart", policy.as_bytes());
    let b = bounded(root, &["test", "pol/leak.rampart"], &[], DEADLINE);
    assert_sane(&b, "rampart test");
    let all = b.all_output();
    assert!(
        !all.contains("GITSECRETVALUE") && !all.contains("OUTSIDE_PLAIN_VALUE"),
        "{all}"
    );
    assert!(all.contains("cannot read fixture"), "{all}");
}

#[test]
fn a_config_or_policy_linked_to_a_dotenv_shows_no_secret() {
    for (link, args) in [
        ("rampart.yaml", &["check"][..]),
        ("leak.rampart", &["check", "--policy", "leak.rampart"][..]),
    ] {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        write(
            root,
            ".env",
            b"DB_PASSWORD=S3cretFromDotenv9\nAPI_TOKEN=tok_9f8e7d6c5b4a\n",
        );
        std::os::unix::fs::symlink(".env", root.join(link)).unwrap();
        let b = bounded(root, args, &[], DEADLINE);
        assert_sane(&b, link);
        assert_eq!(b.code, Some(2), "{link}: a parse error");
        let all = b.all_output();
        assert!(
            !all.contains("S3cretFromDotenv9") && !all.contains("tok_9f8e7d6c5b4a"),
            "{link}: {all}"
        );
    }
}
