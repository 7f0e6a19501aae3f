//! Diagnostics about policy files and the config file, with snippets of them.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{emit_into_string, Config};

use crate::diagnostics::{Diagnostic, Level};
use crate::policy::compile::Compiled;

/// Renders policy diagnostics with their policy-file snippets.
pub fn policy_diagnostics(compiled: &Compiled, diags: &[Diagnostic]) -> String {
    let sources: Vec<(&str, &str)> = compiled
        .sources
        .iter()
        .map(|s| (s.path.as_str(), s.text.as_str()))
        .collect();
    diagnostics(&sources, diags)
}

/// Renders diagnostics about one file (a config file: source index 0).
pub fn file_diagnostics(path: &str, text: &str, diags: &[Diagnostic]) -> String {
    diagnostics(&[(path, text)], diags)
}

/// Renders diagnostics whose `source` indexes `sources` (path, text).
fn diagnostics(sources: &[(&str, &str)], diags: &[Diagnostic]) -> String {
    let mut files = SimpleFiles::new();
    let ids: Vec<usize> = sources
        .iter()
        .map(|(path, text)| {
            files.add(
                super::printable(path).into_owned(),
                super::printable_source(&super::masked_plain(text)).into_owned(),
            )
        })
        .collect();
    let config = Config::default();
    let mut out = String::new();
    for d in diags {
        let mut cs = match d.level {
            Level::Error => CsDiagnostic::error(),
            Level::Warning => CsDiagnostic::warning(),
        }
        .with_code(d.code)
        .with_message(&d.message);
        if let Some(fid) = ids.get(d.source as usize) {
            let len = sources.get(d.source as usize).map_or(0, |s| s.1.len());
            let start = d.start.min(len);
            let end = d.end.max(start).min(len);
            cs = cs.with_labels(vec![Label::primary(*fid, start..end)]);
        }
        if let Some(h) = &d.help {
            cs = cs.with_notes(vec![format!("help: {h}")]);
        }
        out.push_str(
            &emit_into_string(&config, &files, &cs)
                .unwrap_or_else(|_| format!("error[{}]: {}\n", d.code, d.message)),
        );
    }
    out
}
