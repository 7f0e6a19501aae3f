//! Policy compilation: policy files → checked, lowered [`compile::CompiledPolicy`]s.
//!
//! - [`compile`]: resolution, constant and param values, metadata, lowering;
//! - [`inline`]: def inlining; [`template`]: message templates;
//! - [`sources`]: the standard library and policy files;
//! - [`testing`]: the runner of `test` blocks;
//! - [`check`]: type checking of CEL (inference, calls and signatures, `has()` guards).

pub mod check;
pub mod compile;
pub mod inline;
pub mod sources;
pub mod template;
pub mod testing;
