//! Summaries and human-readable renderings of a change list: Markdown for
//! pull-request comments and plain text for terminals and CI logs (pure: no I/O).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use steward_model::{Change, Level};

/// Number of changes per level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

pub fn summary(changes: &[Change]) -> Summary {
    tally(changes)
}

fn tally<'c>(changes: impl IntoIterator<Item = &'c Change>) -> Summary {
    let mut summary = Summary::default();
    for change in changes {
        match change.level {
            Level::Error => summary.error += 1,
            Level::Warning => summary.warning += 1,
            Level::Info => summary.info += 1,
        }
    }
    summary
}

/// The most severe level present, `None` for no changes; CI gates on this.
pub fn worst(changes: &[Change]) -> Option<Level> {
    changes.iter().map(|c| c.level).max()
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "info",
    }
}

/// Collapses line breaks so a value from the document cannot break the
/// one-line-per-change or one-row-per-change layouts.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn counts(summary: Summary) -> String {
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    format!(
        "{}, {}, {} info",
        plural(summary.error, "error"),
        plural(summary.warning, "warning"),
        summary.info
    )
}

/// One line per change: `error   GET /orders/{} request-parameter-removed: …`.
pub fn to_text(changes: &[Change]) -> String {
    let mut out = String::new();
    for change in changes {
        let operation = match &change.operation {
            Some(op) => format!("{} ", one_line(op)),
            None => String::new(),
        };
        out.push_str(&format!(
            "{:<7} {operation}{}: {}\n",
            level_name(change.level),
            one_line(&change.id),
            one_line(&change.text)
        ));
    }
    out
}

/// Escapes text for a Markdown table cell.
fn cell(text: &str) -> String {
    one_line(text).replace('\\', "\\\\").replace('|', "\\|")
}

/// A Markdown comment: a heading with the counts, then one section per
/// operation (in order of first appearance) with a table of its changes.
pub fn to_markdown(changes: &[Change]) -> String {
    let mut out = format!("## API changes: {}\n", counts(summary(changes)));
    if changes.is_empty() {
        out.push_str("\nNo changes.\n");
        return out;
    }
    let mut groups: IndexMap<Option<&str>, Vec<&Change>> = IndexMap::new();
    for change in changes {
        groups
            .entry(change.operation.as_deref())
            .or_default()
            .push(change);
    }
    for (operation, group) in groups {
        let title = match operation {
            // Backticks inside a code span would end it early.
            Some(op) => format!("`{}`", one_line(op).replace('`', "'")),
            None => "Document".to_string(),
        };
        out.push_str(&format!(
            "\n### {title} ({})\n\n",
            counts(tally(group.iter().copied()))
        ));
        out.push_str("| Level | Check | Change |\n| --- | --- | --- |\n");
        for change in group {
            out.push_str(&format!(
                "| {} | `{}` | {} |\n",
                level_name(change.level),
                cell(&change.id).replace('`', "'"),
                cell(&change.text)
            ));
        }
    }
    out
}
