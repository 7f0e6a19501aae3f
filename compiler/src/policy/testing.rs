//! The runner of policy `test` blocks (`rampart test`): each case is
//! evaluated against its policy alone; coverage asks for a deny and an allow
//! case per policy.

use std::path::{Path, PathBuf};

use rampart_runtime::fs::Confined;
use rampart_runtime::project::{Kind, Project};

use crate::discover::kind_by_name;
use crate::policy::compile::{Compiled, CompiledPolicy};

/// The result of one test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    /// Policy id.
    pub policy: String,
    /// Case description.
    pub name: String,
    /// `None` when it passed, the reason otherwise.
    pub failure: Option<String>,
}

/// Runs every test block of a compilation.
pub fn run_tests(
    compiled: &Compiled,
    base_dirs: &[Option<PathBuf>],
) -> (Vec<CaseResult>, Vec<String>) {
    let mut results = Vec::new();
    for t in &compiled.tests {
        let Some(policy) = compiled.policies.iter().find(|p| p.id == t.policy) else {
            continue;
        };
        let base = base_dirs.get(t.source as usize).cloned().flatten();
        for case in &t.cases {
            let failure = run_case(compiled, policy, case, base.as_deref());
            results.push(CaseResult {
                policy: policy.id.clone(),
                name: case.name.value.clone(),
                failure,
            });
        }
    }
    // Coverage: every policy of the tested sources needs a deny and an allow case.
    let mut coverage = Vec::new();
    for p in &compiled.policies {
        let cases: Vec<&rampart_lang::ast::Case> = compiled
            .tests
            .iter()
            .filter(|t| t.policy == p.id)
            .flat_map(|t| t.cases.iter())
            .collect();
        let has = |e: rampart_lang::ast::Expect| cases.iter().any(|c| c.expect == e);
        if !has(rampart_lang::ast::Expect::Deny) {
            coverage.push(format!("{}: no `deny` test case", p.id));
        }
        if !has(rampart_lang::ast::Expect::Allow) {
            coverage.push(format!("{}: no `allow` test case", p.id));
        }
    }
    (results, coverage)
}

fn run_case(
    compiled: &Compiled,
    policy: &CompiledPolicy,
    case: &rampart_lang::ast::Case,
    base: Option<&Path>,
) -> Option<String> {
    use rampart_lang::ast::{CaseInput, Expect};
    let mut project = Project::default();
    let mut first = None;
    match &case.input {
        CaseInput::Inline { format, text } => {
            let Some(kind) = Kind::from_keyword(&format.name) else {
                return Some(format!("unknown input format `{}`", format.name));
            };
            first = Some(project.add_file(
                kind.default_file_name(),
                text.value.clone().into_bytes(),
                kind,
            ));
        }
        CaseInput::File(p) => {
            let path = base.map_or_else(|| PathBuf::from(&p.value), |b| b.join(&p.value));
            let kind = kind_by_name(&p.value).unwrap_or(Kind::COMPOSE);
            // A fixture lies under its policy file's directory (policies may come
            // from the repository under test): no link out, nothing in `.git`.
            let fs = base.map_or_else(
                || Confined::anywhere(Path::new("")),
                |b| Confined::new(b, [b.to_path_buf()]),
            );
            match fs.read(&path) {
                Ok(bytes) => first = Some(project.add_file(&p.value, bytes, kind)),
                Err(e) => return Some(format!("cannot read fixture `{}`: {e}", p.value)),
            }
        }
        CaseInput::Files(files) => {
            // Auxiliary files first, so links see them.
            for (name, text) in files {
                if kind_by_name(&name.value).is_none() {
                    project.add_aux(&name.value, &text.value);
                }
            }
            for (name, text) in files {
                if let Some(kind) = kind_by_name(&name.value) {
                    let id = project.add_file(&name.value, text.value.clone().into_bytes(), kind);
                    first.get_or_insert(id);
                }
            }
        }
    }
    project.link();
    let outcome = crate::session::evaluate(&project, &[policy], compiled);
    if let Some(e) = outcome.errors.first() {
        return Some(format!(
            "input error at {}:{}: {}",
            e.file, e.line, e.message
        ));
    }
    let first_path = first
        .and_then(|f| project.sources.get(f))
        .map(|f| f.path.clone());
    match case.expect {
        Expect::Deny => {
            if outcome.findings.is_empty() {
                return Some("expected a finding, got none".into());
            }
            if let Some(line) = case.line {
                let at_line = outcome
                    .findings
                    .iter()
                    .any(|f| f.line == line as usize && Some(&f.file) == first_path.as_ref());
                if !at_line {
                    let lines: Vec<String> = outcome
                        .findings
                        .iter()
                        .map(|f| f.line.to_string())
                        .collect();
                    return Some(format!(
                        "expected a finding at line {line}, got line(s) {}",
                        lines.join(", ")
                    ));
                }
            }
            None
        }
        Expect::Allow => {
            if outcome.findings.is_empty() {
                None
            } else {
                let f = outcome
                    .findings
                    .first()
                    .map(|f| format!("line {}: {}", f.line, f.message))
                    .unwrap_or_default();
                Some(format!(
                    "expected no finding, got {} ({f})",
                    outcome.findings.len()
                ))
            }
        }
    }
}
