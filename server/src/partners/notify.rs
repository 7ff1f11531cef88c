//! Change announcements for gateways. A gateway keeps its policy snapshot in
//! memory and `LISTEN`s on [`CHANNEL`]; PostgreSQL delivers a `NOTIFY` only when
//! the transaction that sent it commits, so a gateway never sees a change that
//! was rolled back.

use crate::error::Result;
use sqlx::PgConnection;

pub const CHANNEL: &str = "steward_policy";

/// What changed. The payload is small JSON: `{"kind": "...", "id": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    OAuthClient,
    Subscription,
    Plan,
    SigningKey,
    Version,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Key => "key",
            Kind::OAuthClient => "oauth_client",
            Kind::Subscription => "subscription",
            Kind::Plan => "plan",
            Kind::SigningKey => "signing_key",
            Kind::Version => "version",
        }
    }
}

pub async fn changed(
    conn: &mut PgConnection,
    kind: Kind,
    id: impl std::fmt::Display,
) -> Result<()> {
    let payload = serde_json::json!({ "kind": kind.as_str(), "id": id.to_string() });
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
