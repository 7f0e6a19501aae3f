//! The spanned document tree every front end produces and every policy reads.
//!
//! A front end turns a file into a [`Node`] tree that follows the schema of its
//! target (see [`crate::schema`]). The engine iterates it, converts it to CEL
//! values once per document, and takes finding locations from its spans.

/// Identifies one source file of a run (see [`crate::source::SourceMap`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file.
///
/// Spans carry their file because models join files: an nginx server built
/// from three included files, a compose service linked to its Dockerfile.
/// Offsets are stored in 32 bits (inputs are at most
/// [`crate::project::MAX_INPUT_BYTES`], far below 4 GiB): every node of
/// every model holds one, so this is 12 bytes rather than 24 per node.
///
/// INVARIANT: `start <= end`, and both lie on UTF-8 character boundaries of
/// the file `file`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The file.
    pub file: FileId,
    start: u32,
    end: u32,
}

/// An offset in 32 bits; offsets past 4 GiB (never reached: inputs are
/// limited far below) are clamped rather than wrapped.
fn offset(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

impl Span {
    /// The empty span at the start of file 0 (for statics).
    pub const ZERO: Span = Span {
        file: FileId(0),
        start: 0,
        end: 0,
    };

    /// A span from `start` to `end` of `file` (swapped if given in the wrong order).
    pub fn new(file: FileId, start: usize, end: usize) -> Self {
        let (start, end) = if start <= end {
            (start, end)
        } else {
            (end, start)
        };
        Span {
            file,
            start: offset(start),
            end: offset(end),
        }
    }

    /// First byte.
    #[inline]
    pub fn start(&self) -> usize {
        self.start as usize
    }

    /// One past the last byte.
    #[inline]
    pub fn end(&self) -> usize {
        self.end as usize
    }

    /// The byte range, for slicing the source text.
    #[inline]
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start()..self.end()
    }

    /// The same span in another file (for spans re-anchored by a loader).
    pub fn in_file(self, file: FileId) -> Span {
        Span { file, ..self }
    }

    /// The smallest span covering both; `self` when they lie in different files.
    pub fn cover(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// One value of a document, with the span it was read from.
///
/// Equality ignores nothing: two nodes are equal when value and span are.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The source range this value came from. For derived values (an image's
    /// `tag`, a port's `target`) the span of the text it was derived from.
    pub span: Span,
    /// The value.
    pub value: Value,
}

/// A field name or a string of the document model: held inline up to 24
/// bytes (most names and values), so a model of a million fields is not a
/// million small allocations.
pub type Name = compact_str::CompactString;

/// A value in the document tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An explicit null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Name),
    /// An ordered list.
    List(Vec<Node>),
    /// An object: named fields in a stable order. An absent optional field is
    /// simply not present (CEL's `has()` is false for it).
    Object(Vec<(Name, Node)>),
    /// A subtree held once and read from several places: the model of a
    /// Dockerfile is both its own document and the `build.dockerfile` of
    /// every compose service that builds it with the same context. Read
    /// through [`Node::value`] (and the accessors), which see through it.
    Shared(std::sync::Arc<Node>),
}

impl Node {
    /// A node of any value.
    pub fn new(span: Span, value: Value) -> Self {
        Node { span, value }
    }
    /// A string node.
    pub fn str(span: Span, s: impl Into<Name>) -> Self {
        Node::new(span, Value::Str(s.into()))
    }
    /// A boolean node.
    pub fn bool(span: Span, b: bool) -> Self {
        Node::new(span, Value::Bool(b))
    }
    /// An integer node.
    pub fn int(span: Span, i: i64) -> Self {
        Node::new(span, Value::Int(i))
    }
    /// A list node.
    pub fn list(span: Span, items: Vec<Node>) -> Self {
        Node::new(span, Value::List(items))
    }
    /// An empty object node, to fill with [`Node::set`] or [`ObjectBuilder`].
    pub fn object(span: Span) -> ObjectBuilder {
        ObjectBuilder {
            span,
            fields: Vec::new(),
        }
    }

    /// A node that shares `node` (read through, never copied).
    pub fn shared(node: &std::sync::Arc<Node>) -> Self {
        Node::new(node.span, Value::Shared(std::sync::Arc::clone(node)))
    }

    /// The node this one stands for: itself, or what it shares.
    pub fn resolved(&self) -> &Node {
        let mut n = self;
        while let Value::Shared(inner) = &n.value {
            n = inner;
        }
        n
    }

    /// The value, seen through sharing ([`Value::Shared`]): every reader of
    /// a model after linking reads values through this.
    pub fn value(&self) -> &Value {
        &self.resolved().value
    }

    /// The value for changing: a shared subtree is copied first (copy on write).
    pub fn value_mut(&mut self) -> &mut Value {
        while let Value::Shared(inner) = &mut self.value {
            let owned = std::sync::Arc::unwrap_or_clone(std::mem::replace(
                inner,
                std::sync::Arc::new(Node::new(Span::ZERO, Value::Null)),
            ));
            *self = owned;
        }
        &mut self.value
    }

    /// The field `name` of an object node.
    pub fn get(&self, name: &str) -> Option<&Node> {
        match self.value() {
            Value::Object(fields) => fields
                .iter()
                .find(|(k, _)| same_name(k, name))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self.value() {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean value, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The integer value, if this is an integer.
    pub fn as_int(&self) -> Option<i64> {
        match self.value() {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Node]> {
        match self.value() {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The items mutably, if this is a list.
    pub fn as_list_mut(&mut self) -> Option<&mut Vec<Node>> {
        match self.value_mut() {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// Sets (or replaces) field `name` of an object node; a no-op on other nodes.
    pub fn set(&mut self, name: &str, value: Node) {
        if let Value::Object(fields) = self.value_mut() {
            if let Some(slot) = fields.iter_mut().find(|(k, _)| k == name) {
                slot.1 = value;
            } else {
                fields.push((Name::from(name), value));
            }
        }
    }

    /// The field `name` of an object node, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Node> {
        match self.value_mut() {
            Value::Object(fields) => fields.iter_mut().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// `a == b` for field and variable names, which mostly differ in length or
/// first byte: those are told apart before comparing whole (a library call
/// per comparison was a tenth of evaluation).
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.first() == b.first() && a == b
}

/// Builds an object node field by field; optional fields given as `None` are left out.
#[derive(Debug)]
pub struct ObjectBuilder {
    span: Span,
    fields: Vec<(Name, Node)>,
}

impl ObjectBuilder {
    /// Adds a field.
    pub fn field(mut self, name: &str, value: Node) -> Self {
        self.fields.push((Name::from(name), value));
        self
    }
    /// Adds a field when `value` is `Some`.
    pub fn opt(mut self, name: &str, value: Option<Node>) -> Self {
        if let Some(v) = value {
            self.fields.push((Name::from(name), v));
        }
        self
    }
    /// Adds a string field.
    pub fn str(self, name: &str, span: Span, s: impl Into<Name>) -> Self {
        self.field(name, Node::str(span, s))
    }
    /// Finishes the object.
    pub fn build(self) -> Node {
        Node::new(self.span, Value::Object(self.fields))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_get_and_set() {
        let f = FileId(0);
        let mut n = Node::object(Span::new(f, 0, 10))
            .str("name", Span::new(f, 0, 4), "web")
            .opt("user", None)
            .build();
        assert_eq!(n.get("name").and_then(Node::as_str), Some("web"));
        assert!(n.get("user").is_none());
        n.set("user", Node::str(Span::new(f, 5, 9), "root"));
        assert_eq!(n.get("user").and_then(Node::as_str), Some("root"));
        n.set("user", Node::str(Span::new(f, 5, 9), "app"));
        assert_eq!(n.get("user").and_then(Node::as_str), Some("app"));
    }

    #[test]
    fn shared_nodes_are_read_through_and_copied_on_write() {
        let f = FileId(0);
        let model = std::sync::Arc::new(
            Node::object(Span::new(f, 0, 10))
                .str("user", Span::new(f, 0, 4), "app")
                .build(),
        );
        let mut view = Node::shared(&model);
        assert_eq!(view.span, model.span);
        assert_eq!(view.get("user").and_then(Node::as_str), Some("app"));
        assert!(matches!(view.value(), Value::Object(_)));
        // Changing the view copies it: the shared model is left as it was.
        view.set("user", Node::str(Span::new(f, 5, 9), "root"));
        assert_eq!(view.get("user").and_then(Node::as_str), Some("root"));
        assert_eq!(model.get("user").and_then(Node::as_str), Some("app"));
        assert!(!matches!(view.value, Value::Shared(_)));
    }

    #[test]
    fn span_cover_and_order() {
        let f = FileId(1);
        assert_eq!(Span::new(f, 5, 2), Span::new(f, 2, 5));
        assert_eq!(
            Span::new(f, 1, 3).cover(Span::new(f, 2, 8)),
            Span::new(f, 1, 8)
        );
        let g = FileId(2);
        assert_eq!(
            Span::new(f, 1, 3).cover(Span::new(g, 2, 8)),
            Span::new(f, 1, 3)
        );
    }

    #[test]
    fn nodes_stay_small() {
        // Every model node holds a span: 32-bit offsets keep a node at 48
        // bytes (it was 56), a tenth of a run's model memory.
        assert_eq!(std::mem::size_of::<Span>(), 12);
        assert_eq!(std::mem::size_of::<Node>(), 48);
        assert_eq!(std::mem::size_of::<Name>(), std::mem::size_of::<String>());
        let f = FileId(3);
        let s = Span::new(f, 7, 19);
        assert_eq!((s.start(), s.end(), s.range(), s.len()), (7, 19, 7..19, 12));
        assert_eq!(Span::new(f, 0, usize::MAX).end(), u32::MAX as usize);
    }
}
