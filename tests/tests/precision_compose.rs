//! Issue 11, compose overlays and image knowledge end to end
//! (docs/policies-guide.md § Compose overlays): the default override file is
//! merged into its base file as `docker compose` does, partial services of
//! overlay files are not judged for missing settings, and images whose
//! configuration sets a non-root `USER` or a `HEALTHCHECK` are not reported.
//! Inputs are trimmed from real repositories (named in each test).

use std::path::Path;

use rampart_tests::{json, rampart, write};

/// (policy, file, line, message) of every finding of `rampart check . --profile strict`.
fn check(dir: &Path) -> Vec<(String, String, u64, String)> {
    let (_, out, err) = rampart(
        dir,
        &["check", ".", "--format", "json", "--profile", "strict"],
    );
    let v = json(&out);
    assert!(v.is_object(), "no JSON report: {err}");
    assert_eq!(v["errors"].as_array().map(Vec::len), Some(0), "{out}");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["policy"].as_str().unwrap_or("").to_string(),
                f["file"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn of<'a>(
    f: &'a [(String, String, u64, String)],
    policy: &str,
) -> Vec<&'a (String, String, u64, String)> {
    f.iter().filter(|(p, ..)| p == policy).collect()
}

const MISSING: [&str; 5] = [
    "compose.cap-drop-all",
    "compose.no-new-privileges",
    "compose.read-only-rootfs",
    "compose.resource-limits",
    "compose.healthcheck-defined",
];

// 0live/Canopy: docker-compose.override.yml only publishes martin's port.
const CANOPY_BASE: &str = "services:
  martin:
    container_name: canopy-martin
    image: ghcr.io/maplibre/martin:1.3.0
    restart: unless-stopped
    expose:
      - \"3000\"
    healthcheck:
      test: [\"CMD\", \"wget\", \"--spider\", \"-q\", \"http://localhost:3000/catalog\"]
";
const CANOPY_OVERRIDE: &str = "# Development overrides - exposes ports for local debugging
services:
  martin:
    ports:
      - \"3000:3000\"
";

#[test]
fn a_partial_override_service_is_reported_once_at_the_base_service() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CANOPY_BASE);
    write(d.path(), "docker-compose.override.yml", CANOPY_OVERRIDE);
    let f = check(d.path());
    for p in ["compose.cap-drop-all", "compose.no-new-privileges"] {
        let hits = of(&f, p);
        assert_eq!(hits.len(), 1, "{p}: {f:#?}");
        assert_eq!(hits[0].1, "docker-compose.yml", "{f:#?}");
        assert_eq!(hits[0].2, 2, "{f:#?}");
    }
    // The base's healthcheck counts; nothing is reported in the override for a missing setting.
    assert!(of(&f, "compose.healthcheck-defined").is_empty(), "{f:#?}");
    assert!(
        !f.iter()
            .any(|(p, file, ..)| file == "docker-compose.override.yml"
                && MISSING.contains(&p.as_str())),
        "{f:#?}"
    );
    // The published port, written in the override, is reported there.
    let ports = of(&f, "compose.ports-host-ip-explicit");
    assert_eq!(ports.len(), 1, "{f:#?}");
    assert_eq!(ports[0].1, "docker-compose.override.yml");
    assert_eq!(ports[0].2, 5);
}

#[test]
fn hardening_set_in_the_override_clears_the_base_finding() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CANOPY_BASE);
    write(
        d.path(),
        "docker-compose.override.yml",
        "services:\n  martin:\n    cap_drop: [ALL]\n    security_opt: [\"no-new-privileges:true\"]\n    read_only: true\n    user: \"1000\"\n    mem_limit: 256m\n    cpus: \"0.5\"\n    pids_limit: 100\n",
    );
    let f = check(d.path());
    for p in MISSING.iter().chain(&["compose.non-root-user"]) {
        assert!(of(&f, p).is_empty(), "{p}: {f:#?}");
    }
}

#[test]
fn without_the_override_the_base_is_judged_as_written() {
    // The same hardening in a `-f` overlay (not merged by default): the base keeps its findings.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", CANOPY_BASE);
    write(
        d.path(),
        "docker-compose.prod.yml",
        "services:\n  martin:\n    cap_drop: [ALL]\n",
    );
    let f = check(d.path());
    let hits = of(&f, "compose.cap-drop-all");
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!(hits[0].1, "docker-compose.yml");
}

#[test]
fn a_bad_value_in_the_override_is_reported_once_where_it_is_written() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "compose.yaml", CANOPY_BASE);
    write(
        d.path(),
        "compose.override.yaml",
        "services:\n  martin:\n    privileged: true\n",
    );
    let f = check(d.path());
    let hits = of(&f, "compose.no-privileged");
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!(hits[0].1, "compose.override.yaml");
    assert_eq!(hits[0].2, 3);
    assert!(!hits[0].3.contains("shared definition"), "{f:#?}");
}

#[test]
fn the_override_environment_in_mapping_form_merges_with_the_base_list() {
    // tiangolo/full-stack-fastapi-template: the base lists `environment`, the
    // override maps it; the base's secrets are still seen.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  backend:\n    image: backend:1.0\n    environment:\n      - SECRET_KEY=${SECRET_KEY?Variable not set}\n      - SMTP_HOST=${SMTP_HOST}\n",
    );
    write(
        d.path(),
        "docker-compose.override.yml",
        "services:\n  backend:\n    environment:\n      SMTP_HOST: \"mailcatcher\"\n      SMTP_PORT: \"1025\"\n",
    );
    let f = check(d.path());
    let hits = of(&f, "compose.secrets-via-files");
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!((hits[0].1.as_str(), hits[0].2), ("docker-compose.yml", 5));
}

#[test]
fn a_datastore_port_published_by_the_override_is_found() {
    // tiangolo/full-stack-fastapi-template: the override publishes db's 5432.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  db:\n    image: postgres:17\n    restart: always\n",
    );
    write(
        d.path(),
        "docker-compose.override.yml",
        "services:\n  db:\n    restart: \"no\"\n    ports:\n      - \"5432:5432\"\n",
    );
    let f = check(d.path());
    let hits = of(&f, "compose.datastore-loopback-only");
    assert_eq!(hits.len(), 1, "{f:#?}");
    assert_eq!(
        (hits[0].1.as_str(), hits[0].2),
        ("docker-compose.override.yml", 5)
    );
}

#[test]
fn partial_services_of_other_overlays_are_not_judged_for_missing_settings() {
    // zulip/docker-zulip ci/basic/compose.yaml (used with -f beside the root compose.yaml)
    // and mailcow's helper-scripts overrides: no image, build or extends.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "ci/basic/compose.yaml",
        "services:\n  zulip:\n    environment:\n      SETTING_EXTERNAL_HOST: \"localhost\"\n",
    );
    write(
        d.path(),
        "EXTERNAL_DNS/docker-compose.override.yml",
        "services:\n  unbound-mailcow:\n    dns:\n      - 9.9.9.9\n  sogo-mailcow:\n    user: root\n",
    );
    let f = check(d.path());
    for p in MISSING {
        assert!(of(&f, p).is_empty(), "{p}: {f:#?}");
    }
    // What a partial service writes is still judged.
    let root = of(&f, "compose.non-root-user");
    assert_eq!(root.len(), 1, "{f:#?}");
    assert!(root[0].3.contains("runs as root"), "{f:#?}");
}

#[test]
fn images_that_set_a_user_or_a_healthcheck_are_not_reported() {
    // paperless-ngx docker/compose: gotenberg and tika; awesome-compose: pihole.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  gotenberg:\n    image: docker.io/gotenberg/gotenberg:8.7\n  tika:\n    image: docker.io/apache/tika:latest\n  pihole:\n    image: pihole/pihole:2024.07.0\n    user: \"1000\"\n  webserver:\n    image: ghcr.io/paperless-ngx/paperless-ngx:2.13\n    user: \"1000\"\n",
    );
    let f = check(d.path());
    let users = of(&f, "compose.non-root-user");
    assert!(users.is_empty(), "{f:#?}");
    let health: Vec<&str> = of(&f, "compose.healthcheck-defined")
        .iter()
        .map(|(.., m)| m.as_str())
        .collect();
    assert_eq!(health.len(), 2, "{f:#?}");
    assert!(
        health
            .iter()
            .all(|m| m.contains("gotenberg") || m.contains("tika")),
        "{health:?}"
    );
}
