//! Cross-file behaviour end to end: compose `build:` → the Dockerfile it builds,
//! Dockerfile → its context's `.dockerignore`, env files → `.gitignore`, and the
//! seed 000 Dockerfile and env files (000_ecf7841f01b2b484.txt § Execution-Service
//! Image, § Environment Files).

use std::fs;
use std::path::Path;

use rampart_tests::write;
use rampart_tests::{findings, json, rampart};

/// (policy, file, line, message) of every finding of `rampart check --format json <args>`.
fn check(dir: &Path, args: &[&str]) -> (Vec<(String, String, u64, String)>, String) {
    let mut argv = vec!["check", "--format", "json"];
    argv.extend_from_slice(args);
    let (code, out, err) = rampart(dir, &argv);
    assert!(code == 0 || code == 1, "exit {code}: {out}{err}");
    let v = json(&out);
    assert_eq!(
        v["errors"].as_array().map_or(0, Vec::len),
        0,
        "input errors: {out}"
    );
    let files: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    let f = findings(&v)
        .into_iter()
        .zip(files)
        .map(|((p, l, m), file)| (p, file, l, m))
        .collect();
    (f, out)
}

fn has(f: &[(String, String, u64, String)], policy: &str, file: &str, line: u64) -> bool {
    f.iter()
        .any(|(p, fl, l, _)| p == policy && fl == file && *l == line)
}

fn any(f: &[(String, String, u64, String)], policy: &str, file: &str) -> bool {
    f.iter().any(|(p, fl, ..)| p == policy && fl == file)
}

/// The execution-service Dockerfile before seed 000's fix, reconstructed from the diff.
const SEED_000_BEFORE: &str = r#"FROM python:3.11-slim

WORKDIR /app

# Copy all files
COPY . /app

# Install dependencies
RUN pip install --no-cache-dir -r requirements.txt

# Expose port
EXPOSE 8003

# Start service
CMD ["python", "-u", "service.py"]
"#;

/// The same Dockerfile after the fix.
const SEED_000_AFTER: &str = r#"FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app

# System-Abhängigkeiten (für Healthcheck & Psycopg2)
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        curl \
        build-essential \
        libpq-dev \
    && rm -rf /var/lib/apt/lists/*

# Python Requirements
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# Service-Code kopieren
COPY . /app

# Non-Root User
RUN useradd --create-home --uid 1000 execuser \
    && chown -R execuser:execuser /app
USER execuser

# Exposed Port
EXPOSE 8003

# Start Kommando
CMD ["python", "-u", "service.py"]
"#;

const DOCKERIGNORE: &str = ".env\n.env.*\nsecrets/\n.git\n";

#[test]
fn seed_000_execution_dockerfile_before_and_after() {
    let d = tempfile::tempdir().unwrap();
    let df = "backoffice/services/execution_service/Dockerfile";
    write(d.path(), df, SEED_000_BEFORE);
    write(
        d.path(),
        "backoffice/services/execution_service/requirements.txt",
        "flask\n",
    );
    let (f, _) = check(d.path(), &[]);
    // Runs as root: no USER, pointed at the FROM line.
    assert!(has(&f, "dockerfile.non-root-user", df, 1), "{f:#?}");
    // `COPY . /app` without a .dockerignore.
    assert!(
        has(&f, "dockerfile.dockerignore-excludes-secrets", df, 6),
        "{f:#?}"
    );
    assert!(!any(&f, "dockerfile.no-build-tools-in-final-stage", df));

    let d = tempfile::tempdir().unwrap();
    write(d.path(), df, SEED_000_AFTER);
    write(
        d.path(),
        "backoffice/services/execution_service/.dockerignore",
        DOCKERIGNORE,
    );
    let (f, _) = check(d.path(), &[]);
    assert!(!any(&f, "dockerfile.non-root-user", df), "{f:#?}");
    assert!(
        !any(&f, "dockerfile.dockerignore-excludes-secrets", df),
        "{f:#?}"
    );
    assert!(!any(&f, "dockerfile.apt-no-install-recommends", df));
    assert!(!any(&f, "dockerfile.apt-lists-cleaned", df));
    // build-essential (and libpq-dev) stay in the final stage: the `apt-get install` line.
    let tools: Vec<_> = f
        .iter()
        .filter(|(p, fl, ..)| p == "dockerfile.no-build-tools-in-final-stage" && fl == df)
        .collect();
    assert_eq!(tools.len(), 1, "{f:#?}");
    assert_eq!(tools[0].2, 10);
    assert!(tools[0].3.contains("build-essential"), "{}", tools[0].3);

    // The same fixed image with the seed's context but no .dockerignore is still flagged.
    fs::remove_file(
        d.path()
            .join("backoffice/services/execution_service/.dockerignore"),
    )
    .unwrap();
    let (f, _) = check(d.path(), &[]);
    assert!(
        has(&f, "dockerfile.dockerignore-excludes-secrets", df, 21),
        "{f:#?}"
    );
}

#[test]
fn seed_000_env_files() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        ".env",
        "REDIS_PASSWORD=\nGRAFANA_PASSWORD=admin123_CHANGE_ME\nPOSTGRES_PASSWORD=cdb_secure_password_CHANGE_ME\n",
    );
    write(
        d.path(),
        "after/.env",
        "REDIS_PASSWORD=change_this_redis_secret_now\nGRAFANA_PASSWORD=change_this_grafana_secret_now\nPOSTGRES_PASSWORD=change_this_postgres_secret_now\n",
    );
    write(
        d.path(),
        "backoffice/.env.example",
        "# Redis\nREDIS_HOST=redis\nREDIS_PORT=6379\nREDIS_PASSWORD=\nREDIS_DB=0\n\n# Monitoring\nPROMETHEUS_PORT=9090\nGRAFANA_PORT=3000\nGRAFANA_PASSWORD=\n\n# Datenbank\nPOSTGRES_HOST=cdb_postgres\nPOSTGRES_PORT=5432\nPOSTGRES_USER=cdb_user\nPOSTGRES_PASSWORD=\nPOSTGRES_DB=claire_de_binare\n",
    );
    let (f, out) = check(d.path(), &[]);
    assert!(has(&f, "dotenv.no-weak-secrets", ".env", 2), "{f:#?}");
    assert!(has(&f, "dotenv.no-weak-secrets", ".env", 3), "{f:#?}");
    // An empty value is "required, not set", not weak.
    assert!(!has(&f, "dotenv.no-weak-secrets", ".env", 1));
    for line in 1..=3 {
        assert!(
            has(&f, "dotenv.no-weak-secrets", "after/.env", line),
            "{f:#?}"
        );
    }
    // The placeholders are not reported twice.
    assert!(
        !f.iter().any(|(p, ..)| p == "dotenv.secret-min-length"),
        "{f:#?}"
    );
    // backoffice/.env.example leaves every secret empty.
    assert!(
        !f.iter().any(|(_, fl, ..)| fl == "backoffice/.env.example"),
        "{f:#?}"
    );
    // No value is printed.
    for v in ["admin123", "cdb_secure_password", "change_this_redis"] {
        assert!(!out.contains(v), "{v} leaked: {out}");
    }
    let (_, text, _) = rampart(d.path(), &["check"]);
    for v in ["admin123", "CHANGE_ME", "change_this"] {
        assert!(!text.contains(v), "{v} leaked into the text report: {text}");
    }
}

#[test]
fn example_with_values_is_flagged_and_names_the_variable() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        ".env.example",
        "POSTGRES_USER=app\nPOSTGRES_PASSWORD=changeme\nSTRIPE_API_KEY=rk_live_51H8xQ2eZvKYlo2C0abcdefghijkl\n",
    );
    let (f, out) = check(d.path(), &[]);
    assert!(has(
        &f,
        "dotenv.example-has-no-secret-values",
        ".env.example",
        2
    ));
    assert!(has(
        &f,
        "dotenv.example-has-no-secret-values",
        ".env.example",
        3
    ));
    assert!(!f.iter().any(|(p, ..)| p == "dotenv.no-weak-secrets"));
    assert!(!out.contains("rk_live_51H8"), "{out}");
}

#[test]
fn compose_non_root_user_follows_the_built_dockerfile() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  api:\n    build: ./api\n  worker:\n    build:\n      context: .\n      dockerfile: worker/Dockerfile\n  job:\n    build: { context: ./job, target: runtime }\n",
    );
    // Ends in a non-root USER.
    write(
        d.path(),
        "api/Dockerfile",
        "FROM python:3.11-slim\nRUN useradd -u 1000 app\nUSER app\nHEALTHCHECK CMD curl -f http://localhost:8000/health || exit 1\nCMD [\"python\", \"app.py\"]\n",
    );
    // The only USER is in a build stage; the final stage has none.
    write(
        d.path(),
        "worker/Dockerfile",
        "FROM golang:1.22 AS build\nUSER 1000\nRUN go build -o /out/worker .\n\nFROM debian:bookworm-slim\nCOPY --from=build /out/worker /worker\nCMD [\"/worker\"]\n",
    );
    // build.target picks a stage that is not the last one.
    write(
        d.path(),
        "job/Dockerfile",
        "FROM node:20-alpine AS runtime\nUSER node\nFROM node:20-alpine AS debug\n",
    );
    let (f, _) = check(d.path(), &[]);
    let c = "docker-compose.yml";
    assert!(!has(&f, "compose.non-root-user", c, 2), "api: {f:#?}");
    assert!(has(&f, "compose.non-root-user", c, 4), "worker: {f:#?}");
    assert!(!has(&f, "compose.non-root-user", c, 8), "job: {f:#?}");
    // The Dockerfile policies agree.
    assert!(!any(&f, "dockerfile.non-root-user", "api/Dockerfile"));
    assert!(has(&f, "dockerfile.non-root-user", "worker/Dockerfile", 5));
    // Healthcheck: only api's image has one.
    assert!(!has(&f, "compose.healthcheck-defined", c, 2), "{f:#?}");
    assert!(has(&f, "compose.healthcheck-defined", c, 4));
}

#[test]
fn compose_build_context_decides_the_dockerignore() {
    // `context: .` with the Dockerfile in docker/: the root .dockerignore applies.
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "compose.yaml",
        "services:\n  app:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n",
    );
    write(
        d.path(),
        "docker/Dockerfile",
        "FROM node:20-alpine\nCOPY . /app\nUSER node\n",
    );
    write(d.path(), ".dockerignore", "node_modules\n.env*\nsecrets/\n");
    let (f, _) = check(d.path(), &[]);
    assert!(
        !any(
            &f,
            "dockerfile.dockerignore-excludes-secrets",
            "docker/Dockerfile"
        ),
        "{f:#?}"
    );
    // Without it, flagged; a .dockerignore in docker/ is not the context's.
    fs::remove_file(d.path().join(".dockerignore")).unwrap();
    write(d.path(), "docker/.dockerignore", ".env*\nsecrets/\n");
    let (f, _) = check(d.path(), &[]);
    assert!(
        has(
            &f,
            "dockerfile.dockerignore-excludes-secrets",
            "docker/Dockerfile",
            2
        ),
        "{f:#?}"
    );
    // `<Dockerfile>.dockerignore` beside the Dockerfile wins.
    write(
        d.path(),
        "docker/Dockerfile.dockerignore",
        ".env*\nsecrets/\n",
    );
    let (f, _) = check(d.path(), &[]);
    assert!(
        !any(
            &f,
            "dockerfile.dockerignore-excludes-secrets",
            "docker/Dockerfile"
        ),
        "{f:#?}"
    );
}

#[test]
fn env_files_and_gitignore() {
    let d = tempfile::tempdir().unwrap();
    let secret = "SECRET_KEY=q0Vh3Jv7Zc2m9xLw5TtRk8bYpN4sD1fA\n";
    write(d.path(), ".gitignore", "node_modules/\n");
    write(d.path(), "deploy/.env", secret);
    write(d.path(), "app/.env", secret);
    write(d.path(), "app/.gitignore", ".env\n");
    write(d.path(), ".env.example", "SECRET_KEY=\n");
    let (f, out) = check(d.path(), &[]);
    assert!(has(&f, "dotenv.git-ignored", "deploy/.env", 1), "{f:#?}");
    assert!(!any(&f, "dotenv.git-ignored", "app/.env"), "{f:#?}");
    assert!(!any(&f, "dotenv.git-ignored", ".env.example"));
    assert!(!out.contains("q0Vh3Jv7"));

    // No .gitignore anywhere: skipped.
    let d = tempfile::tempdir().unwrap();
    write(d.path(), ".env", secret);
    let (f, _) = check(d.path(), &[]);
    assert!(!f.iter().any(|(p, ..)| p == "dotenv.git-ignored"), "{f:#?}");
}

/// docs/examples: the seed 000 example trees.
#[test]
fn seed_000_examples_cross_file() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("docs")
        .join("examples");
    let (f, out) = check(&examples, &["insecure-stack"]);
    let df = "insecure-stack/services/execution/Dockerfile";
    assert!(has(&f, "dockerfile.non-root-user", df, 4), "{f:#?}");
    assert!(has(&f, "dockerfile.dockerignore-excludes-secrets", df, 9));
    assert!(has(&f, "dotenv.no-weak-secrets", "insecure-stack/.env", 4));
    assert!(has(&f, "dotenv.no-weak-secrets", "insecure-stack/.env", 5));
    assert!(!any(
        &f,
        "dotenv.example-has-no-secret-values",
        "insecure-stack/backoffice/.env.example"
    ));
    // The execution service is still root: its Dockerfile sets no USER.
    let m = f
        .iter()
        .find(|(p, fl, l, _)| {
            p == "compose.non-root-user" && fl == "insecure-stack/docker-compose.yml" && *l == 29
        })
        .expect("compose.non-root-user on execution_service");
    assert!(m.3.contains("Dockerfile"), "{}", m.3);
    assert!(!out.contains("CHANGE_ME"));

    let (f, _) = check(&examples, &["seed-000-after"]);
    let df = "seed-000-after/services/execution/Dockerfile";
    assert!(!any(&f, "dockerfile.non-root-user", df), "{f:#?}");
    assert!(!any(&f, "dockerfile.dockerignore-excludes-secrets", df));
    assert!(has(&f, "dockerfile.no-build-tools-in-final-stage", df, 14));
    // The seed's "after" values are still placeholders.
    assert!(has(&f, "dotenv.no-weak-secrets", "seed-000-after/.env", 4));
}
