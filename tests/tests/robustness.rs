//! Hostile inputs through the whole CLI: each is a located error (exit 2) or
//! a clean run, never a panic, a hang or an abort; the other files are still
//! checked (DESIGN.md § Non-negotiables).

use rampart_tests::{json, rampart};
use rampart_tests::{write, CANARY};

fn assert_error(v: &serde_json::Value, what: &str) {
    assert!(
        !v["errors"].as_array().unwrap().is_empty(),
        "{what}: expected a located error"
    );
}

#[test]
fn binary_garbage_in_every_format() {
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    // Binary garbage holds NUL bytes: a binary file, skipped with a located
    // warning (issue 10: not a config, so never an error); without NULs, it is
    // not UTF-8: a located error.
    for name in ["docker-compose.yml", "Dockerfile", ".env", "Caddyfile"] {
        let v = rampart_tests::check_beside_canary(&format!("g/{name}"), &garbage);
        assert!(
            v["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w["code"] == "input-binary" && w["file"] == format!("g/{name}")),
            "{name}: {v}"
        );
        let no_nul: Vec<u8> = garbage.iter().map(|b| b.max(&1)).copied().collect();
        // Not UTF-8: a located error.
        let v = rampart_tests::check_beside_canary(&format!("g/{name}"), &no_nul);
        assert_error(&v, name);
    }
}

#[test]
fn invalid_utf8_is_located() {
    let v = rampart_tests::check_beside_canary(
        "x/Dockerfile",
        b"FROM alpine:3.20\nRUN echo \xff\xfe\n",
    );
    assert_error(&v, "invalid utf-8");
    assert_eq!(v["errors"][0]["file"], "x/Dockerfile");
}

#[test]
fn deep_nesting() {
    let deep_flow = format!("services: {}{}\n", "[".repeat(5000), "]".repeat(5000));
    assert_error(
        &rampart_tests::check_beside_canary("a/docker-compose.yml", deep_flow.as_bytes()),
        "deep yaml flow",
    );
    let mut block = String::from("services:\n");
    for i in 0..300 {
        block.push_str(&" ".repeat(2 * (i + 1)));
        block.push_str("a:\n");
    }
    assert_error(
        &rampart_tests::check_beside_canary("b/docker-compose.yml", block.as_bytes()),
        "deep yaml block",
    );
    let nginx = format!(
        "http {{\n{}{}}}\n",
        "location / {\n".repeat(3000),
        "}\n".repeat(3000)
    );
    let _ = rampart_tests::check_beside_canary("n/nginx.conf", nginx.as_bytes());
    let caddy = format!(
        ":80 {{\n{}{}}}\n",
        "route {\n".repeat(3000),
        "}\n".repeat(3000)
    );
    let _ = rampart_tests::check_beside_canary("c/Caddyfile", caddy.as_bytes());
}

#[test]
fn alias_bomb() {
    let mut bomb = String::from(
        "x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let mut prev = 'a';
    for c in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] {
        bomb.push_str(&format!("x-{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        prev = c;
    }
    bomb.push_str("services: {}\n");
    assert_error(
        &rampart_tests::check_beside_canary("bomb/docker-compose.yml", bomb.as_bytes()),
        "alias bomb",
    );
}

#[test]
fn oversized_file() {
    let big = vec![b'#'; 17 * 1024 * 1024];
    assert_error(
        &rampart_tests::check_beside_canary("big/docker-compose.yml", &big),
        "oversized",
    );
}

#[test]
fn include_and_import_cycles() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "web/nginx.conf",
        b"events {}\nhttp {\n  include a.conf;\n}\n",
    );
    write(d.path(), "web/a.conf", b"include b.conf;\n");
    write(d.path(), "web/b.conf", b"include a.conf;\n");
    write(
        d.path(),
        "site/Caddyfile",
        b"import Caddyfile\nexample.com {\n  respond hi\n}\n",
    );
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let (code, out, _) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    assert_eq!(code, 2);
    let files: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert!(files.iter().any(|f| f.starts_with("web/")), "{files:?}");
    assert!(files.iter().any(|f| f.starts_with("site/")), "{files:?}");
}

#[test]
fn include_outside_the_scan_root_is_not_read() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "secret.conf", b"add_header X-Leak yes;\n");
    write(
        d.path(),
        "scan/nginx.conf",
        b"events {}\nhttp {\n  include ../secret.conf;\n  server { listen 80; }\n}\n",
    );
    let (_, out, _) = rampart(d.path(), &["check", "--format", "json", "scan"]);
    assert!(!out.contains("X-Leak"));
    let v = json(&out);
    let all: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["warnings"].as_array().unwrap())
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        all.iter().any(|m| m.contains("secret.conf")),
        "the escape is reported: {all:?}"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_scan_root_are_not_followed() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "outside/leak.caddy", b"header X-Leak yes\n");
    write(
        d.path(),
        "scan/Caddyfile",
        b"example.com {\n  import leak.caddy\n  respond hi\n}\n",
    );
    std::os::unix::fs::symlink(
        d.path().join("outside/leak.caddy"),
        d.path().join("scan/leak.caddy"),
    )
    .unwrap();
    let (_, out, _) = rampart(d.path(), &["check", "--format", "json", "scan"]);
    assert!(!out.contains("X-Leak"), "{out}");
    assert!(out.contains("symbolic link"), "{out}");
}
