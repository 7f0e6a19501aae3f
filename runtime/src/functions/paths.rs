//! Paths and globs.

use std::sync::Arc;

use cel::Context;

use super::{sig, Signature};
use crate::schema::Type;

/// Whether `path` is `dir` or lies below it (`/etc/ssl` is under `/etc`).
pub fn is_under(path: &str, dir: &str) -> bool {
    let p = path.trim_end_matches('/');
    let d = dir.trim_end_matches('/');
    if d.is_empty() {
        // `/`: only the root itself.
        return p.is_empty() && path.starts_with('/');
    }
    p == d || p.strip_prefix(d).is_some_and(|rest| rest.starts_with('/'))
}

/// Shell-style match: `*` matches any run of characters, `?` one character.
pub fn glob_match(text: &str, pattern: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

pub(crate) fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    ctx.add_function("is_under", |p: Arc<String>, d: Arc<String>| {
        is_under(&p, &d)
    })?;
    ctx.add_function("glob_match", |t: Arc<String>, p: Arc<String>| {
        glob_match(&t, &p)
    })?;
    Ok(())
}

pub(crate) fn signatures() -> Vec<Signature> {
    vec![
        sig(
            "is_under",
            &[("path", Type::String), ("dir", Type::String)],
            Type::Bool,
            "whether a path is the directory or lies below it (`/etc/ssl` is under `/etc`; `/` only matches `/`)",
        ),
        sig(
            "glob_match",
            &[("text", Type::String), ("pattern", Type::String)],
            Type::Bool,
            "shell-style match: `*` any run of characters, `?` one character",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn under() {
        assert!(is_under("/etc", "/etc"));
        assert!(is_under("/etc/ssl/", "/etc"));
        assert!(!is_under("/etcetera", "/etc"));
        assert!(is_under("/", "/"));
        assert!(!is_under("/srv", "/"));
    }

    #[test]
    fn globs() {
        assert!(glob_match("/admin/users", "/admin*"));
        assert!(glob_match("/api-admin", "/api-admin*"));
        assert!(!glob_match("/public", "/admin*"));
        assert!(glob_match("abc", "a?c"));
        assert!(glob_match("", "*"));
    }

    proptest! {
        #[test]
        fn glob_never_panics(t in "\\PC{0,12}", p in "[a*?/]{0,8}") {
            let _ = glob_match(&t, &p);
        }
    }
}
