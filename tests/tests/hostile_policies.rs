//! Hostile policies and configs through the whole CLI (a repository's
//! `rampart.yaml` can name policy files, so policies are attacker input):
//! each is a located error and exit 2, never a panic, an abort or runaway
//! memory; a runaway expression at run time is an error for its rule and
//! document while the other policies still report.

use std::fs;

use rampart_tests::{findings, json, rampart};
use rampart_tests::{write, CANARY};

fn policy(name: &str, when: &str) -> String {
    format!(
        "package hostile\npolicy {name} {{\n  title \"t\"\n  severity low\n  rationale \"r\"\n  for s in compose.services\n  deny s when {when}\n}}\n"
    )
}

/// Runs `check --no-stdlib --policy <file>` on a tree with the canary;
/// returns (exit, stdout and stderr).
fn check_policy(file: &str, text: &str) -> (i32, String) {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), file, text);
    write(d.path(), "repo/docker-compose.yml", CANARY);
    let (code, out, err) = rampart(
        d.path(),
        &["check", "--no-stdlib", "--policy", file, "repo"],
    );
    (code, format!("{out}{err}"))
}

#[test]
fn def_fan_out_of_687_bytes_is_a_located_error() {
    // `def a{i}(x) = a{i-1}(x) + …` ten times, six levels: 10^6 copies once
    // inlined (the old inliner was killed by the OOM killer at 22 GB).
    let mut text = String::from("package hostile\ndef a0(x) = x\n");
    for i in 1..=6 {
        let calls = vec![format!("a{}(x)", i - 1); 10].join(" + ");
        text.push_str(&format!("def a{i}(x) = {calls}\n"));
    }
    text.push_str(
        "policy fan {\n  title \"t\"\n  severity low\n  rationale \"r\"\n  for s in compose.services\n  deny s when a6(1) > 0\n}\n",
    );
    let (code, err) = check_policy("fan.rampart", &text);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E0309]"), "{err}");
    assert!(err.contains("`a6` expands to more than"), "{err}");
    // Located at the call, line 14 of the file.
    assert!(err.contains("fan.rampart:14:15"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_45000_term_sum_is_a_located_error() {
    let sum = format!("1{}", "+1".repeat(44_999));
    let (code, err) = check_policy("long.rampart", &policy("long", &format!("{sum} > 0")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E0308]"), "{err}");
    assert!(err.contains("long.rampart:7:"), "{err}");
    // Short enough to pass the length limit: the operator limit.
    let sum = format!("1{}", "+1".repeat(3000));
    let (code, err) = check_policy("ops.rampart", &policy("ops", &format!("{sum} > 0")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("more than 1000 operators"), "{err}");
}

#[test]
fn deep_nesting_in_the_policy_grammar_and_in_cel() {
    let n = 200_000;
    let when = format!("{}true{}", "(".repeat(n), ")".repeat(n));
    let (code, err) = check_policy("deep.rampart", &policy("deep", &when));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("brackets nested deeper than 256"), "{err}");
    // Deeper than CEL's limit but within the grammar's: ours, in words.
    let when = format!("{}true{}", "(".repeat(100), ")".repeat(100));
    let (code, err) = check_policy("cel.rampart", &policy("cel", &when));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("brackets nested deeper than 64"), "{err}");
    assert!(!err.contains("OtherError"), "{err}");
}

#[test]
fn constant_blow_up_is_a_located_error() {
    // Ten-item lists mapped seven levels deep: 10^8 values.
    let mut value = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]".to_string();
    for _ in 0..7 {
        value = format!("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(x, {value})");
    }
    let text = format!(
        "package hostile\nconst xs = {value}\n{}",
        &policy("c", "size(xs) > 1")[16..]
    );
    let (code, err) = check_policy("const.rampart", &text);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error[E0311]"), "{err}");
    assert!(err.contains("const.rampart:2:"), "{err}");
    // String doubling across constants: each under the work budget.
    let mut text = String::from("package hostile\nconst s0 = \"0123456789abcdef\"\n");
    for i in 1..=20 {
        text.push_str(&format!("const s{i} = s{} + s{}\n", i - 1, i - 1));
    }
    text.push_str(&policy("d", "size(s20) > 1")[16..]);
    let (code, err) = check_policy("double.rampart", &text);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is too large: more than"), "{err}");
}

#[test]
fn runaway_comprehension_fails_its_rule_and_the_run_goes_on() {
    let d = tempfile::tempdir().unwrap();
    let range = format!(
        "[{}]",
        (1..=1000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let when =
        format!("{range}.exists(a, {range}.exists(b, {range}.exists(c, c == a * b + 1000000)))");
    write(d.path(), "loop.rampart", policy("loop", &when));
    write(d.path(), "repo/docker-compose.yml", CANARY);
    let (code, out, err) = rampart(
        d.path(),
        &[
            "check",
            "--policy",
            "loop.rampart",
            "--format",
            "json",
            "repo",
        ],
    );
    assert_eq!(code, 2, "{err}");
    let v = json(&out);
    // The standard library's finding on the same file is still reported.
    assert!(
        findings(&v)
            .iter()
            .any(|(p, ..)| p == "compose.datastore-loopback-only"),
        "{out}"
    );
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{out}");
    let m = errors[0]["message"].as_str().unwrap();
    assert!(m.contains("policy `hostile.loop`"), "{m}");
    assert!(m.contains("evaluation budget exceeded"), "{m}");
    assert_eq!(errors[0]["file"], "repo/docker-compose.yml");
}

#[test]
fn run_time_errors_are_plain_words() {
    let (code, err) = check_policy("div.rampart", &policy("div", "1 / (size(s.name) - 1) > 0"));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("division by zero"), "{err}");
    assert!(!err.contains("Int("), "{err}");
}

#[test]
fn zero_policies_is_an_error_not_a_pass() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("empty")).unwrap();
    write(d.path(), "repo/docker-compose.yml", CANARY);
    let (code, _, err) = rampart(
        d.path(),
        &["check", "--no-stdlib", "--policy", "empty", "repo"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no policies to check with"), "{err}");
    assert!(err.contains("`--policy empty`"), "{err}");
    // Every policy turned off by the repository's config: an error too.
    write(d.path(), "repo/rampart.yaml", "disable: [\"*\"]\n");
    let (code, _, err) = rampart(d.path(), &["check", "repo"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("turned off"), "{err}");
}

#[test]
fn nested_glob_in_the_config_is_a_located_error() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "repo/docker-compose.yml", CANARY);
    let glob = format!("{}b{}", "{a,".repeat(125), "}".repeat(125));
    write(
        d.path(),
        "repo/rampart.yaml",
        format!("exclude:\n  - \"{glob}\"\n"),
    );
    let (code, _, err) = rampart(d.path(), &["check", "repo"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("E0505"), "{err}");
    assert!(err.contains("nested 125 deep"), "{err}");
}
