//! Helpers shared by the front ends' tests: where the corpus is, and walking it.

use std::path::{Path, PathBuf};

/// `../shared/corpus` beside the repository (relative to this crate), when
/// present; corpus tests skip without it.
pub(crate) fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let found = ["../../shared/corpus", "../shared/corpus"]
        .into_iter()
        .map(|rel| dir.join(rel))
        .find(|p| p.is_dir())
        .map(|p| p.canonicalize().unwrap_or(p));
    if found.is_none() {
        eprintln!("corpus not found; skipping");
    }
    found
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
