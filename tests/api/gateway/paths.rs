//! What a normalising upstream makes of the paths the gateway forwards. nginx
//! resolves dot-segments, decodes percent-escapes and merges slashes before it
//! picks a location: if the gateway authorised one operation and forwarded a
//! path that nginx reads as another, a caller could reach what its key does not
//! allow. So for every generated path the gateway forwards, nginx's normalised
//! `$uri` must be the path the gateway routed (it arrives already normal), and
//! the paths the gateway refuses never reach nginx at all.

use std::time::Duration;
use steward_tests::gateway::{answer, harness};
use steward_tests::nginx::Nginx;

/// Segments that parsers read differently, and two real ones.
const PIECES: &[&str] = &[
    "..",
    ".",
    "%2e%2e",
    "%2E.",
    "%2e",
    "",
    "reservations",
    "stock-levels",
    "%2f",
    "%5c",
    "a;b",
    "%25",
    "%00",
    "r%65servations",
    "~",
];

#[tokio::test]
async fn nginx_upstream_reads_every_forwarded_path_as_the_gateway_routed_it() {
    let h = harness().await;
    // nginx answers with the path as it arrived and as nginx itself reads it.
    let nginx = Nginx::start(
        r#"merge_slashes on;
           location / {
             default_type application/json;
             return 200 '{"request_uri":"$request_uri","uri":"$uri"}';
           }"#,
    )
    .await;
    sqlx::query("UPDATE api_versions SET upstream_url = $1 WHERE base_path = '/inventory/v1'")
        .bind(format!("http://{}/inventory", nginx.addr))
        .execute(&h.app.pool)
        .await
        .unwrap();
    // Hundreds of requests in a row: the plan's rate must not be what answers.
    sqlx::query("UPDATE plans SET rate_per_second = 100000, burst = 100000")
        .execute(&h.app.pool)
        .await
        .unwrap();
    h.announce("version").await;
    let get = async |path: &str| {
        let mut io = h
            .raw(&format!(
                "GET {path} HTTP/1.1\nhost: shop\nx-api-key: KEY\nconnection: close\n\n"
            ))
            .await;
        answer(&mut io).await
    };
    h.within(Duration::from_secs(2), async || {
        get("/inventory/v1/stock-levels")
            .await
            .contains("request_uri")
    })
    .await;

    let mut paths = Vec::new();
    for a in PIECES {
        for b in PIECES {
            paths.push(format!("/inventory/v1/{a}/{b}"));
            paths.push(format!("/inventory/v1/stock-levels/{a}/{b}"));
        }
    }
    let (mut forwarded, mut refused) = (0, 0);
    for path in &paths {
        let got = get(path).await;
        let status: u16 = got[9..12].parse().unwrap_or(0);
        let body = got.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        if let Ok(seen) = serde_json::from_str::<serde_json::Value>(body)
            && let Some(raw) = seen["request_uri"].as_str()
        {
            forwarded += 1;
            assert_eq!(status, 200, "{path}: {got}");
            let raw_path = raw.split('?').next().unwrap();
            assert_eq!(
                seen["uri"].as_str().unwrap(),
                decode(raw_path),
                "{path}: forwarded as {raw_path}, which nginx reads as another path"
            );
            assert!(
                !raw_path.contains("/./") && !raw_path.contains("/../") && !raw_path.contains("//"),
                "{path}: forwarded {raw_path} unnormalised"
            );
        } else {
            refused += 1;
            assert!(
                [400, 401, 403, 404, 405].contains(&status),
                "{path}: neither forwarded nor refused cleanly: {got}"
            );
        }
    }
    // Every request nginx saw is one the gateway forwarded: none of the refused
    // ones reached it, and none went twice.
    let seen = nginx.requests();
    assert_eq!(seen.len(), forwarded + 1, "{seen:#?}");
    assert!(
        forwarded > 10 && refused > 100,
        "{forwarded} forwarded, {refused} refused"
    );
}

/// Percent-decodes a path as nginx does for `$uri` (bytes, then UTF-8 lossily).
fn decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = path.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
