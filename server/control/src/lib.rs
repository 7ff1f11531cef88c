//! Steward's control plane: the services of each aggregate and the admin REST
//! API over them. Everything here runs beside PostgreSQL, the one system of
//! record; the console's server functions call the same services.
//!
//! Services by aggregate: `auth` (users, sessions, tokens, roles), `registry`
//! (APIs, versions, lifecycle), `partners` (consumers, plans, subscriptions,
//! keys), `oauth` (the token server), `slo`, `traffic`, `overview`, and `audit`
//! (the hash-chained trail every command writes to). `admin` is the REST glue;
//! `db` prepares the database and `demo` seeds the demo organisation.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cpu;
pub mod db;
pub mod demo;
pub mod error;
pub mod notify;
pub mod oauth;
pub mod overview;
pub mod partners;
pub mod registry;
pub mod sealing;
pub mod slo;
pub mod state;
pub mod traffic;
pub mod upstreams;

pub use state::AppState;
