//! Budgets of the front ends and linear evaluation of large inputs: each
//! hostile input ends in a located error or findings, and the valid file
//! beside it is still checked (issue 8, points 4 and 5).

use rampart_tests::{findings, json, rampart};
use rampart_tests::{write, CANARY};

/// The problems (errors and warnings) reported for `file`.
fn problems<'a>(v: &'a serde_json::Value, file: &str) -> Vec<&'a serde_json::Value> {
    ["errors", "warnings"]
        .iter()
        .flat_map(|k| v[*k].as_array().into_iter().flatten())
        .filter(|e| e["file"] == file)
        .collect()
}

fn error_at<'a>(v: &'a serde_json::Value, file: &str, needle: &str) -> &'a serde_json::Value {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["file"] == file && e["message"].as_str().unwrap().contains(needle))
        .unwrap_or_else(|| panic!("no error `{needle}` in {file}: {}", v["errors"]))
}

#[test]
fn a_megabyte_of_instructions_is_a_located_error() {
    // 100,000 instructions (1.1 MB): every rule used to copy the whole document.
    let mut src = String::from("FROM alpine:3.19\n");
    src.push_str(&"LABEL a=b\n".repeat(100_000));
    let v = rampart_tests::check_beside_canary("big/Dockerfile", src.as_bytes());
    let e = error_at(&v, "big/Dockerfile", "more than 10000 instructions");
    assert_eq!(e["line"], 10_001);
}

#[test]
fn two_thousand_chained_stages_are_checked_linearly() {
    // Each stage builds on the one before: the final image builds on them all
    // (three policies used to resolve that per stage, quadratically).
    let mut src = String::from("FROM debian:bookworm AS s0\nRUN apt-get install -y gcc\n");
    for i in 1..2_000 {
        src.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
    }
    let v = rampart_tests::check_beside_canary("chain/Dockerfile", src.as_bytes());
    let at = |policy: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["policy"] == policy && f["file"] == "chain/Dockerfile")
            .count()
    };
    assert_eq!(at("dockerfile.non-root-user"), 1);
    // The first stage is 1,999 stages below the final one and still counts.
    assert_eq!(at("dockerfile.no-build-tools-in-final-stage"), 1);
    assert_eq!(at("dockerfile.apt-no-install-recommends"), 1);
}

#[test]
fn forty_thousand_services_are_a_located_error() {
    let mut src = String::from("services:\n");
    for i in 0..40_000 {
        src.push_str(&format!("  s{i}:\n    image: nginx:1.27\n"));
    }
    let v = rampart_tests::check_beside_canary("many/docker-compose.yml", src.as_bytes());
    let e = error_at(&v, "many/docker-compose.yml", "more than 5000 services");
    assert_eq!(e["line"], 2 + 2 * 5_000);
}

#[test]
fn problems_per_file_are_capped() {
    // 100 KB of stray `}` after a `FROM` (so it reads as a Dockerfile, see
    // inputs_detection.rs): one problem per line, listed up to the cap.
    let stray = format!("FROM alpine:3.20\n{}", "}\n".repeat(50_000));
    let v = rampart_tests::check_beside_canary("stray/Dockerfile", stray.as_bytes());
    let p = problems(&v, "stray/Dockerfile");
    assert_eq!(p.len(), 101, "{p:?}");
    let last = p
        .iter()
        .find(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .contains("more problems in this file")
        })
        .unwrap();
    assert!(last["message"].as_str().unwrap().starts_with("… and "));
}

#[test]
fn yaml_budget_breach_is_plain() {
    let mut src = String::from("x-a: &a [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
    let mut prev = 'a';
    for c in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
        src.push_str(&format!(
            "x-{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
        prev = c;
    }
    src.push_str("services:\n  a:\n    image: nginx:1.27\n");
    let v = rampart_tests::check_beside_canary("bomb/docker-compose.yml", src.as_bytes());
    let e = error_at(&v, "bomb/docker-compose.yml", "more than 250000 nodes");
    let m = e["message"].as_str().unwrap();
    assert!(!m.contains("breach") && !m.contains('{'), "{m}");
}

#[test]
fn malformed_interpolation_is_an_error_outside_environment_too() {
    let src = "services:\n  web:\n    image: \"nginx:${TAG\"\n    user: \"${UID\"\n    ports: [\"${PORT:80\"]\n";
    let v = rampart_tests::check_beside_canary("interp/docker-compose.yml", src.as_bytes());
    let mut lines: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["file"] == "interp/docker-compose.yml")
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    lines.sort_unstable();
    assert_eq!(lines, [3, 4, 5], "{}", v["errors"]);
}

#[test]
fn build_tool_installs_are_checked_linearly() {
    // Each install used to scan every command of the stage for a removal.
    let mut src = String::from("FROM debian:12\n");
    src.push_str(
        &"RUN apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\n"
            .repeat(800),
    );
    src.push_str("RUN apt-get purge -y make\n");
    let v = rampart_tests::check_beside_canary("tools/Dockerfile", src.as_bytes());
    let n = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["policy"] == "dockerfile.no-build-tools-in-final-stage")
        .count();
    assert_eq!(n, 800);
}

#[test]
fn matching_a_large_string_in_loops_spends_the_eval_budget() {
    // A 512 KiB constant matched 10,000 times (5 GB of regex scanning) used
    // to cost only the 10,100 loop units: reads are now charged by size.
    let d = tempfile::tempdir().unwrap();
    let mut pol = String::from("package evil\nconst a0 = \"ab\"\n");
    for i in 1..19 {
        pol.push_str(&format!("const a{i} = a{} + a{}\n", i - 1, i - 1));
    }
    let l: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    pol.push_str(&format!("const L = [{}]\n", l.join(",")));
    pol.push_str(
        "/// x\npolicy burn {\n  title \"Burn\"\n  severity low\n  rationale \"r\"\n  remediation \"r\"\n  for service in compose.services\n  deny service when L.exists(i, L.exists(j, a18.matches(\"(a|b)[^ab]\")))\n    message \"m\"\n}\n",
    );
    write(d.path(), "pol/evil.rampart", pol.as_bytes());
    write(d.path(), "rampart.yaml", b"policies: [pol/]\n");
    write(d.path(), "docker-compose.yml", CANARY);
    let (_, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    assert!(
        v["errors"].as_array().unwrap().iter().any(|e| e["message"]
            .as_str()
            .unwrap()
            .contains("evaluation budget exceeded")),
        "no budget error: {}; stderr: {err}",
        v["errors"]
    );
    // The standard policies still ran on the file.
    assert!(findings(&v)
        .iter()
        .any(|(p, ..)| p == "compose.datastore-loopback-only"));
}
