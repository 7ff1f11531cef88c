//! The audit trail (control plane): append-only and hash-chained.
//!
//! Every state-changing command calls [`record`] inside its own transaction, so
//! the change and its audit row commit or roll back together. Each row's hash
//! covers its content and the previous row's hash; editing or deleting any row
//! breaks every hash after it, which [`verify`] reports.

use crate::error::Result;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use steward_model::{AuditEntry, AuditFilter, AuditPage, ChainReport, Principal};
use time::OffsetDateTime;
use uuid::Uuid;

/// Arbitrary constant: the advisory lock that serialises appends to the chain.
const CHAIN_LOCK: i64 = 0x5354_4557_4152_4400;
const GENESIS: [u8; 32] = [0; 32];

/// Who made a change: a console user, or an operator at the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub label: String,
}

impl Actor {
    pub fn operator(command: &str) -> Self {
        Actor {
            id: None,
            label: format!("cli:{command}"),
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        Actor {
            id: Some(p.user_id),
            label: p.email.clone(),
        }
    }
}

/// One change to record.
#[derive(Debug)]
pub struct Change<'a> {
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// The fields the hash covers, in their canonical text form.
struct Sealed<'a> {
    seq: i64,
    at: OffsetDateTime,
    actor_id: Option<Uuid>,
    actor: &'a str,
    action: &'a str,
    target_type: &'a str,
    target_id: &'a str,
    before: Option<&'a str>,
    after: Option<&'a str>,
}

impl Sealed<'_> {
    fn hash(&self, prev: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        // Length-prefix every field so no two different rows hash the same input.
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(prev);
        field(&self.seq.to_be_bytes());
        field(&(self.at.unix_timestamp_nanos() / 1_000).to_be_bytes());
        field(
            self.actor_id
                .map(|u| *u.as_bytes())
                .unwrap_or_default()
                .as_slice(),
        );
        field(self.actor.as_bytes());
        field(self.action.as_bytes());
        field(self.target_type.as_bytes());
        field(self.target_id.as_bytes());
        field(self.before.unwrap_or("\u{0}").as_bytes());
        field(self.after.unwrap_or("\u{0}").as_bytes());
        h.finalize().into()
    }
}

/// Appends one entry. Call it on the transaction of the change it describes.
pub async fn record(conn: &mut PgConnection, actor: &Actor, change: Change<'_>) -> Result<i64> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *conn)
        .await?;
    let head: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let (seq, prev) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_vec()),
    };
    // Hash the JSON exactly as PostgreSQL will give it back, so verification
    // recomputes the same bytes regardless of key order or number formatting.
    let (before, after): (Option<String>, Option<String>) =
        sqlx::query_as("SELECT $1::jsonb::text, $2::jsonb::text")
            .bind(&change.before)
            .bind(&change.after)
            .fetch_one(&mut *conn)
            .await?;
    let now = OffsetDateTime::now_utc();
    // PostgreSQL keeps microseconds; hash what will be stored.
    let at = now
        .replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now);
    let sealed = Sealed {
        seq,
        at,
        actor_id: actor.id,
        actor: &actor.label,
        action: change.action,
        target_type: change.target_type,
        target_id: &change.target_id,
        before: before.as_deref(),
        after: after.as_deref(),
    };
    let hash = sealed.hash(&prev);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor, action, target_type, target_id, before, after, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11)",
    )
    .bind(seq)
    .bind(at)
    .bind(actor.id)
    .bind(&actor.label)
    .bind(change.action)
    .bind(change.target_type)
    .bind(&change.target_id)
    .bind(&before)
    .bind(&after)
    .bind(&prev)
    .bind(hash.as_slice())
    .execute(&mut *conn)
    .await?;
    Ok(seq)
}

#[derive(sqlx::FromRow)]
struct ChainRow {
    seq: i64,
    at: OffsetDateTime,
    actor_id: Option<Uuid>,
    actor: String,
    action: String,
    target_type: String,
    target_id: String,
    before: Option<String>,
    after: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// Walks the whole chain in order and reports the first row that does not hold.
pub async fn verify(pool: &PgPool) -> Result<ChainReport> {
    const BATCH: i64 = 2_000;
    let mut expected_prev = GENESIS.to_vec();
    let mut expected_seq = 1_i64;
    let mut checked = 0_i64;
    loop {
        let rows: Vec<ChainRow> = sqlx::query_as(
            "SELECT seq, at, actor_id, actor, action, target_type, target_id,
                    before::text AS before, after::text AS after, prev_hash, hash
             FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(expected_seq)
        .bind(BATCH)
        .fetch_all(pool)
        .await?;
        let done = (rows.len() as i64) < BATCH;
        for row in rows {
            let broken = |reason: &str| ChainReport {
                intact: false,
                checked,
                first_broken_seq: Some(row.seq.min(expected_seq)),
                reason: Some(reason.to_string()),
            };
            if row.seq != expected_seq {
                return Ok(broken("an entry is missing before this one"));
            }
            if row.prev_hash != expected_prev {
                return Ok(broken("previous-hash link does not match the entry before"));
            }
            let sealed = Sealed {
                seq: row.seq,
                at: row.at,
                actor_id: row.actor_id,
                actor: &row.actor,
                action: &row.action,
                target_type: &row.target_type,
                target_id: &row.target_id,
                before: row.before.as_deref(),
                after: row.after.as_deref(),
            };
            if sealed.hash(&row.prev_hash).as_slice() != row.hash.as_slice() {
                return Ok(broken("content does not match its hash"));
            }
            checked += 1;
            expected_seq += 1;
            expected_prev = row.hash;
        }
        if done {
            return Ok(ChainReport {
                intact: true,
                checked,
                first_broken_seq: None,
                reason: None,
            });
        }
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    seq: i64,
    at: OffsetDateTime,
    actor: String,
    action: String,
    target_type: String,
    target_id: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

impl From<EntryRow> for AuditEntry {
    fn from(r: EntryRow) -> Self {
        AuditEntry {
            seq: r.seq,
            at: r.at,
            actor: r.actor,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            before: r.before,
            after: r.after,
        }
    }
}

/// Filters match literally: `%` and `_` typed by a user are not wildcards.
fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Newest first. `actor` and `target` match substrings; `action` matches a prefix,
/// so `user.` finds every user change.
pub async fn list(pool: &PgPool, filter: &AuditFilter) -> Result<AuditPage> {
    let limit = filter.limit.unwrap_or(50).clamp(1, 500);
    let mut rows: Vec<EntryRow> = sqlx::query_as(
        "SELECT seq, at, actor, action, target_type, target_id, before, after
         FROM audit_log
         WHERE ($1::text IS NULL OR actor ILIKE '%' || $1 || '%')
           AND ($2::text IS NULL OR action LIKE $2 || '%')
           AND ($3::text IS NULL OR target_id ILIKE '%' || $3 || '%' OR target_type = $6)
           AND ($4::bigint IS NULL OR seq < $4)
         ORDER BY seq DESC
         LIMIT $5",
    )
    .bind(filter.actor.as_deref().map(escape_like))
    .bind(filter.action.as_deref().map(escape_like))
    .bind(filter.target.as_deref().map(escape_like))
    .bind(filter.before_seq)
    .bind(limit + 1)
    .bind(filter.target.as_deref())
    .fetch_all(pool)
    .await?;
    let next_before_seq = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(AuditPage {
        entries: rows.into_iter().map(AuditEntry::from).collect(),
        next_before_seq,
    })
}
