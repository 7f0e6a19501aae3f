//! A finding's fingerprint: an identity that survives unrelated edits, for
//! baselines and code-scanning deduplication.
//!
//! The fingerprint is FNV-1a (64 bits, hex) over the policy id, the file's
//! display path, the structural path of the flagged node in its document
//! ([`locate`]: `services.web.ports[0]`, `stages.build.runs[1]`,
//! `servers[0].locations./admin`, `entries.DB_PASSWORD`), the text of the
//! flagged node with secrets masked and runs of whitespace folded to one
//! space, and — only to tell apart findings that agree on all of these — their
//! rank in file order. The line number is not part of it: inserting lines
//! above a finding and reordering services keep its fingerprint (list items
//! with a name — services, stages, variables, networks — are named by it, not
//! by their position); renaming the service, editing the flagged node or
//! renaming the file changes it. A secret never reaches the hash (masked text
//! only; names of variables are not secrets).

use std::collections::HashMap;
use std::fmt::Write as _;

use rampart_runtime::model::{FileId, Node, Span, Value};
use rampart_runtime::project::Project;

use super::{Finding, Report};

/// FNV-1a offset basis (64 bits).
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a prime (64 bits).
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h = FNV_OFFSET;
    for part in parts {
        for b in part.iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(FNV_PRIME);
        }
    }
    h
}

/// The flagged node's text, masked, whitespace folded.
fn node_text(report: &Report, f: &Finding) -> String {
    report
        .sources
        .get(&f.span.file)
        .and_then(|s| s.masked.get(f.span.start()..f.span.end()))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The name a list item is known by, when it has one: its `name` (services,
/// stages, variables, networks, instructions), else its `path` (nginx
/// locations), else its first name (`names` of an nginx server).
fn item_key(item: &Node) -> Option<&str> {
    item.get("name")
        .and_then(Node::as_str)
        .or_else(|| item.get("path").and_then(Node::as_str))
        .or_else(|| {
            item.get("names")
                .and_then(Node::as_list)
                .and_then(|l| l.first())
                .and_then(Node::as_str)
        })
}

/// Appends `.name` (or `["name"]` when it holds characters other than
/// letters, digits, `_`, `-` and `/`) to `path`.
fn push_name(path: &mut String, name: &str) {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/'));
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(name);
    } else {
        let quoted = serde_json::to_string(name).unwrap_or_default();
        let _ = write!(path, "[{quoted}]");
    }
}

/// How a node is reached from its parent.
#[derive(Clone, Copy)]
enum Seg<'a> {
    /// The document's root.
    Root,
    /// An object's field (its name read only when a path is built).
    Field(&'a rampart_runtime::model::Name),
    /// The item at an index of a list.
    Item(&'a [Node], usize),
}

/// What a walk looks for.
enum Want<'a> {
    /// Nodes whose span is exactly one of these (first in pre-order wins:
    /// the shallowest). Runs use [`walk_exact`].
    #[cfg_attr(not(test), allow(dead_code))]
    Exact(&'a mut HashMap<Span, Option<String>>),
    /// For each span, the smallest node of its file containing it.
    Containing(&'a mut [(Span, Option<(usize, String)>)]),
}

/// Walks `root` in pre-order without recursion (documents may nest deeply),
/// keeping how each ancestor of the current node is reached: `visit` gets
/// the node and that chain, and builds a path ([`Paths::of`]) only for the
/// nodes it wants (nothing is allocated for the others).
fn walk_nodes<'a>(root: &'a Node, mut visit: impl FnMut(&'a Node, &[Seg<'a>])) {
    let mut chain: Vec<Seg<'a>> = Vec::new();
    let mut stack: Vec<(&'a Node, usize, Seg<'a>)> = vec![(root, 0, Seg::Root)];
    while let Some((node, depth, seg)) = stack.pop() {
        chain.truncate(depth);
        chain.push(seg);
        visit(node, &chain);
        let here = depth + 1;
        match node.value() {
            Value::Object(fields) => {
                for (k, v) in fields.iter().rev() {
                    stack.push((v, here, Seg::Field(k)));
                }
            }
            Value::List(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((item, here, Seg::Item(items, i)));
                }
            }
            _ => {}
        }
    }
}

/// Builds structural paths from ancestor chains, naming list items by
/// [`item_key`] (with how many earlier siblings share the name), each list's
/// names worked out once.
#[derive(Default)]
struct Paths<'a> {
    names: HashMap<usize, Vec<Option<(&'a str, usize)>>>,
}

impl<'a> Paths<'a> {
    fn of(&mut self, chain: &[Seg<'a>]) -> String {
        let mut path = String::new();
        for seg in chain {
            match *seg {
                Seg::Root => {}
                Seg::Field(k) => push_name(&mut path, k.as_str()),
                Seg::Item(items, i) => {
                    let names = self
                        .names
                        .entry(items.as_ptr() as usize)
                        .or_insert_with(|| {
                            let mut seen: HashMap<&str, usize> = HashMap::new();
                            items
                                .iter()
                                .map(|item| {
                                    item_key(item).map(|k| {
                                        let n = seen.entry(k).or_insert(0);
                                        *n += 1;
                                        (k, *n - 1)
                                    })
                                })
                                .collect()
                        });
                    match names.get(i).copied().flatten() {
                        Some((k, 0)) => push_name(&mut path, k),
                        Some((k, n)) => {
                            push_name(&mut path, k);
                            let _ = write!(path, "#{n}");
                        }
                        None => {
                            let _ = write!(path, "[{i}]");
                        }
                    }
                }
            }
        }
        path
    }
}

/// Walks `root` for what `want` looks for.
fn walk(root: &Node, want: &mut Want<'_>) {
    let mut paths = Paths::default();
    match want {
        Want::Exact(map) => walk_nodes(root, |node, chain| {
            if let Some(slot @ None) = map.get_mut(&node.span) {
                *slot = Some(paths.of(chain));
            }
        }),
        Want::Containing(list) => walk_nodes(root, |node, chain| {
            let mut here: Option<String> = None;
            for (span, best) in list.iter_mut() {
                let inside = node.span.file == span.file
                    && node.span.start() <= span.start()
                    && span.end() <= node.span.end();
                if inside && best.as_ref().is_none_or(|(len, _)| node.span.len() < *len) {
                    let path = here.get_or_insert_with(|| paths.of(chain)).clone();
                    *best = Some((node.span.len(), path));
                }
            }
        }),
    }
}

/// The path of the first node (in pre-order) of `root` with each span still
/// looked for: `open[file id]`, sorted (start, end) pairs.
fn first_paths(root: &Node, open: &[Vec<(usize, usize)>]) -> Vec<(Span, String)> {
    let mut paths = Paths::default();
    let mut found: Vec<(Span, String)> = Vec::new();
    let mut done: std::collections::HashSet<Span> = std::collections::HashSet::new();
    walk_nodes(root, |node, chain| {
        let span = node.span;
        if open
            .get(span.file.0 as usize)
            .is_some_and(|v| v.binary_search(&(span.start(), span.end())).is_ok())
            && done.insert(span)
        {
            found.push((span, paths.of(chain)));
        }
    });
    found
}

/// [`walk`] for exact spans over `docs` on the cores: each document's first
/// matches, merged in document order (the first document wins), as walking
/// them one after another would.
fn walk_exact<'a>(
    docs: impl Iterator<Item = &'a rampart_runtime::project::Document>,
    exact: &mut HashMap<Span, Option<String>>,
) {
    use rayon::prelude::*;
    let mut open: Vec<Vec<(usize, usize)>> = Vec::new();
    for span in exact.iter().filter(|(_, p)| p.is_none()).map(|(s, _)| s) {
        let i = span.file.0 as usize;
        if open.len() <= i {
            open.resize_with(i + 1, Vec::new);
        }
        if let Some(f) = open.get_mut(i) {
            f.push((span.start(), span.end()));
        }
    }
    for f in &mut open {
        f.sort_unstable();
    }
    let docs: Vec<&Node> = docs.map(|d| &d.root).collect();
    let found: Vec<Vec<(Span, String)>> = rampart_runtime::project::on_cores(|| {
        docs.par_iter()
            .map(|root| first_paths(root, &open))
            .collect()
    });
    for (span, path) in found.into_iter().flatten() {
        if let Some(slot @ None) = exact.get_mut(&span) {
            *slot = Some(path);
        }
    }
}

/// Sets the structural path ([`Finding::path`]) of every finding (shown and
/// waived) of `report` from the documents of `project`: the path of the
/// shallowest node whose span is the finding's, in a document of the
/// finding's own file first (a compose document also holds the nodes of the
/// Dockerfile it builds), else in any document; else the path of the
/// smallest node containing the span. Runs once per check, after
/// evaluation, over the documents of files with findings only.
pub fn locate(report: &mut Report, project: &Project) {
    let found = paths(report, project);
    set_paths(report, &found);
}

/// The path of each finding's span ([`locate`]), read from the report
/// without changing it.
pub fn paths(report: &Report, project: &Project) -> HashMap<Span, Option<String>> {
    let spans: Vec<Span> = report
        .findings
        .iter()
        .map(|f| f.span)
        .chain(report.waived.iter().map(|w| w.finding.span))
        .collect();
    if spans.is_empty() {
        return HashMap::new();
    }
    let files: std::collections::BTreeSet<FileId> = spans.iter().map(|s| s.file).collect();
    let mut exact: HashMap<Span, Option<String>> = spans.iter().map(|s| (*s, None)).collect();
    let own = |d: &&rampart_runtime::project::Document| files.contains(&d.file);
    walk_exact(project.documents.iter().filter(own), &mut exact);
    if exact.values().any(Option::is_none) {
        walk_exact(project.documents.iter().filter(|d| !own(d)), &mut exact);
    }
    let mut open: Vec<(Span, Option<(usize, String)>)> = exact
        .iter()
        .filter(|(_, p)| p.is_none())
        .map(|(s, _)| (*s, None))
        .collect();
    if !open.is_empty() {
        open.sort_by_key(|(s, _)| *s);
        for doc in project
            .documents
            .iter()
            .filter(own)
            .chain(project.documents.iter().filter(|d| !own(d)))
        {
            walk(&doc.root, &mut Want::Containing(&mut open));
        }
        for (span, best) in open {
            if let Some((_, p)) = best {
                exact.insert(span, Some(p));
            }
        }
    }
    exact
}

/// Sets the path of every finding (shown and waived) from [`paths`].
pub fn set_paths(report: &mut Report, exact: &HashMap<Span, Option<String>>) {
    let path_of = |s: &Span| exact.get(s).cloned().flatten().unwrap_or_default();
    for f in report.findings.iter_mut() {
        f.path = path_of(&f.span);
    }
    for w in report.waived.iter_mut() {
        w.finding.path = path_of(&w.finding.span);
    }
}

/// A finding, with where it is in the report (index, waived).
type Keyed<'a> = ((usize, bool), &'a Finding);

/// Sets the fingerprint of every finding (shown and waived) of `report`,
/// whose sources must be kept ([`Report::keep_sources`]) and paths set
/// ([`locate`]).
pub fn assign(report: &mut Report) {
    let mut all: Vec<(usize, bool)> = (0..report.findings.len())
        .map(|i| (i, false))
        .chain((0..report.waived.len()).map(|i| (i, true)))
        .collect();
    fn finding(r: &Report, (i, waived): (usize, bool)) -> Option<&Finding> {
        if waived {
            r.waived.get(i).map(|w| &w.finding)
        } else {
            r.findings.get(i)
        }
    }
    // File order: rank findings that agree on everything else by position (a
    // stable sort: ties keep shown before waived, each in its order).
    all.sort_by_cached_key(|k| {
        finding(report, *k).map(|f| (f.file.as_str(), f.span.start(), f.span.end()))
    });
    // Each finding's text on the cores, in the order above.
    use rayon::prelude::*;
    let texts: Vec<(Keyed<'_>, String)> = rampart_runtime::project::on_cores(|| {
        all.par_iter()
            .filter_map(|&k| finding(report, k).map(|f| ((k, f), node_text(report, f))))
            .collect()
    });
    // Ranks count within one (policy, file, path, text), so each file's
    // findings (a run of the order above) are printed on their own, on the cores.
    let runs: Vec<&[(Keyed<'_>, String)]> = texts
        .chunk_by(|((_, a), _), ((_, b), _)| a.file == b.file)
        .collect();
    let prints: Vec<Vec<((usize, bool), String)>> = rampart_runtime::project::on_cores(|| {
        runs.par_iter()
            .map(|run| {
                let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
                run.iter()
                    .map(|((k, f), text)| {
                        let rank = seen
                            .entry((f.policy.as_str(), f.path.as_str(), text.as_str()))
                            .or_insert(0);
                        let print = format!(
                            "{:016x}",
                            fnv1a(&[
                                f.policy.as_bytes(),
                                f.file.as_bytes(),
                                f.path.as_bytes(),
                                text.as_bytes(),
                                rank.to_string().as_bytes(),
                            ])
                        );
                        *rank += 1;
                        (*k, print)
                    })
                    .collect()
            })
            .collect()
    });
    for (k, print) in prints.into_iter().flatten() {
        let slot = if k.1 {
            report.waived.get_mut(k.0).map(|w| &mut w.finding)
        } else {
            report.findings.get_mut(k.0)
        };
        if let Some(slot) = slot {
            slot.fingerprint = print;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::compile::Severity;
    use crate::report::SourceText;
    use rampart_runtime::model::{FileId, Span};

    fn report(text: &str, at: &[usize]) -> Report {
        let file = FileId(0);
        let mut r = Report::default();
        r.sources.insert(
            file,
            SourceText {
                path: "a.yml".into(),
                masked: text.into(),
            },
        );
        for &start in at {
            r.findings.push(Finding {
                file: "a.yml".into(),
                line: 1 + text.get(..start).unwrap().matches('\n').count(),
                column: 1,
                end_line: 1,
                end_column: 1,
                policy: "p.x".into(),
                severity: Severity::High,
                title: "".into(),
                message: String::new(),
                remediation: "".into(),
                span: Span::new(file, start, start + 9),
                fingerprint: String::new(),
                path: String::new(),
            });
        }
        assign(&mut r);
        r
    }

    #[test]
    fn lines_above_do_not_change_it_and_twins_differ() {
        let a = report("image: x\nports: 1\n", &[9]);
        let b = report("# new\n\nimage: x\nports: 1\n", &[16]);
        assert_eq!(a.findings[0].fingerprint, b.findings[0].fingerprint);
        assert_eq!(a.findings[0].fingerprint.len(), 16);
        let twins = report("ports: 1\nports: 1\n", &[0, 9]);
        assert_ne!(twins.findings[0].fingerprint, twins.findings[1].fingerprint);
        let edited = report("image: x\nports: 2\n", &[9]);
        assert_ne!(a.findings[0].fingerprint, edited.findings[0].fingerprint);
    }

    fn n(start: usize, value: Value) -> Node {
        Node::new(Span::new(FileId(0), start, start + 1), value)
    }

    fn named(start: usize, name: &str, rest: Vec<(rampart_runtime::model::Name, Node)>) -> Node {
        let mut fields = vec![("name".into(), n(start, Value::Str(name.into())))];
        fields.extend(rest);
        n(start, Value::Object(fields))
    }

    #[test]
    fn paths_name_list_items_by_their_name_and_count_repeats() {
        let ports = n(
            7,
            Value::List(vec![n(8, Value::Int(80)), n(9, Value::Int(443))]),
        );
        let root = n(
            0,
            Value::Object(vec![(
                "services".into(),
                n(
                    1,
                    Value::List(vec![
                        named(2, "db", vec![]),
                        named(3, "web", vec![("ports".into(), ports)]),
                        named(4, "web", vec![]),
                        named(5, "my.app", vec![]),
                    ]),
                ),
            )]),
        );
        let spans = [3, 4, 5, 9].map(|s| Span::new(FileId(0), s, s + 1));
        let mut map: HashMap<Span, Option<String>> = spans.iter().map(|s| (*s, None)).collect();
        walk(&root, &mut Want::Exact(&mut map));
        let got: Vec<_> = spans.iter().map(|s| map[s].clone().unwrap()).collect();
        assert_eq!(
            got,
            [
                "services.web",
                "services.web#1",
                "services[\"my.app\"]",
                "services.web.ports[1]"
            ]
        );
        // A span inside a node but of none: the smallest container.
        let mut open = [(Span::new(FileId(0), 9, 10), None)];
        walk(&root, &mut Want::Containing(&mut open));
        assert_eq!(open[0].1.as_ref().unwrap().1, "services.web.ports[1]");
    }
}
