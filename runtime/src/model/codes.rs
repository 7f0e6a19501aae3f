//! Every code of a problem found in an input file, or about the inputs of a
//! run, with what it means: the one list `docs/reference/codes.md` is
//! generated from. A test (`compiler/src/codes.rs`) checks that every code
//! written in the sources is listed here, and every listed code is used.

/// How a code is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeLevel {
    /// Always an error: the input could not be read as its format (exit 2).
    Error,
    /// Always a warning: the check went on without something.
    Warning,
    /// An error or a warning, depending on what it caps or refuses.
    Either,
    /// A note: shown with `-v` and in the JSON/SARIF outputs; never fails the run.
    Note,
}

impl CodeLevel {
    /// As written in the reference.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeLevel::Error => "error",
            CodeLevel::Warning => "warning",
            CodeLevel::Either => "error or warning",
            CodeLevel::Note => "note",
        }
    }
}

/// One input-problem code.
#[derive(Clone, Copy, Debug)]
pub struct ProblemCode {
    /// The code (`yaml-syntax`).
    pub id: &'static str,
    /// Its level.
    pub level: CodeLevel,
    /// What it means, in one line.
    pub summary: &'static str,
}

const fn code(id: &'static str, level: CodeLevel, summary: &'static str) -> ProblemCode {
    ProblemCode { id, level, summary }
}

use CodeLevel::{Either, Error, Note, Warning};

/// Every code, grouped by where it comes from.
pub const ALL: &[ProblemCode] = &[
    // Any input.
    code("input-not-utf8", Error, "the file is not UTF-8 text"),
    code("input-too-large", Error, "the file is larger than the per-file limit (docs/cli.md § Limits)"),
    code("input-unreadable", Either, "a file named or found could not be read (missing, refused link, not a regular file)"),
    code("no-inputs", Warning, "no input file was found under the paths given: nothing was checked"),
    code("input-not-config", Note, "a file named like a config that does not read as one (vendored `dockerfile.js`, a php-fpm `.conf`); skipped"),
    code("input-template", Warning, "a template (`{{ … }}`, `.j2`, `.tmpl`): checked with placeholders as unknown values, or skipped when it only parses once rendered"),
    code("input-encrypted", Warning, "git-crypt, SOPS or ansible-vault ciphertext; not checked"),
    code("input-binary", Warning, "a binary file where a config was expected; not checked"),
    code("inputs-excluded", Warning, "paths named on the command line were all excluded by ignore rules or the config"),
    code("too-many-problems", Either, "more than 100 problems in one file; the rest are counted, not listed"),
    code("run-model-budget", Error, "the run's model budget is spent; this file was not checked"),
    code("link-outside-root", Warning, "a referenced file (Dockerfile, env file) is outside the scan root and was not read"),
    code("link-refused", Warning, "a referenced file was not read (a link out of the root, not a regular file, inside `.git`)"),
    code("link-unresolved", Warning, "a referenced file is not in the repository; checked without it"),
    // Suppressions and the run.
    code("ignore-no-policy", Warning, "a `rampart:ignore` comment names no policy"),
    code("ignore-no-reason", Warning, "a `rampart:ignore` comment gives no reason (`-- <reason>`)"),
    code("ignore-unused", Warning, "a `rampart:ignore` comment that suppresses no finding"),
    code("ignore-unknown-policy", Warning, "a `rampart:ignore` comment names a policy that does not exist"),
    code("policy-failed", Error, "a policy failed at run time on an input (evaluation error or budget spent)"),
    code("engine-setup", Error, "the CEL engine could not be set up (an internal error)"),
    code("run-stopped", Error, "the run stopped before checking anything (config or policy errors, named above it); carried into the machine formats"),
    code("baseline-invalid", Error, "the `--baseline` file is missing, unreadable, too large or not a rampart baseline of this version"),
    // YAML and compose.
    code("yaml-syntax", Error, "the file is not valid YAML (or exceeds the YAML limits)"),
    code("compose-structure", Error, "a compose file is not a mapping with a `services` key"),
    code("compose-type", Error, "a compose field has the wrong kind of value (a list where a scalar is expected…)"),
    code("compose-port", Error, "a port entry that is not a valid short or long port syntax"),
    code("compose-interpolation", Error, "a `${…}` interpolation that does not parse"),
    code("compose-too-many-services", Error, "more services than the per-file limit; the rest are not checked"),
    code("compose-extends-unresolved", Warning, "an `extends` whose service is not found (or uses a variable); the service is checked without it"),
    code("compose-extends-cycle", Warning, "an `extends` chain that forms a cycle or is longer than the limit; not followed further"),
    // Dockerfile.
    code("dockerfile-syntax", Error, "an instruction with missing or malformed arguments"),
    code("dockerfile-before-from", Error, "an instruction other than `ARG` before the first `FROM`"),
    code("dockerfile-no-stage", Error, "no `FROM`: the file defines no build stage"),
    code("dockerfile-directive", Error, "a parser directive given twice or malformed"),
    code("dockerfile-heredoc", Error, "a heredoc that is not terminated"),
    code("dockerfile-too-many-instructions", Error, "more instructions than the per-file limit"),
    code("dockerfile-too-many-commands", Error, "more shell commands in `RUN`s than the per-file limit"),
    code("dockerfile-unknown-instruction", Warning, "an unknown instruction (skipped)"),
    code("dockerfile-duplicate-stage", Warning, "a stage name used by an earlier stage"),
    code("dockerfile-expose", Warning, "an `EXPOSE` value that is not a port"),
    code("dockerfile-flag", Warning, "an unknown `FROM` option"),
    // .env
    code("dotenv-syntax", Error, "a line that is not `KEY=value` (or an unterminated quote)"),
    code("dotenv-key", Warning, "a variable name with blanks"),
    code("dotenv-trailing-text", Warning, "text after a quoted value (ignored, as Compose does)"),
    code("dotenv-too-many-entries", Error, "more entries than the per-file limit"),
    // nginx.
    code("nginx-syntax", Error, "the file does not parse as nginx configuration"),
    code("nginx-unterminated-string", Error, "a quoted string that is never closed"),
    code("nginx-unclosed-block", Error, "a block that is never closed"),
    code("nginx-nesting", Error, "blocks nested deeper than the limit are skipped"),
    code("nginx-include-unresolved", Warning, "an `include` whose target is not in the scanned tree; checked without it"),
    code("nginx-include-unreadable", Error, "an included file that cannot be read"),
    code("nginx-include-escape", Error, "an `include` that leaves the scan root"),
    code("nginx-include-cycle", Error, "files that include each other"),
    code("nginx-include-limit", Error, "includes nested deeper than the limit, or more than the run's include budget"),
    // Caddy.
    code("caddy-syntax", Error, "the Caddyfile does not parse (tokens and blocks)"),
    code("caddy-unterminated-quote", Error, "a quoted string that is never closed"),
    code("caddy-heredoc", Error, "a malformed heredoc"),
    code("caddy-depth", Error, "blocks nested deeper than the limit"),
    code("caddy-site-address", Error, "a site address Caddy would reject"),
    code("caddy-ambiguous-site", Error, "an unknown directive that looks like a second site without braces"),
    code("caddy-directive-as-address", Error, "a known directive in the place of a site address"),
    code("caddy-global-not-first", Error, "a global options block that is not the first block"),
    code("caddy-global-option", Error, "a global option with an invalid value"),
    code("caddy-servers-option", Error, "an unknown `servers` option"),
    code("caddy-matcher-outside-site", Error, "a request matcher defined outside a site block"),
    code("caddy-unknown-directive", Warning, "an unknown directive (a plugin, or a typo)"),
    code("caddy-unknown-subdirective", Error, "an unknown `reverse_proxy` subdirective"),
    code("caddy-duplicate-subdirective", Error, "a subdirective declared twice where Caddy allows one"),
    code("caddy-handle-response-args", Error, "`handle_response` with too many arguments"),
    code("caddy-named-route-duplicate", Error, "two named routes with one name"),
    code("caddy-invoke-undefined", Error, "`invoke` of a named route that is not defined"),
    code("caddy-tls-dns-provider", Error, "`tls { dns }` without a provider and no global `dns`"),
    code("caddy-acme-dns", Error, "`acme_dns` without a provider and no global `dns`"),
    code("caddy-snippet-redeclared", Error, "a snippet declared twice"),
    code("caddy-import", Error, "an `import` without a path or snippet name, or an unsupported form"),
    code("caddy-import-missing", Warning, "an `import` whose target is not in the scanned tree; checked without it"),
    code("caddy-import-refused", Warning, "an `import` target that was not read (confinement)"),
    code("caddy-import-outside-root", Error, "an `import` that leaves the scan root"),
    code("caddy-import-cycle", Error, "files that import each other"),
    code("caddy-import-limit", Error, "more imports than the run's import budget"),
];

/// Whether `id` is a listed code.
pub fn is_known(id: &str) -> bool {
    ALL.iter().any(|c| c.id == id)
}
