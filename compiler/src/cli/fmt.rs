//! `rampart fmt`: canonical formatting of policy files, comments kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::policy::compile::syntax_diagnostic;
use crate::render::diagnostics::file_diagnostics;

use super::{EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};

/// The `.rampart` files under `paths` (a file named explicitly is taken as
/// is), sorted; walking skips `.git` and respects ignore files like `check`.
fn policy_files(paths: &[PathBuf], cwd: &Path, err: &mut dyn Write) -> Option<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut ok = true;
    for p in paths {
        let full = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        if full.is_file() {
            out.push(full);
            continue;
        }
        if !full.is_dir() {
            let _ = writeln!(
                err,
                "error: cannot read `{}`: no such file or directory",
                p.display()
            );
            ok = false;
            continue;
        }
        for e in ignore::WalkBuilder::new(&full)
            .hidden(false)
            .require_git(true)
            .filter_entry(|e| e.file_name() != ".git")
            .build()
            .flatten()
        {
            if e.file_type().is_some_and(|t| t.is_file())
                && e.path().extension().is_some_and(|x| x == "rampart")
            {
                out.push(e.path().to_path_buf());
            }
        }
    }
    out.sort();
    out.dedup();
    ok.then_some(out)
}

/// Formats `paths` (default `.`); with `check`, only reports.
pub(super) fn run(
    paths: &[PathBuf],
    check: bool,
    cwd: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let Some(files) = policy_files(paths, cwd, err) else {
        return EXIT_ERROR;
    };
    if files.is_empty() {
        let _ = writeln!(err, "no `.rampart` files found");
        return EXIT_OK;
    }
    let (mut changed, mut unchanged, mut errors) = (0usize, 0usize, 0usize);
    for f in &files {
        let shown = rampart_runtime::fs::display(cwd, f);
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(
                    err,
                    "error: cannot read `{shown}`: {}",
                    e.to_string().to_lowercase()
                );
                errors += 1;
                continue;
            }
        };
        let formatted = match rampart_lang::format(&text) {
            Ok(t) => t,
            Err(e) => {
                let d = syntax_diagnostic(0, &e);
                let _ = err.write_all(file_diagnostics(&shown, &text, &[d]).as_bytes());
                errors += 1;
                continue;
            }
        };
        if formatted == text {
            unchanged += 1;
            continue;
        }
        changed += 1;
        if check {
            let _ = writeln!(out, "would reformat {shown}");
        } else if let Err(e) = std::fs::write(f, formatted) {
            let _ = writeln!(
                err,
                "error: cannot write `{shown}`: {}",
                e.to_string().to_lowercase()
            );
            errors += 1;
        } else {
            let _ = writeln!(out, "formatted {shown}");
        }
    }
    let _ = writeln!(
        out,
        "{changed} file{} {}, {unchanged} already formatted",
        if changed == 1 { "" } else { "s" },
        if check {
            "would be reformatted"
        } else {
            "reformatted"
        },
    );
    if errors > 0 {
        EXIT_ERROR
    } else if check && changed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
