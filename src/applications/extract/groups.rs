//! Which working group(s) a mail is about, from the configured names and built-in aliases.
//!
//! Aliases come in two strengths. *Strong* aliases ("Health", "Santé", "R&I", the configured
//! display names) are matched anywhere a group is expected. *Weak* ones ("Research",
//! "Innovation", "Territoire") are ordinary words and only count inside a labelled "Working
//! group:" field. In prose a strong alias counts only when a word for "group" stands within a
//! few words of it ("the Health working group", "groupe Numérique", "grupy roboczej ds.
//! zdrowia"), so "digital-skills training" in a motivation does not sign anyone up for Digital.

use std::sync::LazyLock;

use regex::Regex;

use super::ExtractConfig;
use super::text::fold;

/// Built-in strong aliases for the four known slugs, any language.
pub const DEFAULT_ALIASES: &[(&str, &[&str])] = &[
    (
        "digital",
        &[
            "Digital",
            "Digitale",
            "Digitales",
            "Digitaal",
            "Numérique",
            "Transition numérique",
            "Digitalisation",
            "Digitalization",
            "Digitalisierung",
            "Digitalizzazione",
            "Digitalización",
            "Digitalização",
            "Cyfryzacja",
            "Cyfryzacji",
            "Cyfrowa",
            "Cyfrowej",
        ],
    ),
    (
        "health",
        &[
            "Health",
            "Santé",
            "Gesundheit",
            "Salute",
            "Salud",
            "Saúde",
            "Gezondheid",
            "Zdrowie",
            "Zdrowia",
        ],
    ),
    (
        "research-innovation",
        &[
            "Research & Innovation",
            "Research and Innovation",
            "Research&Innovation",
            "R&I",
            "R & I",
            "Recherche et innovation",
            "Recherche & innovation",
            "Forschung und Innovation",
            "Forschung & Innovation",
            "F&I",
            "Ricerca e innovazione",
            "Ricerca & innovazione",
            "Investigación e Innovación",
            "Investigación y Innovación",
            "I+D+i",
            "Investigação e Inovação",
            "Onderzoek en innovatie",
            "Badania i innowacje",
            "Badań i innowacji",
            "Badania i innowacji",
        ],
    ),
    (
        "territorial",
        &[
            "Territorial",
            "Territoriale",
            "Territoriales",
            "Territoriaal",
            "Terytorialna",
            "Terytorialnej",
            "Territorial cohesion",
            "Cohésion territoriale",
        ],
    ),
];

/// Weak aliases (folded): accepted only as the value of a labelled group field.
const WEAK_ALIASES: &[(&str, &[&str])] = &[
    (
        "research-innovation",
        &[
            "research",
            "innovation",
            "recherche",
            "forschung",
            "ricerca",
            "innovazione",
            "investigacion",
            "innovacion",
            "investigacao",
            "inovacao",
            "onderzoek",
            "innovatie",
            "badania",
            "innowacje",
        ],
    ),
    (
        "territorial",
        &[
            "territory",
            "territoire",
            "territorium",
            "territorio",
            "terytorium",
        ],
    ),
];

static GROUP_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(groups?|wgs?|groupes?|gruppen?|arbeitsgruppen?|ags?|gruppi|gruppo|grupos?|werkgroep(en)?|groep(en)?|grup[aeyi]|grupie|gts?|working)\b")
        .expect("group word regex")
});

struct Alias {
    folded: String,
    group: usize,
    weak: bool,
}

fn aliases(cfg: &ExtractConfig, with_weak: bool) -> Vec<Alias> {
    let mut out = Vec::new();
    for (group, g) in cfg.groups.iter().enumerate() {
        let slug_words = g.slug.replace(['-', '_'], " ");
        for name in g
            .names
            .iter()
            .map(String::as_str)
            .chain([g.slug.as_str(), &slug_words])
        {
            let folded = fold(name.trim());
            if !folded.is_empty() {
                out.push(Alias {
                    folded,
                    group,
                    weak: false,
                });
            }
        }
        if with_weak {
            for (_, names) in WEAK_ALIASES.iter().filter(|(slug, _)| *slug == g.slug) {
                out.extend(names.iter().map(|n| Alias {
                    folded: (*n).to_string(),
                    group,
                    weak: true,
                }));
            }
        }
    }
    out
}

/// All non-overlapping alias occurrences at word boundaries: (start, end, group index),
/// in text order; at one position the longest alias wins.
fn mentions(folded: &str, aliases: &[Alias]) -> Vec<(usize, usize, usize)> {
    let mut found: Vec<(usize, usize, usize, bool)> = Vec::new();
    for alias in aliases {
        let mut from = 0;
        while let Some(pos) = folded[from..].find(alias.folded.as_str()) {
            let start = from + pos;
            let end = start + alias.folded.len();
            let before = folded[..start].chars().next_back();
            let after = folded[end..].chars().next();
            if !before.is_some_and(char::is_alphanumeric)
                && !after.is_some_and(char::is_alphanumeric)
            {
                found.push((start, end, alias.group, alias.weak));
            }
            from = end;
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.3.cmp(&b.3)));
    let mut out: Vec<(usize, usize, usize)> = Vec::new();
    for (start, end, group, _) in found {
        if out.last().is_none_or(|last| start >= last.1) {
            out.push((start, end, group));
        }
    }
    out
}

fn slugs(cfg: &ExtractConfig, groups: impl IntoIterator<Item = usize>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for g in groups {
        let slug = &cfg.groups[g].slug;
        if !out.contains(slug) {
            out.push(slug.clone());
        }
    }
    out
}

/// Groups named in a labelled field's value ("Digital; Health", "Gesundheit", "R&I").
pub fn from_value(value: &str, cfg: &ExtractConfig) -> Vec<String> {
    let folded = super::normalise::without_negated(&fold(value));
    let found = mentions(&folded, &aliases(cfg, true));
    slugs(cfg, found.into_iter().map(|m| m.2))
}

/// Groups named in a subject line: any strong alias counts.
pub fn from_subject(subject: &str, cfg: &ExtractConfig) -> Vec<String> {
    let folded = fold(subject);
    let found = mentions(&folded, &aliases(cfg, false));
    slugs(cfg, found.into_iter().map(|m| m.2))
}

/// Window, in bytes, searched around an alias for a word meaning "group".
const WINDOW: usize = 40;

/// Groups named in running text (folded): strong aliases near a word for "group".
pub fn from_prose(folded: &str, cfg: &ExtractConfig) -> Vec<String> {
    let found = mentions(folded, &aliases(cfg, false));
    let near_group_word = |start: usize, end: usize| {
        let before = &folded[floor_boundary(folded, start.saturating_sub(WINDOW))..start];
        let before = before
            .rsplit(['\n', '?', '!', ';'])
            .next()
            .unwrap_or_default();
        let after = &folded[end..floor_boundary(folded, end + WINDOW)];
        let after = after
            .split(['\n', '?', '!', ';'])
            .next()
            .unwrap_or_default();
        GROUP_WORD.is_match(before) || GROUP_WORD.is_match(after)
    };
    let groups = found
        .into_iter()
        .filter(|&(start, end, _)| near_group_word(start, end))
        .map(|m| m.2);
    slugs(cfg, groups)
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::extract::GroupNames;

    fn cfg() -> ExtractConfig {
        let g = |slug: &str, name: &str| GroupNames {
            slug: slug.into(),
            names: vec![name.into()],
        };
        ExtractConfig::with_default_aliases(vec![
            g("digital", "Digital"),
            g("health", "Health"),
            g("research-innovation", "Research & Innovation"),
            g("territorial", "Territorial"),
        ])
    }

    #[test]
    fn values() {
        let cfg = cfg();
        assert_eq!(
            from_value("Digital and Health", &cfg),
            ["digital", "health"]
        );
        assert_eq!(
            from_value("Investigación e Innovación", &cfg),
            ["research-innovation"]
        );
        assert_eq!(from_value("Research", &cfg), ["research-innovation"]);
        assert_eq!(
            from_value("Gesundheit, Digitales", &cfg),
            ["health", "digital"]
        );
        assert_eq!(
            from_value("R&I; Santé; R&I", &cfg),
            ["research-innovation", "health"]
        );
        assert!(from_value("none", &cfg).is_empty());
    }

    #[test]
    fn prose_needs_a_group_word() {
        let cfg = cfg();
        let text = fold(
            "We pilot digital-skills training. We would like to join the Health working group.",
        );
        assert_eq!(from_prose(&text, &cfg), ["health"]);
        let text = fold("nous souhaitons rejoindre le groupe Numérique");
        assert_eq!(from_prose(&text, &cfg), ["digital"]);
        let text = fold("dołączyć do grupy roboczej ds. zdrowia");
        assert_eq!(from_prose(&text, &cfg), ["health"]);
        let text = fold("the Digital and Health working groups");
        assert_eq!(from_prose(&text, &cfg), ["digital", "health"]);
        let text = fold("our research group works on innovation");
        assert!(from_prose(&text, &cfg).is_empty());
    }
}
