//! Defs are inlined hygienically: a macro variable inside a def body does
//! not capture a name of the call site, and the other way round.

use rampart_tests::write;
use rampart_tests::{findings, json, rampart};

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

/// Runs `check` on a policy, text output; (exit, stdout and stderr).
fn check_text(policy: &str) -> (i32, String) {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "p.rampart", policy);
    write(d.path(), "repo/docker-compose.yml", COMPOSE);
    let (code, out, err) = rampart(
        d.path(),
        &["check", "--no-stdlib", "--policy", "p.rampart", "repo"],
    );
    (code, format!("{out}{err}"))
}

#[test]
fn a_typo_in_a_def_body_is_an_error_at_the_def() {
    // Before, def calls were `Any` and their bodies never checked: the
    // policy compiled and silently never fired.
    let text = policy(
        "def is_named(s, n) = s.imag.name == n",
        "service",
        "is_named(service, \"redis\")",
    );
    let (code, all) = check_text(&text);
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("error[E0202]"), "{all}");
    assert!(all.contains("has no field `imag`"), "{all}");
    // At the def body, line 2 column 24 (`imag`), not at the call.
    assert!(all.contains("p.rampart:2:24"), "{all}");

    let text = policy(
        "def busy(s) = sizee(s.environment) > 0",
        "service",
        "busy(service)",
    );
    let (code, all) = check_text(&text);
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("error[E0304]"), "{all}");
    assert!(all.contains("unknown function `sizee`"), "{all}");
    assert!(all.contains("p.rampart:2:15"), "{all}");
}

#[test]
fn a_def_body_is_checked_with_its_argument_types() {
    // `n` is a string at the call: comparing it to a number is an error.
    let text = policy(
        "def named(s, n) = s.name == n && n > 1",
        "service",
        "named(service, \"cache\")",
    );
    let (code, all) = check_text(&text);
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("p.rampart:2:"), "{all}");
    // A def result has its body's type at the call site.
    let text = policy(
        "def label(s) = s.name + \"!\"",
        "service",
        "label(service) > 1",
    );
    let (code, all) = check_text(&text);
    assert_eq!(code, 2, "{all}");
    assert!(all.contains("p.rampart:9:"), "{all}");
}

#[test]
fn an_unused_def_is_a_warning() {
    let text = policy(
        "def unused(s) = s.imag.name == \"x\"\ndef used(s) = s.name == \"cache\"",
        "service",
        "used(service)",
    );
    let (code, all) = check_text(&text);
    assert_eq!(code, 1, "{all}");
    assert!(all.contains("warning[W0311]"), "{all}");
    assert!(all.contains("def `unused` is never used"), "{all}");
    assert!(!all.contains("`used` is never used"), "{all}");
}

#[test]
fn an_error_in_a_def_body_is_reported_once() {
    let text = format!(
        "{}policy other {{\n  title \"t\"\n  severity low\n  rationale \"r\"\n  for s in compose.services\n  deny s when is_named(s, \"web\")\n}}\n",
        policy(
            "def is_named(s, n) = s.imag.name == n",
            "service",
            "is_named(service, \"redis\") || is_named(service, \"x\")",
        )
    );
    let (code, all) = check_text(&text);
    assert_eq!(code, 2, "{all}");
    assert_eq!(all.matches("error[E0202]").count(), 1, "{all}");
}
