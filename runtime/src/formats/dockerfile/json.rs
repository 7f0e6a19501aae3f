//! The JSON (exec) form of `RUN`, `CMD`, `ENTRYPOINT`, `SHELL`, `COPY`…: an
//! array of strings. Anything else is not JSON form (BuildKit then falls back
//! to the shell form), so this returns `None` rather than an error.

use super::text::Mapped;

/// One string of a JSON array.
#[derive(Clone, Debug)]
pub struct JsonString {
    /// The decoded value, mapped to the source (escapes map to their text).
    pub value: Mapped,
    /// Text range of the token, quotes included, in the parsed text.
    pub range: (usize, usize),
}

/// Parses `text` as a JSON array of strings (surrounding blanks allowed).
pub fn parse_string_array(text: &Mapped) -> Option<Vec<JsonString>> {
    let s = text.text();
    let b = s.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let mut out = Vec::new();
    if b.get(i) == Some(&b']') {
        return (skip_ws(b, i + 1) == b.len()).then_some(out);
    }
    loop {
        let (item, next) = parse_string(text, i)?;
        out.push(item);
        i = skip_ws(b, next);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => break,
            _ => return None,
        }
    }
    (skip_ws(b, i + 1) == b.len()).then_some(out)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// A JSON string starting at `start` (the opening quote): the string and the
/// index after its closing quote.
fn parse_string(text: &Mapped, start: usize) -> Option<(JsonString, usize)> {
    let s = text.text();
    if s.as_bytes().get(start) != Some(&b'"') {
        return None;
    }
    let mut value = Mapped::new(text.file(), text.span(start + 1, start + 1).start());
    let mut i = start + 1;
    loop {
        let rest = s.get(i..)?;
        let c = rest.chars().next()?;
        match c {
            '"' => {
                return Some((
                    JsonString {
                        value,
                        range: (start, i + 1),
                    },
                    i + 1,
                ))
            }
            '\\' => {
                let e = rest.chars().nth(1)?;
                let (decoded, len) = match e {
                    '"' => ('"', 2),
                    '\\' => ('\\', 2),
                    '/' => ('/', 2),
                    'b' => ('\u{8}', 2),
                    'f' => ('\u{c}', 2),
                    'n' => ('\n', 2),
                    'r' => ('\r', 2),
                    't' => ('\t', 2),
                    'u' => decode_unicode(rest)?,
                    _ => return None,
                };
                let span = text.span(i, i + len);
                let mut buf = [0u8; 4];
                value.push_decoded(decoded.encode_utf8(&mut buf), span.start(), span.end());
                i += len;
            }
            c if (c as u32) < 0x20 => return None,
            c => {
                let len = c.len_utf8();
                let sub = text.slice(i, i + len);
                value.push_slice(&sub, 0, len);
                i += len;
            }
        }
    }
}

/// `\uXXXX` (or a surrogate pair `\uD83D\uDE00`) at the start of `rest`.
fn decode_unicode(rest: &str) -> Option<(char, usize)> {
    let hi = u32::from_str_radix(rest.get(2..6)?, 16).ok()?;
    if (0xD800..0xDC00).contains(&hi) {
        if rest.get(6..8) == Some("\\u") {
            let lo = u32::from_str_radix(rest.get(8..12)?, 16).ok()?;
            if (0xDC00..0xE000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                return Some((char::from_u32(c)?, 12));
            }
        }
        return Some(('\u{fffd}', 6));
    }
    if (0xDC00..0xE000).contains(&hi) {
        return Some(('\u{fffd}', 6));
    }
    Some((char::from_u32(hi)?, 6))
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
mod tests {
    use super::*;
    use crate::model::{FileId, Span};

    fn parse(s: &str) -> Option<Vec<String>> {
        parse_string_array(&Mapped::verbatim(FileId(0), s, 0))
            .map(|v| v.into_iter().map(|j| j.value.text().to_string()).collect())
    }

    #[test]
    fn arrays() {
        assert_eq!(
            parse(r#"["a", "b c"]"#),
            Some(vec!["a".into(), "b c".into()])
        );
        assert_eq!(parse(" [ ] "), Some(vec![]));
        assert_eq!(
            parse(r#"["a\"b\\n", "\u00e9\ud83d\ude00"]"#),
            Some(vec!["a\"b\\n".into(), "é😀".into()])
        );
        assert_eq!(parse(r#"["a",]"#), None);
        assert_eq!(parse(r#"['a']"#), None);
        assert_eq!(parse(r#"["a"] x"#), None);
        assert_eq!(parse(r#"["a" "b"]"#), None);
        assert_eq!(parse("[\"a"), None);
        assert_eq!(parse("echo [x]"), None);
    }

    #[test]
    fn spans_of_items() {
        let m = Mapped::verbatim(FileId(0), r#"["sh", "-c", "a\nb"]"#, 10);
        let v = parse_string_array(&m).unwrap();
        assert_eq!(v[0].value.full_span(), Span::new(FileId(0), 12, 14));
        assert_eq!(
            m.span(v[1].range.0, v[1].range.1),
            Span::new(FileId(0), 17, 21)
        );
        assert_eq!(v[2].value.span(1, 2), Span::new(FileId(0), 25, 27));
    }
}
