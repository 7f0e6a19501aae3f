//! `rampart explain ID`: one policy's page of the catalog (`rampart docs`),
//! in the terminal.

use std::io::Write;
use std::path::Path;

use super::{PolicyArgs, EXIT_ERROR, EXIT_OK};
use crate::session::compile_policies;

pub(super) fn run(
    id: &str,
    p: &PolicyArgs,
    cwd: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let Some(compiled) = compile_policies(&p.request(), cwd, err) else {
        return EXIT_ERROR;
    };
    let Some(policy) = compiled.policies.iter().find(|x| x.id == id) else {
        let ids: Vec<&str> = compiled.policies.iter().map(|p| p.id.as_str()).collect();
        let _ = writeln!(err, "error: no policy `{id}`");
        if let Some(s) = crate::diagnostics::did_you_mean(id, ids) {
            let _ = writeln!(err, "help: did you mean `{s}`?");
        }
        return EXIT_ERROR;
    };
    let _ = writeln!(out, "{}", crate::docs::policy_markdown(&compiled, policy));
    EXIT_OK
}
