//! Helpers shared by the front ends' tests: where the corpus is, and walking it.

use std::path::{Path, PathBuf};

/// The one locator of `../shared`, shared with the tests crate.
#[path = "../../tests/src/shared_dir.rs"]
mod shared_dir;

/// `../shared/corpus` beside the repository, for the test `test`; without
/// it, a visible skip line and `None` (or a failure when
/// `RAMPART_REQUIRE_SHARED=1`, see `tests/src/shared_dir.rs`).
pub(crate) fn corpus(test: &str) -> Option<PathBuf> {
    shared_dir::shared_or_skip(test).map(|s| s.join("corpus"))
}

/// Every file below `dir`, in sorted order.
pub(crate) fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}
