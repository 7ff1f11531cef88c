//! The gateway's request-head parser on arbitrary bytes (see
//! `steward_gateway::wire::connection::fuzz_request_head` for the invariants).

fn main() {
    afl::fuzz!(|data: &[u8]| steward_gateway::wire::connection::fuzz_request_head(data));
}
