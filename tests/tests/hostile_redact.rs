//! Secrets planted in every spelling and position a repository can use never
//! reach any output (issue 8, "redaction by span"): every format, `--verbose`
//! included, and a user policy that prints transformed secrets. Masking keeps
//! line numbers: the text snippets locate findings where the JSON report does.

use rampart_tests::write;
use rampart_tests::{json, rampart};

/// The decoded values of every planted secret (each distinct).
const SECRETS: &[&str] = &[
    "Sa1-Eq4Rt9Qm",      // YAML `\x2D` escape in a double-quoted scalar
    "Dq2'Uy3Wz8Kp",      // `''` doubling in a single-quoted scalar
    "Bk3Vn7Xy5Hq2",      // first line of a `|` block scalar
    "Jf4Lm8Zv6Wc1",      // second line of the block
    "Dn5Pw6Qr7St8",      // compose DSN password
    "Ct1Nu2Ed3Fg4Hi5Jk", // Dockerfile ENV with a `\` continuation
    "Ar9\"Gx8Hv7Bn",     // Dockerfile ARG with an escaped quote
    "Ev1$Wx2Yz3Ab",      // .env `\$`
    "Rq4\"Ts5Uv6Wx",     // .env `\"`
    "Ng7Px8Qy9Rz0",      // nginx proxy_pass userinfo
    "Cd6Rv7Pw8Xk9",      // Caddy reverse_proxy userinfo
    "Br0Ken1Ya2Ml",      // a secret on a YAML file that fails to parse
    "Xe5Mp6Lq7Rw8",      // .env.example "maybe a real secret"
];

const COMPOSE: &str = r#"services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: "Sa1\x2DEq4Rt9Qm"
      API_TOKEN: 'Dq2''Uy3Wz8Kp'
      PRIVATE_KEY: |
        Bk3Vn7Xy5Hq2
        Jf4Lm8Zv6Wc1
      DATABASE_URL: postgres://app:Dn5Pw6Qr7St8@db/app
  web:
    image: nginx
    privileged: true
"#;

const DOCKERFILE: &str = "FROM alpine:3.19\nENV DB_PASSWORD=Ct1Nu2\\\nEd3Fg4Hi5Jk\nARG API_SECRET=\"Ar9\\\"Gx8Hv7Bn\"\nUSER root\n";

const DOTENV: &str = "DB_PASSWORD=\"Ev1\\$Wx2Yz3Ab\"\nREDIS_PASSWORD=\"Rq4\\\"Ts5Uv6Wx\"\n";

const NGINX: &str = "events {}\nhttp {\n  server {\n    listen 80;\n    location / {\n      proxy_pass http://admin:Ng7Px8Qy9Rz0@backend;\n    }\n  }\n}\n";

const CADDYFILE: &str =
    "example.com {\n  reverse_proxy http://u:Cd6Rv7Pw8Xk9@backendhost:8080\n}\n";

const BROKEN: &str =
    "services:\n  x:\n    image: redis\n    environment:\n      DB_PASSWORD: Br0Ken1Ya2Ml: {\n";

const EXAMPLE: &str = "STRIPE_SECRET_KEY=Xe5Mp6Lq7Rw8\nAPI_KEY=q9Z\n";

/// A user policy that prints secrets upper-cased, lower-cased, cut and reversed.
const LEAKY_POLICY: &str = r#"/// A policy that tries to print secrets transformed.
package leak

policy shout {
  title "Secrets printed transformed"
  severity high
  rationale "A test."
  remediation "None."
  for entry in dotenv.entries
  where is_secret_name(entry.name)
  deny entry message "U={entry.value.upperAscii()} L={entry.value.lowerAscii()} S6={entry.value.substring(0, 6)} S4={entry.value.substring(1, 5)} R={entry.value.reverse()}"
}
"#;

fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    write(&repo, "docker-compose.yml", COMPOSE);
    write(&repo, "Dockerfile", DOCKERFILE);
    write(&repo, ".env", DOTENV);
    write(&repo, "nginx.conf", NGINX);
    write(&repo, "Caddyfile", CADDYFILE);
    write(&repo, "broken/docker-compose.yml", BROKEN);
    write(&repo, ".env.example", EXAMPLE);
    write(d.path(), "policies/leak.rampart", LEAKY_POLICY);
    d
}

/// Every 6-byte window of a secret (ASCII), as written, upper-cased,
/// lower-cased and reversed.
fn forbidden(secret: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in [secret.to_string(), secret.chars().rev().collect::<String>()] {
        for w in s.as_bytes().windows(6) {
            let w = String::from_utf8(w.to_vec()).unwrap();
            out.push(w.to_ascii_uppercase());
            out.push(w.to_ascii_lowercase());
            out.push(w);
        }
    }
    out
}

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        for f in forbidden(s) {
            assert!(
                !text.contains(&f),
                "{what}: `{f}` (from secret `{s}`) printed:\n{text}"
            );
        }
    }
}

#[test]
fn no_planted_secret_in_any_output() {
    let d = tree();
    for format in ["text", "json", "sarif", "junit", "github", "short"] {
        for verbose in [false, true] {
            let mut args = vec!["check", "--policy", "policies", "--format", format];
            if verbose {
                args.push("--verbose");
            }
            args.push("repo");
            let (code, out, err) = rampart(d.path(), &args);
            let what = format!("--format {format} (verbose: {verbose})");
            assert_eq!(code, 2, "{what}: the broken file is an error\n{out}{err}");
            assert_clean(&what, &out);
            assert_clean(&what, &err);
            // The planted values are really reported on (the test is not vacuous).
            assert!(out.contains("leak.shout"), "{what}: {out}");
            assert!(out.contains("proxies to"), "{what}: {out}");
        }
    }
}

#[test]
fn snippets_mask_every_spelling_and_keep_line_numbers() {
    let d = tree();
    let (_, text, _) = rampart(d.path(), &["check", "--policy", "policies", "repo"]);
    // Each planted line is shown, masked.
    for shown in [
        "POSTGRES_PASSWORD: \"",
        "API_TOKEN: '",
        "DB_PASSWORD=",
        "ARG API_SECRET=\"",
        "REDIS_PASSWORD=\"",
        "STRIPE_SECRET_KEY=",
    ] {
        assert!(text.contains(shown), "`{shown}` not shown:\n{text}");
    }
    // A short value in an example file is masked too.
    assert!(text.contains("API_KEY=***"), "{text}");
    assert!(!text.contains("q9Z"), "{text}");
    // The broken YAML line is shown with its value masked.
    assert!(text.contains("DB_PASSWORD: ***"), "{text}");
    // URL passwords are masked in messages, the URL kept.
    assert!(text.contains("http://admin:****@backend"), "{text}");
    assert!(text.contains("http://u:****@backendhost:8080"), "{text}");
    // Text snippet locations are the JSON report's (nothing shifted after the block scalar).
    let (_, out, _) = rampart(
        d.path(),
        &["check", "--policy", "policies", "--format", "json", "repo"],
    );
    let report = json(&out);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .any(|f| f["policy"] == "compose.no-privileged"
            && f["line"] == 13
            && f["file"] == "repo/docker-compose.yml"));
    for f in findings {
        let at = format!(
            "{}:{}:{}",
            f["file"].as_str().unwrap(),
            f["line"],
            f["column"]
        );
        assert!(text.contains(&at), "{at} not in the text report");
    }
    // The masked file keeps its lines: line 13 is still `privileged: true`.
    assert!(text.contains("13 │     privileged: true"), "{text}");
}

#[test]
fn output_is_proportional_to_findings_on_a_long_line() {
    // 2,000 services on one line: every finding would repeat the whole line.
    let d = tempfile::tempdir().unwrap();
    let mut services: Vec<String> = (0..2000)
        .map(|i| format!("s{i}: {{image: nginx, privileged: true}}"))
        .collect();
    // A 50,000-character image name is not repeated whole in a message.
    services.push(format!("long: {{image: {}}}", "n".repeat(50_000)));
    let line = format!("{{services: {{{}}}}}\n", services.join(", "));
    write(d.path(), "docker-compose.yml", &line);
    let (_, out, _) = rampart(d.path(), &["check"]);
    let per_finding = out.matches("\n  ┌─ ").count().max(1);
    assert!(per_finding >= 2000, "{per_finding} findings");
    // A snippet line is at most a window of the line, not the line.
    assert!(
        out.lines().all(|l| l.len() < 1_000),
        "a snippet line repeats the input line"
    );
    assert!(out.len() / per_finding < 2_000, "{} bytes", out.len());
    assert!(out.contains("`long` uses `nnnn"), "{}", &out[..2_000]);
}
