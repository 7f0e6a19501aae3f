//! Finding, reading and reporting `rampart.yaml` for `rampart check`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::{self, Config, ConfigError, ConfigProblem, Date, CONFIG_FILE};
use crate::diagnostics::Level;
use crate::policy::compile::ParamError;
use crate::render::diagnostics::file_diagnostics;
use crate::report::InputError;
use rampart_runtime::fs::{Confined, FsError};

/// A config file that was read.
pub struct Loaded {
    /// Its settings.
    pub config: Config,
    /// Display path.
    pub path: String,
    /// Its text.
    pub text: String,
    /// Its directory on disk (policy paths are relative to it).
    pub dir: PathBuf,
    /// Its directory as a display path (`""` for the working directory).
    pub dir_display: String,
    /// Problems found reading it (expired waivers included).
    pub problems: Vec<ConfigProblem>,
    /// Where its `policies:` may lie: its directory and the scan root, after
    /// resolution (a config in the repository names nothing outside it).
    pub policy_fs: Confined,
}

impl Loaded {
    /// A display path (relative to the working directory) made relative to
    /// the config directory, for `include`/`exclude` and waiver paths.
    pub fn rel(&self, file: &str) -> String {
        if self.dir_display.is_empty() || self.dir_display == "." {
            return file.to_string();
        }
        file.strip_prefix(&format!("{}/", self.dir_display))
            .unwrap_or(file)
            .to_string()
    }

    /// Problems rendered with snippets of the config file.
    pub fn render(&self, problems: &[ConfigProblem]) -> String {
        let diags: Vec<_> = problems.iter().map(|p| p.to_diagnostic(0)).collect();
        file_diagnostics(&self.path, &self.text, &diags)
    }

    /// A config problem as a located warning for the JSON report.
    pub fn as_input_warning(&self, p: &ConfigProblem) -> InputError {
        let (line, column) = rampart_runtime::source::line_col_in(&self.text, p.start);
        InputError {
            file: self.path.clone(),
            line,
            column,
            message: p.message(),
            span: None,
            code: p.code().to_string(),
        }
    }

    /// Prints `problems`; `true` when one of them is an error.
    pub fn report(&self, problems: &[ConfigProblem], err: &mut dyn Write) -> bool {
        if problems.is_empty() {
            return false;
        }
        let _ = err.write_all(self.render(problems).as_bytes());
        let n = problems
            .iter()
            .filter(|p| p.level() == Level::Error)
            .count();
        if n > 0 {
            let _ = writeln!(
                err,
                "error: {n} error{} in `{}`; nothing was checked",
                if n == 1 { "" } else { "s" },
                self.path
            );
        }
        n > 0
    }

    /// The `policies:` paths, on disk; a missing one is a problem.
    pub fn policy_paths(&self) -> (Vec<PathBuf>, Vec<ConfigProblem>) {
        let mut paths = Vec::new();
        let mut problems = Vec::new();
        for p in &self.config.policies {
            let full = self.dir.join(&p.value);
            // Resolved before anything is read: `/proc/self/environ`,
            // `../../etc/hostname`, `/` or a link out of the repository are
            // errors at the entry, and nothing is read.
            let reason = match self.policy_fs.resolve(&full) {
                Ok(_) => {
                    paths.push(full);
                    continue;
                }
                Err(FsError::OutsideRoot {
                    through_link: false,
                    ..
                }) => "it lies outside the repository (a config file may only name policies inside it)"
                    .to_string(),
                Err(FsError::OutsideRoot { link, .. }) => format!(
                    "the symbolic link `{link}` leads outside the repository (a config file may only name policies inside it)"
                ),
                Err(e) => e.to_string(),
            };
            problems.push(ConfigProblem {
                start: p.start,
                end: p.end,
                error: ConfigError::UnreadablePolicy {
                    path: p.value.clone(),
                    reason,
                },
            });
        }
        (paths, problems)
    }

    /// Param errors of a compilation, located at their keys.
    pub fn param_problems(&self, errors: &[ParamError]) -> Vec<ConfigProblem> {
        errors
            .iter()
            .map(|e| {
                let (name, error) = match e {
                    ParamError::Unknown { name, suggestion } => (
                        name,
                        ConfigError::UnknownParam {
                            name: name.clone(),
                            suggestion: suggestion.clone(),
                        },
                    ),
                    ParamError::WrongType { name, expected } => (
                        name,
                        ConfigError::ParamType {
                            name: name.clone(),
                            expected: expected.to_string(),
                        },
                    ),
                };
                let (start, end) = self
                    .config
                    .param_key(name)
                    .map_or((0, 0), |k| (k.start, k.end));
                ConfigProblem { start, end, error }
            })
            .collect()
    }
}

/// The directories where `rampart.yaml` is looked for, nearest first, each
/// with the boundary its reading is confined to: the working directory and
/// each parent up to the top of the git work tree holding it (the directory
/// with `.git`), never above it; outside a work tree, the working directory
/// alone. When none of them has one: the same from the directory holding
/// every path argument (so the order of the arguments never matters).
fn config_dirs(paths: &[PathBuf], cwd: &Path) -> Vec<(PathBuf, PathBuf)> {
    let upward = |start: &Path| -> Vec<(PathBuf, PathBuf)> {
        let start = rampart_runtime::fs::normalize_path(start);
        let top = start
            .ancestors()
            .find(|a| std::fs::symlink_metadata(a.join(".git")).is_ok())
            .map_or_else(|| start.clone(), Path::to_path_buf);
        start
            .ancestors()
            .take_while(|a| a.starts_with(&top))
            .map(|a| (a.to_path_buf(), top.clone()))
            .collect()
    };
    let mut dirs = upward(cwd);
    if let Some(common) = common_dir(paths, cwd) {
        for d in upward(&common) {
            if !dirs.iter().any(|(seen, _)| *seen == d.0) {
                dirs.push(d);
            }
        }
    }
    dirs
}

/// The deepest directory holding every path argument (a file's directory
/// for a file); `None` without arguments.
fn common_dir(paths: &[PathBuf], cwd: &Path) -> Option<PathBuf> {
    let mut common: Option<PathBuf> = None;
    for p in paths {
        let full = rampart_runtime::fs::normalize_path(&cwd.join(p));
        let dir = if full.is_dir() {
            full
        } else {
            full.parent().map_or(full.clone(), Path::to_path_buf)
        };
        common = Some(match common {
            None => dir,
            Some(c) => c
                .ancestors()
                .find(|a| dir.starts_with(a))
                .map_or_else(PathBuf::new, Path::to_path_buf),
        });
    }
    common
}

/// Finds and reads the config: `--config FILE`, else `rampart.yaml` at the
/// scan root when there is one. Its problems (expired waivers included) are
/// kept for the caller to report with the rest; `Err` (printed) when the file
/// cannot be read.
#[allow(clippy::result_unit_err)]
pub fn load(
    explicit: Option<&Path>,
    paths: &[PathBuf],
    cwd: &Path,
    today: Date,
    err: &mut dyn Write,
) -> Result<Option<Loaded>, ()> {
    // `--config` names what the operator chose; a `rampart.yaml` found in the
    // repository is read only when it resolves inside its work tree (or, outside
    // git, the directory it lies in).
    let (file, fs, root) = match explicit {
        Some(p) => {
            let file = if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd.join(p)
            };
            let root = common_dir(paths, cwd).unwrap_or_else(|| cwd.to_path_buf());
            (file, Confined::anywhere(cwd), root)
        }
        None => {
            let found = config_dirs(paths, cwd)
                .into_iter()
                .map(|(dir, top)| (dir.join(CONFIG_FILE), top))
                .find(|(candidate, _)| {
                    std::fs::symlink_metadata(candidate).is_ok_and(|m| !m.is_dir())
                });
            let Some((candidate, top)) = found else {
                return Ok(None);
            };
            (candidate, Confined::new(cwd, [top.clone()]), top)
        }
    };
    // A config found above the working directory is named relative to it
    // (`../rampart.yaml`), never by an absolute path of the machine.
    let path = match (file.parent(), file.file_name()) {
        (Some(dir), Some(name)) if !file.starts_with(cwd) && cwd.starts_with(dir) => {
            let up = cwd
                .strip_prefix(dir)
                .map_or(0, |rest| rest.components().count());
            format!("{}{}", "../".repeat(up), rampart_runtime::fs::escape(name))
        }
        _ => rampart_runtime::fs::display(cwd, &file),
    };
    let text = match fs
        .with_limit(config::MAX_CONFIG_BYTES as u64)
        .read_text(&file)
    {
        Ok(t) => t,
        Err(FsError::IsDir) if explicit.is_none() => return Ok(None),
        Err(FsError::TooLarge { limit }) => {
            let _ = writeln!(
                err,
                "error: config file `{path}` is larger than {limit} bytes"
            );
            return Err(());
        }
        Err(FsError::NotUtf8) => {
            let _ = writeln!(err, "error: config file `{path}` is not valid UTF-8");
            return Err(());
        }
        Err(e) => {
            let _ = writeln!(err, "error: cannot read config file `{path}`: {e}");
            return Err(());
        }
    };
    let (mut config, mut problems) = config::parse(&text);
    problems.extend(config.expired_waivers(today));
    let dir = file
        .parent()
        .map_or_else(|| cwd.to_path_buf(), Path::to_path_buf);
    let dir_display = rampart_runtime::fs::display(cwd, &dir);
    let policy_fs = Confined::new(cwd, [dir.clone(), root]);
    Ok(Some(Loaded {
        policy_fs,
        config,
        path,
        text,
        dir,
        dir_display,
        problems,
    }))
}
