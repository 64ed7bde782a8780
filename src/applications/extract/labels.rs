//! The label vocabulary of application forms, folded (see [`super::text::fold`]), in English,
//! French, German, Italian, Spanish, Portuguese, Dutch and Polish. One place to add a synonym.

use std::collections::HashMap;
use std::sync::LazyLock;

/// What a label asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    /// "Name, Vorname: Müller, Hans": surname first.
    NameLastFirst,
    FirstName,
    LastName,
    Email,
    Organisation,
    StakeholderType,
    Country,
    Region,
    Group,
    Partnership,
    Role,
    Motivation,
    Matrix,
    /// A known label that is not wanted (phone, address, job title): ends the previous value.
    Ignore,
}

#[rustfmt::skip]
const LABELS: &[(Field, &[&str])] = &[
    (Field::Name, &[
        "name", "full name", "name and surname", "first and last name", "contact person",
        "contact name", "applicant", "applicant name", "name of applicant",
        "name of the applicant", "nom", "nom complet", "nom et prenom", "prenom et nom",
        "nom prenom", "prenom nom", "vollstandiger name", "vor- und nachname", "vorname nachname",
        "nome", "nome e cognome", "nome completo", "nombre", "nombre y apellidos",
        "nombre completo", "nombre y apellido", "naam", "volledige naam", "voor- en achternaam",
        "imie i nazwisko", "imie nazwisko",
    ]),
    (Field::NameLastFirst, &[
        "name, vorname", "nachname, vorname", "nom, prenom", "cognome e nome",
        "apellidos y nombre", "achternaam, voornaam", "nazwisko i imie",
    ]),
    (Field::FirstName, &[
        "first name", "given name", "forename", "prenom", "vorname", "primeiro nome", "voornaam",
        "imie",
    ]),
    (Field::LastName, &[
        "last name", "surname", "family name", "nom de famille", "nachname", "familienname",
        "cognome", "apellido", "apellidos", "apelido", "sobrenome", "ultimo nome", "achternaam",
        "nazwisko",
    ]),
    (Field::Email, &[
        "email", "e-mail", "e-mail address", "email address", "mail", "contact email", "courriel",
        "adresse e-mail", "adresse email", "adresse electronique", "e-mail-adresse",
        "e-mail adresse", "indirizzo email", "indirizzo e-mail", "posta elettronica",
        "correo electronico", "correo", "endereco de e-mail", "endereco de email",
        "endereco eletronico", "correio eletronico", "e-mailadres", "e-mail adres", "adres e-mail",
        "adres email",
    ]),
    (Field::Organisation, &[
        "organisation", "organization", "organisation name", "organization name",
        "name of organisation", "name of organization", "name of the organisation",
        "name of the organization", "institution", "entity", "employer", "affiliation", "company",
        "organisme", "structure", "etablissement", "nom de l'organisme", "nom de l'organisation",
        "einrichtung", "name der organisation", "name der einrichtung", "institution", "ente",
        "organizzazione", "istituzione", "nome dell'ente", "organizacion", "entidad",
        "institucion", "nombre de la organizacion", "nombre de la entidad", "entidade",
        "organizacao", "instituicao", "nome da entidade", "nome da organizacao", "organisatie",
        "instelling", "naam organisatie", "naam van de organisatie", "organizacja", "instytucja",
        "nazwa organizacji", "nazwa instytucji", "podmiot",
    ]),
    (Field::StakeholderType, &[
        "type of organisation", "type of organization", "organisation type", "organization type",
        "type of stakeholder", "stakeholder type", "stakeholder category", "stakeholder",
        "category", "type", "type of entity", "entity type", "type d'organisme",
        "type d'organisation", "categorie", "type de structure", "type d'acteur",
        "art der organisation", "organisationstyp", "art der einrichtung", "kategorie",
        "akteursgruppe", "tipo di ente", "tipologia", "tipologia di ente",
        "tipo di organizzazione", "categoria", "tipo de organizacion", "tipo de entidad",
        "tipo de entidade", "tipo de organizacao", "type organisatie", "soort organisatie",
        "type instelling", "typ organizacji", "rodzaj organizacji", "kategoria", "typ podmiotu",
        "rodzaj podmiotu",
    ]),
    (Field::Country, &[
        "country", "member state", "country of residence", "country of establishment", "pays",
        "etat membre", "land", "staat", "mitgliedstaat", "paese", "stato membro", "nazione",
        "pais", "estado miembro", "estado-membro", "estado membro", "lidstaat", "panstwo", "kraj",
        "panstwo czlonkowskie",
    ]),
    (Field::Region, &[
        "region", "nuts region", "nuts 2 region", "nuts2 region", "province", "county",
        "bundesland", "regione", "comunidad autonoma", "regiao", "regio", "provincie", "provincia",
        "wojewodztwo",
    ]),
    (Field::Group, &[
        "working group", "group", "thematic group", "group of interest", "group applied for", "wg",
        "groupe de travail", "groupe", "groupe thematique", "arbeitsgruppe", "gruppe",
        "thematische gruppe", "gruppo di lavoro", "gruppo", "gruppo tematico", "grupo de trabajo",
        "grupo", "grupo tematico", "grupo de trabalho", "werkgroep", "groep", "grupa robocza",
        "grupa", "grupa tematyczna", "theme", "thematic area",
    ]),
    (Field::Partnership, &[
        "partnership", "partnership type", "type of partnership", "partnership model",
        "type de partenariat", "partenariat", "art der partnerschaft", "partnerschaft",
        "tipo di partenariato", "partenariato", "tipo de asociacion", "tipo de partenariado",
        "tipo de parceria", "parceria", "type partnerschap", "soort partnerschap", "partnerschap",
        "rodzaj partnerstwa", "typ partnerstwa", "partnerstwo",
    ]),
    (Field::Role, &[
        "role", "role sought", "desired role", "role applied for", "applying as",
        "role in the group", "function", "role souhaite", "fonction", "fonction souhaitee",
        "candidature en tant que", "rolle", "gewunschte rolle", "funktion", "ruolo",
        "ruolo richiesto", "funzione", "funcion", "rol", "rol deseado", "rol solicitado", "papel",
        "funcao", "papel pretendido", "gewenste rol", "functie", "rola", "funkcja", "membership",
        "type of membership",
    ]),
    (Field::Motivation, &[
        "motivation", "motivation statement", "statement of motivation", "reasons", "reason",
        "contribution", "expected contribution", "lettre de motivation", "beweggrunde",
        "begrundung", "beitrag", "motivazione", "contributo", "motivacion", "contribucion",
        "motivacao", "motivatie", "bijdrage", "motywacja", "uzasadnienie", "wklad",
    ]),
    (Field::Matrix, &[
        "matrix", "matrix id", "matrix handle", "matrix account", "matrix user",
        "identifiant matrix",
    ]),
    (Field::Ignore, &[
        "phone", "telephone", "tel", "mobile", "fax", "address", "postal address", "website",
        "web", "url", "position", "job title", "title", "adresse", "site web", "site internet",
        "poste", "telefon", "anschrift", "webseite", "telefono", "indirizzo", "sito web",
        "direccion", "cargo", "telefone", "morada", "endereco", "telefoon", "adres", "stanowisko",
        "date", "datum", "data", "fecha", "linkedin", "twitter", "skype", "vat", "pic",
        "date of birth",
    ]),
];

/// Folded label → field.
pub static TABLE: LazyLock<HashMap<&'static str, Field>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (field, labels) in LABELS {
        for label in *labels {
            map.entry(*label).or_insert(*field);
        }
    }
    map
});
