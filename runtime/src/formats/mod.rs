//! Input front ends: one module per format, each producing a spanned
//! [`crate::model::Node`] tree that follows its schema.

pub mod caddyfile;
pub mod compose;
pub mod dockerfile;
pub mod dotenv;
pub mod http;
pub mod image;
pub mod nginx;
pub mod registry;
pub mod screen;
pub mod yaml;
