//! Where policies come from: the embedded standard library and policy files.

use std::io::Write;
use std::path::{Path, PathBuf};

use rampart_runtime::fs::Confined;

use crate::policy::compile::PolicySource;

/// The embedded standard library as policy sources.
pub fn stdlib_sources() -> Vec<PolicySource> {
    rampart_stdlib::FILES
        .iter()
        .map(|(path, text)| PolicySource {
            path: format!("<stdlib>/{path}"),
            text: (*text).to_string(),
            stdlib: true,
        })
        .collect()
}

/// Reads policy files. `within`: the layer the paths must resolve inside (the
/// `policies:` of a config file); `None` for paths the operator named, which
/// may lie anywhere (still only regular files). A directory is walked without
/// following links out of it.
pub fn load_policy_sources(
    paths: &[PathBuf],
    cwd: &Path,
    within: Option<&Confined>,
    err: &mut dyn Write,
) -> Option<Vec<PolicySource>> {
    let mut out = Vec::new();
    let mut ok = true;
    for p in paths {
        let full = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        let mut files = Vec::new();
        let fs = if full.is_dir() {
            // No ignore files are read in a policy directory (one could be a
            // link out of it); every `.rampart` file below it is a policy.
            for e in ignore::WalkBuilder::new(&full)
                .standard_filters(false)
                .hidden(false)
                .follow_links(false)
                .sort_by_file_name(|a, b| a.cmp(b))
                .build()
                .flatten()
            {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if !is_dir && e.path().extension().is_some_and(|x| x == "rampart") {
                    files.push(e.path().to_path_buf());
                }
            }
            within
                .cloned()
                .unwrap_or_else(|| Confined::new(cwd, [full.clone()]))
        } else {
            files.push(full.clone());
            within.cloned().unwrap_or_else(|| Confined::anywhere(cwd))
        };
        for f in files {
            match fs.read_text(&f) {
                Ok(text) => out.push(PolicySource {
                    path: rampart_runtime::fs::display(cwd, &f),
                    text,
                    stdlib: false,
                }),
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "error: cannot read policy file `{}`: {e}",
                        rampart_runtime::fs::display(cwd, &f),
                    );
                    ok = false;
                }
            }
        }
    }
    ok.then_some(out)
}
