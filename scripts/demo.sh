#!/usr/bin/env bash
# THE run command of the quick start: scripts/demo.sh [--keep]
#
# Brings the loopback stack up (scripts/stack.sh), builds convene, writes a demo config
# wired to the stack's bot, mailbox and rooms, starts `convene run`, mails an expression
# of interest to working-groups+digital@convene.test through Postfix, and shows it arriving
# in the Digital room as the secretariat sees it; then asks `!help` in the room and shows the
# answer. --keep leaves the daemon running (its pid and log are printed).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
keep=0
[[ ${1:-} == --keep ]] && keep=1

banner() { printf '\n==== %s ====\n' "$*"; }

banner "install and start the stack"
./scripts/install-deps.sh >/dev/null
./scripts/stack.sh up
ENV_FILE=$(./scripts/stack.sh env)
set -a
# shellcheck disable=SC1090
source "$ENV_FILE"
set +a

banner "build convene"
cargo build --quiet
BIN=$ROOT/target/debug/convene

DEMO=$CONVENE_STACK_DIR/demo
rm -rf "$DEMO"
mkdir -p "$DEMO"
cat > "$DEMO/convene.toml" <<TOML
state_dir = "$DEMO/state"
[matrix]
homeserver = "$MATRIX_HOMESERVER"
user = "$MATRIX_BOT_USER"
secret = "$MATRIX_BOT_PASSWORD"
management_room = "$ROOM_MANAGEMENT"
admins = ["$MATRIX_SECRETARIAT_USER"]
[mailbox]
host = "$IMAP_HOST"
port = $IMAP_PORT
tls = "plain"
user = "$MAILBOX_USER"
secret = "$MAILBOX_PASSWORD"
address = "$MAILBOX_ADDRESS"
[smtp]
host = "$SMTP_HOST"
port = $SMTP_PORT
tls = "plain"
from = "Working Groups Secretariat <$MAILBOX_ADDRESS>"
[http]
listen = "127.0.0.1:18080"
[[groups]]
slug = "digital"
name = "Digital"
aliases = ["Numérique", "Digitale"]
room = "$ROOM_DIGITAL"
[[groups]]
slug = "health"
name = "Health"
aliases = ["Santé", "Gesundheit", "Salute", "Salud"]
room = "$ROOM_HEALTH"
[[groups]]
slug = "research-innovation"
name = "Research & Innovation"
aliases = ["R&I", "Research and Innovation"]
room = "$ROOM_RESEARCH_INNOVATION"
[[groups]]
slug = "territorial"
name = "Territorial"
aliases = ["Territoriale"]
room = "$ROOM_TERRITORIAL"
TOML
"$BIN" --config "$DEMO/convene.toml" check-config

banner "start convene"
"$BIN" --config "$DEMO/convene.toml" run >"$DEMO/convene.log" 2>&1 &
pid=$!
cleanup() { if [[ $keep == 0 ]]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  if grep -q "answering from now on" "$DEMO/convene.log" && grep -q "IMAP connected" "$DEMO/convene.log"; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then echo "convene exited:"; tail -30 "$DEMO/convene.log"; exit 1; fi
  sleep 0.2
done
grep -q "IMAP connected" "$DEMO/convene.log" || { echo "convene did not get ready:"; tail -30 "$DEMO/convene.log"; exit 1; }
echo "convene is running (pid $pid, log $DEMO/convene.log)"

banner "mail an expression of interest to working-groups+digital@convene.test"
marker="demo-$(date +%s)"
msgid=$(python3 scripts/stack/send-mail.py --from "Aino Virtanen <aino.virtanen@kainuu-region.test>" \
  --to "working-groups+digital@convene.test" \
  --subject "Expression of interest: Digital Working Group ($marker)" \
  --body $'Dear Secretariat,\n\nName: Aino Virtanen\nOrganisation: Regional Council of Kainuu\nCountry: Finland\nWorking group: Digital\nRole: Core team member\nMotivation: we pilot remote digital-skills training for SMEs.\n\nBest regards,\nAino')
echo "sent $msgid"

banner "the Digital room, as the secretariat sees it"
found=""
for _ in $(seq 1 100); do
  found=$(python3 scripts/stack/matrix-messages.py ROOM_DIGITAL --limit 20 | grep "$marker" || true)
  [[ -n $found ]] && break
  sleep 0.2
done
[[ -n $found ]] || { echo "the mail did not arrive in the room"; tail -30 "$DEMO/convene.log"; exit 1; }
echo "$found" | python3 -c 'import json,sys
for l in sys.stdin:
    e=json.loads(l); print("from", e["sender"]); print(e["body"])'

banner "the application card in the management room"
card=""
for _ in $(seq 1 100); do
  card=$(python3 scripts/stack/matrix-messages.py ROOM_MANAGEMENT --limit 20 | grep "Aino Virtanen" | tail -1 || true)
  [[ -n $card ]] && break
  sleep 0.2
done
echo "${card:-no card}" | python3 -c 'import json,sys
for l in sys.stdin:
    print(json.loads(l)["body"])' 2>/dev/null || echo "$card"

banner "the acknowledgement in the applicant's mailbox (IMAP)"
python3 - "$msgid" <<'PY'
import imaplib, os, sys, time, email
from email.header import decode_header, make_header
msgid = sys.argv[1]
for _ in range(50):
    m = imaplib.IMAP4(os.environ["IMAP_HOST"], int(os.environ["IMAP_PORT"]))
    m.login(os.environ["CATCHALL_USER"], os.environ["CATCHALL_PASSWORD"])
    m.select("INBOX")
    _, ids = m.search(None, "TO", "aino.virtanen@kainuu-region.test")
    found = None
    for i in reversed(ids[0].split()):
        _, data = m.fetch(i, "(BODY.PEEK[])")
        msg = email.message_from_bytes(data[0][1])
        if (msg.get("In-Reply-To") or "").strip() == msgid:
            found = msg
            break
    m.logout()
    if found:
        for h in ("Subject", "Auto-Submitted", "In-Reply-To"):
            print(f"{h}: {make_header(decode_header(found.get(h, '')))}")
        print()
        print(found.get_payload(decode=True).decode("utf-8", "replace").strip())
        break
    time.sleep(0.2)
else:
    print("no acknowledgement found")
PY

banner "!help in the Digital room"
curl -fsS -X PUT -H "Authorization: Bearer $MATRIX_SECRETARIAT_TOKEN" -H 'Content-Type: application/json' \
  -d '{"msgtype":"m.text","body":"!help"}' \
  "$MATRIX_HOMESERVER/_matrix/client/v3/rooms/$ROOM_DIGITAL/send/m.room.message/demo-help-$marker" >/dev/null
for _ in $(seq 1 100); do
  answer=$(python3 scripts/stack/matrix-messages.py ROOM_DIGITAL --limit 5 | grep '"m.notice"' | tail -1 || true)
  [[ -n $answer ]] && break
  sleep 0.2
done
echo "${answer:-no answer}" | python3 -c 'import json,sys
for l in sys.stdin:
    print(json.loads(l)["body"])' 2>/dev/null || echo "$answer"

if [[ $keep == 1 ]]; then
  echo; echo "convene keeps running: pid $pid, log $DEMO/convene.log, config $DEMO/convene.toml"
fi
