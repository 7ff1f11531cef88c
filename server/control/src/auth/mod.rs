//! Console identity (control plane): users, teams, personal access tokens, sign-in
//! with throttling, and the role policy that every command consults. The HTTP
//! middleware that applies them (authentication, CSRF) is in `admin`.

pub mod password;
pub mod policy;
pub mod session;
pub mod teams;
pub mod throttle;
pub mod tokens;
pub mod users;
