//! Teams and their members (control plane). APIs belong to teams, and owners act
//! on behalf of the teams they are members of.

use crate::audit::{self, Actor, Change};
use crate::auth::policy;
use crate::error::Result;
use sqlx::{PgConnection, PgPool};
use steward_model::{AppError, Checks, NewTeam, Principal, TeamMember, TeamView};
use uuid::Uuid;

/// Lowercase letters and digits in dash-separated words, 2 to 63 characters.
pub fn valid_slug(slug: &str) -> bool {
    (2..=63).contains(&slug.len())
        && slug.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: Uuid,
    slug: String,
    name: String,
    description: String,
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<TeamView> {
    let row: TeamRow =
        sqlx::query_as("SELECT id, slug, name, description FROM teams WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| AppError::not_found("team"))?;
    let members = members(conn, &[id]).await?;
    Ok(view(row, members))
}

async fn members(conn: &mut PgConnection, teams: &[Uuid]) -> Result<Vec<(Uuid, TeamMember)>> {
    let rows: Vec<(Uuid, Uuid, String, String)> = sqlx::query_as(
        "SELECT m.team_id, u.id, u.email, u.display_name
         FROM team_members m JOIN users u ON u.id = m.user_id
         WHERE m.team_id = ANY($1) ORDER BY lower(u.email)",
    )
    .bind(teams)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(team, user_id, email, display_name)| {
            (
                team,
                TeamMember {
                    user_id,
                    email,
                    display_name,
                },
            )
        })
        .collect())
}

fn view(row: TeamRow, members: Vec<(Uuid, TeamMember)>) -> TeamView {
    TeamView {
        id: row.id,
        members: members
            .into_iter()
            .filter(|(t, _)| *t == row.id)
            .map(|(_, m)| m)
            .collect(),
        slug: row.slug,
        name: row.name,
        description: row.description,
    }
}

fn json(team: &TeamView) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(team).map_err(anyhow::Error::from)?)
}

/// Any signed-in user may see the teams; they decide who owns what.
pub async fn list(pool: &PgPool, _who: &Principal) -> Result<Vec<TeamView>> {
    let mut conn = pool.acquire().await?;
    let rows: Vec<TeamRow> =
        sqlx::query_as("SELECT id, slug, name, description FROM teams ORDER BY slug")
            .fetch_all(&mut *conn)
            .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let all = members(&mut conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mine = all.iter().filter(|(t, _)| *t == r.id).cloned().collect();
            view(r, mine)
        })
        .collect())
}

pub async fn get(pool: &PgPool, _who: &Principal, id: Uuid) -> Result<TeamView> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, id).await
}

pub async fn create(pool: &PgPool, who: &Principal, new: NewTeam) -> Result<TeamView> {
    policy::admin(who, "creating teams")?;
    create_as(pool, &Actor::from(who), new).await
}

pub async fn create_as(pool: &PgPool, actor: &Actor, new: NewTeam) -> Result<TeamView> {
    let slug = new.slug.trim().to_string();
    Checks::new()
        .check(
            valid_slug(&slug),
            "slug",
            "use 2 to 63 lowercase letters, digits and single dashes",
        )
        .text(&new.name, "name", "a name", 200)
        .check(
            new.description.trim().chars().count() <= 2000,
            "description",
            "keep the description under 2000 characters",
        )
        .finish()?;
    let mut tx = pool.begin().await?;
    let id = Uuid::new_v4();
    sqlx::query("INSERT INTO teams (id, slug, name, description) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(&slug)
        .bind(new.name.trim())
        .bind(new.description.trim())
        .execute(&mut *tx)
        .await?;
    let team = load(&mut tx, id).await?;
    audit::record(
        &mut tx,
        actor,
        Change {
            action: "team.create",
            target_type: "team",
            target_id: slug,
            before: None,
            after: Some(json(&team)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(team)
}

pub async fn delete(pool: &PgPool, who: &Principal, id: Uuid) -> Result<()> {
    policy::admin(who, "deleting teams")?;
    let mut tx = pool.begin().await?;
    let team = load(&mut tx, id).await?;
    let owned: i64 = sqlx::query_scalar("SELECT count(*) FROM apis WHERE team_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if owned > 0 {
        return Err(AppError::Conflict {
            message: format!(
                "the team owns {owned} API(s); move them to another team before deleting it"
            ),
            field: None,
        }
        .into());
    }
    sqlx::query("DELETE FROM teams WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "team.delete",
            target_type: "team",
            target_id: team.slug.clone(),
            before: Some(json(&team)?),
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds or removes one member; both are idempotent.
pub async fn set_member(
    pool: &PgPool,
    who: &Principal,
    team: Uuid,
    user: Uuid,
    member: bool,
) -> Result<TeamView> {
    policy::admin(who, "changing team membership")?;
    set_member_as(pool, &Actor::from(who), team, user, member).await
}

pub async fn set_member_as(
    pool: &PgPool,
    actor: &Actor,
    team: Uuid,
    user: Uuid,
    member: bool,
) -> Result<TeamView> {
    let mut tx = pool.begin().await?;
    let before = load(&mut tx, team).await?;
    if crate::auth::users::find(&mut tx, user).await?.is_none() {
        return Err(AppError::invalid("user", "no such user").into());
    }
    let changed = if member {
        sqlx::query(
            "INSERT INTO team_members (team_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
    } else {
        sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
    }
    .bind(team)
    .bind(user)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    let after = load(&mut tx, team).await?;
    if changed {
        audit::record(
            &mut tx,
            actor,
            Change {
                action: if member {
                    "team.add_member"
                } else {
                    "team.remove_member"
                },
                target_type: "team",
                target_id: after.slug.clone(),
                before: Some(json(&before)?),
                after: Some(json(&after)?),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(after)
}
