//! The helpful command line (issue 12, item 6): `rampart init`, the JSON
//! Schemas under `docs/schemas/` checked against real configs and real JSON
//! reports, shell completions and the man page.
//!
//! The schemas are validated with a small validator of the JSON Schema subset
//! they use (below): `type`, `enum`, `const`, `properties`, `required`,
//! `additionalProperties`, `items`, `minimum`, `maximum`, `minLength`,
//! `pattern` and local `$ref`s. In strict mode an object property the schema
//! does not declare is an error even where the schema allows it: the report
//! schema lets consumers accept fields added later, and strict mode makes a
//! field rampart writes but the schema does not describe fail here.

use std::path::{Path, PathBuf};

use rampart_tests::{json, rampart, write};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn schema(name: &str) -> Value {
    let text = std::fs::read_to_string(repo().join("docs/schemas").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

// ---------------------------------------------------------------- validator

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("type `{other}` is not in the validated subset"),
    }
}

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "title",
    "description",
    "default",
    "definitions",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minimum",
    "maximum",
    "minLength",
    "pattern",
    "$ref",
];

/// Problems of `v` against `s` (`root` resolves `$ref`s), each with its path.
fn validate(root: &Value, s: &Value, v: &Value, at: &str, strict: bool, out: &mut Vec<String>) {
    let Some(s) = s.as_object() else {
        // `true`/`{}`: anything.
        return;
    };
    for k in s.keys() {
        assert!(
            KNOWN.contains(&k.as_str()),
            "keyword `{k}` is not in the validated subset"
        );
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.strip_prefix("#/definitions/").expect("a local $ref");
        validate(root, &root["definitions"][name], v, at, strict, out);
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)),
            _ => panic!("bad type"),
        };
        if !ok {
            out.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            out.push(format!(
                "{at}: {v} is not one of {}",
                Value::Array(e.clone())
            ));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            out.push(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(n) = v.as_f64() {
        if s.get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n < m)
        {
            out.push(format!("{at}: {n} is below the minimum"));
        }
        if s.get("maximum")
            .and_then(Value::as_f64)
            .is_some_and(|m| n > m)
        {
            out.push(format!("{at}: {n} is above the maximum"));
        }
    }
    if let Some(text) = v.as_str() {
        if let Some(m) = s.get("minLength").and_then(Value::as_u64) {
            if (text.chars().count() as u64) < m {
                out.push(format!("{at}: {v} is too short"));
            }
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            if !regex::Regex::new(p).unwrap().is_match(text) {
                out.push(format!("{at}: {v} does not match {p}"));
            }
        }
    }
    if let (Some(items), Some(list)) = (s.get("items"), v.as_array()) {
        for (i, item) in list.iter().enumerate() {
            validate(root, items, item, &format!("{at}[{i}]"), strict, out);
        }
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(r.as_str().unwrap()) {
                out.push(format!("{at}: missing required {r}"));
            }
        }
        for (k, val) in obj {
            let path = format!("{at}.{k}");
            if let Some(p) = props.and_then(|p| p.get(k)) {
                validate(root, p, val, &path, strict, out);
                continue;
            }
            match s.get("additionalProperties") {
                Some(Value::Bool(false)) => out.push(format!("{path}: not allowed")),
                Some(Value::Bool(true)) => {}
                Some(extra) => validate(root, extra, val, &path, strict, out),
                None if strict && s.contains_key("properties") => {
                    out.push(format!("{path}: not declared in the schema"))
                }
                None => {}
            }
        }
    }
}

fn problems(schema: &Value, v: &Value, strict: bool) -> Vec<String> {
    let mut out = Vec::new();
    validate(schema, schema, v, "$", strict, &mut out);
    out
}

/// A YAML text as JSON, through rampart's own YAML reader (the one the
/// config loader uses).
fn yaml_json(text: &str) -> Value {
    use rampart_runtime::formats::yaml::{parse, YKind, YNode, YamlLimits};
    fn conv(n: &YNode) -> Value {
        match &n.kind {
            YKind::Null => Value::Null,
            YKind::Bool(b) => Value::Bool(*b),
            YKind::Int(i) => Value::from(*i),
            YKind::Float(f) => Value::from(*f),
            YKind::Str(s) => Value::String(s.clone()),
            YKind::Seq(items) => Value::Array(items.iter().map(conv).collect()),
            YKind::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.text.clone(), conv(v)))
                    .collect(),
            ),
        }
    }
    let node = parse(
        rampart_runtime::model::FileId(0),
        text,
        YamlLimits::default(),
    )
    .unwrap();
    conv(&node)
}

#[test]
fn the_validator_catches_what_it_claims_to() {
    let config = schema("rampart.schema.json");
    let bad = [
        ("profle: strict\n", "not allowed"),
        ("profile: strikt\n", "is not one of"),
        ("severity: {a.b: hgh}\n", "is not one of"),
        (
            "waivers:\n  - {policy: a, reason: r, owner: o}\n",
            "missing required",
        ),
        (
            "waivers:\n  - {policy: a, reason: r, owner: o, expires: soon}\n",
            "does not match",
        ),
        ("waiver_warning_days: 4000\n", "above the maximum"),
        ("enable: {a: b}\n", "is not of type"),
    ];
    for (text, want) in bad {
        let p = problems(&config, &yaml_json(text), false);
        assert!(p.iter().any(|m| m.contains(want)), "{text}: {p:?}");
    }
    // The loader rejects the same files.
    for (text, _) in bad {
        let (_, loader) = rampart::config::parse(text);
        assert!(!loader.is_empty(), "{text}");
    }
    let report = schema("report.schema.json");
    let mut v = serde_json::json!({"version": 1, "config": null,
        "summary": {"files": 0, "policies": 1, "findings": 0, "errors": 0, "waived": 0},
        "findings": [], "errors": [], "warnings": [], "notes": [], "waived": [], "extra": 1});
    assert!(problems(&report, &v, false).is_empty());
    assert_eq!(
        problems(&report, &v, true),
        ["$.extra: not declared in the schema"]
    );
    v["version"] = 2.into();
    assert!(!problems(&report, &v, false).is_empty());
}

// ------------------------------------------------------------ config schema

/// Every `rampart.yaml` of the repository (examples, fixtures), outside
/// build output.
fn repository_configs() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().to_string();
            let ft = e.file_type().unwrap();
            if ft.is_dir() && !matches!(name.as_str(), "target" | ".git" | "node_modules") {
                walk(&p, out);
            } else if ft.is_file() && name == "rampart.yaml" {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for d in [
        "docs",
        "tests",
        "bench",
        "compiler",
        "runtime",
        "stdlib-policies",
    ] {
        let dir = repo().join(d);
        if dir.is_dir() {
            walk(&dir, &mut out);
        }
    }
    out.sort();
    out
}

/// The `yaml` block of docs/cli.md that starts with `# rampart.yaml`.
fn documented_config() -> String {
    let doc = std::fs::read_to_string(repo().join("docs/cli.md")).unwrap();
    let start = doc
        .find("```yaml\n# rampart.yaml")
        .expect("the documented config")
        + 8;
    let end = start + doc[start..].find("```").unwrap();
    doc[start..end].to_string()
}

#[test]
fn every_config_of_the_repository_validates() {
    let s = schema("rampart.schema.json");
    let mut configs: Vec<(String, String)> = repository_configs()
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect();
    assert!(configs.len() >= 2, "{configs:?}");
    configs.push(("docs/cli.md".into(), documented_config()));
    configs.push(("rampart init".into(), rampart::init::template(&vec![])));
    configs.push((
        "rampart init (examples)".into(),
        rampart::init::template_with_examples(),
    ));
    for (name, text) in &configs {
        let (_, loader) = rampart::config::parse(text);
        assert!(loader.is_empty(), "{name}: the loader says {loader:?}");
        let p = problems(&s, &yaml_json(text), true);
        assert!(p.is_empty(), "{name}: {p:#?}");
    }
}

// ------------------------------------------------------------ report schema

#[test]
fn json_reports_of_real_runs_validate() {
    let s = schema("report.schema.json");
    let fixtures = repo().join("tests/fixtures/snapshots");
    let examples = repo().join("docs/examples");
    let mut runs: Vec<(String, Value)> = Vec::new();
    for (dir, args) in [
        (
            examples.clone(),
            vec!["check", "insecure-stack", "--format", "json"],
        ),
        (
            examples.clone(),
            vec!["check", ".", "--format", "json", "--profile", "strict"],
        ),
        // A config with waivers, an input error, nginx and Caddy.
        (
            fixtures.join("mixed"),
            vec!["check", ".", "--format", "json"],
        ),
        (
            fixtures.join("user-policy"),
            vec!["check", ".", "--format", "json"],
        ),
    ] {
        let (code, out, err) = rampart(&dir, &args);
        assert!(code == 1 || code == 2, "{args:?}: {code} {err}");
        runs.push((format!("{args:?}"), json(&out)));
    }
    // An inline suppression, an unused waiver, an expired waiver, a baseline
    // and a clean run.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  web:\n    image: nginx:1.27\n    privileged: true  # rampart:ignore compose.no-privileged -- the proxy needs raw sockets\n",
    );
    write(
        d.path(),
        "rampart.yaml",
        "waivers:\n  - {policy: compose.no-docker-socket, reason: r, owner: bob, expires: 2099-01-01}\n  - {policy: compose.non-root-user, reason: r, owner: carol, expires: 2020-01-01}\n  - {policy: compose.read-only-rootfs, path: docker-compose.yml, reason: r, owner: dan, expires: 2099-01-01}\n",
    );
    let (_, out, _) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    let by: Vec<&str> = v["waived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["by"].as_str().unwrap())
        .collect();
    assert!(by.contains(&"config") && by.contains(&"inline"), "{v}");
    assert!(!v["warnings"].as_array().unwrap().is_empty(), "{v}");
    runs.push(("waivers".into(), v));
    let (code, _, err) = rampart(d.path(), &["baseline", "base.json"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = rampart(
        d.path(),
        &["check", "--format", "json", "--baseline", "base.json"],
    );
    assert_eq!(code, 0);
    let v = json(&out);
    assert!(v["baseline"].is_object(), "{v}");
    runs.push(("baseline".into(), v));
    let clean = tempfile::tempdir().unwrap();
    write(clean.path(), "notes.txt", "nothing to check\n");
    let (_, out, _) = rampart(clean.path(), &["check", "--format", "json"]);
    runs.push(("no inputs".into(), json(&out)));
    for (name, v) in &runs {
        assert!(v.is_object(), "{name}: not JSON");
        let p = problems(&s, v, true);
        assert!(p.is_empty(), "{name}: {p:#?}");
    }
}

// --------------------------------------------------------------------- init

#[test]
fn init_writes_a_config_that_loads_and_refuses_to_overwrite() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "deploy/docker-compose.yml",
        "services:\n  web:\n    image: nginx:1.27\n",
    );
    write(d.path(), "Dockerfile", "FROM alpine:3.20\n");
    let (code, out, err) = rampart(d.path(), &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote `rampart.yaml`"), "{out}");
    assert!(out.contains("compose: 1, Dockerfile: 1"), "{out}");
    assert!(out.contains("next: rampart check ."), "{out}");
    let text = std::fs::read_to_string(d.path().join("rampart.yaml")).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema="),
        "{text}"
    );
    assert!(text.contains("docs/schemas/rampart.schema.json"), "{text}");
    // The real loader reads it: `check` runs with it and names it.
    let (code, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    assert!(code <= 1, "{err}");
    assert_eq!(json(&out)["config"], "rampart.yaml", "{err}");
    // A second `init` refuses; the file is untouched.
    std::fs::write(d.path().join("rampart.yaml"), "profile: strict\n").unwrap();
    let (code, out, err) = rampart(d.path(), &["init"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("already exists; use `--force`"), "{err}");
    assert_eq!(
        std::fs::read_to_string(d.path().join("rampart.yaml")).unwrap(),
        "profile: strict\n"
    );
    let (code, out, _) = rampart(d.path(), &["init", "--force"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("overwrote"), "{out}");
    assert_eq!(
        std::fs::read_to_string(d.path().join("rampart.yaml")).unwrap(),
        text
    );
}

#[cfg(unix)]
#[test]
fn init_never_writes_through_a_link_or_into_a_directory() {
    let d = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("victim");
    std::os::unix::fs::symlink(&target, d.path().join("rampart.yaml")).unwrap();
    for args in [&["init"][..], &["init", "--force"]] {
        let (code, _, err) = rampart(d.path(), args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains("already exists"), "{err}");
    }
    assert!(!target.exists(), "written through a dangling link");
    let e = tempfile::tempdir().unwrap();
    std::fs::create_dir(e.path().join("rampart.yaml")).unwrap();
    let (code, _, err) = rampart(e.path(), &["init", "--force"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn init_in_an_empty_directory_says_no_input_was_found() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = rampart(d.path(), &["init"]);
    assert_eq!(code, 0);
    assert!(out.contains("no input found here yet"), "{out}");
    let text = std::fs::read_to_string(d.path().join("rampart.yaml")).unwrap();
    assert!(text.contains("No input was found here"), "{text}");
}

// ---------------------------------------------------- completions, man page

/// Every subcommand of the command line, from its own definition.
fn subcommands() -> Vec<String> {
    let names: Vec<String> = rampart::cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    for expected in ["check", "init", "completions", "man", "baseline", "waivers"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    names
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    let subs = subcommands();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let d = tempfile::tempdir().unwrap();
        let (code, out, err) = rampart(d.path(), &["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.len() > 500, "{shell}: {out}");
        for s in &subs {
            assert!(out.contains(s.as_str()), "{shell} completions miss `{s}`");
        }
        // The script is valid for its shell, where the shell is installed.
        if matches!(shell, "bash" | "zsh") {
            let script = d.path().join("script");
            std::fs::write(&script, &out).unwrap();
            if let Ok(st) = std::process::Command::new(shell)
                .arg("-n")
                .arg(&script)
                .status()
            {
                assert!(st.success(), "{shell} -n rejects the script");
            }
        }
        // Option values come along (formats of `check`).
        if matches!(shell, "bash" | "zsh" | "fish") {
            assert!(out.contains("sarif"), "{shell}");
        }
    }
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = rampart(d.path(), &["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(err.contains("invalid value"), "{err}");
}

#[test]
fn the_man_page_names_every_subcommand() {
    let subs = subcommands();
    let d = tempfile::tempdir().unwrap();
    let (code, out, err) = rampart(d.path(), &["man"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(".ie \\n(.g .ds Aq") || out.contains(".TH rampart 1"),
        "{out}"
    );
    for s in &subs {
        assert!(out.contains(s.as_str()), "man page misses `{s}`");
    }
    let (code, out, err) = rampart(d.path(), &["man", "--out", "man/man1"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("wrote the man pages"), "{out}");
    let dir = d.path().join("man/man1");
    assert!(dir.join("rampart.1").is_file());
    for s in &subs {
        let page = dir.join(format!("rampart-{s}.1"));
        assert!(page.is_file(), "{} missing", page.display());
    }
    let check = std::fs::read_to_string(dir.join("rampart-check.1")).unwrap();
    assert!(check.contains("fail\\-on"), "{check}");
}

#[test]
fn help_snapshots() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = rampart(d.path(), &["init", "--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("init_help", out);
    let (code, out, _) = rampart(d.path(), &["completions", "--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("completions_help", out);
    let (code, out, _) = rampart(d.path(), &["man", "--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("man_help", out);
    // The list of commands.
    let (code, out, _) = rampart(d.path(), &["--help"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!("help", out);
}

// ----------------------------------------------------------------- progress

#[test]
fn captured_output_never_holds_a_progress_line() {
    // Even a run long enough to show progress on a terminal: the in-process
    // harness never turns it on (only the binary does, on a terminal).
    rampart::progress::allow(); // this thread's only; the run has its own
    let d = tempfile::tempdir().unwrap();
    for i in 0..150 {
        write(
            d.path(),
            &format!("s{i}/docker-compose.yml"),
            format!("services:\n  web{i}:\n    image: nginx:1.27\n    privileged: true\n"),
        );
    }
    let (code, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(json(&out)["summary"]["files"], 150);
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
    assert!(!out.contains('\r') && !out.contains('\u{1b}'));
}
