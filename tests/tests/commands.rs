//! End-to-end tests of `rampart fmt`, `rampart schema`, and the type
//! checker's diagnostics as the CLI shows them.

use std::fs;
use std::path::Path;

use rampart_tests::rampart;
use rampart_tests::write;

const MESSY: &str = "// org policies\npackage org   // ours\n\n\n    // why\nparam caps : list<string> = [\"NET_ADMIN\"] // allowed\npolicy p {\n      title \"t\"\n   severity low // for now\n rationale \"r\"\n   for s in compose.services\n   // each cap\n   for c in s.cap_add\n   deny c when !(c in caps)\n}\n";

#[test]
fn fmt_check_lists_unformatted_files_and_fmt_rewrites_them() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "policies/org.rampart", MESSY);
    let tidy = rampart_lang::format(MESSY).unwrap();
    write(d.path(), "policies/tidy.rampart", &tidy);
    let (code, out, _) = rampart(d.path(), &["fmt", "--check"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("would reformat policies/org.rampart"), "{out}");
    assert!(!out.contains("tidy.rampart"), "{out}");
    assert_eq!(
        fs::read_to_string(d.path().join("policies/org.rampart")).unwrap(),
        MESSY,
        "--check writes nothing"
    );

    let (code, out, _) = rampart(d.path(), &["fmt", "policies"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("formatted policies/org.rampart"), "{out}");
    let formatted = fs::read_to_string(d.path().join("policies/org.rampart")).unwrap();
    assert_eq!(formatted, tidy);
    for c in [
        "// org policies",
        "// ours",
        "// why",
        "// allowed",
        "// for now",
        "// each cap",
    ] {
        assert!(formatted.contains(c), "lost {c}: {formatted}");
    }
    assert!(formatted.contains("\n  // each cap\n  for c in s.cap_add\n"));
    let (code, _, _) = rampart(d.path(), &["fmt", "--check"]);
    assert_eq!(code, 0);
}

#[test]
fn fmt_reports_syntax_errors_and_empty_trees() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = rampart(d.path(), &["fmt"]);
    assert_eq!(code, 0);
    assert!(err.contains("no `.rampart` files found"), "{err}");
    write(d.path(), "bad.rampart", "package x\npolicy {\n");
    let (code, _, err) = rampart(d.path(), &["fmt", "bad.rampart"]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.rampart:2:8"), "{err}");
}

#[test]
fn schema_prints_fields_with_types_and_docs() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = rampart(d.path(), &["schema", "compose"]);
    assert_eq!(code, 0);
    assert!(out.contains("Service — "), "{out}");
    let image = out
        .lines()
        .find(|l| l.trim_start().starts_with("image?"))
        .unwrap();
    assert!(
        image.contains("ImageRef") && image.contains("`image:` parsed"),
        "{image}"
    );
    let (code, out, _) = rampart(d.path(), &["schema"]);
    assert_eq!(code, 0);
    for t in ["compose", "dockerfile", "dotenv", "nginx", "caddy", "http"] {
        assert!(
            out.contains(&format!("\n{t} — ")) || out.starts_with(&format!("{t} — ")),
            "{t}"
        );
    }
    let (code, _, err) = rampart(d.path(), &["schema", "compse"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `compose`?"), "{err}");
}

/// `rampart schema --help` offers exactly the targets the command accepts
/// (it once offered `caddyfile`, which the command rejected).
#[test]
fn schema_help_offers_the_accepted_targets() {
    let d = tempfile::tempdir().unwrap();
    let (_, out, err) = rampart(d.path(), &["schema", "--help"]);
    let help = format!("{out}{err}");
    let line = help.lines().find(|l| l.contains("One target")).unwrap();
    let offered: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
    let targets: Vec<&str> = rampart_runtime::project::Target::all()
        .into_iter()
        .map(|t| t.name())
        .collect();
    assert_eq!(offered, targets, "{line}");
    assert!(!offered.contains(&"caddyfile"), "{line}");
    for t in offered {
        let (code, _, err) = rampart(d.path(), &["schema", t]);
        assert_eq!(code, 0, "{t}: {err}");
    }
}

fn policy(dir: &Path, clauses: &str) -> (i32, String) {
    write(
        dir,
        "org.rampart",
        format!("package org\n\npolicy p {{\n  title \"t\"\n  severity high\n  rationale \"r\"\n{clauses}\n}}\n"),
    );
    let (code, _, err) = rampart(dir, &["check", "--no-stdlib", "--policy", "org.rampart"]);
    (code, err)
}

#[test]
fn type_errors_stop_the_check_and_point_into_the_policy() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", "services: {}\n");
    let (code, err) = policy(
        d.path(),
        "  for service in compose.services\n  deny service when service.imagee == \"x\"",
    );
    assert_eq!(code, 2);
    assert!(err.contains("org.rampart:8:29"), "{err}");
    assert!(err.contains("did you mean `image`?"), "{err}");

    let (code, err) = policy(
        d.path(),
        "  for service in compose.services\n  deny service when service.ports.all(p, p.host_ip == 5)",
    );
    assert_eq!(code, 2);
    assert!(err.contains("error[E0303]"), "{err}");
    assert!(
        err.contains("cannot compare a `string` with an `int`"),
        "{err}"
    );

    let (code, err) = policy(
        d.path(),
        "  for service in compose.services\n  deny service when is_loopbak(service.name)",
    );
    assert_eq!(code, 2);
    assert!(err.contains("unknown function `is_loopbak`"), "{err}");
    assert!(err.contains("did you mean `is_loopback`?"), "{err}");

    let (code, err) = policy(
        d.path(),
        "  for service in compose.services\n  deny service when size(service.ports.size()) > 1",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("`size` needs a `string`, `list` or `map` argument, found an `int`"),
        "{err}"
    );
}

#[test]
fn an_unguarded_optional_field_is_a_warning_not_an_error() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  a: {image: \"x:1\", user: root}\n",
    );
    let (code, err) = policy(
        d.path(),
        "  for service in compose.services\n  deny service when service.user == \"root\"",
    );
    assert_eq!(code, 1, "the policy still runs: {err}");
    assert!(err.contains("warning[W0310]"), "{err}");
    assert!(err.contains("`service.user` may be absent"), "{err}");
    let (_, err) = policy(
        d.path(),
        "  for service in compose.services\n  where has(service.user)\n  deny service when service.user == \"root\"",
    );
    assert!(!err.contains("W0310"), "{err}");
}
