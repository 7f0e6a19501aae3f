//! `rampart docs`: the policy catalog, written from the policies.

use std::io::Write;
use std::path::Path;

use super::{DocsArgs, DocsFormat, EXIT_ERROR, EXIT_OK};
use crate::docs::{catalog, DocFormat};
use crate::session::{compile_policies, PolicyRequest};

pub(super) fn run(a: &DocsArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut request: PolicyRequest = a.policies.request();
    request.policy.extend(a.paths.iter().cloned());
    let Some(compiled) = compile_policies(&request, cwd, err) else {
        return EXIT_ERROR;
    };
    let format = match a.format {
        DocsFormat::Markdown => DocFormat::Markdown,
        DocsFormat::Html => DocFormat::Html,
    };
    let title = if request.policy.is_empty() {
        "rampart standard library"
    } else {
        "Policy catalog"
    };
    let pages = catalog(&compiled, format, title);
    let Some(dir) = &a.out else {
        for p in &pages {
            let _ = writeln!(out, "{}\n", p.text);
        }
        return EXIT_OK;
    };
    let dir = cwd.join(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        let _ = writeln!(err, "error: cannot create `{}`: {e}", dir.display());
        return EXIT_ERROR;
    }
    for p in &pages {
        if let Err(e) = std::fs::write(dir.join(&p.path), &p.text) {
            let _ = writeln!(err, "error: cannot write `{}`: {e}", p.path);
            return EXIT_ERROR;
        }
    }
    let _ = writeln!(
        err,
        "wrote {} pages ({} policies and the index) to `{}`",
        pages.len(),
        pages.len() - 1,
        rampart_runtime::fs::display(cwd, &dir)
    );
    EXIT_OK
}
