//! The one report, through the CLI: fingerprints survive lines added above a
//! finding and never carry a secret; every format hears of waived findings
//! and warnings.

use std::fs;

use rampart_tests::{json, rampart};

const COMPOSE: &str = "services:\n  db:\n    image: postgres:16\n    ports: [\"5432:5432\"]\n    environment:\n      POSTGRES_PASSWORD: \"Zq7xK2mP9vLw4nRt\"\n";

fn fingerprints(text: &str) -> Vec<(String, String)> {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("docker-compose.yml"), text).unwrap();
    let (_, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    let mut fps: Vec<(String, String)> = v["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no report: {err}"))
        .iter()
        .map(|f| {
            (
                f["policy"].as_str().unwrap().to_string(),
                f["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    fps.sort();
    fps
}

#[test]
fn fingerprints_ignore_lines_added_above() {
    let before = fingerprints(COMPOSE);
    assert!(!before.is_empty());
    assert!(before.iter().all(|(_, fp)| fp.len() == 16));
    let after = fingerprints(&format!("# a comment\n\n{COMPOSE}"));
    assert_eq!(before, after);
    let edited = fingerprints(&COMPOSE.replace("5432:5432", "5433:5432"));
    assert_ne!(before, edited);
}

#[test]
fn waived_findings_and_warnings_reach_sarif_and_github() {
    let d = tempfile::tempdir().unwrap();
    let compose = "services:\n  web:\n    image: nginx:1.25\n    privileged: true # rampart:ignore compose.no-privileged -- raw sockets\n    env_file: missing.env\n";
    fs::write(d.path().join("docker-compose.yml"), compose).unwrap();
    let (_, out, _) = rampart(d.path(), &["check", "--format", "sarif"]);
    let v = json(&out);
    let results = v["runs"][0]["results"].as_array().unwrap();
    let waived = results
        .iter()
        .find(|r| r["ruleId"] == "compose.no-privileged")
        .expect("the waived finding is a result");
    assert_eq!(waived["suppressions"][0]["kind"], "inSource");
    let notes = v["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(notes.iter().any(|n| n["level"] == "warning"), "{notes:?}");
    let (_, out, _) = rampart(d.path(), &["check", "--format", "github"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("::warning file=docker-compose.yml")),
        "{out}"
    );
    assert!(!out.contains("compose.no-privileged"), "{out}");
}
