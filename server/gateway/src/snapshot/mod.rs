//! The gateway's policy snapshot: everything published, compiled into immutable
//! lookup structures. The request path only ever reads one snapshot; a reload
//! builds a new one and swaps it in whole, so a request never sees half a change.
//! [`build`] and the queries below load it; [`routes`] and [`validate`] compile
//! the contracts' routers and JSON Schema validators into it (data plane).

pub mod announce;
pub mod routes;
pub mod validate;

use crate::FastMap;
use crate::snapshot::routes::VersionRoutes;
use crate::snapshot::validate::Mode;
use anyhow::Result;
use ed25519_dalek::VerifyingKey;
use http::HeaderValue;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use steward_model::Environment;
use steward_shared::api_key::{ActiveKey, LookupId};
use steward_shared::jwt;
use steward_shared::upstream::{Entry, UpstreamPolicy};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Where a version stands for traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    Published,
    Deprecated {
        since: OffsetDateTime,
        sunset: Option<Date>,
        successor: Option<String>,
    },
    Retired {
        sunset: Option<Date>,
        successor: Option<String>,
    },
}

/// One contract version as the gateway serves it.
#[derive(Debug)]
pub struct Version {
    pub id: Uuid,
    pub api_id: Uuid,
    pub api_slug: String,
    pub version: String,
    pub major: i32,
    pub base_path: String,
    pub upstream: String,
    /// The upstream URL taken apart once: see [`Upstream`]. `None` when it does
    /// not parse, which each request then answers with 502.
    pub upstream_parts: Option<Upstream>,
    pub lifecycle: Lifecycle,
    /// What every answer of a deprecated version carries ([`crate::snapshot::announce::announcement`]).
    pub announcement: Vec<(http::HeaderName, http::HeaderValue)>,
    pub timeout: std::time::Duration,
    /// The API's validation mode.
    pub validation: Mode,
    /// Compiled once per version: versions are immutable, so a reload reuses them.
    pub routes: Arc<VersionRoutes>,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub id: Uuid,
    pub rate_per_second: u32,
    pub burst: u32,
    pub daily_quota: Option<u64>,
    pub monthly_quota: Option<u64>,
    pub environments: Vec<Environment>,
}

#[derive(Debug, Clone)]
pub struct Application {
    pub id: Uuid,
    pub name: String,
    pub consumer_id: Uuid,
    pub environment: Environment,
    /// What goes upstream as `X-Consumer-Id` and `X-Consumer-App`: made once
    /// per snapshot, not formatted per request.
    pub consumer_header: HeaderValue,
    pub application_header: HeaderValue,
}

#[derive(Debug, Clone)]
pub struct Subscription {
    pub plan: Uuid,
    pub scopes: HashSet<String>,
}

/// What forwarding needs of a version's upstream URL, made once per snapshot
/// rather than parsed per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `host[:port]` without credentials: where to connect, the key of the
    /// connection pool and of the circuit breaker.
    pub authority: Box<str>,
    /// The path the forwarded path is appended to, without a trailing slash.
    pub path: Box<str>,
    /// The `Host` the upstream is sent; `None` when the URL carries
    /// credentials, which must not travel as `Host` (the client then sends
    /// the authority without them).
    pub host: Option<HeaderValue>,
    /// `https`: the connection is TLS, verified against the host's name.
    pub tls: bool,
}

impl Upstream {
    pub fn parse(url: &str) -> Option<Upstream> {
        let uri: http::Uri = url.parse().ok()?;
        let authority = uri.authority()?.as_str();
        let (credentials, bare) = match authority.rsplit_once('@') {
            Some((_, bare)) => (true, bare),
            None => (false, authority),
        };
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return None,
        };
        Some(Upstream {
            tls,
            authority: bare.into(),
            path: uri.path().trim_end_matches('/').into(),
            host: if credentials {
                None
            } else {
                HeaderValue::from_str(authority).ok()
            },
        })
    }
}

/// An immutable, compiled view of the published world.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Increases with every successful build in this process.
    pub generation: u64,
    pub built_at: Option<Instant>,
    /// Live (published or deprecated) versions by base path; retired ones only where
    /// no live version has that base path, so they can answer 410.
    pub by_base_path: FastMap<String, Arc<Version>>,
    pub keys: FastMap<LookupId, ActiveKey>,
    pub applications: FastMap<Uuid, Application>,
    /// Active subscriptions by (application, API, major line).
    pub subscriptions: FastMap<(Uuid, Uuid, i32), Subscription>,
    pub plans: FastMap<Uuid, Plan>,
    pub jwt_keys: HashMap<String, VerifyingKey>,
    /// Where upstream traffic may go: checked on every new upstream connection.
    pub upstream_policy: UpstreamPolicy,
    /// OAuth clients revoked within the longest token lifetime: their tokens,
    /// still unexpired, are refused.
    pub revoked_clients: HashSet<String>,
    /// Keys revoked in the last 30 days. Never accepted: kept so that their
    /// calls are refused with the reason and counted against their
    /// application, not as anonymous traffic.
    pub revoked_keys: FastMap<LookupId, ActiveKey>,
    /// Keys that expired in the last 30 days, kept for the same reason.
    pub expired_keys: FastMap<LookupId, ActiveKey>,
}

impl Snapshot {
    /// The version whose base path is the longest prefix of `path` at a segment
    /// boundary, and the rest of the path below it.
    pub fn resolve<'p>(&self, path: &'p str) -> Option<(&Arc<Version>, &'p str)> {
        let mut end = path.len();
        loop {
            let prefix = &path[..end];
            if let Some(v) = self.by_base_path.get(prefix) {
                return Some((v, &path[end..]));
            }
            // A byte search: a `char` pattern costs several times as much here.
            end = prefix.bytes().rposition(|b| b == b'/')?;
            if end == 0 {
                return None;
            }
        }
    }
}

type VersionRow = (
    Uuid,
    Uuid,
    String,
    String,
    i32,
    String,
    String,
    String,
    Option<OffsetDateTime>,
    Option<Date>,
    Option<String>,
    String,
);

/// Compiled routes of live versions, kept from one snapshot to the next.
pub type RouteCache = HashMap<Uuid, (Arc<VersionRoutes>, std::time::Duration)>;

impl Snapshot {
    pub fn route_cache(&self) -> RouteCache {
        self.by_base_path
            .values()
            .filter(|v| !matches!(v.lifecycle, Lifecycle::Retired { .. }))
            .map(|v| (v.id, (v.routes.clone(), v.timeout)))
            .collect()
    }
}

/// Builds a snapshot from the database. Parsing contracts is CPU work, so the
/// caller runs this off the request path; the last good snapshot serves meanwhile.
pub async fn build(
    pool: &PgPool,
    generation: u64,
    default_timeout: std::time::Duration,
    cache: &RouteCache,
    own: &[std::net::SocketAddr],
) -> Result<Snapshot> {
    let versions: Vec<VersionRow> = sqlx::query_as(
        "SELECT v.id, v.api_id, a.slug, v.version, v.major, v.base_path, v.upstream_url, v.state,
                v.deprecated_at, v.sunset_date, s.base_path, a.validation_mode
         FROM api_versions v
         JOIN apis a ON a.id = v.api_id
         LEFT JOIN api_versions s ON s.id = v.successor_id
         WHERE v.state IN ('published', 'deprecated', 'retired')
         ORDER BY v.state = 'retired', v.major DESC, v.minor DESC, v.patch DESC",
    )
    .fetch_all(pool)
    .await?;
    let mut by_base_path: FastMap<String, Arc<Version>> = FastMap::default();
    for (
        id,
        api_id,
        api_slug,
        version,
        major,
        base_path,
        upstream,
        state,
        deprecated_at,
        sunset,
        successor,
        validation,
    ) in versions
    {
        // Live versions come first; a retired one only fills a base path nobody serves.
        if by_base_path.contains_key(&base_path) {
            continue;
        }
        let lifecycle = match state.as_str() {
            "deprecated" => Lifecycle::Deprecated {
                since: deprecated_at.unwrap_or_else(OffsetDateTime::now_utc),
                sunset,
                successor,
            },
            "retired" => Lifecycle::Retired { sunset, successor },
            _ => Lifecycle::Published,
        };
        let (routes, timeout) = match (&lifecycle, cache.get(&id)) {
            (Lifecycle::Retired { .. }, _) => (Arc::new(VersionRoutes::default()), default_timeout),
            (_, Some((routes, timeout))) => (routes.clone(), *timeout),
            (_, None) => {
                let text: String =
                    sqlx::query_scalar("SELECT spec_text FROM api_versions WHERE id = $1")
                        .bind(id)
                        .fetch_one(pool)
                        .await?;
                // A stored version passed validation at upload; compile it on the
                // blocking pool since large contracts take a while.
                let compiled = tokio::task::spawn_blocking(move || VersionRoutes::compile(&text))
                    .await
                    .map_err(anyhow::Error::from)?;
                match compiled {
                    Ok((routes, timeout)) => (Arc::new(routes), timeout.unwrap_or(default_timeout)),
                    Err(e) => {
                        tracing::error!(api = %api_slug, %version, error = %e, "cannot compile a published contract; its routes answer 404");
                        (Arc::new(VersionRoutes::default()), default_timeout)
                    }
                }
            }
        };
        by_base_path.insert(
            base_path.clone(),
            Arc::new(Version {
                id,
                api_id,
                api_slug,
                version,
                major,
                base_path,
                upstream_parts: Upstream::parse(&upstream),
                upstream: upstream.trim_end_matches('/').to_string(),
                announcement: crate::snapshot::announce::announcement(&lifecycle),
                lifecycle,
                timeout,
                validation: Mode::parse(&validation),
                routes,
            }),
        );
    }

    let entries: Vec<String> =
        sqlx::query_scalar("SELECT entry FROM upstream_allow ORDER BY entry")
            .fetch_all(pool)
            .await?;
    let upstream_policy = UpstreamPolicy::new(
        entries
            .iter()
            .filter_map(|text| match Entry::parse(text) {
                Ok(entry) => Some(entry),
                Err(e) => {
                    tracing::warn!(entry = %text, error = %e, "skipping an upstream policy entry");
                    None
                }
            })
            .collect(),
        own.to_vec(),
    );
    let keys = load_active_keys(pool).await?;
    let revoked_keys = load_keys(
        pool,
        "FROM api_keys WHERE revoked_at > now() - interval '30 days'",
    )
    .await?;
    let expired_keys = load_keys(
        pool,
        "FROM api_keys WHERE revoked_at IS NULL
           AND expires_at <= now() AND expires_at > now() - interval '30 days'",
    )
    .await?;
    let applications = sqlx::query_as::<_, (Uuid, String, Uuid, String, String)>(
        "SELECT a.id, a.name, c.id, c.slug, a.environment
         FROM applications a JOIN consumers c ON c.id = a.consumer_id",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .filter_map(|(id, name, consumer_id, consumer_slug, env)| {
        Some((
            id,
            Application {
                id,
                name,
                consumer_id,
                environment: Environment::parse(&env)?,
                // Slugs are lowercase letters, digits and dashes: always valid.
                consumer_header: HeaderValue::from_str(&consumer_slug).ok()?,
                application_header: HeaderValue::from_str(&id.to_string()).ok()?,
            },
        ))
    })
    .collect();
    let subscriptions = sqlx::query_as::<_, (Uuid, Uuid, i32, Uuid, Vec<String>)>(
        "SELECT application_id, api_id, major, plan_id, scopes FROM subscriptions WHERE state = 'active'",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(app, api, major, plan, scopes)| {
        (
            (app, api, major),
            Subscription {
                plan,
                scopes: scopes.into_iter().collect(),
            },
        )
    })
    .collect();
    let plans = sqlx::query_as::<_, (Uuid, i32, i32, Option<i64>, Option<i64>, Vec<String>)>(
        "SELECT id, rate_per_second, burst, daily_quota, monthly_quota, environments FROM plans",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|(id, rate, burst, daily, monthly, envs)| {
        (
            id,
            Plan {
                id,
                rate_per_second: rate.max(1) as u32,
                burst: burst.max(1) as u32,
                daily_quota: daily.map(|d| d.max(0) as u64),
                monthly_quota: monthly.map(|m| m.max(0) as u64),
                environments: envs.iter().filter_map(|e| Environment::parse(e)).collect(),
            },
        )
    })
    .collect();
    let jwt_keys = jwt::published_keys(pool).await?.into_iter().collect();
    // A day is the longest lifetime a token can be issued with.
    let revoked_clients = sqlx::query_scalar::<_, String>(
        "SELECT client_id FROM oauth_clients WHERE revoked_at > now() - interval '1 day'",
    )
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    Ok(Snapshot {
        revoked_clients,
        revoked_keys,
        expired_keys,
        generation,
        built_at: Some(Instant::now()),
        by_base_path,
        keys,
        applications,
        subscriptions,
        plans,
        jwt_keys,
        upstream_policy,
    })
}

/// Every usable key by lookup id. Rows stream straight into the map: a gateway
/// loading 100,000 keys never holds a second copy of them, which the allocator
/// would keep as resident memory after the load.
pub async fn load_active_keys<S: std::hash::BuildHasher + Default>(
    pool: &PgPool,
) -> Result<std::collections::HashMap<LookupId, ActiveKey, S>> {
    load_keys(
        pool,
        "FROM api_keys
         WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
    )
    .await
}

/// The keys `from` (a `FROM … WHERE …` clause) selects, by lookup id.
async fn load_keys<S: std::hash::BuildHasher + Default>(
    pool: &PgPool,
    from: &str,
) -> Result<std::collections::HashMap<LookupId, ActiveKey, S>> {
    use futures_util::TryStreamExt;
    // Sized up front: a map grown by doubling leaves each smaller table it
    // outgrew to the allocator, which keeps them resident beside the final one.
    // The count is only a capacity: a key added in between grows the map once.
    let (count,): (i64,) = sqlx::query_as(&format!("SELECT count(*) {from}"))
        .fetch_one(pool)
        .await?;
    let select =
        format!("SELECT id, lookup_id, digest, application_id, environment, expires_at {from}");
    let mut rows =
        sqlx::query_as::<_, (Uuid, String, Vec<u8>, Uuid, String, Option<OffsetDateTime>)>(&select)
            .fetch(pool);
    let mut keys =
        std::collections::HashMap::with_capacity_and_hasher(count.max(0) as usize, S::default());
    while let Some((id, lookup_id, digest, application_id, env, expires_at)) =
        rows.try_next().await?
    {
        let (Ok(lookup), Ok(digest), Some(environment)) = (
            LookupId::try_from(lookup_id.as_bytes()),
            <[u8; 32]>::try_from(digest),
            Environment::parse(&env),
        ) else {
            continue;
        };
        keys.insert(
            lookup,
            ActiveKey {
                id,
                digest,
                application_id,
                environment,
                expires_at,
            },
        );
    }
    keys.shrink_to_fit();
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls_are_taken_apart_once() {
        let erp = Upstream::parse("http://erp.internal:8069/api/").unwrap();
        assert_eq!(&*erp.authority, "erp.internal:8069");
        assert_eq!(&*erp.path, "/api");
        assert_eq!(erp.host.unwrap(), "erp.internal:8069");
        assert!(!erp.tls);
        let tls = Upstream::parse("https://erp.example.com/api").unwrap();
        assert!(tls.tls);
        assert_eq!(&*tls.authority, "erp.example.com");
        assert_eq!(Upstream::parse("ftp://erp.example.com/api"), None);
        let bare = Upstream::parse("http://127.0.0.1:9000").unwrap();
        assert_eq!(&*bare.path, "");
        // Credentials never travel as `Host`, nor reach the pool's key.
        let secret = Upstream::parse("http://user:pw@erp:80/x").unwrap();
        assert_eq!(&*secret.authority, "erp:80");
        assert_eq!(secret.host, None);
        assert_eq!(Upstream::parse("not a url"), None);
    }
}
