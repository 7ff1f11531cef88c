//! The upstream answer-head parser and its framing decision on arbitrary bytes.

fn main() {
    afl::fuzz!(|data: &[u8]| steward_gateway::wire::client::fuzzing::answer_head(data));
}
