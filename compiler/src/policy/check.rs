//! Static checks of CEL expressions against the runtime schemas: unknown
//! names, fields (with "did you mean") and functions; arity and argument types
//! of custom and standard functions; comprehension variables typed by their
//! list's element type; incompatible comparisons; non-boolean conditions; and
//! optional schema fields read without a `has()` guard (a warning).
//!
//! Guards are tracked as facts "this path is present" ([`Checker::facts`]):
//! `has(a.b)` makes `a.b` present where it is true, `!` swaps true and false,
//! `x && y` checks each side with what the other side being true implies,
//! `x || y` with what the other side being false implies (CEL's `&&`/`||`
//! absorb an error on one side when the other decides), `c ? x : y` checks `x`
//! where `c` is true and `y` where it is false. Def calls contribute the facts
//! of their bodies with parameters replaced by the argument paths. When a
//! path cannot be named statically (`xs[0].a`), no warning is given.

use std::collections::HashMap;

use cel::common::ast::{Expr, IdedExpr, LiteralValue};
use rampart_runtime::functions::Signature;
use rampart_runtime::schema::{Schema, Type};

use crate::diagnostics::{did_you_mean, Code};

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
    pub code: Code,
    /// Start in the expression text.
    pub start: usize,
    /// End in the expression text.
    pub end: usize,
    /// Message.
    pub message: String,
    /// Help.
    pub help: Option<String>,
    /// Set for a problem in a def body: the file, and then `start`/`end`
    /// are offsets in that file rather than in the expression text.
    pub source: Option<u32>,
}

/// A def's parameters and parsed body, so a call's guard facts can be known
/// and the body checked with the types of a call's arguments.
#[derive(Clone, Debug)]
pub struct DefAst {
    /// Parameter names.
    pub params: Vec<String>,
    /// The body.
    pub body: IdedExpr,
    /// The file of the def.
    pub source: u32,
    /// Where the body's text starts in that file.
    pub start: usize,
    /// The body's text.
    pub text: String,
    /// The parsed body (for its nodes' offsets).
    pub program: std::sync::Arc<cel::Program>,
    /// For a def seen through `import pkg`: its package. Its body's
    /// problems are then reported at the call.
    pub package: Option<String>,
}

/// What a standard function's operand must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Any,
    Str,
    Int,
    /// `int`, `float` or `string` (numeric conversions).
    Convertible,
    /// `bool` or `string`.
    BoolOrStr,
    List,
    /// A list of strings (`join`).
    StrList,
    /// A string, list or map (`size`).
    Sized,
}

impl Want {
    fn accepts(self, t: &Type) -> bool {
        match (self, t) {
            (_, Type::Any) | (Want::Any, _) => true,
            (Want::Str, Type::String) | (Want::Int, Type::Int) => true,
            (Want::Convertible, Type::Int | Type::Float | Type::String) => true,
            (Want::BoolOrStr, Type::Bool | Type::String) => true,
            (Want::List, Type::List(_)) => true,
            (Want::StrList, Type::List(e)) => matches!(**e, Type::String | Type::Any),
            (Want::Sized, Type::String | Type::List(_) | Type::Map(_)) => true,
            _ => false,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Want::Any => "`any`",
            Want::Str => "a `string`",
            Want::Int => "an `int`",
            Want::Convertible => "an `int`, `float` or `string`",
            Want::BoolOrStr => "a `bool` or `string`",
            Want::List => "a `list`",
            Want::StrList => "a `list<string>`",
            Want::Sized => "a `string`, `list` or `map`",
        }
    }
}

/// How a standard function is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `x.f(…)` only.
    Method,
    /// `f(…)` only.
    Global,
    /// Either; the global form takes the receiver as its first argument.
    Both,
}

/// A function of CEL's standard library or `strings` extension: how it is
/// called, what its receiver and arguments must be (one list per arity),
/// and what it returns.
struct StdFn {
    name: &'static str,
    style: Style,
    receiver: Want,
    arities: &'static [&'static [Want]],
    result: fn() -> Type,
}

const STD_FUNCTIONS: &[StdFn] = &[
    StdFn {
        name: "size",
        style: Style::Both,
        receiver: Want::Sized,
        arities: &[&[]],
        result: || Type::Int,
    },
    StdFn {
        name: "contains",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Str]],
        result: || Type::Bool,
    },
    StdFn {
        name: "startsWith",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Str]],
        result: || Type::Bool,
    },
    StdFn {
        name: "endsWith",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Str]],
        result: || Type::Bool,
    },
    StdFn {
        name: "matches",
        style: Style::Both,
        receiver: Want::Str,
        arities: &[&[Want::Str]],
        result: || Type::Bool,
    },
    StdFn {
        name: "string",
        style: Style::Global,
        receiver: Want::Any,
        arities: &[&[]],
        result: || Type::String,
    },
    StdFn {
        name: "int",
        style: Style::Global,
        receiver: Want::Convertible,
        arities: &[&[]],
        result: || Type::Int,
    },
    StdFn {
        name: "uint",
        style: Style::Global,
        receiver: Want::Convertible,
        arities: &[&[]],
        result: || Type::Int,
    },
    StdFn {
        name: "double",
        style: Style::Global,
        receiver: Want::Convertible,
        arities: &[&[]],
        result: || Type::Float,
    },
    StdFn {
        name: "bool",
        style: Style::Global,
        receiver: Want::BoolOrStr,
        arities: &[&[]],
        result: || Type::Bool,
    },
    StdFn {
        name: "bytes",
        style: Style::Global,
        receiver: Want::Str,
        arities: &[&[]],
        result: || Type::Any,
    },
    StdFn {
        name: "type",
        style: Style::Global,
        receiver: Want::Any,
        arities: &[&[]],
        result: || Type::Any,
    },
    StdFn {
        name: "dyn",
        style: Style::Global,
        receiver: Want::Any,
        arities: &[&[]],
        result: || Type::Any,
    },
    // the `strings` extension
    StdFn {
        name: "charAt",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Int]],
        result: || Type::String,
    },
    StdFn {
        name: "indexOf",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Str], &[Want::Str, Want::Int]],
        result: || Type::Int,
    },
    StdFn {
        name: "lastIndexOf",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Str], &[Want::Str, Want::Int]],
        result: || Type::Int,
    },
    StdFn {
        name: "lowerAscii",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[]],
        result: || Type::String,
    },
    StdFn {
        name: "upperAscii",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[]],
        result: || Type::String,
    },
    StdFn {
        name: "trim",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[]],
        result: || Type::String,
    },
    StdFn {
        name: "reverse",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[]],
        result: || Type::String,
    },
    StdFn {
        name: "replace",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Str, Want::Str], &[Want::Str, Want::Str, Want::Int]],
        result: || Type::String,
    },
    StdFn {
        name: "split",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Str], &[Want::Str, Want::Int]],
        result: || Type::List(Box::new(Type::String)),
    },
    StdFn {
        name: "substring",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::Int], &[Want::Int, Want::Int]],
        result: || Type::String,
    },
    StdFn {
        name: "join",
        style: Style::Method,
        receiver: Want::StrList,
        arities: &[&[], &[Want::Str]],
        result: || Type::String,
    },
    StdFn {
        name: "format",
        style: Style::Method,
        receiver: Want::Str,
        arities: &[&[Want::List]],
        result: || Type::String,
    },
];

/// Functions of CEL's standard library that take any arguments (operators,
/// macros and those in [`STD_FUNCTIONS`] aside).
const CEL_VARIADIC: &[&str] = &[
    "max",
    "min",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
];

/// Every standard function name, for "did you mean".
fn std_names() -> impl Iterator<Item = &'static str> {
    STD_FUNCTIONS
        .iter()
        .map(|f| f.name)
        .chain(CEL_VARIADIC.iter().copied())
}

/// The checker for one expression.
pub struct Checker<'a> {
    /// Schemas of every target.
    pub schema: &'a Schema,
    /// Custom function signatures.
    pub functions: &'a [Signature],
    /// Def names and their arity (`None` for defs without parentheses).
    pub defs: &'a HashMap<String, Option<usize>>,
    /// Parsed def bodies (for the guard facts of def calls).
    pub def_asts: &'a HashMap<String, DefAst>,
    /// Names in scope.
    pub scope: HashMap<String, Binding>,
    /// Paths known to be present here (`service.image`), from enclosing
    /// `where` clauses, the `when` of a message, and guards met on the way.
    pub guards: Vec<String>,
    /// Offsets of the program's nodes.
    pub offsets: &'a dyn Fn(u64) -> Option<(usize, usize)>,
    /// The expression text (to underline a field name after its `.`).
    pub text: &'a str,
    /// Problems found.
    pub errors: Vec<CheckError>,
    /// Warnings found (optional fields read without a guard).
    pub warnings: Vec<CheckError>,
    /// Names of the scope that the expression used.
    pub used: Vec<String>,
    /// The text range of each node with everything below it (see [`Checker::run`]).
    pub extents: HashMap<u64, (usize, usize)>,
    /// The names in scope outside every macro: what a def body sees (with
    /// its parameters), since inlining renames the macro variables.
    pub base_scope: HashMap<String, Binding>,
    /// How many def bodies this checker is inside.
    pub depth: usize,
    /// The type of each def body checked so far, by def and argument types
    /// (each is checked once per expression).
    pub def_types: HashMap<String, Type>,
}

/// A node id and its inferred type.
type Typed = (u64, Type);

/// How deep def bodies are followed for guard facts.
const MAX_FACT_DEPTH: usize = 16;

impl Checker<'_> {
    fn problem(&self, id: u64, code: Code, message: String, help: Option<String>) -> CheckError {
        let (start, end) = (self.offsets)(id).unwrap_or((0, 0));
        CheckError {
            code,
            start,
            end,
            message,
            help,
            source: None,
        }
    }

    fn err(&mut self, id: u64, code: Code, message: String, help: Option<String>) {
        let p = self.problem(id, code, message, help);
        self.errors.push(p);
    }

    /// An error underlining the whole subexpression `id`.
    fn err_wide(&mut self, id: u64, code: Code, message: String) {
        let (start, end) = self
            .extents
            .get(&id)
            .copied()
            .or_else(|| (self.offsets)(id))
            .unwrap_or((0, 0));
        self.errors.push(CheckError {
            code,
            start,
            end,
            message,
            help: None,
            source: None,
        });
    }

    /// Checks the body of def `name` called with arguments of `args` types
    /// (each with its node), in the scope outside the macros plus its
    /// parameters; returns its type. Its errors are located in the def's
    /// file, but for a def imported from another package (`import pkg`):
    /// that body is not the caller's to fix, so its errors become one E0306
    /// at the call, on the argument that does not fit. Its warnings (about
    /// optional fields) are dropped, as the call site's guards are not
    /// followed into the body.
    fn check_def(&mut self, call: u64, name: &str, args: Vec<(u64, Type)>) -> Type {
        let asts = self.def_asts;
        let Some(def) = asts.get(name) else {
            return Type::Any;
        };
        if self.depth >= MAX_FACT_DEPTH || def.params.len() != args.len() {
            return Type::Any;
        }
        let types: Vec<Type> = args.iter().map(|a| a.1.clone()).collect();
        let key = format!(
            "{name}({})",
            types
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(t) = self.def_types.get(&key) {
            return t.clone();
        }
        // A def met again while its own body is checked stays `Any`.
        self.def_types.insert(key.clone(), Type::Any);
        let (t, errors) = self.check_body(def, types.clone());
        match &def.package {
            Some(pkg) if !errors.is_empty() => {
                // The first argument that alone makes the body fail.
                let culprit = (0..types.len()).find(|&i| {
                    let only: Vec<Type> = types
                        .iter()
                        .enumerate()
                        .map(|(j, t)| if j == i { t.clone() } else { Type::Any })
                        .collect();
                    let saved = std::mem::take(&mut self.def_types);
                    let failed = !self.check_body(def, only).1.is_empty();
                    self.def_types = saved;
                    failed
                });
                let why = errors
                    .first()
                    .map(|e| e.message.clone())
                    .unwrap_or_default();
                let help = Some(format!(
                    "`{name}` is a def of package `{pkg}`, brought in by `import {pkg}`; `rampart explain --source` on a policy of `{pkg}` that uses it shows its body"
                ));
                match culprit.and_then(|i| Some((i, args.get(i)?, def.params.get(i)?))) {
                    Some((_, (aid, at), param)) => {
                        let message = format!(
                            "`{name}` (from package `{pkg}`) cannot take {} as `{param}`: {why}",
                            a_an(at)
                        );
                        self.err_wide(*aid, Code::E0306, message);
                        if let Some(last) = self.errors.last_mut() {
                            last.help = help;
                        }
                    }
                    None => {
                        let message = format!(
                            "`{name}` (from package `{pkg}`) cannot take these arguments: {why}"
                        );
                        self.call_err(call, name, Code::E0306, message, help);
                    }
                }
            }
            _ => self.errors.extend(errors),
        }
        self.def_types.insert(key, t.clone());
        t
    }

    /// Checks the body of `def` with arguments of `args` types: its type and
    /// its errors, located in the def's file.
    fn check_body(&mut self, def: &DefAst, args: Vec<Type>) -> (Type, Vec<CheckError>) {
        let mut scope = self.base_scope.clone();
        for (p, t) in def.params.iter().zip(args) {
            scope.insert(p.clone(), Binding::Value(t));
        }
        let info = def.program.source_info();
        let offsets = |id: u64| {
            info.offset_for(id)
                .map(|(s, e)| (s as usize, (e as usize).max(s as usize + 1)))
        };
        let mut sub = Checker {
            schema: self.schema,
            functions: self.functions,
            defs: self.defs,
            def_asts: self.def_asts,
            scope,
            guards: Vec::new(),
            offsets: &offsets,
            text: &def.text,
            errors: Vec::new(),
            warnings: Vec::new(),
            used: Vec::new(),
            extents: HashMap::new(),
            base_scope: self.base_scope.clone(),
            depth: self.depth + 1,
            def_types: std::mem::take(&mut self.def_types),
        };
        let t = sub.run(&def.body);
        self.def_types = std::mem::take(&mut sub.def_types);
        let mut errors = Vec::new();
        for mut e in sub.errors {
            if e.source.is_none() {
                e.end = def.start + e.end.min(def.text.len()).max(e.start);
                e.start += def.start;
                e.source = Some(def.source);
            }
            errors.push(e);
        }
        (t, errors)
    }

    /// Checks `root`: computes node extents, then infers its type.
    pub fn run(&mut self, root: &IdedExpr) -> Type {
        self.extent(root);
        self.infer(root)
    }

    /// The text range of `e` and everything below it, recorded in `extents`.
    fn extent(&mut self, e: &IdedExpr) -> Option<(usize, usize)> {
        let mut range = (self.offsets)(e.id);
        let mut merge = |r: Option<(usize, usize)>| {
            if let Some((s, t)) = r {
                range = Some(range.map_or((s, t), |(a, b)| (a.min(s), b.max(t))));
            }
        };
        match &e.expr {
            Expr::Call(c) => {
                if let Some(t) = &c.target {
                    merge(self.extent(t));
                }
                for a in &c.args {
                    merge(self.extent(a));
                }
            }
            Expr::Select(sel) => merge(self.extent(&sel.operand)),
            Expr::List(l) => {
                for x in &l.elements {
                    merge(self.extent(x));
                }
            }
            Expr::Map(m) => {
                for entry in &m.entries {
                    if let cel::common::ast::EntryExpr::MapEntry(me) = &entry.expr {
                        merge(self.extent(&me.key));
                        merge(self.extent(&me.value));
                    }
                }
            }
            Expr::Comprehension(c) => {
                for x in [
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ] {
                    merge(self.extent(x));
                }
            }
            _ => {}
        }
        let (mut start, mut end) = range?;
        let b = self.text.as_bytes();
        match &e.expr {
            // A global call starts at its name; a call ends at its `)`.
            Expr::Call(c) if !c.func_name.starts_with(['_', '@', '!', '-']) => {
                if c.target.is_none() {
                    while start > 0
                        && b.get(start - 1)
                            .is_some_and(|x| x.is_ascii_alphanumeric() || *x == b'_')
                    {
                        start -= 1;
                    }
                }
                end = close_after(b, end, b')');
            }
            Expr::Comprehension(_) => end = close_after(b, end, b')'),
            Expr::List(_) => end = close_after(b, end, b']'),
            Expr::Map(_) => end = close_after(b, end, b'}'),
            Expr::Select(sel) => {
                let rest = self.text.get(end..).unwrap_or("");
                let skipped = rest.len() - rest.trim_start_matches(['.', ' ']).len();
                if rest
                    .get(skipped..)
                    .is_some_and(|r| r.starts_with(sel.field.as_str()))
                {
                    end += skipped + sel.field.len();
                }
            }
            _ => {}
        }
        let end = end.min(self.text.len()).max(start);
        self.extents.insert(e.id, (start, end));
        Some((start, end))
    }

    /// Moves a problem CEL attributes to a select's `.` onto the field name.
    fn on_field(&self, mut p: CheckError, field: &str) -> CheckError {
        let rest = self.text.get(p.start..).unwrap_or("");
        if let Some(dot_rest) = rest.strip_prefix('.') {
            let ws = dot_rest.len() - dot_rest.trim_start().len();
            if dot_rest.trim_start().starts_with(field) {
                p.start += 1 + ws;
                p.end = p.start + field.len();
            }
        }
        p
    }

    /// A problem about a call, underlining the function's name (CEL
    /// attributes a call to its `(`).
    fn call_err(&mut self, id: u64, name: &str, code: Code, message: String, help: Option<String>) {
        let mut p = self.problem(id, code, message, help);
        let before = self.text.get(..p.start).unwrap_or("");
        if self.text.get(p.start..).is_some_and(|r| r.starts_with('(')) {
            let trimmed = before.trim_end();
            if trimmed.ends_with(name) {
                p.end = p.start;
                p.start = trimmed.len() - name.len();
            }
        }
        self.errors.push(p);
    }

    /// Infers `e` with extra guard facts in force.
    fn infer_guarded(&mut self, e: &IdedExpr, facts: Vec<String>) -> Type {
        let before = self.guards.len();
        self.guards.extend(facts);
        let t = self.infer(e);
        self.guards.truncate(before);
        t
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
                        return match self.defs.get(name) {
                            Some(None) => self.check_def(e.id, name, Vec::new()),
                            _ => Type::Any,
                        };
                    }
                    let names: Vec<String> = self
                        .scope
                        .keys()
                        .filter(|k| !k.starts_with('@'))
                        .cloned()
                        .collect();
                    let help = did_you_mean(name, names.iter().map(String::as_str))
                        .map(|s| format!("did you mean `{s}`?"));
                    self.err(e.id, Code::E0201, format!("unknown name `{name}`"), help);
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
                        let p = self.problem(
                            e.id,
                            Code::E0202,
                            format!("package `{root}` has no constant or param `{field}`"),
                            help,
                        );
                        let p = self.on_field(p, &sel.field);
                        self.errors.push(p);
                        return Type::Any;
                    }
                }
                let operand = self.infer(&sel.operand);
                let t = self.field_type(e.id, &operand, &sel.field);
                if !sel.test {
                    self.check_guarded(e, &operand, &sel.field);
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
                        self.err_wide(
                            c.iter_range.id,
                            Code::E0301,
                            format!("cannot iterate over {}", a_an(other)),
                        );
                        Type::Any
                    }
                };
                let saved: Vec<(String, Option<Binding>)> = [&c.iter_var, &c.accu_var]
                    .into_iter()
                    .chain(c.iter_var2.as_ref())
                    .map(|n| (n.clone(), self.scope.get(n).cloned()))
                    .collect();
                // Guards about an outer variable of the same name do not hold
                // for the loop variable.
                let saved_guards = self.guards.clone();
                self.guards.retain(|g| {
                    root_of(g) != c.iter_var && Some(root_of(g)) != c.iter_var2.as_deref()
                });
                let accu = self.infer(&c.accu_init);
                self.scope.insert(c.accu_var.clone(), Binding::Value(accu));
                self.scope
                    .insert(c.iter_var.clone(), Binding::Value(elem.clone()));
                if let Some(v2) = &c.iter_var2 {
                    self.scope.insert(v2.clone(), Binding::Value(Type::Any));
                }
                self.infer(&c.loop_cond);
                let step = self.infer(&c.loop_step);
                // The accumulator holds what the step produces (`map`/`filter`
                // build a list of the step's elements).
                self.scope.insert(c.accu_var.clone(), Binding::Value(step));
                let result = self.infer(&c.result);
                self.guards = saved_guards;
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

    /// Warns when `field` of `operand` is optional and `e` is not guarded.
    fn check_guarded(&mut self, e: &IdedExpr, operand: &Type, field: &str) {
        let Type::Object(name) = operand else {
            return;
        };
        let Some(f) = self.schema.get(name).and_then(|d| d.field(field)) else {
            return;
        };
        if !f.optional {
            return;
        }
        let Some(path) = path_key(e) else {
            return;
        };
        if self.guards.contains(&path) {
            return;
        }
        let p = self.problem(
            e.id,
            Code::W0310,
            format!("`{path}` may be absent: `{field}` is optional in `{name}`"),
            Some(format!(
                "guard it: `has({path}) && …`, `!has({path}) || …` or `has({path}) ? … : …`"
            )),
        );
        let p = self.on_field(p, field);
        self.warnings.push(p);
    }

    fn field_type(&mut self, id: u64, operand: &Type, field: &str) -> Type {
        match field_of(self.schema, operand, field) {
            Ok(t) => t,
            Err(e) => {
                let p = self.problem(id, e.code, e.message, e.help);
                let p = self.on_field(p, field);
                self.errors.push(p);
                Type::Any
            }
        }
    }

    fn call(&mut self, id: u64, call: &cel::common::ast::CallExpr) -> Type {
        let name = call.func_name.as_str();
        // Operators whose operands are checked under each other's guards.
        match (name, call.args.as_slice()) {
            ("_&&_" | "_||_", [a, b]) => {
                let when = name == "_&&_";
                let (fa, fb) = (self.facts(a, when), self.facts(b, when));
                let ta = self.infer_guarded(a, fb);
                let tb = self.infer_guarded(b, fa);
                for (t, x) in [(ta, a), (tb, b)] {
                    self.want_bool(&t, x.id);
                }
                return Type::Bool;
            }
            ("_?_:_", [c, x, y]) => {
                let tc = self.infer(c);
                self.want_bool(&tc, c.id);
                let (ft, ff) = (self.facts(c, true), self.facts(c, false));
                let tx = self.infer_guarded(x, ft);
                let ty = self.infer_guarded(y, ff);
                // `filter`'s step: `pred ? @result + [x] : @result`.
                if is_accu(y) {
                    return tx;
                }
                return if tx == ty { tx } else { Type::Any };
            }
            _ => {}
        }
        let target = call.target.as_ref().map(|t| (t.id, self.infer(t)));
        let args: Vec<(u64, Type)> = call.args.iter().map(|a| (a.id, self.infer(a))).collect();
        let arg = |i: usize| args.get(i).map_or(Type::Any, |a| a.1.clone());
        match name {
            "!_" | "@not_strictly_false" => {
                for (aid, t) in &args {
                    self.want_bool(t, *aid);
                }
                Type::Bool
            }
            "_==_" | "_!=_" | "_<_" | "_<=_" | "_>_" | "_>=_" => {
                let (a, b) = (arg(0), arg(1));
                if !comparable(&a, &b) {
                    self.err_wide(
                        id,
                        Code::E0303,
                        format!("cannot compare {} with {}", a_an(&a), a_an(&b)),
                    );
                }
                Type::Bool
            }
            "@in" => {
                let (a, b) = (arg(0), arg(1));
                match &b {
                    Type::List(elem) if !comparable(&a, elem) => {
                        self.err_wide(
                            id,
                            Code::E0303,
                            format!("cannot look for {} in {}", a_an(&a), a_an(&b)),
                        );
                    }
                    Type::String | Type::Int | Type::Bool | Type::Float | Type::Object(_) => {
                        self.err_wide(
                            id,
                            Code::E0303,
                            format!("`in` needs a list or map on the right, found {}", a_an(&b)),
                        );
                    }
                    _ => {}
                }
                Type::Bool
            }
            "_+_" => {
                // `map`'s step: `@result + [f(x)]`.
                if call.args.first().is_some_and(is_accu) {
                    return arg(1);
                }
                match (arg(0), arg(1)) {
                    (a, b) if a == b && !matches!(a, Type::Bool | Type::Object(_)) => a,
                    (Type::List(x), Type::List(y)) => {
                        Type::List(Box::new(if x == y { *x } else { Type::Any }))
                    }
                    (a, b) if addable(&a) && addable(&b) && !numeric_pair(&a, &b) => {
                        self.err_wide(
                            id,
                            Code::E0306,
                            format!("cannot add {} and {}", a_an(&a), a_an(&b)),
                        );
                        Type::Any
                    }
                    _ => Type::Any,
                }
            }
            "_-_" | "_*_" | "_/_" | "_%_" | "-_" => arg(0),
            "_[_]" | "_[?_]" => match arg(0) {
                Type::List(t) | Type::Map(t) => *t,
                _ => Type::Any,
            },
            "_?._" => Type::Any,
            _ => {
                if let Some(f) = STD_FUNCTIONS.iter().find(|f| f.name == name) {
                    return self.std_call(id, f, target, &args);
                }
                if let Some(sig) = self.functions.iter().find(|s| s.name == name) {
                    self.custom_call(id, sig, target, &args);
                    return sig.result.clone();
                }
                if matches!(
                    name,
                    "all" | "exists" | "exists_one" | "existsOne" | "map" | "filter"
                ) {
                    // A macro with the right shape never reaches here.
                    self.call_err(
                        id,
                        name,
                        Code::E0305,
                        format!("`{name}` takes a variable and an expression: `list.{name}(x, …)`"),
                        None,
                    );
                    return Type::Any;
                }
                if target.is_none() && matches!(self.defs.get(name), Some(Some(_))) {
                    return self.check_def(id, name, args);
                }
                if self.defs.contains_key(name) || CEL_VARIADIC.contains(&name) {
                    return Type::Any;
                }
                let known: Vec<String> = self
                    .functions
                    .iter()
                    .map(|s| s.name)
                    .chain(std_names())
                    .map(str::to_string)
                    .chain(self.defs.keys().cloned())
                    .collect();
                let help = did_you_mean(name, known.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"));
                self.call_err(
                    id,
                    name,
                    Code::E0304,
                    format!("unknown function `{name}`"),
                    help,
                );
                Type::Any
            }
        }
    }

    fn want_bool(&mut self, t: &Type, id: u64) {
        if !matches!(t, Type::Bool | Type::Any) {
            self.err_wide(
                id,
                Code::E0302,
                format!("expected a bool, found {}", a_an(t)),
            );
        }
    }

    fn custom_call(
        &mut self,
        id: u64,
        sig: &Signature,
        target: Option<(u64, Type)>,
        args: &[(u64, Type)],
    ) {
        let name = sig.name;
        let given = args.len() + usize::from(target.is_some());
        if given != sig.params.len() {
            self.call_err(
                id,
                name,
                Code::E0305,
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
            return;
        }
        let all: Vec<(u64, Type)> = target.into_iter().chain(args.iter().cloned()).collect();
        for ((pname, want), (aid, got)) in sig.params.iter().zip(all.iter()) {
            if !assignable(got, want) {
                self.err_wide(
                    *aid,
                    Code::E0306,
                    format!(
                        "argument `{pname}` of `{name}` must be a `{want}`, found {}",
                        a_an(got)
                    ),
                );
            }
        }
    }

    fn std_call(
        &mut self,
        id: u64,
        f: &StdFn,
        target: Option<(u64, Type)>,
        args: &[(u64, Type)],
    ) -> Type {
        let name = f.name;
        // The receiver: `x.f(…)`, or the first argument of `f(x, …)`.
        let global = target.is_none();
        let (receiver, rest): (Option<Typed>, &[Typed]) = match (target, f.style) {
            (Some(t), Style::Method | Style::Both) => (Some(t), args),
            (Some(_), Style::Global) => {
                self.call_err(
                    id,
                    name,
                    Code::E0305,
                    format!("`{name}` is not a method: write `{name}(x)`"),
                    None,
                );
                return (f.result)();
            }
            (None, Style::Method) => {
                self.call_err(
                    id,
                    name,
                    Code::E0305,
                    format!("`{name}` is a method: write `x.{name}(…)`"),
                    None,
                );
                return (f.result)();
            }
            (None, Style::Global | Style::Both) => match args.split_first() {
                Some((first, rest)) => (Some(first.clone()), rest),
                None => (None, args),
            },
        };
        let Some(shape) = f.arities.iter().find(|a| a.len() == rest.len()) else {
            let extra = usize::from(global);
            let counts: Vec<String> = f
                .arities
                .iter()
                .map(|a| (a.len() + extra).to_string())
                .collect();
            let given = rest.len() + extra;
            self.call_err(
                id,
                name,
                Code::E0305,
                format!(
                    "`{name}` takes {} argument(s), {given} given",
                    counts.join(" or ")
                ),
                None,
            );
            return (f.result)();
        };
        match &receiver {
            Some((rid, rt)) if !f.receiver.accepts(rt) => {
                let what = if global { "argument" } else { "receiver" };
                self.err_wide(
                    *rid,
                    Code::E0306,
                    format!(
                        "`{name}` needs {} {what}, found {}",
                        f.receiver.describe(),
                        a_an(rt)
                    ),
                );
            }
            None if f.style == Style::Global || f.style == Style::Both => {
                self.call_err(
                    id,
                    name,
                    Code::E0305,
                    format!("`{name}` takes 1 argument, 0 given"),
                    None,
                );
            }
            _ => {}
        }
        for (i, (want, (aid, got))) in shape.iter().zip(rest.iter()).enumerate() {
            if !want.accepts(got) {
                self.err_wide(
                    *aid,
                    Code::E0306,
                    format!(
                        "argument {} of `{name}` must be {}, found {}",
                        i + 1,
                        want.describe(),
                        a_an(got)
                    ),
                );
            }
        }
        (f.result)()
    }

    /// Paths known present where `e` evaluates to `when`.
    pub fn facts(&self, e: &IdedExpr, when: bool) -> Vec<String> {
        self.facts_at(e, when, 0)
    }

    fn facts_at(&self, e: &IdedExpr, when: bool, depth: usize) -> Vec<String> {
        if depth > MAX_FACT_DEPTH {
            return Vec::new();
        }
        match &e.expr {
            Expr::Select(sel) if sel.test => {
                if !when {
                    return Vec::new();
                }
                path_key(&sel.operand)
                    .map(|k| vec![format!("{k}.{}", sel.field)])
                    .unwrap_or_default()
            }
            Expr::Call(call) => match (call.func_name.as_str(), call.args.as_slice()) {
                ("!_", [x]) => self.facts_at(x, !when, depth),
                ("_&&_", [a, b]) | ("_||_", [a, b]) => {
                    let fa = self.facts_at(a, when, depth);
                    let fb = self.facts_at(b, when, depth);
                    // Both sides hold for a true `&&` and a false `||`; otherwise
                    // only what holds either way.
                    if (call.func_name == "_&&_") == when {
                        fa.into_iter().chain(fb).collect()
                    } else {
                        fa.into_iter().filter(|f| fb.contains(f)).collect()
                    }
                }
                (name, args) if call.target.is_none() => {
                    let Some(def) = self.def_asts.get(name) else {
                        return Vec::new();
                    };
                    let inner = self.facts_at(&def.body, when, depth + 1);
                    substitute(inner, &def.params, args)
                }
                _ => Vec::new(),
            },
            Expr::Ident(name) => match self.def_asts.get(name) {
                Some(def) if def.params.is_empty() => self.facts_at(&def.body, when, depth + 1),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// The offset after a closing `close` that follows `end` (blanks and a
/// trailing comma allowed in between); `end` when there is none.
fn close_after(b: &[u8], end: usize, close: u8) -> usize {
    let mut i = end;
    while b
        .get(i)
        .is_some_and(|c| c.is_ascii_whitespace() || *c == b',')
    {
        i += 1;
    }
    if b.get(i) == Some(&close) {
        i + 1
    } else {
        end
    }
}

/// Rewrites facts about a def's parameters into facts about its arguments;
/// facts about anything else are dropped.
fn substitute(facts: Vec<String>, params: &[String], args: &[IdedExpr]) -> Vec<String> {
    facts
        .into_iter()
        .filter_map(|f| {
            let root = root_of(&f);
            let i = params.iter().position(|p| p == root)?;
            let arg = path_key(args.get(i)?)?;
            Some(format!("{arg}{}", f.get(root.len()..).unwrap_or("")))
        })
        .collect()
}

/// The first segment of a dotted path.
fn root_of(path: &str) -> &str {
    path.split('.').next().unwrap_or(path)
}

/// `a.b.c` for a chain of field selections on a name; `None` otherwise.
fn path_key(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Expr::Ident(n) => Some(n.clone()),
        Expr::Select(sel) if !sel.test => {
            path_key(&sel.operand).map(|k| format!("{k}.{}", sel.field))
        }
        _ => None,
    }
}

/// The accumulator of a macro's comprehension (`@result`).
fn is_accu(e: &IdedExpr) -> bool {
    matches!(&e.expr, Expr::Ident(n) if n.starts_with('@'))
}

/// "a `string`", "an `int`".
/// Why a field cannot be read: the code, message and help of the one
/// unknown-field diagnostic (in expressions and in `for … in` paths).
#[derive(Clone, Debug)]
pub struct FieldError {
    /// E0202 (no such field) or E0203 (a scalar has no fields).
    pub code: Code,
    /// The message.
    pub message: String,
    /// A suggestion or the fields there are.
    pub help: Option<String>,
}

/// The type of `field` read on a value of type `operand`.
pub fn field_of(schema: &Schema, operand: &Type, field: &str) -> Result<Type, FieldError> {
    match operand {
        Type::Object(name) => {
            let Some(def) = schema.get(name) else {
                return Ok(Type::Any);
            };
            if let Some(f) = def.field(field) {
                return Ok(f.ty.clone());
            }
            let fields: Vec<&str> = def.fields.iter().map(|f| f.name).collect();
            let help = did_you_mean(field, fields.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| Some(format!("`{name}` has: {}", fields.join(", "))));
            Err(FieldError {
                code: Code::E0202,
                message: format!("`{name}` has no field `{field}`"),
                help,
            })
        }
        Type::Map(v) => Ok((**v).clone()),
        Type::Any => Ok(Type::Any),
        other => Err(FieldError {
            code: Code::E0203,
            message: format!("{} has no field `{field}`", a_an(other)),
            help: None,
        }),
    }
}

fn a_an(t: &Type) -> String {
    let s = t.to_string();
    let article = if s.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} `{s}`")
}

/// A type `+` is defined on (and known).
fn addable(t: &Type) -> bool {
    matches!(
        t,
        Type::Int
            | Type::Float
            | Type::String
            | Type::List(_)
            | Type::Bool
            | Type::Map(_)
            | Type::Object(_)
    )
}

fn numeric_pair(a: &Type, b: &Type) -> bool {
    matches!((a, b), (Type::Int | Type::Float, Type::Int | Type::Float))
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

#[cfg(test)]
mod tests {
    use crate::diagnostics::Level;
    use crate::policy::compile::{compile, CompileOptions, PolicySource};

    /// Diagnostics (level, code, message, underlined text) of a policy whose
    /// clauses are `body`.
    fn diags(body: &str) -> Vec<(Level, &'static str, String, String)> {
        let text = format!(
            "package org\n\ndef has_image(s) = has(s.image)\n\npolicy p {{\n  title \"t\"\n  severity low\n  rationale \"r\"\n{body}\n}}\n"
        );
        let c = compile(
            vec![PolicySource {
                path: "p.rampart".into(),
                text: text.clone(),
                stdlib: false,
            }],
            &CompileOptions::default(),
        );
        // The prelude's `has_image` is unused in most tests (W0311).
        c.diagnostics
            .iter()
            .filter(|d| d.code != "W0311")
            .map(|d| {
                (
                    d.level,
                    d.code.id(),
                    d.message.clone(),
                    text.get(d.start..d.end).unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    fn codes(body: &str) -> Vec<&'static str> {
        diags(body).into_iter().map(|d| d.1).collect()
    }

    const SVC: &str = "  for service in compose.services\n";

    #[test]
    fn unknown_field_points_at_the_field() {
        let d = diags(&format!("{SVC}  deny service when service.imagee == \"x\""));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].1, "E0202");
        assert_eq!(d[0].3, "imagee");
    }

    #[test]
    fn macro_variables_have_the_element_type() {
        let d = diags(&format!(
            "{SVC}  deny service when service.ports.all(p, p.host_ip == 5)"
        ));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(d[0].1, "E0303");
        assert!(
            d[0].2.contains("`string`") && d[0].2.contains("`int`"),
            "{d:?}"
        );
        for ok in [
            "service.ports.exists(p, p.host_ip == \"\")",
            "service.ports.exists_one(p, p.protocol == \"udp\")",
            "service.ports.filter(p, p.protocol == \"udp\").all(p, p.raw != \"\")",
            "size(service.ports.map(p, p.raw)) > 0",
        ] {
            assert!(
                codes(&format!("{SVC}  deny service when {ok}")).is_empty(),
                "{ok}"
            );
        }
    }

    #[test]
    fn map_and_filter_results_are_typed_lists() {
        // `map` gives list<string>: comparing an element with an int is wrong.
        assert_eq!(
            codes(&format!(
                "{SVC}  deny service when service.ports.map(p, p.raw).exists(r, r == 1)"
            )),
            ["E0303"]
        );
        assert_eq!(
            codes(&format!(
                "{SVC}  deny service when service.ports.filter(p, p.host_ip_explicit).exists(p, p.nope)"
            )),
            ["E0202"]
        );
        assert_eq!(
            codes(&format!(
                "{SVC}  deny service when service.ports.map(p, p.raw)[0].startsWith(1)"
            )),
            ["E0306"]
        );
        assert_eq!(
            codes(&format!(
                "{SVC}  deny service when service.ports.all(p, p.raw)"
            )),
            ["E0302"]
        );
    }

    #[test]
    fn standard_functions_check_their_operands() {
        for (expr, code) in [
            ("size(1) > 0", "E0306"),
            ("service.name.size() > 0", ""),
            ("size(service.ports) > 0", ""),
            ("service.ports.startsWith(\"x\")", "E0306"),
            ("service.name.startsWith(1)", "E0306"),
            ("service.name.startsWith()", "E0305"),
            ("startsWith(service.name, \"x\")", "E0305"),
            (
                "service.name.matches(\"^a\") && matches(service.name, \"b\")",
                "",
            ),
            ("service.name.lowerAscii().endsWith(\"x\")", ""),
            ("service.cap_add.join(\", \") == \"\"", ""),
            ("service.ports.join(\", \") == \"\"", "E0306"),
            ("service.name.split(\",\").exists(x, x == 1)", "E0303"),
            ("int(service.name) > 1", ""),
            ("int(true) > 1", "E0306"),
            ("service.name + 1 == \"x\"", "E0306"),
            ("service.name.string() == \"x\"", "E0305"),
            ("service.name.substring(1, 2) == \"x\"", ""),
            ("service.name.substring(\"a\") == \"x\"", "E0306"),
            ("nope(service.name)", "E0304"),
            ("service.ports.all(true)", "E0305"),
            ("all(service.ports, true)", "E0305"),
            ("is_loopback(1)", "E0306"),
            ("is_loopback(service.name, 2)", "E0305"),
        ] {
            let got = codes(&format!("{SVC}  deny service when {expr}"));
            let want: Vec<&str> = if code.is_empty() { vec![] } else { vec![code] };
            assert_eq!(got, want, "{expr}");
        }
    }

    #[test]
    fn unknown_function_suggests() {
        let d = diags(&format!(
            "{SVC}  deny service when is_loopbak(service.name)"
        ));
        assert_eq!(d[0].1, "E0304");
        assert_eq!(d[0].3, "is_loopbak");
        assert!(d[0].2.contains("unknown function `is_loopbak`"));
        let d = diags(&format!(
            "{SVC}  deny service when service.name.startsWith()"
        ));
        assert_eq!(d[0].3, "startsWith");
    }

    #[test]
    fn optional_fields_need_a_guard() {
        let d = diags(&format!(
            "{SVC}  deny service when service.user == \"root\""
        ));
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].0, d[0].1), (Level::Warning, "W0310"));
        assert_eq!(d[0].3, "user");
        // nested: `image` is optional, `image.name` is not, `image.tag` is
        assert_eq!(
            codes(&format!(
                "{SVC}  deny service when service.image.name == \"x\""
            )),
            ["W0310"]
        );
        assert_eq!(
            codes(&format!(
                "{SVC}  deny service when has(service.image) && service.image.tag == \"x\""
            )),
            ["W0310"]
        );
    }

    #[test]
    fn guards_are_recognised() {
        for cond in [
            "has(service.user) && service.user == \"root\"",
            "!has(service.user) || service.user == \"root\"",
            "!has(service.user) || service.user in [\"root\"] || service.user.startsWith(\"0:\")",
            "has(service.user) ? service.user == \"root\" : false",
            "!has(service.user) ? false : service.user == \"root\"",
            "service.user == \"root\" && has(service.user)",
            "has(service.image) && has(service.image.tag) && service.image.tag == \"latest\"",
            "(has(service.user) && service.user == \"0\") || (has(service.pid) && service.pid == \"host\")",
            "!(has(service.user) && has(service.pid)) || service.user == service.pid",
            "has_image(service) && service.image.name == \"x\"",
            "service.environment.exists(e, has(e.value) && e.value == \"x\")",
            "has(service.user) && [1].exists(service, true)",
        ] {
            assert!(
                codes(&format!("{SVC}  deny service when {cond}")).is_empty(),
                "{cond}"
            );
        }
        for cond in [
            "has(service.user) || service.user == \"root\"",
            "!has(service.user) && service.user == \"root\"",
            "has(service.user) ? false : service.user == \"root\"",
            "has(service.pid) && service.user == \"root\"",
            "(has(service.user) || has(service.pid)) && service.user == \"x\"",
            "service.environment.exists(e, e.value == \"x\")",
        ] {
            assert_eq!(
                codes(&format!("{SVC}  deny service when {cond}")),
                ["W0310"],
                "{cond}"
            );
        }
    }

    #[test]
    fn where_and_when_guard_later_clauses_and_messages() {
        assert!(codes(&format!(
            "{SVC}  where has(service.image) && !has(service.build)\n  deny service.image when service.image.name == \"x\"\n    message \"{{service.image.raw}}\""
        ))
        .is_empty());
        assert!(codes(&format!(
            "{SVC}  where has_image(service)\n  deny service when service.image.name == \"x\""
        ))
        .is_empty());
        assert!(codes(&format!(
            "{SVC}  deny service when has(service.user)\n    message \"{{service.user}}\""
        ))
        .is_empty());
        assert_eq!(
            codes(&format!(
                "{SVC}  deny service when has(service.pid)\n    message \"{{service.user}}\""
            )),
            ["W0310"]
        );
        // A where guards only the clauses after it.
        assert_eq!(
            codes(&format!(
                "{SVC}  deny service when service.user == \"x\"\n  where has(service.user)\n  deny service when service.user == \"y\""
            )),
            ["W0310"]
        );
    }
}
