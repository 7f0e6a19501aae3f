//! Textual inlining of `def` helpers into CEL text, made hygienic.
//!
//! CEL text is scanned token-wise (string literals skipped); an identifier
//! not preceded by `.` that names a def is replaced by `(body)`, with the
//! def's parameters replaced by `(argument)`.
//!
//! Hygiene: the only names CEL binds inside an expression are the variables
//! of its macros (`all`, `exists`, `exists_one`/`existsOne`, `map`,
//! `filter`), and each scopes over the macro's later arguments. Before a def
//! body is used, and once over the expression being inlined into, every such
//! variable is renamed (with its uses, innermost binding first) to a fresh
//! name no source text contains ([`Fresh`]). So a macro variable of a body
//! cannot capture a name in an argument, a macro variable at the call site
//! cannot capture a free name of the body, and a parameter named like a macro
//! variable is substituted only where it is free.

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
    // No def used: the text runs as written.
    let uses_def = idents(text)
        .into_iter()
        .any(|(s, e)| text.get(s..e).is_some_and(|n| defs.contains_key(n)));
    if !uses_def {
        return Ok(text.to_string());
    }
    let mut work = INLINE_WORK_BYTES;
    let mut fresh = Fresh::new(std::iter::once(text).chain(defs.values().map(|d| d.body.as_str())));
    let text = rename_binders(text, &mut fresh);
    let out = inline_depth(&text, defs, 0, &mut work, &mut fresh)?;
    if out.len() > MAX_INLINED_BYTES {
        // The first def used is as good a culprit as any: name it.
        let first = idents(&text).into_iter().find_map(|(s, e)| {
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
    fresh: &mut Fresh,
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
            let renamed = rename_binders(&def.body, fresh);
            if !spend(work, renamed.len()) {
                return Err(too_large(name, start));
            }
            let body = substitute_params(&renamed, &def.params, &args, work)
                .ok_or_else(|| too_large(name, start))?;
            let body = inline_depth(&body, defs, depth + 1, work, fresh).map_err(|e| match e {
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
            let renamed = rename_binders(&def.body, fresh);
            if !spend(work, renamed.len()) {
                return Err(too_large(name, start));
            }
            let body =
                inline_depth(&renamed, defs, depth + 1, work, fresh).map_err(|e| match e {
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

/// `body` with each identifier naming a parameter (not after a `.`, not a
/// function name before `(`) replaced by `(argument)`, in one pass; `None`
/// when that exhausts the work budget. The body's macro variables are
/// already renamed ([`rename_binders`]), so every parameter name left is free.
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
        if !is_variable_use(body, start, end) {
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

/// Whether the identifier at `start..end` of `text` is a variable: not a
/// field after `.`, not a function name before `(`.
fn is_variable_use(text: &str, start: usize, end: usize) -> bool {
    let prev = text.get(..start).and_then(|p| p.trim_end().chars().last());
    let next = text.get(end..).and_then(|p| p.trim_start().chars().next());
    prev != Some('.') && next != Some('(')
}

/// Fresh variable names: a prefix no source text contains, and a counter.
pub struct Fresh {
    prefix: String,
    next: usize,
}

impl Fresh {
    /// A prefix absent from every one of `sources` (the expression and the
    /// def bodies: every text the inlined result is made of).
    pub fn new<'a>(sources: impl Iterator<Item = &'a str> + Clone) -> Fresh {
        let mut k = 0usize;
        let prefix = loop {
            let p = format!("__h{k}_");
            if !sources.clone().any(|s| s.contains(&p)) {
                break p;
            }
            k += 1;
        };
        Fresh { prefix, next: 0 }
    }

    fn name(&mut self, base: &str) -> String {
        self.next += 1;
        format!("{}{}_{base}", self.prefix, self.next)
    }
}

/// The macros that bind a variable, with the argument counts for which they
/// are macros (see the `cel` crate's standard macros).
const BINDING_MACROS: &[(&str, &[usize])] = &[
    ("all", &[2]),
    ("exists", &[2]),
    ("exists_one", &[2]),
    ("existsOne", &[2]),
    ("map", &[2, 3]),
    ("filter", &[2]),
];

/// `text` with each macro variable and its uses renamed to a fresh name:
/// for `e.exists(h, p)` the binding `h` and every variable `h` in `p` (but
/// not in `e`, and not inside a nested macro that binds `h` again) become
/// one fresh name. Renaming each binding to a name used nowhere else keeps
/// what every name refers to.
pub fn rename_binders(text: &str, fresh: &mut Fresh) -> String {
    let toks = idents(text);
    // (variable, scope start, scope end, fresh name); a scope is the
    // macro's argument list, its binding included.
    let mut scopes: Vec<(String, usize, usize, String)> = Vec::new();
    for &(start, end) in &toks {
        let Some(name) = text.get(start..end) else {
            continue;
        };
        let Some((_, counts)) = BINDING_MACROS.iter().find(|(m, _)| *m == name) else {
            continue;
        };
        let prev = text.get(..start).and_then(|p| p.trim_end().chars().last());
        let after = text.get(end..).unwrap_or("");
        if prev != Some('.') || !after.trim_start().starts_with('(') {
            continue;
        }
        let open = end + (after.len() - after.trim_start().len());
        let Some((args, close)) = call_args(text, open) else {
            continue;
        };
        if !counts.contains(&args.len()) {
            continue;
        }
        let Some(var) = args.first().map(|a| a.trim()) else {
            continue;
        };
        let is_ident = var.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_ident {
            continue;
        }
        scopes.push((var.to_string(), open + 1, close, String::new()));
    }
    if scopes.is_empty() {
        return text.to_string();
    }
    for s in &mut scopes {
        s.3 = fresh.name(&s.0);
    }
    let mut out = String::with_capacity(text.len() + 16 * scopes.len());
    let mut last = 0;
    for (start, end) in toks {
        let Some(name) = text.get(start..end) else {
            continue;
        };
        if !is_variable_use(text, start, end) {
            continue;
        }
        // The innermost scope binding this name here: scopes nest, so the
        // one that starts last.
        let binding = scopes
            .iter()
            .filter(|(v, s, e, _)| *v == name && *s <= start && end <= *e)
            .max_by_key(|(_, s, _, _)| *s);
        let Some((_, _, _, new)) = binding else {
            continue;
        };
        out.push_str(text.get(last..start).unwrap_or(""));
        out.push_str(new);
        last = end;
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
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

#[cfg(test)]
mod hygiene {
    use super::*;

    fn def(params: &[&str], body: &str) -> DefBody {
        DefBody {
            params: params.iter().map(|p| p.to_string()).collect(),
            call: true,
            body: body.into(),
        }
    }

    #[test]
    fn body_variables_do_not_capture_arguments() {
        let mut d = HashMap::new();
        d.insert("uses".into(), def(&["xs", "v"], "xs.exists(h, h == v)"));
        // Textual substitution gave `(h.ports).exists(h, h == (h.name))`:
        // the argument's `h` captured by the body's.
        let out = inline("uses(h.ports, h.name)", &d).unwrap();
        assert_eq!(out, "((h.ports).exists(__h0_1_h, __h0_1_h == (h.name)))");
        // An argument mentioning a name the body binds.
        d.insert("f".into(), def(&["a"], "[1, 2].exists(x, x == a)"));
        let out = inline("f(x + 1)", &d).unwrap();
        assert_eq!(out, "([1, 2].exists(__h0_1_x, __h0_1_x == (x + 1)))");
    }

    #[test]
    fn caller_variables_do_not_capture_body_names() {
        let mut d = HashMap::new();
        d.insert("g".into(), def(&["a"], "a == limit"));
        let out = inline("xs.exists(limit, g(limit))", &d).unwrap();
        assert_eq!(out, "xs.exists(__h0_1_limit, ((__h0_1_limit) == limit))");
    }

    #[test]
    fn scopes_nest_and_targets_stay_outside() {
        let mut f = Fresh::new(std::iter::once("__h0_"));
        let out = rename_binders(
            "h.exists(h, h.map(h, h + 1).size() > 0 && h.f == h(1)) || h > 0",
            &mut f,
        );
        assert_eq!(
            out,
            "h.exists(__h1_1_h, __h1_1_h.map(__h1_2_h, __h1_2_h + 1).size() > 0 && __h1_1_h.f == h(1)) || h > 0"
        );
        // Not a macro: wrong argument count, or the first argument is no name.
        let mut f = Fresh::new(std::iter::empty());
        assert_eq!(rename_binders("l.all(a, b, a)", &mut f), "l.all(a, b, a)");
        assert_eq!(
            rename_binders("l.exists(1, 'h')", &mut f),
            "l.exists(1, 'h')"
        );
        let out = rename_binders("l.map(v, v > 1, v * 2)", &mut f);
        assert_eq!(out, "l.map(__h0_1_v, __h0_1_v > 1, __h0_1_v * 2)");
    }

    #[test]
    fn parameters_named_like_body_variables() {
        let mut d = HashMap::new();
        // The first `h` is the parameter, the others the macro's own.
        d.insert("f".into(), def(&["h"], "h.exists(h, h > 1)"));
        assert_eq!(
            inline("f(h)", &d).unwrap(),
            "((h).exists(__h0_1_h, __h0_1_h > 1))"
        );
    }
}

/// Inlining preserves meaning: random defs and call sites, with macro
/// variables, parameters and globals deliberately sharing names, evaluated
/// once inlined (by the CEL engine) and once by a reference evaluator that
/// calls defs by value (arguments evaluated at the call site, the body
/// evaluated with its parameters bound and the globals in scope).
#[cfg(test)]
mod meaning {
    use super::*;
    use proptest::prelude::*;

    /// Every variable name: globals, parameters and macro variables alike.
    const NAMES: &[&str] = &["h", "x", "a", "b"];
    const GLOBALS: &[(&str, i64)] = &[("h", 1), ("x", 2), ("a", 3), ("b", 5)];
    const XS: &[i64] = &[1, 2, 3];

    #[derive(Clone, Debug)]
    enum I {
        Lit(i64),
        Var(&'static str),
        Add(Box<I>, Box<I>),
        Size(Box<L>),
        /// `k(x)`: the int def.
        K(Box<I>),
    }
    #[derive(Clone, Debug)]
    enum B {
        Eq(I, I),
        Lt(I, I),
        And(Box<B>, Box<B>),
        Or(Box<B>, Box<B>),
        Not(Box<B>),
        /// all / exists / exists_one
        Macro(&'static str, L, &'static str, Box<B>),
        /// `f(a, h)`: the bool def.
        F(I, I),
    }
    #[derive(Clone, Debug)]
    enum L {
        Xs,
        Lit(Vec<I>),
        Map(Box<L>, &'static str, I),
        Filter(Box<L>, &'static str, Box<B>),
        MapIf(Box<L>, &'static str, Box<B>, I),
    }

    /// A tiny deterministic generator (proptest supplies the seed).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
        fn name(&mut self) -> &'static str {
            NAMES[self.next(NAMES.len() as u64) as usize]
        }
    }

    /// Which defs an expression may call.
    #[derive(Clone, Copy)]
    struct Calls {
        f: bool,
        k: bool,
    }

    fn gen_i(r: &mut Rng, d: u32, c: Calls) -> I {
        match if d == 0 { r.next(2) } else { r.next(5) } {
            0 => I::Lit(r.next(4) as i64),
            1 => I::Var(r.name()),
            2 => I::Add(Box::new(gen_i(r, d - 1, c)), Box::new(gen_i(r, d - 1, c))),
            3 => I::Size(Box::new(gen_l(r, d - 1, c))),
            _ if c.k => I::K(Box::new(gen_i(r, d - 1, c))),
            _ => I::Var(r.name()),
        }
    }

    fn gen_b(r: &mut Rng, d: u32, c: Calls) -> B {
        let d1 = d.saturating_sub(1);
        match if d == 0 { r.next(2) } else { r.next(8) } {
            0 => B::Eq(gen_i(r, d1, c), gen_i(r, d1, c)),
            1 => B::Lt(gen_i(r, d1, c), gen_i(r, d1, c)),
            2 => B::And(Box::new(gen_b(r, d1, c)), Box::new(gen_b(r, d1, c))),
            3 => B::Or(Box::new(gen_b(r, d1, c)), Box::new(gen_b(r, d1, c))),
            4 => B::Not(Box::new(gen_b(r, d1, c))),
            5 | 6 => {
                let m = ["all", "exists", "exists_one"][r.next(3) as usize];
                B::Macro(m, gen_l(r, d1, c), r.name(), Box::new(gen_b(r, d1, c)))
            }
            _ if c.f => B::F(gen_i(r, d1, c), gen_i(r, d1, c)),
            _ => B::Eq(gen_i(r, d1, c), I::Var(r.name())),
        }
    }

    fn gen_l(r: &mut Rng, d: u32, c: Calls) -> L {
        let d1 = d.saturating_sub(1);
        match if d == 0 { 0 } else { r.next(5) } {
            0 => L::Xs,
            1 => L::Lit((0..r.next(3)).map(|_| gen_i(r, d1, c)).collect()),
            2 => L::Map(Box::new(gen_l(r, d1, c)), r.name(), gen_i(r, d1, c)),
            3 => L::Filter(
                Box::new(gen_l(r, d1, c)),
                r.name(),
                Box::new(gen_b(r, d1, c)),
            ),
            _ => L::MapIf(
                Box::new(gen_l(r, d1, c)),
                r.name(),
                Box::new(gen_b(r, d1, c)),
                gen_i(r, d1, c),
            ),
        }
    }

    fn cel_i(e: &I) -> String {
        match e {
            I::Lit(n) => n.to_string(),
            I::Var(v) => v.to_string(),
            I::Add(a, b) => format!("({} + {})", cel_i(a), cel_i(b)),
            I::Size(l) => format!("size({})", cel_l(l)),
            I::K(a) => format!("k({})", cel_i(a)),
        }
    }
    fn cel_b(e: &B) -> String {
        match e {
            B::Eq(a, b) => format!("({} == {})", cel_i(a), cel_i(b)),
            B::Lt(a, b) => format!("({} < {})", cel_i(a), cel_i(b)),
            B::And(a, b) => format!("({} && {})", cel_b(a), cel_b(b)),
            B::Or(a, b) => format!("({} || {})", cel_b(a), cel_b(b)),
            B::Not(a) => format!("!{}", cel_b(a)),
            B::Macro(m, l, v, p) => format!("{}.{m}({v}, {})", cel_l(l), cel_b(p)),
            B::F(a, b) => format!("f({}, {})", cel_i(a), cel_i(b)),
        }
    }
    fn cel_l(e: &L) -> String {
        match e {
            L::Xs => "xs".into(),
            L::Lit(xs) => format!("[{}]", xs.iter().map(cel_i).collect::<Vec<_>>().join(", ")),
            L::Map(l, v, t) => format!("{}.map({v}, {})", cel_l(l), cel_i(t)),
            L::Filter(l, v, p) => format!("{}.filter({v}, {})", cel_l(l), cel_b(p)),
            L::MapIf(l, v, p, t) => format!("{}.map({v}, {}, {})", cel_l(l), cel_b(p), cel_i(t)),
        }
    }

    /// The defs: `f(a, h)` (a bool that may call `k`) and `k(x)` (an int).
    struct Defs {
        f: B,
        k: I,
    }

    /// Variables in scope, innermost last.
    type Env = Vec<(&'static str, i64)>;

    fn globals() -> Env {
        GLOBALS.to_vec()
    }
    fn lookup(env: &Env, v: &str) -> i64 {
        env.iter()
            .rev()
            .find(|(n, _)| *n == v)
            .map_or(0, |(_, x)| *x)
    }
    fn with(env: &Env, v: &'static str, x: i64) -> Env {
        let mut e = env.clone();
        e.push((v, x));
        e
    }

    fn ev_i(e: &I, env: &Env, d: &Defs) -> i64 {
        match e {
            I::Lit(n) => *n,
            I::Var(v) => lookup(env, v),
            I::Add(a, b) => ev_i(a, env, d) + ev_i(b, env, d),
            I::Size(l) => ev_l(l, env, d).len() as i64,
            I::K(a) => {
                let arg = ev_i(a, env, d);
                ev_i(&d.k, &with(&globals(), "x", arg), d)
            }
        }
    }
    fn ev_b(e: &B, env: &Env, d: &Defs) -> bool {
        match e {
            B::Eq(a, b) => ev_i(a, env, d) == ev_i(b, env, d),
            B::Lt(a, b) => ev_i(a, env, d) < ev_i(b, env, d),
            B::And(a, b) => ev_b(a, env, d) && ev_b(b, env, d),
            B::Or(a, b) => ev_b(a, env, d) || ev_b(b, env, d),
            B::Not(a) => !ev_b(a, env, d),
            B::Macro(m, l, v, p) => {
                let items = ev_l(l, env, d);
                let hits = items.iter().filter(|x| ev_b(p, &with(env, v, **x), d));
                match *m {
                    "all" => hits.count() == items.len(),
                    "exists" => hits.count() > 0,
                    _ => hits.count() == 1,
                }
            }
            B::F(a, h) => {
                let (a, h) = (ev_i(a, env, d), ev_i(h, env, d));
                ev_b(&d.f, &with(&with(&globals(), "a", a), "h", h), d)
            }
        }
    }
    fn ev_l(e: &L, env: &Env, d: &Defs) -> Vec<i64> {
        match e {
            L::Xs => XS.to_vec(),
            L::Lit(xs) => xs.iter().map(|x| ev_i(x, env, d)).collect(),
            L::Map(l, v, t) => ev_l(l, env, d)
                .into_iter()
                .map(|x| ev_i(t, &with(env, v, x), d))
                .collect(),
            L::Filter(l, v, p) => ev_l(l, env, d)
                .into_iter()
                .filter(|x| ev_b(p, &with(env, v, *x), d))
                .collect(),
            L::MapIf(l, v, p, t) => ev_l(l, env, d)
                .into_iter()
                .filter(|x| ev_b(p, &with(env, v, *x), d))
                .map(|x| ev_i(t, &with(env, v, x), d))
                .collect(),
        }
    }

    /// Stack for parsing and running one generated case: the `cel` crate's
    /// parser recurses deeply on the inlined text, past a test thread's 2 MiB
    /// in debug builds for the biggest cases.
    const CASE_STACK: usize = 64 << 20;

    fn run_cel(text: &str) -> Result<bool, String> {
        let text = text.to_string();
        std::thread::Builder::new()
            .stack_size(CASE_STACK)
            .spawn(move || run_cel_here(&text))
            .map_err(|e| e.to_string())?
            .join()
            .map_err(|_| "the CEL run panicked".to_string())?
    }

    fn run_cel_here(text: &str) -> Result<bool, String> {
        let program = cel::Program::compile(text).map_err(|e| format!("{e:?}"))?;
        let mut ctx = cel::Context::default();
        for (n, v) in GLOBALS {
            ctx.add_variable(*n, *v).map_err(|e| format!("{e:?}"))?;
        }
        ctx.add_variable("xs", XS.to_vec())
            .map_err(|e| format!("{e:?}"))?;
        match program.execute(&ctx) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            other => Err(format!("{other:?}")),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn inlining_preserves_meaning(seed in 1u64..) {
            let mut r = Rng(seed);
            let k = gen_i(&mut r, 2, Calls { f: false, k: false });
            let f = gen_b(&mut r, 3, Calls { f: false, k: true });
            let site = gen_b(&mut r, 3, Calls { f: true, k: true });
            let mut defs = HashMap::new();
            defs.insert("f".to_string(), DefBody {
                params: vec!["a".into(), "h".into()],
                call: true,
                body: cel_b(&f),
            });
            defs.insert("k".to_string(), DefBody {
                params: vec!["x".into()],
                call: true,
                body: cel_i(&k),
            });
            let text = cel_b(&site);
            let inlined = inline(&text, &defs).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let want = ev_b(&site, &globals(), &Defs { f, k });
            let got = run_cel(&inlined).map_err(TestCaseError::fail)?;
            prop_assert_eq!(got, want, "site {}\ninlined {}", text, inlined);
        }
    }
}
