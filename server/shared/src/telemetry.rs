//! The latency histogram's buckets: gateways record into them, and the control
//! plane's SLOs and traffic views read them back, so both must agree on them.

/// Upper bounds of the latency buckets, in milliseconds; one more bucket above.
/// Latency SLO thresholds are chosen among these, so compliance is exact.
pub const BOUNDS_MS: [u64; 15] = [
    5, 10, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000,
];
pub const BUCKETS: usize = BOUNDS_MS.len() + 1;
