#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests fail loudly"
)]

use proptest::prelude::*;

use super::*;
use crate::model::{Level, Span, Value};
use crate::schema::Type;
use crate::test_support::{corpus, walk};

const F: FileId = FileId(7);

/// Every span lies within `src`, on char boundaries, in file `F`.
pub(crate) fn check_spans(n: &Node, src: &str, path: &str) {
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
    match n.value() {
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
    s.validate(
        n,
        &Type::Object("Dockerfile".into()),
        "dockerfile",
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:#?}");
}

fn parse_ok(src: &str) -> Node {
    let (n, p) = parse(F, src);
    assert!(p.is_empty(), "unexpected problems: {p:#?}");
    check_spans(&n, src, "");
    validate(&n);
    n
}

fn text(src: &str, span: Span) -> &str {
    &src[span.start()..span.end()]
}

fn s<'a>(n: &'a Node, path: &str) -> &'a Node {
    let mut cur = n;
    for part in path.split('.') {
        cur = match part.parse::<usize>() {
            Ok(i) => &cur
                .as_list()
                .unwrap_or_else(|| panic!("{part} of {path}: not a list"))[i],
            Err(_) => cur
                .get(part)
                .unwrap_or_else(|| panic!("no {part} in {path}")),
        };
    }
    cur
}

fn strs(n: &Node) -> Vec<&str> {
    n.as_list()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

const SEED_BEFORE: &str = r#"FROM python:3.11-slim

WORKDIR /app

# Copy all files
COPY . /app

# Install dependencies
RUN pip install --no-cache-dir -r requirements.txt

# Expose port
EXPOSE 8003

# Start service
CMD ["python", "-u", "service.py"]
"#;

const SEED_AFTER: &str = r#"FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app

# System-Abhängigkeiten (für Healthcheck & Psycopg2)
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        curl \
        build-essential \
        libpq-dev \
    && rm -rf /var/lib/apt/lists/*

# Python Requirements
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# Service-Code kopieren
COPY . /app

# Non-Root User
RUN useradd --create-home --uid 1000 execuser \
    && chown -R execuser:execuser /app
USER execuser

# Exposed Port
EXPOSE 8003

# Start Kommando
CMD ["python", "-u", "service.py"]
"#;

#[test]
fn seed_before_runs_as_root_and_copies_context() {
    let n = parse_ok(SEED_BEFORE);
    let fin = s(&n, "final_stage");
    assert!(fin.get("user").is_none());
    assert!(fin.get("effective_user").is_none());
    assert_eq!(s(fin, "copies.0.sources.0").as_str(), Some("."));
    assert_eq!(s(fin, "copies.0.dest").as_str(), Some("/app"));
    assert_eq!(s(fin, "from.tag").as_str(), Some("3.11-slim"));
    assert_eq!(s(fin, "exposes.0.port").as_int(), Some(8003));
    assert_eq!(s(fin, "cmd.exec_form").as_bool(), Some(true));
    assert!(fin.get("healthcheck").is_none());
    let copy = s(fin, "copies.0");
    assert_eq!(text(SEED_BEFORE, copy.span), "COPY . /app");
    assert_eq!(s(copy, "line").as_int(), Some(6));
}

#[test]
fn seed_after_runs_as_execuser_with_build_tools() {
    let n = parse_ok(SEED_AFTER);
    let fin = s(&n, "final_stage");
    assert_eq!(s(fin, "user.name").as_str(), Some("execuser"));
    assert_eq!(s(fin, "user.is_root").as_bool(), Some(false));
    assert_eq!(text(SEED_AFTER, s(fin, "user.name").span), "execuser");
    assert_eq!(s(fin, "env.1.name").as_str(), Some("PYTHONUNBUFFERED"));
    let apt = s(fin, "runs.0.commands.1");
    assert_eq!(s(apt, "program").as_str(), Some("apt-get"));
    assert_eq!(
        strs(s(apt, "args")),
        vec![
            "install",
            "-y",
            "--no-install-recommends",
            "curl",
            "build-essential",
            "libpq-dev"
        ]
    );
    assert_eq!(strs(s(apt, "flags")), vec!["-y", "--no-install-recommends"]);
    assert_eq!(text(SEED_AFTER, s(apt, "args.4").span), "build-essential");
    let rm = s(fin, "runs.0.commands.2");
    assert_eq!(strs(s(rm, "args")), vec!["-rf", "/var/lib/apt/lists/*"]);
    assert!(s(fin, "copies")
        .as_list()
        .unwrap()
        .iter()
        .any(|c| { strs(s(c, "sources")) == vec!["."] && s(c, "dest").as_str() == Some("/app") }));
    let first_run = s(fin, "runs.0");
    assert!(text(SEED_AFTER, first_run.span).starts_with("RUN apt-get update \\\n"));
    assert!(text(SEED_AFTER, first_run.span).ends_with("/var/lib/apt/lists/*"));
    assert_eq!(s(&n, "instructions").as_list().unwrap().len(), 11);
}

#[test]
fn multi_stage_users_and_aliases() {
    let src = "ARG BASE=golang\nARG TAG=1.22\nFROM ${BASE}:${TAG} AS Build\nUSER builder\nRUN go build\n\
               FROM build AS test\nFROM gcr.io/distroless/static:nonroot@sha256:abc\nCOPY --from=build --chown=1:1 /out /app\nUSER 0:0\n\
               FROM scratch\nUSER root\nUSER 1000\n";
    let n = parse_ok(src);
    let st = s(&n, "stages");
    assert_eq!(st.as_list().unwrap().len(), 4);
    let b = s(st, "0.from");
    assert_eq!(s(b, "image").as_str(), Some("golang:1.22"));
    assert_eq!(s(b, "raw").as_str(), Some("${BASE}:${TAG}"));
    assert_eq!(s(b, "tag").as_str(), Some("1.22"));
    assert_eq!(text(src, b.span), "${BASE}:${TAG}");
    assert_eq!(s(st, "1.from_stage").as_str(), Some("build"));
    assert!(s(st, "1").get("user").is_none());
    assert_eq!(s(st, "1.effective_user.name").as_str(), Some("builder"));
    let d = s(st, "2.from");
    assert_eq!(s(d, "registry").as_str(), Some("gcr.io"));
    assert_eq!(s(d, "repository").as_str(), Some("distroless/static"));
    assert_eq!(s(d, "name").as_str(), Some("static"));
    assert_eq!(text(src, s(d, "tag").span), "nonroot");
    assert_eq!(text(src, s(d, "digest").span), "sha256:abc");
    assert_eq!(s(st, "2.copies.0.from").as_str(), Some("build"));
    assert_eq!(s(st, "2.copies.0.chown").as_str(), Some("1:1"));
    assert_eq!(s(st, "2.user.is_root").as_bool(), Some(true));
    assert_eq!(s(st, "2.user.group").as_str(), Some("0"));
    assert_eq!(s(st, "3.is_scratch").as_bool(), Some(true));
    assert_eq!(s(st, "3.users").as_list().unwrap().len(), 2);
    assert_eq!(s(&n, "final_stage.user.name").as_str(), Some("1000"));
    assert_eq!(s(&n, "final_stage"), s(st, "3"));
    assert_eq!(s(&n, "args_global.1.value").as_str(), Some("1.22"));
    assert_eq!(s(&n, "instructions.2.name").as_str(), Some("FROM"));
    assert_eq!(s(&n, "instructions.2.stage").as_int(), Some(0));
    assert!(s(&n, "instructions.0").get("stage").is_none());
}

#[test]
fn user_from_stage_args_and_env() {
    let src = "FROM alpine\nARG UID=1001\nENV APP_USER=app\nUSER ${APP_USER}:$UID\nFROM alpine\nARG NB_USER\nUSER $NB_USER\n";
    let n = parse_ok(src);
    assert_eq!(s(&n, "stages.0.user.name").as_str(), Some("app"));
    assert_eq!(s(&n, "stages.0.user.group").as_str(), Some("1001"));
    assert_eq!(
        s(&n, "stages.0.user.raw").as_str(),
        Some("${APP_USER}:$UID")
    );
    assert_eq!(s(&n, "stages.1.user.resolved").as_bool(), Some(false));
    assert_eq!(s(&n, "stages.1.user.is_root").as_bool(), Some(false));
}

#[test]
fn library_prefix_and_hub() {
    let n = parse_ok("FROM docker.io/library/python:3\nFROM library/redis\nFROM myreg.io/library/x\nFROM nginx@sha256:00\n");
    assert_eq!(s(&n, "stages.0.from.repository").as_str(), Some("python"));
    assert_eq!(s(&n, "stages.1.from.repository").as_str(), Some("redis"));
    assert_eq!(
        s(&n, "stages.2.from.repository").as_str(),
        Some("library/x")
    );
    assert!(s(&n, "stages.3.from").get("tag").is_none());
    assert_eq!(s(&n, "stages.3.from.digest").as_str(), Some("sha256:00"));
}

#[test]
fn curl_pipe_shell_and_sudo() {
    let src = "FROM debian\nRUN curl -fsSL https://x.io/i.sh | sudo -E bash - && DEBIAN_FRONTEND=noninteractive sudo -u root apt-get install -y x\n";
    let n = parse_ok(src);
    let c = s(&n, "final_stage.runs.0.commands");
    assert_eq!(s(c, "0.program").as_str(), Some("curl"));
    assert_eq!(s(c, "0.piped_to").as_str(), Some("bash"));
    assert_eq!(s(c, "1.program").as_str(), Some("bash"));
    assert_eq!(s(c, "1.sudo").as_bool(), Some(true));
    assert_eq!(s(c, "2.program").as_str(), Some("apt-get"));
    assert_eq!(s(c, "2.sudo").as_bool(), Some(true));
    assert_eq!(strs(s(c, "2.env")), vec!["DEBIAN_FRONTEND=noninteractive"]);
    assert_eq!(text(src, s(c, "2.program").span), "apt-get");
    assert_eq!(text(src, s(c, "0").span), "curl -fsSL https://x.io/i.sh");
}

#[test]
fn heredoc_runs_and_copy() {
    let src = "FROM alpine\nRUN --mount=type=cache,target=/var/cache/apk <<EOF\napk add git\nwget -qO- https://x | sh\nEOF\n\
               RUN python3 <<EOF\nimport os; os.system('x')\nEOF\n\
               RUN <<-SCRIPT bash\n\tset -e\n\tapt-get install -y gcc\n\tSCRIPT\n\
               RUN cat <<A >/a && cat <<B >/b\nx\nA\ny\nB\n\
               COPY <<EOF /etc/x.conf\nhello\nEOF\nCMD x\n";
    let n = parse_ok(src);
    let runs = s(&n, "final_stage.runs");
    assert_eq!(
        strs(s(runs, "0.mounts")),
        vec!["type=cache,target=/var/cache/apk"]
    );
    assert_eq!(
        strs(s(runs, "0.heredocs")),
        vec!["apk add git\nwget -qO- https://x | sh\n"]
    );
    let c0 = s(runs, "0.commands");
    assert_eq!(s(c0, "0.program").as_str(), Some("apk"));
    assert_eq!(s(c0, "1.piped_to").as_str(), Some("sh"));
    assert_eq!(text(src, s(c0, "0").span), "apk add git");
    let c1 = s(runs, "1.commands").as_list().unwrap();
    assert_eq!(c1.len(), 1, "python body is not shell");
    let c2 = s(runs, "2.commands");
    assert_eq!(s(c2, "0.program").as_str(), Some("bash"));
    assert_eq!(s(c2, "2.program").as_str(), Some("apt-get"));
    assert_eq!(text(src, s(c2, "2.args.2").span), "gcc");
    assert_eq!(s(runs, "3.commands").as_list().unwrap().len(), 2);
    assert_eq!(strs(s(runs, "3.heredocs")), vec!["x\n", "y\n"]);
    assert_eq!(strs(s(&n, "final_stage.copies.0.sources")), vec!["<<EOF"]);
    assert_eq!(
        strs(s(&n, "final_stage.copies.0.heredocs")),
        vec!["hello\n"]
    );
    assert_eq!(s(&n, "final_stage.cmd.args.0").as_str(), Some("x"));
}

#[test]
fn exec_form_and_fallback() {
    let src = "FROM a\nRUN [\"apt-get\", \"install\", \"-y\", \"x\"]\nRUN [\"/bin/sh\", \"-c\", \"a && b | c\"]\n\
               RUN [ 'bad json' ]\nCMD [\"a\", ]\nENTRYPOINT [\"/entry.sh\"]\n";
    let n = parse_ok(src);
    let runs = s(&n, "final_stage.runs");
    assert_eq!(s(runs, "0.exec_form").as_bool(), Some(true));
    assert_eq!(s(runs, "0.commands.0.program").as_str(), Some("apt-get"));
    assert_eq!(
        text(src, s(runs, "0.commands.0.program").span),
        "\"apt-get\""
    );
    assert_eq!(s(runs, "1.commands").as_list().unwrap().len(), 3);
    assert_eq!(s(runs, "1.commands.1.piped_to").as_str(), Some("c"));
    assert_eq!(text(src, s(runs, "1.commands.2").span), "c");
    assert_eq!(s(runs, "2.exec_form").as_bool(), Some(false));
    assert_eq!(s(runs, "2.commands.0.program").as_str(), Some("["));
    assert_eq!(s(&n, "final_stage.cmd.exec_form").as_bool(), Some(false));
    assert_eq!(
        s(&n, "final_stage.entrypoint.exec_form").as_bool(),
        Some(true)
    );
}

#[test]
fn env_arg_expose_healthcheck() {
    let src = "FROM a\nENV A=1 B=\"two words\" C='$x'\nENV LEGACY some value\nARG SECRET_KEY=abc D\n\
               EXPOSE 80 443/tcp 53/UDP 8000-8010 $NOPE\nHEALTHCHECK --interval=5s CMD curl -f http://x || exit 1\n\
               WORKDIR /srv\n";
    let (n, p) = parse(F, src);
    assert!(p.is_empty(), "{p:?}");
    validate(&n);
    let st = s(&n, "final_stage");
    assert_eq!(s(st, "env.1.value").as_str(), Some("two words"));
    assert_eq!(text(src, s(st, "env.1.value").span), "\"two words\"");
    assert_eq!(text(src, s(st, "env.1").span), "B=\"two words\"");
    assert_eq!(s(st, "env.2.value").as_str(), Some("$x"));
    assert_eq!(s(st, "env.3.name").as_str(), Some("LEGACY"));
    assert_eq!(s(st, "env.3.value").as_str(), Some("some value"));
    assert_eq!(s(st, "args.0.value").as_str(), Some("abc"));
    assert_eq!(s(st, "args.0.literal").as_bool(), Some(true));
    assert_eq!(s(st, "args.1.literal").as_bool(), Some(false));
    assert_eq!(s(st, "env.2.literal").as_bool(), Some(false));
    assert_eq!(s(st, "env.0.literal").as_bool(), Some(true));
    assert!(s(st, "args.1").get("value").is_none());
    let e = s(st, "exposes").as_list().unwrap();
    assert_eq!(e.len(), 5);
    assert_eq!(s(st, "exposes.2.protocol").as_str(), Some("udp"));
    assert_eq!(s(st, "exposes.3.end_port").as_int(), Some(8010));
    assert!(s(st, "exposes.4").get("port").is_none());
    assert_eq!(s(st, "healthcheck.none").as_bool(), Some(false));
    assert_eq!(s(st, "healthcheck.command.args.0").as_str(), Some("curl"));
    assert_eq!(strs(s(st, "healthcheck.flags")), vec!["--interval=5s"]);
    assert_eq!(s(st, "workdir").as_str(), Some("/srv"));
    let n = parse_ok("FROM a\nHEALTHCHECK NONE\n");
    assert_eq!(s(&n, "final_stage.healthcheck.none").as_bool(), Some(true));
}

#[test]
fn windows_backtick_escape() {
    let src = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\n\
               SHELL [\"powershell\", \"-Command\"]\nRUN Write-Host 'a'; `\n    Remove-Item C:\\x -Force\nUSER ContainerUser\n";
    let n = parse_ok(src);
    assert_eq!(s(&n, "escape").as_str(), Some("`"));
    assert_eq!(s(&n, "directives.0.name").as_str(), Some("escape"));
    assert_eq!(
        s(&n, "final_stage.from.registry").as_str(),
        Some("mcr.microsoft.com")
    );
    let run = s(&n, "final_stage.runs.0");
    assert_eq!(s(run, "commands.1.program").as_str(), Some("Remove-Item"));
    assert_eq!(s(&n, "final_stage.user.is_root").as_bool(), Some(false));
}

#[test]
fn problems_are_located_and_parsing_goes_on() {
    let src = "RUN echo early\nFROM a b\nFOO bar\nCOPY onlyone\nFROM x AS a1\nFROM y AS A1\nUSER\n";
    let (n, p) = parse(F, src);
    check_spans(&n, src, "");
    validate(&n);
    let codes: Vec<&str> = p.iter().map(|x| x.code).collect();
    assert_eq!(
        codes,
        vec![
            "dockerfile-before-from",
            "dockerfile-syntax",
            "dockerfile-unknown-instruction",
            "dockerfile-syntax",
            "dockerfile-duplicate-stage",
            "dockerfile-syntax"
        ]
    );
    assert_eq!(text(src, p[2].span), "FOO");
    assert_eq!(p[2].level, Level::Warning);
    assert_eq!(s(&n, "instructions.2.name").as_str(), Some("FOO"));
    assert_eq!(s(&n, "stages").as_list().unwrap().len(), 3);
    let (_, p) = parse(F, "# just a comment\n");
    assert_eq!(p[0].code, "dockerfile-no-stage");
}

#[test]
fn dockerfile_names() {
    for yes in [
        "Dockerfile",
        "dockerfile",
        "Dockerfile.dev",
        "api.dockerfile",
        "Containerfile",
        "Containerfile.prod",
        "a/b/Dockerfile",
        "Dockerfile-nanoserver",
        "Containerfile-arm64",
    ] {
        assert!(is_dockerfile_name(yes), "{yes}");
    }
    for no in [
        "Dockerfile-",
        ".dockerfile",
        "README.md",
        "Dockerfiles",
        "dir/",
        "Dockerfile.dockerignore",
        "docker/api.Dockerfile.dockerignore",
    ] {
        assert!(!is_dockerfile_name(no), "{no}");
    }
    // Content decides for a candidate: the first instruction.
    assert!(reads_as_dockerfile(
        "# syntax=docker/dockerfile:1\n\nARG V\nFROM a:${V}\n"
    ));
    assert!(reads_as_dockerfile("run echo broken but a Dockerfile\n"));
    assert!(reads_as_dockerfile("# only a comment\n"));
    assert!(!reads_as_dockerfile(
        "define(\"vs/dockerfile\", [], function () {});\n"
    ));
    assert!(!reads_as_dockerfile(
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n"
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
    #[test]
    fn never_panics_and_spans_are_valid(src in "(FROM |RUN |COPY |USER |ENV |ARG |EXPOSE |HEALTHCHECK |CMD |<<-?\"?EOF\"?|EOF|[\\[\\]\"',{}$:=@/ \\\\`\t\r\n#a-z0-9|&;<>()é-]){0,60}") {
        let (n, _) = parse(F, &src);
        check_spans(&n, &src, "");
        validate(&n);
    }

    #[test]
    fn never_panics_on_any_text(src in "\\PC{0,200}") {
        let (n, _) = parse(F, &src);
        check_spans(&n, &src, "");
    }
}

#[test]
fn corpus_dockerfiles_parse() {
    let Some(root) = corpus("dockerfile::corpus_dockerfiles_parse") else {
        return;
    };
    let mut files = Vec::new();
    walk(&root.join("real/dockerfile"), &mut files);
    walk(&root.join("repos"), &mut files);
    let mut kics = Vec::new();
    walk(&root.join("peers/kics/dockerfile"), &mut kics);
    files.extend(
        kics.into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "dockerfile")),
    );
    files.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        p.starts_with(root.join("real/dockerfile"))
            || name.ends_with(".dockerfile")
            || name.starts_with("Dockerfile")
    });
    let (mut clean, mut with_errors, mut with_warnings) = (0, 0, 0);
    let mut stages = 0;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let src = String::from_utf8_lossy(&bytes);
        let (n, p) = parse(F, &src);
        check_spans(&n, &src, &f.display().to_string());
        validate(&n);
        stages += n
            .get("stages")
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
        "dockerfile corpus: {} files, {clean} clean, {with_warnings} with warnings only, {with_errors} with errors, {stages} stages",
        files.len()
    );
    assert!(files.len() > 300);
}

#[test]
fn instruction_budget_is_a_located_error() {
    let mut src = String::from("FROM alpine:3.19\n");
    for _ in 0..lexer::MAX_INSTRUCTIONS + 50 {
        src.push_str("RUN echo hi\n");
    }
    let (n, p) = parse(F, &src);
    let over: Vec<_> = p
        .iter()
        .filter(|x| x.code == "dockerfile-too-many-instructions")
        .collect();
    assert_eq!(over.len(), 1, "{p:?}");
    // The first instruction left out: line MAX_INSTRUCTIONS + 1.
    let line = src[..over[0].span.start()].matches('\n').count() + 1;
    assert_eq!(line, lexer::MAX_INSTRUCTIONS + 1);
    assert_eq!(
        s(&n, "instructions").as_list().unwrap().len(),
        lexer::MAX_INSTRUCTIONS
    );
}

#[test]
fn command_budget_is_a_located_error() {
    let mut src = String::from("FROM alpine:3.19\n");
    for _ in 0..3 {
        src.push_str("RUN true");
        for _ in 0..model::MAX_COMMANDS / 2 {
            src.push_str(" && true");
        }
        src.push('\n');
    }
    let (n, p) = parse(F, &src);
    let over: Vec<_> = p
        .iter()
        .filter(|x| x.code == "dockerfile-too-many-commands")
        .collect();
    assert_eq!(over.len(), 1, "{p:?}");
    let runs = s(&n, "stages.0.runs").as_list().unwrap();
    let total: usize = runs
        .iter()
        .map(|r| r.get("commands").unwrap().as_list().unwrap().len())
        .sum();
    assert_eq!(total, model::MAX_COMMANDS);
}

#[test]
fn in_final_image_follows_the_whole_chain() {
    let mut src = String::from("FROM alpine AS s0\nFROM alpine AS unused\n");
    for i in 1..50 {
        src.push_str(&format!("FROM S{} AS s{i}\n", i - 1));
    }
    let n = parse_ok(&src);
    let stages = s(&n, "stages").as_list().unwrap();
    let flags: Vec<bool> = stages
        .iter()
        .map(|st| st.get("in_final_image").unwrap().as_bool().unwrap())
        .collect();
    assert!(!flags[1], "the unused stage is not in the final image");
    assert!(flags.iter().enumerate().all(|(i, f)| *f || i == 1));
}

#[test]
fn instructions_carry_their_args_and_env_pairs() {
    let n = parse_ok("ARG A=1 B\nFROM alpine\nARG C=2\nENV D=3 E=4\nRUN true\n");
    let ins = s(&n, "instructions").as_list().unwrap();
    let names = |field: &str, i: usize| -> Vec<String> {
        ins[i]
            .get(field)
            .map(|l| {
                l.as_list()
                    .unwrap()
                    .iter()
                    .map(|x| x.get("name").unwrap().as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(names("declared_args", 0), ["A", "B"]);
    assert_eq!(names("declared_args", 2), ["C"]);
    assert_eq!(names("env_pairs", 3), ["D", "E"]);
    assert!(ins[4].get("env_pairs").is_none() && ins[4].get("declared_args").is_none());
}

#[test]
fn stages_gather_their_package_removals() {
    let n = parse_ok(
        "FROM debian:12\nRUN apt-get purge -y gcc && apk del .deps && echo remove x\nRUN apt-get autoremove --auto-remove\n",
    );
    let removed = s(&n, "stages.0.removed_packages");
    for k in [
        "purge",
        "-y",
        "gcc",
        "del",
        ".deps",
        "autoremove",
        "--auto-remove",
    ] {
        assert!(removed.get(k).is_some(), "{k}");
    }
    assert!(removed.get("x").is_none());
    assert_eq!(s(&n, "stages.0.autoremove_marked").as_bool(), Some(false));
    let n = parse_ok("FROM debian:12\nRUN apt-mark auto '.*' && apt-get purge -y --auto-remove\n");
    assert_eq!(s(&n, "stages.0.autoremove_marked").as_bool(), Some(true));
}

#[test]
fn the_final_stage_is_held_once() {
    let n = parse_ok(
        "FROM alpine:3 AS build\nRUN make\nFROM scratch\nCOPY --from=build /a /a\nUSER app\n",
    );
    let stages = n.get("stages").and_then(Node::as_list).unwrap();
    let (Value::Shared(last), Some(Value::Shared(fin))) =
        (&stages[1].value, n.get("final_stage").map(|f| &f.value))
    else {
        panic!("the final stage is shared: {n:?}");
    };
    assert!(std::sync::Arc::ptr_eq(last, fin));
    assert_eq!(
        n.get("final_stage")
            .and_then(|f| f.get("user"))
            .and_then(|u| u.get("name"))
            .and_then(Node::as_str),
        Some("app")
    );
    // The model budget counts it for each holder, as a copy was counted.
    fn unshare(n: &mut Node) {
        match n.value_mut() {
            Value::List(items) => items.iter_mut().for_each(unshare),
            Value::Object(fields) => fields.iter_mut().for_each(|(_, v)| unshare(v)),
            _ => {}
        }
    }
    let mut owned = n.clone();
    unshare(&mut owned);
    assert!(!format!("{owned:?}").contains("Shared"));
    let mut shared = n.clone();
    assert_eq!(
        crate::project::compact(&mut shared),
        crate::project::compact(&mut owned)
    );
}
