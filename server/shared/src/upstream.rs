//! The upstream policy: which addresses the gateway may send traffic to. Both
//! planes read it: the control plane refuses an upload whose upstream is an
//! address the policy refuses, and the gateway checks every address it is about
//! to connect to, after name resolution, so that a name that resolves somewhere
//! forbidden (now, or after a DNS change) is refused too.
//!
//! By default every address is allowed except those no upstream has a reason
//! to be: loopback, link-local (where cloud metadata services live), the cloud
//! metadata addresses outside it, unspecified, multicast and broadcast. An
//! admin's entries allow more: a CIDR block or address, an exact socket address
//! (`127.0.0.1:9000`, the demo's stand-in ERP), or a host name (`erp.internal`,
//! `*.corp.example`). Steward's own listeners are refused whatever the entries
//! say, so that no contract can route the gateway into the console or itself.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One entry of the admin's allow list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Net(IpNet),
    Socket(SocketAddr),
    /// A lowercase host name; a leading `*.` matches any subdomain.
    Host(String),
}

impl Entry {
    pub fn parse(text: &str) -> Result<Entry, String> {
        let text = text.trim();
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Entry::Net(net));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Entry::Net(IpNet::from(ip)));
        }
        if let Ok(socket) = text.parse::<SocketAddr>() {
            return Ok(Entry::Socket(socket));
        }
        let name = text.strip_prefix("*.").unwrap_or(text);
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !valid {
            return Err(format!(
                "{text:?} is not a CIDR block, an address, an address with a port, or a host name"
            ));
        }
        Ok(Entry::Host(text.to_ascii_lowercase()))
    }

    fn allows(&self, host: &str, addr: SocketAddr) -> bool {
        match self {
            Entry::Net(net) => net.contains(&addr.ip().to_canonical()),
            Entry::Socket(socket) => {
                socket.ip().to_canonical() == addr.ip().to_canonical()
                    && socket.port() == addr.port()
            }
            Entry::Host(pattern) => {
                let host = host.trim_end_matches('.');
                match pattern.strip_prefix("*.") {
                    Some(suffix) => {
                        host.len() > suffix.len() + 1
                            && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                            && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
                    }
                    None => host.eq_ignore_ascii_case(pattern),
                }
            }
        }
    }
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A single address reads as itself, not as a /32.
            Entry::Net(net) if net.prefix_len() == net.max_prefix_len() => {
                write!(f, "{}", net.addr())
            }
            Entry::Net(net) => write!(f, "{net}"),
            Entry::Socket(socket) => write!(f, "{socket}"),
            Entry::Host(host) => f.write_str(host),
        }
    }
}

/// The policy in force: the admin's entries and Steward's own listeners.
#[derive(Debug, Clone, Default)]
pub struct UpstreamPolicy {
    entries: Vec<Entry>,
    own: Vec<SocketAddr>,
    id: u64,
}

impl UpstreamPolicy {
    pub fn new(entries: Vec<Entry>, own: Vec<SocketAddr>) -> Self {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for entry in &entries {
            entry.to_string().hash(&mut hasher);
        }
        own.hash(&mut hasher);
        UpstreamPolicy {
            entries,
            own,
            id: hasher.finish(),
        }
    }

    /// The same for the same entries and listeners: a connection made under
    /// one policy is not reused under another, which might refuse it.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Whether traffic for the URL host `host` may go to `addr`, and if not, why.
    pub fn check(&self, host: &str, addr: SocketAddr) -> Result<(), String> {
        let ip = addr.ip().to_canonical();
        // A listener on all interfaces is certainly reachable on loopback; on
        // another address it may be another machine's port, which stays allowed.
        let own = self.own.iter().any(|o| {
            let mine = o.ip().to_canonical();
            o.port() == addr.port()
                && (mine == ip || ip.is_loopback() && (mine.is_loopback() || mine.is_unspecified()))
        });
        if own {
            return Err(format!("{addr} is one of Steward's own listeners"));
        }
        if self.entries.iter().any(|e| e.allows(host, addr)) {
            return Ok(());
        }
        match refused_by_default(ip) {
            Some(what) => Err(format!("{ip} is {what}, which the upstream policy refuses")),
            None => Ok(()),
        }
    }
}

/// What kind of address no upstream has a reason to be, if `ip` is one.
pub fn refused_by_default(ip: IpAddr) -> Option<&'static str> {
    const METADATA_V4: [Ipv4Addr; 2] = [
        // Alibaba Cloud's metadata service; the others use 169.254.169.254.
        Ipv4Addr::new(100, 100, 100, 200),
        Ipv4Addr::new(192, 0, 0, 192),
    ];
    // AWS's IPv6 metadata endpoint.
    const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);
    match ip.to_canonical() {
        IpAddr::V4(v4) if v4.is_loopback() => Some("a loopback address"),
        IpAddr::V4(v4) if v4.is_link_local() => {
            Some("a link-local address (where cloud metadata services answer)")
        }
        IpAddr::V4(v4) if METADATA_V4.contains(&v4) => Some("a cloud metadata address"),
        IpAddr::V4(v4) if v4.is_unspecified() => Some("the unspecified address"),
        IpAddr::V4(v4) if v4.is_multicast() || v4.is_broadcast() => {
            Some("a multicast or broadcast address")
        }
        IpAddr::V6(v6) if v6.is_loopback() => Some("a loopback address"),
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("a link-local address"),
        IpAddr::V6(v6) if v6 == METADATA_V6 => Some("a cloud metadata address"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("the unspecified address"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("a multicast address"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_default_refuses_what_no_upstream_needs() {
        let policy = UpstreamPolicy::default();
        for refused in [
            "127.0.0.1:5432",
            "169.254.169.254:80",
            "[::1]:80",
            "[fe80::1]:80",
            "[::ffff:127.0.0.1]:80",
            "0.0.0.0:80",
            "100.100.100.200:80",
            "[fd00:ec2::254]:80",
        ] {
            assert!(policy.check("h", addr(refused)).is_err(), "{refused}");
        }
        for allowed in ["10.1.2.3:8069", "192.168.0.10:80", "203.0.113.9:443"] {
            assert!(policy.check("h", addr(allowed)).is_ok(), "{allowed}");
        }
        let why = policy.check("h", addr("169.254.169.254:80")).unwrap_err();
        assert!(why.contains("link-local"), "{why}");
    }

    #[test]
    fn entries_allow_more_but_never_steward_itself() {
        let entries = [
            "127.0.0.1:9000",
            "fe80::/10",
            "erp.internal",
            "*.corp.example",
        ]
        .into_iter()
        .map(|e| Entry::parse(e).unwrap())
        .collect();
        let policy =
            UpstreamPolicy::new(entries, vec![addr("0.0.0.0:8080"), addr("127.0.0.1:3000")]);
        assert!(policy.check("127.0.0.1", addr("127.0.0.1:9000")).is_ok());
        assert!(
            policy.check("127.0.0.1", addr("127.0.0.1:5432")).is_err(),
            "only that port"
        );
        assert!(policy.check("x", addr("[fe80::7]:80")).is_ok());
        assert!(policy.check("erp.internal", addr("127.0.0.1:8069")).is_ok());
        assert!(
            policy
                .check("api.corp.example", addr("127.0.0.1:80"))
                .is_ok()
        );
        assert!(policy.check("corp.example", addr("127.0.0.1:80")).is_err());
        assert!(
            policy
                .check("evilcorp.example", addr("127.0.0.1:80"))
                .is_err()
        );
        // Steward's own listeners, whatever the entries say.
        assert!(
            policy
                .check("erp.internal", addr("127.0.0.1:3000"))
                .is_err()
        );
        assert!(
            policy
                .check("erp.internal", addr("127.0.0.2:8080"))
                .is_err()
        );
        assert!(
            policy.check("erp", addr("10.0.0.5:8080")).is_ok(),
            "another machine's 8080"
        );
    }

    #[test]
    fn entries_parse_and_print_as_written() {
        for text in [
            "10.0.0.0/8",
            "127.0.0.1",
            "127.0.0.1:9000",
            "[::1]:9000",
            "erp.internal",
            "*.corp.example",
        ] {
            assert_eq!(Entry::parse(text).unwrap().to_string(), text);
        }
        for bad in ["", "http://erp", "erp internal", "*.", "a..b"] {
            assert!(Entry::parse(bad).is_err(), "{bad:?}");
        }
    }
}
