//! APIs: the governed unit, owned by a team, with a capability and criticality tier.
//! Part of the control plane.

use crate::audit::{self, Actor, Change};
use crate::auth::teams::valid_slug;
use crate::error::Result;
use crate::registry::access;
use sqlx::{PgConnection, PgPool};
use steward_model::{
    ApiFilter, ApiPatch, ApiView, AppError, Checks, NewApi, Principal, Role, TeamRef, Tier,
    ValidationMode, VersionState,
};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ApiRow {
    id: Uuid,
    slug: String,
    name: String,
    team_id: Uuid,
    team_slug: String,
    team_name: String,
    description: String,
    capability: String,
    tier: String,
    tags: Vec<String>,
    validation_mode: String,
    created_at: OffsetDateTime,
    current_version: Option<String>,
    version_count: i64,
}

const SELECT: &str = "
    SELECT a.id, a.slug, a.name, a.team_id, t.slug AS team_slug, t.name AS team_name,
           a.description, a.capability, a.tier, a.tags, a.validation_mode, a.created_at,
           (SELECT v.version FROM api_versions v
             WHERE v.api_id = a.id AND v.state IN ('published', 'deprecated')
             ORDER BY v.major DESC, v.minor DESC, v.patch DESC LIMIT 1) AS current_version,
           (SELECT count(*) FROM api_versions v WHERE v.api_id = a.id) AS version_count
    FROM apis a JOIN teams t ON t.id = a.team_id";

fn view(row: ApiRow, can_edit: bool) -> ApiView {
    ApiView {
        id: row.id,
        slug: row.slug,
        name: row.name,
        team: TeamRef {
            id: row.team_id,
            slug: row.team_slug,
            name: row.team_name,
        },
        description: row.description,
        capability: row.capability,
        tier: Tier::parse(&row.tier).unwrap_or_default(),
        tags: row.tags,
        validation_mode: ValidationMode::parse(&row.validation_mode).unwrap_or_default(),
        created_at: row.created_at,
        current_version: row.current_version,
        version_count: row.version_count,
        can_edit,
    }
}

/// Finds an API by id or by slug, so CI scripts can say `/apis/orders`.
pub async fn find(conn: &mut PgConnection, key: &str) -> Result<(Uuid, Uuid)> {
    let row: Option<(Uuid, Uuid)> = match key.parse::<Uuid>() {
        Ok(id) => {
            sqlx::query_as("SELECT id, team_id FROM apis WHERE id = $1")
                .bind(id)
                .fetch_optional(conn)
                .await?
        }
        Err(_) => {
            sqlx::query_as("SELECT id, team_id FROM apis WHERE slug = $1")
                .bind(key)
                .fetch_optional(conn)
                .await?
        }
    };
    row.ok_or_else(|| AppError::not_found("API").into())
}

async fn load(conn: &mut PgConnection, who: &Principal, id: Uuid) -> Result<ApiView> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    let row: ApiRow = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| AppError::not_found("API"))?;
    let can_edit = access::can_edit(conn, who, row.team_id).await?;
    Ok(view(row, can_edit))
}

pub async fn get(pool: &PgPool, who: &Principal, key: &str) -> Result<ApiView> {
    let mut conn = pool.acquire().await?;
    let (id, _) = find(&mut conn, key).await?;
    load(&mut conn, who, id).await
}

pub async fn list(pool: &PgPool, who: &Principal, filter: &ApiFilter) -> Result<Vec<ApiView>> {
    let mut conn = pool.acquire().await?;
    let sql = format!(
        "{SELECT}
         WHERE ($1::text IS NULL OR a.name ILIKE '%' || $1 || '%' OR a.slug ILIKE '%' || $1 || '%'
                OR a.description ILIKE '%' || $1 || '%' OR $1 = ANY (a.tags))
           AND ($2::text IS NULL OR t.slug = $2)
           AND ($3::text IS NULL OR a.tier = $3)
           AND ($4::text IS NULL OR a.capability = $4)
           AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM api_versions v
                                            WHERE v.api_id = a.id AND v.state = $5))
         ORDER BY a.name"
    );
    let blank = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let rows: Vec<ApiRow> = sqlx::query_as(&sql)
        .bind(blank(&filter.q).map(|q| q.replace('%', "\\%").replace('_', "\\_")))
        .bind(blank(&filter.team))
        .bind(filter.tier.map(Tier::as_str))
        .bind(blank(&filter.capability))
        .bind(filter.state.map(VersionState::as_str))
        .fetch_all(&mut *conn)
        .await?;
    let editable = access::editable_teams(&mut conn, who).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let can_edit = editable
                .as_ref()
                .is_none_or(|teams| teams.contains(&r.team_id));
            view(r, can_edit)
        })
        .collect())
}

fn clean_tags(tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn check_fields(checks: &mut Checks, description: &str, capability: &str, tags: &[String]) {
    checks
        .check(
            description.chars().count() <= 4000,
            "description",
            "keep the description under 4000 characters",
        )
        .check(
            capability.chars().count() <= 60,
            "capability",
            "keep the capability under 60 characters",
        )
        .check(
            tags.len() <= 20 && tags.iter().all(|t| t.chars().count() <= 40),
            "tags",
            "use at most 20 tags of at most 40 characters",
        );
}

pub async fn create(pool: &PgPool, who: &Principal, new: NewApi) -> Result<ApiView> {
    if !matches!(who.role, Role::Admin | Role::Owner) {
        return Err(AppError::forbidden(format!(
            "registering an API needs the admin or owner role; you are signed in as {}",
            who.role
        ))
        .into());
    }
    let slug = new.slug.trim().to_string();
    let mut checks = Checks::new();
    checks
        .check(
            valid_slug(&slug),
            "slug",
            "use 2 to 63 lowercase letters, digits and single dashes",
        )
        .text(&new.name, "name", "a name", 200);
    check_fields(&mut checks, &new.description, &new.capability, &new.tags);
    checks.finish()?;
    let mut tx = pool.begin().await?;
    let team_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1)")
        .bind(new.team_id)
        .fetch_one(&mut *tx)
        .await?;
    if !team_exists {
        return Err(AppError::invalid("team_id", "choose an existing team").into());
    }
    if !access::can_edit(&mut tx, who, new.team_id).await? {
        return Err(AppError::invalid(
            "team_id",
            "you can only register APIs for teams you belong to",
        )
        .into());
    }
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO apis (id, slug, name, team_id, description, capability, tier, tags, validation_mode)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(&slug)
    .bind(new.name.trim())
    .bind(new.team_id)
    .bind(new.description.trim())
    .bind(new.capability.trim().to_lowercase())
    .bind(new.tier.as_str())
    .bind(clean_tags(&new.tags))
    .bind(new.validation_mode.as_str())
    .execute(&mut *tx)
    .await?;
    let api = load(&mut tx, who, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "api.create",
            target_type: "api",
            target_id: slug,
            before: None,
            after: Some(serde_json::to_value(&api).map_err(anyhow::Error::from)?),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(api)
}

pub async fn update(pool: &PgPool, who: &Principal, key: &str, patch: ApiPatch) -> Result<ApiView> {
    let mut tx = pool.begin().await?;
    let (id, team_id) = find(&mut tx, key).await?;
    if !access::can_edit(&mut tx, who, team_id).await? {
        return Err(AppError::forbidden(
            "editing this API needs the admin role or an owner in its team",
        )
        .into());
    }
    let before = load(&mut tx, who, id).await?;
    let mut checks = Checks::new();
    if let Some(name) = &patch.name {
        checks.text(name, "name", "a name", 200);
    }
    check_fields(
        &mut checks,
        patch.description.as_deref().unwrap_or_default(),
        patch.capability.as_deref().unwrap_or_default(),
        patch.tags.as_deref().unwrap_or_default(),
    );
    checks.finish()?;
    if let Some(team) = patch.team_id {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1)")
            .bind(team)
            .fetch_one(&mut *tx)
            .await?;
        if !exists {
            return Err(AppError::invalid("team_id", "no team has this id").into());
        }
    }
    if let Some(team) = patch.team_id
        && !access::can_edit(&mut tx, who, team).await?
    {
        return Err(
            AppError::invalid("team_id", "you can only move APIs to teams you belong to").into(),
        );
    }

    sqlx::query(
        "UPDATE apis SET
            name = coalesce($2, name), team_id = coalesce($3, team_id),
            description = coalesce($4, description), capability = coalesce($5, capability),
            tier = coalesce($6, tier), tags = coalesce($7, tags),
            validation_mode = coalesce($8, validation_mode), updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(patch.name.as_deref().map(str::trim))
    .bind(patch.team_id)
    .bind(patch.description.as_deref().map(str::trim))
    .bind(patch.capability.as_deref().map(|c| c.trim().to_lowercase()))
    .bind(patch.tier.map(Tier::as_str))
    .bind(patch.tags.as_deref().map(clean_tags))
    .bind(patch.validation_mode.map(ValidationMode::as_str))
    .execute(&mut *tx)
    .await?;
    let after = load(&mut tx, who, id).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        Change {
            action: "api.update",
            target_type: "api",
            target_id: after.slug.clone(),
            before: Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
            after: Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
        },
    )
    .await?;
    // The validation mode is gateway policy.
    crate::notify::changed(&mut tx, crate::notify::Kind::Version, id).await?;
    tx.commit().await?;
    Ok(after)
}
