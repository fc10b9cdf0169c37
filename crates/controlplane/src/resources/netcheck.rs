//! Checks of addresses and ports shared by Endpoints and EndpointSlices, with upstream's
//! messages (`IsValidIP`, `ValidateNonSpecialIP`, `IsValidPortNum`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use apimachinery::errors::{FieldError, FieldPath};
use apimachinery::validation;
use serde_json::json;

/// Protocols a port may name, sorted as upstream lists them.
pub const PORT_PROTOCOLS: [&str; 3] = ["SCTP", "TCP", "UDP"];

/// Parses an IP as Go's `ParseIPSloppy`: IPv4 parts may have leading zeros (read as
/// decimal); IPv6 as usual, with no zone.
pub fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        return s.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse::<u8>().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// Parses a CIDR as Go's `ParseCIDRSloppy`: a sloppy IP, `/`, and a prefix length that
/// fits the address family.
pub fn parse_cidr_sloppy(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = s.split_once('/')?;
    let ip = parse_ip_sloppy(ip)?;
    if bits.is_empty() || bits.len() > 3 || !bits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

/// `IsValidCIDR` for legacy fields: an error when `cidr` is not a CIDR.
pub fn is_valid_cidr(path: &FieldPath, cidr: &str) -> Vec<FieldError> {
    match parse_cidr_sloppy(cidr) {
        Some(_) => Vec::new(),
        None => vec![FieldError::invalid(
            path,
            json!(cidr),
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        )],
    }
}

/// `IsValidIP`: an error when `ip` is not an IP address.
pub fn is_valid_ip(path: &FieldPath, ip: &str) -> Vec<FieldError> {
    match parse_ip_sloppy(ip) {
        Some(_) => Vec::new(),
        None => vec![FieldError::invalid(
            path,
            json!(ip),
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        )],
    }
}

/// `ValidateNonSpecialIP`: refuses unspecified, loopback and link-local addresses, as Go's
/// `net.IP` classifies them (an IPv4-mapped IPv6 address counts as its IPv4 address).
pub fn validate_non_special_ip(path: &FieldPath, ip: &str) -> Vec<FieldError> {
    let Some(addr) = parse_ip_sloppy(ip) else {
        return vec![FieldError::invalid(
            path,
            json!(ip),
            "must be a valid IP address",
        )];
    };
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    let (unspecified, loopback, link_local, link_local_multicast) = match addr {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            (
                v4.is_unspecified(),
                o[0] == 127,
                o[0] == 169 && o[1] == 254,
                o[0] == 224 && o[1] == 0 && o[2] == 0,
            )
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            (
                v6.is_unspecified(),
                v6.is_loopback(),
                o[0] == 0xfe && o[1] & 0xc0 == 0x80,
                o[0] == 0xff && o[1] & 0x0f == 0x02,
            )
        }
    };
    let mut errs = Vec::new();
    let mut push = |detail: &str| errs.push(FieldError::invalid(path, json!(ip), detail));
    if unspecified {
        push(&format!("may not be unspecified ({ip})"));
    }
    if loopback {
        push("may not be in the loopback range (127.0.0.0/8, ::1/128)");
    }
    if link_local {
        push("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
    }
    if link_local_multicast {
        push("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
    }
    errs
}

/// Whether `s` parses as Go's strict `netip.ParseAddr` does: IPv4 parts without leading
/// zeros.
fn parses_strictly(s: &str) -> bool {
    if s.contains(':') {
        return s.parse::<Ipv6Addr>().is_ok();
    }
    s.parse::<Ipv4Addr>().is_ok()
}

/// `GetWarningsForIP`: warnings for a valid IP written in a non-standard form (IPv4
/// with leading zeros, IPv4-mapped IPv6) or IPv6 not in RFC 5952's canonical form.
pub fn ip_warnings(path: &FieldPath, ip: &str) -> Vec<String> {
    let Some(parsed) = parse_ip_sloppy(ip) else {
        return Vec::new();
    };
    // Go's %q: an address that parses has only digits, letters, dots and colons.
    let go_quote = |s: &str| format!("\"{s}\"");
    let mapped = match parsed {
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
        IpAddr::V4(_) => None,
    };
    if !parses_strictly(ip) || mapped.is_some() {
        let preferred = mapped.map_or_else(|| parsed.to_string(), |v4| v4.to_string());
        return vec![format!(
            "{path}: non-standard IP address {} will be considered invalid in a future Kubernetes release: use {}",
            go_quote(ip),
            go_quote(&preferred)
        )];
    }
    match parsed {
        IpAddr::V6(v6) if v6.to_string() != ip => vec![format!(
            "{path}: IPv6 address {} should be in RFC 5952 canonical format ({})",
            go_quote(ip),
            go_quote(&v6.to_string())
        )],
        _ => Vec::new(),
    }
}

/// `IsValidPortNum`: 1 to 65535.
pub fn port_num_errors(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![validation::inclusive_range_error(1, 65535)]
    }
}

/// `ValidateDNS1123Label`: one error per message of `IsDNS1123Label`.
pub fn dns1123_label(value: &str, path: &FieldPath) -> Vec<FieldError> {
    validation::is_dns1123_label(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, json!(value), &m))
        .collect()
}

/// `ValidateQualifiedName`: one error per message of `IsQualifiedName`.
pub fn qualified_name(value: &str, path: &FieldPath) -> Vec<FieldError> {
    validation::is_qualified_name(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, json!(value), &m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sloppy_parsing_accepts_leading_zeros() {
        assert_eq!(
            parse_ip_sloppy("010.001.002.003"),
            Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)))
        );
        assert!(parse_ip_sloppy("1.2.3").is_none());
        assert!(parse_ip_sloppy("1.2.3.256").is_none());
        assert!(parse_ip_sloppy("fe80::1%eth0").is_none());
        assert!(parse_ip_sloppy("2001:db8::1").is_some());
    }

    #[test]
    fn non_standard_forms_are_warned_about() {
        let p = FieldPath::new("ip");
        assert!(ip_warnings(&p, "10.0.0.1").is_empty());
        assert!(ip_warnings(&p, "2001:db8::1").is_empty());
        assert!(ip_warnings(&p, "bogus").is_empty());
        assert_eq!(
            ip_warnings(&p, "010.000.000.001"),
            ["ip: non-standard IP address \"010.000.000.001\" will be considered invalid in a future Kubernetes release: use \"10.0.0.1\""]
        );
        assert_eq!(
            ip_warnings(&p, "::ffff:10.0.0.1"),
            ["ip: non-standard IP address \"::ffff:10.0.0.1\" will be considered invalid in a future Kubernetes release: use \"10.0.0.1\""]
        );
        assert_eq!(
            ip_warnings(&p, "2001:DB8:0:0::1"),
            ["ip: IPv6 address \"2001:DB8:0:0::1\" should be in RFC 5952 canonical format (\"2001:db8::1\")"]
        );
    }

    #[test]
    fn special_addresses_are_refused() {
        let p = FieldPath::new("ip");
        let detail = |ip: &str| -> Vec<String> {
            validate_non_special_ip(&p, ip)
                .into_iter()
                .map(|e| e.detail)
                .collect()
        };
        assert!(detail("10.0.0.1").is_empty());
        assert!(detail("2001:db8::1").is_empty());
        assert_eq!(detail("0.0.0.0"), ["may not be unspecified (0.0.0.0)"]);
        assert_eq!(
            detail("::ffff:127.0.0.1"),
            ["may not be in the loopback range (127.0.0.0/8, ::1/128)"]
        );
        assert_eq!(
            detail("fe80::1"),
            ["may not be in the link-local range (169.254.0.0/16, fe80::/10)"]
        );
        assert_eq!(
            detail("224.0.0.5"),
            ["may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"]
        );
        assert_eq!(detail("nope"), ["must be a valid IP address"]);
    }
}
