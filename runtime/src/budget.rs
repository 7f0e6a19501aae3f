//! The evaluation budget of CEL expressions.
//!
//! The `cel` crate has no step counter, interrupt or deadline: a program runs
//! to its end. A policy is attacker-controlled input (a repository's
//! `rampart.yaml` can name policy files), and three nested comprehensions of
//! 1,000 items are a billion steps. So programs are *instrumented* once, when
//! they are compiled: the syntax tree is rewritten so that
//! - the range of every comprehension (`all`, `exists`, `exists_one`, `map`,
//!   `filter`) passes through [`CHARGE`], which charges one unit per item
//!   *before* the loop starts, and
//! - the result of every operation that can build a larger value than its
//!   operands (`+`, list and map literals) passes through [`CHARGE`],
//!   which charges one unit per list item or map entry and one per
//!   [`BYTES_PER_UNIT`] bytes of a string; `replace` and `join`, whose
//!   results can be the product of their operands' sizes, are run by our own
//!   functions that charge the size of the result *before* building it, and
//!   the arguments of `format` are charged by their deep size first.
//!
//! Units are counted per thread, against [`MAX_EVAL_UNITS`] per rule and
//! document ([`start`] resets the count). Once spent, [`CHARGE`] fails and
//! keeps failing (an `exists` that would swallow one error meets the next at
//! once), and [`execute`] reports the budget rather than whatever value the
//! program still produced. The engine stops the rule on that document.
//!
//! - the operands of every other function call that can read a whole value
//!   (`matches`, `contains`, `startsWith`, `==`, `in`, the string extension,
//!   the runtime's own functions…) pass through [`READ`], which charges one
//!   unit per [`BYTES_PER_UNIT`] bytes of a string and one per list item
//!   *before* the call runs (a string under 64 bytes costs nothing, so
//!   ordinary policies are unaffected). Calls that only look at a value's
//!   header (`size`, `[_]`, `&&`, `||`, `!`, `?:`, arithmetic) and literal
//!   operands are not charged; a map is read by key, not charged by size.
//!
//! Limits of the design: `+` is charged after it is done (its result is at
//! most the sum of its operands), and a read is charged by the shallow size
//! of its operands (the items of a list, not what they hold).

use std::cell::Cell;

use cel::common::ast::{CallExpr, EntryExpr, Expr};
use cel::common::value::{CowVal, Val};
use cel::parser::Expression;
use cel::{Context, ExecutionError, FunctionContext, Value};

/// Units of work one rule may spend on one document (one unit per
/// comprehension item, per list item or map entry built, per
/// [`BYTES_PER_UNIT`] bytes of string built).
pub const MAX_EVAL_UNITS: u64 = 1_000_000;

/// Bytes of a built string that cost one unit.
pub const BYTES_PER_UNIT: u64 = 64;

/// The internal function that charges values (its name cannot be written in
/// a policy: CEL identifiers do not start with `@`).
pub const CHARGE: &str = "@rampart_charge";

/// What the user reads when the budget is spent.
pub fn exceeded_message(limit: u64) -> String {
    format!(
        "evaluation budget exceeded ({limit} units of work on this document: comprehension items and built values); the policy is skipped for the rest of this file"
    )
}

thread_local! {
    static LEFT: Cell<u64> = const { Cell::new(MAX_EVAL_UNITS) };
    static LIMIT: Cell<u64> = const { Cell::new(MAX_EVAL_UNITS) };
    static SPENT: Cell<bool> = const { Cell::new(false) };
}

/// Starts a budget of `units` on this thread (for a rule on a document, or
/// the compile-time evaluation of a constant).
pub fn start(units: u64) {
    LEFT.with(|l| l.set(units));
    LIMIT.with(|l| l.set(units));
    SPENT.with(|s| s.set(false));
}

/// Whether the budget started last on this thread is spent.
pub fn exhausted() -> bool {
    SPENT.with(Cell::get)
}

/// The budget's state on this thread, to [`restore`] after a fast
/// evaluation that gave up (the `cel` interpreter then runs it again).
pub(crate) fn save() -> (u64, bool) {
    (LEFT.with(Cell::get), exhausted())
}

/// Puts back a state taken by [`save`].
pub(crate) fn restore(state: (u64, bool)) {
    LEFT.with(|l| l.set(state.0));
    SPENT.with(|s| s.set(state.1));
}

/// Charges `units`; false (and spent from then on) when they are not left.
pub(crate) fn charge(units: u64) -> bool {
    if exhausted() {
        return false;
    }
    let left = LEFT.with(Cell::get);
    match left.checked_sub(units) {
        Some(l) => {
            LEFT.with(|c| c.set(l));
            true
        }
        None => {
            SPENT.with(|s| s.set(true));
            false
        }
    }
}

/// The cost of a value built or iterated.
fn cost(v: &dyn Val) -> u64 {
    if let Some(s) = v.downcast_ref::<cel::common::types::CelString>() {
        return (s.inner().len() as u64) / BYTES_PER_UNIT;
    }
    if let Some(b) = v.downcast_ref::<cel::common::types::CelBytes>() {
        return (b.inner().len() as u64) / BYTES_PER_UNIT;
    }
    v.as_sizer()
        .map_or(0, |s| u64::try_from(*s.size().inner()).unwrap_or(0))
}

/// The cost of reading a value whole: its bytes or list items (a map is
/// read by key, and costs nothing).
fn read_cost(v: &dyn Val) -> u64 {
    if v.downcast_ref::<cel::common::types::CelString>().is_some()
        || v.downcast_ref::<cel::common::types::CelBytes>().is_some()
        || v.downcast_ref::<cel::common::types::CelList>().is_some()
    {
        return cost(v);
    }
    0
}

/// The operand of a call that reads it whole, charged by its size first.
pub(crate) const READ: &str = "@rampart_read";
/// `t.replace(a, b[, n])`, its result charged before it is built.
pub(crate) const REPLACE: &str = "@rampart_replace";
/// `list.join([sep])`, its result charged before it is built.
pub(crate) const JOIN: &str = "@rampart_join";
/// The argument list of `format`, charged by its deep size before use.
const DEEP: &str = "@rampart_deep";

/// Registers the budget's functions on a root context.
pub fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    ctx.add_function(CHARGE, Box::new(charge_fn) as NativeFunction)?;
    ctx.add_function(READ, Box::new(read_fn) as NativeFunction)?;
    ctx.add_function(REPLACE, Box::new(replace_fn) as NativeFunction)?;
    ctx.add_function(JOIN, Box::new(join_fn) as NativeFunction)?;
    ctx.add_function(DEEP, Box::new(deep_fn) as NativeFunction)?;
    crate::regexes::register(ctx)
}

fn spent_error() -> ExecutionError {
    ExecutionError::function_error("evaluation budget", exceeded_message(LIMIT.with(Cell::get)))
}

fn string_arg<'a>(v: &'a CowVal<'_, '_>, f: &str) -> Result<&'a str, ExecutionError> {
    v.as_ref()
        .downcast_ref::<cel::common::types::CelString>()
        .map(|s| s.inner())
        .ok_or_else(|| ExecutionError::function_error(f, "expects strings"))
}

fn replace_fn<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = &ftx.args;
    let (Some(t), Some(from), Some(to)) = (args.first(), args.get(1), args.get(2)) else {
        return Err(ExecutionError::MissingArgumentOrTarget);
    };
    let (t, from, to) = (
        string_arg(t, "replace")?,
        string_arg(from, "replace")?,
        string_arg(to, "replace")?,
    );
    let limit = match args.get(3) {
        None => None,
        Some(n) => {
            let n = n
                .as_ref()
                .downcast_ref::<cel::common::types::CelInt>()
                .map(|i| *i.inner())
                .ok_or_else(|| ExecutionError::function_error("replace", "expects an int"))?;
            usize::try_from(n).ok()
        }
    };
    if !charge(replace_units(t, from, to, limit)) {
        return Err(spent_error());
    }
    Ok(CowVal::owned(cel::common::types::CelString::from(
        replaced(t, from, to, limit),
    )))
}

/// What `t.replace(from, to[, limit])` costs, charged before it is built:
/// one unit per [`BYTES_PER_UNIT`] bytes of the result (at most `t` plus one
/// `to` per occurrence; an empty `from` matches between every character).
pub(crate) fn replace_units(t: &str, from: &str, to: &str, limit: Option<usize>) -> u64 {
    let found = if from.is_empty() {
        t.chars().count() + 1
    } else {
        t.matches(from).count()
    };
    let n = limit.map_or(found, |l| l.min(found));
    let out = t.len() + n.saturating_mul(to.len());
    (out as u64) / BYTES_PER_UNIT + 1
}

/// `t.replace(from, to[, limit])` as CEL's strings extension defines it.
pub(crate) fn replaced(t: &str, from: &str, to: &str, limit: Option<usize>) -> String {
    match limit {
        Some(l) => t.replacen(from, to, l),
        None => t.replace(from, to),
    }
}

fn join_fn<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let args = &ftx.args;
    let Some(list) = args.first() else {
        return Err(ExecutionError::MissingArgumentOrTarget);
    };
    let sep = match args.get(1) {
        Some(s) => string_arg(s, "join")?,
        None => "",
    };
    let Some(items) = list.as_ref().as_iterable() else {
        return Err(ExecutionError::function_error("join", "expects a list"));
    };
    let mut parts: Vec<&str> = Vec::new();
    let mut out = 0usize;
    let mut it = items.iter();
    while let Some(item) = it.next() {
        let Some(s) = item.downcast_ref::<cel::common::types::CelString>() else {
            return Err(ExecutionError::function_error(
                "join",
                "expects a list of strings",
            ));
        };
        out = out.saturating_add(s.inner().len() + sep.len());
        parts.push(s.inner());
    }
    if !charge((out as u64) / BYTES_PER_UNIT + 1) {
        return Err(spent_error());
    }
    Ok(CowVal::owned(cel::common::types::CelString::from(
        parts.join(sep),
    )))
}

/// Charges the deep size of a value (strings, list items and map entries
/// reachable from it, shared ones each time they are reached), stopping as
/// soon as the budget is spent.
fn deep_fn<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let Some(v) = ftx.args.pop() else {
        return Err(ExecutionError::MissingArgumentOrTarget);
    };
    let mut bytes = 0u64;
    let mut stack: Vec<&dyn Val> = vec![v.as_ref()];
    while let Some(x) = stack.pop() {
        if let Some(s) = x.downcast_ref::<cel::common::types::CelString>() {
            bytes += s.inner().len() as u64;
            if bytes >= BYTES_PER_UNIT {
                if !charge(bytes / BYTES_PER_UNIT) {
                    return Err(spent_error());
                }
                bytes %= BYTES_PER_UNIT;
            }
        } else if let Some(items) = x.as_iterable() {
            if !charge(1) {
                return Err(spent_error());
            }
            let mut it = items.iter();
            while let Some(item) = it.next() {
                if !charge(1) {
                    return Err(spent_error());
                }
                stack.push(item);
            }
        }
    }
    Ok(v)
}

/// The shape of a function that takes its arguments unconverted (the
/// crate's own `Function` type, which it does not export by name).
type NativeFunction = Box<
    dyn for<'c, 'v> Fn(&mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError>
        + Send
        + Sync,
>;

fn charge_fn<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let Some(v) = ftx.args.pop() else {
        return Err(ExecutionError::MissingArgumentOrTarget);
    };
    if charge(cost(v.as_ref()).max(1)) {
        Ok(v)
    } else {
        Err(ExecutionError::function_error(
            "evaluation budget",
            exceeded_message(LIMIT.with(Cell::get)),
        ))
    }
}

fn read_fn<'c, 'v>(ftx: &mut FunctionContext<'c, 'v>) -> Result<CowVal<'c, 'v>, ExecutionError> {
    let Some(v) = ftx.args.pop() else {
        return Err(ExecutionError::MissingArgumentOrTarget);
    };
    if charge(read_cost(v.as_ref())) {
        Ok(v)
    } else {
        Err(spent_error())
    }
}

/// Calls whose operands are not read whole (or are charged otherwise):
/// logic, indexing, `size`, arithmetic, `+` (charged by its result), and
/// the budget's own functions.
fn reads(call: &CallExpr) -> bool {
    use cel::common::ast::operators as op;
    let name = call.func_name.as_str();
    !(name.starts_with("@rampart_")
        || [
            op::CONDITIONAL,
            op::LOGICAL_AND,
            op::LOGICAL_OR,
            op::LOGICAL_NOT,
            op::NOT_STRICTLY_FALSE,
            op::INDEX,
            op::OPT_INDEX,
            op::OPT_SELECT,
            op::ADD,
            op::SUBSTRACT,
            op::MULTIPLY,
            op::DIVIDE,
            op::MODULO,
            op::NEGATE,
            op::HAS,
            "size",
        ]
        .contains(&name))
}

fn wrap_read(e: &mut Expression) {
    if matches!(e.expr, Expr::Literal(_)) {
        return;
    }
    let inner = std::mem::take(e);
    *e = Expression {
        id: inner.id,
        expr: Expr::Call(CallExpr {
            func_name: READ.to_string(),
            target: None,
            args: vec![inner],
        }),
    };
}

/// Functions whose result can be larger than their operands.
fn builds(call: &CallExpr) -> bool {
    matches!(
        call.func_name.as_str(),
        "_+_" | "replace" | "join" | "format"
    )
}

fn wrap(e: Expression) -> Expression {
    Expression {
        id: e.id,
        expr: Expr::Call(CallExpr {
            func_name: CHARGE.to_string(),
            target: None,
            args: vec![e],
        }),
    }
}

/// `expr` with its comprehension ranges and built values charged.
pub fn instrument(expr: &Expression) -> Expression {
    let mut e = expr.clone();
    rewrite(&mut e);
    e
}

fn rewrite(e: &mut Expression) {
    match &mut e.expr {
        Expr::Call(call) => {
            if let Some(t) = call.target.as_deref_mut() {
                rewrite(t);
            }
            for a in &mut call.args {
                rewrite(a);
            }
            if reads(call) {
                if let Some(t) = call.target.as_deref_mut() {
                    wrap_read(t);
                }
                call.args.iter_mut().for_each(wrap_read);
            }
            match (
                call.func_name.as_str(),
                call.target.is_some(),
                call.args.len(),
            ) {
                ("replace", true, 2 | 3) | ("join", true, 0 | 1) => {
                    // Our own, charged before the result is built.
                    let name = if call.func_name == "replace" {
                        REPLACE
                    } else {
                        JOIN
                    };
                    let target = call.target.take().map(|t| *t).unwrap_or_default();
                    let mut args = vec![target];
                    args.append(&mut call.args);
                    call.func_name = name.to_string();
                    call.args = args;
                }
                ("format", true, 1) => {
                    if let Some(a) = call.args.pop() {
                        call.args.push(Expression {
                            id: a.id,
                            expr: Expr::Call(CallExpr {
                                func_name: DEEP.to_string(),
                                target: None,
                                args: vec![a],
                            }),
                        });
                    }
                    let inner = std::mem::take(e);
                    *e = wrap(inner);
                }
                ("matches", true, 1) | ("matches", false, 2) => {
                    // Compiled regexes kept (its operands are charged above).
                    crate::regexes::lower(call);
                }
                _ if builds(call) => {
                    let inner = std::mem::take(e);
                    *e = wrap(inner);
                }
                _ => {}
            }
        }
        Expr::Comprehension(c) => {
            rewrite(&mut c.iter_range);
            rewrite(&mut c.accu_init);
            rewrite(&mut c.loop_cond);
            let accu = c.accu_var.clone();
            rewrite_step(&mut c.loop_step, &accu);
            rewrite(&mut c.result);
            let range = std::mem::take(&mut c.iter_range);
            c.iter_range = wrap(range);
        }
        Expr::List(l) => {
            l.elements.iter_mut().for_each(rewrite);
            let inner = std::mem::take(e);
            *e = wrap(inner);
        }
        Expr::Map(m) => {
            for entry in &mut m.entries {
                if let EntryExpr::MapEntry(me) = &mut entry.expr {
                    rewrite(&mut me.key);
                    rewrite(&mut me.value);
                }
            }
            let inner = std::mem::take(e);
            *e = wrap(inner);
        }
        Expr::Struct(s) => {
            for entry in &mut s.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(me) => {
                        rewrite(&mut me.key);
                        rewrite(&mut me.value);
                    }
                    EntryExpr::StructField(f) => rewrite(&mut f.value),
                }
            }
        }
        Expr::Select(s) => rewrite(&mut s.operand),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The loop step of a comprehension: the `@result + [item]` that `map` and
/// `filter` append with (also under `cond ? … : @result`) is left as the
/// macro wrote it, so the crate still appends in place (a wrapped step
/// would copy the accumulator on every item); what is inside is instrumented.
fn rewrite_step(step: &mut Expression, accu: &str) {
    let is_accu = |e: &Expression| matches!(&e.expr, Expr::Ident(n) if n == accu);
    if let Expr::Call(call) = &mut step.expr {
        if call.target.is_none() && call.func_name == "_+_" {
            if let [first, second] = call.args.as_mut_slice() {
                if is_accu(first) {
                    if let Expr::List(l) = &mut second.expr {
                        l.elements.iter_mut().for_each(rewrite);
                        return;
                    }
                }
            }
        }
        if call.target.is_none() && call.func_name == "_?_:_" {
            if let [cond, then, otherwise] = call.args.as_mut_slice() {
                if is_accu(otherwise) {
                    rewrite(cond);
                    rewrite_step(then, accu);
                    return;
                }
            }
        }
    }
    rewrite(step);
}

/// Why an instrumented program failed: the budget, or the program itself.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The budget started last is spent (whatever the program returned).
    Budget(String),
    /// The program failed.
    Error(ExecutionError),
}

/// Evaluates an instrumented program against the budget started last.
pub fn execute(expr: &Expression, ctx: &Context<'_, '_>) -> Result<Value, Failure> {
    let r = ctx.resolve(expr);
    if exhausted() {
        return Err(Failure::Budget(exceeded_message(LIMIT.with(Cell::get))));
    }
    r.map_err(Failure::Error)
}

/// An evaluation error in words, without the crate's debug dumps of values
/// (which would print document values, secrets included, verbatim).
pub fn describe_error(e: &ExecutionError) -> String {
    let ty = |v: &Value| crate::cel_value::type_name(v).to_string();
    match e {
        ExecutionError::InvalidArgumentCount { expected, actual } => {
            format!("wrong number of arguments: expected {expected}, got {actual}")
        }
        ExecutionError::UnsupportedTargetType { target } => {
            format!("a `{}` cannot be used here", ty(target))
        }
        ExecutionError::NotSupportedAsMethod { method, target } => {
            format!("`{method}` cannot be called on a `{}`", ty(target))
        }
        ExecutionError::UnsupportedKeyType(v) => format!("a `{}` cannot be a map key", ty(v)),
        ExecutionError::UnexpectedType { got, want } => {
            // `got` is sometimes a type name, sometimes a debug dump of a value.
            if got.len() <= 24 && got.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                format!("expected a `{want}`, got a `{got}`")
            } else {
                format!("expected a `{want}`, got a value of another type")
            }
        }
        ExecutionError::NoSuchKey(k) => format!("no such key `{k}`"),
        ExecutionError::UndeclaredReference(r) => format!("unknown name `{r}`"),
        ExecutionError::MissingArgumentOrTarget => "missing argument".to_string(),
        ExecutionError::ValuesNotComparable(a, b) => {
            format!("a `{}` cannot be compared to a `{}`", ty(a), ty(b))
        }
        ExecutionError::UnsupportedBinaryOperator(op, a, b) => {
            format!("`{op}` does not apply to a `{}` and a `{}`", ty(a), ty(b))
        }
        ExecutionError::UnsupportedIndex(i, v) => {
            format!("a `{}` cannot index a `{}`", ty(i), ty(v))
        }
        ExecutionError::FunctionError { function, message } => {
            if function == "evaluation budget" {
                message.clone()
            } else {
                format!("`{function}` failed: {message}")
            }
        }
        ExecutionError::DivisionByZero(_) => "division by zero".to_string(),
        ExecutionError::RemainderByZero(_) => "remainder by zero".to_string(),
        ExecutionError::Overflow(op, _, _) => format!("`{op}` overflows"),
        ExecutionError::IndexOutOfBounds(i) => match i {
            Value::Int(n) => format!("index {n} out of bounds"),
            Value::UInt(n) => format!("index {n} out of bounds"),
            _ => "index out of bounds".to_string(),
        },
        ExecutionError::DuplicateKey(_) => "a map literal repeats a key".to_string(),
        // The overload error's own text names the function and the types.
        ExecutionError::NoSuchOverload(_) => e.to_string(),
        _ => "the expression cannot be evaluated".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, units: u64) -> Result<Value, Failure> {
        let env = crate::engine::cel_env().unwrap();
        let program = env.compile(src).unwrap();
        let mut ctx = Context::with_env(env);
        register(&mut ctx).unwrap();
        let e = instrument(program.expression());
        start(units);
        execute(&e, &ctx)
    }

    #[test]
    fn programs_under_budget_are_unchanged() {
        assert_eq!(
            run("[1, 2, 3].map(x, x * 2)", 100),
            Ok(Value::from(vec![2, 4, 6]))
        );
        assert_eq!(
            run("[1, 2, 3].exists(x, x == 2)", 100),
            Ok(Value::Bool(true))
        );
        assert_eq!(run("'a' + 'b'", 100), Ok(Value::from("ab")));
        assert_eq!(
            run("['a', 'b'].join('-').replace('-', '+')", 100),
            Ok(Value::from("a+b"))
        );
    }

    #[test]
    fn runaway_comprehension_is_stopped_early() {
        // 100^3 = a million inner steps; the budget of 10,000 stops it after
        // about a hundredth of that.
        let r: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
        let r = format!("[{}]", r.join(","));
        let src = format!("{r}.exists(a, {r}.exists(b, {r}.exists(c, c == a * b + 1000000)))");
        assert!(matches!(run(&src, 10_000), Err(Failure::Budget(_))));
        assert!(exhausted());
        // A swallowed error (`error || true`) still reports the budget.
        let src = format!("{r}.exists(a, {r}.map(b, b).size() == 0) || true");
        assert!(matches!(run(&src, 50), Err(Failure::Budget(_))));
        // A fresh budget starts clean.
        assert_eq!(run("[1].all(x, x == 1)", 10), Ok(Value::Bool(true)));
    }

    #[test]
    fn errors_read_without_debug_dumps() {
        let Err(Failure::Error(e)) = run("'secret-value' < 1", 100) else {
            panic!()
        };
        let m = describe_error(&e);
        assert!(!m.contains("secret-value") && !m.contains("String("), "{m}");
        let Err(Failure::Error(e)) = run("[1][5]", 100) else {
            panic!()
        };
        assert_eq!(describe_error(&e), "index 5 out of bounds");
        let Err(Failure::Error(e)) = run("1 / 0", 100) else {
            panic!()
        };
        assert_eq!(describe_error(&e), "division by zero");
    }

    #[test]
    fn map_and_filter_are_charged_linearly() {
        // 5,000 items: charged about 3 units each (the literal, the range,
        // the items built), not the accumulator on every step.
        let r: Vec<String> = (1..=5000).map(|i| i.to_string()).collect();
        let r = format!("[{}]", r.join(","));
        let src = format!("{r}.map(x, x + 1).filter(x, x % 2 == 0).size()");
        assert_eq!(run(&src, 40_000), Ok(Value::Int(2500)));
        // Nested literals are charged: ten levels of ten-item lists.
        let mut src = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]".to_string();
        for _ in 0..7 {
            src = format!("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(x, {src})");
        }
        assert!(matches!(run(&src, 100_000), Err(Failure::Budget(_))));
    }

    #[test]
    fn replace_and_join_are_charged_before_they_build() {
        // Same results as the strings extension.
        assert_eq!(
            run("'a-b-c'.replace('-', '+')", 100),
            Ok(Value::from("a+b+c"))
        );
        assert_eq!(
            run("'a-b-c'.replace('-', '+', 1)", 100),
            Ok(Value::from("a+b-c"))
        );
        assert_eq!(run("'ab'.replace('', '.')", 100), Ok(Value::from(".a.b.")));
        assert_eq!(run("['a', 'b'].join()", 100), Ok(Value::from("ab")));
        assert_eq!(run("['a', 'b'].join(', ')", 100), Ok(Value::from("a, b")));
        assert_eq!(run("'%s-%d'.format(['a', 1])", 100), Ok(Value::from("a-1")));
        // Each `replace` multiplies by 1,000: 10^15 bytes unchecked.
        let big = "x".repeat(1000);
        let src = format!(
            "'aaaa'.replace('a', '{big}').replace('x', '{big}').replace('x', '{big}').replace('x', '{big}').replace('x', '{big}')"
        );
        assert!(matches!(run(&src, 1_000_000), Err(Failure::Budget(_))));
        // A thousand short strings joined by a megabyte: a gigabyte.
        let items = vec!["'a'"; 1000].join(",");
        let src = format!("[{items}].join('{big}'.replace('x', '{big}'))");
        assert!(matches!(run(&src, 1_000_000), Err(Failure::Budget(_))));
        let src =
            format!("'%s'.format([[1,2,3,4,5,6,7,8,9,10].map(i, '{big}'.replace('x', '{big}'))])");
        assert!(matches!(run(&src, 100_000), Err(Failure::Budget(_))));
    }

    #[test]
    fn reads_of_large_strings_are_charged() {
        // A megabyte matched ten thousand times: 10 GB of regex scanning
        // while the loops themselves cost 10,100 units.
        let l: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let l = format!("[{}]", l.join(","));
        let big = "ab".repeat(1 << 19);
        for read in [
            "s.matches('(a|b)[^ab]')",
            "s.contains('c')",
            "s.startsWith('c')",
            "s.endsWith('c')",
            "s == 'c'",
            "s.lowerAscii() == 'c'",
        ] {
            let src = format!("{l}.exists(i, {l}.exists(j, ['{big}'].exists(s, {read})))");
            let r = run(&src, MAX_EVAL_UNITS);
            assert!(matches!(r, Err(Failure::Budget(_))), "{read}: {r:?}");
        }
        // `in` on a long list is charged by its items.
        let src = format!("{l}.exists(i, {l}.exists(j, {l}.map(x, x).exists(k, 1000 in {l})))");
        assert!(matches!(run(&src, MAX_EVAL_UNITS), Err(Failure::Budget(_))));
        // Short strings and O(1) reads cost nothing extra.
        let src = format!(
            "[{l}].all(m, m.all(i, 'abc'.matches('b') && m.size() == 100 && m[i] == i && i in [i]))"
        );
        assert_eq!(run(&src, 500), Ok(Value::Bool(true)));
    }

    #[test]
    fn doubling_strings_are_charged() {
        // Each level doubles the string with a single comprehension step:
        // 2^32 * 16 bytes unchecked. (A big stack for the debug parser.)
        let t = std::thread::Builder::new().stack_size(64 << 20).spawn(|| {
            let mut src = "'0123456789abcdef'".to_string();
            for _ in 0..32 {
                src = format!("[{src}].map(s, s + s)[0]");
            }
            run(&src, 100_000)
        });
        let r = t.unwrap().join().unwrap();
        assert!(matches!(r, Err(Failure::Budget(_))), "{r:?}");
    }
}
