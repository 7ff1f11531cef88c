//! Contract versions: upload (parse, lint), submission (breaking-change report),
//! review, publication, deprecation and retirement. A version's contract never
//! changes once stored; only its state moves, and every move is audited (control plane).

use crate::audit::{self, Actor, Change as AuditChange};
use crate::error::Result;
use crate::registry::lifecycle::{self, Action};
use crate::registry::semver::SemVer;
use crate::registry::{access, apis, lint_settings, rules};
use sha2::{Digest, Sha256};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use steward_contracts::{self as contracts, Contract};
use steward_model::{
    AppError, ChangeReport, CheckGuidance, Checks, ContractOutline, Deprecation, FieldError,
    Finding, Level, NewVersion, Principal, Retirement, ReviewDecision, ReviewItem, Role, SendBack,
    Severity, VersionState, VersionSummary, VersionView,
};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Largest contract accepted, in bytes.
pub const MAX_SPEC_BYTES: usize = 25 * 1024 * 1024;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    api_id: Uuid,
    team_id: Uuid,
    api_slug: String,
    api_name: String,
    version: String,
    major: i32,
    base_path: String,
    upstream_url: String,
    spec_format: String,
    spec_sha256: String,
    operations: i32,
    state: String,
    lint: Json<Vec<Finding>>,
    lint_errors: i32,
    lint_warnings: i32,
    report: Option<Json<ChangeReport>>,
    breaking: Option<i32>,
    waiver_reason: Option<String>,
    uploaded_by: Option<Uuid>,
    uploader: Option<String>,
    reviewer: Option<String>,
    review_comment: Option<String>,
    sunset_date: Option<Date>,
    successor: Option<String>,
    retire_reason: Option<String>,
    created_at: OffsetDateTime,
    submitted_at: Option<OffsetDateTime>,
    published_at: Option<OffsetDateTime>,
}

const SELECT: &str = "
    SELECT v.id, v.api_id, a.team_id, a.slug AS api_slug, a.name AS api_name, v.version, v.major,
           v.base_path, v.upstream_url, v.spec_format, v.spec_sha256, v.operations, v.state,
           v.lint, v.lint_errors, v.lint_warnings, v.report, v.breaking, v.waiver_reason,
           v.uploaded_by, up.email AS uploader, rv.email AS reviewer, v.review_comment,
           v.sunset_date, sv.version AS successor, v.retire_reason, v.created_at, v.submitted_at, v.published_at
    FROM api_versions v
    JOIN apis a ON a.id = v.api_id
    LEFT JOIN users up ON up.id = v.uploaded_by
    LEFT JOIN users rv ON rv.id = v.reviewed_by
    LEFT JOIN api_versions sv ON sv.id = v.successor_id";

impl Row {
    fn state(&self) -> VersionState {
        VersionState::parse(&self.state).unwrap_or(VersionState::Draft)
    }

    fn summary(&self) -> VersionSummary {
        VersionSummary {
            id: self.id,
            api_id: self.api_id,
            version: self.version.clone(),
            state: self.state(),
            base_path: self.base_path.clone(),
            // The stored URL may carry the upstream's credentials: never shown.
            upstream_url: steward_model::without_credentials(&self.upstream_url),
            operations: self.operations,
            lint_errors: self.lint_errors,
            lint_warnings: self.lint_warnings,
            breaking: self.breaking,
            uploaded_by: self.uploader.clone(),
            created_at: self.created_at,
            published_at: self.published_at,
            sunset_date: self.sunset_date,
        }
    }

    fn release(&self) -> rules::Release<'_> {
        rules::Release {
            version: &self.version,
            semver: self.semver(),
        }
    }

    fn semver(&self) -> SemVer {
        SemVer::parse(&self.version).unwrap_or(SemVer {
            major: 0,
            minor: 0,
            patch: 0,
        })
    }
}

async fn fetch(conn: &mut PgConnection, id: Uuid, lock: bool) -> Result<Row> {
    let sql = if lock {
        format!("{SELECT} WHERE v.id = $1 FOR UPDATE OF v")
    } else {
        format!("{SELECT} WHERE v.id = $1")
    };
    Ok(sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| AppError::not_found("version"))?)
}

/// What `who` may do next with this version.
async fn actions(conn: &mut PgConnection, who: &Principal, row: &Row) -> Result<Vec<String>> {
    let can_edit = access::can_edit(conn, who, row.team_id).await?;
    let reviewer =
        matches!(who.role, Role::Admin | Role::Reviewer) && row.uploaded_by != Some(who.user_id);
    Ok(Action::ALL
        .into_iter()
        .filter(|a| a.starts_from(row.state()))
        .filter(|a| if a.is_review() { reviewer } else { can_edit })
        .map(|a| a.as_str().to_string())
        .collect())
}

async fn view(conn: &mut PgConnection, who: &Principal, row: Row) -> Result<VersionView> {
    let actions = actions(conn, who, &row).await?;
    Ok(VersionView {
        summary: row.summary(),
        api_slug: row.api_slug,
        api_name: row.api_name,
        spec_format: row.spec_format,
        spec_sha256: row.spec_sha256,
        lint: row.lint.0,
        report: row.report.map(|r| explained(r.0)),
        waiver_reason: row.waiver_reason,
        reviewed_by: row.reviewer,
        review_comment: row.review_comment,
        successor: row.successor,
        retire_reason: row.retire_reason,
        actions,
    })
}

/// Parses an uploaded document; failures become field errors on `spec` that say where.
pub fn parse(text: &str) -> std::result::Result<Contract, AppError> {
    contracts::loader::load(text).map_err(|e| {
        let mut field = FieldError::new("spec", e.to_string());
        match &e {
            contracts::loader::LoadError::Syntax {
                line,
                column,
                message,
            } if *line > 0 => {
                // The position travels as fields; the message says it once.
                field.message = format!("syntax error: {message}");
                field.line = Some(*line);
                field.column = Some(*column);
            }
            contracts::loader::LoadError::Syntax { .. } => {}
            contracts::loader::LoadError::Invalid { pointer, line, .. }
            | contracts::loader::LoadError::RemoteRef { pointer, line, .. }
            | contracts::loader::LoadError::UnresolvedRef { pointer, line, .. } => {
                field.pointer = Some(pointer.clone());
                field.line = *line;
            }
            contracts::loader::LoadError::UnsupportedVersion { .. } => {}
        }
        AppError::Validation {
            fields: vec![field],
        }
    })
}

/// The release number a version is stored under: the one given, else the
/// contract's `info.version`. Where both are release numbers they must agree,
/// or the registry and the document would disagree about what was published.
fn release_number(given: &str, declared: &str) -> std::result::Result<(String, SemVer), AppError> {
    let declared_semver = SemVer::parse(declared);
    match (given.is_empty(), declared_semver) {
        (false, Some(_)) if given != declared => Err(AppError::invalid(
            "version",
            format!(
                "the contract's info.version is {declared}: upload it as {declared}, or change info.version to {given}"
            ),
        )),
        (true, None) => Err(AppError::invalid(
            "version",
            format!(
                "the contract's info.version {declared:?} is not a release number like 1.4.0: give the version"
            ),
        )),
        (true, Some(semver)) => Ok((declared.to_string(), semver)),
        (false, _) => SemVer::parse(given)
            .map(|semver| (given.to_string(), semver))
            .ok_or_else(|| AppError::invalid("version", "use a release number like 1.4.0")),
    }
}

/// Parses and lints a contract with the organisation's current ruleset, as
/// CPU work off the async workers.
async fn parse_and_lint(
    pool: &PgPool,
    text: String,
    base_path: &str,
) -> Result<(Contract, Vec<Finding>)> {
    let options = contracts::lint::LintOptions {
        base_path: Some(base_path.to_string()),
        overrides: lint_settings::overrides(pool).await?,
    };
    crate::cpu::run(move || {
        let contract = parse(&text)?;
        let findings = contracts::lint::lint(&contract, &options);
        Ok((contract, findings))
    })
    .await?
}

fn count(findings: &[Finding], severity: Severity) -> i32 {
    findings.iter().filter(|f| f.severity == severity).count() as i32
}

fn valid_base_path(p: &str) -> bool {
    p.starts_with('/')
        && p.len() > 1
        && !p.ends_with('/')
        && p[1..].split('/').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        })
}

fn valid_upstream(u: &str) -> bool {
    (u.starts_with("http://") || u.starts_with("https://"))
        && u.len() > 8
        && !u.contains(char::is_whitespace)
}

fn operations(contract: &Contract) -> i32 {
    contract
        .doc
        .paths
        .paths
        .values()
        .filter_map(|p| p.as_item())
        .map(|item| item.iter().count() as i32)
        .sum()
}

pub async fn upload(
    pool: &PgPool,
    who: &Principal,
    api_key: &str,
    new: NewVersion,
) -> Result<VersionView> {
    // Blank means "the contract's own `info.version`", read once it is parsed.
    let given = new.version.trim().to_string();
    let base_path = new.base_path.trim().to_string();
    let upstream = new.upstream_url.trim().to_string();
    Checks::new()
        .check(
            given.is_empty() || SemVer::parse(&given).is_some(),
            "version",
            "use a release number like 1.4.0, or leave it blank for the contract's info.version",
        )
        .check(
            valid_base_path(&base_path),
            "base_path",
            "use a path like /orders/v2: lowercase segments, no trailing slash",
        )
        .check(
            valid_upstream(&upstream),
            "upstream_url",
            "use an http:// or https:// URL",
        )
        .check(
            !new.spec.trim().is_empty(),
            "spec",
            "paste or upload an OpenAPI 3.0 document",
        )
        .check(
            new.spec.len() <= MAX_SPEC_BYTES,
            "spec",
            "the document is larger than 25 MB",
        )
        .finish()?;
    let mut conn = pool.acquire().await?;
    let (api_id, team_id) = apis::find(&mut conn, api_key).await?;
    if !access::can_edit(&mut conn, who, team_id).await? {
        return Err(AppError::forbidden(
            "uploading versions needs the admin role or an owner in the API's team",
        )
        .into());
    }
    if let Some(why) = crate::upstreams::refusal(&mut conn, &upstream).await? {
        return Err(AppError::invalid(
            "upstream_url",
            format!("{why}; an admin can allow it on the Gateways page"),
        )
        .into());
    }
    drop(conn);
    let spec = new.spec;
    let (contract, findings) = parse_and_lint(pool, spec.clone(), &base_path).await?;
    let (version, semver) = release_number(&given, contract.doc.info.version.trim())?;
    let format = if spec.trim_start().starts_with('{') {
        "json"
    } else {
        "yaml"
    };
    let digest = hex::encode(Sha256::digest(spec.as_bytes()));
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO api_versions (id, api_id, version, major, minor, patch, base_path, upstream_url,
            spec_text, spec_format, spec_sha256, operations, state, lint, lint_errors, lint_warnings, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'draft', $13, $14, $15, $16)",
    )
    .bind(id)
    .bind(api_id)
    .bind(&version)
    .bind(semver.major as i32)
    .bind(semver.minor as i32)
    .bind(semver.patch as i32)
    .bind(&base_path)
    .bind(&upstream)
    .bind(&spec)
    .bind(format)
    .bind(&digest)
    .bind(operations(&contract))
    .bind(Json(&findings))
    .bind(count(&findings, Severity::Error))
    .bind(count(&findings, Severity::Warning))
    .bind(who.user_id)
    .execute(&mut *tx)
    .await?;
    // The report comes at once, so that a release number that does not fit the
    // changes is flagged before anyone submits it.
    let row = fetch(&mut tx, id, false).await?;
    let report = report_for(&mut tx, &row).await?;
    store_report(&mut tx, id, &report).await?;
    let row = fetch(&mut tx, id, false).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        AuditChange {
            action: "version.upload",
            target_type: "api_version",
            target_id: format!("{}@{}", row.api_slug, row.version),
            before: None,
            after: Some(serde_json::json!({
                "version": version, "base_path": base_path,
                "upstream_url": steward_model::without_credentials(&upstream),
                "spec_sha256": digest, "lint_errors": row.lint_errors, "lint_warnings": row.lint_warnings,
            })),
        },
    )
    .await?;
    let out = view(&mut tx, who, row).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn list(pool: &PgPool, _who: &Principal, api_key: &str) -> Result<Vec<VersionSummary>> {
    let mut conn = pool.acquire().await?;
    let (api_id, _) = apis::find(&mut conn, api_key).await?;
    let sql =
        format!("{SELECT} WHERE v.api_id = $1 ORDER BY v.major DESC, v.minor DESC, v.patch DESC");
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(api_id)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.iter().map(Row::summary).collect())
}

/// Every version waiting for review, oldest submission first: what reviewers
/// work through. Any signed-in user may see it; each item says whether the
/// caller uploaded it (and so may not review it).
pub async fn review_queue(pool: &PgPool, who: &Principal) -> Result<Vec<ReviewItem>> {
    let sql = format!(
        "{SELECT} WHERE v.state = 'in_review' ORDER BY v.submitted_at ASC NULLS LAST, v.created_at ASC"
    );
    let rows: Vec<Row> = sqlx::query_as(&sql).fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|row| ReviewItem {
            submitted_at: row.submitted_at,
            needs_waiver: row.report.as_ref().is_some_and(|r| r.needs_waiver),
            semver: row.report.as_ref().and_then(|r| r.semver.clone()),
            yours: row.uploaded_by == Some(who.user_id),
            summary: row.summary(),
            api_slug: row.api_slug,
            api_name: row.api_name,
        })
        .collect())
}

pub async fn get(pool: &PgPool, who: &Principal, id: Uuid) -> Result<VersionView> {
    let mut conn = pool.acquire().await?;
    let row = fetch(&mut conn, id, false).await?;
    view(&mut conn, who, row).await
}

/// The contract exactly as uploaded, with its format (`yaml` or `json`).
pub async fn spec(pool: &PgPool, _who: &Principal, id: Uuid) -> Result<(String, String)> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT spec_text, spec_format FROM api_versions WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.ok_or_else(|| AppError::not_found("version"))?)
}

/// The contract as a reference to read, and the line `at` (a JSON pointer
/// into it, as findings carry) starts on.
pub async fn outline(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    at: Option<String>,
) -> Result<ContractOutline> {
    let (text, _) = spec(pool, who, id).await?;
    outline_of(text, at).await
}

/// Longest pointer whose line is looked up: findings' pointers are far shorter,
/// and the lookup's work grows with the square of the pointer's length.
const MAX_POINTER: usize = 2000;

/// [`outline`] of a contract text already read.
pub async fn outline_of(text: String, at: Option<String>) -> Result<ContractOutline> {
    if at.as_ref().is_some_and(|p| p.len() > MAX_POINTER) {
        return Err(AppError::invalid(
            "at",
            format!("a pointer into the contract is at most {MAX_POINTER} characters"),
        )
        .into());
    }
    crate::cpu::run(move || -> Result<ContractOutline> {
        let contract = parse(&text)?;
        let at_line = at.as_deref().and_then(|p| contract.lines.line_of(p));
        Ok(ContractOutline {
            outline: contracts::outline::outline(&contract),
            at,
            at_line,
        })
    })
    .await?
}

async fn spec_of(conn: &mut PgConnection, id: Uuid) -> Result<String> {
    Ok(
        sqlx::query_scalar("SELECT spec_text FROM api_versions WHERE id = $1")
            .bind(id)
            .fetch_one(conn)
            .await?,
    )
}

/// Diffs two stored contracts. Both parsed before, so a parse failure here is internal.
async fn report_between(
    conn: &mut PgConnection,
    base: Option<&Row>,
    revision: &Row,
) -> Result<ChangeReport> {
    let revision_text = spec_of(conn, revision.id).await?;
    let base_text = match base {
        Some(b) => Some(spec_of(conn, b.id).await?),
        None => None,
    };
    let base_sunset = base.and_then(|b| b.sunset_date);
    let changes = crate::cpu::run(move || -> std::result::Result<_, AppError> {
        let revision = parse(&revision_text)?;
        let Some(base_text) = base_text else {
            return Ok(Vec::new());
        };
        let base = parse(&base_text)?;
        Ok(contracts::diff::diff(
            &base.doc,
            &revision.doc,
            &contracts::diff::DiffOptions { base_sunset },
        ))
    })
    .await??;
    let n = |level: Level| changes.iter().filter(|c| c.level == level).count();
    Ok(ChangeReport {
        base_version: base.map(|b| b.version.clone()),
        base_id: base.map(|b| b.id),
        basis: None,
        base_state: None,
        semver: None,
        needs_waiver: false,
        revision_version: revision.version.clone(),
        errors: n(Level::Error),
        warnings: n(Level::Warning),
        infos: n(Level::Info),
        changes,
        guidance: Vec::new(),
    })
}

/// What a version's report compares against: the latest live (published or
/// deprecated) version of its own major line; failing that, the latest earlier
/// version in any state but rejected (a contract reviewers turned down was never
/// a base anyone agreed on), so that 1.1.0 is compared with 1.0.0 while both
/// are still in review; failing that, the latest live version of any line.
async fn report_base(conn: &mut PgConnection, revision: &Row) -> Result<Option<Row>> {
    let sql = format!(
        "{SELECT} WHERE v.api_id = $1 AND v.id <> $2 AND v.state <> 'rejected'
         ORDER BY (v.major = $3 AND v.state IN ('published', 'deprecated')) DESC,
                  ((v.major, v.minor, v.patch) < ($3, $4, $5)) DESC,
                  (v.state IN ('published', 'deprecated')) DESC,
                  v.major DESC, v.minor DESC, v.patch DESC
         LIMIT 1"
    );
    let semver = revision.semver();
    Ok(sqlx::query_as(&sql)
        .bind(revision.api_id)
        .bind(revision.id)
        .bind(revision.major)
        .bind(semver.minor as i32)
        .bind(semver.patch as i32)
        .fetch_optional(conn)
        .await?)
}

/// The report for `revision` against [`report_base`], saying which base it
/// used and why, whether the release number fits the changes, and whether
/// publishing will need a waiver.
async fn report_for(conn: &mut PgConnection, revision: &Row) -> Result<ChangeReport> {
    let base = report_base(conn, revision).await?;
    let mut report = report_between(conn, base.as_ref(), revision).await?;
    let Some(base) = base else {
        return Ok(report);
    };
    let live = matches!(
        base.state(),
        VersionState::Published | VersionState::Deprecated
    );
    let same_line = base.major == revision.major;
    report.basis = Some(match (live, same_line) {
        (true, true) => format!("the latest live version of major line {}", base.major),
        (false, true) => format!(
            "the latest earlier version ({}); nothing of major line {} is live yet",
            base.state().label(),
            base.major
        ),
        (false, false) => format!("the latest earlier version ({})", base.state().label()),
        (true, false) => "the latest live version".to_string(),
    });
    report.base_state = Some(base.state());
    report.semver = rules::semver_problem(
        Row::release(revision),
        Some(Row::release(&base)),
        report.errors,
    );
    report.needs_waiver =
        live && same_line && report.errors > 0 && revision.semver() > base.semver();
    Ok(report)
}

async fn store_report(conn: &mut PgConnection, id: Uuid, report: &ChangeReport) -> Result<()> {
    sqlx::query(
        "UPDATE api_versions SET compared_to = $2, report = $3, breaking = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(report.base_id)
    .bind(Json(report))
    .bind(report.errors as i32)
    .execute(conn)
    .await?;
    Ok(())
}

/// What publication is judged against: the highest live (published or
/// deprecated) version of its own major line, or else the highest live version
/// overall.
async fn latest_live(conn: &mut PgConnection, revision: &Row) -> Result<Option<Row>> {
    let sql = format!(
        "{SELECT} WHERE v.api_id = $1 AND v.id <> $2 AND v.state IN ('published', 'deprecated')
         ORDER BY (v.major = $3) DESC, v.major DESC, v.minor DESC, v.patch DESC LIMIT 1"
    );
    Ok(sqlx::query_as(&sql)
        .bind(revision.api_id)
        .bind(revision.id)
        .bind(revision.major)
        .fetch_optional(conn)
        .await?)
}

/// Compares any two versions of one API, for the console's diff picker.
pub async fn compare(
    pool: &PgPool,
    _who: &Principal,
    api_key: &str,
    base: Uuid,
    revision: Uuid,
) -> Result<ChangeReport> {
    let mut conn = pool.acquire().await?;
    let (api_id, _) = apis::find(&mut conn, api_key).await?;
    let base = fetch(&mut conn, base, false).await?;
    let revision = fetch(&mut conn, revision, false).await?;
    if base.api_id != api_id || revision.api_id != api_id {
        return Err(AppError::invalid("base", "both versions must belong to the same API").into());
    }
    Ok(explained(
        report_between(&mut conn, Some(&base), &revision).await?,
    ))
}

/// The report with the catalogue's why and what-to-do for each of its checks.
/// Added when a report is read rather than stored, so reports made before a
/// wording changed read with the current words.
fn explained(mut report: ChangeReport) -> ChangeReport {
    let mut ids: Vec<&str> = report.changes.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    report.guidance = ids
        .into_iter()
        .filter_map(contracts::catalogue::find)
        .map(|check| {
            let words = contracts::catalogue::guidance(check);
            CheckGuidance {
                check: check.id.to_string(),
                why: words.why.to_string(),
                what_to_do: words.fix.to_string(),
            }
        })
        .collect();
    report
}

fn refuse(message: impl Into<String>) -> AppError {
    AppError::Conflict {
        message: message.into(),
        field: None,
    }
}

/// Locks the version, checks the transition and the caller, and returns the row.
async fn begin_transition(
    tx: &mut PgConnection,
    who: &Principal,
    id: Uuid,
    action: Action,
) -> Result<Row> {
    let row = fetch(tx, id, true).await?;
    match action {
        _ if action.is_review() => {
            if !matches!(who.role, Role::Admin | Role::Reviewer) {
                return Err(AppError::forbidden(format!(
                    "reviewing needs the reviewer or admin role; you are signed in as {}",
                    who.role
                ))
                .into());
            }
            if row.uploaded_by == Some(who.user_id) {
                return Err(AppError::forbidden(
                    "you cannot review a version you uploaded (separation of duties)",
                )
                .into());
            }
        }
        _ => {
            if !access::can_edit(tx, who, row.team_id).await? {
                return Err(AppError::forbidden(format!(
                    "{} needs the admin role or an owner in the API's team",
                    action.as_str()
                ))
                .into());
            }
        }
    }
    lifecycle::next(row.state(), action).map_err(refuse)?;
    Ok(row)
}

async fn finish_transition(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    who: &Principal,
    before: &Row,
    action: Action,
    detail: serde_json::Value,
) -> Result<VersionView> {
    let after = fetch(&mut tx, before.id, false).await?;
    audit::record(
        &mut tx,
        &Actor::from(who),
        AuditChange {
            action: match action {
                Action::Submit => "version.submit",
                Action::Approve => "version.approve",
                Action::Reject => "version.reject",
                Action::Publish => "version.publish",
                Action::Deprecate => "version.deprecate",
                Action::Retire => "version.retire",
                Action::Withdraw => "version.withdraw",
                Action::SendBack => "version.send_back",
            },
            target_type: "api_version",
            target_id: format!("{}@{}", before.api_slug, before.version),
            before: Some(serde_json::json!({ "state": before.state })),
            after: Some(serde_json::json!({ "state": after.state, "detail": detail })),
        },
    )
    .await?;
    if matches!(action, Action::Publish | Action::Deprecate | Action::Retire) {
        // Gateways serve published, deprecated and retired versions differently.
        crate::notify::changed(&mut tx, crate::notify::Kind::Version, before.id).await?;
    }
    let out = view(&mut tx, who, after).await?;
    tx.commit().await?;
    Ok(out)
}

/// Draft → in review. Re-lints with the current organisation settings (lint errors
/// block submission) and computes the report against the latest live version.
pub async fn submit(pool: &PgPool, who: &Principal, id: Uuid) -> Result<VersionView> {
    let mut tx = pool.begin().await?;
    let row = begin_transition(&mut tx, who, id, Action::Submit).await?;
    let text = spec_of(&mut tx, id).await?;
    let (_, findings) = parse_and_lint(pool, text, &row.base_path).await?;
    let errors = count(&findings, Severity::Error);
    if errors > 0 {
        // Keep the fresh findings visible even though the submission is refused.
        sqlx::query(
            "UPDATE api_versions SET lint = $2, lint_errors = $3, lint_warnings = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(Json(&findings))
        .bind(errors)
        .bind(count(&findings, Severity::Warning))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return Err(refuse(format!(
            "{errors} lint error(s) block submission; fix them and upload a new version"
        ))
        .into());
    }
    // Versions may have moved since upload; the report is made afresh.
    let report = report_for(&mut tx, &row).await?;
    store_report(&mut tx, id, &report).await?;
    sqlx::query(
        "UPDATE api_versions SET state = 'in_review', submitted_at = now(), lint = $2, lint_errors = 0,
            lint_warnings = $3
         WHERE id = $1",
    )
    .bind(id)
    .bind(Json(&findings))
    .bind(count(&findings, Severity::Warning))
    .execute(&mut *tx)
    .await?;
    let detail =
        serde_json::json!({ "compared_to": report.base_version, "breaking": report.errors });
    finish_transition(tx, who, &row, Action::Submit, detail).await
}

/// In review → approved or rejected, by a reviewer who is not the uploader. A
/// waiver accepts breaking changes under the same major version, with a reason.
pub async fn review(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    decision: ReviewDecision,
) -> Result<VersionView> {
    let action = if decision.approve {
        Action::Approve
    } else {
        Action::Reject
    };
    let comment = decision.comment.trim().to_string();
    let waiver = decision
        .waiver
        .as_deref()
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string);
    Checks::new()
        .check(
            decision.approve || !comment.is_empty(),
            "comment",
            "say why the version is rejected",
        )
        .check(
            comment.chars().count() <= 4000,
            "comment",
            "keep the comment under 4000 characters",
        )
        .check(
            waiver.is_none() || decision.approve,
            "waiver",
            "a waiver only goes with an approval",
        )
        .finish()?;
    let mut tx = pool.begin().await?;
    let row = begin_transition(&mut tx, who, id, action).await?;
    let needs_waiver = row.report.as_ref().is_some_and(|r| r.needs_waiver);
    rules::waiver(decision.approve, needs_waiver, waiver.is_some())
        .map_err(|(field, message)| AppError::invalid(field, message))?;
    sqlx::query(
        "UPDATE api_versions SET state = $2, reviewed_by = $3, reviewed_at = now(), review_comment = $4,
            waiver_reason = $5
         WHERE id = $1",
    )
    .bind(id)
    .bind(action.edge().1.as_str())
    .bind(who.user_id)
    .bind(&comment)
    .bind(&waiver)
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({ "comment": comment, "waiver": waiver });
    finish_transition(tx, who, &row, action, detail).await
}

/// Approved → published. Breaking changes under the same major version need a
/// waiver; a new major version needs a new base path; a base path belongs to one API.
pub async fn publish(pool: &PgPool, who: &Principal, id: Uuid) -> Result<VersionView> {
    let mut tx = pool.begin().await?;
    let row = begin_transition(&mut tx, who, id, Action::Publish).await?;
    let base = latest_live(&mut tx, &row).await?;
    // The live set may have moved since review; judge against what is live now.
    let report = report_between(&mut tx, base.as_ref(), &row).await?;
    let live = base.as_ref().map(Row::release);
    rules::publish(
        row.release(),
        live,
        report.errors,
        row.waiver_reason.is_some(),
    )
    .map_err(refuse)?;
    // The gateway routes by the longest matching prefix, so a base path inside
    // another one (`/orders/v1/returns` under `/orders/v1`) would take over part
    // of that API: base paths may neither equal nor nest in each other.
    let clash: Option<(String, String, String)> = sqlx::query_as(
        "SELECT a.slug, v.version, v.base_path FROM api_versions v JOIN apis a ON a.id = v.api_id
         WHERE (v.base_path = $1 OR $1 LIKE v.base_path || '/%' OR v.base_path LIKE $1 || '/%')
           AND v.state IN ('published', 'deprecated') AND v.id <> $2
           AND (v.api_id <> $3 OR v.major <> $4)
         ORDER BY v.base_path = $1 DESC
         LIMIT 1",
    )
    .bind(&row.base_path)
    .bind(id)
    .bind(row.api_id)
    .bind(row.major)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((slug, version, other)) = clash {
        return Err(refuse(if other == row.base_path {
            format!(
                "base path {} is already served by {slug}@{version}; a new major version needs a new base path",
                row.base_path
            )
        } else {
            format!(
                "base path {} overlaps {other}, served by {slug}@{version}: the gateway routes by the longest prefix, so one would take over part of the other; choose a base path outside it",
                row.base_path
            )
        })
        .into());
    }
    // A newer release of the same major line takes over its base path.
    let superseded: Vec<(Uuid, String)> = sqlx::query_as(
        "UPDATE api_versions SET state = 'retired', retired_at = now(), retire_reason = $4
         WHERE api_id = $1 AND major = $2 AND base_path = $3 AND state = 'published' AND id <> $5
         RETURNING id, version",
    )
    .bind(row.api_id)
    .bind(row.major)
    .bind(&row.base_path)
    .bind(format!("superseded by {}", row.version))
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    for (_, version) in &superseded {
        audit::record(
            &mut tx,
            &Actor::from(who),
            AuditChange {
                action: "version.supersede",
                target_type: "api_version",
                target_id: format!("{}@{version}", row.api_slug),
                before: Some(serde_json::json!({ "state": "published" })),
                after: Some(
                    serde_json::json!({ "state": "retired", "superseded_by": row.version }),
                ),
            },
        )
        .await?;
    }
    sqlx::query(
        "UPDATE api_versions SET state = 'published', published_at = now(), compared_to = $2,
            report = $3, breaking = $4
         WHERE id = $1",
    )
    .bind(id)
    .bind(report.base_id)
    .bind(Json(&report))
    .bind(report.errors as i32)
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({
        "base_path": row.base_path, "breaking": report.errors, "waiver": row.waiver_reason,
        "superseded": superseded.iter().map(|(_, v)| v).collect::<Vec<_>>(),
    });
    finish_transition(tx, who, &row, Action::Publish, detail).await
}

/// In review or approved → draft, by an owner: to fix the contract (as a new
/// upload) or its release number, instead of waiting on a review that can only
/// refuse it. The review so far, and any waiver, no longer apply.
pub async fn withdraw(pool: &PgPool, who: &Principal, id: Uuid) -> Result<VersionView> {
    let mut tx = pool.begin().await?;
    let row = begin_transition(&mut tx, who, id, Action::Withdraw).await?;
    sqlx::query(
        "UPDATE api_versions SET state = 'draft', reviewed_by = NULL, reviewed_at = NULL,
            waiver_reason = NULL
         WHERE id = $1",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    finish_transition(tx, who, &row, Action::Withdraw, serde_json::json!({})).await
}

/// Approved → in review, by a reviewer, with the reason: an approval made in
/// error, or one that the live versions have overtaken. The approval and any
/// waiver are withdrawn.
pub async fn send_back(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    decision: SendBack,
) -> Result<VersionView> {
    let comment = decision.comment.trim().to_string();
    Checks::new()
        .check(
            !comment.is_empty(),
            "comment",
            "say why the version goes back to review",
        )
        .check(
            comment.chars().count() <= 4000,
            "comment",
            "keep the comment under 4000 characters",
        )
        .finish()?;
    let mut tx = pool.begin().await?;
    let row = begin_transition(&mut tx, who, id, Action::SendBack).await?;
    // The live set may have moved since the approval.
    let report = report_for(&mut tx, &row).await?;
    store_report(&mut tx, id, &report).await?;
    sqlx::query(
        "UPDATE api_versions SET state = 'in_review', reviewed_by = NULL, reviewed_at = NULL,
            waiver_reason = NULL, review_comment = $2
         WHERE id = $1",
    )
    .bind(id)
    .bind(&comment)
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({ "comment": comment });
    finish_transition(tx, who, &row, Action::SendBack, detail).await
}

/// Published → deprecated, with a future sunset date and a newer live successor.
pub async fn deprecate(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    d: Deprecation,
) -> Result<VersionView> {
    let today = OffsetDateTime::now_utc().date();
    Checks::new()
        .check(
            d.sunset_date > today,
            "sunset_date",
            "choose a sunset date in the future",
        )
        .finish()?;
    let mut tx = pool.begin().await?;
    let row = begin_transition(&mut tx, who, id, Action::Deprecate).await?;
    let successor = fetch(&mut tx, d.successor_id, false)
        .await
        .map_err(|_| AppError::invalid("successor_id", "choose a version of this API"))?;
    if successor.api_id != row.api_id
        || successor.state() != VersionState::Published
        || successor.semver() <= row.semver()
    {
        return Err(AppError::invalid(
            "successor_id",
            "the successor must be a newer published version of this API",
        )
        .into());
    }
    sqlx::query(
        "UPDATE api_versions SET state = 'deprecated', deprecated_at = now(), sunset_date = $2, successor_id = $3
         WHERE id = $1",
    )
    .bind(id)
    .bind(d.sunset_date)
    .bind(d.successor_id)
    .execute(&mut *tx)
    .await?;
    let detail = serde_json::json!({ "sunset_date": d.sunset_date.to_string(), "successor": successor.version });
    finish_transition(tx, who, &row, Action::Deprecate, detail).await
}

/// Deprecated → retired, once the sunset date has come, or earlier by an admin
/// with a reason.
pub async fn retire(
    pool: &PgPool,
    who: &Principal,
    id: Uuid,
    r: Retirement,
) -> Result<VersionView> {
    let reason = r
        .override_reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let mut tx = pool.begin().await?;
    let row = begin_transition(&mut tx, who, id, Action::Retire).await?;
    let today = OffsetDateTime::now_utc().date();
    let due = row.sunset_date.is_some_and(|s| s <= today);
    if !due {
        match (&reason, who.role) {
            (Some(_), Role::Admin) => {}
            (Some(_), _) => {
                return Err(
                    AppError::forbidden("retiring before the sunset date needs an admin").into(),
                );
            }
            (None, _) => {
                return Err(refuse(format!(
                    "the sunset date {} has not come yet; an admin may retire earlier with a reason",
                    row.sunset_date.map(|d| d.to_string()).unwrap_or_default()
                ))
                .into());
            }
        }
    }
    sqlx::query("UPDATE api_versions SET state = 'retired', retired_at = now(), retire_reason = $2 WHERE id = $1")
        .bind(id)
        .bind(&reason)
        .execute(&mut *tx)
        .await?;
    let detail = serde_json::json!({ "override_reason": reason });
    finish_transition(tx, who, &row, Action::Retire, detail).await
}
