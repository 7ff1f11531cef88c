//! The registry's release rules as pure functions (control plane): whether a
//! release number fits its changes, whether a reviewer's waiver applies, and
//! whether an approved version may be published over the live one. The services load the facts and call these, so every rule
//! is tested here without a database.

use super::semver::SemVer;

/// The facts about a version that the release rules read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release<'a> {
    pub version: &'a str,
    pub semver: SemVer,
}

/// A waiver accepts breaking changes against the live version of the same
/// major line, so it goes with an approval, only where the report says one is
/// needed, and an approval there needs one: without it the version could never
/// be published. Errors name the form field.
pub fn waiver(
    approve: bool,
    needs_waiver: bool,
    waived: bool,
) -> Result<(), (&'static str, &'static str)> {
    match (approve, needs_waiver, waived) {
        (false, _, true) => Err(("waiver", "a waiver only goes with an approval")),
        (true, false, true) => Err((
            "waiver",
            "no waiver applies: nothing breaks the live version of this major line",
        )),
        (true, true, false) => Err((
            "waiver",
            "this version breaks the live version of its major line: record a waiver with the approval, or reject it so the owner can release a new major version",
        )),
        _ => Ok(()),
    }
}

/// What is wrong with `candidate`'s release number, compared with `base` of
/// the same major line and `breaking` changes against it, with the fix; `None`
/// when the number says what the changes are. A new major line may break
/// anything; within one, a release must be newer, and breaking changes need a
/// new major version (or a reviewer's waiver, where the base is live).
pub fn semver_problem(
    candidate: Release<'_>,
    base: Option<Release<'_>>,
    breaking: usize,
) -> Option<String> {
    let base = base?;
    if candidate.semver.major != base.semver.major {
        return None;
    }
    if candidate.semver <= base.semver {
        return Some(format!(
            "version {} is not newer than {}: give it a higher release number",
            candidate.version, base.version
        ));
    }
    if breaking == 0 {
        return None;
    }
    let bump = if candidate.semver.minor != base.semver.minor {
        "minor"
    } else {
        "patch"
    };
    Some(format!(
        "{breaking} breaking change(s) under a {bump} bump ({} over {}): release them as {}.0.0 on a new base path, remove them, or ask a reviewer for a waiver",
        candidate.version,
        base.version,
        candidate.semver.major + 1
    ))
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
    fn a_waiver_goes_with_an_approval_exactly_where_one_is_needed() {
        assert_eq!(waiver(true, true, true), Ok(()));
        assert_eq!(waiver(true, false, false), Ok(()));
        assert_eq!(waiver(false, true, false), Ok(()), "a rejection needs none");
        assert_eq!(
            waiver(false, true, true).unwrap_err().1,
            "a waiver only goes with an approval"
        );
        assert!(
            waiver(true, false, true)
                .unwrap_err()
                .1
                .starts_with("no waiver applies")
        );
        assert!(
            waiver(true, true, false)
                .unwrap_err()
                .1
                .contains("record a waiver with the approval, or reject it")
        );
    }

    #[test]
    fn the_release_number_must_say_what_the_changes_are() {
        let base = Some(release("1.1.0"));
        assert_eq!(semver_problem(release("1.2.0"), base, 0), None);
        assert_eq!(semver_problem(release("2.0.0"), base, 9), None);
        assert_eq!(semver_problem(release("1.2.0"), None, 9), None);
        let patch = semver_problem(release("1.1.1"), base, 3).unwrap();
        assert!(
            patch.starts_with(
                "3 breaking change(s) under a patch bump (1.1.1 over 1.1.0): release them as 2.0.0"
            ),
            "{patch}"
        );
        let minor = semver_problem(release("1.2.0"), base, 1).unwrap();
        assert!(minor.contains("under a minor bump"), "{minor}");
        let older = semver_problem(release("1.0.9"), base, 0).unwrap();
        assert!(older.contains("not newer than 1.1.0"), "{older}");
    }
}
