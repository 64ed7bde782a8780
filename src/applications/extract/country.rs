//! Country names in the EU languages (and the native name) to ISO 3166-1 alpha-2.
//!
//! Covers the 27 Member States plus the EEA/EFTA states, the United Kingdom and Ukraine, which
//! take part in EU programmes. Names are stored folded (see [`super::text::fold`]). A few
//! names are also ordinary words ("island" is German for Iceland) and are only accepted as the
//! value of a labelled "Country:" field, never in running prose. The e-mail domain's TLD is
//! deliberately *not* used: `.eu`, `.org` and `.com` say nothing, and organisations often use
//! a ccTLD of another country; a secretariat asks instead of guessing.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::text::fold;

#[rustfmt::skip]
const COUNTRIES: &[(&str, &[&str])] = &[
    ("AT", &["austria", "autriche", "osterreich", "oesterreich", "oostenrijk"]),
    ("BE", &["belgium", "belgique", "belgien", "belgio", "belgica", "belgie", "belgia"]),
    ("BG", &["bulgaria", "bulgarie", "bulgarien", "bulgarije", "българия"]),
    ("HR", &["croatia", "croatie", "kroatien", "croazia", "croacia", "kroatie", "chorwacja",
        "hrvatska"]),
    ("CY", &["cyprus", "chypre", "zypern", "cipro", "chipre", "cypr", "kypros", "κύπρος"]),
    ("CZ", &["czechia", "czech republic", "republique tcheque", "tchequie", "tschechien",
        "tschechische republik", "repubblica ceca", "cechia", "chequia", "republica checa",
        "tsjechie", "tsjechische republiek", "czechy", "cesko", "ceska republika"]),
    ("DK", &["denmark", "danemark", "danimarca", "dinamarca", "denemarken", "dania", "danmark"]),
    ("EE", &["estonia", "estonie", "estland", "eesti"]),
    ("FI", &["finland", "finlande", "finnland", "finlandia", "suomi"]),
    ("FR", &["france", "frankreich", "francia", "franca", "frankrijk", "francja"]),
    ("DE", &["germany", "allemagne", "deutschland", "germania", "alemania", "alemanha",
        "duitsland", "niemcy"]),
    ("GR", &["greece", "grece", "griechenland", "grecia", "griekenland", "grecja", "ellada",
        "hellas", "ελλάδα", "ελλαδα"]),
    ("HU", &["hungary", "hongrie", "ungarn", "ungheria", "hungria", "hongarije", "wegry",
        "magyarorszag"]),
    ("IE", &["ireland", "irlande", "irland", "irlanda", "ierland", "irlandia", "eire"]),
    ("IT", &["italy", "italie", "italien", "italia", "wlochy"]),
    ("LV", &["latvia", "lettonie", "lettland", "lettonia", "letonia", "letland", "lotwa", "latvija"]),
    ("LT", &["lithuania", "lituanie", "litauen", "lituania", "litouwen", "litwa", "lietuva"]),
    ("LU", &["luxembourg", "luxemburg", "lussemburgo", "luxemburgo", "luksemburg", "letzebuerg"]),
    ("MT", &["malta"]),
    ("NL", &["netherlands", "the netherlands", "pays-bas", "pays bas", "niederlande",
        "paesi bassi", "paises bajos", "paises baixos", "nederland", "holandia", "holland",
        "olanda", "holanda"]),
    ("PL", &["poland", "pologne", "polen", "polonia", "polska"]),
    ("PT", &["portugal", "portogallo", "portugalia"]),
    ("RO", &["romania", "roumanie", "rumanien", "rumania", "romenia", "roemenie", "rumunia"]),
    ("SK", &["slovakia", "slovaquie", "slowakei", "slovacchia", "eslovaquia", "slowakije",
        "slowacja", "slovensko", "slovenska republika"]),
    ("SI", &["slovenia", "slovenie", "slowenien", "eslovenia", "slowenia", "slovenija"]),
    ("ES", &["spain", "espagne", "spanien", "spagna", "espana", "espanha", "spanje", "hiszpania"]),
    ("SE", &["sweden", "suede", "schweden", "svezia", "suecia", "zweden", "szwecja", "sverige"]),
    ("NO", &["norway", "norvege", "norwegen", "norvegia", "noruega", "noorwegen", "norwegia",
        "norge"]),
    ("IS", &["iceland", "islande", "islanda", "islandia", "ijsland", "island"]),
    ("LI", &["liechtenstein"]),
    ("CH", &["switzerland", "suisse", "schweiz", "svizzera", "suiza", "suica", "zwitserland",
        "szwajcaria"]),
    ("GB", &["united kingdom", "great britain", "royaume-uni", "royaume uni",
        "vereinigtes konigreich", "regno unito", "reino unido", "verenigd koninkrijk",
        "wielka brytania", "england", "scotland", "wales", "northern ireland", "uk"]),
    ("UA", &["ukraine", "ucraina", "ucrania", "oekraine", "ukraina"]),
];

/// Names that are also common words: accepted in a "Country:" field, not in prose.
const LABEL_ONLY: &[&str] = &["island", "uk"];

/// ISO codes applicants type instead of a name; "EL" and "UK" are the EU's own usage.
const CODES: &[(&str, &str)] = &[("el", "GR"), ("uk", "GB")];

static BY_NAME: LazyLock<HashMap<&'static str, &'static str>> = LazyLock::new(|| {
    COUNTRIES
        .iter()
        .flat_map(|(code, names)| names.iter().map(move |n| (*n, *code)))
        .collect()
});

fn alternation(prose: bool) -> Regex {
    let mut names: Vec<&str> = BY_NAME
        .keys()
        .copied()
        .filter(|n| !prose || !LABEL_ONLY.contains(n))
        .collect();
    // Longest first, so "czech republic" wins over a shorter name at the same position.
    names.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    let alt: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
    Regex::new(&format!(r"\b(?:{})\b", alt.join("|"))).expect("country regex")
}

static ANY_NAME: LazyLock<Regex> = LazyLock::new(|| alternation(false));
static PROSE_NAME: LazyLock<Regex> = LazyLock::new(|| alternation(true));

/// The country named in a labelled field's value ("Finland", "España", "FI", "Kainuu, Suomi").
pub fn from_value(value: &str) -> Option<&'static str> {
    let folded = fold(value.trim());
    let bare = folded.trim_matches(|c: char| !c.is_alphanumeric());
    if bare.len() == 2 && bare.is_ascii() {
        if let Some((_, code)) = CODES.iter().find(|(c, _)| *c == bare) {
            return Some(code);
        }
        let upper = bare.to_ascii_uppercase();
        return COUNTRIES
            .iter()
            .find(|(code, _)| *code == upper)
            .map(|(code, _)| *code);
    }
    let m = ANY_NAME.find(&folded)?;
    BY_NAME.get(m.as_str()).copied()
}

/// Whether `s` is exactly a country's name ("France", not "Région Hauts-de-France").
pub fn is_country_name(s: &str) -> bool {
    BY_NAME.contains_key(fold(s.trim()).as_str())
}

/// The first country named in running text (already folded), with its byte offset.
pub fn find_in_prose(folded: &str) -> Option<(usize, &'static str)> {
    let m = PROSE_NAME.find(folded)?;
    BY_NAME.get(m.as_str()).map(|code| (m.start(), *code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_many_languages() {
        for (value, code) in [
            ("Finland", "FI"),
            ("Suomi", "FI"),
            ("Allemagne", "DE"),
            ("Deutschland", "DE"),
            ("España", "ES"),
            ("Czechia", "CZ"),
            ("Česko", "CZ"),
            ("Česká republika", "CZ"),
            ("Polska", "PL"),
            ("Pays-Bas", "NL"),
            ("Österreich", "AT"),
            ("Włochy", "IT"),
            ("Magyarország", "HU"),
            ("Ελλάδα", "GR"),
            ("EL", "GR"),
            ("fi", "FI"),
            ("Island", "IS"),
            ("Kainuu, Finland", "FI"),
            ("the Netherlands (Noord-Brabant)", "NL"),
        ] {
            assert_eq!(from_value(value), Some(code), "{value}");
        }
        assert_eq!(from_value("Atlantis"), None);
        assert_eq!(from_value("XX"), None);
    }

    #[test]
    fn prose_skips_ambiguous_words() {
        assert_eq!(find_in_prose("an island region in the baltic"), None);
        assert_eq!(
            find_in_prose("an ngo in brno (czechia, south moravian region)").map(|m| m.1),
            Some("CZ")
        );
    }

    #[test]
    fn every_code_is_alpha2() {
        for (code, names) in COUNTRIES {
            assert_eq!(code.len(), 2);
            for n in *names {
                assert_eq!(fold(n), *n, "table entries must be folded: {n}");
            }
        }
    }
}
