//! Service level objectives (control plane): definitions per API, optionally
//! narrowed to a version, an operation or an application, and their status over
//! a rolling window, computed from the gateways' minute aggregates.

pub mod alerts;
pub mod compute;
pub mod definitions;
pub mod openslo;
pub mod series;
