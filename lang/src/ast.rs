//! The policy AST. Every node carries the [`Span`] of its text in the policy file.

use std::fmt;

/// A byte range in a policy file.
///
/// Equality deliberately ignores spans (as cedar's `Node` does): two ASTs are
/// equal when they say the same thing, wherever it was written. This is what
/// `parse(print(ast)) == ast` relies on. Compare `start`/`end` directly when
/// positions matter.
#[derive(Clone, Copy, Default, Eq)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl Span {
    /// A span.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// A name with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A string literal: its value (escapes resolved, triple-quoted text dedented).
///
/// Equality compares values only: the span, the line starts and the quoting
/// style are presentation (the formatter may turn a one-line `"""…"""` into
/// `"…"`).
#[derive(Clone, Debug, Eq)]
pub struct Str {
    /// The value.
    pub value: String,
    /// Where (quotes included).
    pub span: Span,
    /// Written as `"""…"""`.
    pub triple: bool,
    /// For triple-quoted strings: byte offset in the file of each value line's
    /// first character, so positions inside the value map back to the file.
    pub line_starts: Vec<usize>,
}

impl PartialEq for Str {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// CEL text, verbatim, with its span (`text == file[span]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cel {
    /// The expression.
    pub text: String,
    /// Where.
    pub span: Span,
}

/// A dotted path (`service.ports`), with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// Segments.
    pub segments: Vec<String>,
    /// Where.
    pub span: Span,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

/// A whole policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Doc comments before `package`.
    pub docs: Vec<String>,
    /// The package name.
    pub package: Ident,
    /// `import pkg` lines, in order: packages whose defs, constants and
    /// params this file uses by name.
    pub imports: Vec<Ident>,
    /// Items in order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `const name = cel`
    Const(Const),
    /// `param name: type = cel`
    Param(Param),
    /// `def name(a, b) = cel`
    Def(Def),
    /// `policy name { … }`
    Policy(Policy),
    /// `test name { … }`
    Test(TestBlock),
}

impl Item {
    /// The item's span.
    pub fn span(&self) -> Span {
        match self {
            Item::Const(c) => c.span,
            Item::Param(p) => p.span,
            Item::Def(d) => d.span,
            Item::Policy(p) => p.span,
            Item::Test(t) => t.span,
        }
    }
}

/// A named constant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Const {
    /// `///` lines.
    pub docs: Vec<String>,
    /// Name.
    pub name: Ident,
    /// Value expression.
    pub value: Cel,
    /// Whole item.
    pub span: Span,
}

/// A typed parameter with a default, overridable from `rampart.yaml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// `///` lines.
    pub docs: Vec<String>,
    /// Name.
    pub name: Ident,
    /// Type as written (`list<string>`).
    pub ty: Ident,
    /// Default value expression.
    pub default: Cel,
    /// Whole item.
    pub span: Span,
}

/// A named helper expression, inlined where it is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Def {
    /// `///` lines.
    pub docs: Vec<String>,
    /// Name.
    pub name: Ident,
    /// Parameter names (`def f(a, b)`), empty for `def f = …`.
    pub params: Vec<Ident>,
    /// Whether it was written with parentheses.
    pub has_parens: bool,
    /// Body.
    pub body: Cel,
    /// Whole item.
    pub span: Span,
}

/// A policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `///` lines.
    pub docs: Vec<String>,
    /// Name (the id without its package).
    pub name: Ident,
    /// Metadata in written order.
    pub meta: Vec<Meta>,
    /// Bindings, filters and denies in written order.
    pub clauses: Vec<Clause>,
    /// Whole item.
    pub span: Span,
}

/// One metadata entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Meta {
    /// `title "…"`
    Title(Str),
    /// `severity high`
    Severity(Ident),
    /// `sources ["…"]`
    Sources(Vec<Str>, Span),
    /// `rationale "…"`
    Rationale(Str),
    /// `remediation "…"`
    Remediation(Str),
    /// `tags ["…"]`
    Tags(Vec<Str>, Span),
    /// `profile strict`
    Profile(Ident),
}

/// A clause of a policy body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    /// `for var in path`
    For {
        /// Loop variable.
        var: Ident,
        /// Collection.
        path: Path,
    },
    /// `where cel`
    Where(Cel),
    /// `deny path [when cel] [message "…"]`
    Deny {
        /// The node the finding points at.
        node: Path,
        /// Condition (always when absent).
        when: Option<Cel>,
        /// Message template with `{cel}` parts.
        message: Option<Str>,
        /// Whole clause.
        span: Span,
    },
}

/// A `test` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestBlock {
    /// The policy it tests (name within the package).
    pub name: Ident,
    /// Cases.
    pub cases: Vec<Case>,
    /// Whole item.
    pub span: Span,
}

/// Whether a case expects findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// At least one finding (at `line` when given).
    Deny,
    /// No finding.
    Allow,
}

/// One test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Deny or allow.
    pub expect: Expect,
    /// Description.
    pub name: Str,
    /// `at line N`: the finding must be on this line of the (first) input.
    pub line: Option<u32>,
    /// `with params { name = value, … }`: param values for this case only.
    pub params: Vec<ParamSet>,
    /// The input.
    pub input: CaseInput,
    /// Whole case.
    pub span: Span,
}

/// One `name = value` of a case's `with params { … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSet {
    /// The param: `name` (the policy's package) or `package.name`.
    pub name: Path,
    /// The value: a CEL literal, verbatim.
    pub value: Cel,
}

/// The input of a test case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaseInput {
    /// `compose """…"""`: one file of a format.
    Inline {
        /// Format keyword (a format name of the runtime registry: `compose`, `dockerfile`, `dotenv`, `nginx`, `caddy`).
        format: Ident,
        /// Content.
        text: Str,
    },
    /// `file "path"`: a fixture relative to the policy file.
    File(Str),
    /// `files { "path" """…""" … }`: a small repository.
    Files(Vec<(Str, Str)>),
}
