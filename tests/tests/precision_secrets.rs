//! Secrets by name and by value, and precise redaction (issue 11, items 2
//! and 3), end to end: settings about secrets are no findings and are never
//! masked; literal secrets in URLs, command lines and under the wider name
//! vocabulary are findings whose values appear in no output; identifiers
//! (a service named `secret`, an image named `vault`, a network) and
//! ordinary words stay readable in every format.

use rampart_tests::{findings, json, rampart, write};

const FORMATS: &[&str] = &["text", "json", "sarif", "junit", "github", "short"];

/// The stdlib policies about secrets.
const SECRET_POLICIES: &[&str] = &[
    "compose.no-literal-secrets",
    "compose.no-default-secrets",
    "compose.secrets-via-files",
    "dotenv.no-weak-secrets",
    "dotenv.secret-min-length",
    "dotenv.example-has-no-secret-values",
    "dockerfile.no-secrets-in-env-arg",
];

/// A user policy that shows every environment value and `.env` entry in a
/// message, so that snippets and messages of those lines are printed.
const SHOW_ALL: &str = r#"/// Shows every value.
package show

policy env {
  title "Every environment value"
  severity low
  rationale "A test."
  remediation "None."
  for service in compose.services
  for env in service.environment
  where has(env.value)
  deny env message "{service.name} sets {env.name}={env.value}"
}

policy service {
  title "Every service"
  severity low
  rationale "A test."
  remediation "None."
  for service in compose.services
  where has(service.image)
  deny service message "service {service.name} runs image {service.image.name} on {service.networks.map(n, n.name).join(', ')}"
}

policy dotenv {
  title "Every env file entry"
  severity low
  rationale "A test."
  remediation "None."
  for entry in dotenv.entries
  deny entry message "entry {entry.name}={entry.value}"
}
"#;

/// Runs `check` over `dir/repo` with the show-all policy in every format
/// (verbose too); returns (format, stdout + stderr).
fn every_format(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for format in FORMATS {
        for verbose in [false, true] {
            let mut args = vec!["check", "--policy", "policies", "--format", format];
            if verbose {
                args.push("--verbose");
            }
            args.push("repo");
            let (_, stdout, stderr) = rampart(dir, &args);
            out.push((
                format!("{format} (verbose: {verbose})"),
                format!("{stdout}\n{stderr}"),
            ));
        }
    }
    out
}

fn report(dir: &std::path::Path) -> Vec<(String, u64, String)> {
    let (_, out, err) = rampart(
        dir,
        &["check", "--policy", "policies", "--format", "json", "repo"],
    );
    let v = json(&out);
    assert!(v.is_object(), "{out}{err}");
    findings(&v)
}

const SETTINGS_COMPOSE: &str = r#"services:
  secret:
    image: vault
    networks: [backend-net]
    environment:
      MYSQL_RANDOM_ROOT_PASSWORD: "true"
      PASSWORD_HASH_ALGO: argon2
      GRAFANA_LOCAL_AUTH: "true"
      CORS_ALLOW_CREDENTIALS: "true"
      SESSION_COOKIE_NAME: secret_session
      GITHUB_OAUTH_CLIENT_ID: Iv1.8a61f9b3a7aba766
      API_KEY_RATE_LIMIT: 60/minute
      MAIL_PASSWORD: "null"
  password:
    image: mariadb:11
    networks: [backend-net]
    environment:
      MYSQL_RANDOM_ROOT_PASSWORD: "true"
networks:
  backend-net: {}
"#;

const SETTINGS_DOTENV: &str =
    "API_TOKEN_EXPIRATION_YEARS=40\nMAIL_PASSWORD=null\nAPI_KEY_RATE_LIMIT=60/minute\nMYSQL_RANDOM_ROOT_PASSWORD=true\n";

const SETTINGS_EXAMPLE: &str =
    "SLACK_TOKEN_SCOPES=bot,tx\nAPI_TOKEN_EXPIRATION_YEARS=40\nMAIL_PASSWORD=null\nAPI_KEY_RATE_LIMIT=60/minute\n";

const SETTINGS_DOCKERFILE: &str =
    "FROM python:3.12-slim\nENV GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/key.json\nUSER app\n";

fn settings_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    write(&repo, "docker-compose.yml", SETTINGS_COMPOSE);
    write(&repo, ".env", SETTINGS_DOTENV);
    write(&repo, ".gitignore", ".env\n");
    write(&repo, "config/.env.example", SETTINGS_EXAMPLE);
    write(&repo, "app/Dockerfile", SETTINGS_DOCKERFILE);
    write(d.path(), "policies/show.rampart", SHOW_ALL);
    d
}

#[test]
fn settings_about_secrets_are_not_findings() {
    let d = settings_tree();
    let found = report(d.path());
    let secret_findings: Vec<_> = found
        .iter()
        .filter(|(p, _, _)| SECRET_POLICIES.contains(&p.as_str()))
        .collect();
    assert!(secret_findings.is_empty(), "{secret_findings:#?}");
    // The show-all policy saw every value (the test is not vacuous).
    assert!(found
        .iter()
        .any(|(p, _, m)| p == "show.env" && m == "secret sets MYSQL_RANDOM_ROOT_PASSWORD=true"));
    assert!(found
        .iter()
        .any(|(p, _, m)| p == "show.dotenv" && m == "entry API_KEY_RATE_LIMIT=60/minute"));
}

#[test]
fn settings_identifiers_and_words_are_never_masked() {
    let d = settings_tree();
    for (what, out) in every_format(d.path()) {
        // Nothing in this tree is a secret: nothing is masked.
        assert!(!out.contains("****"), "{what}: something masked\n{out}");
        for shown in [
            "MYSQL_RANDOM_ROOT_PASSWORD=true",
            "MAIL_PASSWORD=null",
            "API_TOKEN_EXPIRATION_YEARS=40",
            "API_KEY_RATE_LIMIT=60/minute",
            "SLACK_TOKEN_SCOPES=bot,tx",
            "secret sets",
            "password sets",
            "service secret runs image vault on backend-net",
            "service password runs image mariadb on backend-net",
        ] {
            assert!(out.contains(shown), "{what}: `{shown}` not shown\n{out}");
        }
    }
    // Snippets show the lines as written.
    let (_, text, _) = rampart(d.path(), &["check", "--policy", "policies", "repo"]);
    for line in [
        "MYSQL_RANDOM_ROOT_PASSWORD: \"true\"",
        "MAIL_PASSWORD: \"null\"",
        "MAIL_PASSWORD=null",
        "  secret:",
        "image: vault",
    ] {
        assert!(text.contains(line), "`{line}` not in a snippet\n{text}");
    }
}

/// Planted secrets: every value must stay out of every output.
const PLANTED: &[&str] = &[
    "hunter2",
    "hunter22",
    "Yp4-very-secret",
    "Dp5-secret-pw",
    "ftVUOP6G7twvORBa",
    "i+nxqzyTq",
    "Rq9-cli-pw",
    "Mx7-admin-pw",
    "Qs3-dsn-token-0123",
    "Kp2-env-pass",
];

const SECRETS_COMPOSE: &str = r#"services:
  secret:
    image: vault
    command: redis-server --requirepass hunter2
  app:
    image: app:1
    environment:
      DATABASE_URL: postgres://app:hunter22@db/app
      YOURLS_PASS: Yp4-very-secret
      DB_PASSWD: Dp5-secret-pw
      ENCRYPTION_KEY: ftVUOP6G7twvORBa
      COOKIE_SALT: i+nxqzyTq
  cache:
    image: redis:7
    command: ["redis-server", "--appendonly", "yes"]
    healthcheck:
      test: ["CMD", "redis-cli", "-a", "Rq9-cli-pw", "ping"]
  db:
    image: mysql:8
    healthcheck:
      test: mysqladmin ping -h localhost -uroot -pMx7-admin-pw
"#;

const SECRETS_DOTENV: &str =
    "SENTRY_DSN=https://Qs3-dsn-token-0123@o0.ingest.sentry.io/1\nSMTP_PASS=Kp2-env-pass\n";

fn secrets_tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    write(&repo, "docker-compose.yml", SECRETS_COMPOSE);
    write(&repo, ".env", SECRETS_DOTENV);
    write(&repo, ".gitignore", ".env\n");
    write(d.path(), "policies/show.rampart", SHOW_ALL);
    d
}

#[test]
fn literal_secrets_in_urls_commands_and_new_names_are_findings() {
    let d = secrets_tree();
    let found = report(d.path());
    let at = |policy: &str, line: u64| found.iter().any(|(p, l, _)| p == policy && *l == line);
    // `command: redis-server --requirepass hunter2`
    assert!(at("compose.no-literal-secrets", 4), "{found:#?}");
    // `DATABASE_URL: postgres://app:hunter22@db/app`
    assert!(at("compose.no-literal-secrets", 8), "{found:#?}");
    // Names ending in _PASS and _PASSWD, ENCRYPTION_KEY, a _SALT.
    for line in 9..=12 {
        assert!(
            at("compose.no-literal-secrets", line),
            "line {line}: {found:#?}"
        );
    }
    // redis-cli -a in a healthcheck (list form), mysqladmin -p (string form).
    assert!(at("compose.no-literal-secrets", 17), "{found:#?}");
    assert!(at("compose.no-literal-secrets", 21), "{found:#?}");
    // `--appendonly yes` is no secret.
    assert!(!at("compose.no-literal-secrets", 15), "{found:#?}");
    // `.env`: a name ending in _PASS is a secret (too short).
    assert!(at("dotenv.secret-min-length", 2), "{found:#?}");
    let messages: Vec<&str> = found.iter().map(|(_, _, m)| m.as_str()).collect();
    assert!(
        messages.contains(&"the `command` of `secret` passes a literal secret to `--requirepass`"),
        "{messages:#?}"
    );
    assert!(
        messages.contains(&"`DATABASE_URL` of `app` holds a URL with a literal password"),
        "{messages:#?}"
    );
}

#[test]
fn planted_secrets_never_appear_and_identifiers_do() {
    let d = secrets_tree();
    for (what, out) in every_format(d.path()) {
        for s in PLANTED {
            assert!(!out.contains(s), "{what}: `{s}` printed\n{out}");
        }
        // The URL is shown with its password masked; identifiers are not masked.
        assert!(out.contains("postgres://app:****@db/app"), "{what}\n{out}");
        for shown in [
            "the `command` of `secret`",
            "service secret runs image vault on default",
            "DATABASE_URL",
            "YOURLS_PASS",
            "--requirepass",
        ] {
            assert!(out.contains(shown), "{what}: `{shown}` not shown\n{out}");
        }
    }
    // The text snippets mask the values where they are written, nothing else.
    let (_, text, _) = rampart(d.path(), &["check", "--policy", "policies", "repo"]);
    for line in [
        "command: redis-server --requirepass *******",
        "YOURLS_PASS: ***************",
        "\"redis-cli\", \"-a\", \"**********\"",
        "-uroot -p************",
        "image: vault",
    ] {
        assert!(text.contains(line), "`{line}` not in a snippet\n{text}");
    }
}
