//! The schema of every target: the single source of truth for what fields a
//! policy may read, with their types and one-line docs.
//!
//! Front ends build [`crate::model::Node`] trees that follow these types; the
//! compiler checks policy field access against them; `rampart schema` prints
//! them; a test validates every node the front ends produce on the corpus.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{Node, Value};

/// A type in the schema (and of a policy `param`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Type {
    /// Anything (no static check).
    Any,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `string`
    String,
    /// `list<T>`
    List(Box<Type>),
    /// `map<string, T>`
    Map(Box<Type>),
    /// A named object type of the schema.
    Object(String),
}

impl Type {
    /// Parses a type as written in schema definitions and policy params:
    /// `string`, `int`, `bool`, `float`, `any`, `list<T>`, `map<string, T>`, or an
    /// object type name.
    pub fn parse(text: &str) -> Option<Type> {
        let t = text.trim();
        if let Some(inner) = t.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
            return Type::parse(inner).map(|i| Type::List(Box::new(i)));
        }
        if let Some(inner) = t.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
            let (k, v) = inner.split_once(',')?;
            if k.trim() != "string" {
                return None;
            }
            return Type::parse(v).map(|i| Type::Map(Box::new(i)));
        }
        match t {
            "any" | "dyn" => Some(Type::Any),
            "bool" => Some(Type::Bool),
            "int" => Some(Type::Int),
            "float" | "double" => Some(Type::Float),
            "string" => Some(Type::String),
            _ if !t.is_empty()
                && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && t.chars().next().is_some_and(|c| c.is_ascii_uppercase()) =>
            {
                Some(Type::Object(t.to_string()))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Any => write!(f, "any"),
            Type::Bool => write!(f, "bool"),
            Type::Int => write!(f, "int"),
            Type::Float => write!(f, "float"),
            Type::String => write!(f, "string"),
            Type::List(t) => write!(f, "list<{t}>"),
            Type::Map(t) => write!(f, "map<string, {t}>"),
            Type::Object(n) => write!(f, "{n}"),
        }
    }
}

/// One field of an object type.
#[derive(Clone, Debug)]
pub struct Field {
    /// Field name as policies write it.
    pub name: &'static str,
    /// Its type.
    pub ty: Type,
    /// Whether it may be absent (guard with `has()`).
    pub optional: bool,
    /// One-line documentation.
    pub doc: &'static str,
}

/// A named object type.
#[derive(Clone, Debug)]
pub struct ObjectType {
    /// Type name (`Service`, `Port`…).
    pub name: &'static str,
    /// One-line documentation.
    pub doc: &'static str,
    /// Fields in documentation order.
    pub fields: Vec<Field>,
}

impl ObjectType {
    /// The field `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A target: a kind of document policies iterate (`compose`, `dockerfile`…).
#[derive(Clone, Debug)]
pub struct Target {
    /// The root name policies use (`compose`).
    pub name: &'static str,
    /// The object type of one document of this target.
    pub root: &'static str,
    /// One-line documentation.
    pub doc: &'static str,
}

/// All targets and types.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    types: BTreeMap<&'static str, ObjectType>,
    targets: Vec<Target>,
}

/// Builds one object type; see [`Schema::object`].
pub struct ObjectDef<'a> {
    schema: &'a mut Schema,
    ty: ObjectType,
}

impl ObjectDef<'_> {
    /// A field that is always present.
    ///
    /// A malformed type string is a bug in this crate; the schema meta-test
    /// (`every_schema_type_resolves`) catches it, and here it degrades to `any`.
    pub fn field(mut self, name: &'static str, ty: &str, doc: &'static str) -> Self {
        self.ty.fields.push(Field {
            name,
            ty: Type::parse(ty).unwrap_or(Type::Any),
            optional: false,
            doc,
        });
        self
    }
    /// A field that may be absent.
    pub fn opt(mut self, name: &'static str, ty: &str, doc: &'static str) -> Self {
        self.ty.fields.push(Field {
            name,
            ty: Type::parse(ty).unwrap_or(Type::Any),
            optional: true,
            doc,
        });
        self
    }
    /// Registers the type.
    pub fn done(self) {
        self.schema.types.insert(self.ty.name, self.ty);
    }
}

impl Schema {
    /// The schema of every target this runtime knows.
    /// (each format's schema, composed in the order of
    /// [`crate::formats::registry::FORMATS`]).
    pub fn standard() -> Schema {
        crate::formats::registry::schema()
    }

    /// Starts an object type definition.
    pub fn object(&mut self, name: &'static str, doc: &'static str) -> ObjectDef<'_> {
        ObjectDef {
            schema: self,
            ty: ObjectType {
                name,
                doc,
                fields: Vec::new(),
            },
        }
    }

    /// Registers a target (again: replaced).
    pub fn target(
        &mut self,
        target: crate::formats::registry::Target,
        root: &'static str,
        doc: &'static str,
    ) {
        let name = target.name();
        self.targets.retain(|t| t.name != name);
        self.targets.push(Target { name, root, doc });
    }

    /// Orders the targets by `rank` of their names (unranked ones last,
    /// each group in registration order).
    pub fn sort_targets(&mut self, rank: impl Fn(&str) -> Option<usize>) {
        self.targets
            .sort_by_key(|t| rank(t.name).unwrap_or(usize::MAX));
    }

    /// The object type `name`.
    pub fn get(&self, name: &str) -> Option<&ObjectType> {
        self.types.get(name)
    }

    /// The target `name`.
    pub fn target_named(&self, name: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.name == name)
    }

    /// All targets, in registration order.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// All object types, by name.
    pub fn types(&self) -> impl Iterator<Item = &ObjectType> {
        self.types.values()
    }

    /// Checks that `node` conforms to `ty`, collecting a message per mismatch
    /// with its path. Used by tests to keep the front ends honest.
    pub fn validate(&self, node: &Node, ty: &Type, path: &str, errors: &mut Vec<String>) {
        match (ty, node.value()) {
            (Type::Any, _) => {}
            (Type::Bool, Value::Bool(_))
            | (Type::Int, Value::Int(_))
            | (Type::Float, Value::Float(_) | Value::Int(_))
            | (Type::String, Value::Str(_)) => {}
            (Type::List(inner), Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    self.validate(item, inner, &format!("{path}[{i}]"), errors);
                }
            }
            (Type::Map(inner), Value::Object(fields)) => {
                for (k, v) in fields {
                    self.validate(v, inner, &format!("{path}[{k:?}]"), errors);
                }
            }
            (Type::Object(name), Value::Object(fields)) => {
                let Some(def) = self.get(name) else {
                    errors.push(format!("{path}: unknown type {name}"));
                    return;
                };
                for (k, v) in fields {
                    match def.field(k) {
                        Some(f) => self.validate(v, &f.ty, &format!("{path}.{k}"), errors),
                        None => errors.push(format!("{path}: field {k} not in {name}")),
                    }
                }
                for f in &def.fields {
                    if !f.optional && !fields.iter().any(|(k, _)| k == f.name) {
                        errors.push(format!("{path}: required field {} missing", f.name));
                    }
                }
            }
            (t, v) => errors.push(format!("{path}: expected {t}, found {v:?}")),
        }
    }
}

/// Every object type named anywhere in a schema, for the meta-test.
pub fn referenced_types(ty: &Type, out: &mut Vec<String>) {
    match ty {
        Type::List(t) | Type::Map(t) => referenced_types(t, out),
        Type::Object(n) => out.push(n.clone()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_parse_roundtrip() {
        for t in [
            "string",
            "int",
            "bool",
            "float",
            "any",
            "list<string>",
            "list<Port>",
            "map<string, string>",
        ] {
            let parsed = Type::parse(t).unwrap();
            assert_eq!(Type::parse(&parsed.to_string()), Some(parsed));
        }
        assert_eq!(Type::parse("list<"), None);
        assert_eq!(Type::parse("map<int, string>"), None);
        assert_eq!(Type::parse("lower"), None);
    }

    #[test]
    fn every_schema_type_resolves() {
        let s = Schema::standard();
        for t in s.targets() {
            assert!(s.get(t.root).is_some(), "target {} root {}", t.name, t.root);
        }
        for ty in s.types() {
            for f in &ty.fields {
                let mut names = Vec::new();
                referenced_types(&f.ty, &mut names);
                for n in names {
                    assert!(
                        s.get(&n).is_some(),
                        "{}.{} names unknown type {n}",
                        ty.name,
                        f.name
                    );
                }
            }
        }
    }
}
