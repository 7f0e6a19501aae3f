//! The `rampart` command line: arguments, one module per command, exit
//! codes. The only module that prints or decides exit codes; the commands
//! parse arguments, call the session, render and choose the exit code.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::policy::compile::{Profile, Severity};
use crate::session::PolicyRequest;

mod check;
mod docs;
mod explain;
mod fmt;
mod generate;
mod init;
mod list;
mod schema;
mod test;
mod waivers;

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
    about = "Policy-as-code checks for deployment configuration: compose files, Dockerfiles, .env, nginx and Caddy"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check configuration files against the policies.
    Check(CheckArgs),
    /// List every waiver and inline suppression with its status.
    Waivers(CheckArgs),
    /// Write the current findings to a baseline FILE (for `check --baseline`).
    Baseline {
        /// The baseline file to write.
        file: PathBuf,
        #[command(flatten)]
        check: CheckArgs,
    },
    /// Run the test blocks of policy files (default: the embedded standard library).
    Test(TestArgs),
    /// List the policies.
    List(PolicyArgs),
    /// Explain one policy: rationale, remediation, sources.
    Explain {
        /// Policy id, e.g. `compose.datastore-loopback-only`.
        id: String,
        /// Print the policy's source instead: its file and line, the policy
        /// as written, and the defs, constants and params it uses.
        #[arg(long)]
        source: bool,
        #[command(flatten)]
        policies: PolicyArgs,
    },
    /// Write the policy catalog (an index and one page per policy) from the
    /// policies themselves: the standard library, policy files, or both.
    Docs(DocsArgs),
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
    /// Write a commented `rampart.yaml` in the current directory.
    Init {
        /// Overwrite an existing `rampart.yaml`.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script (from the command-line definitions).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a folder.
    Man {
        /// Folder to write `rampart.1` and one `rampart-<command>.1` per command into.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// The command-line definition (for completions and man pages).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
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
struct DocsArgs {
    /// Policy files or directories to document, besides the standard library.
    paths: Vec<PathBuf>,
    #[command(flatten)]
    policies: PolicyArgs,
    /// Page format.
    #[arg(long, value_enum, default_value = "markdown")]
    format: DocsFormat,
    /// Folder to write `index.md` and one page per policy into (created);
    /// without it, the index and the pages are printed one after the other.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DocsFormat {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// Self-contained HTML pages (no external assets).
    Html,
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
    profile: Option<Profile>,
    /// Settings file (default: `rampart.yaml` at the scan root, when present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output format (repeatable: with `--output`, the n-th `--format` is
    /// written to the n-th `--output`; one evaluation, many renderings).
    #[arg(long, value_enum)]
    format: Vec<Format>,
    /// Write the output to FILE instead of standard output (`-`: standard
    /// output); repeatable, paired in order with `--format`.
    #[arg(long, short, value_name = "FILE")]
    output: Vec<PathBuf>,
    /// Print the summary only (`text`, `short`); other formats are documents
    /// and are written whole.
    #[arg(long, short)]
    quiet: bool,
    /// Report only findings not in this baseline (written by `rampart baseline`).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Exit 1 only for findings at or above this severity.
    #[arg(long, value_enum, default_value = "low")]
    fail_on: Severity,
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
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: TestFormat,
    /// Exit 1 on coverage gaps too: a policy without a deny or an allow
    /// case, a `deny` clause that no deny case exercises.
    #[arg(long)]
    require_coverage: bool,
    /// Only cases whose policy id or case name contains this text.
    #[arg(long, value_name = "SUBSTRING")]
    filter: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum TestFormat {
    /// One line per case, failures explained, then coverage.
    Text,
    /// Cases with their findings, and coverage, as one JSON document.
    Json,
    /// JUnit XML: a suite per policy, a test case per case.
    Junit,
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
    /// GitHub Actions workflow commands (annotations) and a summary notice.
    Github,
    /// Audit report: one self-contained HTML page (every policy's result,
    /// every input with its SHA-256).
    Html,
    /// Audit report as Markdown (e.g. for `$GITHUB_STEP_SUMMARY`).
    Markdown,
    /// One line per finding (`file:line:col: severity policy message`) and a summary.
    Short,
    /// GitLab Code Quality report (`artifacts: reports: codequality:`).
    Gitlab,
}

impl PolicyArgs {
    fn request(&self) -> PolicyRequest {
        PolicyRequest {
            policy: self.policy.clone(),
            no_stdlib: self.no_stdlib,
        }
    }
}

/// `--profile`: the selectable profiles, by their one name.
impl ValueEnum for Profile {
    fn value_variants<'a>() -> &'a [Self] {
        Profile::SELECTABLE
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

/// `--fail-on`: every severity, by its one name.
impl ValueEnum for Severity {
    fn value_variants<'a>() -> &'a [Self] {
        Severity::ALL
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

impl Format {
    fn format(self) -> crate::render::Format {
        match self {
            Format::Text => crate::render::Format::Text,
            Format::Json => crate::render::Format::Json,
            Format::Sarif => crate::render::Format::Sarif,
            Format::Junit => crate::render::Format::Junit,
            Format::Github => crate::render::Format::Github,
            Format::Html => crate::render::Format::Html,
            Format::Markdown => crate::render::Format::Markdown,
            Format::Short => crate::render::Format::Short,
            Format::Gitlab => crate::render::Format::Gitlab,
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
        Command::Check(a) => check::run(&a, cwd, out, err),
        Command::Waivers(a) => waivers::run(&a, cwd, out, err),
        Command::Baseline { file, check } => check::baseline(&file, &check, cwd, err),
        Command::Test(a) => test::run(&a, cwd, out, err),
        Command::List(p) => list::run(&p, cwd, out, err),
        Command::Explain {
            id,
            source,
            policies,
        } => explain::run(&id, source, &policies, cwd, out, err),
        Command::Docs(a) => docs::run(&a, cwd, out, err),
        Command::Schema { target } => schema::run(target.as_deref(), out, err),
        Command::Fmt { paths, check } => fmt::run(&paths, check, cwd, out, err),
        Command::Init { force } => init::run(force, cwd, out, err),
        Command::Completions { shell } => generate::completions(shell, out, err),
        Command::Man { out: dir } => generate::man(dir.as_deref(), cwd, out, err),
    }
}
