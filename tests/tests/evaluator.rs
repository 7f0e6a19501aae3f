//! The fast evaluator (runtime/src/fast.rs) on the standard library: every
//! expression of every stdlib rule compiles to the fast path, and a run over
//! a budget-busting policy reports what the `cel` interpreter reports.

use rampart::policy::compile::{compile, CompileOptions, Compiled, CompiledPolicy, PolicySource};
use rampart::policy::sources::stdlib_sources;
use rampart::session::evaluate;
use rampart_runtime::engine::{Expr, MessagePart, Rule, Step};
use rampart_runtime::fast::Prog;
use rampart_runtime::project::{Kind, Project};
use rampart_tests::shared_or_skip;

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

/// The same rules with every expression on the `cel` interpreter.
fn interpreted(c: &Compiled) -> Compiled {
    let mut c = c.clone();
    for p in &mut c.policies {
        for s in &mut p.rule.steps {
            if let Step::Where(e) = s {
                e.fast = None;
            }
        }
        for d in &mut p.rule.denies {
            if let Some(e) = &mut d.when {
                e.fast = None;
            }
            for m in &mut d.message {
                if let MessagePart::Expr(e) = m {
                    e.fast = None;
                }
            }
        }
    }
    c
}

/// Findings and errors of a run, in words.
fn outcome(project: &Project, c: &Compiled) -> String {
    let policies: Vec<&CompiledPolicy> = c.policies.iter().collect();
    let r = evaluate(project, &policies, c);
    format!("{:#?}\n{:#?}", r.findings, r.errors)
}

/// Every real-world file of the corpus gives the same findings and errors
/// whether the stdlib runs on the fast path or on the interpreter.
#[test]
fn fast_and_interpreted_stdlib_agree_on_the_real_corpus() {
    let Some(shared) = shared_or_skip("fast_and_interpreted_stdlib_agree_on_the_real_corpus")
    else {
        return;
    };
    let fast = compile(stdlib_sources(), &CompileOptions::default());
    let slow = interpreted(&fast);
    let mut files = 0;
    for (dir, kind, paths) in rampart_tests::real_corpus(&shared) {
        assert!(!paths.is_empty(), "no files in corpus/real/{dir}");
        for f in paths.iter().step_by(3) {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let mut project = Project::default();
            project.add_file(&name, std::fs::read(f).unwrap(), kind);
            project.link();
            assert_eq!(
                outcome(&project, &fast),
                outcome(&project, &slow),
                "{dir}/{name}"
            );
            files += 1;
        }
    }
    assert!(files > 200, "{files}");
}

/// A policy that spends its budget part way through a document: the fast
/// path gives up at the charge it cannot pay, the budget is restored and the
/// interpreter spends it to the same point, so the findings before it and
/// the error are the interpreter's.
#[test]
fn budget_busting_policy_reports_as_the_interpreter() {
    let range = format!(
        "[{}]",
        (1..=300)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let text = format!(
        "package hostile\n\
         policy slow {{\n  title \"t\"\n  severity low\n  rationale \"r\"\n  \
         for s in compose.services\n  \
         deny s when size(s.name) < 3 || {range}.exists(a, {range}.exists(b, a * b == 90001 + size(s.name))) \
         message \"{{s.name}} {{size({range}.map(x, x))}}\"\n}}\n\
         policy fine {{\n  title \"t\"\n  severity low\n  rationale \"r\"\n  \
         for s in compose.services\n  deny s when s.name.startsWith(\"a\") \
         message \"{{s.name}}\"\n}}\n"
    );
    let fast = compile(
        vec![PolicySource {
            path: "hostile.rampart".into(),
            text,
            stdlib: false,
        }],
        &CompileOptions::default(),
    );
    assert!(fast.diagnostics.is_empty(), "{:#?}", fast.diagnostics);
    let slow = interpreted(&fast);
    // Every expression is on the fast path.
    assert!(fast.policies.iter().all(|p| p.rule.denies.iter().all(|d| d
        .when
        .as_ref()
        .unwrap()
        .fast
        .is_some())));
    let mut compose = String::from("services:\n");
    for i in 0..40 {
        compose.push_str(&format!("  a{i}:\n    image: x\n"));
    }
    let mut project = Project::default();
    project.add_file("compose.yaml", compose.into_bytes(), Kind::COMPOSE);
    project.link();
    let (f, s) = (outcome(&project, &fast), outcome(&project, &slow));
    assert_eq!(f, s);
    assert!(f.contains("evaluation budget exceeded"), "{f}");
    assert!(f.contains("a39"), "{f}");
    assert!(f.contains("a9 300"), "{f}");
}
