//! `rampart list`: the policies, one a line.

use std::io::Write;
use std::path::Path;

use super::{PolicyArgs, EXIT_ERROR, EXIT_OK};
use crate::session::compile_policies_deferred;

pub(super) fn run(p: &PolicyArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let Some(compiled) = compile_policies_deferred(&p.request(), cwd, err) else {
        return EXIT_ERROR;
    };
    let width = compiled
        .policies
        .iter()
        .map(|p| p.id.len())
        .max()
        .unwrap_or(0);
    for p in &compiled.policies {
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:<11}  {}",
            p.id,
            p.severity.as_str(),
            p.profile.as_str(),
            p.title
        );
    }
    EXIT_OK
}
