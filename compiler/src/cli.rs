//! The `rampart` command line. The only module that prints or decides exit codes.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use rampart_runtime::engine::{Engine, Hit};
use rampart_runtime::fs::{Confined, FsError};
use rampart_runtime::model::Level as InputLevel;
use rampart_runtime::project::{Kind, Project};

use crate::compile::{
    compile, CompileOptions, Compiled, CompiledPolicy, PolicySource, Profile, Severity,
};
use crate::diagnostics::Level;
use crate::discover::{discover, display_path, kind_by_name};
use crate::report::{self, Finding, InputError, Outcome};

mod fmt;
mod settings;

/// Exit code: nothing at or above `--fail-on`.
pub const EXIT_OK: i32 = 0;
/// Exit code: findings at or above `--fail-on` (or failing tests).
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: an error (bad policy, unreadable or unparsable input, bad usage).
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "rampart",
    version,
    about = "Policy-as-code checks for docker-compose files (and more to come)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check configuration files against the policies.
    Check(CheckArgs),
    /// Run the test blocks of policy files (default: the embedded standard library).
    Test(TestArgs),
    /// List the policies.
    List(PolicyArgs),
    /// Explain one policy: rationale, remediation, sources.
    Explain {
        /// Policy id, e.g. `compose.datastore-loopback-only`.
        id: String,
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Format policy files canonically (comments kept).
    Fmt {
        /// Policy files or directories (default `.`).
        paths: Vec<PathBuf>,
        /// Only list the files that are not formatted; exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Print the fields policies can read, per target, with types and docs.
    Schema {
        /// One target (see `target_help`).
        #[arg(help = target_help())]
        target: Option<String>,
    },
}

/// The `schema` command's target help, from the format registry.
fn target_help() -> String {
    format!(
        "One target ({})",
        rampart_runtime::project::Target::name_list()
    )
}

#[derive(clap::Args, Debug)]
struct PolicyArgs {
    /// Extra policy file or directory of `.rampart` files (repeatable).
    #[arg(long = "policy", value_name = "FILE|DIR")]
    policy: Vec<PathBuf>,
    /// Do not load the embedded standard library.
    #[arg(long)]
    no_stdlib: bool,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Files or directories to check.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    policies: PolicyArgs,
    /// Which policies run: `recommended` (the default, or `profile:` of the
    /// config) or `strict` (adds the strict rows).
    #[arg(long, value_enum)]
    profile: Option<ProfileArg>,
    /// Settings file (default: `rampart.yaml` at the scan root, when present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Exit 1 only for findings at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    fail_on: SeverityArg,
    /// Check files that .gitignore/.ignore would skip.
    #[arg(long)]
    no_ignore: bool,
    /// Also print notes on stderr (checks skipped and why).
    #[arg(long, short)]
    verbose: bool,
}

#[derive(clap::Args, Debug)]
struct TestArgs {
    /// Policy files or directories whose tests to run (default: the standard library).
    paths: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ProfileArg {
    Recommended,
    Strict,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    /// Snippets with the offending node underlined, for people.
    Text,
    /// The stable JSON contract.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for test dashboards.
    Junit,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityArg {
    fn severity(self) -> Severity {
        match self {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
            SeverityArg::Critical => Severity::Critical,
        }
    }
}

/// Runs the command line `args` (program name first) in `cwd`, writing to
/// `out` and `err`; returns the exit code.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    cwd: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = err.write_all(text.as_bytes());
            } else {
                let _ = out.write_all(text.as_bytes());
            }
            return code;
        }
    };
    match cli.command {
        Command::Check(a) => check(&a, cwd, out, err),
        Command::Test(a) => test(&a, cwd, out, err),
        Command::List(p) => list(&p, cwd, out, err),
        Command::Explain { id, policies } => explain(&id, &policies, cwd, out, err),
        Command::Schema { target } => schema(target.as_deref(), out, err),
        Command::Fmt { paths, check } => fmt::run(&paths, check, cwd, out, err),
    }
}

/// The embedded standard library as policy sources.
pub fn stdlib_sources() -> Vec<PolicySource> {
    rampart_stdlib::FILES
        .iter()
        .map(|(path, text)| PolicySource {
            path: format!("<stdlib>/{path}"),
            text: (*text).to_string(),
            stdlib: true,
        })
        .collect()
}

/// Reads policy files. `within`: the layer the paths must resolve inside (the
/// `policies:` of a config file); `None` for paths the operator named, which
/// may lie anywhere (still only regular files). A directory is walked without
/// following links out of it.
fn load_policy_sources(
    paths: &[PathBuf],
    cwd: &Path,
    within: Option<&Confined>,
    err: &mut dyn Write,
) -> Option<Vec<PolicySource>> {
    let mut out = Vec::new();
    let mut ok = true;
    for p in paths {
        let full = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        let mut files = Vec::new();
        let fs = if full.is_dir() {
            // No ignore files are read in a policy directory (one could be a
            // link out of it); every `.rampart` file below it is a policy.
            for e in ignore::WalkBuilder::new(&full)
                .standard_filters(false)
                .hidden(false)
                .follow_links(false)
                .sort_by_file_name(|a, b| a.cmp(b))
                .build()
                .flatten()
            {
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if !is_dir && e.path().extension().is_some_and(|x| x == "rampart") {
                    files.push(e.path().to_path_buf());
                }
            }
            within
                .cloned()
                .unwrap_or_else(|| Confined::new(cwd, [full.clone()]))
        } else {
            files.push(full.clone());
            within.cloned().unwrap_or_else(|| Confined::anywhere(cwd))
        };
        for f in files {
            match fs.read_text(&f) {
                Ok(text) => out.push(PolicySource {
                    path: display_path(&f, cwd),
                    text,
                    stdlib: false,
                }),
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "error: cannot read policy file `{}`: {e}",
                        display_path(&f, cwd),
                    );
                    ok = false;
                }
            }
        }
    }
    ok.then_some(out)
}

/// Prints policy diagnostics. A file that is not a policy file (its name does
/// not end in `.rampart`) is never echoed as a snippet: one plain line instead.
fn print_policy_diagnostics(compiled: &Compiled, err: &mut dyn Write) {
    let not_policy = |source: u32| {
        compiled
            .sources
            .get(source as usize)
            .is_some_and(|s| !s.stdlib && !s.path.ends_with(".rampart"))
    };
    let (hidden, shown): (Vec<_>, Vec<_>) = compiled
        .diagnostics
        .iter()
        .cloned()
        .partition(|d| not_policy(d.source));
    if !shown.is_empty() {
        let text = report::policy_diagnostics(compiled, &shown);
        let _ = err.write_all(text.as_bytes());
    }
    let mut named = std::collections::BTreeSet::new();
    for d in hidden.iter().filter(|d| d.level == Level::Error) {
        if named.insert(d.source) {
            let path = compiled
                .sources
                .get(d.source as usize)
                .map_or("", |s| s.path.as_str());
            let _ = writeln!(
                err,
                "error: `{path}` is not a policy file (policies end in .rampart)"
            );
        }
    }
}

/// Compiles the stdlib (unless disabled) plus extra policies; prints diagnostics.
fn compile_policies(args: &PolicyArgs, cwd: &Path, err: &mut dyn Write) -> Option<Compiled> {
    compile_configured(args, cwd, None, &CompileOptions::default(), err)
}

/// Compiles the stdlib (unless disabled), `--policy` files and `extra`
/// policy paths (a config's, read inside its layer) with `options`; prints policy diagnostics. `None` when a
/// policy file cannot be read or does not compile (param problems are left
/// in [`Compiled::param_errors`] for the caller to locate).
fn compile_configured(
    args: &PolicyArgs,
    cwd: &Path,
    extra: Option<(Vec<PathBuf>, &Confined)>,
    options: &CompileOptions,
    err: &mut dyn Write,
) -> Option<Compiled> {
    let mut sources = if args.no_stdlib {
        Vec::new()
    } else {
        stdlib_sources()
    };
    sources.extend(load_policy_sources(&args.policy, cwd, None, err)?);
    if let Some((paths, within)) = extra {
        sources.extend(load_policy_sources(&paths, cwd, Some(within), err)?);
    }
    let compiled = compile(sources, options);
    print_policy_diagnostics(&compiled, err);
    let n = compiled
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    if n > 0 {
        let _ = writeln!(
            err,
            "error: {n} error{} in policies; nothing was checked",
            if n == 1 { "" } else { "s" }
        );
        return None;
    }
    Some(compiled)
}

/// The `policies:` paths of the config, as written (for messages).
fn extra_shown(loaded: &Option<settings::Loaded>) -> Vec<String> {
    loaded
        .as_ref()
        .map(|l| l.config.policies.iter().map(|p| p.value.clone()).collect())
        .unwrap_or_default()
}

/// Why `check` has no policy to run, saying what was given.
fn no_policies(a: &CheckArgs, compiled: &Compiled, configured: &[String]) -> String {
    if !compiled.policies.is_empty() {
        let n = compiled.policies.len();
        return format!(
            "all {n} loaded polic{} are turned off by the profile or by `enable`/`disable` in the config",
            if n == 1 { "y is" } else { "ies" }
        );
    }
    let mut given: Vec<String> = a
        .policies
        .policy
        .iter()
        .map(|p| format!("`--policy {}`", p.display()))
        .collect();
    given.extend(
        configured
            .iter()
            .map(|p| format!("`policies: {p}` in the config")),
    );
    let stdlib = if a.policies.no_stdlib {
        "the standard library is off (`--no-stdlib`)"
    } else {
        "the standard library has none"
    };
    if given.is_empty() {
        format!("no policies to check with: {stdlib} and no policy file was given")
    } else {
        format!(
            "no policies to check with: {stdlib} and {} hold{} no policy",
            given.join(", "),
            if given.len() == 1 { "s" } else { "" }
        )
    }
}

fn selected(p: &CompiledPolicy, profile: ProfileArg) -> bool {
    matches!(
        (p.profile, profile),
        (Profile::Recommended, _) | (Profile::Strict, ProfileArg::Strict)
    )
}

fn check(a: &CheckArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let today = crate::config::Date::today_utc();
    let Ok(loaded) = settings::load(a.config.as_deref(), &a.paths, cwd, today, err) else {
        return EXIT_ERROR;
    };
    // Every problem of the config is reported in one run, after compiling
    // (ids and params are checked against the policies).
    let mut problems = Vec::new();
    let mut extra = None;
    let mut options = CompileOptions::default();
    if let Some(l) = &loaded {
        problems.extend(l.problems.iter().cloned());
        let (paths, missing) = l.policy_paths();
        extra = Some((paths, &l.policy_fs));
        problems.extend(missing);
        options.params = l.config.param_values();
    }
    let compiled = compile_configured(&a.policies, cwd, extra, &options, err);
    let owned_ids: Vec<String> = compiled
        .iter()
        .flat_map(|c| c.policies.iter().map(|p| p.id.clone()))
        .collect();
    let ids: Vec<&str> = owned_ids.iter().map(String::as_str).collect();
    if let (Some(l), Some(c)) = (&loaded, &compiled) {
        problems.extend(l.param_problems(&c.param_errors));
        problems.extend(l.config.check_ids(&ids));
    }
    let config_failed = loaded.as_ref().is_some_and(|l| l.report(&problems, err));
    let Some(compiled) = compiled.filter(|_| !config_failed) else {
        return EXIT_ERROR;
    };
    let profile = a.profile.unwrap_or(
        match loaded.as_ref().and_then(|l| l.config.profile.as_ref()) {
            Some(p) if p.value == crate::config::ConfigProfile::Strict => ProfileArg::Strict,
            _ => ProfileArg::Recommended,
        },
    );
    let chosen: Vec<CompiledPolicy> = compiled
        .policies
        .iter()
        .filter(|p| {
            let by_profile = selected(p, profile);
            loaded
                .as_ref()
                .map_or(by_profile, |l| l.config.selects(&p.id, by_profile))
        })
        .map(|p| {
            let mut p = p.clone();
            if let Some(s) = loaded.as_ref().and_then(|l| l.config.severity_of(&p.id)) {
                p.severity = s;
            }
            p
        })
        .collect();
    let policies: Vec<&CompiledPolicy> = chosen.iter().collect();
    if policies.is_empty() {
        // Checking with no policy passes whatever the input: a silent pass.
        let _ = writeln!(
            err,
            "error: {}; nothing was checked",
            no_policies(a, &compiled, &extra_shown(&loaded))
        );
        return EXIT_ERROR;
    }
    let mut found = discover(&a.paths, cwd, a.no_ignore);
    if let Some(l) = &loaded {
        found
            .inputs
            .retain(|i| i.explicit || l.config.includes(&l.rel(&i.display)));
    }
    let mut project = Project::on_disk(cwd, found.roots.clone());
    let fs = project.fs().clone();
    let mut read_errors = Vec::new();
    for input in &found.inputs {
        // A file is checked as what it is, even when an nginx entry or a
        // Caddyfile already read it as an include (it keeps its one FileId).
        // Through the confined layer: a link out of the scan root, a special
        // file or an oversized file is an error naming it; nothing is opened.
        match fs.read(&input.path) {
            Ok(bytes) => {
                project.add_file(&input.display, bytes, input.kind);
            }
            Err(FsError::TooLarge { limit }) => read_errors.push(InputError {
                file: input.display.clone(),
                line: 0,
                column: 0,
                message: format!("file is larger than {limit} bytes; not read"),
                span: None,
            }),
            Err(e) => read_errors.push(InputError {
                file: input.display.clone(),
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
                span: None,
            }),
        }
    }
    project.link();
    let inputs = found.inputs;
    let walk_errors = found.errors;
    let discovered_notes = found.notes;
    let mut outcome = evaluate(&project, &policies, &compiled);
    outcome.errors.extend(read_errors);
    outcome
        .errors
        .extend(walk_errors.into_iter().map(|w| InputError {
            file: w.path,
            line: 0,
            column: 0,
            message: w.message,
            span: None,
        }));
    outcome.errors.sort();
    outcome.files = inputs.len();
    let rel = |f: &str| loaded.as_ref().map_or_else(|| f.to_string(), |l| l.rel(f));
    let unused = crate::suppress::apply(
        &mut outcome,
        &project,
        loaded.as_ref().map(|l| &l.config),
        &rel,
        &ids,
    );
    outcome.waived.sort();
    if let Some(l) = &loaded {
        l.report(&unused, err);
        if a.format == Format::Json {
            outcome
                .warnings
                .extend(unused.iter().map(|p| l.as_input_warning(p)));
        }
    }
    let rendered = match a.format {
        Format::Json => report::json(&outcome),
        Format::Text => report::text(&outcome, &project),
        Format::Sarif => crate::ci_formats::sarif(&outcome, &policies),
        Format::Junit => crate::ci_formats::junit(&outcome, &policies),
        Format::Github => crate::ci_formats::github(&outcome),
    };
    if a.verbose {
        for note in &discovered_notes {
            let _ = writeln!(err, "note: {}", project.redact(note));
        }
        for note in &project.notes {
            let _ = writeln!(err, "note: {}", project.redact(note));
        }
    }
    let _ = out.write_all(rendered.as_bytes());
    if !outcome.errors.is_empty() {
        return EXIT_ERROR;
    }
    let floor = a.fail_on.severity();
    if outcome.findings.iter().any(|f| f.severity >= floor) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// Evaluates policies on a project, producing the located outcome.
pub fn evaluate(project: &Project, policies: &[&CompiledPolicy], compiled: &Compiled) -> Outcome {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            return Outcome {
                errors: vec![InputError {
                    file: String::new(),
                    line: 0,
                    column: 0,
                    message: format!("cannot set up the CEL engine: {e}"),
                    span: None,
                }],
                ..Outcome::default()
            }
        }
    };
    let rules: Vec<_> = policies.iter().map(|p| p.rule.clone()).collect();
    let (hits, eval_errors) = engine.run(&rules, project);
    let mut outcome = Outcome {
        files: project.sources.len(),
        policies: policies.len(),
        ..Outcome::default()
    };
    for Hit {
        rule,
        span,
        message,
        ..
    } in hits
    {
        let Some(p) = policies.get(rule) else {
            continue;
        };
        let Some(loc) = project.sources.location(span) else {
            continue;
        };
        outcome.findings.push(Finding {
            file: loc.path,
            line: loc.line,
            column: loc.column,
            end_line: loc.end_line,
            end_column: loc.end_column,
            policy: p.id.clone(),
            severity: p.severity,
            title: p.title.clone(),
            message,
            remediation: p.remediation.clone(),
            span,
        });
    }
    for e in eval_errors {
        let pid = policies.get(e.rule).map_or("?", |p| p.id.as_str());
        let at = compiled
            .sources
            .get(e.origin.source as usize)
            .map(|s| {
                let line = s
                    .text
                    .get(..e.origin.start.min(s.text.len()))
                    .map_or(0, |t| t.matches('\n').count())
                    + 1;
                format!("{}:{line}", s.path)
            })
            .unwrap_or_default();
        let loc = project.sources.location(e.span);
        outcome.errors.push(InputError {
            file: loc.as_ref().map_or_else(String::new, |l| l.path.clone()),
            line: loc.as_ref().map_or(0, |l| l.line),
            column: loc.as_ref().map_or(0, |l| l.column),
            message: format!(
                "policy `{pid}` failed here: {} (expression at {at})",
                e.message
            ),
            span: Some(e.span),
        });
    }
    for p in &project.problems {
        let loc = project.sources.location(p.span);
        let e = InputError {
            file: loc.as_ref().map_or_else(String::new, |l| l.path.clone()),
            line: loc.as_ref().map_or(0, |l| l.line),
            column: loc.as_ref().map_or(0, |l| l.column),
            message: project.redact(&p.message),
            span: Some(p.span),
        };
        match p.level {
            InputLevel::Error => outcome.errors.push(e),
            InputLevel::Warning => outcome.warnings.push(e),
        }
    }
    outcome.findings.sort();
    outcome.findings.dedup();
    // A file included by several entries reports its problems once.
    outcome.errors.sort();
    outcome.errors.dedup();
    outcome.warnings.sort();
    outcome.warnings.dedup();
    outcome
}

fn list(p: &PolicyArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let Some(compiled) = compile_policies(p, cwd, err) else {
        return EXIT_ERROR;
    };
    let width = compiled
        .policies
        .iter()
        .map(|p| p.id.len())
        .max()
        .unwrap_or(0);
    for p in &compiled.policies {
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:<11}  {}",
            p.id,
            p.severity.as_str(),
            p.profile.as_str(),
            p.title
        );
    }
    EXIT_OK
}

fn explain(id: &str, p: &PolicyArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let Some(compiled) = compile_policies(p, cwd, err) else {
        return EXIT_ERROR;
    };
    let Some(policy) = compiled.policies.iter().find(|x| x.id == id) else {
        let ids: Vec<&str> = compiled.policies.iter().map(|p| p.id.as_str()).collect();
        let _ = writeln!(err, "error: no policy `{id}`");
        if let Some(s) = crate::diagnostics::did_you_mean(id, ids) {
            let _ = writeln!(err, "help: did you mean `{s}`?");
        }
        return EXIT_ERROR;
    };
    let _ = writeln!(out, "{}\n{}\n", policy.id, policy.title);
    let _ = writeln!(
        out,
        "severity: {}    profile: {}    target: {}",
        policy.severity.as_str(),
        policy.profile.as_str(),
        policy.target
    );
    if !policy.docs.is_empty() {
        let _ = writeln!(out, "\n{}", policy.docs.join("\n"));
    }
    let _ = writeln!(out, "\nwhy:\n{}", indent(&policy.rationale));
    if !policy.remediation.is_empty() {
        let _ = writeln!(out, "\nremediation:\n{}", indent(&policy.remediation));
    }
    if !policy.sources.is_empty() {
        let _ = writeln!(out, "\nsources:");
        for s in &policy.sources {
            let _ = writeln!(out, "  - {s}");
        }
    }
    EXIT_OK
}

fn schema(target: Option<&str>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let s = rampart_runtime::schema::Schema::standard();
    match crate::schema_doc::render(&s, &rampart_runtime::functions::signatures(), target) {
        Ok(text) => {
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: unknown target `{}`", e.name);
            match e.suggestion {
                Some(s) => {
                    let _ = writeln!(err, "help: did you mean `{s}`?");
                }
                None => {
                    let _ = writeln!(err, "help: targets: {}", e.targets.join(", "));
                }
            }
            EXIT_ERROR
        }
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

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
            // The operator's own fixture, read anywhere, but only a regular file.
            match Confined::anywhere(Path::new("")).read(&path) {
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
    let outcome = evaluate(&project, &[policy], compiled);
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

fn test(a: &TestArgs, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (sources, bases): (Vec<PolicySource>, Vec<Option<PathBuf>>) = if a.paths.is_empty() {
        let s = stdlib_sources();
        let n = s.len();
        (s, vec![None; n])
    } else {
        let Some(s) = load_policy_sources(&a.paths, cwd, None, err) else {
            return EXIT_ERROR;
        };
        let bases = s
            .iter()
            .map(|p| cwd.join(&p.path).parent().map(Path::to_path_buf))
            .collect();
        (s, bases)
    };
    let compiled = compile(sources, &CompileOptions::default());
    print_policy_diagnostics(&compiled, err);
    if compiled.has_errors() {
        return EXIT_ERROR;
    }
    let (results, coverage) = run_tests(&compiled, &bases);
    let mut failed = 0;
    for r in &results {
        match &r.failure {
            None => {
                let _ = writeln!(out, "ok      {} :: {}", r.policy, r.name);
            }
            Some(why) => {
                failed += 1;
                let _ = writeln!(out, "FAILED  {} :: {}\n        {why}", r.policy, r.name);
            }
        }
    }
    for c in &coverage {
        let _ = writeln!(out, "MISSING {c}");
    }
    let _ = writeln!(
        out,
        "{} passed, {} failed",
        results.len() - failed,
        failed + coverage.len()
    );
    if failed + coverage.len() > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
