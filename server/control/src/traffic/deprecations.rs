//! Deprecation impact: for each deprecated version, who still calls it (the last
//! 7 days, with counts and contacts) and how many days are left until its
//! sunset, so owners know whom to contact before they retire it (control plane).

use crate::error::Result;
use sqlx::PgPool;
use steward_model::{DeprecatedCaller, DeprecationImpact, Principal};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

type VersionRow = (Uuid, String, String, String, Option<Date>, Option<String>);
type CallerRow = (
    Uuid,
    String,
    String,
    String,
    String,
    serde_json::Value,
    i64,
    OffsetDateTime,
);

pub async fn impact(pool: &PgPool, _who: &Principal) -> Result<Vec<DeprecationImpact>> {
    let versions: Vec<VersionRow> = sqlx::query_as(
        "SELECT v.id, a.slug, a.name, v.version, v.sunset_date, s.version
         FROM api_versions v
         JOIN apis a ON a.id = v.api_id
         LEFT JOIN api_versions s ON s.id = v.successor_id
         WHERE v.state = 'deprecated'
         ORDER BY v.sunset_date NULLS LAST, a.slug, v.version",
    )
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = versions.iter().map(|v| v.0).collect();
    let callers: Vec<CallerRow> = sqlx::query_as(
        "SELECT t.version_id, coalesce(c.name, 'anonymous'), coalesce(c.slug, ''),
                coalesce(a.name, '-'), coalesce(a.environment, ''),
                coalesce(c.contacts, '[]'::jsonb),
                sum(t.requests)::bigint AS n, max(t.minute)
         FROM traffic t
         LEFT JOIN applications a ON a.id = t.application_id
         LEFT JOIN consumers c ON c.id = a.consumer_id
         WHERE t.version_id = ANY($1) AND t.minute >= now() - interval '7 days'
         GROUP BY 1, 2, 3, 4, 5, 6
         ORDER BY n DESC",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let today = OffsetDateTime::now_utc().date();
    Ok(versions
        .into_iter()
        .map(|(id, slug, name, version, sunset, successor)| {
            let callers: Vec<DeprecatedCaller> = callers
                .iter()
                .filter(|c| c.0 == id)
                .map(|c| DeprecatedCaller {
                    consumer: c.1.clone(),
                    consumer_slug: c.2.clone(),
                    application: c.3.clone(),
                    environment: c.4.clone(),
                    contacts: contacts(&c.5),
                    requests: c.6,
                    last_seen: c.7,
                })
                .collect();
            DeprecationImpact {
                api_slug: slug,
                api_name: name,
                version_id: id,
                version,
                days_left: sunset.map(|d| (d - today).whole_days()),
                sunset_date: sunset,
                successor,
                requests: callers.iter().map(|c| c.requests).sum(),
                callers,
            }
        })
        .collect())
}

/// "Name <email>" for each registered contact.
fn contacts(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let email = c.get("email")?.as_str()?;
            Some(match c.get("name").and_then(|n| n.as_str()) {
                Some(name) if !name.is_empty() => format!("{name} <{email}>"),
                _ => email.to_string(),
            })
        })
        .collect()
}
