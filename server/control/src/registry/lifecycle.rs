//! The version lifecycle as a pure state machine, so every refusal says which state
//! allows the action (control plane).
//!
//! Besides the way forward, two ways back keep review from dead-ending: an owner
//! may withdraw a version that is in review or approved (back to draft, to fix
//! and submit again), and a reviewer may send an approved version back to review.

use steward_model::VersionState::{self, *};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Submit,
    Approve,
    Reject,
    Publish,
    Deprecate,
    Retire,
    Withdraw,
    SendBack,
}

impl Action {
    pub const ALL: [Action; 8] = [
        Action::Submit,
        Action::Approve,
        Action::Reject,
        Action::Publish,
        Action::Deprecate,
        Action::Retire,
        Action::Withdraw,
        Action::SendBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Publish => "publish",
            Action::Deprecate => "deprecate",
            Action::Retire => "retire",
            Action::Withdraw => "withdraw",
            Action::SendBack => "send-back",
        }
    }

    /// The states the action starts from, and the state it leads to.
    pub fn edge(self) -> (&'static [VersionState], VersionState) {
        match self {
            Action::Submit => (&[Draft], InReview),
            Action::Approve => (&[InReview], Approved),
            Action::Reject => (&[InReview], Rejected),
            Action::Publish => (&[Approved], Published),
            Action::Deprecate => (&[Published], Deprecated),
            Action::Retire => (&[Deprecated], Retired),
            Action::Withdraw => (&[InReview, Approved], Draft),
            Action::SendBack => (&[Approved], InReview),
        }
    }

    /// Whether the action can start from `state`.
    pub fn starts_from(self, state: VersionState) -> bool {
        self.edge().0.contains(&state)
    }

    /// Reviewing actions belong to reviewers who did not upload the version;
    /// the others to those who may edit the API.
    pub fn is_review(self) -> bool {
        matches!(self, Action::Approve | Action::Reject | Action::SendBack)
    }
}

/// The next state, or a sentence explaining what is possible instead.
pub fn next(from: VersionState, action: Action) -> Result<VersionState, String> {
    let (required, to) = action.edge();
    if required.contains(&from) {
        return Ok(to);
    }
    let possible: Vec<&str> = Action::ALL
        .into_iter()
        .filter(|a| a.starts_from(from))
        .map(Action::as_str)
        .collect();
    let instead = if possible.is_empty() {
        format!("a {from} version allows no further transitions")
    } else {
        format!("a {from} version allows only: {}", possible.join(", "))
    };
    let required: Vec<&str> = required.iter().map(|s| s.as_str()).collect();
    Err(format!(
        "cannot {} a {from} version: {} needs state {}; {instead}",
        action.as_str(),
        action.as_str(),
        required.join(" or ")
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

    #[test]
    fn review_never_dead_ends() {
        // Every state before publication has a way forward or back.
        for state in [Draft, InReview, Approved, Rejected] {
            let ways: Vec<_> = Action::ALL
                .into_iter()
                .filter(|a| a.starts_from(state))
                .collect();
            assert!(!ways.is_empty() || state == Rejected, "{state}");
        }
        assert_eq!(next(Approved, Action::Withdraw), Ok(Draft));
        assert_eq!(next(InReview, Action::Withdraw), Ok(Draft));
        assert_eq!(next(Approved, Action::SendBack), Ok(InReview));
        let err = next(Draft, Action::Withdraw).unwrap_err();
        assert!(err.contains("needs state in_review or approved"), "{err}");
    }
}
