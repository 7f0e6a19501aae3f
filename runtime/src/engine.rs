//! The evaluation engine: runs compiled rules over documents.
//!
//! A rule is a pipeline of steps — `for var in path` (iterate a list in the
//! document tree) and `where` filters (CEL) — ending in denies, each a CEL
//! condition, the path of the node the finding points at, and a message
//! template. Iteration walks [`Node`]s, so every binding keeps its span; CEL
//! sees each document converted once ([`to_val`], borrowing its strings) and
//! every binding borrows its part of that conversion: nothing is copied per
//! rule or per item, so memory stays a small multiple of the model.
//!
//! INVARIANT: every [`Hit`] carries the span of a node of the input, never of
//! the policy.

use std::borrow::Cow;
use std::sync::Arc;

use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, Program, Value as CelValue};

use crate::cel_value::{display, to_val, type_name, val_field, val_items};
use crate::model::{Node, Span, Value};
use crate::project::{Document, Project};

/// Where in a policy file something came from (opaque to the runtime: the
/// compiler maps it back to a diagnostic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Origin {
    /// Policy source index.
    pub source: u32,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// A compiled CEL expression with the place it was written.
#[derive(Clone, Debug)]
pub struct Expr {
    /// The program.
    pub program: Arc<Program>,
    /// The program instrumented for the evaluation budget (what runs).
    pub budgeted: Arc<cel::parser::Expression>,
    /// Where it was written.
    pub origin: Origin,
    /// The fast evaluator's program, when it supports the expression.
    pub fast: Option<Arc<crate::fast::Prog>>,
}

impl Expr {
    /// An expression; instruments `program` for [`crate::budget`].
    pub fn new(program: Program, origin: Origin) -> Expr {
        let budgeted = Arc::new(crate::budget::instrument(program.expression()));
        let fast = crate::fast::Prog::compile(&budgeted).ok().map(Arc::new);
        Expr {
            program: Arc::new(program),
            budgeted,
            origin,
            fast,
        }
    }

    /// Runs the instrumented program against the budget started last; the
    /// error in words.
    fn run(&self, ctx: &Context<'_, '_>) -> Result<CelValue, String> {
        crate::budget::execute(&self.budgeted, ctx).map_err(|f| match f {
            crate::budget::Failure::Budget(m) => m,
            crate::budget::Failure::Error(e) => crate::budget::describe_error(&e),
        })
    }
}

/// One step of a rule's pipeline.
#[derive(Clone, Debug)]
pub enum Step {
    /// Bind `var` to each item of the list at `path` (first segment: a bound variable or the target).
    For {
        /// Variable name.
        var: String,
        /// Path segments.
        path: Vec<String>,
    },
    /// Keep going only where the expression is true.
    Where(Expr),
    /// Evaluate deny clause `n` of the rule here, then keep going.
    Deny(usize),
}

/// A part of a message template.
#[derive(Clone, Debug)]
pub enum MessagePart {
    /// Literal text.
    Text(String),
    /// An interpolated expression.
    Expr(Expr),
}

/// A deny clause.
#[derive(Clone, Debug)]
pub struct Deny {
    /// Path of the node the finding points at (first segment: a bound variable).
    pub node: Vec<String>,
    /// Condition; always when `None`.
    pub when: Option<Expr>,
    /// Message template.
    pub message: Vec<MessagePart>,
    /// Where the clause was written.
    pub origin: Origin,
}

/// A rule ready to run.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The target whose documents it reads (`compose`).
    pub target: String,
    /// Constants and params visible to its expressions, by name.
    pub scope: Vec<(String, CelValue)>,
    /// The pipeline.
    pub steps: Vec<Step>,
    /// Its denies.
    pub denies: Vec<Deny>,
}

/// A violation found by a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Index of the rule in the slice given to [`Engine::run`].
    pub rule: usize,
    /// Index of the deny clause in the rule.
    pub deny: usize,
    /// The offending node.
    pub span: Span,
    /// The rendered message (secrets redacted).
    pub message: String,
}

/// An expression that failed at run time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// Index of the rule.
    pub rule: usize,
    /// The expression that failed.
    pub origin: Origin,
    /// The input node being looked at.
    pub span: Span,
    /// What went wrong.
    pub message: String,
}

/// Runs rules; holds the root CEL context with every custom function.
pub struct Engine {
    root: Context<'static, 'static>,
}

/// The CEL environment policies are compiled and run with: the standard
/// library plus the `strings` extension (`join`, `split`, `lowerAscii`…).
pub fn cel_env() -> Result<Arc<cel::Env>, cel::DeclarationError> {
    let mut env = cel::Env::stdlib();
    env.add_extension(cel::extensions::strings)?;
    Ok(Arc::new(env))
}

impl Engine {
    /// An engine with the standard and custom functions.
    pub fn new() -> Result<Engine, cel::DeclarationError> {
        let mut root = Context::with_env(cel_env()?);
        crate::functions::register(&mut root)?;
        crate::budget::register(&mut root)?;
        Ok(Engine { root })
    }

    /// The root context (for constant folding in the compiler).
    pub fn context(&self) -> &Context<'static, 'static> {
        &self.root
    }

    /// Evaluates every rule on every document of its target. Results are in
    /// document order, then rule order, then iteration order: deterministic.
    pub fn run(&self, rules: &[Rule], project: &Project) -> (Vec<Hit>, Vec<EvalError>) {
        use rayon::prelude::*;
        // Each rule's constants and params, converted once for the run.
        let scopes = rule_scopes(rules);
        let fast = fast_scopes(rules);
        let scopes: Vec<Scopes<'_>> = scopes.iter().zip(&fast).collect();
        // Documents are independent: evaluate them in parallel, then collect in
        // document order so output stays deterministic. Workers get large
        // stacks: conversion and evaluation recurse over nested documents.
        let eval = || -> Vec<(Vec<Hit>, Vec<EvalError>)> {
            project
                .documents
                .par_iter()
                .map(|doc| self.run_document_in(rules, &scopes, doc, project))
                .collect()
        };
        // The run's one pool of large-stack threads (reused from stage to
        // stage, with the memory their allocator holds).
        let per_doc = crate::project::on_cores(eval);
        let mut hits = Vec::new();
        let mut errors = Vec::new();
        for (h, e) in per_doc {
            hits.extend(h);
            errors.extend(e);
        }
        (hits, errors)
    }

    /// Evaluates the rules on one document.
    pub fn run_document(
        &self,
        rules: &[Rule],
        doc: &Document,
        project: &Project,
    ) -> (Vec<Hit>, Vec<EvalError>) {
        let scopes = rule_scopes(rules);
        let fast = fast_scopes(rules);
        let scopes: Vec<Scopes<'_>> = scopes.iter().zip(&fast).collect();
        self.run_document_in(rules, &scopes, doc, project)
    }

    fn run_document_in(
        &self,
        rules: &[Rule],
        scopes: &[Scopes<'_>],
        doc: &Document,
        project: &Project,
    ) -> (Vec<Hit>, Vec<EvalError>) {
        // Converted for the `cel` interpreter only when a rule has an
        // expression the fast evaluator does not support.
        let doc_val = std::cell::OnceCell::new();
        let mut run = DocRun {
            project,
            root: &self.root,
            converted: Default::default(),
            shown: Default::default(),
            hits: Vec::new(),
            errors: Vec::new(),
        };
        for (i, rule) in rules.iter().enumerate() {
            if rule.target != doc.target.name() {
                continue;
            }
            let Some(&(scope, fast)) = scopes.get(i) else {
                continue;
            };
            crate::budget::start(crate::budget::MAX_EVAL_UNITS);
            let val = (!fast.all).then(|| doc_val.get_or_init(|| to_val(&doc.root)).as_ref());
            let mut bound: Vec<Bound<'_>> = vec![(rule.target.as_str(), &doc.root, val)];
            run.step(i, rule, 0, (scope, fast), &mut bound);
        }
        (run.hits, run.errors)
    }
}

/// A rule's constants and params as CEL values, by name.
type Scope = Vec<(String, Box<dyn Val>)>;

/// Every rule's [`Scope`], converted once (a value the crate cannot convert
/// is left unbound, as an unknown name).
fn rule_scopes(rules: &[Rule]) -> Vec<Scope> {
    rules
        .iter()
        .map(|rule| {
            rule.scope
                .iter()
                .filter_map(|(name, value)| {
                    Box::<dyn Val>::try_from(value.clone())
                        .ok()
                        .map(|v| (name.clone(), v))
                })
                .collect()
        })
        .collect()
}

/// A rule's constants and params for the fast evaluator, as nodes.
struct FastScope {
    vars: Vec<(crate::model::Name, Node)>,
    /// Every expression of the rule is on the fast path, and every name of
    /// its scope is too: documents need no conversion for it.
    all: bool,
    /// The fast path may run (every constant converted, no dotted name the
    /// crate would resolve as one).
    ok: bool,
}

/// A rule's scopes: for the `cel` interpreter and for the fast evaluator.
type Scopes<'r> = (&'r Scope, &'r FastScope);

/// Every rule's [`FastScope`].
fn fast_scopes(rules: &[Rule]) -> Vec<FastScope> {
    rules
        .iter()
        .map(|rule| {
            let mut ok = !rule.target.contains('.');
            let mut vars = Vec::new();
            for (name, value) in &rule.scope {
                if Box::<dyn Val>::try_from(value.clone()).is_err() {
                    continue; // unbound for the crate too
                }
                match crate::cel_value::from_cel(value) {
                    Some(node) if !name.contains('.') => vars.push((name.as_str().into(), node)),
                    _ => ok = false,
                }
            }
            let fast = |e: &Expr| e.fast.is_some();
            let all =
                ok && rule.steps.iter().all(|s| match s {
                    Step::Where(e) => fast(e),
                    _ => true,
                }) && rule.denies.iter().all(|d| {
                    d.when.as_ref().is_none_or(fast)
                        && d.message.iter().all(|m| match m {
                            MessagePart::Expr(e) => fast(e),
                            MessagePart::Text(_) => true,
                        })
                });
            FastScope { vars, all, ok }
        })
        .collect()
}

/// A bound name: the node (for spans and the fast evaluator) and its CEL
/// value, when the rule needs the `cel` interpreter's.
type Bound<'a> = (&'a str, &'a Node, Option<&'a (dyn Val + 'a)>);

/// Resolves a rule's names without copying anything into its scope: the
/// bound names (the innermost first), then the rule's constants and params
/// (the last one bound under a name wins, as in a scope).
struct Names<'a> {
    bound: Vec<(&'a str, &'a (dyn Val + 'a))>,
    scope: &'a [(String, Box<dyn Val>)],
}

impl VariableResolver for Names<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if let Some((_, v)) = self.bound.iter().rev().find(|(n, _)| *n == variable) {
            return Some(CowVal::Borrowed(*v));
        }
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == variable)
            .map(|(_, v)| CowVal::Borrowed(v.as_ref()))
    }
}

/// What an expression gave: a fast value or the crate's.
enum Out<'a> {
    Fast(crate::fast::V<'a>),
    Cel(CelValue),
}

struct DocRun<'p> {
    project: &'p Project,
    root: &'p Context<'static, 'static>,
    /// Bound nodes converted for the interpreter after a fallback, by
    /// address (the document's nodes do not move during its run).
    converted: std::cell::RefCell<std::collections::HashMap<usize, Box<dyn Val + 'p>>>,
    /// Each value a message of this document interpolated, as shown
    /// ([`Project::shown`], a function of the value and the run's secrets):
    /// rules report the same sites, routes and services again and again.
    shown: std::collections::HashMap<String, String>,
    hits: Vec<Hit>,
    errors: Vec<EvalError>,
}

impl<'p> DocRun<'p> {
    fn step<'a: 'p>(
        &mut self,
        rule_ix: usize,
        rule: &'a Rule,
        at: usize,
        scopes: Scopes<'a>,
        bound: &mut Vec<Bound<'a>>,
    ) {
        let Some(step) = rule.steps.get(at) else {
            return;
        };
        if crate::budget::exhausted() {
            return; // reported once, by the expression that spent it
        }
        match step {
            Step::Deny(d) => {
                if let Some(deny) = rule.denies.get(*d) {
                    self.deny(rule_ix, *d, deny, scopes, bound);
                }
                self.step(rule_ix, rule, at + 1, scopes, bound);
            }
            Step::Where(expr) => {
                let here = bound.last().map(|(_, n, _)| n.span).unwrap_or_default();
                if self.truth(rule_ix, expr, scopes, bound, here) == Some(true) {
                    self.step(rule_ix, rule, at + 1, scopes, bound);
                }
            }
            Step::For { var, path } => {
                let Some((list, list_val)) = resolve(bound, path) else {
                    return;
                };
                let Value::List(items) = list.value() else {
                    self.errors.push(EvalError {
                        rule: rule_ix,
                        origin: Origin::default(),
                        span: list.span,
                        message: format!("`{}` is not a list", path.join(".")),
                    });
                    return;
                };
                let vals = list_val.and_then(val_items);
                for (i, item) in items.iter().enumerate() {
                    let val = vals.and_then(|v| v.get(i)).map(|v| v.as_ref());
                    if vals.is_some() && val.is_none() {
                        break; // the conversion's list is shorter (never)
                    }
                    bound.push((var.as_str(), item, val));
                    self.step(rule_ix, rule, at + 1, scopes, bound);
                    bound.pop();
                }
            }
        }
    }

    /// Evaluates `expr` with the names of `bound`: on the fast path when it
    /// can, else (or when the fast path gives up) on the `cel` interpreter,
    /// with the budget as it was before the fast attempt.
    fn eval<'a: 'p>(
        &self,
        expr: &'a Expr,
        (scope, fast): Scopes<'a>,
        bound: &[Bound<'a>],
    ) -> Result<Out<'a>, String> {
        if let (Some(prog), true) = (&expr.fast, fast.ok) {
            let saved = crate::budget::save();
            let mut vars = crate::fast::Env::new(
                &fast.vars,
                bound
                    .iter()
                    .map(|(n, node, _)| (*n, crate::fast::V::of(node))),
            );
            match prog.eval(&mut vars) {
                Ok(v) => return Ok(Out::Fast(v)),
                Err(crate::fast::Fallback) => crate::budget::restore(saved),
            }
        }
        // Names whose conversion the rule did not keep are converted now,
        // each node once per document (a fallback in a loop must not
        // convert the document, or the item, again for every item).
        {
            let mut converted = self.converted.borrow_mut();
            for (_, node, val) in bound {
                if val.is_none() {
                    let key: *const Node = *node;
                    converted.entry(key as usize).or_insert_with(|| {
                        #[cfg(test)]
                        tests::CONVERSIONS.with(|c| c.set(c.get() + 1));
                        to_val(node)
                    });
                }
            }
        }
        let converted = self.converted.borrow();
        let names = Names {
            bound: bound
                .iter()
                .filter_map(|(n, node, val)| {
                    let key: *const Node = *node;
                    let v = match val {
                        Some(v) => *v,
                        None => converted.get(&(key as usize))?.as_ref(),
                    };
                    Some((*n, v))
                })
                .collect(),
            scope: scope.as_slice(),
        };
        let mut ctx = self.root.new_inner_scope();
        ctx.set_variable_resolver(&names);
        expr.run(&ctx).map(Out::Cel)
    }

    fn deny<'a: 'p>(
        &mut self,
        rule_ix: usize,
        d_ix: usize,
        deny: &'a Deny,
        scopes: Scopes<'a>,
        bound: &[Bound<'a>],
    ) {
        {
            let target = resolve_deepest(bound, &deny.node);
            let fires = match &deny.when {
                None => true,
                Some(expr) => self.truth(rule_ix, expr, scopes, bound, target.span) == Some(true),
            };
            if !fires {
                return;
            }
            let mut message = String::new();
            for part in &deny.message {
                match part {
                    MessagePart::Text(t) => message.push_str(t),
                    MessagePart::Expr(e) => match self.eval(e, scopes, bound) {
                        Ok(v) => {
                            // A string is displayed as it is.
                            let text = match &v {
                                Out::Fast(crate::fast::V::Str(s)) => Cow::Borrowed(*s),
                                Out::Fast(crate::fast::V::OStr(s)) => Cow::Borrowed(&**s),
                                Out::Fast(v) => Cow::Owned(display(&v.to_cel())),
                                Out::Cel(v) => Cow::Owned(display(v)),
                            };
                            match self.shown.get(text.as_ref()) {
                                Some(shown) => message.push_str(shown),
                                None => {
                                    let shown = self.project.shown(&text);
                                    message.push_str(&shown);
                                    self.shown.insert(text.into_owned(), shown);
                                }
                            }
                        }
                        Err(err) => {
                            self.errors.push(EvalError {
                                rule: rule_ix,
                                origin: e.origin,
                                span: target.span,
                                message: self.project.redact(&err),
                            });
                            message.push('?');
                        }
                    },
                }
            }
            // The message's own text is the policy's, never redacted; each
            // interpolated value was redacted on its own (`Project::shown`).
            self.hits.push(Hit {
                rule: rule_ix,
                deny: d_ix,
                span: target.span,
                message,
            });
        }
    }

    fn truth<'a: 'p>(
        &mut self,
        rule_ix: usize,
        expr: &'a Expr,
        scopes: Scopes<'a>,
        bound: &[Bound<'a>],
        here: Span,
    ) -> Option<bool> {
        let result = match self.eval(expr, scopes, bound) {
            Ok(Out::Fast(crate::fast::V::Bool(b))) | Ok(Out::Cel(CelValue::Bool(b))) => {
                return Some(b)
            }
            Ok(Out::Fast(v)) => Ok(v.to_cel()),
            Ok(Out::Cel(v)) => Ok(v),
            Err(e) => Err(e),
        };
        match result {
            Ok(other) => {
                self.errors.push(EvalError {
                    rule: rule_ix,
                    origin: expr.origin,
                    span: here,
                    message: format!("condition gave a {} instead of a bool", type_name(&other)),
                });
                None
            }
            Err(err) => {
                self.errors.push(EvalError {
                    rule: rule_ix,
                    origin: expr.origin,
                    span: here,
                    message: self.project.redact(&err),
                });
                None
            }
        }
    }
}

/// The node at `path` (first segment a bound name), if every segment exists,
/// with its CEL value (`None` only if the conversion lost track of it).
fn resolve<'n>(
    bound: &[Bound<'n>],
    path: &[String],
) -> Option<(&'n Node, Option<&'n (dyn Val + 'n)>)> {
    let (first, rest) = path.split_first()?;
    let (mut cur, mut val) = bound
        .iter()
        .rev()
        .find(|(n, _, _)| n == first)
        .map(|(_, node, val)| (*node, *val))?;
    for seg in rest {
        cur = cur.get(seg)?;
        val = val.and_then(|v| val_field(v, seg));
    }
    Some((cur, val))
}

/// The deepest existing node along `path`: an absent field points at its
/// owner (a missing `user:` at the service's name).
fn resolve_deepest<'n>(bound: &[Bound<'n>], path: &[String]) -> &'n Node {
    static EMPTY: Node = Node {
        span: Span::ZERO,
        value: Value::Null,
    };
    let Some((first, rest)) = path.split_first() else {
        return &EMPTY;
    };
    let Some(mut cur) = bound
        .iter()
        .rev()
        .find(|(n, _, _)| n == first)
        .map(|(_, node, _)| *node)
    else {
        return bound.last().map_or(&EMPTY, |(_, n, _)| *n);
    };
    for seg in rest {
        match cur.get(seg) {
            Some(next) => cur = next,
            None => break,
        }
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::Kind;

    thread_local! {
        /// Nodes converted for the interpreter after a fallback.
        pub(super) static CONVERSIONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn expr(src: &str) -> Expr {
        let program = cel_env().unwrap().compile(src).unwrap();
        Expr::new(program, Origin::default())
    }

    /// An expression that falls back on every item of a loop (a string
    /// compared to an int: the interpreter decides) converts the document and
    /// each item once, not the document once per item; and answers as the
    /// interpreter does.
    #[test]
    fn fallbacks_in_a_loop_convert_each_node_once() {
        let n = 300;
        let mut text = String::from("services:\n");
        for i in 0..n {
            text.push_str(&format!("  s{i}:\n    image: x{i}\n"));
        }
        let mut project = Project::default();
        project.add_file("compose.yaml", text.into_bytes(), Kind::COMPOSE);
        project.link();
        let doc = project.documents.first().unwrap();
        let when = expr("s.name == 1 || s.name.endsWith('7')");
        assert!(when.fast.is_some());
        let rule = Rule {
            target: "compose".into(),
            scope: Vec::new(),
            steps: vec![
                Step::For {
                    var: "s".into(),
                    path: vec!["compose".into(), "services".into()],
                },
                Step::Deny(0),
            ],
            denies: vec![Deny {
                node: vec!["s".into()],
                when: Some(when),
                message: vec![MessagePart::Expr(expr("s.name"))],
                origin: Origin::default(),
            }],
        };
        let engine = Engine::new().unwrap();
        CONVERSIONS.with(|c| c.set(0));
        let (hits, errors) = engine.run_document(std::slice::from_ref(&rule), doc, &project);
        assert!(errors.is_empty(), "{:?}", errors.first());
        assert_eq!(hits.len(), n / 10);
        assert_eq!(hits.first().unwrap().message, "s7");
        // The document and each service: once each.
        assert_eq!(CONVERSIONS.with(std::cell::Cell::get), n + 1);
    }
}
