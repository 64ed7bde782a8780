//! The typed key of every side effect. A key is fixed when the side effect is queued and
//! never changes: it is the row's unique key in the outbox, the Matrix transaction id
//! (`<install id>-<key>`) and the seed of the mail's Message-ID, so a crash and a resend
//! can never double a post, an invite or a mail.
//!
//! `Display` writes the canonical text and `FromStr` reads it back (for a reaction on one of
//! the bot's events, the key of the event tells what it was). Texts that no variant reads —
//! keys written by older versions — come back as [`Key::Other`]. Each variant's text starts
//! with its own tag; the round trip of every variant is tested below.

use std::fmt;
use std::str::FromStr;

/// Who a reminder went to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A group's room, by slug.
    Group(String),
    /// A member, by direct message.
    Dm(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    // ---- Matrix
    /// The room post of bridged inbound mail `id`.
    Mail(i64),
    /// Attachment `n` of bridged inbound mail `id`, in its thread.
    MailPart { mail: i64, n: u32 },
    /// The original `.eml` of bridged inbound mail `id`, in its thread (its post was cut).
    MailOriginal(i64),
    /// The one-line notice in a group's room of the application in inbound mail `mail`.
    EoiGroupNotice(i64),
    /// The edit of status post `of` after outbox item `item` became `state` (`at`: when,
    /// in ms, or the inbound mail that said so).
    MailStatus { item: i64, state: String, at: i64 },
    /// The notice that room message `event` was not mailed (and why).
    NotMailed(String),
    /// The notice that edit or redaction `event` cannot change a mail already sent.
    Unsendable(String),
    /// The reply to the command in event `event`.
    Command(String),
    /// The management room's report of quarantine record `id`.
    Quarantine(i64),
    /// The management room's report of failed outbox item `id`.
    Failure(i64),
    /// The report of failed outbox item `id` in the room or thread it belongs to.
    FailureHere(i64),
    /// The card of application `id` in the management room.
    EoiCard(i64),
    /// The update of application `eoi` after inbound mail `mail`, in the card's thread.
    EoiUpdate { eoi: i64, mail: i64 },
    /// The answer to a decision taken with reaction `event` on the card of `eoi`.
    EoiDecided { eoi: i64, event: String },
    /// The room invite of application `eoi` after its decision number `n`.
    EoiInvite { eoi: i64, n: i64 },
    /// The invite of an accepted applicant into the space (after the group's room).
    EoiSpaceInvite { eoi: i64, n: i64 },
    /// The CSV export asked for in event (or at instant) `at`.
    EoiExport(String),
    /// The notice, in submitted application `eoi`'s card thread, that it joined `into`.
    EoiJoined { eoi: i64, into: i64 },
    /// The management room's notice that a limit held back the reply to inbound mail `mail`.
    ReplyLimit(i64),
    /// The full text of the post queued under the inner key, attached as a file because the
    /// post itself had to be cut to stay under the event size limit.
    Overflow(Box<Key>),
    /// The card of calendar proposal `id`.
    Proposal(i64),
    /// The notice that proposal `id` was added to the calendar.
    ProposalAdded(i64),
    /// Reminder `key` (see `calendar::reminders`) to `to`.
    Reminder { key: String, to: Target },
    /// The list of reminders missed while down, starting with reminder `first`.
    RemindersMissed(String),
    /// The firing of cron job `name` at `at` (RFC 3339).
    Job { name: String, at: String },
    /// The welcome of `user`'s 🔔 subscription to group `slug`.
    Subscribed { slug: String, user: String },
    /// The answer, by direct message, to the 🔔 reaction `event` (subscribed, or ended).
    Bell(String),
    /// The notice of change number `rev` of calendar item `item` (`meeting:<id>`) to `to`:
    /// moved, cancelled, another mode or place.
    Changed { item: String, rev: i64, to: Target },
    /// Reminder `key` come back to `user` by direct message after a snooze.
    Snoozed { key: String, user: String },
    /// The status post (queued, then edited: sent, failed, bounced) on room message `event`
    /// that went out as a mail.
    Sent(String),
    /// A notice of the daemon itself, named by the caller (`calendar-file-error-…`).
    Notice(String),
    /// The redaction of one of the bot's events (its event id), for an erasure or a purge.
    Redact(String),
    /// A privacy export delivered by direct message (the command's event id).
    PrivacyExport(String),
    // ---- Mail
    /// The acknowledgement of the application in inbound mail `mail`.
    Ack(i64),
    /// The "call closed" reply to the application in inbound mail `mail`.
    CallClosed(i64),
    /// Decision mail number `n` of application `eoi`.
    Decision { eoi: i64, n: i64 },
    /// A secretariat question (`!eoi ask`) about application `eoi`, asked in `at`.
    Ask { eoi: i64, at: String },
    /// The mail sent for room message `event` (a secretariat answer in a mail's thread).
    Reply(String),
    /// The mailed copy of reminder `key` to the secretariat address `to`.
    ReminderMail { key: String, to: String },
    /// The invitation mailed again to the secretariat address `to` after change `rev` of
    /// calendar item `item` (METHOD:REQUEST with SEQUENCE `rev`, or METHOD:CANCEL).
    Invitation { item: String, rev: i64, to: String },
    /// The agenda and invitation of meeting occurrence `occurrence`, at revision `rev` of its
    /// item, mailed to the group member `to`.
    AgendaMail {
        occurrence: String,
        rev: i64,
        to: String,
    },
    /// A key no variant reads (written by an older version).
    Other(String),
}

const DM: &str = "|dm|";

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Mail(id) => write!(f, "mail-{id}"),
            Key::MailPart { mail, n } => write!(f, "mail-{mail}-part-{n}"),
            Key::MailOriginal(mail) => write!(f, "mail-{mail}-original"),
            Key::EoiGroupNotice(mail) => write!(f, "eoi-group-{mail}"),
            Key::MailStatus { item, state, at } => write!(f, "status-{item}-{state}-{at}"),
            Key::NotMailed(ev) => write!(f, "not-mailed-{ev}"),
            Key::Unsendable(ev) => write!(f, "unsendable-{ev}"),
            Key::Command(ev) => write!(f, "cmd-{ev}"),
            Key::Quarantine(id) => write!(f, "quarantine-{id}"),
            Key::Failure(id) => write!(f, "failure-{id}"),
            Key::FailureHere(id) => write!(f, "failure-here-{id}"),
            Key::EoiCard(id) => write!(f, "eoi-card-{id}"),
            Key::EoiUpdate { eoi, mail } => write!(f, "eoi-update-{eoi}-{mail}"),
            Key::EoiDecided { eoi, event } => write!(f, "eoi-decided-{eoi}-{event}"),
            Key::EoiInvite { eoi, n } => write!(f, "eoi-invite-{eoi}-{n}"),
            Key::EoiSpaceInvite { eoi, n } => write!(f, "eoi-space-invite-{eoi}-{n}"),
            Key::EoiExport(at) => write!(f, "eoi-export-{at}"),
            Key::EoiJoined { eoi, into } => write!(f, "eoi-joined-{eoi}-{into}"),
            Key::ReplyLimit(mail) => write!(f, "auto-reply-limit-{mail}"),
            Key::Overflow(inner) => write!(f, "overflow-{inner}"),
            Key::Proposal(id) => write!(f, "proposal-{id}"),
            Key::ProposalAdded(id) => write!(f, "proposal-added-{id}"),
            Key::Reminder {
                key,
                to: Target::Group(slug),
            } => write!(f, "reminder-{key}@{slug}"),
            Key::Reminder {
                key,
                to: Target::Dm(user),
            } => write!(f, "reminder-{key}{DM}{user}"),
            Key::RemindersMissed(first) => write!(f, "reminders-missed-{first}"),
            Key::Job { name, at } => write!(f, "job:{name}:{at}"),
            Key::Subscribed { slug, user } => write!(f, "subscribed|{slug}|{user}"),
            Key::Bell(ev) => write!(f, "bell-{ev}"),
            Key::Changed {
                item,
                rev,
                to: Target::Group(slug),
            } => write!(f, "changed-{rev}-{item}@{slug}"),
            Key::Changed {
                item,
                rev,
                to: Target::Dm(user),
            } => write!(f, "changed-{rev}-{item}{DM}{user}"),
            Key::Snoozed { key, user } => write!(f, "snoozed|{key}|{user}"),
            Key::Sent(ev) => write!(f, "sent-{ev}"),
            Key::Notice(what) => write!(f, "notice-{what}"),
            Key::Redact(ev) => write!(f, "redact-{ev}"),
            Key::PrivacyExport(ev) => write!(f, "privacy-export-{ev}"),
            Key::Ack(mail) => write!(f, "eoi-ack-{mail}"),
            Key::CallClosed(mail) => write!(f, "eoi-closed-{mail}"),
            Key::Decision { eoi, n } => write!(f, "eoi-{eoi}-decision-{n}"),
            Key::Ask { eoi, at } => write!(f, "eoi-{eoi}-ask-{at}"),
            Key::Reply(ev) => write!(f, "reply-{ev}"),
            Key::ReminderMail { key, to } => write!(f, "reminder-mail|{key}|{to}"),
            Key::Invitation { item, rev, to } => write!(f, "invitation|{rev}|{item}|{to}"),
            Key::AgendaMail {
                occurrence,
                rev,
                to,
            } => write!(f, "agenda-mail|{rev}|{occurrence}|{to}"),
            Key::Other(s) => f.write_str(s),
        }
    }
}

fn int(s: &str) -> Option<i64> {
    s.parse().ok()
}

/// `a-b` with both numbers.
fn two_ints(s: &str) -> Option<(i64, i64)> {
    let (a, b) = s.split_once('-')?;
    Some((int(a)?, int(b)?))
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn parse(s: &str) -> Option<Key> {
    if let Some(r) = s.strip_prefix("mail-") {
        if let Some(mail) = r.strip_suffix("-original") {
            return int(mail).map(Key::MailOriginal);
        }
        if let Some((mail, n)) = r.split_once("-part-") {
            return Some(Key::MailPart {
                mail: int(mail)?,
                n: n.parse().ok()?,
            });
        }
        return int(r).map(Key::Mail);
    }
    if let Some(r) = s.strip_prefix("cmd-") {
        return Some(Key::Command(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("quarantine-") {
        return int(r).map(Key::Quarantine);
    }
    if let Some(r) = s.strip_prefix("failure-here-") {
        return int(r).map(Key::FailureHere);
    }
    if let Some(r) = s.strip_prefix("failure-") {
        return int(r).map(Key::Failure);
    }
    if let Some(r) = s.strip_prefix("eoi-card-") {
        return int(r).map(Key::EoiCard);
    }
    if let Some(r) = s.strip_prefix("eoi-update-") {
        let (eoi, mail) = two_ints(r)?;
        return Some(Key::EoiUpdate { eoi, mail });
    }
    if let Some(r) = s.strip_prefix("eoi-decided-") {
        let (eoi, event) = r.split_once('-')?;
        return Some(Key::EoiDecided {
            eoi: int(eoi)?,
            event: event.to_owned(),
        });
    }
    if let Some(r) = s.strip_prefix("eoi-space-invite-") {
        return two_ints(r).map(|(eoi, n)| Key::EoiSpaceInvite { eoi, n });
    }
    if let Some(r) = s.strip_prefix("eoi-invite-") {
        let (eoi, n) = two_ints(r)?;
        return Some(Key::EoiInvite { eoi, n });
    }
    if let Some(r) = s.strip_prefix("eoi-export-") {
        return Some(Key::EoiExport(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("eoi-joined-") {
        let (eoi, into) = two_ints(r)?;
        return Some(Key::EoiJoined { eoi, into });
    }
    if let Some(r) = s.strip_prefix("auto-reply-limit-") {
        return int(r).map(Key::ReplyLimit);
    }
    if let Some(r) = s.strip_prefix("overflow-") {
        return Some(Key::Overflow(Box::new(Key::parse(r))));
    }
    if let Some(r) = s.strip_prefix("eoi-ack-") {
        return int(r).map(Key::Ack);
    }
    if let Some(r) = s.strip_prefix("eoi-closed-") {
        return int(r).map(Key::CallClosed);
    }
    if let Some(r) = s.strip_prefix("eoi-group-") {
        return int(r).map(Key::EoiGroupNotice);
    }
    if let Some(r) = s.strip_prefix("eoi-") {
        let (eoi, rest) = r.split_once('-')?;
        let eoi = int(eoi)?;
        if let Some(n) = rest.strip_prefix("decision-") {
            return Some(Key::Decision { eoi, n: int(n)? });
        }
        if let Some(at) = rest.strip_prefix("ask-") {
            return Some(Key::Ask {
                eoi,
                at: at.to_owned(),
            });
        }
        return None;
    }
    if let Some(r) = s.strip_prefix("proposal-added-") {
        return int(r).map(Key::ProposalAdded);
    }
    if let Some(r) = s.strip_prefix("proposal-") {
        return int(r).map(Key::Proposal);
    }
    if let Some(r) = s.strip_prefix("reminders-missed-") {
        return Some(Key::RemindersMissed(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("reminder-mail|") {
        let (key, to) = r.rsplit_once('|')?;
        return Some(Key::ReminderMail {
            key: key.to_owned(),
            to: to.to_owned(),
        });
    }
    if let Some(r) = s.strip_prefix("reminder-") {
        if let Some((key, user)) = r.split_once(DM) {
            return Some(Key::Reminder {
                key: key.to_owned(),
                to: Target::Dm(user.to_owned()),
            });
        }
        let (key, slug) = r.rsplit_once('@')?;
        return is_slug(slug).then(|| Key::Reminder {
            key: key.to_owned(),
            to: Target::Group(slug.to_owned()),
        });
    }
    if let Some(r) = s.strip_prefix("job:") {
        let (name, at) = r.split_once(':')?;
        return Some(Key::Job {
            name: name.to_owned(),
            at: at.to_owned(),
        });
    }
    if let Some(r) = s.strip_prefix("subscribed|") {
        let (slug, user) = r.split_once('|')?;
        return Some(Key::Subscribed {
            slug: slug.to_owned(),
            user: user.to_owned(),
        });
    }
    if let Some(r) = s.strip_prefix("status-") {
        let (item, rest) = r.split_once('-')?;
        let (state, at) = rest.rsplit_once('-')?;
        return Some(Key::MailStatus {
            item: int(item)?,
            state: state.to_owned(),
            at: int(at)?,
        });
    }
    if let Some(r) = s.strip_prefix("not-mailed-") {
        return Some(Key::NotMailed(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("unsendable-") {
        return Some(Key::Unsendable(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("bell-") {
        return Some(Key::Bell(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("changed-") {
        let (rev, rest) = r.split_once('-')?;
        let rev = int(rev)?;
        if let Some((item, user)) = rest.split_once(DM) {
            return Some(Key::Changed {
                item: item.to_owned(),
                rev,
                to: Target::Dm(user.to_owned()),
            });
        }
        let (item, slug) = rest.rsplit_once('@')?;
        return is_slug(slug).then(|| Key::Changed {
            item: item.to_owned(),
            rev,
            to: Target::Group(slug.to_owned()),
        });
    }
    if let Some(r) = s.strip_prefix("snoozed|") {
        let (key, user) = r.split_once('|')?;
        return Some(Key::Snoozed {
            key: key.to_owned(),
            user: user.to_owned(),
        });
    }
    if let Some(r) = s.strip_prefix("invitation|") {
        let mut parts = r.splitn(3, '|');
        let (rev, item, to) = (parts.next()?, parts.next()?, parts.next()?);
        return Some(Key::Invitation {
            item: item.to_owned(),
            rev: int(rev)?,
            to: to.to_owned(),
        });
    }
    if let Some(r) = s.strip_prefix("agenda-mail|") {
        let mut parts = r.splitn(3, '|');
        let (rev, occurrence, to) = (parts.next()?, parts.next()?, parts.next()?);
        return Some(Key::AgendaMail {
            occurrence: occurrence.to_owned(),
            rev: int(rev)?,
            to: to.to_owned(),
        });
    }
    if let Some(r) = s.strip_prefix("sent-") {
        return Some(Key::Sent(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("notice-") {
        return Some(Key::Notice(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("reply-") {
        return Some(Key::Reply(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("redact-") {
        return Some(Key::Redact(r.to_owned()));
    }
    if let Some(r) = s.strip_prefix("privacy-export-") {
        return Some(Key::PrivacyExport(r.to_owned()));
    }
    None
}

impl FromStr for Key {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Key, Self::Err> {
        Ok(parse(s)
            .filter(|k| k.to_string() == s)
            .unwrap_or_else(|| Key::Other(s.to_owned())))
    }
}

impl Key {
    /// Reads a stored key.
    pub fn parse(s: &str) -> Key {
        s.parse()
            .unwrap_or_else(|e: std::convert::Infallible| match e {})
    }

    /// Reports of failures are not reported again when they fail themselves.
    pub fn is_failure_report(&self) -> bool {
        matches!(self, Key::Failure(_) | Key::FailureHere(_))
    }

    /// The text used in a Matrix transaction id: only characters every homeserver accepts
    /// in a path segment.
    pub fn txn_text(&self) -> String {
        self.to_string()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
