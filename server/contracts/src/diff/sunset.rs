//! Deprecation and sunset of operations, parameters and properties (pure: no
//! I/O). A deprecated element may announce when it goes away with the `x-sunset`
//! extension; clients plan against that date, so it may move later but never
//! earlier or away, and the element may not go before it. The same rules hold
//! at every level; only the ids differ, and they are oasdiff's.

use indexmap::IndexMap;
use serde_json::Value;
use time::{Date, OffsetDateTime};

/// The `x-sunset` extension of an element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sunset {
    Missing,
    Date(Date),
    /// Written, but not a date: the text as written.
    Invalid(String),
}

pub(crate) fn sunset(extensions: &IndexMap<String, Value>) -> Sunset {
    match extensions.get("x-sunset") {
        None | Some(Value::Null) => Sunset::Missing,
        Some(Value::String(text)) => match parse_date(text) {
            Some(date) => Sunset::Date(date),
            None => Sunset::Invalid(text.clone()),
        },
        Some(other) => Sunset::Invalid(other.to_string()),
    }
}

/// Accepts `YYYY-MM-DD`, and RFC 3339 timestamps for tools that write those.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).ok().or_else(|| {
        OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| t.date())
    })
}

/// What changed about an element's deprecation between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transition {
    /// Deprecated now, without a sunset date.
    Deprecated,
    /// Deprecated now, going away on a date still ahead.
    DeprecatedWithSunset(Date),
    /// Deprecated now with a sunset date that has already passed: clients
    /// were given no time at all.
    SunsetTooSoon(Date),
    /// A sunset date that is not a date, on either side: nobody can plan on it.
    SunsetInvalid(String),
    /// No longer deprecated.
    Reactivated,
    /// Still deprecated, but the announced date was deleted.
    SunsetDeleted(Date),
    /// Still deprecated, but the announced date moved earlier.
    SunsetEarlier(Date, Date),
}

/// The transition between `(deprecated, sunset)` in the base and in the
/// revision, if any; `today` decides whether a new date is too soon.
pub(crate) fn transition(
    before: (bool, &Sunset),
    after: (bool, &Sunset),
    today: Date,
) -> Option<Transition> {
    match (before, after) {
        ((false, _), (true, Sunset::Invalid(text))) => {
            Some(Transition::SunsetInvalid(text.clone()))
        }
        ((false, _), (true, Sunset::Date(date))) if *date < today => {
            Some(Transition::SunsetTooSoon(*date))
        }
        ((false, _), (true, Sunset::Date(date))) => Some(Transition::DeprecatedWithSunset(*date)),
        ((false, _), (true, Sunset::Missing)) => Some(Transition::Deprecated),
        ((true, _), (false, _)) => Some(Transition::Reactivated),
        ((true, old), (true, new)) if old != new => match (old, new) {
            (_, Sunset::Invalid(text)) | (Sunset::Invalid(text), _) => {
                Some(Transition::SunsetInvalid(text.clone()))
            }
            (Sunset::Date(old), Sunset::Missing) => Some(Transition::SunsetDeleted(*old)),
            (Sunset::Date(old), Sunset::Date(new)) if new < old => {
                Some(Transition::SunsetEarlier(*old, *new))
            }
            _ => None,
        },
        _ => None,
    }
}

/// How the removal of a deprecated element stands against its sunset date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Removal {
    /// Removed without having been deprecated.
    NotDeprecated,
    /// Removed once deprecated, on or after its sunset date (or with no date).
    AfterDeprecation(Option<Date>),
    /// Removed before the date it announced.
    BeforeSunset(Date),
    /// Its announced date is not a date.
    SunsetInvalid(String),
}

/// Classifies a removal; `fallback` is the sunset that applies when the element
/// announced none of its own (the base version's, for operations).
pub(crate) fn removal(
    deprecated: bool,
    sunset: &Sunset,
    fallback: Option<Date>,
    today: Date,
) -> Removal {
    if !deprecated {
        return Removal::NotDeprecated;
    }
    let date = match sunset {
        Sunset::Date(date) => Some(*date),
        Sunset::Missing => fallback,
        Sunset::Invalid(text) => return Removal::SunsetInvalid(text.clone()),
    };
    match date {
        Some(date) if date > today => Removal::BeforeSunset(date),
        date => Removal::AfterDeprecation(date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        parse_date(text).expect("a date")
    }

    #[test]
    fn transitions_follow_the_promise_made_to_clients() {
        let today = day("2026-06-01");
        let later = Sunset::Date(day("2027-01-01"));
        let sooner = Sunset::Date(day("2026-09-01"));
        let passed = Sunset::Date(day("2026-05-01"));
        let bad = Sunset::Invalid("soon".into());
        let none = Sunset::Missing;
        let t = |b: (bool, &Sunset), a: (bool, &Sunset)| transition(b, a, today);
        assert_eq!(
            t((false, &none), (true, &none)),
            Some(Transition::Deprecated)
        );
        assert_eq!(
            t((false, &none), (true, &later)),
            Some(Transition::DeprecatedWithSunset(day("2027-01-01")))
        );
        assert_eq!(
            t((false, &none), (true, &passed)),
            Some(Transition::SunsetTooSoon(day("2026-05-01")))
        );
        assert_eq!(
            t((false, &none), (true, &bad)),
            Some(Transition::SunsetInvalid("soon".into()))
        );
        assert_eq!(
            t((true, &later), (false, &none)),
            Some(Transition::Reactivated)
        );
        assert_eq!(
            t((true, &later), (true, &none)),
            Some(Transition::SunsetDeleted(day("2027-01-01")))
        );
        assert_eq!(
            t((true, &later), (true, &sooner)),
            Some(Transition::SunsetEarlier(
                day("2027-01-01"),
                day("2026-09-01")
            ))
        );
        assert_eq!(t((true, &sooner), (true, &later)), None);
        // Either side not a date: nobody can tell whether the promise holds.
        assert_eq!(
            t((true, &bad), (true, &later)),
            Some(Transition::SunsetInvalid("soon".into()))
        );
        assert_eq!(t((false, &later), (false, &none)), None);
    }

    #[test]
    fn removals_are_judged_against_the_announced_date() {
        let today = day("2026-06-01");
        let r =
            |deprecated, sunset: &Sunset, fallback| removal(deprecated, sunset, fallback, today);
        assert_eq!(r(false, &Sunset::Missing, None), Removal::NotDeprecated);
        assert_eq!(
            r(true, &Sunset::Missing, None),
            Removal::AfterDeprecation(None)
        );
        let later = day("2027-01-01");
        assert_eq!(
            r(true, &Sunset::Date(later), None),
            Removal::BeforeSunset(later)
        );
        assert_eq!(
            r(true, &Sunset::Missing, Some(later)),
            Removal::BeforeSunset(later)
        );
        assert_eq!(
            r(true, &Sunset::Date(today), None),
            Removal::AfterDeprecation(Some(today))
        );
        assert_eq!(
            r(true, &Sunset::Invalid("x".into()), None),
            Removal::SunsetInvalid("x".into())
        );
    }
}
