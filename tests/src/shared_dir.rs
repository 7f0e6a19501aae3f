//! Where `../shared` (corpus, seeds, STDLIB.md) is, and what a test does
//! without it. One copy: the tests crate uses it as a module, and the runtime
//! crate's unit tests include this file (`runtime/src/test_support.rs`).
//! Only the standard library is used here, so both can compile it.

use std::io::Write;
use std::path::PathBuf;

/// Set to `1` (as `.ci/run` does) to turn a skip into a failure.
pub const REQUIRE_SHARED_VAR: &str = "RAMPART_REQUIRE_SHARED";

/// Names the shared directory explicitly (e.g. from a git worktree that does
/// not sit beside it); otherwise `../shared` beside the repository is used.
pub const SHARED_DIR_VAR: &str = "RAMPART_SHARED_DIR";

/// `../shared` beside the repository (or `$RAMPART_SHARED_DIR`), when present.
/// Every crate of the workspace sits one level below the repository root, so
/// `CARGO_MANIFEST_DIR/../../shared` is the same place from each of them.
pub fn shared() -> Option<PathBuf> {
    let p = match std::env::var_os(SHARED_DIR_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("..")
            .join("shared"),
    };
    p.is_dir().then(|| p.canonicalize().unwrap_or(p))
}

/// The shared directory for the test `test`; without it, prints a skip line
/// the test harness does not capture (`SKIPPED: <test>: ../shared not found`)
/// and returns `None` so the test can return early, or, when
/// `RAMPART_REQUIRE_SHARED=1`, fails the test.
pub fn shared_or_skip(test: &str) -> Option<PathBuf> {
    let found = shared();
    if found.is_none() {
        let required = std::env::var(REQUIRE_SHARED_VAR).is_ok_and(|v| v == "1");
        assert!(
            !required,
            "{test}: ../shared not found (set {SHARED_DIR_VAR} or unset {REQUIRE_SHARED_VAR})"
        );
        // Straight to the process's stderr: libtest captures `eprintln!`
        // of passing tests, and a skip must be visible.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {test}: ../shared not found");
    }
    found
}
