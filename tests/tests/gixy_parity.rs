//! Parity with gixy's `add_header_redefinition` fixtures
//! (`../shared/corpus/peers/gixy/add_header_redefinition`, dvershinin/gixy
//! 67cecfe8): every fixture is copied into a temporary directory as
//! `nginx.conf` and checked with the standard library. A fixture whose name
//! does not end in `_fp.conf` must get at least one
//! `nginx.add-header-inheritance` finding; an `_fp.conf` fixture must get none.
//! Known, argued disagreements are listed in `docs/gixy-parity.md` and in
//! `KNOWN` below; the test fails when the set of disagreements changes in
//! either direction.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use rampart_tests::{findings, json, rampart, shared_or_skip};

const POLICY: &str = "nginx.add-header-inheritance";

/// Disagreements we keep on purpose: "file: missed|flagged" (docs/gixy-parity.md).
const KNOWN: &[&str] = &[
    // gixy reports (LOW) that `X-Bar` is dropped; it is not a security header.
    "not_secure_dropped.conf: missed",
    // gixy reports (LOW) that `X-Bar` is dropped; the location adds a security
    // header but loses none.
    "not_secure_outer.conf: missed",
];

/// Runs the stdlib on `text` saved as `nginx.conf`; returns (files checked,
/// findings of POLICY, input errors).
fn run(text: &str) -> (u64, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("nginx.conf"), text).unwrap();
    let (_, out, _) = rampart(dir.path(), &["check", "--format", "json", "."]);
    let report = json(&out);
    let files = report["summary"]["files"].as_u64().unwrap_or(0);
    let ours = findings(&report)
        .iter()
        .filter(|(p, ..)| p == POLICY)
        .count();
    let errors = report["errors"].as_array().map_or(0, Vec::len);
    (files, ours, errors)
}

fn check_fixture(path: &Path) -> (usize, usize) {
    let text = fs::read_to_string(path).unwrap();
    let (files, ours, errors) = run(&text);
    if files > 0 {
        return (ours, errors);
    }
    // gixy reads a fixture's top level as a configuration of its own; most of
    // these fixtures are a bare server body (`add_header …; location … {}`),
    // which rampart's discovery does not take as an entry file. Read them as
    // the body of one `server` block, which is how the nginx model treats an
    // included server-body file.
    let (files, ours, errors) = run(&format!("server {{\n{text}\n}}\n"));
    assert!(
        files > 0,
        "{}: not checked even as a server body",
        path.display()
    );
    (ours, errors)
}

#[test]
fn gixy_add_header_redefinition_parity() {
    let Some(shared) = shared_or_skip("gixy_add_header_redefinition_parity") else {
        return;
    };
    let dir = shared.join("corpus/peers/gixy/add_header_redefinition");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    let mut disagreements = BTreeSet::new();
    let mut agreed = 0;
    for name in &names {
        let (ours, errors) = check_fixture(&dir.join(name));
        assert_eq!(errors, 0, "{name}: input errors");
        let positive = !name.ends_with("_fp.conf");
        if (positive && ours > 0) || (!positive && ours == 0) {
            agreed += 1;
        } else {
            disagreements.insert(format!(
                "{name}: {}",
                if positive { "missed" } else { "flagged" }
            ));
        }
    }
    eprintln!(
        "gixy add_header_redefinition parity: {agreed} files agree, {} disagree",
        disagreements.len()
    );
    for d in &disagreements {
        eprintln!("  {d}");
    }
    let known: BTreeSet<String> = KNOWN.iter().map(|k| (*k).to_string()).collect();
    assert_eq!(
        disagreements, known,
        "disagreements changed; update docs/gixy-parity.md and KNOWN"
    );
}
