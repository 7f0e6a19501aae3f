//! The rampart policy language: grammar (pest), AST with spans, parser and
//! canonical printer. Knows nothing of configuration formats or CEL semantics:
//! CEL text is carried verbatim with its span for the compiler.

pub mod ast;
mod parser;
mod printer;

pub use parser::{dedent, parse, unescape, SyntaxError, MAX_POLICY_BYTES};
pub use printer::print;
