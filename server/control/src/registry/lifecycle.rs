//! The version lifecycle as a pure state machine, so every refusal says which state
//! allows the action.

use steward_model::VersionState::{self, *};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    Approve,
    Reject,
    Publish,
    Deprecate,
    Retire,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Submit,
        Action::Approve,
        Action::Reject,
        Action::Publish,
        Action::Deprecate,
        Action::Retire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Publish => "publish",
            Action::Deprecate => "deprecate",
            Action::Retire => "retire",
        }
    }

    /// The one state the action starts from, and the state it leads to.
    pub fn edge(self) -> (VersionState, VersionState) {
        match self {
            Action::Submit => (Draft, InReview),
            Action::Approve => (InReview, Approved),
            Action::Reject => (InReview, Rejected),
            Action::Publish => (Approved, Published),
            Action::Deprecate => (Published, Deprecated),
            Action::Retire => (Deprecated, Retired),
        }
    }
}

/// The next state, or a sentence explaining what is possible instead.
pub fn next(from: VersionState, action: Action) -> Result<VersionState, String> {
    let (required, to) = action.edge();
    if from == required {
        return Ok(to);
    }
    let possible: Vec<&str> = Action::ALL
        .into_iter()
        .filter(|a| a.edge().0 == from)
        .map(Action::as_str)
        .collect();
    let instead = if possible.is_empty() {
        format!("a {from} version allows no further transitions")
    } else {
        format!("a {from} version allows only: {}", possible.join(", "))
    };
    Err(format!(
        "cannot {} a {from} version: {} needs state {required}; {instead}",
        action.as_str(),
        action.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_walks_every_state() {
        let mut s = Draft;
        for a in [
            Action::Submit,
            Action::Approve,
            Action::Publish,
            Action::Deprecate,
            Action::Retire,
        ] {
            s = next(s, a).unwrap_or(s);
        }
        assert_eq!(s, Retired);
    }

    #[test]
    fn illegal_transitions_say_what_is_allowed() {
        let err = next(Draft, Action::Publish).unwrap_err();
        assert!(err.contains("publish needs state approved"), "{err}");
        assert!(err.contains("allows only: submit"), "{err}");
        let err = next(Retired, Action::Deprecate).unwrap_err();
        assert!(err.contains("no further transitions"), "{err}");
        assert_eq!(next(InReview, Action::Reject), Ok(Rejected));
    }
}
