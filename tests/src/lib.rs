//! Shared helpers for the workspace integration tests.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// `../shared` beside the repository, when present (it is on CI and on
/// developer machines; the corpus and seed tests skip without it).
pub fn shared() -> Option<PathBuf> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let p = here.join("..").join("..").join("shared");
    p.is_dir().then_some(p)
}

/// Runs the CLI in-process in `cwd`, on a thread with the binary's stack
/// size (64 MiB); returns (exit code, stdout, stderr).
pub fn rampart(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let cwd = cwd.to_path_buf();
    let argv: Vec<OsString> = std::iter::once("rampart")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect();
    let worker = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let mut out = Vec::new();
            let mut err = Vec::new();
            let code = rampart::cli::run(argv, &cwd, &mut out, &mut err);
            (
                code,
                String::from_utf8_lossy(&out).into_owned(),
                String::from_utf8_lossy(&err).into_owned(),
            )
        })
        .expect("spawn the rampart thread");
    worker.join().expect("rampart panicked")
}

/// Parses `rampart check --format json` output.
pub fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or(serde_json::Value::Null)
}

/// (policy, line) of every finding in a JSON report.
pub fn findings(report: &serde_json::Value) -> Vec<(String, u64, String)> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["policy"].as_str().unwrap_or("").to_string(),
                        f["line"].as_u64().unwrap_or(0),
                        f["message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
