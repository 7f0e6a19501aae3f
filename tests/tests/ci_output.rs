//! CI-sized output and code-scanning SARIF, end to end: several
//! `--format`/`--output` pairs in one run, `short` and `--quiet`, the text
//! format's per-policy table, the `github` summary, and SARIF validated
//! against the OASIS schema (`../shared/schemas/sarif-schema-2.1.0.json`).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use rampart_tests::{json, rampart, shared_or_skip};
use serde_json::Value;

/// A repository with findings, one of them waived by `rampart.yaml`, one by
/// a `rampart:ignore` comment, and a warning (a missing `env_file`).
fn repo() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::write(
        d.path().join("docker-compose.yml"),
        "services:\n  web:\n    image: nginx:latest\n    privileged: true\n    env_file: missing.env\n  \
         db: # rampart:ignore compose.datastore-requires-auth -- internal only\n    image: redis:7.2\n    \
         ports: [\"6379:6379\"]\n",
    )
    .unwrap();
    fs::write(
        d.path().join("rampart.yaml"),
        "waivers:\n  - policy: compose.no-privileged\n    reason: needs raw sockets\n    \
         owner: alice@example.com\n    expires: 2099-12-31\n",
    )
    .unwrap();
    d
}

#[test]
fn one_run_writes_sarif_to_a_file_and_short_to_stdout() {
    let d = repo();
    let (code, out, err) = rampart(
        d.path(),
        &[
            "check", "--format", "sarif", "--output", "a.sarif", "--format", "short", "--output",
            "-",
        ],
    );
    assert_eq!(code, 1, "{out}\n{err}");
    let sarif: Value = serde_json::from_str(&fs::read_to_string(d.path().join("a.sarif")).unwrap())
        .expect("a.sarif is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    // stdout is the short format: one line per finding, then the summary.
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("docker-compose.yml:3:")
            && l.contains(" medium compose.image-pinned ")),
        "{out}"
    );
    assert!(lines.iter().any(|l| l.contains(" findings (")), "{out}");
    assert!(!out.contains("\"runs\""), "{out}");
    // Same findings in both renderings: one evaluation.
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let open = results
        .iter()
        .filter(|r| r.get("suppressions").is_none())
        .count();
    let short = lines
        .iter()
        .filter(|l| {
            l.contains(": medium ")
                || l.contains(": high ")
                || l.contains(": low ")
                || l.contains(": critical ")
        })
        .count();
    assert_eq!(open, short, "{out}");
}

#[test]
fn output_pairs_must_match() {
    let d = repo();
    let (code, _, err) = rampart(
        d.path(),
        &[
            "check", "--format", "sarif", "--format", "json", "--output", "a",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("one --output per --format"), "{err}");
    // One --output alone: the text format to it.
    let (code, out, _) = rampart(d.path(), &["check", "--output", "report.txt"]);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    let text = fs::read_to_string(d.path().join("report.txt")).unwrap();
    assert!(text.contains("how to fix:"), "{text}");
}

#[test]
fn quiet_prints_the_summary_only() {
    let d = repo();
    let (code, out, _) = rampart(d.path(), &["check", "--quiet"]);
    assert_eq!(code, 1);
    assert!(out.lines().count() <= 3, "{out}");
    assert!(
        out.contains(" findings (") && !out.contains("how to fix"),
        "{out}"
    );
    // A document format is written whole.
    let (_, out, _) = rampart(d.path(), &["check", "--quiet", "--format", "json"]);
    assert!(json(&out)["findings"].is_array(), "{out}");
}

#[test]
fn text_prints_each_remediation_once() {
    let d = tempfile::tempdir().unwrap();
    let services: String = (0..5)
        .map(|i| format!("  s{i}:\n    image: nginx:latest\n"))
        .collect();
    fs::write(
        d.path().join("docker-compose.yml"),
        format!("services:\n{services}"),
    )
    .unwrap();
    let (_, out, _) = rampart(d.path(), &["check"]);
    // Five findings of one policy, one remediation (each policy's once).
    assert_eq!(
        out.matches("image: postgres:16.4-alpine").count(),
        1,
        "{out}"
    );
    let rows = out.lines().filter(|l| l.starts_with("compose.")).count();
    assert_eq!(out.matches("how to fix:").count(), rows, "{out}");
    let row = out
        .lines()
        .find(|l| l.starts_with("compose.image-pinned "))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("medium") && row.trim_end().ends_with(" 5"),
        "{row}"
    );
    assert!(out.contains("rampart:ignore compose.image-pinned"), "{out}");
}

#[test]
fn github_ends_with_a_summary_notice() {
    let d = repo();
    let (_, out, _) = rampart(d.path(), &["check", "--format", "github"]);
    let summary = out
        .lines()
        .rev()
        .find(|l| l.starts_with("::notice title=rampart::") && l.contains(" findings ("));
    assert!(summary.is_some(), "{out}");
    let last_finding = out
        .lines()
        .collect::<Vec<_>>()
        .iter()
        .rposition(|l| l.contains("compose."));
    let first_summary = out
        .lines()
        .position(|l| l.starts_with("::notice title=rampart::"));
    assert!(first_summary > last_finding, "{out}");
}

#[test]
fn sarif_is_what_code_scanning_needs() {
    let d = repo();
    let (_, out, err) = rampart(d.path(), &["check", "--format", "sarif"]);
    let sarif = json(&out);
    let run = &sarif["runs"][0];
    assert!(run.is_object(), "{out}\n{err}");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: BTreeSet<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let repository = rampart::render::sarif::REPOSITORY;
    assert!(repository.starts_with("https://"), "{repository}");
    assert_eq!(run["tool"]["driver"]["informationUri"], repository);
    for r in rules {
        let id = r["id"].as_str().unwrap();
        assert_eq!(
            r["helpUri"],
            format!("{repository}/blob/main/docs/policies/{id}.md")
        );
        let md = r["help"]["markdown"].as_str().unwrap();
        assert!(md.contains("## Remediation"), "{md}");
        assert!(!r["help"]["text"].as_str().unwrap().is_empty());
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
        assert!(r["properties"]["tags"]
            .as_array()
            .is_some_and(|t| !t.is_empty()));
    }
    assert_eq!(run["automationDetails"]["id"], "rampart/check/");
    assert!(run["originalUriBaseIds"]["%SRCROOT%"].is_object());
    let results = run["results"].as_array().unwrap();
    assert!(results.len() >= 3, "{out}");
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert!(ids.contains(id), "{id} not in rules");
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize]["id"], id);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["artifactLocation"]["uri"], "docker-compose.yml");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(r["partialFingerprints"]["rampart/v1"].is_string());
    }
    let waived = results
        .iter()
        .find(|r| r["ruleId"] == "compose.no-privileged")
        .expect("the waived finding is a result");
    let s = &waived["suppressions"][0];
    assert_eq!(s["kind"], "external");
    assert_eq!(s["properties"]["owner"], "alice@example.com");
    assert!(s["justification"]
        .as_str()
        .unwrap()
        .contains("needs raw sockets"));
    let inline = results
        .iter()
        .find(|r| r["ruleId"] == "compose.datastore-requires-auth")
        .expect("the inline-ignored finding is a result");
    assert_eq!(inline["suppressions"][0]["kind"], "inSource");
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    for n in notes {
        if let Some(locs) = n["locations"].as_array() {
            for l in locs {
                assert_eq!(
                    l["physicalLocation"]["artifactLocation"]["uriBaseId"],
                    "%SRCROOT%"
                );
            }
        }
    }
    assert!(notes.iter().any(|n| n["level"] == "warning"), "{notes:?}");

    let Some(shared) = shared_or_skip("sarif_is_what_code_scanning_needs") else {
        return;
    };
    let schema = load(&shared.join("schemas/sarif-schema-2.1.0.json"));
    let errors = validate(&schema, &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator does find errors.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    broken["runs"][0]["bogus"] = Value::from(1);
    assert_eq!(
        validate(&schema, &broken).len(),
        3,
        "{:#?}",
        validate(&schema, &broken)
    );
}

/// With `--baseline`, known findings stay results (`unchanged`; code
/// scanning would close the alert of a missing result), new ones are `new`,
/// and the log still validates.
#[test]
fn sarif_with_a_baseline_marks_known_results_unchanged() {
    let d = repo();
    let (code, _, err) = rampart(d.path(), &["baseline", "b.json"]);
    assert_eq!(code, 0, "{err}");
    let mut text = fs::read_to_string(d.path().join("docker-compose.yml")).unwrap();
    text.push_str("  cache:\n    image: redis:7.2\n    privileged: true\n");
    fs::write(d.path().join("docker-compose.yml"), text).unwrap();
    let (code, out, err) = rampart(
        d.path(),
        &["check", "--baseline", "b.json", "--format", "sarif"],
    );
    assert_eq!(code, 1, "{err}");
    let sarif = json(&out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let open: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_none())
        .collect();
    let state = |s: &str| open.iter().filter(|r| r["baselineState"] == s).count();
    let b = &sarif["runs"][0]["properties"]["baseline"];
    assert_eq!(state("new") as u64, b["new"].as_u64().unwrap());
    assert_eq!(state("unchanged") as u64, b["known"].as_u64().unwrap());
    assert!(state("new") > 0 && state("unchanged") > 0, "{out}");
    assert_eq!(open.len(), state("new") + state("unchanged"));
    // Every new result is the cache service's.
    for r in open.iter().filter(|r| r["baselineState"] == "new") {
        let line = r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap();
        assert!(line >= 9, "{r:#}");
    }
    let Some(shared) = shared_or_skip("sarif_with_a_baseline_marks_known_results_unchanged") else {
        return;
    };
    let schema = load(&shared.join("schemas/sarif-schema-2.1.0.json"));
    let errors = validate(&schema, &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A config or policy error stops the run before anything is checked
/// (exit 2): JSON still has its `errors`, SARIF its error notifications,
/// located in the file at fault — machine formats are never empty.
#[test]
fn a_run_stopped_by_errors_still_writes_the_machine_formats() {
    let d = repo();
    fs::write(
        d.path().join("rampart.yaml"),
        "profile: bogus\nwaivers: 3\n",
    )
    .unwrap();
    let (code, out, err) = rampart(
        d.path(),
        &[
            "check", "--format", "sarif", "--output", "a.sarif", "--format", "json", "--output",
            "-", "--format", "text", "--output", "t.txt",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("unknown profile"), "{err}");
    let v = json(&out);
    let errors = v["errors"].as_array().expect("JSON with errors");
    let located: Vec<&Value> = errors
        .iter()
        .filter(|e| e["file"] == "rampart.yaml")
        .collect();
    assert_eq!(located.len(), 2, "{v:#}");
    assert_eq!(located[0]["line"], 1);
    assert_eq!(located[0]["code"], "E0504");
    assert!(located[0]["message"].as_str().unwrap().contains("bogus"));
    assert_eq!(
        v["summary"]["errors"].as_u64().unwrap() as usize,
        errors.len()
    );
    // The formats people read stay on stderr.
    assert!(!d.path().join("t.txt").exists());
    let sarif = load(&d.path().join("a.sarif"));
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false);
    let notes = inv["toolExecutionNotifications"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["level"] == "error"
        && n["descriptor"]["id"] == "E0504"
        && n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "rampart.yaml"));
    // A policy that does not compile, and a bad baseline, too.
    fs::remove_file(d.path().join("rampart.yaml")).unwrap();
    fs::write(d.path().join("p.rampart"), "policy {\n").unwrap();
    let (code, out, _) = rampart(
        d.path(),
        &["check", "--policy", "p.rampart", "--format", "json"],
    );
    assert_eq!(code, 2);
    let v = json(&out);
    assert!(
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == "p.rampart"),
        "{v:#}"
    );
    let (code, out, _) = rampart(
        d.path(),
        &["check", "--baseline", "missing.json", "--format", "json"],
    );
    assert_eq!(code, 2);
    assert_eq!(json(&out)["errors"][0]["code"], "baseline-invalid");
    let Some(shared) = shared_or_skip("a_run_stopped_by_errors_still_writes_the_machine_formats")
    else {
        return;
    };
    let schema = load(&shared.join("schemas/sarif-schema-2.1.0.json"));
    let errors = validate(&schema, &sarif);
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Paths with characters a URI cannot hold are percent-encoded.
#[test]
fn sarif_uris_are_encoded() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir(d.path().join("my app")).unwrap();
    fs::write(
        d.path().join("my app/docker-compose.yml"),
        "services:\n  web:\n    image: nginx:latest\n",
    )
    .unwrap();
    let (_, out, _) = rampart(d.path(), &["check", "--format", "sarif"]);
    let v = json(&out);
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "my%20app/docker-compose.yml"
    );
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// The JSON Schema draft-04 keywords the SARIF schema uses, checked against
/// `value`; returns one line per violation (`/json/pointer: what`).
/// `format` is not checked (annotations in draft 4 validators by default).
fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, value, "", &mut errors);
    errors
}

fn resolve<'a>(root: &'a Value, r: &str) -> &'a Value {
    let pointer = r.strip_prefix('#').expect("local $ref");
    root.pointer(pointer)
        .unwrap_or_else(|| panic!("unresolved $ref {r}"))
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => {
            v.as_i64().is_some()
                || v.as_u64().is_some()
                || v.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => panic!("unknown type {other}"),
    }
}

fn check(root: &Value, s: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        // Draft 4: a $ref replaces the schema it stands in.
        check(root, resolve(root, r), v, at, errors);
        return;
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: not of type {t}"));
            return;
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errors.push(format!("{at}: {v} not in {e:?}"));
        }
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < min {
            errors.push(format!("{at}: {n} < minimum {min}"));
        }
    }
    if let (Some(max), Some(n)) = (s.get("maximum").and_then(Value::as_f64), v.as_f64()) {
        if n > max {
            errors.push(format!("{at}: {n} > maximum {max}"));
        }
    }
    if let (Some(p), Some(text)) = (s.get("pattern").and_then(Value::as_str), v.as_str()) {
        if !regex::Regex::new(p).unwrap().is_match(text) {
            errors.push(format!("{at}: {text:?} does not match {p}"));
        }
    }
    for (key, any) in [("anyOf", true), ("oneOf", false)] {
        if let Some(options) = s.get(key).and_then(Value::as_array) {
            let passing = options
                .iter()
                .filter(|o| {
                    let mut e = Vec::new();
                    check(root, o, v, at, &mut e);
                    e.is_empty()
                })
                .count();
            if (any && passing == 0) || (!any && passing != 1) {
                errors.push(format!("{at}: {passing} of the {key} schemas match"));
            }
        }
    }
    if let Some(a) = v.as_array() {
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if (a.len() as u64) < min {
                errors.push(format!("{at}: fewer than {min} items"));
            }
        }
        if s.get("uniqueItems") == Some(&Value::Bool(true)) {
            for (i, x) in a.iter().enumerate() {
                if a[..i].contains(x) {
                    errors.push(format!("{at}/{i}: duplicate item"));
                }
            }
        }
        if let Some(items) = s.get("items") {
            for (i, x) in a.iter().enumerate() {
                check(root, items, x, &format!("{at}/{i}"), errors);
            }
        }
    }
    if let Some(o) = v.as_object() {
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for k in req {
                if !o.contains_key(k.as_str().unwrap()) {
                    errors.push(format!("{at}: missing required {k}"));
                }
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, x) in o {
            let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            match props.and_then(|p| p.get(k)) {
                Some(ps) => check(root, ps, x, &path, errors),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        errors.push(format!("{at}: property {k:?} not allowed"))
                    }
                    Some(extra @ Value::Object(_)) => check(root, extra, x, &path, errors),
                    _ => {}
                },
            }
        }
    }
}
