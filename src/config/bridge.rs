//! `[bridge]`: how mail and rooms meet — upload cap, internal notes, the subject fallback of
//! threading, bounce scoring.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BridgeConfig {
    /// Attachments of inbound mail up to this size are uploaded into the mail's thread;
    /// larger ones are named there with their size instead. Files the secretariat posts in a
    /// thread are mailed up to this size too.
    pub max_upload_bytes: u64,
    /// A secretariat message in a mail's thread that starts with this stays in the room.
    pub internal_marker: String,
    /// A mail that names no known Message-ID joins the conversation with the same subject
    /// (without `Re:`/`Fwd:`/tags) and a participant as sender, when that conversation saw
    /// mail within this period.
    #[serde(with = "super::duration_text")]
    pub subject_window: chrono::TimeDelta,
    /// A recipient whose bounce score reaches this is marked, and later mail to it held.
    pub bounce_threshold: f64,
    /// The bounce score halves over this period (hard bounce 1, soft 0.5).
    #[serde(with = "super::duration_text")]
    pub bounce_half_life: chrono::TimeDelta,
}

impl Default for BridgeConfig {
    fn default() -> Self {
        BridgeConfig {
            max_upload_bytes: 10 * 1024 * 1024,
            internal_marker: "//".into(),
            subject_window: chrono::TimeDelta::days(14),
            bounce_threshold: 3.0,
            bounce_half_life: chrono::TimeDelta::days(7),
        }
    }
}

/// `applications.group_room`: what a group's room sees of an application mailed to its
/// address (the card and the mail always go to the management room).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupRoom {
    /// Nothing.
    None,
    /// One line without contact data.
    #[default]
    Notice,
    /// The mail as bridged (contact data included).
    Full,
}
