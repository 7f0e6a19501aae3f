//! `rampart test` as a runner (formats, coverage, `--filter`,
//! `--require-coverage`, `with params`, fixture folders) and the reuse of
//! the standard library from org policies (`import`, `explain --source`).

use std::path::Path;

use rampart_tests::{json, rampart, write};

/// An org policy built on the stdlib's `is_datastore` and `datastore_images`.
const ORG: &str = r#"package org

import compose

policy datastore-ports {
  title "Datastores publish no port beyond loopback"
  severity high
  rationale "Org rule."
  for service in compose.services
  where is_datastore(service)
  for port in service.ports
  deny port when port.host_ip == ""
    message "`{service.name}` ({size(datastore_images)} datastore images) publishes {port.target_raw}"
}

test datastore-ports {
  deny "postgres on every interface" at line 4 compose """
    services:
      db:
        image: postgres:16
        ports: ["5432:5432"]
    """
  allow "postgres on loopback" compose """
    services:
      db: { image: "postgres:16", ports: ["127.0.0.1:5432:5432"] }
    """
  allow "not a datastore by the configured list" with params { compose.datastore_images = ["mysql"] } compose """
    services:
      db: { image: "postgres:16", ports: ["5432:5432"] }
    """
}
"#;

fn org_dir(text: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "policies/org.rampart", text);
    d
}

fn test_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["test", "policies", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = rampart(dir, &args);
    assert!(code != 2, "{err}");
    (code, json(&out))
}

#[test]
fn stdlib_json_has_deny_and_allow_cases_and_clause_coverage() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, err) = rampart(d.path(), &["test", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["summary"]["failed"], 0, "{v}");
    let coverage = v["coverage"].as_array().unwrap();
    assert!(coverage.len() >= 25);
    let mut clauses = 0;
    let mut exercised = 0;
    for p in coverage {
        assert!(p["deny_cases"].as_u64().unwrap() > 0, "{p}");
        assert!(p["allow_cases"].as_u64().unwrap() > 0, "{p}");
        let cs = p["clauses"].as_array().unwrap();
        assert!(!cs.is_empty(), "{p}");
        for c in cs {
            clauses += 1;
            assert!(c["at"].as_str().unwrap().starts_with("<stdlib>/"), "{c}");
            exercised += usize::from(c["exercised"] == true);
        }
    }
    // Most clauses are exercised; every deny case's findings name their clause.
    assert!(exercised * 10 >= clauses * 8, "{exercised} of {clauses}");
    for c in v["cases"].as_array().unwrap() {
        if c["expect"] == "deny" {
            let f = c["findings"].as_array().unwrap();
            assert!(!f.is_empty(), "{c}");
            assert!(f.iter().any(|f| f["clause"].is_string()), "{c}");
        }
    }
}

#[test]
fn a_wrong_case_fails_and_is_named_with_expected_and_actual_findings() {
    let wrong = ORG.replace(
        "deny \"postgres on every interface\" at line 4",
        "deny \"postgres on every interface\" at line 2",
    );
    let d = org_dir(&wrong);
    let (code, v) = test_json(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(v["summary"]["failed"], 1, "{v}");
    let case = &v["cases"][0];
    assert_eq!(case["name"], "postgres on every interface");
    assert_eq!(case["passed"], false);
    assert_eq!(case["at"], "policies/org.rampart:17");
    assert_eq!(case["expected"], "a finding at docker-compose.yml:2");
    let why = case["failure"].as_str().unwrap();
    assert!(
        why.contains("docker-compose.yml:4: `db` (35 datastore images) publishes 5432"),
        "{why}"
    );
    // The text output names it too.
    let (code, out, _) = rampart(d.path(), &["test", "policies"]);
    assert_eq!(code, 1);
    assert!(
        out.contains(
            "FAILED  org.datastore-ports :: postgres on every interface (policies/org.rampart:17)"
        ),
        "{out}"
    );
    assert!(out.contains(
        "expected a finding at docker-compose.yml:2, got 1 finding(s): docker-compose.yml:4:"
    ));
    assert!(out.trim_end().ends_with("2 passed, 1 failed"), "{out}");
}

#[test]
fn an_org_policy_importing_a_stdlib_def_compiles_and_its_tests_pass() {
    let d = org_dir(ORG);
    let (code, v) = test_json(d.path(), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["summary"]["passed"], 3);
    // The stdlib's own policies are not run: only the org's.
    let coverage = v["coverage"].as_array().unwrap();
    assert_eq!(coverage.len(), 1);
    assert_eq!(coverage[0]["clauses"][0]["exercised"], true);
    // And it runs in `check` beside the stdlib.
    write(
        d.path(),
        "compose.yaml",
        "services:\n  db:\n    image: postgres:16\n    ports: [\"5432:5432\"]\n",
    );
    let (_, out, err) = rampart(
        d.path(),
        &[
            "check",
            "--policy",
            "policies/org.rampart",
            "--format",
            "json",
        ],
    );
    let report = json(&out);
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["policy"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"org.datastore-ports"), "{ids:?} {err}");
    assert!(ids.contains(&"compose.datastore-loopback-only"), "{ids:?}");
}

#[test]
fn an_imported_def_is_type_checked_at_the_call() {
    let bad = ORG.replace(
        "where is_datastore(service)",
        "where is_datastore(service.name)",
    );
    let d = org_dir(&bad);
    let (code, _, err) = rampart(d.path(), &["test", "policies"]);
    assert_eq!(code, 2);
    assert!(err.contains("error[E0306]"), "{err}");
    assert!(
        err.contains("`is_datastore` (from package `compose`) cannot take a `string` as `service`"),
        "{err}"
    );
    // Located at the argument in the org file, not in the stdlib.
    assert!(err.contains("policies/org.rampart:10:"), "{err}");
    assert!(!err.contains("<stdlib>"), "{err}");
}

#[test]
fn import_errors_unknown_package_and_clashes() {
    let d = org_dir(&ORG.replace("import compose", "import composee"));
    let (code, _, err) = rampart(d.path(), &["test", "policies"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("error[E0115]") && err.contains("did you mean `compose`"),
        "{err}"
    );
    // An own name clashing with an imported one.
    let d = org_dir(&ORG.replace(
        "import compose\n",
        "import compose\n\nconst datastore_images = [\"mine\"]\n",
    ));
    let (code, _, err) = rampart(d.path(), &["test", "policies"]);
    assert_eq!(code, 2);
    assert!(err.contains("error[E0116]"), "{err}");
    // A loop variable would capture a name an imported def's body reads.
    let d = org_dir(
        &ORG.replace(
            "for port in service.ports",
            "for moving_tags in service.ports",
        )
        .replace("port.", "moving_tags."),
    );
    let (code, _, err) = rampart(d.path(), &["test", "policies"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("error[E0116]") && err.contains("moving_tags"),
        "{err}"
    );
}

#[test]
fn case_params_are_checked() {
    let d = org_dir(&ORG.replace(
        "compose.datastore_images = [\"mysql\"]",
        "compose.datastore_imagez = [\"mysql\"]",
    ));
    let (code, v) = test_json(d.path(), &[]);
    assert_eq!(code, 1);
    let why = v["cases"][2]["failure"].as_str().unwrap();
    assert!(
        why.contains("no param `compose.datastore_imagez`") && why.contains("did you mean"),
        "{why}"
    );
    let d = org_dir(&ORG.replace(
        "compose.datastore_images = [\"mysql\"]",
        "compose.datastore_images = 3",
    ));
    let (code, v) = test_json(d.path(), &[]);
    assert_eq!(code, 1);
    let why = v["cases"][2]["failure"].as_str().unwrap();
    assert!(why.contains("must be a `list<string>`"), "{why}");
}

#[test]
fn coverage_gaps_fail_only_under_require_coverage() {
    let two = ORG.replace(
        "    message \"`{service.name}` ({size(datastore_images)} datastore images) publishes {port.target_raw}\"\n",
        "    message \"`{service.name}` ({size(datastore_images)} datastore images) publishes {port.target_raw}\"\n  deny port when port.host_ip == \"0.0.0.0\"\n",
    );
    let d = org_dir(&two);
    let (code, v) = test_json(d.path(), &[]);
    assert_eq!(code, 0, "{v}");
    let gaps = v["coverage"][0]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{v}");
    assert!(
        gaps[0]
            .as_str()
            .unwrap()
            .contains("policies/org.rampart:14"),
        "{gaps:?}"
    );
    let (code, v) = test_json(d.path(), &["--require-coverage"]);
    assert_eq!(code, 1);
    assert_eq!(v["summary"]["gaps"], 1);
    // A policy without an allow case.
    let no_allow = ORG
        .split("  allow \"postgres on loopback\"")
        .next()
        .unwrap()
        .to_string()
        + "}\n";
    let d = org_dir(&no_allow);
    let (code, out, _) = rampart(d.path(), &["test", "policies", "--require-coverage"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("MISSING org.datastore-ports: no `allow` test case"),
        "{out}"
    );
    let (code, _, _) = rampart(d.path(), &["test", "policies"]);
    assert_eq!(code, 0);
}

#[test]
fn filter_selects_cases_by_policy_id_or_case_name() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = rampart(
        d.path(),
        &["test", "--filter", "no-privileged", "--format", "json"],
    );
    assert_eq!(code, 0);
    let v = json(&out);
    let cases = v["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    assert!(cases.iter().all(|c| c["policy"] == "compose.no-privileged"));
    assert_eq!(v["coverage"].as_array().unwrap().len(), 1);
    let d = org_dir(ORG);
    let (_, v) = test_json(d.path(), &["--filter", "loopback"]);
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0]["name"], "postgres on loopback");
}

#[test]
fn junit_output_has_a_case_per_case_and_coverage() {
    let d = org_dir(&ORG.replace("at line 4", "at line 3"));
    let (code, out, _) = rampart(d.path(), &["test", "policies", "--format", "junit"]);
    assert_eq!(code, 1);
    assert!(out.starts_with("<?xml"));
    assert!(
        out.contains("<testsuite name=\"org.datastore-ports\" tests=\"3\" failures=\"1\""),
        "{out}"
    );
    assert!(
        out.contains(
            "name=\"deny postgres on every interface\" file=\"policies/org.rampart\" line=\"17\""
        ),
        "{out}"
    );
    assert!(out.contains("<failure type=\"expectation\""), "{out}");
    assert_eq!(out.matches("<testcase ").count(), 3 + 1, "{out}");
    assert!(
        out.contains("rampart.coverage") && out.contains("<skipped"),
        "{out}"
    );
}

#[test]
fn a_fixture_folder_is_a_small_repository() {
    let text = ORG.replace(
        "  allow \"postgres on loopback\"",
        "  deny \"a folder\" file \"stack\"\n  allow \"postgres on loopback\"",
    );
    let d = org_dir(&text);
    write(
        d.path(),
        "policies/stack/compose.yaml",
        "services:\n  cache:\n    image: redis:7\n    env_file: app.env\n    ports: [\"6379:6379\"]\n",
    );
    write(d.path(), "policies/stack/app.env", "A=1\n");
    let (code, v) = test_json(d.path(), &[]);
    assert_eq!(code, 0, "{v}");
    let case = &v["cases"][1];
    assert_eq!(case["name"], "a folder");
    assert_eq!(case["findings"][0]["file"], "compose.yaml", "{case}");
    // An empty folder fails the case with the reason.
    std::fs::create_dir_all(d.path().join("policies/empty")).unwrap();
    let d2 = org_dir(&text.replace("file \"stack\"", "file \"empty\""));
    std::fs::create_dir_all(d2.path().join("policies/empty")).unwrap();
    let (code, v) = test_json(d2.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        v["cases"][1]["failure"]
            .as_str()
            .unwrap()
            .contains("is empty"),
        "{v}"
    );
}

#[test]
fn explain_source_prints_the_policy_and_the_defs_it_uses() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = rampart(
        d.path(),
        &["explain", "--source", "compose.datastore-loopback-only"],
    );
    assert_eq!(code, 0);
    assert!(
        out.starts_with("// <stdlib>/compose/network.rampart:"),
        "{out}"
    );
    assert!(out.contains("policy datastore-loopback-only {"), "{out}");
    assert!(out.contains("def is_datastore(service) ="), "{out}");
    assert!(
        out.contains("param datastore_images: list<string> ="),
        "{out}"
    );
    // An org policy shows what it imports.
    let d = org_dir(ORG);
    let (code, out, err) = rampart(
        d.path(),
        &[
            "explain",
            "--source",
            "org.datastore-ports",
            "--policy",
            "policies/org.rampart",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("import compose") && out.contains("def is_datastore"),
        "{out}"
    );
}

/// Def hygiene across packages: the stdlib's `env_set` binds `entry` in its
/// `exists`; the org policy's own `entry` passed as an argument is not
/// captured by it (without renaming, `entry.name == entry.name` would hold
/// for every entry and flag the empty one too).
#[test]
fn an_imported_def_does_not_capture_the_callers_names() {
    let text = r#"package org

import compose

policy set-entries {
  title "t"
  severity low
  rationale "r"
  for service in compose.services
  for entry in service.environment
  deny entry when env_set(service, entry.name)
}

test set-entries {
  deny "only the set entry" at line 5 compose """
    services:
      app:
        environment:
          EMPTY: ""
          SET: "x"
    """
  allow "no entry set" compose """
    services:
      app:
        environment:
          EMPTY: ""
    """
}
"#;
    let d = org_dir(text);
    let (code, v) = test_json(d.path(), &[]);
    assert_eq!(code, 0, "{v}");
    let found = v["cases"][0]["findings"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{v}");
    assert_eq!(found[0]["line"], 5);
}
