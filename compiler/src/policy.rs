//! Policy compilation: policy files → checked, lowered [`compile::CompiledPolicy`]s.
//!
//! - [`compile`]: resolution, constant and param values, metadata, lowering;
//! - [`inline`]: def inlining; [`template`]: message templates;
//! - [`check`]: type checking of CEL (inference, calls and signatures, `has()` guards).

pub mod check;
pub mod compile;
pub mod inline;
pub mod template;
