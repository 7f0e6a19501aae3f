//! `rampart schema [TARGET]`: the fields policies can read.

use std::io::Write;

use super::{EXIT_ERROR, EXIT_OK};

pub(super) fn run(target: Option<&str>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let s = rampart_runtime::schema::Schema::standard();
    match crate::schema_doc::render(&s, &rampart_runtime::functions::signatures(), target) {
        Ok(text) => {
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: unknown target `{}`", e.name);
            match e.suggestion {
                Some(s) => {
                    let _ = writeln!(err, "help: did you mean `{s}`?");
                }
                None => {
                    let _ = writeln!(err, "help: targets: {}", e.targets.join(", "));
                }
            }
            EXIT_ERROR
        }
    }
}
