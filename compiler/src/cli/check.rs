//! `rampart check`: arguments → session → renderers → exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{CheckArgs, Format, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::session::{self, CheckRequest};

/// Where one rendering goes: `None` is standard output.
type Target = Option<PathBuf>;

/// The (format, destination) pairs of `--format`/`--output`: the n-th format
/// to the n-th output; no `--output`: every format to standard output; one
/// `--output` and no `--format`: text to it. Any other mismatch is a usage
/// error.
fn targets(a: &CheckArgs) -> Result<Vec<(Format, Target)>, String> {
    let out = |p: &PathBuf| (p.as_os_str() != "-").then(|| p.clone());
    match (a.format.len(), a.output.len()) {
        (0, 0) => Ok(vec![(Format::Text, None)]),
        (_, 0) => Ok(a.format.iter().map(|f| (*f, None)).collect()),
        (0, 1) => Ok(a.output.iter().map(|p| (Format::Text, out(p))).collect()),
        (f, o) if f == o => Ok(a
            .format
            .iter()
            .zip(&a.output)
            .map(|(f, p)| (*f, out(p)))
            .collect()),
        (f, o) => Err(format!(
            "{f} --format and {o} --output: give one --output per --format \
             (`-` for standard output), in the same order"
        )),
    }
}

pub(super) fn run(a: &CheckArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let targets = match targets(a) {
        Ok(t) => t,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            return EXIT_ERROR;
        }
    };
    let known = match &a.baseline {
        Some(file) => match read_baseline(&cwd.join(file)) {
            Ok(k) => Some(k),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "error: baseline `{}`: {e}",
                    crate::render::printable(&file.display().to_string())
                );
                return EXIT_ERROR;
            }
        },
        None => None,
    };
    let request = CheckRequest {
        paths: a.paths.clone(),
        policies: a.policies.request(),
        profile: a.profile,
        config: a.config.clone(),
        no_ignore: a.no_ignore,
    };
    // Progress on a terminal's stderr (see `crate::progress`), cleared
    // before anything is rendered.
    let progress = (!a.quiet).then(crate::progress::start);
    let report = session::check(&request, cwd, err);
    drop(progress);
    let Some(mut report) = report else {
        return EXIT_ERROR;
    };
    if let Some(known) = &known {
        crate::report::baseline::apply(&mut report, known);
    }
    if a.verbose {
        for note in report.skipped.iter().chain(&report.notes) {
            let _ = writeln!(err, "note: {}", crate::render::printable(note));
        }
    }
    let mut write_failed = false;
    for (format, target) in &targets {
        let rendered = if a.quiet {
            crate::render::render_quiet(&report, format.format())
        } else {
            crate::render::render(&report, format.format())
        };
        match target {
            None => {
                let _ = out.write_all(rendered.as_bytes());
            }
            Some(path) => {
                if let Err(e) = std::fs::write(cwd.join(path), rendered.as_bytes()) {
                    let _ = writeln!(
                        err,
                        "error: cannot write {}: {e}",
                        crate::render::printable(&path.to_string_lossy())
                    );
                    write_failed = true;
                }
            }
        }
    }
    if write_failed || !report.errors.is_empty() {
        EXIT_ERROR
    } else if report.fails_at(a.fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn read_baseline(path: &Path) -> Result<Vec<String>, String> {
    use crate::report::baseline::{parse, MAX_BASELINE_BYTES};
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?;
    if meta.len() > MAX_BASELINE_BYTES {
        return Err(format!("larger than {MAX_BASELINE_BYTES} bytes"));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    parse(&text)
}

/// `rampart baseline FILE [check args]`: writes the current findings.
pub(super) fn baseline(file: &Path, a: &CheckArgs, cwd: &Path, err: &mut dyn Write) -> i32 {
    let request = CheckRequest {
        paths: a.paths.clone(),
        policies: a.policies.request(),
        profile: a.profile,
        config: a.config.clone(),
        no_ignore: a.no_ignore,
    };
    let Some(report) = session::check(&request, cwd, err) else {
        return EXIT_ERROR;
    };
    let name = file.display().to_string();
    let shown = crate::render::printable(&name);
    if !report.errors.is_empty() {
        let _ = writeln!(
            err,
            "error: {} input error(s); fix them (`rampart check`) before writing a baseline",
            report.errors.len()
        );
        return EXIT_ERROR;
    }
    let text = crate::report::baseline::write(&report.findings);
    match std::fs::write(cwd.join(file), text) {
        Ok(()) => {
            let _ = writeln!(
                err,
                "wrote {} finding(s) to baseline `{shown}`",
                report.findings.len()
            );
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: cannot write baseline `{shown}`: {e}");
            EXIT_ERROR
        }
    }
}
