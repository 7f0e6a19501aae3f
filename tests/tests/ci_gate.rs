//! rampart as a CI gate (issue 12): baselines and the waiver lifecycle.

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

const STACK: &str = "services:\n  web:\n    image: nginx:latest\n    privileged: true\n  db:\n    image: postgres:latest\n    cap_add: [SYS_ADMIN]\n";

#[test]
fn a_baseline_hides_known_findings_and_survives_edits_above_them() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", STACK);
    let (code, _, err) = rampart(d.path(), &["baseline", "rampart-baseline.json"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = rampart(d.path(), &["check", "--format", "json"]);
    let all = findings(&json(&out)).len();
    assert!(all >= 3, "{out}");

    // Unchanged: exit 0, every finding known.
    let (code, out, err) = rampart(
        d.path(),
        &[
            "check",
            "--baseline",
            "rampart-baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert!(findings(&v).is_empty(), "{v:#}");
    assert_eq!(v["baseline"]["new"], 0);
    assert_eq!(v["baseline"]["known"], all);
    assert_eq!(v["baseline"]["fixed"], 0);

    // Ten lines inserted above the findings: still known.
    let padded = format!("{}{STACK}", "# a comment line\n".repeat(10));
    write(d.path(), "docker-compose.yml", &padded);
    let (code, out, err) = rampart(d.path(), &["check", "--baseline", "rampart-baseline.json"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("baseline: 0 new, {all} known, 0 fixed")),
        "{out}"
    );

    // One violating service added: exit 1, only its findings.
    let more = format!("{padded}  cache:\n    image: redis:7\n    privileged: true\n");
    write(d.path(), "docker-compose.yml", &more);
    let (code, out, err) = rampart(
        d.path(),
        &[
            "check",
            "--baseline",
            "rampart-baseline.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let v = json(&out);
    let new = findings(&v);
    assert!(!new.is_empty(), "{v:#}");
    for f in v["findings"].as_array().unwrap() {
        assert!(
            f["line"].as_u64().unwrap() >= 18,
            "only the cache service: {v:#}"
        );
    }
    assert_eq!(v["baseline"]["new"], new.len());
    assert_eq!(v["baseline"]["known"], all);
    // Every format says it.
    let line = format!("{} new, {all} known, 0 fixed", new.len());
    let (_, out, _) = rampart(
        d.path(),
        &[
            "check",
            "--baseline",
            "rampart-baseline.json",
            "--format",
            "sarif",
        ],
    );
    let s = json(&out);
    assert_eq!(s["runs"][0]["properties"]["baseline"]["new"], new.len());
    // Known findings stay results (`unchanged`): code scanning closes the
    // alert of a result missing from an upload.
    let results = s["runs"][0]["results"].as_array().unwrap();
    let state = |st: &str| results.iter().filter(|r| r["baselineState"] == st).count();
    assert_eq!(state("new"), new.len(), "{s:#}");
    assert_eq!(state("unchanged"), all, "{s:#}");
    assert_eq!(results.len(), new.len() + all);
    for format in ["github", "junit", "text"] {
        let (code, out, _) = rampart(
            d.path(),
            &[
                "check",
                "--baseline",
                "rampart-baseline.json",
                "--format",
                format,
            ],
        );
        assert_eq!(code, 1);
        assert!(out.contains(&line), "{format}: {out}");
    }

    // The db service removed: its findings are fixed.
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx:latest\n    privileged: true\n",
    );
    let (_, out, _) = rampart(
        d.path(),
        &[
            "check",
            "--baseline",
            "rampart-baseline.json",
            "--format",
            "json",
        ],
    );
    let v = json(&out);
    assert!(v["baseline"]["fixed"].as_u64().unwrap() >= 1, "{v:#}");
}

#[test]
fn a_missing_or_invalid_baseline_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", STACK);
    let (code, _, err) = rampart(d.path(), &["check", "--baseline", "nope.json"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("error: baseline `nope.json`: cannot read it"),
        "{err}"
    );
    write(d.path(), "bad.json", "{\"findings\": []}");
    let (code, _, err) = rampart(d.path(), &["check", "--baseline", "bad.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a rampart baseline"), "{err}");
}

#[test]
fn a_waiver_expiring_soon_warns_and_still_holds() {
    let today = rampart::config::Date::today_utc();
    let soon = rampart::config::Date::from_days(today.days() + 3);
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", PRIVILEGED);
    let waiver = format!(
        "waivers:\n  - policy: compose.no-privileged\n    reason: legacy\n    owner: dave\n    expires: {soon}\n"
    );
    write(d.path(), "rampart.yaml", &waiver);
    let (_, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    assert!(
        !findings(&v)
            .iter()
            .any(|(p, ..)| p == "compose.no-privileged"),
        "{v:#}"
    );
    let w = warnings(&v);
    assert!(
        w.iter()
            .any(|(c, m)| c == "W0515" && m.contains("dave") && m.contains("in 3 days")),
        "{w:?} {err}"
    );
    // A narrower window: no warning.
    write(
        d.path(),
        "rampart.yaml",
        format!("waiver_warning_days: 2\n{waiver}"),
    );
    let (_, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    let w = warnings(&json(&out));
    assert!(!w.iter().any(|(c, _)| c == "W0515"), "{w:?} {err}");
}

#[test]
fn waivers_lists_every_waiver_and_suppression_with_its_status() {
    let today = rampart::config::Date::today_utc();
    let soon = rampart::config::Date::from_days(today.days() + 3);
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx:latest\n    privileged: true\n    cap_add: [SYS_ADMIN] # rampart:ignore compose.cap-add-allowlist -- needed\n    read_only: true # rampart:ignore compose.no-privileged -- stale\n",
    );
    write(
        d.path(),
        "rampart.yaml",
        format!("waivers:\n  - {{policy: compose.no-privileged, reason: r, owner: erin, expires: 2999-01-01}}\n  - {{policy: compose.image-pinned, reason: r, owner: finn, expires: 2020-01-01}}\n  - {{policy: compose.no-new-privileges, reason: r, owner: gil, expires: {soon}}}\n  - {{policy: compose.read-only-rootfs, path: none/**, reason: r, owner: hal, expires: 2999-01-01}}\n"),
    );
    let (code, out, err) = rampart(d.path(), &["waivers"]);
    assert_eq!(code, 0, "{err}");
    let line = |needle: &str| {
        out.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle}: {out}"))
            .to_string()
    };
    assert!(line("owner erin").contains("active"), "{out}");
    assert!(line("owner finn").contains("expired"), "{out}");
    assert!(line("owner hal").contains("unused"), "{out}");
    assert!(line("owner gil").contains("expiring"), "{out}");
    assert!(
        line("compose.cap-add-allowlist").contains("active"),
        "{out}"
    );
    assert!(line("-- stale").contains("unused"), "{out}");
    assert!(line("docker-compose.yml:6:").contains("inline"), "{out}");
    assert!(line("rampart.yaml:3:").contains("expired"), "{out}");
}
