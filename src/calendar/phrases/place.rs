//! How and where a meeting in prose meets: "the next meeting on 12 May in Brussels" is in
//! person, in Brussels; "the next online meeting" is online.
//!
//! - Online: "online", "virtual", "by video", "videoconference", "Teams", "Zoom", "Webex",
//!   "en ligne", "visioconférence", "virtuell", "Videokonferenz".
//! - In person: "in person", "face-to-face", "physical", "hybrid", "premises", "en
//!   présentiel", "vor Ort", "in Präsenz" — or a place.
//! - A place: capitalised words after "in", "at", "à", "au", "en", "im", "in der"
//!   ("in Brussels", "at the European Commission"), not a month, weekday, language, platform
//!   or number; several are joined ("European Commission, Brussels"). Mentions of both
//!   online and in person (a hybrid meeting) count as in person.
//!
//! A best effort for the secretariat to check on the proposal card, as the title is.

use std::sync::LazyLock;

use regex::Regex;

use crate::calendar::model::Mode;

static ONLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:on-?line|virtual(?:ly)?|by video|video ?conference|videokonferenz|teams|zoom|webex|en ligne|visio(?:conf[ée]rence)?|virtuell)\b")
        .expect("online pattern")
});

static IN_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:in[- ]person|face[- ]to[- ]face|physical(?:ly)?|hybrid|premises|(?:en )?pr[ée]sentiel|vor ort|in pr[äa]senz)\b")
        .expect("in-person pattern")
});

/// "in" / "at" … then capitalised words, joined by the small words names hold.
static PLACE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:[Ii]n|[Aa]t|à|au|en|im|in der)\s+((?:the\s+)?\p{Lu}[\p{L}\p{N}'’.\-]*(?:\s+(?:\p{Lu}[\p{L}\p{N}'’.\-]*|of|de|du|des|la|le|der|di|del))*)")
        .expect("place pattern")
});

/// Words that follow "in"/"at" with a capital but are no place.
const NOT_PLACES: &[&str] = &[
    // months and weekdays (en, fr, de)
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
    "januar",
    "februar",
    "märz",
    "juni",
    "juli",
    "oktober",
    "dezember",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    // languages, platforms and the like
    "english",
    "french",
    "german",
    "spanish",
    "italian",
    "dutch",
    "portuguese",
    "polish",
    "teams",
    "zoom",
    "webex",
    "microsoft",
    "q1",
    "q2",
    "q3",
    "q4",
    "eu",
    "the",
    "annex",
    "point",
    "item",
    "section",
    "chapter",
    "order",
    "spring",
    "summer",
    "autumn",
    "winter",
];

/// How a meeting meets and where, as far as `sentence` says.
pub fn place(sentence: &str) -> (Option<Mode>, Option<String>) {
    let mut places: Vec<String> = Vec::new();
    for cap in PLACE.captures_iter(sentence) {
        let words: Vec<&str> = cap[1]
            .split_whitespace()
            .skip_while(|w| w.eq_ignore_ascii_case("the"))
            .collect();
        let Some(first) = words.first() else {
            continue;
        };
        let first = first.trim_end_matches(['.', ',']).to_lowercase();
        if NOT_PLACES.contains(&first.as_str()) || first.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        let mut name: Vec<&str> = words.into_iter().take(6).collect();
        while name
            .last()
            .is_some_and(|w| w.chars().next().is_some_and(char::is_lowercase))
        {
            name.pop();
        }
        let name = name.join(" ").trim_end_matches(['.', ',']).to_owned();
        if !name.is_empty() && !places.contains(&name) {
            places.push(name);
        }
    }
    let online = ONLINE.is_match(sentence);
    let in_person = IN_PERSON.is_match(sentence);
    let location = (!places.is_empty()).then(|| places.join(", "));
    match (online, in_person || location.is_some()) {
        (true, false) => (Some(Mode::Online), None),
        (_, true) => (Some(Mode::Physical), location),
        (false, false) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> (Option<Mode>, Option<String>) {
        place(s)
    }

    #[test]
    fn reads_how_and_where() {
        let physical = |l: &str| (Some(Mode::Physical), Some(l.to_owned()));
        assert_eq!(
            p("The next meeting will take place on 12 May in Brussels."),
            physical("Brussels")
        );
        assert_eq!(
            p("Next meeting on 12 May 2026 at the European Commission premises in Brussels"),
            physical("European Commission, Brussels")
        );
        assert_eq!(
            p("La prochaine réunion aura lieu le 3 juin à Bruxelles."),
            physical("Bruxelles")
        );
        assert_eq!(
            p("The next online meeting is scheduled for 24 April 2026."),
            (Some(Mode::Online), None)
        );
        assert_eq!(
            p("The next meeting will be held on Teams on 3 March."),
            (Some(Mode::Online), None)
        );
        assert_eq!(
            p("The next meeting is planned in person on 3 March."),
            (Some(Mode::Physical), None)
        );
        // Dates, languages and platforms are no places; nothing said, nothing guessed.
        assert_eq!(
            p("The next meeting is scheduled for December 2024."),
            (None, None)
        );
        assert_eq!(
            p("The next meeting in December 2024, in English."),
            (None, None)
        );
        assert_eq!(p("next meeting in Q3"), (None, None));
        assert_eq!(
            p("The next meeting (hybrid, online and in Lisbon) on 4 May"),
            physical("Lisbon")
        );
    }
}
