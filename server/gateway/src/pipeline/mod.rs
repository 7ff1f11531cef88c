//! The request pipeline (data plane), in Pingora's phase names: resolve,
//! lifecycle, authenticate, authorize, limit, validate, forward, and respond and
//! record. [`proxy`] is the thin glue that runs the phases in order; [`policy`]
//! holds the decisions, each a pure function of the snapshot and the request, so
//! they are tested without I/O.

pub mod drift;
pub mod forward;
pub mod policy;
pub mod problem;
pub mod proxy;
pub mod ratelimit;
pub mod resilience;
pub mod target;
