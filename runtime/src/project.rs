//! The documents of one run: every input file parsed into its model, the
//! problems found, and the secret values they hold (for redaction).

use std::collections::BTreeSet;

use crate::formats::compose;
use crate::functions::secrets::is_secret_name;
use crate::model::{FileId, InputProblem, Node, Span, Value};
use crate::source::SourceMap;

/// The largest input file read, in bytes; a larger one is an error.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// The kinds of input rampart reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A docker-compose file.
    Compose,
}

impl Kind {
    /// The target name policies use for this kind.
    pub fn target(self) -> &'static str {
        match self {
            Kind::Compose => "compose",
        }
    }

    /// The kind for a test-input keyword (`compose`).
    pub fn from_keyword(k: &str) -> Option<Kind> {
        match k {
            "compose" => Some(Kind::Compose),
            _ => None,
        }
    }

    /// The file name used for an inline test input of this kind.
    pub fn default_file_name(self) -> &'static str {
        match self {
            Kind::Compose => "docker-compose.yml",
        }
    }
}

/// One parsed input.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file.
    pub file: FileId,
    /// Its kind.
    pub kind: Kind,
    /// Its model (following the schema of `kind.target()`).
    pub root: Node,
}

/// All inputs of a run.
#[derive(Clone, Debug, Default)]
pub struct Project {
    /// File texts.
    pub sources: SourceMap,
    /// Parsed documents, in the order added.
    pub documents: Vec<Document>,
    /// Problems found while reading inputs.
    pub problems: Vec<InputProblem>,
    /// Secret values seen in any input, never to be printed.
    pub secrets: BTreeSet<String>,
}

impl Project {
    /// Reads one file of a known kind from its bytes. Invalid UTF-8, an
    /// oversized file or a syntax error is a located problem; the run goes on.
    pub fn add_file(&mut self, path: &str, bytes: Vec<u8>, kind: Kind) -> FileId {
        if bytes.len() > MAX_INPUT_BYTES {
            let id = self.sources.add(path, "");
            self.problems.push(InputProblem::error(
                "input-too-large",
                Span::new(id, 0, 0),
                format!(
                    "file is {} bytes; the limit is {MAX_INPUT_BYTES}",
                    bytes.len()
                ),
            ));
            return id;
        }
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let id = self.sources.add(path, lossy);
                self.problems.push(InputProblem::error(
                    "input-not-utf8",
                    Span::new(id, at.min(self.text_len(id)), at.min(self.text_len(id))),
                    "file is not valid UTF-8 text",
                ));
                return id;
            }
        };
        let text = text
            .strip_prefix('\u{feff}')
            .map(str::to_string)
            .unwrap_or(text);
        let id = self.sources.add(path, text);
        let Some(src) = self.sources.get(id).map(|f| f.text.clone()) else {
            return id;
        };
        let (model, problems) = match kind {
            Kind::Compose => compose::parse(id, &src, path),
        };
        self.problems.extend(problems);
        if let Some(root) = model {
            collect_secrets(&root, &mut self.secrets);
            self.documents.push(Document {
                file: id,
                kind,
                root,
            });
        }
        id
    }

    fn text_len(&self, id: FileId) -> usize {
        self.sources.get(id).map_or(0, |f| f.text.len())
    }

    /// Replaces every secret value in `text` with its redacted form.
    pub fn redact(&self, text: &str) -> String {
        redact_all(text, &self.secrets)
    }
}

/// Replaces every occurrence of a secret (longest first; secrets under 4
/// characters only when they are the whole text) with its redacted form.
pub fn redact_all(text: &str, secrets: &BTreeSet<String>) -> String {
    let mut out = text.to_string();
    let mut by_len: Vec<&String> = secrets.iter().collect();
    by_len.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for s in by_len {
        if s.chars().count() >= 4 {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), &crate::functions::secrets::redact(s));
            }
        } else if !s.is_empty() && out == *s {
            out = crate::functions::secrets::redact(s);
        }
    }
    out
}

/// Collects secret values from a model: the value of any object with a
/// secret-like `name` (environment entries, `.env` entries, `ENV`/`ARG`) and
/// the default of any interpolation of a secret-like variable or key.
pub fn collect_secrets(node: &Node, out: &mut BTreeSet<String>) {
    match &node.value {
        Value::Object(fields) => {
            let get = |k: &str| {
                fields
                    .iter()
                    .find(|(n, _)| n == k)
                    .and_then(|(_, v)| v.as_str())
            };
            let name = get("name").unwrap_or("");
            let key = get("key").unwrap_or("");
            if is_secret_name(name) || is_secret_name(key) {
                for field in ["value", "default"] {
                    if let Some(v) = get(field) {
                        // Interpolations are references, not secrets; their defaults are collected below.
                        if !v.is_empty() && !v.trim_start().starts_with("${") {
                            out.insert(v.to_string());
                        }
                    }
                }
            }
            for (_, v) in fields {
                collect_secrets(v, out);
            }
        }
        Value::List(items) => {
            for i in items {
                collect_secrets(i, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_collected_and_redacted() {
        let mut p = Project::default();
        p.add_file(
            "docker-compose.yml",
            b"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-cdb_secure_password}\n      API_TOKEN: abcdefghijkl\n      POSTGRES_USER: admin\n".to_vec(),
            Kind::Compose,
        );
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert!(p.secrets.contains("cdb_secure_password"));
        assert!(p.secrets.contains("abcdefghijkl"));
        assert!(!p.secrets.contains("admin"));
        assert_eq!(p.redact("x cdb_secure_password y"), "x cd****rd y");
    }

    #[test]
    fn bad_utf8_is_a_located_error() {
        let mut p = Project::default();
        p.add_file(
            "docker-compose.yml",
            vec![b's', b':', 0xff, 0xfe],
            Kind::Compose,
        );
        assert_eq!(p.problems[0].code, "input-not-utf8");
    }
}
