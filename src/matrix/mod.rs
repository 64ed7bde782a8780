//! Matrix: the bot's session and stores ([`client`]), the sync loop and event handlers
//! ([`sync`]), and the outbox every post goes through ([`outbox`]).

pub mod client;
pub mod html;
pub mod outbox;
pub mod sync;

use serde_json::{Value, json};

/// An `m.notice` with an HTML rendering of `markdown`.
pub fn notice_markdown(markdown: &str) -> Value {
    use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
    serde_json::to_value(RoomMessageEventContent::notice_markdown(markdown))
        .unwrap_or_else(|_| notice(markdown))
}

/// A plain `m.notice`.
pub fn notice(text: &str) -> Value {
    json!({ "msgtype": "m.notice", "body": text })
}

/// Makes `content` a reply to `event_id`, staying in the thread `thread_root` if there is one.
pub fn reply_to(mut content: Value, event_id: &str, thread_root: Option<&str>) -> Value {
    let relation = match thread_root {
        Some(root) => json!({
            "rel_type": "m.thread",
            "event_id": root,
            "is_falling_back": false,
            "m.in_reply_to": { "event_id": event_id },
        }),
        None => json!({ "m.in_reply_to": { "event_id": event_id } }),
    };
    content["m.relates_to"] = relation;
    content
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_notice_has_html_and_reply() {
        let v = reply_to(notice_markdown("**hi**"), "$e", None);
        assert_eq!(v["msgtype"], "m.notice");
        assert!(
            v["formatted_body"]
                .as_str()
                .unwrap()
                .contains("<strong>hi</strong>")
        );
        assert_eq!(v["m.relates_to"]["m.in_reply_to"]["event_id"], "$e");
        let t = reply_to(notice("x"), "$e", Some("$root"));
        assert_eq!(t["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(t["m.relates_to"]["event_id"], "$root");
    }
}
