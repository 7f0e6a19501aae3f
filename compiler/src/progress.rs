//! Progress on stderr for long runs of `rampart check`: one line, redrawn in
//! place (`\r` and erase-line), cleared before anything else is written.
//!
//! It is shown only when the binary turned it on ([`allow`], called by
//! `main` when [`terminal_allows`] says stderr is an interactive terminal
//! and neither `CI` nor `NO_COLOR` is set, nor `TERM=dumb`) and the command
//! asked for it ([`start`]; `check` without `--quiet`). Library callers and
//! the in-process tests never call [`allow`], so their captured output never
//! holds a progress line. It never writes to standard output.
//!
//! Cheap: the session reports phases and files read ([`phase`], [`step`]);
//! a step costs a thread-local look-up and a clock read (no system call), and
//! the line is redrawn at most every [`REDRAW_INTERVAL`], only once a run has
//! lasted [`SHOW_AFTER`]. The state is per thread: calls from other threads
//! do nothing.

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::time::{Duration, Instant};

/// A run shorter than this shows no progress at all.
pub const SHOW_AFTER: Duration = Duration::from_millis(500);
/// The line is redrawn at most this often.
pub const REDRAW_INTERVAL: Duration = Duration::from_millis(100);
/// The longest progress line written, in characters (a narrow terminal would
/// otherwise wrap it and `\r` would no longer return to its start).
pub const MAX_LINE_CHARS: usize = 72;

thread_local! {
    static ALLOWED: Cell<bool> = const { Cell::new(false) };
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

struct State {
    sink: Box<dyn Write>,
    start: Instant,
    last_draw: Option<Instant>,
    phase: String,
    count: Option<(usize, usize)>,
    drawn: bool,
}

impl State {
    fn draw(&mut self, now: Instant) {
        // No clock in the line: a phase without steps (evaluation) would
        // look stuck.
        let mut line = format!("rampart: {}", self.phase);
        match self.count {
            Some((done, total)) => line.push_str(&format!(" {done}/{total}")),
            None => line.push('…'),
        }
        let line: String = line.chars().take(MAX_LINE_CHARS).collect();
        let _ = write!(self.sink, "\r\x1b[2K{line}");
        let _ = self.sink.flush();
        self.drawn = true;
        self.last_draw = Some(now);
    }

    fn clear(&mut self) {
        if self.drawn {
            let _ = write!(self.sink, "\r\x1b[2K");
            let _ = self.sink.flush();
            self.drawn = false;
        }
    }

    fn due(&self, now: Instant, phase_changed: bool) -> bool {
        if now.duration_since(self.start) < SHOW_AFTER {
            return false;
        }
        phase_changed
            || self
                .last_draw
                .is_none_or(|t| now.duration_since(t) >= REDRAW_INTERVAL)
    }
}

/// Whether the environment allows a progress line: stderr is a terminal,
/// `TERM` is not `dumb`, and neither `CI` nor `NO_COLOR` is set (non-empty).
pub fn terminal_allows() -> bool {
    use std::io::IsTerminal;
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    std::io::stderr().is_terminal()
        && !set("CI")
        && !set("NO_COLOR")
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Lets commands on this thread show progress (the binary calls it when
/// [`terminal_allows`]).
pub fn allow() {
    ALLOWED.with(|a| a.set(true));
}

/// Shows progress on this thread until the guard is dropped, when [`allow`]
/// was called; otherwise does nothing.
pub fn start() -> Guard {
    if ALLOWED.with(Cell::get) {
        install(Box::new(std::io::stderr()));
    }
    Guard
}

/// Shows progress on `sink` (until a [`Guard`] is dropped).
fn install(sink: Box<dyn Write>) {
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            sink,
            start: Instant::now(),
            last_draw: None,
            phase: String::new(),
            count: None,
            drawn: false,
        });
    });
}

/// Ends the progress of this thread when dropped: the line is cleared.
#[must_use = "progress ends when the guard is dropped"]
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        STATE.with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                if let Some(st) = s.as_mut() {
                    st.clear();
                }
                *s = None;
            }
        });
    }
}

fn with_state(f: impl FnOnce(&mut State)) {
    STATE.with(|s| {
        if let Ok(mut s) = s.try_borrow_mut() {
            if let Some(st) = s.as_mut() {
                f(st);
            }
        }
    });
}

/// A new phase (`reading inputs`, `checking 12 files with 50 policies`).
pub fn phase(name: &str) {
    with_state(|st| {
        st.phase = name.to_string();
        st.count = None;
        let now = Instant::now();
        if st.due(now, true) {
            st.draw(now);
        }
    });
}

/// `done` of `total` items of the current phase.
pub fn step(done: usize, total: usize) {
    with_state(|st| {
        st.count = Some((done, total));
        let now = Instant::now();
        if st.due(now, false) {
            st.draw(now);
        }
    });
}

/// Clears the progress line, if one is shown, before something else is
/// written to the terminal (the binary's stderr writer calls it; the line
/// comes back at the next redraw).
pub fn clear() {
    with_state(State::clear);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    #[test]
    fn nothing_without_allow_and_nothing_for_a_short_run() {
        // Not allowed on this thread: `start` installs nothing.
        let g = start();
        STATE.with(|s| assert!(s.borrow().is_none()));
        drop(g);
        let sink = Shared::default();
        install(Box::new(sink.clone()));
        let g = Guard;
        phase("reading inputs");
        for i in 0..10_000 {
            step(i, 10_000);
        }
        drop(g);
        // Well under SHOW_AFTER: nothing drawn, nothing to clear.
        assert_eq!(sink.text(), "");
    }

    #[test]
    fn a_long_run_redraws_at_most_every_interval_and_clears() {
        let sink = Shared::default();
        install(Box::new(sink.clone()));
        let g = Guard;
        STATE.with(|s| {
            if let Some(st) = s.borrow_mut().as_mut() {
                st.start = st.start.checked_sub(SHOW_AFTER).unwrap();
            }
        });
        phase("reading inputs");
        for i in 0..100_000 {
            step(i, 100_000);
        }
        let drawn = sink.text().matches("rampart: reading inputs").count();
        // The phase draws once; the steps at most once per interval (the
        // loop runs far faster than that in any build).
        assert!((1..=20).contains(&drawn), "{drawn} redraws");
        clear();
        assert!(sink.text().ends_with("\r\x1b[2K"));
        let before = sink.text().len();
        clear();
        assert_eq!(sink.text().len(), before, "a second clear writes nothing");
        phase(&"x".repeat(500));
        drop(g);
        let text = sink.text();
        assert!(text.ends_with("\r\x1b[2K"), "cleared when the guard drops");
        assert!(text
            .split("\r\x1b[2K")
            .all(|l| l.chars().count() <= MAX_LINE_CHARS));
        // Gone: later calls do nothing.
        phase("after");
        assert_eq!(sink.text(), text);
    }
}

/// Stage timings for benchmarking: with `RAMPART_TIMINGS` set in the
/// environment, [`mark`] writes `[  123.4 ms] stage` on stderr (time since
/// the first mark of the process). Off otherwise, and a mark then costs one
/// cached flag read. Never on stdout, never in a report.
pub mod timings {
    use std::sync::OnceLock;
    use std::time::Instant;

    fn origin() -> Option<Instant> {
        static ON: OnceLock<Option<Instant>> = OnceLock::new();
        *ON.get_or_init(|| std::env::var_os("RAMPART_TIMINGS").map(|_| Instant::now()))
    }

    /// CPU time of the process so far (every thread, user and system), in
    /// milliseconds; `None` where it cannot be read.
    fn cpu_ms() -> Option<f64> {
        #[cfg(target_os = "linux")]
        {
            let mut ts = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: `ts` is a valid, writable timespec for the call.
            let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) } == 0;
            ok.then(|| ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6)
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// Marks the start of `stage`: the time since the first mark and, where
    /// it can be read, the CPU time of the process (all threads) so far.
    pub fn mark(stage: &str) {
        if let Some(t0) = origin() {
            let wall = t0.elapsed().as_secs_f64() * 1000.0;
            match cpu_ms() {
                Some(cpu) => eprintln!("[{wall:>8.1} ms | cpu {cpu:>8.1} ms] {stage}"),
                None => eprintln!("[{wall:>8.1} ms] {stage}"),
            }
        }
    }
}
