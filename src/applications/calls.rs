//! Which call of the calendar an expression of interest belongs to.
//!
//! A call fits an EoI when its kind is right (a partnership EoI — one naming a partnership —
//! goes to `partnership` calls, every other one to `members` calls) and its groups include one
//! of the EoI's groups (a call without groups is for all groups; an EoI naming no group fits
//! every call of its kind). It is open at instant `at` when `opens` has begun and `closes` is
//! not over, with [`DateSpec`](crate::calendar::model::DateSpec) semantics in the calendar's
//! zone: a call closing "2026-03-31" is open all of 31 March in Brussels time, one closing
//! "2026-03" all of March.
//!
//! [`find`] is pure; [`load`] reads the stored calls on the caller's connection (the intake's
//! transaction).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::calendar::model::{Call, CallKind};

/// Where an EoI arriving at `at` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallMatch<'a> {
    /// The calendar has no call at all: `applications.call` is the key, as before calendars.
    NoCalls,
    /// The open call it belongs to.
    Open(&'a Call),
    /// Outside every open window: recorded as late under `closed` (the most recently closed
    /// fitting call, if any); `next` is the next fitting call still to open, if any.
    Late {
        closed: Option<&'a Call>,
        next: Option<&'a Call>,
    },
}

impl CallMatch<'_> {
    /// The record key: the call's id, `none` when late without a closed call, `fallback`
    /// without calls.
    pub fn key<'k>(&'k self, fallback: &'k str) -> &'k str {
        match self {
            CallMatch::NoCalls => fallback,
            CallMatch::Open(c) => &c.id,
            CallMatch::Late { closed, .. } => closed.map_or("none", |c| c.id.as_str()),
        }
    }
}

/// How well a call's groups fit the EoI's: 0 names the EoI's first group, 1 another of its
/// groups, 2 is for all groups (or the EoI names none); `None` does not fit.
fn fit(call: &Call, groups: &[String]) -> Option<u8> {
    if groups.is_empty() {
        return Some(if call.groups.is_empty() { 0 } else { 1 });
    }
    if call.groups.is_empty() {
        return Some(2);
    }
    groups
        .iter()
        .position(|g| call.groups.contains(g))
        .map(|i| if i == 0 { 0 } else { 1 })
}

/// The call of an EoI for `groups` (partnership or not) arriving at `at`; see the module docs.
/// Among several open calls the best fitting group wins, then the one opened last.
pub fn find<'a>(
    calls: &'a [Call],
    at: DateTime<Utc>,
    groups: &[String],
    partnership: bool,
    tz: Tz,
) -> CallMatch<'a> {
    if calls.is_empty() {
        return CallMatch::NoCalls;
    }
    let kind = if partnership {
        CallKind::Partnership
    } else {
        CallKind::Members
    };
    let fitting = calls
        .iter()
        .filter(|c| c.kind == kind)
        .filter_map(|c| fit(c, groups).map(|rank| (rank, c)));
    let mut open: Option<(u8, DateTime<Utc>, &Call)> = None;
    let mut closed: Option<(DateTime<Utc>, &Call)> = None;
    let mut next: Option<(DateTime<Utc>, &Call)> = None;
    for (rank, c) in fitting {
        let (start, end) = (c.opens.start_utc(tz), c.closes.end_utc(tz));
        if start <= at && at < end {
            // Better rank first, then the later opening.
            if open.is_none_or(|(r, s, _)| {
                (rank, std::cmp::Reverse(start)) < (r, std::cmp::Reverse(s))
            }) {
                open = Some((rank, start, c));
            }
        } else if end <= at {
            if closed.is_none_or(|(e, _)| end > e) {
                closed = Some((end, c));
            }
        } else if next.is_none_or(|(s, _)| start < s) {
            next = Some((start, c));
        }
    }
    match open {
        Some((_, _, c)) => CallMatch::Open(c),
        None => CallMatch::Late {
            closed: closed.map(|(_, c)| c),
            next: next.map(|(_, c)| c),
        },
    }
}

/// The calls of the stored calendar, read on `conn` (the intake's transaction).
pub async fn load(conn: &mut sqlx::AnyConnection) -> anyhow::Result<Vec<Call>> {
    crate::calendar::store::calls(conn).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::model::DateSpec;

    const BXL: Tz = chrono_tz::Europe::Brussels;

    fn call(id: &str, groups: &[&str], kind: CallKind, opens: &str, closes: &str) -> Call {
        Call {
            id: id.into(),
            title: id.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            kind,
            opens: DateSpec::parse(opens, BXL).unwrap(),
            closes: DateSpec::parse(closes, BXL).unwrap(),
            link: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn g(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn key(m: CallMatch<'_>) -> String {
        match m {
            CallMatch::Open(c) => format!("open {}", c.id),
            CallMatch::Late { closed, next } => format!(
                "late {} next {}",
                closed.map_or("-", |c| &c.id),
                next.map_or("-", |c| &c.id)
            ),
            CallMatch::NoCalls => "no calls".into(),
        }
    }

    fn calls() -> Vec<Call> {
        use CallKind::*;
        vec![
            call(
                "health-2026",
                &["health"],
                Members,
                "2026-03-02",
                "2026-03-31",
            ),
            call("health-2027", &["health"], Members, "2027-01-04", "2027-02"),
            call("digital", &["digital"], Members, "2026-03", "2026-04"),
            call("partners", &[], Partnership, "2026-01-01", "2026-12-31"),
        ]
    }

    #[test]
    fn inside_the_window_and_before_opening() {
        let c = calls();
        let m = |t, grp: &[&str]| key(find(&c, at(t), &g(grp), false, BXL));
        assert_eq!(m("2026-03-10T09:00:00Z", &["health"]), "open health-2026");
        // 1 March 23:30 UTC is already 2 March 00:30 in Brussels.
        assert_eq!(m("2026-03-01T23:30:00Z", &["health"]), "open health-2026");
        assert_eq!(
            m("2026-03-01T22:30:00Z", &["health"]),
            "late - next health-2026"
        );
        assert_eq!(
            m("2026-02-01T10:00:00Z", &["digital"]),
            "late - next digital"
        );
    }

    #[test]
    fn closing_day_ends_at_midnight_brussels_time() {
        let c = calls();
        let m = |t| key(find(&c, at(t), &g(&["health"]), false, BXL));
        // 31 March 2026 is summer time (UTC+2): the day ends at 22:00 UTC.
        assert_eq!(m("2026-03-31T21:59:59Z"), "open health-2026");
        assert_eq!(
            m("2026-03-31T22:00:00Z"),
            "late health-2026 next health-2027"
        );
        assert_eq!(m("2028-01-01T00:00:00Z"), "late health-2027 next -");
    }

    #[test]
    fn month_only_dates_cover_the_whole_month() {
        let c = calls();
        let m = |t, grp: &[&str]| key(find(&c, at(t), &g(grp), false, BXL));
        assert_eq!(m("2026-02-28T23:00:00Z", &["digital"]), "open digital");
        assert_eq!(m("2026-04-30T21:59:00Z", &["digital"]), "open digital");
        assert_eq!(
            m("2026-04-30T22:00:00Z", &["digital"]),
            "late digital next -"
        );
        // "2027-02" closes at the end of February (winter time, UTC+1).
        assert_eq!(m("2027-02-28T22:59:00Z", &["health"]), "open health-2027");
        assert_eq!(
            m("2027-02-28T23:00:00Z", &["health"]),
            "late health-2027 next -"
        );
    }

    #[test]
    fn several_groups_kinds_and_all_group_calls() {
        let mut c = calls();
        let m = |c: &[Call], t, grp: &[&str], p| key(find(c, at(t), &g(grp), p, BXL));
        // Health closed, digital open: the digital call takes it.
        assert_eq!(
            m(&c, "2026-04-10T10:00:00Z", &["health", "digital"], false),
            "open digital"
        );
        // Both open: the first group named wins.
        assert_eq!(
            m(&c, "2026-03-10T10:00:00Z", &["digital", "health"], false),
            "open digital"
        );
        assert_eq!(
            m(&c, "2026-03-10T10:00:00Z", &["health", "digital"], false),
            "open health-2026"
        );
        // Partnership EoIs go to partnership calls only, whatever their groups.
        assert_eq!(m(&c, "2026-06-10T10:00:00Z", &[], true), "open partners");
        assert_eq!(
            m(&c, "2026-06-10T10:00:00Z", &["health"], false),
            "late health-2026 next health-2027"
        );
        // No group named: any open call of the kind.
        assert_eq!(m(&c, "2026-04-10T10:00:00Z", &[], false), "open digital");
        // A call for all groups fits a group without a call of its own.
        c.push(call(
            "all-2026",
            &[],
            CallKind::Members,
            "2026-06-01",
            "2026-06-30",
        ));
        assert_eq!(
            m(&c, "2026-06-10T10:00:00Z", &["territorial"], false),
            "open all-2026"
        );
        assert_eq!(
            m(&c, "2026-07-10T10:00:00Z", &["territorial"], false),
            "late all-2026 next -"
        );
        assert_eq!(
            m(&c, "2027-03-10T10:00:00Z", &["unknown"], true),
            "late partners next -"
        );
        // No call for the group at all: late under none.
        let only = &c[..1];
        assert_eq!(
            m(only, "2026-03-10T10:00:00Z", &["digital"], false),
            "late - next -"
        );
        assert_eq!(
            find(only, at("2026-03-10T10:00:00Z"), &[], false, BXL).key("x"),
            "health-2026"
        );
        assert_eq!(
            find(&[], at("2026-03-10T10:00:00Z"), &[], false, BXL),
            CallMatch::NoCalls
        );
        assert_eq!(CallMatch::NoCalls.key("2026"), "2026");
    }
}
