//! rampart's runtime: the world policies look at.
//!
//! One module per input format producing a spanned document model
//! ([`model::Node`]), the schema of every target, conversion to CEL values,
//! custom CEL functions, and the evaluation engine. Knows nothing of the
//! policy syntax.

pub mod budget;
pub mod cel_value;
pub mod engine;
pub mod fast;
pub mod formats;
pub mod fs;
pub mod functions;
pub mod model;
pub mod project;
pub mod regexes;
pub mod schema;
pub mod secrets;
pub mod source;
#[cfg(test)]
mod test_support;

pub use cel;
