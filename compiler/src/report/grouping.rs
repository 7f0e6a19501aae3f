//! One finding per root cause (docs/policies.md § One finding per root cause).
//!
//! - **Shared definitions.** A node reached through a YAML alias or `<<` merge
//!   key is located at its anchor (runtime `formats::yaml`), so every service
//!   that inherits a bad value yields a finding of the same policy at the same
//!   span. Those are reported once, at the anchor, naming the others that
//!   reach it.
//! - **Co-located pairs.** Where two policies report the same cause on the same
//!   node (one span containing the other), the weaker finding is folded into
//!   the stronger one's message ([`SUBSUMED`]).

use std::collections::hash_map::{Entry, HashMap};

use rampart_runtime::model::Span;

use super::Finding;

/// `(weaker, stronger)`: when both fire on the same node, the weaker is folded
/// into the stronger (its message appended), not reported on its own.
pub const SUBSUMED: &[(&str, &str)] = &[
    // `80:80`: the fix for both is `127.0.0.1:8080:80`.
    ("compose.ports-host-ip-explicit", "compose.privileged-ports"),
    // `${DB_PASSWORD:-secret}`: removing the default is the fix; moving to a
    // file-based secret is advice for the same line.
    ("compose.secrets-via-files", "compose.no-default-secrets"),
];

/// At most this many other places are named in a shared finding's message;
/// the rest are counted.
pub const MAX_NAMED_SHARERS: usize = 8;

/// Groups findings (sorted) as described in the module docs; keeps the order.
pub fn group(findings: Vec<Finding>) -> Vec<Finding> {
    let shared = merge_shared(findings);
    fold_subsumed(shared)
}

fn merge_shared(mut findings: Vec<Finding>) -> Vec<Finding> {
    // In place: a run can hold tens of thousands of findings, and a second
    // vector of them would be the largest allocation of the run.
    // The first finding of each (policy, span), by index.
    let firsts: Vec<Option<usize>> = {
        let mut at: HashMap<(&str, Span), usize> = HashMap::with_capacity(findings.len());
        findings
            .iter()
            .enumerate()
            .map(|(i, f)| match at.entry((f.policy.as_str(), f.span)) {
                Entry::Occupied(first) => Some(*first.get()),
                Entry::Vacant(slot) => {
                    slot.insert(i);
                    None
                }
            })
            .collect()
    };
    let mut others: Vec<Vec<String>> = vec![Vec::new(); findings.len()];
    let mut keep = vec![true; findings.len()];
    for ((f, first), k) in findings.iter_mut().zip(firsts).zip(keep.iter_mut()) {
        if let Some(list) = first.and_then(|first| others.get_mut(first)) {
            list.push(std::mem::take(&mut f.message));
            *k = false;
        }
    }
    for (f, rest) in findings.iter_mut().zip(others) {
        if rest.is_empty() {
            continue;
        }
        let names = differing_names(&f.message, &rest);
        let n = rest.len();
        let suffix = match names {
            Some(mut names) => {
                names.dedup();
                let more = names.len().saturating_sub(MAX_NAMED_SHARERS);
                names.truncate(MAX_NAMED_SHARERS);
                let list = names
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                if more > 0 {
                    format!(" (shared definition, reported once: it also reaches {list} and {more} more)")
                } else {
                    format!(" (shared definition, reported once: it also reaches {list})")
                }
            }
            None => format!(" (shared definition, reported once for {} places)", n + 1),
        };
        f.message.push_str(&suffix);
    }
    retain_marked(&mut findings, &keep);
    findings
}

/// Keeps the findings whose mark is true, in order, without a second vector.
fn retain_marked(findings: &mut Vec<Finding>, keep: &[bool]) {
    let mut i = 0;
    findings.retain(|_| {
        let k = keep.get(i).copied().unwrap_or(true);
        i += 1;
        k
    });
}

/// The backticked words of `first` and each of `rest` are compared position by
/// position; when they differ in exactly one position, the other messages'
/// words there are returned (the services that reach the shared node).
fn differing_names(first: &str, rest: &[String]) -> Option<Vec<String>> {
    let a = ticked(first);
    let mut names = Vec::new();
    let mut pos: Option<usize> = None;
    for m in rest {
        let b = ticked(m);
        if b.len() != a.len() {
            return None;
        }
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a.get(i) != b.get(i)).collect();
        match diff.as_slice() {
            [i] if pos.is_none_or(|p| p == *i) => {
                pos = Some(*i);
                names.push(b.get(*i)?.clone());
            }
            _ => return None,
        }
    }
    Some(names)
}

fn ticked(s: &str) -> Vec<String> {
    s.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, w)| w.to_string())
        .collect()
}

fn fold_subsumed(mut findings: Vec<Finding>) -> Vec<Finding> {
    let mut drop = vec![false; findings.len()];
    let mut notes: Vec<Vec<String>> = vec![Vec::new(); findings.len()];
    // The findings of each subsuming policy by file, in order: each weak
    // finding looks only at those of its file (linear, not findings²).
    let mut strong_in: std::collections::HashMap<
        (&str, rampart_runtime::model::FileId),
        Vec<usize>,
    > = std::collections::HashMap::new();
    for (j, s) in findings.iter().enumerate() {
        if SUBSUMED.iter().any(|(_, strong)| *strong == s.policy) {
            strong_in
                .entry((s.policy.as_str(), s.span.file))
                .or_default()
                .push(j);
        }
    }
    for (i, weak) in findings.iter().enumerate() {
        let Some(strong_id) = SUBSUMED
            .iter()
            .find(|(w, _)| *w == weak.policy)
            .map(|(_, s)| *s)
        else {
            continue;
        };
        let strong = strong_in.get(&(strong_id, weak.span.file)).and_then(|js| {
            js.iter()
                .copied()
                .find(|&j| findings.get(j).is_some_and(|s| overlaps(s.span, weak.span)))
        });
        if let Some(j) = strong {
            if let (Some(d), Some(n)) = (drop.get_mut(i), notes.get_mut(j)) {
                *d = true;
                n.push(format!("also {}: {}", weak.policy, weak.message));
            }
        }
    }
    for (f, n) in findings.iter_mut().zip(notes) {
        if !n.is_empty() {
            f.message = format!("{} ({})", f.message, n.join("; "));
        }
    }
    let keep: Vec<bool> = drop.iter().map(|d| !d).collect();
    retain_marked(&mut findings, &keep);
    findings
}

/// One span contains the other.
fn overlaps(a: Span, b: Span) -> bool {
    (a.start() <= b.start() && b.end() <= a.end()) || (b.start() <= a.start() && a.end() <= b.end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::compile::Severity;
    use rampart_runtime::model::FileId;

    fn f(policy: &str, start: usize, end: usize, message: &str) -> Finding {
        Finding {
            file: "docker-compose.yml".into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            policy: policy.into(),
            severity: Severity::Low,
            title: "".into(),
            message: message.into(),
            remediation: "".into(),
            span: Span::new(FileId(0), start, end),
            fingerprint: String::new(),
            path: String::new(),
        }
    }

    #[test]
    fn one_finding_per_shared_node_naming_the_others() {
        let out = group(vec![
            f("p", 5, 9, "`DB_PASSWORD` of `api` is set"),
            f("p", 5, 9, "`DB_PASSWORD` of `cron` is set"),
            f("p", 5, 9, "`DB_PASSWORD` of `worker` is set"),
            f("p", 20, 25, "`x` of `api` is set"),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].message,
            "`DB_PASSWORD` of `api` is set (shared definition, reported once: it also reaches `cron`, `worker`)"
        );
        assert_eq!(out[1].message, "`x` of `api` is set");
    }

    #[test]
    fn at_most_max_named_sharers_are_named() {
        let many: Vec<Finding> = (0..MAX_NAMED_SHARERS + 3)
            .map(|i| f("p", 1, 2, &format!("`s{i:02}` is bad")))
            .collect();
        let out = group(many);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.ends_with("`s08` and 2 more)"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn unlike_messages_are_counted() {
        let out = group(vec![f("p", 1, 2, "`a` b `c`"), f("p", 1, 2, "`x` y `z`")]);
        assert_eq!(out.len(), 1);
        assert!(out[0]
            .message
            .ends_with("(shared definition, reported once for 2 places)"));
    }

    #[test]
    fn the_weaker_of_a_colocated_pair_is_folded() {
        let out = group(vec![
            f(
                "compose.ports-host-ip-explicit",
                10,
                17,
                "`web` publishes port 80 without a host address",
            ),
            f(
                "compose.privileged-ports",
                10,
                17,
                "`web` publishes privileged host port 80",
            ),
            f(
                "compose.ports-host-ip-explicit",
                30,
                39,
                "`web` publishes port 8080 without a host address",
            ),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].policy, "compose.privileged-ports");
        assert_eq!(
            out[0].message,
            "`web` publishes privileged host port 80 (also compose.ports-host-ip-explicit: `web` publishes port 80 without a host address)"
        );
        assert_eq!(out[1].policy, "compose.ports-host-ip-explicit");
    }
}
