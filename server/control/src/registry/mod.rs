//! Contract registry (control plane): APIs owned by teams, immutable contract
//! versions with lint results and breaking-change reports, and the review and
//! lifecycle workflow that decides what the gateway may serve.

pub mod access;
pub mod apis;
pub mod lifecycle;
pub mod lint_settings;
pub mod rules;
pub mod semver;
pub mod versions;
