//! Every diagnostic code of policy files and `rampart.yaml`, in one table.
//!
//! A code is stable: tests, CI scripts and users' notes name it. Its level,
//! one-line summary and longer help live here and nowhere else;
//! `docs/reference/codes.md` is generated from this table (see
//! [`reference_markdown`]) and a test fails when the committed page is stale.
//! Input problems (a file rampart reads that it cannot fully parse) have
//! their own, named codes, listed in [`rampart_runtime::model::codes`].

use crate::diagnostics::Level;

macro_rules! codes {
    ($( $code:ident $level:ident $group:literal $summary:literal $help:literal ;)*) => {
        /// A policy or config diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $summary]
                $code,
            )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code),*];

            /// The code as written (`E0202`).
            pub fn id(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }

            /// Whether a diagnostic with this code stops the run.
            pub fn level(self) -> Level {
                match self { $(Code::$code => Level::$level,)* }
            }

            /// Which part of rampart reports it.
            pub fn group(self) -> &'static str {
                match self { $(Code::$code => $group,)* }
            }

            /// What it means, in one line.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$code => $summary,)* }
            }

            /// What to do about it.
            pub fn help(self) -> &'static str {
                match self { $(Code::$code => $help,)* }
            }
        }
    };
}

codes! {
    E0000 Error "setup" "the CEL engine could not be set up"
        "An internal error, not a problem in your policies: please report it with the message.";
    E0001 Error "syntax" "syntax error in a policy file"
        "The message names what was expected at the position. Also reported for brackets nested deeper than 256 levels, checked before parsing.";
    E0002 Error "syntax" "CEL syntax error"
        "The expression inside a `when`, `let`, `const` or message placeholder does not parse as CEL. The position is in the policy file.";
    E0003 Error "syntax" "unclosed `{` in a message"
        "A message template's placeholder `{expr}` has no closing brace. Write `{{` for a literal brace.";
    E0101 Error "names" "duplicate policy id"
        "Two policies have the same full id (`package.name`). Ids are stable public names: rename one.";
    E0102 Error "names" "a name defined twice in a package"
        "Constants, params, defs and policies of one package share a namespace.";
    E0103 Error "tests" "a test for an unknown policy"
        "A `test` block names a policy that does not exist (a suggestion is given when one is close).";
    E0104 Error "tests" "unknown test input format"
        "A test case's input keyword must name an input format; the message lists them.";
    E0105 Error "metadata" "metadata given twice"
        "A policy sets `title`, `severity`, `profile`, `rationale` or another metadata key twice.";
    E0106 Error "metadata" "unknown severity"
        "Severities are `critical`, `high`, `medium`, `low` and `info`.";
    E0107 Error "metadata" "unknown profile"
        "Profiles are `recommended`, `strict` and `opinionated`.";
    E0108 Error "metadata" "a standard-library policy without title, severity or rationale"
        "Every standard-library policy documents itself; user policies get warning W0108 instead.";
    W0108 Warning "metadata" "a policy without title, severity or rationale"
        "Auditors read policies as documentation: say what the policy requires and why.";
    E0109 Error "metadata" "a policy without `deny`"
        "A policy needs at least one `deny … when …` rule.";
    E0111 Error "values" "a param default of the wrong type"
        "The default value does not have the param's declared type.";
    E0113 Error "values" "unknown type"
        "Param types are `bool`, `int`, `string`, `list<…>` and `map<…>` of those.";
    E0114 Error "values" "a constant that cannot be evaluated"
        "Constants and param defaults are evaluated when the policy is compiled; this one fails (the message says why).";
    E0115 Error "names" "an `import` of an unknown package, or of the importing package"
        "`import pkg` names a package of the policies compiled together or of the standard library (`compose`, `dockerfile`, `dotenv`, `nginx`, `caddy`, `http`, `secrets`).";
    E0116 Error "names" "an imported name that clashes"
        "Imported defs, constants and params are used unqualified, so no two may share a name, and none may share one with the importing package's own names or a loop variable. Rename yours.";
    E0201 Error "names" "unknown name"
        "The name is not a bound variable, constant, param, def or target (a suggestion is given when one is close).";
    E0202 Error "types" "unknown field"
        "The object type has no such field; `rampart schema` lists every field (a suggestion is given when one is close).";
    E0203 Error "types" "field access on a scalar"
        "Only objects and maps have fields.";
    E0204 Error "names" "unknown target"
        "`for x in …` must iterate a target (`compose.services`, `dockerfile.stages`, …) or a list reached from one.";
    E0205 Error "types" "`for` over something that is not a list"
        "The path after `in` must be a list.";
    W0206 Warning "names" "a bound variable never used"
        "Remove the binding or use it in a condition.";
    E0301 Error "types" "comprehension over a non-list"
        "`all`, `exists`, `exists_one`, `map` and `filter` need a list or a map.";
    E0302 Error "types" "a condition that is not a bool"
        "A `when` condition and the body of `all`/`exists`/`filter` must be bool.";
    E0303 Error "types" "comparison of incompatible types"
        "`==`, `<`, `in` and friends need operands of compatible types.";
    E0304 Error "functions" "unknown function"
        "The function is neither a CEL standard function nor one of rampart's (`docs/language.md` lists them) nor a def.";
    E0305 Error "functions" "wrong number of arguments, or a method called as a function"
        "Standard and custom functions and defs are checked against their signatures.";
    E0306 Error "functions" "an argument or receiver of the wrong type"
        "Also reported for `+` of incompatible operands.";
    E0307 Error "limits" "defs that use each other without end"
        "Defs are inlined; more than 16 levels of defs using defs is taken for recursion.";
    E0308 Error "limits" "an expression too long, too deep or with too many operators"
        "Limits: 16 KiB as written, 64 nested brackets, 1,000 operators; also checked with defs inlined. They protect the CEL parser, whose recursion follows the nesting.";
    E0309 Error "limits" "an expression too large once its defs are inlined"
        "More than 64 KiB after inlining (defs that use defs several times multiply); located at the def use.";
    W0310 Warning "types" "an optional field read without a `has()` guard"
        "Reading an absent field fails at run time. Guard it: `has(x.f) && …`, `!has(x.f) || …` or `has(x.f) ? … : …`.";
    W0311 Warning "names" "a def its package never uses"
        "A def's body is type-checked where it is used; an unused def is never checked.";
    E0311 Error "limits" "a constant or param default too costly to evaluate"
        "More than 1,000,000 units of work, larger than 1 MiB, or lists/maps nested deeper than 64.";
    E0501 Error "config" "`rampart.yaml` is not valid YAML, or too large"
        "The config file is YAML of at most 1 MiB.";
    E0502 Error "config" "unknown key in `rampart.yaml`"
        "A suggestion is given when a known key is close; `docs/cli.md` lists the keys.";
    E0503 Error "config" "a value of the wrong kind in `rampart.yaml`"
        "For example `enable: 3` where a list of ids or globs is expected.";
    E0504 Error "config" "unknown profile or severity in `rampart.yaml`"
        "Profiles: `recommended`, `strict`. Severities: `critical`, `high`, `medium`, `low`, `info`.";
    E0505 Error "config" "a glob that does not compile, or one too complex"
        "Globs are at most 1,024 bytes, with `{…}` nested at most 4 deep and at most 256 alternatives.";
    E0506 Error "config" "a waiver without `policy`, `reason`, `owner` or `expires`"
        "Every waiver says what it hides, why, who owns it and until when.";
    E0507 Error "config" "a date that is not `YYYY-MM-DD`"
        "Waiver expiry dates are ISO dates.";
    E0508 Error "config" "an id that names no policy"
        "`enable`, `disable`, `severity` and `params` keys must name a policy (a suggestion is given when one is close).";
    W0509 Warning "config" "a glob that matches no policy"
        "The glob is valid but selects nothing; check the spelling.";
    E0510 Error "config" "unknown param"
        "The policy's package declares no such param.";
    E0511 Error "config" "a param value of the wrong type"
        "The configured value does not have the param's declared type.";
    W0512 Warning "config" "an expired waiver"
        "Its findings are reported again (and fail the run); fix them, or renew the waiver with a new `expires` date.";
    W0513 Warning "config" "a waiver that matches no finding"
        "Remove it if the finding is fixed.";
    E0514 Error "config" "a `policies:` path that cannot be read"
        "Policy paths are relative to `rampart.yaml` and must stay inside the repository.";
    W0515 Warning "config" "a waiver expiring soon"
        "The waiver expires within `waiver_warning_days` (default 14): fix the findings or renew it.";
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.id() == *other
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// `docs/reference/codes.md`: every policy/config code and every input
/// problem and report code, generated from the tables.
pub fn reference_markdown() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\n\
         <!-- Generated from compiler/src/codes.rs and runtime/src/model/codes.rs; \
         do not edit. Regenerate with `RAMPART_BLESS=1 cargo test -p rampart codes_reference`. -->\n\n\
         Policy and config diagnostics have a code `E0nnn` (an error: the run stops with exit 2) \
         or `W0nnn` (a warning: reported, the run goes on). Problems in the files rampart checks \
         have a named code; they reach every output format (`code` in JSON, the rule of a SARIF \
         notification, the JUnit failure type, the text summary).\n\n\
         ## Policy and config codes\n\n\
         | Code | Level | Area | Meaning | Help |\n|---|---|---|---|---|\n",
    );
    for c in Code::ALL {
        let level = match c.level() {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        out.push_str(&format!(
            "| `{}` | {level} | {} | {} | {} |\n",
            c.id(),
            c.group(),
            c.summary(),
            c.help()
        ));
    }
    out.push_str(
        "\n## Input problems and report codes\n\n\
         | Code | Level | Meaning |\n|---|---|---|\n",
    );
    for p in rampart_runtime::model::codes::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            p.id,
            p.level.as_str(),
            p.summary
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_shaped() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.id()), "{} twice", c.id());
            let want = match c.level() {
                Level::Error => 'E',
                Level::Warning => 'W',
            };
            assert!(
                c.id().starts_with(want),
                "{} has level {:?}",
                c.id(),
                c.level()
            );
            assert!(
                !c.summary().ends_with('.'),
                "{}: summary is one line",
                c.id()
            );
            assert!(c.help().ends_with('.'), "{}: help is sentences", c.id());
        }
    }

    /// Every code is emitted somewhere in the compiler's sources, and every
    /// `E0nnn`/`W0nnn` written in the sources is in the table.
    #[test]
    fn every_code_is_used_and_every_used_code_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/src");
        let mut text = String::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs") && !p.ends_with("codes.rs") {
                    text.push_str(&std::fs::read_to_string(&p).unwrap());
                }
            }
        }
        for c in Code::ALL {
            assert!(
                text.contains(&format!("Code::{}", c.id())),
                "{} is never emitted",
                c.id()
            );
        }
        let bytes = text.as_bytes();
        for (i, _) in text.match_indices('"') {
            let lit = bytes.get(i + 1..i + 7);
            if let Some(&[k, b'0', a, b, c, b'"']) = lit {
                if (k == b'E' || k == b'W') && [a, b, c].iter().all(u8::is_ascii_digit) {
                    let id = std::str::from_utf8(&bytes[i + 1..i + 6]).unwrap();
                    assert!(
                        Code::ALL.iter().any(|c| c.id() == id),
                        "{id} is used in the sources but not in codes.rs"
                    );
                }
            }
        }
    }

    /// The Rust sources of a crate folder, by path, without test files.
    fn sources(dir: &str) -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "rs")
                    && !p.ends_with("tests.rs")
                    && !p.ends_with("codes.rs")
                {
                    let text = std::fs::read_to_string(&p).unwrap();
                    // Unit tests at the end of a file plant all kinds of strings.
                    let code = text
                        .split("#[cfg(test)]\nmod ")
                        .next()
                        .unwrap_or("")
                        .to_string();
                    out.push((p, code));
                }
            }
        }
        out
    }

    /// Every kebab-case literal passed where an input problem or report
    /// warning takes its code is listed in `model::codes`, and every listed
    /// code is written somewhere.
    #[test]
    fn every_problem_code_is_listed_and_used() {
        use rampart_runtime::model::codes::{is_known, ALL};
        let emitters = [
            "error(", "warning(", "note(", "err(", "warn(", "code:", "code ==",
        ];
        let mut all_text = String::new();
        let mut unlisted = Vec::new();
        for (path, text) in sources("compiler/src")
            .into_iter()
            .chain(sources("runtime/src"))
        {
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let near = lines
                    .get(i.saturating_sub(2)..=i)
                    .unwrap_or_default()
                    .iter()
                    .any(|l| emitters.iter().any(|e| l.contains(e)));
                if !near {
                    continue;
                }
                for lit in line.split('"').skip(1).step_by(2) {
                    let shaped = lit.contains('-')
                        && lit.split('-').all(|w| {
                            !w.is_empty()
                                && w.bytes()
                                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                        });
                    if shaped && !is_known(lit) {
                        unlisted.push(format!("{} line {}: {lit}", path.display(), i + 1));
                    }
                }
            }
            all_text.push_str(&text);
        }
        assert!(
            unlisted.is_empty(),
            "codes used but not listed in runtime/src/model/codes.rs:\n{}",
            unlisted.join("\n")
        );
        for c in ALL {
            assert!(
                all_text.contains(&format!("\"{}\"", c.id)),
                "{} is never used",
                c.id
            );
        }
    }

    #[test]
    fn codes_reference() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reference/codes.md");
        let want = reference_markdown();
        if std::env::var_os("RAMPART_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "docs/reference/codes.md is stale: run `RAMPART_BLESS=1 cargo test -p rampart codes_reference`"
        );
    }
}
