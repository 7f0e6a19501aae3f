//! Static checks of CEL expressions against the runtime schemas: unknown
//! variables, unknown fields (with "did you mean"), unknown functions, wrong
//! arity of custom functions, and non-boolean conditions where the type is known.

use std::collections::HashMap;

use cel::common::ast::{Expr, IdedExpr, LiteralValue};
use rampart_runtime::functions::Signature;
use rampart_runtime::schema::{Schema, Type};

use crate::diagnostics::did_you_mean;

/// What a name in scope stands for.
#[derive(Clone, Debug)]
pub enum Binding {
    /// A value of a type.
    Value(Type),
    /// A package: its constants and params by name.
    Package(HashMap<String, Type>),
}

/// A problem found in one expression, at a byte range of its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckError {
    /// Stable code.
    pub code: &'static str,
    /// Start in the expression text.
    pub start: usize,
    /// End in the expression text.
    pub end: usize,
    /// Message.
    pub message: String,
    /// Help.
    pub help: Option<String>,
}

/// Functions of CEL's standard library (operators aside).
const CEL_FUNCTIONS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "string",
    "int",
    "uint",
    "double",
    "bool",
    "bytes",
    "type",
    "dyn",
    "max",
    "min",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    // the `strings` extension
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "split",
    "substring",
    "trim",
    "join",
    "quote",
    "reverse",
    "format",
];

/// The checker for one expression.
pub struct Checker<'a> {
    /// Schemas of every target.
    pub schema: &'a Schema,
    /// Custom function signatures.
    pub functions: &'a [Signature],
    /// Def names and their arity (`None` for defs without parentheses).
    pub defs: &'a HashMap<String, Option<usize>>,
    /// Names in scope.
    pub scope: HashMap<String, Binding>,
    /// Offsets of the program's nodes.
    pub offsets: &'a dyn Fn(u64) -> Option<(usize, usize)>,
    /// The expression text (to underline a field name after its `.`).
    pub text: &'a str,
    /// Problems found.
    pub errors: Vec<CheckError>,
    /// Names of the scope that the expression used.
    pub used: Vec<String>,
}

impl Checker<'_> {
    fn err(&mut self, id: u64, code: &'static str, message: String, help: Option<String>) {
        let (start, end) = (self.offsets)(id).unwrap_or((0, 0));
        self.errors.push(CheckError {
            code,
            start,
            end,
            message,
            help,
        });
    }

    /// Infers the type of `e`, reporting what is wrong. `Any` where unknown.
    pub fn infer(&mut self, e: &IdedExpr) -> Type {
        match &e.expr {
            Expr::Literal(l) => match l {
                LiteralValue::Boolean(_) => Type::Bool,
                LiteralValue::Int(_) | LiteralValue::UInt(_) => Type::Int,
                LiteralValue::Double(_) => Type::Float,
                LiteralValue::String(_) => Type::String,
                _ => Type::Any,
            },
            Expr::Ident(name) => match self.scope.get(name) {
                Some(Binding::Value(t)) => {
                    let t = t.clone();
                    self.used.push(name.clone());
                    t
                }
                Some(Binding::Package(_)) => {
                    self.used.push(name.clone());
                    Type::Any
                }
                None => {
                    if self.defs.contains_key(name) {
                        return Type::Any;
                    }
                    let names: Vec<String> = self.scope.keys().cloned().collect();
                    let help = did_you_mean(name, names.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"));
                    self.err(e.id, "E0201", format!("unknown name `{name}`"), help);
                    Type::Any
                }
            },
            Expr::Select(sel) => {
                // `pkg.name` for another package's constants and params.
                if let Expr::Ident(root) = &sel.operand.expr {
                    if let Some(Binding::Package(members)) = self.scope.get(root) {
                        self.used.push(root.clone());
                        if let Some(t) = members.get(&sel.field) {
                            return t.clone();
                        }
                        let help = did_you_mean(&sel.field, members.keys().map(String::as_str))
                            .map(|s| format!("did you mean `{s}`?"));
                        let field = sel.field.clone();
                        self.err(
                            e.id,
                            "E0202",
                            format!("package `{root}` has no constant or param `{field}`"),
                            help,
                        );
                        return Type::Any;
                    }
                }
                let operand = self.infer(&sel.operand);
                let before = self.errors.len();
                let t = self.field_type(e.id, &operand, &sel.field);
                // Underline the field name, not the `.` CEL attributes the node to.
                for err in self.errors.iter_mut().skip(before) {
                    let rest = self.text.get(err.start..).unwrap_or("");
                    if let Some(dot_rest) = rest.strip_prefix('.') {
                        let ws = dot_rest.len() - dot_rest.trim_start().len();
                        if dot_rest.trim_start().starts_with(sel.field.as_str()) {
                            err.start += 1 + ws;
                            err.end = err.start + sel.field.len();
                        }
                    }
                }
                if sel.test {
                    Type::Bool
                } else {
                    t
                }
            }
            Expr::Call(call) => self.call(e.id, call),
            Expr::List(list) => {
                let mut elem: Option<Type> = None;
                for x in &list.elements {
                    let t = self.infer(x);
                    elem = match elem {
                        None => Some(t),
                        Some(prev) if prev == t => Some(prev),
                        Some(_) => Some(Type::Any),
                    };
                }
                Type::List(Box::new(elem.unwrap_or(Type::Any)))
            }
            Expr::Map(m) => {
                for entry in &m.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(me) = &entry.expr {
                        self.infer(&me.key);
                        self.infer(&me.value);
                    }
                }
                Type::Map(Box::new(Type::Any))
            }
            Expr::Comprehension(c) => {
                let range = self.infer(&c.iter_range);
                let elem = match &range {
                    Type::List(t) => (**t).clone(),
                    Type::Map(_) => Type::String,
                    Type::Any => Type::Any,
                    other => {
                        self.err(
                            c.iter_range.id,
                            "E0301",
                            format!("cannot iterate over a `{other}`"),
                            None,
                        );
                        Type::Any
                    }
                };
                let saved: Vec<(String, Option<Binding>)> = [&c.iter_var, &c.accu_var]
                    .into_iter()
                    .chain(c.iter_var2.as_ref())
                    .map(|n| (n.clone(), self.scope.get(n).cloned()))
                    .collect();
                let accu = self.infer(&c.accu_init);
                self.scope.insert(c.accu_var.clone(), Binding::Value(accu));
                self.scope
                    .insert(c.iter_var.clone(), Binding::Value(elem.clone()));
                if let Some(v2) = &c.iter_var2 {
                    self.scope.insert(v2.clone(), Binding::Value(Type::Any));
                }
                self.infer(&c.loop_cond);
                let step = self.infer(&c.loop_step);
                // For `map`/`filter` the accumulator is a list of what the step adds.
                self.scope.insert(c.accu_var.clone(), Binding::Value(step));
                let result = self.infer(&c.result);
                for (n, b) in saved {
                    match b {
                        Some(b) => self.scope.insert(n, b),
                        None => self.scope.remove(&n),
                    };
                }
                self.used.retain(|u| u != &c.iter_var && u != &c.accu_var);
                result
            }
            Expr::Struct(_) | Expr::Unspecified => Type::Any,
        }
    }

    fn field_type(&mut self, id: u64, operand: &Type, field: &str) -> Type {
        match operand {
            Type::Object(name) => {
                let Some(def) = self.schema.get(name) else {
                    return Type::Any;
                };
                match def.field(field) {
                    Some(f) => f.ty.clone(),
                    None => {
                        let help = did_you_mean(field, def.fields.iter().map(|f| f.name))
                            .map(|s| format!("did you mean `{s}`?"));
                        let fields: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
                        let help =
                            help.or_else(|| Some(format!("`{name}` has: {}", fields.join(", "))));
                        self.err(
                            id,
                            "E0202",
                            format!("`{name}` has no field `{field}`"),
                            help,
                        );
                        Type::Any
                    }
                }
            }
            Type::Map(v) => (**v).clone(),
            Type::Any => Type::Any,
            other => {
                self.err(
                    id,
                    "E0203",
                    format!("a `{other}` has no field `{field}`"),
                    None,
                );
                Type::Any
            }
        }
    }

    fn call(&mut self, id: u64, call: &cel::common::ast::CallExpr) -> Type {
        let name = call.func_name.as_str();
        let target = call.target.as_ref().map(|t| self.infer(t));
        let args: Vec<Type> = call.args.iter().map(|a| self.infer(a)).collect();
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Type::Any);
        match name {
            "_&&_" | "_||_" | "!_" | "@not_strictly_false" => {
                for (i, t) in args.iter().enumerate() {
                    if !matches!(t, Type::Bool | Type::Any) {
                        let aid = call.args.get(i).map_or(id, |a| a.id);
                        self.err(
                            aid,
                            "E0302",
                            format!("expected a bool, found a `{t}`"),
                            None,
                        );
                    }
                }
                Type::Bool
            }
            "_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_" => {
                let (a, b) = (arg(0), arg(1));
                if !comparable(&a, &b) {
                    self.err(
                        id,
                        "E0303",
                        format!("cannot compare {} with {}", a_an(&a), a_an(&b)),
                        None,
                    );
                }
                Type::Bool
            }
            "@in" => {
                let (a, b) = (arg(0), arg(1));
                match &b {
                    Type::List(elem) if !comparable(&a, elem) => {
                        self.err(
                            id,
                            "E0303",
                            format!("cannot look for {} in {}", a_an(&a), a_an(&b)),
                            None,
                        );
                    }
                    Type::String | Type::Int | Type::Bool | Type::Float | Type::Object(_) => {
                        self.err(
                            id,
                            "E0303",
                            format!("`in` needs a list or map on the right, found a `{b}`"),
                            None,
                        );
                    }
                    _ => {}
                }
                Type::Bool
            }
            "_+_" => match (arg(0), arg(1)) {
                (a, b) if a == b => a,
                _ => Type::Any,
            },
            "_-_" | "_*_" | "_/_" | "_%_" | "-_" => arg(0),
            "_?_:_" => {
                if arg(1) == arg(2) {
                    arg(1)
                } else {
                    Type::Any
                }
            }
            "_[_]" | "_[?_]" => match arg(0) {
                Type::List(t) | Type::Map(t) => *t,
                _ => Type::Any,
            },
            "size" | "int" | "uint" => Type::Int,
            "contains" | "startsWith" | "endsWith" | "matches" | "bool" | "exists" | "all"
            | "exists_one" | "has" => Type::Bool,
            "string" | "lowerAscii" | "upperAscii" | "replace" | "substring" | "trim" | "join"
            | "charAt" | "quote" | "reverse" | "format" => Type::String,
            "indexOf" | "lastIndexOf" => Type::Int,
            "split" => Type::List(Box::new(Type::String)),
            "double" => Type::Float,
            "type" | "dyn" | "bytes" | "max" | "min" | "map" | "filter" | "_?._" => Type::Any,
            _ => {
                if let Some(sig) = self.functions.iter().find(|s| s.name == name) {
                    let given = args.len() + usize::from(target.is_some());
                    if given != sig.params.len() {
                        self.err(
                            id,
                            "E0305",
                            format!(
                                "`{name}` takes {} argument(s), {given} given",
                                sig.params.len()
                            ),
                            Some(format!(
                                "{name}({})",
                                sig.params
                                    .iter()
                                    .map(|(n, t)| format!("{n}: {t}"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )),
                        );
                    } else {
                        let all: Vec<Type> =
                            target.iter().cloned().chain(args.iter().cloned()).collect();
                        for (i, ((pname, want), got)) in
                            sig.params.iter().zip(all.iter()).enumerate()
                        {
                            if !assignable(got, want) {
                                let aid = call.args.get(i).map_or(id, |a| a.id);
                                self.err(aid, "E0306", format!("argument `{pname}` of `{name}` must be a `{want}`, found a `{got}`"), None);
                            }
                        }
                    }
                    return sig.result.clone();
                }
                if self.defs.contains_key(name) || CEL_FUNCTIONS.contains(&name) {
                    return Type::Any;
                }
                let known: Vec<&str> = self
                    .functions
                    .iter()
                    .map(|s| s.name)
                    .chain(CEL_FUNCTIONS.iter().copied())
                    .chain(self.defs.keys().map(String::as_str))
                    .collect();
                let help = did_you_mean(name, known.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"));
                self.err(id, "E0304", format!("unknown function `{name}`"), help);
                Type::Any
            }
        }
    }
}

/// "a `string`", "an `int`".
fn a_an(t: &Type) -> String {
    let s = t.to_string();
    let article = if s.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} `{s}`")
}

fn comparable(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Any, _) | (_, Type::Any) => true,
        (Type::Int, Type::Float) | (Type::Float, Type::Int) => true,
        (Type::List(x), Type::List(y)) => comparable(x, y),
        (x, y) => x == y,
    }
}

fn assignable(got: &Type, want: &Type) -> bool {
    match (got, want) {
        (Type::Any, _) | (_, Type::Any) => true,
        (Type::List(g), Type::List(w)) => assignable(g, w),
        (Type::Int, Type::Float) => true,
        (g, w) => g == w,
    }
}

/// The type of a CEL value computed at compile time (constants, param defaults).
pub fn type_of_value(v: &cel::Value) -> Type {
    match v {
        cel::Value::Bool(_) => Type::Bool,
        cel::Value::Int(_) | cel::Value::UInt(_) => Type::Int,
        cel::Value::Float(_) => Type::Float,
        cel::Value::String(_) => Type::String,
        cel::Value::List(items) => {
            let mut elem: Option<Type> = None;
            for i in items.iter() {
                let t = type_of_value(i);
                elem = match elem {
                    None => Some(t),
                    Some(p) if p == t => Some(p),
                    Some(_) => Some(Type::Any),
                };
            }
            Type::List(Box::new(elem.unwrap_or(Type::Any)))
        }
        cel::Value::Map(_) => Type::Map(Box::new(Type::Any)),
        _ => Type::Any,
    }
}

/// Whether a value fits a declared type (empty lists fit any list type).
pub fn value_fits(v: &cel::Value, t: &Type) -> bool {
    match (t, v) {
        (Type::Any, _) => true,
        (Type::Bool, cel::Value::Bool(_)) => true,
        (Type::Int, cel::Value::Int(_) | cel::Value::UInt(_)) => true,
        (Type::Float, cel::Value::Float(_) | cel::Value::Int(_)) => true,
        (Type::String, cel::Value::String(_)) => true,
        (Type::List(inner), cel::Value::List(items)) => items.iter().all(|i| value_fits(i, inner)),
        (Type::Map(inner), cel::Value::Map(m)) => m.map.values().all(|i| value_fits(i, inner)),
        _ => false,
    }
}
