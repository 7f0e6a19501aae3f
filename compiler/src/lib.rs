//! rampart: the policy compiler and the `rampart` command.
//!
//! Pipeline: policy text → `rampart_lang` AST → [`policy`] (resolution, CEL
//! checking against the runtime schemas, lowering) → `rampart_runtime`
//! engine over the discovered inputs → reporters. Only [`cli`] prints or exits.

pub mod classify;
pub mod cli;
pub mod codes;
pub mod config;
pub mod diagnostics;
pub mod discover;
pub mod docs;
pub mod init;
pub mod policy;
pub mod progress;
pub mod render;
pub mod report;
pub mod schema_doc;
pub mod schemas;
pub mod session;
