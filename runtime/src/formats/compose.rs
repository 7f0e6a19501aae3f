//! docker-compose files: the typed, spanned model of DESIGN.md § Input models.
//!
//! Built from the generic YAML tree (`yaml.rs`): every node keeps the span of
//! the YAML value it came from, normalised values (ports, image parts,
//! interpolation references) the span of the text they were read from.

pub mod extends;
pub mod interpolation;
mod merge;
pub mod overlay;
pub mod ports;

use crate::formats::image;
use crate::formats::image::known_users::Start;
use crate::formats::registry::Target;
use crate::formats::yaml::{self, YKind, YNode, YamlLimits};
use crate::model::{FileId, InputProblem, Node, Span};
use crate::schema::Schema;

/// Whether a file name is a compose file by convention
/// (`docker-compose*.y[a]ml`, `compose*.y[a]ml`).
pub fn is_compose_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    (lower.starts_with("docker-compose") || lower.starts_with("compose"))
        && (lower.ends_with(".yml") || lower.ends_with(".yaml"))
}

/// Top-level keys of the Compose specification.
const TOP_LEVEL_KEYS: &[&str] = &[
    "services", "version", "name", "volumes", "networks", "secrets", "configs", "include", "models",
];

/// Whether a YAML text reads as a compose file (for any `*.yml` named on
/// the command line): its top-level keys (lines starting in column 0) are
/// Compose's own or extensions (`x-…`), or include `services`. A GitHub workflow (`on:`, `jobs:`)
/// or a Kubernetes manifest (`apiVersion:`, `kind:`) is not; a text with no
/// top-level key (empty, a flow mapping, broken) is given to the parser; a
/// top-level sequence (an Ansible playbook) is not compose.
pub fn reads_as_compose(text: &str) -> bool {
    // A top-level sequence (an Ansible playbook, a list of anything).
    if text.lines().any(|l| l == "-" || l.starts_with("- ")) {
        return false;
    }
    let keys: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-', '{', '[']) && !l.trim().is_empty())
        .filter(|l| !l.starts_with("---") && !l.starts_with("..."))
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, _)| k.trim().trim_matches(['"', '\'']))
        })
        .collect();
    keys.contains(&"services")
        || keys
            .iter()
            .all(|k| TOP_LEVEL_KEYS.contains(k) || k.starts_with("x-"))
}

/// Services read from one compose file; the ones after are not checked (an
/// error at the first one left out). The YAML node budget bounds the rest.
pub const MAX_SERVICES: usize = 5_000;

/// Parses a compose file into its model, with every problem found.
///
/// On a YAML syntax error the model is `None` and the one error says where.
pub fn parse(file: FileId, source: &str, path: &str) -> (Option<Node>, Vec<InputProblem>) {
    let mut in_memory = |_: &str, _: &str| Err("no other file is read here".to_string());
    parse_with(file, source, path, &mut in_memory)
}

/// [`parse`], reading the other files `extends:` names with `read` (values
/// inherited from them keep their spans there).
fn parse_with(
    file: FileId,
    source: &str,
    path: &str,
    read: &mut extends::ReadOther<'_>,
) -> (Option<Node>, Vec<InputProblem>) {
    let root = match yaml::parse(file, source, YamlLimits::default()) {
        Ok(r) => r,
        Err(e) => return (None, vec![e]),
    };
    let mut b = Builder::new(file, source, &root, None);
    let model = b.model_of(&root, path, read);
    b.check_interpolations(&root);
    (model, b.problems)
}

/// The model of a base compose file with its default override file merged in
/// ([`overlay::merge_override`]): `over` is the override's root mapping, read
/// from `over_source` (file `over_file`). Problems are those of the two files
/// read alone, already reported; `None` when the base does not parse.
pub fn parse_overlaid(
    file: FileId,
    source: &str,
    path: &str,
    over_file: FileId,
    over_source: &str,
    read: &mut extends::ReadOther<'_>,
) -> Option<Node> {
    let root = yaml::parse(file, source, YamlLimits::default()).ok()?;
    let over = yaml::parse(over_file, over_source, YamlLimits::default()).ok()?;
    let root = overlay::merge_override(&root, &over);
    Builder::new(file, source, &root, Some((over_file, over_source))).model_of(&root, path, read)
}

/// The services of a root mapping that cannot run on their own (before
/// `extends:` is resolved: see [`overlay::is_partial`]).
fn partial_services(root: &YNode) -> Vec<String> {
    root.get("services")
        .map(|s| {
            s.entries()
                .iter()
                .filter(|(_, body)| overlay::is_partial(body))
                .map(|(k, _)| k.text.clone())
                .collect()
        })
        .unwrap_or_default()
}

struct Builder<'a> {
    file: FileId,
    source: &'a str,
    problems: Vec<InputProblem>,
    /// Services that complete a service of another file (`overlay`).
    partial: Vec<String>,
    /// The default override file merged into this one, and its text.
    other: Option<(FileId, &'a str)>,
}

impl<'a> Builder<'a> {
    /// A builder for the file `file` whose root mapping is `root`.
    fn new(file: FileId, source: &'a str, root: &YNode, other: Option<(FileId, &'a str)>) -> Self {
        Builder {
            file,
            source,
            problems: Vec::new(),
            partial: partial_services(root),
            other,
        }
    }

    /// The model of `root` once its services' `extends:` are resolved
    /// (their problems kept with the builder's).
    fn model_of(
        &mut self,
        root: &YNode,
        path: &str,
        read: &mut extends::ReadOther<'_>,
    ) -> Option<Node> {
        let merged = extends::resolve(root, path, read, &mut self.problems);
        self.file_model(&merged, path)
    }

    fn error(&mut self, code: &'static str, span: Span, message: String) {
        self.problems.push(InputProblem::error(code, span, message));
    }

    fn text(&self, n: &YNode) -> Option<String> {
        n.scalar_text(self.src(n.span))
    }

    /// The source `span` points into: this file's, the merged override's,
    /// or none for a value inherited through `extends:` from another file.
    fn src(&self, span: Span) -> &str {
        if span.file == self.file {
            self.source
        } else {
            match self.other {
                Some((f, text)) if f == span.file => text,
                _ => "",
            }
        }
    }

    fn str_node(&mut self, n: &YNode, field: &str) -> Option<Node> {
        match self.text(n) {
            Some(s) => Some(Node::str(n.span, s)),
            None => {
                self.error(
                    "compose-type",
                    n.span,
                    format!("`{field}` must be a scalar, not a list or mapping"),
                );
                None
            }
        }
    }

    fn file_model(&mut self, root: &YNode, path: &str) -> Option<Node> {
        let whole = Span::new(self.file, 0, self.source.len());
        match &root.kind {
            YKind::Map(_) => {}
            YKind::Null => {
                return Some(
                    Node::object(whole)
                        .str("path", whole, path)
                        .field("services", Node::list(whole, vec![]))
                        .field("networks", Node::list(whole, vec![]))
                        .field("volumes", Node::list(whole, vec![]))
                        .field("secrets", Node::list(whole, vec![]))
                        .build(),
                )
            }
            _ => {
                self.error(
                    "compose-structure",
                    root.span,
                    "a compose file must be a mapping with a `services` key".into(),
                );
                return None;
            }
        }
        let networks = self.top_networks(root.get("networks"));
        let mut services = Vec::new();
        if let Some(svcs) = root.get("services") {
            if !svcs.is_map() && !matches!(svcs.kind, YKind::Null) {
                self.error(
                    "compose-structure",
                    svcs.span,
                    "`services` must be a mapping of service names".into(),
                );
            }
            for (i, (key, body)) in svcs.entries().iter().enumerate() {
                if i == MAX_SERVICES {
                    self.error(
                        "compose-too-many-services",
                        key.span,
                        format!(
                            "the file defines more than {MAX_SERVICES} services (the limit); \
                             this one and the ones after it are not checked"
                        ),
                    );
                    break;
                }
                services.push(self.service(key, body, &networks));
            }
        }
        let volumes = self.top_level(root.get("volumes"), &[]);
        let secrets = self.top_level(root.get("secrets"), &["file", "environment"]);
        let net_nodes = networks
            .iter()
            .map(|n| {
                Node::object(n.span)
                    .str("name", n.span, n.name.clone())
                    .field("internal", Node::bool(n.span, n.internal))
                    .field("external", Node::bool(n.span, n.external))
                    .build()
            })
            .collect();
        Some(
            Node::object(whole)
                .str("path", whole, path)
                .field(
                    "services",
                    Node::list(root.get("services").map_or(whole, |s| s.span), services),
                )
                .field("networks", Node::list(whole, net_nodes))
                .field("volumes", Node::list(whole, volumes))
                .field("secrets", Node::list(whole, secrets))
                .build(),
        )
    }

    /// Top-level named entries (`volumes:`, `secrets:`): name, `external`, and
    /// the given scalar fields when present.
    fn top_level(&self, section: Option<&YNode>, fields: &[&str]) -> Vec<Node> {
        let Some(section) = section else {
            return Vec::new();
        };
        section
            .entries()
            .iter()
            .map(|(k, body)| {
                let external = body
                    .get("external")
                    .and_then(YNode::as_bool_lenient)
                    .unwrap_or(false);
                let mut obj = Node::object(k.span).str("name", k.span, k.text.clone());
                for f in fields {
                    let value = body
                        .get(f)
                        .and_then(|v| self.text(v).map(|t| Node::str(v.span, t)));
                    obj = obj.opt(f, value);
                }
                obj.field("external", Node::bool(k.span, external)).build()
            })
            .collect()
    }

    fn top_networks(&mut self, n: Option<&YNode>) -> Vec<TopNetwork> {
        let Some(n) = n else { return Vec::new() };
        n.entries()
            .iter()
            .map(|(k, body)| TopNetwork {
                name: k.text.clone(),
                span: k.span,
                internal: body
                    .get("internal")
                    .and_then(YNode::as_bool_lenient)
                    .unwrap_or(false),
                external: body
                    .get("external")
                    .and_then(YNode::as_bool_lenient)
                    .unwrap_or(false),
            })
            .collect()
    }

    fn service(&mut self, key: &yaml::YKey, body: &YNode, networks: &[TopNetwork]) -> Node {
        let name_span = key.span;
        let overlay = self.partial.contains(&key.text);
        let mut obj = Node::object(name_span)
            .str("name", name_span, key.text.clone())
            .field("overlay", Node::bool(name_span, overlay));
        if !body.is_map() {
            if !matches!(body.kind, YKind::Null) {
                self.error(
                    "compose-structure",
                    body.span,
                    format!("service `{}` must be a mapping", key.text),
                );
            }
            return self
                .service_defaults(obj, name_span, None, networks)
                .build();
        }

        // image
        if let Some(img) = body.get("image") {
            if let Some(raw) = self.text(img) {
                obj = obj.field("image", image_node(img.span, &raw));
            }
        }
        // build
        if let Some(b) = body.get("build") {
            obj = obj.field("build", self.build(b));
        }
        // scalars
        for field in [
            "user",
            "network_mode",
            "pid",
            "ipc",
            "uts",
            "userns_mode",
            "restart",
            "cgroup_parent",
            "mem_limit",
            "cpus",
            "container_name",
            "hostname",
            "working_dir",
        ] {
            if let Some(v) = body.get(field) {
                if let Some(n) = self.str_node(v, field) {
                    obj = obj.field(field, n);
                }
            }
        }
        for field in ["read_only", "privileged", "init", "tty"] {
            if let Some(v) = body.get(field) {
                match v.as_bool_lenient() {
                    Some(b) => obj = obj.field(field, Node::bool(v.span, b)),
                    None => {
                        // An interpolated boolean cannot be known statically; keep it out.
                        if !self.text(v).is_some_and(|t| t.contains('$')) {
                            self.error(
                                "compose-type",
                                v.span,
                                format!("`{field}` must be a boolean"),
                            );
                        }
                    }
                }
            }
        }
        if let Some(v) = body.get("pids_limit") {
            match self.text(v).and_then(|t| t.trim().parse::<i64>().ok()) {
                Some(i) => obj = obj.field("pids_limit", Node::int(v.span, i)),
                None => {
                    if !self.text(v).is_some_and(|t| t.contains('$')) {
                        self.error(
                            "compose-type",
                            v.span,
                            "`pids_limit` must be an integer".into(),
                        );
                    }
                }
            }
        }
        // lists of strings
        for field in [
            "security_opt",
            "cap_add",
            "cap_drop",
            "dns",
            "devices",
            "tmpfs",
        ] {
            let items = self.string_list(body.get(field), field);
            let items = if field.starts_with("cap_") {
                items
                    .into_iter()
                    .map(|n| {
                        let v = n.as_str().unwrap_or("").trim().to_ascii_uppercase();
                        let v = v.strip_prefix("CAP_").map(str::to_string).unwrap_or(v);
                        Node::str(n.span, v)
                    })
                    .collect()
            } else {
                items
            };
            obj = obj.field(
                field,
                Node::list(body.get(field).map_or(name_span, |f| f.span), items),
            );
        }
        // command / entrypoint
        for field in ["command", "entrypoint"] {
            if let Some(v) = body.get(field) {
                let text = match &v.kind {
                    YKind::Seq(items) => items
                        .iter()
                        .filter_map(|i| self.text(i))
                        .collect::<Vec<_>>()
                        .join(" "),
                    _ => self.text(v).unwrap_or_default(),
                };
                obj = obj.field(field, Node::str(v.span, text));
            }
        }
        // ports
        let mut ports = Vec::new();
        if let Some(p) = body.get("ports") {
            for item in p.items() {
                if let Some(n) = self.port(item) {
                    ports.push(n);
                }
            }
        }
        obj = obj.field(
            "ports",
            Node::list(body.get("ports").map_or(name_span, |p| p.span), ports),
        );
        // environment
        let env = self.environment(body.get("environment"));
        obj = obj.field(
            "environment",
            Node::list(body.get("environment").map_or(name_span, |e| e.span), env),
        );
        // env_file
        let env_files = self.env_files(body.get("env_file"));
        obj = obj.field(
            "env_file",
            Node::list(
                body.get("env_file").map_or(name_span, |e| e.span),
                env_files,
            ),
        );
        // labels
        let labels = self.key_values(body.get("labels"));
        obj = obj.field(
            "labels",
            Node::list(body.get("labels").map_or(name_span, |e| e.span), labels),
        );
        // volumes
        let mut vols = Vec::new();
        if let Some(v) = body.get("volumes") {
            for item in v.items() {
                if let Some(n) = self.volume(item) {
                    vols.push(n);
                }
            }
        }
        obj = obj.field(
            "volumes",
            Node::list(body.get("volumes").map_or(name_span, |v| v.span), vols),
        );
        // secrets
        let secrets = body
            .get("secrets")
            .map(|s| {
                s.items()
                    .iter()
                    .filter_map(|i| match &i.kind {
                        YKind::Map(_) => i
                            .get("source")
                            .and_then(|src| self.text(src).map(|t| Node::str(i.span, t))),
                        _ => self.text(i).map(|t| Node::str(i.span, t)),
                    })
                    .collect()
            })
            .unwrap_or_default();
        obj = obj.field(
            "secrets",
            Node::list(body.get("secrets").map_or(name_span, |s| s.span), secrets),
        );
        // healthcheck
        if let Some(h) = body.get("healthcheck") {
            obj = obj.field("healthcheck", self.healthcheck(h));
        }
        // deploy
        if let Some(d) = body.get("deploy") {
            obj = obj.field("deploy", self.deploy(d));
        }
        // interpolations anywhere in the service
        let mut interps = Vec::new();
        self.collect_interpolations(body, "", "", &mut interps);
        obj = obj.field("interpolations", Node::list(body.span, interps));

        self.service_defaults(obj, name_span, Some(body), networks)
            .build()
    }

    /// Derived fields every service has: networks (with the implicit default),
    /// effective limits.
    fn service_defaults(
        &mut self,
        mut obj: crate::model::ObjectBuilder,
        name_span: Span,
        body: Option<&YNode>,
        networks: &[TopNetwork],
    ) -> crate::model::ObjectBuilder {
        let network_mode = body.and_then(|b| b.get("network_mode"));
        let mut nets = Vec::new();
        match body.and_then(|b| b.get("networks")) {
            Some(n) => {
                let names: Vec<(String, Span)> = match &n.kind {
                    YKind::Seq(items) => items
                        .iter()
                        .filter_map(|i| self.text(i).map(|t| (t, i.span)))
                        .collect(),
                    YKind::Map(entries) => entries
                        .iter()
                        .map(|(k, _)| (k.text.clone(), k.span))
                        .collect(),
                    _ => Vec::new(),
                };
                for (name, span) in names {
                    let top = networks.iter().find(|t| t.name == name);
                    nets.push(
                        Node::object(span)
                            .str("name", span, name.clone())
                            .field(
                                "internal",
                                Node::bool(span, top.is_some_and(|t| t.internal)),
                            )
                            .field("implicit", Node::bool(span, false))
                            .build(),
                    );
                }
            }
            None if network_mode.is_none() => {
                let top = networks.iter().find(|t| t.name == "default");
                nets.push(
                    Node::object(name_span)
                        .str("name", name_span, "default")
                        .field(
                            "internal",
                            Node::bool(name_span, top.is_some_and(|t| t.internal)),
                        )
                        .field("implicit", Node::bool(name_span, true))
                        .build(),
                );
            }
            None => {}
        }
        obj = obj.field(
            "networks",
            Node::list(
                body.and_then(|b| b.get("networks"))
                    .map_or(name_span, |n| n.span),
                nets,
            ),
        );
        if body.is_none() {
            for field in [
                "security_opt",
                "cap_add",
                "cap_drop",
                "ports",
                "environment",
                "env_file",
                "labels",
                "volumes",
                "secrets",
                "interpolations",
                "dns",
                "devices",
                "tmpfs",
            ] {
                obj = obj.field(field, Node::list(name_span, vec![]));
            }
        }
        // Effective limits: service-level or deploy.resources.limits.
        let limits = body
            .and_then(|b| b.get("deploy"))
            .and_then(|d| d.get("resources"))
            .and_then(|r| r.get("limits"));
        let mem = body
            .and_then(|b| b.get("mem_limit"))
            .or_else(|| limits.and_then(|l| l.get("memory")));
        if let Some(m) = mem.and_then(|m| self.text(m).map(|t| Node::str(m.span, t))) {
            obj = obj.field("memory_limit", m);
        }
        let cpus = body
            .and_then(|b| b.get("cpus"))
            .or_else(|| limits.and_then(|l| l.get("cpus")));
        if let Some(c) = cpus.and_then(|c| self.text(c).map(|t| Node::str(c.span, t))) {
            obj = obj.field("cpu_limit", c);
        }
        let pids = body
            .and_then(|b| b.get("pids_limit"))
            .or_else(|| limits.and_then(|l| l.get("pids")));
        if let Some(p) = pids.and_then(|p| {
            self.text(p)
                .and_then(|t| t.trim().parse::<i64>().ok())
                .map(|i| Node::int(p.span, i))
        }) {
            obj = obj.field("pids_limit_effective", p);
        }
        obj
    }

    fn string_list(&mut self, n: Option<&YNode>, field: &str) -> Vec<Node> {
        let Some(n) = n else { return Vec::new() };
        match &n.kind {
            YKind::Seq(items) => items
                .iter()
                .filter_map(|i| self.str_node(i, field))
                .collect(),
            YKind::Null => Vec::new(),
            _ => match self.text(n) {
                Some(t) => vec![Node::str(n.span, t)],
                None => {
                    self.error("compose-type", n.span, format!("`{field}` must be a list"));
                    Vec::new()
                }
            },
        }
    }

    fn build(&mut self, b: &YNode) -> Node {
        match &b.kind {
            YKind::Map(_) => {
                let context = b.get("context");
                let ctx = context
                    .and_then(|c| self.text(c))
                    .unwrap_or_else(|| ".".into());
                let df = b.get("dockerfile");
                let df_text = df
                    .and_then(|d| self.text(d))
                    .unwrap_or_else(|| "Dockerfile".into());
                let mut args = Vec::new();
                if let Some(a) = b.get("args") {
                    args = self.key_values(Some(a));
                }
                Node::object(b.span)
                    .str("context", context.map_or(b.span, |c| c.span), ctx)
                    .str("dockerfile_path", df.map_or(b.span, |d| d.span), df_text)
                    .opt(
                        "target",
                        b.get("target")
                            .and_then(|t| self.text(t).map(|s| Node::str(t.span, s))),
                    )
                    .field("args", Node::list(b.span, args))
                    .build()
            }
            _ => {
                let ctx = self.text(b).unwrap_or_else(|| ".".into());
                Node::object(b.span)
                    .str("context", b.span, ctx)
                    .str("dockerfile_path", b.span, "Dockerfile")
                    .field("args", Node::list(b.span, vec![]))
                    .build()
            }
        }
    }

    fn port(&mut self, item: &YNode) -> Option<Node> {
        match &item.kind {
            YKind::Map(_) => {
                let target = item.get("target");
                let Some(target_raw) = target
                    .and_then(|t| self.text(t))
                    .map(|t| interpolation::with_defaults(&t))
                else {
                    self.error(
                        "compose-port",
                        item.span,
                        "a long-syntax port needs a `target`".into(),
                    );
                    return None;
                };
                let t = ports::parse_range(&target_raw);
                if t.is_none() && !target_raw.contains('$') {
                    self.error(
                        "compose-port",
                        item.span,
                        format!("invalid container port `{target_raw}`"),
                    );
                    return None;
                }
                let target_span = target.map_or(item.span, |x| x.span);
                let published = item
                    .get("published")
                    .and_then(|p| self.text(p))
                    .unwrap_or_default();
                let mut published_resolved = interpolation::with_defaults(&published);
                let mut host_ip = item
                    .get("host_ip")
                    .and_then(|h| self.text(h))
                    .map(|h| interpolation::with_defaults(&h))
                    .unwrap_or_default();
                // `published: "127.0.0.1:8080"`: tolerated by some tools; read the address from it.
                if let Some((ip, port)) = published_resolved.clone().rsplit_once(':') {
                    if host_ip.is_empty() && !ip.is_empty() {
                        host_ip = ip.trim_start_matches('[').trim_end_matches(']').to_string();
                        published_resolved = port.to_string();
                    }
                }
                let protocol = item
                    .get("protocol")
                    .and_then(|p| self.text(p))
                    .unwrap_or_else(|| "tcp".into());
                let host_span = item.get("host_ip").map_or(item.span, |h| h.span);
                let mut n = Node::object(item.span)
                    .str(
                        "raw",
                        item.span,
                        self.src(item.span)
                            .get(item.span.start()..item.span.end())
                            .unwrap_or("")
                            .to_string(),
                    )
                    .str("host_ip", host_span, host_ip.clone())
                    .field(
                        "host_ip_explicit",
                        Node::bool(host_span, !host_ip.is_empty()),
                    )
                    .str(
                        "published",
                        item.get("published").map_or(item.span, |p| p.span),
                        published.clone(),
                    )
                    .str("target_raw", target_span, target_raw.clone())
                    .opt("target", t.map(|t| Node::int(target_span, t.0)))
                    .opt("target_end", t.map(|t| Node::int(target_span, t.1)))
                    .str("protocol", item.span, protocol.to_ascii_lowercase());
                if let Some((s, _)) = ports::parse_range(&published_resolved) {
                    n = n.field("published_start", Node::int(item.span, s));
                }
                let mode = item.get("mode").and_then(|m| self.text(m));
                n = n.opt("mode", mode.map(|m| Node::str(item.span, m)));
                Some(n.build())
            }
            _ => {
                let raw = self.text(item)?;
                match ports::parse_short(&raw) {
                    Ok(m) => {
                        let s = item.span;
                        let mut n = Node::object(s)
                            .str("raw", s, raw.clone())
                            .str("host_ip", s, m.host_ip.clone())
                            .field("host_ip_explicit", Node::bool(s, !m.host_ip.is_empty()))
                            .str("published", s, m.published.clone())
                            .str("target_raw", s, m.target_raw.clone())
                            .opt("target", m.target.map(|t| Node::int(s, t)))
                            .opt("target_end", m.target_end.map(|t| Node::int(s, t)))
                            .str("protocol", s, m.protocol.clone());
                        if let Some(p) = m.published_start {
                            n = n.field("published_start", Node::int(s, p));
                        }
                        Some(n.build())
                    }
                    Err(ports::PortError(msg)) => {
                        self.error("compose-port", item.span, msg);
                        None
                    }
                }
            }
        }
    }

    fn environment(&mut self, n: Option<&YNode>) -> Vec<Node> {
        let Some(n) = n else { return Vec::new() };
        let mut out = Vec::new();
        match &n.kind {
            YKind::Map(entries) => {
                for (k, v) in entries {
                    let value = match &v.kind {
                        YKind::Null => None,
                        _ => self.text(v).map(|t| (t, v.span)),
                    };
                    let span = k.span.cover(v.span);
                    out.push(self.env_var(span, &k.text, k.span, value));
                }
            }
            YKind::Seq(items) => {
                for item in items {
                    let Some(t) = self.text(item) else { continue };
                    let (name, value) = match t.split_once('=') {
                        Some((k, v)) => (k.trim().to_string(), Some(v.to_string())),
                        None => (t.trim().to_string(), None),
                    };
                    let value_span = self.sub_span(
                        item,
                        &t,
                        name.len() + 1,
                        value.as_deref().map_or(0, str::len),
                    );
                    let name_span = self.sub_span(item, &t, 0, name.len());
                    out.push(self.env_var(
                        item.span,
                        &name,
                        name_span,
                        value.map(|v| (v, value_span)),
                    ));
                }
            }
            YKind::Null => {}
            _ => self.error(
                "compose-type",
                n.span,
                "`environment` must be a mapping or a list".into(),
            ),
        }
        out
    }

    fn env_var(
        &mut self,
        span: Span,
        name: &str,
        name_span: Span,
        value: Option<(String, Span)>,
    ) -> Node {
        let mut obj = Node::object(span).str("name", name_span, name);
        match value {
            Some((v, vspan)) => {
                let refs = self.references(&v, vspan, name, "environment");
                let literal = !v.is_empty() && refs.is_empty();
                obj = obj
                    .str("value", vspan, v)
                    .field("has_value", Node::bool(vspan, true))
                    .field("literal", Node::bool(vspan, literal))
                    .field("refs", Node::list(vspan, refs));
            }
            None => {
                obj = obj
                    .field("has_value", Node::bool(span, false))
                    .field("literal", Node::bool(span, false))
                    .field("refs", Node::list(span, vec![]));
            }
        }
        obj.build()
    }

    /// A span for `len` bytes at byte `offset` of the scalar text `text` held by
    /// `node`, when the source shows the scalar verbatim; the node's span otherwise.
    fn sub_span(&self, node: &YNode, text: &str, offset: usize, len: usize) -> Span {
        let source = self.src(node.span);
        let raw = source.get(node.span.start()..node.span.end()).unwrap_or("");
        let inner_start = if raw.starts_with('"') || raw.starts_with('\'') {
            node.span.start() + 1
        } else {
            node.span.start()
        };
        let start = inner_start + offset;
        let end = start + len;
        match (
            source.get(inner_start..inner_start + text.len()),
            text.get(offset..offset + len),
        ) {
            (Some(shown), Some(_)) if shown == text && end <= node.span.end() => {
                Span::new(node.span.file, start, end)
            }
            _ => node.span,
        }
    }

    fn references(&mut self, value: &str, span: Span, key: &str, context: &str) -> Vec<Node> {
        match interpolation::parse(value) {
            Ok(refs) => refs
                .into_iter()
                .map(|r| {
                    let rspan = self.span_within(span, value, r.start, r.end - r.start);
                    Node::object(rspan)
                        .str("name", rspan, r.name)
                        .str("op", rspan, r.op)
                        .str("default", rspan, r.word)
                        .str("raw", rspan, r.raw)
                        .str("key", span, key)
                        .str("context", span, context)
                        .build()
                })
                .collect(),
            Err(e) => {
                let espan = self.span_within(span, value, e.offset, 1);
                self.error("compose-interpolation", espan, e.message);
                Vec::new()
            }
        }
    }

    /// Like `sub_span` but from a span (used for values whose node is gone).
    fn span_within(&self, span: Span, text: &str, offset: usize, len: usize) -> Span {
        let source = self.src(span);
        let raw = source.get(span.start()..span.end()).unwrap_or("");
        let inner_start = if raw.starts_with('"') || raw.starts_with('\'') {
            span.start() + 1
        } else {
            span.start()
        };
        let shown = source.get(inner_start..inner_start + text.len());
        if shown == Some(text) && inner_start + offset + len <= span.end() {
            Span::new(span.file, inner_start + offset, inner_start + offset + len)
        } else {
            span
        }
    }

    fn env_files(&mut self, n: Option<&YNode>) -> Vec<Node> {
        let Some(n) = n else { return Vec::new() };
        let one = |b: &mut Self, item: &YNode| -> Option<Node> {
            match &item.kind {
                YKind::Map(_) => {
                    let p = item.get("path")?;
                    let path = b.text(p)?;
                    let required = item
                        .get("required")
                        .and_then(YNode::as_bool_lenient)
                        .unwrap_or(true);
                    Some(
                        Node::object(item.span)
                            .str("path", p.span, path)
                            .field("required", Node::bool(item.span, required))
                            .build(),
                    )
                }
                _ => {
                    let path = b.text(item)?;
                    Some(
                        Node::object(item.span)
                            .str("path", item.span, path)
                            .field("required", Node::bool(item.span, true))
                            .build(),
                    )
                }
            }
        };
        match &n.kind {
            YKind::Seq(items) => items.iter().filter_map(|i| one(self, i)).collect(),
            _ => one(self, n).into_iter().collect(),
        }
    }

    fn key_values(&mut self, n: Option<&YNode>) -> Vec<Node> {
        let Some(n) = n else { return Vec::new() };
        match &n.kind {
            YKind::Map(entries) => entries
                .iter()
                .map(|(k, v)| {
                    let value = self.text(v).unwrap_or_default();
                    Node::object(k.span.cover(v.span))
                        .str("name", k.span, k.text.clone())
                        .str("value", v.span, value)
                        .build()
                })
                .collect(),
            YKind::Seq(items) => items
                .iter()
                .filter_map(|i| {
                    let t = self.text(i)?;
                    let (k, v) = t.split_once('=').unwrap_or((t.as_str(), ""));
                    Some(
                        Node::object(i.span)
                            .str("name", i.span, k.trim())
                            .str("value", i.span, v)
                            .build(),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn volume(&mut self, item: &YNode) -> Option<Node> {
        let s = item.span;
        match &item.kind {
            YKind::Map(_) => {
                let ty = item
                    .get("type")
                    .and_then(|t| self.text(t))
                    .unwrap_or_else(|| "volume".into());
                let source = item
                    .get("source")
                    .and_then(|t| self.text(t))
                    .unwrap_or_default();
                let target = item
                    .get("target")
                    .and_then(|t| self.text(t))
                    .unwrap_or_default();
                let ro = item
                    .get("read_only")
                    .and_then(YNode::as_bool_lenient)
                    .unwrap_or(false);
                let raw = self
                    .src(s)
                    .get(s.start()..s.end())
                    .unwrap_or("")
                    .to_string();
                Some(mount_node(
                    s,
                    item.get("source").map_or(s, |x| x.span),
                    &raw,
                    &ty,
                    &source,
                    &target,
                    ro,
                ))
            }
            _ => {
                let raw = self.text(item)?;
                let (source, target, mode) = split_volume(&raw);
                let ty = if source.is_empty() {
                    "volume"
                } else if is_host_path(&source) {
                    "bind"
                } else {
                    "volume"
                };
                let ro = mode.split(',').any(|m| m == "ro");
                Some(mount_node(s, s, &raw, ty, &source, &target, ro))
            }
        }
    }

    fn healthcheck(&mut self, h: &YNode) -> Node {
        let test = h.get("test");
        let test_text = match test.map(|t| &t.kind) {
            Some(YKind::Seq(items)) => items
                .iter()
                .filter_map(|i| self.text(i))
                .collect::<Vec<_>>()
                .join(" "),
            Some(_) => test.and_then(|t| self.text(t)).unwrap_or_default(),
            None => String::new(),
        };
        let disable = h
            .get("disable")
            .and_then(YNode::as_bool_lenient)
            .unwrap_or(false)
            || test_text.trim() == "NONE";
        Node::object(h.span)
            .str("test", test.map_or(h.span, |t| t.span), test_text)
            .field(
                "disable",
                Node::bool(h.get("disable").map_or(h.span, |d| d.span), disable),
            )
            .build()
    }

    fn deploy(&mut self, d: &YNode) -> Node {
        let mut obj = Node::object(d.span);
        if let Some(rp) = d.get("restart_policy") {
            let cond = rp
                .get("condition")
                .and_then(|c| self.text(c).map(|t| Node::str(c.span, t)));
            let max = rp.get("max_attempts").and_then(|m| {
                self.text(m)
                    .and_then(|t| t.trim().parse::<i64>().ok())
                    .map(|i| Node::int(m.span, i))
            });
            obj = obj.field(
                "restart_policy",
                Node::object(rp.span)
                    .opt("condition", cond)
                    .opt("max_attempts", max)
                    .build(),
            );
        }
        if let Some(r) = d.get("replicas").and_then(|r| {
            self.text(r)
                .and_then(|t| t.parse::<i64>().ok())
                .map(|i| Node::int(r.span, i))
        }) {
            obj = obj.field("replicas", r);
        }
        obj.build()
    }

    /// Compose interpolates every value of the file: a malformed `${` anywhere
    /// (`image`, `user`, `ports`, top-level sections…) is an error, reported
    /// once (values already reported while modelling, such as `environment`,
    /// are skipped).
    fn check_interpolations(&mut self, root: &YNode) {
        let mut reported: Vec<usize> = self
            .problems
            .iter()
            .filter(|p| p.code == "compose-interpolation")
            .map(|p| p.span.start())
            .collect();
        reported.sort_unstable();
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            match &n.kind {
                YKind::Map(entries) => stack.extend(entries.iter().rev().map(|(_, v)| v)),
                YKind::Seq(items) => stack.extend(items.iter().rev()),
                YKind::Str(s) if s.contains('$') => {
                    let first = reported.partition_point(|&r| r < n.span.start());
                    if reported
                        .get(first)
                        .is_some_and(|&r| r < n.span.end().max(n.span.start() + 1))
                    {
                        continue;
                    }
                    if let Err(e) = interpolation::parse(s) {
                        let espan = self.span_within(n.span, s, e.offset, 1);
                        self.error("compose-interpolation", espan, e.message);
                    }
                }
                _ => {}
            }
        }
    }

    /// Every `${…}` reference in any string of the service, with the key it
    /// sits under (`POSTGRES_PASSWORD` for an environment entry) and the
    /// top-level field it is in (`environment`, `command`, `labels`…).
    fn collect_interpolations(&mut self, n: &YNode, key: &str, context: &str, out: &mut Vec<Node>) {
        match &n.kind {
            YKind::Map(entries) => {
                for (k, v) in entries {
                    let ctx = if context.is_empty() {
                        k.text.as_str()
                    } else {
                        context
                    };
                    self.collect_interpolations(v, &k.text, ctx, out);
                }
            }
            YKind::Seq(items) => {
                for i in items {
                    self.collect_interpolations(i, key, context, out);
                }
            }
            YKind::Str(s) if s.contains('$') => {
                // `KEY=value` list items carry their own key.
                let item_key = match s.split_once('=') {
                    Some((k, _))
                        if matches!(context, "environment" | "labels" | "args")
                            && !k.contains('$') =>
                    {
                        k.trim()
                    }
                    _ => key,
                };
                let item_key = item_key.to_string();
                // Errors were reported where the value is modelled (environment); here only collect.
                if let Ok(refs) = interpolation::parse(s) {
                    let _ = refs;
                    let before = self.problems.len();
                    let nodes = self.references(s, n.span, &item_key, context);
                    self.problems.truncate(before);
                    out.extend(nodes);
                }
            }
            _ => {}
        }
    }
}

struct TopNetwork {
    name: String,
    span: Span,
    internal: bool,
    external: bool,
}

fn image_node(span: Span, raw: &str) -> Node {
    let resolved = interpolation::with_defaults(raw);
    let r = image::parse(&resolved);
    let known = image::known_users::lookup(&r.repository);
    let healthcheck = image::known_healthchecks::lookup(&r.repository);
    Node::object(span)
        .str("raw", span, raw)
        .opt("registry", r.registry.map(|v| Node::str(span, v)))
        .str("repository", span, r.repository)
        .str("name", span, r.name)
        .opt("tag", r.tag.map(|v| Node::str(span, v)))
        .opt("digest", r.digest.map(|v| Node::str(span, v)))
        .opt(
            "known_user",
            known.map(|k| {
                Node::object(span)
                    .str("user", span, k.user)
                    .field("non_root", Node::bool(span, k.start == Start::NonRoot))
                    .field("drops_root", Node::bool(span, k.start == Start::DropsRoot))
                    .str("source", span, k.source)
                    .build()
            }),
        )
        .opt(
            "known_healthcheck",
            healthcheck.map(|k| {
                Node::object(span)
                    .str("test", span, k.test)
                    .str("source", span, k.source)
                    .build()
            }),
        )
        .build()
}

fn mount_node(
    span: Span,
    source_span: Span,
    raw: &str,
    ty: &str,
    source: &str,
    target: &str,
    ro: bool,
) -> Node {
    let host_path = if ty == "bind" {
        interpolation::with_defaults(source)
    } else {
        String::new()
    };
    Node::object(span)
        .str("raw", span, raw)
        .str("type", span, ty)
        .str("source", source_span, source)
        .str("host_path", source_span, host_path)
        .str("target", span, target)
        .field("read_only", Node::bool(span, ro))
        .build()
}

/// `SOURCE:TARGET[:MODE]`, `TARGET`; Windows drive letters (`C:\x:/y`) kept whole.
fn split_volume(raw: &str) -> (String, String, String) {
    let mut parts: Vec<String> = Vec::new();
    let chars: Vec<char> = raw.chars().collect();
    let mut cur = String::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let drive = c == ':'
            && cur.len() == 1
            && cur.chars().all(|x| x.is_ascii_alphabetic())
            && matches!(chars.get(i + 1), Some('\\') | Some('/'));
        if c == ':' && !drive {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
        i += 1;
    }
    parts.push(cur);
    match parts.len() {
        1 => (String::new(), parts.remove(0), String::new()),
        2 => {
            let t = parts.remove(1);
            (parts.remove(0), t, String::new())
        }
        _ => {
            let mode = parts.pop().unwrap_or_default();
            let t = parts.pop().unwrap_or_default();
            (parts.join(":"), t, mode)
        }
    }
}

fn is_host_path(s: &str) -> bool {
    s.starts_with('/')
        || s.starts_with('.')
        || s.starts_with('~')
        || s.starts_with('$')
        || s.chars().nth(1) == Some(':')
        || s.contains('/')
}

/// Registers the `compose` target and its types.
pub fn schema(s: &mut Schema) {
    s.target(Target::COMPOSE, "ComposeFile", "one docker-compose file");
    s.object("ComposeFile", "a docker-compose file")
        .field(
            "path",
            "string",
            "the file's path relative to the working directory",
        )
        .field("services", "list<Service>", "services, in file order")
        .field("networks", "list<Network>", "top-level networks")
        .field("volumes", "list<NamedVolume>", "top-level named volumes")
        .field("secrets", "list<TopSecret>", "top-level secrets")
        .done();
    s.object("Service", "one service; its span is the service's name")
        .field("name", "string", "the service key")
        .field(
            "overlay",
            "bool",
            "the service has neither `image`, `build` nor `extends`: it completes a service \
             of another compose file (an override or `-f` overlay) and cannot run on its own",
        )
        .opt("image", "ImageRef", "`image:` parsed")
        .opt(
            "build",
            "Build",
            "`build:` (string or context/dockerfile form)",
        )
        .opt("user", "string", "`user:` as written")
        .opt("read_only", "bool", "`read_only:`")
        .opt("privileged", "bool", "`privileged:`")
        .opt("init", "bool", "`init:`")
        .opt("tty", "bool", "`tty:`")
        .opt("network_mode", "string", "`network_mode:`")
        .opt("pid", "string", "`pid:`")
        .opt("ipc", "string", "`ipc:`")
        .opt("uts", "string", "`uts:`")
        .opt("userns_mode", "string", "`userns_mode:`")
        .opt("restart", "string", "`restart:`")
        .opt("cgroup_parent", "string", "`cgroup_parent:`")
        .opt("mem_limit", "string", "`mem_limit:`")
        .opt("cpus", "string", "`cpus:`")
        .opt("pids_limit", "int", "`pids_limit:`")
        .opt(
            "memory_limit",
            "string",
            "effective memory limit: `mem_limit` or `deploy.resources.limits.memory`",
        )
        .opt(
            "cpu_limit",
            "string",
            "effective CPU limit: `cpus` or `deploy.resources.limits.cpus`",
        )
        .opt(
            "pids_limit_effective",
            "int",
            "effective pids limit: `pids_limit` or `deploy.resources.limits.pids`",
        )
        .opt("container_name", "string", "`container_name:`")
        .opt("hostname", "string", "`hostname:`")
        .opt("working_dir", "string", "`working_dir:`")
        .opt(
            "command",
            "string",
            "`command:` (list form joined with spaces)",
        )
        .opt(
            "entrypoint",
            "string",
            "`entrypoint:` (list form joined with spaces)",
        )
        .field("security_opt", "list<string>", "`security_opt:` entries")
        .field(
            "cap_add",
            "list<string>",
            "`cap_add:`, upper-cased, `CAP_` prefix removed",
        )
        .field(
            "cap_drop",
            "list<string>",
            "`cap_drop:`, upper-cased, `CAP_` prefix removed",
        )
        .field("dns", "list<string>", "`dns:`")
        .field("devices", "list<string>", "`devices:`")
        .field("tmpfs", "list<string>", "`tmpfs:`")
        .field(
            "ports",
            "list<Port>",
            "published ports, short and long syntax normalised",
        )
        .field(
            "environment",
            "list<EnvVar>",
            "`environment:` from map or list form",
        )
        .field("env_file", "list<EnvFile>", "`env_file:` entries")
        .field(
            "labels",
            "list<KeyValue>",
            "`labels:` from map or list form",
        )
        .field(
            "volumes",
            "list<Mount>",
            "`volumes:`, short and long syntax",
        )
        .field(
            "secrets",
            "list<string>",
            "names of the secrets the service uses",
        )
        .field(
            "networks",
            "list<ServiceNetwork>",
            "networks joined (the implicit `default` when none is named and no `network_mode`)",
        )
        .opt("healthcheck", "Healthcheck", "`healthcheck:`")
        .opt("deploy", "Deploy", "`deploy:`")
        .field(
            "interpolations",
            "list<Interpolation>",
            "every `${VAR}` reference anywhere in the service",
        )
        .done();
    s.object("ImageRef", "an image reference `[registry/]repository[:tag][@digest]`; defaults of `${VAR:-d}` applied before parsing")
        .field("raw", "string", "as written")
        .opt("registry", "string", "registry host, when named")
        .field("repository", "string", "path without registry, `library/` stripped")
        .field("name", "string", "last path segment (`redis` of `bitnami/redis`)")
        .opt("tag", "string", "tag, when given")
        .opt("digest", "string", "digest (`sha256:…`), when given")
        .opt(
            "known_user",
            "KnownUser",
            "what rampart's sourced table (runtime/src/formats/image/known_users.rs) knows about \
             the user the image runs as, when listed",
        )
        .opt(
            "known_healthcheck",
            "KnownHealthcheck",
            "the `HEALTHCHECK` the image configuration defines, from rampart's sourced table \
             (runtime/src/formats/image/known_healthchecks.rs), when listed",
        )
        .done();
    s.object(
        "KnownHealthcheck",
        "the healthcheck a widely used image defines, from its upstream Dockerfile",
    )
    .field(
        "test",
        "string",
        "the check, as the upstream file writes it",
    )
    .field(
        "source",
        "string",
        "where the fact comes from (repository and file)",
    )
    .done();
    s.object(
        "KnownUser",
        "the user a widely used image runs as, from its upstream build files",
    )
    .field("user", "string", "the user, as the upstream file writes it")
    .field(
        "non_root",
        "bool",
        "the image configuration sets this non-root `USER`",
    )
    .field(
        "drops_root",
        "bool",
        "the image starts as root and its entrypoint steps down to `user` (gosu/su-exec)",
    )
    .field(
        "source",
        "string",
        "where the fact comes from (repository and file)",
    )
    .done();
    s.object("Build", "a build section")
        .field("context", "string", "build context (`.` by default)")
        .field(
            "dockerfile_path",
            "string",
            "Dockerfile path relative to the context (`Dockerfile` by default)",
        )
        .opt(
            "dockerfile",
            "Dockerfile",
            "the Dockerfile this service builds, with its build context (set by linking; absent when it is not in the repository)",
        )
        .opt("target", "string", "build target stage")
        .field("args", "list<KeyValue>", "build args")
        .done();
    s.object("Port", "a published port")
        .field("raw", "string", "as written")
        .field(
            "host_ip",
            "string",
            "host address, `\"\"` when absent (every interface)",
        )
        .field(
            "host_ip_explicit",
            "bool",
            "whether a host address was written",
        )
        .field(
            "published",
            "string",
            "host port or range as written, `\"\"` when Docker picks one",
        )
        .opt(
            "published_start",
            "int",
            "first host port, when numeric (after `${VAR}` resolution through the `.env`)",
        )
        .field("target_raw", "string", "container port or range as written (defaults of `${VAR:-d}` applied)")
        .opt("target", "int", "container port (first of a range); absent when an interpolation without default decides it")
        .opt("target_end", "int", "last container port of a range")
        .field("protocol", "string", "`tcp`, `udp` or `sctp`")
        .opt("mode", "string", "long syntax `mode:`")
        .done();
    s.object("EnvVar", "one environment variable")
        .field("name", "string", "variable name")
        .opt("value", "string", "value as written (interpolation not resolved); absent when passed through from the shell")
        .field("has_value", "bool", "whether a value is given")
        .field("literal", "bool", "a non-empty value with no `${…}` reference")
        .field("refs", "list<Interpolation>", "references in the value")
        .done();
    s.object("Interpolation", "a `${VAR…}` reference")
        .field("name", "string", "variable name")
        .field(
            "op",
            "string",
            "operator: `\"\"`, `:-`, `-`, `:?`, `?`, `:+`, `+`",
        )
        .field(
            "default",
            "string",
            "the word after the operator (default, error message or replacement)",
        )
        .field("raw", "string", "the reference as written")
        .field(
            "key",
            "string",
            "the key it sits under (the environment variable's name for env entries)",
        )
        .field(
            "context",
            "string",
            "the service field it is in (`environment`, `command`, `labels`…)",
        )
        .done();
    s.object("EnvFile", "an `env_file:` entry")
        .field("path", "string", "path as written")
        .field("required", "bool", "`required:` (true by default)")
        .opt(
            "exists",
            "bool",
            "whether the repository contains the file (set by linking)",
        )
        .done();
    s.object("KeyValue", "a name and a value")
        .field("name", "string", "name")
        .field("value", "string", "value")
        .done();
    s.object("Mount", "a volume or bind mount")
        .field("raw", "string", "as written")
        .field("type", "string", "`bind`, `volume`, `tmpfs`…")
        .field(
            "source",
            "string",
            "host path or volume name, `\"\"` for an anonymous volume",
        )
        .field(
            "host_path",
            "string",
            "the source with `${VAR}` resolved through the `.env` beside the compose file \
             (defaults applied; a variable left unset stays as written), `\"\"` for a named volume",
        )
        .field("target", "string", "path in the container")
        .field("read_only", "bool", "mounted read-only")
        .done();
    s.object("ServiceNetwork", "a network a service joins")
        .field("name", "string", "network name")
        .field(
            "internal",
            "bool",
            "the top-level network has `internal: true`",
        )
        .field(
            "implicit",
            "bool",
            "the implicit default network (no `networks:` given)",
        )
        .done();
    s.object("Healthcheck", "a healthcheck")
        .field("test", "string", "the test command, list form joined")
        .field("disable", "bool", "`disable: true` or test `NONE`")
        .done();
    s.object("Deploy", "the `deploy:` section")
        .opt("restart_policy", "RestartPolicy", "`restart_policy:`")
        .opt("replicas", "int", "`replicas:`")
        .done();
    s.object("RestartPolicy", "a deploy restart policy")
        .opt("condition", "string", "`condition:`")
        .opt("max_attempts", "int", "`max_attempts:`")
        .done();
    s.object("Network", "a top-level network")
        .field("name", "string", "name")
        .field("internal", "bool", "`internal: true`")
        .field("external", "bool", "`external: true`")
        .done();
    s.object("NamedVolume", "a top-level volume")
        .field("name", "string", "name")
        .field("external", "bool", "`external: true`")
        .done();
    s.object("TopSecret", "a top-level secret")
        .field("name", "string", "name")
        .opt("file", "string", "`file:`")
        .opt("environment", "string", "`environment:`")
        .field("external", "bool", "`external: true`")
        .done();
}

/// Walks a model for tests: the value at a dotted path.
#[cfg(test)]
fn at<'a>(n: &'a Node, path: &str) -> &'a Node {
    let mut cur = n;
    for seg in path.split('.') {
        cur = match seg.parse::<usize>() {
            Ok(i) => &cur.as_list().unwrap()[i],
            Err(_) => cur.get(seg).unwrap_or_else(|| panic!("no {seg} in {path}")),
        };
    }
    cur
}

/// The compose format (see [`crate::formats::registry`]).
pub struct Compose;

impl crate::formats::registry::Format for Compose {
    fn name(&self) -> &'static str {
        "compose"
    }
    fn targets(&self) -> &'static [Target] {
        &[Target::COMPOSE]
    }
    fn code_language(&self) -> &'static str {
        "yaml"
    }
    fn default_file_name(&self) -> &'static str {
        "docker-compose.yml"
    }
    fn matches_name(&self, base: &str) -> bool {
        is_compose_name(base)
    }
    /// Any YAML file named on the command line is read as compose.
    fn matches_explicit_name(&self, path: &std::path::Path) -> bool {
        let lower = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        lower.ends_with(".yml") || lower.ends_with(".yaml")
    }
    fn reads_as(&self, text: &str) -> bool {
        reads_as_compose(text)
    }
    fn schema(&self, s: &mut Schema) {
        schema(s);
    }
    fn load(
        &self,
        input: &crate::formats::registry::Input<'_>,
        cx: &mut crate::formats::registry::LoadCx<'_>,
    ) -> crate::formats::registry::Loaded {
        let cwd = cx.disk.as_ref().map(|(c, _)| c.clone());
        let mut read = |from: &str, rel: &str| -> Result<Option<extends::OtherFile>, String> {
            let Some(cwd) = &cwd else {
                return Err("no other file is read here".into());
            };
            let shown = crate::project::join(crate::project::parent(from), rel);
            let (id, text) = match cx.read(&cwd.join(crate::fs::undisplay(&shown))) {
                Ok(r) => r,
                Err(crate::fs::FsError::NotFound) => return Ok(None),
                Err(e) => return Err(e.to_string()),
            };
            match yaml::parse(id, &text, YamlLimits::default()) {
                Ok(root) => Ok(Some(extends::OtherFile { root, path: shown })),
                Err(_) => Err("it is not valid YAML".into()),
            }
        };
        let (model, problems) = parse_with(input.file, input.text, input.path, &mut read);
        crate::formats::registry::Loaded {
            documents: model.map(|m| (Target::COMPOSE, m)).into_iter().collect(),
            problems,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_compose_tells_compose_from_other_yaml() {
        for yes in [
            "services:\n  a:\n    image: x\n",
            "version: '3'\nservices: {}\nfoo: 1\n",
            "x-common: &c\n  restart: always\nvolumes:\n  data:\n",
            "",
            "# comment\n",
            "{services: {a: {image: x}}}\n",
        ] {
            assert!(reads_as_compose(yes), "{yes}");
        }
        for no in [
            "name: CI\non:\n  push:\njobs:\n  b:\n    runs-on: ubuntu-latest\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
            "---\n- hosts: all\n  tasks: []\n",
        ] {
            assert!(!reads_as_compose(no), "{no}");
        }
    }

    fn model(src: &str) -> Node {
        let (m, problems) = parse(FileId(0), src, "docker-compose.yml");
        assert!(problems.is_empty(), "{problems:?}");
        let m = m.unwrap();
        let mut errors = Vec::new();
        let s = {
            let mut s = Schema::default();
            schema(&mut s);
            s
        };
        s.validate(
            &m,
            &crate::schema::Type::Object("ComposeFile".into()),
            "$",
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        m
    }

    fn text<'a>(src: &'a str, n: &Node) -> &'a str {
        &src[n.span.start()..n.span.end()]
    }

    #[test]
    fn service_budget_is_a_located_error() {
        let mut src = String::from("services:\n");
        for i in 0..MAX_SERVICES + 10 {
            src.push_str(&format!("  s{i}:\n    image: nginx\n"));
        }
        let (m, problems) = parse(FileId(0), &src, "docker-compose.yml");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].code, "compose-too-many-services");
        let span = problems[0].span;
        assert_eq!(&src[span.start()..span.end()], format!("s{MAX_SERVICES}"));
        let m = m.unwrap();
        assert_eq!(at(&m, "services").as_list().unwrap().len(), MAX_SERVICES);
    }

    #[test]
    fn malformed_interpolation_is_an_error_in_every_value() {
        let src = "services:\n  web:\n    image: \"nginx:${TAG\"\n    user: \"${UID\"\n    ports: [\"${PORT:80\"]\n    environment:\n      A: \"${B\"\nvolumes:\n  data:\n    driver: \"${DRV\"\n";
        let (_, problems) = parse(FileId(0), src, "docker-compose.yml");
        let mut at: Vec<&str> = problems
            .iter()
            .filter(|p| p.code == "compose-interpolation")
            .map(|p| {
                let line_start = src[..p.span.start()].rfind('\n').map_or(0, |i| i + 1);
                let line_end = src[p.span.start()..]
                    .find('\n')
                    .map_or(src.len(), |i| p.span.start() + i);
                src[line_start..line_end].trim()
            })
            .collect();
        at.sort_unstable();
        assert_eq!(
            at,
            [
                "A: \"${B\"",
                "driver: \"${DRV\"",
                "image: \"nginx:${TAG\"",
                "ports: [\"${PORT:80\"]",
                "user: \"${UID\"",
            ],
            "{problems:?}"
        );
        for p in &problems {
            assert_eq!(&src[p.span.start()..p.span.end()], "$", "{p:?}");
        }
    }

    #[test]
    fn seed_000_before() {
        let src = "services:\n  redis:\n    image: redis:7\n    ports:\n      - \"6380:6379\"\n  postgres:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-cdb_secure_password}\n";
        let m = model(src);
        let port = at(&m, "services.0.ports.0");
        assert_eq!(text(src, port), "\"6380:6379\"");
        assert_eq!(at(port, "host_ip").as_str(), Some(""));
        let env = at(&m, "services.1.environment.0");
        assert_eq!(at(env, "name").as_str(), Some("POSTGRES_PASSWORD"));
        let r = at(env, "refs.0");
        assert_eq!(text(src, r), "${POSTGRES_PASSWORD:-cdb_secure_password}");
        assert_eq!(at(r, "default").as_str(), Some("cdb_secure_password"));
        assert_eq!(
            at(&m, "services.1.interpolations.0.key").as_str(),
            Some("POSTGRES_PASSWORD")
        );
        assert_eq!(text(src, at(&m, "services.1")), "postgres");
    }

    #[test]
    fn list_environment_and_long_ports() {
        let src = "services:\n  a:\n    environment:\n      - \"API_TOKEN=abc\"\n      - DEBUG\n    ports:\n      - target: 80\n        published: \"8080\"\n        host_ip: 127.0.0.1\n";
        let m = model(src);
        let e0 = at(&m, "services.0.environment.0");
        assert_eq!(text(src, at(e0, "name")), "API_TOKEN");
        assert_eq!(text(src, at(e0, "value")), "abc");
        assert_eq!(at(e0, "literal").as_bool(), Some(true));
        assert_eq!(
            at(&m, "services.0.environment.1.has_value").as_bool(),
            Some(false)
        );
        let p = at(&m, "services.0.ports.0");
        assert_eq!(at(p, "host_ip").as_str(), Some("127.0.0.1"));
        assert_eq!(at(p, "published_start").as_int(), Some(8080));
        assert_eq!(at(p, "target").as_int(), Some(80));
    }

    #[test]
    fn merge_keys_carry_hardening() {
        let src = "x-hard: &hard\n  read_only: true\n  cap_drop: [ALL]\nservices:\n  a:\n    <<: *hard\n    image: nginx:1.27\n";
        let m = model(src);
        assert_eq!(at(&m, "services.0.read_only").as_bool(), Some(true));
        assert_eq!(at(&m, "services.0.cap_drop.0").as_str(), Some("ALL"));
    }

    #[test]
    fn volumes_networks_limits() {
        let src = "services:\n  a:\n    image: x:1\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n      - data:/data\n      - type: bind\n        source: /etc\n        target: /host-etc\n    networks: [back]\n    deploy:\n      resources:\n        limits:\n          memory: 512M\nnetworks:\n  back:\n    internal: true\n";
        let m = model(src);
        assert_eq!(at(&m, "services.0.volumes.0.type").as_str(), Some("bind"));
        assert_eq!(
            at(&m, "services.0.volumes.0.read_only").as_bool(),
            Some(true)
        );
        assert_eq!(at(&m, "services.0.volumes.1.type").as_str(), Some("volume"));
        assert_eq!(at(&m, "services.0.volumes.2.source").as_str(), Some("/etc"));
        assert_eq!(
            at(&m, "services.0.networks.0.internal").as_bool(),
            Some(true)
        );
        assert_eq!(at(&m, "services.0.memory_limit").as_str(), Some("512M"));
    }

    #[test]
    fn bad_port_is_a_located_error() {
        let src = "services:\n  a:\n    ports:\n      - \"x:y:z\"\n";
        let (_, problems) = parse(FileId(0), src, "c.yml");
        assert_eq!(problems.len(), 1);
        assert_eq!(
            &src[problems[0].span.start()..problems[0].span.end()],
            "\"x:y:z\""
        );
    }

    #[test]
    fn non_mapping_root_is_an_error() {
        let (m, problems) = parse(FileId(0), "- a\n- b\n", "c.yml");
        assert!(m.is_none());
        assert_eq!(problems[0].code, "compose-structure");
    }

    #[test]
    fn split_volume_forms() {
        assert_eq!(
            split_volume("/a:/b:ro"),
            ("/a".into(), "/b".into(), "ro".into())
        );
        assert_eq!(
            split_volume("/data"),
            ("".into(), "/data".into(), "".into())
        );
        assert_eq!(
            split_volume("C:\\x:/y"),
            ("C:\\x".into(), "/y".into(), "".into())
        );
    }
}
