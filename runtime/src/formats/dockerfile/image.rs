//! Variable substitution (BuildKit's `$X`, `${X}`, `${X:-d}`…). Image
//! references are parsed by the shared `formats::image`.

/// The result of substituting variables in a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Substituted {
    /// The text after substitution; unknown references are kept as written.
    pub text: String,
    /// Whether every reference had a known value.
    pub resolved: bool,
    /// Whether the text had any reference (or escape) at all.
    pub changed: bool,
}

/// Substitution stops expanding defaults nested deeper than this.
const MAX_DEPTH: usize = 16;

/// Substitutes `$NAME`, `${NAME}`, `${NAME:-w}`, `${NAME-w}`, `${NAME:+w}`,
/// `${NAME+w}`, `${NAME:?e}`, `${NAME?e}` using `lookup` (`None`: not
/// declared; `Some(None)`: declared without a value). `escape` followed by `$`
/// is a literal `$`.
pub fn substitute(
    text: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<Option<String>>,
) -> Substituted {
    let mut out = Substituted {
        text: String::new(),
        resolved: true,
        changed: false,
    };
    sub_into(text, escape, lookup, &mut out, 0);
    out
}

fn sub_into(
    text: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<Option<String>>,
    out: &mut Substituted,
    depth: usize,
) {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == escape && rest.get(c.len_utf8()..).is_some_and(|r| r.starts_with('$')) {
            out.text.push('$');
            out.changed = true;
            rest = rest.get(c.len_utf8() + 1..).unwrap_or("");
            continue;
        }
        if c != '$' {
            out.text.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or("");
            continue;
        }
        let after = rest.get(1..).unwrap_or("");
        if let Some(inner_start) = after.strip_prefix('{') {
            let Some(close) = matching_brace(inner_start) else {
                out.text.push_str(rest);
                return;
            };
            let inner = inner_start.get(..close).unwrap_or("");
            let whole = rest.get(..close + 3).unwrap_or(rest);
            out.changed = true;
            expand_braced(inner, whole, escape, lookup, out, depth);
            rest = inner_start.get(close + 1..).unwrap_or("");
            continue;
        }
        let name_len = after
            .char_indices()
            .find(|(_, ch)| !(ch.is_ascii_alphanumeric() || *ch == '_'))
            .map_or(after.len(), |(i, _)| i);
        if name_len == 0 || after.starts_with(|ch: char| ch.is_ascii_digit()) {
            out.text.push('$');
            rest = after;
            continue;
        }
        let name = after.get(..name_len).unwrap_or("");
        out.changed = true;
        match lookup(name).flatten() {
            Some(v) => out.text.push_str(&v),
            None => {
                out.resolved = false;
                out.text.push('$');
                out.text.push_str(name);
            }
        }
        rest = after.get(name_len..).unwrap_or("");
    }
}

/// Index of the `}` closing a `${`, nested braces counted.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn expand_braced(
    inner: &str,
    whole: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<Option<String>>,
    out: &mut Substituted,
    depth: usize,
) {
    let name_len = inner
        .char_indices()
        .find(|(_, ch)| !(ch.is_ascii_alphanumeric() || *ch == '_'))
        .map_or(inner.len(), |(i, _)| i);
    let name = inner.get(..name_len).unwrap_or("");
    let op_rest = inner.get(name_len..).unwrap_or("");
    let value = lookup(name);
    let (colon, op_rest) = match op_rest.strip_prefix(':') {
        Some(r) => (true, r),
        None => (false, op_rest),
    };
    let op = op_rest.chars().next();
    let word = op_rest.get(1..).unwrap_or("");
    // `set` per the operator: with a colon, set and non-empty.
    let set = match &value {
        Some(Some(v)) => !colon || !v.is_empty(),
        Some(None) | None => false,
    };
    match (op, name.is_empty()) {
        (None, false) if !colon => match value.flatten() {
            Some(v) => out.text.push_str(&v),
            None => {
                out.resolved = false;
                out.text.push_str(whole);
            }
        },
        // Declared without a value counts as unset (no build arg given).
        (Some('-'), false) => {
            if set {
                out.text.push_str(&value.flatten().unwrap_or_default());
            } else if depth < MAX_DEPTH {
                sub_into(word, escape, lookup, out, depth + 1);
            } else {
                out.resolved = false;
                out.text.push_str(word);
            }
        }
        (Some('+'), false) => {
            if set && depth < MAX_DEPTH {
                sub_into(word, escape, lookup, out, depth + 1);
            }
        }
        (Some('?'), false) if set => {
            out.text.push_str(&value.flatten().unwrap_or_default());
        }
        _ => {
            // `?` when unset, pattern operators (`#`, `%`, `/`), malformed: not evaluated.
            out.resolved = false;
            out.text.push_str(whole);
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<Option<String>> {
        match name {
            "TAG" => Some(Some("3.11".into())),
            "EMPTY" => Some(Some(String::new())),
            "NOVAL" => Some(None),
            _ => None,
        }
    }

    fn sub(s: &str) -> (String, bool) {
        let r = substitute(s, '\\', &lookup);
        (r.text, r.resolved)
    }

    #[test]
    fn substitution_forms() {
        assert_eq!(sub("python:$TAG"), ("python:3.11".into(), true));
        assert_eq!(sub("python:${TAG}-slim"), ("python:3.11-slim".into(), true));
        assert_eq!(sub("x:${NOPE:-1.0}"), ("x:1.0".into(), true));
        assert_eq!(sub("x:${EMPTY:-d}"), ("x:d".into(), true));
        assert_eq!(sub("x:${EMPTY-d}"), ("x:".into(), true));
        assert_eq!(sub("x:${TAG:+y}"), ("x:y".into(), true));
        assert_eq!(sub("x:${NOVAL}"), ("x:${NOVAL}".into(), false));
        assert_eq!(sub("x:$NOVAL"), ("x:$NOVAL".into(), false));
        assert_eq!(sub("x:${NOVAL:-d}"), ("x:d".into(), true));
        assert_eq!(sub("a\\$TAG"), ("a$TAG".into(), true));
        assert_eq!(sub("${TAG"), ("${TAG".into(), true));
        assert_eq!(sub("$1 $"), ("$1 $".into(), true));
    }
}
