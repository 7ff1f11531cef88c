//! Announcing policy changes to gateways (control plane): one `NOTIFY` on
//! [`CHANNEL`] per change, sent inside the change's own transaction.

use crate::error::Result;
use sqlx::PgConnection;
pub use steward_shared::notify::{CHANNEL, Kind};

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
