//! Telemetry: one sample per request into an in-memory aggregator keyed by
//! (minute, version, operation, application, status class), with a latency
//! histogram, sharded by thread (see `steward_shared::shard`). A background task flushes
//! everything in one batched upsert; no request ever waits for it. Each batch
//! carries an id written in the same transaction, so a batch whose commit was
//! answered by a dead connection is sent again without being counted twice.
//!
//! While PostgreSQL is away the aggregates stay in memory, up to [`RETAIN`] of
//! them; older minutes are dropped and counted, so memory stays bounded and the
//! loss is visible on `/metrics` and `/readyz`.

use crate::FastMap;
use anyhow::Result;
use sqlx::PgPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use steward_shared::shard::{self, Shard};
use uuid::Uuid;

pub use steward_shared::telemetry::{BOUNDS_MS, BUCKETS};
/// How much unflushed history a gateway keeps while the database is away.
pub const RETAIN: Duration = Duration::from_secs(15 * 60);
const SHARDS: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub minute: i64,
    pub version: Uuid,
    pub api: Uuid,
    pub operation: Arc<str>,
    pub application: Uuid,
    pub class: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregate {
    pub requests: u64,
    pub latency_sum_us: u64,
    pub buckets: [u64; BUCKETS],
}

impl Default for Aggregate {
    fn default() -> Self {
        Aggregate {
            requests: 0,
            latency_sum_us: 0,
            buckets: [0; BUCKETS],
        }
    }
}

impl Aggregate {
    fn merge(&mut self, other: &Aggregate) {
        self.requests += other.requests;
        self.latency_sum_us += other.latency_sum_us;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *a += b;
        }
    }
}

pub fn bucket_of(latency: Duration) -> usize {
    let us = latency.as_micros() as u64;
    BOUNDS_MS
        .iter()
        .position(|b| us <= b * 1000)
        .unwrap_or(BOUNDS_MS.len())
}

#[derive(Debug)]
pub struct Telemetry {
    shards: Vec<Shard<FastMap<Key, Aggregate>>>,
    /// Since the process started, by (API, status class), for `/metrics`.
    totals: Vec<Shard<FastMap<(Uuid, u8), Aggregate>>>,
    /// A batch sent without an answer, kept apart until it is acknowledged.
    unacked: Mutex<Option<Batch>>,
    dropped: AtomicU64,
    flushed: AtomicU64,
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            totals: (0..SHARDS).map(|_| Shard::default()).collect(),
            unacked: Mutex::new(None),
            dropped: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
        }
    }
}

impl Telemetry {
    pub fn record(&self, key: Key, latency: Duration) {
        let bucket = bucket_of(latency);
        let us = latency.as_micros() as u64;
        let mine = shard::of_this_thread(SHARDS);
        {
            let mut totals = self.totals[mine].lock();
            let agg = totals.entry((key.api, key.class)).or_default();
            agg.requests += 1;
            agg.latency_sum_us += us;
            agg.buckets[bucket] += 1;
        }
        let mut map = self.shards[mine].lock();
        let agg = map.entry(key).or_default();
        agg.requests += 1;
        agg.latency_sum_us += us;
        agg.buckets[bucket] += 1;
    }

    /// Counts since the process started, by (API, status class).
    pub fn totals(&self) -> Vec<((Uuid, u8), Aggregate)> {
        let mut all: FastMap<(Uuid, u8), Aggregate> = FastMap::default();
        for shard in &self.totals {
            for (key, agg) in shard.lock().iter() {
                all.entry(*key).or_default().merge(agg);
            }
        }
        let mut all: Vec<_> = all.into_iter().collect();
        all.sort_by_key(|(k, _)| *k);
        all
    }

    /// Aggregates waiting to be written.
    pub fn backlog(&self) -> usize {
        let held = (self.unacked.lock().unwrap_or_else(|e| e.into_inner()))
            .as_ref()
            .map_or(0, |b| b.rows.len());
        held + self.shards.iter().map(|s| s.lock().len()).sum::<usize>()
    }

    /// Samples given up because the database was away for longer than [`RETAIN`].
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn flushed(&self) -> u64 {
        self.flushed.load(Ordering::Relaxed)
    }

    fn take(&self) -> FastMap<Key, Aggregate> {
        let mut all: FastMap<Key, Aggregate> = FastMap::default();
        for shard in &self.shards {
            let part = std::mem::take(&mut *shard.lock());
            // Workers record into shards of their own: one key can be in several.
            for (key, agg) in part {
                all.entry(key).or_default().merge(&agg);
            }
        }
        all
    }

    /// The next batch to write: the unacknowledged one if there is one, as it
    /// was (same id, same counts), otherwise everything recorded so far under a
    /// new id. `None` when there is nothing to write.
    pub fn next_batch(&self) -> Option<Batch> {
        if let Some(held) = self
            .unacked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            return Some(held);
        }
        let rows = self.take();
        (!rows.is_empty()).then(|| Batch {
            id: Uuid::new_v4(),
            rows,
            retry: false,
        })
    }

    /// Keeps a batch whose write failed, to be sent again under its id before
    /// anything newer; minutes beyond [`RETAIN`] are given up and counted, here
    /// and in what was recorded since.
    pub fn hold(&self, mut batch: Batch, now_minute: i64) {
        let oldest = now_minute - (RETAIN.as_secs() / 60) as i64;
        let mut dropped = 0;
        let mut expire = |rows: &mut FastMap<Key, Aggregate>| {
            rows.retain(|key, agg| {
                let keep = key.minute >= oldest;
                if !keep {
                    dropped += agg.requests;
                }
                keep
            })
        };
        expire(&mut batch.rows);
        for shard in &self.shards {
            expire(&mut shard.lock());
        }
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
        if !batch.rows.is_empty() {
            batch.retry = true;
            *self.unacked.lock().unwrap_or_else(|e| e.into_inner()) = Some(batch);
        }
    }

    /// Writes everything recorded so far. A batch whose outcome is unknown (the
    /// connection died around its commit) is sent again first, under the same
    /// id, so it is counted once whether or not the first attempt landed; then
    /// what was recorded meanwhile goes as a batch of its own. On failure the
    /// data stays in memory (within [`RETAIN`]) for the next attempt.
    pub async fn flush(&self, pool: &PgPool) -> Result<usize> {
        let mut rows = 0;
        while let Some(batch) = self.next_batch() {
            match batch.write(pool).await {
                Ok(_) => {
                    rows += batch.rows.len();
                    self.flushed.fetch_add(batch.requests(), Ordering::Relaxed);
                    if !batch.retry {
                        break;
                    }
                }
                Err(e) => {
                    self.hold(batch, time::OffsetDateTime::now_utc().unix_timestamp() / 60);
                    return Err(e);
                }
            }
        }
        Ok(rows)
    }
}

/// Aggregates taken out of memory together, written in one transaction under
/// one id.
#[derive(Debug)]
pub struct Batch {
    pub id: Uuid,
    pub rows: FastMap<Key, Aggregate>,
    /// Sent before without an answer.
    retry: bool,
}

impl Batch {
    pub fn requests(&self) -> u64 {
        self.rows.values().map(|a| a.requests).sum()
    }

    /// Writes the batch unless its id shows it was written already; says whether
    /// this call wrote it. One transaction: the id and the counts land together
    /// or not at all.
    pub async fn write(&self, pool: &PgPool) -> Result<bool> {
        let n = self.rows.len();
        let mut minutes = Vec::with_capacity(n);
        let mut versions = Vec::with_capacity(n);
        let mut apis = Vec::with_capacity(n);
        let mut operations = Vec::with_capacity(n);
        let mut applications = Vec::with_capacity(n);
        let mut classes = Vec::with_capacity(n);
        let mut requests = Vec::with_capacity(n);
        let mut sums = Vec::with_capacity(n);
        // Postgres arrays of arrays must be rectangular: pass the histograms as
        // one flat array and slice it back into rows in SQL.
        let mut buckets = Vec::with_capacity(n * BUCKETS);
        for (key, agg) in &self.rows {
            minutes.push(key.minute * 60);
            versions.push(key.version);
            apis.push(key.api);
            operations.push(key.operation.to_string());
            applications.push(key.application);
            classes.push(i16::from(key.class));
            requests.push(agg.requests as i64);
            sums.push(agg.latency_sum_us as i64);
            buckets.extend(agg.buckets.iter().map(|b| *b as i64));
        }
        let mut tx = pool.begin().await?;
        // A retry of a batch whose first attempt is still committing waits here
        // on the id's row lock, then sees the outcome.
        let first =
            sqlx::query("INSERT INTO telemetry_batches (id) VALUES ($1) ON CONFLICT DO NOTHING")
                .bind(self.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if first {
            sqlx::query(
                "INSERT INTO traffic_minutes AS t (minute, version_id, api_id, operation, application_id,
                                                   status_class, requests, latency_sum_us, latency_buckets)
                 SELECT to_timestamp(r.minute), r.version, r.api, r.operation, r.application, r.class,
                        r.requests, r.sum, $9[(r.ord - 1) * $10 + 1 : r.ord * $10]
                 FROM unnest($1::bigint[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::smallint[],
                             $7::bigint[], $8::bigint[])
                      WITH ORDINALITY AS r(minute, version, api, operation, application, class, requests, sum, ord)
                 ON CONFLICT (minute, version_id, operation, application_id, status_class) DO UPDATE SET
                    requests = t.requests + excluded.requests,
                    latency_sum_us = t.latency_sum_us + excluded.latency_sum_us,
                    latency_buckets = ARRAY(SELECT a + b FROM unnest(t.latency_buckets, excluded.latency_buckets) AS x(a, b))",
            )
            .bind(&minutes)
            .bind(&versions)
            .bind(&apis)
            .bind(&operations)
            .bind(&applications)
            .bind(&classes)
            .bind(&requests)
            .bind(&sums)
            .bind(&buckets)
            .bind(BUCKETS as i32)
            .execute(&mut *tx)
            .await?;
        }
        // Ids older than any batch still held anywhere; SKIP LOCKED so that
        // gateways flushing at once do not queue behind each other's cleanup.
        sqlx::query(
            "DELETE FROM telemetry_batches WHERE id IN (
                 SELECT id FROM telemetry_batches WHERE written_at < now() - interval '1 day'
                 LIMIT 1000 FOR UPDATE SKIP LOCKED)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(minute: i64, class: u8) -> Key {
        Key {
            minute,
            version: Uuid::nil(),
            api: Uuid::nil(),
            operation: Arc::from("listOrders"),
            application: Uuid::nil(),
            class,
        }
    }

    #[test]
    fn latencies_fall_into_their_buckets() {
        assert_eq!(bucket_of(Duration::from_micros(4_999)), 0);
        assert_eq!(bucket_of(Duration::from_millis(5)), 0);
        assert_eq!(bucket_of(Duration::from_micros(5_001)), 1);
        assert_eq!(bucket_of(Duration::from_millis(300)), 6);
        assert_eq!(bucket_of(Duration::from_secs(60)), BOUNDS_MS.len());
    }

    #[test]
    fn samples_aggregate_and_old_ones_are_dropped_when_held_back() {
        let t = Telemetry::default();
        for ms in [1, 7, 7, 400] {
            t.record(key(100, 2), Duration::from_millis(ms));
        }
        t.record(key(100, 5), Duration::from_millis(1));
        assert_eq!(t.backlog(), 2);
        let batch = t.next_batch().unwrap();
        let ok = batch.rows[&key(100, 2)];
        assert_eq!(
            (ok.requests, ok.buckets[0], ok.buckets[1], ok.buckets[7]),
            (4, 1, 2, 1)
        );
        // Recorded since, and held back with the batch twenty minutes later:
        // too old to keep, all of it.
        t.record(key(101, 2), Duration::from_millis(1));
        t.hold(batch, 120);
        assert_eq!(t.backlog(), 0);
        assert_eq!(t.dropped(), 6);
        assert!(t.next_batch().is_none());
    }

    #[test]
    fn a_held_batch_goes_again_as_it_was_before_anything_newer() {
        let t = Telemetry::default();
        t.record(key(100, 2), Duration::from_millis(1));
        let first = t.next_batch().unwrap();
        let id = first.id;
        t.record(key(100, 2), Duration::from_millis(1));
        t.record(key(101, 2), Duration::from_millis(1));
        t.hold(first, 101);
        assert_eq!(t.backlog(), 3, "the held row and two new ones");

        let again = t.next_batch().unwrap();
        assert_eq!((again.id, again.requests(), again.retry), (id, 1, true));
        let next = t.next_batch().unwrap();
        assert_ne!(next.id, id, "newer samples go under an id of their own");
        assert_eq!((next.requests(), next.retry), (2, false));
        assert!(t.next_batch().is_none());
        assert_eq!(t.dropped(), 0);
    }

    #[test]
    fn threads_record_apart_and_are_merged_when_read() {
        let t = Arc::new(Telemetry::default());
        t.record(key(100, 2), Duration::from_millis(1));
        let other = t.clone();
        std::thread::spawn(move || other.record(key(100, 2), Duration::from_millis(30)))
            .join()
            .unwrap();
        assert_eq!(t.backlog(), 2, "one entry in each thread's shard");
        let totals = t.totals();
        assert_eq!(totals.len(), 1);
        assert_eq!(totals[0].1.requests, 2);
        let batch = t.next_batch().unwrap();
        assert_eq!(batch.rows.len(), 1);
        let merged = batch.rows[&key(100, 2)];
        assert_eq!(
            (merged.requests, merged.buckets[0], merged.buckets[3]),
            (2, 1, 1)
        );
        assert_eq!(t.backlog(), 0);
    }
}
