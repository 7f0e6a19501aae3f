//! The `rampart.yaml` that `rampart init` writes: every key the loader
//! accepts ([`crate::schemas::CONFIG_KEYS`]) with its description, its
//! default and a commented example, under a `yaml-language-server` line that
//! points editors at the committed JSON Schema.

use crate::schemas::{schema_url, CONFIG_KEYS, CONFIG_SCHEMA_PATH};

/// Width the comments are wrapped at.
const COMMENT_WIDTH: usize = 88;

/// The inputs found where the file is written: a format's label and how many
/// files of it.
pub type Found = Vec<(&'static str, usize)>;

/// The commented `rampart.yaml`, naming the formats `found`.
pub fn template(found: &Found) -> String {
    render(found, false)
}

/// The same file with every example in place of its default: a test loads
/// it to prove the examples are real (keys, policy ids, params).
pub fn template_with_examples() -> String {
    render(&Vec::new(), true)
}

fn comment(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > COMMENT_WIDTH && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

fn render(found: &Found, live_examples: bool) -> String {
    let mut out = format!(
        "# yaml-language-server: $schema={}\n",
        schema_url(CONFIG_SCHEMA_PATH)
    );
    comment(
        &mut out,
        "rampart.yaml: the settings of `rampart check` for this directory and below \
         (docs/cli.md, \"Configuration\"). Every key is optional: the values written here \
         are the defaults, and each commented block below a key is an example to adapt.",
    );
    let formats = rampart_runtime::project::Kind::label_list();
    if found.is_empty() {
        comment(
            &mut out,
            &format!("No input was found here when this file was written (rampart reads {formats} files)."),
        );
    } else {
        let list: Vec<String> = found.iter().map(|(l, n)| format!("{l}: {n}")).collect();
        comment(
            &mut out,
            &format!(
                "Inputs found here when this file was written: {}.",
                list.join(", ")
            ),
        );
    }
    for k in CONFIG_KEYS {
        out.push('\n');
        comment(&mut out, k.description);
        if live_examples && !k.example.is_empty() {
            out.push_str(k.name);
            out.push_str(":\n");
            for line in k.example {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        out.push_str(&format!("{}: {}\n", k.name, k.default));
        if !k.example.is_empty() {
            out.push_str(&format!("# {}:\n", k.name));
            for line in k.example {
                out.push_str("#   ");
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Config};
    use crate::policy::compile::{compile, CompileOptions};
    use crate::policy::sources::stdlib_sources;

    fn loads_clean(text: &str) -> Config {
        let (config, problems) = parse(text);
        assert!(problems.is_empty(), "{problems:?}\n{text}");
        config
    }

    #[test]
    fn the_template_loads_with_every_key_at_its_default() {
        let text = template(&vec![("compose", 2), ("Dockerfile", 1)]);
        assert!(text.starts_with("# yaml-language-server: $schema="));
        assert!(text.contains("compose: 2, Dockerfile: 1"), "{text}");
        let c = loads_clean(&text);
        assert!(c.enable.is_empty() && c.disable.is_empty() && c.waivers.is_empty());
        assert_eq!(
            c.waiver_warning_days,
            Some(crate::config::WAIVER_WARNING_DAYS)
        );
        assert_eq!(
            c.profile.map(|p| p.value),
            Some(crate::policy::compile::Profile::Recommended)
        );
        // Every key is written, uncommented.
        for k in CONFIG_KEYS {
            assert!(text.contains(&format!("\n{}: ", k.name)), "{}", k.name);
        }
        for line in text.lines() {
            assert!(line.len() <= COMMENT_WIDTH + 20, "{line}");
        }
    }

    #[test]
    fn the_examples_are_real_keys_ids_and_params() {
        let text = template_with_examples();
        let c = loads_clean(&text);
        assert!(!c.waivers.is_empty() && !c.params.is_empty() && !c.enable.is_empty());
        let options = CompileOptions {
            params: c.param_values(),
            ..CompileOptions::default()
        };
        let compiled = compile(stdlib_sources(), &options);
        assert!(
            compiled.param_errors.is_empty(),
            "{:?}",
            compiled.param_errors
        );
        let ids: Vec<&str> = compiled.policies.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(c.check_ids(&ids), vec![]);
    }
}
