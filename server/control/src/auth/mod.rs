//! Console identity (control plane): users, teams, personal access tokens, sign-in
//! with throttling, the request authentication middleware, CSRF defence and the
//! role policy that every command consults.

pub mod csrf;
pub mod password;
pub mod policy;
pub mod principal;
pub mod session;
pub mod teams;
pub mod throttle;
pub mod tokens;
pub mod users;
