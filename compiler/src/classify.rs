//! Classification steps run on what discovery found, before anything is
//! read as an input (the content checks of single files — ciphertext,
//! templates, "reads as the format" — run when the file is read:
//! `Project::add_input`).

use std::path::{Path, PathBuf};

use rampart_runtime::formats::caddyfile::entry::fragments;
use rampart_runtime::fs::Confined;
use rampart_runtime::project::{Kind, MAX_INPUT_BYTES};

use crate::discover::Discovered;

/// Caddyfiles another Caddyfile of the run imports are fragments: checked
/// through the file that imports them (in its context), never as roots. Each
/// one dropped is a note (`--verbose`).
pub fn caddy_fragments(d: &mut Discovered, cwd: &Path) {
    let caddy: Vec<PathBuf> = d
        .inputs
        .iter()
        .filter(|i| i.kind == Kind::CADDY)
        .map(|i| i.path.clone())
        .collect();
    if caddy.len() < 2 {
        return;
    }
    let fs = Confined::new(
        cwd,
        d.roots.iter().map(|r| rampart_runtime::fs::undisplay(r)),
    );
    let mut read = |p: &Path| {
        fs.read_prefix(p, MAX_INPUT_BYTES as u64)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let frags = fragments(&caddy, &mut read);
    if frags.is_empty() {
        return;
    }
    let norm = rampart_runtime::fs::normalize_path;
    let mut notes = Vec::new();
    d.inputs.retain(|i| {
        let frag = i.kind == Kind::CADDY && frags.contains(&norm(&i.path));
        if frag {
            notes.push(format!(
                "{}: a Caddyfile fragment another Caddyfile imports; checked through that import, not on its own",
                i.display
            ));
        }
        !frag
    });
    d.notes.extend(notes);
}
