//! Fixed vocabularies: stakeholder type, role sought and kind of skills partnership.
//!
//! Every function takes *folded* text (see [`super::text::fold`]).
//!
//! Stakeholder type rules are tried in order and the first that matches wins; specific
//! markers come before generic ones, so "Regional Development Agency" is an agency, "non-profit
//! think tank" is research/academia and "Ministry of Research" a public authority. Choices
//! made where the domain leaves room: regional and local authorities are `public_authority`;
//! pan-European organisations and associations *of regions* are `regional_organisation`;
//! universities and think tanks are `research_academia`; clusters, networks, innovation hubs
//! and intermediaries are `network_cluster`; NGOs, foundations, trade unions and employers'
//! organisations are `civil_society` (the domain lists workers' and employers' representatives
//! there); chambers of commerce and business associations are `business_association`.

use std::sync::LazyLock;

use regex::Regex;

use super::{Role, StakeholderType};

static STAKEHOLDER_RULES: LazyLock<Vec<(Regex, StakeholderType)>> = LazyLock::new(|| {
    use StakeholderType::*;
    let rules: [(&str, StakeholderType); 11] = [
        (
            r"pan-?european|(association|network|organi[sz]ation|federation|assembly|conference)s? (of|for) (the )?(european |peripheral |maritime |border )*regions|association des regions|reseau des regions|organisation europeenne des regions|regionenverband|europaische regionen|associazione delle regioni|asociacion de regiones|associacao das regioes|vereniging van regio|stowarzyszenie regionow|(verband|verbund|zusammenschluss) von regionen|regional organi[sz]ation",
            RegionalOrganisation,
        ),
        (
            r"umbrella|faitiere|dachverband|spitzenverband|ombrello|paraguas|guarda-chuva|koepel|parasolow",
            UmbrellaOrganisation,
        ),
        (
            r"chambers? of (commerce|industry|crafts)|business (association|organi[sz]ation|federation)|industry association|trade association|chambre (de commerce|des metiers|d'agriculture)|\bcci\b|handelskammer|handwerkskammer|\bihk\b|wirtschaftsverband|unternehmensverband|industrieverband|camera di commercio|associazione (di categoria|imprenditoriale|industriale)|confindustria|camara de comercio|asociacion empresarial|associacao (empresarial|comercial|industrial)|kamer van koophandel|brancheorganisatie|ondernemersorganisatie|izba (gospodarcza|handlowa|przemyslowo-handlowa|rzemieslnicza)",
            BusinessAssociation,
        ),
        (
            r"think[ -]?tank|universit|universid|hochschule|uniwersytet|politechnika|polytechnic|politecnico|hogeschool|research (institute|centre|center|organi[sz]ation)|academia|academic|akademia",
            ResearchAcademia,
        ),
        (
            r"\bngos?\b|\bongs?\b|non-?governmental|civil society|societe civile|zivilgesellschaft|societa civile|sociedad civil|sociedade civil|maatschappelijk|spoleczenstw|trade unions?|labou?r unions?|employers|syndicat|gewerkschaft|sindacat|sindicato|vakbond|zwiazek zawodowy|\bonlus\b|organizacja pozarzadowa",
            CivilSociety,
        ),
        (
            r"agency|agencies|agence|agentur|agenzia|agencia|agentschap|agencja|para-?public|parapubblic",
            Agency,
        ),
        (
            r"public authorit|authorit(y|ies)|autorit|autoridad|\bwladz|ministr|minister(e|ium|o|ie)|municipal|municipio|gemeentelijk|kommunal|city (council|of|hall)|county|regional (council|government|authority|administration)|\bcouncil\b|government|gouvernement|regierung|governo|gobierno|overheid|\brzad|collectivite|conseil (regional|departemental|municipal)|mairie|\bcommune\b|prefecture|ville de|landesregierung|landkreis|landratsamt|stadtverwaltung|\bstadt\b|gemeinde|bezirk|behorde|verwaltung|staatskanzlei|\bcomune\b|\bprovincia\b|ayuntamiento|\bjunta\b|diputacion|generalitat|xunta|camara municipal|\bgemeente\b|provincie|\burzad|\bgmina\b|wojewodztw|marszalkowski|powiat|samorzad|public administration|administration publique|administracion publica|administracao publica|pubblica amministrazione|local authorit|\bregione\b|\bregion\b",
            PublicAuthority,
        ),
        (
            r"cluster|network|intermediar|innovation hub|\bedih\b|\bhub\b|pole de competitivite|reseau|netzwerk|\brete\b|\bred\b|\brede\b|netwerk|\bsiec\b|klast",
            NetworkCluster,
        ),
        (
            r"research|recherche|forschung|ricerca|investigacion|investigacao|onderzoek|badaw|institut|istituto|instytut|college|academy|academie",
            ResearchAcademia,
        ),
        (
            r"charity|foundation|fondation|stiftung|fondazione|fundacion|fundacao|stichting|fundacja|stowarzyszenie|\bverein\b|\bvzw\b|\basbl\b|\basociacion\b|\bassociation\b|\bassociazione\b|\bassociacao\b|\bvereniging\b|\bverband\b",
            CivilSociety,
        ),
        // Last: adjectives of legal form, not a kind of organisation by themselves.
        (
            r"non-?profit|not-for-profit|sans but lucratif|gemeinnutzig|senza scopo di lucro|sin animo de lucro|sem fins lucrativos|zonder winstoogmerk|non-profit",
            CivilSociety,
        ),
    ];
    rules
        .into_iter()
        .map(|(re, t)| (Regex::new(re).expect("stakeholder regex"), t))
        .collect()
});

static OTHER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(other|others|autre|autres|sonstige|andere|altro|altra|otro|otra|outro|outra|overig|overige|inne|inna)\b")
        .expect("other regex")
});

/// The stakeholder type named or implied by `folded` (a type label's value, an organisation's
/// name), or `None` when nothing in it is recognised. Rules are tried in priority order.
pub fn stakeholder(folded: &str) -> Option<StakeholderType> {
    if OTHER.is_match(folded.trim()) {
        return Some(StakeholderType::Other);
    }
    STAKEHOLDER_RULES
        .iter()
        .find(|(re, _)| re.is_match(folded))
        .map(|(_, t)| t.clone())
}

/// Like [`stakeholder`] for a noun phrase in prose ("ein Netzwerk aus Landkreisen", "a
/// regional development agency"): the *earliest* word naming a type wins, priority breaks
/// ties, and a legal-form adjective ("non-profit") counts only when nothing else matches.
pub fn stakeholder_head(folded: &str) -> Option<StakeholderType> {
    let adjective = STAKEHOLDER_RULES.len() - 1;
    STAKEHOLDER_RULES
        .iter()
        .enumerate()
        .filter_map(|(i, (re, t))| re.find(folded).map(|m| (i == adjective, m.start(), i, t)))
        .min_by_key(|(adj, start, i, _)| (*adj, *start, *i))
        .map(|(_, _, _, t)| t.clone())
}

static LEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(co-?)?(lead|leader|leaders|leadership|chair|chairs|chairperson|pilote|copilote|chef de file|leiter|leiterin|leitung|co-leitung|vorsitz\w*|capofila|lider|liderar|lideranca|liderazgo|liderka|trekker|voorzitter|przewodnicz\w*)\b")
        .expect("leader regex")
});
static EXPERT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(expert|experts|experte|expertin|experten|sachverstandige\w*|esperto|esperta|esperti|experto|experta|perito|perita|especialista|deskundige|ekspert|ekspertka|ekspertem)\b")
        .expect("expert regex")
});
static MEMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(member|members|membership|membre|membres|mitglied|mitglieder|mitgliedschaft|membro|membri|miembro|miembros|membros|lid|leden|lidmaatschap|czlon\w*|core team|noyau|kernteam|participant|participants|teilnehmer\w*|partecipante|participante|deelnemer|uczestnik\w*)\b")
        .expect("member regex")
});

/// The role named in a role field's value; leader wins over expert, expert over member
/// ("core member, willing to co-lead" is a leader candidacy the secretariat must see).
pub fn role(folded: &str) -> Option<Role> {
    let kept = without_negated(folded);
    let folded = kept.as_str();
    if LEADER.is_match(folded) {
        Some(Role::Leader)
    } else if EXPERT.is_match(folded) {
        Some(Role::Expert)
    } else if MEMBER.is_match(folded) {
        Some(Role::Member)
    } else {
        None
    }
}

static NEGATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(not|non|nicht|kein\w*|pas|no|nao|niet|geen|nie|rather than|instead of|au lieu de|plutot que|statt|anstatt|invece di|anziche|en lugar de|en vez de|em vez de|in plaats van|zamiast)\b[^,;.)]*")
        .expect("negation regex")
});

/// `folded` without the phrases it rules out: "membro (non esperta)" → "membro ()".
pub fn without_negated(folded: &str) -> String {
    NEGATED.replace_all(folded, "").into_owned()
}

static PARTNERSHIP: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (
            r"single[- ]region|one region|region unique|une seule region|einzelne region|einzelregion|singola regione|regione singola|region unica|una sola region|regiao unica|uma unica regiao|enkele regio|een enkele regio|pojedyncz\w* region\w*|jeden region",
            "single_region",
        ),
        (
            r"macro-?regio\w*|macrorregi\w*|makroregion\w*|makro-region\w*",
            "macro_region",
        ),
        (
            r"network of regions|reseau de regions|netzwerk (von|aus|der) regionen|regionennetzwerk|rete di regioni|red de regiones|rede de regioes|netwerk van regio\w*|siec\w* regionow|regions with similar challenges",
            "network_of_regions",
        ),
    ]
    .into_iter()
    .map(|(re, k)| (Regex::new(re).expect("partnership regex"), k))
    .collect()
});

/// The kind of regional skills partnership mentioned first in `folded`.
pub fn partnership(folded: &str) -> Option<&'static str> {
    PARTNERSHIP
        .iter()
        .filter_map(|(re, kind)| re.find(folded).map(|m| (m.start(), *kind)))
        .min_by_key(|(start, _)| *start)
        .map(|(_, kind)| kind)
}

static PARTNERSHIP_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"partnership|partenariat|partnerschaft|partenariato|partenariado|asociacion para|alianza|parceria|partnerschap|partnerstw\w*|pact for skills|pacte pour les competences|kompetenzpakt")
        .expect("partnership context regex")
});

/// Whether `folded` talks about a (skills) partnership at all.
pub fn mentions_partnership(folded: &str) -> bool {
    PARTNERSHIP_CONTEXT.is_match(folded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::extract::text::fold;

    #[test]
    fn stakeholder_synonyms() {
        use StakeholderType::*;
        for (value, expected) in [
            ("Regional public authority", PublicAuthority),
            ("Regional Council of Kainuu", PublicAuthority),
            ("Ministry of Research", PublicAuthority),
            (
                "Pan-European organisation for regions",
                RegionalOrganisation,
            ),
            (
                "Association of European Border Regions",
                RegionalOrganisation,
            ),
            ("University", ResearchAcademia),
            ("Think tank (non-profit)", ResearchAcademia),
            ("Clúster / organización intermediaria", NetworkCluster),
            ("Collaborative network", NetworkCluster),
            ("NGO", CivilSociety),
            ("Trade union", CivilSociety),
            ("Employers' organisation", CivilSociety),
            ("Chamber of Commerce", BusinessAssociation),
            ("Industrie- und Handelskammer", BusinessAssociation),
            ("Regional Development Agency", Agency),
            ("Agence régionale", Agency),
            ("Umbrella organisation", UmbrellaOrganisation),
            ("Dachverband", UmbrellaOrganisation),
            ("Autre : PME", Other),
            ("Urząd Marszałkowski Województwa Śląskiego", PublicAuthority),
            ("Fundacja", CivilSociety),
            ("Istituto di ricerca", ResearchAcademia),
        ] {
            assert_eq!(stakeholder(&fold(value)), Some(expected), "{value}");
        }
        assert_eq!(stakeholder(&fold("Zdravé Město")), None);
        assert_eq!(
            stakeholder_head("netzwerk aus landkreisen"),
            Some(NetworkCluster)
        );
        assert_eq!(
            stakeholder_head("a non-profit think tank"),
            Some(ResearchAcademia)
        );
        assert_eq!(stakeholder_head("a non-profit"), Some(CivilSociety));
        assert_eq!(
            stakeholder_head("ein verband von regionen"),
            Some(RegionalOrganisation)
        );
        assert_eq!(stakeholder(&fold("European Union funding")), None);
    }

    #[test]
    fn roles() {
        for (value, expected) in [
            ("Core team member", Role::Member),
            ("Membre", Role::Member),
            ("Mitglied im Kernteam", Role::Member),
            ("Experta externa", Role::Expert),
            ("External expert", Role::Expert),
            ("Co-leader", Role::Leader),
            ("Member, willing to co-lead", Role::Leader),
            ("Członek", Role::Member),
            ("Lid", Role::Member),
        ] {
            assert_eq!(role(&fold(value)), Some(expected), "{value}");
        }
        assert_eq!(role(&fold("Head of Unit")), None);
        assert_eq!(
            role(&fold("Membro del gruppo centrale (non esperta esterna)")),
            Some(Role::Member)
        );
        assert_eq!(role(&fold("Expert rather than leader")), Some(Role::Expert));
        assert_eq!(role(&fold("Responsable de proyectos")), None);
    }

    #[test]
    fn partnerships() {
        assert_eq!(
            partnership("a single region partnership"),
            Some("single_region")
        );
        assert_eq!(partnership("une macro-region alpine"), Some("macro_region"));
        assert_eq!(
            partnership("ein netzwerk von regionen"),
            Some("network_of_regions")
        );
        assert_eq!(partnership("nothing"), None);
        assert!(mentions_partnership("regional skills partnership"));
    }
}
