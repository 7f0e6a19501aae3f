//! Precision of `compose.secrets-via-files`, `dockerfile.no-secrets-in-env-arg`
//! and `dotenv.git-ignored` (issue 11), end to end, each case a snippet of a
//! real file named beside it: the false positives the precision labels found
//! are gone for a stated reason (empty values pass nothing; `ACCESS_KEY` is an
//! S3 key id; the Pusher protocol's `APP_KEY` is public; `AUTH` inside a name
//! is a setting; a dummy URL for a build step holds no secret; a SOPS-encrypted
//! env file is committed on purpose), and the true findings beside them stay.

use rampart_tests::{findings, json, rampart, write};

/// Runs `check --profile strict --format json` over `dir`; returns the findings
/// of `policy` as (file, line) and the whole output.
fn of_policy(dir: &std::path::Path, policy: &str) -> (Vec<(String, u64)>, String) {
    let (_, out, err) = rampart(
        dir,
        &["check", "--profile", "strict", "--format", "json", "."],
    );
    let v = json(&out);
    assert!(v.is_object(), "{out}{err}");
    let found = v["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["policy"] == policy)
                .map(|f| {
                    (
                        f["file"].as_str().unwrap_or("").to_string(),
                        f["line"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (found, out)
}

/// getsentry/self-hosted `vroom` (a MinIO-style key pair), Coolify's soketi
/// (Pusher-protocol keys from the environment), nextcloud's insecure example
/// (`- MYSQL_ROOT_PASSWORD=`), Haxxnet rxresume v3/v4, zulip's CI settings and
/// an ntfy service (mathewcsims/self-hosted).
const COMPOSE: &str = r#"services:
  vroom:
    image: getsentry/vroom:nightly
    environment:
      AWS_ACCESS_KEY: "sentry"
      AWS_SECRET_KEY: "sentry"
  soketi:
    image: quay.io/soketi/soketi:1.6-16-alpine
    environment:
      SOKETI_DEFAULT_APP_ID: "${COOLIFY_PUSHER_APP_ID:?set in .env}"
      SOKETI_DEFAULT_APP_KEY: "${COOLIFY_PUSHER_APP_KEY:?set in .env}"
      SOKETI_DEFAULT_APP_SECRET: "${COOLIFY_PUSHER_APP_SECRET:?set in .env}"
  coolify:
    image: ghcr.io/coollabsio/coolify:4
    environment:
      - PUSHER_APP_KEY=${COOLIFY_PUSHER_APP_KEY:?set in .env}
  db:
    image: mariadb:lts
    environment:
      - MYSQL_ROOT_PASSWORD=
      - MARIADB_AUTO_UPGRADE=1
  server:
    image: amruthpillai/reactive-resume:server-latest
    environment:
      - GOOGLE_CLIENT_SECRET=
      - MAIL_PASSWORD=
      - STORAGE_ACCESS_KEY=minioadmin
      - STORAGE_SECRET_KEY=minioadmin
  zulip:
    image: zulip/docker-zulip:10.4-0
    environment:
      ZULIP_AUTH_BACKENDS: EmailAuthBackend,ZulipLDAPAuthBackend
      SETTING_AUTH_LDAP_USER_ATTR_MAP: '{"full_name": "cn", "unique_account_id": "dn"}'
  ntfy:
    image: binwiederhier/ntfy:v2.11.0
    environment:
      NTFY_AUTH_DEFAULT_ACCESS: deny-all
"#;

#[test]
fn secrets_via_files_reports_secrets_not_empty_values_key_ids_or_settings() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "docker-compose.yml", COMPOSE);
    let (found, out) = of_policy(d.path(), "compose.secrets-via-files");
    let lines: Vec<u64> = found.iter().map(|(_, l)| *l).collect();
    // The secret halves: AWS_SECRET_KEY (6), SOKETI_DEFAULT_APP_SECRET (12),
    // STORAGE_SECRET_KEY (28). Not the key ids (5, 27), the public Pusher keys
    // (11, 16), the empty values (20, 25, 26) or the auth settings (31-35).
    assert_eq!(lines, [6, 12, 28], "{out}");
    // The other secrets policies agree on the names.
    let (literal, out) = of_policy(d.path(), "compose.no-literal-secrets");
    let lines: Vec<u64> = literal.iter().map(|(_, l)| *l).collect();
    assert_eq!(lines, [6, 28], "{out}");
}

/// hoppscotch's prod.Dockerfile and umami's Dockerfile set a dummy
/// `DATABASE_URL` for `prisma generate`; a Next.js Dockerfile passes a real
/// one as an `ARG` default (password replaced here); Piasta/django-docker and
/// KeithHello/OrderManagerWithExcelExport bake a Django key and MySQL
/// passwords.
const DUMMY_DOCKERFILE: &str = r#"FROM node:22-alpine AS base
ENV DATABASE_URL="postgresql://placeholder:placeholder@localhost:5432/placeholder"
ENV DATABASE_URL="postgresql://user:pass@localhost:5432/dummy"
ARG DATABASE_URL="postgresql://build:build@localhost:5432/build"
RUN npx prisma generate
USER node
"#;

const REAL_DOCKERFILE: &str = r#"FROM node:20
ARG DATABASE_URL="postgresql://neondb_owner:npg_Xk9vT2qLm8zQ@ep-example-pooler.sa-east-1.aws.neon.tech/neondb?sslmode=require"
ENV DATABASE_URL=$DATABASE_URL
ENV DEBUG=True
ENV SECRET_KEY=mysecretkey
ENV MYSQL_ROOT_PASSWORD=my-secret-pw
ENV APP_URL="postgresql://user:pass@db:5432/app"
USER node
"#;

#[test]
fn dockerfile_dummy_urls_are_not_secrets_and_real_ones_are() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "dummy/Dockerfile", DUMMY_DOCKERFILE);
    write(d.path(), "real/Dockerfile", REAL_DOCKERFILE);
    let (found, out) = of_policy(d.path(), "dockerfile.no-secrets-in-env-arg");
    let mut found: Vec<(String, u64)> = found
        .into_iter()
        .map(|(f, l)| (f.replace('\\', "/"), l))
        .collect();
    found.sort();
    let want: Vec<(String, u64)> = [2, 5, 6, 7]
        .into_iter()
        .map(|l| ("real/Dockerfile".to_string(), l))
        .collect();
    // Line 7: a placeholder password, but for another host (`db`), is no dummy.
    assert_eq!(found, want, "{out}");
    // The real URL's password is redacted in the output.
    assert!(!out.contains("npg_Xk9vT2qLm8zQ"), "{out}");
}

/// kahnwong/self-hosted: `docker/.enc.app.picoshare.env` is SOPS output
/// committed on purpose; the root `.env` is plain and not ignored.
const SOPS_ENV: &str = "PS_SHARED_SECRET=ENC[AES256_GCM,data:H1lUXddHUHc9xB2qhFZY2UmjJTMUq02nV2HV90T9NRXCWzqBh2Oe3TActnx0sZlycTk=,iv:+OW8aBqKMVZyd7CPyJT0HI14yvrGav+lh7v91swe1J8=,tag:2vZkg9YScpokpA/cN3Zb7A==,type:str]
sops_age__list_0__map_recipient=age14ke6m4zzfpgpu2herm8cu22wshyalyfkvjp2hjedm34h7wg0ypjss9e3ct
sops_lastmodified=2025-06-11T08:26:51Z
sops_unencrypted_suffix=_unencrypted
sops_version=3.9.4
";

#[test]
fn git_ignored_skips_sops_encrypted_env_files() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".gitignore", "**/__pycache__\n");
    write(d.path(), "docker/.gitignore", ".env.app*\n");
    write(d.path(), "docker/.enc.app.picoshare.env", SOPS_ENV);
    write(
        d.path(),
        ".env",
        "CLOUDSDK_ACTIVE_CONFIG_NAME=personal\nPS_SHARED_SECRET=q0Vh3Jv7Zc2m9xLw5TtRk8bYpN4sD1fA\n",
    );
    let (found, out) = of_policy(d.path(), "dotenv.git-ignored");
    let files: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(files, [".env"], "{out}");
    // The encrypted file is named in a warning, not checked as an env file.
    let v = json(&out);
    let warned = v["warnings"].as_array().is_some_and(|w| {
        w.iter().any(|w| {
            w["code"] == "input-encrypted"
                && w["file"]
                    .as_str()
                    .is_some_and(|f| f.ends_with(".enc.app.picoshare.env"))
        })
    });
    assert!(warned, "{out}");
    assert!(
        !findings(&v)
            .iter()
            .any(|(p, _, m)| p.starts_with("dotenv.") && m.contains("ENC[")),
        "{out}"
    );
}
