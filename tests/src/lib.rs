//! Shared helpers for the workspace integration tests.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

mod shared_dir;

pub use shared_dir::{shared, shared_or_skip, REQUIRE_SHARED_VAR, SHARED_DIR_VAR};

/// The real configs of `SHARED/corpus/real`, by format: its folder, the kind
/// its files are read as, and the files, sorted (none for a folder that
/// cannot be read).
pub fn real_corpus(
    shared: &Path,
) -> Vec<(&'static str, rampart_runtime::project::Kind, Vec<PathBuf>)> {
    use rampart_runtime::project::Kind;
    [
        ("compose", Kind::COMPOSE),
        ("dockerfile", Kind::DOCKERFILE),
        ("dotenv", Kind::DOTENV),
        ("nginx", Kind::NGINX),
        ("caddy", Kind::CADDY),
    ]
    .into_iter()
    .map(|(dir, kind)| {
        let root = shared.join("corpus").join("real").join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        (dir, kind, files)
    })
    .collect()
}

/// Runs the CLI in-process in `cwd`, on a thread with the binary's stack
/// size (64 MiB); returns (exit code, stdout, stderr).
pub fn rampart(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let cwd = cwd.to_path_buf();
    let argv: Vec<OsString> = std::iter::once("rampart")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect();
    let worker = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            let mut out = Vec::new();
            let mut err = Vec::new();
            let code = rampart::cli::run(argv, &cwd, &mut out, &mut err);
            (
                code,
                String::from_utf8_lossy(&out).into_owned(),
                String::from_utf8_lossy(&err).into_owned(),
            )
        })
        .expect("spawn the rampart thread");
    worker.join().expect("rampart panicked")
}

/// Like [`rampart`], with `env` added to the environment: runs the CLI in a
/// child process ([`bounded`]), since every test of the binary shares this
/// process's environment. Panics if the child is killed or hangs for ten
/// minutes.
pub fn rampart_with_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let run = bounded(cwd, args, env, std::time::Duration::from_secs(600));
    let code = run
        .code
        .unwrap_or_else(|| panic!("rampart {args:?} ended without an exit code: {run:?}"));
    (code, run.stdout, run.stderr)
}

/// Parses `rampart check --format json` output.
pub fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or(serde_json::Value::Null)
}

/// (policy, line) of every finding in a JSON report.
pub fn findings(report: &serde_json::Value) -> Vec<(String, u64, String)> {
    report["findings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["policy"].as_str().unwrap_or("").to_string(),
                        f["line"].as_u64().unwrap_or(0),
                        f["message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What a bounded out-of-process run of the CLI did.
#[derive(Debug)]
pub struct Bounded {
    /// Exit code; `None` when the process was killed by a signal.
    pub code: Option<i32>,
    /// The signal that ended it, if any (9 when the harness killed it at the deadline).
    pub signal: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Peak resident memory of the process, in KiB (`ru_maxrss`).
    pub peak_kib: u64,
    /// Whether the harness had to kill it at the deadline.
    pub timed_out: bool,
}

impl Bounded {
    /// Stdout and stderr together, for "appears in no output" checks.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

const CHILD_CWD: &str = "RAMPART_TEST_CHILD_CWD";
const CHILD_ARGS: &str = "RAMPART_TEST_CHILD_ARGS";
const CHILD_OUT: &str = "RAMPART_TEST_CHILD_OUT";
const CHILD_ERR: &str = "RAMPART_TEST_CHILD_ERR";
/// The name of the test function [`child_entry!`] defines.
pub const CHILD_TEST: &str = "rampart_child_entry";

/// Defines the test function through which [`bounded`] re-runs the current
/// test binary as a child process running the CLI. The test binary invokes
/// it once, at its crate root (`tests/tests/main.rs`), where the test's name
/// is exactly [`CHILD_TEST`].
#[macro_export]
macro_rules! child_entry {
    () => {
        #[test]
        fn rampart_child_entry() {
            $crate::run_child_if_asked();
        }
    };
}

/// In a child started by [`bounded`]: runs the CLI (on the binary's 64 MiB
/// stack) with the arguments from the environment and exits with its code.
/// Elsewhere: does nothing.
pub fn run_child_if_asked() {
    let (Some(cwd), Some(args)) = (std::env::var_os(CHILD_CWD), std::env::var(CHILD_ARGS).ok())
    else {
        return;
    };
    let argv: Vec<OsString> = std::iter::once("rampart".to_string())
        .chain(
            args.split('\u{1f}')
                .filter(|a| !a.is_empty())
                .map(str::to_string),
        )
        .map(OsString::from)
        .collect();
    let cwd = PathBuf::from(cwd);
    let worker = std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(move || {
            use std::io::Write;
            // The CLI's output goes to files of its own: the test harness
            // prints its own lines on the process's stdout.
            let create = |var: &str| {
                std::fs::File::create(std::env::var_os(var).expect("an output path"))
                    .expect("create the output file")
            };
            let mut out = std::io::BufWriter::new(create(CHILD_OUT));
            let mut err = std::io::BufWriter::new(create(CHILD_ERR));
            let code = rampart::cli::run(argv, &cwd, &mut out, &mut err);
            let _ = out.flush();
            let _ = err.flush();
            code
        })
        .expect("spawn the rampart thread");
    let code = worker.join().unwrap_or(101);
    std::process::exit(code);
}

/// Runs the CLI with `args` in `cwd` in a child process (this test binary,
/// re-entered through [`child_entry!`]) with `env` added, and measures it:
/// its exit code or signal, its output and its peak memory. The child is
/// killed after `deadline` (a guard against hangs, not a timing assertion).
pub fn bounded(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    deadline: std::time::Duration,
) -> Bounded {
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().expect("the test binary's path");
    let dir = tempfile_dir();
    let out_path = dir.join("stdout");
    let err_path = dir.join("stderr");
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        CHILD_TEST,
        "--exact",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env(CHILD_CWD, cwd)
    .env(CHILD_ARGS, args.join("\u{1f}"))
    .current_dir(cwd)
    .env(CHILD_OUT, &out_path)
    .env(CHILD_ERR, &err_path)
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("start the child");
    let pid = child.id() as libc::pid_t;
    let started = std::time::Instant::now();
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut timed_out = false;
    loop {
        // SAFETY: `pid` is our own child, not yet reaped; the pointers are valid.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r >= 0, "wait4 failed");
        if started.elapsed() > deadline && !timed_out {
            timed_out = true;
            // SAFETY: sending a signal to our own child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::mem::forget(child);
    let st = std::process::ExitStatus::from_raw(status);
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    let b = Bounded {
        code: st.code(),
        signal: st.signal(),
        stdout: read(&out_path),
        stderr: read(&err_path),
        peak_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        timed_out,
    };
    let _ = std::fs::remove_dir_all(&dir);
    b
}

fn tempfile_dir() -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "rampart-bounded-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// Writes `rel` below `dir` (creating its directories) with `bytes`.
pub fn write(dir: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("a parent directory")).expect("create directories");
    std::fs::write(p, bytes).expect("write the file");
}

/// A valid compose file the hostile tests put beside a hostile one: its
/// `compose.datastore-loopback-only` finding shows the other files were still checked.
pub const CANARY: &str = "services:\n  r:\n    image: redis:7\n    ports: [\"6379:6379\"]\n";

/// Checks `rel` (holding `bytes`) beside the canary in a fresh directory and
/// returns the JSON report, asserting that there is one, that the canary was
/// still checked and that every error names its file.
pub fn check_beside_canary(rel: &str, bytes: &[u8]) -> serde_json::Value {
    let d = tempfile::tempdir().expect("a temp dir");
    write(d.path(), rel, bytes);
    write(d.path(), "canary/docker-compose.yml", CANARY);
    let (code, out, err) = rampart(d.path(), &["check", "--format", "json"]);
    let v = json(&out);
    assert_eq!(
        v["version"], 1,
        "{rel}: no report (exit {code}); stderr: {err}"
    );
    assert!(
        findings(&v)
            .iter()
            .any(|(p, ..)| p == "compose.datastore-loopback-only"),
        "{rel}: the canary beside it was not checked"
    );
    for e in v["errors"].as_array().into_iter().flatten() {
        assert!(
            !e["file"].as_str().unwrap_or("").is_empty(),
            "{rel}: error without a file: {e}"
        );
    }
    v
}
