//! The merge steps Compose applies both when a service `extends` another
//! ([`super::extends`]) and when an override file is laid over its base
//! ([`super::overlay`]): mappings merged key by key, sequences appended
//! without duplicates, keyed lists (`KEY=VALUE`) merged by key. Each caller
//! decides which step a field takes and whose span the result carries.

use crate::formats::yaml::{YKey, YKind, YNode};

/// Sequences of `KEY=VALUE` items merged by key, by `extends` and by an
/// override file alike.
pub(super) const KEYED: [&str; 5] = [
    "environment",
    "labels",
    "annotations",
    "extra_hosts",
    "sysctls",
];

/// The mapping `b` with `o` laid over it, written where `at` is: keys of both
/// keep `b`'s order and take `both(key, b value, o value)`; keys only in `o`
/// follow, in `o`'s order.
pub(super) fn maps(
    b: &[(YKey, YNode)],
    o: &[(YKey, YNode)],
    at: &YNode,
    mut both: impl FnMut(&YKey, &YNode, &YNode) -> YNode,
) -> YNode {
    let mut out: Vec<(YKey, YNode)> = Vec::with_capacity(b.len() + o.len());
    for (k, v) in b {
        match o.iter().find(|(ok, _)| ok.text == k.text) {
            Some((ok, ov)) => out.push((ok.clone(), both(k, v, ov))),
            None => out.push((k.clone(), v.clone())),
        }
    }
    for (k, v) in o {
        if !b.iter().any(|(bk, _)| bk.text == k.text) {
            out.push((k.clone(), v.clone()));
        }
    }
    YNode {
        span: at.span,
        defined: at.defined,
        kind: YKind::Map(out),
    }
}

/// `b` followed by the items of `o` it does not already hold, written where
/// `over` is.
pub(super) fn appended(b: &[YNode], o: &[YNode], over: &YNode) -> YNode {
    let mut items = b.to_vec();
    for item in o {
        if !items.iter().any(|x| same(x, item)) {
            items.push(item.clone());
        }
    }
    seq(over, items)
}

/// A keyed list (`KEY=VALUE`, `host:ip`): `b`'s items whose key `o` does not
/// set, then all of `o`'s, written where `over` is.
pub(super) fn keyed(b: &[YNode], o: &[YNode], over: &YNode) -> YNode {
    let key_of = |n: &YNode| {
        n.scalar_text("")
            .map(|t| t.split(['=', ':']).next().unwrap_or("").trim().to_string())
    };
    let mut items: Vec<YNode> = b
        .iter()
        .filter(|bi| {
            let k = key_of(bi);
            k.is_none() || !o.iter().any(|oi| key_of(oi) == k)
        })
        .cloned()
        .collect();
    items.extend(o.iter().cloned());
    seq(over, items)
}

/// A sequence written where `over` is, holding `items`.
pub(super) fn seq(over: &YNode, items: Vec<YNode>) -> YNode {
    YNode {
        span: over.span,
        defined: over.defined,
        kind: YKind::Seq(items),
    }
}

/// Two items equal by value (not by where they are written).
pub(super) fn same(a: &YNode, b: &YNode) -> bool {
    match (&a.kind, &b.kind) {
        (YKind::Str(x), YKind::Str(y)) => x == y,
        (YKind::Int(x), YKind::Int(y)) => x == y,
        (YKind::Bool(x), YKind::Bool(y)) => x == y,
        _ => false,
    }
}
