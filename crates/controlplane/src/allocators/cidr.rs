//! Service CIDRs as the allocators see them: a network, its family, and the addresses a
//! Service may get from it (upstream's `ipallocator.Allocator` bounds: never the network
//! address, and for IPv4 never the broadcast address either).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::resources::netcheck::parse_cidr_sloppy;

/// An IP family as the API names it (`IPv4`, `IPv6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(ip: &IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The API's name of the family.
    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    pub fn from_name(name: &str) -> Option<Family> {
        match name {
            "IPv4" => Some(Family::V4),
            "IPv6" => Some(Family::V6),
            _ => None,
        }
    }

    /// The other family.
    pub fn other(self) -> Family {
        match self {
            Family::V4 => Family::V6,
            Family::V6 => Family::V4,
        }
    }
}

/// A network in CIDR notation, its address with the host bits cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a CIDR cannot serve Services.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CidrError {
    #[error("invalid CIDR address: {0}")]
    Invalid(String),
    #[error("shortest allowed prefix length for service CIDR is 64, got {0}")]
    TooLarge(u8),
}

fn to_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl Cidr {
    /// Parses `a.b.c.d/n` or `x::/n` (sloppy IPv4, as upstream's flags parse it).
    pub fn parse(s: &str) -> Result<Cidr, CidrError> {
        let (ip, prefix) = parse_cidr_sloppy(s).ok_or_else(|| CidrError::Invalid(s.into()))?;
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        if ip.is_ipv6() && prefix < 64 {
            return Err(CidrError::TooLarge(prefix));
        }
        let width = Self::width_of(&ip);
        let host = u32::from(width - prefix);
        let mask = if host >= 128 {
            0
        } else {
            !((1u128 << host) - 1)
        };
        let network = Self::from_bits(ip.is_ipv4(), to_bits(ip) & mask);
        Ok(Cidr { network, prefix })
    }

    fn width_of(ip: &IpAddr) -> u8 {
        if ip.is_ipv4() {
            32
        } else {
            128
        }
    }

    fn from_bits(v4: bool, bits: u128) -> IpAddr {
        if v4 {
            IpAddr::V4(Ipv4Addr::from(bits as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(bits))
        }
    }

    pub fn family(&self) -> Family {
        Family::of(&self.network)
    }

    /// The network address (`10.96.0.0` of `10.96.0.0/12`).
    pub fn network(&self) -> IpAddr {
        self.network
    }

    fn host_bits(&self) -> u32 {
        u32::from(Self::width_of(&self.network) - self.prefix)
    }

    /// Whether `ip` is inside the network (any address of it).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) if self.network.is_ipv4() => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            other => *other,
        };
        if ip.is_ipv4() != self.network.is_ipv4() {
            return false;
        }
        let host = self.host_bits();
        host >= 128 || (to_bits(ip) >> host) == (to_bits(self.network) >> host)
    }

    /// How many addresses Services may get: the network address never, and for IPv4 the
    /// broadcast address neither (capped at `u64::MAX`, as upstream caps its sizes).
    pub fn usable(&self) -> u64 {
        let host = self.host_bits();
        let total: u128 = if host >= 64 {
            u128::from(u64::MAX) + 1
        } else {
            1u128 << host
        };
        let reserved = if self.network.is_ipv4() { 2 } else { 1 };
        u64::try_from(total.saturating_sub(reserved)).unwrap_or(u64::MAX)
    }

    /// The `n`-th usable address (0 is the one after the network address).
    pub fn nth_usable(&self, n: u64) -> Option<IpAddr> {
        (n < self.usable()).then(|| {
            Self::from_bits(
                self.network.is_ipv4(),
                to_bits(self.network) + 1 + u128::from(n),
            )
        })
    }

    /// The index of `ip` among the usable addresses, or `None` when it is not one.
    pub fn usable_index(&self, ip: &IpAddr) -> Option<u64> {
        if !self.contains(ip) {
            return None;
        }
        let ip = match ip {
            IpAddr::V6(v6) if self.network.is_ipv4() => IpAddr::V4(v6.to_ipv4_mapped()?),
            other => *other,
        };
        let offset = to_bits(ip).checked_sub(to_bits(self.network) + 1)?;
        let offset = u64::try_from(offset).ok()?;
        (offset < self.usable()).then_some(offset)
    }

    /// Addresses at the bottom of the range kept for static requests (KEP-3070):
    /// `min(max(16, size/16), 256)`, none for ranges of 16 addresses or fewer.
    pub fn static_band(&self) -> u64 {
        let host = self.host_bits();
        let size: u128 = if host >= 127 {
            u128::MAX
        } else {
            1u128 << host
        };
        if size <= 16 {
            return 0;
        }
        (size / 16).clamp(16, 256) as u64
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_of_a_v4_range() {
        let c = Cidr::parse("10.0.0.7/24").unwrap();
        assert_eq!(c.to_string(), "10.0.0.0/24");
        assert_eq!(c.usable(), 254);
        assert_eq!(c.nth_usable(0).unwrap().to_string(), "10.0.0.1");
        assert_eq!(c.nth_usable(253).unwrap().to_string(), "10.0.0.254");
        assert_eq!(c.nth_usable(254), None);
        assert_eq!(c.usable_index(&"10.0.0.0".parse().unwrap()), None);
        assert_eq!(c.usable_index(&"10.0.0.255".parse().unwrap()), None);
        assert_eq!(c.usable_index(&"10.0.0.10".parse().unwrap()), Some(9));
        assert!(!c.contains(&"10.0.1.1".parse().unwrap()));
        assert_eq!(c.static_band(), 16);
        assert_eq!(Cidr::parse("10.96.0.0/12").unwrap().static_band(), 256);
        assert_eq!(Cidr::parse("10.0.0.0/28").unwrap().static_band(), 0);
    }

    #[test]
    fn bounds_of_a_v6_range() {
        let c = Cidr::parse("fd00:10:96::/112").unwrap();
        assert_eq!(c.family(), Family::V6);
        assert_eq!(c.usable(), 65535);
        assert_eq!(c.nth_usable(0).unwrap().to_string(), "fd00:10:96::1");
        assert_eq!(c.nth_usable(65534).unwrap().to_string(), "fd00:10:96::ffff");
        assert_eq!(Cidr::parse("fd00::/48"), Err(CidrError::TooLarge(48)));
        assert_eq!(Cidr::parse("fd00::/64").unwrap().usable(), u64::MAX);
    }
}
