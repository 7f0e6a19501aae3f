//! Conversion of document nodes to CEL values.

use std::collections::HashMap;
use std::sync::Arc;

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString,
};
use cel::common::value::Val;
use cel::objects::{Key, Map};
use cel::Value as CelValue;

use crate::model::{Node, Value};

/// Converts a node (and everything below it) to a CEL value.
pub fn to_cel(node: &Node) -> CelValue {
    match &node.value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Int(i) => CelValue::Int(*i),
        Value::Float(f) => CelValue::Float(*f),
        Value::Str(s) => CelValue::String(Arc::new(s.to_string())),
        Value::List(items) => CelValue::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(fields) => {
            let map: HashMap<Key, CelValue> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.to_string())), to_cel(v)))
                .collect();
            CelValue::Map(Map { map: Arc::new(map) })
        }
        Value::Shared(n) => to_cel(n),
    }
}

/// A constant's or param's CEL value as a node (no span), for the fast
/// evaluator; `None` for what a document cannot hold (a uint, bytes, a map
/// with other than string keys…).
pub fn from_cel(v: &CelValue) -> Option<Node> {
    let span = crate::model::Span::default();
    let value = match v {
        CelValue::Null => Value::Null,
        CelValue::Bool(b) => Value::Bool(*b),
        CelValue::Int(i) => Value::Int(*i),
        CelValue::Float(f) => Value::Float(*f),
        CelValue::String(s) => Value::Str(s.as_str().into()),
        CelValue::List(items) => Value::List(items.iter().map(from_cel).collect::<Option<_>>()?),
        CelValue::Map(m) => {
            let mut fields: Vec<(crate::model::Name, Node)> = Vec::with_capacity(m.map.len());
            for (k, v) in m.map.iter() {
                let Key::String(k) = k else { return None };
                fields.push((k.as_str().into(), from_cel(v)?));
            }
            // A stable order (the map's is a hash order).
            fields.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(fields)
        }
        _ => return None,
    };
    Some(Node { span, value })
}

/// Converts a node (and everything below it) to a CEL value that borrows the
/// node's strings: one conversion per document, shared by every rule and every
/// `for` binding (the items of a list are the items of its converted list).
pub fn to_val(node: &Node) -> Box<dyn Val + '_> {
    match &node.value {
        Value::Null => Box::new(CelNull),
        Value::Bool(b) => Box::new(CelBool::from(*b)),
        Value::Int(i) => Box::new(CelInt::from(*i)),
        Value::Float(f) => Box::new(CelDouble::from(*f)),
        Value::Str(s) => Box::new(CelString::from(s.as_str())),
        Value::List(items) => Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>())),
        Value::Object(fields) => {
            let map: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> = fields
                .iter()
                .map(|(k, v)| (CelMapKey::String(CelString::from(k.as_str())), to_val(v)))
                .collect();
            Box::new(CelMap::from(map))
        }
        Value::Shared(n) => to_val(n),
    }
}

/// The field `name` of a map made by [`to_val`].
pub fn val_field<'d>(val: &'d (dyn Val + 'd), name: &str) -> Option<&'d (dyn Val + 'd)> {
    val.downcast_ref::<CelMap>()?
        .inner()
        .iter()
        .find(|(k, _)| matches!(k, CelMapKey::String(s) if s.inner() == name))
        .map(|(_, v)| v.as_ref())
}

/// The items of a list made by [`to_val`].
pub fn val_items<'d>(val: &'d (dyn Val + 'd)) -> Option<&'d [Box<dyn Val + 'd>]> {
    Some(val.downcast_ref::<CelList>()?.inner())
}

/// Renders a CEL value for a message: strings bare, lists joined with `, `.
pub fn display(v: &CelValue) -> String {
    match v {
        CelValue::String(s) => s.to_string(),
        CelValue::Int(i) => i.to_string(),
        CelValue::UInt(u) => u.to_string(),
        CelValue::Float(f) => f.to_string(),
        CelValue::Bool(b) => b.to_string(),
        CelValue::Null => "null".into(),
        CelValue::List(items) => items.iter().map(display).collect::<Vec<_>>().join(", "),
        CelValue::Map(m) => {
            let mut parts: Vec<String> = m
                .map
                .iter()
                .map(|(k, v)| format!("{}: {}", key_display(k), display(v)))
                .collect();
            parts.sort();
            format!("{{{}}}", parts.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn key_display(k: &Key) -> String {
    match k {
        Key::String(s) => s.to_string(),
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
    }
}

/// A short name of a CEL value's type, for messages.
pub fn type_name(v: &CelValue) -> &'static str {
    match v {
        CelValue::List(_) => "list",
        CelValue::Map(_) => "map",
        CelValue::Int(_) => "int",
        CelValue::UInt(_) => "uint",
        CelValue::Float(_) => "float",
        CelValue::String(_) => "string",
        CelValue::Bytes(_) => "bytes",
        CelValue::Bool(_) => "bool",
        CelValue::Null => "null",
        _ => "value",
    }
}
