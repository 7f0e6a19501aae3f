//! From logical instructions to the `dockerfile` model: stages, users, env,
//! runs split into commands, copies, exposes, healthchecks.

use std::collections::HashMap;

use super::image::substitute;
use super::json::{parse_string_array, JsonString};
use super::lexer::{shell_words, Lexed, RawInstruction};
use super::shell;
use super::text::Mapped;
use crate::formats::image::{is_docker_hub, parse_image};
use crate::model::{FileId, InputProblem, Node, Span, Value};

/// Instructions BuildKit knows.
/// Every Dockerfile instruction (upper case).
pub(crate) const KNOWN: [&str; 18] = [
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// Instructions whose leading `--flag`s are options.
const TAKES_FLAGS: [&str; 5] = ["FROM", "RUN", "COPY", "ADD", "HEALTHCHECK"];

/// Programs whose heredoc or `-c` string is a shell script.
const SHELLS: [&str; 6] = ["sh", "bash", "ash", "dash", "zsh", "ksh"];

/// Shell words that open a compound command; the simple command follows them.
const LEADING_KEYWORDS: [&str; 14] = [
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time", "fi", "done",
    "esac",
];

/// Compound commands whose words are not a program and its arguments.
const NOT_PROGRAMS: [&str; 3] = ["for", "select", "case"];

/// `sudo` options that take a value as the next word.
const SUDO_VALUE_OPTIONS: [&str; 9] = ["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"];

/// Shell commands read from the `RUN`s of one Dockerfile; the commands of
/// longer files are left out from there on (an error at the `RUN` that
/// crosses the limit).
pub const MAX_COMMANDS: usize = 20_000;

/// A word with its value and source span.
#[derive(Clone, Debug)]
struct W {
    value: String,
    span: Span,
}

impl W {
    fn node(&self) -> Node {
        Node::str(self.span, self.value.clone())
    }
}

/// A `--name[=value]` option of an instruction.
#[derive(Clone, Debug)]
struct Flag {
    name: String,
    value: Option<String>,
    raw: String,
    span: Span,
}

/// A stage being built.
struct StageBuild {
    index: usize,
    name: Option<W>,
    from: Node,
    platform: Option<W>,
    from_stage: Option<W>,
    is_scratch: bool,
    users: Vec<Node>,
    env: Vec<Node>,
    args: Vec<Node>,
    runs: Vec<Node>,
    copies: Vec<Node>,
    exposes: Vec<Node>,
    healthcheck: Option<Node>,
    cmd: Option<Node>,
    entrypoint: Option<Node>,
    workdir: Option<Node>,
    /// Whether the final image builds on this stage (set once all stages are read).
    in_final_image: bool,
    /// Effective user inherited from the stage named in `FROM`.
    inherited_user: Option<Node>,
    span: Span,
    line: Node,
    env_scope: HashMap<String, String>,
    arg_scope: HashMap<String, Option<String>>,
}

impl StageBuild {
    fn lookup(&self, name: &str) -> Option<Option<String>> {
        if let Some(v) = self.env_scope.get(name) {
            return Some(Some(v.clone()));
        }
        self.arg_scope.get(name).cloned()
    }

    fn effective_user(&self) -> Option<Node> {
        self.users
            .last()
            .cloned()
            .or_else(|| self.inherited_user.clone())
    }

    fn into_node(self) -> Node {
        let (removed, autoremove_marked) = removals(&self.runs);
        let removed_packages = Node::new(
            self.span,
            Value::Object(
                removed
                    .into_iter()
                    .map(|a| (a.into(), Node::bool(self.span, true)))
                    .collect(),
            ),
        );
        let user = self.users.last().cloned();
        let effective = self.effective_user();
        let from_span = self.from.span;
        Node::object(self.span)
            .field("index", Node::int(self.from.span, to_i64(self.index)))
            .field("in_final_image", Node::bool(from_span, self.in_final_image))
            .opt("name", self.name.as_ref().map(W::node))
            .field("from", self.from)
            .opt("platform", self.platform.as_ref().map(W::node))
            .opt("from_stage", self.from_stage.as_ref().map(W::node))
            .field("is_scratch", Node::bool(from_span, self.is_scratch))
            .opt("user", user)
            .opt("effective_user", effective)
            .field("users", Node::list(self.span, self.users))
            .field("env", Node::list(self.span, self.env))
            .field("args", Node::list(self.span, self.args))
            .field("runs", Node::list(self.span, self.runs))
            .field("removed_packages", removed_packages)
            .field(
                "autoremove_marked",
                Node::bool(self.span, autoremove_marked),
            )
            .field("copies", Node::list(self.span, self.copies))
            .field("exposes", Node::list(self.span, self.exposes))
            .opt("healthcheck", self.healthcheck)
            .opt("cmd", self.cmd)
            .opt("entrypoint", self.entrypoint)
            .opt("workdir", self.workdir)
            .field("line", self.line)
            .build()
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

struct Builder<'p> {
    escape: char,
    problems: &'p mut Vec<InputProblem>,
    global_args: Vec<(String, Option<String>)>,
    args_global: Vec<Node>,
    stages: Vec<StageBuild>,
    instructions: Vec<Node>,
    /// Commands still allowed (see [`MAX_COMMANDS`]).
    commands_left: usize,
    /// Whether crossing [`MAX_COMMANDS`] was reported.
    commands_reported: bool,
}

/// Builds the `Dockerfile` node from lexed instructions.
pub fn build(file: FileId, src: &str, lexed: Lexed, problems: &mut Vec<InputProblem>) -> Node {
    let whole = Span::new(file, 0, src.len());
    let mut b = Builder {
        escape: lexed.escape,
        problems,
        global_args: Vec::new(),
        args_global: Vec::new(),
        stages: Vec::new(),
        instructions: Vec::new(),
        commands_left: MAX_COMMANDS,
        commands_reported: false,
    };
    for raw in &lexed.instructions {
        b.instruction(raw);
    }
    if b.stages.is_empty() {
        b.problems.push(InputProblem::error(
            "dockerfile-no-stage",
            Span::new(file, 0, 0),
            "no `FROM` instruction: the file defines no build stage",
        ));
    }
    let escape_span = lexed
        .directives
        .iter()
        .find(|d| d.name == "escape")
        .map_or(Span::new(file, 0, 0), |d| d.value_span);
    let directives: Vec<Node> = lexed
        .directives
        .iter()
        .map(|d| {
            Node::object(d.span)
                .str("name", d.name_span, d.name.clone())
                .str("value", d.value_span, d.value.clone())
                .build()
        })
        .collect();
    mark_final_image(&mut b.stages);
    let mut stages: Vec<Node> = b.stages.into_iter().map(StageBuild::into_node).collect();
    // The final stage is both the last of `stages` and `final_stage`: held
    // once (fitted first: a shared subtree is not fitted with the rest).
    let final_stage = stages.pop().map(|mut last| {
        crate::project::compact(&mut last);
        std::sync::Arc::new(last)
    });
    stages.extend(final_stage.as_ref().map(Node::shared));
    Node::object(whole)
        .field("directives", Node::list(whole, directives))
        .field("escape", Node::str(escape_span, lexed.escape.to_string()))
        .field("stages", Node::list(whole, stages))
        .opt("final_stage", final_stage.as_ref().map(Node::shared))
        .field("instructions", Node::list(whole, b.instructions))
        .field("args_global", Node::list(whole, b.args_global))
        .build()
}

/// The arguments of the stage's package removal commands (`apt-get purge|remove|
/// autoremove`, `apk del`, `yum|dnf|… remove|erase|rm|autoremove`), each once,
/// and whether one of them auto-removes (`--auto-remove`, `autoremove`) in a
/// stage that also runs `apt-mark auto`. Computed once per stage so policies
/// look packages up instead of scanning every command per install.
fn removals(runs: &[Node]) -> (Vec<String>, bool) {
    let mut seen = std::collections::HashSet::new();
    let mut removed = Vec::new();
    let (mut autoremove, mut marked) = (false, false);
    let commands = runs
        .iter()
        .filter_map(|r| r.get("commands").and_then(Node::as_list))
        .flatten();
    for cmd in commands {
        let program = cmd.get("program").and_then(Node::as_str).unwrap_or("");
        let args: Vec<&str> = cmd
            .get("args")
            .and_then(Node::as_list)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::as_str)
            .collect();
        let any = |words: &[&str]| args.iter().any(|a| words.contains(a));
        if program == "apt-mark" && any(&["auto"]) {
            marked = true;
        }
        let removal = (matches!(program, "apt-get" | "apt")
            && any(&["purge", "remove", "autoremove"]))
            || (program == "apk" && any(&["del"]))
            || (matches!(program, "yum" | "dnf" | "microdnf" | "tdnf" | "zypper")
                && any(&["remove", "erase", "rm", "autoremove"]));
        if !removal {
            continue;
        }
        autoremove |= any(&["--auto-remove", "autoremove"]);
        for a in args {
            if seen.insert(a) {
                removed.push(a.to_string());
            }
        }
    }
    (removed, autoremove && marked)
}

/// Marks the stages the final image builds on: the final stage, then every
/// stage named (case-insensitively) in the `FROM` of a marked one. Linear in
/// the stages, whatever the length of the chain.
fn mark_final_image(stages: &mut [StageBuild]) {
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, s) in stages.iter().enumerate() {
        if let Some(n) = &s.name {
            by_name
                .entry(n.value.to_ascii_lowercase())
                .or_default()
                .push(i);
        }
    }
    let mut todo: Vec<usize> = stages.len().checked_sub(1).into_iter().collect();
    while let Some(i) = todo.pop() {
        let Some(stage) = stages.get_mut(i) else {
            continue;
        };
        if stage.in_final_image {
            continue;
        }
        stage.in_final_image = true;
        if let Some(parent) = &stage.from_stage {
            if let Some(ix) = by_name.get(&parent.value.to_ascii_lowercase()) {
                todo.extend(ix.iter().copied());
            }
        }
    }
}

/// Removes shell quotes and escapes from a word (`$` references kept).
fn unquote(raw: &str, escape: char) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut quote: Option<char> = None;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match quote {
            Some('\'') => {
                if c == '\'' {
                    quote = None;
                } else {
                    out.push(c);
                }
            }
            Some(_) => {
                if c == '"' {
                    quote = None;
                } else if c == escape {
                    match chars.next() {
                        Some(n) if n == '"' || n == escape || n == '$' => out.push(n),
                        Some(n) => {
                            out.push(c);
                            out.push(n);
                        }
                        None => out.push(c),
                    }
                } else {
                    out.push(c);
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == escape {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// A non-empty value with no `$` reference.
fn is_literal(v: &str) -> bool {
    !v.is_empty() && !v.contains('$')
}

fn basename(s: &str) -> &str {
    s.rsplit(['/', '\\']).next().unwrap_or(s)
}

impl Builder<'_> {
    fn words(&self, m: &Mapped, a: usize, b: usize) -> Vec<(usize, usize)> {
        let Some(t) = m.text().get(a..b) else {
            return Vec::new();
        };
        shell_words(t, self.escape)
            .into_iter()
            .map(|(x, y)| (x + a, y + a))
            .collect()
    }

    fn text(m: &Mapped, a: usize, b: usize) -> &str {
        m.text().get(a..b).unwrap_or("")
    }

    fn error(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.problems.push(InputProblem::error(code, span, msg));
    }

    fn warning(&mut self, code: &'static str, span: Span, msg: impl Into<String>) {
        self.problems.push(InputProblem::warning(code, span, msg));
    }

    /// Leading `--flags` from `a`: the flags and where the arguments start.
    fn flags(&self, m: &Mapped, a: usize, b: usize) -> (Vec<Flag>, usize) {
        let mut flags = Vec::new();
        for (x, y) in self.words(m, a, b) {
            let raw = Self::text(m, x, y);
            if !raw.starts_with("--") || raw == "--" {
                return (flags, x);
            }
            let body = raw.get(2..).unwrap_or("");
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_ascii_lowercase(), Some(unquote(v, self.escape))),
                None => (body.to_ascii_lowercase(), None),
            };
            flags.push(Flag {
                name,
                value,
                raw: raw.to_string(),
                span: m.span(x, y),
            });
        }
        (flags, b)
    }

    fn instruction(&mut self, raw: &RawInstruction) {
        let m = &raw.text;
        let t = m.text();
        let name_end = t.find(char::is_whitespace).unwrap_or(t.len());
        let name = Self::text(m, 0, name_end);
        let upper = name.to_ascii_uppercase();
        let args_start = t
            .get(name_end..)
            .map_or(t.len(), |r| t.len() - r.trim_start().len());
        let args_end = t.trim_end().len().max(args_start);
        let args_text = Self::text(m, args_start, args_end);
        let name_span = m.span(0, name_end);
        let line = Node::int(name_span, to_i64(raw.line));

        let stage_index = self.stages.len().checked_sub(1);
        let stage_for_instr = if upper == "FROM" {
            Some(self.stages.len())
        } else {
            stage_index
        };
        self.instructions.push(
            Node::object(raw.span)
                .str("name", name_span, upper.clone())
                .str("args", m.span(args_start, args_end), args_text)
                .field("line", line.clone())
                .opt(
                    "stage",
                    stage_for_instr.map(|i| Node::int(name_span, to_i64(i))),
                )
                .build(),
        );

        if upper != "FROM" {
            if let Some(st) = self.stages.last_mut() {
                st.span = st.span.cover(raw.span);
            }
        }
        if !KNOWN.contains(&upper.as_str()) {
            self.warning(
                "dockerfile-unknown-instruction",
                name_span,
                format!("unknown instruction `{name}`"),
            );
            return;
        }
        let (flags, rest) = if TAKES_FLAGS.contains(&upper.as_str()) {
            self.flags(m, args_start, args_end)
        } else {
            (Vec::new(), args_start)
        };
        let ctx = Ctx {
            m,
            raw,
            args: (args_start, args_end),
            rest,
            flags,
            line,
            name_span,
        };
        if upper == "FROM" {
            self.from(&ctx);
            return;
        }
        if upper == "ARG" && self.stages.is_empty() {
            let before = self.args_global.len();
            self.global_arg(&ctx);
            let declared = self.args_global.get(before..).unwrap_or_default().to_vec();
            self.attach("declared_args", declared);
            return;
        }
        if self.stages.is_empty() {
            self.error(
                "dockerfile-before-from",
                name_span,
                format!("`{upper}` before the first `FROM`: only `ARG` may come first"),
            );
            return;
        }
        match upper.as_str() {
            "ARG" => {
                let before = self.stages.last().map_or(0, |st| st.args.len());
                self.stage_arg(&ctx);
                let declared = self.stages.last().map_or_else(Vec::new, |st| {
                    st.args.get(before..).unwrap_or_default().to_vec()
                });
                self.attach("declared_args", declared);
            }
            "ENV" => {
                let before = self.stages.last().map_or(0, |st| st.env.len());
                self.env(&ctx);
                let pairs = self.stages.last().map_or_else(Vec::new, |st| {
                    st.env.get(before..).unwrap_or_default().to_vec()
                });
                self.attach("env_pairs", pairs);
            }
            "USER" => self.user(&ctx),
            "RUN" => self.run(&ctx),
            "COPY" | "ADD" => self.copy(&ctx, &upper),
            "EXPOSE" => self.expose(&ctx),
            "HEALTHCHECK" => self.healthcheck(&ctx),
            "CMD" | "ENTRYPOINT" => {
                let node = self.command(m, ctx.rest, args_end, raw.span);
                if let Some(st) = self.stages.last_mut() {
                    if upper == "CMD" {
                        st.cmd = Some(node);
                    } else {
                        st.entrypoint = Some(node);
                    }
                }
            }
            "WORKDIR" => {
                let node = Node::str(m.span(args_start, args_end), args_text);
                if let Some(st) = self.stages.last_mut() {
                    st.workdir = Some(node);
                }
            }
            _ => {}
        }
    }

    /// Sets a list field of the instruction read last.
    fn attach(&mut self, name: &str, items: Vec<Node>) {
        if let Some(ins) = self.instructions.last_mut() {
            let span = ins.span;
            ins.set(name, Node::list(span, items));
        }
    }

    fn global_lookup(&self, name: &str) -> Option<Option<String>> {
        self.global_args
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// `name[=value]` words of an `ARG`: (name word, value word).
    fn arg_pairs(&mut self, c: &Ctx) -> Vec<(W, Option<W>, Span)> {
        let mut out = Vec::new();
        let words = self.words(c.m, c.rest, c.args.1);
        if words.is_empty() {
            self.error(
                "dockerfile-syntax",
                c.name_span,
                "`ARG` requires at least one argument",
            );
        }
        for (x, y) in words {
            let raw = Self::text(c.m, x, y);
            let (name, value) = match raw.find('=') {
                Some(eq) => (
                    W {
                        value: raw.get(..eq).unwrap_or("").to_string(),
                        span: c.m.span(x, x + eq),
                    },
                    Some(W {
                        value: unquote(raw.get(eq + 1..).unwrap_or(""), self.escape),
                        span: c.m.span(x + eq + 1, y),
                    }),
                ),
                None => (
                    W {
                        value: raw.to_string(),
                        span: c.m.span(x, y),
                    },
                    None,
                ),
            };
            out.push((name, value, c.m.span(x, y)));
        }
        out
    }

    fn arg_node(name: &W, value: &Option<W>, span: Span, line: &Node) -> Node {
        let literal = value.as_ref().is_some_and(|v| is_literal(&v.value));
        Node::object(span)
            .field("name", name.node())
            .opt("value", value.as_ref().map(W::node))
            .field("literal", Node::bool(span, literal))
            .field("line", line.clone())
            .build()
    }

    fn global_arg(&mut self, c: &Ctx) {
        for (name, value, span) in self.arg_pairs(c) {
            self.args_global
                .push(Self::arg_node(&name, &value, span, &c.line));
            let resolved = value
                .as_ref()
                .map(|v| substitute(&v.value, self.escape, &|n| self.global_lookup(n)).text);
            self.global_args.push((name.value, resolved));
        }
    }

    fn stage_arg(&mut self, c: &Ctx) {
        let pairs = self.arg_pairs(c);
        for (name, value, span) in pairs {
            let node = Self::arg_node(&name, &value, span, &c.line);
            let global = self.global_lookup(&name.value).flatten();
            let escape = self.escape;
            let Some(st) = self.stages.last_mut() else {
                return;
            };
            let v = match &value {
                Some(v) => Some(substitute(&v.value, escape, &|n| st.lookup(n)).text),
                None => global,
            };
            st.arg_scope.insert(name.value, v);
            st.args.push(node);
        }
    }

    fn from(&mut self, c: &Ctx) {
        let m = c.m;
        let words = self.words(m, c.rest, c.args.1);
        let (img_a, img_b) = words.first().copied().unwrap_or((c.rest, c.rest));
        let mut name = None;
        match words.len() {
            1 => {}
            3 if words
                .get(1)
                .is_some_and(|&(x, y)| Self::text(m, x, y).eq_ignore_ascii_case("as")) =>
            {
                if let Some(&(x, y)) = words.get(2) {
                    name = Some(W {
                        value: Self::text(m, x, y).to_string(),
                        span: m.span(x, y),
                    });
                }
            }
            0 => self.error("dockerfile-syntax", c.name_span, "`FROM` requires an image"),
            _ => self.error(
                "dockerfile-syntax",
                m.span(c.args.0, c.args.1),
                "`FROM` takes an image and an optional `AS name`",
            ),
        }
        let raw = Self::text(m, img_a, img_b);
        let token = m.span(img_a, img_b);
        let sub = substitute(raw, self.escape, &|n| self.global_lookup(n));
        let image = sub.text.clone();
        let parts = parse_image(&image);
        // Sub-spans are exact when the text was not rewritten by substitution.
        let part = |r: (usize, usize)| {
            if sub.changed {
                token
            } else {
                m.span(img_a + r.0, img_a + r.1)
            }
        };
        let piece = |r: (usize, usize)| image.get(r.0..r.1).unwrap_or("").to_string();
        let registry = parts.registry.map(piece);
        let path = piece(parts.path);
        let on_hub = is_docker_hub(registry.as_deref());
        let repository = match path.strip_prefix("library/") {
            Some(p) if on_hub => p.to_string(),
            _ => path.clone(),
        };
        let from = Node::object(token)
            .str("raw", token, raw)
            .str("image", token, image.clone())
            .opt(
                "registry",
                parts.registry.map(|r| Node::str(part(r), piece(r))),
            )
            .str("repository", part(parts.path), repository)
            .str("name", part(parts.name), piece(parts.name))
            .opt("tag", parts.tag.map(|r| Node::str(part(r), piece(r))))
            .opt("digest", parts.digest.map(|r| Node::str(part(r), piece(r))))
            .field("resolved", Node::bool(token, sub.resolved))
            .build();

        let from_stage_idx = self.stages.iter().position(|s| {
            s.name
                .as_ref()
                .is_some_and(|n| n.value.eq_ignore_ascii_case(&image))
        });
        let from_stage = from_stage_idx.map(|_| W {
            value: image.clone(),
            span: token,
        });
        let (env_scope, inherited_user) = match from_stage_idx {
            Some(i) => (
                self.stages
                    .get(i)
                    .map(|s| s.env_scope.clone())
                    .unwrap_or_default(),
                self.stages.get(i).and_then(StageBuild::effective_user),
            ),
            None => (HashMap::new(), None),
        };
        if let Some(n) = &name {
            if self.stages.iter().any(|s| {
                s.name
                    .as_ref()
                    .is_some_and(|o| o.value.eq_ignore_ascii_case(&n.value))
            }) {
                self.warning(
                    "dockerfile-duplicate-stage",
                    n.span,
                    format!("stage name `{}` is used by an earlier stage", n.value),
                );
            }
        }
        let platform = c.flags.iter().find(|f| f.name == "platform").map(|f| W {
            value: f.value.clone().unwrap_or_default(),
            span: f.span,
        });
        for f in c.flags.iter().filter(|f| f.name != "platform") {
            self.warning(
                "dockerfile-flag",
                f.span,
                format!("unknown `FROM` option `{}`", f.raw),
            );
        }
        self.stages.push(StageBuild {
            index: self.stages.len(),
            name,
            from,
            platform,
            from_stage,
            is_scratch: image.eq_ignore_ascii_case("scratch"),
            users: Vec::new(),
            env: Vec::new(),
            args: Vec::new(),
            runs: Vec::new(),
            copies: Vec::new(),
            exposes: Vec::new(),
            healthcheck: None,
            cmd: None,
            entrypoint: None,
            workdir: None,
            in_final_image: false,
            inherited_user,
            span: c.raw.span,
            line: c.line.clone(),
            env_scope,
            arg_scope: HashMap::new(),
        });
    }

    fn env(&mut self, c: &Ctx) {
        let m = c.m;
        let words = self.words(m, c.rest, c.args.1);
        let Some(&(fx, fy)) = words.first() else {
            self.error(
                "dockerfile-syntax",
                c.name_span,
                "`ENV` requires at least one argument",
            );
            return;
        };
        let mut pairs: Vec<(W, W, Span)> = Vec::new();
        let first = Self::text(m, fx, fy);
        if !first.contains('=') {
            // Legacy form: `ENV NAME value with spaces`.
            let value_start = words.get(1).map_or(c.args.1, |w| w.0);
            pairs.push((
                W {
                    value: first.to_string(),
                    span: m.span(fx, fy),
                },
                W {
                    value: unquote(Self::text(m, value_start, c.args.1), self.escape),
                    span: m.span(value_start, c.args.1),
                },
                m.span(fx, c.args.1),
            ));
        } else {
            for (x, y) in words {
                let raw = Self::text(m, x, y);
                let Some(eq) = raw.find('=') else {
                    self.error(
                        "dockerfile-syntax",
                        m.span(x, y),
                        format!("`ENV` expects `name=value`, found `{raw}`"),
                    );
                    continue;
                };
                pairs.push((
                    W {
                        value: unquote(raw.get(..eq).unwrap_or(""), self.escape),
                        span: m.span(x, x + eq),
                    },
                    W {
                        value: unquote(raw.get(eq + 1..).unwrap_or(""), self.escape),
                        span: m.span(x + eq + 1, y),
                    },
                    m.span(x, y),
                ));
            }
        }
        let escape = self.escape;
        let Some(st) = self.stages.last_mut() else {
            return;
        };
        for (name, value, span) in pairs {
            let resolved = substitute(&value.value, escape, &|n| st.lookup(n)).text;
            st.env_scope.insert(name.value.clone(), resolved);
            st.env.push(
                Node::object(span)
                    .field("name", name.node())
                    .field("value", value.node())
                    .field("literal", Node::bool(value.span, is_literal(&value.value)))
                    .field("line", c.line.clone())
                    .build(),
            );
        }
    }

    fn user(&mut self, c: &Ctx) {
        let m = c.m;
        let (a, b) = (c.rest, c.args.1);
        let raw = Self::text(m, a, b);
        if raw.is_empty() {
            self.error(
                "dockerfile-syntax",
                c.name_span,
                "`USER` requires a user name or id",
            );
            return;
        }
        let escape = self.escape;
        let Some(st) = self.stages.last_mut() else {
            return;
        };
        let sub = substitute(raw, escape, &|n| st.lookup(n));
        let text = sub.text.trim().to_string();
        let (name, group) = match text.split_once(':') {
            Some((n, g)) => (n.to_string(), Some(g.to_string())),
            None => (text.clone(), None),
        };
        let whole = m.span(a, b);
        let (name_span, group_span) = match (sub.changed, raw.find(':')) {
            (false, Some(i)) => (m.span(a, a + i), m.span(a + i + 1, b)),
            _ => (whole, whole),
        };
        let is_root = name == "root" || name == "0";
        let node = Node::object(c.raw.span)
            .str("raw", whole, raw)
            .str("name", name_span, name)
            .opt("group", group.map(|g| Node::str(group_span, g)))
            .field("is_root", Node::bool(whole, is_root))
            .field("resolved", Node::bool(whole, sub.resolved))
            .field("line", c.line.clone())
            .build();
        st.users.push(node);
    }

    fn expose(&mut self, c: &Ctx) {
        let m = c.m;
        let words = self.words(m, c.rest, c.args.1);
        let escape = self.escape;
        let mut bad = Vec::new();
        let Some(st) = self.stages.last_mut() else {
            return;
        };
        for (x, y) in words {
            let raw = Self::text(m, x, y);
            let span = m.span(x, y);
            let sub = substitute(raw, escape, &|n| st.lookup(n));
            let text = unquote(&sub.text, escape);
            let (ports, proto) = match text.split_once('/') {
                Some((p, pr)) => (p.to_string(), pr.to_ascii_lowercase()),
                None => (text.clone(), "tcp".to_string()),
            };
            let (first, last) = match ports.split_once('-') {
                Some((f, l)) => (f.parse::<i64>().ok(), l.parse::<i64>().ok()),
                None => (ports.parse::<i64>().ok(), None),
            };
            if sub.resolved && first.is_none() {
                bad.push((span, raw.to_string()));
            }
            st.exposes.push(
                Node::object(span)
                    .str("raw", span, raw)
                    .opt("port", first.map(|p| Node::int(span, p)))
                    .opt("end_port", last.map(|p| Node::int(span, p)))
                    .str("protocol", span, proto)
                    .field("line", c.line.clone())
                    .build(),
            );
        }
        for (span, raw) in bad {
            self.warning(
                "dockerfile-expose",
                span,
                format!("`EXPOSE` value `{raw}` is not a port"),
            );
        }
    }

    /// `CMD`/`ENTRYPOINT`/`HEALTHCHECK CMD` arguments: exec or shell form.
    fn command(&self, m: &Mapped, a: usize, b: usize, span: Span) -> Node {
        let raw = Self::text(m, a, b);
        let raw_span = m.span(a, b);
        let slice = m.slice(a, b);
        let (exec_form, args) = match parse_string_array(&slice) {
            Some(items) => (
                true,
                items
                    .iter()
                    .map(|j| Node::str(slice.span(j.range.0, j.range.1), j.value.text()))
                    .collect(),
            ),
            None => (
                false,
                self.words(m, a, b)
                    .into_iter()
                    .map(|(x, y)| {
                        Node::str(m.span(x, y), unquote(Self::text(m, x, y), self.escape))
                    })
                    .collect(),
            ),
        };
        Node::object(span)
            .field("exec_form", Node::bool(raw_span, exec_form))
            .field("args", Node::list(raw_span, args))
            .str("raw", raw_span, raw)
            .build()
    }

    fn healthcheck(&mut self, c: &Ctx) {
        let m = c.m;
        let words = self.words(m, c.rest, c.args.1);
        let raw_span = m.span(c.args.0, c.args.1);
        let first = words.first().map(|&(x, y)| Self::text(m, x, y));
        let flags: Vec<Node> = c
            .flags
            .iter()
            .map(|f| Node::str(f.span, f.raw.clone()))
            .collect();
        let mut node = Node::object(c.raw.span)
            .str("raw", raw_span, Self::text(m, c.args.0, c.args.1))
            .field("flags", Node::list(raw_span, flags))
            .field("line", c.line.clone());
        match first {
            Some(w) if w.eq_ignore_ascii_case("NONE") => {
                node = node.field("none", Node::bool(raw_span, true));
            }
            Some(w) if w.eq_ignore_ascii_case("CMD") => {
                let start = words.get(1).map_or(c.args.1, |w| w.0);
                let cmd = self.command(m, start, c.args.1, m.span(start, c.args.1));
                node = node
                    .field("none", Node::bool(raw_span, false))
                    .field("command", cmd);
            }
            _ => {
                self.error(
                    "dockerfile-syntax",
                    raw_span,
                    "`HEALTHCHECK` expects `NONE` or `CMD` followed by a command",
                );
                node = node.field("none", Node::bool(raw_span, false));
            }
        }
        if let Some(st) = self.stages.last_mut() {
            st.healthcheck = Some(node.build());
        }
    }

    fn copy(&mut self, c: &Ctx, instruction: &str) {
        let m = c.m;
        let (a, b) = (c.rest, c.args.1);
        let slice = m.slice(a, b);
        let items: Vec<W> = match parse_string_array(&slice) {
            Some(items) => items
                .iter()
                .map(|j| W {
                    value: j.value.text().to_string(),
                    span: slice.span(j.range.0, j.range.1),
                })
                .collect(),
            None => self
                .words(m, a, b)
                .into_iter()
                .map(|(x, y)| W {
                    value: Self::text(m, x, y).to_string(),
                    span: m.span(x, y),
                })
                .collect(),
        };
        let (dest, sources) = match items.split_last() {
            Some((d, s)) if !s.is_empty() => (d.clone(), s.to_vec()),
            _ => {
                self.error(
                    "dockerfile-syntax",
                    m.span(c.args.0, c.args.1),
                    format!("`{instruction}` requires at least one source and a destination"),
                );
                let d = items.last().cloned().unwrap_or(W {
                    value: String::new(),
                    span: m.span(b, b),
                });
                (d, Vec::new())
            }
        };
        let flag = |name: &str| {
            c.flags
                .iter()
                .find(|f| f.name == name)
                .map(|f| Node::str(f.span, f.value.clone().unwrap_or_default()))
        };
        let heredocs: Vec<Node> = c
            .raw
            .heredocs
            .iter()
            .map(|h| Node::str(h.span, h.body.text()))
            .collect();
        let span = m.span(c.args.0, c.args.1);
        // `ADD ${URL} …` with `ARG URL=https://…`: the source as the build sees it.
        let escape = self.escape;
        let resolved: Vec<Node> = sources
            .iter()
            .map(|w| {
                let text = match self.stages.last() {
                    Some(st) if w.value.contains('$') => {
                        let sub = substitute(&w.value, escape, &|n| st.lookup(n));
                        if sub.resolved {
                            sub.text
                        } else {
                            w.value.clone()
                        }
                    }
                    _ => w.value.clone(),
                };
                Node::str(w.span, text)
            })
            .collect();
        let node = Node::object(c.raw.span)
            .str("instruction", c.name_span, instruction)
            .field(
                "sources",
                Node::list(span, sources.iter().map(W::node).collect()),
            )
            .field("resolved_sources", Node::list(span, resolved))
            .field("dest", dest.node())
            .field(
                "flags",
                Node::list(
                    span,
                    c.flags
                        .iter()
                        .map(|f| Node::str(f.span, f.raw.clone()))
                        .collect(),
                ),
            )
            .opt("from", flag("from"))
            .opt("chown", flag("chown"))
            .opt("chmod", flag("chmod"))
            .field("heredocs", Node::list(span, heredocs))
            .field("line", c.line.clone())
            .build();
        if let Some(st) = self.stages.last_mut() {
            st.copies.push(node);
        }
    }

    fn run(&mut self, c: &Ctx) {
        let m = c.m;
        let (a, b) = (c.rest, c.args.1);
        let slice = m.slice(a, b);
        let mut commands: Vec<CmdParts> = Vec::new();
        let exec = parse_string_array(&slice);
        let exec_form = exec.is_some();
        match exec {
            Some(items) => self.exec_commands(&slice, &items, &mut commands),
            None => {
                let split = shell::split(slice.text());
                // Which command each heredoc feeds: by the marker's position.
                for h in &c.raw.heredocs {
                    let pos = h.marker.0.saturating_sub(a);
                    let consumer = split
                        .iter()
                        .find(|sc| sc.range.0 <= pos && pos < sc.range.1.max(sc.range.0 + 1));
                    let feeds_shell = match consumer {
                        None => true,
                        Some(sc) => match sc.words.first() {
                            None => true,
                            Some(w) => SHELLS.contains(&basename(&w.value)),
                        },
                    };
                    let body = h.body.text();
                    let shebang_ok = match body.strip_prefix("#!") {
                        None => true,
                        Some(rest) => {
                            let line = rest.lines().next().unwrap_or("");
                            let mut it = line.split_whitespace();
                            let first = it.next().map(basename).unwrap_or("");
                            let interp = if first == "env" {
                                it.find(|w| !w.starts_with('-')).unwrap_or("")
                            } else {
                                first
                            };
                            SHELLS.contains(&interp)
                        }
                    };
                    if feeds_shell && shebang_ok {
                        self.shell_commands(&h.body, &mut commands);
                    }
                }
                // Commands of the line itself come first, in source order.
                let mut line_cmds = Vec::new();
                self.commands_from_split(&slice, split, &mut line_cmds);
                line_cmds.append(&mut commands);
                commands = line_cmds;
            }
        }
        let span = m.span(c.args.0, c.args.1);
        if commands.len() > self.commands_left {
            if !self.commands_reported {
                self.commands_reported = true;
                self.error(
                    "dockerfile-too-many-commands",
                    span,
                    format!(
                        "the `RUN`s of this Dockerfile hold more than {MAX_COMMANDS} shell \
                         commands (the limit); the commands from here on are not checked"
                    ),
                );
            }
            commands.truncate(self.commands_left);
        }
        self.commands_left -= commands.len();
        let cmd_nodes: Vec<Node> = (0..commands.len())
            .filter_map(|i| {
                let cp = commands.get(i)?;
                let next = if cp.piped {
                    commands.get(i + 1).map(|n| n.program.node())
                } else {
                    None
                };
                Some(cp.node(next))
            })
            .collect();
        let mounts: Vec<Node> = c
            .flags
            .iter()
            .filter(|f| f.name == "mount")
            .map(|f| Node::str(f.span, f.value.clone().unwrap_or_default()))
            .collect();
        let heredocs: Vec<Node> = c
            .raw
            .heredocs
            .iter()
            .map(|h| Node::str(h.span, h.body.text()))
            .collect();
        let node = Node::object(c.raw.span)
            .str("raw", span, Self::text(m, c.args.0, c.args.1))
            .field("exec_form", Node::bool(span, exec_form))
            .field("heredocs", Node::list(span, heredocs))
            .field("commands", Node::list(span, cmd_nodes))
            .field("mounts", Node::list(span, mounts))
            .field(
                "flags",
                Node::list(
                    span,
                    c.flags
                        .iter()
                        .map(|f| Node::str(f.span, f.raw.clone()))
                        .collect(),
                ),
            )
            .field("line", c.line.clone())
            .build();
        if let Some(st) = self.stages.last_mut() {
            st.runs.push(node);
        }
    }

    fn exec_commands(&self, slice: &Mapped, items: &[JsonString], out: &mut Vec<CmdParts>) {
        let argv: Vec<&str> = items.iter().map(|j| j.value.text()).collect();
        let is_shell_c = argv.first().is_some_and(|p| SHELLS.contains(&basename(p)))
            && argv
                .get(1)
                .is_some_and(|f| f.starts_with('-') && f.ends_with('c'))
            && argv.len() >= 3;
        if is_shell_c {
            if let Some(script) = items.get(2) {
                self.shell_commands(&script.value, out);
                return;
            }
        }
        let words: Vec<W> = items
            .iter()
            .map(|j| W {
                value: j.value.text().to_string(),
                span: slice.span(j.range.0, j.range.1),
            })
            .collect();
        let span = slice.full_span();
        if let Some(cp) = CmdParts::from_words(words, span, slice.text().trim().to_string(), false)
        {
            out.push(cp);
        }
    }

    fn shell_commands(&self, text: &Mapped, out: &mut Vec<CmdParts>) {
        let split = shell::split(text.text());
        self.commands_from_split(text, split, out);
    }

    fn commands_from_split(
        &self,
        text: &Mapped,
        split: Vec<shell::Command>,
        out: &mut Vec<CmdParts>,
    ) {
        for sc in split {
            let words: Vec<W> = sc
                .words
                .into_iter()
                .map(|w| W {
                    value: w.value,
                    span: text.span(w.range.0, w.range.1),
                })
                .collect();
            let raw = Self::text(text, sc.range.0, sc.range.1).to_string();
            if let Some(cp) =
                CmdParts::from_words(words, text.span(sc.range.0, sc.range.1), raw, sc.piped)
            {
                out.push(cp);
            } else if sc.piped {
                if let Some(last) = out.last_mut() {
                    last.piped = true;
                }
            }
        }
    }
}

/// What one instruction handler gets.
struct Ctx<'a> {
    m: &'a Mapped,
    raw: &'a RawInstruction,
    /// Text range of the arguments (after the name).
    args: (usize, usize),
    /// Where the arguments start after leading flags.
    rest: usize,
    flags: Vec<Flag>,
    line: Node,
    name_span: Span,
}

/// A simple command of a `RUN`, ready to become a `Cmd` node.
struct CmdParts {
    program: W,
    args: Vec<W>,
    env: Vec<W>,
    /// The `sudo` word, when the command runs through it.
    sudo: Option<Span>,
    piped: bool,
    raw: String,
    span: Span,
}

fn is_assignment(w: &str) -> bool {
    let Some((name, _)) = w.split_once('=') else {
        return false;
    };
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

impl CmdParts {
    /// Skips assignments, compound-command keywords and `sudo` (with its
    /// options) to find the program; `None` when no word is left.
    fn from_words(words: Vec<W>, span: Span, raw: String, piped: bool) -> Option<CmdParts> {
        let mut it = words.into_iter().peekable();
        let mut env = Vec::new();
        let mut sudo: Option<Span> = None;
        loop {
            let w = it.peek()?;
            if is_assignment(&w.value) {
                env.extend(it.next());
            } else if LEADING_KEYWORDS.contains(&w.value.as_str()) {
                it.next();
            } else if basename(&w.value) == "sudo" && sudo.is_none() {
                let sudo_word = it.next();
                sudo = sudo_word.as_ref().map(|w| w.span);
                // sudo's own options.
                while let Some(o) = it.peek() {
                    if o.value == "--" {
                        it.next();
                        break;
                    }
                    if !o.value.starts_with('-') {
                        break;
                    }
                    let takes_value = SUDO_VALUE_OPTIONS.contains(&o.value.as_str());
                    it.next();
                    if takes_value {
                        it.next();
                    }
                }
                if it.peek().is_none() {
                    let w = sudo_word?;
                    return Some(CmdParts {
                        program: W {
                            value: "sudo".into(),
                            span: w.span,
                        },
                        args: Vec::new(),
                        env,
                        sudo,
                        piped,
                        raw,
                        span,
                    });
                }
            } else {
                break;
            }
        }
        let first = it.next()?;
        if NOT_PROGRAMS.contains(&first.value.as_str()) {
            return None;
        }
        let program = W {
            value: basename(&first.value).to_string(),
            span: first.span,
        };
        Some(CmdParts {
            program,
            args: it.collect(),
            env,
            sudo,
            piped,
            raw,
            span,
        })
    }

    fn node(&self, piped_to: Option<Node>) -> Node {
        let flags: Vec<Node> = self
            .args
            .iter()
            .filter(|a| a.value.starts_with('-') && a.value != "-" && a.value != "--")
            .map(W::node)
            .collect();
        Node::object(self.span)
            .field("program", self.program.node())
            .field(
                "args",
                Node::list(self.span, self.args.iter().map(W::node).collect()),
            )
            .field("flags", Node::list(self.span, flags))
            .opt("piped_to", piped_to)
            .field(
                "sudo",
                Node::bool(self.sudo.unwrap_or(self.span), self.sudo.is_some()),
            )
            .field(
                "env",
                Node::list(self.span, self.env.iter().map(W::node).collect()),
            )
            .str("raw", self.span, self.raw.clone())
            .build()
    }
}
