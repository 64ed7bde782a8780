//! Reading free text: intent to apply, role, organisation, region and self-description in
//! sentences like "I would like to join the Health working group as a member" or "nous
//! souhaitons rejoindre le groupe Numérique".
//!
//! Intent needs three things in one sentence that is not a question: a first-person marker
//! ("we", "nous", "wir", "vorremmo", "chcielibyśmy"…), a verb or noun of applying ("join",
//! "rejoindre", "bewerben", "candidatura"…) and a target (a group, a role, a partnership, a call,
//! an application). Sentences about meetings ("we will join the online meeting") and negated
//! ones ("we cannot join") do not count.

use std::sync::LazyLock;

use regex::Regex;

use super::normalise;
use super::text::fold;
use super::{ExtractConfig, Role, StakeholderType, groups};

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("prose regex")
}

static FIRST_PERSON: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(i|i'm|i'd|we|we're|we'd|my|our|us|je|j'|nous|ma|mon|notre|nos|ich|wir|mein|meine|unser|unsere|uns|io|noi|vorrei|vorremmo|desidero|desideriamo|mi|ci|mio|mia|nostro|nostra|siamo|sono|yo|nosotros|nos|me|quisiera|quisieramos|deseo|deseamos|nuestro|nuestra|eu|gostaria|gostariamos|desejo|desejamos|meu|minha|nosso|nossa|venho|vimos|ik|wij|mijn|onze|ons|ja|chcialbym|chcialabym|chcielibysmy|chcemy|chce|moj|moja|nasz|nasza|nasze|zglaszam|zglaszamy|wyrazam|wyrazamy)\b",
    )
});

static INTENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(join|joining|apply|applying|submit|submitting|express|expressing|become|becoming|take part|be considered|nominate|put forward|interest|interested|candida\w*|particip\w*|postuler|rejoindre|adherer|soumettre|soumets|exprimer|manifester|faire partie|integrer|devenir|presenter|poser|bewerb\w*|teilnehmen|mitwirken|mitarbeiten|beitreten|anschliessen|mitmachen|einreichen|interes\w*|mitglied werden|aderire|entrare|far parte|presentare|manifestare|esprimere|manifestazione|diventare|unirme|unirnos|formar parte|incorporarnos|presentar|solicitar|solicitud|manifestacion|expresar|integrar|aderir|fazer parte|apresentar|manifestacao|tornar|deelnemen|deel te nemen|aansluiten|aan te sluiten|aanmelden|aanmelding|lid worden|lid te worden|kandidaat|kandidatuur|solliciteren|indienen|deel uitmaken|dolaczyc|dolaczenia|przystapic|uczestniczyc|udzial|zglosic|zglaszam|zglaszamy|zgloszenie|wyrazic|wyrazam|wyrazamy|kandydowac|kandydatur\w*|zostac)\b",
    )
});

static TARGET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(groups?|groupes?|gruppen?|arbeitsgruppen?|gruppi|gruppo|grupos?|werkgroep\w*|groep\w*|grup[aeyi]|grupie|member\w*|membre\w*|mitglied\w*|membr[oi]|miembros?|membros|lid|leden|czlon\w*|expert\w*|espert\w*|perit[oa]|ekspert\w*|leader\w*|co-?lead|core team|noyau|kernteam|partnership|partenariat|partnerschaft|partenariato|partenariado|parceria|partnerschap|partnerstw\w*|call for|appel a|aufruf|bando|invito|convocatoria|convite|oproep|nabor\w*|expression of interest|application|candidature|candidatura|bewerbung|solicitud|aanmelding|kandidatuur|zgloszeni\w*)\b",
    )
});

static MEETING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(meetings?|reunions?|sitzung\w*|treffen|riunion\w*|reuni\w*|vergadering\w*|spotkani\w*|webinars?|webinaire|events?|evenements?|veranstaltung\w*|eventos?|wydarzeni\w*|agenda|ordre du jour|tagesordnung|zoom|teams)\b",
    )
});

static NEGATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(not|cannot|can't|unable|won't|no longer|nicht|kein\w*|niet|geen|nie)\b|\bne\b.{0,25}\bpas\b|\bn'.{0,25}\bpas\b|\bnon\s|\bno\s+(podemos|puedo|vamos|queremos|podremos)|\bnao\s",
    )
});

/// Sentences of `text` (line wraps undone), each with whether it is a question.
pub fn sentences(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for paragraph in text.split("\n\n") {
        let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
        let chars: Vec<char> = joined.chars().collect();
        let mut start = 0;
        for i in 0..chars.len() {
            let end_mark = matches!(chars[i], '.' | '!' | '?' | ';');
            let next_starts = chars.get(i + 1).is_none_or(|c| *c == ' ')
                && chars
                    .get(i + 2)
                    .is_none_or(|c| c.is_uppercase() || c.is_numeric() || !c.is_alphabetic());
            if end_mark && next_starts {
                let s: String = chars[start..=i].iter().collect();
                out.push((s.trim().to_string(), chars[i] == '?'));
                start = i + 1;
            }
        }
        let rest: String = chars[start.min(chars.len())..].iter().collect();
        if !rest.trim().is_empty() {
            out.push((
                rest.trim().to_string(),
                rest.contains('?') || rest.contains('¿'),
            ));
        }
    }
    out
}

/// Whether one sentence (folded) states an intent to apply.
fn is_intent(folded: &str, cfg: &ExtractConfig) -> bool {
    FIRST_PERSON.is_match(folded)
        && INTENT.is_match(folded)
        && (TARGET.is_match(folded) || !groups::from_subject(folded, cfg).is_empty())
        && !MEETING.is_match(folded)
        && !NEGATION.is_match(folded)
}

/// Whether any statement in `text` states an intent to apply.
pub fn has_intent(text: &str, cfg: &ExtractConfig) -> bool {
    sentences(text)
        .iter()
        .any(|(s, question)| !question && is_intent(&fold(s), cfg))
}

/// Whether `text` asks anything.
pub fn has_question(text: &str) -> bool {
    text.contains('¿') || sentences(text).iter().any(|(_, q)| *q)
}

static ROLE_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:as|als|en tant que|en tant qu|comme|come|in qualita di|como|en calidad de|na qualidade de|jako|in de rol van|the role of|role of|le role de|die rolle (?:als|einer|eines)|il ruolo di|el papel de|el rol de|o papel de|a funcao de|de rol van|w roli)[\s']+(?:(?:an?|un|une|ein|eine|einer|einem|eines|uno|una|um|uma|een|the|le|la|il|o|el|der|die|des)\s+)?(?:[\w'-]+\s+){0,2}?((?:co-?)?(?:lead|leader|leaders|chair|expert\w*|espert[oai]|expert[oa]|perit[oa]|ekspert\w*|members?|membres?|mitglied(?:er)?|membr[oi]|miembros?|membros|lid|leden|czlon\w*|pilote|copilote|leiter(?:in)?|capofila|lider\w*|trekker|voorzitter|deskundige|sachverstandige\w*|specialist))\b",
    )
});

static LEAD_VERB: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(to (?:co-?)?lead|(?:co-?)?lead(?:ing)? the (?:working )?group|leadership role|(?:co-?)?piloter|co-?animer|(?:co-?)?leiten|die leitung|(?:co-?)?coordinare|liderar|coliderar|co-liderar|wspolprowadzic)\b",
    )
});

/// The role sought, from the earliest role mention in running text (folded).
pub fn role(folded: &str) -> Option<Role> {
    let by_context = ROLE_CONTEXT
        .captures(folded)
        .and_then(|c| c.get(1))
        .and_then(|m| normalise::role(m.as_str()).map(|r| (m.start(), r)));
    let by_verb = LEAD_VERB.find(folded).map(|m| (m.start(), Role::Leader));
    [by_context, by_verb]
        .into_iter()
        .flatten()
        .min_by_key(|(start, _)| *start)
        .map(|(_, role)| role)
}

/// A proper name: capitalised words, joined by spaces and the small words of names
/// ("Regional Council of Kainuu", "Agenzia Sanitaria e Sociale Regionale dell'Emilia-Romagna").
const ORG_NAME: &str = r"(\p{Lu}[\p{L}\p{N}&'’.-]*(?:[ ](?:(?:of|for|and|the|de|du|des|la|le|del|della|di|der|die|das|für|van|voor|en|et|und|e|y|i|do|da|dos|das|&|am|an|im)[ ])*(?:dell'|d'|l')?\p{Lu}[\p{L}\p{N}&'’.-]*)*)";

static ORG_INTRO: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i:\b(?:on behalf of|representing|represento|representamos|rappresento|je repr[ée]sente|ich vertrete|ik vertegenwoordig|reprezentuj[eę]|au nom de|pour le compte de|im (?:namen|auftrag) (?:der|des|von)|in rappresentanza (?:di|del|della|dell')|per conto (?:di|del|della)|en nombre de|en representaci[oó]n de|em nome (?:de|do|da)|em representa[cç][aã]o (?:de|do|da)|namens|w imieniu|work(?:ing)? (?:at|for)|employed (?:at|by)|je travaille (?:à|au|pour)|ich arbeite (?:bei|für|im|in der)|lavoro (?:presso|per)|trabajo (?:en|para)|trabalho (?:na|no|em|para)|ik werk (?:bij|voor)|pracuj[eę] (?:w|dla)|(?:i am|i'm|my name is|je suis|ich bin|sono|soy|sou|ik ben|jestem|nazywam si[eę])\s[^,.;\n]{{1,40}}?\s(?:from|at|of|de|du|von|vom|di|da|do|van|z|ze))\s+)(?:(?i:the|la|le|les|del|de la|de|der|die|des|das|il|lo|della|do|da|el|a|o|het)\s+|l'|dell')?{ORG_NAME}"
    ))
});

/// An organisation introduced in running text ("on behalf of X", "I am … from X").
pub fn organisation(text: &str) -> Option<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for caps in ORG_INTRO.captures_iter(&text) {
        let Some(m) = caps.get(1) else { continue };
        let org = end_of_name(m.as_str());
        if org.chars().count() >= 3 && !super::country::is_country_name(org) {
            return Some(org.to_string());
        }
    }
    None
}

static REGION_BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\b(?:[Rr]egion|[Rr]égion|[Rr]egione|[Rr]egión|[Rr]egião|[Rr]egio|[Pp]rovince|[Pp]rovincia|[Pp]rovincie|[Cc]ounty|[Bb]undesland|[Cc]omunidad [Aa]ut[oó]noma)\s+(?:of\s+|de\s+la\s+|de\s+|del\s+|do\s+|da\s+|des\s+|du\s+|di\s+|della\s+|van\s+|d'|l')?{ORG_NAME}"
    ))
});

static REGION_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"{ORG_NAME}\s+(?:[Rr]egion|[Pp]rovince|[Cc]ounty)\b"
    ))
});

const NOT_REGIONS: [&str; 8] = ["European", "The", "Our", "This", "Each", "Every", "My", "A"];

/// A region named in running text ("South Moravian region", "Région Occitanie").
pub fn region(text: &str) -> Option<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let before = REGION_BEFORE.captures(&text).and_then(|c| c.get(1));
    let after = REGION_AFTER.captures(&text).and_then(|c| c.get(1));
    let found = [before, after]
        .into_iter()
        .flatten()
        .filter(|m| !NOT_REGIONS.contains(&m.as_str()))
        .min_by_key(|m| m.start())?;
    Some(end_of_name(found.as_str()).to_string())
}

/// A name match ends at a sentence's full stop ("Bretagne. Notre …" → "Bretagne"), but not at
/// an abbreviation's ("St. Gallen", "e.V.").
fn end_of_name(matched: &str) -> &str {
    let mut end = matched.len();
    for (i, _) in matched.match_indices(". ") {
        let word = matched[..i].rsplit(' ').next().unwrap_or_default();
        if word.chars().count() > 3 && !word.contains('.') {
            end = i;
            break;
        }
    }
    let name = matched[..end].trim_end_matches(['-', '\'', ' ']).trim();
    let last = name.rsplit(' ').next().unwrap_or_default();
    let abbreviation = last.trim_end_matches('.').contains('.') || last.chars().count() <= 4;
    if abbreviation {
        name
    } else {
        name.trim_end_matches('.')
    }
}

static SELF_DESCRIPTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(we are|i am|i'm|we're|is an?|are an?|nous sommes|je suis|est une?|wir sind|ich bin|ist eine?|siamo|sono|e un|e una|somos|soy|es una?|sou|e uma?|wij zijn|we zijn|ik ben|is een|jestesmy|jestem|jest|on behalf of|representing|au nom de|im namen|w imieniu)\b\s*|, (an?|une?|eine?|uno|una|um|uma|een) ",
    )
});

/// The stakeholder type implied by how the writer describes themselves: the noun phrase
/// after "we are", "is a", ", an", "wir sind", "jesteśmy"… up to punctuation, six words at most.
pub fn stakeholder(text: &str) -> Option<StakeholderType> {
    let folded = fold(&text.split_whitespace().collect::<Vec<_>>().join(" "));
    SELF_DESCRIPTION.find_iter(&folded).find_map(|m| {
        let rest = &folded[m.end()..];
        let phrase = rest
            .split(['.', ',', ';', '(', ')', ':', '!', '?'])
            .next()
            .unwrap_or_default();
        let phrase: Vec<&str> = phrase.split_whitespace().take(6).collect();
        normalise::stakeholder_head(&phrase.join(" "))
    })
}

static MATRIX_ID: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?:^|[\s(<:,;])(@[A-Za-z0-9._=/+-]+:[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d{1,5})?)")
});

/// A Matrix user id ("@user:server.tld") in `text`.
pub fn matrix_id(text: &str) -> Option<String> {
    MATRIX_ID
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().trim_end_matches('.').to_string())
}

static POINTS_TO_ATTACHMENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(motivation|motivazione|motivacion|motivacao|motivatie|motywacj\w*|beweggrunde|begrundung)[^.]{0,60}\b(attach\w*|enclosed|joint|jointe|anbei|anhang|allegat\w*|adjunt\w*|anexo|bijlage|zalacz\w*)|^(see|voir|siehe|vedi|ver|veja|zie|patrz)\b.{0,30}\b(attach\w*|enclosed|joint\w*|anhang|anlage|allegat\w*|adjunt\w*|anexo|bijlage|zalacz\w*)",
    )
});

/// Whether a motivation only says that the motivation is in an attachment ("our motivation is
/// in the attached letter", "see attached").
pub fn points_to_attachment(text: &str) -> bool {
    POINTS_TO_ATTACHMENT.is_match(&fold(text))
}

static CORRECTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(correct\w*|rectif\w*|korrektur\w*|korrigier\w*|berichtig\w*|correzion\w*|corregg\w*|correccion\w*|corregir|correcao|corrigir|correctie|corrigeren|verbeter\w*|poprawk\w*|poprawi\w*|sprostowani\w*|instead of|au lieu de|statt|anstatt|invece di|en lugar de|en vez de|em vez de|in plaats van|zamiast|update\w*|mise a jour|aktualisier\w*|aggiorn\w*|actualiz\w*|atualiz\w*|bijgewerkt|aktualizac\w*|mistake|erreur|fehler|errore|error|erro|fout|blad)\b",
    )
});

/// Whether the text says it corrects or updates something.
pub fn mentions_correction(folded: &str) -> bool {
    CORRECTION.is_match(folded)
}

static EOI_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"expressions? of interest|\beoi\b|application|\bapply|candidature|candidacy|candidatura|bewerbung|interessenbekundung|manifestazione di interesse|manifestacion de interes|manifestacao de interesse|manifestation d'interet|solicitud|aanmelding|belangstelling|kandidatuur|zgloszenie|kandydatura|interest in|membership|call for (members|experts|expressions)|skills partnership|partenariat|partnerschaft|adhesion|deelname|uczestnictwo",
    )
});

/// Whether a subject (folded, prefixes removed) announces an application.
pub fn subject_is_eoi(folded: &str) -> bool {
    EOI_SUBJECT.is_match(folded)
}

static SUBJECT_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(re|aw|sv|odp|antw|rif|r|res|fwd?|fw|tr|wg|i|rv|enc|doorst|pd)\s*(?:\[\d+\])?\s*:\s*",
    )
});

/// The subject's reply/forward prefixes: (is a reply, is a forward, rest of the subject).
pub fn subject_prefixes(subject: &str) -> (bool, bool, &str) {
    let mut rest = subject;
    let (mut reply, mut forward) = (false, false);
    while let Some(caps) = SUBJECT_PREFIX.captures(rest) {
        let word = caps[1].to_ascii_lowercase();
        let is_fwd = matches!(
            word.as_str(),
            "fwd" | "fw" | "tr" | "wg" | "i" | "rv" | "enc" | "doorst" | "pd"
        );
        if is_fwd {
            forward = true;
        } else if !forward {
            reply = true;
        }
        rest = &rest[caps[0].len()..];
    }
    (reply, forward, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::extract::GroupNames;

    fn cfg() -> ExtractConfig {
        ExtractConfig::with_default_aliases(vec![GroupNames {
            slug: "health".into(),
            names: vec!["Health".into()],
        }])
    }

    #[test]
    fn intent() {
        let cfg = cfg();
        assert!(has_intent(
            "I would like to join the Health working group as a member.",
            &cfg
        ));
        assert!(has_intent(
            "Wir möchten uns für die Arbeitsgruppe Gesundheit bewerben.",
            &cfg
        ));
        assert!(has_intent(
            "Chcielibyśmy dołączyć do grupy roboczej ds. zdrowia.",
            &cfg
        ));
        assert!(!has_intent(
            "We will join the online meeting of the Health group.",
            &cfg
        ));
        assert!(!has_intent("Can I still apply to the Health group?", &cfg));
        assert!(!has_intent(
            "Unfortunately we cannot join the Health group.",
            &cfg
        ));
    }

    #[test]
    fn prose_fields() {
        let text = "I am Tomás Horák from Zdravé Město, an NGO in Brno (Czechia, South Moravian \
                    region). We would like to join the Health working group as members.";
        assert_eq!(organisation(text).as_deref(), Some("Zdravé Město"));
        assert_eq!(region(text).as_deref(), Some("South Moravian"));
        assert_eq!(stakeholder(text), Some(StakeholderType::CivilSociety));
        assert_eq!(role(&fold(text)), Some(Role::Member));
        assert_eq!(
            role("nous souhaitons y participer en tant qu'expert"),
            Some(Role::Expert)
        );
        assert_eq!(
            role("we would be happy to co-lead the group"),
            Some(Role::Leader)
        );
        assert_eq!(region("the Région Occitanie").as_deref(), Some("Occitanie"));
    }

    #[test]
    fn matrix_and_subjects() {
        assert_eq!(
            matrix_id("Matrix: @aino:matrix.org.").as_deref(),
            Some("@aino:matrix.org")
        );
        assert_eq!(matrix_id("mail aino@matrix.org"), None);
        assert_eq!(subject_prefixes("RE: AW: x"), (true, false, "x"));
        assert_eq!(
            subject_prefixes("WG: Bewerbung"),
            (false, true, "Bewerbung")
        );
        assert!(subject_is_eoi("manifestacion de interes - grupo"));
    }
}
