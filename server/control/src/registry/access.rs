//! Who may change an API: admins, and owners who are members of its team (control plane).

use crate::error::Result;
use sqlx::PgConnection;
use steward_model::{Principal, Role};
use uuid::Uuid;

pub async fn can_edit(conn: &mut PgConnection, who: &Principal, team_id: Uuid) -> Result<bool> {
    if who.role == Role::Admin {
        return Ok(true);
    }
    if who.role != Role::Owner {
        return Ok(false);
    }
    let member: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2)",
    )
    .bind(team_id)
    .bind(who.user_id)
    .fetch_one(conn)
    .await?;
    Ok(member)
}

/// Teams the caller may act for (all teams for admins).
pub async fn editable_teams(conn: &mut PgConnection, who: &Principal) -> Result<Option<Vec<Uuid>>> {
    match who.role {
        Role::Admin => Ok(None),
        Role::Owner => Ok(Some(
            sqlx::query_scalar("SELECT team_id FROM team_members WHERE user_id = $1")
                .bind(who.user_id)
                .fetch_all(conn)
                .await?,
        )),
        _ => Ok(Some(Vec::new())),
    }
}
