//! IP / CIDR helpers and host address selection.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};

/// An IP network in CIDR notation; `addr` is always the network address
/// (host bits cleared), as Go's `net.ParseCIDR` returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl IpNet {
    /// Parse `a.b.c.d/n` or `x::y/n`. Like `netutils.ParseCIDRSloppy`,
    /// IPv4 octets may carry leading zeros (read as decimal).
    pub fn parse(s: &str) -> Result<IpNet, String> {
        let bad = || format!("invalid CIDR address: {s}");
        let (ip, prefix) = s.split_once('/').ok_or_else(bad)?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 3 {
            return Err(bad());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let addr = parse_ip_sloppy(ip).ok_or_else(bad)?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad());
        }
        Ok(IpNet {
            addr: mask(addr, prefix),
            prefix_len: prefix,
        })
    }

    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    pub fn bits(&self) -> u8 {
        if self.is_ipv4() {
            32
        } else {
            128
        }
    }

    /// Number of host bits (`bits - ones`, as in Go's `Mask.Size()`).
    pub fn host_bits(&self) -> u8 {
        self.bits() - self.prefix_len
    }

    /// Number of addresses in the range, saturating at `u128::MAX`.
    pub fn size(&self) -> u128 {
        let hb = u32::from(self.host_bits());
        if hb >= 128 {
            u128::MAX
        } else {
            1u128 << hb
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        ip.is_ipv4() == self.is_ipv4() && mask(ip, self.prefix_len) == self.addr
    }

    /// The address at `index` inside the range (network address + index),
    /// like `netutils.GetIndexedIP`; `None` when outside the range.
    pub fn indexed(&self, index: u128) -> Option<IpAddr> {
        if index >= self.size() {
            return None;
        }
        Some(match self.addr {
            IpAddr::V4(v4) => {
                let n = u32::from(v4).checked_add(u32::try_from(index).ok()?)?;
                IpAddr::V4(Ipv4Addr::from(n))
            }
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6).checked_add(index)?)),
        })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl std::str::FromStr for IpNet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IpNet::parse(s)
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & m))
        }
        IpAddr::V6(v6) => {
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & m))
        }
    }
}

/// IPv4-mapped IPv6 addresses are treated as IPv4, as Go does.
pub fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Strict IP parsing (Go's `net.ParseIP` since 1.17): no leading zeros,
/// surrounding whitespace ignored like pflag's `IPVar`.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse::<IpAddr>().ok().map(canonical)
}

/// Parsing that also accepts IPv4 octets with leading zeros (decimal).
pub fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    if let Some(ip) = parse_ip(s) {
        return Some(ip);
    }
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut octets = [0u8; 4];
    for (o, p) in octets.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = p.parse().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// Go's `IP.IsGlobalUnicast`: not unspecified, loopback, multicast,
/// link-local unicast or the IPv4 limited broadcast address.
pub fn is_global_unicast(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            !(v4.is_unspecified()
                || v4.is_loopback()
                || v4.is_multicast()
                || v4.is_link_local()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Whether a default route of the given family exists, according to
/// `/proc/net/route` / `/proc/net/ipv6_route`. Returns the interface names
/// and (for IPv4) the gateway of each default route.
fn default_routes_v4() -> Vec<(String, Ipv4Addr)> {
    let Ok(text) = std::fs::read_to_string("/proc/net/route") else {
        return Vec::new();
    };
    parse_route_table(&text)
}

/// Parse `/proc/net/route`: keep rows whose destination and mask are zero.
pub(crate) fn parse_route_table(text: &str) -> Vec<(String, Ipv4Addr)> {
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 8 {
            continue;
        }
        let (iface, dest, gw, mask) = (cols[0], cols[1], cols[2], cols[7]);
        if dest != "00000000" || mask != "00000000" {
            continue;
        }
        // The kernel prints the network-order bytes read as a native u32.
        let gw = u32::from_str_radix(gw, 16).unwrap_or(0);
        out.push((iface.to_string(), Ipv4Addr::from(gw.to_ne_bytes())));
    }
    out
}

fn default_route_ifaces_v6() -> Vec<String> {
    let Ok(text) = std::fs::read_to_string("/proc/net/ipv6_route") else {
        return Vec::new();
    };
    parse_ipv6_route_table(&text)
}

/// Parse `/proc/net/ipv6_route`: default routes have a zero destination and
/// prefix length 0; the loopback "unreachable" catch-all is skipped.
pub(crate) fn parse_ipv6_route_table(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 10 {
            continue;
        }
        if cols[0] != "00000000000000000000000000000000" || cols[1] != "00" {
            continue;
        }
        if cols[9] == "lo" {
            continue;
        }
        out.push(cols[9].to_string());
    }
    out
}

/// Global IPv6 addresses of an interface, from `/proc/net/if_inet6`.
pub(crate) fn parse_if_inet6(text: &str, iface: &str) -> Vec<Ipv6Addr> {
    let mut out = Vec::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 6 || cols[5] != iface {
            continue;
        }
        let Ok(raw) = u128::from_str_radix(cols[0], 16) else {
            continue;
        };
        let ip = Ipv6Addr::from(raw);
        if is_global_unicast(IpAddr::V6(ip)) {
            out.push(ip);
        }
    }
    out
}

/// Pick the source address the kernel would use towards `target`, without
/// sending anything (a UDP `connect` only performs a route lookup).
fn source_address_towards(target: IpAddr) -> Option<IpAddr> {
    let bind: SocketAddr = match target {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = UdpSocket::bind(bind).ok()?;
    sock.connect((target, 53)).ok()?;
    let local = canonical(sock.local_addr().ok()?.ip());
    is_global_unicast(local).then_some(local)
}

fn choose_v4() -> Option<IpAddr> {
    for (_iface, gw) in default_routes_v4() {
        // A gateway-less default route (point-to-point) still lets the kernel
        // pick a source; use a documentation address as the lookup target.
        let target = if gw.is_unspecified() {
            Ipv4Addr::new(192, 0, 2, 1)
        } else {
            gw
        };
        if let Some(ip) = source_address_towards(IpAddr::V4(target)) {
            return Some(ip);
        }
    }
    None
}

fn choose_v6() -> Option<IpAddr> {
    let ifaces = default_route_ifaces_v6();
    if ifaces.is_empty() {
        return None;
    }
    let text = std::fs::read_to_string("/proc/net/if_inet6").ok()?;
    ifaces
        .iter()
        .find_map(|iface| parse_if_inet6(&text, iface).first().copied())
        .map(IpAddr::V6)
}

/// Upstream's `ResolveBindAddress`: a specific, non-loopback bind address
/// is used as is; otherwise the global address of the interface carrying
/// the default route is chosen, preferring the bind address's family.
/// Returns `None` when no such address exists (upstream then fails; the
/// caller applies our fallback).
pub fn resolve_bind_address(bind: IpAddr) -> Option<IpAddr> {
    let bind = canonical(bind);
    if !bind.is_unspecified() && !bind.is_loopback() {
        return Some(bind);
    }
    if bind.is_ipv4() {
        choose_v4().or_else(choose_v6)
    } else {
        choose_v6().or_else(choose_v4)
    }
}

/// Format `ip:port`, bracketing IPv6.
pub fn host_port(ip: IpAddr, port: u16) -> String {
    SocketAddr::new(ip, port).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing() {
        let n = IpNet::parse("10.0.0.5/24").unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/24");
        assert_eq!(n.indexed(1), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(n.size(), 256);
        assert!(n.contains("10.0.0.200".parse().unwrap()));
        assert!(!n.contains("10.0.1.1".parse().unwrap()));
        let sloppy = IpNet::parse("010.000.000.000/16").unwrap();
        assert_eq!(sloppy.to_string(), "10.0.0.0/16");
        let v6 = IpNet::parse("fd00:10:96::/112").unwrap();
        assert_eq!(v6.indexed(1), Some("fd00:10:96::1".parse().unwrap()));
        assert_eq!(v6.host_bits(), 16);
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "::/129",
            "x/8",
            "10.0.0.0/",
            "10.0.0.0/-1",
        ] {
            assert!(IpNet::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(IpNet::parse("0.0.0.0/0").unwrap().size(), 1 << 32);
        assert_eq!(IpNet::parse("::/0").unwrap().size(), u128::MAX);
    }

    #[test]
    fn global_unicast() {
        assert!(is_global_unicast("192.0.2.10".parse().unwrap()));
        assert!(is_global_unicast("10.1.2.3".parse().unwrap()));
        assert!(!is_global_unicast("127.0.0.1".parse().unwrap()));
        assert!(!is_global_unicast("169.254.1.1".parse().unwrap()));
        assert!(!is_global_unicast("fe80::1".parse().unwrap()));
        assert!(is_global_unicast("fd00::2".parse().unwrap()));
        assert!(!is_global_unicast("::".parse().unwrap()));
    }

    #[test]
    fn proc_route_parsing() {
        let v4 =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                  eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                  eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(
            parse_route_table(v4),
            vec![("eth0".to_string(), Ipv4Addr::new(192, 0, 2, 1))]
        );
        let v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0\n\
                  00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n";
        assert_eq!(parse_ipv6_route_table(v6), vec!["eth0".to_string()]);
        let inet6 = "fd000000000000000000000000000002 04 40 00 82     eth0\n\
                     00000000000000000000000000000001 01 80 10 80       lo\n\
                     fe8000000000000000fc00fffe000001 04 40 20 80     eth0\n";
        assert_eq!(
            parse_if_inet6(inet6, "eth0"),
            vec!["fd00::2".parse::<Ipv6Addr>().unwrap()]
        );
    }

    #[test]
    fn resolve_specific_bind_address() {
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(resolve_bind_address(ip), Some(ip));
        assert_eq!(host_port("::1".parse().unwrap(), 6443), "[::1]:6443");
    }
}
