//! The breaking-change diff on two arbitrary documents (split at the first NUL
//! byte): both loaded as the CLI loads them, compared both ways, and rendered.

use steward_contracts::diff::{DiffOptions, diff, to_markdown};
use steward_contracts::loader::load_for_diff;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Some(at) = data.iter().position(|&b| b == 0) else {
            return;
        };
        let (Ok(base), Ok(revision)) = (
            std::str::from_utf8(&data[..at]),
            std::str::from_utf8(&data[at + 1..]),
        ) else {
            return;
        };
        let (Ok(base), Ok(revision)) = (
            load_for_diff(base.to_string()),
            load_for_diff(revision.to_string()),
        ) else {
            return;
        };
        let options = DiffOptions::default();
        let _ = to_markdown(&diff(&base.doc, &revision.doc, &options));
        // A document compared with itself has nothing to report.
        assert!(
            diff(&base.doc, &base.doc, &options).is_empty(),
            "a document differs from itself"
        );
        let _ = diff(&revision.doc, &base.doc, &options);
    });
}
