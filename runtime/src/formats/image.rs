//! Container image references: `[registry[:port]/]path[:tag][@digest]`,
//! shared by the compose and Dockerfile front ends.

pub mod known_healthchecks;
pub mod known_users;

/// The row of a table of known images naming `repository` (`library/` and
/// the registry already stripped, as the compose model's
/// `image.repository`), compared ignoring ASCII case.
fn known_row<T>(
    rows: &'static [T],
    repositories: impl Fn(&T) -> &[&str],
    repository: &str,
) -> Option<&'static T> {
    rows.iter().find(|row| {
        repositories(row)
            .iter()
            .any(|r| r.eq_ignore_ascii_case(repository))
    })
}

/// Byte ranges of an image reference's parts within its text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageParts {
    /// The registry host (and port), when the first path segment names one.
    pub registry: Option<(usize, usize)>,
    /// The repository path (registry excluded, `library/` kept).
    pub path: (usize, usize),
    /// The last path segment.
    pub name: (usize, usize),
    /// The tag, after `:`.
    pub tag: Option<(usize, usize)>,
    /// The digest, after `@` (`sha256:…`).
    pub digest: Option<(usize, usize)>,
}

/// Splits `[registry[:port]/]path[:tag][@digest]`. A first segment is a
/// registry when it contains `.` or `:` or is `localhost`. A `:` inside
/// `${…}` does not start a tag.
pub fn parse_image(s: &str) -> ImageParts {
    let (main_end, digest) = match s.find('@') {
        Some(at) => (at, Some((at + 1, s.len()))),
        None => (s.len(), None),
    };
    let main = s.get(..main_end).unwrap_or("");
    let mut path_start = 0;
    let mut registry = None;
    if let Some(slash) = main.find('/') {
        let first = main.get(..slash).unwrap_or("");
        if first.contains(['.', ':']) || first == "localhost" {
            registry = Some((0, slash));
            path_start = slash + 1;
        }
    }
    let last_slash = main
        .rfind('/')
        .map_or(path_start, |i| i + 1)
        .max(path_start);
    let (path_end, tag) = match main.get(last_slash..).and_then(top_level_colon) {
        Some(c) => (last_slash + c, Some((last_slash + c + 1, main_end))),
        None => (main_end, None),
    };
    ImageParts {
        registry,
        path: (path_start, path_end),
        name: (last_slash, path_end),
        tag,
        digest,
    }
}

/// The last `:` outside `${…}`.
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

/// An image reference split into its parts, as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host (with port), when the first path segment names one.
    pub registry: Option<String>,
    /// Repository path without registry; `library/` stripped on Docker Hub (`bitnami/redis`, `redis`).
    pub repository: String,
    /// Last path segment (`redis`).
    pub name: String,
    /// Tag, when given.
    pub tag: Option<String>,
    /// Digest (`sha256:…`), when given.
    pub digest: Option<String>,
}

/// Whether a registry (or its absence) is Docker Hub, where `library/` is implied.
pub fn is_docker_hub(registry: Option<&str>) -> bool {
    matches!(
        registry,
        None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io")
    )
}

/// Parses an image reference. Never fails: odd input yields odd parts.
pub fn parse(raw: &str) -> ImageRef {
    let s = raw.trim();
    let p = parse_image(s);
    let get = |r: (usize, usize)| s.get(r.0..r.1).unwrap_or("").to_string();
    let registry = p.registry.map(get);
    let path = get(p.path);
    let repository = match path.strip_prefix("library/") {
        Some(rest) if is_docker_hub(registry.as_deref()) => rest.to_string(),
        _ => path,
    };
    ImageRef {
        registry,
        repository,
        name: get(p.name),
        tag: p.tag.map(get),
        digest: p.digest.map(get),
    }
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
        let r = parse("ghcr.io/library/x:1");
        assert_eq!(
            r.repository, "library/x",
            "library/ is only implied on Docker Hub"
        );
    }

    fn ranges(s: &str) -> (Option<&str>, &str, &str, Option<&str>, Option<&str>) {
        let p = parse_image(s);
        let g = |r: (usize, usize)| &s[r.0..r.1];
        (
            p.registry.map(g),
            g(p.path),
            g(p.name),
            p.tag.map(g),
            p.digest.map(g),
        )
    }

    #[test]
    fn byte_ranges() {
        assert_eq!(
            ranges("python:3.11-slim"),
            (None, "python", "python", Some("3.11-slim"), None)
        );
        assert_eq!(
            ranges("localhost:5000/a/b:1@sha256:ab"),
            (
                Some("localhost:5000"),
                "a/b",
                "b",
                Some("1"),
                Some("sha256:ab")
            )
        );
        assert_eq!(
            ranges("ghcr.io/o/r"),
            (Some("ghcr.io"), "o/r", "r", None, None)
        );
        assert_eq!(
            ranges("library/redis"),
            (None, "library/redis", "redis", None, None)
        );
        assert_eq!(
            ranges("localhost/x"),
            (Some("localhost"), "x", "x", None, None)
        );
        assert_eq!(
            ranges("nginx@sha256:00"),
            (None, "nginx", "nginx", None, Some("sha256:00"))
        );
        assert_eq!(ranges(""), (None, "", "", None, None));
    }
}
