#!/usr/bin/env python3
"""Send one mail into the convene test stack's Postfix (stdlib only).

  send-mail.py --from a@applicant.test --to working-groups+health@convene.test \\
               --subject S --body B [--header K:V]... [--attach FILE]...
  send-mail.py --from a@x.test --to working-groups@convene.test --eml message.eml

SMTP_HOST/SMTP_PORT come from the environment, else from the stack's env file
($CONVENE_STACK_ENV, else $CONVENE_STACK_DIR/stack.env, else
/tmp/convene-stack/stack.env). Prints the Message-ID on stdout.
"""

import argparse
import mimetypes
import os
import smtplib
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid, parseaddr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stackenv  # noqa: E402


def stack_env():
    return stackenv.load(("SMTP_HOST", "SMTP_PORT", "MAIL_DOMAIN"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from", dest="sender", help="From: and envelope sender")
    ap.add_argument("--to", action="append", default=[], help="recipient (repeatable)")
    ap.add_argument("--cc", action="append", default=[], help="Cc recipient (repeatable)")
    ap.add_argument("--subject", default="")
    ap.add_argument("--body", default="")
    ap.add_argument("--header", action="append", default=[], metavar="K:V", help="extra header (repeatable)")
    ap.add_argument("--attach", action="append", default=[], metavar="FILE", help="attachment (repeatable)")
    ap.add_argument("--eml", metavar="FILE", help="send this RFC 5322 file as is (--from/--to give the envelope)")
    ap.add_argument("--host")
    ap.add_argument("--port", type=int)
    args = ap.parse_args()

    env = stack_env()
    host = args.host or env.get("SMTP_HOST", "127.0.0.1")
    port = args.port or int(env.get("SMTP_PORT", "12525"))

    if args.eml:
        with open(args.eml, "rb") as fh:
            raw = fh.read()
        parsed = message_from_bytes(raw, policy=policy.SMTP)
        sender = args.sender or (getaddresses([parsed.get("From", "")]) or [("", "")])[0][1]
        rcpts = args.to + args.cc
        if not rcpts:
            rcpts = [a for _, a in getaddresses(parsed.get_all("To", []) + parsed.get_all("Cc", [])) if a]
        if not sender or not rcpts:
            ap.error("--eml needs a sender and recipients (from the file or from --from/--to)")
        extra = []
        for h in args.header:
            k, _, v = h.partition(":")
            extra.append(f"{k.strip()}: {v.strip()}\r\n".encode())
        data = b"".join(extra) + raw
        msgid = parsed.get("Message-ID", "")
    else:
        if not args.sender or not args.to:
            ap.error("--from and --to are required")
        msg = EmailMessage()
        msg["From"] = args.sender
        msg["To"] = ", ".join(args.to)
        if args.cc:
            msg["Cc"] = ", ".join(args.cc)
        msg["Subject"] = args.subject
        msg["Date"] = formatdate(localtime=True)
        domain = parseaddr(args.sender)[1].rpartition("@")[2] or "localhost"
        msgid = make_msgid(domain=domain)
        for h in args.header:
            k, sep, v = h.partition(":")
            if not sep:
                ap.error(f"--header {h!r}: expected K:V")
            k, v = k.strip(), v.strip()
            if k.lower() == "message-id":
                msgid = v
                continue
            if k in msg:
                del msg[k]
            msg[k] = v
        msg["Message-ID"] = msgid
        msg.set_content(args.body)
        for path in args.attach:
            ctype, _ = mimetypes.guess_type(path)
            maintype, _, subtype = (ctype or "application/octet-stream").partition("/")
            with open(path, "rb") as fh:
                msg.add_attachment(
                    fh.read(), maintype=maintype, subtype=subtype, filename=os.path.basename(path)
                )
        sender = args.sender
        rcpts = args.to + args.cc
        data = msg.as_bytes(policy=policy.SMTP)

    with smtplib.SMTP(host, port, timeout=30) as smtp:
        refused = smtp.sendmail(sender, rcpts, data)
    if refused:
        print(f"send-mail: refused recipients: {refused}", file=sys.stderr)
        return 1
    print(msgid)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (smtplib.SMTPException, OSError) as err:
        sys.exit(f"send-mail: {err}")
