//! Issue 11 items 4-7 end to end: policy semantics decided from real files, image
//! knowledge, one finding per root cause, and the `--fail-on high` gate on hardened
//! inputs (docs/policies.md § How to read the catalog).

use std::fs;
use std::path::{Path, PathBuf};

use rampart_tests::{findings, json, rampart, write};

fn check(dir: &Path, extra: &[&str]) -> Vec<(String, u64, String)> {
    let mut args = vec!["check", ".", "--format", "json"];
    args.extend_from_slice(extra);
    let (_, out, err) = rampart(dir, &args);
    let v = json(&out);
    assert!(v.is_object(), "no JSON report: {err}");
    findings(&v)
}

fn of<'a>(f: &'a [(String, u64, String)], policy: &str) -> Vec<&'a (String, u64, String)> {
    f.iter().filter(|(p, ..)| p == policy).collect()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn read_only_localtime_is_not_a_sensitive_mount() {
    // immich's docker-compose.yml and Haxxnet's vaultwarden example.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  immich-server:\n    image: ghcr.io/immich-app/immich-server:v1.119.0\n    volumes:\n      - /etc/localtime:/etc/localtime:ro\n      - /etc/timezone:/etc/timezone:ro\n",
    );
    let f = check(d.path(), &["--profile", "strict"]);
    assert!(
        of(&f, "compose.no-sensitive-host-mounts").is_empty(),
        "{f:#?}"
    );
    assert!(!f.iter().any(|(_, l, _)| *l == 5 || *l == 6), "{f:#?}");
}

#[test]
fn root_reached_through_the_env_file_is_a_sensitive_mount() {
    // The n8n docs' compose setup: `DATA_FOLDER=/root/n8n` in the `.env`.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  n8n:\n    image: docker.n8n.io/n8nio/n8n:1.64.0\n    volumes:\n      - ${DATA_FOLDER}/.n8n:/home/node/.n8n\n      - /lib/modules:/lib/modules:ro\n",
    );
    write(d.path(), ".env", "DATA_FOLDER=/root/n8n\n");
    let f = check(d.path(), &[]);
    let m = of(&f, "compose.no-sensitive-host-mounts");
    assert_eq!(m.len(), 2, "{f:#?}");
    assert!(m
        .iter()
        .any(|(_, l, msg)| *l == 5 && msg.contains("`/root/n8n/.n8n`")));
    assert!(m.iter().any(|(_, l, _)| *l == 6));
}

#[test]
fn privileged_ports_are_judged_on_the_host_side() {
    // A public GitLab compose file publishes 3443:443; awesome-compose's nginx 80:80.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  gitlab:\n    image: gitlab/gitlab-ce:17.5.1-ce.0\n    ports:\n      - \"8080:80\"\n      - \"3443:443\"\n      - \"${PGADMIN_PORT}:80\"\n  proxy:\n    image: nginx:1.27\n    ports:\n      - 80:80\n",
    );
    let f = check(d.path(), &["--profile", "strict"]);
    let p = of(&f, "compose.privileged-ports");
    assert_eq!(p.len(), 1, "{f:#?}");
    assert_eq!(p[0].1, 11);
    // The co-located `ports-host-ip-explicit` finding on 80:80 is folded into it.
    assert!(
        p[0].2.contains("also compose.ports-host-ip-explicit"),
        "{p:#?}"
    );
    let hosts = of(&f, "compose.ports-host-ip-explicit");
    assert!(!hosts.iter().any(|(_, l, _)| *l == 11), "{f:#?}");
    assert!(hosts.iter().any(|(_, l, _)| *l == 6), "{f:#?}");
}

#[test]
fn an_anchor_merged_into_three_services_is_one_finding_at_the_anchor() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "x-backend-env: &backend-env\n  DB_PASSWORD: Zk3rTq9vLm2xWp7sYb4n\n  LOG_LEVEL: info\n\nx-hardening: &hardening\n  security_opt: [\"label:disable\"]\n\nservices:\n  api:\n    image: app/api:1.2.3\n    <<: *hardening\n    environment:\n      <<: *backend-env\n  worker:\n    image: app/worker:1.2.3\n    <<: *hardening\n    environment:\n      <<: *backend-env\n  cron:\n    image: app/cron:1.2.3\n    <<: *hardening\n    environment:\n      <<: *backend-env\n",
    );
    let f = check(d.path(), &[]);
    for (policy, line) in [
        ("compose.no-literal-secrets", 2),
        ("compose.no-new-privileges", 6),
    ] {
        let hits = of(&f, policy);
        assert_eq!(hits.len(), 1, "{policy}: {f:#?}");
        assert_eq!(hits[0].1, line, "{policy} at the anchor");
        let msg = &hits[0].2;
        for svc in ["api", "worker", "cron"] {
            assert!(msg.contains(&format!("`{svc}`")), "{policy}: {msg}");
        }
    }
}

#[test]
fn a_pulled_image_is_never_claimed_to_run_as_root() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  n8n:\n    image: n8nio/n8n\n  vault:\n    image: vaultwarden/server:1.32.0\n  db:\n    image: postgres:16\n",
    );
    let f = check(d.path(), &[]);
    let users = of(&f, "compose.non-root-user");
    // n8n's image sets `USER node`: no finding.
    assert!(!users.iter().any(|(_, l, _)| *l == 2), "{f:#?}");
    assert!(
        !f.iter().any(|(_, _, m)| m.contains("runs as root")),
        "{f:#?}"
    );
    let vault = users.iter().find(|(_, l, _)| *l == 4).expect("vaultwarden");
    assert!(vault.2.contains("sets no `user:`"), "{vault:?}");
    let db = users.iter().find(|(_, l, _)| *l == 6).expect("postgres");
    assert!(db.2.contains("steps down to `postgres`"), "{db:?}");
}

#[test]
fn add_of_an_arg_url_is_a_download() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "Dockerfile",
        "FROM alpine:3.20\nARG VERSION=\"3.13.8\"\nARG DOWNLOAD_URL=\"https://files.teamspeak-services.com/releases/server/${VERSION}/ts.tar.bz2\"\nADD ${DOWNLOAD_URL} /tmp/server.tar.bz2\nUSER 1000\n",
    );
    let f = check(d.path(), &[]);
    let a = of(&f, "dockerfile.copy-not-add");
    assert_eq!(a.len(), 1, "{f:#?}");
    assert!(a[0].2.contains("remote URL"), "{a:?}");
}

#[test]
fn moving_tags_are_not_pinned() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  a:\n    image: lldap/lldap:stable\n  b:\n    image: ghcr.io/open-webui/open-webui:main\n  c:\n    image: archivebox/archivebox:dev\n  d:\n    image: ghcr.io/open-webui/open-webui:v0.3.35\n",
    );
    let f = check(d.path(), &[]);
    let lines: Vec<u64> = of(&f, "compose.image-pinned").iter().map(|x| x.1).collect();
    assert_eq!(lines, vec![3, 5, 7], "{f:#?}");
}

#[test]
fn https_redirect_skips_onion_sites_and_proxied_backends() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "tor/Caddyfile",
        "http://giteaonionaddressxxxxxxxxxxxx.onion {\n\treverse_proxy gitea:3000\n}\n",
    );
    let sentry = fs::read_to_string(repo().join("tests/fixtures/hardened/sentry-nginx.conf"))
        .unwrap_or_default();
    assert!(!sentry.is_empty());
    write(d.path(), "sentry/nginx.conf", sentry);
    write(
        d.path(),
        "caddy/Caddyfile",
        "example.com {\n\tfile_server\n}\n",
    );
    let f = check(d.path(), &[]);
    assert!(of(&f, "http.https-redirect").is_empty(), "{f:#?}");
    // Caddy's `Server: Caddy` carries no version.
    assert!(of(&f, "http.server-version-hidden")
        .iter()
        .all(|(_, _, m)| m.contains("nginx")));
}

#[test]
fn fail_on_high_passes_on_the_seeds_after_states() {
    let examples = repo().join("docs/examples");
    for dir in ["seed-001-nginx/after", "seed-002-caddy/after"] {
        let (code, out, _) = rampart(&examples, &["check", dir, "--fail-on", "high"]);
        assert_eq!(code, 0, "{dir}: {out}");
    }
    // Seed 000's after state, with the `.env` filled as its comment says
    // (`openssl rand -base64 32`), not with the placeholders left in the example.
    let d = tempfile::tempdir().unwrap();
    let src = examples.join("seed-000-after");
    for rel in [
        "docker-compose.yml",
        "services/execution/Dockerfile",
        "services/execution/.dockerignore",
        "backoffice/.env.example",
    ] {
        write(d.path(), rel, fs::read(src.join(rel)).unwrap());
    }
    write(
        d.path(),
        ".env",
        "REDIS_PASSWORD=q7Vd2LxT9mRk4WsZp8HcJ3nB\nGRAFANA_PASSWORD=Wm5tYr8KzQ2vLx9PdN4sFh6C\nPOSTGRES_PASSWORD=Hb3nKs7XqV9mTz2RwL5yPc8D\n",
    );
    let (code, out, _) = rampart(d.path(), &["check", ".", "--fail-on", "high"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn fail_on_high_passes_on_a_hardened_real_compose_file() {
    let dir = repo().join("tests/fixtures/hardened/whoogle");
    let (code, out, _) = rampart(&dir, &["check", ".", "--fail-on", "high"]);
    assert_eq!(code, 0, "{out}");
}
