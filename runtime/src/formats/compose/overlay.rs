//! Compose overlays: files that complete the services of another compose file
//! (docs/policies-guide.md § Compose overlays).
//!
//! - **The default override.** With neither `-f` nor `COMPOSE_FILE`, `docker
//!   compose` reads the first of [`BASE_NAMES`] in a directory and merges into
//!   it the first of [`OVERRIDE_NAMES`] in the same directory. rampart does the
//!   same with the compose files it checks: the base file's services carry
//!   the override's keys ([`merge_override`]), and the override's services
//!   that the base defines are checked there only (once, where the fix goes:
//!   a missing setting at the base service, a bad value where it is written).
//! - **Other overlays** (`docker-compose.prod.yml`, CI variants, files meant
//!   for `-f` or `include:`) are not merged: which files go together is a
//!   command-line choice rampart does not see. A service that has neither
//!   `image:`, `build:` nor `extends:` cannot run on its own ([`is_partial`]):
//!   it only completes a service of another file. The model marks it
//!   `overlay`, and the policies about a *missing* setting skip it; what it
//!   writes (a privileged flag, a mount, a secret) is still checked.
//!
//! Merging follows the Compose specification's merge rules, for every key:
//! mappings merge key by key (the override winning); sequences are appended
//! (an identical item once), except `command`, `entrypoint` and
//! `healthcheck.test`, which the override replaces; `environment`, `labels`,
//! `annotations`, `extra_hosts` and `sysctls` written as lists merge by their
//! `KEY`; `volumes`, `secrets` and `configs` are unique by their target (the
//! override's item replaces the base's with the same target); scalars are
//! replaced. YAML tags (`!reset`, `!override`) are not seen by the parser and
//! are merged as if absent.

use super::merge;
use crate::formats::yaml::{YKey, YKind, YNode};

/// Compose's base file names in a directory, in its order of preference
/// (compose-go `DefaultFileNames`).
pub const BASE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];

/// Compose's override file names, in its order of preference
/// (compose-go `DefaultOverrideFileNames`).
pub const OVERRIDE_NAMES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// Sequences the override replaces instead of appending to.
const REPLACED: [&str; 2] = ["command", "entrypoint"];

/// Sequences whose items are unique by their target.
const BY_TARGET: [&str; 3] = ["volumes", "secrets", "configs"];

/// The base file and the override file `docker compose` reads by default in
/// one directory, given the base names of the compose files there: the
/// first base name present and the first override name present, when both are.
pub fn default_pair<'a>(names: &[&'a str]) -> Option<(&'a str, &'a str)> {
    let base = BASE_NAMES
        .iter()
        .find_map(|b| names.iter().find(|n| **n == *b))?;
    let over = OVERRIDE_NAMES
        .iter()
        .find_map(|o| names.iter().find(|n| **n == *o))?;
    Some((base, over))
}

/// Whether a service body cannot run on its own: it has neither `image:`,
/// `build:` nor `extends:` (a body that is not a mapping has none).
pub fn is_partial(body: &YNode) -> bool {
    ["image", "build", "extends"]
        .iter()
        .all(|k| body.get(k).is_none())
}

/// The names of the services a compose root mapping defines.
pub fn service_names(root: &YNode) -> Vec<String> {
    root.get("services")
        .map(|s| s.entries().iter().map(|(k, _)| k.text.clone()).collect())
        .unwrap_or_default()
}

/// `base` (a compose root mapping) with the services `over` also defines
/// merged with the override's keys. Services only the override defines are
/// not added (they are checked in the override file itself).
pub fn merge_override(base: &YNode, over: &YNode) -> YNode {
    let Some(over_services) = over.get("services") else {
        return base.clone();
    };
    let mut out = base.clone();
    if let YKind::Map(entries) = &mut out.kind {
        for (k, services) in entries.iter_mut() {
            if k.text != "services" {
                continue;
            }
            if let YKind::Map(svcs) = &mut services.kind {
                for (name, body) in svcs.iter_mut() {
                    if let Some(o) = over_services.get(&name.text) {
                        *body = merge_service(body, o);
                    }
                }
            }
        }
    }
    out
}

/// A service body `base` with the override's body `over` merged onto it.
/// The result keeps the base's span (the service is where the base defines it).
pub fn merge_service(base: &YNode, over: &YNode) -> YNode {
    let (YKind::Map(b), YKind::Map(o)) = (&base.kind, &over.kind) else {
        // An empty override (`web:`) changes nothing; a non-mapping base is replaced.
        return if matches!(over.kind, YKind::Null) {
            base.clone()
        } else {
            over.clone()
        };
    };
    merge::maps(b, o, base, |k, v, ov| merge_field(&k.text, v, ov))
}

/// One service-level key merged.
fn merge_field(field: &str, base: &YNode, over: &YNode) -> YNode {
    match (&base.kind, &over.kind) {
        (YKind::Seq(_), YKind::Seq(_)) if REPLACED.contains(&field) => over.clone(),
        (YKind::Seq(b), YKind::Seq(o)) if merge::KEYED.contains(&field) => merge::keyed(b, o, over),
        (YKind::Seq(b), YKind::Seq(o)) if BY_TARGET.contains(&field) => {
            let mut items: Vec<YNode> = b
                .iter()
                .filter(|bi| {
                    let t = target_of(field, bi);
                    t.is_none() || !o.iter().any(|oi| target_of(field, oi) == t)
                })
                .cloned()
                .collect();
            items.extend(o.iter().cloned());
            merge::seq(over, items)
        }
        (YKind::Seq(b), YKind::Seq(o)) => merge::appended(b, o, over),
        (YKind::Map(_), YKind::Map(_)) => {
            let replaced: &[&str] = if field == "healthcheck" {
                &["test"]
            } else {
                &[]
            };
            merge_nested(base, over, replaced)
        }
        // `environment: [A=1]` in one file, `environment: {B: 2}` in the
        // other: the override is read in the base's form, then merged.
        (YKind::Seq(_), YKind::Map(_)) | (YKind::Map(_), YKind::Seq(_))
            if merge::KEYED.contains(&field) =>
        {
            merge_field(field, base, &as_form_of(field, over, base))
        }
        _ => over.clone(),
    }
}

/// A keyed field (`environment`…) written in the other form than `like`:
/// a mapping as a list of `KEY=VALUE` items, a list as a mapping (`KEY`
/// before the first `=`, or `:` for `extra_hosts`). Each item keeps the span
/// of the entry it comes from.
fn as_form_of(field: &str, n: &YNode, like: &YNode) -> YNode {
    let kind = match (&n.kind, &like.kind) {
        (YKind::Map(entries), YKind::Seq(_)) => YKind::Seq(
            entries
                .iter()
                .map(|(k, v)| {
                    let span = k.span.cover(v.span);
                    let text = match (&v.kind, v.scalar_text("")) {
                        (YKind::Null, _) | (_, None) => k.text.clone(),
                        (_, Some(t)) => format!("{}={t}", k.text),
                    };
                    YNode {
                        span,
                        defined: span,
                        kind: YKind::Str(text),
                    }
                })
                .collect(),
        ),
        (YKind::Seq(items), YKind::Map(_)) => YKind::Map(
            items
                .iter()
                .filter_map(|item| {
                    let t = item.scalar_text("")?;
                    let split = t.split_once('=').or_else(|| {
                        (field == "extra_hosts")
                            .then(|| t.split_once(':'))
                            .flatten()
                    });
                    let (key, value) = match split {
                        Some((k, v)) => (k.trim().to_string(), YKind::Str(v.to_string())),
                        None => (t.trim().to_string(), YKind::Null),
                    };
                    let value = YNode {
                        span: item.span,
                        defined: item.defined,
                        kind: value,
                    };
                    Some((
                        YKey {
                            text: key,
                            span: item.span,
                        },
                        value,
                    ))
                })
                .collect(),
        ),
        _ => return n.clone(),
    };
    YNode {
        span: n.span,
        defined: n.defined,
        kind,
    }
}

/// Nested mappings merge key by key, their sequences appended, except the
/// keys in `replaced` (`healthcheck.test`), which the override replaces.
fn merge_nested(base: &YNode, over: &YNode, replaced: &[&str]) -> YNode {
    match (&base.kind, &over.kind) {
        (YKind::Map(b), YKind::Map(o)) => merge::maps(b, o, over, |k, v, ov| {
            if replaced.contains(&k.text.as_str()) {
                ov.clone()
            } else {
                merge_nested(v, ov, &[])
            }
        }),
        (YKind::Seq(b), YKind::Seq(o)) => merge::appended(b, o, over),
        _ => over.clone(),
    }
}

/// The target a `volumes`/`secrets`/`configs` item is unique by: the
/// container path of a volume (`src:/target:ro` or `target:`), the target
/// (else the name) of a secret or config.
fn target_of(field: &str, item: &YNode) -> Option<String> {
    match &item.kind {
        YKind::Map(_) => item
            .get("target")
            .or_else(|| (field != "volumes").then(|| item.get("source")).flatten())
            .and_then(|t| t.scalar_text("")),
        YKind::Str(s) if field == "volumes" => {
            let mut parts = s.split(':');
            let first = parts.next().unwrap_or("");
            Some(parts.next().unwrap_or(first).to_string())
        }
        YKind::Str(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::yaml::{parse, YamlLimits};
    use crate::model::FileId;

    fn merged(base: &str, over: &str) -> YNode {
        let b = parse(FileId(0), base, YamlLimits::default()).unwrap();
        let o = parse(FileId(1), over, YamlLimits::default()).unwrap();
        let root = merge_override(&b, &o);
        root.get("services").unwrap().get("web").unwrap().clone()
    }

    fn texts(n: Option<&YNode>) -> Vec<String> {
        n.map(|n| n.items().iter().filter_map(|i| i.scalar_text("")).collect())
            .unwrap_or_default()
    }

    fn text(n: Option<&YNode>) -> Option<String> {
        n.and_then(|n| n.scalar_text(""))
    }

    #[test]
    fn default_pair_follows_compose_order() {
        assert_eq!(
            default_pair(&["docker-compose.yml", "docker-compose.override.yml"]),
            Some(("docker-compose.yml", "docker-compose.override.yml"))
        );
        // compose.yaml wins over docker-compose.yml; any override name pairs with it.
        assert_eq!(
            default_pair(&[
                "docker-compose.yml",
                "compose.yaml",
                "docker-compose.override.yml"
            ]),
            Some(("compose.yaml", "docker-compose.override.yml"))
        );
        assert_eq!(
            default_pair(&[
                "compose.override.yaml",
                "compose.override.yml",
                "compose.yml"
            ]),
            Some(("compose.yml", "compose.override.yml"))
        );
        assert_eq!(default_pair(&["docker-compose.override.yml"]), None);
        assert_eq!(
            default_pair(&["docker-compose.yml", "docker-compose.prod.yml"]),
            None
        );
    }

    #[test]
    fn partial_services_have_no_image_build_or_extends() {
        let root = parse(
            FileId(0),
            "services:\n  a: {ports: ['80:80']}\n  b: {image: x}\n  c: {build: .}\n  d: {extends: b}\n  e:\n",
            YamlLimits::default(),
        )
        .unwrap();
        let s = root.get("services").unwrap();
        let partial: Vec<bool> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|n| is_partial(s.get(n).unwrap()))
            .collect();
        assert_eq!(partial, [true, false, false, false, true]);
    }

    #[test]
    fn mappings_merge_key_by_key_and_scalars_are_replaced() {
        let web = merged(
            "services:\n  web:\n    image: app:1\n    user: root\n    deploy: {resources: {limits: {memory: 1G}}}\n",
            "services:\n  web:\n    user: '1000'\n    read_only: true\n    deploy: {resources: {limits: {cpus: '0.5'}}}\n",
        );
        assert_eq!(text(web.get("image")).as_deref(), Some("app:1"));
        assert_eq!(text(web.get("user")).as_deref(), Some("1000"));
        assert_eq!(web.get("read_only").unwrap().kind, YKind::Bool(true));
        let limits = web
            .get("deploy")
            .and_then(|d| d.get("resources"))
            .and_then(|r| r.get("limits"))
            .unwrap();
        assert_eq!(text(limits.get("memory")).as_deref(), Some("1G"));
        assert_eq!(text(limits.get("cpus")).as_deref(), Some("0.5"));
        // The merged service stays where the base defines it.
        assert_eq!(web.span.file, FileId(0));
    }

    #[test]
    fn sequences_are_appended_an_identical_item_once() {
        let web = merged(
            "services:\n  web:\n    image: app:1\n    cap_drop: [NET_RAW]\n    ports: ['80:80']\n    security_opt: [label:disable]\n",
            "services:\n  web:\n    cap_drop: [ALL]\n    ports: ['80:80', '443:443']\n    security_opt: ['no-new-privileges:true']\n",
        );
        assert_eq!(texts(web.get("cap_drop")), ["NET_RAW", "ALL"]);
        assert_eq!(texts(web.get("ports")), ["80:80", "443:443"]);
        assert_eq!(
            texts(web.get("security_opt")),
            ["label:disable", "no-new-privileges:true"]
        );
    }

    #[test]
    fn command_entrypoint_and_healthcheck_test_are_replaced() {
        let web = merged(
            "services:\n  web:\n    image: app:1\n    command: [echo, foo]\n    entrypoint: [/a]\n    healthcheck: {test: [CMD, a], interval: 5s}\n",
            "services:\n  web:\n    command: [echo, bar]\n    entrypoint: [/b]\n    healthcheck: {test: [CMD, b], retries: 3}\n",
        );
        assert_eq!(texts(web.get("command")), ["echo", "bar"]);
        assert_eq!(texts(web.get("entrypoint")), ["/b"]);
        let hc = web.get("healthcheck").unwrap();
        assert_eq!(texts(hc.get("test")), ["CMD", "b"]);
        assert_eq!(text(hc.get("interval")).as_deref(), Some("5s"));
        assert_eq!(text(hc.get("retries")).as_deref(), Some("3"));
    }

    #[test]
    fn keyed_lists_merge_by_key() {
        let web = merged(
            "services:\n  web:\n    image: app:1\n    environment: [A=1, B=2]\n    labels: {a.x: '1'}\n",
            "services:\n  web:\n    environment: [B=3, C=4]\n    labels: {a.y: '2'}\n",
        );
        assert_eq!(texts(web.get("environment")), ["A=1", "B=3", "C=4"]);
        let labels = web.get("labels").unwrap();
        assert_eq!(text(labels.get("a.x")).as_deref(), Some("1"));
        assert_eq!(text(labels.get("a.y")).as_deref(), Some("2"));
    }

    #[test]
    fn keyed_fields_in_either_form_merge_by_key() {
        // tiangolo/full-stack-fastapi-template: a list in the base, a mapping in the override.
        let web = merged(
            "services:\n  web:\n    image: app:1\n    environment:\n      - SECRET_KEY=${SECRET_KEY}\n      - SMTP_HOST=${SMTP_HOST}\n",
            "services:\n  web:\n    environment:\n      SMTP_HOST: mailcatcher\n      SMTP_PORT: 1025\n      EMPTY:\n",
        );
        assert_eq!(
            texts(web.get("environment")),
            [
                "SECRET_KEY=${SECRET_KEY}",
                "SMTP_HOST=mailcatcher",
                "SMTP_PORT=1025",
                "EMPTY"
            ]
        );
        // A mapping in the base, a list in the override.
        let web = merged(
            "services:\n  web:\n    image: app:1\n    environment: {A: '1', B: '2'}\n",
            "services:\n  web:\n    environment: [B=3, C]\n",
        );
        let env = web.get("environment").unwrap();
        assert_eq!(text(env.get("A")).as_deref(), Some("1"));
        assert_eq!(text(env.get("B")).as_deref(), Some("3"));
        assert_eq!(env.get("C").unwrap().kind, YKind::Null);
    }

    #[test]
    fn volumes_and_secrets_are_unique_by_target() {
        let web = merged(
            "services:\n  web:\n    image: app:1\n    volumes: ['data:/data', './conf:/etc/app:ro']\n    secrets: [db, {source: api, target: api_key}]\n",
            "services:\n  web:\n    volumes: ['./dev-data:/data', {type: bind, source: ./logs, target: /logs}]\n    secrets: [{source: api2, target: api_key}]\n",
        );
        assert_eq!(
            texts(web.get("volumes")),
            ["./conf:/etc/app:ro", "./dev-data:/data"]
        );
        assert_eq!(web.get("volumes").unwrap().items().len(), 3);
        let secrets = web.get("secrets").unwrap().items();
        assert_eq!(secrets.len(), 2);
        assert_eq!(text(secrets[1].get("source")).as_deref(), Some("api2"));
    }

    #[test]
    fn only_the_services_the_base_defines_are_merged() {
        let b = parse(
            FileId(0),
            "services:\n  web: {image: app:1}\n",
            YamlLimits::default(),
        )
        .unwrap();
        let o = parse(
            FileId(1),
            "services:\n  web: {cap_drop: [ALL]}\n  extra: {image: x}\n",
            YamlLimits::default(),
        )
        .unwrap();
        let root = merge_override(&b, &o);
        assert_eq!(service_names(&root), ["web"]);
        let web = root.get("services").unwrap().get("web").unwrap();
        assert_eq!(texts(web.get("cap_drop")), ["ALL"]);
        // An empty override body changes nothing.
        let o = parse(FileId(1), "services:\n  web:\n", YamlLimits::default()).unwrap();
        let root = merge_override(&b, &o);
        let web = root.get("services").unwrap().get("web").unwrap();
        assert_eq!(text(web.get("image")).as_deref(), Some("app:1"));
    }
}
