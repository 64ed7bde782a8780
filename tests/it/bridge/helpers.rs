//! Reading back what the bot posted, as another Matrix user would: an event's full content
//! (decrypted in an encrypted room), the bytes of its media, mail built by hand.

use std::time::{Duration, Instant};

use matrix_sdk::media::{MediaFormat, MediaRequestParameters};
use matrix_sdk::ruma::events::room::MediaSource;
use matrix_sdk::ruma::{EventId, OwnedRoomId};

use crate::support::{Person, Seen};

/// The content of an event, as the person's client sees it (decrypted when it can be).
pub async fn content(p: &Person, room: &OwnedRoomId, event_id: &str) -> serde_json::Value {
    let room = p.client.get_room(room).expect("room known");
    let eid = EventId::parse(event_id).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ev = room.event(&eid, None).await.unwrap();
        let v: serde_json::Value = ev.raw().deserialize_as().unwrap();
        if v["type"] != "m.room.encrypted" {
            return v["content"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "could not decrypt {event_id}: {v}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The bytes behind an `m.file`/`m.image` event (downloaded and decrypted by matrix-sdk).
pub async fn media(p: &Person, room: &OwnedRoomId, event_id: &str) -> (serde_json::Value, Vec<u8>) {
    let c = content(p, room, event_id).await;
    let source: MediaSource = if c.get("file").is_some() {
        MediaSource::Encrypted(Box::new(serde_json::from_value(c["file"].clone()).unwrap()))
    } else {
        MediaSource::Plain(serde_json::from_value(c["url"].clone()).unwrap())
    };
    let bytes = p
        .client
        .media()
        .get_media_content(
            &MediaRequestParameters {
                source,
                format: MediaFormat::File,
            },
            false,
        )
        .await
        .unwrap();
    (c, bytes)
}

/// Messages of `msgtype` in the thread of `root`, waiting until there are at least `n`.
pub async fn wait_in_thread(
    p: &Person,
    room: &OwnedRoomId,
    root: &str,
    msgtype: &str,
    n: usize,
    timeout: Duration,
) -> Vec<Seen> {
    let deadline = Instant::now() + timeout;
    loop {
        let found: Vec<Seen> = p
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| {
                s.room == room.as_str()
                    && s.thread_root.as_deref() == Some(root)
                    && s.msgtype == msgtype
                    && s.sender != p.user.as_str()
            })
            .cloned()
            .collect();
        if found.len() >= n {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "fewer than {n} {msgtype} in the thread of {root}: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for j in 0..4 {
            if j <= chunk.len() {
                out.push(T[(n >> (18 - 6 * j) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A header block for a hand-built mail.
pub fn head(from: &str, to: &str, subject: &str, extra: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@sender.test>\r\nDate: {}\r\nMIME-Version: 1.0\r\n{extra}",
        crate::support::unique(),
        chrono::Utc::now().to_rfc2822()
    )
}

/// Some bytes that are no text: every byte value, in a pattern of its own.
pub fn binary(tag: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(tag))
        .collect()
}
