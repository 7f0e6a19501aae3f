//! The rampart policy language: grammar (pest), AST with spans, parser and
//! canonical printer. Knows nothing of configuration formats or CEL semantics:
//! CEL text is carried verbatim with its span for the compiler.

pub mod ast;
mod format;
mod parser;
mod printer;

pub use format::{cel_spans, format, scan, Comment, Scanned};
pub use parser::{dedent, parse, unescape, SyntaxError, MAX_POLICY_BYTES};
pub use printer::print;
