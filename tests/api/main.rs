//! End-to-end tests of the control plane over real HTTP and real PostgreSQL. All
//! modules build into one test binary.

#![expect(
    clippy::unwrap_used,
    reason = "a test should stop at the first surprise"
)]

mod architecture;
mod audit;
mod auth;
mod demo;
mod gateway;
mod health;
mod oauth;
mod partners;
mod problems;
mod rbac;
mod registry;
mod slo;
mod spec;
mod startup;
mod teams_and_users;
mod tokens;
