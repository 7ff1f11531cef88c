//! One module per console page.

pub mod account;
pub mod api_detail;
pub mod apis;
pub mod audit;
pub mod not_found;
pub mod overview;
pub mod placeholder;
pub mod settings;
pub mod sign_in;
pub mod version;
