//! End-to-end tests of the `rampart` command line on small repositories.

use std::fs;
use std::path::Path;

use rampart_tests::write;
use rampart_tests::{findings, json, rampart};

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("examples")
}

#[test]
fn seed_000_before_and_after() {
    let (code, out, _) = rampart(
        &examples(),
        &["check", "insecure-stack", "--format", "json"],
    );
    assert_eq!(code, 1);
    let f = findings(&json(&out));
    let has = |p: &str, line: u64| f.iter().any(|(pp, l, _)| pp == p && *l == line);
    assert!(has("compose.datastore-loopback-only", 9), "{f:#?}");
    assert!(has("compose.no-default-secrets", 17));
    assert!(has("compose.no-default-secrets", 25));
    for p in [
        "compose.non-root-user",
        "compose.cap-drop-all",
        "compose.no-new-privileges",
        "compose.read-only-rootfs",
    ] {
        assert!(has(p, 29), "{p} on execution_service");
    }
    // No secret value anywhere in the output.
    assert!(!out.contains("cdb_secure_password") && !out.contains("admin123"));

    let (_, out, _) = rampart(
        &examples(),
        &["check", "seed-000-after", "--format", "json"],
    );
    let f = findings(&json(&out));
    assert!(
        !f.iter()
            .any(|(p, ..)| p == "compose.datastore-loopback-only"
                || p == "compose.no-default-secrets"
                || p == "compose.datastore-requires-auth"),
        "{f:#?}"
    );
    for p in [
        "compose.non-root-user",
        "compose.cap-drop-all",
        "compose.no-new-privileges",
        "compose.read-only-rootfs",
    ] {
        assert!(
            !f.iter().any(|(pp, l, _)| pp == p && *l == 31),
            "{p} still on the hardened service"
        );
    }
}

#[test]
fn json_contract_fields() {
    let (_, out, _) = rampart(
        &examples(),
        &["check", "insecure-stack", "--format", "json"],
    );
    let v = json(&out);
    assert_eq!(v["version"], 1);
    for k in ["files", "policies", "findings", "errors"] {
        assert!(v["summary"][k].is_u64(), "summary.{k}");
    }
    let f = &v["findings"][0];
    for k in ["policy", "severity", "title", "message", "file"] {
        assert!(f[k].is_string(), "{k}");
    }
    for k in ["line", "column", "end_line", "end_column"] {
        assert!(f[k].as_u64().unwrap() >= 1, "{k}");
    }
    // Findings are sorted by path: the example's `.env` comes first.
    assert_eq!(f["file"], "insecure-stack/.env");
}

#[test]
fn text_output_shows_snippet_and_redacts_secrets() {
    let (code, out, _) = rampart(&examples(), &["check", "insecure-stack"]);
    assert_eq!(code, 1);
    assert!(out.contains("compose.datastore-loopback-only"));
    assert!(
        out.contains("insecure-stack/docker-compose.yml:9:9"),
        "{out}"
    );
    // The remediation, once per policy in the closing table.
    assert!(out.contains("how to fix:"));
    assert!(
        !out.contains("cdb_secure_password"),
        "secret leaked into a snippet"
    );
    assert!(!out.contains("admin123"));
}

#[test]
fn broken_yaml_is_an_error_naming_file_and_line_and_others_still_checked() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a/docker-compose.yml", "services:\n  a: [1, 2\n");
    write(
        d.path(),
        "b/docker-compose.yml",
        "services:\n  db:\n    image: redis:7\n    ports: [\"6379:6379\"]\n",
    );
    let (code, out, _) = rampart(d.path(), &["check", "--format", "json"]);
    assert_eq!(code, 2);
    let v = json(&out);
    assert_eq!(v["errors"][0]["file"], "a/docker-compose.yml");
    assert_eq!(v["errors"][0]["line"], 2);
    assert!(findings(&v)
        .iter()
        .any(|(p, ..)| p == "compose.datastore-loopback-only"));
}

#[test]
fn bad_policy_exits_2_with_a_located_diagnostic() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", "services: {}\n");
    write(
        d.path(),
        "org.rampart",
        "package org\n\npolicy p {\n  title \"t\"\n  severity high\n  rationale \"r\"\n  for service in compose.services\n  deny service when service.imagee == \"x\"\n}\n",
    );
    let (code, _, err) = rampart(d.path(), &["check", "--policy", "org.rampart"]);
    assert_eq!(code, 2);
    assert!(err.contains("org.rampart:8:29"), "{err}");
    assert!(err.contains("did you mean `image`?"), "{err}");

    write(d.path(), "syntax.rampart", "package org\npolicy q {\n  title \"t\"\n  severity high\n  rationale \"r\"\n  for s in compose.services\n  deny s when s.user == (\n}\n");
    let (code, _, err) = rampart(d.path(), &["check", "--policy", "syntax.rampart"]);
    assert_eq!(code, 2);
    assert!(err.contains("syntax.rampart:"), "{err}");
}

#[test]
fn fail_on_and_profiles() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", "services:\n  web:\n    image: nginx:1.27\n    user: \"101\"\n    read_only: true\n    cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n    mem_limit: 256m\n    cpus: \"0.5\"\n    pids_limit: 100\n    healthcheck: { test: [\"CMD\", \"true\"] }\n    ports: [\"8080:80\"]\n");
    let (code, out, _) = rampart(d.path(), &["check", "--format", "json"]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = rampart(
        d.path(),
        &["check", "--profile", "strict", "--format", "json"],
    );
    assert_eq!(code, 1);
    assert!(findings(&json(&out))
        .iter()
        .any(|(p, ..)| p == "compose.ports-host-ip-explicit"));
    let (code, _, _) = rampart(
        d.path(),
        &["check", "--profile", "strict", "--fail-on", "medium"],
    );
    assert_eq!(code, 0);
}

#[test]
fn discovery_respects_gitignore_in_a_work_tree_and_explicit_files() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join(".git")).unwrap();
    write(d.path(), ".gitignore", "ignored/\n");
    let bad = "services:\n  r:\n    image: redis:7\n    ports: [\"6379:6379\"]\n";
    write(d.path(), "ignored/docker-compose.yml", bad);
    write(d.path(), ".hidden/compose.yaml", bad);
    let (_, out, _) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    let files: Vec<String> = findings(&v).iter().map(|_| String::new()).collect();
    assert!(!files.is_empty());
    let report = out.clone();
    assert!(
        report.contains(".hidden/compose.yaml"),
        "hidden files are checked"
    );
    assert!(
        !report.contains("ignored/docker-compose.yml"),
        "gitignored files are skipped"
    );
    let (_, out, _) = rampart(
        d.path(),
        &["check", "--format", "json", "ignored/docker-compose.yml"],
    );
    assert!(
        out.contains("ignored/docker-compose.yml"),
        "a named file is always checked"
    );
    let (_, out, _) = rampart(d.path(), &["check", "--format", "json", "--no-ignore"]);
    assert!(out.contains("ignored/docker-compose.yml"));
}

#[test]
fn output_is_deterministic() {
    let (_, a, _) = rampart(&examples(), &["check", ".", "--format", "json"]);
    let (_, b, _) = rampart(&examples(), &["check", ".", "--format", "json"]);
    assert_eq!(a, b);
}

#[test]
fn list_explain_and_test_commands() {
    let (code, out, _) = rampart(&examples(), &["list"]);
    assert_eq!(code, 0);
    assert!(out.contains("compose.datastore-loopback-only"));
    let (code, out, _) = rampart(&examples(), &["explain", "compose.no-default-secrets"]);
    assert_eq!(code, 0);
    assert!(out.contains("## Remediation") && out.contains("000_ecf7841f01b2b484.txt"));
    let (code, _, err) = rampart(&examples(), &["explain", "compose.no-default-secret"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean"));
    let (code, out, _) = rampart(&examples(), &["test"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.trim_end().ends_with("0 failed"));
}

#[test]
fn missing_path_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = rampart(d.path(), &["check", "nope", "--format", "json"]);
    assert_eq!(code, 2);
    assert!(out.contains("no such file"));
}
