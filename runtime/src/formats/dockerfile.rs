//! The `dockerfile` front end: a Dockerfile read into stages, users, env,
//! runs (split into shell commands), copies, exposes and healthchecks.
//!
//! Pipeline: [`lexer`] turns physical lines into logical instructions (parser
//! directives, `escape` continuations, comment lines, heredocs); [`model`]
//! interprets them into the [`Node`] tree described by [`schema`], using
//! [`json`] for the exec form, [`shell`] to split shell text into commands and
//! [`image`] for `ARG` substitution and image references. Every node carries
//! the span of the text it came from ([`text::Mapped`] maps the joined text of
//! a continued instruction back to its lines).
//!
//! Semantics worth knowing:
//! - `Stage.user` is the last `USER` of that stage only. `USER` set in an
//!   earlier stage is not copied into it even when its `FROM` names that stage;
//!   `Stage.effective_user` adds that inheritance (last `USER` of this stage,
//!   else the effective user of the stage named in `FROM`). Neither knows the
//!   `USER` baked into an external base image.
//! - `FROM` images are substituted with the global `ARG`s (those before the
//!   first `FROM`) and their defaults; a reference without a known value is
//!   kept as written and `ImageRef.resolved` is false.
//! - A `RUN` is split into simple commands across `&&`, `||`, `;`, `&`, `|`
//!   and newlines. `Cmd.program` is the program's base name after leading
//!   `NAME=value` assignments (in `Cmd.env`), compound-command keywords
//!   (`if`, `then`, `do`…) and `sudo` with its options: `sudo apt-get install`
//!   is program `apt-get` with `sudo: true`. A heredoc body is split too when
//!   it is the script (`RUN <<EOF`, or fed to `sh`/`bash`…, and no non-shell
//!   `#!` line); `RUN ["sh", "-c", "…"]` splits the script string.

mod image;
mod json;
mod lexer;
mod model;
mod shell;
mod text;

use crate::formats::registry::Target;
use crate::model::{FileId, InputProblem, Node, Span};
use crate::schema::Schema;

/// Parses a Dockerfile into a `Dockerfile` node (see [`schema`]) and every
/// problem found. Never panics; the model is built even when there are errors.
/// The caller sets `path` on the returned node.
pub fn parse(file: FileId, source: &str) -> (Node, Vec<InputProblem>) {
    let mut problems = Vec::new();
    let lexed = lexer::lex(file, source, &mut problems);
    let node = model::build(file, source, lexed, &mut problems);
    (node, problems)
}

/// Whether a file name is a Dockerfile's: `Dockerfile`, `Dockerfile.*`,
/// `Dockerfile-*`, `*.dockerfile`, `Containerfile`, `Containerfile.*`,
/// `Containerfile-*` (case-insensitive), but not a Dockerfile-specific ignore
/// file (`Dockerfile.dockerignore`). The registry never takes a name with a
/// code, markup or image extension (`dockerfile.js`); the content decides
/// the rest ([`reads_as_dockerfile`]).
pub fn is_dockerfile_name(file_name: &str) -> bool {
    let n = file_name.to_ascii_lowercase();
    let base = n.rsplit(['/', '\\']).next().unwrap_or(&n);
    if base.ends_with(".dockerignore") || base.ends_with(".containerignore") {
        return false;
    }
    base == "dockerfile"
        || base == "containerfile"
        || base.starts_with("dockerfile.")
        || base.starts_with("containerfile.")
        || (base.starts_with("dockerfile-") && base.len() > "dockerfile-".len())
        || (base.starts_with("containerfile-") && base.len() > "containerfile-".len())
        || (base.ends_with(".dockerfile") && base.len() > ".dockerfile".len())
}

/// Dockerfile instructions (upper case): the model's one list.
use model::KNOWN as INSTRUCTIONS;

/// Whether a text reads as a Dockerfile: its first instruction, after
/// comments and parser directives (`# syntax=…`), is `FROM` or `ARG` — or
/// another instruction, which makes it a broken Dockerfile (then an error),
/// not something else. A file with no instruction reads as one too.
pub fn reads_as_dockerfile(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(line) = first else {
        return true;
    };
    let word = line
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    INSTRUCTIONS.contains(&word.as_str())
}

/// Registers the `dockerfile` target and its types.
pub fn schema(s: &mut Schema) {
    s.object("BuildContext", "a Docker build context")
        .field("dir", "string", "context directory")
        .field(
            "dockerignore",
            "bool",
            "a `.dockerignore` (or `<Dockerfile>.dockerignore`) exists",
        )
        .opt("dockerignore_path", "string", "which ignore file applies")
        .field(
            "ignores_env",
            "bool",
            "the ignore file excludes `.env` files (`.env`, `.env.*`)",
        )
        .field(
            "ignores_secrets",
            "bool",
            "the ignore file excludes `secrets/`",
        )
        .done();
    s.target(
        Target::DOCKERFILE,
        "Dockerfile",
        "A Dockerfile: its build stages and instructions",
    );
    s.object("Dockerfile", "One Dockerfile")
        .opt("path", "string", "File path, relative to the scan root")
        .opt(
            "build_context",
            "BuildContext",
            "the build context: its directory and `.dockerignore` (set by linking)",
        )
        .field(
            "directives",
            "list<DockerfileDirective>",
            "Parser directives at the top (`# syntax=`, `# escape=`, `# check=`)",
        )
        .field(
            "escape",
            "string",
            "The escape character: a backslash, or a backtick with `# escape=`",
        )
        .field(
            "stages",
            "list<DockerfileStage>",
            "Build stages, one per `FROM`, in order",
        )
        .opt(
            "final_stage",
            "DockerfileStage",
            "The last stage (the image that is run); absent when there is no `FROM`",
        )
        .field(
            "instructions",
            "list<DockerfileInstruction>",
            "Every instruction in order, unknown ones included",
        )
        .field(
            "args_global",
            "list<DockerfileArg>",
            "`ARG`s before the first `FROM` (usable in `FROM` lines)",
        )
        .done();
    s.object("DockerfileDirective", "A parser directive")
        .field(
            "name",
            "string",
            "Lower-case name: `syntax`, `escape` or `check`",
        )
        .field("value", "string", "Its value")
        .done();
    s.object("DockerfileInstruction", "One instruction as written")
        .field(
            "name",
            "string",
            "Upper-case name (`RUN`, `COPY`…, or an unknown word)",
        )
        .field(
            "args",
            "string",
            "Text after the name, continuation lines joined",
        )
        .field("line", "int", "1-based line of the instruction")
        .opt(
            "stage",
            "int",
            "Index of its stage; absent before the first `FROM`",
        )
        .opt(
            "declared_args",
            "list<DockerfileArg>",
            "The `ARG`s this instruction declares (`ARG` only)",
        )
        .opt(
            "env_pairs",
            "list<DockerfileEnv>",
            "The pairs this instruction sets (`ENV` only)",
        )
        .done();
    s.object("DockerfileStage", "A build stage: a `FROM` and the instructions up to the next one")
        .field("index", "int", "0-based position")
        .field(
            "in_final_image",
            "bool",
            "Whether the final image builds on this stage: the final stage, or a stage \
             named in the `FROM` of one that is (transitively)",
        )
        .opt("name", "string", "The `AS` name")
        .field("from", "DockerfileImage", "The base image")
        .opt("platform", "string", "The `--platform` value as written")
        .opt("from_stage", "string", "The earlier stage named as the base, when `FROM` names one")
        .field("is_scratch", "bool", "Whether the base is `scratch`")
        .opt("user", "DockerfileUser", "The last `USER` of this stage (not inherited from other stages)")
        .opt("effective_user", "DockerfileUser", "`user`, else the effective user of the stage named in `FROM` (the base image's own user is unknown)")
        .field("users", "list<DockerfileUser>", "Every `USER` of this stage, in order")
        .field("env", "list<DockerfileEnv>", "Every `ENV` pair of this stage")
        .field("args", "list<DockerfileArg>", "Every `ARG` of this stage")
        .field("runs", "list<DockerfileRun>", "Every `RUN` of this stage")
        .field(
            "removed_packages",
            "map<string, bool>",
            "Every argument of the stage's package removals (`apt-get purge|remove|autoremove`, \
             `apk del`, `yum|dnf|microdnf|tdnf|zypper remove|erase|rm|autoremove`), as keys",
        )
        .field(
            "autoremove_marked",
            "bool",
            "A removal auto-removes (`--auto-remove`, `autoremove`) and the stage runs `apt-mark auto`",
        )
        .field("copies", "list<DockerfileCopy>", "Every `COPY` and `ADD` of this stage")
        .field("exposes", "list<DockerfileExpose>", "Every port of every `EXPOSE` of this stage")
        .opt("healthcheck", "DockerfileHealthcheck", "The last `HEALTHCHECK`")
        .opt("cmd", "DockerfileCommand", "The last `CMD`")
        .opt("entrypoint", "DockerfileCommand", "The last `ENTRYPOINT`")
        .opt("workdir", "string", "The last `WORKDIR` as written")
        .field("line", "int", "1-based line of the `FROM`")
        .done();
    s.object(
        "DockerfileImage",
        "An image reference `[registry[:port]/]path[:tag][@digest]`",
    )
    .field("raw", "string", "As written, before `ARG` substitution")
    .field("image", "string", "After substitution of global `ARG`s")
    .opt(
        "registry",
        "string",
        "Registry host[:port] when the first segment has `.` or `:` or is `localhost`",
    )
    .field(
        "repository",
        "string",
        "Path without registry; a Docker Hub `library/` prefix removed",
    )
    .field(
        "name",
        "string",
        "Last path segment (`python` for `library/python`)",
    )
    .opt("tag", "string", "Tag after `:`")
    .opt("digest", "string", "Digest after `@` (`sha256:…`)")
    .field(
        "resolved",
        "bool",
        "Whether every `${ARG}` in it had a known value",
    )
    .done();
    s.object("DockerfileUser", "A `USER` instruction")
        .field("raw", "string", "As written")
        .field(
            "name",
            "string",
            "User part (before `:`), after `ARG`/`ENV` substitution",
        )
        .opt("group", "string", "Group part (after `:`)")
        .field("is_root", "bool", "Whether the user is `root` or uid `0`")
        .field(
            "resolved",
            "bool",
            "Whether every variable in it had a known value",
        )
        .field("line", "int", "1-based line")
        .done();
    s.object("DockerfileEnv", "One `name=value` of an `ENV`")
        .field("name", "string", "Variable name")
        .field(
            "value",
            "string",
            "Value, quotes removed, variables not expanded",
        )
        .field(
            "literal",
            "bool",
            "Whether the value is non-empty and references no variable",
        )
        .field("line", "int", "1-based line of the `ENV`")
        .done();
    s.object("DockerfileArg", "One `name[=default]` of an `ARG`")
        .field("name", "string", "Argument name")
        .opt("value", "string", "Default value, quotes removed")
        .field(
            "literal",
            "bool",
            "Whether a default is given, non-empty, and references no variable",
        )
        .field("line", "int", "1-based line of the `ARG`")
        .done();
    s.object("DockerfileRun", "A `RUN` instruction")
        .field("raw", "string", "Text after `RUN`, options included")
        .field("exec_form", "bool", "Whether written as a JSON array")
        .field("heredocs", "list<string>", "Heredoc bodies")
        .field(
            "commands",
            "list<DockerfileShellCommand>",
            "Simple commands of the line and of script heredocs, in order",
        )
        .field(
            "mounts",
            "list<string>",
            "`--mount` values (`type=cache,target=…`)",
        )
        .field(
            "flags",
            "list<string>",
            "Every option as written (`--mount=…`, `--network=…`)",
        )
        .field("line", "int", "1-based line")
        .done();
    s.object(
        "DockerfileShellCommand",
        "A simple shell command of a `RUN`",
    )
    .field(
        "program",
        "string",
        "Program base name, after assignments, `if`/`then`… and `sudo`",
    )
    .field(
        "args",
        "list<string>",
        "Words after the program, quotes removed, redirections left out",
    )
    .field("flags", "list<string>", "Args starting with `-`")
    .opt(
        "piped_to",
        "string",
        "Program of the next command when joined by `|`",
    )
    .field("sudo", "bool", "Whether run through `sudo`")
    .field("env", "list<string>", "Leading `NAME=value` assignments")
    .field("raw", "string", "The command as written")
    .done();
    s.object("DockerfileCopy", "A `COPY` or `ADD` instruction")
        .field("instruction", "string", "`COPY` or `ADD`")
        .field(
            "sources",
            "list<string>",
            "Source paths or URLs as written (`<<EOF` for a heredoc)",
        )
        .field(
            "resolved_sources",
            "list<string>",
            "`sources` with the stage's `ARG`/`ENV` values substituted (a source whose \
             variables are not all known stays as written)",
        )
        .field("dest", "string", "Destination as written")
        .field(
            "flags",
            "list<string>",
            "Options as written (`--chown=…`, `--from=…`)",
        )
        .opt(
            "from",
            "string",
            "`--from` value (stage name, index or image)",
        )
        .opt("chown", "string", "`--chown` value")
        .opt("chmod", "string", "`--chmod` value")
        .field("heredocs", "list<string>", "Heredoc bodies")
        .field("line", "int", "1-based line")
        .done();
    s.object("DockerfileExpose", "One port of an `EXPOSE`")
        .field("raw", "string", "As written")
        .opt(
            "port",
            "int",
            "Port (first of a range); absent when not a number",
        )
        .opt("end_port", "int", "Last port of a range")
        .field("protocol", "string", "`tcp` (default), `udp` or `sctp`")
        .field("line", "int", "1-based line")
        .done();
    s.object("DockerfileHealthcheck", "A `HEALTHCHECK` instruction")
        .field("raw", "string", "Text after `HEALTHCHECK`")
        .field("none", "bool", "Whether `HEALTHCHECK NONE`")
        .field(
            "flags",
            "list<string>",
            "Options as written (`--interval=30s`)",
        )
        .opt("command", "DockerfileCommand", "The `CMD` part")
        .field("line", "int", "1-based line")
        .done();
    s.object(
        "DockerfileCommand",
        "A `CMD`, `ENTRYPOINT` or `HEALTHCHECK CMD` command",
    )
    .field("exec_form", "bool", "Whether written as a JSON array")
    .field(
        "args",
        "list<string>",
        "JSON items, or shell words with quotes removed",
    )
    .field("raw", "string", "As written")
    .done();
}

/// The Dockerfile format (see [`crate::formats::registry`]).
pub struct Dockerfile;

impl crate::formats::registry::Format for Dockerfile {
    fn name(&self) -> &'static str {
        "dockerfile"
    }
    fn label(&self) -> &'static str {
        "Dockerfile"
    }
    fn targets(&self) -> &'static [Target] {
        &[Target::DOCKERFILE]
    }
    fn code_language(&self) -> &'static str {
        "dockerfile"
    }
    fn default_file_name(&self) -> &'static str {
        "Dockerfile"
    }
    fn matches_name(&self, base: &str) -> bool {
        is_dockerfile_name(base)
    }
    fn reads_as(&self, text: &str) -> bool {
        reads_as_dockerfile(text)
    }
    fn schema(&self, s: &mut Schema) {
        schema(s);
    }
    fn load(
        &self,
        input: &crate::formats::registry::Input<'_>,
        _cx: &mut crate::formats::registry::LoadCx<'_>,
    ) -> crate::formats::registry::Loaded {
        let (mut root, problems) = parse(input.file, input.text);
        root.set(
            "path",
            Node::str(Span::new(input.file, 0, 0), input.path.to_string()),
        );
        crate::formats::registry::Loaded {
            documents: vec![(Target::DOCKERFILE, root)],
            problems,
        }
    }
}

#[cfg(test)]
mod tests;
