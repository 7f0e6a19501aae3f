//! Policy sources to compiled rules: resolution, CEL compilation and
//! checking, lowering to the runtime's [`Rule`]s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rampart_lang::ast::{self, Clause, Item, Meta};
use rampart_runtime::engine::{Deny, Engine, Expr, MessagePart, Origin, Rule, Step};
use rampart_runtime::functions::{self, Signature};
use rampart_runtime::schema::{Schema, Type};

use crate::diagnostics::{did_you_mean, Code, Diagnostic, Level};
use crate::policy::check::{field_of, type_of_value, value_fits, Binding, Checker, DefAst};
use crate::policy::inline::{
    cel_shape, inline, DefBody, InlineError, MAX_CEL_BYTES, MAX_INLINED_BYTES,
};
use crate::policy::template::{parse_template, TemplatePart};

/// One policy file to compile.
#[derive(Clone, Debug)]
pub struct PolicySource {
    /// Display path.
    pub path: String,
    /// Its text.
    pub text: String,
    /// Part of the embedded standard library (stricter metadata rules).
    pub stdlib: bool,
}

/// How bad a finding of a policy is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, from the lowest. The one vocabulary the policy
    /// metadata, `rampart.yaml`, `--fail-on` and the help texts read.
    pub const ALL: &'static [Severity] = &[
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];
    /// Parses `info`…`critical`.
    pub fn parse(s: &str) -> Option<Severity> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
    /// Every name, from the lowest.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.as_str()).collect()
    }
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// Which profile a policy belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Profile {
    /// On by default.
    Recommended,
    /// Added by `--profile strict`.
    Strict,
    /// Off unless enabled by id.
    Opinionated,
}

impl Profile {
    /// Every profile a policy may declare.
    pub const ALL: &'static [Profile] =
        &[Profile::Recommended, Profile::Strict, Profile::Opinionated];
    /// The profiles a run may select (`--profile`, `profile:` in the config);
    /// opinionated policies are enabled by id.
    pub const SELECTABLE: &'static [Profile] = &[Profile::Recommended, Profile::Strict];
    /// Parses a profile name.
    pub fn parse(s: &str) -> Option<Profile> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
    /// The names of `list`.
    pub fn names(list: &[Profile]) -> Vec<&'static str> {
        list.iter().map(|v| v.as_str()).collect()
    }
    /// The name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Profile::Recommended => "recommended",
            Profile::Strict => "strict",
            Profile::Opinionated => "opinionated",
        }
    }
}

/// A compiled policy: metadata and its runtime rule.
#[derive(Clone, Debug)]
pub struct CompiledPolicy {
    /// Full id (`compose.datastore-loopback-only`).
    pub id: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Profile.
    pub profile: Profile,
    /// Source citations.
    pub sources: Vec<String>,
    /// Why it matters.
    pub rationale: String,
    /// What to write instead.
    pub remediation: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Doc comment lines.
    pub docs: Vec<String>,
    /// The target it reads.
    pub target: String,
    /// The rule.
    pub rule: Rule,
    /// Index of its source.
    pub source: u32,
    /// Span of the `policy` item.
    pub span: (usize, usize),
}

/// A test block, resolved to its policy.
#[derive(Clone, Debug)]
pub struct CompiledTest {
    /// The policy id.
    pub policy: String,
    /// The cases.
    pub cases: Vec<ast::Case>,
    /// Index of its source.
    pub source: u32,
}

/// Everything compiled from a set of sources.
#[derive(Clone, Debug, Default)]
pub struct Compiled {
    /// The sources, by index.
    pub sources: Vec<PolicySource>,
    /// Policies, in source order.
    pub policies: Vec<CompiledPolicy>,
    /// Tests.
    pub tests: Vec<CompiledTest>,
    /// Every diagnostic.
    pub diagnostics: Vec<Diagnostic>,
    /// Param values in effect, by qualified name, with their types.
    pub params: BTreeMap<String, (Type, cel::Value)>,
    /// Problems with [`CompileOptions::params`]; the caller locates them
    /// (in `rampart.yaml`).
    pub param_errors: Vec<ParamError>,
    /// What compiles the rules left out by [`CompileOptions::defer_rules`].
    pub deferred: Deferred,
}

impl Compiled {
    /// Whether any diagnostic is an error, or a configured param is wrong.
    pub fn has_errors(&self) -> bool {
        !self.param_errors.is_empty() || self.diagnostics.iter().any(|d| d.level == Level::Error)
    }
}

/// A configured param value that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// No package declares a param of this qualified name.
    Unknown {
        /// The qualified name.
        name: String,
        /// The closest param.
        suggestion: Option<String>,
    },
    /// The value does not fit the declared type.
    WrongType {
        /// The qualified name.
        name: String,
        /// The declared type.
        expected: Type,
    },
}

/// A configured value made to fit a declared type: as is when it fits;
/// scalars become strings where strings are expected (`[80, 443]` for a
/// `list<string>`). `None` when it cannot fit.
fn coerce(v: &cel::Value, t: &Type) -> Option<cel::Value> {
    if value_fits(v, t) {
        return Some(v.clone());
    }
    match (t, v) {
        (Type::String, cel::Value::Int(i)) => Some(cel::Value::String(Arc::new(i.to_string()))),
        (Type::String, cel::Value::UInt(i)) => Some(cel::Value::String(Arc::new(i.to_string()))),
        (Type::String, cel::Value::Float(f)) => Some(cel::Value::String(Arc::new(f.to_string()))),
        (Type::String, cel::Value::Bool(b)) => Some(cel::Value::String(Arc::new(b.to_string()))),
        (Type::List(inner), cel::Value::List(items)) => {
            let items: Option<Vec<cel::Value>> = items.iter().map(|i| coerce(i, inner)).collect();
            items.map(|i| cel::Value::List(Arc::new(i)))
        }
        _ => None,
    }
}

/// Options of a compilation.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// Param overrides by qualified name (`compose.allowed_caps`).
    pub params: BTreeMap<String, cel::Value>,
    /// Compile the policies' metadata only, and their rules (the CEL) when
    /// asked ([`Compiled::complete`]), when every source is the embedded
    /// standard library: it compiles without a diagnostic (a test says so),
    /// so nothing a user sees depends on it. A run then compiles the rules
    /// of the targets its inputs feed only (startup, docs/performance.md).
    /// With any other policy source everything is compiled at once.
    pub defer_rules: bool,
}

struct Package {
    values: HashMap<String, (Type, cel::Value)>,
    defs: HashMap<String, DefBody>,
    def_arity: HashMap<String, Option<usize>>,
    def_asts: HashMap<String, DefAst>,
}

/// Compiles policy sources.
pub fn compile(sources: Vec<PolicySource>, options: &CompileOptions) -> Compiled {
    let mut out = Compiled {
        sources,
        ..Compiled::default()
    };
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            out.diagnostics.push(Diagnostic::new(
                Code::E0000,
                0,
                0,
                0,
                format!("cannot set up the CEL engine: {e}"),
            ));
            return out;
        }
    };
    let env = match rampart_runtime::engine::cel_env() {
        Ok(e) => e,
        Err(e) => {
            out.diagnostics.push(Diagnostic::new(
                Code::E0000,
                0,
                0,
                0,
                format!("cannot set up the CEL environment: {e}"),
            ));
            return out;
        }
    };
    let schema = Schema::standard();
    let signatures = functions::signatures();

    // 1. parse
    let mut files: Vec<(u32, ast::File)> = Vec::new();
    let texts: Vec<&str> = out.sources.iter().map(|s| s.text.as_str()).collect();
    for (i, parsed) in parallel(texts, rampart_lang::parse).into_iter().enumerate() {
        let ix = u32::try_from(i).unwrap_or(u32::MAX);
        match parsed {
            Ok(f) => files.push((ix, f)),
            Err(e) => out.diagnostics.push(syntax_diagnostic(ix, &e)),
        }
    }

    // 1b. imports: a package that no source defines comes from the embedded
    // standard library, for its defs, constants and params only (its
    // policies and tests are not compiled).
    let mut library_only: HashSet<u32> = HashSet::new();
    let defined: HashSet<String> = files.iter().map(|(_, f)| f.package.name.clone()).collect();
    let wants_stdlib = files
        .iter()
        .any(|(_, f)| f.imports.iter().any(|i| !defined.contains(&i.name)));
    if wants_stdlib {
        for src in crate::policy::sources::stdlib_sources() {
            let Ok(f) = rampart_lang::parse(&src.text) else {
                continue;
            };
            if defined.contains(&f.package.name) {
                continue;
            }
            let ix = u32::try_from(out.sources.len()).unwrap_or(u32::MAX);
            out.sources.push(src);
            library_only.insert(ix);
            files.push((ix, f));
        }
    }

    // Rules compiled on demand: only when every source is the stdlib's.
    let defer = options.defer_rules && out.sources.iter().all(|s| s.stdlib);

    // 2. packages: constants and params (evaluated), defs
    let mut def_programs = if defer {
        HashMap::new()
    } else {
        def_asts(&env, &files)
    };
    let mut packages: BTreeMap<String, Package> = BTreeMap::new();
    let mut pending: Vec<(u32, String, PendingValue)> = Vec::new();
    for (ix, f) in &files {
        let pkg = f.package.name.clone();
        let entry = packages.entry(pkg.clone()).or_insert_with(|| Package {
            values: HashMap::new(),
            defs: HashMap::new(),
            def_arity: HashMap::new(),
            def_asts: HashMap::new(),
        });
        for item in &f.items {
            match item {
                Item::Const(c) => pending.push((*ix, pkg.clone(), PendingValue::Const(c.clone()))),
                Item::Param(p) => pending.push((*ix, pkg.clone(), PendingValue::Param(p.clone()))),
                Item::Def(d) => {
                    if entry.defs.contains_key(&d.name.name) {
                        out.diagnostics.push(Diagnostic::new(
                            Code::E0102,
                            *ix,
                            d.name.span.start,
                            d.name.span.end,
                            format!("`{}` is defined twice in package `{pkg}`", d.name.name),
                        ));
                    }
                    entry.defs.insert(
                        d.name.name.clone(),
                        DefBody {
                            params: d.params.iter().map(|p| p.name.clone()).collect(),
                            call: d.has_parens,
                            body: d.body.text.clone(),
                        },
                    );
                    entry
                        .def_arity
                        .insert(d.name.name.clone(), d.has_parens.then_some(d.params.len()));
                    // Parsed for the guard facts of calls; a body that does not
                    // parse is reported where the def is used.
                    if let Err(d) = shape_check(*ix, &d.body) {
                        out.diagnostics.push(d);
                    } else if let Some(ast) = def_programs.remove(&(*ix, d.body.span.start)) {
                        entry.def_asts.insert(d.name.name.clone(), ast);
                    }
                }
                _ => {}
            }
        }
    }
    unused_defs(&mut out, &files);
    evaluate_values(&mut out, &mut packages, pending, options, &engine, &env);
    let scopes = file_scopes(&mut out, &files, &packages);

    // 3. policies and tests
    let target_names: HashSet<&str> = schema.targets().iter().map(|t| t.name).collect();
    let mut seen_ids: HashMap<String, (u32, usize, usize)> = HashMap::new();
    let mut tests: Vec<(u32, String, ast::TestBlock)> = Vec::new();
    let mut jobs: Vec<Job<'_>> = Vec::new();
    for (ix, f) in &files {
        if library_only.contains(ix) {
            continue;
        }
        let pkg = f.package.name.clone();
        for item in &f.items {
            match item {
                Item::Policy(p) => {
                    let id = format!("{pkg}.{}", p.name.name);
                    if let Some((_, s, _)) = seen_ids.get(&id) {
                        let first = *s;
                        jobs.push(Job::Diagnostic(
                            Diagnostic::new(
                                Code::E0101,
                                *ix,
                                p.name.span.start,
                                p.name.span.end,
                                format!("duplicate policy id `{id}`"),
                            )
                            .with_help(format!("the first definition starts at byte {first}")),
                        ));
                        continue;
                    }
                    seen_ids.insert(id.clone(), (*ix, p.span.start, p.span.end));
                    jobs.push(Job::Policy {
                        source: *ix,
                        pkg: &f.package.name,
                        policy: p,
                        id,
                    });
                }
                Item::Test(t) => tests.push((*ix, pkg.clone(), t.clone())),
                _ => {}
            }
        }
    }
    let stdlib: Vec<bool> = out.sources.iter().map(|s| s.stdlib).collect();
    let shared = Shared {
        stdlib: &stdlib,
        packages: &packages,
        schema: &schema,
        signatures: &signatures,
        env: &env,
        target_names: &target_names,
        scopes: &scopes,
    };
    for (policy, diags) in shared.run(jobs, !defer) {
        out.diagnostics.extend(diags);
        out.policies.extend(policy);
    }
    for (ix, pkg, t) in tests {
        let id = format!("{pkg}.{}", t.name.name);
        if !seen_ids.contains_key(&id) {
            let names: Vec<&str> = seen_ids.keys().map(String::as_str).collect();
            let help = did_you_mean(&id, names).map(|s| format!("did you mean `{s}`?"));
            let mut d = Diagnostic::new(
                Code::E0103,
                ix,
                t.name.span.start,
                t.name.span.end,
                format!("test for unknown policy `{id}`"),
            );
            d.help = help;
            out.diagnostics.push(d);
            continue;
        }
        for c in &t.cases {
            if let ast::CaseInput::Inline { format, .. } = &c.input {
                if rampart_runtime::project::Kind::from_keyword(&format.name).is_none() {
                    out.diagnostics.push(
                        Diagnostic::new(
                            Code::E0104,
                            ix,
                            format.span.start,
                            format.span.end,
                            format!("unknown input format `{}`", format.name),
                        )
                        .with_help(format!(
                            "use {}",
                            rampart_runtime::project::Kind::keyword_list()
                        )),
                    );
                }
            }
        }
        out.tests.push(CompiledTest {
            policy: id,
            cases: t.cases.clone(),
            source: ix,
        });
    }
    for (name, pkg) in &packages {
        for (k, (t, v)) in &pkg.values {
            if is_param_name(&files, name, k) {
                out.params
                    .insert(format!("{name}.{k}"), (t.clone(), v.clone()));
            }
        }
    }
    for k in options.params.keys() {
        if !out.params.contains_key(k) {
            let names: Vec<&str> = out.params.keys().map(String::as_str).collect();
            out.param_errors.push(ParamError::Unknown {
                name: k.clone(),
                suggestion: did_you_mean(k, names).map(str::to_string),
            });
        }
    }
    // A def body is checked at every call: its errors, once.
    let mut seen = HashSet::new();
    out.diagnostics
        .retain(|d| seen.insert((d.code, d.source, d.start, d.end, d.message.clone())));
    if defer {
        out.deferred = Deferred(Some(Arc::new(Later {
            files,
            packages,
            stdlib,
            env,
        })));
    }
    out
}

/// `f` over `items` on the cores, results in `items`' order; on the calling
/// thread when there is one item or no thread pool.
fn parallel<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync + Send) -> Vec<R> {
    use rayon::prelude::*;
    if items.len() > 1 {
        // The run's one pool of large-stack threads, shared with loading and
        // evaluation (no pool made and torn down per call).
        return rampart_runtime::project::on_cores(|| items.into_par_iter().map(&f).collect());
    }
    items.into_iter().map(f).collect()
}

/// The parsed body of every def whose text is within the CEL limits, by
/// (source, body start), compiled in parallel; a body that does not parse
/// is left out (it is reported where the def is used).
fn def_asts(env: &Arc<cel::Env>, files: &[(u32, ast::File)]) -> HashMap<(u32, usize), DefAst> {
    let defs: Vec<(u32, &ast::Def)> = files
        .iter()
        .flat_map(|(ix, f)| {
            f.items.iter().filter_map(move |i| match i {
                Item::Def(d) if cel_shape(&d.body.text, MAX_CEL_BYTES).is_ok() => Some((*ix, d)),
                _ => None,
            })
        })
        .collect();
    parallel(defs, |(ix, d)| {
        let program = env.compile(&d.body.text).ok()?;
        Some((
            (ix, d.body.span.start),
            DefAst {
                params: d.params.iter().map(|p| p.name.clone()).collect(),
                body: program.expression().clone(),
                source: ix,
                start: d.body.span.start,
                text: d.body.text.clone(),
                program: Arc::new(program),
                package: None,
            },
        ))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// One step of compiling the policies, in source order.
enum Job<'a> {
    /// A diagnostic found while listing them (a duplicate id).
    Diagnostic(Diagnostic),
    /// A policy to compile.
    Policy {
        source: u32,
        pkg: &'a str,
        policy: &'a ast::Policy,
        id: String,
    },
}

/// What compiling any policy reads.
struct Shared<'a> {
    /// Whether each source is the stdlib's, by index.
    stdlib: &'a [bool],
    packages: &'a BTreeMap<String, Package>,
    schema: &'a Schema,
    signatures: &'a [Signature],
    env: &'a Arc<cel::Env>,
    target_names: &'a HashSet<&'a str>,
    scopes: &'a HashMap<u32, FileScope>,
}

impl Shared<'_> {
    /// Compiles the policies of `jobs` in parallel (their metadata only
    /// unless `rules`); results in `jobs`' order.
    fn run(
        &self,
        jobs: Vec<Job<'_>>,
        rules: bool,
    ) -> Vec<(Option<CompiledPolicy>, Vec<Diagnostic>)> {
        let one = |job: Job<'_>| match job {
            Job::Diagnostic(d) => (None, vec![d]),
            Job::Policy {
                source,
                pkg,
                policy,
                id,
            } => {
                let ctx = PolicyCtx {
                    source,
                    stdlib: self.stdlib.get(source as usize).copied().unwrap_or(false),
                    pkg,
                    packages: self.packages,
                    schema: self.schema,
                    signatures: self.signatures,
                    env: self.env,
                    target_names: self.target_names,
                    file_scope: self.scopes.get(&source),
                    rules,
                };
                ctx.policy(policy, id)
            }
        };
        if rules {
            parallel(jobs, one)
        } else {
            jobs.into_iter().map(one).collect()
        }
    }
}

/// The rules a compilation left for later ([`CompileOptions::defer_rules`]).
#[derive(Clone, Default)]
pub struct Deferred(Option<Arc<Later>>);

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Deferred(rules)"
        } else {
            "Deferred(none)"
        })
    }
}

/// Everything compiling a deferred rule needs.
struct Later {
    files: Vec<(u32, ast::File)>,
    packages: BTreeMap<String, Package>,
    stdlib: Vec<bool>,
    env: Arc<cel::Env>,
}

impl Later {
    /// The compiled policies of `ids` (their defs parsed first).
    fn policies(&self, ids: &HashSet<&str>) -> HashMap<String, CompiledPolicy> {
        if ids.is_empty() {
            return HashMap::new();
        }
        let mut asts = def_asts(&self.env, &self.files);
        let mut packages: BTreeMap<String, Package> = BTreeMap::new();
        for (name, p) in &self.packages {
            packages.insert(
                name.clone(),
                Package {
                    values: p.values.clone(),
                    defs: p.defs.clone(),
                    def_arity: p.def_arity.clone(),
                    def_asts: HashMap::new(),
                },
            );
        }
        for (ix, f) in &self.files {
            let Some(pkg) = packages.get_mut(&f.package.name) else {
                continue;
            };
            for item in &f.items {
                if let Item::Def(d) = item {
                    if let Some(ast) = asts.remove(&(*ix, d.body.span.start)) {
                        pkg.def_asts.insert(d.name.name.clone(), ast);
                    }
                }
            }
        }
        // Its diagnostics were reported by `compile`.
        let scopes = file_scopes(&mut Compiled::default(), &self.files, &packages);
        let schema = Schema::standard();
        let signatures = functions::signatures();
        let target_names: HashSet<&str> = schema.targets().iter().map(|t| t.name).collect();
        let mut jobs = Vec::new();
        for (ix, f) in &self.files {
            for item in &f.items {
                if let Item::Policy(p) = item {
                    let id = format!("{}.{}", f.package.name, p.name.name);
                    if ids.contains(id.as_str()) {
                        jobs.push(Job::Policy {
                            source: *ix,
                            pkg: &f.package.name,
                            policy: p,
                            id,
                        });
                    }
                }
            }
        }
        let shared = Shared {
            stdlib: &self.stdlib,
            packages: &packages,
            schema: &schema,
            signatures: &signatures,
            env: &self.env,
            target_names: &target_names,
            scopes: &scopes,
        };
        // The stdlib compiles without a diagnostic (tests/tests/stdlib.rs):
        // a deferred rule has none to report.
        shared
            .run(jobs, true)
            .into_iter()
            .filter_map(|(p, _)| p)
            .map(|p| (p.id.clone(), p))
            .collect()
    }
}

impl Compiled {
    /// Compiles the deferred rules ([`CompileOptions::defer_rules`]) of
    /// every policy `wanted` picks; other policies keep their metadata only.
    pub fn complete(&mut self, wanted: impl Fn(&CompiledPolicy) -> bool) {
        self.policies = self.rules_for(&self.policies, wanted);
    }

    /// `policies` (taken from this compilation, as selected for a run) with
    /// the deferred rules of those `wanted` picks compiled.
    pub fn rules_for(
        &self,
        policies: &[CompiledPolicy],
        wanted: impl Fn(&CompiledPolicy) -> bool,
    ) -> Vec<CompiledPolicy> {
        let Some(later) = &self.deferred.0 else {
            return policies.to_vec();
        };
        let ids: HashSet<&str> = policies
            .iter()
            .filter(|p| p.rule.denies.is_empty() && wanted(p))
            .map(|p| p.id.as_str())
            .collect();
        let mut compiled = later.policies(&ids);
        policies
            .iter()
            .map(|p| match compiled.remove(&p.id) {
                // The run's choices (a severity from the config) stay.
                Some(c) => CompiledPolicy {
                    rule: c.rule,
                    ..p.clone()
                },
                None => p.clone(),
            })
            .collect()
    }
}

/// A syntax error of policy source `ix` as a diagnostic (E0001).
pub fn syntax_diagnostic(ix: u32, e: &rampart_lang::SyntaxError) -> Diagnostic {
    let message = match (&e.reason, e.expected.as_slice()) {
        (Some(r), _) => r.clone(),
        (None, []) => "syntax error".into(),
        (None, [one]) => format!("expected {one}"),
        (None, many) => format!("expected one of {}", many.join(", ")),
    };
    Diagnostic::new(
        Code::E0001,
        ix,
        e.span.start,
        e.span.end.max(e.span.start),
        message,
    )
}

fn is_param_name(files: &[(u32, ast::File)], pkg: &str, name: &str) -> bool {
    files.iter().any(|(_, f)| {
        f.package.name == pkg
            && f.items
                .iter()
                .any(|i| matches!(i, Item::Param(p) if p.name.name == name))
    })
}

/// Work units the compile-time evaluation of one constant or param default
/// may spend (see `rampart_runtime::budget`).
pub const MAX_CONST_UNITS: u64 = 1_000_000;

/// The largest value a constant or param default may have: bytes of its
/// strings plus 8 per list item or map entry.
pub const MAX_CONST_BYTES: usize = 1024 * 1024;

/// The deepest nesting of lists and maps in a constant.
pub const MAX_CONST_DEPTH: usize = 64;

/// Whether a constant's value is within [`MAX_CONST_BYTES`] and
/// [`MAX_CONST_DEPTH`] (walked without recursion: constants can nest each other).
fn const_size(v: &cel::Value) -> Result<(), String> {
    let mut size = 0usize;
    let mut stack: Vec<(&cel::Value, usize)> = vec![(v, 1)];
    while let Some((v, depth)) = stack.pop() {
        if depth > MAX_CONST_DEPTH {
            return Err(format!(
                "lists and maps nested deeper than {MAX_CONST_DEPTH}"
            ));
        }
        match v {
            cel::Value::String(s) => size += s.len(),
            cel::Value::Bytes(b) => size += b.len(),
            cel::Value::List(items) => {
                size += 8 * items.len();
                stack.extend(items.iter().map(|i| (i, depth + 1)));
            }
            cel::Value::Map(m) => {
                for (k, item) in m.map.iter() {
                    size += 8;
                    if let cel::objects::Key::String(s) = k {
                        size += s.len();
                    }
                    stack.push((item, depth + 1));
                }
            }
            _ => size += 8,
        }
        if size > MAX_CONST_BYTES {
            return Err(format!("more than {MAX_CONST_BYTES} bytes"));
        }
    }
    Ok(())
}

enum PendingValue {
    Const(ast::Const),
    Param(ast::Param),
}

/// Evaluates constants and param defaults, in as many passes as their
/// references to each other need.
fn evaluate_values(
    out: &mut Compiled,
    packages: &mut BTreeMap<String, Package>,
    mut pending: Vec<(u32, String, PendingValue)>,
    options: &CompileOptions,
    engine: &Engine,
    env: &Arc<cel::Env>,
) {
    for _pass in 0..8 {
        let mut next = Vec::new();
        let before = pending.len();
        for (ix, pkg, item) in pending {
            let (name, cel_src, declared) = match &item {
                PendingValue::Const(c) => (&c.name, &c.value, None),
                PendingValue::Param(p) => (&p.name, &p.default, Some(&p.ty)),
            };
            if let Err(d) = shape_check(ix, cel_src) {
                out.diagnostics.push(d);
                continue;
            }
            let program = match env.compile(&cel_src.text) {
                Ok(p) => p,
                Err(e) => {
                    out.diagnostics
                        .push(cel_parse_error(ix, &cel_src.text, &e, &|o| {
                            cel_src.span.start + o
                        }));
                    continue;
                }
            };
            let mut ctx = engine.context().new_inner_scope();
            bind_package_values(&mut ctx, packages, &pkg);
            let budgeted = rampart_runtime::budget::instrument(program.expression());
            rampart_runtime::budget::start(MAX_CONST_UNITS);
            let result = rampart_runtime::budget::execute(&budgeted, &ctx);
            let result = match result {
                Ok(v) => match const_size(&v) {
                    Ok(()) => Ok(v),
                    Err(why) => {
                        out.diagnostics.push(Diagnostic::new(
                            Code::E0311,
                            ix,
                            cel_src.span.start,
                            cel_src.span.end,
                            format!("`{}` is too large: {why}", name.name),
                        ));
                        continue;
                    }
                },
                Err(rampart_runtime::budget::Failure::Budget(_)) => {
                    out.diagnostics.push(Diagnostic::new(Code::E0311,
                        ix,
                        cel_src.span.start,
                        cel_src.span.end,
                        format!(
                            "`{}` takes too much work to evaluate (more than {MAX_CONST_UNITS} units: comprehension items and built values)",
                            name.name
                        ),
                    ));
                    continue;
                }
                Err(rampart_runtime::budget::Failure::Error(e)) => Err(e),
            };
            match result {
                Ok(mut v) => {
                    let mut ty = type_of_value(&v);
                    if let Some(tname) = declared {
                        match Type::parse(&tname.name) {
                            Some(t) => {
                                if !value_fits(&v, &t) {
                                    out.diagnostics.push(Diagnostic::new(
                                        Code::E0111,
                                        ix,
                                        cel_src.span.start,
                                        cel_src.span.end,
                                        format!("default of `{}` is not a `{t}`", name.name),
                                    ));
                                }
                                let qualified = format!("{pkg}.{}", name.name);
                                if let Some(o) = options.params.get(&qualified) {
                                    match coerce(o, &t) {
                                        Some(c) => v = c,
                                        None => out.param_errors.push(ParamError::WrongType {
                                            name: qualified.clone(),
                                            expected: t.clone(),
                                        }),
                                    }
                                }
                                ty = t;
                            }
                            None => out.diagnostics.push(
                                Diagnostic::new(
                                    Code::E0113,
                                    ix,
                                    tname.span.start,
                                    tname.span.end,
                                    format!("unknown type `{}`", tname.name),
                                )
                                .with_help(
                                    "types: string, int, bool, float, list<T>, map<string, T>",
                                ),
                            ),
                        }
                    }
                    if let Some(p) = packages.get_mut(&pkg) {
                        if p.values.contains_key(&name.name) {
                            out.diagnostics.push(Diagnostic::new(
                                Code::E0102,
                                ix,
                                name.span.start,
                                name.span.end,
                                format!("`{}` is defined twice in package `{pkg}`", name.name),
                            ));
                        }
                        p.values.insert(name.name.clone(), (ty, v));
                    }
                }
                Err(cel::ExecutionError::UndeclaredReference(r)) => {
                    next.push((ix, pkg, item, r.to_string()))
                }
                Err(e) => out.diagnostics.push(Diagnostic::new(
                    Code::E0114,
                    ix,
                    cel_src.span.start,
                    cel_src.span.end,
                    format!(
                        "cannot evaluate `{}`: {}",
                        name.name,
                        rampart_runtime::budget::describe_error(&e)
                    ),
                )),
            }
        }
        let progress = next.len() < before;
        pending = Vec::new();
        let mut unresolved = Vec::new();
        for (ix, pkg, item, r) in next {
            if progress {
                pending.push((ix, pkg, item));
            } else {
                unresolved.push((ix, item, r));
            }
        }
        for (ix, item, r) in unresolved {
            let (name, src) = match &item {
                PendingValue::Const(c) => (c.name.name.clone(), &c.value),
                PendingValue::Param(p) => (p.name.name.clone(), &p.default),
            };
            out.diagnostics.push(
                Diagnostic::new(
                    Code::E0201,
                    ix,
                    src.span.start,
                    src.span.end,
                    format!("`{name}` refers to unknown name `{r}`"),
                )
                .with_help("constants and params may use literals and other constants only"),
            );
        }
        if pending.is_empty() {
            break;
        }
    }
}

fn bind_package_values(
    ctx: &mut cel::Context<'_, '_>,
    packages: &BTreeMap<String, Package>,
    own: &str,
) {
    for (name, pkg) in packages {
        if name == own {
            for (k, (_, v)) in &pkg.values {
                ctx.add_variable_from_value(k.clone(), v.clone());
            }
        } else {
            ctx.add_variable_from_value(name.clone(), package_map(pkg));
        }
    }
}

fn package_map(pkg: &Package) -> cel::Value {
    let map: HashMap<cel::objects::Key, cel::Value> = pkg
        .values
        .iter()
        .map(|(k, (_, v))| (cel::objects::Key::String(Arc::new(k.clone())), v.clone()))
        .collect();
    cel::Value::Map(cel::objects::Map { map: Arc::new(map) })
}

/// A CEL text too long or too deep for the CEL parser and the recursive
/// passes after it, as a located error (E0308).
fn shape_check(ix: u32, src: &ast::Cel) -> Result<(), Diagnostic> {
    cel_shape(&src.text, MAX_CEL_BYTES).map_err(|(offset, why)| {
        let start = src.span.start + offset;
        Diagnostic::new(Code::E0308, ix, start, start + 1, why)
    })
}

/// A CEL parse error of `text`, located in the policy file by `map` (an
/// offset in `text` to one in the file): the one mapping of the CEL
/// parser's errors to diagnostics.
fn cel_parse_error(
    source: u32,
    text: &str,
    e: &cel::ParseErrors,
    map: &dyn Fn(usize) -> usize,
) -> Diagnostic {
    let first = first_error(e);
    let (line, col) = first.map_or((1, 1), |p| p.pos);
    let offset = line_col_offset(text, line, col).min(text.len().saturating_sub(1));
    let msg = first.map_or_else(|| "invalid expression".to_string(), |p| cel_message(&p.msg));
    let start = map(offset);
    Diagnostic::new(
        Code::E0002,
        source,
        start,
        start + 1,
        format!("invalid expression: {msg}"),
    )
}

/// The parse error to show: the first that is not the parser's follow-up
/// complaint about an incomplete node.
fn first_error(e: &cel::ParseErrors) -> Option<&cel::ParseError> {
    e.errors
        .iter()
        .find(|p| !p.msg.starts_with("Incomplete"))
        .or_else(|| e.errors.first())
}

/// CEL's parser message, shortened for humans, without the crate's debug
/// dumps (`OtherError(ParseError { … msg: "…" … })`) or node names.
fn cel_message(msg: &str) -> String {
    // A wrapped error: keep its own message.
    let msg = match (msg.starts_with("OtherError("), msg.find("msg: \"")) {
        (true, Some(i)) => {
            let rest = msg.get(i + 6..).unwrap_or("");
            rest.split('"').next().unwrap_or(rest)
        }
        (true, None) => "invalid expression",
        _ => msg,
    };
    if msg.starts_with("Recursion limit of") {
        return "the expression is nested too deeply".to_string();
    }
    if msg.starts_with("Incomplete") {
        let what = if msg.contains("_?_:_") {
            "a conditional `a ? b : c`"
        } else {
            "an operator or call"
        };
        return format!("incomplete expression: {what} is missing an operand");
    }
    let m = msg.strip_prefix("Syntax error: ").unwrap_or(msg);
    m.replace("mismatched input '<EOF>'", "the expression ends too early,")
        .replace("'<EOF>'", "the end of the expression")
}

fn line_col_offset(text: &str, line: isize, col: isize) -> usize {
    let line = usize::try_from(line).unwrap_or(0);
    rampart_runtime::source::offset_of(text, line, usize::try_from(col).unwrap_or(0))
}

struct PolicyCtx<'a> {
    source: u32,
    stdlib: bool,
    pkg: &'a str,
    packages: &'a BTreeMap<String, Package>,
    schema: &'a Schema,
    signatures: &'a [Signature],
    env: &'a Arc<cel::Env>,
    target_names: &'a HashSet<&'a str>,
    /// The names the policy's file sees: its package's and its imports'.
    file_scope: Option<&'a FileScope>,
    /// Compile the rule; else the metadata only, with an empty rule.
    rules: bool,
}

/// What one policy file sees by name: its package's constants, params and
/// defs, and those of the packages it imports (`import pkg`, followed
/// through the imported packages' own imports).
#[derive(Default)]
struct FileScope {
    values: HashMap<String, (Type, cel::Value)>,
    defs: HashMap<String, DefBody>,
    def_arity: HashMap<String, Option<usize>>,
    def_asts: HashMap<String, DefAst>,
    /// Each imported name and its package.
    imported: HashMap<String, String>,
}

/// The [`FileScope`] of every file; an import of an unknown package
/// (E0115) or one bringing a name the file already sees (E0116) is
/// reported at the `import`.
fn file_scopes(
    out: &mut Compiled,
    files: &[(u32, ast::File)],
    packages: &BTreeMap<String, Package>,
) -> HashMap<u32, FileScope> {
    // Imports by package, over all its files (followed transitively).
    let mut by_package: HashMap<&str, Vec<&str>> = HashMap::new();
    for (_, f) in files {
        by_package
            .entry(f.package.name.as_str())
            .or_default()
            .extend(f.imports.iter().map(|i| i.name.as_str()));
    }
    let mut scopes = HashMap::new();
    for (ix, f) in files {
        let own = f.package.name.as_str();
        let mut scope = FileScope::default();
        if let Some(p) = packages.get(own) {
            scope.values.clone_from(&p.values);
            scope.defs.clone_from(&p.defs);
            scope.def_arity.clone_from(&p.def_arity);
            scope.def_asts.clone_from(&p.def_asts);
        }
        let mut seen: HashSet<&str> = HashSet::from([own]);
        for import in &f.imports {
            let span = import.span;
            let err = |code: Code, message: String| {
                Diagnostic::new(code, *ix, span.start, span.end, message)
            };
            if import.name == own {
                out.diagnostics
                    .push(err(Code::E0115, format!("package `{own}` imports itself")));
                continue;
            }
            if !packages.contains_key(&import.name) {
                let names: Vec<&str> = packages.keys().map(String::as_str).collect();
                let mut d = err(
                    Code::E0115,
                    format!("no package `{}` to import", import.name),
                );
                d.help = did_you_mean(&import.name, names.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("packages: {}", names.join(", "))));
                out.diagnostics.push(d);
                continue;
            }
            // The package and what it imports in turn.
            let mut queue = vec![import.name.as_str()];
            while let Some(name) = queue.pop() {
                if !seen.insert(name) {
                    continue;
                }
                queue.extend(by_package.get(name).into_iter().flatten().copied());
                let Some(p) = packages.get(name) else {
                    continue;
                };
                let mut names: Vec<&String> = p.values.keys().chain(p.defs.keys()).collect();
                names.sort();
                names.dedup();
                for n in names {
                    let clash = if let Some(other) = scope.imported.get(n) {
                        Some(format!("`import {other}`"))
                    } else if scope.values.contains_key(n) || scope.defs.contains_key(n) {
                        Some(format!("package `{own}`"))
                    } else {
                        None
                    };
                    if let Some(by) = clash {
                        out.diagnostics.push(
                            err(
                                Code::E0116,
                                format!(
                                    "`import {}` brings `{n}` (package `{name}`), already defined by {by}",
                                    import.name
                                ),
                            )
                            .with_help("rename the name in this package; imported names are not qualified"),
                        );
                        continue;
                    }
                    scope.imported.insert(n.clone(), name.to_string());
                    if let Some(v) = p.values.get(n) {
                        scope.values.insert(n.clone(), v.clone());
                    }
                    if let Some(d) = p.defs.get(n) {
                        scope.defs.insert(n.clone(), d.clone());
                    }
                    if let Some(a) = p.def_arity.get(n) {
                        scope.def_arity.insert(n.clone(), *a);
                    }
                    if let Some(a) = p.def_asts.get(n) {
                        let mut a = a.clone();
                        a.package = Some(name.to_string());
                        scope.def_asts.insert(n.clone(), a);
                    }
                }
            }
        }
        scopes.insert(*ix, scope);
    }
    scopes
}

impl PolicyCtx<'_> {
    fn err(&self, code: Code, span: ast::Span, message: String) -> Diagnostic {
        Diagnostic::new(code, self.source, span.start, span.end, message)
    }

    fn policy(&self, p: &ast::Policy, id: String) -> (Option<CompiledPolicy>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let mut title = None;
        let mut severity = None;
        let mut profile = Profile::Recommended;
        let mut sources = Vec::new();
        let mut rationale = None;
        let mut remediation = String::new();
        let mut tags = Vec::new();
        let mut seen: HashSet<&'static str> = HashSet::new();
        for m in &p.meta {
            let (key, span) = match m {
                Meta::Title(s) => ("title", s.span),
                Meta::Severity(i) => ("severity", i.span),
                Meta::Sources(_, s) => ("sources", *s),
                Meta::Rationale(s) => ("rationale", s.span),
                Meta::Remediation(s) => ("remediation", s.span),
                Meta::Tags(_, s) => ("tags", *s),
                Meta::Profile(i) => ("profile", i.span),
            };
            if !seen.insert(key) {
                diags.push(self.err(Code::E0105, span, format!("`{key}` given twice")));
            }
            match m {
                Meta::Title(s) => title = Some(s.value.clone()),
                Meta::Severity(i) => match Severity::parse(&i.name) {
                    Some(s) => severity = Some(s),
                    None => diags.push(
                        self.err(
                            Code::E0106,
                            i.span,
                            format!("unknown severity `{}`", i.name),
                        )
                        .with_help(format!("use one of {}", Severity::names().join(", "))),
                    ),
                },
                Meta::Sources(list, _) => sources = list.iter().map(|s| s.value.clone()).collect(),
                Meta::Rationale(s) => rationale = Some(s.value.clone()),
                Meta::Remediation(s) => remediation = s.value.clone(),
                Meta::Tags(list, _) => tags = list.iter().map(|s| s.value.clone()).collect(),
                Meta::Profile(i) => match Profile::parse(&i.name) {
                    Some(pr) => profile = pr,
                    None => diags.push(
                        self.err(Code::E0107, i.span, format!("unknown profile `{}`", i.name))
                            .with_help(format!(
                                "use one of {}",
                                Profile::names(Profile::ALL).join(", ")
                            )),
                    ),
                },
            }
        }
        for (key, missing) in [
            ("title", title.is_none()),
            ("severity", severity.is_none()),
            ("rationale", rationale.is_none()),
        ] {
            if missing {
                let span = p.name.span;
                let d = if self.stdlib {
                    self.err(Code::E0108, span, format!("policy `{id}` has no `{key}`"))
                } else {
                    Diagnostic::new(
                        Code::W0108,
                        self.source,
                        span.start,
                        span.end,
                        format!("policy `{id}` has no `{key}`"),
                    )
                };
                diags.push(d);
            }
        }

        // Clauses
        let mut scope: HashMap<String, Binding> = HashMap::new();
        let mut runtime_scope: Vec<(String, cel::Value)> = Vec::new();
        for (name, pkg) in self.packages {
            if name == self.pkg {
                for (k, (t, v)) in &pkg.values {
                    scope.insert(k.clone(), Binding::Value(t.clone()));
                    runtime_scope.push((k.clone(), v.clone()));
                }
            } else if !self.target_names.contains(name.as_str()) {
                scope.insert(
                    name.clone(),
                    Binding::Package(
                        pkg.values
                            .iter()
                            .map(|(k, (t, _))| (k.clone(), t.clone()))
                            .collect(),
                    ),
                );
                runtime_scope.push((name.clone(), package_map(pkg)));
            }
        }
        // Imported constants and params, by name.
        if let Some(fs) = self.file_scope {
            for (k, from) in &fs.imported {
                if let Some((t, v)) = fs.values.get(k).filter(|_| from != self.pkg) {
                    scope.insert(k.clone(), Binding::Value(t.clone()));
                    runtime_scope.retain(|(n, _)| n != k);
                    runtime_scope.push((k.clone(), v.clone()));
                }
            }
        }
        runtime_scope.sort_by(|a, b| a.0.cmp(&b.0));
        let empty_defs = HashMap::new();
        let empty_arity = HashMap::new();
        let empty_asts = HashMap::new();
        let own = self.packages.get(self.pkg);
        let names = match self.file_scope {
            Some(fs) => Names {
                defs: &fs.defs,
                def_arity: &fs.def_arity,
                def_asts: &fs.def_asts,
            },
            None => Names {
                defs: own.map_or(&empty_defs, |p| &p.defs),
                def_arity: own.map_or(&empty_arity, |p| &p.def_arity),
                def_asts: own.map_or(&empty_asts, |p| &p.def_asts),
            },
        };

        // The target: root of the first path.
        let first_root = p.clauses.iter().find_map(|c| match c {
            Clause::For { path, .. } => Some(path),
            Clause::Deny { node, .. } => Some(node),
            Clause::Where(_) => None,
        });
        let Some(first_path) = first_root else {
            diags.push(self.err(
                Code::E0109,
                p.name.span,
                format!("policy `{id}` has no `deny`"),
            ));
            return (None, diags);
        };
        let target_name = first_path.segments.first().cloned().unwrap_or_default();
        let Some(target) = self.schema.target_named(&target_name) else {
            let names: Vec<&str> = self.schema.targets().iter().map(|t| t.name).collect();
            let mut d = self.err(
                Code::E0204,
                first_path.span,
                format!("unknown target `{target_name}`"),
            );
            d.help = did_you_mean(&target_name, names.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| Some(format!("targets: {}", names.join(", "))));
            diags.push(d);
            return (None, diags);
        };
        scope.insert(
            target.name.to_string(),
            Binding::Value(Type::Object(target.root.to_string())),
        );
        // The policy around its rule: the rule left empty when only metadata
        // is compiled (the rules compiled later, on demand).
        let source = self.source;
        let docs = p.docs.clone();
        let span = (p.span.start, p.span.end);
        let target_name = target.name.to_string();
        // `id` and `title` are read again below, in diagnostics.
        let (policy_id, policy_title) = (id.clone(), title.clone());
        let policy_with = move |rule: Rule| CompiledPolicy {
            id: policy_id,
            title: policy_title.unwrap_or_default(),
            severity: severity.unwrap_or(Severity::Medium),
            profile,
            sources,
            rationale: rationale.unwrap_or_default(),
            remediation,
            tags,
            docs,
            target: target_name,
            rule,
            source,
            span,
        };
        if !self.rules {
            let rule = Rule {
                target: target.name.to_string(),
                scope: Vec::new(),
                steps: Vec::new(),
                denies: Vec::new(),
            };
            return (Some(policy_with(rule)), diags);
        }

        let mut steps = Vec::new();
        let mut denies = Vec::new();
        let mut loop_vars: Vec<(String, ast::Span)> = Vec::new();
        let mut used: HashSet<String> = HashSet::new();
        let mut ok = true;
        // Paths a `where` above has shown present (`where has(service.image)`).
        let mut guards: Vec<String> = Vec::new();
        for clause in &p.clauses {
            match clause {
                Clause::For { var, path } => {
                    used.extend(path.segments.first().cloned());
                    // An imported def's body reads its package's names by
                    // name: a loop variable must not capture one.
                    if let Some(from) = self.file_scope.and_then(|fs| fs.imported.get(&var.name)) {
                        diags.push(
                            self.err(
                                Code::E0116,
                                var.span,
                                format!("`{}` is imported from package `{from}`", var.name),
                            )
                            .with_help("name the loop variable differently"),
                        );
                        ok = false;
                    }
                    // A rebound name starts without guards.
                    guards.retain(|g| g.split('.').next() != Some(var.name.as_str()));
                    match self.path_type(&scope, path) {
                        Ok(Type::List(elem)) => {
                            scope.insert(var.name.clone(), Binding::Value(*elem));
                            loop_vars.push((var.name.clone(), var.span));
                            steps.push(Step::For {
                                var: var.name.clone(),
                                path: path.segments.clone(),
                            });
                        }
                        Ok(other) => {
                            diags.push(self.err(
                                Code::E0205,
                                path.span,
                                format!("`{path}` is a `{other}`, not a list"),
                            ));
                            ok = false;
                        }
                        Err(d) => {
                            diags.push(d);
                            ok = false;
                        }
                    }
                }
                Clause::Where(c) => {
                    let mut st = ExprState {
                        scope: &scope,
                        guards: &guards,
                        used: &mut used,
                        warnings: &mut diags,
                    };
                    match self.expr(c, &names, &mut st, true) {
                        Ok((e, facts)) => {
                            steps.push(Step::Where(e));
                            guards.extend(facts);
                        }
                        Err(ds) => {
                            diags.extend(ds);
                            ok = false;
                        }
                    }
                }
                Clause::Deny {
                    node,
                    when,
                    message,
                    span,
                } => {
                    used.extend(node.segments.first().cloned());
                    if let Err(d) = self.path_type(&scope, node) {
                        diags.push(d);
                        ok = false;
                    }
                    let mut message_guards = guards.clone();
                    let when_expr = match when {
                        Some(c) => {
                            let mut st = ExprState {
                                scope: &scope,
                                guards: &guards,
                                used: &mut used,
                                warnings: &mut diags,
                            };
                            match self.expr(c, &names, &mut st, true) {
                                Ok((e, facts)) => {
                                    // The message is rendered only where `when` holds.
                                    message_guards.extend(facts);
                                    Some(e)
                                }
                                Err(ds) => {
                                    diags.extend(ds);
                                    ok = false;
                                    None
                                }
                            }
                        }
                        None => None,
                    };
                    let template = match message {
                        None => vec![MessagePart::Text(
                            title.clone().unwrap_or_else(|| id.clone()),
                        )],
                        Some(m) => {
                            let mut st = ExprState {
                                scope: &scope,
                                guards: &message_guards,
                                used: &mut used,
                                warnings: &mut diags,
                            };
                            match self.message(m, &names, &mut st) {
                                Ok(parts) => parts,
                                Err(ds) => {
                                    diags.extend(ds);
                                    ok = false;
                                    Vec::new()
                                }
                            }
                        }
                    };
                    steps.push(Step::Deny(denies.len()));
                    denies.push(Deny {
                        node: node.segments.clone(),
                        when: when_expr,
                        message: template,
                        origin: Origin {
                            source: self.source,
                            start: span.start,
                            end: span.end,
                        },
                    });
                }
            }
        }
        if denies.is_empty() && ok {
            diags.push(self.err(
                Code::E0109,
                p.name.span,
                format!("policy `{id}` has no `deny`"),
            ));
            ok = false;
        }
        for (v, span) in &loop_vars {
            if !used.contains(v) {
                diags.push(Diagnostic::new(
                    Code::W0206,
                    self.source,
                    span.start,
                    span.end,
                    format!("`{v}` is bound but never used"),
                ));
            }
        }
        if !ok {
            return (None, diags);
        }
        let rule = Rule {
            target: target.name.to_string(),
            scope: runtime_scope,
            steps,
            denies,
        };
        (Some(policy_with(rule)), diags)
    }

    /// The type at a static path (first segment in scope), checking every field.
    fn path_type(
        &self,
        scope: &HashMap<String, Binding>,
        path: &ast::Path,
    ) -> Result<Type, Diagnostic> {
        let mut segs = path.segments.iter();
        let first = segs.next().cloned().unwrap_or_default();
        let mut offset = path.span.start;
        let mut ty = match scope.get(&first) {
            Some(Binding::Value(t)) => t.clone(),
            _ => {
                let names: Vec<&str> = scope
                    .iter()
                    .filter(|(_, b)| matches!(b, Binding::Value(Type::Object(_) | Type::List(_))))
                    .map(|(k, _)| k.as_str())
                    .collect();
                let mut d = self.err(
                    Code::E0201,
                    ast::Span::new(offset, offset + first.len()),
                    format!("unknown name `{first}`"),
                );
                d.help = did_you_mean(&first, names).map(|s| format!("did you mean `{s}`?"));
                return Err(d);
            }
        };
        offset += first.len() + 1;
        for seg in segs {
            let span = ast::Span::new(offset, offset + seg.len());
            ty = field_of(self.schema, &ty, seg).map_err(|e| {
                let mut d = self.err(e.code, span, e.message);
                d.help = e.help;
                d
            })?;
            offset += seg.len() + 1;
        }
        Ok(ty)
    }

    /// Checks and compiles one CEL expression (defs inlined for execution);
    /// also returns the paths it shows present where it is true.
    fn expr(
        &self,
        c: &ast::Cel,
        names: &Names<'_>,
        st: &mut ExprState<'_>,
        want_bool: bool,
    ) -> Result<(Expr, Vec<String>), Vec<Diagnostic>> {
        self.expr_at(
            &c.text,
            c.span.start,
            &|o| c.span.start + o,
            names,
            st,
            want_bool,
        )
    }

    fn expr_at(
        &self,
        text: &str,
        origin_start: usize,
        map: &dyn Fn(usize) -> usize,
        names: &Names<'_>,
        st: &mut ExprState<'_>,
        want_bool: bool,
    ) -> Result<(Expr, Vec<String>), Vec<Diagnostic>> {
        if let Err((offset, why)) = cel_shape(text, MAX_CEL_BYTES) {
            return Err(vec![Diagnostic::new(
                Code::E0308,
                self.source,
                map(offset),
                map(offset) + 1,
                why,
            )]);
        }
        let program = self
            .env
            .compile(text)
            .map_err(|e| vec![cel_parse_error(self.source, text, &e, map)])?;
        let info = program.source_info();
        let offsets = |id: u64| {
            info.offset_for(id)
                .map(|(s, e)| (s as usize, (e as usize).max(s as usize + 1)))
        };
        let mut checker = Checker {
            schema: self.schema,
            functions: self.signatures,
            defs: names.def_arity,
            def_asts: names.def_asts,
            scope: st.scope.clone(),
            guards: st.guards.to_vec(),
            offsets: &offsets,
            text,
            errors: Vec::new(),
            warnings: Vec::new(),
            used: Vec::new(),
            extents: HashMap::new(),
            base_scope: st.scope.clone(),
            depth: 0,
            def_types: HashMap::new(),
        };
        let ty = checker.run(program.expression());
        let facts = checker.facts(program.expression(), true);
        st.used.extend(checker.used.iter().cloned());
        let located = |e: &crate::policy::check::CheckError| {
            // A problem in a def body is located in the def's file.
            let (source, start, end) = match e.source {
                Some(source) => (source, e.start, e.end),
                None => (self.source, map(e.start), map(e.end.min(text.len()))),
            };
            let mut d = Diagnostic::new(e.code, source, start, end, e.message.clone());
            d.help = e.help.clone();
            d
        };
        st.warnings.extend(checker.warnings.iter().map(located));
        let mut diags: Vec<Diagnostic> = checker.errors.iter().map(located).collect();
        if want_bool && !matches!(ty, Type::Bool | Type::Any) {
            diags.push(Diagnostic::new(
                Code::E0302,
                self.source,
                map(0),
                map(text.len()),
                format!("a condition must be a bool, this is a `{ty}`"),
            ));
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        let inlined = inline(text, names.defs).map_err(|e| {
            vec![match e {
                InlineError::Arity {
                    name,
                    offset,
                    expected,
                    found,
                } => Diagnostic::new(Code::E0305,
                    self.source,
                    map(offset),
                    map(offset + name.len()),
                    format!("`{name}` takes {expected} argument(s), {found} given"),
                ),
                InlineError::TooDeep(_) => Diagnostic::new(Code::E0307,
                    self.source,
                    map(0),
                    map(text.len()),
                    "defs refer to each other without end".to_string(),
                ),
                InlineError::TooLarge { name, offset } => Diagnostic::new(Code::E0309,
                    self.source,
                    map(offset),
                    map(offset + name.len()),
                    format!(
                        "`{name}` expands to more than {MAX_INLINED_BYTES} bytes once its defs are inlined"
                    ),
                )
                .with_help("defs that use other defs several times multiply; use a def fewer times or write the expression directly"),
            }]
        })?;
        if inlined != text {
            if let Err((_, why)) = cel_shape(&inlined, MAX_INLINED_BYTES) {
                return Err(vec![Diagnostic::new(
                    Code::E0308,
                    self.source,
                    map(0),
                    map(text.len()),
                    format!("with its defs inlined, {why}"),
                )]);
            }
        }
        let program = if inlined == text {
            program
        } else {
            self.env.compile(&inlined).map_err(|e| {
                vec![Diagnostic::new(
                    Code::E0002,
                    self.source,
                    map(0),
                    map(text.len()),
                    format!(
                        "invalid expression after inlining defs: {}",
                        first_error(&e).map_or_else(String::new, |p| cel_message(&p.msg))
                    ),
                )]
            })?
        };
        Ok((
            Expr::new(
                program,
                Origin {
                    source: self.source,
                    start: origin_start,
                    end: map(text.len()),
                },
            ),
            facts,
        ))
    }

    fn message(
        &self,
        m: &ast::Str,
        names: &Names<'_>,
        st: &mut ExprState<'_>,
    ) -> Result<Vec<MessagePart>, Vec<Diagnostic>> {
        let to_file = |o: usize| value_offset_to_file(m, o);
        let parts = parse_template(&m.value).map_err(|offset| {
            vec![Diagnostic::new(
                Code::E0003,
                self.source,
                to_file(offset),
                to_file(offset) + 1,
                "unclosed `{` in message; write `{{` for a literal brace",
            )]
        })?;
        let mut out = Vec::new();
        let mut diags = Vec::new();
        for part in parts {
            match part {
                TemplatePart::Text(t) => out.push(MessagePart::Text(t)),
                TemplatePart::Expr { text, offset } => {
                    let map = |o: usize| to_file(offset + o);
                    match self.expr_at(&text, map(0), &map, names, st, false) {
                        Ok((e, _)) => out.push(MessagePart::Expr(e)),
                        Err(ds) => diags.extend(ds),
                    }
                }
            }
        }
        if diags.is_empty() {
            Ok(out)
        } else {
            Err(diags)
        }
    }
}

/// Warns about each def its package never names (W0311): a def body is
/// checked with the types of its arguments where it is called, so an unused
/// def is never checked. A use is the def's name as a word (not after a `.`)
/// on any line of the package's files but comment lines, at its own
/// declaration aside: words in strings and trailing comments count too, so
/// a def this calls unused is unused for sure.
fn unused_defs(out: &mut Compiled, files: &[(u32, ast::File)]) {
    let mut uses: HashMap<(&str, &str), usize> = HashMap::new();
    // Only the words that name a def are counted (the others are never read).
    let def_names: HashSet<&str> = files
        .iter()
        .flat_map(|(_, f)| f.items.iter())
        .filter_map(|i| match i {
            Item::Def(d) => Some(d.name.name.as_str()),
            _ => None,
        })
        .collect();
    for (ix, f) in files {
        let Some(text) = out.sources.get(*ix as usize).map(|s| s.text.as_str()) else {
            continue;
        };
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut word_start: Option<usize> = None;
            for (i, c) in line
                .char_indices()
                .chain(std::iter::once((line.len(), ' ')))
            {
                let word_char = c.is_ascii_alphanumeric() || c == '_';
                match (word_start, word_char) {
                    (None, true) if !c.is_ascii_digit() => word_start = Some(i),
                    (Some(s), false) => {
                        let before = line.get(..s).and_then(|b| b.trim_end().chars().last());
                        if before != Some('.') {
                            if let Some(w) = line.get(s..i).filter(|w| def_names.contains(w)) {
                                // A use in a file importing a package is that package's too.
                                let pkgs = std::iter::once(f.package.name.as_str())
                                    .chain(f.imports.iter().map(|i| i.name.as_str()));
                                for p in pkgs {
                                    *uses.entry((p, w)).or_default() += 1;
                                }
                            }
                        }
                        word_start = None;
                    }
                    _ => {}
                }
            }
        }
    }
    for (ix, f) in files {
        for item in &f.items {
            let Item::Def(d) = item else { continue };
            let n = uses
                .get(&(f.package.name.as_str(), d.name.name.as_str()))
                .copied()
                .unwrap_or(0);
            if n <= 1 {
                out.diagnostics.push(
                    Diagnostic::new(
                        Code::W0311,
                        *ix,
                        d.name.span.start,
                        d.name.span.end,
                        format!("def `{}` is never used", d.name.name),
                    )
                    .with_help("a def body is checked where the def is used; remove it or use it"),
                );
            }
        }
    }
}

/// The defs of a policy's package, for checking and inlining.
struct Names<'a> {
    defs: &'a HashMap<String, DefBody>,
    def_arity: &'a HashMap<String, Option<usize>>,
    def_asts: &'a HashMap<String, DefAst>,
}

/// What checking one expression reads and adds to.
struct ExprState<'a> {
    scope: &'a HashMap<String, Binding>,
    /// Paths known present where the expression is evaluated.
    guards: &'a [String],
    used: &'a mut HashSet<String>,
    warnings: &'a mut Vec<Diagnostic>,
}

/// Maps a byte offset in a string's value back to the policy file.
fn value_offset_to_file(s: &ast::Str, offset: usize) -> usize {
    if !s.triple {
        return s.span.start + 1 + offset;
    }
    let mut line_start_in_value = 0;
    for (i, line) in s.value.split('\n').enumerate() {
        let end = line_start_in_value + line.len();
        if offset <= end {
            return s.line_starts.get(i).copied().unwrap_or(s.span.start)
                + (offset - line_start_in_value);
        }
        line_start_in_value = end + 1;
    }
    s.span.end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<(&'static str, String)> {
        let src = PolicySource {
            path: "p.rampart".into(),
            text: text.into(),
            stdlib: false,
        };
        compile(vec![src], &CompileOptions::default())
            .diagnostics
            .into_iter()
            .filter(|d| d.level == Level::Error)
            .map(|d| (d.code.id(), d.message))
            .collect()
    }

    fn policy(when: &str) -> String {
        format!("policy p {{\n  for s in compose.services\n  deny s when {when}\n}}\n")
    }

    #[test]
    fn deferred_rules_compile_as_eagerly() {
        let sources = crate::policy::sources::stdlib_sources();
        let eager = compile(sources.clone(), &CompileOptions::default());
        let options = CompileOptions {
            defer_rules: true,
            ..CompileOptions::default()
        };
        let mut lazy = compile(sources.clone(), &options);
        assert!(lazy.diagnostics.is_empty(), "{:?}", lazy.diagnostics);
        let ids = |c: &Compiled| c.policies.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&lazy), ids(&eager));
        assert!(lazy.policies.iter().all(|p| p.rule.denies.is_empty()));
        // Some targets only: the others keep an empty rule.
        let some = lazy.rules_for(&lazy.policies, |p| p.target == "dotenv");
        assert!(some
            .iter()
            .all(|p| (p.target == "dotenv") != p.rule.denies.is_empty()));
        lazy.complete(|_| true);
        // The rules as run: the budgeted expressions (a program's Debug
        // holds hash maps, in no fixed order).
        fn shape(r: &Rule) -> Vec<String> {
            let expr = |e: &Expr| format!("{:?} {:?}", e.budgeted, e.origin);
            let mut out: Vec<String> = r
                .steps
                .iter()
                .map(|s| match s {
                    Step::Where(e) => expr(e),
                    other => format!("{other:?}"),
                })
                .collect();
            for d in &r.denies {
                out.push(format!("{:?} {:?}", d.node, d.origin));
                out.extend(d.when.as_ref().map(expr));
                for m in &d.message {
                    out.push(match m {
                        MessagePart::Text(t) => t.clone(),
                        MessagePart::Expr(e) => expr(e),
                    });
                }
            }
            out
        }
        for (a, b) in lazy.policies.iter().zip(&eager.policies) {
            assert_eq!(shape(&a.rule), shape(&b.rule), "{}", a.id);
            assert!(a.rule.scope == b.rule.scope, "{}", a.id);
            assert_eq!(
                (&a.title, &a.rationale, a.severity, a.source, a.span),
                (&b.title, &b.rationale, b.severity, b.source, b.span)
            );
        }
        // Any other source: everything at once, as before.
        let mut mixed = sources;
        mixed.push(PolicySource {
            path: "p.rampart".into(),
            text: format!("package x\n{}", policy("s.privileged == true")),
            stdlib: false,
        });
        let c = compile(mixed, &options);
        assert!(c.policies.iter().all(|p| !p.rule.denies.is_empty()));
    }

    #[test]
    fn library_debug_dumps_become_words() {
        let m = cel_message(
            "OtherError(ParseError { source: None, pos: (96, -1), msg: \"Recursion limit of 96 exceeded\", expr_id: 0 })",
        );
        assert_eq!(m, "the expression is nested too deeply");
        assert!(
            cel_message("Incomplete `ExprContext` for `_?_:_` expression!").contains("a ? b : c")
        );
        // The real syntax error is preferred to the parser's follow-up.
        let d = codes(&format!("package x\n{}", policy("x ? y ? z : w")));
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(!d[0].1.contains("Incomplete"), "{d:?}");
    }

    #[test]
    fn constant_budgets() {
        // Ten-item lists mapped seven levels deep: 10^8 values unchecked.
        let mut value = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]".to_string();
        for _ in 0..7 {
            value = format!("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(x, {value})");
        }
        let d = codes(&format!("package x\nconst xs = {value}\n"));
        assert_eq!(d.first().map(|d| d.0), Some("E0311"), "{d:?}");
        // Doubling across constants: caught by the size limit.
        let mut text = String::from("package x\nconst s0 = \"0123456789abcdef\"\n");
        for i in 1..=20 {
            text.push_str(&format!("const s{i} = s{} + s{}\n", i - 1, i - 1));
        }
        let d = codes(&text);
        assert!(
            d.iter()
                .any(|(c, m)| *c == "E0311" && m.contains("too large")),
            "{d:?}"
        );
        // Nesting through constants.
        let mut text = String::from("package x\nconst c0 = [1]\n");
        for i in 1..=70 {
            text.push_str(&format!("const c{i} = [c{}]\n", i - 1));
        }
        assert!(codes(&text)
            .iter()
            .any(|(c, m)| *c == "E0311" && m.contains("nested")));
    }

    #[test]
    fn expression_budgets_are_errors_not_crashes() {
        let sum = format!("1{}", "+1".repeat(44_999));
        let d = codes(&format!("package x\n{}", policy(&format!("{sum} > 0"))));
        assert_eq!(d.first().map(|d| d.0), Some("E0308"), "{d:?}");
        let mut text = String::from("package x\ndef a0(x) = x\n");
        for i in 1..=6 {
            let calls = vec![format!("a{}(x)", i - 1); 10].join(" + ");
            text.push_str(&format!("def a{i}(x) = {calls}\n"));
        }
        text.push_str(&policy("a6(1) > 0"));
        let d = codes(&text);
        assert_eq!(d.first().map(|d| d.0), Some("E0309"), "{d:?}");
        // A def body too long is reported at the def.
        let text = format!("package x\ndef big = {}\n", "1 + ".repeat(5000) + "1");
        assert_eq!(codes(&text).first().map(|d| d.0), Some("E0308"));
    }
}
