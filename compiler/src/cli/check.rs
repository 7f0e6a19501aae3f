//! `rampart check`: arguments → session → renderer → exit code.

use std::io::Write;
use std::path::Path;

use super::{CheckArgs, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::session::{self, CheckRequest};

pub(super) fn run(a: &CheckArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
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
    let Some(report) = session::check(&request, cwd, err) else {
        return EXIT_ERROR;
    };
    let mut report = report;
    if let Some(known) = &known {
        crate::report::baseline::apply(&mut report, known);
    }
    let rendered = crate::render::render(&report, a.format.format());
    if a.verbose {
        for note in report.skipped.iter().chain(&report.notes) {
            let _ = writeln!(err, "note: {}", crate::render::printable(note));
        }
    }
    let _ = out.write_all(rendered.as_bytes());
    if !report.errors.is_empty() {
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
