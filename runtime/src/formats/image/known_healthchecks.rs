//! Widely used images whose image configuration defines a `HEALTHCHECK`,
//! read by `compose.healthcheck-defined` for a service without
//! `healthcheck:` that pulls one of them (a service built from a Dockerfile
//! of the repository is judged by that Dockerfile instead).
//!
//! Each row is read in the image's upstream Dockerfile, named in `source`
//! (the `HEALTHCHECK` of the stage the published image is built from);
//! nothing is listed from memory.

/// One image whose configuration defines a healthcheck.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownHealthcheck {
    /// Image repositories (registry and `library/` stripped) the row covers.
    pub repositories: &'static [&'static str],
    /// The check, as the upstream file writes it (shortened).
    pub test: &'static str,
    /// Where the fact comes from (repository and file).
    pub source: &'static str,
}

/// The table. Match is on the repository path, as for `known_users`.
pub const KNOWN_HEALTHCHECKS: &[KnownHealthcheck] = &[
    KnownHealthcheck {
        repositories: &["paperless-ngx/paperless-ngx"],
        test: "curl -fs -S --max-time 2 http://localhost:8000",
        source: "paperless-ngx/paperless-ngx Dockerfile (`HEALTHCHECK --interval=30s --timeout=10s \
                 --retries=5 CMD [\"curl\", …, \"http://localhost:8000\"]`, last instruction)",
    },
    KnownHealthcheck {
        repositories: &["pihole/pihole"],
        test: "dig … @127.0.0.1 pi.hole",
        source: "pi-hole/docker-pi-hole src/Dockerfile (`HEALTHCHECK CMD dig -p $(pihole-FTL --config \
                 dns.port) +short +norecurse +retry=0 @127.0.0.1 pi.hole || exit 1` in the final stage)",
    },
];

/// The row for an image repository (`library/` and the registry already
/// stripped, as the compose model's `image.repository`), if any.
pub fn lookup(repository: &str) -> Option<&'static KnownHealthcheck> {
    super::known_row(KNOWN_HEALTHCHECKS, |k| k.repositories, repository)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        assert!(lookup("pihole/pihole").is_some());
        assert!(lookup("Paperless-ngx/Paperless-ngx").is_some());
        assert!(lookup("nginx").is_none());
    }

    #[test]
    fn every_row_names_its_source() {
        for k in KNOWN_HEALTHCHECKS {
            assert!(!k.repositories.is_empty());
            assert!(k.source.contains("Dockerfile"), "{}", k.source);
            assert!(!k.test.is_empty());
        }
    }
}
