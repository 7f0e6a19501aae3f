//! The audit report (`--format html`, `--format markdown`): every policy's
//! result beside the failed ones, every input with its SHA-256, secrets
//! redacted, byte-identical under `SOURCE_DATE_EPOCH`.

use rampart_tests::{rampart_with_env, write};

/// The run's time, pinned (2025-11-24 16:00:00 UTC).
const EPOCH: &[(&str, &str)] = &[("SOURCE_DATE_EPOCH", "1764000000")];

fn tree() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "docker-compose.yml",
        "services:\n  db:\n    image: postgres:16\n    ports: [\"5432:5432\"]\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-Sup3rSecretDefault!}\n",
    );
    write(d.path(), "Dockerfile", "FROM alpine:3.20\nUSER 10001\n");
    d
}

#[test]
fn audit_report_lists_passed_failed_and_not_applicable_policies_and_hashes_inputs() {
    let d = tree();
    let (code, html, err) = rampart_with_env(d.path(), &["check", ".", "--format", "html"], EPOCH);
    assert_eq!(code, 1, "{err}");
    let (_, again, _) = rampart_with_env(d.path(), &["check", ".", "--format", "html"], EPOCH);
    assert_eq!(html, again, "the report is reproducible");
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Self-contained: no external stylesheet, script or image.
    for external in ["<link", "<script", "src=\"http", "href=\"http"] {
        assert!(!html.contains(external), "{external}");
    }
    assert!(html.contains("2025-11-24 16:00:00 UTC"));
    assert!(html.contains("<svg"), "a chart");
    for result in ["failed", "passed", "not applicable"] {
        assert!(html.contains(&format!("<td>{result}</td>")), "{result}");
    }
    // The compose file's hash, as `sha256sum` gives it.
    let text = std::fs::read(d.path().join("docker-compose.yml")).unwrap();
    use sha2::Digest;
    let want: String = sha2::Sha256::digest(&text)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(html.contains(&want), "input hash");
    // The default secret is masked in the snippet.
    assert!(!html.contains("Sup3rSecretDefault"), "secret leaked");
    assert!(html.contains("compose.no-default-secrets"));

    let (code, md, _) = rampart_with_env(d.path(), &["check", ".", "--format", "markdown"], EPOCH);
    assert_eq!(code, 1);
    assert!(md.starts_with("# rampart audit report"));
    assert!(
        md.contains("| `compose.no-default-secrets` | critical | failed |"),
        "{md}"
    );
    assert!(md.contains("| passed |"));
    assert!(md.contains(&want));
    assert!(!md.contains("Sup3rSecretDefault"));
    assert!(!md.contains("<svg"), "markdown has no chart markup");
}
