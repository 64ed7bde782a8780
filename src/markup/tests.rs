use super::*;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;

/// What the bot posts: the content `notice_markdown` builds, as JSON.
fn render(markdown: &str) -> Value {
    serde_json::to_value(RoomMessageEventContent::notice_markdown(markdown)).unwrap()
}

/// The HTML a client shows: `formatted_body`, or the escaped body when ruma saw no
/// Markdown and sent none.
fn html_of(content: &Value) -> String {
    match content["formatted_body"].as_str() {
        Some(html) => html.to_string(),
        None => escape_html(content["body"].as_str().unwrap()),
    }
}

/// The text a reader sees in `html`: paragraphs and breaks as newlines, no tags, entities
/// decoded. Panics on any tag but `p` and `br`, since nothing else may come out.
fn visible(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open..=close];
        match tag {
            "<p>" => {}
            "</p>" | "<br />" => text.push('\n'),
            other => panic!("unexpected tag {other} in {html}"),
        }
        rest = &rest[close + 1..];
        if tag != "<p>" {
            // pulldown-cmark writes a newline after a break and a paragraph.
            rest = rest.strip_prefix('\n').unwrap_or(rest);
        }
    }
    text.push_str(rest);
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.lines()
        .map(|l| if l == "\u{a0}" { "" } else { l })
        .collect::<Vec<_>>()
        .join("\n")
        .trim_end_matches('\n')
        .to_string()
}

/// What `escape_markdown` promises to keep of `s`: the normalised text, mentions defused,
/// lines trimmed, blank runs collapsed, ends trimmed.
fn expected(s: &str) -> String {
    let text = defuse_mentions(&normalise(s));
    let mut lines: Vec<&str> = Vec::new();
    for line in text.split('\n').map(|l| l.trim_matches(' ')) {
        if line.is_empty() && lines.last().is_none_or(|l| l.is_empty()) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.join("\n")
}

fn hostile() -> Vec<String> {
    let mut list: Vec<String> = [
        r#"<a href="https://phish.example">Accept here</a>"#,
        "[Approve now](https://phish.example)",
        "[Approve now][1]\n\n[1]: https://phish.example",
        "[Approve now]\n\n[approve now]: https://phish.example \"title\"",
        "![x](https://t.example/p.gif)",
        "!<img src=x>[x](y)",
        "<https://phish.example>",
        "<mallory@evil.example>",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "<!-- hidden --> comment",
        "<div>\nblock html\n</div>",
        "&lt;script&gt; &#60;b&#62; &amp; &copy; &#x3C;i&#x3E;",
        "R&D & more &",
        "`code`",
        "``double `tick` code``",
        "```rust\nfenced\n```",
        "~~~\nfenced tilde\n~~~",
        "    indented code",
        "\tindented by a tab",
        "**bold** __bold__ *em* _em_ ~~strike~~ ~strike~",
        "snake_case and first_last@example.org",
        "# heading",
        "###### heading six",
        "Title\n=====",
        "Title\n-----",
        "---",
        "***",
        "_ _ _",
        "> quote",
        ">> nested quote",
        "- item",
        "+ item",
        "* item",
        "1. item",
        "2) item",
        "123456789. item",
        "- [ ] task",
        "| a | b |\n|---|---|\n| c | d |",
        "a | b\n--- | ---\nc | d",
        "@room",
        "@room please",
        "hello @room!",
        "(@room)",
        "@mallory:evil.example",
        "ping @mallory:evil.example now",
        "\\",
        "ends with a backslash \\",
        "\\*not bold\\*",
        "line one\r\nline two\rline three\nline four",
        "two trailing spaces  \nbreak",
        "blank\n\n\n\nlines",
        "\n\nleading and trailing blank lines\n\n",
        "invoice\u{202E}fdp.exe",
        "\u{2066}isolated\u{2069} and \u{202D}override\u{202C}",
        "zero\u{200B}width\u{FEFF}chars\u{2060}here",
        "tag\u{E0041}\u{E0042}chars",
        "nul\u{0}and\u{7}bell\u{1b}[31mred",
        "line\u{2028}separator\u{2029}paragraph",
        "emoji 👩‍💻 and ZWNJ می‌خواهم",
        "[x]: https://phish.example",
        "http://bare.example/link stays text",
        "a\n- item\n> quote\n# heading",
        "<",
        "&",
        "_",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    list.push("<a href=x>".repeat(1000));
    list.push("[link](https://phish.example) ".repeat(400));
    list.push(format!("{}\n", "x".repeat(200)).repeat(50));
    list.push("é".repeat(5000));
    list
}

/// Words of `s` that must still be readable after escaping.
fn words(s: &str) -> Vec<String> {
    normalise(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn hostile_strings_render_literally_through_matrix_sdk() {
    for input in hostile() {
        let escaped = escape_markdown(&input);
        let content = render(&escaped);
        let html = html_of(&content);
        for tag in [
            "<a",
            "<img",
            "<script",
            "<h",
            "<li",
            "<ol",
            "<ul",
            "<table",
            "<blockquote",
            "<code",
            "<pre",
            "<em",
            "<strong",
            "<del",
            "<div",
            "<hr",
            "<!--",
            "<input",
        ] {
            assert!(!html.contains(tag), "{tag} from {input:?}: {html}");
        }
        let shown = visible(&html);
        assert_eq!(shown, expected(&input), "shown text of {input:?}");
        for word in words(&input) {
            assert!(
                shown.contains(&word),
                "{word:?} lost from {input:?}: {shown}"
            );
        }
        let body = content["body"].as_str().unwrap();
        for mention in ["@room", "@mallory"] {
            assert!(!body.contains(mention), "{mention} in body of {input:?}");
        }
    }
}

#[test]
fn escaped_values_stay_inside_the_template() {
    // A value in a list item, in emphasis and in a quote, as the cards use them: it must
    // neither close the template's markup nor start a block of its own.
    for input in hostile() {
        let v = escape_markdown(&input);
        let md = format!("**Card**\n\n- Name: {v}\n- Country: **{v}**\n\n> {v}\n");
        let html = html_of(&render(&md));
        assert_eq!(html.matches("<li>").count(), 2, "{input:?}: {html}");
        assert_eq!(html.matches("<strong>").count(), 2, "{input:?}: {html}");
        assert_eq!(html.matches("<blockquote>").count(), 1, "{input:?}: {html}");
        for tag in ["<a", "<img", "<h1", "<table", "<code", "<ol", "<hr"] {
            assert!(!html.contains(tag), "{tag} from {input:?}: {html}");
        }
    }
}

#[test]
fn one_line_values_keep_a_table_whole() {
    for input in hostile() {
        let v = escape_markdown_line(&input);
        assert!(!v.contains('\n'), "{input:?}");
        let md = format!("| field | value |\n|---|---|\n| name | {v} |\n| next | row |\n");
        let html = html_of(&render(&md));
        assert_eq!(html.matches("<tr>").count(), 3, "{input:?}: {html}");
        assert_eq!(html.matches("<td>").count(), 4, "{input:?}: {html}");
        assert!(!html.contains("<a") && !html.contains("<img"), "{html}");
    }
}

#[test]
fn readable_text_is_left_alone() {
    for s in [
        "Aino Virtanen",
        "Research & Innovation",
        "alice@example.org",
        "first_last@example.org",
        "Ayuntamiento de Málaga (Andalucía), 2024",
        "Is this a question? Yes: it is.",
    ] {
        assert_eq!(escape_markdown(s), s);
    }
    assert_eq!(escape_markdown("1. item"), "1\\. item");
    assert_eq!(escape_markdown("a * b"), "a \\* b");
    assert_eq!(escape_markdown("x_"), "x\\_");
    assert_eq!(escape_markdown("&amp;"), "\\&amp;");
    assert_eq!(escape_markdown("a\n\n\nb"), "a\n\u{a0}\nb");
}

#[test]
fn html_escaping() {
    assert_eq!(
        escape_html("<a href=\"x\">&'"),
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
    );
    assert_eq!(escape_html("@room"), "@\u{2060}room");
    assert_eq!(escape_html("a\u{202E}b\u{200B}c"), "a\u{FFFD}bc");
    for input in hostile() {
        let html = escape_html(&input);
        assert!(!html.contains('<') && !html.contains('>'), "{input:?}");
    }
}

#[test]
fn mentions_are_defused_but_addresses_kept() {
    assert_eq!(plain_text("@room"), "@\u{2060}room");
    assert_eq!(plain_text("hi @room."), "hi @\u{2060}room.");
    assert_eq!(
        plain_text("@mallory:evil.example"),
        "@\u{2060}mallory:evil.example"
    );
    assert_eq!(plain_text("(@x:y)"), "(@\u{2060}x:y)");
    assert_eq!(plain_text("alice@example.org"), "alice@example.org");
    assert_eq!(plain_text("a @ b"), "a @ b");
    assert_eq!(plain_text("end @"), "end @");
    // A word joiner the sender put in is removed first, so it cannot hide an `@room`.
    assert_eq!(plain_text("\u{2060}@room"), "@\u{2060}room");
    assert_eq!(plain_text("a\r\nb"), "a\nb");
}

#[test]
fn mentions_key() {
    let v = with_mentions(json!({"msgtype": "m.notice", "body": "x"}), &[] as &[&str]);
    assert_eq!(v["m.mentions"], json!({}));
    let v = with_mentions(v, &["@a:x", "@b:x", "@a:x"]);
    assert_eq!(v["m.mentions"], json!({"user_ids": ["@a:x", "@b:x"]}));
    assert!(v["m.mentions"].get("room").is_none());
    let ids = vec!["@c:x".to_string()];
    assert_eq!(
        with_mentions(json!({}), &ids)["m.mentions"]["user_ids"][0],
        "@c:x"
    );
    assert_eq!(with_mentions(json!("text"), &["@a:x"]), json!("text"));
}

#[test]
fn code_spans() {
    assert_eq!(code("x"), "`x`");
    assert_eq!(code("a`b"), "``a`b``");
    assert_eq!(code("`start"), "`` `start ``");
    assert_eq!(code(""), "` `");
    assert_eq!(code("a\nb"), "`a b`");
    for input in hostile() {
        let html = html_of(&render(&format!("unknown command {}", code(&input))));
        assert_eq!(html.matches("<code>").count(), 1, "{input:?}: {html}");
        assert!(!html.contains("<a") && !html.contains("<img"), "{html}");
        let inner = &html[html.find("<code>").unwrap() + 6..html.find("</code>").unwrap()];
        let shown = inner
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&");
        let want = defuse_mentions(&single_line(&normalise(&input)));
        assert_eq!(shown.trim(), want.trim(), "{input:?}");
    }
}

#[test]
fn truncation() {
    assert_eq!(truncate("short", 10), "short");
    assert!(matches!(truncate("short", 5), Cow::Borrowed(_)));
    assert_eq!(truncate("abcdefgh", 6), "abc…");
    assert_eq!(truncate("ab cdefgh", 6), "ab…");
    // "é" is two bytes: never cut in half.
    assert_eq!(truncate("ééééé", 7), "éé…");
    assert_eq!(truncate("ééééé", 8), "éé…");
    assert_eq!(truncate("ééééé", 9), "ééé…");
    assert_eq!(truncate("éé", 1), "");
    assert_eq!(truncate("abc", 2), "ab");
    for n in 0..40 {
        let t = truncate("😀 text with emoji 😀 and more", n);
        assert!(t.len() <= n, "{n}: {t}");
    }
}

#[test]
fn one_line() {
    assert_eq!(single_line("a\r\nb\rc\nd\te"), "a b c d e");
    assert_eq!(single_line("x\u{0}y\u{85}z\u{2028}w"), "x y z w");
    assert!(matches!(single_line("plain"), Cow::Borrowed(_)));
    assert_eq!(
        single_line("Subject\r\nBcc: victim@example.org"),
        "Subject Bcc: victim@example.org"
    );
}

#[test]
fn local_parts_are_masked_and_the_rest_stays() {
    assert_eq!(
        mask_addresses("5.1.1 <jane.doe+wg@refused.test>: Recipient address rejected"),
        "5.1.1 <…@refused.test>: Recipient address rejected"
    );
    assert_eq!(mask_addresses("a@b, c@d"), "…@b, …@d");
    assert_eq!(mask_addresses("no address here"), "no address here");
    assert_eq!(mask_addresses("trailing @ sign"), "trailing @ sign");
    assert_eq!(mask_addresses("Ünïcode@exämple.eu"), "…@exämple.eu");
}
