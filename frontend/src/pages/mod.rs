//! One module per console page.

pub mod account;
pub mod api_detail;
pub mod api_traffic;
pub mod apis;
pub mod audit;
pub mod consumer;
pub mod consumers;
pub mod contract;
pub mod deprecations;
pub mod gateways;
pub mod not_found;
pub mod overview;
pub mod plans;
pub mod reviews;
pub mod settings;
pub mod sign_in;
pub mod slo;
pub mod slos;
pub mod subscriptions;
pub mod version;
