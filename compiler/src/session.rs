//! One run of `rampart check`, from the request to the [`Report`]: config,
//! policy compilation and selection, discovery, reading, evaluation,
//! suppressions. Nothing here renders a report or chooses an exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use rampart_runtime::engine::{Engine, Hit};
use rampart_runtime::fs::{Confined, FsError};
use rampart_runtime::model::Level as InputLevel;
use rampart_runtime::project::{Project, Target};

use crate::config::load::{load, Loaded};
use crate::diagnostics::Level;
use crate::discover::{discover, Discovered};
use crate::policy::compile::{compile, CompileOptions, Compiled, CompiledPolicy, Profile};
use crate::policy::sources::{load_policy_sources, stdlib_sources};
use crate::report::{Finding, InputError, Report, Rule, RunInfo};

/// Which policies to load.
#[derive(Clone, Debug, Default)]
pub struct PolicyRequest {
    /// Extra policy files or directories.
    pub policy: Vec<PathBuf>,
    /// Do not load the embedded standard library.
    pub no_stdlib: bool,
}

/// What `rampart check` was asked.
#[derive(Clone, Debug, Default)]
pub struct CheckRequest {
    /// Files or directories to check.
    pub paths: Vec<PathBuf>,
    /// Policies to load.
    pub policies: PolicyRequest,
    /// The profile chosen on the command line (else the config's).
    pub profile: Option<Profile>,
    /// An explicit config file.
    pub config: Option<PathBuf>,
    /// Check files ignore files would skip.
    pub no_ignore: bool,
}

/// Prints policy diagnostics. A file that is not a policy file (its name does
/// not end in `.rampart`) is never echoed as a snippet: one plain line instead.
pub fn print_policy_diagnostics(compiled: &Compiled, err: &mut dyn Write) {
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
        let text = crate::render::diagnostics::policy_diagnostics(compiled, &shown);
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
pub fn compile_policies(args: &PolicyRequest, cwd: &Path, err: &mut dyn Write) -> Option<Compiled> {
    compile_configured(args, cwd, None, &CompileOptions::default(), err)
}

/// As [`compile_policies`], the stdlib's rules left to compile on demand
/// ([`Compiled::complete`]): for commands that read metadata.
pub fn compile_policies_deferred(
    args: &PolicyRequest,
    cwd: &Path,
    err: &mut dyn Write,
) -> Option<Compiled> {
    let options = CompileOptions {
        defer_rules: true,
        ..CompileOptions::default()
    };
    compile_configured(args, cwd, None, &options, err)
}

/// Compiles the stdlib (unless disabled), `--policy` files and `extra`
/// policy paths (a config's, read inside its layer) with `options`; prints policy diagnostics. `None` when a
/// policy file cannot be read or does not compile (param problems are left
/// in [`Compiled::param_errors`] for the caller to locate).
pub fn compile_configured(
    args: &PolicyRequest,
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
fn extra_shown(loaded: &Option<Loaded>) -> Vec<String> {
    loaded
        .as_ref()
        .map(|l| l.config.policies.iter().map(|p| p.value.clone()).collect())
        .unwrap_or_default()
}

/// Why `check` has no policy to run, saying what was given.
fn no_policies(a: &CheckRequest, compiled: &Compiled, configured: &[String]) -> String {
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

fn selected(p: &CompiledPolicy, profile: Profile) -> bool {
    matches!(
        (p.profile, profile),
        (Profile::Recommended, _) | (Profile::Strict, Profile::Strict)
    )
}

/// The stack of the thread that finds the inputs: that of the thread
/// `rampart` runs on (`main.rs`).
const DISCOVER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Runs `rampart check`: reads the config, compiles the policies, discovers
/// and reads the inputs, evaluates, hides waived findings and returns the
/// [`Report`]. Problems of the policies and of the config are written to
/// `err` with snippets as they are found; `None` when they stop the run
/// before anything is checked (the exit code is then an error).
pub fn check(a: &CheckRequest, cwd: &Path, err: &mut dyn Write) -> Option<Report> {
    let today = crate::config::Date::today_utc();
    let Ok(loaded) = load(a.config.as_deref(), &a.paths, cwd, today, err) else {
        return None;
    };
    crate::progress::timings::mark("compile policies");
    crate::progress::phase("compiling policies");
    // The inputs are found while the policies compile (neither needs the
    // other); a run the policies stop has walked the tree for nothing.
    // Discovery sniffs and parses candidate files (nested nginx and Caddy
    // blocks): its thread gets the stack of the thread it ran on before.
    let (compiled, found) = std::thread::scope(|scope| {
        let walk = std::thread::Builder::new()
            .stack_size(DISCOVER_STACK_BYTES)
            .spawn_scoped(scope, || discover(&a.paths, cwd, a.no_ignore));
        let compiled = compile_with_config(a, cwd, loaded.as_ref(), err);
        let found = match walk {
            Ok(walk) => walk.join().ok(),
            // No thread to be had: found here, after compiling.
            Err(_) => Some(discover(&a.paths, cwd, a.no_ignore)),
        };
        (compiled, found)
    });
    let compiled = compiled?;
    let Some(mut found) = found else {
        let _ = writeln!(err, "error: finding the inputs failed; nothing was checked");
        return None;
    };
    let chosen = select(&compiled, a.profile, loaded.as_ref());
    let policies: Vec<&CompiledPolicy> = chosen.iter().collect();
    if policies.is_empty() {
        // Checking with no policy passes whatever the input: a silent pass.
        let _ = writeln!(
            err,
            "error: {}; nothing was checked",
            no_policies(a, &compiled, &extra_shown(&loaded))
        );
        return None;
    }
    crate::progress::timings::mark("discover inputs");
    crate::progress::phase("finding inputs");
    // A config of the repository can narrow what is checked; it never does so
    // silently (a pull request could otherwise switch the gate off).
    let mut excluded_warning = None;
    if let Some(l) = &loaded {
        let before = found.inputs.len();
        found
            .inputs
            .retain(|i| i.explicit || l.config.includes(&l.rel(&i.display)));
        let excluded = before - found.inputs.len();
        if excluded > 0 {
            excluded_warning =
                Some(InputError {
                    file: l.path.clone(),
                    line: 0,
                    column: 0,
                    message: format!(
                    "{excluded} of {before} input file{} excluded by `include`/`exclude` in `{}`{}",
                    if before == 1 { "" } else { "s" },
                    l.path,
                    if found.inputs.is_empty() { "; nothing is checked" } else { "" }
                ),
                    span: None,
                    code: "inputs-excluded".into(),
                });
        }
    }
    crate::progress::timings::mark("read and parse");
    // The rules of the targets the inputs feed (the stdlib's are compiled on
    // demand), compiled while the inputs are read, for the targets their
    // kinds feed (a compose file can bring in Dockerfiles). Whatever the
    // documents turn out to need beyond that is compiled after.
    let mut likely: std::collections::HashSet<&str> = found
        .inputs
        .iter()
        .flat_map(|i| i.kind.targets())
        .map(|t| t.name())
        .collect();
    if likely.contains(Target::COMPOSE.name()) {
        likely.insert(Target::DOCKERFILE.name());
    }
    let ((project, read_errors, skipped), early) = std::thread::scope(|scope| {
        let early =
            scope.spawn(|| compiled.rules_for(&chosen, |p| likely.contains(p.target.as_str())));
        let read = read_inputs(&found, cwd);
        (read, early.join().ok())
    });
    let targets: std::collections::HashSet<&str> =
        project.documents.iter().map(|d| d.target.name()).collect();
    let early = early.unwrap_or_else(|| chosen.to_vec());
    let chosen: Vec<CompiledPolicy> = compiled
        .rules_for(&early, |p| targets.contains(p.target.as_str()))
        .into_iter()
        .zip(chosen.iter())
        // A rule compiled for a target no document has is left as chosen.
        .map(|(c, o)| {
            if targets.contains(c.target.as_str()) {
                c
            } else {
                o.clone()
            }
        })
        .collect();
    let policies: Vec<&CompiledPolicy> = chosen.iter().collect();
    crate::progress::phase(&format!(
        "checking {} files with {} policies",
        found.inputs.len(),
        policies.len()
    ));
    crate::progress::timings::mark("evaluate");
    let mut outcome = evaluate(&project, &policies, &compiled);
    crate::progress::phase("writing the report");
    outcome.errors.extend(read_errors);
    outcome
        .errors
        .extend(found.errors.into_iter().map(|w| InputError {
            file: w.path,
            line: 0,
            column: 0,
            message: w.message,
            span: None,
            code: "input-unreadable".into(),
        }));
    outcome.errors.sort();
    outcome.warnings.extend(excluded_warning);
    outcome.files = found.inputs.len().saturating_sub(skipped);
    outcome
        .input_notes
        .extend(found.unrecognised.iter().map(|path| InputError {
            file: path.clone(),
            line: 0,
            column: 0,
            message: "not a recognised config (not a compose file, Dockerfile, .env, nginx or Caddy configuration); skipped".into(),
            span: None,
            code: "input-not-config".into(),
        }));
    outcome.input_notes.sort();
    if found.inputs.is_empty() {
        // A gate that checked nothing must not look like one that passed.
        let shown = if found.roots.is_empty() {
            "the paths given".to_string()
        } else {
            found
                .roots
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        outcome.warnings.push(InputError {
            file: String::new(),
            line: 0,
            column: 0,
            message: format!(
                "no input file found in {shown}; nothing was checked (rampart reads {} files)",
                rampart_runtime::project::Kind::label_list()
            ),
            span: None,
            code: "no-inputs".into(),
        });
    }
    outcome.config = loaded.as_ref().map(|l| l.path.clone());
    outcome.inputs = examined(&project);
    outcome.run = RunInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        policy_digest: policy_digest(&compiled),
        profile: effective_profile(a.profile, loaded.as_ref())
            .as_str()
            .to_string(),
        time: run_time(),
    };
    let ids: Vec<&str> = compiled.policies.iter().map(|p| p.id.as_str()).collect();
    crate::progress::timings::mark("suppressions and waivers");
    hide_accepted(&mut outcome, &project, loaded.as_ref(), &ids, err);
    outcome.rules = policies.iter().map(|p| Rule::of(p)).collect();
    outcome.skipped = found.notes.iter().map(|n| project.redact(n)).collect();
    outcome.notes = project.notes.iter().map(|n| project.redact(n)).collect();
    crate::progress::timings::mark("keep sources and locate findings");
    // Two independent passes over the project, side by side: the masked
    // texts of the files with findings, and each finding's path.
    let kept = {
        let report = &outcome;
        let (kept, paths) = rampart_runtime::project::on_cores(|| {
            rayon::join(
                || report.sources_to_keep(&project),
                || crate::report::fingerprint::paths(report, &project),
            )
        });
        crate::report::fingerprint::set_paths(&mut outcome, &paths);
        kept
    };
    outcome.sources.extend(kept);
    crate::progress::timings::mark("fingerprints");
    crate::report::fingerprint::assign(&mut outcome);
    crate::progress::timings::mark("release project");
    crate::cli::release(project);
    crate::progress::timings::mark("report built");
    Some(outcome)
}

/// Compiles the policies with the config's params and `policies:`, then
/// reports every problem of the config in one go (ids and params are checked
/// against the policies). `None` when the policies or the config have errors.
fn compile_with_config(
    a: &CheckRequest,
    cwd: &Path,
    loaded: Option<&Loaded>,
    err: &mut dyn Write,
) -> Option<Compiled> {
    let mut problems = Vec::new();
    let mut extra = None;
    let mut options = CompileOptions::default();
    if let Some(l) = loaded {
        problems.extend(l.problems.iter().cloned());
        let (paths, missing) = l.policy_paths();
        extra = Some((paths, &l.policy_fs));
        problems.extend(missing);
        options.params = l.config.param_values();
    }
    options.defer_rules = true;
    let compiled = compile_configured(&a.policies, cwd, extra, &options, err);
    if let (Some(l), Some(c)) = (loaded, &compiled) {
        let ids: Vec<&str> = c.policies.iter().map(|p| p.id.as_str()).collect();
        problems.extend(l.param_problems(&c.param_errors));
        problems.extend(l.config.check_ids(&ids));
    }
    let config_failed = loaded.is_some_and(|l| l.report(&problems, err));
    compiled.filter(|_| !config_failed)
}

/// The profile in effect: the request's, else the config's, else
/// `recommended`.
fn effective_profile(profile: Option<Profile>, loaded: Option<&Loaded>) -> Profile {
    profile
        .or_else(|| {
            loaded
                .and_then(|l| l.config.profile.as_ref())
                .map(|p| p.value)
        })
        .unwrap_or(Profile::Recommended)
}

/// Lowercase hex of SHA-256 over the concatenation of `parts`.
fn sha256_hex<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest of the policy set: every compiled source's path and text.
fn policy_digest(compiled: &Compiled) -> String {
    sha256_hex(
        compiled
            .sources
            .iter()
            .flat_map(|s| [s.path.as_bytes(), b"\0", s.text.as_bytes(), b"\0"]),
    )
}

/// Every file the project read, with the targets its documents feed and its
/// text (for its SHA-256, computed by the formats that print it).
fn examined(project: &Project) -> Vec<crate::report::Examined> {
    // The targets of each file's documents, in one pass over the documents.
    let mut by_file: std::collections::HashMap<rampart_runtime::model::FileId, Vec<String>> =
        std::collections::HashMap::new();
    for d in &project.documents {
        by_file
            .entry(d.file)
            .or_default()
            .push(d.target.name().to_string());
    }
    let mut out: Vec<crate::report::Examined> = project
        .sources
        .files()
        .map(|(id, f)| {
            let mut targets = by_file.remove(&id).unwrap_or_default();
            targets.sort_unstable();
            targets.dedup();
            crate::report::Examined {
                path: f.path.clone(),
                targets,
                text: f.text.clone(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out.dedup_by(|a, b| a.path == b.path);
    out
}

/// The run's time: `SOURCE_DATE_EPOCH` when set (reproducible reports),
/// else now.
fn run_time() -> u64 {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        })
}

/// The policies that run: chosen by the profile (the request's, else the
/// config's) and the config's `enable`/`disable`, with its severity overrides.
fn select(
    compiled: &Compiled,
    profile: Option<Profile>,
    loaded: Option<&Loaded>,
) -> Vec<CompiledPolicy> {
    let profile = effective_profile(profile, loaded);
    compiled
        .policies
        .iter()
        .filter(|p| {
            let by_profile = selected(p, profile);
            loaded.map_or(by_profile, |l| l.config.selects(&p.id, by_profile))
        })
        .map(|p| {
            let mut p = p.clone();
            if let Some(s) = loaded.and_then(|l| l.config.severity_of(&p.id)) {
                p.severity = s;
            }
            p
        })
        .collect()
}

/// Reads the discovered inputs into a linked project; a file that cannot be
/// read is an error naming it.
fn read_inputs(found: &Discovered, cwd: &Path) -> (Project, Vec<InputError>, usize) {
    let mut project = Project::on_disk(cwd, found.roots.clone());
    let fs = project.fs().clone();
    let mut read_errors = Vec::new();
    let mut skipped = 0;
    crate::progress::phase("reading inputs");
    let total = found.inputs.len();
    let mut done = 0;
    // A file is checked as what it is, even when an nginx entry or a
    // Caddyfile already read it as an include (it keeps its one FileId).
    // Through the confined layer: a link out of the scan root, a special
    // file or an oversized file is an error naming it; nothing is opened.
    // Read and parsed on the cores, kept in input order (`add_inputs`).
    project.add_inputs(
        &found.inputs,
        |input| {
            fs.read(&input.path)
                .map(|bytes| (input.display.clone(), bytes, input.kind))
        },
        |input, outcome| {
            crate::progress::step(done, total);
            done += 1;
            match outcome {
                // Screened first: ciphertext, binary files and files that are
                // not the format are skipped (warning or note), not parsed.
                Ok(Some(_)) => {}
                Ok(None) => skipped += 1,
                Err(FsError::TooLarge { limit }) => read_errors.push(InputError {
                    file: input.display.clone(),
                    line: 0,
                    column: 0,
                    message: format!("file is larger than {limit} bytes; not read"),
                    span: None,
                    code: "input-too-large".into(),
                }),
                Err(e) => read_errors.push(InputError {
                    file: input.display.clone(),
                    line: 0,
                    column: 0,
                    message: format!("cannot read: {e}"),
                    span: None,
                    code: "input-unreadable".into(),
                }),
            }
        },
    );
    crate::progress::timings::mark("link");
    project.link();
    (project, read_errors, skipped)
}

/// Hides suppressed and waived findings ([`crate::report::suppress`]); the config's
/// waivers that hid nothing are printed on `err` and kept as warnings.
fn hide_accepted(
    outcome: &mut Report,
    project: &Project,
    loaded: Option<&Loaded>,
    ids: &[&str],
    err: &mut dyn Write,
) {
    let rel = |f: &str| loaded.map_or_else(|| f.to_string(), |l| l.rel(f));
    let unused =
        crate::report::suppress::apply(outcome, project, loaded.map(|l| &l.config), &rel, ids);
    outcome.waived.sort();
    if let Some(l) = loaded {
        l.report(&unused, err);
        // Expired waivers were printed with the config's problems; the report
        // carries them too, with the waivers that hid nothing.
        let expired = l.problems.iter().filter(|p| {
            matches!(
                p.error,
                crate::config::ConfigError::ExpiredWaiver { .. }
                    | crate::config::ConfigError::ExpiringWaiver { .. }
            )
        });
        for a in outcome
            .acceptances
            .iter_mut()
            .filter(|a| a.kind == "waiver")
        {
            a.file = l.path.clone();
            a.line = rampart_runtime::source::line_col_in(&l.text, a.offset).0;
        }
        outcome.config_warnings = expired
            .chain(&unused)
            .map(|p| l.as_input_warning(p))
            .collect();
    }
}

/// Evaluates policies on a project, producing the located outcome.
pub fn evaluate(project: &Project, policies: &[&CompiledPolicy], compiled: &Compiled) -> Report {
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            return Report {
                errors: vec![InputError {
                    file: String::new(),
                    line: 0,
                    column: 0,
                    message: format!("cannot set up the CEL engine: {e}"),
                    span: None,
                    code: "engine-setup".into(),
                }],
                ..Report::default()
            }
        }
    };
    let rules: Vec<_> = policies.iter().map(|p| p.rule.clone()).collect();
    let (hits, eval_errors) = engine.run(&rules, project);
    let mut outcome = Report {
        files: project.sources.len(),
        policies: policies.len(),
        ..Report::default()
    };
    // One copy of each policy's title and remediation, shared by its findings.
    let shared = |text: &String| std::sync::Arc::<str>::from(text.as_str());
    let titles: Vec<std::sync::Arc<str>> = policies.iter().map(|p| shared(&p.title)).collect();
    let remediations: Vec<std::sync::Arc<str>> =
        policies.iter().map(|p| shared(&p.remediation)).collect();
    // Located on the cores (a line and column each), in the engine's order.
    let locate = |hit: Hit| {
        let Hit {
            rule,
            span,
            message,
            ..
        } = hit;
        let p = policies.get(rule)?;
        let loc = project.sources.location(span)?;
        Some(Finding {
            file: loc.path,
            line: loc.line,
            column: loc.column,
            end_line: loc.end_line,
            end_column: loc.end_column,
            policy: p.id.clone(),
            severity: p.severity,
            title: titles.get(rule).cloned().unwrap_or_default(),
            message,
            remediation: remediations.get(rule).cloned().unwrap_or_default(),
            span,
            fingerprint: String::new(),
            path: String::new(),
        })
    };
    // Each written straight to its place (an indexed collect), then the
    // unlocated ones left out in place: the findings are written once.
    let located: Vec<Option<Finding>> = rampart_runtime::project::on_cores(|| {
        use rayon::prelude::*;
        hits.into_par_iter().map(locate).collect()
    });
    #[allow(clippy::filter_map_identity)] // `flatten` would not reuse the list
    let findings: Vec<Finding> = located.into_iter().filter_map(|f| f).collect();
    outcome.findings = findings;
    for e in eval_errors {
        let pid = policies.get(e.rule).map_or("?", |p| p.id.as_str());
        let at = compiled
            .sources
            .get(e.origin.source as usize)
            .map(|s| {
                let (line, _) = rampart_runtime::source::line_col_in(&s.text, e.origin.start);
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
            code: "policy-failed".into(),
        });
    }
    for p in &project.problems {
        // A file skipped whole (ciphertext, binary, template, not a config)
        // is named, not located at a line.
        let whole = rampart_runtime::formats::screen::SKIP_CODES.contains(&p.code);
        let loc = project.sources.location(p.span).map(|mut l| {
            if whole {
                (l.line, l.column) = (0, 0);
            }
            l
        });
        let e = InputError {
            file: loc.as_ref().map_or_else(String::new, |l| l.path.clone()),
            line: loc.as_ref().map_or(0, |l| l.line),
            column: loc.as_ref().map_or(0, |l| l.column),
            message: project.redact(&p.message),
            span: (!whole).then_some(p.span),
            code: p.code.to_string(),
        };
        match p.level {
            InputLevel::Error => outcome.errors.push(e),
            InputLevel::Warning => outcome.warnings.push(e),
            InputLevel::Note => outcome.input_notes.push(e),
        }
    }
    crate::report::sort_findings(&mut outcome.findings);
    outcome.findings.dedup();
    // One finding per root cause: shared YAML definitions, co-located pairs.
    outcome.findings = crate::report::grouping::group(std::mem::take(&mut outcome.findings));
    // A file included by several entries reports its problems once.
    outcome.errors.sort();
    outcome.errors.dedup();
    outcome.warnings.sort();
    outcome.warnings.dedup();
    outcome.input_notes.sort();
    outcome.input_notes.dedup();
    outcome
}
