//! Phrase detection on sentences from the seed minutes (seeds/004, seeds/001) and a few
//! French and German forms.

use super::*;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn found(text: &str, reference: NaiveDate) -> Vec<String> {
    detect(text, reference)
        .iter()
        .map(|p| format!("{:?} {} | {}", p.kind, p.when, p.title))
        .collect()
}

#[test]
fn seed_deadlines() {
    let text = "ECG members were also invited to send their additional comments on the draft EURES portal strategy to the ECG mailbox by latest 3 May 2023.";
    assert_eq!(
        found(text, day(2023, 4, 20)),
        [
            "Deadline 2023-05-03 | Send additional comments on the draft EURES portal strategy to the ECG mailbox"
        ]
    );
    let text = "Finally, ELA presented the results of an awareness survey on labour mobility services (EURES included). \
                ELA indicated that the survey report will be sent to the NCOs after the ECG meeting and would welcome any feedback by 14 July 2023.\n\n\
                The next ECG meeting is scheduled to take place in November 2023.";
    assert_eq!(
        found(text, day(2023, 6, 5)),
        [
            "Deadline 2023-07-14 | Feedback",
            "Meeting 2023-11 | Next ECG meeting"
        ]
    );
    let proposal = &detect(text, day(2023, 6, 5))[0];
    assert!(
        proposal
            .sentence
            .starts_with("ELA indicated that the survey report")
            && proposal.sentence.ends_with("by 14 July 2023.")
    );
}

#[test]
fn seed_next_meetings() {
    let cases = [
        (
            "The next ECG meeting is scheduled to take place in December 2024 in Bratislava, Slovakia.",
            day(2024, 5, 20),
            "Meeting 2024-12 | Next ECG meeting",
        ),
        (
            "The next regular ECG Meeting is scheduled to take place from 30 May – 1 June in Stockholm (Sweden).",
            day(2023, 4, 20),
            "Meeting 2023-05-30 | Next regular ECG Meeting",
        ),
        (
            "The next ECG Meeting is scheduled to take place on 30 and 31 May 2023.",
            day(2022, 11, 20),
            "Meeting 2023-05-30 | Next ECG Meeting",
        ),
        (
            "The next ECG Meeting is scheduled to take place in Prague on 14, 15 and 16 November 2022, hosted by the Czech Council Presidency.",
            day(2022, 9, 16),
            "Meeting 2022-11-14 | Next ECG Meeting",
        ),
    ];
    for (text, reference, expected) in cases {
        assert_eq!(found(text, reference), [expected], "{text}");
    }
}

#[test]
fn past_and_loose_phrases_are_not_proposals() {
    let reference = day(2024, 6, 1);
    for text in [
        "A EURES Coordination Group (ECG) meeting was held on 22-24 November 2023 in Malaga, Spain.",
        "The agenda encompassed an update from ECO on the development of the EURES 2025-2030 strategy since the previous ECG meeting in November 2023.",
        "These Working Groups, which will continue to operate until May 2026, bring together around 80 members.",
        "The upcoming release of version 6.0 scheduled for the end of June 2024 was also presented.",
        // Dated before the mail: too late to remind.
        "Please send comments by 3 May 2023.",
    ] {
        assert_eq!(found(text, reference), Vec::<String>::new(), "{text}");
    }
}

#[test]
fn other_forms_and_languages() {
    assert_eq!(
        found("Deadline: 15/09/2023", day(2023, 7, 14)),
        ["Deadline 2023-09-15 | Deadline"]
    );
    assert_eq!(
        found(
            "Applications must be submitted no later than 30 September.",
            day(2023, 7, 10)
        ),
        ["Deadline 2023-09-30 | Applications must be submitted"]
    );
    assert_eq!(
        found(
            "Please return the signed declaration by Friday 12 May.",
            day(2023, 5, 2)
        ),
        ["Deadline 2023-05-12 | Return the signed declaration"]
    );
    assert_eq!(
        found(
            "Merci d'envoyer vos commentaires avant le 3 mai 2023.",
            day(2023, 4, 20)
        ),
        ["Deadline 2023-05-03 | Envoyer commentaires"]
    );
    assert_eq!(
        found(
            "Bitte senden Sie Ihre Kommentare bis zum 3. Mai 2023.",
            day(2023, 4, 20)
        ),
        ["Deadline 2023-05-03 | Senden Sie Kommentare"]
    );
    assert_eq!(
        found(
            "La prochaine réunion aura lieu le 12 mars 2024.",
            day(2024, 1, 10)
        ),
        ["Meeting 2024-03-12 | Prochaine réunion"]
    );
    assert_eq!(
        found(
            "Die nächste Sitzung findet am 12. März 2024 statt.",
            day(2024, 1, 10)
        ),
        ["Meeting 2024-03-12 | Nächste Sitzung"]
    );
}

#[test]
fn splits_sentences_but_not_german_days() {
    assert_eq!(
        sentences(
            "It was held in 2023. The next one follows.\nAm 3. Mai 2023 endet die Frist.\n\n**Key points**"
        ),
        [
            "It was held in 2023.",
            "The next one follows.",
            "Am 3. Mai 2023 endet die Frist.",
            "Key points"
        ]
    );
}

#[test]
fn a_minutes_excerpt() {
    // Paragraphs of seeds/004 as they arrive in a mail body, markdown and all.
    let minutes = "# Executive Summary\n\n\
        A EURES Coordination Group (ECG) meeting was held on 30 May-1 June 2023 in Stockholm. \
        As per the EURES Regulation, it brought together the European Labour Authority (ELA).\n\n\
        Finally, ELA presented the results of an awareness survey on labour mobility services (EURES included). \
        ELA indicated that the survey report will be sent to the NCOs after the ECG meeting and would welcome \
        any feedback by 14 July 2023.\n\n\
        The next ECG meeting is scheduled to take place in November 2023.\n\n\
        ELA shared that Member States can join the communication campaign after 5 October, date of the next \
        EURES CWG meeting (tbc), in case they need more time to decide on their participation to the initiative.\n\n\
        **ec.europa.eu/eures**";
    assert_eq!(
        found(minutes, day(2023, 6, 5)),
        [
            "Deadline 2023-07-14 | Feedback",
            "Meeting 2023-11 | Next ECG meeting"
        ]
    );
    // From seeds/001: a mandate's end is not a deadline.
    let article = "These Working Groups, which will continue to operate until May 2026, bring together around 80 members \
        representing different stakeholder groups (e.g. national and regional authorities, research and academia entities, \
        business representatives, NGOs) and hold three meetings per year to discuss progress and encourage cross-collaboration.";
    assert_eq!(found(article, day(2024, 11, 1)), Vec::<String>::new());
}
