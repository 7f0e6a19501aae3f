//! The workspace's integration tests, one module per area, linked into one
//! test binary: a binary per file linked the whole compiler (with its debug
//! information) about forty times, which made a clean `cargo test` take
//! gigabytes of disk and most of its time in the linker.
//!
//! One process runs every module's tests on parallel threads, so no test may
//! change process-wide state (environment variables, the current directory):
//! a test that needs its own environment runs the CLI in a child process with
//! [`rampart_tests::bounded`].
//!
//! Run one area with a filter on its module: `cargo test -p rampart-tests
//! --test integration golden::`.

// The child process [`rampart_tests::bounded`] starts re-enters this binary
// through this test; it must sit at the crate's root, where its name is
// exactly [`rampart_tests::CHILD_TEST`].
rampart_tests::child_entry!();

mod adversarial;
mod audit;
mod ci_gate;
mod ci_gitlab;
mod ci_output;
mod cli;
mod cli_helpers;
mod commands;
mod config;
mod corpus;
mod cross_file;
mod evaluator;
mod formats;
mod gixy_parity;
mod golden;
mod hostile_budgets;
mod hostile_confine;
mod hostile_defs;
mod hostile_includes;
mod hostile_policies;
mod hostile_redact;
mod http;
mod inputs_detection;
mod inputs_discovery;
mod kics_dockerfile_parity;
mod kics_parity;
mod mutation;
mod precision_compose;
mod precision_http;
mod precision_labels;
mod precision_misc;
mod precision_policies;
mod precision_secrets;
mod report;
mod robustness;
mod runner;
mod snapshots;
mod stdlib;

/// A file under `tests/` without its `mod` line above would compile into
/// nothing and its tests would silently not run.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let root = include_str!("main.rs");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&here).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        if module != "main" && !root.lines().any(|l| l == format!("mod {module};")) {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "not in tests/tests/main.rs: {missing:?}"
    );
}
