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

/// The buffer in front of standard output.
const OUT_BUFFER_BYTES: usize = 256 * 1024;

/// Turns transparent huge pages off for this process. The allocator asks for
/// them on its arenas, and where the system grants them on request (the
/// common `madvise` setting) the kernel zeroes 2 MiB at each first touch: on
/// the 2,500-file benchmark set that was up to 40 % of a run's samples and
/// 10-25 MiB of peak memory (docs/performance.md). Nothing to undo: the flag
/// lives and dies with the process; on failure the run goes on as before.
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments only (no pointer is
    // passed) and changes nothing but a flag of this process's memory map.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// mimalloc's `mi_option_purge_delay` (its index in `mi_option_t` of the
/// bundled `mimalloc.h`, v2 and v3 alike; `libmimalloc-sys` names the
/// options around it but not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed pages stay with the allocator before they are given back.
/// Loading frees what parsing built on the worker threads while evaluation
/// grows: with the default delay those pages were still held at the peak
/// (about 15 MiB on the 2,500-file set, docs/performance.md); 10 ms gives
/// them back between stages at no measured cost in time.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

fn main() {
    #[cfg(target_os = "linux")]
    no_transparent_huge_pages();
    // SAFETY: sets an integer option of the allocator, which reads it on
    // its next purge; no pointer is passed.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
    }
    let worker = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(|| {
            let cwd = std::env::current_dir().unwrap_or_else(|_| std::path::PathBuf::from("."));
            let stdout = std::io::stdout();
            let stderr = std::io::stderr();
            // Block-buffered: standard output is line-buffered (one write per
            // line); everything is flushed before the process exits.
            let mut out = std::io::BufWriter::with_capacity(OUT_BUFFER_BYTES, stdout.lock());
            let mut err = ClearsProgress(stderr.lock());
            if rampart::progress::terminal_allows() {
                rampart::progress::allow();
            }
            rampart::cli::skip_drops_at_exit();
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
