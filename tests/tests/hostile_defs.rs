//! Defs are inlined hygienically: a macro variable inside a def body does
//! not capture a name of the call site, and the other way round.

use std::fs;
use std::path::Path;

use rampart_tests::{findings, json, rampart};

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

const COMPOSE: &str = "services:\n  cache:\n    image: redis:7\n    environment:\n      redis: \"1\"\n  web:\n    image: nginx:1\n    environment:\n      redis: \"1\"\n";

/// Runs `check --no-stdlib --policy <file> --format json` on the compose file.
fn check(policy: &str) -> (i32, serde_json::Value, String) {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "p.rampart", policy);
    write(d.path(), "repo/docker-compose.yml", COMPOSE);
    let (code, out, err) = rampart(
        d.path(),
        &[
            "check",
            "--no-stdlib",
            "--policy",
            "p.rampart",
            "--format",
            "json",
            "repo",
        ],
    );
    (code, json(&out), format!("{out}{err}"))
}

fn policy(defs: &str, binding: &str, when: &str) -> String {
    format!(
        "package capture\n{defs}\npolicy env-named-like-image {{\n  title \"t\"\n  severity low\n  rationale \"r\"\n  for {binding} in compose.services\n  where has({binding}.image)\n  deny {binding} when {when}\n}}\n"
    )
}

#[test]
fn a_def_variable_does_not_capture_the_callers_binding() {
    // Inlined as text this was `(h.environment).exists(h, h.name == (h.image.name))`:
    // the argument's `h` (a service) became the body's `h` (an environment
    // entry), which has no `image`: an error at run time on every input.
    let text = policy(
        "def any_named(xs, n) = xs.exists(h, h.name == n)",
        "h",
        "any_named(h.environment, h.image.name)",
    );
    let (code, report, all) = check(&text);
    assert_eq!(code, 1, "{all}");
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{all}");
    assert_eq!(f[0].0, "capture.env-named-like-image", "{all}");
    assert_eq!(f[0].1, 2, "the `cache` service: {all}");
    assert!(!all.contains("no such key"), "{all}");
}

#[test]
fn a_callers_variable_does_not_capture_a_def_body_name() {
    // The body's `service` is the policy's binding; the caller's macro
    // variable of the same name must not take its place.
    let text = policy(
        "def image_is(n) = service.image.name == n",
        "service",
        "service.environment.exists(service, image_is(service.name))",
    );
    let (code, report, all) = check(&text);
    assert_eq!(code, 1, "{all}");
    assert_eq!(findings(&report).len(), 1, "{all}");
}
