#!/usr/bin/env python3
"""Smoke test of a running convene test stack (stdlib only).

  python3 scripts/stack/smoke-test.py [-v]

Checks mail in (SMTP -> Postfix -> LMTP -> Dovecot -> IMAP) for a plus
address and for the catch-all, IMAPS with TLS_CA_FILE, IDLE, the Matrix
users' logins and the demo rooms, and PostgreSQL. Prints one line per check
and exits non-zero if any failed. Reads the stack's env file like the other
helpers ($CONVENE_STACK_ENV, $CONVENE_STACK_DIR/stack.env, /tmp/convene-stack/stack.env).
"""

import email
import imaplib
import json
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from email.message import EmailMessage

VERBOSE = "-v" in sys.argv
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
FAILED = []


def load_env():
    path = os.environ.get("CONVENE_STACK_ENV") or os.path.join(
        os.environ.get("CONVENE_STACK_DIR", "/tmp/convene-stack"), "stack.env"
    )
    env = {}
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
    return env


def check(name, fn):
    t0 = time.monotonic()
    try:
        detail = fn()
        print(f"ok    {name} ({time.monotonic() - t0:.2f}s){': ' + detail if detail else ''}")
    except Exception as err:  # noqa: BLE001 - report every failure the same way
        FAILED.append(name)
        print(f"FAIL  {name}: {type(err).__name__}: {err}")


def mx(env, method, path, body=None, token=None):
    req = urllib.request.Request(
        env["MATRIX_HOMESERVER"] + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with OPENER.open(req, timeout=15) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"{method} {path}: HTTP {err.code} {err.read()[:300]!r}") from None


def send(env, sender, rcpt, subject):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, rcpt, subject
    msg["Message-ID"] = f"<{uuid.uuid4()}@smoke.test>"
    msg.set_content("smoke test body\n")
    with smtplib.SMTP(env["SMTP_HOST"], int(env["SMTP_PORT"]), timeout=10) as s:
        s.send_message(msg)


def wait_for_subject(env, user, password, subject, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        imap = imaplib.IMAP4(env["IMAP_HOST"], int(env["IMAP_PORT"]))
        try:
            imap.login(user, password)
            imap.select("INBOX", readonly=True)
            typ, data = imap.search(None, "SUBJECT", f'"{subject}"')
            ids = data[0].split()
            if ids:
                typ, fetched = imap.fetch(ids[-1], "(BODY.PEEK[HEADER])")
                return email.message_from_bytes(fetched[0][1])
        finally:
            imap.logout()
        time.sleep(0.1)
    raise TimeoutError(f"no mail with subject {subject!r} in {user}'s INBOX after {timeout}s")


def main():
    env = load_env()
    tag = uuid.uuid4().hex[:8]

    def plus_address():
        subject = f"smoke plus {tag}"
        t0 = time.monotonic()
        send(env, "applicant@applicant.test", f"{env['MAILBOX_USER']}+health@{env['MAIL_DOMAIN']}", subject)
        hdr = wait_for_subject(env, env["MAILBOX_USER"], env["MAILBOX_PASSWORD"], subject)
        got = {k: hdr.get(k) for k in ("Delivered-To", "X-Original-To", "Return-Path")}
        return f"in {time.monotonic() - t0:.2f}s, {got}"

    def catch_all():
        subject = f"smoke catchall {tag}"
        send(env, env["MAILBOX_ADDRESS"], "someone@applicant.test", subject)
        hdr = wait_for_subject(env, env["CATCHALL_USER"], env["CATCHALL_PASSWORD"], subject)
        return f"Delivered-To: {hdr.get('Delivered-To')}"

    def imaps():
        ctx = ssl.create_default_context(cafile=env["TLS_CA_FILE"])
        out = []
        for host in ("localhost", "127.0.0.1"):
            imap = imaplib.IMAP4_SSL(host, int(env["IMAPS_PORT"]), ssl_context=ctx)
            imap.login(env["MAILBOX_USER"], env["MAILBOX_PASSWORD"])
            out.append(f"{host}: {imap.sock.version()}")
            imap.logout()
        return ", ".join(out)

    def idle():
        imap = imaplib.IMAP4(env["IMAP_HOST"], int(env["IMAP_PORT"]))
        imap.login(env["MAILBOX_USER"], env["MAILBOX_PASSWORD"])
        caps = imap.capabilities
        if "IDLE" not in caps:
            raise AssertionError(f"IDLE not in {caps}")
        imap.select("INBOX")
        tagname = imap._new_tag().decode()
        imap.send(f"{tagname} IDLE\r\n".encode())
        if not imap.readline().startswith(b"+"):
            raise AssertionError("no IDLE continuation")
        subject = f"smoke idle {tag}"
        t0 = time.monotonic()
        send(env, "idle@applicant.test", env["MAILBOX_ADDRESS"], subject)
        imap.sock.settimeout(10)
        while True:
            line = imap.readline()
            if b"EXISTS" in line:
                break
        dt = time.monotonic() - t0
        imap.send(b"DONE\r\n")
        imap.readline()
        imap.logout()
        return f"* EXISTS {dt:.2f}s after SMTP"

    def logins():
        for who in ("BOT", "SECRETARIAT", "MEMBER"):
            mxid = env[f"MATRIX_{who}_USER"]
            resp = mx(
                env,
                "POST",
                "/_matrix/client/v3/login",
                {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": mxid},
                 "password": env[f"MATRIX_{who}_PASSWORD"], "initial_device_display_name": "smoke-test"},
            )
            assert resp["user_id"] == mxid, resp
            mx(env, "POST", "/_matrix/client/v3/logout", {}, token=resp["access_token"])
        for who in ("SECRETARIAT", "MEMBER"):
            whoami = mx(env, "GET", "/_matrix/client/v3/account/whoami", token=env[f"MATRIX_{who}_TOKEN"])
            assert whoami["user_id"] == env[f"MATRIX_{who}_USER"], whoami
        return "bot, secretariat, member; stored tokens valid"

    def rooms():
        tok = env["MATRIX_SECRETARIAT_TOKEN"]
        want = {
            "ROOM_MANAGEMENT": "Secretariat", "ROOM_DIGITAL": "Digital", "ROOM_HEALTH": "Health",
            "ROOM_RESEARCH_INNOVATION": "Research & Innovation", "ROOM_TERRITORIAL": "Territorial",
        }
        for key, name in want.items():
            rid = urllib.parse.quote(env[key], safe="")
            got = mx(env, "GET", f"/_matrix/client/v3/rooms/{rid}/state/m.room.name/", token=tok)["name"]
            assert got == name, (key, got)
            members = mx(env, "GET", f"/_matrix/client/v3/rooms/{rid}/members", token=tok)["chunk"]
            ms = {m["state_key"]: m["content"]["membership"] for m in members}
            for who in ("MATRIX_BOT_USER", "MATRIX_MEMBER_USER"):
                assert ms.get(env[who]) in ("invite", "join"), (key, env[who], ms)
            try:
                enc = mx(env, "GET", f"/_matrix/client/v3/rooms/{rid}/state/m.room.encryption/", token=tok)
            except RuntimeError:
                enc = None
            if key == "ROOM_HEALTH":
                assert enc and enc.get("algorithm") == "m.megolm.v1.aes-sha2", enc
            else:
                assert enc is None, (key, enc)
        return "5 rooms named, bot+member invited, only Health encrypted"

    def messages_helper():
        tok = env["MATRIX_SECRETARIAT_TOKEN"]
        rid = urllib.parse.quote(env["ROOM_DIGITAL"], safe="")
        body = f"smoke message {tag}"
        mx(env, "PUT", f"/_matrix/client/v3/rooms/{rid}/send/m.room.message/{tag}",
           {"msgtype": "m.text", "body": body}, token=tok)
        here = os.path.dirname(os.path.abspath(__file__))
        out = subprocess.run([sys.executable, os.path.join(here, "matrix-messages.py"), env["ROOM_DIGITAL"],
                              "--limit", "5"], capture_output=True, text=True, check=True).stdout
        assert any(json.loads(line)["body"] == body for line in out.splitlines()), out
        return "matrix-messages.py reads it back"

    def send_mail_helper():
        here = os.path.dirname(os.path.abspath(__file__))
        subject = f"smoke helper {tag}"
        subprocess.run([sys.executable, os.path.join(here, "send-mail.py"), "--from", "helper@applicant.example",
                        "--to", f"{env['MAILBOX_USER']}+digital@{env['MAIL_DOMAIN']}", "--subject", subject,
                        "--body", "hello", "--header", "X-Smoke: 1"], check=True, capture_output=True)
        hdr = wait_for_subject(env, env["MAILBOX_USER"], env["MAILBOX_PASSWORD"], subject)
        assert hdr.get("X-Smoke") == "1", dict(hdr)
        return "send-mail.py with --header"

    def postgres():
        url = env["POSTGRES_ADMIN_URL"]
        out = subprocess.run(["psql", url, "-Atqc", "select current_user"], capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip())
        return f"{url} as {out.stdout.strip()}"

    def plaintext_fail_no_penalty():
        imap = imaplib.IMAP4(env["IMAP_HOST"], int(env["IMAP_PORT"]))
        try:
            imap.login(env["MAILBOX_USER"], "wrong-password")
            raise AssertionError("wrong password accepted")
        except imaplib.IMAP4.error:
            pass
        t0 = time.monotonic()
        imap2 = imaplib.IMAP4(env["IMAP_HOST"], int(env["IMAP_PORT"]))
        imap2.login(env["MAILBOX_USER"], env["MAILBOX_PASSWORD"])
        imap2.logout()
        dt = time.monotonic() - t0
        assert dt < 0.5, f"good login after a bad one took {dt:.2f}s"
        return f"good login right after a bad one: {dt:.3f}s"

    for name, fn in [
        ("mail to plus address reaches working-groups INBOX", plus_address),
        ("mail to another domain reaches the catch-all", catch_all),
        ("send-mail.py", send_mail_helper),
        ("IMAPS trusts TLS_CA_FILE", imaps),
        ("IDLE advertised and pushes", idle),
        ("no auth penalty after a failed login", plaintext_fail_no_penalty),
        ("Matrix users log in", logins),
        ("demo rooms", rooms),
        ("matrix-messages.py", messages_helper),
        ("PostgreSQL admin URL", postgres),
    ]:
        check(name, fn)
    if FAILED:
        print(f"{len(FAILED)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    socket.setdefaulttimeout(20)
    sys.exit(main())
