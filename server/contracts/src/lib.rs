//! Contract engines (pure: no I/O, no async, no database): loading OpenAPI 3.0
//! and 3.1 documents with precise error locations, the governance lint, the
//! breaking-change diff, and schemas as JSON Schema for validation. Used by the
//! registry, the admin API, the gateway and the CLI.

pub mod catalogue;
pub mod diff;
pub mod json_schema;
pub mod lint;
pub mod loader;
pub mod outline;
pub mod resolve;
pub mod yaml;

pub use loader::Contract;
