//! Whom per-caller limits count against: an IPv4 address, or an IPv6 /64 (one
//! site's or one device's prefix, within which addresses cost nothing to
//! change). The gateway's connection caps and anonymous rate limits and the
//! control plane's guess throttling all count by it.

use std::net::{IpAddr, Ipv6Addr};

/// `ip`'s source: IPv4 (an IPv4-mapped IPv6 address included) as it is, IPv6
/// cut to its /64.
pub fn of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0).into()
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_64_is_one_source() {
        let of = |s: &str| of(s.parse().unwrap());
        assert_eq!(of("203.0.113.9"), of("::ffff:203.0.113.9"));
        assert_ne!(of("203.0.113.9"), of("203.0.113.10"));
        assert_eq!(of("2001:db8:1:2::1"), of("2001:db8:1:2:ffff::9"));
        assert_ne!(of("2001:db8:1:2::1"), of("2001:db8:1:3::1"));
    }
}
