//! Compose's default override file merged into its base file, as `docker
//! compose` does without `-f` (see `formats::compose::overlay`): when the
//! compose files checked in one directory include a base (`compose.yaml`,
//! `docker-compose.yml`…) and an override (`compose.override.yml`,
//! `docker-compose.override.yml`…), the base's model is rebuilt with the
//! override's keys merged into its services, and the override's services
//! that the base defines leave the override's model (they are checked once,
//! as part of the base service; their values keep their spans in the
//! override file).

use std::collections::BTreeMap;

use super::{join, parent, Project, Target};
use crate::formats::compose::{self, extends, overlay};
use crate::formats::yaml::{self, YamlLimits};
use crate::model::Node;

pub(super) fn merge_default_overrides(p: &mut Project) {
    // Compose documents by directory: (file name, document index).
    let mut dirs: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for (i, d) in p.documents.iter().enumerate() {
        if d.target != Target::COMPOSE {
            continue;
        }
        let Some(path) = p.sources.get(d.file).map(|f| f.path.clone()) else {
            continue;
        };
        let name = path.rsplit('/').next().unwrap_or(&path).to_string();
        dirs.entry(parent(&path).to_string())
            .or_default()
            .push((name, i));
    }
    for files in dirs.values() {
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        let Some((base, over)) = overlay::default_pair(&names) else {
            continue;
        };
        let index = |n: &str| files.iter().find(|(f, _)| f == n).map(|(_, i)| *i);
        let (Some(bi), Some(oi)) = (index(base), index(over)) else {
            continue;
        };
        let Some(model) = rebuilt_base(p, bi, oi) else {
            continue;
        };
        let merged: Vec<String> = model
            .get("services")
            .and_then(Node::as_list)
            .unwrap_or(&[])
            .iter()
            .filter_map(|s| s.get("name").and_then(Node::as_str).map(str::to_string))
            .collect();
        if let Some(d) = p.documents.get_mut(bi) {
            d.root = model;
        }
        if let Some(services) = p
            .documents
            .get_mut(oi)
            .and_then(|d| d.root.get_mut("services"))
            .and_then(Node::as_list_mut)
        {
            services.retain(|s| {
                !s.get("name")
                    .and_then(Node::as_str)
                    .is_some_and(|n| merged.iter().any(|m| m == n))
            });
        }
    }
}

/// The model of document `bi` (a base file) with document `oi` (its override)
/// merged in; `None` when either text is missing or does not parse.
fn rebuilt_base(p: &Project, bi: usize, oi: usize) -> Option<Node> {
    let bfile = p.documents.get(bi)?.file;
    let ofile = p.documents.get(oi)?.file;
    let base = p.sources.get(bfile)?;
    let over = p.sources.get(ofile)?;
    // `extends: {file: …}` targets were read when the base was loaded.
    let mut read = |from: &str, rel: &str| -> Result<Option<extends::OtherFile>, String> {
        let shown = join(parent(from), rel);
        let Some(id) = p.sources.find(&shown) else {
            return Ok(None);
        };
        let text = p
            .sources
            .get(id)
            .map(|f| f.text.to_string())
            .unwrap_or_default();
        match yaml::parse(id, &text, YamlLimits::default()) {
            Ok(root) => Ok(Some(extends::OtherFile { root, path: shown })),
            Err(_) => Err("it is not valid YAML".into()),
        }
    };
    compose::parse_overlaid(bfile, &base.text, &base.path, ofile, &over.text, &mut read)
}
