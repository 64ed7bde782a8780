//! Stable item ids: slug-like strings given in the calendar file or derived from an item's
//! title and date. ICS UIDs (`<kind>-<id>@convene`) and reminder keys are built from them,
//! so a derived id must not change while title and date stay the same.

use super::datespec::DateSpec;

/// A stable id from a title and a date: `"1st Working Group physical meeting"` on
/// 2023-11-24 gives `1st-working-group-physical-meeting-2023-11-24`.
pub fn derive_id(title: &str, when: &DateSpec) -> String {
    let date = match when {
        DateSpec::Month(d) => d.format("%Y-%m").to_string(),
        other => other.first_day().format("%Y-%m-%d").to_string(),
    };
    let slug = slugify(title);
    if slug.is_empty() {
        date
    } else {
        format!("{slug}-{date}")
    }
}

/// Lowercase ASCII letters and digits separated by single dashes, at most 60 characters;
/// common accented Latin letters lose their accents.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'ç' | 'č' | 'ć' => 'c',
            'è' | 'é' | 'ê' | 'ë' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' | 'ń' => 'n',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'š' | 'ś' | 'ß' => 's',
            'ž' | 'ź' | 'ż' => 'z',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_stable_slug_ids() {
        let day: DateSpec = "2023-11-24".parse().unwrap();
        assert_eq!(
            derive_id("1st Working Group physical meeting", &day),
            "1st-working-group-physical-meeting-2023-11-24"
        );
        let month: DateSpec = "2025-03".parse().unwrap();
        assert_eq!(
            derive_id("Good Practices Catalogue — Vol. 1", &month),
            "good-practices-catalogue-vol-1-2025-03"
        );
        assert_eq!(
            slugify("Réunion « numérique » à Bruxelles"),
            "reunion-numerique-a-bruxelles"
        );
    }
}
