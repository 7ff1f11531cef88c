//! Console users: create, list, change role, disable, reset password.

use crate::audit::{self, Actor, Change};
use crate::auth::{password, policy};
use crate::error::Result;
use sqlx::{PgConnection, PgPool};
use steward_model::{AppError, Checks, NewUser, Principal, Role, UserPatch, UserView};
use time::OffsetDateTime;
use uuid::Uuid;

/// A user as stored, including what the views never show.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub disabled_at: Option<OffsetDateTime>,
    pub session_epoch: i32,
    pub created_at: OffsetDateTime,
}

impl UserRow {
    pub fn role(&self) -> Role {
        // The column has a CHECK constraint, so anything else is unreachable; fall
        // back to the least privilege rather than fail.
        Role::parse(&self.role).unwrap_or(Role::Viewer)
    }

    fn view(&self, teams: Vec<String>) -> UserView {
        UserView {
            id: self.id,
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            role: self.role(),
            disabled: self.disabled_at.is_some(),
            created_at: self.created_at,
            teams,
        }
    }
}

const COLUMNS: &str =
    "id, email, display_name, role, password_hash, disabled_at, session_epoch, created_at";

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(char::is_whitespace)
}

pub async fn find_by_email(pool: &PgPool, email: &str) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE lower(email) = $1");
    Ok(sqlx::query_as(&sql)
        .bind(normalize_email(email))
        .fetch_optional(pool)
        .await?)
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> Result<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(conn).await?)
}

async fn teams_of(conn: &mut PgConnection, id: Uuid) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT t.slug FROM team_members m JOIN teams t ON t.id = m.team_id
         WHERE m.user_id = $1 ORDER BY t.slug",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}

pub async fn list(pool: &PgPool, who: &Principal) -> Result<Vec<UserView>> {
    policy::admin(who, "listing users")?;
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY lower(email)");
    let rows: Vec<UserRow> = sqlx::query_as(&sql).fetch_all(pool).await?;
    let memberships: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT m.user_id, t.slug FROM team_members m JOIN teams t ON t.id = m.team_id ORDER BY t.slug",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|u| {
            let teams = memberships
                .iter()
                .filter(|(id, _)| *id == u.id)
                .map(|(_, slug)| slug.clone())
                .collect();
            u.view(teams)
        })
        .collect())
}

pub async fn get(pool: &PgPool, who: &Principal, id: Uuid) -> Result<UserView> {
    policy::admin(who, "reading users")?;
    let mut conn = pool.acquire().await?;
    let row = find(&mut conn, id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let teams = teams_of(&mut conn, id).await?;
    Ok(row.view(teams))
}

fn validate_new(new: &NewUser) -> Result<(), AppError> {
    Checks::new()
        .check(
            plausible_email(new.email.trim()),
            "email",
            "enter a valid email address",
        )
        .text(&new.display_name, "display_name", "a name", 200)
        .check(
            password::weakness(&new.password).is_none(),
            "password",
            password::weakness(&new.password).unwrap_or_default(),
        )
        .finish()
}

/// Creates a user after an admin check.
pub async fn create(pool: &PgPool, who: &Principal, new: NewUser) -> Result<UserView> {
    policy::admin(who, "adding users")?;
    create_as(pool, &Actor::from(who), new).await
}

/// Creates a user on behalf of `actor` (the CLI calls this directly).
pub async fn create_as(pool: &PgPool, actor: &Actor, new: NewUser) -> Result<UserView> {
    validate_new(&new)?;
    let hash = password::hash(new.password.clone()).await?;
    let mut tx = pool.begin().await?;
    let sql = format!(
        "INSERT INTO users (id, email, display_name, role, password_hash)
         VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
    );
    let row: UserRow = sqlx::query_as(&sql)
        .bind(Uuid::new_v4())
        .bind(normalize_email(&new.email))
        .bind(new.display_name.trim())
        .bind(new.role.as_str())
        .bind(&hash)
        .fetch_one(&mut *tx)
        .await?;
    let view = row.view(vec![]);
    audit::record(
        &mut tx,
        actor,
        Change {
            action: "user.create",
            target_type: "user",
            target_id: row.id.to_string(),
            before: None,
            after: Some(serde_json::to_value(&view).map_err(anyhow::Error::from)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// Changes name, role or disabled state. Disabling ends the user's sessions for good
/// (the session epoch moves on) and refuses their tokens while disabled. The last active admin cannot be
/// demoted or disabled, so the organisation can never lock itself out.
pub async fn update(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    patch: UserPatch,
) -> Result<UserView> {
    policy::admin(who, "changing users")?;
    if let Some(name) = &patch.display_name {
        Checks::new()
            .text(name, "display_name", "a name", 200)
            .finish()?;
    }
    let mut tx = pool.begin().await?;
    // Serialise admin changes so two concurrent demotions cannot both pass the
    // last-admin check.
    sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let before = find(&mut tx, id)
        .await?
        .ok_or_else(|| AppError::not_found("user"))?;
    let teams = teams_of(&mut tx, id).await?;
    let role = patch.role.unwrap_or(before.role());
    let disabled = patch.disabled.unwrap_or(before.disabled_at.is_some());
    let stays_admin = role == Role::Admin && !disabled;
    if before.role() == Role::Admin && before.disabled_at.is_none() && !stays_admin {
        let other_admins: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM users WHERE role = 'admin' AND disabled_at IS NULL AND id <> $1",
        )
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if other_admins == 0 {
            let field = if disabled { "disabled" } else { "role" };
            return Err(AppError::conflict(field, "this is the last active admin").into());
        }
    }
    let newly_disabled = disabled && before.disabled_at.is_none();
    let sql = format!(
        "UPDATE users SET
            display_name = coalesce($2, display_name),
            role = $3,
            disabled_at = CASE WHEN $4 THEN coalesce(disabled_at, now()) ELSE NULL END,
            session_epoch = session_epoch + CASE WHEN $5 THEN 1 ELSE 0 END,
            updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let after: UserRow = sqlx::query_as(&sql)
        .bind(id)
        .bind(patch.display_name.as_deref().map(str::trim))
        .bind(role.as_str())
        .bind(disabled)
        .bind(newly_disabled)
        .fetch_one(&mut *tx)
        .await?;
    let (before_view, after_view) = (before.view(teams.clone()), after.view(teams));
    let action = match (before.disabled_at.is_some(), disabled) {
        (false, true) => "user.disable",
        (true, false) => "user.enable",
        _ if before.role() != role => "user.change_role",
        _ => "user.update",
    };
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action,
            target_type: "user",
            target_id: id.to_string(),
            before: Some(serde_json::to_value(&before_view).map_err(anyhow::Error::from)?),
            after: Some(serde_json::to_value(&after_view).map_err(anyhow::Error::from)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(after_view)
}

/// Sets a new password and ends every session and personal access token of the
/// user (operator command).
pub async fn reset_password(pool: &PgPool, actor: &Actor, email: &str, new: String) -> Result<()> {
    if let Some(why) = password::weakness(&new) {
        return Err(AppError::invalid("password", why).into());
    }
    let hash = password::hash(new).await?;
    let mut tx = pool.begin().await?;
    let id: Option<Uuid> = sqlx::query_scalar(
        "UPDATE users SET password_hash = $2, session_epoch = session_epoch + 1, updated_at = now()
         WHERE lower(email) = $1 RETURNING id",
    )
    .bind(normalize_email(email))
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let id = id.ok_or_else(|| AppError::not_found("user"))?;
    // A reset usually follows a suspected compromise: the tokens made with the
    // old password end with it, as the sessions do.
    let tokens_revoked = sqlx::query(
        "UPDATE access_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    audit::record(
        &mut tx,
        actor,
        Change {
            action: "user.reset_password",
            target_type: "user",
            target_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "email": normalize_email(email), "sessions_ended": true,
                "tokens_revoked": tokens_revoked,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
