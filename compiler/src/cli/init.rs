//! `rampart init`: writes a commented `rampart.yaml` in the working directory.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{EXIT_ERROR, EXIT_OK};
use crate::config::CONFIG_FILE;

pub(super) fn run(force: bool, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let path = cwd.join(CONFIG_FILE);
    // `symlink_metadata`: a link named `rampart.yaml` (even a dangling one) is
    // something that exists, never written through.
    let exists = std::fs::symlink_metadata(&path).ok();
    if let Some(meta) = &exists {
        if !force || !meta.is_file() {
            let why = if meta.is_file() {
                "use `--force` to overwrite it"
            } else {
                "it is not a regular file; remove it first"
            };
            let _ = writeln!(err, "error: `{CONFIG_FILE}` already exists; {why}");
            return EXIT_ERROR;
        }
    }
    let found = detect(cwd);
    let text = crate::init::template(&found);
    if let Err(e) = std::fs::write(&path, &text) {
        let _ = writeln!(err, "error: cannot write `{CONFIG_FILE}`: {e}");
        return EXIT_ERROR;
    }
    let verb = if exists.is_some() {
        "overwrote"
    } else {
        "wrote"
    };
    let inputs = if found.is_empty() {
        "no input found here yet".to_string()
    } else {
        let list: Vec<String> = found.iter().map(|(l, n)| format!("{l}: {n}")).collect();
        format!("inputs found: {}", list.join(", "))
    };
    let _ = writeln!(
        out,
        "{verb} `{CONFIG_FILE}` ({} lines: every setting at its default, with commented examples; {inputs})\n\
         next: rampart check .",
        text.lines().count()
    );
    EXIT_OK
}

/// The formats of the inputs `rampart check .` would read here, with counts,
/// in registry order.
fn detect(cwd: &Path) -> crate::init::Found {
    let found = crate::discover::discover(&[PathBuf::from(".")], cwd, false);
    rampart_runtime::project::Kind::all()
        .map(|k| {
            let n = found
                .inputs
                .iter()
                .filter(|i| i.kind.name() == k.name())
                .count();
            (k.format().label(), n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}
