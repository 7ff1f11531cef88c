//! Partner access (control plane): who may call which API, under which plan, with
//! which credentials. Consumers own applications; applications hold subscriptions
//! to API major lines and the credentials (API keys, OAuth2 clients) the gateway
//! checks. Every command runs in one transaction with its audit entry, and
//! changes the gateway must see at once are announced with `NOTIFY`.

pub mod applications;
pub mod clients;
pub mod consumers;
pub mod keys;
pub mod plans;
pub mod subscriptions;

use crate::error::Result;

/// Consumers, applications, plans and credentials are managed by admins only:
/// they grant access to other teams' APIs, so no single team may hand them out.
pub use crate::auth::policy::admin as require_admin;

/// Serialises a view for the audit trail. Views never hold secrets.
pub(crate) fn snapshot<T: serde::Serialize>(value: &T) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(value).map_err(anyhow::Error::from)?)
}
