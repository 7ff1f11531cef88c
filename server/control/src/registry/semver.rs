//! `MAJOR.MINOR.PATCH` version numbers, parsed at the edge (control plane).

use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SemVer {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl SemVer {
    /// Strict: three dot-separated numbers without leading zeros. Pre-release and
    /// build suffixes are refused, since a published contract is a release.
    pub fn parse(s: &str) -> Option<SemVer> {
        let mut parts = s.trim().split('.');
        let mut next = || -> Option<u32> {
            let p = parts.next()?;
            if p.is_empty()
                || (p.len() > 1 && p.starts_with('0'))
                || !p.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            p.parse().ok()
        };
        let v = SemVer {
            major: next()?,
            minor: next()?,
            patch: next()?,
        };
        parts.next().is_none().then_some(v)
    }
}

impl Ord for SemVer {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch).cmp(&(other.major, other.minor, other.patch))
    }
}

impl PartialOrd for SemVer {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for SemVer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::SemVer;

    #[test]
    fn parses_releases_only() {
        assert_eq!(
            SemVer::parse("2.10.0").map(|v| v.to_string()),
            Some("2.10.0".into())
        );
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.2.x",
            "1.2.3-beta",
            "v1.2.3",
        ] {
            assert!(SemVer::parse(bad).is_none(), "{bad}");
        }
        assert!(SemVer::parse("1.10.0") > SemVer::parse("1.9.9"));
    }
}
