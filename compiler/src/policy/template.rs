//! Message templates: text with `{cel}` parts; `{{` and `}}` are literal braces.
//!
//! The engine renders them (`rampart_runtime::engine`). An interpolated value
//! that is a secret or derived from a strong one (a case change, a substring
//! of 4 characters or more, a reversal: `Project::is_secret_derived`) is shown
//! redacted whole, and the rendered message goes through the project's
//! redactor (every secret, ignoring ASCII case when strong, and URL
//! credentials): see docs/cli.md § Secrets in output.

/// A part of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// An expression and its byte offset in the template.
    Expr {
        /// The CEL text.
        text: String,
        /// Where it starts in the template.
        offset: usize,
    },
}

/// Splits a template; the error is the offset of an unclosed `{`.
pub fn parse_template(s: &str) -> Result<Vec<TemplatePart>, usize> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                text.push('{');
                i += 2;
            }
            b'}' if b.get(i + 1) == Some(&b'}') => {
                text.push('}');
                i += 2;
            }
            b'{' => {
                let start = i + 1;
                let mut depth = 1;
                let mut j = start;
                let mut quote: Option<u8> = None;
                while let Some(&d) = b.get(j) {
                    match (quote, d) {
                        (Some(_), b'\\') => j += 1,
                        (Some(q), d) if d == q => quote = None,
                        (Some(_), _) => {}
                        (None, b'"' | b'\'') => quote = Some(d),
                        (None, b'{') => depth += 1,
                        (None, b'}') => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if depth != 0 {
                    return Err(i);
                }
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                parts.push(TemplatePart::Expr {
                    text: s.get(start..j).unwrap_or("").to_string(),
                    offset: start,
                });
                i = j + 1;
            }
            _ => {
                let ch = s.get(i..).and_then(|r| r.chars().next()).unwrap_or(' ');
                text.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits() {
        let p = parse_template("`{s.name}` has {{x}} {size(s.ports)}").unwrap();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0], TemplatePart::Text("`".into()));
        assert_eq!(
            p[1],
            TemplatePart::Expr {
                text: "s.name".into(),
                offset: 2
            }
        );
        assert_eq!(p[2], TemplatePart::Text("` has {x} ".into()));
        assert!(parse_template("a {b").is_err());
        assert_eq!(
            parse_template("{'}'}").unwrap(),
            vec![TemplatePart::Expr {
                text: "'}'".into(),
                offset: 1
            }]
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = parse_template(&s);
        }
    }
}
