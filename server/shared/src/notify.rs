//! The change announcements a gateway listens for. The control plane `NOTIFY`s
//! on [`CHANNEL`] inside the transaction that made a change; PostgreSQL delivers
//! it only when that transaction commits, so a gateway never sees a change that
//! was rolled back.

/// The PostgreSQL channel gateways `LISTEN` on.
pub const CHANNEL: &str = "steward_policy";

/// What changed. The payload is small JSON: `{"kind": "...", "id": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Key,
    OAuthClient,
    Subscription,
    Plan,
    SigningKey,
    Version,
    UpstreamPolicy,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Key => "key",
            Kind::OAuthClient => "oauth_client",
            Kind::Subscription => "subscription",
            Kind::Plan => "plan",
            Kind::SigningKey => "signing_key",
            Kind::Version => "version",
            Kind::UpstreamPolicy => "upstream_policy",
        }
    }
}
