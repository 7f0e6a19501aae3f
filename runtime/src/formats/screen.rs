//! Screening a file before it is parsed as the format its name claims:
//! ciphertext (git-crypt, SOPS, ansible-vault) and binary files are skipped
//! with a warning, text that recognisably is not the format (see
//! [`Format::reads_as`](crate::formats::registry::Format::reads_as)) with a
//! note; template syntax (`{{ … }}`, `{% … %}`) is recognised so that a
//! template is checked with its placeholders as unknown values when the
//! format's structure survives, and skipped with a warning when it does not.
//!
//! Only a file that really is the format and broken is an error: a gate
//! fails closed on broken configs, not on things that are not configs.

use crate::formats::registry::InputKind;
use crate::model::Level;

/// Bytes looked at for a NUL (binary files) and for ciphertext markers.
pub const SCREEN_PREFIX_BYTES: usize = 8 * 1024;

/// The codes of a file skipped whole: reported naming the file, at no line.
pub const SKIP_CODES: &[&str] = &[
    "input-encrypted",
    "input-binary",
    "input-template",
    "input-not-config",
];

/// Why a file is not parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skip {
    /// A warning (the file may be a config rampart cannot see) or a note
    /// (recognisably not a config).
    pub level: Level,
    /// Stable code: `input-encrypted`, `input-binary`, `input-template`,
    /// `input-not-config`.
    pub code: &'static str,
    /// One line, lowercase.
    pub message: String,
}

impl Skip {
    fn warning(code: &'static str, message: String) -> Skip {
        Skip {
            level: Level::Warning,
            code,
            message,
        }
    }
}

/// What a file read as `kind` is, before parsing: `None` to parse it.
pub fn screen(kind: InputKind, bytes: &[u8]) -> Option<Skip> {
    let head = bytes.get(..SCREEN_PREFIX_BYTES).unwrap_or(bytes);
    if head.starts_with(b"\0GITCRYPT") {
        return Some(Skip::warning(
            "input-encrypted",
            format!(
                "git-crypt ciphertext; not checked as {} (unlock the repository with `git-crypt unlock` to check it)",
                kind.format().label()
            ),
        ));
    }
    let text = String::from_utf8_lossy(head);
    if text.trim_start().starts_with("$ANSIBLE_VAULT;") {
        return Some(Skip::warning(
            "input-encrypted",
            format!(
                "ansible-vault ciphertext; not checked as {} (decrypt it with `ansible-vault view` to check it)",
                kind.format().label()
            ),
        ));
    }
    if head.contains(&0) {
        return Some(Skip::warning(
            "input-binary",
            format!(
                "a binary file (it holds NUL bytes); not checked as {}",
                kind.format().label()
            ),
        ));
    }
    let text = String::from_utf8_lossy(bytes);
    if is_sops(&text) {
        return Some(Skip::warning(
            "input-encrypted",
            format!(
                "SOPS-encrypted (`ENC[…]` values); not checked as {} (decrypt it with `sops -d` to check it)",
                kind.format().label()
            ),
        ));
    }
    // Text that is not UTF-8 (and no NUL) is read, and reported as such:
    // a Latin-1 compose file is compose with a broken encoding.
    if std::str::from_utf8(bytes).is_err() {
        return None;
    }
    if !kind.format().reads_as(&text) {
        if let Some(line) = template_line(&text) {
            return Some(Skip::warning(
                "input-template",
                format!(
                    "a template (template syntax at line {line}) that does not read as {} until rendered; not checked: check the rendered file",
                    kind.format().label()
                ),
            ));
        }
        return Some(Skip {
            level: Level::Note,
            code: "input-not-config",
            message: format!(
                "not a recognised config (it does not read as {}); skipped",
                kind.format().label()
            ),
        });
    }
    None
}

/// SOPS output: a dotenv with a `sops_version=` entry, or YAML/JSON with a
/// top-level `sops` key, holding `ENC[…]` values.
fn is_sops(text: &str) -> bool {
    if !text.contains("ENC[AES256_GCM,") && !text.contains("ENC[") {
        return false;
    }
    text.lines().any(|l| {
        let l = l.trim_end();
        l.starts_with("sops_version=")
            || l.starts_with("sops:")
            || l.starts_with("\"sops\":")
            || l.trim_start().starts_with("\"sops\": {")
    })
}

/// The 1-based line of the first template tag (`{{ … }}`, `{% … %}`,
/// `{# … #}` closed on the same line), if any.
pub fn template_line(text: &str) -> Option<usize> {
    text.lines().position(has_tag).map(|i| i + 1)
}

/// Whether a line holds a template tag. `${{ … }}` is not one: it is the
/// expression syntax of GitHub Actions workflows, evaluated by the runner.
fn has_tag(line: &str) -> bool {
    line.match_indices(['{']).any(|(i, _)| {
        !dollar_before(line, i) && tag_at_start(line.get(i..).unwrap_or("")).is_some()
    })
}

/// Whether the byte before `i` is `$`.
fn dollar_before(line: &str, i: usize) -> bool {
    i > 0 && line.as_bytes().get(i - 1) == Some(&b'$')
}

/// The text with template tags set aside, byte for byte the same length (so
/// spans stay valid): a tag alone on its line (`{{ if … }}`, `{% for %}`,
/// `{# comment #}`) becomes spaces, a `{{ … }}` inside a line becomes `_`s,
/// an unknown value. `None` when the text has no tag.
pub fn mask_templates(text: &str) -> Option<String> {
    template_line(text)?;
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let tail = line.get(body.len()..).unwrap_or("");
        out.push_str(&mask_line(body));
        out.push_str(tail);
    }
    Some(out)
}

fn mask_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    let only_tags = {
        let mut r = line.trim();
        let mut all = !r.is_empty();
        while !r.is_empty() {
            match tag_at_start(r) {
                Some(n) => r = r.get(n..).unwrap_or("").trim_start(),
                None => {
                    all = false;
                    break;
                }
            }
        }
        all
    };
    while !rest.is_empty() {
        let next = ["{{", "{%", "{#"].iter().filter_map(|o| rest.find(o)).min();
        let Some(i) = next else {
            out.push_str(rest);
            break;
        };
        out.push_str(rest.get(..i).unwrap_or(""));
        let from = rest.get(i..).unwrap_or("");
        let tag = if dollar_before(rest, i) {
            None
        } else {
            tag_at_start(from)
        };
        match tag {
            Some(n) => {
                let tag = from.get(..n).unwrap_or("");
                let fill = if only_tags || !tag.starts_with("{{") {
                    ' '
                } else {
                    '_'
                };
                out.extend(std::iter::repeat_n(fill, tag.len()));
                rest = from.get(n..).unwrap_or("");
            }
            None => {
                out.push_str(from.get(..2).unwrap_or(from));
                rest = from.get(2..).unwrap_or("");
            }
        }
    }
    out
}

/// The byte length of the tag `s` starts with, if it starts with one.
fn tag_at_start(s: &str) -> Option<usize> {
    let close = match s.get(..2)? {
        "{{" => "}}",
        "{%" => "%}",
        "{#" => "#}",
        _ => return None,
    };
    s.get(2..)?.find(close).map(|j| j + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphertext_and_binary_are_warnings() {
        let k = InputKind::DOTENV;
        let gc = screen(k, b"\0GITCRYPT\0\x8a\x91garbage").unwrap();
        assert_eq!((gc.level, gc.code), (Level::Warning, "input-encrypted"));
        assert!(gc.message.contains("git-crypt"));
        let v = screen(k, b"$ANSIBLE_VAULT;1.1;AES256\n6162636465\n").unwrap();
        assert!(v.message.contains("ansible-vault"));
        let sops =
            "DB_PASSWORD=ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]\nsops_version=3.8.1\n";
        assert_eq!(screen(k, sops.as_bytes()).unwrap().code, "input-encrypted");
        let yaml = "services:\n  a:\n    image: ENC[AES256_GCM,data:x]\nsops:\n  version: 3.8.1\n";
        assert_eq!(
            screen(InputKind::COMPOSE, yaml.as_bytes()).unwrap().code,
            "input-encrypted"
        );
        assert_eq!(
            screen(InputKind::DOCKERFILE, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
                .unwrap()
                .code,
            "input-binary"
        );
        assert_eq!(screen(k, b"A=1\nB=ENC is a word\n"), None);
    }

    #[test]
    fn templates_are_masked_in_place() {
        let src = "{{ if .Env.TLS }}\nworker_processes {{ .Env.X }};\n{% raw %}x{# c #}\n";
        let m = mask_templates(src).unwrap();
        assert_eq!(m.len(), src.len());
        assert_eq!(
            m,
            "                 \nworker_processes ____________;\n         x       \n"
        );
        assert_eq!(template_line("a\nb {{ x }}\n"), Some(2));
        assert_eq!(template_line("a { b }\n${X}\n"), None);
        assert_eq!(template_line("run: echo ${{ secrets.X }}\n"), None);
        assert_eq!(mask_templates("plain"), None);
    }
}
