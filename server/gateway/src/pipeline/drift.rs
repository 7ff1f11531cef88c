//! Contract drift: in report mode, one upstream response in [`SAMPLE_EVERY`] is
//! checked against the contract's response schema. Mismatches wait in a bounded
//! queue and are written with the telemetry flush, so owners can see "responses
//! that do not match the contract" with examples before they enforce anything.
//! Examples are live customer data: by default only their shape is kept, every
//! value replaced by a placeholder of its type ([`Examples`]) (data plane).

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

/// What a drift report keeps of the offending body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Examples {
    /// Nothing: the violations alone.
    Off,
    /// The body's shape: keys and types, every value replaced.
    #[default]
    Redacted,
    /// The body as it came (truncated): for test environments.
    Full,
}

impl Examples {
    pub fn parse(text: &str) -> Option<Examples> {
        match text {
            "off" => Some(Examples::Off),
            "redacted" => Some(Examples::Redacted),
            "full" => Some(Examples::Full),
            _ => None,
        }
    }

    /// The example to keep of `body`, at most [`EXAMPLE_BYTES`] long.
    pub fn of(self, body: &[u8]) -> String {
        let text = match self {
            Examples::Off => return String::new(),
            Examples::Full => String::from_utf8_lossy(body).into_owned(),
            Examples::Redacted => match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(value) => redact(value).to_string(),
                Err(_) => "(not JSON)".to_string(),
            },
        };
        let mut end = text.len().min(EXAMPLE_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text[..end].to_string()
    }
}

/// The value's shape: objects keep their keys, arrays their first three
/// items, strings become their length, numbers zero, booleans false.
fn redact(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, redact(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().take(3).map(redact).collect()),
        Value::String(s) => Value::String(format!("<{} chars>", s.chars().count())),
        Value::Number(n) if n.is_f64() => Value::from(0.0),
        Value::Number(_) => Value::from(0),
        Value::Bool(_) => Value::Bool(false),
        Value::Null => Value::Null,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_examples_keep_the_shape_and_nothing_else() {
        let body = br#"{"customer": {"email": "ada@example.com", "vip": true}, "total": 129.5,
            "lines": [{"sku": "A-1", "qty": 2}, {"sku": "B-2", "qty": 1}, {}, {}], "note": null}"#;
        let shown = Examples::Redacted.of(body);
        assert!(
            !shown.contains("ada@example.com") && !shown.contains("A-1"),
            "{shown}"
        );
        let value: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(value["customer"]["email"], "<15 chars>");
        assert_eq!(value["customer"]["vip"], false);
        assert_eq!(value["total"], 0.0);
        assert_eq!(value["lines"].as_array().unwrap().len(), 3);
        assert_eq!(value["lines"][0]["qty"], 0);
        assert!(value["note"].is_null());
        assert_eq!(Examples::Off.of(body), "");
        assert!(Examples::Full.of(body).contains("ada@example.com"));
        assert!(Examples::Full.of(&[b'x'; 5000]).len() <= EXAMPLE_BYTES);
    }
}
