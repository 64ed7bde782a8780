use super::*;
use mail_parser::MessageParser;

const OURS: &str = "mx.our.example";

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn assess_raw(raw: &str, authserv_ids: &[&str]) -> Trust {
    let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
    assess(&msg, &ids(authserv_ids))
}

fn mailbox(s: &str) -> Mailbox {
    Mailbox::parse(s).unwrap()
}

const BODY: &str = "Subject: Expression of interest\r\n\
    Date: Mon, 10 Jun 2024 10:02:03 +0200\r\n\
    Message-ID: <m1@example.org>\r\n\
    To: working-groups@our.example\r\n\
    \r\n\
    Hello.\r\n";

/// Delivered to a Google Workspace mailbox: Google's header sits below its own
/// `Received`, and its authserv-id is mx.google.com.
fn gmail(from: &str, results: &str) -> String {
    format!(
        "Delivered-To: working-groups@our.example\r\n\
         Received: by 2002:a05:6a10:b5c4:b0:5a1:9f2:7c3e with SMTP id x4csp1234567pxq;\r\n\
         \x20       Mon, 10 Jun 2024 01:02:04 -0700 (PDT)\r\n\
         X-Received: by 2002:a17:906:1c9:b0:a6e:f5ab:2a1f with SMTP id 9mr123456.1;\r\n\
         \x20       Mon, 10 Jun 2024 01:02:04 -0700 (PDT)\r\n\
         ARC-Authentication-Results: i=1; mx.google.com;\r\n\
         \x20      dkim=pass header.i=@evil.example header.s=google header.b=Zz9;\r\n\
         \x20      dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=evil.example\r\n\
         Return-Path: <alice@example.org>\r\n\
         Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n\
         \x20       by mx.google.com with SMTPS id a640c23a62f3a-a7a1e2b3c4dsor12345.9\r\n\
         \x20       for <working-groups@our.example>\r\n\
         \x20       (Google Transport Security);\r\n\
         \x20       Mon, 10 Jun 2024 01:02:03 -0700 (PDT)\r\n\
         Received-SPF: pass (google.com: domain of alice@example.org designates 209.85.220.41 as permitted sender) client-ip=209.85.220.41;\r\n\
         Authentication-Results: mx.google.com;\r\n{results}\
         DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=google;\r\n\
         \x20       h=to:subject:message-id:date:from:mime-version; bh=47DEQpj8HBSa=; b=Xy7Zq1Ab\r\n\
         From: Alice Example <{from}>\r\n{BODY}"
    )
}

const GMAIL_PASS: &str = "       dkim=pass header.i=@example.org header.s=google header.b=Xy7Zq1Ab;\r\n\
    \x20      spf=pass (google.com: domain of alice@example.org designates 209.85.220.41 as permitted sender) smtp.mailfrom=alice@example.org;\r\n\
    \x20      dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.org\r\n";

#[test]
fn gmail_pass() {
    let t = assess_raw(&gmail("alice@example.org", GMAIL_PASS), &["mx.google.com"]);
    assert_eq!(t.verdict, Verdict::Verified(Basis::Dmarc));
    assert_eq!(t.identity.from, Some(mailbox("alice@example.org")));
    assert_eq!(
        t.identity.envelope,
        Envelope::Address(mailbox("alice@example.org"))
    );
    assert_eq!(t.identity.alignment, Alignment::Exact);
    let r = t.results.unwrap();
    assert_eq!(r.authserv_id, "mx.google.com");
    let methods: Vec<&str> = r.results.iter().map(|m| m.method.as_str()).collect();
    assert_eq!(methods, ["dkim", "spf", "dmarc"]);
    let dkim = r.of("dkim").next().unwrap();
    assert_eq!(dkim.property("header.i"), Some("@example.org"));
    assert_eq!(dkim.property("header.s"), Some("google"));
    assert_eq!(
        r.of("spf").next().unwrap().property("smtp.mailfrom"),
        Some("alice@example.org")
    );
    assert!(
        r.raw
            .starts_with("mx.google.com; dkim=pass header.i=@example.org")
    );
    assert!(!r.raw.contains('\n'));
    // The ARC copy above names another domain: it is not an Authentication-Results.
    assert!(!r.to_string().contains("evil.example"));
}

#[test]
fn gmail_without_dmarc_falls_back_to_aligned_dkim_then_spf() {
    let dkim_only = "       dkim=pass header.i=@example.org header.s=s1 header.b=Q1;\r\n\
        \x20      spf=softfail (google.com: domain of transitioning a@example.org does not designate 192.0.2.1 as permitted sender) smtp.mailfrom=a@example.org\r\n";
    let t = assess_raw(&gmail("alice@example.org", dkim_only), &["mx.google.com"]);
    assert_eq!(
        t.verdict,
        Verdict::Verified(Basis::Dkim("example.org".into()))
    );
    let spf_only = "       spf=pass (google.com: domain of b@bounces.example.org designates 192.0.2.1 as permitted sender) smtp.mailfrom=b@bounces.example.org\r\n";
    let t = assess_raw(&gmail("alice@example.org", spf_only), &["mx.google.com"]);
    assert_eq!(
        t.verdict,
        Verdict::Verified(Basis::Spf("bounces.example.org".into()))
    );
}

#[test]
fn gmail_for_a_third_party_sender_is_unverified() {
    // Sent through a mailing service signing with its own domain and bouncing to it.
    let esp = "       dkim=pass header.i=@mcsv.example header.s=k1 header.b=Ab;\r\n\
        \x20      spf=pass (google.com: domain of bounce-mc.us1@mail1.mcsv.example designates 198.51.100.1 as permitted sender) smtp.mailfrom=bounce-mc.us1@mail1.mcsv.example\r\n";
    let t = assess_raw(&gmail("alice@example.org", esp), &["mx.google.com"]);
    assert_eq!(t.verdict, Verdict::Unverified);
    // Not configured: the same header proves nothing.
    let t = assess_raw(&gmail("alice@example.org", GMAIL_PASS), &[OURS]);
    assert_eq!(t.verdict, Verdict::Unknown);
    assert_eq!(t.results, None);
    let t = assess_raw(&gmail("alice@example.org", GMAIL_PASS), &[]);
    assert_eq!(t.verdict, Verdict::Unknown);
}

/// Exchange Online: no authserv-id, `;` without spaces, `action=` and `compauth=`.
fn microsoft(results: &str) -> String {
    format!(
        "Received: from AM9PR04MB8211.eurprd04.prod.outlook.com (2603:10a6:20b:40a::12)\r\n\
         \x20by DB9PR04MB9452.eurprd04.prod.outlook.com with HTTPS; Mon, 10 Jun 2024 08:02:05 +0000\r\n\
         Authentication-Results: {results}\r\n\
         Received-SPF: Pass (protection.outlook.com: domain of example.org designates\r\n\
         \x20209.85.221.41 as permitted sender) receiver=protection.outlook.com;\r\n\
         \x20client-ip=209.85.221.41; helo=mail-wr1-f41.google.com; pr=C\r\n\
         Received: from mail-wr1-f41.google.com (209.85.221.41) by\r\n\
         \x20AM4PEPF00027A5F.mail.protection.outlook.com (10.167.16.74) with Microsoft SMTP\r\n\
         \x20Server (version=TLS1_3, cipher=TLS_AES_256_GCM_SHA384) id 15.20.7677.15 via\r\n\
         \x20Frontend Transport; Mon, 10 Jun 2024 08:02:04 +0000\r\n\
         Authentication-Results-Original: mx.our.example; dmarc=pass header.from=victim.example\r\n\
         Return-Path: alice@example.org\r\n\
         From: \"Alice\" <alice@example.org>\r\n{BODY}"
    )
}

#[test]
fn microsoft_365() {
    let pass = "spf=pass (sender IP is 209.85.221.41)\r\n smtp.mailfrom=example.org; dkim=pass (signature was verified)\r\n header.d=example.org;dmarc=pass action=none\r\n header.from=example.org;compauth=pass reason=100";
    let t = assess_raw(&microsoft(pass), &[""]);
    assert_eq!(t.verdict, Verdict::Verified(Basis::Dmarc));
    let r = t.results.as_ref().unwrap();
    assert_eq!(r.authserv_id, "");
    let compauth = r.of("compauth").next().unwrap();
    assert_eq!(compauth.result, "pass");
    assert_eq!(compauth.reason.as_deref(), Some("100"));
    assert_eq!(
        r.of("dmarc").next().unwrap().property("action"),
        Some("none")
    );
    assert_eq!(
        r.of("dkim").next().unwrap().property("header.d"),
        Some("example.org")
    );
    assert_eq!(t.identity.alignment, Alignment::Exact);
    // Without "" configured, Microsoft's header is not ours.
    assert_eq!(
        assess_raw(&microsoft(pass), &[OURS]).verdict,
        Verdict::Unknown
    );

    let fail = "spf=fail (sender IP is 203.0.113.9) smtp.mailfrom=example.org; dkim=none\r\n (message not signed) header.d=none;dmarc=fail action=quarantine\r\n header.from=example.org;compauth=fail reason=000";
    assert_eq!(
        assess_raw(&microsoft(fail), &[""]).verdict,
        Verdict::Unverified
    );
}

/// Postfix with OpenDKIM and OpenDMARC milters, delivered by Dovecot over LMTP.
fn postfix(milter_headers: &str, forged: &str) -> String {
    format!(
        "Return-Path: <alice@example.org>\r\n\
         Delivered-To: working-groups@our.example\r\n\
         Received: from mx.our.example\r\n\
         \tby imap.our.example with LMTP\r\n\
         \tid 6Bq2LQuxZmYpHQAAqDT9Aw\r\n\
         \t(envelope-from <alice@example.org>)\r\n\
         \tfor <working-groups@our.example>; Mon, 10 Jun 2024 10:02:05 +0200\r\n\
         {milter_headers}\
         Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n\
         \t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\
         \t(No client certificate requested)\r\n\
         \tby mx.our.example (Postfix) with ESMTPS id 4VyJ2s0Gq8z9sT1\r\n\
         \tfor <working-groups@our.example>; Mon, 10 Jun 2024 10:02:04 +0200 (CEST)\r\n\
         {forged}\
         DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail;\r\n\
         \tt=1718006523; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AbCd1234\r\n\
         From: Alice <alice@example.org>\r\n{BODY}"
    )
}

const OPENDMARC_OPENDKIM: &str = "DMARC-Filter: OpenDMARC Filter v1.4.2 mx.our.example 4VyJ2s0Gq8z9sT1\r\n\
    Authentication-Results: mx.our.example; dmarc=pass (p=reject dis=none) header.from=example.org\r\n\
    Authentication-Results: mx.our.example;\r\n\
    \tdkim=pass (2048-bit key; unprotected) header.d=example.org header.i=@example.org\r\n\
    \theader.a=rsa-sha256 header.s=mail header.b=AbCd1234;\r\n\
    \tdkim-atps=neutral\r\n\
    DKIM-Filter: OpenDKIM Filter v2.11.0 mx.our.example 4VyJ2s0Gq8z9sT1\r\n\
    Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.10; helo=mail.example.org; envelope-from=alice@example.org; receiver=<UNKNOWN>\r\n";

#[test]
fn postfix_milters_topmost_header_only() {
    let t = assess_raw(&postfix(OPENDMARC_OPENDKIM, ""), &[OURS]);
    assert_eq!(t.verdict, Verdict::Verified(Basis::Dmarc));
    let r = t.results.unwrap();
    // Only OpenDMARC's header, the topmost one, is read.
    assert_eq!(r.results.len(), 1);
    assert_eq!(r.results[0].property("header.from"), Some("example.org"));
    assert_eq!(t.identity.alignment, Alignment::Exact);

    // Without OpenDMARC, OpenDKIM's header is the topmost and its aligned pass verifies.
    let dkim_only = OPENDMARC_OPENDKIM
        .lines()
        .filter(|l| !l.contains("dmarc") && !l.contains("DMARC"))
        .map(|l| format!("{l}\r\n"))
        .collect::<String>();
    let t = assess_raw(&postfix(&dkim_only, ""), &[OURS]);
    assert_eq!(
        t.verdict,
        Verdict::Verified(Basis::Dkim("example.org".into()))
    );
    let r = t.results.unwrap();
    assert_eq!(
        r.of("dkim").next().unwrap().property("header.a"),
        Some("rsa-sha256")
    );
    assert_eq!(r.of("dkim-atps").next().unwrap().result, "neutral");
}

#[test]
fn rspamd_single_header() {
    let rspamd = "Authentication-Results: mx.our.example;\r\n\
        \tdkim=pass header.d=example.org header.s=s2024 header.b=\"AbCdEf12\";\r\n\
        \tdmarc=fail reason=\"No valid SPF, No valid DKIM\" header.from=example.org (policy=reject);\r\n\
        \tspf=fail (mx.our.example: domain of alice@example.org does not designate 203.0.113.9 as permitted sender) smtp.mailfrom=alice@example.org\r\n";
    // A DMARC fail stands even beside a DKIM pass we would align ourselves: the
    // domain's policy may require strict alignment.
    let t = assess_raw(&postfix(rspamd, ""), &[OURS]);
    assert_eq!(t.verdict, Verdict::Unverified);
    let r = t.results.unwrap();
    let dmarc = r.of("dmarc").next().unwrap();
    assert_eq!(dmarc.reason.as_deref(), Some("No valid SPF, No valid DKIM"));
    assert_eq!(dmarc.property("header.from"), Some("example.org"));
    assert_eq!(
        r.of("dkim").next().unwrap().property("header.b"),
        Some("AbCdEf12")
    );
    let pass = rspamd.replace("dmarc=fail", "dmarc=pass");
    assert_eq!(
        assess_raw(&postfix(&pass, ""), &[OURS]).verdict,
        Verdict::Verified(Basis::Dmarc)
    );
}

#[test]
fn forged_results_lower_down_are_ignored() {
    let ours = "Authentication-Results: mx.our.example; spf=fail smtp.mailfrom=victim.example;\r\n\
        \tdkim=none; dmarc=fail (p=reject) header.from=victim.example\r\n";
    let forged = "Authentication-Results: mx.our.example; dmarc=pass header.from=victim.example;\r\n\
        \tdkim=pass header.d=victim.example; spf=pass smtp.mailfrom=victim.example\r\n";
    let raw = postfix(ours, forged).replace("alice@example.org", "ceo@victim.example");
    let t = assess_raw(&raw, &[OURS]);
    assert_eq!(t.verdict, Verdict::Unverified);
    assert!(t.results.unwrap().of("dkim").all(|r| r.result == "none"));

    // Our server checked and found nothing (`none`): still only ours counts.
    let ours_none = "Authentication-Results: mx.our.example; none\r\n";
    let raw = postfix(ours_none, forged).replace("alice@example.org", "ceo@victim.example");
    let t = assess_raw(&raw, &[OURS]);
    assert_eq!(t.verdict, Verdict::Unverified);
    assert!(t.results.unwrap().results.is_empty());

    // A header with another authserv-id, however high, is not ours.
    let other = "Authentication-Results: mx.our.example.evil.example; dmarc=pass header.from=example.org\r\n\
        Authentication-Results: evil.example; dmarc=pass header.from=example.org\r\n";
    let t = assess_raw(&postfix(other, ""), &[OURS]);
    assert_eq!(t.verdict, Verdict::Unknown);
    // Configured ids match case-insensitively and trimmed.
    let t = assess_raw(&postfix(ours, ""), &[" MX.Our.Example "]);
    assert_eq!(t.verdict, Verdict::Unverified);
    assert!(t.results.is_some());
}

#[test]
fn comments_and_quoted_strings_do_not_confuse_the_parser() {
    let ar = parse_authentication_results(
        " mx.our.example (amavis; dkim=pass) 1;\r\n\
         \tdkim=fail (sig (nested; dkim=pass) \\) still comment; header.d=victim.example) header.d=evil.example;\r\n\
         \tspf=pass reason=\"a; dmarc=pass header.from=victim.example\" smtp.mailfrom=\"odd local\"@evil.example;\r\n\
         \tdmarc = none (p=none) header . from=evil.example; auth=pass smtp.auth=SRS0=HHH=TT=example.org=alice@fwd.example",
    )
    .unwrap();
    assert_eq!(ar.authserv_id, "mx.our.example");
    let methods: Vec<&str> = ar.results.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["dkim", "spf", "dmarc", "auth"]);
    assert_eq!(ar.results[0].result, "fail");
    assert_eq!(ar.results[0].property("header.d"), Some("evil.example"));
    assert_eq!(
        ar.results[1].reason.as_deref(),
        Some("a; dmarc=pass header.from=victim.example")
    );
    assert_eq!(
        ar.results[1].property("smtp.mailfrom"),
        Some("odd local@evil.example")
    );
    assert_eq!(ar.results[2].result, "none");
    // An '=' inside a property value (an SRS address) belongs to the value.
    assert_eq!(
        ar.results[3].property("smtp.auth"),
        Some("SRS0=HHH=TT=example.org=alice@fwd.example")
    );
    assert!(!ar.results.iter().any(|r| r.method == "dmarc" && r.passed()));
}

#[test]
fn malformed_headers() {
    assert_eq!(parse_authentication_results(""), None);
    assert_eq!(parse_authentication_results("  (only a comment)  "), None);
    for value in [
        ";;;",
        "mx.our.example",
        "mx.our.example;",
        "mx.our.example; =pass; dkim=; =; spf",
        "mx.our.example; dkim=pass (unclosed comment header.d=example.org",
        "mx.our.example; dkim=pass reason=\"unclosed",
        "mx.our.example; dkim=pass header.d=\\",
        "(((",
        "\"",
        "mx.our.example; é=ü; dkim=pass (é\\é) header.d=é.example",
        "mx.our.example; dkim pass; spf==pass",
    ] {
        let ar = parse_authentication_results(value);
        if let Some(ar) = &ar {
            // Nothing that was not a complete method=result is reported.
            assert!(
                ar.results
                    .iter()
                    .all(|r| !r.method.is_empty() && !r.result.is_empty()),
                "{value:?}: {ar:?}"
            );
        }
    }
    let ar = parse_authentication_results("mx.our.example; =pass; dkim=; spf").unwrap();
    assert!(ar.results.is_empty(), "{ar:?}");
    let ar = parse_authentication_results("mx.our.example; dkim=pass (unclosed header.d=x.example")
        .unwrap();
    assert_eq!(ar.results.len(), 1);
    assert_eq!(ar.results[0].property("header.d"), None);
    let long = format!(
        "mx.our.example; {}",
        "dkim=pass header.d=example.org; ".repeat(5000)
    );
    assert_eq!(
        parse_authentication_results(&long).unwrap().results.len(),
        5000
    );
    let deep = format!("mx.our.example; dkim=pass {}", "(".repeat(100_000));
    assert_eq!(
        parse_authentication_results(&deep).unwrap().results.len(),
        1
    );
}

#[test]
fn from_identity_needs_exactly_one_mailbox() {
    let from = |headers: &str| {
        let raw = format!("{headers}Subject: x\r\n\r\nx\r\n");
        identity(&MessageParser::default().parse(raw.as_bytes()).unwrap()).from
    };
    assert_eq!(
        from("From: Alice <Alice@Example.org>\r\n"),
        Some(mailbox("Alice@Example.org"))
    );
    assert_eq!(from("From: a@example.org, b@example.org\r\n"), None);
    assert_eq!(
        from("From: a@example.org\r\nFrom: ceo@victim.example\r\n"),
        None
    );
    assert_eq!(from("From: Team: a@example.org, b@example.org;\r\n"), None);
    assert_eq!(from("From: Alice\r\n"), None);
    assert_eq!(from("From: <>\r\n"), None);
    assert_eq!(from("To: x@example.org\r\n"), None);
    let t = assess_raw(
        &postfix(OPENDMARC_OPENDKIM, "").replace(
            "From: Alice <alice@example.org>\r\n",
            "From: Alice <alice@example.org>\r\nFrom: ceo@victim.example\r\n",
        ),
        &[OURS],
    );
    // Two From headers: nothing to vouch for, whatever the results say.
    assert_eq!(t.identity.from, None);
    assert_eq!(t.verdict, Verdict::Unverified);
}

fn envelope_of(headers: &str) -> Identity {
    let raw = format!("{headers}Subject: x\r\n\r\nx\r\n");
    identity(&MessageParser::default().parse(raw.as_bytes()).unwrap())
}

#[test]
fn envelope_is_the_topmost_return_path() {
    let i = envelope_of(
        "Return-Path: <bounce@lists.example.net>\r\nReceived: from x by y\r\n\
         Return-Path: <alice@example.org>\r\nFrom: alice@example.org\r\n",
    );
    assert_eq!(
        i.envelope,
        Envelope::Address(mailbox("bounce@lists.example.net"))
    );
    assert_eq!(i.alignment, Alignment::Unaligned);
    let i = envelope_of(
        "Return-Path: <>\r\nReturn-Path: <alice@example.org>\r\nFrom: alice@example.org\r\n",
    );
    assert_eq!(i.envelope, Envelope::Null);
    assert_eq!(i.alignment, Alignment::Unaligned);
    assert_eq!(
        envelope_of("Return-Path: (bounce) < > (x)\r\nFrom: a@b.example\r\n").envelope,
        Envelope::Null
    );
    assert_eq!(
        envelope_of("From: a@b.example\r\n").envelope,
        Envelope::Missing
    );
    assert_eq!(
        envelope_of(
            "Return-Path: <@relay.example:Alice@Example.org>\r\nFrom: alice@example.org\r\n"
        ),
        Identity {
            from: Some(mailbox("alice@example.org")),
            envelope: Envelope::Address(mailbox("Alice@Example.org")),
            alignment: Alignment::Exact,
        }
    );
    assert!(matches!(
        envelope_of("Return-Path: <not an address\r\nFrom: a@b.example\r\n").envelope,
        Envelope::Malformed(_)
    ));
    assert!(matches!(
        envelope_of("Return-Path: <nobody>\r\nFrom: a@b.example\r\n").envelope,
        Envelope::Malformed(_)
    ));
    assert_eq!(Envelope::Null.to_string(), "<>");
}

#[test]
fn alignment_rules() {
    let align = |from: &str, rp: &str| {
        envelope_of(&format!("Return-Path: <{rp}>\r\nFrom: {from}\r\n")).alignment
    };
    assert_eq!(
        align("alice@example.org", "ALICE@EXAMPLE.ORG"),
        Alignment::Exact
    );
    assert_eq!(
        align("alice@example.org", "alice@example.org."),
        Alignment::Exact
    );
    assert_eq!(
        align("alice@example.org", "bounces+123@example.org"),
        Alignment::Relaxed
    );
    assert_eq!(
        align("alice@example.org", "b-1@em.bounces.example.org"),
        Alignment::Relaxed
    );
    assert_eq!(
        align("alice@mail.example.org", "b@example.org"),
        Alignment::Relaxed
    );
    // An SRS forwarder and a mailing list send from their own domains.
    assert_eq!(
        align(
            "alice@example.org",
            "SRS0=HHH=TT=example.org=alice@forwarder.example"
        ),
        Alignment::Unaligned
    );
    assert_eq!(
        align(
            "alice@example.org",
            "wg-bounces+alice=example.org@lists.example.net"
        ),
        Alignment::Unaligned
    );
    assert_eq!(
        align("alice@example.org", "x@badexample.org"),
        Alignment::Unaligned
    );
    assert_eq!(align("alice@example.org", "x@org"), Alignment::Unaligned);
    assert_eq!(
        align("alice@a.example.org", "x@b.example.org"),
        Alignment::Unaligned
    );
    assert!(Alignment::Relaxed.is_aligned() && !Alignment::Unaligned.is_aligned());

    assert!(domains_align("Example.ORG.", "example.org"));
    assert!(domains_align("example.org", "mail.example.org"));
    assert!(!domains_align("org", "example.org"));
    assert!(!domains_align("example.org", ".example.org"));
    assert!(!domains_align("", ""));
    assert!(!domains_align("xample.org", "example.org"));
}

#[test]
fn dmarc_pass_for_another_domain_does_not_verify() {
    let ar = "Authentication-Results: mx.our.example; dmarc=pass header.from=evil.example;\r\n\
        \tdkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example\r\n";
    assert_eq!(
        assess_raw(&postfix(ar, ""), &[OURS]).verdict,
        Verdict::Unverified
    );
}

#[test]
fn verdict_display() {
    assert_eq!(
        Verdict::Verified(Basis::Dmarc).to_string(),
        "verified (DMARC)"
    );
    assert_eq!(
        Verdict::Verified(Basis::Dkim("example.org".into())).to_string(),
        "verified (DKIM, example.org)"
    );
    assert_eq!(Verdict::Unverified.to_string(), "unverified");
    assert!(Verdict::Verified(Basis::Dmarc).is_verified());
    assert!(!Verdict::Unknown.is_verified());
    let ar = parse_authentication_results("mx.our.example; spf=pass smtp.mailfrom=a@example.org")
        .unwrap();
    assert_eq!(
        ar.to_string(),
        "mx.our.example: spf=pass smtp.mailfrom=a@example.org"
    );
}
