//! The chunked body decoder: the same verdict and body whatever the read boundaries.

fn main() {
    afl::fuzz!(|data: &[u8]| steward_gateway::wire::client::fuzzing::chunked(data));
}
