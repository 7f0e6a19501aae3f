//! Which files a run checks (issue 10): git-aware discovery (tracked files
//! are checked whatever `.gitignore` says), unresolved references visible in
//! every format, and a `rampart.yaml` found from the working directory up to
//! the repository's top whatever the path arguments.

use std::path::Path;
use std::process::Command;

use rampart_tests::{json, rampart, write};

/// Runs `git` in `dir` with no user or system configuration; `false` when
/// git cannot be run. Under CI (or with the shared corpus required) a missing
/// git is a failure, not a skip.
fn git(dir: &Path, args: &[&str]) -> bool {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=rampart-test",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .output();
    match out {
        Ok(o) if o.status.success() => true,
        Ok(o) => panic!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            let required = std::env::var_os("CI").is_some()
                || std::env::var_os(rampart_tests::REQUIRE_SHARED_VAR).is_some();
            assert!(!required, "git is needed to build the test repository: {e}");
            eprintln!("SKIPPED: git cannot be run ({e})");
            false
        }
    }
}

/// A git repository in `dir` with every file written so far committed, and
/// `forced` added past `.gitignore` (`git add -f`).
fn commit_all(dir: &Path, forced: &[&str]) -> bool {
    if !git(dir, &["init", "-q"]) {
        return false;
    }
    git(dir, &["add", "-A"]);
    if !forced.is_empty() {
        let mut args = vec!["add", "-f", "--"];
        args.extend_from_slice(forced);
        git(dir, &args);
    }
    git(dir, &["commit", "-q", "-m", "init"])
}

fn policies_of(v: &serde_json::Value) -> Vec<String> {
    let mut p: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["file"].as_str().unwrap(),
                f["policy"].as_str().unwrap()
            )
        })
        .collect();
    p.sort();
    p.dedup();
    p
}

#[test]
fn committed_env_listed_in_gitignore_is_checked() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(root, ".gitignore", ".env\nsecrets/\n");
    write(root, ".env", "DB_PASSWORD=admin\n");
    write(root, "secrets/.env", "DB_PASSWORD=changeme\n");
    write(root, "app/.env", "DB_PASSWORD=admin\n");
    write(
        root,
        "app/docker-compose.yml",
        "services:\n  a:\n    image: nginx:1.27\n",
    );
    if !commit_all(root, &[".env", "secrets/.env", "app/.env"]) {
        return;
    }
    // Ignored and untracked, beside tracked ones: still not checked.
    write(root, "secrets/other.env", "DB_PASSWORD=password\n");
    write(root, "scratch.env", "DB_PASSWORD=password\n");
    write(root, "app/scratch.env", "DB_PASSWORD=password\n");
    std::fs::write(root.join(".gitignore"), ".env\nsecrets/\nscratch.env\n").unwrap();

    let (code, out, err) = rampart(root, &["check", ".", "--format", "json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let v = json(&out);
    let files: Vec<String> = policies_of(&v)
        .iter()
        .map(|p| p.split(' ').next().unwrap().to_string())
        .collect();
    assert!(files.contains(&".env".to_string()), "{out}");
    assert!(files.contains(&"secrets/.env".to_string()), "{out}");
    assert!(
        !files
            .iter()
            .any(|f| f.contains("other") || f.contains("scratch")),
        "{out}"
    );
    assert!(files.contains(&"app/.env".to_string()), "{out}");
    assert_eq!(v["summary"]["files"], 4, "{out}");

    // `-v` says why a file `.gitignore` matches was checked.
    let (_, _, err) = rampart(root, &["check", ".", "-v"]);
    assert!(
        err.contains(".env: tracked by git although `.gitignore` matches it; checked"),
        "{err}"
    );

    // Run from a subdirectory of the work tree: the index and the
    // `.gitignore` are found above it.
    let (code, out, _) = rampart(&root.join("app"), &["check", ".", "--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let v = json(&out);
    assert_eq!(v["summary"]["files"], 2, "{out}");
    assert!(
        policies_of(&v).iter().any(|p| p.starts_with(".env ")),
        "{out}"
    );
    assert!(!out.contains("scratch"), "{out}");
}

#[test]
fn git_file_pointing_outside_the_work_tree_falls_back_with_a_note() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("repo");
    write(&root, ".gitignore", ".env\n");
    write(&root, ".env", "DB_PASSWORD=admin\n");
    if !commit_all(&root, &[".env"]) {
        return;
    }
    // The real git directory moves outside; `.git` becomes a pointer to it.
    std::fs::rename(root.join(".git"), d.path().join("gitdir")).unwrap();
    std::fs::write(root.join(".git"), "gitdir: ../gitdir\n").unwrap();
    let (code, out, err) = rampart(&root, &["check", ".", "-v"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("points outside the work tree"), "{err}");
    assert!(out.contains("no input file found"), "{out}");
}

#[test]
fn unresolved_references_are_warnings_in_every_format() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(
        root,
        "docker-compose.yml",
        "services:\n  app:\n    image: nginx:1.27\n    env_file: missing.env\n",
    );
    write(
        root,
        "web/nginx.conf",
        "events {}\nhttp {\n  include conf.d/missing.conf;\n}\n",
    );
    let (_, out, err) = rampart(root, &["check", "--format", "json"]);
    let v = json(&out);
    let warnings = v["warnings"].as_array().unwrap();
    let find = |needle: &str| {
        warnings
            .iter()
            .find(|w| w["message"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no warning naming {needle}: {out}\n{err}"))
    };
    let env = find("missing.env");
    assert_eq!(env["file"], "docker-compose.yml");
    assert_eq!(env["line"], 4);
    assert_eq!(env["code"], "link-unresolved");
    let inc = find("conf.d/missing.conf");
    assert_eq!(inc["file"], "web/nginx.conf");
    assert_eq!(inc["line"], 3);
    assert_eq!(inc["code"], "nginx-include-unresolved");

    let (_, out, _) = rampart(root, &["check", "--format", "sarif"]);
    let sarif = json(&out);
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    for (needle, file) in [
        ("missing.env", "docker-compose.yml"),
        ("conf.d/missing.conf", "web/nginx.conf"),
    ] {
        let n = notes
            .iter()
            .find(|n| n["message"]["text"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no notification naming {needle}: {out}"));
        assert_eq!(n["level"], "warning");
        assert_eq!(
            n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            file
        );
    }

    let (_, out, _) = rampart(root, &["check"]);
    assert!(
        out.contains("missing.env") && out.contains("conf.d/missing.conf"),
        "{out}"
    );
    assert!(out.contains(" warnings · "), "{out}");
    let (_, out, _) = rampart(root, &["check", "--format", "github"]);
    assert!(
        out.lines().any(
            |l| l.starts_with("::warning file=docker-compose.yml,line=4")
                && l.contains("missing.env")
        ),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("::warning file=web/nginx.conf,line=3")),
        "{out}"
    );
}

/// A repository with `rampart.yaml` at its top (strict profile) and a
/// `web/` directory, and `plain.yaml` beside the repository.
fn repo_with_config() -> Option<tempfile::TempDir> {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "plain.yaml", "profile: recommended\n");
    let root = d.path().join("repo");
    write(&root, "rampart.yaml", "profile: strict\n");
    write(
        &root,
        "web/nginx.conf",
        "events {}\nhttp {\n  server {\n    listen 443 ssl;\n    server_name example.com;\n  }\n}\n",
    );
    write(
        &root,
        "docker-compose.yml",
        "services:\n  app:\n    image: nginx:1.27\n",
    );
    commit_all(&root, &[]).then_some(d)
}

#[test]
fn root_config_is_used_whatever_the_path_arguments() {
    let Some(d) = repo_with_config() else { return };
    let root = d.path().join("repo");
    let policies = |cwd: &Path, args: &[&str]| {
        let mut a = vec!["check", "--format", "json"];
        a.extend_from_slice(args);
        let (code, out, err) = rampart(cwd, &a);
        assert_ne!(code, 2, "{args:?}: {out}\n{err}");
        let v = json(&out);
        (
            v["config"].as_str().map(str::to_string),
            v["summary"]["policies"].as_u64().unwrap(),
        )
    };
    let (config, strict) = policies(&root, &[]);
    assert_eq!(config.as_deref(), Some("rampart.yaml"));
    let (plain, recommended) = policies(&root, &["--config", "../plain.yaml", "web"]);
    assert!(plain.unwrap().ends_with("plain.yaml"));
    assert!(strict > recommended, "{strict} vs {recommended}");
    for args in [
        &["web/"][..],
        &["web/nginx.conf", "docker-compose.yml"],
        &["docker-compose.yml", "web/nginx.conf"],
    ] {
        assert_eq!(
            policies(&root, args),
            (Some("rampart.yaml".into()), strict),
            "{args:?}"
        );
    }
    // From a subdirectory: the top's config, named relative to the working
    // directory (never an absolute path of the machine).
    let (config, n) = policies(&root.join("web"), &["."]);
    assert_eq!(n, strict);
    assert_eq!(config.as_deref(), Some("../rampart.yaml"));
    // From outside the repository (no config there), naming it: its config.
    let (config, n) = policies(d.path(), &["repo/web"]);
    assert_eq!((config.as_deref(), n), (Some("repo/rampart.yaml"), strict));

    // The text summary and SARIF name it too.
    let (_, out, _) = rampart(&root, &["check", "web/"]);
    assert!(out.contains("\nconfig: rampart.yaml\n"), "{out}");
    let (_, out, _) = rampart(&root, &["check", "web/", "--format", "sarif"]);
    assert_eq!(
        json(&out)["runs"][0]["invocations"][0]["properties"]["config"],
        "rampart.yaml"
    );
}

#[test]
fn a_run_that_checked_nothing_says_so() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "README.md", "# nothing to check\n");
    let (code, out, _) = rampart(d.path(), &["check", "--format", "json"]);
    assert_eq!(code, 0);
    let v = json(&out);
    assert_eq!(v["summary"]["files"], 0);
    assert_eq!(v["warnings"][0]["code"], "no-inputs", "{out}");
    let (_, out, _) = rampart(d.path(), &["check"]);
    assert!(
        out.contains("no input file found in `.`; nothing was checked"),
        "{out}"
    );
}

#[test]
fn a_config_above_the_repository_is_never_read() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "rampart.yaml", "not: [valid\n");
    let root = d.path().join("repo");
    write(
        &root,
        "web/docker-compose.yml",
        "services:\n  app:\n    image: nginx:1.27\n",
    );
    if !commit_all(&root, &[]) {
        return;
    }
    for cwd in [root.clone(), root.join("web")] {
        let (code, out, err) = rampart(&cwd, &["check", "--format", "json"]);
        assert_ne!(code, 2, "{out}\n{err}");
        assert_eq!(json(&out)["config"], serde_json::Value::Null, "{out}");
    }
}

#[test]
fn compose_extends_is_resolved_and_a_missing_target_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(
        root,
        "docker-compose.yml",
        "services:\n  web:\n    extends:\n      file: common.yml\n      service: base\n    image: nginx:1.27\n  worker:\n    extends: web\n  lost:\n    extends: {service: nowhere}\n    image: nginx:1.27\n  gone:\n    extends: {file: missing.yml, service: x}\n    image: nginx:1.27\n",
    );
    write(
        root,
        "common.yml",
        "services:\n  base:\n    privileged: true\n",
    );
    let (code, out, err) = rampart(root, &["check", "--format", "json"]);
    assert_eq!(code, 1, "{out}\n{err}");
    let v = json(&out);
    let privileged: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["policy"] == "compose.no-privileged")
        .map(|f| {
            format!(
                "{}:{} {}",
                f["file"].as_str().unwrap(),
                f["line"],
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        privileged,
        // One node reached by both services: one finding (the precision
        // issue's one-finding-per-root-cause), naming the other service.
        ["common.yml:3 `web` runs privileged (shared definition, reported once: it also reaches `worker`)"],
        "{out}"
    );
    let warnings: Vec<(String, u64, String)> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["code"].as_str().unwrap().to_string(),
                w["line"].as_u64().unwrap(),
                w["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        warnings
            .iter()
            .any(|(c, l, m)| c == "compose-extends-unresolved"
                && *l == 10
                && m.contains("`nowhere`")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|(c, l, m)| c == "link-unresolved" && *l == 13 && m.contains("missing.yml")),
        "{warnings:?}"
    );
    let (_, out, _) = rampart(root, &["check", "--format", "sarif"]);
    let sarif = json(&out);
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(
        notes.contains("nowhere") && notes.contains("missing.yml"),
        "{notes}"
    );
}

#[test]
fn a_link_to_an_input_is_checked_once_where_the_file_lies() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    write(
        root,
        "compose.yaml",
        b"services:\n  web:\n    image: nginx:1.25\n    privileged: true\n",
    );
    std::os::unix::fs::symlink("compose.yaml", root.join("docker-compose.yml")).unwrap();
    let (_, out, _) = rampart(root, &["check", ".", "--format", "json"]);
    let report = json(&out);
    assert_eq!(report["summary"]["files"], 1, "{out}");
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["file"].as_str())
        .collect();
    assert!(
        !files.is_empty() && files.iter().all(|f| *f == "compose.yaml"),
        "{files:?}"
    );
    let (_, text, err) = rampart(root, &["check", ".", "--verbose"]);
    assert!(
        format!("{text}{err}").contains(
            "docker-compose.yml: a link to a file checked under its own name; not checked twice"
        ),
        "{text}{err}"
    );
}
