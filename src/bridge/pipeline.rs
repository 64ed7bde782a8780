//! The inbound pipeline: takes each stored mail in order and decides what it is and where it
//! goes — parse, recognise the bot's own mail and automatic mail (RFC 3834), route to a group,
//! read an application, render for the room — then records the outcome in the same
//! transaction that queues the room post, the application's card and its acknowledgement.
//!
//! What a mail becomes in the rooms: its post (sanitised HTML, quotes folded; when it has
//! inline `cid:` images, one outbox item uploads them and sends the post with their `mxc://`
//! URIs, so the post stays exactly-once), then in its thread — resolved from the post's key
//! when that is sent, by the outbox — every attachment and inline image as an `m.file` /
//! `m.image` upload (`Key::MailPart`), a notice with name and size for those over
//! `bridge.max_upload_bytes`, and the original `.eml` when the post had to be cut
//! (`Key::MailOriginal`). An application's attachments go into its card's thread instead, and
//! its mail to the management room: the group's room gets what `applications.group_room` says.
//! A delivery status notification about a mail convene sent is posted in that mail's thread,
//! updates the mail's status post and counts towards the recipient's bounce score.
//!
//! [`decide`] is pure (no database, no network) and runs under `catch_unwind`. A mail that
//! cannot be parsed, is oversized, came without content, or panics anywhere in it is
//! quarantined at once with the reason and reported in the management room. Other errors
//! (the database, …) are retried a few times, then quarantined: never dropped, never retried
//! forever.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use mail_parser::MessageParser;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::conversation::{self, Conversation};
use super::inbound::{self, MailKind, Stored};
use crate::applications::Applications;
use crate::applications::intake::{self, Prepared};
use crate::config::{BridgeConfig, GroupRoom};
use crate::mail::dsn::{self, Dsn};
use crate::mail::route::{self, Route, Routing};
use crate::mail::{automatic, compose, render};
use crate::outbox::op::Inline;
use crate::outbox::{Key, MatrixOp, Outbox, Report, Tx};
use crate::storage::{Db, now_ms};

mod delivery;

const MAX_ATTEMPTS: i64 = 5;

/// What the pipeline works with.
#[derive(Clone)]
pub struct Pipeline {
    pub db: Db,
    pub outbox: Outbox,
    pub apps: Applications,
    pub calendar: crate::calendar::Service,
    pub routing: Arc<Routing>,
    pub bridge: Arc<BridgeConfig>,
    /// Woken by the IMAP worker when mail was stored.
    pub wake: Arc<Notify>,
    /// Mails handled, by kind.
    pub metrics: crate::metrics::Metrics,
}

/// A part of the mail to post in its thread, with its bytes.
pub struct PartOut {
    pub part: render::Part,
    pub bytes: Vec<u8>,
}

/// Where a thread's root is: already posted, or still queued under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    Event(String),
    Key(Key),
}

impl Root {
    /// `op`, in this thread.
    pub fn place(&self, op: MatrixOp) -> MatrixOp {
        match self {
            Root::Event(ev) => op.in_thread(ev),
            Root::Key(k) => MatrixOp::InThreadOf {
                key: k.to_string(),
                inner: Box::new(op),
            },
        }
    }
}

/// What the pure stages decided about one mail.
pub struct Decision {
    pub kind: MailKind,
    pub route: Route,
    /// The post; with placeholders for the inline images when there are some.
    pub content: serde_json::Value,
    /// The post without inline images (for encrypted rooms).
    pub fallback: serde_json::Value,
    /// Inline images: (placeholder in `content`, index in `parts`).
    pub inline: Vec<(String, usize)>,
    /// Attachments and inline images, to post in the thread.
    pub parts: Vec<PartOut>,
    /// The post was cut: the original goes into the thread as `.eml`.
    pub truncated: bool,
    pub subject: String,
    /// The sender's address, and where an answer goes (Reply-To, else From).
    pub from: Option<String>,
    pub reply_to: Option<String>,
    /// `<…>`
    pub message_id: Option<String>,
    /// A delivery status notification.
    pub dsn: Option<Dsn>,
    /// The text body, for the calendar's deadline detection.
    pub text: String,
    pub sent: Option<chrono::DateTime<chrono::Utc>>,
    /// Message-IDs this mail answers (to post it into the thread it belongs to).
    pub references: Vec<String>,
    /// An expression of interest, read from human-written mail.
    pub eoi: Option<Prepared>,
}

/// The pure stages: what a mail is and where it goes. `own_domain` is the domain of the
/// Message-IDs convene gives its own mail.
pub fn decide(
    routing: &Routing,
    apps: &crate::applications::Settings,
    own_domain: &str,
    mail_id: i64,
    raw: &[u8],
) -> Result<Decision, String> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or("not a parseable mail message")?;
    if msg.headers().is_empty() {
        return Err("no headers: not a mail message".into());
    }
    let own = msg
        .message_id()
        .is_some_and(|id| compose::is_own_message_id(id, own_domain));
    let return_path = msg.return_address();
    let auto = automatic::detect_with_sender(&msg, return_path).map(|r| r.to_string());
    let mut route = route::route_with(&msg, routing);
    if auto.is_some() || own {
        // Automatic mail is shown to the secretariat only, and never answered.
        route = Route {
            group: route.group,
            room: routing.management_room.clone(),
            why: if own { "own mail" } else { "automatic" },
        };
    }
    let note = auto
        .as_ref()
        .map(|r| format!("automatic mail ({r}): not answered"));
    // Inline images get a placeholder URI that the outbox swaps for the uploaded one.
    let listed = render::parts(&msg);
    let placeholder = |i: usize| format!("mxc://convene.invalid/inline{i:06}");
    let by_cid: Vec<(String, String)> = listed
        .iter()
        .enumerate()
        .filter(|(_, p)| p.inline)
        .filter_map(|(i, p)| Some((p.content_id.clone()?.to_ascii_lowercase(), placeholder(i))))
        .collect();
    let rendered = render::render(&msg, mail_id, note.as_deref(), &|cid| {
        let cid = cid.to_ascii_lowercase();
        by_cid
            .iter()
            .find(|(c, _)| *c == cid)
            .map(|(_, p)| p.clone())
    });
    let fallback = if by_cid.is_empty() {
        rendered.content.clone()
    } else {
        render::render(&msg, mail_id, note.as_deref(), &|_| None).content
    };
    let content = rendered.content;
    let inline: Vec<(String, usize)> = listed
        .iter()
        .enumerate()
        .filter(|(_, p)| p.inline)
        .map(|(i, _)| (placeholder(i), i))
        .filter(|(ph, _)| content.to_string().contains(ph.as_str()))
        .collect();
    let parts = listed
        .into_iter()
        .map(|part| {
            let bytes = msg
                .part(part.index)
                .map(|p| p.contents().to_vec())
                .unwrap_or_default();
            PartOut { part, bytes }
        })
        .collect();
    let (_, from) = render::sender(&msg);
    let reply_to = msg
        .reply_to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .map(str::to_owned)
        .or_else(|| from.clone());
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let sent = msg
        .date()
        .and_then(|d| chrono::DateTime::from_timestamp(d.to_timestamp(), 0));
    let references = super::thread::referenced_ids(&msg);
    // Automatic mail is never an application and never answered.
    let eoi = if auto.is_none() && !own {
        intake::prepare(apps, &msg)
    } else {
        None
    };
    let kind = match (own, &auto, &eoi) {
        (true, _, _) => MailKind::Own,
        (false, Some(_), _) => MailKind::Automatic,
        (false, None, Some(_)) => MailKind::Eoi,
        (false, None, None) => MailKind::Correspondence,
    };
    let dsn = if kind == MailKind::Automatic {
        dsn::parse(&msg)
    } else {
        None
    };
    Ok(Decision {
        kind,
        route,
        content,
        fallback,
        inline,
        parts,
        truncated: rendered.truncated,
        subject: msg.subject().unwrap_or("").trim().to_owned(),
        from,
        reply_to,
        message_id: msg.message_id().map(|id| format!("<{}>", id.trim())),
        dsn,
        text,
        sent,
        references,
        eoi,
    })
}

impl Pipeline {
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        loop {
            while let Some(mail) = inbound::next_new(&self.db).await? {
                if cancel.is_cancelled() {
                    return Ok(());
                }
                if mail.attempts >= MAX_ATTEMPTS {
                    let why = format!(
                        "failed {} times: {}",
                        mail.attempts,
                        mail.error.as_deref().unwrap_or("unknown error")
                    );
                    self.quarantine(&mail, &why).await?;
                    continue;
                }
                inbound::bump_attempts(&self.db, mail.id).await?;
                if let Err(e) = self.handle(&mail).await {
                    let why = format!("{e:#}");
                    tracing::warn!(
                        id = mail.id,
                        error = why,
                        "mail handling failed; will retry"
                    );
                    inbound::set_error(&self.db, mail.id, &why).await?;
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                        _ = cancel.cancelled() => return Ok(()),
                    }
                }
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(300)) => {}
                _ = cancel.cancelled() => return Ok(()),
            }
        }
    }

    async fn handle(&self, mail: &Stored) -> anyhow::Result<()> {
        let Some(raw) = mail.raw.as_deref() else {
            let why = mail.error.as_deref().unwrap_or("no content stored");
            return self.quarantine(mail, why).await;
        };
        if let Some(err) = mail.error.as_deref().filter(|e| e.starts_with("oversized")) {
            return self
                .quarantine(
                    mail,
                    &format!("{err} (larger than mailbox.max_message_bytes)"),
                )
                .await;
        }
        let own_domain = self.outbox.from().domain().to_owned();
        let decided = std::panic::catch_unwind(AssertUnwindSafe(|| {
            crate::failpoint::panic_if("pipeline-decide");
            decide(&self.routing, &self.apps.s, &own_domain, mail.id, raw)
        }));
        let decision = match decided {
            Ok(Ok(d)) => d,
            Ok(Err(why)) => return self.quarantine(mail, &why).await,
            Err(panic) => {
                let what = crate::failpoint::panic_message(&panic);
                return self
                    .quarantine(
                        mail,
                        &format!("internal error while reading the mail: {what}"),
                    )
                    .await;
            }
        };
        let kind = decision.kind;
        // Looked up before the transaction: a pool connection awaited while a transaction
        // holds another can starve the pool (workers waiting on each other's connections).
        let found = match kind {
            MailKind::Automatic | MailKind::Own => None,
            _ => super::thread::find_thread(&self.db, &decision.references)
                .await?
                .map(|t| (t.room_id, Root::Event(t.root_event_id))),
        };
        let mut tx = self.outbox.begin().await?;
        if kind == MailKind::Own {
            // Our own mail come back (a copy to ourselves, a loop): never bridged or answered.
            inbound::mark_done(&mut tx, mail.id, kind, None).await?;
            tx.commit().await?;
            self.metrics.mail_ingested(kind.as_str());
            tracing::info!(id = mail.id, "own mail come back: ignored");
            return Ok(());
        }
        // A delivery report about a mail we sent goes into that mail's thread.
        if let Some(report) = &decision.dsn
            && self.on_dsn(&mut tx, mail, &decision, report, raw).await?
        {
            inbound::mark_done(&mut tx, mail.id, kind, decision.route.group.as_deref()).await?;
            tx.commit().await?;
            tracing::info!(id = mail.id, "delivery status notification matched");
            return Ok(());
        }
        let mut thread = found;
        // No known Message-ID: the conversation with the same subject this sender took part in.
        let mut conversation: Option<Conversation> = None;
        if thread.is_none()
            && kind == MailKind::Correspondence
            && let Some(from) = &decision.from
        {
            let since = now_ms() - self.bridge.subject_window.num_milliseconds();
            if let Some(c) =
                conversation::by_subject(&mut tx, &decision.subject, from, since).await?
            {
                let root = match (&c.root_event, &c.root_key) {
                    (Some(ev), _) => Some(Root::Event(ev.clone())),
                    (None, Some(k)) => Some(match tx.event_id_for(k).await? {
                        Some(ev) => Root::Event(ev),
                        None => Root::Key(k.clone()),
                    }),
                    (None, None) => None,
                };
                if let Some(root) = root {
                    tracing::info!(id = mail.id, conversation = c.id, "threaded by subject");
                    thread = Some((c.room.clone(), root));
                    conversation = Some(c);
                }
            }
        }
        if conversation.is_none()
            && let Some((_, Root::Event(ev))) = &thread
        {
            conversation = conversation::by_root(&self.db, ev).await?;
        }
        let is_eoi = decision.eoi.is_some();
        // An application's mail (contact data) goes to the secretariat.
        let room = match (&thread, is_eoi, self.apps.s.cfg.group_room) {
            (Some((room, _)), _, _) => room.clone(),
            (None, true, GroupRoom::Full) | (None, false, _) => decision.route.room.clone(),
            (None, true, _) => self.outbox.management_room().to_owned(),
        };
        let post_key = Key::Mail(mail.id);
        let post_root = thread.as_ref().map(|(_, root)| root);
        if let (Some((room, Root::Event(root))), Some(id)) = (&thread, &decision.message_id) {
            crate::outbox::thread::remember(&mut tx, id, room, root).await?;
        }
        self.queue_post(&mut tx, &post_key, &room, &decision, post_root)
            .await?;
        // The parts: in the card's thread for an application, else in the mail's thread.
        let intake = match &decision.eoi {
            Some(p) => Some(self.apps.record(&mut tx, mail.id, p).await?),
            None => None,
        };
        let (parts_room, parts_root) = match (&intake, &thread) {
            (Some(o), _) => (
                self.outbox.management_room().to_owned(),
                Root::Key(Key::EoiCard(o.id)),
            ),
            (None, Some((room, root))) => (room.clone(), root.clone()),
            (None, None) => (room.clone(), Root::Key(post_key.clone())),
        };
        if kind != MailKind::Automatic {
            self.queue_parts(&mut tx, mail.id, &parts_room, &parts_root, &decision, raw)
                .await?;
        }
        if let (Some(o), Some(slug)) = (&intake, decision.route.group.as_deref())
            && o.created
            && self.apps.s.cfg.group_room == GroupRoom::Notice
            && let Some(group) = self.routing.groups.get(slug)
            && group.room != self.outbox.management_room()
        {
            let text = format!(
                "📝 A new expression of interest for {} arrived; the secretariat is reviewing it.",
                group.name
            );
            tx.post(
                Key::EoiGroupNotice(mail.id),
                &group.room,
                crate::chat::notice(&text),
            )
            .await?;
        }
        // The conversation answers go to.
        if matches!(kind, MailKind::Correspondence | MailKind::Eoi)
            && let Some(reply_to) = decision.reply_to.as_deref()
        {
            match &conversation {
                Some(c) => {
                    let sender = decision.from.as_deref().unwrap_or(reply_to);
                    conversation::note_inbound(
                        &mut tx,
                        c,
                        decision.message_id.as_deref(),
                        reply_to,
                        sender,
                    )
                    .await?
                }
                None if thread.is_none() => {
                    let refs: Vec<String> = decision
                        .references
                        .iter()
                        .rev()
                        .map(|r| format!("<{r}>"))
                        .collect();
                    conversation::create(
                        &mut tx,
                        conversation::New {
                            room: &room,
                            root_key: Some(&post_key),
                            root_event: None,
                            subject: &decision.subject,
                            correspondent: reply_to,
                            message_id: decision.message_id.as_deref(),
                            refs: &refs,
                        },
                    )
                    .await?;
                }
                None => {}
            }
        }
        inbound::mark_done(&mut tx, mail.id, kind, decision.route.group.as_deref()).await?;
        tx.commit().await?;
        self.metrics.mail_ingested(kind.as_str());
        tracing::debug!(id = mail.id, key = %mail.message_key, "mail routed: its Message-ID");
        tracing::info!(id = mail.id, uid = mail.uid, kind = kind.as_str(), group = ?decision.route.group, why = decision.route.why, "mail routed");
        if let Some(outcome) = &intake {
            tracing::info!(
                id = mail.id,
                eoi = outcome.id,
                created = outcome.created,
                acknowledged = outcome.acknowledged,
                "expression of interest recorded"
            );
        }
        crate::failpoint::hit("after-route");
        if kind != MailKind::Automatic
            && let Err(e) = crate::calendar::detect::on_mail(
                &self.calendar,
                mail.id,
                decision.route.group.as_deref(),
                &decision.text,
                decision.sent,
            )
            .await
        {
            tracing::warn!(
                id = mail.id,
                error = format!("{e:#}"),
                "deadline detection failed"
            );
        }
        Ok(())
    }

    /// The mail's post: a plain send, or one item that uploads its inline images first.
    async fn queue_post(
        &self,
        tx: &mut Tx,
        key: &Key,
        room: &str,
        d: &Decision,
        root: Option<&Root>,
    ) -> anyhow::Result<()> {
        let place = |op: MatrixOp| match root {
            Some(r) => r.place(op),
            None => op,
        };
        if d.inline.is_empty() {
            let op = place(MatrixOp::Send {
                room: room.to_owned(),
                event_type: "m.room.message".into(),
                content: d.content.clone(),
            });
            tx.matrix(key.clone(), op, None, Report::none()).await?;
            return Ok(());
        }
        let mut data = Vec::new();
        let mut inline = Vec::new();
        for (placeholder, i) in &d.inline {
            let p = &d.parts[*i];
            inline.push(Inline {
                placeholder: placeholder.clone(),
                content_type: p.part.content_type.clone(),
                start: data.len(),
                len: p.bytes.len(),
            });
            data.extend_from_slice(&p.bytes);
        }
        let op = place(MatrixOp::MailPost {
            room: room.to_owned(),
            content: d.content.clone(),
            fallback: d.fallback.clone(),
            inline,
        });
        tx.matrix(key.clone(), op, Some(&data), Report::none())
            .await?;
        Ok(())
    }

    /// Attachments and inline images as uploads in the thread (a notice for those over the
    /// cap), and the original when the post was cut.
    async fn queue_parts(
        &self,
        tx: &mut Tx,
        mail: i64,
        room: &str,
        root: &Root,
        d: &Decision,
        raw: &[u8],
    ) -> anyhow::Result<()> {
        let cap = self.bridge.max_upload_bytes;
        let report = Report::none();
        let mut files: Vec<(Key, String, String, &[u8])> = d
            .parts
            .iter()
            .map(|p| {
                (
                    Key::MailPart {
                        mail,
                        n: p.part.index,
                    },
                    p.part.filename.clone(),
                    p.part.content_type.clone(),
                    p.bytes.as_slice(),
                )
            })
            .collect();
        if d.truncated {
            let name = render::eml_name(&d.subject);
            files.push((Key::MailOriginal(mail), name, "message/rfc822".into(), raw));
        }
        for (key, filename, content_type, bytes) in files {
            let op = if bytes.len() as u64 > cap {
                let text = format!(
                    "📎 {} ({}, {}) is larger than the {} upload limit: not posted here; it stays in the stored mail.",
                    crate::markup::single_line(&filename),
                    content_type,
                    human_size(bytes.len() as u64),
                    human_size(cap)
                );
                MatrixOp::Send {
                    room: room.to_owned(),
                    event_type: "m.room.message".into(),
                    content: crate::chat::notice(&text),
                }
            } else {
                MatrixOp::Upload {
                    room: room.to_owned(),
                    filename,
                    content_type,
                    thread_root: None,
                }
            };
            let data = matches!(op, MatrixOp::Upload { .. }).then_some(bytes);
            tx.matrix(key, root.place(op), data, report.clone()).await?;
        }
        Ok(())
    }

    /// Keeps the mail with the reason and tells the management room.
    pub async fn quarantine(&self, mail: &Stored, reason: &str) -> anyhow::Result<()> {
        tracing::warn!(
            id = mail.id,
            reason = crate::markup::mask_addresses(reason),
            "mail quarantined"
        );
        // Record, state and report commit together: a crash cannot quarantine a mail twice.
        let mut tx = self.outbox.begin().await?;
        let qid =
            crate::storage::quarantine::record(&mut *tx, "inbound_mail", Some(mail.id), reason)
                .await?;
        inbound::mark_quarantined(&mut tx, mail.id, reason).await?;
        // The Message-ID and a parser's message came from the mail: inert plain text.
        let text = crate::markup::plain_text(&format!(
            "⚠ Mail {} (UID {}) was quarantined: {reason} (quarantine #{qid})",
            mail.message_key, mail.uid
        ));
        let room = self.outbox.management_room().to_owned();
        tx.post(Key::Quarantine(qid), &room, crate::chat::notice(&text))
            .await?;
        tx.commit().await?;
        self.metrics.mail_ingested("quarantined");
        Ok(())
    }
}

/// `1.2 MB`, `340 KB`, `12 bytes`.
pub fn human_size(n: u64) -> String {
    match n {
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1_000_000.0),
        n if n >= 1_000 => format!("{} KB", n / 1_000),
        n => format!("{n} bytes"),
    }
}
