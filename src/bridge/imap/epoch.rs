//! A new UIDVALIDITY epoch: the folder's messages re-matched to what is stored, by
//! Message-ID or, where there is none, by a digest of the raw message; what predates the
//! epoch's first sight recorded as not to be handled; the change reported.

use futures_util::StreamExt;

use super::{Imap, Listed, Session};
use crate::bridge::inbound;
use crate::outbox::Key;

impl Imap {
    /// The key of a message without a Message-ID: the digest of its bytes (size-capped).
    async fn digest_key(
        &self,
        session: &mut Session,
        uidvalidity: u32,
        uid: u32,
        size: u32,
    ) -> anyhow::Result<String> {
        let fallback = format!("uid:{}:{uidvalidity}:{uid}", self.cfg.folder);
        if u64::from(size) > self.cfg.max_message_bytes {
            return Ok(fallback);
        }
        let fut = async {
            let mut raw = None;
            let mut stream = session
                .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
                .await?;
            while let Some(item) = stream.next().await {
                let f = item?;
                if f.uid == Some(uid) {
                    raw = f.body().map(<[u8]>::to_vec);
                }
            }
            Ok(raw)
        };
        Ok(match self.t("FETCH", fut).await? {
            Some(raw) => inbound::message_key(&raw),
            None => fallback,
        })
    }

    /// A new UIDVALIDITY: re-match the folder, record what is not to be handled, report.
    pub(super) async fn epoch_changed(
        &self,
        session: &mut Session,
        old: i64,
        uidvalidity: u32,
        checked_at: Option<i64>,
    ) -> anyhow::Result<()> {
        let folder = self.cfg.folder.clone();
        tracing::warn!(
            folder,
            old,
            new = uidvalidity,
            "UIDVALIDITY changed: re-matching the folder"
        );
        let listed: Vec<Listed> = {
            let fut = async {
                let mut out = Vec::new();
                let mut stream = session
                    .uid_fetch(
                        "1:*",
                        "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])",
                    )
                    .await?;
                while let Some(item) = stream.next().await {
                    let f = item?;
                    if let Some(uid) = f.uid {
                        out.push((
                            uid,
                            f.size.unwrap_or(0),
                            f.internal_date().map(|d| d.timestamp_millis()),
                            f.header().map(<[u8]>::to_vec),
                        ));
                    }
                }
                Ok(out)
            };
            self.t("FETCH Message-IDs", fut).await?
        };
        // Keys first (fetching a body where there is no Message-ID), then what is known.
        let mut keyed = Vec::with_capacity(listed.len());
        for (uid, size, internal, header) in listed {
            let key = match header.as_deref().and_then(inbound::message_id_key) {
                Some(k) => k,
                None => self.digest_key(session, uidvalidity, uid, size).await?,
            };
            let known = inbound::is_known(&self.db, &key).await?;
            keyed.push((uid, internal, key, known));
        }
        // An unknown message after the last known one (in folder order) arrived after convene
        // last looked: new mail. One before it was in the folder already and never imported.
        // With nothing known, the time of the last complete check decides.
        let last_known = keyed.iter().rposition(|k| k.3);
        let (mut known, mut old_skipped, mut new) = (0, 0, 0);
        for (i, (uid, internal, key, is_known)) in keyed.into_iter().enumerate() {
            if is_known {
                inbound::record_skipped(
                    &self.db,
                    &folder,
                    uidvalidity,
                    uid,
                    &key,
                    "known before the UIDVALIDITY change",
                )
                .await?;
                known += 1;
                continue;
            }
            let arrived_since = match last_known {
                Some(last) => i > last,
                None => matches!((internal, checked_at), (Some(i), Some(t)) if i > t),
            };
            if arrived_since || self.cfg.import_existing {
                new += 1;
                continue;
            }
            inbound::record_skipped(
                &self.db,
                &folder,
                uidvalidity,
                uid,
                &key,
                "in the folder before the UIDVALIDITY change and never imported",
            )
            .await?;
            old_skipped += 1;
        }
        inbound::advance_cursor(&self.db, &folder, uidvalidity, 0).await?;
        let text = format!(
            "📬 The mailbox folder {folder} changed its UIDVALIDITY ({old} → {uidvalidity}), as a \
             server migration or an index rebuild does. Re-matched by Message-ID: {known} \
             message(s) already handled, {old_skipped} older one(s) never imported and left \
             alone, {new} to be handled as new mail."
        );
        self.outbox
            .notice(
                Key::Notice(format!("uidvalidity-{uidvalidity}")),
                self.outbox.management_room(),
                &text,
            )
            .await?;
        tracing::warn!(
            folder,
            known,
            old_skipped,
            new,
            "UIDVALIDITY change handled"
        );
        Ok(())
    }
}
