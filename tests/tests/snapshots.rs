//! Snapshot tests of every output of the CLI (`check` in each format, `test`,
//! `explain`, `schema`, `list`) on the small trees under
//! `tests/fixtures/snapshots/`, so that a restructuring is shown to preserve
//! behaviour. Each run is in-process, in a temporary copy of its fixture, so
//! paths in the output are relative and stable.
//!
//! Redaction (post-processing in [`snap`], not insta filters): the temporary
//! directory's path becomes `[TMP]` and the crate version (SARIF's
//! `tool.driver.version`) `[VERSION]`. The
//! outputs hold no dates of their own (the waivers' `expires` are fixed) and
//! no durations.
//!
//! A missing or changed snapshot fails `cargo test`; on CI (`CI=true`, and
//! `.ci/run` sets `INSTA_UPDATE=no`) no `.snap.new` is written. To review a
//! change locally: `cargo insta review`, or `INSTA_UPDATE=always cargo test
//! -p rampart-tests --test integration snapshots::` and read the diff.

use std::fs;
use std::path::{Path, PathBuf};

use rampart_tests::rampart;

const FORMATS: [&str; 7] = [
    "text", "json", "sarif", "junit", "github", "short", "gitlab",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("snapshots")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    let mut entries: Vec<_> = fs::read_dir(from).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            fs::copy(&src, &dst).unwrap();
        }
    }
}

/// A temporary copy of a fixture (or an empty directory for `None`).
fn workdir(name: Option<&str>) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    if let Some(name) = name {
        copy_dir(&fixture(name), d.path());
    }
    d
}

/// Runs the CLI in `dir` and renders exit code, stdout and stderr as one
/// redacted text.
fn snap(dir: &Path, args: &[&str]) -> String {
    let (code, out, err) = rampart(dir, args);
    let text = format!(
        "$ rampart {}\nexit: {code}\n--- stdout\n{out}\n--- stderr\n{err}",
        args.join(" ")
    );
    redact(&text, dir)
}

fn redact(text: &str, dir: &Path) -> String {
    let mut text = text.to_string();
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for p in [canonical.as_path(), dir] {
        text = text.replace(&*p.to_string_lossy(), "[TMP]");
    }
    let version = env!("CARGO_PKG_VERSION");
    text.replace(&format!("rampart {version}"), "rampart [VERSION]")
        .replace(
            &format!("\"version\": \"{version}\""),
            "\"version\": \"[VERSION]\"",
        )
}

fn check_every_format(fixture_name: &str, extra: &[&str]) {
    let d = workdir(Some(fixture_name));
    for format in FORMATS {
        let mut args = vec!["check", "--format", format];
        args.extend_from_slice(extra);
        insta::assert_snapshot!(
            format!("check_{fixture_name}_{format}"),
            snap(d.path(), &args)
        );
    }
}

/// Findings in every input format, a waiver that hides one and one that
/// matches nothing, `rampart:ignore` in compose and nginx (and one without a
/// reason in the Dockerfile: a warning that still suppresses), a warning (a
/// missing `env_file`) and an input error (broken YAML).
#[test]
fn check_mixed() {
    check_every_format("mixed", &[]);
}

#[test]
fn check_mixed_verbose() {
    let d = workdir(Some("mixed"));
    insta::assert_snapshot!(snap(d.path(), &["check", "--verbose"]));
}

/// `--quiet`: the summary only (and the errors, one line each).
#[test]
fn check_mixed_quiet() {
    let d = workdir(Some("mixed"));
    insta::assert_snapshot!(snap(d.path(), &["check", "--quiet"]));
}

#[test]
fn check_clean() {
    check_every_format("clean", &[]);
}

/// A user policy read through `policies:` in rampart.yaml, with a severity
/// override and type-checker warnings.
#[test]
fn check_user_policy() {
    check_every_format("user-policy", &[]);
}

#[test]
fn test_user_policy() {
    let d = workdir(Some("user-policy"));
    insta::assert_snapshot!(
        "rampart_test_user_policy",
        snap(d.path(), &["test", "policies"])
    );
}

/// `rampart test --format json` on an org policy importing the stdlib's
/// `is_datastore`: a case with params, a fixture folder, a failing case and
/// a `deny` clause no case exercises.
#[test]
fn test_runner_json() {
    let d = workdir(Some("runner"));
    insta::assert_snapshot!(
        "rampart_test_runner_json",
        snap(d.path(), &["test", "policies", "--format", "json"])
    );
}

#[test]
fn test_stdlib() {
    let d = workdir(None);
    insta::assert_snapshot!("rampart_test_stdlib", snap(d.path(), &["test"]));
}

#[test]
fn explain() {
    let d = workdir(None);
    insta::assert_snapshot!(
        "explain_known",
        snap(d.path(), &["explain", "compose.no-privileged"])
    );
    insta::assert_snapshot!(
        "explain_typo",
        snap(d.path(), &["explain", "compose.no-privilege"])
    );
}

#[test]
fn schema() {
    let d = workdir(None);
    insta::assert_snapshot!("schema_all", snap(d.path(), &["schema"]));
    insta::assert_snapshot!("schema_compose", snap(d.path(), &["schema", "compose"]));
    insta::assert_snapshot!("schema_unknown", snap(d.path(), &["schema", "compse"]));
    // The Caddy format's names: the target, the help text's and the file's.
    for (snapshot, name) in [
        ("schema_name_caddy", "caddy"),
        ("schema_name_lower_caddyfile", "caddyfile"),
        ("schema_name_upper_caddyfile", "Caddyfile"),
    ] {
        insta::assert_snapshot!(snapshot, snap(d.path(), &["schema", name]));
    }
    insta::assert_snapshot!("schema_help", snap(d.path(), &["schema", "--help"]));
}

#[test]
fn list() {
    let d = workdir(None);
    insta::assert_snapshot!(snap(d.path(), &["list"]));
}
