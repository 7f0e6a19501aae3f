//! The runner of policy `test` blocks (`rampart test`): each case is
//! evaluated against its policy alone (with the case's `with params { … }`
//! in effect); coverage asks for a deny and an allow case per policy and for
//! every `deny` clause to be exercised by a deny case.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use rampart_lang::ast::{Case, CaseInput, Expect};
use rampart_runtime::engine::Engine;
use rampart_runtime::fs::Confined;
use rampart_runtime::project::{Kind, Project};

use crate::discover::kind_by_name;
use crate::policy::compile::{
    compile, CompileOptions, Compiled, CompiledPolicy, ParamError, MAX_CONST_UNITS,
};

/// The most files a fixture folder (`file "dir"`) may hold.
pub const MAX_FIXTURE_FILES: usize = 256;

/// A finding a case produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseFinding {
    /// Input file (as named in the case).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The message.
    pub message: String,
    /// The `deny` clause it comes from (`policy-file:line`), when known.
    pub clause: Option<String>,
}

/// The result of one test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    /// Policy id.
    pub policy: String,
    /// Case description.
    pub name: String,
    /// `deny` or `allow`.
    pub expect: &'static str,
    /// Where the case is written (`policy-file:line`).
    pub at: String,
    /// What the case expects, in words.
    pub expected: String,
    /// The findings it produced.
    pub findings: Vec<CaseFinding>,
    /// `None` when it passed, the reason otherwise.
    pub failure: Option<String>,
}

/// A `deny` clause and whether a deny case exercised it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClauseCoverage {
    /// Where the clause is written (`policy-file:line`).
    pub at: String,
    /// Whether some passing deny case's expected finding comes from it.
    pub exercised: bool,
}

/// One policy's coverage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyCoverage {
    /// Policy id.
    pub policy: String,
    /// Its deny cases.
    pub deny_cases: usize,
    /// Its allow cases.
    pub allow_cases: usize,
    /// Its `deny` clauses in written order.
    pub clauses: Vec<ClauseCoverage>,
}

impl PolicyCoverage {
    /// The gaps, in words (`no `allow` test case`, `deny clause at … not exercised`).
    pub fn gaps(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.deny_cases == 0 {
            out.push("no `deny` test case".to_string());
        }
        if self.allow_cases == 0 {
            out.push("no `allow` test case".to_string());
        }
        for c in self.clauses.iter().filter(|c| !c.exercised) {
            out.push(format!(
                "the `deny` clause at {} is exercised by no deny case",
                c.at
            ));
        }
        out
    }
}

/// Everything a test run found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TestRun {
    /// Case results, in written order.
    pub cases: Vec<CaseResult>,
    /// Coverage of every policy selected.
    pub coverage: Vec<PolicyCoverage>,
}

impl TestRun {
    /// Cases that failed.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| c.failure.is_some()).count()
    }
    /// Coverage gaps, as `(policy, gap)`.
    pub fn gaps(&self) -> Vec<(String, String)> {
        self.coverage
            .iter()
            .flat_map(|p| p.gaps().into_iter().map(|g| (p.policy.clone(), g)))
            .collect()
    }
}

/// Runs every test block of a compilation whose policy id or case name
/// contains `filter` (all when `None`).
pub fn run_tests(
    compiled: &Compiled,
    base_dirs: &[Option<PathBuf>],
    filter: Option<&str>,
) -> TestRun {
    let matches = |s: &str| filter.is_none_or(|f| s.contains(f));
    let mut run = TestRun::default();
    let engine = Engine::new().ok();
    // A recompilation per distinct set of case params.
    let mut recompiled: BTreeMap<Vec<(String, String)>, Compiled> = BTreeMap::new();
    let mut exercised: HashSet<(String, usize)> = HashSet::new();
    let mut selected: HashSet<&str> = HashSet::new();
    for t in &compiled.tests {
        let Some(policy) = compiled.policies.iter().find(|p| p.id == t.policy) else {
            continue;
        };
        let base = base_dirs.get(t.source as usize).cloned().flatten();
        let src = compiled.sources.get(t.source as usize);
        for case in &t.cases {
            if !matches(&policy.id) && !matches(&case.name.value) {
                continue;
            }
            selected.insert(policy.id.as_str());
            let at = src.map_or_else(String::new, |s| {
                let (line, _) = rampart_runtime::source::line_col_in(&s.text, case.span.start);
                format!("{}:{line}", s.path)
            });
            let mut result = CaseResult {
                policy: policy.id.clone(),
                name: case.name.value.clone(),
                expect: match case.expect {
                    Expect::Deny => "deny",
                    Expect::Allow => "allow",
                },
                at,
                expected: String::new(),
                findings: Vec::new(),
                failure: None,
            };
            // The policy as compiled with the case's params.
            let policy_here = if case.params.is_empty() {
                Ok((policy, compiled))
            } else {
                with_params(compiled, policy, case, &mut recompiled)
            };
            match policy_here {
                Err(why) => {
                    result.expected = expected_words(case, None);
                    result.failure = Some(why);
                }
                Ok((p, c)) => {
                    let hit = run_case(c, p, case, base.as_deref(), engine.as_ref(), &mut result);
                    if result.failure.is_none() {
                        exercised.extend(hit.into_iter().map(|d| (policy.id.clone(), d)));
                    }
                }
            }
            run.cases.push(result);
        }
    }
    for p in &compiled.policies {
        if filter.is_some() && !matches(&p.id) && !selected.contains(p.id.as_str()) {
            continue;
        }
        let cases: Vec<&Case> = compiled
            .tests
            .iter()
            .filter(|t| t.policy == p.id)
            .flat_map(|t| t.cases.iter())
            .collect();
        let count = |e: Expect| cases.iter().filter(|c| c.expect == e).count();
        run.coverage.push(PolicyCoverage {
            policy: p.id.clone(),
            deny_cases: count(Expect::Deny),
            allow_cases: count(Expect::Allow),
            clauses: (0..p.rule.denies.len())
                .map(|i| ClauseCoverage {
                    at: clause_at(compiled, p, i),
                    exercised: exercised.contains(&(p.id.clone(), i)),
                })
                .collect(),
        });
    }
    run
}

/// `policy-file:line` of deny clause `i` of `p`.
fn clause_at(compiled: &Compiled, p: &CompiledPolicy, i: usize) -> String {
    let Some(d) = p.rule.denies.get(i) else {
        return String::new();
    };
    compiled
        .sources
        .get(d.origin.source as usize)
        .map_or_else(String::new, |s| {
            let (line, _) = rampart_runtime::source::line_col_in(&s.text, d.origin.start);
            format!("{}:{line}", s.path)
        })
}

/// The policy compiled with the params of `case`, or why it cannot be.
fn with_params<'a>(
    compiled: &'a Compiled,
    policy: &CompiledPolicy,
    case: &Case,
    cache: &'a mut BTreeMap<Vec<(String, String)>, Compiled>,
) -> Result<(&'a CompiledPolicy, &'a Compiled), String> {
    let pkg = policy.id.split('.').next().unwrap_or_default();
    let mut params = BTreeMap::new();
    let mut key = Vec::new();
    for set in &case.params {
        let name = if set.name.segments.len() == 1 {
            format!("{pkg}.{}", set.name)
        } else {
            set.name.to_string()
        };
        let value = literal(&set.value.text)
            .map_err(|why| format!("the value of param `{name}` in `with params`: {why}"))?;
        key.push((name.clone(), set.value.text.clone()));
        params.insert(name, value);
    }
    if !cache.contains_key(&key) {
        let options = CompileOptions {
            params,
            ..CompileOptions::default()
        };
        let c = compile(compiled.sources.clone(), &options);
        cache.insert(key.clone(), c);
    }
    let c = cache
        .get(&key)
        .ok_or_else(|| "cannot compile the policy with these params".to_string())?;
    if let Some(e) = c.param_errors.first() {
        return Err(match e {
            ParamError::Unknown { name, suggestion } => format!(
                "`with params`: no param `{name}`{}",
                suggestion
                    .as_ref()
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default()
            ),
            ParamError::WrongType { name, expected } => {
                format!("`with params`: `{name}` must be a `{expected}`")
            }
        });
    }
    let p = c
        .policies
        .iter()
        .find(|p| p.id == policy.id)
        .ok_or_else(|| "the policy does not compile with these params".to_string())?;
    Ok((p, c))
}

/// A CEL literal's value (no names in scope).
fn literal(text: &str) -> Result<cel::Value, String> {
    let env = rampart_runtime::engine::cel_env().map_err(|e| e.to_string())?;
    let program = env
        .compile(text)
        .map_err(|_| format!("`{text}` is not a CEL literal"))?;
    let engine = Engine::new().map_err(|e| e.to_string())?;
    let ctx = engine.context().new_inner_scope();
    let budgeted = rampart_runtime::budget::instrument(program.expression());
    rampart_runtime::budget::start(MAX_CONST_UNITS);
    match rampart_runtime::budget::execute(&budgeted, &ctx) {
        Ok(v) => Ok(v),
        Err(rampart_runtime::budget::Failure::Budget(_)) => {
            Err(format!("`{text}` takes too much work to evaluate"))
        }
        Err(rampart_runtime::budget::Failure::Error(e)) => Err(format!(
            "cannot evaluate `{text}`: {}",
            rampart_runtime::budget::describe_error(&e)
        )),
    }
}

/// What a case expects, in words.
fn expected_words(case: &Case, first: Option<&str>) -> String {
    match (case.expect, case.line) {
        (Expect::Allow, _) => "no finding".to_string(),
        (Expect::Deny, None) => "at least one finding".to_string(),
        (Expect::Deny, Some(l)) => match first {
            Some(f) => format!("a finding at {f}:{l}"),
            None => format!("a finding at line {l}"),
        },
    }
}

/// Builds the case's input project; the path of its first input.
fn case_project(case: &Case, base: Option<&Path>) -> Result<(Project, Option<String>), String> {
    let mut project = Project::default();
    let mut first = None;
    let mut files: Vec<(String, String)> = Vec::new();
    match &case.input {
        CaseInput::Inline { format, text } => {
            let Some(kind) = Kind::from_keyword(&format.name) else {
                return Err(format!("unknown input format `{}`", format.name));
            };
            let id = project.add_file(
                kind.default_file_name(),
                text.value.clone().into_bytes(),
                kind,
            );
            first = project.sources.get(id).map(|f| f.path.clone());
        }
        CaseInput::File(p) => {
            let path = base.map_or_else(|| PathBuf::from(&p.value), |b| b.join(&p.value));
            // A fixture lies under its policy file's directory (policies may come
            // from the repository under test): no link out, nothing in `.git`.
            let fs = base.map_or_else(
                || Confined::anywhere(Path::new("")),
                |b| Confined::new(b, [b.to_path_buf()]),
            );
            if path.is_dir() {
                files = fixture_folder(&fs, &path, &p.value)?;
            } else {
                let kind = kind_by_name(&p.value).unwrap_or(Kind::COMPOSE);
                match fs.read(&path) {
                    Ok(bytes) => {
                        let id = project.add_file(&p.value, bytes, kind);
                        first = project.sources.get(id).map(|f| f.path.clone());
                    }
                    Err(e) => return Err(format!("cannot read fixture `{}`: {e}", p.value)),
                }
            }
        }
        CaseInput::Files(list) => {
            files = list
                .iter()
                .map(|(n, t)| (n.value.clone(), t.value.clone()))
                .collect();
        }
    }
    if !files.is_empty() {
        // Auxiliary files first, so links see them.
        for (name, text) in &files {
            if kind_by_name(name).is_none() {
                project.add_aux(name, text);
            }
        }
        for (name, text) in &files {
            if let Some(kind) = kind_by_name(name) {
                let id = project.add_file(name, text.clone().into_bytes(), kind);
                if first.is_none() {
                    first = project.sources.get(id).map(|f| f.path.clone());
                }
            }
        }
    }
    project.link();
    Ok((project, first))
}

/// The files of a fixture folder, by path relative to it, sorted; links
/// are not followed and nothing outside the policy's directory is read.
fn fixture_folder(fs: &Confined, dir: &Path, shown: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for e in ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build()
        .flatten()
    {
        if !e.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = e.path().strip_prefix(dir) else {
            continue;
        };
        if rel.components().any(|c| c.as_os_str() == ".git") {
            continue;
        }
        if out.len() >= MAX_FIXTURE_FILES {
            return Err(format!(
                "fixture folder `{shown}` holds more than {MAX_FIXTURE_FILES} files"
            ));
        }
        let name = rel.to_string_lossy().replace('\\', "/");
        let text = fs
            .read_text(e.path())
            .map_err(|err| format!("cannot read fixture `{shown}/{name}`: {err}"))?;
        out.push((name, text));
    }
    if out.is_empty() {
        return Err(format!("fixture folder `{shown}` is empty"));
    }
    Ok(out)
}

/// Runs one case into `result`; returns the deny clauses its expected
/// findings come from.
fn run_case(
    compiled: &Compiled,
    policy: &CompiledPolicy,
    case: &Case,
    base: Option<&Path>,
    engine: Option<&Engine>,
    result: &mut CaseResult,
) -> Vec<usize> {
    let (project, first) = match case_project(case, base) {
        Ok(p) => p,
        Err(why) => {
            result.expected = expected_words(case, None);
            result.failure = Some(why);
            return Vec::new();
        }
    };
    result.expected = expected_words(case, first.as_deref());
    let outcome = crate::session::evaluate(&project, &[policy], compiled);
    // Which clause each finding comes from.
    let hits: Vec<(String, usize, usize)> = engine
        .map(|e| e.run(std::slice::from_ref(&policy.rule), &project).0)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|h| {
            let loc = project.sources.location(h.span)?;
            Some((loc.path, loc.line, h.deny))
        })
        .collect();
    result.findings = outcome
        .findings
        .iter()
        .map(|f| CaseFinding {
            file: f.file.clone(),
            line: f.line,
            message: f.message.clone(),
            clause: hits
                .iter()
                .find(|(file, line, _)| *file == f.file && *line == f.line)
                .map(|(_, _, d)| clause_at(compiled, policy, *d)),
        })
        .collect();
    if let Some(e) = outcome.errors.first() {
        result.failure = Some(format!(
            "input error at {}:{}: {}",
            e.file, e.line, e.message
        ));
        return Vec::new();
    }
    let got = || {
        if outcome.findings.is_empty() {
            "got no finding".to_string()
        } else {
            format!(
                "got {} finding(s): {}",
                outcome.findings.len(),
                outcome
                    .findings
                    .iter()
                    .map(|f| format!("{}:{}: {}", f.file, f.line, f.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
    };
    match case.expect {
        Expect::Deny => {
            let wanted: Vec<&(String, usize, usize)> = hits
                .iter()
                .filter(|(file, line, _)| match case.line {
                    None => true,
                    Some(l) => *line == l as usize && Some(file) == first.as_ref(),
                })
                .collect();
            let ok = match case.line {
                None => !outcome.findings.is_empty(),
                Some(l) => outcome
                    .findings
                    .iter()
                    .any(|f| f.line == l as usize && Some(&f.file) == first.as_ref()),
            };
            if !ok {
                result.failure = Some(format!("expected {}, {}", result.expected, got()));
                return Vec::new();
            }
            wanted.into_iter().map(|h| h.2).collect()
        }
        Expect::Allow => {
            if !outcome.findings.is_empty() {
                result.failure = Some(format!("expected no finding, {}", got()));
            }
            Vec::new()
        }
    }
}
