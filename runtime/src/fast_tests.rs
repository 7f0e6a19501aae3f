//! The fast evaluator against the `cel` interpreter: one test per construct
//! and a differential property test over random expressions and documents.

use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::Value as CelValue;
use proptest::prelude::*;

use super::*;
use crate::budget;
use crate::engine::{cel_env, Engine};
use crate::model::{Node, Span, Value};

/// Binds `doc` for the crate.
struct Doc<'a> {
    val: &'a (dyn Val + 'a),
}

impl VariableResolver for Doc<'_> {
    fn resolve<'b>(&'b self, variable: &str) -> Option<CowVal<'b, 'b>> {
        (variable == "doc").then_some(CowVal::Borrowed(self.val))
    }
}

fn engine() -> &'static Engine {
    static E: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    E.get_or_init(|| Engine::new().unwrap())
}

/// The crate's answer and the budget it left.
fn by_cel(src: &str, doc: &Node, units: u64) -> (Result<CelValue, String>, (u64, bool)) {
    let program = cel_env().unwrap().compile(src).unwrap();
    let instrumented = budget::instrument(program.expression());
    let val = crate::cel_value::to_val(doc);
    let bind = Doc { val: val.as_ref() };
    let mut ctx = engine().context().new_inner_scope();
    ctx.set_variable_resolver(&bind);
    budget::start(units);
    let r = budget::execute(&instrumented, &ctx).map_err(|e| format!("{e:?}"));
    (r, budget::save())
}

/// The fast path's answer (`None`: it fell back) and the budget it left.
fn by_fast(src: &str, doc: &Node, units: u64) -> (Option<CelValue>, (u64, bool)) {
    let program = cel_env().unwrap().compile(src).unwrap();
    let instrumented = budget::instrument(program.expression());
    let prog = Prog::compile(&instrumented).unwrap_or_else(|e| panic!("{src}: {e}"));
    budget::start(units);
    let mut vars = Env::new(&[], [("doc", V::of(doc))]);
    let r = prog.eval(&mut vars).ok().map(|v| v.to_cel());
    (r, budget::save())
}

/// Equal values (maps by key, floats bit for bit or both NaN).
fn same(a: &CelValue, b: &CelValue) -> bool {
    match (a, b) {
        (CelValue::Float(x), CelValue::Float(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (CelValue::List(x), CelValue::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| same(a, b))
        }
        (CelValue::Map(x), CelValue::Map(y)) => {
            x.map.len() == y.map.len()
                && x.map
                    .iter()
                    .all(|(k, v)| y.map.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Checks one expression on one document; whether the fast path answered.
fn check(src: &str, doc: &Node, units: u64) -> bool {
    let (fast, fast_left) = by_fast(src, doc, units);
    let (cel, cel_left) = by_cel(src, doc, units);
    let Some(fast) = fast else {
        return false;
    };
    match &cel {
        Ok(c) => assert!(same(&fast, c), "{src} on {doc:?}: fast {fast:?}, cel {c:?}"),
        Err(e) => panic!("{src} on {doc:?}: fast {fast:?}, cel failed: {e}"),
    }
    assert_eq!(fast_left, cel_left, "{src} on {doc:?}: budget left");
    true
}

fn sp() -> Span {
    Span::default()
}
fn s(x: &str) -> Node {
    Node::str(sp(), x)
}
fn i(x: i64) -> Node {
    Node::int(sp(), x)
}
fn obj(fields: Vec<(&str, Node)>) -> Node {
    Node::new(
        sp(),
        Value::Object(fields.into_iter().map(|(k, v)| (k.into(), v)).collect()),
    )
}
fn list(items: Vec<Node>) -> Node {
    Node::list(sp(), items)
}

fn sample() -> Node {
    obj(vec![
        ("name", s("web")),
        ("image", s("nginx:1.25")),
        ("port", i(8080)),
        ("ratio", Node::new(sp(), Value::Float(0.5))),
        ("on", Node::bool(sp(), true)),
        ("none", Node::new(sp(), Value::Null)),
        ("tags", list(vec![s("a"), s("B"), s("é日")])),
        ("nums", list(vec![i(3), i(1), i(2)])),
        (
            "env",
            obj(vec![("PASSWORD", s("hunter2")), ("MODE", s("prod"))]),
        ),
        (
            "headers",
            list(vec![
                obj(vec![("name", s("X-Frame-Options")), ("value", s("DENY"))]),
                obj(vec![("name", s("Server"))]),
            ]),
        ),
        ("long", s(&"x".repeat(300))),
    ])
}

/// Each construct answers on the fast path, as the crate does.
#[test]
fn each_construct_matches_the_interpreter() {
    let doc = sample();
    let answered = [
        "doc.name == 'web'",
        "doc.name != 'db' && doc.port > 80",
        "doc.port < 80 || doc.on",
        "!doc.on",
        "doc.on ? 1 : 2",
        "has(doc.name) && !has(doc.user)",
        "doc['image'].startsWith('nginx')",
        "doc.image.endsWith('.25') && doc.image.contains(':')",
        "doc.image.matches('^nginx:[0-9.]+$')",
        "matches(doc.image, 'x')",
        "'B' in doc.tags && 'PASSWORD' in doc.env && !('x' in doc.tags)",
        "doc.tags[1]",
        "size(doc.tags) + doc.tags.size() + size(doc.env) + size(doc.tags[2])",
        "doc.port + 1 - 2 * 3 / 2 % 5",
        "-doc.port",
        "doc.ratio * 2.0 + 1.0 - 0.5",
        "doc.ratio < 1.0 && doc.ratio >= 0.5",
        "doc.name + '-' + doc.image",
        "doc.tags + ['x']",
        "[doc.name, 1, null, true, 2.5]",
        "doc.none == null",
        "doc.nums.all(n, n > 0) && doc.nums.exists(n, n == 2) && doc.nums.exists_one(n, n == 3)",
        "doc.nums.map(n, n * 2)",
        "doc.nums.map(n, n > 1, n)",
        "doc.nums.filter(n, n != 1)",
        "doc.tags.map(t, t.lowerAscii())",
        "doc.tags.map(t, t.upperAscii()).join(',')",
        "doc.tags.join()",
        "' a b '.trim().split(' ')",
        "doc.image.split(':')[1]",
        "doc.image.substring(6) + doc.image.substring(0, 5)",
        "doc.image.replace('n', 'N') + doc.image.replace('n', 'N', 1)",
        "int('42') + int(doc.port)",
        "string(doc.port) + string(doc.name)",
        "doc.long.contains('y') || size(doc.long) == 300",
        "doc.long + doc.long",
        "is_loopback('127.0.0.1') && !is_loopback(doc.name)",
        "is_under('/etc/x', '/etc') && glob_match('a.txt', '*.txt')",
        "size_bytes('10m')",
        "has_header(doc, 'server') && header(doc, 'x-frame-options') == 'DENY'",
        "is_secret_name('PASSWORD') && !is_secret_value(doc.name)",
        "has_url_credentials('https://u:p@h') || is_dummy_url('x')",
        "secret_options('mysql -pSecret123')",
        "is_placeholder(doc.env.PASSWORD, 'PASSWORD', ['changeme'])",
        "is_weak_secret(doc.env.PASSWORD, 'PASSWORD', ['changeme'], 12)",
        "redact('supersecretvalue')",
        "doc.tags == ['a', 'B', 'é日'] && doc.nums != [1]",
        "doc.tags.exists(t, t.startsWith('é'))",
        "[[1], [2, 3]].map(l, size(l))",
        // `x.lowerAscii() == y` compared without a lowered copy, and not.
        "doc.headers.exists(h, h.name.lowerAscii() == 'x-frame-options')",
        "doc.headers.filter(h, h.name.lowerAscii() != 'server').size()",
        "doc.headers.exists(h, h.name.lowerAscii() == 'X-Frame-Options')",
        "doc.name.lowerAscii() == doc.name && doc.image.lowerAscii() == 'nginx:1.25'",
        "doc.tags.map(t, t.lowerAscii() == 'b')",
        "doc.tags[2].lowerAscii() == 'é日' && doc.tags[2].upperAscii() != 'É日'",
        "(doc.name + 'X').lowerAscii() == 'webx'",
        "doc.name.trim() == 'web' && ' web '.trim() == doc.name",
    ];
    for src in answered {
        assert!(check(src, &doc, budget::MAX_EVAL_UNITS), "fell back: {src}");
    }
}

/// What the fast path does not decide falls back, and the crate answers.
#[test]
fn undecided_cases_fall_back() {
    let doc = sample();
    for src in [
        "doc.user == 'x'",                // missing field: the crate's error
        "doc.port == 'x'",                // mixed types
        "doc.port == 8080.0",             // mixed numbers
        "doc.env.exists(k, k == 'MODE')", // a map's hash order
        "doc.tags[7]",                    // out of range
        "1 / 0",                          // division by zero
        "doc.missing || true",            // error absorbed by ||
        "int('x')",
        "doc.image.matches('[')",
        "doc.image.substring(99)",
        "doc.port.lowerAscii() == 'x'", // not a string
        "doc.name.lowerAscii() == 1",   // mixed types
        "{'a': 1}.a",                   // not supported at all: compiles to cel
    ] {
        let program = cel_env().unwrap().compile(src).unwrap();
        let instrumented = budget::instrument(program.expression());
        if Prog::compile(&instrumented).is_err() {
            continue;
        }
        assert!(!check(src, &doc, budget::MAX_EVAL_UNITS), "answered: {src}");
    }
}

/// A charge the budget cannot pay falls back, and leaves the budget for the
/// crate to spend (and report) as before.
#[test]
fn budget_is_charged_as_the_crate_charges() {
    let doc = sample();
    for src in [
        "doc.long + doc.long",
        "doc.nums.map(n, [n, n])",
        "doc.tags.join(doc.long)",
        "doc.long.replace('x', 'yy')",
        "doc.long.contains('y')",
        "doc.tags.filter(t, t in doc.tags).exists_one(t, t == 'a')",
    ] {
        assert!(check(src, &doc, budget::MAX_EVAL_UNITS), "fell back: {src}");
        for units in 0..12 {
            check(src, &doc, units);
        }
    }
}

fn node() -> impl Strategy<Value = Node> {
    let key = prop::sample::select(vec!["a", "b", "c", "name", "é"]);
    let leaf = prop_oneof![
        Just(Node::new(sp(), Value::Null)),
        any::<bool>().prop_map(|b| Node::bool(sp(), b)),
        prop_oneof![-3i64..4, Just(i64::MAX), Just(i64::MIN), any::<i64>()].prop_map(i),
        prop_oneof![Just(0.5f64), Just(-1.0), Just(f64::NAN), any::<f64>()]
            .prop_map(|f| Node::new(sp(), Value::Float(f))),
        prop::sample::select(SAMPLE_STRS.to_vec()).prop_map(s),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(list),
            prop::collection::vec((key.clone(), inner), 0..4).prop_map(|fields| obj(fields)),
        ]
    })
}

fn expr() -> impl Strategy<Value = String> {
    any::<u64>().prop_map(|seed| {
        let mut g = Gen(seed | 1);
        let ty = g.pick(&[Ty::B, Ty::B, Ty::I, Ty::S, Ty::LS, Ty::LI, Ty::Any]);
        g.expr(ty, 4)
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Ty {
    B,
    I,
    S,
    LS,
    LI,
    Any,
}

/// A random well-typed-ish CEL expression over `doc` (whose fields may have
/// any type, so some are not well typed at run time).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    /// `cond ? a : b` with both branches of type `ty`.
    fn cond(&mut self, ty: Ty, d: u32) -> String {
        let (c, a, b) = (self.expr(Ty::B, d), self.expr(ty, d), self.expr(ty, d));
        format!("({c}) ? ({a}) : ({b})")
    }

    fn expr(&mut self, ty: Ty, depth: u32) -> String {
        let leaf = depth == 0 || self.below(4) == 0;
        let d = depth.saturating_sub(1);
        match ty {
            Ty::Any => {
                let t = self.pick(&[Ty::B, Ty::I, Ty::S, Ty::LS, Ty::LI]);
                if self.below(3) == 0 {
                    self.pick(&["doc.a", "doc.b", "doc.b.a", "doc['é']", "doc.tags[0]", "x"])
                        .to_string()
                } else {
                    self.expr(t, depth)
                }
            }
            Ty::B if leaf => self
                .pick(&[
                    "true",
                    "false",
                    "doc.on",
                    "has(doc.a)",
                    "has(doc.b.c)",
                    "doc.a == null",
                ])
                .to_string(),
            Ty::B => match self.below(16) {
                0 => format!("!({})", self.expr(Ty::B, d)),
                1 => format!("({}) && ({})", self.expr(Ty::B, d), self.expr(Ty::B, d)),
                2 => format!("({}) || ({})", self.expr(Ty::B, d), self.expr(Ty::B, d)),
                3 => {
                    let op = self.pick(&["==", "!=", "<", "<=", ">", ">="]);
                    format!("({}) {op} ({})", self.expr(Ty::I, d), self.expr(Ty::I, d))
                }
                4 => {
                    let op = self.pick(&["==", "!=", "<", ">="]);
                    format!("({}) {op} ({})", self.expr(Ty::S, d), self.expr(Ty::S, d))
                }
                5 => {
                    let m = self.pick(&["startsWith", "endsWith", "contains"]);
                    format!("({}).{m}({})", self.expr(Ty::S, d), self.expr(Ty::S, d))
                }
                6 => {
                    let re = self.pick(&["'^a'", "'b$'", "'[0-9]+'", "'é'", "'(a|b)*'", "'['"]);
                    format!("({}).matches({re})", self.expr(Ty::S, d))
                }
                7 => format!("({}) in ({})", self.expr(Ty::S, d), self.expr(Ty::LS, d)),
                8 => format!("({}) in ({})", self.expr(Ty::I, d), self.expr(Ty::LI, d)),
                9 => {
                    let m = self.pick(&["all", "exists", "exists_one"]);
                    let body = self.var_pred(Ty::S, d);
                    format!("({}).{m}(x, {body})", self.expr(Ty::LS, d))
                }
                10 => {
                    let m = self.pick(&["all", "exists", "exists_one"]);
                    let body = self.var_pred(Ty::I, d);
                    format!("({}).{m}(x, {body})", self.expr(Ty::LI, d))
                }
                11 => format!("({}) == ({})", self.expr(Ty::LS, d), self.expr(Ty::LS, d)),
                12 => format!("is_loopback({})", self.expr(Ty::S, d)),
                13 => self.cond(Ty::B, d),
                14 => format!("({}) == ({})", self.expr(Ty::Any, d), self.expr(Ty::Any, d)),
                _ => format!("has(({}).a)", self.pick(&["doc", "doc.b"])),
            },
            Ty::I if leaf => self
                .pick(&[
                    "0",
                    "1",
                    "-2",
                    "7",
                    "9223372036854775807",
                    "doc.a",
                    "doc.nums[1]",
                ])
                .to_string(),
            Ty::I => match self.below(8) {
                0 => format!("size({})", self.expr(Ty::S, d)),
                1 => format!("size({})", self.expr(Ty::LI, d)),
                2 => {
                    let op = self.pick(&["+", "-", "*", "/", "%"]);
                    format!("({}) {op} ({})", self.expr(Ty::I, d), self.expr(Ty::I, d))
                }
                3 => format!("-({})", self.expr(Ty::I, d)),
                4 => format!("int({})", self.expr(Ty::S, d)),
                5 => format!("({})[{}]", self.expr(Ty::LI, d), self.expr(Ty::I, d)),
                6 => format!("size_bytes({})", self.expr(Ty::S, d)),
                _ => self.cond(Ty::I, d),
            },
            Ty::S if leaf => self
                .pick(&[
                    "'a'",
                    "''",
                    "'é日'",
                    "'a,b'",
                    "' x '",
                    "'127.0.0.1'",
                    "doc.name",
                    "doc.tags[0]",
                ])
                .to_string(),
            Ty::S => match self.below(9) {
                0 => format!("({}) + ({})", self.expr(Ty::S, d), self.expr(Ty::S, d)),
                1 => {
                    let m = self.pick(&["lowerAscii", "upperAscii", "trim"]);
                    format!("({}).{m}()", self.expr(Ty::S, d))
                }
                2 => format!(
                    "({}).substring({})",
                    self.expr(Ty::S, d),
                    self.expr(Ty::I, d)
                ),
                3 => format!("string({})", self.expr(Ty::I, d)),
                4 => format!("({})[{}]", self.expr(Ty::LS, d), self.expr(Ty::I, d)),
                5 => format!("({}).join({})", self.expr(Ty::LS, d), self.expr(Ty::S, d)),
                6 => format!(
                    "({}).replace({}, {})",
                    self.expr(Ty::S, d),
                    self.expr(Ty::S, d),
                    self.expr(Ty::S, d)
                ),
                7 => format!("header(doc, {})", self.expr(Ty::S, d)),
                _ => self.cond(Ty::S, d),
            },
            Ty::LS if leaf => self
                .pick(&["['a', 'b']", "[]", "doc.tags", "['é', '']"])
                .to_string(),
            Ty::LS => match self.below(5) {
                0 => format!("({}).split({})", self.expr(Ty::S, d), self.expr(Ty::S, d)),
                1 => format!(
                    "({}).map(x, x + {})",
                    self.expr(Ty::LS, d),
                    self.expr(Ty::S, d)
                ),
                2 => {
                    let body = self.var_pred(Ty::S, d);
                    format!("({}).filter(x, {body})", self.expr(Ty::LS, d))
                }
                3 => format!("({}) + ({})", self.expr(Ty::LS, d), self.expr(Ty::LS, d)),
                _ => format!("[{}, {}]", self.expr(Ty::S, d), self.expr(Ty::S, d)),
            },
            Ty::LI if leaf => self
                .pick(&["[1, 2, 3]", "[]", "doc.nums", "[0]"])
                .to_string(),
            Ty::LI => match self.below(4) {
                0 => format!(
                    "({}).map(x, x * {})",
                    self.expr(Ty::LI, d),
                    self.expr(Ty::I, d)
                ),
                1 => {
                    let body = self.var_pred(Ty::I, d);
                    format!("({}).filter(x, {body})", self.expr(Ty::LI, d))
                }
                2 => format!("({}).map(x, size(x))", self.expr(Ty::LS, d)),
                _ => format!("[{}, {}]", self.expr(Ty::I, d), self.expr(Ty::I, d)),
            },
        }
    }
    /// A predicate on the loop variable `x` of type `ty`.
    fn var_pred(&mut self, ty: Ty, d: u32) -> String {
        match (ty, self.below(3)) {
            (Ty::S, 0) => format!("x == {}", self.expr(Ty::S, d)),
            (Ty::S, 1) => format!("x.startsWith({})", self.expr(Ty::S, d)),
            (Ty::S, _) => format!("size(x) > {}", self.expr(Ty::I, d)),
            (_, 0) => format!("x > {}", self.expr(Ty::I, d)),
            (_, 1) => "x % 2 == 0".to_string(),
            (_, _) => format!("x != {} && ({})", self.expr(Ty::I, d), self.expr(Ty::B, d)),
        }
    }
}

/// The strings documents and values are drawn from: empty, case, non-ASCII,
/// separators, blanks, an address.
const SAMPLE_STRS: &[&str] = &["", "a", "ab", "A", "é", "日本", "a,b", " x ", "127.0.0.1"];

/// Documents shaped like the generator's accessors: `name` a string,
/// `tags` strings, `nums` ints, `on` a bool, `a` and `b` anything.
fn doc() -> impl Strategy<Value = Node> {
    let strs = prop::sample::select(SAMPLE_STRS.to_vec());
    (
        strs.clone(),
        prop::collection::vec(strs, 0..4),
        prop::collection::vec(-3i64..9, 0..4),
        any::<bool>(),
        node(),
        node(),
        any::<u8>(),
    )
        .prop_map(|(name, tags, nums, on, a, b, drop)| {
            let mut fields = vec![
                ("name", s(name)),
                ("tags", list(tags.into_iter().map(s).collect())),
                ("nums", list(nums.into_iter().map(i).collect())),
                ("on", Node::bool(sp(), on)),
                ("a", a),
                ("b", b),
            ];
            // Some fields missing.
            let n = fields.len();
            fields.remove(usize::from(drop) % (n * 3) % n.max(1));
            obj(fields)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Random expressions on random documents: where the fast path answers,
    /// it answers as the crate does and leaves the same budget.
    #[test]
    fn fast_path_agrees_with_the_interpreter(src in expr(), doc in doc(), small in any::<bool>()) {
        let Ok(program) = cel_env().unwrap().compile(&src) else {
            return Ok(());
        };
        let instrumented = budget::instrument(program.expression());
        prop_assume!(Prog::compile(&instrumented).is_ok());
        let units = if small { 3 } else { budget::MAX_EVAL_UNITS };
        check(&src, &doc, units);
    }
}

/// The property test is not vacuous: a good share of the generated
/// expressions that compile is answered on the fast path (the rest fell
/// back, mostly on unbound names and mixed types).
#[test]
fn fast_path_answers_many_generated_expressions() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut compiled, mut answered) = (0, 0);
    for _ in 0..600 {
        let src = expr().new_tree(&mut runner).unwrap().current();
        let doc = doc().new_tree(&mut runner).unwrap().current();
        let Ok(program) = cel_env().unwrap().compile(&src) else {
            continue;
        };
        if Prog::compile(&budget::instrument(program.expression())).is_err() {
            continue;
        }
        compiled += 1;
        answered += usize::from(check(&src, &doc, budget::MAX_EVAL_UNITS));
    }
    println!("answered {answered} of {compiled}");
    assert!(
        answered * 3 >= compiled,
        "answered {answered} of {compiled}"
    );
}
