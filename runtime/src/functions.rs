//! Custom CEL functions, one file per family, each with `register` and the
//! signatures the compiler checks calls against.

pub mod http;
pub mod net;
pub mod paths;
pub mod secrets;

use cel::Context;

use crate::schema::Type;

/// The signature of a custom function, for checking and documentation.
#[derive(Clone, Debug)]
pub struct Signature {
    /// Name as called.
    pub name: &'static str,
    /// Parameter names and types.
    pub params: Vec<(&'static str, Type)>,
    /// Result type.
    pub result: Type,
    /// One-line documentation.
    pub doc: &'static str,
}

/// Registers every custom function on a root context.
pub fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    net::register(ctx)?;
    secrets::register(ctx)?;
    paths::register(ctx)?;
    http::register(ctx)?;
    Ok(())
}

/// Signatures of every custom function.
pub fn signatures() -> Vec<Signature> {
    let mut out = Vec::new();
    out.extend(net::signatures());
    out.extend(secrets::signatures());
    out.extend(paths::signatures());
    out.extend(http::signatures());
    out
}

pub(crate) fn sig(
    name: &'static str,
    params: &[(&'static str, Type)],
    result: Type,
    doc: &'static str,
) -> Signature {
    Signature {
        name,
        params: params.to_vec(),
        result,
        doc,
    }
}
