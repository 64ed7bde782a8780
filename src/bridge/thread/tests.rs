use super::*;
use mail_parser::MessageParser;

#[test]
fn references_newest_first_without_brackets() {
    let raw = b"In-Reply-To: <b@x>\r\nReferences: <a@x> <b@x>\r\nSubject: Re: s\r\n\r\nhi";
    let msg = MessageParser::default().parse(&raw[..]).unwrap();
    assert_eq!(referenced_ids(&msg), vec!["b@x", "b@x", "a@x"]);
}

#[test]
fn thread_relation_points_at_the_root() {
    let t = Thread {
        room_id: "!r".into(),
        root_event_id: "$root".into(),
    };
    let v = in_thread(serde_json::json!({"msgtype": "m.text", "body": "x"}), &t);
    assert_eq!(v["m.relates_to"]["rel_type"], "m.thread");
    assert_eq!(v["m.relates_to"]["event_id"], "$root");
}

#[test]
fn a_reply_answers_the_sender_in_the_thread() {
    let raw = b"From: Ana <ana@x.test>\r\nReply-To: office@x.test\r\nMessage-ID: <m2@x>\r\nReferences: <m1@x>\r\nSubject: Agenda\r\n\r\nhi";
    let msg = MessageParser::default().parse(&raw[..]).unwrap();
    let mail = reply_to_mail(&msg, "Thanks  ").unwrap();
    assert_eq!(mail.to, vec!["office@x.test"]);
    assert_eq!(mail.subject, "Re: Agenda");
    assert_eq!(mail.in_reply_to.as_deref(), Some("<m2@x>"));
    assert_eq!(mail.references, vec!["<m1@x>", "<m2@x>"]);
    assert_eq!(mail.text, "Thanks\n");
    assert!(mail.auto_submitted.is_none());
}
