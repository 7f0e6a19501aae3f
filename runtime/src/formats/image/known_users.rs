//! What rampart knows about the user widely used images run as, read by
//! `compose.non-root-user` for a service without `user:` that pulls an image
//! (a service built from a Dockerfile of the repository is judged by that
//! Dockerfile, which takes precedence).
//!
//! Each row is a fact read in the image's upstream build files, named in
//! `source`; nothing is listed from memory. An image absent from both tables
//! is unknown: the policy then says that no `user:` is set, never that the
//! service runs as root.

/// How an image starts, as its upstream build files show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// The image configuration sets a non-root `USER`.
    NonRoot,
    /// The image starts as root and its entrypoint steps down to `user`
    /// (gosu/su-exec) before the server runs.
    DropsRoot,
}

/// One known image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownImage {
    /// Image repositories (registry and `library/` stripped) the row covers.
    pub repositories: &'static [&'static str],
    /// How it starts.
    pub start: Start,
    /// The user (as the upstream file writes it).
    pub user: &'static str,
    /// Where the fact comes from (repository and file).
    pub source: &'static str,
}

/// The table. Match is on the repository path, so `docker.n8n.io/n8nio/n8n`
/// and `n8nio/n8n:1.64.0` both match `n8nio/n8n`.
pub const KNOWN_IMAGES: &[KnownImage] = &[
    KnownImage {
        repositories: &["n8nio/n8n"],
        start: Start::NonRoot,
        user: "node",
        source: "n8n-io/n8n docker/images/n8n/Dockerfile (`USER node` in the final stage)",
    },
    KnownImage {
        repositories: &["prom/prometheus", "prometheus/prometheus"],
        start: Start::NonRoot,
        user: "prometheus",
        source: "prometheus/prometheus Dockerfile (`USER prometheus`)",
    },
    KnownImage {
        repositories: &[
            "jupyter/base-notebook",
            "jupyter/minimal-notebook",
            "jupyter/scipy-notebook",
            "jupyter/datascience-notebook",
            "jupyter/all-spark-notebook",
            "jupyter/pyspark-notebook",
            "jupyter/docker-stacks-foundation",
        ],
        start: Start::NonRoot,
        user: "${NB_UID} (jovyan, 1000)",
        source: "jupyter/docker-stacks images/*/Dockerfile (final `USER ${NB_UID}`)",
    },
    KnownImage {
        repositories: &["gotenberg/gotenberg"],
        start: Start::NonRoot,
        user: "gotenberg (1001)",
        source: "gotenberg/gotenberg build/Dockerfile (`USER gotenberg` in every final stage)",
    },
    KnownImage {
        repositories: &["apache/tika"],
        start: Start::NonRoot,
        user: "35002:35002",
        source: "apache/tika-docker full/Dockerfile and minimal/Dockerfile (`ARG UID_GID=\"35002:35002\"`, \
                 `USER $UID_GID` in the runtime stage, since TIKA-3912)",
    },
    KnownImage {
        repositories: &["memcached"],
        start: Start::NonRoot,
        user: "memcache (11211)",
        source: "docker-library/memcached 1/debian/Dockerfile (`USER memcache`)",
    },
    KnownImage {
        repositories: &["wger/server"],
        start: Start::NonRoot,
        user: "wger",
        source: "wger-project/wger extras/docker/production/Dockerfile (`USER wger` in the final stage)",
    },
    KnownImage {
        repositories: &["postgres"],
        start: Start::DropsRoot,
        user: "postgres",
        source: "docker-library/postgres docker-entrypoint.sh (`exec gosu postgres` when started as root) \
                 and Dockerfile (\"grab gosu for easy step-down from root\")",
    },
    KnownImage {
        repositories: &["redis"],
        start: Start::DropsRoot,
        user: "redis",
        source: "docker-library/redis Dockerfile (\"grab gosu for easy step-down from root\"; \
                 the entrypoint runs `gosu redis` for `redis-server`)",
    },
    KnownImage {
        repositories: &["mysql"],
        start: Start::DropsRoot,
        user: "mysql",
        source: "docker-library/mysql Dockerfile (\"add gosu for easy step-down from root\")",
    },
    KnownImage {
        repositories: &["mariadb"],
        start: Start::DropsRoot,
        user: "mysql",
        source: "MariaDB/mariadb-docker docker-entrypoint.sh (\"Switching to dedicated user 'mysql'\", \
                 `exec gosu mysql` when started as root)",
    },
    KnownImage {
        repositories: &["mongo"],
        start: Start::DropsRoot,
        user: "mongodb",
        source: "docker-library/mongo Dockerfile (\"grab gosu for easy step-down from root\")",
    },
    KnownImage {
        repositories: &["rabbitmq"],
        start: Start::DropsRoot,
        user: "rabbitmq",
        source: "docker-library/rabbitmq Dockerfile (\"grab gosu for easy step-down from root\")",
    },
];

/// The row for an image repository (`library/` and the registry already
/// stripped, as the compose model's `image.repository`), if any.
pub fn lookup(repository: &str) -> Option<&'static KnownImage> {
    super::known_row(KNOWN_IMAGES, |k| k.repositories, repository)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert_eq!(lookup("n8nio/n8n").map(|k| k.user), Some("node"));
        assert_eq!(lookup("postgres").map(|k| k.start), Some(Start::DropsRoot));
        assert_eq!(lookup("mariadb").map(|k| k.user), Some("mysql"));
        assert!(lookup("bitnami/postgresql").is_none());
        assert!(lookup("vaultwarden/server").is_none());
    }

    #[test]
    fn every_row_names_its_source() {
        for k in KNOWN_IMAGES {
            assert!(!k.repositories.is_empty());
            assert!(k.source.contains('/'), "{}", k.source);
            assert!(!k.user.is_empty());
        }
    }
}
