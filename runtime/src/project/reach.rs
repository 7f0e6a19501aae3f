//! How a web server configuration is served (issue 11, `http.*` policies):
//! which compose services run an nginx or Caddy configuration file, whether
//! any of them publishes its plain-HTTP port beyond loopback, and which main
//! nginx configuration a site file runs under.
//!
//! **Runners.** A compose service *runs* a configuration file when it
//! - bind-mounts it, or a directory holding it (`./nginx.conf:/etc/nginx/nginx.conf`,
//!   `./web/conf.d:/etc/nginx/conf.d`), or
//! - builds (`build:`, a Dockerfile the repository has) from a Dockerfile that
//!   `COPY`s or `ADD`s it, or a directory holding it, from the build context
//!   (`COPY nginx.conf /etc/nginx/conf.d/default.conf`).
//!
//! A mount or copy of the compose file's own directory, the build context
//! itself or one of their parents (`./:/var/www`, `COPY . .`) ships the
//! whole project as data and links nothing.
//!
//! A relative bind-mount source is resolved against the compose file's
//! directory. When nothing is there (no input file of the run at or below
//! it, and on disk no such file or directory), it is tried against each
//! directory above, nearest first, within the scan root: compose fragments
//! combined with `-f` resolve relative paths against the *project*
//! directory (the first file's), not their own (authelia's
//! `internal/suites/example/compose/nginx/backend/compose.yml` mounts
//! `./example/compose/nginx/backend/nginx.conf`, relative to
//! `internal/suites`). See [`mount_source`].
//!
//! **Unpublished.** A plain-HTTP route whose configuration has at least one
//! runner, and none of whose runners publishes one of the route's plain-HTTP
//! ports on a host address other than loopback or a private LAN address (no
//! `ports:` entry with that container port, or only `127.0.0.1:`, `[::1]:`,
//! `10.…`/`172.16–31.…`/`192.168.…` ones; `network_mode: host`
//! publishes everything; a container port left to interpolation counts as
//! published), is reached only by other containers on the service's
//! networks — in practice the TLS-terminating proxy in front of it. Such a
//! route gets `unpublished`, a sentence saying how that was decided; a route
//! one of whose runners publishes it gets `published_by`, naming the service
//! and its `ports:` entry.
//! Compose files are judged one by one (an override that publishes the port
//! makes the route published).
//!
//! **Main configuration.** A site file (no top-level `http`/`events` block)
//! is read by nginx inside the `http` block of a main configuration, and
//! inherits its `server_tokens`. When the file itself does not set
//! `server_tokens`, its routes get `server_tokens_hidden` and
//! `server_tokens_from` when
//! - the site's directory or one above it has main configurations that
//!   include other files in `http` context, and every one of them sets
//!   `server_tokens off` at `http` level (directly or through its includes):
//!   the site is meant for them
//!   (h5bp's `conf.d/templates/*.conf`, copied into `conf.d/` by hand); or
//! - it is written for, or mounted into, a linuxserver.io nginx image
//!   ([`LSIO_IMAGES`]), whose main configuration sets `server_tokens off`:
//!   it includes files under `/config/nginx/` (that image family's
//!   configuration layout), or a runner uses one of those images.
//!
//! A lone site file with neither stays reported: the stock `nginx` image's
//! main configuration does not set `server_tokens off`.

use std::collections::{HashMap, HashSet};

use super::{join, normalize, parent, within, Project, Target};
use crate::model::{FileId, Node};

/// Normalised paths (each at its index) looked up by a path they contain:
/// [`within`] for many pairs at the cost of one lookup per ancestor, where
/// testing every pair grew with files × services.
struct PathIndex {
    by_path: HashMap<String, Vec<usize>>,
}

impl PathIndex {
    fn new(paths: impl Iterator<Item = String>) -> PathIndex {
        let mut by_path: HashMap<String, Vec<usize>> = HashMap::new();
        for (k, path) in paths.enumerate() {
            by_path.entry(path).or_default().push(k);
        }
        PathIndex { by_path }
    }

    /// The indices of the paths `path` (normalised) is [`within`], in order.
    fn containing(&self, path: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut add = |key: &str| {
            if let Some(ks) = self.by_path.get(key) {
                out.extend(ks.iter().copied());
            }
        };
        add(path);
        for (i, _) in path.match_indices('/') {
            if let Some(prefix) = path.get(..i).filter(|x| !x.is_empty()) {
                add(prefix);
            }
        }
        add("/");
        if !path.starts_with("../") && path != ".." && !path.starts_with('/') {
            add(".");
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Images whose main nginx configuration sets `server_tokens off` at `http`
/// level. Source: linuxserver/docker-baseimage-alpine-nginx,
/// `root/defaults/nginx/nginx.conf.sample` ("Don't tell nginx version to the
/// clients": `server_tokens off;`), the base of `swag` and `nginx`; it reads
/// sites from `/config/nginx/site-confs/*.conf`.
pub const LSIO_IMAGES: &[&str] = &[
    "linuxserver/swag",
    "linuxserver/letsencrypt",
    "linuxserver/nginx",
];

/// The configuration directory of the [`LSIO_IMAGES`] family.
const LSIO_CONFIG_DIR: &str = "/config/nginx/";

/// One compose service that runs a configuration file.
struct Runner {
    /// `service` (compose file).
    label: String,
    /// Container port ranges published beyond loopback or a private address
    /// (`None`: any port — `network_mode: host`, or a container port left to
    /// interpolation), each with how it is written (`80:80`, `network_mode: host`).
    exposed: Vec<(Option<(i64, i64)>, String)>,
    /// The image repository, when `image:` names one.
    image: Option<String>,
}

/// Adds the facts of the module docs to the `http` routes. Call after the
/// compose ↔ Dockerfile links are made.
pub(super) fn link(p: &mut Project) {
    use rayon::prelude::*;
    let shared = &*p;
    let (delivered, mains) =
        super::on_cores(|| rayon::join(|| runners(shared), || repo_mains(shared)));
    let by_source = PathIndex::new(delivered.iter().map(|(src, _)| src.clone()));
    let by_main_dir = PathIndex::new(mains.iter().map(|m| normalize(parent(&m.path))));
    // The first nginx document of each file (a site's parsed configuration).
    let mut nginx_of: HashMap<FileId, usize> = HashMap::new();
    for (i, d) in p.documents.iter().enumerate() {
        if d.target == Target::NGINX {
            nginx_of.entry(d.file).or_insert(i);
        }
    }
    // What each http document learns, decided before any document changes
    // (each document on its own, on the cores).
    let facts_of = |doc: &super::Document| -> Option<Facts<'_>> {
        if doc.target != Target::HTTP {
            return None;
        }
        let path = doc.root.get("path").and_then(Node::as_str).unwrap_or("");
        let nginx = nginx_of
            .get(&doc.file)
            .and_then(|&n| shared.documents.get(n))
            .map(|d| &d.root);
        let root = shared.root_of(path).unwrap_or_else(|| ".".into());
        let mut files = vec![normalize(path)];
        if let Some(n) = nginx {
            for f in n.get("files").and_then(Node::as_list).unwrap_or(&[]) {
                if let Some(f) = f.as_str() {
                    files.push(join(&root, f));
                }
            }
        }
        let mut hits: Vec<usize> = files.iter().flat_map(|f| by_source.containing(f)).collect();
        hits.sort_unstable();
        hits.dedup();
        let runs: Vec<&Runner> = hits
            .iter()
            .filter_map(|&k| delivered.get(k).map(|(_, r)| r))
            .collect();
        let tokens_from = nginx
            .filter(|n| !is_main(n))
            .and_then(|n| main_hiding_tokens(n, &runs, &mains, &by_main_dir, parent(path)));
        let unpublished = unpublished_note(&runs);
        Some(Facts {
            runs,
            tokens_from,
            unpublished,
        })
    };
    let facts: Vec<Option<Facts<'_>>> =
        super::on_cores(|| shared.documents.par_iter().map(facts_of).collect());
    super::on_cores(|| {
        p.documents
            .par_iter_mut()
            .zip(facts)
            .for_each(|(doc, facts)| {
                if let Some(facts) = facts {
                    apply(&mut doc.root, &facts);
                }
            });
    });
}

/// What linking found for one http document: the services that run its
/// configuration, where it inherits `server_tokens off` from, and why it
/// is unpublished (when its ports are).
struct Facts<'a> {
    runs: Vec<&'a Runner>,
    tokens_from: Option<String>,
    unpublished: Option<String>,
}

/// Sets the [`Facts`] of an http document on its routes (module docs).
fn apply(root: &mut Node, facts: &Facts<'_>) {
    let Some(routes) = root.get_mut("routes").and_then(Node::as_list_mut) else {
        return;
    };
    for route in routes.iter_mut() {
        let span = route.span;
        if let (Some(note), Some(ports)) = (&facts.unpublished, plain_ports(route)) {
            match facts
                .runs
                .iter()
                .find_map(|r| exposes(r, &ports).map(|raw| (r, raw)))
            {
                None => route.set("unpublished", Node::str(span, note.clone())),
                Some((r, raw)) => route.set(
                    "published_by",
                    Node::str(
                        span,
                        format!("compose service {} publishes it (`{raw}`)", r.label),
                    ),
                ),
            }
        }
        if let Some(from) = &facts.tokens_from {
            let explicit = route
                .get("decl")
                .is_some_and(|d| d.get("server_tokens").is_some());
            let hidden = route
                .get("server_tokens_hidden")
                .and_then(Node::as_bool)
                .unwrap_or(false);
            if !explicit && !hidden {
                route.set("server_tokens_hidden", Node::bool(span, true));
                route.set("server_tokens_from", Node::str(span, from.clone()));
            }
        }
    }
}

/// The sentence saying why a route with these runners is unpublished
/// (whether it is depends on the route's ports, see [`exposes`]).
fn unpublished_note(runs: &[&Runner]) -> Option<String> {
    let names: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    match names.as_slice() {
        [] => None,
        [one] => Some(format!(
            "compose service {one} runs this configuration and publishes its plain-HTTP port \
             nowhere but on loopback or a private address, so only a proxy on its network \
             reaches it"
        )),
        many => Some(format!(
            "compose services {} run this configuration and none publishes its plain-HTTP \
             port but on loopback or a private address, so only a proxy on their network \
             reaches it",
            many.join(", ")
        )),
    }
}

/// The plain-HTTP ports a route listens on (nginx without `listen`: 80;
/// 0: not a number), `None` when it has no plain-HTTP listener.
fn plain_ports(route: &Node) -> Option<Vec<i64>> {
    if route.get("plain_http").and_then(Node::as_bool) != Some(true) {
        return None;
    }
    let listens = route.get("listens").and_then(Node::as_list).unwrap_or(&[]);
    let mut ports: Vec<i64> = listens
        .iter()
        .filter(|l| l.get("tls").and_then(Node::as_bool) != Some(true))
        .map(|l| l.get("port").and_then(Node::as_int).unwrap_or(0))
        .collect();
    if listens.is_empty() {
        ports.push(80);
    }
    Some(ports)
}

/// How `r` publishes one of `ports` beyond loopback or a private address
/// (the `ports:` entry as written), if it does.
fn exposes<'a>(r: &'a Runner, ports: &[i64]) -> Option<&'a str> {
    r.exposed
        .iter()
        .find(|(range, _)| match range {
            None => true,
            Some((a, b)) => ports.iter().any(|p| *p == 0 || (*a..=*b).contains(p)),
        })
        .map(|(_, raw)| raw.as_str())
}

/// Whether a published port's host address keeps it off the internet:
/// loopback (`127.0.0.0/8`, `::1`, `localhost`) or a private LAN address
/// (`10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, IPv6 `fc00::/7`), where
/// only the host or machines on its network (a proxy there) reach it.
fn is_internal_address(host_ip: &str) -> bool {
    let h = host_ip.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match h.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => a.is_loopback() || a.is_private(),
        Ok(std::net::IpAddr::V6(a)) => {
            a.is_loopback() || a.segments().first().is_some_and(|s| s & 0xfe00 == 0xfc00)
        }
        Err(_) => false,
    }
}

fn str_of<'a>(n: &'a Node, name: &str) -> &'a str {
    n.get(name).and_then(Node::as_str).unwrap_or("")
}

fn list_of<'a>(n: &'a Node, name: &str) -> &'a [Node] {
    n.get(name).and_then(Node::as_list).unwrap_or(&[])
}

/// Every path the run knows to exist without asking the disk: its input
/// and auxiliary files and the directories above them.
fn known_paths(p: &Project) -> HashSet<String> {
    let mut out = HashSet::new();
    let paths = p
        .sources
        .files()
        .map(|(_, f)| f.path.as_str())
        .chain(p.aux.keys().map(String::as_str));
    for path in paths {
        let mut cur = normalize(path);
        // Once a path is known, so is every directory above it.
        while out.insert(cur.clone()) {
            let up = parent(&cur).to_string();
            if up == cur {
                break;
            }
            cur = up;
        }
    }
    out
}

/// Whether `path` (normalised display path) exists: known to the run, or
/// (reading from disk) a file or directory inside the scan roots.
fn exists(p: &Project, known: &HashSet<String>, path: &str) -> bool {
    known.contains(path)
        || (p.disk.is_some()
            && p.in_roots(path)
            && p.fs.resolve(&crate::fs::undisplay(path)).is_ok())
}

/// The host path a relative bind-mount source `host` of the compose file
/// `compose` (in directory `dir`) names (module docs): `dir`/`host` when it
/// exists, else the first directory above `dir`, within the scan root, where
/// it exists; else `dir`/`host`. Absolute and `~` sources stay as written.
fn mount_source(
    p: &Project,
    known: &HashSet<String>,
    compose: &str,
    dir: &str,
    host: &str,
) -> String {
    let first = join(dir, host);
    if host.starts_with(['/', '~']) || exists(p, known, &first) {
        return first;
    }
    let limit = if p.roots.is_empty() {
        None
    } else {
        p.root_of(compose)
    };
    let mut cur = normalize(dir);
    loop {
        let up = parent(&cur).to_string();
        if up == cur || limit.as_deref().is_some_and(|r| !within(&up, r)) {
            return first;
        }
        cur = up;
        let candidate = join(&cur, host);
        if exists(p, known, &candidate) {
            return candidate;
        }
    }
}

/// Every (host path delivered into a container, the service that runs it).
/// Each compose document on its own, on the cores; in document order.
fn runners(p: &Project) -> Vec<(String, Runner)> {
    use rayon::prelude::*;
    let known = known_paths(p);
    let per_doc: Vec<Vec<(String, Runner)>> = p
        .documents
        .par_iter()
        .filter(|d| d.target == Target::COMPOSE)
        .map(|doc| runners_of(p, &known, doc))
        .collect();
    per_doc.into_iter().flatten().collect()
}

/// The runners of one compose document.
fn runners_of(
    p: &Project,
    known: &HashSet<String>,
    doc: &super::Document,
) -> Vec<(String, Runner)> {
    let mut out = Vec::new();
    let compose = p
        .sources
        .get(doc.file)
        .map(|f| f.path.clone())
        .unwrap_or_default();
    let dir = parent(&compose).to_string();
    for svc in list_of(&doc.root, "services") {
        let mut sources = Vec::new();
        for m in list_of(svc, "volumes") {
            if str_of(m, "type") != "bind" {
                continue;
            }
            let host = match str_of(m, "host_path") {
                "" => str_of(m, "source"),
                h => h,
            };
            if host.is_empty() || host.contains('$') {
                continue;
            }
            let src = mount_source(p, known, &compose, &dir, host);
            if !within(&dir, &src) {
                sources.push(src);
            }
        }
        if let Some(df) = svc.get("build").and_then(|b| b.get("dockerfile")) {
            let ctx = df
                .get("build_context")
                .map(|c| str_of(c, "dir").to_string())
                .unwrap_or_default();
            for stage in list_of(df, "stages") {
                for copy in list_of(stage, "copies") {
                    if copy.get("from").is_some() {
                        continue;
                    }
                    for s in list_of(copy, "resolved_sources") {
                        let Some(s) = s.as_str() else { continue };
                        if s.contains(['$', '*', '?', '[']) || s.contains("://") {
                            continue;
                        }
                        let src = join(&ctx, s.trim_start_matches('/'));
                        if !ctx.is_empty() && !within(&ctx, &src) {
                            sources.push(src);
                        }
                    }
                }
            }
        }
        if sources.is_empty() {
            continue;
        }
        let name = str_of(svc, "name");
        let host_network = str_of(svc, "network_mode") == "host";
        let mut exposed: Vec<(Option<(i64, i64)>, String)> = Vec::new();
        if host_network {
            exposed.push((None, "network_mode: host".to_string()));
        }
        for port in list_of(svc, "ports") {
            if is_internal_address(str_of(port, "host_ip")) {
                continue;
            }
            let target = port.get("target").and_then(Node::as_int);
            let end = port.get("target_end").and_then(Node::as_int);
            exposed.push((
                target.map(|t| (t, end.unwrap_or(t))),
                str_of(port, "raw").to_string(),
            ));
        }
        let image = svc
            .get("image")
            .and_then(|i| i.get("repository"))
            .and_then(Node::as_str)
            .map(str::to_string);
        for src in sources {
            out.push((
                src,
                Runner {
                    label: format!("`{name}` ({compose})"),
                    exposed: exposed.clone(),
                    image: image.clone(),
                },
            ));
        }
    }
    out
}

/// Whether an `NginxConfig` is a main configuration (top-level `http` or
/// `events` block).
fn is_main(n: &Node) -> bool {
    list_of(n, "directives")
        .iter()
        .any(|d| matches!(str_of(d, "name"), "http" | "events") && d.get("block").is_some())
}

/// A main configuration of the run: its display path, and whether it sets
/// `server_tokens off` at `http` level.
struct Main {
    path: String,
    hides: bool,
}

/// The main configurations that include other files in `http` context.
fn repo_mains(p: &Project) -> Vec<Main> {
    use rayon::prelude::*;
    p.documents
        .par_iter()
        .filter(|d| d.target == Target::NGINX && is_main(&d.root))
        .filter_map(|d| {
            let path = p
                .sources
                .get(d.file)
                .map(|f| f.path.clone())
                .unwrap_or_default();
            let mut includes = false;
            let mut hides = false;
            for http in list_of(&d.root, "directives")
                .iter()
                .filter(|x| str_of(x, "name") == "http")
            {
                walk_http(list_of(http, "block"), &mut includes, &mut hides, 0);
            }
            includes.then_some(Main { path, hides })
        })
        .collect()
}

/// How deep the walks below go: no new limit, the deepest tree the nginx
/// front end builds (its nesting limit plus its include depth limit).
const MAX_WALK: usize =
    crate::formats::nginx::parse::MAX_DEPTH + crate::formats::nginx::include::MAX_INCLUDE_DEPTH;

/// Walks `http`-level directives (and the files they include, not server
/// blocks): whether an `include` appears, whether `server_tokens off` is set.
fn walk_http(ds: &[Node], includes: &mut bool, hides: &mut bool, depth: usize) {
    if depth > MAX_WALK {
        return;
    }
    for d in ds {
        match str_of(d, "name") {
            "include" => {
                *includes = true;
                walk_http(list_of(d, "included"), includes, hides, depth + 1);
            }
            "server_tokens" => {
                let arg = list_of(d, "args")
                    .first()
                    .map(|a| str_of(a, "text"))
                    .unwrap_or("");
                *hides = arg == "off";
            }
            _ => {}
        }
    }
}

/// Where a site file inherits `server_tokens off` from (module docs), if anywhere.
fn main_hiding_tokens(
    site: &Node,
    runs: &[&Runner],
    mains: &[Main],
    by_dir: &PathIndex,
    site_dir: &str,
) -> Option<String> {
    if let Some(r) = runs
        .iter()
        .find(|r| r.image.as_deref().is_some_and(|i| LSIO_IMAGES.contains(&i)))
    {
        return Some(format!(
            "compose service {} runs it in a linuxserver.io nginx image, whose main \
             nginx.conf sets `server_tokens off`",
            r.label
        ));
    }
    if includes_lsio(list_of(site, "directives"), 0) {
        return Some(format!(
            "it includes files under `{LSIO_CONFIG_DIR}`, the layout of linuxserver.io's \
             nginx images (swag, nginx), whose main nginx.conf sets `server_tokens off`"
        ));
    }
    // The main configurations of the site's directory or one above it (not
    // those of unrelated examples elsewhere in the tree).
    let here: Vec<&Main> = by_dir
        .containing(&normalize(site_dir))
        .into_iter()
        .filter_map(|k| mains.get(k))
        .collect();
    if !here.is_empty() && here.iter().all(|m| m.hides) {
        let names: Vec<String> = here.iter().map(|m| format!("`{}`", m.path)).collect();
        return Some(format!(
            "the repository's main configuration ({}) sets `server_tokens off` at http level",
            names.join(", ")
        ));
    }
    None
}

/// Whether any `include` below `ds` names a path under [`LSIO_CONFIG_DIR`].
fn includes_lsio(ds: &[Node], depth: usize) -> bool {
    if depth > MAX_WALK {
        return false;
    }
    ds.iter().any(|d| {
        if str_of(d, "name") == "include"
            && list_of(d, "args")
                .first()
                .is_some_and(|a| str_of(a, "text").starts_with(LSIO_CONFIG_DIR))
        {
            return true;
        }
        includes_lsio(list_of(d, "block"), depth + 1)
            || includes_lsio(list_of(d, "included"), depth + 1)
    })
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests may unwrap and index"
)]
mod tests {
    use super::*;
    use crate::project::Kind;

    /// The routes of `site` (path of an nginx or Caddy file) after linking `files`.
    fn routes_of(files: &[(&str, &str, Kind)], site: &str) -> Vec<Node> {
        let mut p = Project::default();
        for (path, text, kind) in files {
            p.add_file(path, text.as_bytes().to_vec(), *kind);
        }
        p.link();
        let doc = p
            .documents
            .iter()
            .find(|d| d.target == Target::HTTP && str_of(&d.root, "path") == site)
            .unwrap_or_else(|| panic!("no http document for {site}"));
        list_of(&doc.root, "routes").to_vec()
    }

    fn unpublished(r: &Node) -> Option<&str> {
        r.get("unpublished").and_then(Node::as_str)
    }

    // nextcloud/docker .examples with-nginx-proxy: `web` mounts its nginx.conf
    // and publishes nothing; nginx-proxy in front terminates TLS.
    const NEXTCLOUD_WEB: &str = "events {}\nhttp {\n  server {\n    listen 80;\n    location / { fastcgi_pass app:9000; }\n  }\n}\n";

    #[test]
    fn a_mounted_config_of_an_unpublished_service_is_unpublished() {
        let compose = "services:\n  web:\n    image: nginx:alpine-slim\n    volumes:\n      - ./web/nginx.conf:/etc/nginx/nginx.conf:ro\n      - nextcloud:/var/www/html:z,ro\n  proxy:\n    image: nginxproxy/nginx-proxy\n    ports:\n      - 80:80\n      - 443:443\nvolumes:\n  nextcloud:\n";
        let rs = routes_of(
            &[
                ("ex/compose.yaml", compose, Kind::COMPOSE),
                ("ex/web/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX),
            ],
            "ex/web/nginx.conf",
        );
        let note = rs.iter().find_map(|r| unpublished(r)).unwrap();
        assert!(note.contains("`web` (ex/compose.yaml)"), "{note}");
    }

    #[test]
    fn a_published_or_unlinked_config_is_not() {
        // Published on every interface: reachable (awesome-compose style).
        for ports in ["\"80:80\"", "\"8080:80\"", "\"0.0.0.0:80:80\"", "\"80\""] {
            let compose = format!("services:\n  web:\n    image: nginx\n    ports:\n      - {ports}\n    volumes:\n      - ./web/nginx.conf:/etc/nginx/nginx.conf:ro\n");
            let rs = routes_of(
                &[
                    ("ex/compose.yaml", &compose, Kind::COMPOSE),
                    ("ex/web/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX),
                ],
                "ex/web/nginx.conf",
            );
            assert!(rs.iter().all(|r| unpublished(r).is_none()), "{ports}");
        }
        // network_mode: host publishes every port.
        let compose = "services:\n  web:\n    image: nginx\n    network_mode: host\n    volumes:\n      - ./web/nginx.conf:/etc/nginx/nginx.conf:ro\n";
        let rs = routes_of(
            &[
                ("ex/compose.yaml", compose, Kind::COMPOSE),
                ("ex/web/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX),
            ],
            "ex/web/nginx.conf",
        );
        assert!(rs.iter().all(|r| unpublished(r).is_none()));
        // No service runs it: judged on its own.
        let rs = routes_of(
            &[("ex/web/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX)],
            "ex/web/nginx.conf",
        );
        assert!(rs.iter().all(|r| unpublished(r).is_none()));
        // Mounting the whole project directory is data, not this config.
        let compose = "services:\n  web:\n    image: nginx\n    volumes:\n      - ./:/var/www\n";
        let rs = routes_of(
            &[
                ("ex/compose.yaml", compose, Kind::COMPOSE),
                ("ex/web/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX),
            ],
            "ex/web/nginx.conf",
        );
        assert!(rs.iter().all(|r| unpublished(r).is_none()));
    }

    #[test]
    fn loopback_lan_and_other_ports_do_not_publish_the_listener() {
        for ports in [
            "127.0.0.1:8080:80",
            "\"[::1]:8080:80\"",
            "10.0.1.14:5233:80",
            "\"9000:9000\"",
        ] {
            let compose = format!("services:\n  web:\n    image: nginx\n    ports:\n      - {ports}\n    volumes:\n      - ./web:/etc/nginx\n");
            let rs = routes_of(
                &[
                    ("ex/compose.yaml", &compose, Kind::COMPOSE),
                    ("ex/web/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX),
                ],
                "ex/web/nginx.conf",
            );
            assert!(rs.iter().any(|r| unpublished(r).is_some()), "{ports}");
        }
    }

    #[test]
    fn a_config_copied_by_a_built_dockerfile_links_its_service() {
        // full-stack-fastapi-template: frontend/Dockerfile copies nginx.conf;
        // the service is reached through Traefik only.
        let dockerfile = "FROM node:20 AS build\nWORKDIR /app\nCOPY . .\nRUN npm run build\nFROM nginx:1\nCOPY --from=build /app/dist/ /usr/share/nginx/html\nCOPY ./nginx.conf /etc/nginx/conf.d/default.conf\n";
        let site = "server {\n  listen 80;\n  location / { root /usr/share/nginx/html; }\n}\n";
        let files = |compose: &'static str| {
            vec![
                ("r/docker-compose.yml", compose, Kind::COMPOSE),
                ("r/frontend/Dockerfile", dockerfile, Kind::DOCKERFILE),
                ("r/frontend/nginx.conf", site, Kind::NGINX),
            ]
        };
        let hidden = "services:\n  frontend:\n    build:\n      context: ./frontend\n    labels:\n      - traefik.enable=true\n";
        let rs = routes_of(&files(hidden), "r/frontend/nginx.conf");
        assert!(rs.iter().all(|r| unpublished(r).is_some()));
        let published =
            "services:\n  frontend:\n    build: ./frontend\n    ports:\n      - \"80:80\"\n";
        let rs = routes_of(&files(published), "r/frontend/nginx.conf");
        assert!(rs.iter().all(|r| unpublished(r).is_none()));
    }

    // authelia/authelia internal/suites: compose fragments combined with `-f`
    // mount paths relative to the project directory (`internal/suites`).
    const AUTHELIA_BACKEND: &str = "services:\n  nginx-backend:\n    image: 'nginx:1.31.4-alpine'\n    labels:\n      traefik.http.routers.protectedapps.tls: 'true'\n    volumes:\n      - './example/compose/nginx/backend/html:/usr/share/nginx/html'\n      - './example/compose/nginx/backend/nginx.conf:/etc/nginx/nginx.conf'\n";

    #[test]
    fn a_mount_missing_beside_the_fragment_resolves_against_the_directories_above() {
        let dir = "a/internal/suites/example/compose/nginx/backend";
        let compose = format!("{dir}/compose.yml");
        let conf = format!("{dir}/nginx.conf");
        let rs = routes_of(
            &[
                (&compose, AUTHELIA_BACKEND, Kind::COMPOSE),
                (&conf, NEXTCLOUD_WEB, Kind::NGINX),
            ],
            &conf,
        );
        let note = rs.iter().find_map(|r| unpublished(r)).unwrap();
        assert!(note.contains("`nginx-backend`"), "{note}");
        // Published by that service: the route names it.
        let published =
            AUTHELIA_BACKEND.replace("    volumes:", "    ports:\n      - 80:80\n    volumes:");
        let rs = routes_of(
            &[
                (&compose, &published, Kind::COMPOSE),
                (&conf, NEXTCLOUD_WEB, Kind::NGINX),
            ],
            &conf,
        );
        assert!(rs.iter().all(|r| unpublished(r).is_none()));
        assert!(rs.iter().any(|r| r.get("published_by").is_some()));
    }

    #[test]
    fn a_mount_that_exists_beside_the_compose_file_is_not_looked_for_above() {
        // `./web/nginx.conf` exists beside the compose file: that one is run,
        // not a file of the same relative path in a directory above.
        let compose = "services:\n  web:\n    image: nginx\n    volumes:\n      - ./web/nginx.conf:/etc/nginx/nginx.conf:ro\n";
        let rs = routes_of(
            &[
                ("r/ex/compose.yaml", compose, Kind::COMPOSE),
                ("r/ex/web/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX),
                ("r/web/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX),
            ],
            "r/web/nginx.conf",
        );
        assert!(rs.iter().all(|r| unpublished(r).is_none()));
        // A source found nowhere links nothing.
        let rs = routes_of(
            &[
                ("r/ex/compose.yaml", compose, Kind::COMPOSE),
                ("r/other/nginx.conf", NEXTCLOUD_WEB, Kind::NGINX),
            ],
            "r/other/nginx.conf",
        );
        assert!(rs.iter().all(|r| unpublished(r).is_none()));
    }

    fn tokens_from(r: &Node) -> Option<&str> {
        r.get("server_tokens_from").and_then(Node::as_str)
    }

    #[test]
    fn a_site_file_inherits_server_tokens_off_from_the_main_above_it() {
        // h5bp/server-configs-nginx: nginx.conf hides the version and
        // includes conf.d/*.conf; templates are copied there by hand.
        let main = "events {}\nhttp {\n  server_tokens off;\n  include conf.d/*.conf;\n}\n";
        let site = "server {\n  listen 443 ssl;\n  server_name example.com;\n}\n";
        let rs = routes_of(
            &[
                ("h5bp/nginx.conf", main, Kind::NGINX),
                ("h5bp/conf.d/templates/example.com.conf", site, Kind::NGINX),
            ],
            "h5bp/conf.d/templates/example.com.conf",
        );
        assert!(rs
            .iter()
            .all(|r| tokens_from(r).is_some_and(|t| t.contains("h5bp/nginx.conf"))));
        // A main that shows the version, or one in an unrelated directory, does not.
        let shows = "events {}\nhttp {\n  include conf.d/*.conf;\n}\n";
        for (main_path, main) in [("h5bp/nginx.conf", shows), ("other/nginx.conf", main)] {
            let rs = routes_of(
                &[
                    (main_path, main, Kind::NGINX),
                    ("h5bp/conf.d/templates/example.com.conf", site, Kind::NGINX),
                ],
                "h5bp/conf.d/templates/example.com.conf",
            );
            assert!(rs.iter().all(|r| tokens_from(r).is_none()), "{main_path}");
        }
        // `server_tokens on` in the site itself wins.
        let on = "server {\n  listen 443 ssl;\n  server_tokens on;\n}\n";
        let rs = routes_of(
            &[
                ("h5bp/nginx.conf", main, Kind::NGINX),
                ("h5bp/conf.d/x.conf", on, Kind::NGINX),
            ],
            "h5bp/conf.d/x.conf",
        );
        assert!(rs.iter().all(|r| tokens_from(r).is_none()));
    }

    #[test]
    fn a_site_for_linuxserver_images_inherits_server_tokens_off() {
        let lone = "server {\n  listen 80;\n  root /var/www;\n}\n";
        // Mounted into linuxserver/swag.
        let compose = "services:\n  swag:\n    image: lscr.io/linuxserver/swag:latest\n    ports:\n      - 443:443\n    volumes:\n      - ./site-confs:/config/nginx/site-confs\n";
        let rs = routes_of(
            &[
                ("s/compose.yaml", compose, Kind::COMPOSE),
                ("s/site-confs/default.conf", lone, Kind::NGINX),
            ],
            "s/site-confs/default.conf",
        );
        assert!(rs
            .iter()
            .all(|r| tokens_from(r).is_some_and(|t| t.contains("`swag`"))));
        // Mounted into the stock nginx image: the version shows.
        let stock = compose.replace("lscr.io/linuxserver/swag:latest", "nginx:1.27");
        let rs = routes_of(
            &[
                ("s/compose.yaml", &stock, Kind::COMPOSE),
                ("s/site-confs/default.conf", lone, Kind::NGINX),
            ],
            "s/site-confs/default.conf",
        );
        assert!(rs.iter().all(|r| tokens_from(r).is_none()));
    }
}
