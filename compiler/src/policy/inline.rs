//! Textual inlining of `def` helpers into CEL text.
//!
//! CEL text is scanned token-wise (string literals skipped); an identifier
//! not preceded by `.` that names a def is replaced by `(body)`, with the
//! def's parameters replaced by `(argument)`.

use std::collections::HashMap;

/// A def ready to inline.
#[derive(Clone, Debug)]
pub struct DefBody {
    /// Parameter names.
    pub params: Vec<String>,
    /// Whether the def takes arguments in parentheses.
    pub call: bool,
    /// Body text.
    pub body: String,
}

/// Why inlining failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InlineError {
    /// `def` used with the wrong number of arguments, at a byte offset.
    Arity {
        /// The def.
        name: String,
        /// Where in the text.
        offset: usize,
        /// Declared parameters.
        expected: usize,
        /// Given arguments.
        found: usize,
    },
    /// Defs that use each other without end.
    TooDeep(String),
    /// The expression grows past [`MAX_INLINED_BYTES`] with its defs inlined
    /// (defs that call each other several times multiply).
    TooLarge {
        /// The def whose use (in the text given) makes it too large.
        name: String,
        /// Where in the text.
        offset: usize,
    },
}

/// The deepest chain of defs using defs.
pub const MAX_INLINE_DEPTH: usize = 16;

/// The largest expression accepted once its defs are inlined, in bytes.
pub const MAX_INLINED_BYTES: usize = 64 * 1024;

/// Bytes the inliner may write in all, intermediate copies included (a
/// nested def is copied once per enclosing level, at most
/// [`MAX_INLINE_DEPTH`] times); stops the work long before memory grows.
const INLINE_WORK_BYTES: usize = 1024 * 1024;

/// Inlines every def in `text`.
pub fn inline(text: &str, defs: &HashMap<String, DefBody>) -> Result<String, InlineError> {
    let mut work = INLINE_WORK_BYTES;
    let out = inline_depth(text, defs, 0, &mut work)?;
    if out.len() > MAX_INLINED_BYTES {
        // The first def used is as good a culprit as any: name it.
        let first = idents(text).into_iter().find_map(|(s, e)| {
            let name = text.get(s..e)?;
            defs.contains_key(name).then(|| (name.to_string(), s))
        });
        let (name, offset) = first.unwrap_or_default();
        return Err(InlineError::TooLarge { name, offset });
    }
    Ok(out)
}

/// Takes `n` bytes from the work budget.
fn spend(work: &mut usize, n: usize) -> bool {
    match work.checked_sub(n) {
        Some(left) => {
            *work = left;
            true
        }
        None => false,
    }
}

fn inline_depth(
    text: &str,
    defs: &HashMap<String, DefBody>,
    depth: usize,
    work: &mut usize,
) -> Result<String, InlineError> {
    if depth > MAX_INLINE_DEPTH {
        return Err(InlineError::TooDeep(text.chars().take(40).collect()));
    }
    let mut out = String::with_capacity(text.len());
    // A use of a def that exhausts the budget, here or deeper, is reported
    // at this level's use: the outermost call site once the error reaches
    // the top.
    let too_large = |name: &str, offset: usize| InlineError::TooLarge {
        name: name.to_string(),
        offset,
    };
    let toks = idents(text);
    let mut last = 0;
    let mut skip_to = 0;
    for (start, end) in toks {
        if start < skip_to {
            continue;
        }
        let name = text.get(start..end).unwrap_or("");
        let Some(def) = defs.get(name) else { continue };
        let prev = text.get(..start).and_then(|p| p.trim_end().chars().last());
        if prev == Some('.') {
            continue;
        }
        out.push_str(text.get(last..start).unwrap_or(""));
        if def.call {
            let after = text.get(end..).unwrap_or("");
            let ws = after.len() - after.trim_start().len();
            let (args, close) = if after.trim_start().starts_with('(') {
                call_args(text, end + ws).unwrap_or((Vec::new(), end))
            } else {
                (Vec::new(), end)
            };
            if args.len() != def.params.len() {
                return Err(InlineError::Arity {
                    name: name.to_string(),
                    offset: start,
                    expected: def.params.len(),
                    found: args.len(),
                });
            }
            // Parameters are replaced once, never re-scanned: an argument
            // spelled like a parameter (`f(t, s)` into `def f(t, s)`) stays as is.
            let body = substitute_params(&def.body, &def.params, &args, work)
                .ok_or_else(|| too_large(name, start))?;
            let body = inline_depth(&body, defs, depth + 1, work).map_err(|e| match e {
                InlineError::TooLarge { .. } => too_large(name, start),
                e => e,
            })?;
            if !spend(work, body.len() + 2) {
                return Err(too_large(name, start));
            }
            out.push('(');
            out.push_str(&body);
            out.push(')');
            last = close;
            skip_to = close;
        } else {
            let body = inline_depth(&def.body, defs, depth + 1, work).map_err(|e| match e {
                InlineError::TooLarge { .. } => too_large(name, start),
                e => e,
            })?;
            if !spend(work, body.len() + 2) {
                return Err(too_large(name, start));
            }
            out.push('(');
            out.push_str(&body);
            out.push(')');
            last = end;
        }
    }
    out.push_str(text.get(last..).unwrap_or(""));
    Ok(out)
}

/// `body` with each identifier naming a parameter (not after a `.`) replaced by
/// `(argument)`, in one pass; `None` when that exhausts the work budget.
fn substitute_params(
    body: &str,
    params: &[String],
    args: &[String],
    work: &mut usize,
) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut last = 0;
    for (start, end) in idents(body) {
        let name = body.get(start..end).unwrap_or("");
        let Some(i) = params.iter().position(|p| p == name) else {
            continue;
        };
        let prev = body.get(..start).and_then(|p| p.trim_end().chars().last());
        if prev == Some('.') {
            continue;
        }
        let Some(arg) = args.get(i) else { continue };
        if !spend(work, arg.len() + 2) {
            return None;
        }
        out.push_str(body.get(last..start).unwrap_or(""));
        out.push('(');
        out.push_str(arg.trim());
        out.push(')');
        last = end;
    }
    out.push_str(body.get(last..).unwrap_or(""));
    Some(out)
}

/// The longest CEL expression accepted as written, in bytes.
pub const MAX_CEL_BYTES: usize = 16 * 1024;
/// The deepest bracket nesting in one CEL expression.
pub const MAX_CEL_NESTING: usize = 64;
/// The most operators (`+`, `&&`, `.`, `!`, `?`, `in`…) in one CEL
/// expression: a chain of them nests the syntax tree as deep, and the CEL
/// parser, the checker and the evaluator recurse over it.
pub const MAX_CEL_OPERATORS: usize = 1000;

/// Why a CEL text is too big or too deep to hand to the CEL parser: the
/// byte offset in `text` and the reason, checked in one linear scan.
pub fn cel_shape(text: &str, max_bytes: usize) -> Result<(), (usize, String)> {
    if text.len() > max_bytes {
        return Err((
            0,
            format!(
                "expression too long ({} bytes; the limit is {max_bytes})",
                text.len()
            ),
        ));
    }
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut ops = 0usize;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let mut width = 1;
        match c {
            b'"' | b'\'' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_CEL_NESTING {
                    return Err((i, format!("brackets nested deeper than {MAX_CEL_NESTING}")));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'0'..=b'9' => {
                // A number, `1.5` included: its `.` is no operator.
                while b
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
                {
                    i += 1;
                }
                continue;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let s = i;
                while b
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                {
                    i += 1;
                }
                if b.get(s..i) == Some(b"in") {
                    ops += 1;
                }
                continue;
            }
            b'&' | b'|' | b'=' | b'<' | b'>' | b'!' | b'+' | b'-' | b'*' | b'/' | b'%' | b'?'
            | b'.' => {
                ops += 1;
                // Two-byte operators count once.
                if matches!(
                    (c, b.get(i + 1)),
                    (b'&', Some(b'&'))
                        | (b'|', Some(b'|'))
                        | (b'=' | b'!' | b'<' | b'>', Some(b'='))
                ) {
                    width = 2;
                }
            }
            _ => {}
        }
        if ops > MAX_CEL_OPERATORS {
            return Err((
                i,
                format!("more than {MAX_CEL_OPERATORS} operators in one expression"),
            ));
        }
        i += width;
    }
    Ok(())
}

/// Byte ranges of identifiers outside string literals.
pub fn idents(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\'' {
            i = skip_string(b, i);
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while b
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                i += 1;
            }
            // A string prefix like r"…" or b'…' is not an identifier.
            if matches!(b.get(i), Some(b'"') | Some(b'\'')) && i - s == 1 {
                i = skip_string(b, i);
                continue;
            }
            out.push((s, i));
            continue;
        }
        if c.is_ascii_digit() {
            while b
                .get(i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.')
            {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out
}

fn skip_string(b: &[u8], start: usize) -> usize {
    let q = b.get(start).copied().unwrap_or(b'"');
    let triple = b.get(start + 1) == Some(&q) && b.get(start + 2) == Some(&q);
    let mut i = start + if triple { 3 } else { 1 };
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == q {
            if !triple {
                return i + 1;
            }
            if b.get(i + 1) == Some(&q) && b.get(i + 2) == Some(&q) {
                return i + 3;
            }
        }
        i += 1;
    }
    b.len()
}

/// Arguments of a call whose `(` is at `open`, and the offset after `)`.
fn call_args(text: &str, open: usize) -> Option<(Vec<String>, usize)> {
    let b = text.as_bytes();
    let mut depth = 0i32;
    let mut i = open;
    let mut args = Vec::new();
    let mut arg_start = open + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' | b'\'' => {
                i = skip_string(b, i);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    let last = text.get(arg_start..i)?.trim();
                    if !last.is_empty() || !args.is_empty() {
                        args.push(last.to_string());
                    }
                    return Some((args, i + 1));
                }
            }
            b',' if depth == 1 => {
                args.push(text.get(arg_start..i)?.trim().to_string());
                arg_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> HashMap<String, DefBody> {
        let mut d = HashMap::new();
        d.insert(
            "is_ds".into(),
            DefBody {
                params: vec!["s".into()],
                call: true,
                body: "s.image.name in images".into(),
            },
        );
        d.insert(
            "images".into(),
            DefBody {
                params: vec![],
                call: false,
                body: "['redis']".into(),
            },
        );
        d
    }

    #[test]
    fn inlines_calls_and_names() {
        let out = inline("is_ds(service) && x.is_ds == 'is_ds(y)'", &defs()).unwrap();
        assert_eq!(
            out,
            "((service).image.name in (['redis'])) && x.is_ds == 'is_ds(y)'"
        );
    }

    #[test]
    fn arity_is_checked() {
        assert!(matches!(
            inline("is_ds()", &defs()),
            Err(InlineError::Arity { .. })
        ));
    }

    #[test]
    fn arguments_named_like_parameters() {
        let mut d = HashMap::new();
        d.insert(
            "f".into(),
            DefBody {
                params: vec!["t".into(), "s".into()],
                call: true,
                body: "t.name == s.name && s.x".into(),
            },
        );
        assert_eq!(
            inline("f(s, t)", &d).unwrap(),
            "((s).name == (t).name && (t).x)"
        );
        assert_eq!(
            inline("f(t, s)", &d).unwrap(),
            "((t).name == (s).name && (s).x)"
        );
    }

    /// `def a0(x) = x`, then `def a{i}(x) = a{i-1}(x) + …` `fan` times:
    /// `a{levels}` inlines to `fan^levels` copies.
    fn fan_out(fan: usize, levels: usize) -> HashMap<String, DefBody> {
        let mut d = HashMap::new();
        d.insert(
            "a0".into(),
            DefBody {
                params: vec!["x".into()],
                call: true,
                body: "x".into(),
            },
        );
        for i in 1..=levels {
            d.insert(
                format!("a{i}"),
                DefBody {
                    params: vec!["x".into()],
                    call: true,
                    body: vec![format!("a{}(x)", i - 1); fan].join(" + "),
                },
            );
        }
        d
    }

    #[test]
    fn fan_out_is_bounded_and_located_at_the_call() {
        // 10^6 copies: the old inliner built a string of gigabytes.
        let d = fan_out(10, 6);
        match inline("1 + a6(1) > 0", &d) {
            Err(InlineError::TooLarge { name, offset }) => {
                assert_eq!((name.as_str(), offset), ("a6", 4));
            }
            other => panic!("{other:?}"),
        }
        // A modest fan-out still inlines.
        let small = inline("a2(1)", &fan_out(3, 2)).unwrap();
        assert_eq!(small.matches("(1)").count(), 9);
        // Big but under the work budget: the final size check catches it.
        let mut d = HashMap::new();
        d.insert(
            "big".into(),
            DefBody {
                params: vec![],
                call: false,
                body: "1".repeat(MAX_INLINED_BYTES / 2 - 8),
            },
        );
        assert!(inline("big + big", &d).is_ok());
        assert!(matches!(
            inline("big + big + big", &d),
            Err(InlineError::TooLarge { offset: 0, .. })
        ));
    }

    #[test]
    fn cel_shape_limits() {
        // 45,000 terms: the old pipeline overflowed the stack.
        let long = format!("1{}", "+1".repeat(44_999));
        let (at, why) = cel_shape(&long, usize::MAX).unwrap_err();
        assert!(why.contains("operators"), "{why}");
        assert_eq!(at, 1 + 2 * MAX_CEL_OPERATORS);
        assert!(cel_shape(&long, MAX_CEL_BYTES)
            .unwrap_err()
            .1
            .contains("too long"));
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(
            cel_shape(&deep, MAX_CEL_BYTES).unwrap_err(),
            (
                MAX_CEL_NESTING,
                format!("brackets nested deeper than {MAX_CEL_NESTING}")
            )
        );
        // Strings, numbers and two-byte operators.
        let fine = format!(
            "x.a == 1.5 && y != '{}' || z <= 2 ? [1] : []",
            "(+.".repeat(2000)
        );
        assert_eq!(cel_shape(&fine, MAX_CEL_BYTES), Ok(()));
        let ops = format!("a{}", " && a".repeat(MAX_CEL_OPERATORS));
        assert_eq!(cel_shape(&ops, MAX_CEL_BYTES), Ok(()));
    }

    #[test]
    fn recursion_is_bounded() {
        let mut d = HashMap::new();
        d.insert(
            "a".into(),
            DefBody {
                params: vec![],
                call: false,
                body: "a + 1".into(),
            },
        );
        assert!(matches!(inline("a", &d), Err(InlineError::TooDeep(_))));
    }
}
