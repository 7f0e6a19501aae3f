//! The fast evaluator: rule expressions compiled to a tree that reads
//! [`Node`]s directly, with the `cel` interpreter as reference and fallback.
//!
//! [`Prog::compile`] turns a budget-instrumented expression
//! ([`crate::budget::instrument`]) into a tree over the subset of CEL the
//! standard library uses; anything else is `None` and keeps running on the
//! `cel` crate. [`Prog::eval`] reads documents through [`V`], which borrows
//! lists, objects and strings from the [`Node`] tree (owned values only for
//! what an expression computes).
//!
//! Semantics are the crate's by construction where it matters: on *any*
//! error, and on every case this evaluator does not decide for certain (mixed
//! types compared, a missing field, an overflow, a charge the budget cannot
//! pay…), [`Prog::eval`] gives up with [`Fallback`]; the engine then restores
//! the budget to what it was and runs the expression on the crate, whose
//! value or error is the answer. Budget units are charged where the
//! instrumented tree has its `@rampart_charge` / `@rampart_read` nodes, with
//! the same costs, so a successful fast run spends what the crate spends.

use std::rc::Rc;

use cel::common::ast::{operators as op, ComprehensionExpr, Expr as Ast, LiteralValue};
use cel::parser::Expression;
use cel::Value as CelValue;

use crate::budget::{self, BYTES_PER_UNIT};
use crate::model::{Node, Value};

/// A value during fast evaluation: borrowed from the document (or a rule's
/// constants) where it can be, owned when computed.
#[derive(Clone, Debug)]
pub enum V<'a> {
    /// `null`.
    Null,
    /// A bool.
    Bool(bool),
    /// An int.
    Int(i64),
    /// A uint (literals only).
    UInt(u64),
    /// A double.
    Float(f64),
    /// A borrowed string.
    Str(&'a str),
    /// A computed string.
    OStr(Rc<str>),
    /// A document list.
    List(&'a [Node]),
    /// A computed list.
    OList(Rc<Vec<V<'a>>>),
    /// A document object (a map with string keys).
    Obj(&'a [(crate::model::Name, Node)]),
}

/// The fast path gave up: run the expression on the `cel` interpreter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fallback;

type R<'a> = Result<V<'a>, Fallback>;

impl<'a> V<'a> {
    /// The value of a node (borrowing it).
    pub fn of(node: &'a Node) -> V<'a> {
        match &node.value {
            Value::Null => V::Null,
            Value::Bool(b) => V::Bool(*b),
            Value::Int(i) => V::Int(*i),
            Value::Float(f) => V::Float(*f),
            Value::Str(s) => V::Str(s),
            Value::List(items) => V::List(items),
            Value::Object(fields) => V::Obj(fields),
            Value::Shared(n) => V::of(n),
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            V::Str(s) => Some(s),
            V::OStr(s) => Some(s),
            _ => None,
        }
    }

    fn list_len(&self) -> Option<usize> {
        match self {
            V::List(l) => Some(l.len()),
            V::OList(l) => Some(l.len()),
            _ => None,
        }
    }

    fn item(&self, i: usize) -> Option<V<'a>> {
        match self {
            V::List(l) => l.get(i).map(V::of),
            V::OList(l) => l.get(i).cloned(),
            _ => None,
        }
    }

    /// The value as the crate's (for messages and tests).
    pub fn to_cel(&self) -> CelValue {
        match self {
            V::Null => CelValue::Null,
            V::Bool(b) => CelValue::Bool(*b),
            V::Int(i) => CelValue::Int(*i),
            V::UInt(u) => CelValue::UInt(*u),
            V::Float(f) => CelValue::Float(*f),
            V::Str(s) => CelValue::String(std::sync::Arc::new((*s).to_string())),
            V::OStr(s) => CelValue::String(std::sync::Arc::new(s.to_string())),
            V::List(l) => CelValue::List(std::sync::Arc::new(
                l.iter().map(crate::cel_value::to_cel).collect(),
            )),
            V::OList(l) => CelValue::List(std::sync::Arc::new(l.iter().map(V::to_cel).collect())),
            V::Obj(fields) => {
                let map: std::collections::HashMap<cel::objects::Key, CelValue> = fields
                    .iter()
                    .map(|(k, v)| {
                        (
                            cel::objects::Key::String(std::sync::Arc::new(k.to_string())),
                            crate::cel_value::to_cel(v),
                        )
                    })
                    .collect();
                CelValue::Map(cel::objects::Map {
                    map: std::sync::Arc::new(map),
                })
            }
        }
    }
}

/// The field `name` of an object as the crate sees it (its map keeps the
/// last of repeated keys).
fn field<'a>(fields: &'a [(crate::model::Name, Node)], name: &str) -> Option<&'a Node> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| same_name(k, name))
        .map(|(_, v)| v)
}

use crate::model::same_name;

/// Whether an object repeats a key (its map would be smaller than it).
fn has_dups(fields: &[(crate::model::Name, Node)]) -> bool {
    fields
        .iter()
        .enumerate()
        .any(|(i, (k, _))| fields.iter().skip(i + 1).any(|(k2, _)| k2 == k))
}

/// Functions and operators the fast path runs itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Func {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Neg,
    In,
    Index,
    Size,
    StartsWith,
    EndsWith,
    Contains,
    Matches,
    LowerAscii,
    UpperAscii,
    Trim,
    Split,
    Substring,
    Join,
    Replace,
    Int,
    String,
    Charge,
    Read,
    // The runtime's own functions (crate::functions).
    IsLoopback,
    IsUnder,
    GlobMatch,
    SizeBytes,
    Header,
    HasHeader,
    IsSecretName,
    IsSecretValue,
    HasUrlCredentials,
    IsDummyUrl,
    SecretOptions,
    IsPlaceholder,
    IsWeakSecret,
    Redact,
}

/// The function a call names, given whether it has a target and its
/// argument count (the target not counted).
fn func(name: &str, member: bool, argc: usize) -> Option<Func> {
    use Func as F;
    Some(match (name, member, argc) {
        (op::EQUALS, false, 2) => F::Eq,
        (op::NOT_EQUALS, false, 2) => F::Ne,
        (op::LESS, false, 2) => F::Lt,
        (op::LESS_EQUALS, false, 2) => F::Le,
        (op::GREATER, false, 2) => F::Gt,
        (op::GREATER_EQUALS, false, 2) => F::Ge,
        (op::ADD, false, 2) => F::Add,
        (op::SUBSTRACT, false, 2) => F::Sub,
        (op::MULTIPLY, false, 2) => F::Mul,
        (op::DIVIDE, false, 2) => F::Div,
        (op::MODULO, false, 2) => F::Mod,
        (op::NEGATE, false, 1) => F::Neg,
        (op::IN, false, 2) => F::In,
        (op::INDEX, false, 2) => F::Index,
        ("size", false, 1) | ("size", true, 0) => F::Size,
        ("startsWith", true, 1) => F::StartsWith,
        ("endsWith", true, 1) => F::EndsWith,
        ("contains", true, 1) => F::Contains,
        (crate::regexes::MEMBER | crate::regexes::GLOBAL, false, 2) => F::Matches,
        ("lowerAscii", true, 0) => F::LowerAscii,
        ("upperAscii", true, 0) => F::UpperAscii,
        ("trim", true, 0) => F::Trim,
        ("split", true, 1) => F::Split,
        ("substring", true, 1 | 2) => F::Substring,
        (budget::JOIN, false, 1 | 2) => F::Join,
        (budget::REPLACE, false, 3 | 4) => F::Replace,
        ("int", false, 1) => F::Int,
        ("string", false, 1) => F::String,
        (budget::CHARGE, false, 1) => F::Charge,
        (budget::READ, false, 1) => F::Read,
        ("is_loopback", false, 1) => F::IsLoopback,
        ("is_under", false, 2) => F::IsUnder,
        ("glob_match", false, 2) => F::GlobMatch,
        ("size_bytes", false, 1) => F::SizeBytes,
        ("header", false, 2) => F::Header,
        ("has_header", false, 2) => F::HasHeader,
        ("is_secret_name", false, 1) => F::IsSecretName,
        ("is_secret_value", false, 1) => F::IsSecretValue,
        ("has_url_credentials", false, 1) => F::HasUrlCredentials,
        ("is_dummy_url", false, 1) => F::IsDummyUrl,
        ("secret_options", false, 1) => F::SecretOptions,
        ("is_placeholder", false, 3) => F::IsPlaceholder,
        ("is_weak_secret", false, 4) => F::IsWeakSecret,
        ("redact", false, 1) => F::Redact,
        _ => return None,
    })
}

/// A compiled node.
#[derive(Clone, Debug)]
enum F {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Ident(String),
    Select {
        operand: Box<F>,
        field: String,
        test: bool,
    },
    And(Box<F>, Box<F>),
    Or(Box<F>, Box<F>),
    Not(Box<F>),
    NotStrictlyFalse(Box<F>),
    Cond(Box<F>, Box<F>, Box<F>),
    List(Vec<F>),
    /// A call; a member call's target is its first argument. Arguments are
    /// evaluated in the crate's order (a target after its arguments).
    Call(Func, Vec<F>, bool),
    Comp(Box<Comp>),
}

/// A comprehension.
#[derive(Clone, Debug)]
struct Comp {
    range: F,
    var: String,
    accu: String,
    init: F,
    cond: F,
    step: Step,
    result: F,
}

/// A comprehension's loop step.
#[derive(Clone, Debug)]
enum Step {
    /// Any expression: the new accumulator.
    Any(F),
    /// `@result + [elem]`, under `cond ? … : @result` when there is a
    /// condition: appended in place (the crate does the same).
    Append { cond: Option<F>, elem: F },
}

/// The names an expression sees: bound names (the last binding of a name
/// wins), then a rule's constants and params.
#[derive(Debug)]
pub struct Env<'a> {
    vars: Vec<(&'a str, V<'a>)>,
    scope: &'a [(crate::model::Name, Node)],
}

impl<'a> Env<'a> {
    /// `bound` over `scope`.
    pub fn new(
        scope: &'a [(crate::model::Name, Node)],
        bound: impl IntoIterator<Item = (&'a str, V<'a>)>,
    ) -> Env<'a> {
        let mut vars = Vec::with_capacity(8);
        vars.extend(bound);
        Env { vars, scope }
    }
    fn len(&self) -> usize {
        self.vars.len()
    }
    fn push(&mut self, b: (&'a str, V<'a>)) {
        self.vars.push(b);
    }
    fn truncate(&mut self, n: usize) {
        self.vars.truncate(n);
    }
}

/// A compiled expression.
#[derive(Clone, Debug)]
pub struct Prog {
    root: F,
}

/// Why an expression is not on the fast path (for coverage reports).
pub type Unsupported = String;

impl Prog {
    /// Compiles an instrumented expression; `Err` names what is not
    /// supported.
    pub fn compile(e: &Expression) -> Result<Prog, Unsupported> {
        Ok(Prog { root: compile(e)? })
    }

    /// Evaluates with the names of `vars`.
    pub fn eval<'a>(&'a self, vars: &mut Env<'a>) -> Result<V<'a>, Fallback> {
        eval(&self.root, vars)
    }
}

fn compile(e: &Expression) -> Result<F, Unsupported> {
    Ok(match &e.expr {
        Ast::Literal(l) => match l {
            LiteralValue::Null => F::Null,
            LiteralValue::Boolean(b) => F::Bool(*b.inner()),
            LiteralValue::Int(i) => F::Int(*i.inner()),
            LiteralValue::UInt(u) => F::UInt(*u.inner()),
            LiteralValue::Double(d) => F::Float(*d.inner()),
            LiteralValue::String(s) => F::Str(s.inner().to_string()),
            LiteralValue::Bytes(_) => return Err("bytes literal".into()),
        },
        Ast::Ident(name) => F::Ident(name.clone()),
        Ast::Select(s) => F::Select {
            operand: Box::new(compile(&s.operand)?),
            field: s.field.clone(),
            test: s.test,
        },
        Ast::List(l) => {
            if !l.optional_indices.is_empty() {
                return Err("optional list element".into());
            }
            F::List(l.elements.iter().map(compile).collect::<Result<_, _>>()?)
        }
        Ast::Call(call) => {
            let name = call.func_name.as_str();
            let args = &call.args;
            match (name, args.as_slice(), &call.target) {
                (op::LOGICAL_AND, [a, b], None) => {
                    return Ok(F::And(Box::new(compile(a)?), Box::new(compile(b)?)))
                }
                (op::LOGICAL_OR, [a, b], None) => {
                    return Ok(F::Or(Box::new(compile(a)?), Box::new(compile(b)?)))
                }
                (op::LOGICAL_NOT, [a], None) => return Ok(F::Not(Box::new(compile(a)?))),
                (op::NOT_STRICTLY_FALSE, [a], None) => {
                    return Ok(F::NotStrictlyFalse(Box::new(compile(a)?)))
                }
                (op::CONDITIONAL, [c, t, f], None) => {
                    return Ok(F::Cond(
                        Box::new(compile(c)?),
                        Box::new(compile(t)?),
                        Box::new(compile(f)?),
                    ))
                }
                _ => {}
            }
            let Some(f) = func(name, call.target.is_some(), args.len()) else {
                return Err(format!(
                    "function `{name}`{} with {} argument(s)",
                    if call.target.is_some() {
                        " (member)"
                    } else {
                        ""
                    },
                    args.len()
                ));
            };
            let mut out = Vec::with_capacity(args.len() + 1);
            if let Some(t) = &call.target {
                out.push(compile(t)?);
            }
            for a in args {
                out.push(compile(a)?);
            }
            F::Call(f, out, call.target.is_some())
        }
        Ast::Comprehension(c) => F::Comp(Box::new(comprehension(c)?)),
        Ast::Map(_) => return Err("map literal".into()),
        Ast::Struct(_) => return Err("struct literal".into()),
        Ast::Unspecified => return Err("unspecified expression".into()),
    })
}

fn comprehension(c: &ComprehensionExpr) -> Result<Comp, Unsupported> {
    if c.iter_var2.is_some() {
        return Err("two-variable comprehension".into());
    }
    let is_accu = |e: &Expression| matches!(&e.expr, Ast::Ident(n) if *n == c.accu_var);
    // `@result + [e]`: the element, when the step is that.
    let append = |e: &Expression| -> Option<Result<F, Unsupported>> {
        let Ast::Call(call) = &e.expr else {
            return None;
        };
        if call.func_name != op::ADD || call.target.is_some() {
            return None;
        }
        let [first, second] = call.args.as_slice() else {
            return None;
        };
        if !is_accu(first) {
            return None;
        }
        let Ast::List(l) = &second.expr else {
            return None;
        };
        match l.elements.as_slice() {
            [one] if l.optional_indices.is_empty() => Some(compile(one)),
            _ => None,
        }
    };
    // The crate's own in-place append: when the result is the accumulator
    // and the loop condition a literal (`map`, `filter`).
    let appends = is_accu(&c.result) && matches!(c.loop_cond.expr, Ast::Literal(_));
    let mut step = None;
    if appends {
        if let Some(elem) = append(&c.loop_step) {
            step = Some(Step::Append {
                cond: None,
                elem: elem?,
            });
        } else if let Ast::Call(call) = &c.loop_step.expr {
            if call.func_name == op::CONDITIONAL && call.target.is_none() {
                if let [cond, then, otherwise] = call.args.as_slice() {
                    if is_accu(otherwise) {
                        if let Some(elem) = append(then) {
                            step = Some(Step::Append {
                                cond: Some(compile(cond)?),
                                elem: elem?,
                            });
                        }
                    }
                }
            }
        }
    }
    let step = match step {
        Some(s) => s,
        None => Step::Any(compile(&c.loop_step)?),
    };
    Ok(Comp {
        range: compile(&c.iter_range)?,
        var: c.iter_var.clone(),
        accu: c.accu_var.clone(),
        init: compile(&c.accu_init)?,
        cond: compile(&c.loop_cond)?,
        step,
        result: compile(&c.result)?,
    })
}

fn lookup<'a>(env: &Env<'a>, name: &str) -> R<'a> {
    if let Some((_, v)) = env.vars.iter().rev().find(|(n, _)| same_name(n, name)) {
        return Ok(v.clone());
    }
    env.scope
        .iter()
        .rev()
        .find(|(n, _)| same_name(n, name))
        .map(|(_, v)| V::of(v))
        .ok_or(Fallback)
}

fn truth(v: &V<'_>) -> Result<bool, Fallback> {
    match v {
        V::Bool(b) => Ok(*b),
        _ => Err(Fallback),
    }
}

fn pay(units: u64) -> Result<(), Fallback> {
    if budget::charge(units) {
        Ok(())
    } else {
        Err(Fallback)
    }
}

/// What `@rampart_charge` charges for a value (at least one unit).
fn charge_cost(v: &V<'_>) -> Result<u64, Fallback> {
    Ok(match v {
        V::Str(_) | V::OStr(_) => v.str().map_or(0, |s| s.len() as u64 / BYTES_PER_UNIT),
        V::List(_) | V::OList(_) => v.list_len().unwrap_or(0) as u64,
        V::Obj(fields) => {
            if has_dups(fields) {
                return Err(Fallback);
            }
            fields.len() as u64
        }
        _ => 0,
    }
    .max(1))
}

/// What `@rampart_read` charges for a value.
fn read_cost(v: &V<'_>) -> u64 {
    match v {
        V::Str(_) | V::OStr(_) => v.str().map_or(0, |s| s.len() as u64 / BYTES_PER_UNIT),
        V::List(_) | V::OList(_) => v.list_len().unwrap_or(0) as u64,
        _ => 0,
    }
}

fn eval<'a>(f: &'a F, vars: &mut Env<'a>) -> R<'a> {
    Ok(match f {
        F::Null => V::Null,
        F::Bool(b) => V::Bool(*b),
        F::Int(i) => V::Int(*i),
        F::UInt(u) => V::UInt(*u),
        F::Float(x) => V::Float(*x),
        F::Str(s) => V::Str(s),
        F::Ident(name) => lookup(vars, name)?,
        F::Select {
            operand,
            field: name,
            test,
        } => {
            let V::Obj(fields) = eval(operand, vars)? else {
                return Err(Fallback);
            };
            match (field(fields, name), test) {
                (Some(_), true) => V::Bool(true),
                (None, true) => V::Bool(false),
                (Some(n), false) => V::of(n),
                (None, false) => return Err(Fallback),
            }
        }
        F::And(a, b) => {
            if !truth(&eval(a, vars)?)? {
                V::Bool(false)
            } else {
                V::Bool(truth(&eval(b, vars)?)?)
            }
        }
        F::Or(a, b) => {
            if truth(&eval(a, vars)?)? {
                V::Bool(true)
            } else {
                V::Bool(truth(&eval(b, vars)?)?)
            }
        }
        F::Not(a) => V::Bool(!truth(&eval(a, vars)?)?),
        F::NotStrictlyFalse(a) => V::Bool(truth(&eval(a, vars)?)?),
        F::Cond(c, t, e) => {
            if truth(&eval(c, vars)?)? {
                eval(t, vars)?
            } else {
                eval(e, vars)?
            }
        }
        F::List(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(eval(i, vars)?);
            }
            V::OList(Rc::new(out))
        }
        F::Call(func, args, member) => call(*func, args, *member, vars)?,
        F::Comp(c) => comp(c, vars)?,
    })
}

fn comp<'a>(c: &'a Comp, vars: &mut Env<'a>) -> R<'a> {
    // The crate evaluates the accumulator's start before the range.
    let init = eval(&c.init, vars)?;
    let range = eval(&c.range, vars)?;
    let len = match &range {
        V::List(_) | V::OList(_) => range.list_len().unwrap_or(0),
        _ => return Err(Fallback), // maps iterate in the crate's hash order
    };
    let base = vars.len();
    let result = comp_loop(c, init, &range, len, vars);
    vars.truncate(base);
    result
}

fn comp_loop<'a>(c: &'a Comp, init: V<'a>, range: &V<'a>, len: usize, vars: &mut Env<'a>) -> R<'a> {
    let base = vars.len();
    match &c.step {
        Step::Append { cond, elem } => {
            // The crate's `map` / `filter`: an empty list appended to in
            // place, the (literal) loop condition checked before each item.
            match &init {
                V::OList(l) if l.is_empty() => {}
                _ => return Err(Fallback),
            }
            let mut out: Vec<V<'a>> = Vec::with_capacity(len);
            for i in 0..len {
                if !truth(&eval(&c.cond, vars)?)? {
                    break;
                }
                let item = range.item(i).ok_or(Fallback)?;
                vars.truncate(base);
                vars.push((c.var.as_str(), item));
                let keep = match cond {
                    Some(k) => truth(&eval(k, vars)?)?,
                    None => true,
                };
                if keep {
                    out.push(eval(elem, vars)?);
                }
            }
            Ok(V::OList(Rc::new(out)))
        }
        Step::Any(step) => {
            let mut accu = init;
            for i in 0..len {
                vars.truncate(base);
                vars.push((c.accu.as_str(), accu.clone()));
                if !truth(&eval(&c.cond, vars)?)? {
                    break;
                }
                let item = range.item(i).ok_or(Fallback)?;
                vars.push((c.var.as_str(), item));
                accu = eval(step, vars)?;
            }
            vars.truncate(base);
            vars.push((c.accu.as_str(), accu));
            eval(&c.result, vars)
        }
    }
}

/// Equality as the crate decides it, where this evaluator is sure of it.
fn equal(a: &V<'_>, b: &V<'_>) -> Result<bool, Fallback> {
    Ok(match (a, b) {
        (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::UInt(x), V::UInt(y)) => x == y,
        (V::Float(x), V::Float(y)) => {
            if x.is_nan() || y.is_nan() {
                return Err(Fallback);
            }
            x == y
        }
        (V::Str(_) | V::OStr(_), V::Str(_) | V::OStr(_)) => a.str() == b.str(),
        (V::List(_) | V::OList(_), V::List(_) | V::OList(_)) => {
            let (n, m) = (a.list_len().unwrap_or(0), b.list_len().unwrap_or(0));
            if n != m {
                // The crate compares lengths first.
                return Ok(false);
            }
            for i in 0..n {
                let (x, y) = (a.item(i).ok_or(Fallback)?, b.item(i).ok_or(Fallback)?);
                if !equal(&x, &y)? {
                    return Ok(false);
                }
            }
            true
        }
        _ => return Err(Fallback),
    })
}

fn compare(a: &V<'_>, b: &V<'_>) -> Result<std::cmp::Ordering, Fallback> {
    match (a, b) {
        (V::Int(x), V::Int(y)) => Ok(x.cmp(y)),
        (V::UInt(x), V::UInt(y)) => Ok(x.cmp(y)),
        (V::Bool(x), V::Bool(y)) => Ok(x.cmp(y)),
        (V::Float(x), V::Float(y)) => x.partial_cmp(y).ok_or(Fallback),
        (V::Str(_) | V::OStr(_), V::Str(_) | V::OStr(_)) => match (a.str(), b.str()) {
            (Some(x), Some(y)) => Ok(x.cmp(y)),
            _ => Err(Fallback),
        },
        _ => Err(Fallback),
    }
}

fn s<'v>(v: &'v V<'_>) -> Result<&'v str, Fallback> {
    v.str().ok_or(Fallback)
}

fn owned_str<'a>(s: String) -> V<'a> {
    V::OStr(Rc::from(s))
}

/// `x` of an operand `x.lowerAscii()` (as the budget leaves it: charged,
/// or not), with whether it is charged.
fn lowered_operand(a: &F) -> Option<(&F, bool)> {
    match a {
        F::Call(Func::Charge, inner, _) => match inner.as_slice() {
            [F::Call(Func::LowerAscii, x, true)] => match x.as_slice() {
                [x] => Some((x, true)),
                _ => None,
            },
            _ => None,
        },
        F::Call(Func::LowerAscii, x, true) => match x.as_slice() {
            [x] => Some((x, false)),
            _ => None,
        },
        _ => None,
    }
}

/// `x.lowerAscii() == b`, evaluated in the general path's order with its
/// charges (the lowered text is as long as `x`), comparing without a copy
/// when `b` is a string with no ASCII upper case (then equal exactly when
/// equal ignoring ASCII case).
fn eq_lowered<'a>(x: &'a F, charged: bool, b: &'a F, vars: &mut Env<'a>) -> Result<bool, Fallback> {
    let xv = eval(x, vars)?;
    let text = s(&xv)?;
    if charged {
        pay(charge_cost(&V::Str(text))?)?;
    }
    let other = eval(b, vars)?;
    match other.str() {
        Some(o) if !o.bytes().any(|c| c.is_ascii_uppercase()) => Ok(text.eq_ignore_ascii_case(o)),
        _ => equal(&lowered(&xv)?, &other),
    }
}

/// `v.lowerAscii()`: `v` itself when it has no ASCII upper case.
fn lowered<'a>(v: &V<'a>) -> R<'a> {
    let text = s(v)?;
    Ok(if text.bytes().any(|c| c.is_ascii_uppercase()) {
        owned_str(text.to_ascii_lowercase())
    } else {
        v.clone()
    })
}

/// The strings of a list (the runtime's functions' `list<string>`).
fn strings(v: &V<'_>) -> Result<Vec<String>, Fallback> {
    let n = v.list_len().ok_or(Fallback)?;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let item = v.item(i).ok_or(Fallback)?;
        out.push(s(&item)?.to_string());
    }
    Ok(out)
}

/// The most arguments a supported call takes (the target counted).
const MAX_ARGS: usize = 4;

fn call<'a>(f: Func, args: &'a [F], member: bool, vars: &mut Env<'a>) -> R<'a> {
    // The budget's wrappers, the most frequent calls: no argument array.
    if let (Func::Charge | Func::Read, [a]) = (f, args) {
        let v = eval(a, vars)?;
        pay(if f == Func::Charge {
            charge_cost(&v)?
        } else {
            read_cost(&v)
        })?;
        return Ok(v);
    }
    // `x.lowerAscii() == y`, the commonest comparison of the stdlib (header
    // and package names): no lowered copy when `y` has no upper case.
    if let (Func::Eq | Func::Ne, [a, b]) = (f, args) {
        if let Some((x, charged)) = lowered_operand(a) {
            let eq = eq_lowered(x, charged, b, vars)?;
            return Ok(V::Bool(if f == Func::Eq { eq } else { !eq }));
        }
    }
    // Arguments on the stack. The crate evaluates a member call's arguments
    // before its target.
    let mut vals: [V<'a>; MAX_ARGS] = [V::Null, V::Null, V::Null, V::Null];
    if args.len() > MAX_ARGS {
        return Err(Fallback);
    }
    if member {
        let (target, rest) = args.split_first().ok_or(Fallback)?;
        for (slot, a) in vals.iter_mut().skip(1).zip(rest) {
            *slot = eval(a, vars)?;
        }
        let first = vals.first_mut().ok_or(Fallback)?;
        *first = eval(target, vars)?;
    } else {
        for (slot, a) in vals.iter_mut().zip(args) {
            *slot = eval(a, vars)?;
        }
    }
    let vals = vals.get(..args.len()).ok_or(Fallback)?;
    let arg = |i: usize| vals.get(i).ok_or(Fallback);
    use Func as Fn_;
    Ok(match f {
        Fn_::Charge => {
            let v = arg(0)?;
            pay(charge_cost(v)?)?;
            v.clone()
        }
        Fn_::Read => {
            let v = arg(0)?;
            pay(read_cost(v))?;
            v.clone()
        }
        Fn_::Eq => V::Bool(equal(arg(0)?, arg(1)?)?),
        Fn_::Ne => V::Bool(!equal(arg(0)?, arg(1)?)?),
        Fn_::Lt => V::Bool(compare(arg(0)?, arg(1)?)?.is_lt()),
        Fn_::Le => V::Bool(compare(arg(0)?, arg(1)?)?.is_le()),
        Fn_::Gt => V::Bool(compare(arg(0)?, arg(1)?)?.is_gt()),
        Fn_::Ge => V::Bool(compare(arg(0)?, arg(1)?)?.is_ge()),
        Fn_::Add => match (arg(0)?, arg(1)?) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_add(*y).ok_or(Fallback)?),
            (V::UInt(x), V::UInt(y)) => V::UInt(x.checked_add(*y).ok_or(Fallback)?),
            (V::Float(x), V::Float(y)) => V::Float(x + y),
            (a @ (V::Str(_) | V::OStr(_)), b @ (V::Str(_) | V::OStr(_))) => {
                owned_str(format!("{}{}", s(a)?, s(b)?))
            }
            (a @ (V::List(_) | V::OList(_)), b @ (V::List(_) | V::OList(_))) => {
                let mut out = Vec::new();
                for l in [a, b] {
                    for i in 0..l.list_len().unwrap_or(0) {
                        out.push(l.item(i).ok_or(Fallback)?);
                    }
                }
                V::OList(Rc::new(out))
            }
            _ => return Err(Fallback),
        },
        Fn_::Sub => match (arg(0)?, arg(1)?) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_sub(*y).ok_or(Fallback)?),
            (V::UInt(x), V::UInt(y)) => V::UInt(x.checked_sub(*y).ok_or(Fallback)?),
            (V::Float(x), V::Float(y)) => V::Float(x - y),
            _ => return Err(Fallback),
        },
        Fn_::Mul => match (arg(0)?, arg(1)?) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_mul(*y).ok_or(Fallback)?),
            (V::UInt(x), V::UInt(y)) => V::UInt(x.checked_mul(*y).ok_or(Fallback)?),
            (V::Float(x), V::Float(y)) => V::Float(x * y),
            _ => return Err(Fallback),
        },
        Fn_::Div => match (arg(0)?, arg(1)?) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_div(*y).ok_or(Fallback)?),
            (V::UInt(x), V::UInt(y)) => V::UInt(x.checked_div(*y).ok_or(Fallback)?),
            _ => return Err(Fallback),
        },
        Fn_::Mod => match (arg(0)?, arg(1)?) {
            (V::Int(x), V::Int(y)) => V::Int(x.checked_rem(*y).ok_or(Fallback)?),
            (V::UInt(x), V::UInt(y)) => V::UInt(x.checked_rem(*y).ok_or(Fallback)?),
            _ => return Err(Fallback),
        },
        Fn_::Neg => match arg(0)? {
            V::Int(x) => V::Int(x.checked_neg().ok_or(Fallback)?),
            V::Float(x) => V::Float(-x),
            _ => return Err(Fallback),
        },
        Fn_::In => {
            let (x, c) = (arg(0)?, arg(1)?);
            match c {
                V::List(_) | V::OList(_) => {
                    let mut found = false;
                    for i in 0..c.list_len().unwrap_or(0) {
                        if equal(x, &c.item(i).ok_or(Fallback)?)? {
                            found = true;
                            break;
                        }
                    }
                    V::Bool(found)
                }
                V::Obj(fields) => V::Bool(field(fields, s(x)?).is_some()),
                _ => return Err(Fallback),
            }
        }
        Fn_::Index => match (arg(0)?, arg(1)?) {
            (l @ (V::List(_) | V::OList(_)), V::Int(i)) => l
                .item(usize::try_from(*i).map_err(|_| Fallback)?)
                .ok_or(Fallback)?,
            (V::Obj(fields), k) => V::of(field(fields, s(k)?).ok_or(Fallback)?),
            _ => return Err(Fallback),
        },
        Fn_::Size => {
            let v = arg(0)?;
            match v {
                V::Str(_) | V::OStr(_) => V::Int(s(v)?.chars().count() as i64),
                V::List(_) | V::OList(_) => V::Int(v.list_len().unwrap_or(0) as i64),
                V::Obj(fields) if !has_dups(fields) => V::Int(fields.len() as i64),
                _ => return Err(Fallback),
            }
        }
        Fn_::StartsWith => V::Bool(s(arg(0)?)?.starts_with(s(arg(1)?)?)),
        Fn_::EndsWith => V::Bool(s(arg(0)?)?.ends_with(s(arg(1)?)?)),
        Fn_::Contains => V::Bool(s(arg(0)?)?.contains(s(arg(1)?)?)),
        Fn_::Matches => {
            V::Bool(crate::regexes::is_match(s(arg(0)?)?, s(arg(1)?)?).map_err(|_| Fallback)?)
        }
        Fn_::LowerAscii => lowered(arg(0)?)?,
        Fn_::UpperAscii => owned_str(s(arg(0)?)?.to_ascii_uppercase()),
        Fn_::Trim => match arg(0)? {
            // A document's text trimmed is a part of it: no copy.
            V::Str(t) => V::Str(t.trim()),
            v => owned_str(s(v)?.trim().to_string()),
        },
        Fn_::Split => {
            let (t, sep) = (s(arg(0)?)?, s(arg(1)?)?);
            if sep.is_empty() {
                return Err(Fallback);
            }
            V::OList(Rc::new(
                t.split(sep).map(|p| owned_str(p.to_string())).collect(),
            ))
        }
        Fn_::Substring => {
            // Code-point offsets, as the strings extension counts them.
            let t = s(arg(0)?)?;
            let len = t.chars().count() as i64;
            let start = match arg(1)? {
                V::Int(i) => *i,
                _ => return Err(Fallback),
            };
            let end = match vals.get(2) {
                None => len,
                Some(V::Int(i)) => *i,
                Some(_) => return Err(Fallback),
            };
            if start < 0 || start > end || end > len {
                return Err(Fallback);
            }
            let (start, end) = (
                usize::try_from(start).map_err(|_| Fallback)?,
                usize::try_from(end).map_err(|_| Fallback)?,
            );
            owned_str(t.chars().skip(start).take(end - start).collect())
        }
        Fn_::Join => {
            let list = arg(0)?;
            let sep = match vals.get(1) {
                Some(v) => s(v)?,
                None => "",
            };
            let parts = strings(list)?;
            let out = parts
                .iter()
                .fold(0usize, |n, p| n.saturating_add(p.len() + sep.len()));
            pay(out as u64 / BYTES_PER_UNIT + 1)?;
            owned_str(parts.join(sep))
        }
        Fn_::Replace => {
            let (t, from, to) = (s(arg(0)?)?, s(arg(1)?)?, s(arg(2)?)?);
            let limit = match vals.get(3) {
                None => None,
                Some(V::Int(n)) => usize::try_from(*n).ok(),
                Some(_) => return Err(Fallback),
            };
            pay(crate::budget::replace_units(t, from, to, limit))?;
            owned_str(crate::budget::replaced(t, from, to, limit))
        }
        Fn_::Int => match arg(0)? {
            V::Int(i) => V::Int(*i),
            V::UInt(u) => V::Int(i64::try_from(*u).map_err(|_| Fallback)?),
            v @ (V::Str(_) | V::OStr(_)) => V::Int(s(v)?.parse::<i64>().map_err(|_| Fallback)?),
            _ => return Err(Fallback),
        },
        Fn_::String => match arg(0)? {
            v @ (V::Str(_) | V::OStr(_)) => v.clone(),
            V::Int(i) => owned_str(i.to_string()),
            V::UInt(u) => owned_str(u.to_string()),
            _ => return Err(Fallback),
        },
        Fn_::IsLoopback => V::Bool(crate::functions::net::is_loopback(s(arg(0)?)?)),
        Fn_::IsUnder => V::Bool(crate::functions::paths::is_under(s(arg(0)?)?, s(arg(1)?)?)),
        Fn_::GlobMatch => V::Bool(crate::functions::paths::glob_match(
            s(arg(0)?)?,
            s(arg(1)?)?,
        )),
        Fn_::SizeBytes => V::Int(crate::functions::http::size_bytes(s(arg(0)?)?).unwrap_or(-1)),
        Fn_::Header | Fn_::HasHeader => {
            let V::Obj(route) = arg(0)? else {
                return Err(Fallback);
            };
            let found = crate::functions::http::header_in(route, s(arg(1)?)?);
            if f == Fn_::HasHeader {
                V::Bool(found.is_some())
            } else {
                owned_str(found.unwrap_or_default())
            }
        }
        Fn_::IsSecretName => V::Bool(crate::functions::secrets::is_secret_name(s(arg(0)?)?)),
        Fn_::IsSecretValue => V::Bool(crate::functions::secrets::is_secret_value(s(arg(0)?)?)),
        Fn_::HasUrlCredentials => {
            V::Bool(!crate::secrets::literal_url_credentials(s(arg(0)?)?).is_empty())
        }
        Fn_::IsDummyUrl => V::Bool(crate::secrets::is_dummy_url(s(arg(0)?)?)),
        Fn_::SecretOptions => V::OList(Rc::new(
            crate::functions::secrets::secret_options(s(arg(0)?)?)
                .into_iter()
                .map(owned_str)
                .collect(),
        )),
        Fn_::IsPlaceholder => V::Bool(crate::functions::secrets::is_placeholder(
            s(arg(0)?)?,
            s(arg(1)?)?,
            &strings(arg(2)?)?,
        )),
        Fn_::IsWeakSecret => {
            let V::Int(min) = arg(3)? else {
                return Err(Fallback);
            };
            V::Bool(crate::functions::secrets::is_weak_secret(
                s(arg(0)?)?,
                s(arg(1)?)?,
                &strings(arg(2)?)?,
                *min,
            ))
        }
        Fn_::Redact => owned_str(crate::functions::secrets::redact(s(arg(0)?)?)),
    })
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
