//! Contract engines (pure: no I/O, no async, no database): loading OpenAPI 3.0
//! documents with precise error locations, the governance lint, and the
//! breaking-change diff. Used by the registry, the admin API and the CLI.

pub mod catalogue;
pub mod diff;
pub mod lint;
pub mod loader;
pub mod resolve;

pub use loader::Contract;
