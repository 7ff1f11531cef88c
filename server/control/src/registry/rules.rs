//! The registry's release rules as pure functions (control plane): whether a
//! reviewer's waiver can apply, and whether an approved version may be published
//! over the live one. The services load the facts and call these, so every rule
//! is tested here without a database.

use super::semver::SemVer;

/// The facts about a version that the release rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release<'a> {
    pub version: &'a str,
    pub semver: SemVer,
}

/// A waiver accepts breaking changes, so it goes with an approval and only
/// where there is something to waive. `breaking` is the report's error count,
/// `None` when there was no base to compare with. Errors name the form field.
pub fn waiver(approve: bool, breaking: Option<i32>) -> Result<(), (&'static str, &'static str)> {
    if !approve {
        return Err(("waiver", "a waiver only goes with an approval"));
    }
    if breaking.unwrap_or(0) == 0 {
        return Err(("waiver", "there are no breaking changes to waive"));
    }
    Ok(())
}

/// Whether `candidate` may go live over `live`, the newest live version of its
/// API (same major line first). Within one major line a release must be newer,
/// and breaking changes need a waiver; a new major line starts afresh (its base
/// path is checked elsewhere, against every other live version).
pub fn publish(
    candidate: Release<'_>,
    live: Option<Release<'_>>,
    breaking: usize,
    waived: bool,
) -> Result<(), String> {
    let Some(live) = live else {
        return Ok(());
    };
    if candidate.semver.major != live.semver.major {
        return Ok(());
    }
    if candidate.semver <= live.semver {
        return Err(format!(
            "version {} is not newer than the live version {}",
            candidate.version, live.version
        ));
    }
    if breaking > 0 && !waived {
        return Err(format!(
            "{breaking} breaking change(s) against {} under the same major version {}: bump the major version (with a new base path) or have a reviewer record a waiver",
            live.version, candidate.semver.major
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(version: &str) -> Release<'_> {
        Release {
            version,
            semver: SemVer::parse(version).expect("a release number"),
        }
    }

    #[test]
    fn a_first_version_or_a_new_major_line_may_always_be_published() {
        assert_eq!(publish(release("1.0.0"), None, 0, false), Ok(()));
        assert_eq!(
            publish(release("2.0.0"), Some(release("1.4.0")), 7, false),
            Ok(())
        );
    }

    #[test]
    fn within_a_major_line_a_release_must_be_newer() {
        let refused = publish(release("1.2.0"), Some(release("1.2.0")), 0, false);
        assert_eq!(
            refused,
            Err("version 1.2.0 is not newer than the live version 1.2.0".into())
        );
        assert!(publish(release("1.1.9"), Some(release("1.2.0")), 0, true).is_err());
        assert_eq!(
            publish(release("1.2.1"), Some(release("1.2.0")), 0, false),
            Ok(())
        );
    }

    #[test]
    fn breaking_changes_in_a_major_line_need_a_waiver() {
        let refused = publish(release("1.3.0"), Some(release("1.2.0")), 3, false)
            .expect_err("three breaking changes without a waiver");
        assert!(
            refused
                .starts_with("3 breaking change(s) against 1.2.0 under the same major version 1")
        );
        assert_eq!(
            publish(release("1.3.0"), Some(release("1.2.0")), 3, true),
            Ok(())
        );
    }

    #[test]
    fn a_waiver_needs_an_approval_and_something_to_waive() {
        assert_eq!(waiver(true, Some(2)), Ok(()));
        assert_eq!(
            waiver(false, Some(2)).unwrap_err().1,
            "a waiver only goes with an approval"
        );
        assert_eq!(
            waiver(true, Some(0)).unwrap_err().1,
            "there are no breaking changes to waive"
        );
        assert!(waiver(true, None).is_err());
    }
}
