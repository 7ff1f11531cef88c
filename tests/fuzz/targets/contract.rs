//! The contract loader (YAML and JSON, OpenAPI 3.0 and 3.1) and the lint on
//! arbitrary text: a contract or an error with a position, never a panic.

use steward_contracts::lint::{LintOptions, lint};
use steward_contracts::loader::load;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(contract) = load(text) {
            let _ = lint(&contract, &LintOptions::default());
        }
    });
}
