//! Cross-file links (DESIGN.md § project): compose `build` → the Dockerfile it
//! builds (with the compose build context), compose interpolation → the
//! `.env` beside the compose file, `env_file` entries → whether they exist,
//! Dockerfile → its context's `.dockerignore`, env files → `.gitignore`.
//!
//! A link to a file the repository does not contain is a warning that names
//! it; the check goes on without it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use ignore::gitignore::GitignoreBuilder;

use super::{join, normalize, parent, Kind, Project, Target};
use crate::formats::compose::{interpolation, ports as ports_mod};
use crate::formats::dotenv;
use crate::fs::FsError;
use crate::model::{InputProblem, Node, Span, Value};

pub(super) fn link(p: &mut Project) {
    let mut refused = Vec::new();
    super::overlay::merge_default_overrides(p);
    link_dockerfile_contexts(p, &mut refused);
    link_env_gitignore(p, &mut refused);
    link_compose(p, &mut refused);
    // The same file can be reached from several links: one warning each.
    let mut seen = BTreeSet::new();
    for r in refused {
        if seen.insert((r.span, r.message.clone())) {
            p.problems.push(r);
        }
    }
}

/// Reads a linked file through the confined layer. A file that exists but is
/// not read (a link leading outside the scan root, a special file, too large,
/// not UTF-8) is a warning at `span` naming `what` and the path as written;
/// a missing file is left to the caller.
fn read_linked(
    p: &Project,
    path: &str,
    what: &str,
    span: Span,
    refused: &mut Vec<InputProblem>,
) -> Option<String> {
    match p.read_checked(path) {
        Ok(t) => Some(t),
        Err(FsError::NotFound | FsError::IsDir) => None,
        Err(e) => {
            refused.push(InputProblem::warning(
                "link-refused",
                span,
                format!("{what} `{path}` was not read: {e}"),
            ));
            None
        }
    }
}

fn doc_path(p: &Project, file: crate::model::FileId) -> String {
    p.sources
        .get(file)
        .map(|f| f.path.clone())
        .unwrap_or_default()
}

/// `f` of each document of `target` and its path, on the cores; `None`
/// for the other documents (the list follows the project's documents).
fn each_of<T: Send>(
    p: &Project,
    target: Target,
    f: impl Fn(&super::Document, String) -> T + Sync,
) -> Vec<Option<T>> {
    use rayon::prelude::*;
    super::on_cores(|| {
        p.documents
            .par_iter()
            .map(|doc| (doc.target == target).then(|| f(doc, doc_path(p, doc.file))))
            .collect()
    })
}

/// A Dockerfile on its own is built with its directory as context. Each
/// context is read on the cores; the warnings come in document order.
fn link_dockerfile_contexts(p: &mut Project, refused: &mut Vec<InputProblem>) {
    let contexts = each_of(p, Target::DOCKERFILE, |doc, path| {
        let mut warnings = Vec::new();
        let ctx = build_context(p, parent(&path), &path, doc.root.span, &mut warnings);
        (ctx, warnings)
    });
    for (doc, found) in p.documents.iter_mut().zip(contexts) {
        if let Some((ctx, warnings)) = found {
            refused.extend(warnings);
            doc.root.set("build_context", ctx);
        }
    }
}

/// `BuildContext` of a context directory: whether a `.dockerignore` (or
/// `<Dockerfile>.dockerignore`) excludes `.env*` files and `secrets/`.
fn build_context(
    p: &Project,
    dir: &str,
    dockerfile: &str,
    span: Span,
    refused: &mut Vec<InputProblem>,
) -> Node {
    let specific = format!("{dockerfile}.dockerignore");
    let general = join(dir, ".dockerignore");
    let text = match read_linked(p, &specific, "ignore file", span, refused) {
        Some(t) => Some((specific, t)),
        None => read_linked(p, &general, "ignore file", span, refused).map(|t| (general, t)),
    };
    let (ignores_env, ignores_secrets) = match &text {
        Some((_, t)) => {
            let root = PathBuf::from("/ctx");
            let mut b = GitignoreBuilder::new(&root);
            for line in t.lines() {
                let _ = b.add_line(None, line.trim());
            }
            match b.build() {
                Ok(m) => {
                    let ignored = |rel: &str| {
                        m.matched_path_or_any_parents(root.join(rel), false)
                            .is_ignore()
                    };
                    (
                        ignored(".env") && ignored(".env.local") && ignored(".env.production"),
                        ignored("secrets/db_password.txt"),
                    )
                }
                Err(_) => (false, false),
            }
        }
        None => (false, false),
    };
    Node::object(span)
        .str("dir", span, dir)
        .field("dockerignore", Node::bool(span, text.is_some()))
        .opt("dockerignore_path", text.map(|(p, _)| Node::str(span, p)))
        .field("ignores_env", Node::bool(span, ignores_env))
        .field("ignores_secrets", Node::bool(span, ignores_secrets))
        .build()
}

/// Whether git would ignore `path`: every `.gitignore` from the scan root down
/// to its directory, deeper files deciding last. `None` when no `.gitignore` exists.
fn git_ignored(
    p: &Project,
    path: &str,
    span: Span,
    refused: &mut Vec<InputProblem>,
) -> Option<bool> {
    let root = p.root_of(path).unwrap_or_else(|| ".".into());
    let mut dirs = vec![parent(path).to_string()];
    let mut d = parent(path).to_string();
    while d != root && d != "." && d != "/" && super::within(&d, &root) {
        d = parent(&d).to_string();
        dirs.push(d.clone());
    }
    dirs.reverse();
    let mut found = false;
    let mut verdict = false;
    for dir in dirs {
        let gi = join(&dir, ".gitignore");
        let Some(text) = read_linked(p, &gi, "ignore file", span, refused) else {
            continue;
        };
        found = true;
        let vroot = PathBuf::from("/repo").join(if dir == "." { "" } else { dir.as_str() });
        let mut b = GitignoreBuilder::new(&vroot);
        for line in text.lines() {
            let _ = b.add_line(None, line);
        }
        let Ok(m) = b.build() else { continue };
        let target = PathBuf::from("/repo").join(normalize(path));
        let r = m.matched_path_or_any_parents(&target, false);
        if r.is_ignore() {
            verdict = true;
        } else if r.is_whitelist() {
            verdict = false;
        }
    }
    found.then_some(verdict)
}

/// Whether each env file is git-ignored, read on the cores; the notes and
/// warnings come in document order.
fn link_env_gitignore(p: &mut Project, refused: &mut Vec<InputProblem>) {
    let verdicts = each_of(p, Target::DOTENV, |doc, path| {
        let mut warnings = Vec::new();
        let span = Span::new(doc.file, 0, 0);
        let verdict = git_ignored(p, &path, span, &mut warnings);
        (path, span, verdict, warnings)
    });
    for (i, found) in verdicts.into_iter().enumerate() {
        let Some((path, span, verdict, warnings)) = found else {
            continue;
        };
        refused.extend(warnings);
        if verdict.is_none() {
            p.notes.push(format!(
                "{path}: no .gitignore up to the scan root; dotenv.git-ignored skipped"
            ));
        }
        if let Some(doc) = p.documents.get_mut(i) {
            doc.root
                .set("gitignore_present", Node::bool(span, verdict.is_some()));
            if let Some(v) = verdict {
                doc.root.set("git_ignored", Node::bool(span, v));
            }
        }
    }
}

fn link_compose(p: &mut Project, refused: &mut Vec<InputProblem>) {
    let mut problems = Vec::new();
    let mut new_docs: Vec<(String, String)> = Vec::new();
    let compose_ix: Vec<usize> = p
        .documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d.target == Target::COMPOSE)
        .map(|(i, _)| i)
        .collect();
    // Dockerfiles referenced but not discovered (custom names): read them as inputs too.
    let mut not_read: BTreeSet<String> = BTreeSet::new();
    let known_dockerfiles: HashSet<String> = p
        .documents
        .iter()
        .filter(|d| d.target == Target::DOCKERFILE)
        .map(|d| doc_path(p, d.file))
        .collect();
    let mut new_paths: HashSet<String> = HashSet::new();
    for (_, svc, df) in built_services(p, &compose_ix) {
        let known = known_dockerfiles.contains(&df);
        if !known && p.in_roots(&df) && !new_paths.contains(&df) {
            let bspan = svc.get("build").map_or(svc.span, |b| b.span);
            let before = refused.len();
            if let Some(t) = read_linked(p, &df, "build Dockerfile", bspan, refused) {
                new_paths.insert(df.clone());
                new_docs.push((df, t));
            } else if refused.len() > before {
                not_read.insert(df);
            }
        }
    }
    for (path, text) in new_docs {
        p.add_file(&path, text.into_bytes(), Kind::DOCKERFILE);
        if let Some(last) = p.documents.len().checked_sub(1) {
            let span = p
                .documents
                .get(last)
                .map(|d| d.root.span)
                .unwrap_or_default();
            let ctx = build_context(p, parent(&path), &path, span, refused);
            if let Some(d) = p.documents.get_mut(last) {
                d.root.set("build_context", ctx);
            }
        }
    }
    // Each Dockerfile by path (the last document of a path wins), by index.
    let by_path: HashMap<String, usize> = p
        .documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d.target == Target::DOCKERFILE)
        .map(|(j, d)| (doc_path(p, d.file), j))
        .collect();
    // The context each built Dockerfile is built with (the first service, in
    // document order, wins).
    let mut contexts: BTreeMap<String, String> = BTreeMap::new();
    for (dir, svc, df) in built_services(p, &compose_ix) {
        if by_path.contains_key(&df) {
            let ctx = context_of(svc, &dir).unwrap_or(dir);
            contexts.entry(df).or_insert(ctx);
        }
    }
    // A Dockerfile built by Compose with another context than its own directory
    // (`context: .`, `dockerfile: docker/Dockerfile`) is checked against that context.
    for (path, ctx_dir) in &contexts {
        let Some(&j) = by_path.get(path) else {
            continue;
        };
        if normalize(ctx_dir) == normalize(parent(path)) {
            continue;
        }
        let span = p.documents.get(j).map(|d| d.root.span).unwrap_or_default();
        let ctx = build_context(p, ctx_dir, path, span, refused);
        if let Some(d) = p.documents.get_mut(j) {
            d.root.set("build_context", ctx);
        }
    }
    // Each built Dockerfile's model is held once and shared by its document
    // and the services that build it with that context (a service building
    // it with another context gets a copy with its own `build_context`).
    let mut dockerfiles: HashMap<String, Arc<Node>> = HashMap::new();
    for path in contexts.keys() {
        let Some(doc) = by_path.get(path).and_then(|&j| p.documents.get_mut(j)) else {
            continue;
        };
        let span = doc.root.span;
        let model = Arc::new(std::mem::replace(
            &mut doc.root,
            Node::new(span, Value::Null),
        ));
        doc.root = Node::shared(&model);
        dockerfiles.insert(path.clone(), model);
    }

    // Compose roots are taken out while they are linked, each on its own on
    // the cores (Dockerfiles stay); what each found is merged in document order.
    let taken: Vec<(usize, crate::model::FileId, Node)> = compose_ix
        .iter()
        .filter_map(|&i| {
            let doc = p.documents.get_mut(i)?;
            let span = doc.root.span;
            let root = std::mem::replace(&mut doc.root, Node::new(span, Value::Null));
            Some((i, doc.file, root))
        })
        .collect();
    let shared = &*p;
    let linked: Vec<(usize, Linked)> = super::on_cores(|| {
        use rayon::prelude::*;
        taken
            .into_par_iter()
            .map(|(i, file, root)| (i, link_one(shared, file, root, &dockerfiles, &not_read)))
            .collect()
    });
    for (i, one) in linked {
        refused.extend(one.refused);
        problems.extend(one.problems);
        if let Some(d) = p.documents.get_mut(i) {
            d.root = one.root;
        }
    }
    // Resolved values of secret-like variables are secrets too.
    // (A set: the same whichever core collects which document.)
    let docs: Vec<&Node> = p
        .documents
        .iter()
        .filter(|d| d.target == Target::COMPOSE)
        .map(|d| &d.root)
        .collect();
    let secrets = super::on_cores(|| {
        use rayon::prelude::*;
        docs.par_iter()
            .map(|root| {
                let mut secrets = BTreeSet::new();
                super::collect_secrets(root, &mut secrets);
                secrets
            })
            .reduce(BTreeSet::new, |mut a, b| {
                a.extend(b);
                a
            })
    });
    p.secrets.extend(secrets);
    p.problems.extend(problems);
}

/// What linking one compose document found.
struct Linked {
    root: Node,
    problems: Vec<InputProblem>,
    refused: Vec<InputProblem>,
}

/// Links the services of one compose document (`root`, taken out of the
/// project): build → Dockerfile, `env_file` → exists, interpolation → `.env`.
fn link_one(
    p: &Project,
    file: crate::model::FileId,
    mut root: Node,
    dockerfiles: &HashMap<String, Arc<Node>>,
    not_read: &BTreeSet<String>,
) -> Linked {
    let mut out = Linked {
        root: Node::new(root.span, Value::Null),
        problems: Vec::new(),
        refused: Vec::new(),
    };
    let path = doc_path(p, file);
    let dir = parent(&path).to_string();
    let span = root.span;
    let env = dotenv_values(p, &join(&dir, ".env"), span, &mut out.refused);
    if let Some(services) = root.get_mut("services").and_then(Node::as_list_mut) {
        for svc in services.iter_mut() {
            // build → Dockerfile
            if let Some(df) = dockerfile_of(svc, &dir) {
                let ctx_dir = context_of(svc, &dir).unwrap_or_else(|| dir.clone());
                let bspan = svc.get("build").map(|b| b.span).unwrap_or(svc.span);
                match dockerfiles.get(&df) {
                    Some(model) => {
                        let ctx = build_context(p, &ctx_dir, &df, model.span, &mut out.refused);
                        let built = if model.get("build_context") == Some(&ctx) {
                            Node::shared(model)
                        } else {
                            let mut own = Node::clone(model);
                            own.set("build_context", ctx);
                            own
                        };
                        if let Some(b) = svc.get_mut("build") {
                            b.set("dockerfile", built);
                        }
                    }
                    None if not_read.contains(&df) => {}
                    None if !p.in_roots(&df) => out.problems.push(InputProblem::warning(
                        "link-outside-root",
                        bspan,
                        format!(
                            "build Dockerfile `{df}` is outside the scan root and was not read"
                        ),
                    )),
                    None => out.problems.push(InputProblem::warning(
                        "link-unresolved",
                        bspan,
                        format!(
                            "build Dockerfile `{df}` is not in the repository; checked without it"
                        ),
                    )),
                }
            }
            // env_file → exists
            if let Some(files) = svc.get_mut("env_file").and_then(Node::as_list_mut) {
                for f in files.iter_mut() {
                    let Some(rel) = f.get("path").and_then(Node::as_str).map(str::to_string) else {
                        continue;
                    };
                    let full = join(&dir, &rel);
                    let before = out.refused.len();
                    let exists =
                        read_linked(p, &full, "env_file", f.span, &mut out.refused).is_some();
                    f.set("exists", Node::bool(f.span, exists));
                    let required = f.get("required").and_then(Node::as_bool).unwrap_or(true);
                    if !exists && required && out.refused.len() == before {
                        out.problems.push(InputProblem::warning(
                            "link-unresolved",
                            f.span,
                            format!(
                                "env_file `{full}` is not in the repository; checked without it"
                            ),
                        ));
                    }
                }
            }
            // interpolation → .env beside the compose file
            if !env.is_empty() {
                resolve_refs(svc, &env);
                resolve_mounts_and_ports(svc, &env);
            }
        }
    }
    out.root = root;
    out
}

/// Each service of the compose documents `compose_ix` that builds a
/// Dockerfile: its compose file's directory, the service and the
/// Dockerfile's path, in document and service order.
fn built_services<'p>(p: &'p Project, compose_ix: &[usize]) -> Vec<(String, &'p Node, String)> {
    let mut out = Vec::new();
    for &i in compose_ix {
        let Some(doc) = p.documents.get(i) else {
            continue;
        };
        let dir = parent(&doc_path(p, doc.file)).to_string();
        for svc in doc
            .root
            .get("services")
            .and_then(Node::as_list)
            .unwrap_or(&[])
        {
            if let Some(df) = dockerfile_of(svc, &dir) {
                out.push((dir.clone(), svc, df));
            }
        }
    }
    out
}

/// The Dockerfile (display path) a service builds from, unless the context is a URL.
fn dockerfile_of(svc: &Node, dir: &str) -> Option<String> {
    let b = svc.get("build")?;
    let ctx = context_of(svc, dir)?;
    let df = b
        .get("dockerfile_path")
        .and_then(Node::as_str)
        .unwrap_or("Dockerfile");
    if df.contains("${") || df.contains('$') {
        return None;
    }
    Some(join(&ctx, df))
}

fn context_of(svc: &Node, dir: &str) -> Option<String> {
    let ctx = svc
        .get("build")?
        .get("context")
        .and_then(Node::as_str)
        .unwrap_or(".");
    if ctx.contains("://") || ctx.starts_with("git@") || ctx.contains('$') {
        return None;
    }
    Some(join(dir, ctx))
}

fn dotenv_values(
    p: &Project,
    path: &str,
    span: Span,
    refused: &mut Vec<InputProblem>,
) -> BTreeMap<String, String> {
    let Some(text) = read_linked(p, path, "env file", span, refused) else {
        return BTreeMap::new();
    };
    let (root, _) = dotenv::parse(crate::model::FileId(u32::MAX), &text, false);
    root.get("entries")
        .and_then(Node::as_list)
        .unwrap_or(&[])
        .iter()
        .filter_map(|e| {
            Some((
                e.get("name")?.as_str()?.to_string(),
                e.get("value")?.as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Bind-mount host paths (`host_path`) and published host ports
/// (`published_start`) written with `${VAR}`, resolved through the `.env`
/// (`DATA_FOLDER=/root/n8n` makes `${DATA_FOLDER}:/data` a mount of `/root/n8n`).
fn resolve_mounts_and_ports(svc: &mut Node, env: &BTreeMap<String, String>) {
    let lookup = |name: &str| env.get(name).cloned();
    if let Some(mounts) = svc.get_mut("volumes").and_then(Node::as_list_mut) {
        for m in mounts.iter_mut() {
            let Some(source) = m.get("source").and_then(Node::as_str).map(str::to_string) else {
                continue;
            };
            if !source.contains('$') || m.get("type").and_then(Node::as_str) != Some("bind") {
                continue;
            }
            let resolved = interpolation::resolve(&source, &lookup);
            let span = m.get("host_path").map_or(m.span, |h| h.span);
            m.set("host_path", Node::str(span, resolved));
        }
    }
    if let Some(ports) = svc.get_mut("ports").and_then(Node::as_list_mut) {
        for port in ports.iter_mut() {
            if port.get("published_start").is_some() {
                continue;
            }
            let Some(published) = port.get("published").and_then(Node::as_str) else {
                continue;
            };
            if !published.contains('$') {
                continue;
            }
            let resolved = interpolation::resolve(published, &lookup);
            // `published: "127.0.0.1:${PORT}"` (long syntax) keeps its address in front.
            let port_text = resolved.rsplit(':').next().unwrap_or("");
            if let Some((start, _)) = ports_mod::parse_range(port_text) {
                let span = port.span;
                port.set("published_start", Node::int(span, start));
            }
        }
    }
}

/// Sets `resolved` on every interpolation node below `n` whose variable the `.env` defines.
fn resolve_refs(n: &mut Node, env: &BTreeMap<String, String>) {
    let is_ref = n.get("op").is_some() && n.get("raw").is_some() && n.get("name").is_some();
    if is_ref {
        if let Some(v) = n
            .get("name")
            .and_then(Node::as_str)
            .and_then(|name| env.get(name))
            .cloned()
        {
            let span = n.span;
            n.set("resolved", Node::str(span, v));
        }
    }
    match &mut n.value {
        Value::Object(fields) => {
            for (_, v) in fields.iter_mut() {
                resolve_refs(v, env);
            }
        }
        Value::List(items) => {
            for v in items.iter_mut() {
                resolve_refs(v, env);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Dockerfile a service of the linked compose document builds.
    fn built<'a>(p: &'a Project, service: &str) -> &'a Node {
        let compose = p
            .documents
            .iter()
            .find(|d| d.target == Target::COMPOSE)
            .unwrap();
        let svc = compose
            .root
            .get("services")
            .and_then(Node::as_list)
            .unwrap();
        let svc = svc
            .iter()
            .find(|s| s.get("name").and_then(Node::as_str) == Some(service))
            .unwrap();
        svc.get("build").and_then(|b| b.get("dockerfile")).unwrap()
    }

    #[test]
    fn services_building_a_dockerfile_with_its_context_share_its_model() {
        let mut p = Project::default();
        p.add_file(
            "app/compose.yaml",
            b"services:\n  a:\n    build: .\n  b:\n    build:\n      context: .\n  c:\n    build:\n      context: ..\n      dockerfile: app/Dockerfile\n".to_vec(),
            Kind::COMPOSE,
        );
        p.add_file(
            "app/Dockerfile",
            b"FROM alpine:3\nUSER app\n".to_vec(),
            Kind::DOCKERFILE,
        );
        p.link();
        let doc = p
            .documents
            .iter()
            .find(|d| d.target == Target::DOCKERFILE)
            .unwrap();
        let Value::Shared(own) = &doc.root.value else {
            panic!("the built Dockerfile's model is held once: {:?}", doc.root);
        };
        // `a` and `b` build it with its own directory: the same model, not a copy.
        for s in ["a", "b"] {
            let Value::Shared(theirs) = &built(&p, s).value else {
                panic!("{s} holds a copy");
            };
            assert!(Arc::ptr_eq(own, theirs), "{s}");
        }
        // `c` builds it with the parent directory: its own copy, its own context.
        let c = built(&p, "c");
        assert!(!matches!(c.value, Value::Shared(_)));
        let dir = |n: &Node| {
            n.get("build_context")
                .and_then(|b| b.get("dir"))
                .and_then(Node::as_str)
                .map(str::to_string)
        };
        assert_ne!(dir(c), dir(&doc.root));
        assert_eq!(c.get("instructions"), doc.root.get("instructions"));
        // Read through the sharing, both are the whole model.
        assert_eq!(
            built(&p, "a")
                .get("instructions")
                .and_then(Node::as_list)
                .map(<[Node]>::len),
            Some(2)
        );
    }
}
