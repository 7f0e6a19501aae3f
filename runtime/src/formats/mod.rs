//! Input front ends: one module per format, each producing a spanned
//! [`crate::model::Node`] tree that follows its schema.

pub mod compose;
pub mod image;
pub mod yaml;
