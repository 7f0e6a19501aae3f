//! Container image references: `[registry[:port]/]path[:tag][@digest]`.

/// An image reference split into its parts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host (with port), when the first path segment names one.
    pub registry: Option<String>,
    /// Repository path without registry, `library/` stripped (`bitnami/redis`, `redis`).
    pub repository: String,
    /// Last path segment (`redis`).
    pub name: String,
    /// Tag, when given.
    pub tag: Option<String>,
    /// Digest (`sha256:…`), when given.
    pub digest: Option<String>,
}

/// Parses an image reference. Never fails: odd input yields odd parts.
pub fn parse(raw: &str) -> ImageRef {
    let s = raw.trim();
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d.to_string())),
        None => (s, None),
    };
    // A tag is after the last ':' that follows the last '/' (a ':' before it is a registry port),
    // ignoring ':' inside `${…}`.
    let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
    let tail = rest.get(last_slash..).unwrap_or("");
    let tag_colon = top_level_colon(tail).map(|i| last_slash + i);
    let (path, tag) = match tag_colon {
        Some(i) => (
            rest.get(..i).unwrap_or(""),
            Some(rest.get(i + 1..).unwrap_or("").to_string()),
        ),
        None => (rest, None),
    };
    let mut segments: Vec<&str> = path.split('/').collect();
    let registry = match segments.first() {
        Some(first)
            if segments.len() > 1
                && (first.contains('.') || first.contains(':') || *first == "localhost") =>
        {
            let r = first.to_string();
            segments.remove(0);
            Some(r)
        }
        _ => None,
    };
    if segments.len() > 1 && segments.first() == Some(&"library") {
        segments.remove(0);
    }
    let repository = segments.join("/");
    let name = segments.last().copied().unwrap_or("").to_string();
    ImageRef {
        registry,
        repository,
        name,
        tag,
        digest,
    }
}

fn top_level_colon(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    let mut found = None;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ':' if depth <= 0 => found = Some(i),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let r = parse("redis:7");
        assert_eq!(
            (r.repository.as_str(), r.tag.as_deref()),
            ("redis", Some("7"))
        );
        let r = parse("docker.io/library/postgres:16-alpine@sha256:abc");
        assert_eq!(r.registry.as_deref(), Some("docker.io"));
        assert_eq!(r.repository, "postgres");
        assert_eq!(r.digest.as_deref(), Some("sha256:abc"));
        let r = parse("localhost:5000/team/app");
        assert_eq!(
            (r.registry.as_deref(), r.repository.as_str(), r.tag),
            (Some("localhost:5000"), "team/app", None)
        );
        let r = parse("bitnami/redis:latest");
        assert_eq!(
            (r.name.as_str(), r.tag.as_deref()),
            ("redis", Some("latest"))
        );
        let r = parse("postgres:${PG_VERSION:-16}");
        assert_eq!(r.tag.as_deref(), Some("${PG_VERSION:-16}"));
        let r = parse("ghcr.io/${OWNER}/app");
        assert_eq!(r.name, "app");
    }
}
