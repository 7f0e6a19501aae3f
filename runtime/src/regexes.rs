//! `matches` with compiled regexes kept: the `cel` crate's own `matches`
//! compiles its pattern on every call (most of a Dockerfile rule's time).
//!
//! When a program is instrumented ([`crate::budget::instrument`]), every
//! `s.matches(re)` and `matches(s, re)` is lowered to a call of [`MEMBER`] or
//! [`GLOBAL`], which looks the pattern up in a per-thread cache of compiled
//! regexes: a pattern written in the policy (a literal, a `const`, a `param`)
//! is compiled once per evaluation thread, on its first use, and a pattern
//! built from the document goes through the same cache. The cache is bounded
//! ([`MAX_CACHED_PATTERNS`] patterns of at most [`MAX_CACHED_PATTERN_BYTES`]
//! bytes, each compiled within [`CACHED_REGEX_SIZE_LIMIT`]); whatever does
//! not fit is compiled for the call alone, as before.
//!
//! Semantics are the crate's: a pattern is compiled with the same defaults
//! (`regex::Regex::new`, its size and nesting limits included), an invalid
//! one fails with the same error, and a call whose operands are not both
//! strings is handed back to the crate's `matches` (its overload error).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cel::common::ast::{CallExpr, Expr};
use cel::common::types::{CelBool, CelString};
use cel::common::value::{CowVal, Val};
use cel::parser::Expression;
use cel::{ExecutionError, FunctionContext, Value};
use regex::{Regex, RegexBuilder};

/// `s.matches(re)` lowered: `@rampart_matches(s, re)`.
pub const MEMBER: &str = "@rampart_matches";
/// `matches(s, re)` lowered: `@rampart_matches_global(s, re)`.
pub const GLOBAL: &str = "@rampart_matches_global";

/// Compiled patterns kept per evaluation thread; when the cache is full it
/// is emptied and starts again (a policy that builds patterns from the
/// document pays one compilation per call, as without a cache).
pub const MAX_CACHED_PATTERNS: usize = 64;

/// Longest pattern kept in the cache (a longer one is compiled per call).
pub const MAX_CACHED_PATTERN_BYTES: usize = 4096;

/// Compiled size (the `regex` crate's `size_limit`) within which a pattern
/// is kept in the cache; a bigger one (up to the crate's default limit, which
/// still applies) is compiled per call. Bounds the cache's memory.
pub const CACHED_REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// Lazy-DFA cache of a kept regex (speed only; a regex whose DFA outgrows it
/// falls back to slower search, same answers).
const CACHED_REGEX_DFA_LIMIT: usize = 256 * 1024;

thread_local! {
    static CACHE: RefCell<HashMap<Box<str>, Rc<Regex>>> = RefCell::new(HashMap::new());
    /// Patterns compiled on this thread (for tests).
    static COMPILES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The compiled `pattern`, from the cache when it can be; the crate's error
/// when it is not a valid regex.
fn compiled(pattern: &str) -> Result<Rc<Regex>, ExecutionError> {
    let cacheable = pattern.len() <= MAX_CACHED_PATTERN_BYTES;
    if cacheable {
        if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
            return Ok(re);
        }
        COMPILES.with(|n| n.set(n.get() + 1));
        if let Ok(re) = RegexBuilder::new(pattern)
            .size_limit(CACHED_REGEX_SIZE_LIMIT)
            .dfa_size_limit(CACHED_REGEX_DFA_LIMIT)
            .build()
        {
            let re = Rc::new(re);
            CACHE.with(|c| {
                let mut c = c.borrow_mut();
                if c.len() >= MAX_CACHED_PATTERNS {
                    c.clear();
                }
                c.insert(pattern.into(), Rc::clone(&re));
            });
            return Ok(re);
        }
    }
    // Not kept (too long, too big, or invalid): the crate's own compile,
    // limits and error message.
    COMPILES.with(|n| n.set(n.get() + 1));
    Regex::new(pattern)
        .map(Rc::new)
        .map_err(|err| ExecutionError::FunctionError {
            function: "matches".to_string(),
            message: format!("'{pattern}' not a valid regex:\n{err}"),
        })
}

/// Registers [`MEMBER`] and [`GLOBAL`] on a root context.
/// Whether `s` matches `pattern`, compiled as [`MEMBER`] compiles it (the
/// fast evaluator's `matches`; an invalid pattern is an error).
pub(crate) fn is_match(s: &str, pattern: &str) -> Result<bool, ExecutionError> {
    Ok(compiled(pattern)?.is_match(s))
}

pub fn register(ctx: &mut cel::Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    ctx.add_function(MEMBER, Box::new(member_fn) as NativeFunction)?;
    ctx.add_function(GLOBAL, Box::new(global_fn) as NativeFunction)
}

/// The shape of a function that takes its arguments unconverted.
type NativeFunction = Box<
    dyn for<'c, 'v> Fn(&mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError>
        + Send
        + Sync,
>;

fn member_fn<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    run(ftx, true)
}

fn global_fn<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    run(ftx, false)
}

fn run<'c, 'v>(
    ftx: &mut FunctionContext<'c, 'v>,
    member: bool,
) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let (Some(s), Some(re)) = (ftx.args.first(), ftx.args.get(1)) else {
        return Err(ExecutionError::MissingArgumentOrTarget);
    };
    if let (Some(s), Some(re)) = (
        s.as_ref().downcast_ref::<CelString>(),
        re.as_ref().downcast_ref::<CelString>(),
    ) {
        let re = compiled(re.inner())?;
        return Ok(CowVal::owned(CelBool::from(re.is_match(s.inner()))));
    }
    // Not two strings: the crate's `matches` on the same values gives its
    // own answer (an overload error).
    let mut args = std::mem::take(&mut ftx.args).into_iter();
    let (Some(s), Some(re)) = (args.next(), args.next()) else {
        return Err(ExecutionError::MissingArgumentOrTarget);
    };
    let mut inner = ftx.ptx.new_inner_scope();
    inner.add_variable_as_val("@s", s.into_owned());
    inner.add_variable_as_val("@re", re.into_owned());
    let ident = |name: &str| Expression {
        id: 0,
        expr: Expr::Ident(name.to_string()),
    };
    let call = Expression {
        id: 0,
        expr: Expr::Call(if member {
            CallExpr {
                func_name: "matches".to_string(),
                target: Some(Box::new(ident("@s"))),
                args: vec![ident("@re")],
            }
        } else {
            CallExpr {
                func_name: "matches".to_string(),
                target: None,
                args: vec![ident("@s"), ident("@re")],
            }
        }),
    };
    match inner.resolve(&call)? {
        Value::Bool(b) => Ok(CowVal::owned(CelBool::from(b))),
        other => Box::<dyn Val>::try_from(other)
            .map(CowVal::Owned)
            .map_err(|_| ExecutionError::function_error("matches", "unexpected result")),
    }
}

/// Lowers a `matches` call (already instrumented) to [`MEMBER`] or
/// [`GLOBAL`]; false when `call` is not one.
pub fn lower(call: &mut CallExpr) -> bool {
    if call.func_name != "matches" {
        return false;
    }
    match (call.target.take(), call.args.len()) {
        (Some(t), 1) => {
            call.args.insert(0, *t);
            call.func_name = MEMBER.to_string();
            true
        }
        (None, 2) => {
            call.func_name = GLOBAL.to_string();
            true
        }
        (t, _) => {
            call.target = t;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_is_bounded_and_reused() {
        CACHE.with(|c| c.borrow_mut().clear());
        let a = compiled("^a+$").unwrap();
        let b = compiled("^a+$").unwrap();
        assert!(Rc::ptr_eq(&a, &b));
        for i in 0..(MAX_CACHED_PATTERNS * 3) {
            assert!(compiled(&format!("^x{i}$"))
                .unwrap()
                .is_match(&format!("x{i}")));
            assert!(CACHE.with(|c| c.borrow().len()) <= MAX_CACHED_PATTERNS);
        }
        // Too long to keep: compiled, not cached.
        let long = "a".repeat(MAX_CACHED_PATTERN_BYTES + 1);
        assert!(compiled(&long).unwrap().is_match(&long));
        assert!(CACHE.with(|c| !c.borrow().contains_key(long.as_str())));
        // Beyond the cache's size limit but within the crate's: compiled
        // per call, same answer.
        let big = [10, 20, 50, 100, 200, 500]
            .map(|n| format!("\\w{{{n}}}"))
            .into_iter()
            .find(|p| {
                RegexBuilder::new(p)
                    .size_limit(CACHED_REGEX_SIZE_LIMIT)
                    .build()
                    .is_err()
                    && Regex::new(p).is_ok()
            })
            .unwrap();
        assert!(compiled(&big).is_ok());
        assert!(CACHE.with(|c| !c.borrow().contains_key(big.as_str())));
        // Beyond the crate's own limit: its error.
        let huge = "\\w{50000}";
        let err = compiled(huge).unwrap_err();
        assert!(
            matches!(err, ExecutionError::FunctionError { .. }),
            "{err:?}"
        );
    }

    /// A literal pattern and a constant one matched against a thousand
    /// items are compiled once each (the crate compiled one per call).
    #[test]
    fn patterns_are_compiled_once_per_thread() {
        let env = crate::engine::cel_env().unwrap();
        let mut ctx = cel::Context::with_env(std::sync::Arc::clone(&env));
        crate::budget::register(&mut ctx).unwrap();
        ctx.add_variable_from_value("p", Value::from("^item-[0-9]+$"));
        let items: Vec<String> = (0..1000).map(|i| format!("item-{i}")).collect();
        ctx.add_variable_from_value("l", Value::from(items));
        let program = env
            .compile("l.all(s, s.matches(p) && matches(s, '^item-') && s.matches('[0-9]$'))")
            .unwrap();
        let lowered = crate::budget::instrument(program.expression());
        CACHE.with(|c| c.borrow_mut().clear());
        let before = COMPILES.with(std::cell::Cell::get);
        crate::budget::start(crate::budget::MAX_EVAL_UNITS);
        assert_eq!(
            crate::budget::execute(&lowered, &ctx),
            Ok(Value::Bool(true))
        );
        assert_eq!(COMPILES.with(std::cell::Cell::get) - before, 3);
    }

    /// The lowered call answers as the crate's `matches` does, errors
    /// included (overloads, invalid patterns), in both call forms.
    #[test]
    fn same_answers_as_the_crate() {
        let env = crate::engine::cel_env().unwrap();
        let mut ctx = cel::Context::with_env(std::sync::Arc::clone(&env));
        crate::budget::register(&mut ctx).unwrap();
        ctx.add_variable_from_value("n", Value::Int(1));
        ctx.add_variable_from_value("p", Value::from("^a(b|c)$"));
        ctx.add_variable_from_value("l", Value::from(vec!["ab", "ad", "ac"]));
        for src in [
            "'abc'.matches('^a')",
            "matches('abc', 'c$')",
            "'ab'.matches(p) && !'ad'.matches(p)",
            "l.filter(s, s.matches(p))",
            "l.exists(s, matches(s, '^a' + 'd'))",
            "'abc'.matches('(')",
            "matches('abc', '(')",
            "n.matches('a')",
            "matches(n, 'a')",
            "'a'.matches(n)",
            "l.matches('a')",
            "'a'.matches(l)",
            "'x'.matches('\\\\w{50000}')",
        ] {
            let program = env.compile(src).unwrap();
            let lowered = crate::budget::instrument(program.expression());
            assert!(
                format!("{lowered:?}").contains(MEMBER) || format!("{lowered:?}").contains(GLOBAL)
            );
            let theirs = program.execute(&ctx);
            crate::budget::start(1000);
            let ours = crate::budget::execute(&lowered, &ctx).map_err(|f| match f {
                crate::budget::Failure::Error(e) => e,
                crate::budget::Failure::Budget(m) => panic!("{m}"),
            });
            assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{src}");
            if let (Err(a), Err(b)) = (&ours, &theirs) {
                assert_eq!(
                    crate::budget::describe_error(a),
                    crate::budget::describe_error(b)
                );
            }
        }
    }
}
