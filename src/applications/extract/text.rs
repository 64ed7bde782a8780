//! Small text helpers shared by the extractor: accent folding and whitespace clean-up.
//!
//! Matching is done on *folded* text: lower case, Latin diacritics removed ("Organización" →
//! "organizacion", "Państwo" → "panstwo", "Straße" → "strasse"), so the tables need one
//! spelling per word and applicants who type without accents are still understood.

/// Lower-cases and strips diacritics from the Latin letters used by EU languages.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        for lc in c.to_lowercase() {
            match base_letter(lc) {
                Some(base) => out.push_str(base),
                None => out.push(lc),
            }
        }
    }
    out
}

fn base_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ģ' | 'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ŕ' | 'ř' => "r",
        'ś' | 'ş' | 'š' | 'ș' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'þ' => "th",
        'ð' => "d",
        // Typographic punctuation applicants paste from word processors.
        '’' | '‘' | '`' | '´' => "'",
        '–' | '—' | '‐' => "-",
        '\u{a0}' => " ",
        _ => return None,
    })
}

/// Collapses runs of whitespace to one space and trims.
pub fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Trims a value taken from a form: whitespace, surrounding quotes and markdown emphasis,
/// and trailing punctuation that belongs to the sentence rather than the value.
pub fn clean_value(s: &str) -> String {
    let squashed = squash(s);
    let mut s = squashed.as_str();
    loop {
        let next = s
            .trim_matches(|c: char| {
                c.is_whitespace() || matches!(c, '*' | '_' | '"' | '“' | '”' | '«' | '»')
            })
            .trim_end_matches([',', ';']);
        // A sentence's full stop goes, an abbreviation's stays ("e.V.", "Ltd.", "S.A.").
        let last_word = next.rsplit(' ').next().unwrap_or_default();
        let abbreviation = last_word.trim_end_matches('.').contains('.') || last_word.len() <= 4;
        let next = if abbreviation {
            next
        } else {
            next.trim_end_matches('.')
        };
        if next.len() == s.len() {
            return next.to_string();
        }
        s = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("Organización"), "organizacion");
        assert_eq!(fold("Państwo"), "panstwo");
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("ČESKO"), "cesko");
        assert_eq!(fold("Type d’organisme"), "type d'organisme");
    }

    #[test]
    fn cleaning() {
        assert_eq!(clean_value("  **Aino   Virtanen** ,"), "Aino Virtanen");
        assert_eq!(squash(" a \t b\n c "), "a b c");
        assert_eq!(
            clean_value("Gesundheitscluster Sachsen e.V."),
            "Gesundheitscluster Sachsen e.V."
        );
        assert_eq!(clean_value("pymes rurales."), "pymes rurales");
    }
}
