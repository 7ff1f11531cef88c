//! The request path as the gateway routes and forwards it (data plane).
//!
//! An upstream that resolves `..` itself would serve `/files/../admin` as
//! `/admin`, under the authorisation of whichever operation the gateway
//! matched. So dot-segments are removed (RFC 3986 §5.2.4) before routing, and
//! the path that was routed is the one forwarded. `%2E` is a dot to servers
//! that decode before they resolve, so it counts as one. Encoded slashes and
//! backslashes (`%2F`, `%5C`, and a raw `\`) are refused: some servers decode
//! them before routing and others do not, and no reading is safe for both.
//! So are encoded control characters (`%00` to `%1F`, `%7F`): servers written
//! in C end the path at a NUL, others refuse it, and none reads it as data.

use std::borrow::Cow;

#[derive(Debug, PartialEq, Eq)]
pub enum Ambiguous {
    /// `%2F`, `%5C` or `\`: a separator that servers read differently.
    EncodedSeparator,
    /// More `..` than there are segments to climb.
    AboveRoot,
    /// `%00` and the other encoded control characters.
    EncodedControl,
}

impl Ambiguous {
    pub fn detail(&self) -> &'static str {
        match self {
            Ambiguous::EncodedSeparator => {
                "the path contains an encoded slash or a backslash (%2F, %5C or \\), which servers read differently"
            }
            Ambiguous::AboveRoot => "the path's \"..\" segments climb above the root",
            Ambiguous::EncodedControl => {
                "the path contains an encoded control character (such as %00), which servers truncate or refuse"
            }
        }
    }
}

/// The path to route and forward: `path` itself in the usual case (one pass
/// over its bytes), a new string only when it had dot-segments to remove.
pub fn normalise(path: &str) -> Result<Cow<'_, str>, Ambiguous> {
    let bytes = path.as_bytes();
    let mut dotted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\\' => return Err(Ambiguous::EncodedSeparator),
            b'%' => {
                let code = bytes.get(i + 1..i + 3).unwrap_or_default();
                if code.eq_ignore_ascii_case(b"2f") || code.eq_ignore_ascii_case(b"5c") {
                    return Err(Ambiguous::EncodedSeparator);
                }
                if matches!(code, [b'0' | b'1', _] | [b'7', b'f' | b'F']) {
                    return Err(Ambiguous::EncodedControl);
                }
                dotted |= code.eq_ignore_ascii_case(b"2e");
            }
            b'.' if i > 0 && bytes[i - 1] == b'/' => dotted = true,
            _ => {}
        }
    }
    if !dotted || !path.split('/').any(|s| dots(s).is_some()) {
        return Ok(Cow::Borrowed(path));
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut trailing = false;
    for segment in path.strip_prefix('/').unwrap_or(path).split('/') {
        trailing = false;
        match dots(segment) {
            Some(1) => trailing = true,
            Some(_) => {
                kept.pop().ok_or(Ambiguous::AboveRoot)?;
                trailing = true;
            }
            None => kept.push(segment),
        }
    }
    let mut out = String::with_capacity(path.len());
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    // `/a/b/..` is the directory `/a/`, as RFC 3986 resolves it.
    if trailing || out.is_empty() {
        out.push('/');
    }
    Ok(Cow::Owned(out))
}

/// How many dots a segment is, if it is only dots (`.` or `..`, each
/// possibly written `%2E`).
fn dots(segment: &str) -> Option<usize> {
    let mut rest = segment.as_bytes();
    let mut n = 0;
    while !rest.is_empty() {
        if rest[0] == b'.' {
            rest = &rest[1..];
        } else if rest.len() >= 3 && rest[0] == b'%' && rest[1..3].eq_ignore_ascii_case(b"2e") {
            rest = &rest[3..];
        } else {
            return None;
        }
        n += 1;
    }
    (n == 1 || n == 2).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_paths_are_borrowed_as_they_are() {
        for path in [
            "/",
            "/inventory/v1/stock-levels",
            "/files/a.b/c..d/.hidden",
            "/prices/SKU%20A",
            "/a//b",
        ] {
            assert!(
                matches!(normalise(path), Ok(Cow::Borrowed(p)) if p == path),
                "{path}"
            );
        }
    }

    #[test]
    fn dot_segments_are_removed_before_routing() {
        for (path, normal) in [
            ("/files/../admin", "/admin"),
            ("/files/./a/b", "/files/a/b"),
            ("/files/%2e%2E/admin", "/admin"),
            ("/files/.%2e/admin", "/admin"),
            ("/a/b/..", "/a/"),
            ("/a/.", "/a/"),
            ("/a/..", "/"),
        ] {
            assert_eq!(normalise(path).unwrap(), normal, "{path}");
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for path in [
            "/files/..%2Fadmin",
            "/files/a%2fb",
            "/files/a%5Cb",
            "/files/a\\b",
        ] {
            assert_eq!(normalise(path), Err(Ambiguous::EncodedSeparator), "{path}");
        }
        for path in [
            "/files/a%00.json",
            "/files/%0d%0aset-cookie",
            "/files/%1F",
            "/files/%7f",
        ] {
            assert_eq!(normalise(path), Err(Ambiguous::EncodedControl), "{path}");
        }
        // Encodings of printable bytes are data.
        for path in ["/files/%20", "/files/%25", "/files/%7E", "/files/%2"] {
            assert!(normalise(path).is_ok(), "{path}");
        }
        for path in ["/..", "/a/../../b", "/%2e%2e/x"] {
            assert_eq!(normalise(path), Err(Ambiguous::AboveRoot), "{path}");
        }
    }
}
