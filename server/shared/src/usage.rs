//! "Last used" for credentials, recorded in batches. Recording is a map insert
//! under a short lock; a background task writes everything seen since the last
//! flush in one statement per credential kind, so a busy key costs one row update
//! per interval, not one per request (shared by both planes).

use crate::FastMap;
use crate::shard::{self, Shard};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    ApiKey,
    OAuthClient,
}

type Stamps = FastMap<(Credential, Uuid), OffsetDateTime>;
const SHARDS: usize = 16;

/// Sharded by thread (see `crate::shard`): gateway workers never meet on a lock.
#[derive(Debug, Clone)]
pub struct UsageRecorder {
    seen: Arc<Vec<Shard<Stamps>>>,
}

impl Default for UsageRecorder {
    fn default() -> Self {
        UsageRecorder {
            seen: Arc::new((0..SHARDS).map(|_| Shard::default()).collect()),
        }
    }
}

impl UsageRecorder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&self, kind: Credential, id: Uuid, at: OffsetDateTime) {
        let mut seen = self.seen[shard::of_this_thread(SHARDS)].lock();
        let slot = seen.entry((kind, id)).or_insert(at);
        if at > *slot {
            *slot = at;
        }
    }

    /// Credentials waiting to be written.
    pub fn backlog(&self) -> usize {
        self.seen.iter().map(|s| s.lock().len()).sum()
    }

    /// Everything recorded, cleared from the shards. One credential can be in
    /// several threads' shards: the latest stamp wins.
    fn take(&self) -> Stamps {
        let mut batch = Stamps::default();
        for shard in self.seen.iter() {
            for (credential, at) in std::mem::take(&mut *shard.lock()) {
                let slot = batch.entry(credential).or_insert(at);
                if at > *slot {
                    *slot = at;
                }
            }
        }
        batch
    }

    /// Writes and clears what was recorded. On failure the stamps go back into the
    /// map (newer ones win), so nothing is lost while the database is away.
    pub async fn flush(&self, pool: &PgPool) -> Result<usize, sqlx::Error> {
        let batch = self.take();
        if batch.is_empty() {
            return Ok(0);
        }
        let mut keys = (Vec::new(), Vec::new());
        let mut clients = (Vec::new(), Vec::new());
        for (&(kind, id), &at) in &batch {
            let target = match kind {
                Credential::ApiKey => &mut keys,
                Credential::OAuthClient => &mut clients,
            };
            target.0.push(id);
            target.1.push(at);
        }
        let written = async {
            for (table, (ids, ats)) in [("api_keys", &keys), ("oauth_clients", &clients)] {
                if ids.is_empty() {
                    continue;
                }
                // GREATEST keeps a newer stamp written by another process.
                sqlx::query(&format!(
                    "UPDATE {table} t SET last_used_at = GREATEST(t.last_used_at, u.at)
                     FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at)
                     WHERE t.id = u.id"
                ))
                .bind(ids)
                .bind(ats)
                .execute(pool)
                .await?;
            }
            Ok::<_, sqlx::Error>(())
        }
        .await;
        match written {
            Ok(()) => Ok(batch.len()),
            Err(e) => {
                for ((kind, id), at) in batch {
                    self.record(kind, id, at);
                }
                Err(e)
            }
        }
    }

    /// Flushes every `interval` until the process ends.
    pub fn spawn(&self, pool: PgPool, interval: Duration) -> tokio::task::JoinHandle<()> {
        let recorder = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = recorder.flush(&pool).await {
                    tracing::warn!(error = %e, backlog = recorder.backlog(), "could not record credential usage; will retry");
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_keeps_the_latest_stamp_per_credential() {
        let r = UsageRecorder::new();
        let id = Uuid::new_v4();
        let t0 = OffsetDateTime::now_utc();
        r.record(Credential::ApiKey, id, t0 + time::Duration::seconds(5));
        r.record(Credential::ApiKey, id, t0);
        r.record(Credential::OAuthClient, id, t0);
        assert_eq!(r.backlog(), 2);
        // Another thread records into a shard of its own; taking merges them.
        let other = r.clone();
        std::thread::spawn(move || {
            other.record(Credential::ApiKey, id, t0 + time::Duration::seconds(9));
            other.record(Credential::OAuthClient, id, t0 - time::Duration::seconds(9));
        })
        .join()
        .unwrap();
        assert_eq!(r.backlog(), 4);
        let seen = r.take();
        assert_eq!(seen.len(), 2);
        assert_eq!(
            seen[&(Credential::ApiKey, id)],
            t0 + time::Duration::seconds(9)
        );
        assert_eq!(seen[&(Credential::OAuthClient, id)], t0);
        assert_eq!(r.backlog(), 0);
    }
}
