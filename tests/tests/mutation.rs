//! A mutation fuzzer over the real corpus (`../shared/corpus/real`) and the
//! standard library's policies: each case takes a real file, applies a few
//! random edits (deletions, duplications, truncation, hostile tokens such as
//! `${`, `include *;`, `<<EOF`, YAML anchors, stray braces, invalid UTF-8)
//! and runs it through its front end, the cross-file linker and the whole
//! standard library, or through the policy compiler. The property: no panic,
//! no abort, every error names its file.
//!
//! CI runs a short smoke (the default case count); a long run is
//! `RAMPART_FUZZ_CASES=20000 cargo test --release -p rampart-tests --test integration mutation::`.
//! A failing case is written by proptest to `proptest-regressions/` beside
//! this file; keep it (committed) and add a named regression test.

use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use rampart::policy::compile::{compile, CompileOptions, Compiled, CompiledPolicy};
use rampart::policy::sources::stdlib_sources;
use rampart::session::evaluate;
use rampart_runtime::project::{Kind, Project};
use rampart_tests::shared_or_skip;

/// Cases per property unless `RAMPART_FUZZ_CASES` says otherwise.
const SMOKE_CASES: u32 = 48;

fn cases() -> u32 {
    std::env::var("RAMPART_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SMOKE_CASES)
}

const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"${",
    b"${A:-",
    b"${A:?",
    b"$$",
    b"\"",
    b"'",
    b"''",
    b"\\\n",
    b"\\",
    b"\n",
    b"\r\n",
    b"\t",
    b"include *;\n",
    b"include */*;\n",
    b"import *\n",
    b"import ",
    b"(snip) {\n",
    b"<<EOF\n",
    b"EOF\n",
    b"&a ",
    b"*a ",
    b"<<: *a\n",
    b"- ",
    b": ",
    b"[",
    b"]",
    b"FROM ",
    b"FROM scratch AS a\n",
    b"ARG A=${A}\n",
    b"RUN ",
    b"ONBUILD ",
    b"# escape=`\n",
    b"\xff",
    b"\xc3",
    b"\x00",
    b"server {\n",
    b"location / {\n",
    b"http {\n",
    b"events {}\n",
    b"add_header X 1;\n",
    b"proxy_pass http://u:p@h;\n",
    b"PASSWORD=",
    b"API_TOKEN: ",
    b"services:\n",
    b"  a:\n",
    b"    image: ",
    b"    ports: [\"${P:-80}:80\"]\n",
    b"---\n",
    b"!!binary ",
    b"? ",
    b"|\n",
    b">-\n",
    b"0x",
    b"1e999",
    b"-9223372036854775809",
];

#[derive(Clone, Debug)]
enum Edit {
    Delete { at: u32, len: u16 },
    Duplicate { at: u32, len: u16, to: u32 },
    Insert { at: u32, token: usize },
    Flip { at: u32, byte: u8 },
    Truncate { at: u32 },
    Repeat { at: u32, len: u8, times: u8 },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<u32>(), any::<u16>()).prop_map(|(at, len)| Edit::Delete { at, len: len % 64 }),
        (any::<u32>(), any::<u16>(), any::<u32>()).prop_map(|(at, len, to)| Edit::Duplicate {
            at,
            len: len % 512,
            to
        }),
        (any::<u32>(), 0..TOKENS.len()).prop_map(|(at, token)| Edit::Insert { at, token }),
        (any::<u32>(), any::<u8>()).prop_map(|(at, byte)| Edit::Flip { at, byte }),
        any::<u32>().prop_map(|at| Edit::Truncate { at }),
        (any::<u32>(), any::<u8>(), any::<u8>()).prop_map(|(at, len, times)| Edit::Repeat {
            at,
            len: len % 32 + 1,
            times: times % 64
        }),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let n = bytes.len().max(1);
        let pos = |at: u32| at as usize % (n + 1);
        match *e {
            Edit::Delete { at, len } => {
                let a = pos(at).min(bytes.len());
                let b = (a + len as usize).min(bytes.len());
                bytes.drain(a..b);
            }
            Edit::Duplicate { at, len, to } => {
                let a = pos(at).min(bytes.len());
                let b = (a + len as usize).min(bytes.len());
                let chunk = bytes[a..b].to_vec();
                let t = pos(to).min(bytes.len());
                bytes.splice(t..t, chunk);
            }
            Edit::Insert { at, token } => {
                let t = pos(at).min(bytes.len());
                bytes.splice(t..t, TOKENS[token % TOKENS.len()].iter().copied());
            }
            Edit::Flip { at, byte } => {
                if !bytes.is_empty() {
                    let i = pos(at) % bytes.len();
                    bytes[i] = byte;
                }
            }
            Edit::Truncate { at } => {
                let t = pos(at).min(bytes.len());
                bytes.truncate(t);
            }
            Edit::Repeat { at, len, times } => {
                let a = pos(at).min(bytes.len());
                let b = (a + len as usize).min(bytes.len());
                let chunk = bytes[a..b].to_vec();
                for _ in 0..times {
                    bytes.splice(b..b, chunk.iter().copied());
                }
            }
        }
    }
    bytes
}

/// Every corpus file with its kind, sorted (empty without `../shared`: the
/// skip line is printed once, naming both tests that use the seeds).
fn seeds() -> &'static [(PathBuf, Kind)] {
    static SEEDS: OnceLock<Vec<(PathBuf, Kind)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let Some(shared) = shared_or_skip("mutated_inputs_never_crash, mutated_trees_never_crash")
        else {
            return Vec::new();
        };
        rampart_tests::real_corpus(&shared)
            .into_iter()
            .flat_map(|(_, kind, files)| files.into_iter().map(move |f| (f, kind)))
            .collect()
    })
}

fn stdlib() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| compile(stdlib_sources(), &CompileOptions::default()))
}

fn check_one(kind: Kind, bytes: Vec<u8>) {
    let compiled = stdlib();
    let policies: Vec<&CompiledPolicy> = compiled.policies.iter().collect();
    let mut project = Project::default();
    project.add_file(kind.default_file_name(), bytes, kind);
    project.link();
    let outcome = evaluate(&project, &policies, compiled);
    for e in &outcome.errors {
        assert!(!e.file.is_empty(), "an error without a file: {}", e.message);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// A mutated real input is checked or yields located errors; never a panic.
    #[test]
    fn mutated_inputs_never_crash(pick in any::<usize>(), edits in prop::collection::vec(edit(), 1..8)) {
        let seeds = seeds();
        if seeds.is_empty() {
            return Ok(());
        }
        let (path, kind) = &seeds[pick % seeds.len()];
        let bytes = apply(std::fs::read(path).unwrap_or_default(), &edits);
        check_one(*kind, bytes);
    }

    /// A small tree of mutated files of every kind (with cross-file links:
    /// compose `build:` and `env_file:`, nginx includes, Caddy imports) through
    /// the whole CLI: exit 0, 1 or 2 with a JSON report, never a panic.
    #[test]
    fn mutated_trees_never_crash(picks in prop::collection::vec(any::<usize>(), 5), edits in prop::collection::vec(edit(), 1..6), victim in 0usize..6) {
        let seeds = seeds();
        if seeds.is_empty() {
            return Ok(());
        }
        let dir = tempfile::tempdir().unwrap();
        let by_kind = |k: Kind, pick: usize| {
            let of: Vec<&(PathBuf, Kind)> = seeds.iter().filter(|(_, kind)| *kind == k).collect();
            std::fs::read(&of[pick % of.len()].0).unwrap_or_default()
        };
        let link = b"services:\n  app:\n    build: {context: ., dockerfile: Dockerfile}\n    env_file: [.env]\n    image: app:1\n".to_vec();
        let mut files = vec![
            ("docker-compose.yml", by_kind(Kind::COMPOSE, picks[0])),
            ("Dockerfile", by_kind(Kind::DOCKERFILE, picks[1])),
            (".env", by_kind(Kind::DOTENV, picks[2])),
            ("nginx/nginx.conf", by_kind(Kind::NGINX, picks[3])),
            ("Caddyfile", by_kind(Kind::CADDY, picks[4])),
            ("app/docker-compose.yml", link),
        ];
        files[victim].1 = apply(std::mem::take(&mut files[victim].1), &edits);
        for (rel, bytes) in &files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        let (code, out, err) = rampart_tests::rampart(dir.path(), &["check", "--format", "json"]);
        prop_assert!((0..=2).contains(&code), "exit {code}: {err}");
        prop_assert_eq!(&rampart_tests::json(&out)["version"], 1, "no report: {}", err);
    }

    /// A mutated stdlib policy compiles or yields diagnostics; never a panic.
    #[test]
    fn mutated_policies_never_crash(pick in any::<usize>(), edits in prop::collection::vec(edit(), 1..6)) {
        let files = rampart_stdlib::FILES;
        let (path, text) = files[pick % files.len()];
        let bytes = apply(text.as_bytes().to_vec(), &edits);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let source = rampart::policy::compile::PolicySource { path: path.to_string(), text, stdlib: false };
        // On a thread with the binary's main-thread stack (8 MiB, the OS
        // default), not the 2 MiB of a test thread: recursion bounded by the
        // nesting limits (E0001, E0308) still needs more than 2 MiB in a
        // debug build.
        let compiled = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || {
                let _ = compile(vec![source], &CompileOptions::default());
            })
            .unwrap()
            .join();
        prop_assert!(compiled.is_ok(), "the compiler panicked");
    }
}
