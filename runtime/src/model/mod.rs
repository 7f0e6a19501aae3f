//! Document models: the spanned tree ([`Node`]) and the problems found while building it.

pub mod codes;
mod node;

pub(crate) use node::same_name;
pub use node::{FileId, Name, Node, ObjectBuilder, Span, Value};

/// How bad a problem found in an input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// The input could not be read as its format (the run fails closed: exit 2).
    Error,
    /// Something the check went on without: a missing include, an unresolved link.
    Warning,
    /// Something said for the record that never fails a run: a file named on
    /// the command line that is not a config of any format.
    Note,
}

/// A problem in an input file, at its location.
///
/// `code` is stable (`yaml-syntax`, `compose-port`…); `message` is one
/// lowercase line with user values in backticks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    /// Error or warning.
    pub level: Level,
    /// Stable code naming the kind of problem.
    pub code: &'static str,
    /// Where.
    pub span: Span,
    /// What, in one line.
    pub message: String,
}

impl InputProblem {
    /// An error.
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        InputProblem {
            level: Level::Error,
            code,
            span,
            message: message.into(),
        }
    }
    /// A warning.
    pub fn warning(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        InputProblem {
            level: Level::Warning,
            code,
            span,
            message: message.into(),
        }
    }
}
