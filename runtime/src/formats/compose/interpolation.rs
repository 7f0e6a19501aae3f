//! Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`,
//! `${VAR:?e}`, `${VAR?e}`, `${VAR:+r}`, `${VAR+r}` and the `$$` escape, with
//! nesting inside the word (`${A:-${B}}`).

/// One variable reference inside a string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Variable name.
    pub name: String,
    /// The operator: `""` (plain), `:-`, `-`, `:?`, `?`, `:+`, `+`.
    pub op: &'static str,
    /// The word after the operator: default, error message or replacement (`""` when none).
    pub word: String,
    /// The reference as written (`${X:-d}`).
    pub raw: String,
    /// Byte offset of the reference in the string.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
}

impl Reference {
    /// Whether the reference falls back to a default when the variable is unset
    /// (`:-` also when empty).
    pub fn has_default(&self) -> bool {
        matches!(self.op, ":-" | "-")
    }
}

/// What is wrong with an interpolation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterpolationError {
    /// Byte offset of the bad `$`.
    pub offset: usize,
    /// One-line message.
    pub message: String,
}

/// Parses every reference in `s`, nested ones included (an inner reference
/// follows its outer one). `$$` is a literal `$`.
pub fn parse(s: &str) -> Result<Vec<Reference>, InterpolationError> {
    let mut out = Vec::new();
    parse_into(s, 0, 0, &mut out)?;
    Ok(out)
}

const MAX_NESTING: usize = 16;

fn parse_into(
    s: &str,
    base: usize,
    depth: usize,
    out: &mut Vec<Reference>,
) -> Result<(), InterpolationError> {
    if depth > MAX_NESTING {
        return Err(InterpolationError {
            offset: base,
            message: "interpolation nested too deeply".into(),
        });
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i) != Some(&b'$') {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(b'$') => i += 2,
            Some(b'{') => {
                let close = matching_brace(bytes, i + 1).ok_or_else(|| InterpolationError {
                    offset: base + i,
                    message: "unterminated `${`".into(),
                })?;
                let inner = s.get(i + 2..close).unwrap_or("");
                let name_len = inner
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    .count();
                let name = inner.get(..name_len).unwrap_or("");
                if name.is_empty() || name.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                    return Err(InterpolationError {
                        offset: base + i,
                        message: format!("invalid interpolation format `${{{inner}}}`"),
                    });
                }
                let rest = inner.get(name_len..).unwrap_or("");
                let (op, word) = if rest.is_empty() {
                    ("", "")
                } else {
                    let ops: [&'static str; 6] = [":-", ":?", ":+", "-", "?", "+"];
                    match ops.iter().find(|op| rest.starts_with(**op)) {
                        Some(op) => (*op, rest.get(op.len()..).unwrap_or("")),
                        None => {
                            return Err(InterpolationError {
                                offset: base + i,
                                message: format!("invalid interpolation format `${{{inner}}}`"),
                            })
                        }
                    }
                };
                out.push(Reference {
                    name: name.to_string(),
                    op,
                    word: word.to_string(),
                    raw: s.get(i..=close).unwrap_or("").to_string(),
                    start: base + i,
                    end: base + close + 1,
                });
                let word_start = i + 2 + name_len + op.len();
                parse_into(word, base + word_start, depth + 1, out)?;
                i = close + 1;
            }
            Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                let len = bytes
                    .get(i + 1..)
                    .unwrap_or(&[])
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
                let name = s.get(i + 1..i + 1 + len).unwrap_or("");
                out.push(Reference {
                    name: name.to_string(),
                    op: "",
                    word: String::new(),
                    raw: format!("${name}"),
                    start: base + i,
                    end: base + i + 1 + len,
                });
                i += 1 + len;
            }
            // A lone `$` (end of string, `$ `, `$1`) is kept literally, as compose does.
            _ => i += 1,
        }
    }
    Ok(())
}

/// Index of the `}` closing the `{` at `open`, honouring nested `${…}`.
fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `s` with each outer reference replaced by `text(reference)` and `$$` by
/// `$` (an inner reference lies within the outer one and is the callback's to
/// handle); `s` unchanged when it does not parse.
fn substitute(s: &str, text: &dyn Fn(&Reference) -> String) -> String {
    let Ok(refs) = parse(s) else {
        return s.to_string();
    };
    let mut out = String::new();
    let mut last = 0;
    let mut outer_end = 0;
    for r in &refs {
        if r.start < outer_end {
            continue;
        }
        outer_end = r.end;
        out.push_str(&s.get(last..r.start).unwrap_or("").replace("$$", "$"));
        out.push_str(&text(r));
        last = r.end;
    }
    out.push_str(&s.get(last..).unwrap_or("").replace("$$", "$"));
    out
}

/// `s` with every defaulted reference replaced by its default and `$$` by `$`;
/// references without a default stay as written. Used where a value must be
/// parsed further (an image reference, a port) before it is known.
pub fn with_defaults(s: &str) -> String {
    substitute(s, &|r| {
        if r.has_default() {
            with_defaults(&r.word)
        } else {
            r.raw.clone()
        }
    })
}

/// `s` with references replaced as Compose would with the variables `lookup`
/// knows (a project's `.env`): a set variable gives its value, `:-`/`-`
/// defaults and `:+`/`+` replacements apply as Compose applies them; a
/// reference that stays undecided (unset, no default) is kept as written.
pub fn resolve(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    substitute(s, &|r| match (r.op, lookup(&r.name)) {
        (":-", Some(v)) if !v.is_empty() => v,
        (":-", _) | ("-", None) => resolve(&r.word, lookup),
        (":+", Some(v)) if !v.is_empty() => resolve(&r.word, lookup),
        ("+", Some(_)) => resolve(&r.word, lookup),
        (":+" | "+", _) => String::new(),
        (_, Some(v)) => v,
        (_, None) => r.raw.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_operator() {
        let refs = parse("${A}${B:-d}${C-d}${D:?e r}${E?e}${F:+r}${G+r}$H").unwrap();
        let ops: Vec<_> = refs
            .iter()
            .map(|r| (r.name.as_str(), r.op, r.word.as_str()))
            .collect();
        assert_eq!(
            ops,
            vec![
                ("A", "", ""),
                ("B", ":-", "d"),
                ("C", "-", "d"),
                ("D", ":?", "e r"),
                ("E", "?", "e"),
                ("F", ":+", "r"),
                ("G", "+", "r"),
                ("H", "", "")
            ]
        );
    }

    #[test]
    fn escapes_and_offsets() {
        let s = "sh -c 'redis --requirepass $$REDIS_PASSWORD' ${X:-y}";
        let refs = parse(s).unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(&s[refs[0].start..refs[0].end], "${X:-y}");
    }

    #[test]
    fn nested_defaults() {
        let refs = parse("${A:-${B:-x}}").unwrap();
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].word, "${B:-x}");
        assert_eq!(refs[1].name, "B");
        assert_eq!(with_defaults("${A:-${B:-x}}:1"), "x:1");
    }

    #[test]
    fn resolve_through_an_env() {
        let env = |n: &str| match n {
            "DATA_FOLDER" => Some("/root/n8n".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        assert_eq!(resolve("${DATA_FOLDER}/data", &env), "/root/n8n/data");
        assert_eq!(resolve("$DATA_FOLDER", &env), "/root/n8n");
        assert_eq!(resolve("${EMPTY:-/srv}", &env), "/srv");
        assert_eq!(resolve("${EMPTY-/srv}", &env), "");
        assert_eq!(resolve("${UNSET:-${DATA_FOLDER}}", &env), "/root/n8n");
        assert_eq!(resolve("${UNSET}:80", &env), "${UNSET}:80");
        assert_eq!(resolve("${DATA_FOLDER:+/x}${UNSET:+/y}", &env), "/x");
    }

    #[test]
    fn errors() {
        assert!(parse("${A").is_err());
        assert!(parse("${}").is_err());
        assert!(parse("${A!x}").is_err());
        assert!(parse("$ 1 $1 end$").unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn never_panics_and_offsets_are_valid(s in "\\PC{0,40}") {
            if let Ok(refs) = parse(&s) {
                for r in refs {
                    prop_assert!(s.get(r.start..r.end).is_some());
                }
            }
            let _ = with_defaults(&s);
        }

        #[test]
        fn roundtrips_written_references(name in "[A-Z_][A-Z0-9_]{0,8}", op in prop::sample::select(vec!["", ":-", "-", ":?", "?", ":+", "+"]), word in "[a-z0-9 ._]{0,8}") {
            let word = if op.is_empty() { String::new() } else { word };
            let s = format!("pre ${{{name}{op}{word}}} post");
            let refs = parse(&s).unwrap();
            prop_assert_eq!(refs.len(), 1);
            prop_assert_eq!(&refs[0].name, &name);
            prop_assert_eq!(refs[0].op, op);
            prop_assert_eq!(&refs[0].word, &word);
        }
    }
}
