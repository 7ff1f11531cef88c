//! Why each check's change matters to the clients of an API, and what its
//! owner can do instead, in one line each. Worked out from what a check id
//! says (where: request or response; what: removed, tightened, loosened), so
//! that every check has words, and new checks get them from the same rules.

use super::Check;
use steward_model::Level;

/// A check's why and what-to-do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guidance {
    pub why: &'static str,
    pub fix: &'static str,
}

const fn g(why: &'static str, fix: &'static str) -> Guidance {
    Guidance { why, fix }
}

/// Said of a breaking or potentially breaking change no rule below describes;
/// a test keeps every such check out of it.
pub const GENERAL: Guidance = g(
    "Clients built against the previous version may fail against this one.",
    "Release the change in a new major version, or ask a reviewer for a waiver that says why clients can take it.",
);

const HARMLESS: Guidance = g(
    "Existing clients keep working: nothing they send or read changes meaning.",
    "Nothing is required; mention it in the changelog so that clients can make use of it.",
);

const DEPRECATED: Guidance = g(
    "Clients keep working until the sunset date, and the gateway tells them so with Deprecation and Sunset headers.",
    "Tell the consumers who still call it (the Deprecations page names them) the sunset date and the successor.",
);

const NEWLY_REQUIRED: Guidance = g(
    "Clients written for the previous version do not send it, so their requests are refused.",
    "Make it optional with a server-side default, or introduce it in a new major version.",
);

/// The rules, most specific first: the id fragments a check's id must all
/// contain, and the words for it.
const RULES: &[(&[&str], Guidance)] = &[
    (
        &["removed-without-deprecation"],
        g(
            "Clients still calling it get errors with no warning period to migrate.",
            "Restore it, mark it deprecated with an x-sunset date, and remove it after that date.",
        ),
    ),
    (
        &["removed-before-sunset"],
        g(
            "It was promised until its sunset date; clients planning against that date break early.",
            "Keep it until its sunset date, then remove it.",
        ),
    ),
    (
        &["sunset-date-changed-too-small"],
        g(
            "Clients planned their migration against the date that was announced.",
            "Keep the announced sunset date, or give at least the notice that was promised.",
        ),
    ),
    (
        &["sunset-parse"],
        g(
            "Nobody can read the sunset date, so clients are not warned in time.",
            "Write x-sunset as a date (2027-06-30) or an RFC 3339 date-time.",
        ),
    ),
    (
        &["sunset-invalid"],
        g(
            "Nobody can read the sunset date, so clients are not warned in time.",
            "Write x-sunset as a date (2027-06-30) or an RFC 3339 date-time.",
        ),
    ),
    (
        &["sunset-date-too-small"],
        g(
            "The announced sunset date has already passed, so clients get no notice at all.",
            "Announce a sunset date far enough ahead for consumers to migrate.",
        ),
    ),
    (
        &["sunset-deleted"],
        g(
            "Clients lose the date they plan their migration against.",
            "Keep the sunset date while the operation stays deprecated.",
        ),
    ),
    (
        &["invalid-stability-level"],
        g(
            "Tools cannot tell how stable the operation is, so clients cannot judge the risk.",
            "Use one of draft, alpha, beta or stable for x-stability-level.",
        ),
    ),
    (
        &["stability-decreased"],
        g(
            "Clients chose the operation for the stability it declared.",
            "Keep it stable, and publish the less settled design as a new operation or version.",
        ),
    ),
    (
        &["operation-id"],
        g(
            "SDKs name their methods after operationId, so generated clients stop compiling.",
            "Keep the operationId; rename it only in a new major version.",
        ),
    ),
    (
        &["webhook-removed"],
        g(
            "Partners registered for the event stop receiving it without notice.",
            "Deprecate the webhook first and remove it after its sunset date, or in a new major version.",
        ),
    ),
    (
        &["security-removed"],
        g(
            "Clients that authenticate with the removed scheme are refused, or the operation opens to callers it kept out.",
            "Keep the scheme as an alternative until consumers have moved, and review who may now call it.",
        ),
    ),
    (
        &["security"],
        g(
            "Existing credentials lack the new scheme or scope, so their calls get 401 or 403.",
            "Grant the scope to existing subscriptions before publishing, or add the requirement as an alternative.",
        ),
    ),
    // Requests: what clients send today must stay acceptable.
    (&["new-required-request"], NEWLY_REQUIRED),
    (&["request-", "became-required"], NEWLY_REQUIRED),
    (&["request-", "added-required"], NEWLY_REQUIRED),
    (
        &["request-", "default-value"],
        g(
            "Clients that leave the value out get different behaviour without changing anything.",
            "Keep the default; if it must change, have clients send the value explicitly first.",
        ),
    ),
    (
        &["request-", "read-only"],
        g(
            "Clients that send the field have it refused or silently ignored.",
            "Keep the field writable until clients stop sending it, or change it in a new major version.",
        ),
    ),
    (
        &["request-", "removed"],
        g(
            "Clients that still send it are refused, or have it silently ignored.",
            "Keep accepting it (deprecate it, and ignore it if you must), or remove it in a new major version.",
        ),
    ),
    (
        &["request-"],
        g(
            "Values clients send today may no longer be valid, so some of their requests are refused.",
            "Keep accepting what was valid before; tighten the rule only in a new major version.",
        ),
    ),
    // Responses: what clients read must keep its guarantees.
    (
        &["response-", "removed"],
        g(
            "Clients that read it get nothing, and may fail to parse the answer or act on a missing value.",
            "Keep returning it (deprecate it first), or remove it in a new major version.",
        ),
    ),
    (
        &["response-", "enum-value-added"],
        g(
            "Clients with exhaustive handling meet a value they were not written for.",
            "Mark the enum x-extensible-enum so that clients tolerate new values, or add the value in a new major version.",
        ),
    ),
    (
        &["response-", "-of-added"],
        g(
            "Clients meet a shape of answer they were not written to parse.",
            "Return the new shape under a new field or media type, or in a new major version.",
        ),
    ),
    (
        &["response-", "became-optional"],
        g(
            "Clients that rely on it being there fail when it is missing.",
            "Keep returning it every time, or make it optional in a new major version.",
        ),
    ),
    (
        &["response-", "nullable"],
        g(
            "Clients that rely on a value fail on null.",
            "Keep it non-null, or add a new nullable field beside it.",
        ),
    ),
    (
        &["response-", "type"],
        g(
            "Clients parse the field as the old type, and fail or misread the new one.",
            "Add a new field with the new type and deprecate the old one.",
        ),
    ),
    (
        &["response-"],
        g(
            "Answers may now hold values clients were told could not occur (longer, larger, more, or of another form).",
            "Keep the guarantee the previous version gave, or loosen it in a new major version and tell consumers.",
        ),
    ),
];

/// What to say about changes `check` reports.
pub fn guidance(check: &Check) -> Guidance {
    if check.level == Level::Info {
        return if check.id.contains("deprecated") {
            DEPRECATED
        } else {
            HARMLESS
        };
    }
    RULES
        .iter()
        .find(|(fragments, _)| fragments.iter().all(|f| check.id.contains(f)))
        .map(|(_, words)| *words)
        .unwrap_or(GENERAL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::{CHECKS, find};

    #[test]
    fn every_breaking_check_says_why_and_what_to_do() {
        let general: Vec<&str> = CHECKS
            .iter()
            .filter(|c| c.level != Level::Info && guidance(c) == GENERAL)
            .map(|c| c.id)
            .collect();
        assert_eq!(
            general,
            Vec::<&str>::new(),
            "checks without words of their own"
        );
    }

    #[test]
    fn the_words_fit_where_the_change_is() {
        let why = |id: &str| guidance(find(id).unwrap_or_else(|| panic!("{id}"))).why;
        assert!(why("request-parameter-became-required").contains("do not send it"));
        assert!(why("response-required-property-removed").contains("get nothing"));
        assert!(why("request-property-max-length-decreased").contains("no longer be valid"));
        assert!(why("response-property-enum-value-added").contains("exhaustive"));
        assert!(why("api-removed-without-deprecation").contains("no warning"));
        assert!(why("endpoint-added").contains("keep working"));
    }
}
