//! Compose `extends:`: a service inherits the configuration of another one,
//! in the same file (`extends: web` or `extends: {service: web}`) or in
//! another file (`extends: {file: common.yml, service: web}`), resolved
//! before the model is built, the way Compose merges them:
//! - mappings (`environment`, `labels`, `healthcheck`, `deploy`, `build`,
//!   `logging`, `networks`…) are merged key by key, the extending service
//!   winning; `environment`/`labels`/`annotations`/`extra_hosts` written as
//!   lists are merged by their `KEY` part;
//! - the sequences Compose appends (`ports`, `expose`, `volumes`, `cap_add`,
//!   `cap_drop`, `dns`, `env_file`, `security_opt`…) keep the base's items
//!   and add the extending service's (an identical item once);
//! - anything else (`image`, `command`, `entrypoint`, `user`…) is replaced.
//!
//! A target that cannot be found is a warning at the `extends:` naming it;
//! the service is checked with what it writes itself.

use super::merge;
use crate::formats::yaml::{YKind, YNode};
use crate::model::{InputProblem, Span};

/// How many `extends` links are followed from one service (a chain longer
/// than this, or a cycle, is a warning; the service keeps what was merged).
pub const MAX_EXTENDS_DEPTH: usize = 16;

/// Sequences Compose appends to (the others are replaced).
const APPENDED: [&str; 14] = [
    "ports",
    "expose",
    "volumes",
    "devices",
    "cap_add",
    "cap_drop",
    "dns",
    "dns_search",
    "tmpfs",
    "env_file",
    "security_opt",
    "external_links",
    "secrets",
    "configs",
];

/// Another compose file an `extends` names: its root, for its services.
pub struct OtherFile {
    /// The root mapping.
    pub root: YNode,
    /// The file's display path (for messages).
    pub path: String,
}

/// Reads another compose file named by an `extends` (a path relative to the
/// directory of `from`, a display path): `Ok(None)` when it is missing,
/// `Err(reason)` when it exists but was not read or parsed.
pub type ReadOther<'a> = dyn FnMut(&str, &str) -> Result<Option<OtherFile>, String> + 'a;

/// `root` (a compose file's root mapping) with every service's `extends`
/// resolved; warnings for what could not be.
pub fn resolve(
    root: &YNode,
    path: &str,
    read: &mut ReadOther<'_>,
    problems: &mut Vec<InputProblem>,
) -> YNode {
    let Some(services) = root.get("services") else {
        return root.clone();
    };
    if !services
        .entries()
        .iter()
        .any(|(_, b)| b.get("extends").is_some())
    {
        return root.clone();
    }
    let mut resolved = Vec::new();
    for (key, body) in services.entries() {
        let mut chain = vec![(path.to_string(), key.text.clone())];
        let merged = resolve_service(root, path, body, read, problems, &mut chain);
        resolved.push((key.clone(), merged));
    }
    let mut out = root.clone();
    if let YKind::Map(entries) = &mut out.kind {
        for (k, v) in entries.iter_mut() {
            if k.text == "services" {
                v.kind = YKind::Map(resolved);
                break;
            }
        }
    }
    out
}

/// The service `body` of the file `root` (at `path`) with its `extends` merged in.
fn resolve_service(
    root: &YNode,
    path: &str,
    body: &YNode,
    read: &mut ReadOther<'_>,
    problems: &mut Vec<InputProblem>,
    chain: &mut Vec<(String, String)>,
) -> YNode {
    let Some(ext) = body.get("extends") else {
        return body.clone();
    };
    let own = without(body, "extends");
    let (service, file) = match &ext.kind {
        YKind::Str(s) => (Some(s.clone()), None),
        YKind::Map(_) => (
            ext.get("service").and_then(|s| s.scalar_text("")),
            ext.get("file").and_then(|f| f.scalar_text("")),
        ),
        _ => (None, None),
    };
    let Some(service) = service.filter(|s| !s.is_empty()) else {
        problems.push(warning(
            "compose-extends-unresolved",
            ext.span,
            "`extends` names no service; checked without it".into(),
        ));
        return own;
    };
    if service.contains('$') || file.as_deref().is_some_and(|f| f.contains('$')) {
        problems.push(warning(
            "compose-extends-unresolved",
            ext.span,
            format!("`extends` of `{service}` uses a variable; checked without it"),
        ));
        return own;
    }
    let other;
    let (base_root, base_path) = match &file {
        None => (root, path.to_string()),
        Some(f) => match read(path, f) {
            Ok(Some(o)) => {
                other = o;
                (&other.root, other.path.clone())
            }
            Ok(None) => {
                problems.push(warning(
                    "link-unresolved",
                    ext.span,
                    format!("extends file `{f}` is not in the repository; checked without it"),
                ));
                return own;
            }
            Err(why) => {
                problems.push(warning(
                    "link-refused",
                    ext.span,
                    format!("extends file `{f}` was not read: {why}"),
                ));
                return own;
            }
        },
    };
    let Some(base) = base_root.get("services").and_then(|s| s.get(&service)) else {
        let place = file.map_or_else(|| "this file".to_string(), |f| format!("`{f}`"));
        problems.push(warning(
            "compose-extends-unresolved",
            ext.span,
            format!("extends: service `{service}` is not defined in {place}; checked without it"),
        ));
        return own;
    };
    let link = (base_path.clone(), service.clone());
    if chain.contains(&link) || chain.len() > MAX_EXTENDS_DEPTH {
        problems.push(warning(
            "compose-extends-cycle",
            ext.span,
            format!(
                "extends of `{service}` forms a cycle or a chain longer than {MAX_EXTENDS_DEPTH}; \
                 not followed further"
            ),
        ));
        return own;
    }
    chain.push(link);
    let base = resolve_service(base_root, &base_path, base, read, problems, chain);
    chain.pop();
    merge(&base, &own, None)
}

/// `over` merged onto `base` (`field`: the service key both are the value of).
fn merge(base: &YNode, over: &YNode, field: Option<&str>) -> YNode {
    match (&base.kind, &over.kind) {
        // Below the service level, nested mappings merge too.
        (YKind::Map(b), YKind::Map(o)) => merge::maps(b, o, over, |k, v, ov| {
            merge(v, ov, field.or(Some(k.text.as_str())))
        }),
        (YKind::Seq(b), YKind::Seq(o)) if field.is_some_and(|f| merge::KEYED.contains(&f)) => {
            merge::keyed(b, o, over)
        }
        (YKind::Seq(b), YKind::Seq(o)) if field.is_some_and(|f| APPENDED.contains(&f)) => {
            merge::appended(b, o, over)
        }
        _ => over.clone(),
    }
}

fn without(body: &YNode, key: &str) -> YNode {
    let mut out = body.clone();
    if let YKind::Map(entries) = &mut out.kind {
        entries.retain(|(k, _)| k.text != key);
    }
    out
}

fn warning(code: &'static str, span: Span, message: String) -> InputProblem {
    InputProblem::warning(code, span, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::yaml::{parse, YamlLimits};
    use crate::model::FileId;

    fn resolved(src: &str) -> (YNode, Vec<InputProblem>) {
        let root = parse(FileId(0), src, YamlLimits::default()).unwrap();
        let mut problems = Vec::new();
        let mut none = |_: &str, _: &str| Ok(None);
        let out = resolve(&root, "docker-compose.yml", &mut none, &mut problems);
        (out, problems)
    }

    fn texts(n: Option<&YNode>) -> Vec<String> {
        n.map(|n| n.items().iter().filter_map(|i| i.scalar_text("")).collect())
            .unwrap_or_default()
    }

    #[test]
    fn same_file_fields_merge_the_compose_way() {
        let (root, problems) = resolved(
            "services:\n  base:\n    image: app:1\n    privileged: true\n    ports: ['80:80']\n    environment: [A=1, B=2]\n    healthcheck: {test: [CMD, x], interval: 5s}\n  web:\n    extends: base\n    image: app:2\n    ports: ['443:443']\n    environment: [B=3]\n    healthcheck: {interval: 9s}\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let web = root.get("services").unwrap().get("web").unwrap();
        assert_eq!(
            web.get("image").unwrap().scalar_text(""),
            Some("app:2".into())
        );
        assert_eq!(web.get("privileged").unwrap().kind, YKind::Bool(true));
        assert_eq!(texts(web.get("ports")), ["80:80", "443:443"]);
        assert_eq!(texts(web.get("environment")), ["A=1", "B=3"]);
        let hc = web.get("healthcheck").unwrap();
        assert_eq!(texts(hc.get("test")), ["CMD", "x"]);
        assert_eq!(
            hc.get("interval").unwrap().scalar_text(""),
            Some("9s".into())
        );
        assert!(web.get("extends").is_none());
    }

    #[test]
    fn chains_cycles_and_missing_targets_are_warnings() {
        let (root, problems) = resolved(
            "services:\n  a:\n    extends: {service: b}\n    image: x\n  b:\n    extends: c\n    privileged: true\n  c:\n    cap_add: [ALL]\n  d:\n    extends: d\n  e:\n    extends: {service: nope}\n  f:\n    extends: {file: other.yml, service: x}\n",
        );
        let a = root.get("services").unwrap().get("a").unwrap();
        assert_eq!(a.get("privileged").unwrap().kind, YKind::Bool(true));
        assert_eq!(texts(a.get("cap_add")), ["ALL"]);
        let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
        assert_eq!(
            codes,
            [
                "compose-extends-cycle",
                "compose-extends-unresolved",
                "link-unresolved"
            ],
            "{problems:?}"
        );
        assert!(problems[2].message.contains("other.yml"));
    }
}
