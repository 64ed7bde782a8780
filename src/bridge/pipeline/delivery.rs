//! Delivery status notifications (RFC 3464) about mail convene sent: into the sent mail's
//! thread, onto its status post, and towards each failed recipient's bounce score.

use super::{Decision, Pipeline};
use crate::bridge::inbound::Stored;
use crate::mail::compose;
use crate::mail::dsn::{self, Dsn};
use crate::outbox::{Key, Report, Tx};
use crate::storage::now_ms;

impl Pipeline {
    /// A delivery status notification about a mail convene sent: posted in that mail's thread
    /// (else the management room), the mail's status post edited, each failed recipient's
    /// bounce counted and, at the threshold, the address marked. False when it is about no
    /// mail of ours (then it is bridged as automatic mail).
    pub(super) async fn on_dsn(
        &self,
        tx: &mut Tx,
        mail: &Stored,
        d: &Decision,
        report: &Dsn,
        _raw: &[u8],
    ) -> anyhow::Result<bool> {
        let own_domain = self.outbox.from().domain().to_owned();
        let Some(original) = report
            .original_message_id
            .as_deref()
            .filter(|id| compose::is_own_message_id(id, &own_domain))
        else {
            return Ok(false);
        };
        let item = crate::outbox::queue::mail_by_message_id(&self.db, original).await?;
        let thread = crate::outbox::thread::of_message(&self.db, original).await?;
        let failed: Vec<&dsn::Recipient> = report
            .recipients
            .iter()
            .filter(|r| r.is_hard() || r.is_soft())
            .collect();
        let mut lines = Vec::new();
        for r in &report.recipients {
            let what = if r.is_hard() {
                "bounced"
            } else if r.is_soft() {
                "is delayed"
            } else {
                r.action.as_str()
            };
            lines.push(format!(
                "the mail to {} {what}: {}",
                crate::markup::single_line(&r.address),
                crate::markup::single_line(&r.reason())
            ));
        }
        if lines.is_empty() {
            lines.push("a delivery report without recipients".into());
        }
        let text = format!("📭 Delivery report: {}", lines.join("; "));
        let (room, content) = match &thread {
            Some((room, root)) => (
                room.clone(),
                crate::chat::in_thread(crate::chat::notice(&text), root),
            ),
            None => (
                self.outbox.management_room().to_owned(),
                crate::chat::notice(&format!("{text} (about {original})")),
            ),
        };
        tx.post(Key::Mail(mail.id), &room, content).await?;
        if let Some(item) = &item
            && let (Some(status), Some(status_room)) = (&item.report_status, &item.report_room)
            && !failed.is_empty()
        {
            let hard = failed.iter().any(|r| r.is_hard());
            let (state, icon) = if hard {
                ("bounced", "❌ Bounced")
            } else {
                ("delayed", "⏳ Delayed")
            };
            let who: Vec<String> = failed
                .iter()
                .map(|r| {
                    format!(
                        "{} ({})",
                        r.address,
                        crate::markup::single_line(&r.reason())
                    )
                })
                .collect();
            let edit = crate::outbox::op::status_edit(
                status_room,
                &Key::parse(status),
                &format!("{icon}: {}", who.join(", ")),
            );
            let key = Key::MailStatus {
                item: item.id,
                state: state.into(),
                at: mail.id,
            };
            tx.matrix(key, edit, None, Report::none()).await?;
        }
        // Only bounces of mail we really sent count (the DSN names its original).
        if item.is_some() {
            let now = now_ms();
            for r in failed {
                let scored = crate::bridge::bounce::record(
                    tx,
                    &self.bridge,
                    &r.address,
                    r.is_hard(),
                    &r.reason(),
                    now,
                )
                .await?;
                tracing::info!(
                    address = r.address,
                    score = scored.score,
                    hard = r.is_hard(),
                    "bounce counted"
                );
                if scored.newly_marked {
                    let reason = format!(
                        "bounce score {:.1} (threshold {:.1}); last: {}",
                        scored.score,
                        self.bridge.bounce_threshold,
                        r.reason()
                    );
                    crate::outbox::hold::mark(tx, &r.address, &reason).await?;
                    let text = format!(
                        "⏸ {} bounces repeatedly ({reason}). Mail to it is now held: `!outbox` lists it, `!outbox retry ID` sends one, `!outbox unhold {}` clears the address.",
                        crate::markup::single_line(&r.address),
                        crate::markup::single_line(&r.address),
                    );
                    let management = self.outbox.management_room().to_owned();
                    let key = Key::Notice(format!("bounce-marked-{}-{}", r.address, mail.id));
                    tx.post(key, &management, crate::chat::notice(&text))
                        .await?;
                    if let Some((room, root)) = &thread
                        && *room != management
                    {
                        let key =
                            Key::Notice(format!("bounce-marked-here-{}-{}", r.address, mail.id));
                        tx.post(
                            key,
                            room,
                            crate::chat::in_thread(crate::chat::notice(&text), root),
                        )
                        .await?;
                    }
                }
            }
        }
        let _ = d;
        Ok(true)
    }
}
