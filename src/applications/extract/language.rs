//! Detects which of the eight supported languages an applicant wrote in.
//!
//! A stop-word vote: each folded word found in a language's list of short, frequent words
//! scores one point for that language, and letters only one language uses (ł, ã, ñ, ß...)
//! add a few more. Good enough for a few lines of mail, no model needed. Fallback: "en".

use std::collections::HashMap;
use std::sync::LazyLock;

use super::text::fold;

/// ISO 639-1 codes, in tie-break order.
pub const LANGUAGES: [&str; 8] = ["en", "fr", "de", "it", "es", "pt", "nl", "pl"];

const STOP_WORDS: [&str; 8] = [
    // en
    "the and of to we i is are our for with would like this be from that have please thank you \
     my your group working regards dear interest name organisation organization country role \
     which will an as am in on",
    // fr
    "le la les des et nous je pour est une un du au aux dans avec sur notre nos vous souhaitons \
     souhaite groupe travail madame monsieur cordialement pays nom organisme qui que pas ce \
     cette sont ai avons tres bonjour veuillez",
    // de
    "der die das und ich wir nicht mit fur uns sehr ist sind ein eine einer zu den dem des auf \
     im von unsere unser unseren arbeitsgruppe geehrte damen herren freundlichen grussen \
     bewerbung als auch wie bei mochten hiermit",
    // it
    "il lo gli di che per della delle dei del sono una non con nel alla al siamo nostro nostra \
     gruppo lavoro cordiali saluti come ente paese nome cognome anche questo vorremmo ed \
     gentili distinti",
    // es
    "el los las del y que por con una para es somos nuestro nuestra grupo trabajo saludos \
     atentamente como nos muy pais nombre organizacion estimados senores al su desde \
     nos gustaria",
    // pt
    "o os as do da dos das e que com uma um para em nao sao nosso nossa grupo trabalho \
     cumprimentos atenciosamente como pais nome entidade gostariamos no na ao pelo pela muito \
     prezados",
    // nl
    "de het een van en ik wij we zijn voor met niet ons onze graag werkgroep groet \
     vriendelijke naam organisatie is op te aan dat die als ook bij deze heb hebben geachte",
    // pl
    "i w z na do sie nie jest jestesmy nasz nasza oraz dla od ze ktore grupy roboczej grupa \
     powazaniem pozdrawiam panstwo organizacja imie nazwisko chcielibysmy jako czlonek \
     szanowni to o po",
];

/// Letters that point strongly at one language: (letter, language index, weight).
const MARKERS: [(char, usize, u32); 16] = [
    ('ł', 7, 3),
    ('ą', 7, 3),
    ('ę', 7, 3),
    ('ś', 7, 2),
    ('ż', 7, 2),
    ('ź', 7, 2),
    ('ã', 5, 3),
    ('õ', 5, 3),
    ('œ', 1, 2),
    ('ñ', 4, 3),
    ('¿', 4, 3),
    ('ß', 2, 3),
    ('ä', 2, 1),
    ('ö', 2, 1),
    ('ü', 2, 1),
    ('ĳ', 6, 3),
];

static WORDS: LazyLock<HashMap<&'static str, u8>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, u8> = HashMap::new();
    for (i, list) in STOP_WORDS.iter().enumerate() {
        for word in list.split_whitespace() {
            *map.entry(word).or_default() |= 1 << i;
        }
    }
    map
});

/// Text longer than this is not looked at further: the first pages decide.
const MAX_CHARS: usize = 20_000;

/// The ISO 639-1 code of the language `text` is most likely written in.
pub fn detect(text: &str) -> &'static str {
    let head: String = text.chars().take(MAX_CHARS).collect();
    let mut scores = [0u32; 8];
    for c in head.chars() {
        let lc = c.to_lowercase().next().unwrap_or(c);
        for (marker, lang, weight) in MARKERS {
            if lc == marker {
                scores[lang] += weight;
            }
        }
    }
    let folded = fold(&head);
    for word in folded.split(|c: char| !c.is_alphanumeric()) {
        if let Some(mask) = WORDS.get(word) {
            for (i, score) in scores.iter_mut().enumerate() {
                if mask & (1 << i) != 0 {
                    *score += 1;
                }
            }
        }
    }
    let mut best = 0;
    for i in 1..scores.len() {
        if scores[i] > scores[best] {
            best = i;
        }
    }
    if scores[best] == 0 {
        "en"
    } else {
        LANGUAGES[best]
    }
}

#[cfg(test)]
mod tests {
    use super::detect;

    #[test]
    fn eight_languages() {
        for (text, lang) in [
            (
                "I would like to join the Health working group as a member.",
                "en",
            ),
            (
                "Nous souhaitons rejoindre le groupe Numérique en tant que membre.",
                "fr",
            ),
            (
                "Wir möchten uns für die Arbeitsgruppe Gesundheit bewerben.",
                "de",
            ),
            (
                "Vorremmo partecipare al gruppo di lavoro Salute come membro.",
                "it",
            ),
            (
                "Nos gustaría participar en el grupo de trabajo de Salud como miembro.",
                "es",
            ),
            (
                "Gostaríamos de participar no grupo de trabalho Saúde como membro.",
                "pt",
            ),
            (
                "Wij willen graag deelnemen aan de werkgroep Gezondheid als lid.",
                "nl",
            ),
            (
                "Chcielibyśmy dołączyć do grupy roboczej Zdrowie jako członek.",
                "pl",
            ),
            ("Estimados señores: Nombre: Lucía Fernández", "es"),
        ] {
            assert_eq!(detect(text), lang, "{text}");
        }
    }

    #[test]
    fn fallback_is_english() {
        assert_eq!(detect(""), "en");
        assert_eq!(detect("12345 !!!"), "en");
    }
}
