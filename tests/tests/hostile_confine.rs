//! Confinement end to end (issue 8): a repository cannot make rampart read,
//! or print, a file outside the scan root — through committed symbolic links
//! (`etclink -> /etc`, `proclink -> /proc`, a link to a sibling directory),
//! through `policies:` in its `rampart.yaml`, or through special files. The
//! valid file beside the hostile ones is still reported.
//!
//! The content that must never appear is a file outside the root created by
//! the test (a sibling of the repository holding a distinctive token), plus
//! `/etc/passwd`'s first line.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;

use rampart_tests::{findings, json, rampart};
use rampart_tests::{write, CANARY};

const TOKEN: &str = "OUTSIDE_TOKEN_7f3a";
const PASSWD: &str = "root:x:0:0";

/// `<tmp>/outside/…` full of the token (in shapes each reader would parse,
/// and would echo in a snippet), and `<tmp>/repo` linking to it.
fn hostile_tree() -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("outside");
    write(
        &out,
        "secret.env",
        format!("API_TOKEN={TOKEN}\n{TOKEN} not env\n"),
    );
    write(
        &out,
        "Dockerfile",
        format!("FROM {TOKEN}\nRUN {TOKEN} ((\n"),
    );
    write(
        &out,
        "site.caddy",
        format!(":81 {{\n  respond \"{TOKEN}\"\n  {TOKEN} {{{{\n"),
    );
    write(&out, "ignore", format!("{TOKEN}\n"));
    write(&out, "inc.conf", format!("{TOKEN} {{ ;;\n"));
    write(&out, "p.rampart", format!("{TOKEN} garbage\n"));
    let repo = d.path().join("repo");
    fs::create_dir_all(&repo).unwrap();
    symlink("/etc", repo.join("etclink")).unwrap();
    symlink("/proc", repo.join("proclink")).unwrap();
    symlink("../outside", repo.join("outlink")).unwrap();
    symlink("../outside/ignore", repo.join(".dockerignore")).unwrap();
    symlink("../outside/ignore", repo.join(".gitignore")).unwrap();
    // A committed link named like an input: an error, never read.
    symlink("../outside/secret.env", repo.join("prod.env")).unwrap();
    write(
        &repo,
        "docker-compose.yml",
        "services:\n  app:\n    image: alpine:3.20\n    env_file:\n      - etclink/passwd\n      - proclink/self/environ\n      - outlink/secret.env\n    build:\n      context: .\n      dockerfile: etclink/passwd\n  web:\n    image: alpine:3.20\n    build:\n      context: .\n      dockerfile: outlink/Dockerfile\n",
    );
    write(&repo, ".env", "A=1\n");
    write(&repo, "Dockerfile", "FROM alpine:3.20\n");
    write(
        &repo,
        "Caddyfile",
        "import proclink/self/environ\nimport outlink/site.caddy\nimport etclink/passwd\n:80 {\n  respond \"hi\"\n}\n",
    );
    write(
        &repo,
        "nginx.conf",
        "events {}\nhttp {\n  include outlink/inc.conf;\n  include etclink/passwd;\n  server { listen 80; }\n}\n",
    );
    write(&repo, "canary/docker-compose.yml", CANARY);
    (d, repo)
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(TOKEN),
        "{what}: outside content printed:\n{text}"
    );
    assert!(
        !text.contains(PASSWD),
        "{what}: /etc/passwd printed:\n{text}"
    );
}

const FORMATS: [&str; 6] = ["text", "json", "sarif", "github", "junit", "short"];

#[test]
fn links_out_of_the_root_are_never_followed_in_any_format() {
    let (_d, repo) = hostile_tree();
    for format in FORMATS {
        let (code, out, err) = rampart(&repo, &["check", "--format", format, "--verbose"]);
        assert!((0..=2).contains(&code), "{format}: exit {code}");
        assert_clean(&format!("{format} stdout"), &out);
        assert_clean(&format!("{format} stderr"), &err);
    }
    let (_, out, err) = rampart(&repo, &["check", "--format", "json"]);
    let v = json(&out);
    assert!(
        findings(&v)
            .iter()
            .any(|(p, ..)| p == "compose.datastore-loopback-only"),
        "the canary was not checked: {out}{err}"
    );
    let warnings = v["warnings"].to_string();
    // Each refused link is named, located where it was referenced.
    for named in [
        "env_file `etclink/passwd` was not read: the symbolic link `etclink` leads outside",
        "env_file `proclink/self/environ` was not read: the symbolic link `proclink` leads outside",
        "env_file `outlink/secret.env` was not read: the symbolic link `outlink` leads outside",
        "build Dockerfile `etclink/passwd` was not read",
        "build Dockerfile `outlink/Dockerfile` was not read",
        "import `proclink/self/environ` was not read: the symbolic link `proclink` leads outside",
        "import `outlink/site.caddy` was not read",
        "the symbolic link `.gitignore` leads outside",
        "ignore file `.dockerignore` was not read: the symbolic link `.dockerignore` leads outside",
    ] {
        assert!(
            warnings.contains(named),
            "no warning `{named}` in {warnings}"
        );
    }
    // The input-named link out of the root is an error naming it.
    let errors = v["errors"].to_string();
    assert!(
        errors.contains("prod.env") && errors.contains("symbolic link `prod.env` leads outside"),
        "{errors}"
    );
}

#[test]
fn refused_links_are_notes_in_verbose_mode() {
    let (_d, repo) = hostile_tree();
    let (_, _, err) = rampart(&repo, &["check", "--verbose"]);
    assert!(
        err.contains("note: etclink: not read: the symbolic link `etclink` leads outside"),
        "{err}"
    );
    assert!(err.contains("note: proclink:"), "{err}");
}

#[test]
fn config_policies_outside_the_repository_are_errors_and_never_read() {
    for entry in [
        "/proc/self/environ",
        "../outside/p.rampart",
        "../../../../../../../../etc/hostname",
        "/etc",
        "/",
        "outlink/p.rampart",
        "outlink",
    ] {
        let (_d, repo) = hostile_tree();
        write(&repo, "rampart.yaml", format!("policies: [\"{entry}\"]\n"));
        for format in ["text", "json"] {
            let (code, out, err) = rampart(&repo, &["check", "--format", format, "-v"]);
            assert_eq!(code, 2, "{entry}: {out}{err}");
            assert_clean(&format!("policies: [{entry}] stdout"), &out);
            assert_clean(&format!("policies: [{entry}] stderr"), &err);
            assert!(
                err.contains(&format!("cannot read policy path `{entry}`"))
                    && err.contains("outside the repository")
                    && err.contains("rampart.yaml:1:"),
                "{entry}: {err}"
            );
        }
    }
}

#[test]
fn a_config_file_linked_out_of_the_root_is_not_read() {
    let (_d, repo) = hostile_tree();
    symlink("../outside/secret.env", repo.join("rampart.yaml")).unwrap();
    let (code, out, err) = rampart(&repo, &["check"]);
    assert_eq!(code, 2);
    assert_clean("stdout", &out);
    assert_clean("stderr", &err);
    assert!(
        err.contains("the symbolic link `rampart.yaml` leads outside"),
        "{err}"
    );
}

#[test]
fn a_policy_inside_the_repository_is_still_read() {
    let (_d, repo) = hostile_tree();
    write(&repo, "rampart.yaml", "policies: [org]\n");
    write(&repo, "org/p.rampart", "package org\n\npolicy no-alpine {\n  title \"t\"\n  severity low\n  rationale \"r\"\n  for s in compose.services\n  deny s when s.image.name == \"alpine\"\n}\n");
    let (_, out, err) = rampart(&repo, &["check", "--format", "json"]);
    assert!(
        findings(&json(&out))
            .iter()
            .any(|(p, ..)| p == "org.no-alpine"),
        "{out}{err}"
    );
}

#[test]
fn a_command_line_policy_that_is_not_a_policy_file_is_never_echoed() {
    let (d, repo) = hostile_tree();
    let outside = d.path().join("outside/secret.env");
    let (code, out, err) = rampart(
        &repo,
        &[
            "check",
            "--policy",
            outside.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 2);
    assert_clean("stdout", &out);
    assert_clean("stderr", &err);
    assert!(
        err.contains("is not a policy file (policies end in .rampart)"),
        "{err}"
    );
    // Special files are refused even when the operator names them.
    let (code, _, err) = rampart(&repo, &["check", "--policy", "/proc/self/environ"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a regular file"), "{err}");
}

#[test]
fn a_policy_directory_is_walked_without_following_links_out() {
    let (_d, repo) = hostile_tree();
    fs::create_dir_all(repo.join("pol")).unwrap();
    symlink("../../outside/p.rampart", repo.join("pol/evil.rampart")).unwrap();
    let (code, out, err) = rampart(&repo, &["check", "--policy", "pol"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_clean("stdout", &out);
    assert_clean("stderr", &err);
    assert!(err.contains("pol/evil.rampart"), "{err}");
}

#[test]
fn links_inside_the_root_are_followed() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "real/app.env", "DB_PASSWORD=short1\n");
    write(d.path(), "real/site.caddy", ":80 {\n  respond \"hi\"\n}\n");
    symlink("real", d.path().join("cfg")).unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  a:\n    image: alpine:3.20\n    env_file: [cfg/app.env]\n",
    );
    write(d.path(), "Caddyfile", "import cfg/site.caddy\n");
    let (_, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    let w = v["warnings"].to_string();
    assert!(!w.contains("cfg/"), "{w}\n{err}");
    assert!(
        findings(&v).iter().any(|(p, ..)| p.starts_with("http.")),
        "the import through the inside link was not read: {out}"
    );
}

#[test]
fn special_files_are_reported_and_never_opened() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let made = std::process::Command::new("mkfifo")
        .arg(d.path().join("docker-compose.yml"))
        .arg(d.path().join("notes.txt"))
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        return;
    }
    // Opening the FIFO would block forever: finishing is the first assertion.
    let (code, out, err) = rampart(d.path(), &["check", "--format", "json", "-v"]);
    assert_eq!(code, 2, "{out}{err}");
    let v = json(&out);
    let errors = v["errors"].to_string();
    assert!(
        errors.contains("docker-compose.yml") && errors.contains("special file"),
        "{errors}"
    );
    assert!(err.contains("note: notes.txt: a special file"), "{err}");
    assert!(findings(&v)
        .iter()
        .any(|(p, ..)| p == "compose.datastore-loopback-only"));
}

#[test]
fn file_names_differing_in_non_utf8_bytes_are_two_inputs() {
    let d = tempfile::tempdir().unwrap();
    for name in [&b"a\xff.env"[..], &b"a\xfe.env"[..]] {
        fs::write(
            d.path().join(OsStr::from_bytes(name)),
            "DB_PASSWORD=short1\n",
        )
        .unwrap();
    }
    let (_, out, _) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    assert_eq!(v["summary"]["files"], 2, "{out}");
    let files: std::collections::BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["policy"] == "dotenv.secret-min-length")
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    let expected: std::collections::BTreeSet<String> =
        ["a\\xfe.env".to_string(), "a\\xff.env".to_string()].into();
    assert_eq!(files, expected, "{out}");
}

#[test]
fn ignore_files_linked_out_of_the_root_are_not_read() {
    let (d, repo) = hostile_tree();
    fs::create_dir_all(repo.join(".git")).unwrap();
    // Rules outside the root that would hide every input, with the token in a
    // malformed glob (an error message quoting it would leak it).
    write(d.path(), "outside/hide-all", format!("*\n{{{TOKEN}\n"));
    fs::remove_file(repo.join(".gitignore")).unwrap();
    symlink("../outside/hide-all", repo.join(".gitignore")).unwrap();
    symlink("../../outside/hide-all", repo.join("canary/.ignore")).unwrap();
    let (_, out, err) = rampart(&repo, &["check", "--format", "json", "-v"]);
    assert_clean("stdout", &out);
    assert_clean("stderr", &err);
    assert!(
        findings(&json(&out))
            .iter()
            .any(|(p, ..)| p == "compose.datastore-loopback-only"),
        "the linked ignore rules were applied: {out}"
    );
    assert!(
        err.contains("note: .gitignore: ignore rules not read")
            && err.contains("note: canary/.ignore: ignore rules not read"),
        "{err}"
    );
}

#[test]
fn unreadable_nginx_candidates_are_reported() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let mut latin1 = b"events {}\nhttp { server { listen 80; server_name caf".to_vec();
    latin1.extend([0xe9]);
    latin1.extend(b"; } }\n");
    fs::create_dir_all(d.path().join("nginx")).unwrap();
    fs::write(d.path().join("nginx/nginx.conf"), &latin1).unwrap();
    fs::write(d.path().join("other.conf"), &latin1).unwrap();
    let (code, out, err) = rampart(d.path(), &["check", "--format", "json", "-v"]);
    assert_eq!(code, 2, "{out}{err}");
    let errors = json(&out)["errors"].to_string();
    assert!(
        errors.contains("nginx/nginx.conf") && errors.contains("not valid UTF-8"),
        "{errors}"
    );
    // Any candidate that reads as an nginx entry (sniffed with invalid bytes
    // replaced) is an input, so its encoding is an error, not a note.
    assert!(
        errors.contains("other.conf") && !err.contains("note: other.conf"),
        "{errors}\n{err}"
    );
}

#[test]
fn ignore_rules_still_apply_from_the_working_directory_and_nest() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join(".git")).unwrap();
    write(d.path(), ".gitignore", "deploy/old/\n*.tmp.yml\n");
    write(
        d.path(),
        "deploy/.gitignore",
        "!docker-compose.keep.tmp.yml\n",
    );
    write(d.path(), "deploy/old/docker-compose.yml", CANARY);
    write(d.path(), "deploy/new/docker-compose.yml", CANARY);
    write(d.path(), "deploy/compose.drop.tmp.yml", CANARY);
    write(d.path(), "deploy/docker-compose.keep.tmp.yml", CANARY);
    // Scanning a subdirectory: the rules of the working directory still apply.
    let (_, out, _) = rampart(d.path(), &["check", "--format", "json", "deploy"]);
    assert!(out.contains("deploy/new/docker-compose.yml"), "{out}");
    assert!(!out.contains("deploy/old/"), "{out}");
    for args in [
        &["check", "--format", "json"][..],
        &["check", ".", "--format", "json"],
    ] {
        let (_, out, _) = rampart(d.path(), args);
        assert!(out.contains("deploy/new/docker-compose.yml"), "{out}");
        assert!(!out.contains("deploy/old/"), "{out}");
        assert!(!out.contains("compose.drop.tmp.yml"), "{out}");
        assert!(out.contains("docker-compose.keep.tmp.yml"), "{out}");
    }
}
