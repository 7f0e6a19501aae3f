//! The precision harness's label file (`tests/corpus/precision/labels.tsv`)
//! stays usable: every row parses, names a stdlib policy and an existing file
//! and line, and no finding location is labelled twice. Precision itself is
//! measured by `bench/precision.sh`, like a benchmark, not asserted here.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rampart_tests::{rampart, shared};

const LABELS: [&str; 3] = ["true", "false", "debatable"];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/precision")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn policy_ids() -> HashSet<String> {
    let (code, out, err) = rampart(&repo_root(), &["list"]);
    assert_eq!(code, 0, "rampart list failed: {err}");
    out.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn label_rows_parse_and_point_at_existing_lines() {
    let text = std::fs::read_to_string(corpus().join("labels.tsv")).expect("labels.tsv");
    let policies = policy_ids();
    let shared = shared();
    let mut seen = HashSet::new();
    let mut line_counts = std::collections::HashMap::new();
    let mut rows = 0;
    for (n, line) in text.lines().enumerate() {
        let at = format!("labels.tsv:{}", n + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        rows += 1;
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 7, "{at}: expected 7 tab-separated columns");
        let (policy, file, row, col, label) = (cols[0], cols[1], cols[2], cols[3], cols[4]);
        assert!(policies.contains(policy), "{at}: unknown policy {policy}");
        assert!(LABELS.contains(&label), "{at}: label {label:?}");
        let row: usize = row.parse().unwrap_or_else(|_| panic!("{at}: line {row:?}"));
        let col: usize = col
            .parse()
            .unwrap_or_else(|_| panic!("{at}: column {col:?}"));
        assert!(row >= 1 && col >= 1, "{at}: lines and columns are 1-based");
        assert!(
            seen.insert((policy, file, row, col)),
            "{at}: this finding location is labelled twice"
        );
        let path = match file.strip_prefix("shared/") {
            Some(rest) => match &shared {
                Some(dir) => dir.join(rest),
                None => continue,
            },
            None => {
                assert!(
                    file.starts_with("tests/corpus/precision/"),
                    "{at}: {file} is neither under shared/ nor tests/corpus/precision/"
                );
                repo_root().join(file)
            }
        };
        let count = *line_counts.entry(path.clone()).or_insert_with(|| {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{at}: {} cannot be read: {e}", path.display()));
            String::from_utf8_lossy(&bytes).lines().count()
        });
        assert!(row <= count, "{at}: {file} has only {count} lines");
    }
    assert!(rows > 0, "labels.tsv has no label rows");
}

#[test]
fn every_gathered_repository_has_provenance() {
    for entry in std::fs::read_dir(corpus()).expect("corpus/precision") {
        let dir = entry.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let prov = std::fs::read_to_string(dir.join("PROVENANCE"))
            .unwrap_or_else(|_| panic!("{} has no PROVENANCE", dir.display()));
        let fields: Vec<&str> = prov.split_whitespace().collect();
        assert!(
            fields.len() >= 2
                && fields[0].starts_with("https://github.com/")
                && fields[1].len() == 40
                && fields[1].bytes().all(|b| b.is_ascii_hexdigit()),
            "{}: PROVENANCE must start with the repository URL and the commit",
            dir.display()
        );
    }
}
