//! JSON Schemas for `rampart.yaml` and for the `--format json` report,
//! generated from the code's own definitions: the config keys the loader
//! accepts ([`CONFIG_KEYS`], checked against the loader's own key lists in
//! tests), [`Severity::ALL`], [`Profile::SELECTABLE`], the standard
//! library's params (their types, defaults and `///` docs). The committed
//! copies under `docs/schemas/` are compared with these in a test
//! (`RAMPART_BLESS=1 cargo test -p rampart schemas_are_current` rewrites them).
//!
//! The same key table writes the file `rampart init` creates ([`crate::init`]).

use serde_json::{json, Map, Value};

use crate::policy::compile::{compile, CompileOptions, Profile, Severity};
use crate::policy::sources::stdlib_sources;
use rampart_runtime::schema::Type;

/// Where the config schema is committed, relative to the repository root.
pub const CONFIG_SCHEMA_PATH: &str = "docs/schemas/rampart.schema.json";
/// Where the report schema is committed, relative to the repository root.
pub const REPORT_SCHEMA_PATH: &str = "docs/schemas/report.schema.json";

/// The published address of a committed schema: the file in the
/// repository named by the workspace `repository` of `Cargo.toml`.
pub fn schema_url(path: &str) -> String {
    format!("{}/raw/main/{path}", env!("CARGO_PKG_REPOSITORY"))
}

/// One top-level key of `rampart.yaml`: what it means, its default as YAML
/// and an example value (YAML, after `key:`; several lines are a block).
#[derive(Clone, Copy, Debug)]
pub struct ConfigKey {
    /// The key.
    pub name: &'static str,
    /// What it does (one or two sentences; the schema's description and the
    /// comment `rampart init` writes above it).
    pub description: &'static str,
    /// Its default, as YAML text after `key: `.
    pub default: &'static str,
    /// An example value, as YAML lines below `key:` (indented by two spaces).
    pub example: &'static [&'static str],
}

/// Every top-level key the config loader accepts, in the order `rampart
/// init` writes them. A test checks the names against the loader's.
pub const CONFIG_KEYS: &[ConfigKey] = &[
    ConfigKey {
        name: "profile",
        description: "Which policies run: `recommended` (the default) or `strict` (adds the strict policies). `--profile` on the command line wins.",
        default: "recommended",
        example: &[],
    },
    ConfigKey {
        name: "enable",
        description: "Policies to turn on whatever their profile (opinionated ones included): ids or globs (`*`, `?`, `[…]`, `{a,b}`).",
        default: "[]",
        example: &["- compose.ports-host-ip-explicit", "- \"dockerfile.*\""],
    },
    ConfigKey {
        name: "disable",
        description: "Policies to turn off: ids or globs; wins over `enable`.",
        default: "[]",
        example: &["- compose.image-pinned"],
    },
    ConfigKey {
        name: "severity",
        description: "Severity overrides: a policy id or glob to a severity; a later match wins.",
        default: "{}",
        example: &["compose.healthcheck-defined: info", "\"http.*\": high"],
    },
    ConfigKey {
        name: "params",
        description: "Typed overrides of policy params, by qualified name (`rampart explain --source ID` shows a policy's params).",
        default: "{}",
        example: &[
            "compose.allowed_caps: [NET_BIND_SERVICE, SYS_PTRACE]",
            "secrets.min_secret_length: 20",
        ],
    },
    ConfigKey {
        name: "policies",
        description: "Extra policy files or directories of `.rampart` files, relative to this file (inside the repository).",
        default: "[]",
        example: &["- policies/"],
    },
    ConfigKey {
        name: "include",
        description: "When given, only inputs matching one of these globs are checked (paths relative to this file; `**` crosses directories; a directory covers what is below it). Files named on the command line are always checked.",
        default: "[]",
        example: &["- \"deploy/**\""],
    },
    ConfigKey {
        name: "exclude",
        description: "Inputs matching one of these globs are not checked (paths relative to this file).",
        default: "[]",
        example: &["- \"**/testdata/**\"", "- vendor"],
    },
    ConfigKey {
        name: "waivers",
        description: "Accepted findings: each waiver hides the findings of `policy` (in files matching `path`) until `expires`, with a `reason` and an `owner`. An expired waiver hides nothing and is a warning naming its owner.",
        default: "[]",
        example: &[
            "- policy: compose.read-only-rootfs   # id or glob",
            "  path: \"legacy/**\"                  # optional: files it covers (default: all)",
            "  reason: the vendor image writes to /var/cache at start-up",
            "  owner: alice@example.com",
            "  expires: 2030-12-31                # YYYY-MM-DD, the last day it holds (UTC)",
        ],
    },
    ConfigKey {
        name: "waiver_warning_days",
        description: "A waiver expiring within this many days is a warning (0 turns the warning off; at most 3650).",
        default: "14",
        example: &[],
    },
];

/// The keys of one waiver, with their descriptions; `required` marks the
/// ones a waiver must have.
pub const WAIVER_KEYS: &[(&str, bool, &str)] = &[
    (
        "policy",
        true,
        "The policy id, or a glob over ids, whose findings it hides.",
    ),
    (
        "path",
        false,
        "A glob over the files it covers, relative to this file (default: every file).",
    ),
    ("reason", true, "Why the findings are accepted."),
    ("owner", true, "Who answers for the waiver."),
    (
        "expires",
        true,
        "The last day it holds (`YYYY-MM-DD`, UTC); after it, its findings count again.",
    ),
];

/// A list of strings, as the loader reads it: a list, one string (a list of
/// one) or nothing.
fn string_list(description: &str, item: Value) -> Value {
    json!({
        "description": description,
        "type": ["array", "string", "null"],
        "items": item,
    })
}

/// The JSON Schema of a param's type (a scalar is accepted where a string is
/// expected, as the loader reads it as its text).
fn type_schema(t: &Type) -> Value {
    match t {
        Type::Bool => json!({"type": "boolean"}),
        Type::Int => json!({"type": "integer"}),
        Type::Float => json!({"type": "number"}),
        Type::String => json!({"type": ["string", "number", "boolean"]}),
        Type::List(inner) => json!({"type": "array", "items": type_schema(inner)}),
        Type::Map(inner) => json!({"type": "object", "additionalProperties": type_schema(inner)}),
        Type::Any | Type::Object(_) => json!({}),
    }
}

/// A CEL value (a param default) as JSON.
fn cel_json(v: &cel::Value) -> Value {
    match v {
        cel::Value::Null => Value::Null,
        cel::Value::Bool(b) => json!(b),
        cel::Value::Int(i) => json!(i),
        cel::Value::UInt(u) => json!(u),
        cel::Value::Float(f) => json!(f),
        cel::Value::String(s) => json!(s.as_str()),
        cel::Value::List(items) => Value::Array(items.iter().map(cel_json).collect()),
        cel::Value::Map(m) => {
            let mut entries: Vec<(String, Value)> = m
                .map
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        cel::objects::Key::String(s) => s.to_string(),
                        cel::objects::Key::Int(i) => i.to_string(),
                        cel::objects::Key::Uint(u) => u.to_string(),
                        cel::objects::Key::Bool(b) => b.to_string(),
                    };
                    (key, cel_json(v))
                })
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().collect())
        }
        _ => Value::Null,
    }
}

/// The standard library's params: qualified name → (type, default, docs).
fn stdlib_params() -> Vec<(String, Value)> {
    let sources = stdlib_sources();
    let mut docs = std::collections::BTreeMap::new();
    for s in &sources {
        let Ok(file) = rampart_lang::parse(&s.text) else {
            continue;
        };
        for item in &file.items {
            if let rampart_lang::ast::Item::Param(p) = item {
                let name = format!("{}.{}", file.package.name, p.name.name);
                docs.insert(name, (p.ty.name.clone(), p.docs.join(" ")));
            }
        }
    }
    let compiled = compile(sources, &CompileOptions::default());
    compiled
        .params
        .iter()
        .map(|(name, (ty, default))| {
            let (written, doc) = docs.get(name).cloned().unwrap_or_default();
            let mut s = type_schema(ty);
            if let Some(o) = s.as_object_mut() {
                let doc = doc.trim();
                let sep = if doc.is_empty() { "" } else { " " };
                o.insert(
                    "description".into(),
                    json!(format!("{doc}{sep}(`{written}`, standard library)")),
                );
                o.insert("default".into(), cel_json(default));
            }
            (name.clone(), s)
        })
        .collect()
}

/// The JSON Schema (draft-07, as editors read it) of `rampart.yaml`.
pub fn config_schema() -> Value {
    let severity = json!({"type": "string", "enum": Severity::names()});
    let id = json!({"type": "string", "description": "A policy id (`compose.image-pinned`) or a glob over ids (`compose.*`)."});
    let glob = json!({"type": "string", "description": "A glob over paths relative to the config file's directory."});
    let mut props = Map::new();
    for k in CONFIG_KEYS {
        let d = k.description;
        let mut s = match k.name {
            "profile" => json!({
                "description": d, "type": "string",
                "enum": Profile::names(Profile::SELECTABLE),
            }),
            "enable" | "disable" => string_list(d, id.clone()),
            "policies" => string_list(d, json!({"type": "string"})),
            "include" | "exclude" => string_list(d, glob.clone()),
            "severity" => json!({
                "description": d, "type": ["object", "null"],
                "additionalProperties": severity.clone(),
            }),
            "params" => json!({
                "description": d, "type": ["object", "null"],
                "properties": Value::Object(stdlib_params().into_iter().collect()),
                "additionalProperties": true,
            }),
            "waivers" => json!({
                "description": d, "type": ["array", "null"],
                "items": {"$ref": "#/definitions/waiver"},
            }),
            "waiver_warning_days" => json!({
                "description": d, "type": "integer",
                "minimum": 0, "maximum": crate::config::MAX_WAIVER_WARNING_DAYS,
            }),
            _ => json!({"description": d}),
        };
        if let (Some(o), Ok(default)) = (
            s.as_object_mut(),
            serde_json::from_str::<Value>(&yaml_flow_as_json(k.default)),
        ) {
            o.insert("default".into(), default);
        }
        props.insert(k.name.into(), s);
    }
    let mut waiver_props = Map::new();
    for (name, _, d) in WAIVER_KEYS {
        let s = match *name {
            "policy" => json!({"description": d, "type": "string"}),
            "expires" => json!({
                "description": d, "type": "string",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
            }),
            _ => json!({"description": d, "type": "string", "minLength": 1}),
        };
        waiver_props.insert((*name).into(), s);
    }
    let required: Vec<&str> = WAIVER_KEYS
        .iter()
        .filter(|(_, r, _)| *r)
        .map(|(n, _, _)| *n)
        .collect();
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": schema_url(CONFIG_SCHEMA_PATH),
        "title": "rampart.yaml",
        "description": "Settings of `rampart check` (docs/cli.md, \"Configuration\"). Every key is optional; an unknown key is an error.",
        "type": ["object", "null"],
        "properties": props,
        "additionalProperties": false,
        "definitions": {
            "waiver": {
                "type": "object",
                "properties": waiver_props,
                "required": required,
                "additionalProperties": false,
            }
        }
    })
}

/// A default written in YAML flow style (`[]`, `{}`, `14`, `recommended`)
/// as JSON text.
fn yaml_flow_as_json(text: &str) -> String {
    match text {
        "[]" | "{}" => text.to_string(),
        t if t.parse::<i64>().is_ok() => t.to_string(),
        t => format!("\"{t}\""),
    }
}

/// A JSON Schema of one report problem (an error, warning or note).
fn problem_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "file": {"type": "string", "description": "Display path, relative to the working directory (empty when the problem is about no file)."},
            "line": {"type": "integer", "minimum": 0, "description": "1-based line; 0 when unknown."},
            "column": {"type": "integer", "minimum": 0, "description": "1-based column in characters; 0 when unknown."},
            "message": {"type": "string"},
            "code": {"type": ["string", "null"], "description": "The kind of problem (`yaml-syntax`, `W0513`…); null when it has none."},
        },
        "required": ["file", "line", "column", "message", "code"],
    })
}

/// The fields of a finding.
fn finding_properties() -> Map<String, Value> {
    let props = json!({
        "policy": {"type": "string", "description": "Policy id."},
        "severity": {"type": "string", "enum": Severity::names()},
        "title": {"type": "string"},
        "message": {"type": "string", "description": "The rendered message (secrets redacted)."},
        "file": {"type": "string"},
        "line": {"type": "integer", "minimum": 1},
        "column": {"type": "integer", "minimum": 1},
        "end_line": {"type": "integer", "minimum": 1},
        "end_column": {"type": "integer", "minimum": 1, "description": "Exclusive."},
        "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{16}$", "description": "Stable identity across edits (SARIF `partialFingerprints[\"rampart/v1\"]`, baselines)."},
    });
    match props {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

const FINDING_REQUIRED: &[&str] = &[
    "policy",
    "severity",
    "title",
    "message",
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "fingerprint",
];

/// The JSON Schema (draft-07) of `rampart check --format json`. Fields are
/// added in later versions, never renamed: the schema does not forbid
/// unknown fields (tests check that every field rampart writes is declared).
pub fn report_schema() -> Value {
    let mut waived = finding_properties();
    waived.insert(
        "by".into(),
        json!({"type": "string", "enum": ["config", "inline"], "description": "A waiver of the config, or a `rampart:ignore` comment."}),
    );
    waived.insert(
        "reason".into(),
        json!({"type": ["string", "null"], "description": "The waiver's reason, or the comment's (null when it gives none)."}),
    );
    waived.insert(
        "owner".into(),
        json!({"type": "string", "description": "The waiver's owner (`by: config`)."}),
    );
    waived.insert(
        "expires".into(),
        json!({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "description": "The waiver's last day (`by: config`)."}),
    );
    let mut waived_required = FINDING_REQUIRED.to_vec();
    waived_required.extend(["by", "reason"]);
    let count = json!({"type": "integer", "minimum": 0});
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": schema_url(REPORT_SCHEMA_PATH),
        "title": "rampart check --format json",
        "description": "The stable JSON report of `rampart check` (docs/cli.md, \"JSON\"). Fields are added, never renamed.",
        "type": "object",
        "properties": {
            "version": {"const": 1, "description": "The contract's version."},
            "config": {"type": ["string", "null"], "description": "The config file in use (display path), null when none."},
            "summary": {
                "type": "object",
                "properties": {
                    "files": count, "policies": count, "findings": count,
                    "errors": count, "waived": count,
                },
                "required": ["files", "policies", "findings", "errors", "waived"],
            },
            "findings": {"type": "array", "items": {"$ref": "#/definitions/finding"}},
            "errors": {"type": "array", "items": {"$ref": "#/definitions/problem"}},
            "warnings": {"type": "array", "items": {"$ref": "#/definitions/problem"}},
            "notes": {"type": "array", "items": {"$ref": "#/definitions/problem"}},
            "waived": {"type": "array", "items": {"$ref": "#/definitions/waived"}},
            "baseline": {
                "type": "object",
                "description": "With `--baseline FILE`: findings not in it, in it, and its entries no finding matches any more.",
                "properties": {"new": count, "known": count, "fixed": count},
                "required": ["new", "known", "fixed"],
            },
        },
        "required": ["version", "config", "summary", "findings", "errors", "warnings", "notes", "waived"],
        "definitions": {
            "finding": {
                "type": "object",
                "properties": finding_properties(),
                "required": FINDING_REQUIRED,
            },
            "waived": {
                "type": "object",
                "description": "A finding hidden by a waiver or a `rampart:ignore` comment.",
                "properties": waived,
                "required": waived_required,
            },
            "problem": problem_schema(),
        }
    })
}

/// A schema as committed: pretty JSON and a final newline.
pub fn to_text(schema: &Value) -> String {
    serde_json::to_string_pretty(schema).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, ConfigError};

    /// The loader's known keys, as its "unknown key" error lists them.
    fn loader_keys(text: &str) -> Vec<&'static str> {
        let (_, problems) = parse(text);
        problems
            .iter()
            .find_map(|p| match &p.error {
                ConfigError::UnknownKey { known, .. } => Some(known.to_vec()),
                _ => None,
            })
            .unwrap_or_default()
    }

    #[test]
    fn the_key_tables_are_the_loaders() {
        let top: Vec<&str> = CONFIG_KEYS.iter().map(|k| k.name).collect();
        let mut a = loader_keys("not_a_key: 1\n");
        let mut b = top.clone();
        a.sort_unstable();
        b.sort_unstable();
        assert_eq!(a, b, "CONFIG_KEYS must list exactly the loader's keys");
        let waiver: Vec<&str> = WAIVER_KEYS.iter().map(|k| k.0).collect();
        assert_eq!(
            loader_keys("waivers:\n  - not_a_key: 1\n"),
            waiver,
            "WAIVER_KEYS must list exactly the loader's waiver keys"
        );
        // Every default parses without a problem.
        for k in CONFIG_KEYS {
            let (_, p) = parse(&format!("{}: {}\n", k.name, k.default));
            assert!(p.is_empty(), "{}: {p:?}", k.name);
        }
    }

    #[test]
    fn schemas_are_current() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let hint = "run `RAMPART_BLESS=1 cargo test -p rampart schemas_are_current`";
        for (path, schema) in [
            (CONFIG_SCHEMA_PATH, config_schema()),
            (REPORT_SCHEMA_PATH, report_schema()),
        ] {
            let full = root.join(path);
            let want = to_text(&schema);
            if std::env::var_os("RAMPART_BLESS").is_some() {
                std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                std::fs::write(&full, &want).unwrap();
            }
            let have = std::fs::read_to_string(&full).unwrap_or_default();
            assert!(have == want, "{path} is stale: {hint}");
        }
    }

    #[test]
    fn the_config_schema_knows_the_stdlib_params() {
        let s = config_schema();
        let caps = &s["properties"]["params"]["properties"]["compose.allowed_caps"];
        assert_eq!(caps["type"], "array");
        assert_eq!(caps["default"], json!(["NET_BIND_SERVICE"]));
        assert!(caps["description"]
            .as_str()
            .unwrap()
            .contains("list<string>"));
        assert_eq!(
            s["properties"]["profile"]["enum"],
            json!(["recommended", "strict"])
        );
        assert_eq!(s["properties"]["waiver_warning_days"]["default"], 14);
    }
}
