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
}

impl Expr {
    /// An expression; instruments `program` for [`crate::budget`].
    pub fn new(program: Program, origin: Origin) -> Expr {
        let budgeted = Arc::new(crate::budget::instrument(program.expression()));
        Expr {
            program: Arc::new(program),
            budgeted,
            origin,
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

/// Stack size of evaluation workers.
const WORKER_STACK_BYTES: usize = 64 * 1024 * 1024;

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
        let pool = rayon::ThreadPoolBuilder::new()
            .stack_size(WORKER_STACK_BYTES)
            .build();
        let per_doc = match pool {
            Ok(pool) => pool.install(eval),
            Err(_) => project
                .documents
                .iter()
                .map(|doc| self.run_document_in(rules, &scopes, doc, project))
                .collect(),
        };
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
        self.run_document_in(rules, &rule_scopes(rules), doc, project)
    }

    fn run_document_in(
        &self,
        rules: &[Rule],
        scopes: &[Scope],
        doc: &Document,
        project: &Project,
    ) -> (Vec<Hit>, Vec<EvalError>) {
        let mut run = DocRun {
            project,
            hits: Vec::new(),
            errors: Vec::new(),
        };
        // Converted only when some rule targets the document.
        if !rules.iter().any(|r| r.target == doc.target.name()) {
            return (run.hits, run.errors);
        }
        let doc_val = to_val(&doc.root);
        for (i, rule) in rules.iter().enumerate() {
            if rule.target != doc.target.name() {
                continue;
            }
            crate::budget::start(crate::budget::MAX_EVAL_UNITS);
            let bind = RuleBind {
                name: rule.target.as_str(),
                val: doc_val.as_ref(),
                scope: scopes.get(i).map_or(&[], Vec::as_slice),
            };
            let mut ctx = self.root.new_inner_scope();
            ctx.set_variable_resolver(&bind);
            let mut bound: Vec<Bound<'_>> =
                vec![(rule.target.as_str(), &doc.root, doc_val.as_ref())];
            run.step(i, rule, 0, &ctx, &mut bound);
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

/// Resolves a rule's names without copying anything into its scope: the
/// target to the document's converted value, then the rule's constants and
/// params (the last one bound under a name wins, as in a scope).
struct RuleBind<'a> {
    name: &'a str,
    val: &'a (dyn Val + 'a),
    scope: &'a [(String, Box<dyn Val>)],
}

impl VariableResolver for RuleBind<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        if variable == self.name {
            return Some(CowVal::Borrowed(self.val));
        }
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == variable)
            .map(|(_, v)| CowVal::Borrowed(v.as_ref()))
    }
}

/// A bound name: the node (for spans) and its CEL value (for expressions).
type Bound<'a> = (&'a str, &'a Node, &'a (dyn Val + 'a));

/// Resolves one name to a borrowed CEL value: how a document and each `for`
/// item are bound without copying them into the scope.
struct Bind<'a> {
    name: &'a str,
    val: &'a (dyn Val + 'a),
}

impl VariableResolver for Bind<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        (variable == self.name).then_some(CowVal::Borrowed(self.val))
    }
}

struct DocRun<'p> {
    project: &'p Project,
    hits: Vec<Hit>,
    errors: Vec<EvalError>,
}

impl<'p> DocRun<'p> {
    fn step<'a>(
        &mut self,
        rule_ix: usize,
        rule: &'a Rule,
        at: usize,
        ctx: &Context<'_, '_>,
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
                    self.deny(rule_ix, *d, deny, ctx, bound);
                }
                self.step(rule_ix, rule, at + 1, ctx, bound);
            }
            Step::Where(expr) => {
                let here = bound.last().map(|(_, n, _)| n.span).unwrap_or_default();
                if self.truth(rule_ix, expr, ctx, here) == Some(true) {
                    self.step(rule_ix, rule, at + 1, ctx, bound);
                }
            }
            Step::For { var, path } => {
                let Some((list, list_val)) = resolve(bound, path) else {
                    return;
                };
                let Value::List(items) = &list.value else {
                    self.errors.push(EvalError {
                        rule: rule_ix,
                        origin: Origin::default(),
                        span: list.span,
                        message: format!("`{}` is not a list", path.join(".")),
                    });
                    return;
                };
                let vals = list_val.and_then(val_items).unwrap_or_default();
                for (item, val) in items.iter().zip(vals) {
                    let bind = Bind {
                        name: var.as_str(),
                        val: val.as_ref(),
                    };
                    let mut inner = ctx.new_inner_scope();
                    inner.set_variable_resolver(&bind);
                    bound.push((var.as_str(), item, val.as_ref()));
                    self.step(rule_ix, rule, at + 1, &inner, bound);
                    bound.pop();
                }
            }
        }
    }

    fn deny(
        &mut self,
        rule_ix: usize,
        d_ix: usize,
        deny: &Deny,
        ctx: &Context<'_, '_>,
        bound: &[Bound<'_>],
    ) {
        {
            let target = resolve_deepest(bound, &deny.node);
            let fires = match &deny.when {
                None => true,
                Some(expr) => self.truth(rule_ix, expr, ctx, target.span) == Some(true),
            };
            if !fires {
                return;
            }
            let mut message = String::new();
            for part in &deny.message {
                match part {
                    MessagePart::Text(t) => message.push_str(t),
                    MessagePart::Expr(e) => match e.run(ctx) {
                        Ok(v) => message.push_str(&self.project.shown(&display(&v))),
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

    fn truth(
        &mut self,
        rule_ix: usize,
        expr: &Expr,
        ctx: &Context<'_, '_>,
        here: Span,
    ) -> Option<bool> {
        match expr.run(ctx) {
            Ok(CelValue::Bool(b)) => Some(b),
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
        .map(|(_, node, val)| (*node, Some(*val)))?;
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
        span: Span {
            file: crate::model::FileId(0),
            start: 0,
            end: 0,
        },
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
