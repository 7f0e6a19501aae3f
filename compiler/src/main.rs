//! The `rampart` binary.

use std::io::Write;

/// mimalloc instead of the system allocator: parsing and evaluation allocate
/// many small, short-lived values, where glibc malloc spent over a third of
/// the run and slowed as the heap grew (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Parsers and the evaluator recurse over nested inputs (bounded by typed
/// depth limits); a generous stack keeps those limits, not the thread, in charge.
const STACK_BYTES: usize = 64 * 1024 * 1024;

/// Standard error with the progress line cleared before each write, so a
/// message never lands after a half-drawn progress line.
struct ClearsProgress<W: Write>(W);

impl<W: Write> Write for ClearsProgress<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        rampart::progress::clear();
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn main() {
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(|| {
            let cwd = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."));
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            let mut out = stdout.lock();
            let mut err = ClearsProgress(stderr.lock());
            if rampart::progress::terminal_allows() {
                rampart::progress::allow();
            }
            let code = rampart::cli::run(std::env::args_os(), &cwd, &mut out, &mut err);
            let _ = out.flush();
            let _ = err.flush();
            code
        });
    let code = match worker.map(std::thread::JoinHandle::join) {
        Ok(Ok(code)) => code,
        _ => {
            let _ = writeln!(
                std::io::stderr(),
                "error: rampart stopped unexpectedly; this is a bug, please report it"
            );
            rampart::cli::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
