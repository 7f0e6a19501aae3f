//! Secret names, weak values and redaction (STDLIB.md § Shared vocabulary).

use std::sync::{Arc, OnceLock};

use cel::objects::Value;
use cel::Context;
use regex::Regex;

use super::{sig, Signature};
use crate::schema::Type;

fn secret_name_re() -> Option<&'static Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        // `AUTH` only as a word of its own (`BASIC_AUTH`, `REDIS_AUTH`), not inside
        // `AUTHELIA_…`, `AUTHENTIK_…`, `AUTHENTICATION_…` or `OAUTH_CLIENT_ID`.
        Regex::new(r"(?i)(PASSWORD|PASSWD|PWD$|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|(^|[^A-Z])AUTH([^A-Z]|$))").ok()
    })
    .as_ref()
}

/// Name suffixes that say a variable holds *about* a secret, not the secret.
///
/// STDLIB.md names `_FILE`, `_PATH`, `_USER`, `_HOST`, `_PORT`; the rest are a
/// documented refinement (docs/policies.md): `POSTGRES_HOST_AUTH_METHOD`,
/// `AUTH_URL`, `TOKEN_TTL` hold settings, not credentials.
const NOT_SECRET_SUFFIXES: &[&str] = &[
    "_FILE",
    "_PATH",
    "_USER",
    "_HOST",
    "_PORT",
    "_METHOD",
    "_URL",
    "_URI",
    "_ENABLED",
    "_ENABLE",
    "_DISABLED",
    "_TYPE",
    "_MODE",
    "_PROVIDER",
    "_TIMEOUT",
    "_TTL",
    "_EXPIRY",
    "_EXPIRES",
    "_EXPIRE",
    "_LENGTH",
    "_ALGORITHM",
    "_ISSUER",
    "_DOMAIN",
    "_ENDPOINT",
    "_USERNAME",
    "_TOKENS",
    "_VERSION",
    "_REQUIRED",
    "_ACTIVE",
    "_LIFETIME",
    "_MINUTES",
    "_SECONDS",
    "_HOURS",
    "_DAYS",
];

/// Whether a variable name is secret-like.
pub fn is_secret_name(name: &str) -> bool {
    // camelCase words become snake_case words first: `AuthCode` → `AUTH_CODE`,
    // `dbPasswordFile` → `DB_PASSWORD_FILE`.
    let mut upper = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.trim().chars() {
        if c.is_ascii_uppercase() && prev_lower {
            upper.push('_');
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        upper.push(c.to_ascii_uppercase());
    }
    if NOT_SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s)) {
        return false;
    }
    secret_name_re().is_some_and(|re| re.is_match(&upper))
}

/// The default list of weak or placeholder values.
pub const WEAK_VALUES: &[&str] = &[
    "admin",
    "admin123",
    "password",
    "passw0rd",
    "changeme",
    "change_me",
    "change-me",
    "change_this",
    "secret",
    "default",
    "example",
    "test",
    "123456",
    "qwerty",
    "letmein",
    "your-secret-key-here",
];

/// Whether `value` is a placeholder: equal to or containing a weak value, an
/// `sk-your-…` key, or the variable's own name. Empty values are not (they are
/// "required, not set").
pub fn is_placeholder(value: &str, name: &str, weak: &[String]) -> bool {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() {
        return false;
    }
    if weak
        .iter()
        .any(|w| !w.is_empty() && v.contains(&w.to_ascii_lowercase()))
    {
        return true;
    }
    if v.starts_with("sk-your-") || v.starts_with("pk-your-") {
        return true;
    }
    !name.is_empty() && v == name.trim().to_ascii_lowercase()
}

/// Whether `value` is weak: a placeholder, or non-empty and shorter than `min_len` characters.
pub fn is_weak_secret(value: &str, name: &str, weak: &[String], min_len: i64) -> bool {
    let len = i64::try_from(value.chars().count()).unwrap_or(i64::MAX);
    is_placeholder(value, name, weak) || (len > 0 && len < min_len)
}

/// Redacts a secret for display: the first two and last two characters
/// around `****` (8 characters), or `********` for values under 8 characters.
pub fn redact(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 8 {
        return "********".into();
    }
    let head: String = chars.iter().take(2).collect();
    let tail: String = chars.iter().skip(chars.len() - 2).collect();
    format!("{head}****{tail}")
}

fn strings(list: &Arc<Vec<Value>>) -> Vec<String> {
    list.iter()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.to_string()),
            _ => None,
        })
        .collect()
}

pub(crate) fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    ctx.add_function("is_secret_name", |n: Arc<String>| is_secret_name(&n))?;
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
            "whether a variable name is secret-like (PASSWORD, SECRET, TOKEN, API_KEY…; not *_FILE, *_PATH, *_USER, *_HOST, *_PORT…)",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn weak() -> Vec<String> {
        WEAK_VALUES.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn secret_names() {
        for n in [
            "POSTGRES_PASSWORD",
            "GF_SECURITY_ADMIN_PASSWORD",
            "API_KEY",
            "apikey",
            "JWT_SECRET",
            "GITHUB_TOKEN",
            "DB_PWD",
            "AWS_ACCESS_KEY_ID",
            "BASIC_AUTH",
            "AUTH",
            "redis_auth_pass",
            "OAUTH2_CLIENT_SECRET",
            "AuthCode",
            "dbPassword",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "POSTGRES_PASSWORD_FILE",
            "POSTGRES_USER",
            "REDIS_HOST",
            "REDIS_PORT",
            "POSTGRES_HOST_AUTH_METHOD",
            "IMAGE",
            "PWD_HINT",
            "X_AUTHELIA_CONFIG",
            "AUTHENTIK_VERSION",
            "AUTHENTICATION_GUARD",
            "OAUTH_CLIENT_ID",
            "CHATGPT_MAX_TOKENS",
            "N8N_BASIC_AUTH_ACTIVE",
            "ACCESS_TOKEN_LIFETIME",
            "dbPasswordFile",
            "authorName",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn weak_values() {
        assert!(is_weak_secret(
            "admin123_CHANGE_ME",
            "POSTGRES_PASSWORD",
            &weak(),
            16
        ));
        assert!(is_weak_secret(
            "change_this_redis_secret_now",
            "REDIS_PASSWORD",
            &weak(),
            16
        ));
        assert!(is_weak_secret("short1", "X_SECRET", &weak(), 16));
        assert!(is_weak_secret("X_SECRET", "x_secret", &weak(), 1));
        assert!(is_weak_secret(
            "sk-your-key-goes-here-1234",
            "OPENAI_API_KEY",
            &weak(),
            16
        ));
        assert!(!is_weak_secret("", "X_SECRET", &weak(), 16));
        assert!(!is_weak_secret(
            "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
            "X_SECRET",
            &weak(),
            16
        ));
    }

    #[test]
    fn redaction() {
        assert_eq!(redact("admin123"), "ad****23");
        assert_eq!(redact("cdb_secure_password"), "cd****rd");
        assert_eq!(redact("abc"), "********");
        assert_eq!(redact("ééééééééé").chars().count(), 8);
    }
}
