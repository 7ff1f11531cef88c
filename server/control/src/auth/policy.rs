//! Who may do what. One place, consulted by the services, so the console and the
//! REST API can never disagree about a permission.

use steward_model::{AppError, Principal, Role};

/// Passes if the caller holds one of `roles`; otherwise a 403 that says what is needed.
pub fn require(who: &Principal, roles: &[Role], doing: &str) -> Result<(), AppError> {
    who.require(roles, doing)
}

pub fn admin(who: &Principal, doing: &str) -> Result<(), AppError> {
    require(who, &[Role::Admin], doing)
}

/// Reading the audit trail is for governance: admins and reviewers.
pub fn audit_reader(who: &Principal) -> Result<(), AppError> {
    require(
        who,
        &[Role::Admin, Role::Reviewer],
        "reading the audit trail",
    )
}
