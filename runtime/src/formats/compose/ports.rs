//! Compose port mappings, short and long syntax, normalised to
//! `{host_ip, published, target, protocol}`.

use super::interpolation;

/// A port mapping as Compose understands it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapping {
    /// Host address as written (defaults applied to interpolations), `""` when absent
    /// (absent means every interface).
    pub host_ip: String,
    /// Published (host) port or range as written, `""` when Docker picks one.
    pub published: String,
    /// First published port, when numeric.
    pub published_start: Option<i64>,
    /// Container port as written (defaults applied).
    pub target_raw: String,
    /// Container port (first of a range); `None` when an interpolation without default decides it.
    pub target: Option<i64>,
    /// Last container port of a range (equal to `target` otherwise).
    pub target_end: Option<i64>,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
}

/// Why a port could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortError(pub String);

/// Parses the short syntax: `[HOST_IP:][HOST_PORTS:]CONTAINER_PORTS[/PROTOCOL]`,
/// with `[::1]` for IPv6 hosts and `${VAR:-default}` anywhere.
pub fn parse_short(raw: &str) -> Result<PortMapping, PortError> {
    let text = interpolation::with_defaults(raw.trim());
    let (body, protocol) = match text.rsplit_once('/') {
        Some((b, p)) if !p.contains(':') && !p.contains('}') => {
            (b.to_string(), p.to_ascii_lowercase())
        }
        _ => (text.clone(), "tcp".to_string()),
    };
    let parts = split_top_level(&body);
    let (host_ip, published, container) = match parts.as_slice() {
        [c] => (String::new(), String::new(), c.clone()),
        [p, c] => (String::new(), p.clone(), c.clone()),
        [ip, p, c] => (ip.clone(), p.clone(), c.clone()),
        _ => {
            // An unbracketed IPv6 address: everything before the last two parts.
            if parts.len() > 3 {
                let n = parts.len();
                let ip = parts.get(..n - 2).map(|s| s.join(":")).unwrap_or_default();
                let p = parts.get(n - 2).cloned().unwrap_or_default();
                let c = parts.get(n - 1).cloned().unwrap_or_default();
                (ip, p, c)
            } else {
                return Err(PortError(format!("cannot read port mapping `{raw}`")));
            }
        }
    };
    let host_ip = host_ip
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let (target, target_end) = match parse_range(&container) {
        Some((a, b)) => (Some(a), Some(b)),
        None if container.contains('$') => (None, None),
        None => {
            return Err(PortError(format!(
                "invalid container port `{container}` in `{raw}`"
            )))
        }
    };
    if !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(PortError(format!(
            "unknown protocol `{protocol}` in `{raw}`"
        )));
    }
    let published_start = parse_range(&published).map(|(s, _)| s);
    if !published.is_empty() && published_start.is_none() && !published.contains('$') {
        return Err(PortError(format!(
            "invalid published port `{published}` in `{raw}`"
        )));
    }
    Ok(PortMapping {
        target_raw: container,
        host_ip,
        published,
        published_start,
        target,
        target_end,
        protocol,
    })
}

/// Splits on `:` outside `[…]` and `${…}`.
fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut bracket = 0i32;
    let mut brace = 0i32;
    for c in s.chars() {
        match c {
            '[' => bracket += 1,
            ']' => bracket -= 1,
            '{' => brace += 1,
            '}' => brace -= 1,
            _ => {}
        }
        if c == ':' && bracket <= 0 && brace <= 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
}

/// `"80"` → (80, 80); `"8000-8010"` → (8000, 8010).
pub fn parse_range(s: &str) -> Option<(i64, i64)> {
    let s = s.trim();
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (a, b),
        None => (s, s),
    };
    let a: i64 = a.trim().parse().ok()?;
    let b: i64 = b.trim().parse().ok()?;
    ((0..=65535).contains(&a) && (a..=65535).contains(&b)).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> PortMapping {
        parse_short(s).unwrap()
    }

    #[test]
    fn short_forms() {
        let m = p("6379");
        assert_eq!(
            (m.host_ip.as_str(), m.published.as_str(), m.target),
            ("", "", Some(6379))
        );
        let m = p("6380:6379");
        assert_eq!((m.published_start, m.target), (Some(6380), Some(6379)));
        let m = p("127.0.0.1:6380:6379/udp");
        assert_eq!(
            (m.host_ip.as_str(), m.protocol.as_str()),
            ("127.0.0.1", "udp")
        );
        let m = p("[::1]:5432:5432");
        assert_eq!(m.host_ip, "::1");
        let m = p("8000-8010:8000-8010");
        assert_eq!(
            (m.target, m.target_end, m.published_start),
            (Some(8000), Some(8010), Some(8000))
        );
        let m = p("${DB_PORT}:${DB_PORT}");
        assert_eq!((m.target, m.target_raw.as_str()), (None, "${DB_PORT}"));
        let m = p("127.0.0.1::80");
        assert_eq!(
            (m.host_ip.as_str(), m.published.as_str()),
            ("127.0.0.1", "")
        );
        let m = p("${BIND:-127.0.0.1}:${PORT:-6380}:6379");
        assert_eq!(
            (m.host_ip.as_str(), m.published_start),
            ("127.0.0.1", Some(6380))
        );
        let m = p("${PORT}:6379");
        assert_eq!((m.published.as_str(), m.published_start), ("${PORT}", None));
    }

    #[test]
    fn bad_forms() {
        assert!(parse_short("abc").is_err());
        assert!(parse_short("80:80/icmp").is_err());
        assert!(parse_short("x:80").is_err());
        assert!(parse_short("70000").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = parse_short(&s);
        }

        #[test]
        fn generated_mappings_read_back(ip in prop::sample::select(vec!["", "127.0.0.1", "0.0.0.0", "[::1]"]), host in 0u16..65535, target in 1u16..65535, proto in prop::sample::select(vec!["", "/tcp", "/udp"])) {
            let s = if ip.is_empty() { format!("{host}:{target}{proto}") } else { format!("{ip}:{host}:{target}{proto}") };
            let m = parse_short(&s).unwrap();
            prop_assert_eq!(m.host_ip, ip.trim_start_matches('[').trim_end_matches(']'));
            prop_assert_eq!(m.published_start, Some(i64::from(host)));
            prop_assert_eq!(m.target, Some(i64::from(target)));
            let want = if proto.is_empty() { "tcp" } else { &proto[1..] };
            prop_assert_eq!(m.protocol.as_str(), want);
        }
    }
}
