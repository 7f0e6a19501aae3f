//! rampart: the policy compiler and the `rampart` command.
//!
//! Pipeline: policy text → `rampart_lang` AST → [`compile`] (resolution, CEL
//! checking against the runtime schemas, lowering) → `rampart_runtime`
//! engine over the discovered inputs → reporters. Only [`cli`] prints or exits.

pub mod check;
pub mod ci_formats;
pub mod cli;
pub mod compile;
pub mod config;
pub mod diagnostics;
pub mod discover;
pub mod inline;
pub mod report;
pub mod schema_doc;
pub mod suppress;
pub mod template;
