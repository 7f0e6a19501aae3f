//! The CI output formats (SARIF, JUnit, GitHub) report the same findings as
//! the JSON contract, at the same locations.

use std::path::Path;

use rampart_tests::{findings, json, rampart};

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("examples")
}

#[test]
fn sarif_matches_json() {
    let (_, j, _) = rampart(
        &examples(),
        &["check", "insecure-stack", "--format", "json"],
    );
    let expected = findings(&json(&j));
    let (code, out, _) = rampart(
        &examples(),
        &["check", "insecure-stack", "--format", "sarif"],
    );
    assert_eq!(code, 1);
    let v = json(&out);
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), expected.len());
    for (r, (policy, line, message)) in results.iter().zip(expected.iter()) {
        assert_eq!(r["ruleId"].as_str().unwrap(), policy);
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx], policy);
        assert_eq!(
            r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap(),
            *line
        );
        assert_eq!(r["message"]["text"].as_str().unwrap(), message);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
    }
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    assert!(!out.contains("cdb_secure_password"));
}

#[test]
fn junit_counts_findings() {
    let (_, j, _) = rampart(
        &examples(),
        &["check", "insecure-stack", "--format", "json"],
    );
    let n = findings(&json(&j)).len();
    let (_, out, _) = rampart(
        &examples(),
        &["check", "insecure-stack", "--format", "junit"],
    );
    assert!(out.starts_with("<?xml"));
    assert!(
        out.contains(&format!("failures=\"{n}\"")),
        "{}",
        &out[..200]
    );
    assert_eq!(out.matches("<failure ").count(), n);
    assert_eq!(
        out.matches("<testsuite ").count(),
        out.matches("</testsuite>").count()
    );
}

#[test]
fn github_annotations_one_per_finding() {
    let (_, j, _) = rampart(
        &examples(),
        &["check", "insecure-stack", "--format", "json"],
    );
    let expected = findings(&json(&j));
    let (_, out, _) = rampart(
        &examples(),
        &["check", "insecure-stack", "--format", "github"],
    );
    // The annotations, then the summary notice(s).
    let (summary, lines): (Vec<&str>, Vec<&str>) = out
        .lines()
        .partition(|l| l.starts_with("::notice title=rampart::"));
    assert!(
        summary.first().is_some_and(|l| l.contains(" findings (")),
        "{out}"
    );
    assert_eq!(lines.len(), expected.len());
    assert!(lines.iter().all(|l| l.starts_with("::error ")
        || l.starts_with("::warning ")
        || l.starts_with("::notice ")));
    assert!(lines
        .iter()
        .any(|l| l.contains("file=insecure-stack/docker-compose.yml,line=9,")));
}

#[test]
fn errors_reach_every_format() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("docker-compose.yml"),
        "services:\n  a: [1, 2\n",
    )
    .unwrap();
    let (code, out, _) = rampart(d.path(), &["check", "--format", "sarif"]);
    assert_eq!(code, 2);
    let v = json(&out);
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);
    let (_, out, _) = rampart(d.path(), &["check", "--format", "junit"]);
    assert!(out.contains("<error "));
    let (_, out, _) = rampart(d.path(), &["check", "--format", "github"]);
    assert!(out.starts_with("::error file=docker-compose.yml,line=2"));
}

#[test]
fn verbose_notes_say_what_was_skipped() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join(".env"), "API_TOKEN=\n").unwrap();
    let (_, _, err) = rampart(d.path(), &["check", "--verbose"]);
    assert!(err.contains("no .gitignore"), "{err}");
}
