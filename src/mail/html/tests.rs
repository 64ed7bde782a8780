use super::*;

fn clean(html: &str) -> String {
    sanitize(html, &|_| CidImage::Missing { name: None })
        .fragment
        .to_html()
}

#[test]
fn drops_active_content_and_keeps_structure() {
    let out = clean(
        r#"<html><head><title>T</title><meta charset="utf-8"><base href="https://evil.test/">
            <style>p { color: red }</style><script>alert(1)</script></head>
            <body><p onclick="steal()" style="color:red">Hello <b>all</b></p>
            <form action="https://evil.test/login"><input name="pw" value="x"><button>Go</button>Login</form>
            <iframe src="https://evil.test/frame">frame</iframe><object data="x.swf">obj</object>
            <embed src="x.swf"><svg><script>alert(2)</script></svg>
            <!-- a comment --><!--[if mso]><p>outlook only</p><![endif]-->
            <a href="javascript:alert(3)">js</a> <a class="c" href="javascript:alert(4)">js2</a>
            <a href="data:text/html,<script>alert(5)</script>">data</a>
            <a href="vbscript:msgbox">vb</a> <a href="/relative">rel</a>
            <a href="https://example.org/agenda">agenda</a> <a href="mailto:wg@example.org">mail</a>
            <ul><li>one</li><li>two</li></ul>
            <table><tr><th>h</th></tr><tr><td>c</td></tr></table>
            <img src="https://tracker.test/p.gif" width="1" height="1">
            <img alt="Chart" src="https://cdn.test/chart.png"></body></html>"#,
    );
    for gone in [
        "<script",
        "alert",
        "<style",
        "color",
        "onclick",
        "steal",
        "<form",
        "<input",
        "<button",
        "<iframe",
        "frame<",
        "<object",
        "<embed",
        "<svg",
        "comment",
        "outlook only",
        "<title",
        "<meta",
        "<base",
        "evil.test",
        "javascript",
        "data:",
        "vbscript",
        "/relative",
        "tracker.test",
        "cdn.test",
        "<img",
    ] {
        assert!(!out.contains(gone), "{gone} survived in {out}");
    }
    for kept in [
        "<p>Hello <b>all</b></p>",
        "Login",
        "<a href=\"https://example.org/agenda\">agenda</a>",
        "<a href=\"mailto:wg@example.org\">mail</a>",
        "<ul><li>one</li><li>two</li></ul>",
        "<table><tbody><tr><th>h</th></tr><tr><td>c</td></tr></tbody></table>",
        "js js2",
        "rel",
        "[image: Chart]",
    ] {
        assert!(out.contains(kept), "{kept} missing from {out}");
    }
}

#[test]
fn keeps_matrix_formatting() {
    let out = clean(
        "<h2>Agenda</h2><p>a<br>b</p><ol start=\"3\"><li>x</li></ol><i>i</i><u>u</u>\
         <strike>old</strike><del>d</del><blockquote>q</blockquote><pre>a\n  b</pre>\
         <code class=\"language-rust\">fn</code><hr><font color=\"#ff0000\">red</font>\
         <details><summary>s</summary>d</details>",
    );
    assert_eq!(
        out,
        "<h2>Agenda</h2><p>a<br>b</p><ol start=\"3\"><li>x</li></ol><i>i</i><u>u</u>\
         <s>old</s><del>d</del><blockquote>q</blockquote><pre>a\n  b</pre>\
         <code class=\"language-rust\">fn</code><hr><span data-mx-color=\"#ff0000\">red</span>\
         <details><summary>s</summary>d</details>"
    );
}

#[test]
fn drops_hidden_content_and_collapses_white_space() {
    let out = clean(
        "<div style=\"display: none\">preheader</div><p hidden>h</p>\
         <span style=\"visibility:hidden\">v</span><p>\n   shown\n   text  </p>",
    );
    assert_eq!(out, "<p> shown text </p>");
}

#[test]
fn cid_images_resolved_or_placeholders() {
    let html = "<p><img src=\"cid:logo@x\" alt=\"Logo\" width=\"40\" onerror=\"x()\">\
                <img src=\"cid:chart%40x\"><img src=\"cid:gone@x\"></p>";
    let s = sanitize(html, &|cid| match cid {
        "logo@x" => CidImage::Uploaded {
            mxc: "mxc://example.org/abcDEF".into(),
        },
        "chart@x" => CidImage::Missing {
            name: Some("chart.png".into()),
        },
        _ => CidImage::Missing { name: None },
    });
    assert_eq!(
        s.fragment.to_html(),
        "<p><img src=\"mxc://example.org/abcDEF\" alt=\"Logo\" width=\"40\">\
         [image: chart.png][image]</p>"
    );
    assert_eq!(s.cids, ["logo@x", "chart@x", "gone@x"]);
    // A resolver answering with something that is not a media URI gets a placeholder.
    let s = sanitize("<img src=\"cid:a\">", &|_| CidImage::Uploaded {
        mxc: "https://evil.test/x\" onload=\"y".into(),
    });
    assert_eq!(s.fragment.to_html(), "[image]");
}

#[test]
fn truncation_closes_tags_and_respects_characters() {
    let f = sanitize(
        "<p>first <b>bold 日本語 text</b></p><ul><li>never shown</li></ul>",
        &|_| CidImage::Missing { name: None },
    )
    .fragment;
    let full = f.to_html();
    let (whole, cut) = f.truncated(full.len(), &str::len);
    assert!(!cut);
    assert_eq!(whole.to_html(), full);
    for max in 0..full.len() {
        let (t, cut) = f.truncated(max, &str::len);
        let html = t.to_html();
        assert!(cut && html.len() <= max, "{max}: {html}");
        assert_eq!(html.matches("<b>").count(), html.matches("</b>").count());
        assert_eq!(html.matches("<p>").count(), html.matches("</p>").count());
    }
    let (t, _) = f.truncated(24, &str::len);
    assert_eq!(t.to_html(), "<p>first <b>bold</b></p>");
}

#[test]
fn hostile_sizes_are_read_in_part() {
    // Nested far past what freeing the tree recursively survives.
    let deep = format!("<p>start</p>{}", "<div>".repeat(100_000));
    let s = sanitize(&deep, &|_| CidImage::Missing { name: None });
    assert!(s.cut && s.fragment.to_html().starts_with("<p>start</p><div><div>"));
    let flat = "<br>".repeat(1_000_000);
    let s = sanitize(&flat, &|_| CidImage::Missing { name: None });
    assert!(s.cut);
    assert_eq!(s.fragment.to_html().matches("<br>").count(), MAX_TAGS);
    // Cut before a tag, never inside one.
    assert_eq!(
        first_tags("<a href=\"x\">a</a><b>b</b>", 1),
        ("<a href=\"x\">a</a>", true)
    );
    assert_eq!(first_tags("a < b <3", 0), ("a < b <3", false));
}

#[test]
fn text_rendering() {
    let f = sanitize(
        "<p>Dear all,</p><p>see <a href=\"https://x.test/a\">the agenda</a> and \
         <a href=\"https://x.test/b\">https://x.test/b</a>.<br>Thanks</p>\
         <ul><li>one</li><li>two</li></ul><ol start=\"2\"><li>b</li></ol>\
         <blockquote><p>quoted</p></blockquote><table><tr><td>a</td><td>b</td></tr></table>",
        &|_| CidImage::Missing { name: None },
    )
    .fragment;
    assert_eq!(
        f.to_text(),
        "Dear all,\n\nsee the agenda <https://x.test/a> and https://x.test/b.\nThanks\n\n\
         - one\n- two\n\n2. b\n\n> quoted\n\na | b"
    );
    assert_eq!(
        Fragment::from_text("a <b>\n\nc").to_html(),
        "a &lt;b&gt;<br><br>c"
    );
}
