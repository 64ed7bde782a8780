//! Cuts a plain-text body into what the applicant wrote now and what is not theirs to read
//! as fields: quoted earlier mail, the signature, greeting and closing lines.
//!
//! - A reply's new text ends at the first attribution line ("On … wrote:", "Le … a écrit :",
//!   "Am … schrieb …:", "W dniu … pisze:", …) or Outlook header block ("-----Original
//!   Message-----", a rule line followed by "From:"); `>` lines anywhere are quoted too.
//!   A forward marker ("---------- Forwarded message ---------", "Begin forwarded message:")
//!   ends it as well, without counting as a quote: `forward` reads what follows.
//! - The signature starts at the `-- ` delimiter, a "Sent from my phone" line, or the first
//!   closing formula ("Best regards,", "Cordialement", "Mit freundlichen Grüßen", …) that
//!   stands alone on a line after some content. Signature lines never become fields.
//! - A short first line that greets ("Dear Secretariat,", "Estimados señores:") is dropped.

use std::sync::LazyLock;

use regex::Regex;

use super::text::fold;

/// A body with the parts of other people, the greeting and the signature set apart.
#[derive(Debug, Default)]
pub struct Split {
    /// What the author wrote in this mail, greeting and signature removed.
    pub body: String,
    /// The signature block (closing formula included), for last-resort look-ups.
    pub signature: String,
    /// Whether earlier mail was quoted below or between the new text.
    pub quoted: bool,
}

static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:
          on\ .{4,200}\ wrote\s*:?
        | le\ .{4,200}\ a\ ecrit\s*:?
        | am\ .{4,200}\ (?:schrieb|geschrieben)\b.{0,120}:?
        | il\ .{4,200}\ ha\ scritto\s*:?
        | el\ .{4,200}\ escribio\s*:?
        | em\ .{4,200}\ escreveu\s*:?
        | op\ .{4,200}\ (?:schreef|geschreven)\b.{0,120}:?
        | w\ dniu\ .{4,200}\ (?:pisze|napisal|napisala|napisal\(a\))\s*:?
        | .{1,120}<[^>\s]+@[^>\s]+>\ (?:wrote|schrieb|a\ ecrit|ha\ scritto|escribio|escreveu|schreef|napisal)\s*:?
        )$",
    )
    .expect("attribution regex")
});

static ORIGINAL_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^-{2,}\s*(original message|ursprungliche nachricht|urspr\. nachricht|message d'origine|messaggio originale|mensaje original|mensagem original|oorspronkelijk bericht|origineel bericht|wiadomosc oryginalna|oryginalna wiadomosc)\s*-{2,}$",
    )
    .expect("original message regex")
});

static HEADER_FROM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(from|de|von|da|van|od)\s?:\s*\S").expect("from header regex"));

static CLOSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)^(?:
          (?:best|kind|warm|warmest|kindest)(?:\ regards|\ wishes)? | regards | sincerely | yours(?:\ sincerely|\ faithfully|\ truly)?
        | (?:many\ )?thanks(?:\ (?:and|&)\ (?:best\ )?regards|\ in\ advance)? | thank\ you(?:\ in\ advance|\ very\ much)?
        | cheers | all\ the\ best | with\ (?:best|kind)\ regards
        | (?:bien\ |tres\ )?cordialement | salutations(?:\ distinguees)? | (?:meilleures|sinceres)\ salutations | bien\ a\ vous | merci(?:\ d'avance|\ beaucoup)?
        | mit\ (?:freundlichen|besten|herzlichen)\ grussen | (?:viele|beste|liebe|freundliche|herzliche)\ grusse | mfg | vielen\ dank | danke
        | (?:cordiali|distinti|cari)\ saluti | saluti | un\ cordiale\ saluto | grazie(?:\ mille)?
        | atentamente | (?:un\ )?(?:cordial\ )?saludos?(?:\ cordiales)? | muchas\ gracias | gracias
        | (?:com\ os\ )?(?:melhores\ )?cumprimentos | atenciosamente | obrigad[oa] | abracos
        | met\ vriendelijke\ groet(?:en)? | (?:hartelijke\ |vriendelijke\ )?groet(?:en)? | bedankt | dank\ u(?:\ wel)?
        | z\ (?:powazaniem|wyrazami\ szacunku) | (?:serdecznie\ )?pozdrawiam(?:\ serdecznie)? | (?:serdeczne\ )?pozdrowienia | dziekuje
        )[\s,.!]*$",
    )
    .expect("closing regex")
});

/// Formal closings are whole sentences ("Veuillez agréer, Madame, Monsieur, l'expression de
/// nos salutations distinguées."): recognised at any length.
static FORMAL_CLOSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(veuillez agreer|je vous prie d'agreer|nous vous prions d'agreer|recevez, madame|dans l'attente de votre reponse, (je|nous) vous prie|in attesa di (un )?(vostro )?riscontro,? (porgo|porgiamo)|sin otro particular|aguardando|in afwachting van uw (antwoord|reactie)).{0,200}(salutations|sentiments|saluti|saludo|cumprimentos|groet)")
        .expect("formal closing regex")
});

static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(sent from my|envoye de mon|von meinem .{1,30} gesendet|inviato da|enviado desde|enviado do|verzonden met|wyslane z)")
        .expect("mobile signature regex")
});

static GREETING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?:dear|hello|hi|hey|good (?:morning|afternoon)|to whom|madam|sir|madame|monsieur|mesdames|bonjour|chers|chere|cher|sehr geehrte[rs]?|liebe[rs]?|hallo|guten tag|buongiorno|hola|buenos dias|buenas|caro|cara|ola|bom dia|beste|goedendag|goedemiddag|dzien dobry|witam)\b|(?:gentil|egregi|spettabil|estimad|prezad|exm|geacht|szanown)\w*)",
    )
    .expect("greeting regex")
});

/// The longest line still taken as a closing formula or a greeting.
const SHORT_LINE: usize = 70;

/// Splits `text` (plain text, `\n` line ends) into new text, signature and quote flag.
pub fn split(text: &str) -> Split {
    let (new_text, mut quoted) = cut_reply(text);
    let mut lines: Vec<&str> = Vec::new();
    for line in new_text.lines() {
        if line.trim_start().starts_with('>') {
            quoted = true;
        } else {
            lines.push(line);
        }
    }
    let (body_lines, signature_lines) = cut_signature(&lines);
    let mut body: Vec<&str> = body_lines.to_vec();
    if let Some(first) = body.iter().position(|l| !l.trim().is_empty())
        && is_greeting(body[first])
    {
        body.drain(..=first);
    }
    Split {
        body: body.join("\n").trim_matches('\n').to_string(),
        signature: signature_lines.join("\n").trim().to_string(),
        quoted,
    }
}

/// Whether a line opens a mail ("Dear Secretariat,", "Sehr geehrte Damen und Herren,").
pub fn is_greeting(line: &str) -> bool {
    let line = line.trim();
    // "Dear Secretariat, I would like to join…" carries content: only a bare salutation goes.
    let bare = line.ends_with([',', ':', '!']) || line.split_whitespace().count() <= 5;
    bare && line.chars().count() <= SHORT_LINE && GREETING.is_match(&fold(line))
}

/// How quoted earlier mail is introduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteStart {
    /// "On … wrote:" and its translations.
    Attribution,
    /// "-----Original Message-----" or a rule line followed by "From:"; the header block
    /// starts on the line after this one. Forwards from Outlook look the same.
    OutlookHeader,
    /// "---------- Forwarded message ---------", "Begin forwarded message:" and translations:
    /// what follows is someone else's mail, but not a quote of this thread.
    Forward,
}

static FORWARD_MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:-{2,}\s*(?:forwarded message|message transfere|weitergeleitete nachricht|messaggio inoltrato|mensaje reenviado|mensagem encaminhada|mensagem reencaminhada|doorgestuurd bericht|wiadomosc przekazana dalej|przekazana wiadomosc|forwarded by .{1,80})\s*-{2,}|(?:begin forwarded message|debut du message reexpedie|anfang der weitergeleiteten nachricht|inizio messaggio inoltrato|comienzo del mensaje reenviado|inicio da mensagem reencaminhada|begin doorgestuurd bericht|poczatek przekazywanej wiadomosci)\s*:)$")
        .expect("forward marker regex")
});

/// Whether line `i` starts quoted earlier mail, and how.
pub fn quote_start(lines: &[&str], i: usize) -> Option<QuoteStart> {
    let folded = fold(lines[i].trim());
    if folded.is_empty() {
        return None;
    }
    if FORWARD_MARKER.is_match(&folded) {
        return Some(QuoteStart::Forward);
    }
    if ORIGINAL_MESSAGE.is_match(&folded) {
        return Some(QuoteStart::OutlookHeader);
    }
    if ATTRIBUTION.is_match(&folded) {
        return Some(QuoteStart::Attribution);
    }
    // Gmail wraps long attributions over two lines.
    if let Some(next) = lines.get(i + 1)
        && folded.len() < 200
        && ["on ", "le ", "am ", "w dniu "]
            .iter()
            .any(|p| folded.starts_with(p))
        && ATTRIBUTION.is_match(&format!("{folded} {}", fold(next.trim())))
    {
        return Some(QuoteStart::Attribution);
    }
    // Outlook: a rule line, then "From: …".
    let rule = folded.len() >= 10 && folded.chars().all(|c| c == '_' || c == '-');
    let from_next = lines
        .get(i + 1)
        .is_some_and(|next| HEADER_FROM.is_match(&fold(next.trim())));
    (rule && from_next).then_some(QuoteStart::OutlookHeader)
}

/// New text of a reply and whether earlier mail of the thread was cut off.
fn cut_reply(text: &str) -> (String, bool) {
    let lines: Vec<&str> = text.lines().collect();
    for i in 0..lines.len() {
        match quote_start(&lines, i) {
            Some(QuoteStart::Forward) => return (lines[..i].join("\n"), false),
            Some(_) => return (lines[..i].join("\n"), true),
            None => {}
        }
    }
    (text.to_string(), false)
}

fn cut_signature<'a, 'b>(lines: &'b [&'a str]) -> (&'b [&'a str], &'b [&'a str]) {
    let mut seen_content = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if *line == "-- " || trimmed == "--" || trimmed == "—" {
            return (&lines[..i], &lines[i + 1..]);
        }
        let folded = fold(trimmed);
        if MOBILE.is_match(&folded) {
            return (&lines[..i], &lines[i..]);
        }
        let closing = (trimmed.chars().count() <= SHORT_LINE && CLOSING.is_match(&folded))
            || FORMAL_CLOSING.is_match(&folded);
        if seen_content && closing {
            return (&lines[..i], &lines[i..]);
        }
        if !trimmed.is_empty() && !is_greeting(trimmed) {
            seen_content = true;
        }
    }
    (lines, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_and_greeting() {
        let s =
            split("Dear Secretariat,\n\nName: Aino\n\nBest regards,\nAino Virtanen\nTel: +358 1");
        assert_eq!(s.body, "Name: Aino");
        assert_eq!(s.signature, "Best regards,\nAino Virtanen\nTel: +358 1");
        assert!(!s.quoted);
    }

    #[test]
    fn closing_needs_content_before() {
        let s = split("Thank you for considering our application; we attach the CV.\nThanks,\nJo");
        assert_eq!(
            s.body,
            "Thank you for considering our application; we attach the CV."
        );
    }

    #[test]
    fn replies() {
        let s = split(
            "Country: Austria\n\nOn Wed, 2 Aug 2023 at 11:15, Aino <a@b.example> wrote:\n> Country: Australia",
        );
        assert_eq!(s.body, "Country: Austria");
        assert!(s.quoted);
        let s = split("Neu\n\nAm 02.08.2023 um 11:15 schrieb Hans Müller <h@m.example>:\n> alt");
        assert_eq!(s.body, "Neu");
        let s = split("New\n\n________________________________\nDe : Aino\nEnvoyé : mercredi");
        assert_eq!(s.body, "New");
        let s = split("Le mer. 2 août 2023 à 11:15, Aino Virtanen <\naino@x.example> a écrit :");
        assert_eq!(s.body, "");
        let s = split("Top\n> quoted\nBottom");
        assert_eq!(s.body, "Top\nBottom");
        assert!(s.quoted);
    }
}
