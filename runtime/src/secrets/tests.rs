//! Table-driven tests built from real files (../shared/corpus: Haxxnet
//! Compose-Examples, awesome-compose, getsentry, mailcow, supabase, immich,
//! hobby repositories) and the cases named in issue 11.

use super::*;

/// (name, secret-like?, where it was seen)
const NAMES: &[(&str, bool, &str)] = &[
    ("POSTGRES_PASSWORD", true, "everywhere"),
    (
        "GF_SECURITY_ADMIN_PASSWORD",
        true,
        "awesome-compose prometheus-grafana",
    ),
    (
        "MYSQL_ROOT_PASSWORD",
        true,
        "awesome-compose wordpress-mysql",
    ),
    ("DB_PASSWD", true, "awesome-compose gitea-postgres"),
    ("DB_ROOT_PASSWD", true, "Haxxnet seafile"),
    ("CHEVERETO_DB_PASS", true, "Haxxnet chevereto"),
    ("YOURLS_PASS", true, "Haxxnet yourls"),
    ("DB_USER_PASS", true, "hobby .env"),
    ("ADMIN_USER_PWD", true, "Haxxnet plausible"),
    ("WEBPASSWORD", true, "Haxxnet pi-hole"),
    ("DBPASS", true, "hobby .env"),
    ("ENCRYPTION_KEY", true, "hobby .env"),
    ("DATABASE_ENCRYPTION_KEY", true, "hobby .env"),
    ("API_KEY_ENCRYPTION_KEY", true, "hobby .env"),
    ("COOKIE_ENCRYPTION_SALT", true, "hobby .env"),
    ("ENCRYPTION_SALT", true, "hobby .env"),
    ("WIREGUARD_PRIVATE_KEY", true, "Haxxnet gluetun"),
    ("SENTRY_DSN", true, "issue 11"),
    ("APP_KEY", true, "Laravel .env"),
    ("JWT_KEY", true, "Haxxnet mirotalk"),
    ("CLAUDE_AI_SESSION_KEY", true, "hobby .env"),
    ("BW_INSTALLATION_KEY", true, "Haxxnet bitwarden"),
    ("SECRET_KEY_BASE", true, "Rails"),
    ("AWS_SECRET_ACCESS_KEY", true, "getsentry"),
    (
        "AWS_SECRET_KEY",
        true,
        "getsentry vroom (beside AWS_ACCESS_KEY)",
    ),
    ("STORAGE_SECRET_KEY", true, "Haxxnet rxresume (MinIO)"),
    ("MINIO_SECRET_KEY", true, "MinIO"),
    (
        "AZURE_STORAGE_ACCESS_KEY",
        true,
        "Azure: the storage account key",
    ),
    ("PUSHER_APP_SECRET", true, "Pusher: the signing half"),
    ("SOKETI_DEFAULT_APP_SECRET", true, "07-Pixel docker-caddy"),
    ("TS_AUTHKEY", true, "Tailscale"),
    ("REDISCLI_AUTH", true, "bitnami redis"),
    ("AUTH_KEY", true, "an auth key"),
    ("DRONE_RPC_SECRET", true, "Haxxnet drone"),
    (
        "PASSWORD_HASH",
        true,
        "Haxxnet wg-easy (a bcrypt hash of the admin password)",
    ),
    ("sonar.jdbc.password", true, "Haxxnet sonarqube"),
    ("initial_password", true, "Haxxnet onedev"),
    (
        "BASIC_AUTH",
        true,
        "Haxxnet nginx (user:password or a switch)",
    ),
    ("REDIS_AUTH", true, "STDLIB.md"),
    ("AuthCode", true, "camelCase"),
    ("dbPassword", true, "camelCase"),
    ("VAULT_SECRET_ID", true, "Vault AppRole"),
    ("OAUTH2_CLIENT_SECRET", true, "STDLIB.md"),
    ("GITHUB_TOKEN", true, "STDLIB.md"),
    ("apikey", true, "STDLIB.md"),
    // Not secrets: settings about a secret.
    (
        "AWS_ACCESS_KEY",
        false,
        "getsentry vroom: the key id beside AWS_SECRET_KEY (an earlier row said secret)",
    ),
    (
        "STORAGE_ACCESS_KEY",
        false,
        "Haxxnet rxresume: MinIO's key id beside STORAGE_SECRET_KEY",
    ),
    ("MINIO_ACCESS_KEY", false, "MinIO: the root user"),
    (
        "PUSHER_APP_KEY",
        false,
        "Coolify: the Pusher key is sent to browsers",
    ),
    (
        "SOKETI_DEFAULT_APP_KEY",
        false,
        "07-Pixel docker-caddy, Coolify",
    ),
    ("VITE_PUSHER_APP_KEY", false, "Laravel frontends"),
    ("REVERB_APP_KEY", false, "Laravel Reverb"),
    (
        "NTFY_AUTH_DEFAULT_ACCESS",
        false,
        "mathewcsims ntfy: `deny-all`",
    ),
    (
        "ZULIP_AUTH_BACKENDS",
        false,
        "zulip docker-zulip: `EmailAuthBackend,…`",
    ),
    (
        "SETTING_AUTH_LDAP_USER_SEARCH",
        false,
        "zulip docker-zulip: an LDAP query",
    ),
    (
        "SETTING_AUTH_LDAP_USER_ATTR_MAP",
        false,
        "zulip docker-zulip: a JSON map",
    ),
    ("TS_AUTH_ONCE", false, "mathewcsims litellm: a switch"),
    (
        "MYSQL_RANDOM_ROOT_PASSWORD",
        false,
        "Haxxnet passbolt: the secure setting",
    ),
    ("MARIADB_RANDOM_ROOT_PASSWORD", false, "mariadb image"),
    ("MYSQL_ALLOW_EMPTY_PASSWORD", false, "07-Pixel docker-caddy"),
    ("CORS_ALLOW_CREDENTIALS", false, "issue 11"),
    ("PASSWORD_HASH_ALGO", false, "issue 11"),
    ("PASSWORD_COMPLEXITY", false, "issue 11"),
    ("GRAFANA_LOCAL_AUTH", false, "issue 11"),
    ("DRONE_GIT_ALWAYS_AUTH", false, "Haxxnet drone"),
    ("DISABLE_EMAIL_AUTH", false, "Haxxnet rxresume"),
    ("SESSION_COOKIE_NAME", false, "issue 11"),
    ("AUTH_COOKIE_NAME", false, "issue 11"),
    (
        "GITHUB_OAUTH_CLIENT_ID",
        false,
        "issue 11: a public client id",
    ),
    ("KEYCLOAK_AUTH_CLIENT_ID", false, "issue 11"),
    (
        "AWS_ACCESS_KEY_ID",
        false,
        "the public half of an AWS key pair",
    ),
    ("SLACK_TOKEN_SCOPES", false, "issue 11 (`bot,tx`)"),
    ("API_KEY_RATE_LIMIT", false, "issue 11"),
    ("API_TOKEN_EXPIRATION_YEARS", false, "issue 11"),
    ("JWT_TOKEN_TTL", false, "issue 11"),
    ("JWT_EXPIRES_IN", false, "issue 11 (_EXPIR*)"),
    ("TOKEN_EXPIRATION", false, "issue 11"),
    ("PASSWORD_RESET_ATTEMPTS", false, "issue 11"),
    ("SECRET_ENABLE_FILE_UPLOAD", false, "Haxxnet hemmelig"),
    ("SECRET_DISABLE_USERS", false, "Haxxnet hemmelig"),
    ("SECRET_LOCAL_HOSTNAME", false, "Haxxnet hemmelig"),
    ("SECRET_FILE_SIZE", false, "Haxxnet hemmelig"),
    ("SECRET_MAX_TEXT_SIZE", false, "Haxxnet hemmelig"),
    ("SECRET_FORCED_LANGUAGE", false, "Haxxnet hemmelig"),
    ("TOKEN_AUTH_ENABLED", false, "issue 11 (*_ENABLED)"),
    ("PASSWORD_MIN_LENGTH", false, "settings"),
    ("MAILCOW_PASS_SCHEME", false, "mailcow"),
    (
        "OG_OIDC_CLIENT_KEY",
        false,
        "Haxxnet opengist: the OIDC client id",
    ),
    ("CHATGPT_MAX_TOKENS", false, "hobby .env"),
    ("POSTGRES_PASSWORD_FILE", false, "STDLIB.md"),
    ("AUTHELIA_JWT_SECRET_FILE", false, "authelia"),
    ("POSTGRES_USER", false, "STDLIB.md"),
    ("BASIC_AUTH_USERNAME", false, "Haxxnet nginx"),
    ("REDIS_HOST", false, "STDLIB.md"),
    ("REDIS_PORT", false, "STDLIB.md"),
    ("POSTGRES_HOST_AUTH_METHOD", false, "postgres image"),
    ("BETTER_AUTH_URL", false, "hobby .env"),
    ("AUTHENTICATION_GUARD", false, "Laravel"),
    ("AUTHENTIK_VERSION", false, "Haxxnet authentik"),
    ("X_AUTHELIA_CONFIG", false, "authelia"),
    ("OAUTH_CLIENT_ID", false, "STDLIB.md"),
    ("N8N_BASIC_AUTH_ACTIVE", false, "n8n"),
    ("ACCESS_TOKEN_LIFETIME", false, "simplejwt"),
    ("PWD_HINT", false, "a hint"),
    ("GPG_KEY", false, "python image: a public key fingerprint"),
    ("KEYBOARD", false, "Haxxnet webtop"),
    ("DKR_RUN_PASSPORT_INSTALL", false, "hobby .env"),
    ("BYPASS_CACHE", false, "not PASS"),
    ("authorName", false, "camelCase"),
    ("dbPasswordFile", false, "camelCase"),
    ("IMAGE", false, "a plain name"),
];

#[test]
fn names() {
    for (name, secret, seen) in NAMES {
        assert_eq!(is_secret_name(name), *secret, "{name} ({seen})");
    }
}

/// (value, shape, where it was seen)
const VALUES: &[(&str, Shape, &str)] = &[
    ("hunter2hunter2", Shape::Secret, ""),
    (
        "postgres",
        Shape::Secret,
        "awesome-compose: a weak password is a password",
    ),
    ("8aff725d2e16ef31fbc42", Shape::Secret, "Haxxnet drone"),
    ("CyMASGO+", Shape::Secret, "hobby COOKIE_ENCRYPTION_SALT"),
    (
        "base64:Npczl7vKB0Y3AlNboNTD5f71bYVaAuVB8ay4UhZ3My0=",
        Shape::Secret,
        "Laravel APP_KEY",
    ),
    (
        "/K7MDENG+bPxRfiCYEXAMPLEKEY0a1b2c3",
        Shape::Secret,
        "base64 starting with a slash",
    ),
    (
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        Shape::Secret,
        "AWS secret key with slashes",
    ),
    (
        "$$2a$$12$$FGHsQAGm9N9sxJ54RiWiMumk2QkRVjyueCv9mRbrdc1f8y6pN36mq",
        Shape::Secret,
        "Haxxnet wg-easy bcrypt",
    ),
    (
        "<PRIVKEY>",
        Shape::Secret,
        "a placeholder is reported as one",
    ),
    (
        "deport-silver-showcase-pusher-radiantly",
        Shape::Secret,
        "Haxxnet archivebox passphrase",
    ),
    ("12345678", Shape::Secret, "a numeric password"),
    ("postgres://app:hunter22@db/app", Shape::Secret, "issue 11"),
    (
        "https://0123456789abcdef0123@o0.ingest.sentry.io/1",
        Shape::Secret,
        "a Sentry DSN",
    ),
    ("", Shape::Empty, ""),
    ("\"\"", Shape::Empty, ""),
    ("null", Shape::Null, "Laravel MAIL_PASSWORD=null"),
    (
        "none",
        Shape::Null,
        "Haxxnet greenbone DB_PASSWORD=\"none\"",
    ),
    ("\"none\"", Shape::Null, ""),
    (
        "invalid",
        Shape::Null,
        "mailcow API_KEY=${API_KEY:-invalid}",
    ),
    (
        "postgresql://${PG_USER:-linkwarden}:${PG_PASS:-linkwarden}@postgres:5432/db",
        Shape::Url,
        "Haxxnet linkwarden: the password is a reference",
    ),
    (
        "true",
        Shape::Boolean,
        "MYSQL_RANDOM_ROOT_PASSWORD: \"true\"",
    ),
    ("False", Shape::Boolean, "Haxxnet BASIC_AUTH=False"),
    ("yes", Shape::Boolean, ""),
    ("40", Shape::Number, "API_TOKEN_EXPIRATION_YEARS=40"),
    ("1", Shape::Number, "MYSQL_ALLOW_EMPTY_PASSWORD: 1"),
    ("3600", Shape::Number, ""),
    ("0.5", Shape::Number, ""),
    ("30s", Shape::Duration, ""),
    ("1h30m", Shape::Duration, ""),
    ("7d", Shape::Duration, ""),
    ("15 minutes", Shape::Duration, ""),
    ("PT15M", Shape::Duration, ""),
    ("10mb", Shape::Size, ""),
    ("512MiB", Shape::Size, ""),
    ("60/minute", Shape::Rate, "API_KEY_RATE_LIMIT=60/minute"),
    ("100/s", Shape::Rate, ""),
    ("10 per hour", Shape::Rate, ""),
    (
        "/run/secrets/key.json",
        Shape::Path,
        "GOOGLE_APPLICATION_CREDENTIALS",
    ),
    ("/run/secrets/db", Shape::Path, ""),
    (
        "%kernel.project_dir%/config/jwt/private.pem",
        Shape::Path,
        "Haxxnet koillection JWT_SECRET_KEY",
    ),
    ("./secrets/db_password.txt", Shape::Path, ""),
    ("config/jwt/private.pem", Shape::Path, ""),
    ("bot,tx", Shape::WordList, "issue 11 …_TOKEN_SCOPES"),
    ("read:user repo", Shape::WordList, "OAuth scopes"),
    (
        "https://login.example.com:8080",
        Shape::Url,
        "authelia AUTHELIA_URL",
    ),
    (
        "postgres://app:${DB_PASSWORD}@db/app",
        Shape::Url,
        "the password is a reference",
    ),
    ("http://localhost:3000", Shape::Url, ""),
    (
        "0.0.0.0",
        Shape::Address,
        "Haxxnet hemmelig SECRET_LOCAL_HOSTNAME",
    ),
    ("redis:6379", Shape::Address, ""),
    ("${API_TOKEN}", Shape::Reference, ""),
    ("$API_TOKEN", Shape::Reference, ""),
    ("$$REDIS_PASSWORD", Shape::Reference, ""),
    ("$(cat /run/secrets/token)", Shape::Reference, ""),
    ("{{ .Env.TOKEN }}", Shape::Reference, ""),
    ("%env(APP_SECRET)%", Shape::Reference, "Symfony"),
];

#[test]
fn values() {
    for (value, shape, seen) in VALUES {
        assert_eq!(value_shape(value), *shape, "`{value}` ({seen})");
    }
}

#[test]
fn run_wide_patterns_and_spans() {
    // Long generated secrets are searched for everywhere.
    for v in [
        "Sa1-Eq4Rt9Qm",
        "hunter22",
        "8aff725d2e16ef31fbc42",
        "deport-silver-showcase-pusher-radiantly",
    ] {
        assert!(is_run_wide_secret(v), "{v}");
    }
    // Short values, plain words and non-secrets are not: they would mask
    // service names (`postgres`, `nextcloud`), image names and ordinary words.
    for v in [
        "true",
        "secret",
        "password",
        "postgres",
        "nextcloud",
        "ROOTPW",
        "db_dev",
        "q9Z",
        "hunt",
        "60/minute",
        "null",
        "/run/secrets/x",
    ] {
        assert!(!is_run_wide_secret(v), "{v}");
    }
    // Masked where written: any secret-shaped value, numbers and word lists.
    for v in ["q9Z", "postgres", "1234", "abc,def"] {
        assert!(masks_span(v), "{v}");
    }
    for v in [
        "true",
        "null",
        "",
        "${X}",
        "/run/secrets/x",
        "60/minute",
        "30s",
    ] {
        assert!(!masks_span(v), "{v}");
    }
}

fn found(cmd: &str) -> Vec<(String, String)> {
    command_secrets(cmd)
        .into_iter()
        .map(|s| (s.option, cmd[s.range].to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn command_lines() {
    // (command, secrets found as (option, value))
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("redis-server --requirepass hunter2", &[("--requirepass", "hunter2")]),
        ("redis-server --appendonly yes --requirepass \"s3cr3t-Pw\"", &[("--requirepass", "s3cr3t-Pw")]),
        // List form as written in the file.
        ("[\"redis-server\", \"--requirepass\", \"hunter2\"]", &[("--requirepass", "hunter2")]),
        ("app --password=Xk9vT2qLm", &[("--password", "Xk9vT2qLm")]),
        ("app --db-password Xk9vT2qLm --api-key abcdef123", &[("--db-password", "Xk9vT2qLm"), ("--api-key", "abcdef123")]),
        ("mysqladmin ping -h localhost -u root -proot", &[("-p", "root")]),
        ("mysql -u root -p mydb", &[]),
        ("redis-cli -a hunter2 ping", &[("-a", "hunter2")]),
        ("mongosh -u root -p example --eval db.adminCommand('ping')", &[("-p", "example")]),
        ("curl -fsS -u admin:Xk9vT2qLm http://localhost/health", &[("-u", "Xk9vT2qLm")]),
        ("sh -c \"PGPASSWORD=Xk9vT2qLm psql -h db\"", &[("PGPASSWORD=", "Xk9vT2qLm")]),
        ("[\"CMD-SHELL\", \"PGPASSWORD='Xk9vT2qLm' pg_isready\"]", &[("PGPASSWORD=", "Xk9vT2qLm")]),
        // Haxxnet plane: a reference with a default is no literal.
        ("[\"CMD-SHELL\", \"PGPASSWORD='${PSQL_PASS:-password}' pg_isready\"]", &[]),
        // awesome-compose nginx-golang-mysql.
        ("['CMD-SHELL', 'mysqladmin ping -h 127.0.0.1 --password=\"$$(cat /run/secrets/db-password)\" --silent']", &[]),
        // References, switches and non-password options.
        ("/bin/sh -c \"redis-server --requirepass $$REDIS_PASSWORD\"", &[]),
        ("redis-server --requirepass ${REDIS_PASSWORD}", &[]),
        ("mysqladmin ping -p$$MYSQL_ROOT_PASSWORD", &[]),
        ("app --token-file /run/secrets/token --password-file=/run/secrets/pw", &[]),
        ("app --auth true -p 8080", &[]),
        ("redis-server --appendonly yes", &[]),
        ("postgres -c max_connections=200 -p 5432", &[]),
    ];
    for (cmd, want) in cases {
        assert_eq!(found(cmd), pairs(want), "{cmd}");
    }
}

#[test]
fn url_credentials_are_found() {
    let t = "proxy_pass http://admin:Rt6Yu7Io8Pq9@backend; x https://ghp_0123456789abcdef@github.com/a ssh://git@h/ p://u:@h";
    let found: Vec<&str> = url_credentials(t).into_iter().map(|r| &t[r]).collect();
    assert_eq!(found, ["Rt6Yu7Io8Pq9", "ghp_0123456789abcdef"]);
    let t = "postgres://app:${DB_PASSWORD}@db/app mysql://u:hunter22@db/x";
    let found: Vec<&str> = literal_url_credentials(t)
        .into_iter()
        .map(|r| &t[r])
        .collect();
    assert_eq!(found, ["hunter22"]);
}

#[test]
fn dummy_urls() {
    // (value, dummy?, where it was seen)
    let cases: &[(&str, bool, &str)] = &[
        (
            "\"postgresql://placeholder:placeholder@localhost:5432/placeholder\"",
            true,
            "hoppscotch prod.Dockerfile",
        ),
        (
            "postgresql://user:pass@localhost:5432/dummy",
            true,
            "umami Dockerfile",
        ),
        (
            "postgresql://build:build@localhost:5432/build",
            true,
            "a Next.js Dockerfile: the user name repeated",
        ),
        (
            "postgresql://johndoe:randompassword@localhost:5432/mydb",
            true,
            "Prisma's documented example",
        ),
        ("mysql://dummy:dummy@127.0.0.1:3306/dummy", true, ""),
        // A real-looking password, or another host: not a dummy.
        (
            "postgresql://app:Xk9vT2qLm8@localhost:5432/app",
            false,
            "a real password on the loopback host",
        ),
        (
            "postgresql://postgres:postgres@db:5432/mydb?schema=public",
            false,
            "a node Dockerfile: the compose stack's database",
        ),
        (
            "postgresql://postgres:Qx7LmNp2RtYv9WzKa4BcDe@shuttle.proxy.rlwy.net:41247/railway",
            false,
            "a Railway URL (shape of a real one, password replaced)",
        ),
        (
            "postgresql://user:pass@localhost/a postgres://u:Xk9vT2qLm8@db/b",
            false,
            "one real password among dummies",
        ),
        ("postgresql://localhost:5432/app", false, "no credentials"),
        (
            "postgres://app:${DB_PASSWORD}@localhost/app",
            false,
            "a reference",
        ),
    ];
    for (value, dummy, seen) in cases {
        assert_eq!(is_dummy_url(value), *dummy, "`{value}` ({seen})");
    }
}

#[test]
fn plain_words() {
    for w in [
        "postgres",
        "ROOTPW",
        "Secret",
        "db_dev",
        "my-app",
        "nextcloud",
    ] {
        assert!(is_plain_word(w), "{w}");
    }
    for w in [
        "hunter22",
        "Passw0rd",
        "MySecureLoginPassword",
        "deport-silver-showcase-pusher",
        "q9Z!",
    ] {
        assert!(!is_plain_word(w), "{w}");
    }
}

#[test]
fn weak_values() {
    let weak: Vec<String> = WEAK_VALUES.iter().map(|s| s.to_string()).collect();
    assert!(is_weak_secret(
        "admin123_CHANGE_ME",
        "POSTGRES_PASSWORD",
        &weak,
        16
    ));
    assert!(is_weak_secret(
        "change_this_redis_secret_now",
        "REDIS_PASSWORD",
        &weak,
        16
    ));
    assert!(is_weak_secret("short1", "X_SECRET", &weak, 16));
    assert!(is_weak_secret("X_SECRET", "x_secret", &weak, 1));
    assert!(is_weak_secret(
        "sk-your-key-goes-here-1234",
        "OPENAI_API_KEY",
        &weak,
        16
    ));
    assert!(!is_weak_secret("", "X_SECRET", &weak, 16));
    assert!(!is_weak_secret(
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "X_SECRET",
        &weak,
        16
    ));
}

#[test]
fn redaction() {
    assert_eq!(redact("admin123"), "ad****23");
    assert_eq!(redact("cdb_secure_password"), "cd****rd");
    assert_eq!(redact("abc"), "********");
    assert_eq!(redact("ééééééééé").chars().count(), 8);
}

#[test]
fn every_secret_word_holds_a_mark() {
    // The quick refusal of `is_secret_name` must never refuse a secret word.
    let words = SECRET_WORDS
        .iter()
        .chain(SECRET_WORD_ENDINGS)
        .map(|w| (*w).to_string())
        .chain(KEY_QUALIFIERS.iter().map(|q| format!("{q}KEY")))
        .chain(PASS_PREFIXES.iter().map(|p| format!("{p}PASS")))
        .chain(["AUTH".to_string(), "ACCESS_KEY".to_string()]);
    for w in words {
        assert!(may_be_secret_name(&w), "{w}");
        assert!(may_be_secret_name(&w.to_ascii_lowercase()), "{w}");
    }
    for plain in ["image", "listen", "PATH", "server_name", "HOSTNAME"] {
        assert!(!may_be_secret_name(plain), "{plain}");
        assert!(!is_secret_name(plain), "{plain}");
    }
    assert!(is_secret_name("db_password") && is_secret_name("webPassword"));
}

#[test]
fn lines_without_a_mark_hold_no_command_secret() {
    // The quick refusal of `command_secrets` keeps every case it finds.
    for line in [
        "mysql -uroot -pS3cretPassw0rd",
        "/usr/bin/redis-cli -a S3cretPassw0rd ping",
        "mongosh -p S3cretPassw0rd",
        "curl -u admin:S3cretPassw0rd https://x",
        "--requirepass S3cretPassw0rd",
        "DB_PASSWORD=S3cretPassw0rd ./run",
    ] {
        assert!(may_hold_command_secret(line), "{line}");
        assert!(!command_secrets(line).is_empty(), "{line}");
    }
    for line in [
        "  - ./data:/data",
        "listen 80;",
        "image: nginx:1.25",
        "ping -c 1 db",
    ] {
        assert!(!may_hold_command_secret(line), "{line}");
    }
}

#[test]
fn run_wide_given_a_shape_is_run_wide_without() {
    for v in [
        "",
        "abc",
        "S3cr3t-Pa55word!",
        "'S3cr3t-Pa55word!'",
        "\"'S3cr3t-Pa55word!'\"",
        "\"'x'\"",
        "changeme",
        "123456789",
        "${DB_PASSWORD}",
        "'${DB_PASSWORD}'",
        "postgres://u:Pa55w0rdXYZ@db/app",
        "true",
        "a,b,c",
        "/run/secrets/db",
        "tok_9f8e7d6c5b4a",
    ] {
        assert_eq!(
            is_run_wide_given(v, Some(value_shape(v))),
            is_run_wide_secret(v),
            "{v}"
        );
        assert_eq!(masks_shape(value_shape(v)), masks_span(v), "{v}");
    }
}
