//! Contract drift: in report mode, one upstream response in [`SAMPLE_EVERY`] is
//! checked against the contract's response schema. Mismatches wait in a bounded
//! queue and are written with the telemetry flush, so owners can see "responses
//! that do not match the contract" with examples before they enforce anything (data plane).

use crate::snapshot::validate::Violation;
use anyhow::Result;
use sqlx::PgPool;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use uuid::Uuid;

pub const SAMPLE_EVERY: u64 = 100;
/// Mismatches kept while waiting for a flush; more are counted, not stored.
const QUEUE: usize = 1000;
/// Examples are for humans; a few kilobytes show the shape.
pub const EXAMPLE_BYTES: usize = 2048;

#[derive(Debug, Clone)]
pub struct Mismatch {
    pub version: Uuid,
    pub operation: String,
    pub status: u16,
    pub violations: Vec<Violation>,
    pub example: String,
}

#[derive(Debug, Default)]
pub struct Drift {
    counter: AtomicU64,
    queue: Mutex<Vec<Mismatch>>,
    overflow: AtomicU64,
}

impl Drift {
    /// Whether this response is in the sample.
    pub fn sample(&self) -> bool {
        self.counter
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(SAMPLE_EVERY)
    }

    pub fn push(&self, m: Mismatch) {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() < QUEUE {
            q.push(m);
        } else {
            self.overflow.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub async fn flush(&self, pool: &PgPool) -> Result<usize> {
        let batch = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()));
        if batch.is_empty() {
            return Ok(0);
        }
        let n = batch.len();
        let versions: Vec<Uuid> = batch.iter().map(|m| m.version).collect();
        let operations: Vec<String> = batch.iter().map(|m| m.operation.clone()).collect();
        let statuses: Vec<i32> = batch.iter().map(|m| i32::from(m.status)).collect();
        let violations: Vec<serde_json::Value> = batch
            .iter()
            .map(|m| serde_json::to_value(&m.violations).unwrap_or_default())
            .collect();
        let examples: Vec<String> = batch.iter().map(|m| m.example.clone()).collect();
        let written = sqlx::query(
            "INSERT INTO contract_drift (version_id, operation, status, violations, example)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::jsonb[], $5::text[])",
        )
        .bind(&versions)
        .bind(&operations)
        .bind(&statuses)
        .bind(&violations)
        .bind(&examples)
        .execute(pool)
        .await;
        match written {
            Ok(_) => Ok(n),
            Err(e) => {
                // Drift reports are diagnostics: on failure keep what fits, drop the rest.
                for m in batch {
                    self.push(m);
                }
                Err(e.into())
            }
        }
    }
}
