//! `rampart completions SHELL` and `rampart man`: generated from the clap
//! definitions of [`super::command`], so they list every command and option
//! the binary has.

use std::io::Write;
use std::path::Path;

use super::{EXIT_ERROR, EXIT_OK};

/// The binary's name, as completions register it.
const BIN: &str = "rampart";

pub(super) fn completions(
    shell: clap_complete::Shell,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut cmd = super::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, BIN, &mut buf);
    write_out(&buf, out, err)
}

pub(super) fn man(dir: Option<&Path>, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let cmd = super::command();
    let Some(dir) = dir else {
        let mut buf = Vec::new();
        if let Err(e) = clap_mangen::Man::new(cmd).render(&mut buf) {
            let _ = writeln!(err, "error: cannot render the man page: {e}");
            return EXIT_ERROR;
        }
        return write_out(&buf, out, err);
    };
    let full = cwd.join(dir);
    let shown = crate::render::printable(&dir.to_string_lossy()).into_owned();
    if let Err(e) = std::fs::create_dir_all(&full) {
        let _ = writeln!(err, "error: cannot create `{shown}`: {e}");
        return EXIT_ERROR;
    }
    match clap_mangen::generate_to(cmd, &full) {
        Ok(()) => {
            let _ = writeln!(
                out,
                "wrote the man pages (rampart.1, rampart-<command>.1) to `{shown}`"
            );
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: cannot write the man pages to `{shown}`: {e}");
            EXIT_ERROR
        }
    }
}

fn write_out(buf: &[u8], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match out.write_all(buf) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(err, "error: cannot write to standard output: {e}");
            EXIT_ERROR
        }
    }
}
