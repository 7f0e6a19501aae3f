//! Classification steps run on what discovery found, before anything is
//! read as an input (the content checks of single files — ciphertext,
//! templates, "reads as the format" — run when the file is read:
//! `Project::add_input`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_runtime::formats::caddyfile::entry::fragment_roots;
use rampart_runtime::fs::Confined;
use rampart_runtime::project::{Kind, MAX_INPUT_BYTES};

use crate::discover::{Discovered, Input};

/// Caddyfiles another Caddyfile of the run imports are fragments: checked
/// through the file that imports them (in its context), never as roots. Each
/// one dropped is a note (`--verbose`). A fragment named on the command line
/// (pre-commit passes changed files by name) is checked through the
/// Caddyfiles of its directory that import it, which are then checked.
pub fn caddy_fragments(d: &mut Discovered, cwd: &Path) {
    let fs = Confined::new(
        cwd,
        d.roots.iter().map(|r| rampart_runtime::fs::undisplay(r)),
    );
    let norm = rampart_runtime::fs::normalize_path;
    let mut caddy: BTreeSet<PathBuf> = d
        .inputs
        .iter()
        .filter(|i| i.kind == Kind::CADDY)
        .map(|i| norm(&i.path))
        .collect();
    // Siblings of a named Caddyfile: where its importer would be.
    let dirs: BTreeSet<PathBuf> = d
        .inputs
        .iter()
        .filter(|i| i.kind == Kind::CADDY && i.explicit)
        .filter_map(|i| norm(&i.path).parent().map(Path::to_path_buf))
        .collect();
    for dir in dirs {
        for name in fs.list(&dir).unwrap_or_default() {
            let name = name.to_string_lossy().to_string();
            if Kind::by_name(&name) == Some(Kind::CADDY) {
                caddy.insert(dir.join(name));
            }
        }
    }
    if caddy.len() < 2 {
        return;
    }
    let text = |p: &Path| {
        fs.read_prefix(p, MAX_INPUT_BYTES as u64)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let caddy: Vec<PathBuf> = caddy.into_iter().collect();
    let mut ahead = crate::discover::read_ahead(&caddy, text);
    let mut read = |p: &Path| ahead.take(p);
    let frags = fragment_roots(&caddy, &mut read);
    if frags.is_empty() {
        return;
    }
    let mut notes = Vec::new();
    let mut add = Vec::new();
    d.inputs.retain(|i| {
        let Some(roots) = frags.get(&norm(&i.path)).filter(|_| i.kind == Kind::CADDY) else {
            return true;
        };
        let shown: Vec<String> = roots
            .iter()
            .map(|r| format!("`{}`", rampart_runtime::fs::display(cwd, r)))
            .collect();
        notes.push(format!(
            "{}: a Caddyfile fragment {} imports; checked through that import, not on its own",
            i.display,
            shown.join(", ")
        ));
        if i.explicit {
            add.extend(roots.iter().cloned());
        }
        false
    });
    for r in add {
        if !d.inputs.iter().any(|i| norm(&i.path) == r) {
            d.inputs.push(Input {
                display: rampart_runtime::fs::display(cwd, &r),
                path: r,
                kind: Kind::CADDY,
                explicit: true,
            });
        }
    }
    d.notes.extend(notes);
}
