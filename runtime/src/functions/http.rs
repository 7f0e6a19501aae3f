//! HTTP helpers: response headers of a route and body-size values.

use std::sync::Arc;

use cel::objects::{Key, Value};
use cel::Context;

use super::{sig, Signature};
use crate::model::{Node, Value as NodeValue};
use crate::schema::Type;

/// Bytes in a size as nginx (`10m`, `512k`, `1g`, `0`) or Caddy (`10MB`,
/// `1MiB`, `1.5GB`, `10M`) writes it; `None` when it is not a size.
pub fn size_bytes(text: &str) -> Option<i64> {
    let t = text.trim().trim_matches('"');
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" => 1e12,
        _ => return None,
    };
    // nginx's k/m/g are binary; Caddy's KB/MB are decimal, KiB/MiB binary.
    let mult = match unit.trim() {
        "k" | "K" => 1024.0,
        "m" | "M" => 1024.0 * 1024.0,
        "g" | "G" => 1024.0 * 1024.0 * 1024.0,
        _ => mult,
    };
    let v = n * mult;
    (v.is_finite() && (0.0..9.0e18).contains(&v)).then_some(v as i64)
}

fn str_field<'a>(m: &'a cel::objects::Map, name: &str) -> Option<&'a str> {
    match m.map.get(&Key::String(Arc::new(name.to_string()))) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// The header `name` (case-insensitive) among a route's `headers`, given as
/// each header's `name` and `value` when they are strings (`None` for an
/// item that is not a header): the last one sent wins.
fn find_header<'h>(
    headers: impl DoubleEndedIterator<Item = Option<(Option<&'h str>, Option<&'h str>)>>,
    name: &str,
) -> Option<String> {
    headers.rev().find_map(|h| match h {
        Some((Some(n), value)) if n.eq_ignore_ascii_case(name) => {
            Some(value.unwrap_or("").to_string())
        }
        _ => None,
    })
}

/// The value of response header `name` (case-insensitive) of a route's
/// `headers`, when the route sends it.
pub fn header_value(route: &Value, name: &str) -> Option<String> {
    let Value::Map(m) = route else { return None };
    let Some(Value::List(headers)) = m.map.get(&Key::String(Arc::new("headers".into()))) else {
        return None;
    };
    find_header(
        headers.iter().map(|h| match h {
            Value::Map(hm) => Some((str_field(hm, "name"), str_field(hm, "value"))),
            _ => None,
        }),
        name,
    )
}

/// [`header_value`] of a route read from the document (an object's fields;
/// a repeated key counts once, its last value, as in a CEL map).
pub(crate) fn header_in(route: &[(crate::model::Name, Node)], name: &str) -> Option<String> {
    fn field<'n>(fields: &'n [(crate::model::Name, Node)], key: &str) -> Option<&'n Node> {
        fields.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    let headers = field(route, "headers")?.as_list()?;
    find_header(
        headers.iter().map(|h| match h.value() {
            NodeValue::Object(hm) => Some((
                field(hm, "name").and_then(Node::as_str),
                field(hm, "value").and_then(Node::as_str),
            )),
            _ => None,
        }),
        name,
    )
}

pub(crate) fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    ctx.add_function("size_bytes", |s: Arc<String>| size_bytes(&s).unwrap_or(-1))?;
    ctx.add_function("header", |route: Value, name: Arc<String>| {
        header_value(&route, &name).unwrap_or_default()
    })?;
    ctx.add_function("has_header", |route: Value, name: Arc<String>| {
        header_value(&route, &name).is_some()
    })?;
    Ok(())
}

pub(crate) fn signatures() -> Vec<Signature> {
    vec![
        sig(
            "size_bytes",
            &[("size", Type::String)],
            Type::Int,
            "bytes in a size as nginx (`10m`, binary units) or Caddy (`10MB` decimal, `10MiB` binary) writes it; -1 when it is not a size",
        ),
        sig(
            "header",
            &[("route", Type::Object("Route".into())), ("name", Type::String)],
            Type::String,
            "the value of a route's response header (case-insensitive name), `\"\"` when not sent",
        ),
        sig(
            "has_header",
            &[("route", Type::Object("Route".into())), ("name", Type::String)],
            Type::Bool,
            "whether a route sends a response header (case-insensitive name)",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size_bytes("10m"), Some(10 * 1024 * 1024));
        assert_eq!(size_bytes("10MB"), Some(10_000_000));
        assert_eq!(size_bytes("10MiB"), Some(10 * 1024 * 1024));
        assert_eq!(size_bytes("0"), Some(0));
        assert_eq!(size_bytes("512k"), Some(512 * 1024));
        assert_eq!(size_bytes("1.5GB"), Some(1_500_000_000));
        assert_eq!(size_bytes("lots"), None);
        assert_eq!(size_bytes(""), None);
    }

    #[test]
    fn headers() {
        let mut route = crate::model::Node::object(crate::model::Span::default());
        let h = crate::model::Node::object(crate::model::Span::default())
            .str(
                "name",
                crate::model::Span::default(),
                "Strict-Transport-Security",
            )
            .str("value", crate::model::Span::default(), "max-age=63072000")
            .build();
        route = route.field(
            "headers",
            crate::model::Node::list(crate::model::Span::default(), vec![h]),
        );
        let v = crate::cel_value::to_cel(&route.build());
        assert_eq!(
            header_value(&v, "strict-transport-security").as_deref(),
            Some("max-age=63072000")
        );
        assert_eq!(header_value(&v, "x-frame-options"), None);
    }
}
