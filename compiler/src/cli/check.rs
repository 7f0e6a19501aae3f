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
                let message = format!(
                    "baseline `{}`: {e}",
                    crate::render::printable(&file.display().to_string())
                );
                let _ = writeln!(err, "error: {message}");
                let problem = stopped(file.display().to_string(), message, "baseline-invalid");
                return render_stopped(&targets, vec![(true, problem)], cwd, out, err);
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
    // What the session prints on stderr is kept too: when it stops before
    // checking (config or policy errors), the machine formats carry it.
    let mut tee = Tee {
        inner: err,
        copy: Vec::new(),
    };
    // Progress on a terminal's stderr (see `crate::progress`), cleared
    // before anything is rendered.
    let progress = (!a.quiet).then(crate::progress::start);
    let report = session::check(&request, cwd, &mut tee);
    drop(progress);
    let Some(mut report) = report else {
        let problems = stderr_problems(&String::from_utf8_lossy(&tee.copy));
        return render_stopped(&targets, problems, cwd, out, err);
    };
    if let Some(known) = &known {
        crate::report::baseline::apply(&mut report, known);
    }
    if a.verbose {
        for note in report.skipped.iter().chain(&report.notes) {
            let _ = writeln!(err, "note: {}", crate::render::printable(note));
        }
    }
    crate::progress::timings::mark("render");
    let mut write_failed = false;
    for (format, target) in &targets {
        let format = format.format();
        match target {
            None => {
                let _ = crate::render::write(&report, format, a.quiet, out);
            }
            Some(path) => {
                let written = std::fs::File::create(cwd.join(path)).and_then(|f| {
                    let mut w = std::io::BufWriter::new(f);
                    crate::render::write(&report, format, a.quiet, &mut w)?;
                    w.flush()
                });
                if let Err(e) = written {
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
    crate::progress::timings::mark("rendered");
    let code = if write_failed || !report.errors.is_empty() {
        EXIT_ERROR
    } else if report.fails_at(a.fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    super::release(report);
    code
}

/// A writer that passes everything on and keeps a copy.
struct Tee<'a> {
    inner: &'a mut dyn Write,
    copy: Vec<u8>,
}

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.copy.extend_from_slice(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// An error that stopped the run before anything was checked.
fn stopped(file: String, message: String, code: &str) -> crate::report::InputError {
    crate::report::InputError {
        file,
        line: 0,
        column: 0,
        message,
        span: None,
        code: code.into(),
    }
}

/// The errors and warnings of diagnostics printed on stderr (config and
/// policy problems, `error: …` lines): one per `error[code]: message` /
/// `warning[code]: message` / `error: message` line, located by the
/// `┌─ file:line:col` line under it when there is one. Returns (errors,
/// warnings).
fn stderr_problems(text: &str) -> Vec<(bool, crate::report::InputError)> {
    let mut out: Vec<(bool, crate::report::InputError)> = Vec::new();
    for line in text.lines() {
        let line = strip_ansi(line);
        let header =
            [("error", true), ("warning", false)]
                .into_iter()
                .find_map(|(kind, is_error)| {
                    let rest = line.strip_prefix(kind)?;
                    let (code, message) = if let Some(r) = rest.strip_prefix('[') {
                        let (code, m) = r.split_once("]: ")?;
                        (code.to_string(), m)
                    } else {
                        (String::new(), rest.strip_prefix(": ")?)
                    };
                    Some((is_error, code, message.to_string()))
                });
        if let Some((is_error, code, message)) = header {
            let mut e = stopped(String::new(), message, &code);
            if code.is_empty() {
                e.code = "run-stopped".into();
            }
            out.push((is_error, e));
            continue;
        }
        let at = line
            .trim_start()
            .strip_prefix("┌─ ")
            .or_else(|| line.trim_start().strip_prefix("--> "));
        if let (Some(at), Some((_, last))) = (at, out.last_mut()) {
            if last.file.is_empty() {
                let mut parts = at.rsplitn(3, ':');
                let col = parts.next().and_then(|c| c.trim().parse().ok());
                let ln = parts.next().and_then(|l| l.trim().parse().ok());
                match (parts.next(), ln, col) {
                    (Some(file), Some(ln), Some(col)) => {
                        last.file = file.to_string();
                        last.line = ln;
                        last.column = col;
                    }
                    _ => last.file = at.trim().to_string(),
                }
            }
        }
    }
    out
}

/// `s` without terminal colour sequences (`ESC [ … m`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The run stopped before checking anything (exit 2): the machine formats
/// (`json`, `sarif`, `junit`, `github`, `gitlab`) still get a document, with
/// the problems as its errors and warnings, so a CI step that reads one is
/// never handed an empty file; the formats people read have them on stderr
/// already and write nothing.
fn render_stopped(
    targets: &[(Format, Target)],
    problems: Vec<(bool, crate::report::InputError)>,
    cwd: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    use crate::render::Format as F;
    let mut report = crate::report::Report::default();
    for (is_error, p) in problems {
        if is_error {
            report.errors.push(p);
        } else {
            report.warnings.push(p);
        }
    }
    report.run.version = env!("CARGO_PKG_VERSION").to_string();
    for (format, target) in targets {
        let format = format.format();
        if !matches!(
            format,
            F::Json | F::Sarif | F::Junit | F::Github | F::Gitlab
        ) {
            continue;
        }
        let rendered = crate::render::render(&report, format);
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
                }
            }
        }
    }
    EXIT_ERROR
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
