//! CEL functions about secrets (STDLIB.md § Shared vocabulary); the knowledge
//! itself is in [`crate::secrets`].

use std::sync::Arc;

use cel::objects::Value;
use cel::Context;

use super::{sig, Signature};
use crate::schema::Type;

pub use crate::secrets::{
    is_placeholder, is_secret_name, is_secret_value, is_weak_secret, redact, WEAK_VALUES,
};

fn strings(list: &Arc<Vec<Value>>) -> Vec<String> {
    list.iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.to_string()),
            _ => None,
        })
        .collect()
}

/// The options of a command line that carry a literal secret, each once, in order.
pub(crate) fn secret_options(command: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in crate::secrets::command_secrets(command) {
        if !out.contains(&s.option) {
            out.push(s.option);
        }
    }
    out
}

pub(crate) fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    ctx.add_function("is_secret_name", |n: Arc<String>| is_secret_name(&n))?;
    ctx.add_function("is_secret_value", |v: Arc<String>| is_secret_value(&v))?;
    ctx.add_function("has_url_credentials", |v: Arc<String>| {
        !crate::secrets::literal_url_credentials(&v).is_empty()
    })?;
    ctx.add_function("is_dummy_url", |v: Arc<String>| {
        crate::secrets::is_dummy_url(&v)
    })?;
    ctx.add_function("secret_options", |v: Arc<String>| {
        Value::List(Arc::new(
            secret_options(&v)
                .into_iter()
                .map(|o| Value::String(Arc::new(o)))
                .collect(),
        ))
    })?;
    ctx.add_function(
        "is_placeholder",
        |v: Arc<String>, n: Arc<String>, weak: Arc<Vec<Value>>| {
            is_placeholder(&v, &n, &strings(&weak))
        },
    )?;
    ctx.add_function(
        "is_weak_secret",
        |v: Arc<String>, n: Arc<String>, weak: Arc<Vec<Value>>, min: i64| {
            is_weak_secret(&v, &n, &strings(&weak), min)
        },
    )?;
    ctx.add_function("redact", |v: Arc<String>| redact(&v))?;
    Ok(())
}

pub(crate) fn signatures() -> Vec<Signature> {
    let list = Type::List(Box::new(Type::String));
    vec![
        sig(
            "is_secret_name",
            &[("name", Type::String)],
            Type::Bool,
            "whether a variable name is secret-like (PASSWORD, PASS, PWD, SECRET, TOKEN, SALT, DSN, API_KEY, ENCRYPTION_KEY…; not *_FILE, *_USER, *_NAME, *_ID, *_TTL, ALLOW_*, *_RANDOM_*…; docs/secrets.md)",
        ),
        sig(
            "is_secret_value",
            &[("value", Type::String)],
            Type::Bool,
            "whether a value can be a secret: not empty, null, a boolean, a number, a duration, a size, a rate, a path, a word list, a URL without credentials or a reference (docs/secrets.md)",
        ),
        sig(
            "has_url_credentials",
            &[("value", Type::String)],
            Type::Bool,
            "whether a value holds a URL with a literal password or token (`postgres://app:hunter22@db/app`)",
        ),
        sig(
            "is_dummy_url",
            &[("value", Type::String)],
            Type::Bool,
            "whether every literal URL password in a value is a build-time dummy: a placeholder (`placeholder`, `pass`, `password`, the user name repeated) for a loopback host (`postgresql://user:pass@localhost/dummy`)",
        ),
        sig(
            "secret_options",
            &[("command", Type::String)],
            list.clone(),
            "the options of a command line given a literal secret (`--requirepass`, `--password`, `-p` of mysql, `-a` of redis-cli, `PGPASSWORD=`…)",
        ),
        sig(
            "is_placeholder",
            &[("value", Type::String), ("name", Type::String), ("weak_values", list.clone())],
            Type::Bool,
            "whether a value is a placeholder: contains a weak value, is `sk-your-…`, or equals its own variable name",
        ),
        sig(
            "is_weak_secret",
            &[("value", Type::String), ("name", Type::String), ("weak_values", list), ("min_length", Type::Int)],
            Type::Bool,
            "a placeholder, or non-empty and shorter than `min_length` characters",
        ),
        sig("redact", &[("value", Type::String)], Type::String, "a value shown redacted (`ad****23`)"),
    ]
}
