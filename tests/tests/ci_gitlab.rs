//! rampart as a CI gate (issue 12), the parts around GitLab and the
//! snippets of docs/ci.md: the Code Quality report (`--format gitlab`),
//! fingerprints that follow the structural path of the flagged node, and
//! every copy-paste snippet of docs/ci.md parsed and checked against the
//! files it uses (action.yml, .pre-commit-hooks.yaml, Cargo.toml) and against
//! what GitHub Actions, GitLab CI and pre-commit require.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use rampart_tests::{json, rampart, write};
use serde_json::Value;

const STACK: &str = "services:\n  web:\n    image: nginx:latest\n    privileged: true\n    ports:\n      - \"80:80\"\n  db:\n    image: postgres:16\n    ports:\n      - \"5432:5432\"\n    environment:\n      POSTGRES_PASSWORD: example\n";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).unwrap_or_else(|e| panic!("not YAML: {e}\n{text}"))
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

// ---- --format gitlab -------------------------------------------------------

/// GitLab's documented Code Quality properties, and nothing else.
#[test]
fn gitlab_report_is_the_documented_code_climate_subset() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", STACK);
    write(
        d.path(),
        "app/Dockerfile",
        "FROM python:3.12\nRUN pip install x\n",
    );
    let (code, out, err) = rampart(d.path(), &["check", "--format", "gitlab"]);
    assert_eq!(code, 1, "{err}");
    let issues = json(&out);
    let issues = issues.as_array().expect("a JSON array");
    let (_, jout, _) = rampart(d.path(), &["check", "--format", "json"]);
    let report = json(&jout);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(issues.len(), findings.len());
    assert!(issues.len() >= 5, "{out}");
    let top: BTreeSet<String> = [
        "description",
        "check_name",
        "fingerprint",
        "severity",
        "location",
    ]
    .map(String::from)
    .into();
    let mut prints = BTreeSet::new();
    for (issue, f) in issues.iter().zip(findings) {
        assert_eq!(keys(issue), top, "{issue:#}");
        assert_eq!(
            keys(&issue["location"]),
            ["lines", "path"].map(String::from).into()
        );
        assert_eq!(
            keys(&issue["location"]["lines"]),
            ["begin"].map(String::from).into()
        );
        let path = issue["location"]["path"].as_str().unwrap();
        assert!(!path.starts_with("./") && !path.starts_with('/'), "{path}");
        assert_eq!(path, f["file"]);
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert_eq!(issue["location"]["lines"]["begin"], f["line"]);
        assert_eq!(issue["check_name"], f["policy"]);
        assert_eq!(issue["description"], f["message"]);
        assert_eq!(issue["fingerprint"], f["fingerprint"]);
        let want = match f["severity"].as_str().unwrap() {
            "info" => "info",
            "low" => "minor",
            "medium" => "major",
            "high" => "critical",
            "critical" => "blocker",
            other => panic!("{other}"),
        };
        assert_eq!(issue["severity"], want);
        // GitLab keys issues by fingerprint: one per issue.
        assert!(
            prints.insert(issue["fingerprint"].as_str().unwrap().to_string()),
            "duplicate fingerprint {issue:#}"
        );
    }
}

/// No finding: an empty array (GitLab: no issue), not an empty file; a run
/// stopped by a config error writes one too.
#[test]
fn gitlab_report_is_an_array_when_clean_or_stopped() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".env.example", "A=1\n");
    let (code, out, err) = rampart(d.path(), &["check", "--format", "gitlab"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "[]");
    write(d.path(), "rampart.yaml", "profile: bogus\n");
    let (code, out, _) = rampart(
        d.path(),
        &["check", "--format", "gitlab", "--output", "gl.json"],
    );
    assert_eq!(code, 2);
    assert!(out.is_empty());
    let written = fs::read_to_string(d.path().join("gl.json")).unwrap();
    assert_eq!(json(&written), Value::Array(vec![]));
}

// ---- structural fingerprints ----------------------------------------------

/// (policy, fingerprint) of every finding, by file and path.
fn prints(dir: &Path) -> BTreeMap<(String, String), String> {
    let (code, out, err) = rampart(dir, &["check", "--format", "json"]);
    assert!(code <= 1, "{err}");
    let v = json(&out);
    let mut m = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        let key = (
            f["policy"].as_str().unwrap().to_string(),
            format!("{}:{}", f["file"].as_str().unwrap(), f["message"]),
        );
        let print = f["fingerprint"].as_str().unwrap().to_string();
        assert_eq!(print.len(), 16);
        assert!(m.insert(key, print).is_none(), "two findings alike: {v:#}");
    }
    m
}

#[test]
fn fingerprints_survive_reordering_and_lines_above_but_not_a_rename() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", STACK);
    let before = prints(d.path());
    assert!(before.len() >= 8, "{before:#?}");

    // The two services swapped.
    let (head, rest) = STACK.split_at(STACK.find("  db:").unwrap());
    let web = head.strip_prefix("services:\n").unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        format!("services:\n{rest}{web}"),
    );
    assert_eq!(prints(d.path()), before, "reordered services");

    // Ten lines above everything.
    write(
        d.path(),
        "docker-compose.yml",
        format!("{}{STACK}", "# a comment\n".repeat(10)),
    );
    assert_eq!(prints(d.path()), before, "ten lines above");

    // A service renamed: its findings are new ones, the other's are kept.
    write(
        d.path(),
        "docker-compose.yml",
        STACK.replace("  db:", "  database:"),
    );
    let renamed = prints(d.path());
    let of = |m: &BTreeMap<(String, String), String>, who: &str| -> BTreeSet<String> {
        m.iter()
            .filter(|((_, k), _)| k.contains(&format!("`{who}`")))
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(of(&renamed, "web"), of(&before, "web"));
    let (old_db, new_db) = (of(&before, "db"), of(&renamed, "database"));
    assert!(!old_db.is_empty() && !new_db.is_empty());
    assert!(old_db.is_disjoint(&new_db), "{old_db:?} {new_db:?}");
}

/// Two services with the same flagged text (`privileged: true`): each keeps
/// its own fingerprint whichever comes first — the rank of identical nodes
/// used to swap them.
#[test]
fn identical_nodes_are_told_apart_by_their_service() {
    let two = "services:\n  a:\n    image: x:1\n    privileged: true\n  b:\n    image: x:1\n    privileged: true\n";
    let swapped = "services:\n  b:\n    image: x:1\n    privileged: true\n  a:\n    image: x:1\n    privileged: true\n";
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", two);
    let one = prints(d.path());
    write(d.path(), "docker-compose.yml", swapped);
    assert_eq!(prints(d.path()), one);
}

/// Dockerfile (stage name + instruction), .env (variable name) and nginx
/// (server and location) findings keep their fingerprints when lines are
/// added above them and when their neighbours move.
#[test]
fn fingerprints_of_other_formats_follow_their_structure() {
    let d = tempfile::tempdir().unwrap();
    let dockerfile = "FROM python:3.12 AS build\nRUN pip install x\nFROM debian:12\nRUN curl -fsSL http://get.example | sh\n";
    let env = "DB_PASSWORD=changeme\nAPI_TOKEN=password\n";
    let nginx = "server {\n  listen 80;\n  server_name example.com;\n  location /admin { autoindex on; }\n}\n";
    write(d.path(), "Dockerfile", dockerfile);
    write(d.path(), ".env", env);
    write(d.path(), "nginx.conf", nginx);
    let before = prints(d.path());
    for file in ["Dockerfile", ".env", "nginx.conf"] {
        assert!(
            before
                .keys()
                .any(|(_, k)| k.starts_with(&format!("{file}:"))),
            "{file}: {before:#?}"
        );
    }
    write(
        d.path(),
        "Dockerfile",
        format!("{}{dockerfile}", "# note\n".repeat(10)),
    );
    write(
        d.path(),
        ".env",
        "API_TOKEN=password\n\n# db\nDB_PASSWORD=changeme\n",
    );
    write(
        d.path(),
        "nginx.conf",
        format!(
            "# top\n\n{}",
            nginx.replace("  listen 80;\n", "\n\n  listen 80;\n")
        ),
    );
    assert_eq!(prints(d.path()), before);
}

// ---- docs/ci.md snippets ---------------------------------------------------

/// The fenced block after `<!-- snippet: NAME -->` in docs/ci.md.
fn snippet(name: &str) -> String {
    let doc = fs::read_to_string(repo_root().join("docs/ci.md")).unwrap();
    let marker = format!("<!-- snippet: {name} -->");
    let at = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("no {marker} in docs/ci.md"));
    let rest = &doc[at + marker.len()..];
    let open = rest.find("```yaml\n").expect("a ```yaml block") + "```yaml\n".len();
    let close = rest[open..].find("\n```").expect("a closed block") + open;
    rest[open..close].to_string()
}

/// `key = "value"` under the `header` line (`[package]`, `[[bin]]`) of the
/// root Cargo.toml.
fn manifest_value(header: &str, key: &str) -> String {
    let text = fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
    let start = text
        .lines()
        .position(|l| l.trim() == header)
        .unwrap_or_else(|| panic!("no {header}"));
    text.lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("no {key} under {header}"))
}

fn version_tag() -> String {
    format!("v{}", manifest_value("[workspace.package]", "version"))
}

/// Runs one `rampart …` command line of a snippet (no shell quoting in it)
/// in `dir`.
fn run_line(dir: &Path, line: &str) -> (i32, String, String) {
    let words: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(words[0], "rampart", "{line}");
    rampart(dir, &words[1..])
}

#[test]
fn github_actions_snippet_uses_the_action_as_it_is_defined() {
    let wf = yaml(&snippet("github-actions"));
    let action = yaml(&fs::read_to_string(repo_root().join("action.yml")).unwrap());

    // The action itself: what GitHub requires of a composite action.
    for k in ["name", "description", "runs"] {
        assert!(action.get(k).is_some(), "action.yml has no {k}");
    }
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().unwrap();
    for (name, input) in inputs {
        assert!(input["description"].is_string(), "input {name}");
    }
    for step in action["runs"]["steps"].as_array().unwrap() {
        assert!(
            step.get("run").is_some() != step.get("uses").is_some(),
            "a step runs or uses: {step}"
        );
        if step.get("run").is_some() {
            assert!(
                step["shell"].is_string(),
                "composite run steps need a shell: {step}"
            );
            let script = step["run"].as_str().unwrap();
            for (name, _) in inputs {
                // Inputs reach scripts through env, never pasted in.
                assert!(!script.contains(&format!("inputs.{name}")), "{script}");
            }
        }
    }
    let install = action["runs"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .find(|r| r.contains("cargo install"))
        .expect("an install step");
    assert!(
        install.contains("--locked --path \"$GITHUB_ACTION_PATH\""),
        "the root manifest is the rampart package: {install}"
    );

    // The workflow.
    let on = wf.get("on").or_else(|| wf.get("true")).expect("on:");
    assert!(on.get("pull_request").is_some(), "{on}");
    assert_eq!(wf["permissions"]["security-events"], "write");
    let jobs = wf["jobs"].as_object().unwrap();
    let job = jobs.values().next().unwrap();
    assert!(job["runs-on"].is_string());
    let steps = job["steps"].as_array().unwrap();
    assert!(steps[0]["uses"]
        .as_str()
        .unwrap()
        .starts_with("actions/checkout@"));
    let step = steps
        .iter()
        .find(|s| s["uses"].as_str().is_some_and(|u| u.contains("/rampart@")))
        .expect("a step using the rampart action");
    assert!(step["uses"]
        .as_str()
        .unwrap()
        .ends_with(&format!("@{}", version_tag())));
    let given = keys(&step["with"]);
    assert!(!given.is_empty());
    for k in &given {
        assert!(
            inputs.contains_key(k),
            "`{k}` is not an input of action.yml"
        );
    }
    // The values given are ones rampart accepts.
    let fail_on = step["with"]["fail-on"].as_str().unwrap();
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", STACK);
    let (code, _, err) = rampart(d.path(), &["check", "--fail-on", fail_on, "--quiet"]);
    assert!(code <= 1, "{err}");
}

#[test]
fn gitlab_ci_snippet_is_a_job_gitlab_accepts_and_its_command_writes_the_reports() {
    let ci = yaml(&snippet("gitlab-ci"));
    let jobs = ci.as_object().unwrap();
    assert_eq!(jobs.len(), 1);
    let job = jobs.values().next().unwrap();
    let known: BTreeSet<&str> = [
        "image",
        "stage",
        "variables",
        "cache",
        "before_script",
        "script",
        "after_script",
        "artifacts",
        "rules",
        "needs",
        "allow_failure",
        "tags",
        "services",
        "timeout",
        "interruptible",
    ]
    .into();
    for k in keys(job) {
        assert!(
            known.contains(k.as_str()),
            "`{k}` is not a GitLab job keyword"
        );
    }
    let artifacts = &job["artifacts"];
    for k in keys(artifacts) {
        assert!(
            ["when", "reports", "paths", "expire_in", "name", "expose_as"].contains(&k.as_str()),
            "artifacts: {k}"
        );
    }
    assert_eq!(artifacts["when"], "always", "reports must upload on exit 1");
    let quality = artifacts["reports"]["codequality"].as_str().unwrap();
    for k in keys(&job["cache"]) {
        assert!(["key", "paths", "policy", "when"].contains(&k.as_str()));
    }
    let script: Vec<&str> = job["script"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    // The install line: the workspace's repository and the release tag.
    let install = script.iter().find(|l| l.contains("cargo install")).unwrap();
    assert!(install.contains(&format!(
        "--locked --git {} --tag {} rampart",
        manifest_value("[workspace.package]", "repository"),
        version_tag()
    )));
    // The check line, run: it writes the Code Quality report the job
    // declares, and SARIF for the `paths` artifact.
    let check = script
        .iter()
        .find(|l| l.starts_with("rampart check"))
        .unwrap();
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", STACK);
    let (code, out, err) = run_line(d.path(), check);
    assert_eq!(code, 1, "{err}");
    assert!(out.contains(" findings ("), "short on stdout: {out}");
    let report = json(&fs::read_to_string(d.path().join(quality)).unwrap());
    assert!(!report.as_array().unwrap().is_empty());
    for p in artifacts["paths"].as_array().unwrap() {
        let p = p.as_str().unwrap();
        let sarif = json(&fs::read_to_string(d.path().join(p)).unwrap());
        assert_eq!(sarif["version"], "2.1.0", "{p}");
    }
}

#[test]
fn pre_commit_snippet_names_hooks_the_repository_defines() {
    let config = yaml(&snippet("pre-commit"));
    let hooks_file = repo_root().join(".pre-commit-hooks.yaml");
    let hooks = yaml(&fs::read_to_string(&hooks_file).unwrap());
    let hooks = hooks.as_array().expect("a list of hooks");
    let ids: BTreeSet<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();

    let repo = &config["repos"][0];
    assert_eq!(
        repo["repo"],
        manifest_value("[workspace.package]", "repository")
    );
    assert_eq!(repo["rev"], version_tag());
    let used: Vec<&str> = repo["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert!(!used.is_empty());
    for id in used {
        assert!(
            ids.contains(id),
            "hook {id} is not in .pre-commit-hooks.yaml"
        );
    }
    // Every hook id the snippet's comments mention exists too.
    for line in snippet("pre-commit").lines() {
        if let Some(rest) = line.trim_start().strip_prefix("# - id: ") {
            let id = rest.split_whitespace().next().unwrap();
            assert!(ids.contains(id), "{id}");
        }
    }

    // The hooks file, as pre-commit reads it.
    let languages = ["rust", "system", "docker", "docker_image", "script"];
    let files_re = hooks[0]["files"].as_str().unwrap();
    let re = regex::Regex::new(files_re).unwrap();
    for h in hooks {
        for k in ["id", "name", "entry", "language"] {
            assert!(h[k].is_string(), "{k} of {h}");
        }
        assert!(languages.contains(&h["language"].as_str().unwrap()));
        assert_eq!(h["files"].as_str().unwrap(), files_re, "one filter for all");
        assert_eq!(h["pass_filenames"], true);
    }
    for f in [
        "docker-compose.yml",
        "deploy/compose.prod.yaml",
        "Dockerfile",
        "api/Dockerfile.dev",
        "Containerfile",
        ".env",
        ".env.production",
        "nginx.conf",
        "sites-enabled/default",
        "Caddyfile",
    ] {
        assert!(re.is_match(f), "{f} should be passed");
    }
    for f in ["README.md", "src/main.rs", "package.json"] {
        assert!(!re.is_match(f), "{f} should not be passed");
    }

    // The `language: rust` hook: pre-commit runs `cargo install --bins
    // --path .` at the repository's root, so the root manifest must be a
    // package with the binary the entry names.
    let rust = hooks
        .iter()
        .find(|h| h["language"] == "rust")
        .expect("a language: rust hook");
    let bin = rust["entry"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert_eq!(manifest_value("[package]", "name"), "rampart");
    assert_eq!(manifest_value("[[bin]]", "name"), bin);
    let main = manifest_value("[[bin]]", "path");
    assert!(repo_root().join(&main).is_file(), "{main}");
    // The check the entry runs, on files named as pre-commit names them.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", STACK);
    write(d.path(), "README.md", "# x\n");
    let mut args: Vec<&str> = rust["entry"].as_str().unwrap().split_whitespace().collect();
    args.push("docker-compose.yml");
    let (code, out, err) = rampart(d.path(), &args[1..]);
    assert_eq!(code, 1, "{out}{err}");
}
