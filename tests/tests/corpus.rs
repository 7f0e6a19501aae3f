//! Every compose file of the real-world corpus checks or yields a located
//! error; none panics.

use rampart_tests::{json, rampart, shared};

#[test]
fn real_compose_corpus() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let dir = shared.join("corpus").join("real").join("compose");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut clean, mut errored, mut total_findings) = (0, 0, 0);
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (code, out, err) = rampart(&dir, &["check", "--format", "json", &name]);
        let v = json(&out);
        assert!(v["version"] == 1, "{name}: no report; stderr: {err}");
        let errors = v["errors"].as_array().unwrap();
        for e in errors {
            assert!(
                e["line"].as_u64().unwrap() >= 1,
                "{name}: unlocated error {e}"
            );
            assert_eq!(e["file"].as_str().unwrap(), name);
        }
        if errors.is_empty() {
            clean += 1;
            assert!(code == 0 || code == 1);
        } else {
            errored += 1;
            assert_eq!(code, 2);
        }
        total_findings += v["findings"].as_array().unwrap().len();
    }
    eprintln!(
        "{} files: {clean} checked, {errored} with located errors, {total_findings} findings",
        files.len()
    );
    assert!(files.len() > 300);
    assert!(
        clean as f64 > files.len() as f64 * 0.95,
        "too many errors: {errored}"
    );
}
