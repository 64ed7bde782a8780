//! Stable item ids: slug-like strings given in the calendar file or derived from an item's
//! title and date. ICS UIDs (`<kind>-<id>@convene`) and reminder keys are built from them,
//! so a derived id must not change while title and date stay the same. An occurrence of a
//! series is `<id>@<original date>` ([`occurrence_id`]).

use chrono::NaiveDate;

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

/// The id of one occurrence of a series: `<item id>@<original local date>`
/// (`digital-subgroup@2026-05-19`). It names the date the rule gives, not the one an
/// override moves it to, so it survives moves; reminder keys and ICS RECURRENCE-IDs are built
/// from it. Item ids never contain `@`.
pub fn occurrence_id(item_id: &str, original: NaiveDate) -> String {
    format!("{item_id}@{}", original.format("%Y-%m-%d"))
}

/// The item id and original date of an [`occurrence_id`]; `None` for a plain item id.
pub fn split_occurrence_id(id: &str) -> Option<(&str, NaiveDate)> {
    let (item, date) = id.rsplit_once('@')?;
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    (!item.is_empty()).then_some((item, date))
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

    #[test]
    fn occurrence_ids_name_the_original_date() {
        let date = NaiveDate::from_ymd_opt(2026, 5, 19).unwrap();
        let id = occurrence_id("digital-subgroup", date);
        assert_eq!(id, "digital-subgroup@2026-05-19");
        assert_eq!(split_occurrence_id(&id), Some(("digital-subgroup", date)));
        for plain in ["digital-subgroup", "x@2026-13-01", "@2026-05-19"] {
            assert_eq!(split_occurrence_id(plain), None, "{plain}");
        }
    }
}
