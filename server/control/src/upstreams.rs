//! The upstream policy as admins manage it: the entries that allow upstream
//! traffic beyond the default, replaced as a whole, audited, and announced to
//! the gateways, which enforce it on every new upstream connection. Uploads are
//! checked here too, where a contract names an address outright (control plane).

use crate::audit::{self, Actor, Change};
use crate::auth::policy;
use crate::error::Result;
use sqlx::{PgConnection, PgPool};
use steward_model::{AppError, FieldError, Principal, UpstreamPolicyUpdate, UpstreamPolicyView};
use steward_shared::notify::Kind;
use steward_shared::upstream::{Entry, UpstreamPolicy};

/// At most this many entries: a policy, not a routing table.
pub const MAX_ENTRIES: usize = 200;

const DEFAULT_REFUSALS: [&str; 5] = [
    "loopback addresses (127.0.0.0/8, ::1)",
    "link-local addresses (169.254.0.0/16, fe80::/10), where cloud metadata answers",
    "other cloud metadata addresses (100.100.100.200, 192.0.0.192, fd00:ec2::254)",
    "unspecified, multicast and broadcast addresses",
    "Steward's own listeners (always, whatever the entries say)",
];

async fn entries(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT entry FROM upstream_allow ORDER BY entry")
            .fetch_all(conn)
            .await?,
    )
}

fn view(allow: Vec<String>) -> UpstreamPolicyView {
    UpstreamPolicyView {
        allow,
        refused_by_default: DEFAULT_REFUSALS.iter().map(|s| s.to_string()).collect(),
    }
}

pub async fn get(pool: &PgPool, who: &Principal) -> Result<UpstreamPolicyView> {
    policy::admin(who, "reading the upstream policy")?;
    let mut conn = pool.acquire().await?;
    Ok(view(entries(&mut conn).await?))
}

/// Replaces the entries, in one transaction with its audit record and the
/// notice to the gateways.
pub async fn set(
    pool: &PgPool,
    who: &Principal,
    update: UpstreamPolicyUpdate,
) -> Result<UpstreamPolicyView> {
    policy::admin(who, "changing the upstream policy")?;
    let mut fields = Vec::new();
    let mut parsed: Vec<String> = Vec::new();
    if update.allow.len() > MAX_ENTRIES {
        fields.push(FieldError::new(
            "allow",
            format!("keep to {MAX_ENTRIES} entries"),
        ));
    }
    for (i, text) in update.allow.iter().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        match Entry::parse(text) {
            Ok(entry) => {
                let canonical = entry.to_string();
                if !parsed.contains(&canonical) {
                    parsed.push(canonical);
                }
            }
            Err(why) => fields.push(FieldError::new(format!("allow[{i}]"), why)),
        }
    }
    if !fields.is_empty() {
        return Err(AppError::Validation { fields }.into());
    }
    parsed.sort();
    let mut tx = pool.begin().await?;
    let before = entries(&mut tx).await?;
    sqlx::query("DELETE FROM upstream_allow")
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO upstream_allow (entry) SELECT unnest($1::text[])")
        .bind(&parsed)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "upstream_policy.update",
            target_type: "upstream_policy",
            target_id: "upstreams".into(),
            before: Some(serde_json::json!({ "allow": before })),
            after: Some(serde_json::json!({ "allow": parsed })),
        },
    )
    .await?;
    crate::notify::changed(&mut tx, Kind::UpstreamPolicy, "upstreams").await?;
    tx.commit().await?;
    Ok(view(parsed))
}

/// Why an upload's upstream URL is refused by the policy, if it names an
/// address outright. Names are resolved where the traffic goes, by the
/// gateway, on every connection.
pub async fn refusal(conn: &mut PgConnection, url: &str) -> Result<Option<String>> {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return Ok(None);
    };
    let Some(host) = uri.host() else {
        return Ok(None);
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let Ok(ip) = bare.parse::<std::net::IpAddr>() else {
        return Ok(None);
    };
    let https = uri.scheme_str() == Some("https");
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let entries = entries(conn)
        .await?
        .iter()
        .filter_map(|e| Entry::parse(e).ok())
        .collect();
    Ok(UpstreamPolicy::new(entries, Vec::new())
        .check(bare, std::net::SocketAddr::new(ip, port))
        .err())
}
