//! Network addresses.

use std::net::IpAddr;
use std::sync::Arc;

use cel::Context;

use super::{sig, Signature};
use crate::schema::Type;

/// Whether `addr` is a loopback address: 127.0.0.0/8, `::1`, `localhost`
/// (brackets and a `:port` suffix tolerated).
pub fn is_loopback(addr: &str) -> bool {
    let a = addr.trim();
    let a = a
        .strip_prefix('[')
        .and_then(|x| x.split(']').next())
        .unwrap_or(a);
    if a.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(ip) = a.parse::<IpAddr>() {
        return ip.is_loopback()
            || matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()));
    }
    // `127.0.0.1:2019`, `localhost:2019`
    match a.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) && !host.contains(':') => {
            host.eq_ignore_ascii_case("localhost")
                || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

pub(crate) fn register(ctx: &mut Context<'_, '_>) -> Result<(), cel::DeclarationError> {
    ctx.add_function("is_loopback", |a: Arc<String>| is_loopback(&a))?;
    Ok(())
}

pub(crate) fn signatures() -> Vec<Signature> {
    vec![sig(
        "is_loopback",
        &[("address", Type::String)],
        Type::Bool,
        "whether an address is loopback: 127.0.0.0/8, `::1` or `localhost` (a `:port` suffix is allowed)",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback() {
        for a in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LOCALHOST",
            "127.0.0.1:2019",
            "localhost:80",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_loopback(a), "{a}");
        }
        for a in [
            "",
            "0.0.0.0",
            "::",
            "10.0.0.1",
            "192.168.1.1",
            "example.com",
            "0.0.0.0:2019",
            ":2019",
            "${BIND}",
        ] {
            assert!(!is_loopback(a), "{a}");
        }
    }
}
