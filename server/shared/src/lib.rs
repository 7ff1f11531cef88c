//! The vocabulary that both planes share, so that neither owns it: the API key
//! format and digest, access-token (JWT) signing and verification, the change
//! channel gateways listen on, the latency buckets of telemetry, and the
//! batched "last used" stamps that the gateway and the token endpoint both write,
//! and the upstream policy that both enforce.
//!
//! Nothing here knows about HTTP; only [`usage`] talks to PostgreSQL.

pub mod api_key;
pub mod jwt;
pub mod metrics;
pub mod notify;
pub mod shard;
pub mod source;
pub mod telemetry;
pub mod upstream;
pub mod usage;

/// The maps the request path reads and updates: foldhash rather than SipHash,
/// which showed in the gateway's profile. Their keys are ids Steward issued or a
/// lookup id already checked against the key format, and the seed is random per
/// process.
pub type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
