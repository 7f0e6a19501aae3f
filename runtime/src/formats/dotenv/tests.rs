#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use proptest::prelude::*;

use super::*;
use crate::model::{Level, Value};
use crate::schema::Type;
use crate::test_support::{corpus, walk};

const F: FileId = FileId(3);

fn check_spans(n: &Node, src: &str, path: &str) {
    let s = n.span;
    assert_eq!(s.file, F, "{path}: file");
    assert!(
        s.start() <= s.end() && s.end() <= src.len(),
        "{path}: span {s:?} out of {}",
        src.len()
    );
    assert!(
        src.is_char_boundary(s.start()) && src.is_char_boundary(s.end()),
        "{path}: {s:?} not on char boundary"
    );
    match &n.value {
        Value::List(items) => {
            for (i, it) in items.iter().enumerate() {
                check_spans(it, src, &format!("{path}[{i}]"));
            }
        }
        Value::Object(fields) => {
            for (k, v) in fields {
                check_spans(v, src, &format!("{path}.{k}"));
            }
        }
        _ => {}
    }
}

fn validate(n: &Node) {
    let s = Schema::standard();
    let mut errors = Vec::new();
    s.validate(n, &Type::Object("DotenvFile".into()), "dotenv", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
}

fn entries(src: &str) -> (Vec<Node>, Vec<InputProblem>) {
    let (n, p) = parse(F, src, false);
    check_spans(&n, src, "");
    validate(&n);
    (n.get("entries").unwrap().as_list().unwrap().to_vec(), p)
}

fn field<'a>(e: &'a Node, k: &str) -> &'a Node {
    e.get(k).unwrap_or_else(|| panic!("no {k}"))
}

fn nv(e: &Node) -> (&str, &str) {
    (
        field(e, "name").as_str().unwrap(),
        field(e, "value").as_str().unwrap(),
    )
}

fn text(src: &str, s: Span) -> &str {
    &src[s.start()..s.end()]
}

#[test]
fn basic_forms() {
    let src = "# comment\n\nA=1\nexport B = two words  \nC=x #inline\nD=a#b\nE=\nF: yaml\n  G=indented\nexport H\nI= #notcomment\n";
    let (e, p) = entries(src);
    assert!(p.is_empty(), "{p:?}");
    let got: Vec<_> = e.iter().map(nv).collect();
    assert_eq!(
        got,
        vec![
            ("A", "1"),
            ("B", "two words"),
            ("C", "x"),
            ("D", "a#b"),
            ("E", ""),
            ("F", "yaml"),
            ("G", "indented"),
            ("H", ""),
            ("I", "#notcomment"),
        ]
    );
    assert_eq!(field(&e[1], "export").as_bool(), Some(true));
    assert_eq!(text(src, field(&e[1], "value").span), "two words");
    assert_eq!(text(src, field(&e[1], "name").span), "B");
    assert_eq!(field(&e[1], "line").as_int(), Some(4));
    assert_eq!(field(&e[7], "inherited").as_bool(), Some(true));
    assert_eq!(field(&e[7], "export").as_bool(), Some(true));
    assert_eq!(text(src, e[2].span), "C=x");
}

#[test]
fn quotes_and_escapes() {
    let src = "A='lit \\n $X'\nB=\"a\\nb \\\"q\\\" \\\\ \\$Y ${Z:-d}\"\nC=\"multi\nline\" # c\nD='it\\'s'\nE=\"tab\\t\"\n";
    let (e, p) = entries(src);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(nv(&e[0]).1, "lit \\n $X");
    assert_eq!(field(&e[0], "quoted").as_bool(), Some(true));
    assert!(field(&e[0], "refs").as_list().unwrap().is_empty());
    assert_eq!(nv(&e[1]).1, "a\nb \"q\" \\ $Y ${Z:-d}");
    let refs: Vec<_> = field(&e[1], "refs")
        .as_list()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(refs, vec!["Z"]);
    assert_eq!(nv(&e[2]).1, "multi\nline");
    assert_eq!(text(src, field(&e[2], "value").span), "multi\nline");
    assert_eq!(field(&e[3], "line").as_int(), Some(5));
    assert_eq!(nv(&e[3]).1, "it's");
    assert_eq!(nv(&e[4]).1, "tabt");
}

#[test]
fn unquoted_refs() {
    let (e, _) = entries("URL=postgres://${USER}:$PASS@db/$$x\n");
    let refs: Vec<_> = field(&e[0], "refs")
        .as_list()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(refs, vec!["USER", "PASS"]);
    assert_eq!(nv(&e[0]).1, "postgres://${USER}:$PASS@db/$$x");
}

#[test]
fn malformed_lines_are_located_and_skipped() {
    let src = "A=1\nB C D=x\n=nokey\nbad!key=1\nQ=\"open\nR=2\nS='x' trailing\nT=3";
    let (e, p) = entries(src);
    let names: Vec<_> = e.iter().map(|x| nv(x).0).collect();
    assert_eq!(names, vec!["A", "B C D", "Q", "R", "S", "T"]);
    assert_eq!(p.len(), 5, "{p:?}");
    assert_eq!((p[0].code, text(src, p[0].span)), ("dotenv-key", "B C D"));
    assert_eq!((p[1].code, text(src, p[1].span)), ("dotenv-syntax", "="));
    assert_eq!((p[2].code, text(src, p[2].span)), ("dotenv-syntax", "!"));
    assert_eq!((p[3].code, text(src, p[3].span)), ("dotenv-syntax", "\""));
    assert_eq!(
        (p[4].code, text(src, p[4].span)),
        ("dotenv-trailing-text", "trailing")
    );
    assert_eq!(nv(&e[2]).1, "open");
    assert_eq!(nv(&e[5]).1, "3");
}

#[test]
fn seed_env_files() {
    let src = "REDIS_PASSWORD=\nGRAFANA_PASSWORD=admin123_CHANGE_ME\nPOSTGRES_PASSWORD=cdb_secure_password_CHANGE_ME\n";
    let (e, p) = entries(src);
    assert!(p.is_empty());
    assert_eq!(nv(&e[1]), ("GRAFANA_PASSWORD", "admin123_CHANGE_ME"));
    assert_eq!(text(src, field(&e[1], "value").span), "admin123_CHANGE_ME");
    let ex = "# Redis\nREDIS_HOST=redis\nREDIS_PASSWORD=\n\n# Datenbank\nPOSTGRES_USER=cdb_user\nPOSTGRES_PASSWORD=\n";
    let (n, p) = parse(F, ex, is_example_name("backoffice/.env.example"));
    assert!(p.is_empty());
    assert_eq!(n.get("is_example").and_then(Node::as_bool), Some(true));
    assert_eq!(n.get("entries").unwrap().as_list().unwrap().len(), 4);
}

#[test]
fn crlf_and_bom() {
    let src = "\u{feff}A=1\r\nB=\"x\"\r\nC='y' # c\r\n";
    let (e, p) = entries(src);
    assert!(p.is_empty(), "{p:?}");
    let got: Vec<_> = e.iter().map(nv).collect();
    assert_eq!(got, vec![("A", "1"), ("B", "x"), ("C", "y")]);
}

#[test]
fn names() {
    for yes in [
        ".env",
        ".env.local",
        ".env.example",
        "db.env",
        "settings.env",
        "a/b/.healthcheck.env",
        "example.env",
    ] {
        assert!(is_env_file_name(yes), "{yes}");
    }
    for no in [".envrc", "env", "environment.yml", "Dockerfile", ".env/"] {
        assert!(!is_env_file_name(no), "{no}");
    }
    for yes in [
        ".env.example",
        ".env.sample",
        ".env.template",
        ".env.dist",
        "example.env",
        "prod.env.example",
        ".env.local.sample",
        "ENV.EXAMPLE",
        "x/.env.tmpl",
    ] {
        assert!(is_example_name(yes), "{yes}");
    }
    for no in [
        ".env",
        ".env.production",
        "db.env",
        ".env.forall",
        ".env.development",
        "examples_dir/.env",
    ] {
        assert!(!is_example_name(no), "{no}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn never_panics_and_spans_are_valid(src in "(export |[A-Z_]{1,3}|=|:|'|\"|\\\\|#| |\t|\r|\n|\\$|\\{|\\}|é|x){0,60}") {
        let (n, _) = parse(F, &src, false);
        check_spans(&n, &src, "");
        validate(&n);
    }

    #[test]
    fn never_panics_on_any_text(src in "\\PC{0,200}") {
        let (n, _) = parse(F, &src, true);
        check_spans(&n, &src, "");
    }
}

#[test]
fn corpus_env_files_parse() {
    let Some(root) = corpus("dotenv::corpus_env_files_parse") else {
        return;
    };
    let mut files = Vec::new();
    walk(&root.join("real/dotenv"), &mut files);
    let mut repos = Vec::new();
    walk(&root.join("repos"), &mut repos);
    files.extend(repos.into_iter().filter(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_env_file_name)
    }));
    let (mut clean, mut with_errors, mut with_warnings, mut entries, mut examples) =
        (0, 0, 0, 0, 0);
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let src = String::from_utf8_lossy(&bytes);
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // real/ flattens paths with `__`: judge the last component.
        let name = name.rsplit("__").next().unwrap_or(name);
        let example = is_example_name(name);
        examples += usize::from(example);
        let (n, p) = parse(F, &src, example);
        check_spans(&n, &src, &f.display().to_string());
        validate(&n);
        entries += n
            .get("entries")
            .and_then(Node::as_list)
            .map_or(0, <[Node]>::len);
        if p.iter().any(|x| x.level == Level::Error) {
            with_errors += 1;
        } else if p.is_empty() {
            clean += 1;
        } else {
            with_warnings += 1;
        }
        for x in &p {
            let line = src[..x.span.start()].matches('\n').count() + 1;
            eprintln!(
                "{}:{line}: {:?} {} {}",
                f.display(),
                x.level,
                x.code,
                x.message
            );
        }
    }
    eprintln!(
        "dotenv corpus: {} files ({examples} examples), {clean} clean, {with_warnings} with warnings only, {with_errors} with errors, {entries} entries",
        files.len()
    );
    assert!(files.len() >= 53);
}

#[test]
fn entry_budget_is_a_located_error() {
    let src: String = (0..MAX_ENTRIES + 20).map(|i| format!("K{i}=v\n")).collect();
    let (n, p) = parse(F, &src, false);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].code, "dotenv-too-many-entries");
    assert_eq!(
        &src[p[0].span.start()..p[0].span.end()],
        format!("K{MAX_ENTRIES}=v")
    );
    assert_eq!(
        n.get("entries").and_then(Node::as_list).map(<[Node]>::len),
        Some(MAX_ENTRIES)
    );
}
