//! Diagnostics about policy files: one model, rendered by the CLI.

pub use crate::codes::Code;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Stops compilation: the policy never reaches evaluation.
    Error,
    /// Reported; compilation goes on.
    Warning,
}

/// A problem in a policy file, at its span.
///
/// `message` is one lowercase line with user values in backticks; extra
/// sentences go in `help`. The code (and so the level) is one of
/// [`Code`]'s, listed in `docs/reference/codes.md`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning (the code's level).
    pub level: Level,
    /// Stable code (`E0101`…).
    pub code: Code,
    /// Index of the policy source in the compiler's source list.
    pub source: u32,
    /// Byte range in that source.
    pub start: usize,
    /// End of the range.
    pub end: usize,
    /// The message.
    pub message: String,
    /// A suggestion.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic of `code` (its level is the code's) at a range.
    pub fn new(
        code: Code,
        source: u32,
        start: usize,
        end: usize,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            level: code.level(),
            code,
            source,
            start,
            end,
            message: message.into(),
            help: None,
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// The closest candidate to `name` by edit distance, if close enough to be a typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        let limit = (name.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("imagee", ["image", "ports", "user"]),
            Some("image")
        );
        assert_eq!(did_you_mean("portz", ["image", "ports"]), Some("ports"));
        assert_eq!(did_you_mean("xyz", ["image", "ports"]), None);
    }
}
