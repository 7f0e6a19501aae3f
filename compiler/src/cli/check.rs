//! `rampart check`: arguments → session → renderer → exit code.

use std::io::Write;
use std::path::Path;

use super::{CheckArgs, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK};
use crate::session::{self, CheckRequest};

pub(super) fn run(a: &CheckArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
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
