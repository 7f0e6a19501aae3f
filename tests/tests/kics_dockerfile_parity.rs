//! Parity with KICS's Dockerfile query fixtures
//! (`../shared/corpus/peers/kics/dockerfile`): for every query that maps to a
//! policy of ours, positives must be flagged by that policy at every line KICS
//! expects, and negatives must be clean. Known, argued disagreements are listed
//! in `docs/kics-parity.md` § Dockerfile and in `KNOWN` below; the test fails
//! when the set of disagreements changes in either direction.

use std::collections::BTreeSet;

use rampart_tests::{json, rampart, shared_or_skip};

/// KICS query folder → (our policy, a phrase our message must contain for the
/// finding to count as the same issue — for policies that cover several KICS queries).
const MAP: &[(&str, &str, &str)] = &[
    (
        "add_instead_of_copy",
        "dockerfile.copy-not-add",
        "of a local path",
    ),
    (
        "curl_or_wget_instead_of_add",
        "dockerfile.copy-not-add",
        "of a remote URL",
    ),
    (
        "apt_get_install_lists_were_not_deleted",
        "dockerfile.apt-lists-cleaned",
        "",
    ),
    (
        "apt_get_not_avoiding_additional_packages",
        "dockerfile.apt-no-install-recommends",
        "",
    ),
    ("exposing_port_22", "dockerfile.no-ssh-port", ""),
    (
        "healthcheck_instruction_missing",
        "dockerfile.healthcheck",
        "",
    ),
    (
        "image_version_not_explicit",
        "dockerfile.base-image-pinned",
        "has no tag",
    ),
    (
        "image_version_using_latest",
        "dockerfile.base-image-pinned",
        "`latest` tag",
    ),
    (
        "last_user_is_root",
        "dockerfile.non-root-user",
        "runs as root (`USER",
    ),
    (
        "missing_user_instruction",
        "dockerfile.non-root-user",
        "sets no `USER`",
    ),
    ("run_using_sudo", "dockerfile.no-sudo", ""),
];

/// Disagreements we keep on purpose: "query/file: outcome" (docs/kics-parity.md § Dockerfile).
const KNOWN: &[&str] = &[
    // Build stages whose files never reach the final image are not checked.
    "apt_get_install_lists_were_not_deleted/positive.dockerfile: missed lines 2, 5, 8",
    // A scratch image without USER runs its process as uid 0.
    "missing_user_instruction/negative.dockerfile: flagged",
];

/// The lines KICS expects in `file` (`positive_expected_result.json`).
fn expected_lines(dir: &std::path::Path, file: &str) -> BTreeSet<u64> {
    let text = std::fs::read_to_string(dir.join("positive_expected_result.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e.get("fileName")
                .or_else(|| e.get("filename"))
                .and_then(|n| n.as_str())
                .is_none_or(|n| n == file)
        })
        .filter_map(|e| e["line"].as_u64())
        .collect()
}

#[test]
fn kics_dockerfile_parity() {
    let Some(shared) = shared_or_skip("kics_dockerfile_parity") else {
        return;
    };
    let root = shared.join("corpus/peers/kics/dockerfile");
    let mut disagreements = BTreeSet::new();
    let mut agreed = 0;
    for (query, policy, phrase) in MAP {
        // The query is what we say it is.
        let meta = std::fs::read_to_string(root.join(query).join("metadata.json")).unwrap();
        let meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
        assert_eq!(meta["platform"], "Dockerfile", "{query}");
        let dir = root.join(query).join("test");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|f| f.ends_with(".dockerfile"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{query}: no fixtures");
        for f in &files {
            let (_, out, _) = rampart(
                &dir,
                &["check", "--profile", "strict", "--format", "json", f],
            );
            let report = json(&out);
            let errors = report["errors"].as_array().map_or(0, Vec::len);
            let ours: BTreeSet<u64> = report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| {
                    x["policy"] == *policy
                        && (phrase.is_empty()
                            || x["message"].as_str().unwrap_or("").contains(phrase))
                })
                .filter_map(|x| x["line"].as_u64())
                .collect();
            let outcome = if errors > 0 {
                Some("input error".to_string())
            } else if f.starts_with("positive") {
                let missing: Vec<String> = expected_lines(&dir, f)
                    .difference(&ours)
                    .map(u64::to_string)
                    .collect();
                if ours.is_empty() {
                    Some("missed".to_string())
                } else if !missing.is_empty() {
                    Some(format!("missed lines {}", missing.join(", ")))
                } else {
                    None
                }
            } else if ours.is_empty() {
                None
            } else {
                Some("flagged".to_string())
            };
            match outcome {
                None => agreed += 1,
                Some(o) => {
                    disagreements.insert(format!("{query}/{f}: {o}"));
                }
            }
        }
    }
    eprintln!(
        "KICS Dockerfile parity: {agreed} files agree, {} disagree",
        disagreements.len()
    );
    for d in &disagreements {
        eprintln!("  {d}");
    }
    let known: BTreeSet<String> = KNOWN.iter().map(|k| (*k).to_string()).collect();
    assert_eq!(
        disagreements, known,
        "disagreements changed; update docs/kics-parity.md § Dockerfile and KNOWN"
    );
    assert!(agreed >= 30, "only {agreed} files agree");
}
