//! A version's lifecycle as headers (RFC 9745 `Deprecation`, RFC 8594 `Sunset`,
//! the successor `Link`): worked out once per snapshot, since they depend on the
//! version alone, and read by the lifecycle phase (data plane).

use crate::snapshot::Lifecycle;
use http::{HeaderName, HeaderValue, header};
use time::Date;

/// An HTTP-date (RFC 9110 §5.6.7) for the start of `date`, as `Sunset` wants it.
pub fn http_date(date: Date) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] 00:00:00 GMT"
    );
    date.format(&f).unwrap_or_default()
}

pub fn successor_link(successor: &Option<String>) -> Option<String> {
    successor
        .as_ref()
        .map(|s| format!("<{s}>; rel=\"successor-version\""))
}

/// The headers that announce a deprecated version (RFC 9745 `Deprecation`,
/// RFC 8594 `Sunset`, the successor `Link`); none for other states. Made once
/// per snapshot: they depend on the version alone.
pub fn announcement(lifecycle: &Lifecycle) -> Vec<(HeaderName, HeaderValue)> {
    let Lifecycle::Deprecated {
        since,
        sunset,
        successor,
    } = lifecycle
    else {
        return Vec::new();
    };
    let mut text = vec![(
        HeaderName::from_static("deprecation"),
        format!("@{}", since.unix_timestamp()),
    )];
    if let Some(s) = sunset {
        text.push((HeaderName::from_static("sunset"), http_date(*s)));
    }
    if let Some(l) = successor_link(successor) {
        text.push((header::LINK, l));
    }
    // A successor URL that is not a valid header value is left out, not sent broken.
    text.into_iter()
        .filter_map(|(name, value)| Some((name, HeaderValue::try_from(value).ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sunset_is_an_http_date() {
        let d = time::macros::date!(2027 - 03 - 01);
        assert_eq!(http_date(d), "Mon, 01 Mar 2027 00:00:00 GMT");
    }

    #[test]
    fn a_deprecation_is_announced_with_standard_headers_and_nothing_broken() {
        let since = time::macros::datetime!(2026-11-01 00:00 UTC);
        let deprecated = |successor: &str| Lifecycle::Deprecated {
            since,
            sunset: Some(time::macros::date!(2027 - 03 - 01)),
            successor: Some(successor.to_string()),
        };
        let h = announcement(&deprecated("https://api.example/v2"));
        let text: Vec<(&str, &str)> = h
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(
            text,
            [
                ("deprecation", "@1793491200"),
                ("sunset", "Mon, 01 Mar 2027 00:00:00 GMT"),
                (
                    "link",
                    "<https://api.example/v2>; rel=\"successor-version\""
                ),
            ]
        );
        // A successor that cannot be a header value is left out, the rest stays.
        assert_eq!(announcement(&deprecated("https://x/\nv2")).len(), 2);
        assert!(announcement(&Lifecycle::Published).is_empty());
    }
}
