//! rampart as a CI gate (issue 12): the waiver lifecycle.

use rampart_tests::{findings, json, rampart, write};

const PRIVILEGED: &str = "services:\n  web:\n    image: nginx:1.27\n    privileged: true\n";

fn warnings(v: &serde_json::Value) -> Vec<(String, String)> {
    v["warnings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|w| {
                    (
                        w["code"].as_str().unwrap_or("").to_string(),
                        w["message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_expired_waiver_brings_its_findings_back_with_a_warning_naming_the_owner() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", PRIVILEGED);
    write(
        d.path(),
        "rampart.yaml",
        "waivers:\n  - policy: compose.no-privileged\n    reason: legacy\n    owner: carol@example.com\n    expires: 2020-01-31\n",
    );
    let (code, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    assert_eq!(code, 1, "never exit 2: {err}");
    let v = json(&out);
    assert!(
        findings(&v)
            .iter()
            .any(|(p, ..)| p == "compose.no-privileged"),
        "the finding is back: {v:#}"
    );
    assert_eq!(v["summary"]["waived"], 0, "{v:#}");
    let w = warnings(&v);
    assert!(
        w.iter().any(|(c, m)| c == "W0512"
            && m.contains("carol@example.com")
            && m.contains("2020-01-31")),
        "{w:?}"
    );
    // Not also reported as a waiver that matches nothing.
    assert!(!w.iter().any(|(c, _)| c == "W0513"), "{w:?}");
    assert!(err.contains("warning[W0512]"), "{err}");
}

#[test]
fn an_ignore_comment_that_suppresses_nothing_is_a_warning() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx:1.27\n    # rampart:ignore compose.no-privileged -- was privileged once\n    read_only: true\n    privileged: true # rampart:ignore compose.no-privileged -- needed for the device\n",
    );
    let (_, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    let unused: Vec<_> = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "ignore-unused")
        .collect();
    assert_eq!(unused.len(), 1, "{v:#} {err}");
    assert_eq!(unused[0]["line"], 4);
    assert!(
        unused[0]["message"]
            .as_str()
            .unwrap()
            .contains("suppresses nothing"),
        "{v:#}"
    );
    // The used one hid its finding.
    assert!(
        !findings(&v)
            .iter()
            .any(|(p, ..)| p == "compose.no-privileged"),
        "{v:#}"
    );
    assert_eq!(v["summary"]["waived"], 1, "{v:#}");
}
