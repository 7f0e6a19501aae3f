//! End-to-end tests of `rampart.yaml` (params, enable/disable, severity,
//! include/exclude, waivers) and inline `rampart:ignore` suppressions.

use std::path::Path;

use rampart_tests::write;
use rampart_tests::{findings, json, rampart};

const CAPS: &str =
    "services:\n  web:\n    image: nginx:latest\n    cap_add: [NET_BIND_SERVICE, SYS_PTRACE]\n";

fn check(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = rampart(dir, &args);
    (code, json(&out), err)
}

fn has(report: &serde_json::Value, policy: &str) -> bool {
    findings(report).iter().any(|(p, ..)| p == policy)
}

#[test]
fn params_widen_the_capability_allowlist() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CAPS);
    let (_, v, _) = check(d.path(), &[]);
    assert!(
        findings(&v)
            .iter()
            .any(|(p, _, m)| p == "compose.cap-add-allowlist" && m.contains("SYS_PTRACE")),
        "{v:#}"
    );
    write(
        d.path(),
        "rampart.yaml",
        "params: {compose.allowed_caps: [NET_BIND_SERVICE, SYS_PTRACE]}\n",
    );
    let (code, v, err) = check(d.path(), &[]);
    assert_ne!(code, 2, "{err}");
    assert!(!has(&v, "compose.cap-add-allowlist"), "{v:#}");
}

#[test]
fn disable_removes_a_policy_and_enable_adds_one() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CAPS);
    let (_, v, _) = check(d.path(), &[]);
    assert!(has(&v, "compose.image-pinned"));
    assert!(!has(&v, "compose.ports-host-ip-explicit"));
    write(
        d.path(),
        "rampart.yaml",
        "disable: [compose.image-pinned]\nenable: [compose.privileged-*]\n",
    );
    write(
        d.path(),
        "docker-compose.yml",
        format!("{CAPS}    ports: [\"80:80\"]\n"),
    );
    let (code, v, err) = check(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert!(!has(&v, "compose.image-pinned"), "{v:#}");
    // a strict policy turned on by glob
    assert!(has(&v, "compose.privileged-ports"), "{v:#}");
    // disable wins over enable; globs work for both
    write(
        d.path(),
        "rampart.yaml",
        "disable: [\"compose.*\"]\nenable: [compose.image-pinned]\n",
    );
    let (code, v, _) = check(d.path(), &[]);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty(), "{v:#}");
}

#[test]
fn an_expired_waiver_is_a_warning_naming_its_owner_and_hides_nothing() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CAPS);
    write(
        d.path(),
        "rampart.yaml",
        "waivers:\n  - policy: compose.image-pinned\n    path: docker-compose.yml\n    reason: upstream only ships latest\n    owner: alice@example.com\n    expires: 2020-01-31\n",
    );
    // Issue 12: an expired waiver brings its findings back (exit 1), never exit 2.
    let (code, out, err) = rampart(d.path(), &["check"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("warning[W0512]"), "{err}");
    assert!(err.contains("rampart.yaml:6:14"), "{err}");
    assert!(
        err.contains("waiver for `compose.image-pinned` on `docker-compose.yml` (owner `alice@example.com`) expired on `2020-01-31`"),
        "{err}"
    );
    assert!(
        out.contains("compose.image-pinned"),
        "the finding is back: {out}"
    );
}

#[test]
fn a_waiver_hides_findings_and_records_them() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "legacy/docker-compose.yml", CAPS);
    write(d.path(), "app/docker-compose.yml", CAPS);
    write(
        d.path(),
        "rampart.yaml",
        "waivers:\n  - policy: compose.image-pinned\n    path: legacy/**\n    reason: frozen vendor stack\n    owner: alice\n    expires: 2999-12-31\n  - policy: compose.no-privileged\n    reason: nothing to waive\n    owner: bob\n    expires: 2999-12-31\n",
    );
    let (code, v, err) = check(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    let pinned: Vec<_> = findings(&v)
        .into_iter()
        .filter(|(p, ..)| p == "compose.image-pinned")
        .collect();
    assert_eq!(pinned.len(), 1, "only app/ is reported: {v:#}");
    assert_eq!(v["summary"]["waived"], 1);
    let w = &v["waived"][0];
    assert_eq!(w["policy"], "compose.image-pinned");
    assert_eq!(w["file"], "legacy/docker-compose.yml");
    assert_eq!(w["by"], "config");
    assert_eq!(w["owner"], "alice");
    assert_eq!(w["reason"], "frozen vendor stack");
    assert_eq!(w["expires"], "2999-12-31");
    // the second waiver matches nothing: a warning, in the report and on stderr
    assert!(err.contains("warning[W0513]"), "{err}");
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["file"] == "rampart.yaml"
                && x["line"] == 7
                && x["message"]
                    .as_str()
                    .unwrap()
                    .contains("`compose.no-privileged` matches no finding")),
        "{v:#}"
    );
    let (_, out, _) = rampart(d.path(), &["check"]);
    assert!(out.contains("1 finding waived"), "{out}");
}

#[test]
fn unknown_keys_and_values_are_located_errors_with_suggestions() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CAPS);
    write(
        d.path(),
        "rampart.yaml",
        "profile: strict\ndisabel: [compose.image-pinned]\nseverity:\n  compose.image-pinned: hgh\n",
    );
    let (code, _, err) = check(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown key `disabel`"), "{err}");
    assert!(err.contains("rampart.yaml:2:1"), "{err}");
    assert!(err.contains("did you mean `disable`?"), "{err}");
    assert!(err.contains("unknown severity `hgh`"), "{err}");
    assert!(err.contains("did you mean `high`?"), "{err}");

    write(
        d.path(),
        "rampart.yaml",
        "disable: [compose.image-pined]\nwaivers:\n  - {policy: compose.image-pinned, reason: r, owner: o, expires: 2999-01-01, lines: 3}\n",
    );
    let (code, _, err) = check(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no policy `compose.image-pined`"), "{err}");
    assert!(
        err.contains("did you mean `compose.image-pinned`?"),
        "{err}"
    );
    assert!(err.contains("unknown key `lines` in `waivers[0]`"), "{err}");
}

#[test]
fn param_errors_point_at_the_config_file() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CAPS);
    write(
        d.path(),
        "rampart.yaml",
        "# org settings\nparams:\n  compose.allowed_caps: {a: b}\n  compose.allowed_capz: []\n",
    );
    let (code, _, err) = check(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("rampart.yaml:3:3"), "{err}");
    assert!(
        err.contains("the configured value of `compose.allowed_caps` is not a `list<string>`"),
        "{err}"
    );
    assert!(err.contains("rampart.yaml:4:3"), "{err}");
    assert!(
        err.contains("did you mean `compose.allowed_caps`?"),
        "{err}"
    );
}

#[test]
fn severity_overrides_and_profile() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        format!("{CAPS}    ports: [\"8080:80\"]\n"),
    );
    write(
        d.path(),
        "rampart.yaml",
        "profile: strict\nseverity:\n  \"compose.*\": info\n  compose.cap-drop-all: high\n",
    );
    let (code, v, err) = check(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    let all = v["findings"].as_array().unwrap();
    for f in all {
        let want = if f["policy"] == "compose.cap-drop-all" {
            "high"
        } else {
            "info"
        };
        assert_eq!(f["severity"], want, "{f}");
    }
    // a strict policy runs (the config's profile) …
    assert!(has(&v, "compose.ports-host-ip-explicit"), "{v:#}");
    // … and `--profile` on the command line wins over the config
    let (_, v, _) = check(d.path(), &["--profile", "recommended"]);
    assert!(!has(&v, "compose.ports-host-ip-explicit"), "{v:#}");
    let (code, _, _) = check(d.path(), &["--fail-on", "critical"]);
    assert_eq!(code, 0);
}

#[test]
fn include_exclude_and_explicit_config() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "deploy/docker-compose.yml", CAPS);
    write(d.path(), "deploy/testdata/docker-compose.yml", CAPS);
    write(d.path(), "other/docker-compose.yml", CAPS);
    write(
        d.path(),
        "rampart.yaml",
        "include: [\"deploy/**\"]\nexclude: [\"**/testdata\"]\n",
    );
    let (_, v, err) = check(d.path(), &[]);
    let files: std::collections::BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        files.into_iter().collect::<Vec<_>>(),
        ["deploy/docker-compose.yml"],
        "{err}"
    );
    // --config names another file; the scan root's rampart.yaml is not read
    write(d.path(), "ci/strict.yaml", "disable: [\"compose.*\"]\n");
    let (code, v, _) = check(d.path(), &["--config", "ci/strict.yaml"]);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty());
    let (code, _, err) = check(d.path(), &["--config", "nope.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read config file `nope.yaml`"), "{err}");
}

#[test]
fn config_is_found_at_the_first_path() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "proj/docker-compose.yml", CAPS);
    write(
        d.path(),
        "proj/rampart.yaml",
        "disable: [compose.image-pinned]\n",
    );
    let (_, v, _) = check(d.path(), &["proj"]);
    assert!(!has(&v, "compose.image-pinned"), "{v:#}");
    assert!(has(&v, "compose.cap-drop-all"));
}

#[test]
fn policies_from_the_config_are_compiled_relative_to_it() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CAPS);
    write(
        d.path(),
        "org/ports.rampart",
        "package org\n\npolicy no-ptrace {\n  title \"No SYS_PTRACE\"\n  severity high\n  rationale \"ptrace reads other processes' memory\"\n  for service in compose.services\n  for cap in service.cap_add\n  deny cap when cap == \"SYS_PTRACE\"\n}\n",
    );
    write(d.path(), "rampart.yaml", "policies: [org]\n");
    let (_, v, err) = check(d.path(), &[]);
    assert!(has(&v, "org.no-ptrace"), "{err}");
    write(d.path(), "rampart.yaml", "policies: [missing]\n");
    let (code, _, err) = check(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read policy path `missing`"), "{err}");
}

#[test]
fn inline_suppressions_hide_a_policy_on_a_line() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx:latest # rampart:ignore compose.image-pinned -- tracked upstream\n    # rampart:ignore compose.cap-add-allowlist\n    cap_add: [SYS_PTRACE]\n",
    );
    let (_, v, _) = check(d.path(), &[]);
    assert!(!has(&v, "compose.image-pinned"), "{v:#}");
    assert!(!has(&v, "compose.cap-add-allowlist"), "{v:#}");
    assert!(
        has(&v, "compose.cap-drop-all"),
        "other policies still report"
    );
    let waived = v["waived"].as_array().unwrap();
    assert_eq!(waived.len(), 2);
    assert!(waived
        .iter()
        .any(|w| w["by"] == "inline" && w["reason"] == "tracked upstream"));
    // no reason: a warning at the comment
    let warn = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["message"].as_str().unwrap().contains("without a reason"))
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(warn["line"], 4);

    // Dockerfile and .env comments work the same way.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Dockerfile",
        "# rampart:ignore dockerfile.base-image-pinned -- rebuilt nightly on purpose\nFROM alpine:latest\n",
    );
    write(
        d.path(),
        ".env",
        "API_TOKEN=abc # rampart:ignore dotenv.secret-min-length -- test fixture\n",
    );
    let (_, v, _) = check(d.path(), &[]);
    assert!(!has(&v, "dockerfile.base-image-pinned"), "{v:#}");
    assert!(has(&v, "dockerfile.non-root-user"), "{v:#}");
    assert!(!has(&v, "dotenv.secret-min-length"), "{v:#}");
    let waived: Vec<&str> = v["waived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        waived,
        ["dotenv.secret-min-length", "dockerfile.base-image-pinned"],
        "{v:#}"
    );
}
