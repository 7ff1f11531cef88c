//! The gateway over real TCP: a real upstream started by the test, the policy
//! snapshot built from the real database, and changes arriving by NOTIFY. The
//! harness is `steward_tests::gateway`.

mod paths;
mod policies;
mod resilience;
mod telemetry;
mod tls;
mod upstreams;
mod wire;
