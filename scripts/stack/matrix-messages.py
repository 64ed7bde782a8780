#!/usr/bin/env python3
"""Print a room's recent m.room.message events as the stack's secretariat.

  matrix-messages.py ROOM_ID [--limit N] [--token TOKEN]

ROOM_ID may also be a stack.env key such as ROOM_HEALTH. One JSON object per
line, oldest first: {"sender", "body", "event_id", "msgtype", "ts"}.
Encrypted events (m.room.encrypted) cannot be read here and are skipped.
Reads MATRIX_HOMESERVER and MATRIX_SECRETARIAT_TOKEN from the environment,
else from $CONVENE_STACK_ENV / $CONVENE_STACK_DIR/stack.env /
/tmp/convene-stack/stack.env.
"""

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stackenv  # noqa: E402


def stack_env():
    return stackenv.load(("MATRIX_HOMESERVER", "MATRIX_SECRETARIAT_TOKEN"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("room")
    ap.add_argument("--limit", type=int, default=20, help="how many recent events to look at (default 20)")
    ap.add_argument("--token", help="access token (default: the secretariat's)")
    args = ap.parse_args()

    env = stack_env()
    room = env.get(args.room, args.room) if args.room.startswith("ROOM_") else args.room
    base = env.get("MATRIX_HOMESERVER", "http://127.0.0.1:18008").rstrip("/")
    token = args.token or env.get("MATRIX_SECRETARIAT_TOKEN")
    if not token:
        sys.exit("matrix-messages: no token (is the stack up? see scripts/stack.sh env)")

    query = urllib.parse.urlencode({"dir": "b", "limit": str(args.limit)})
    url = f"{base}/_matrix/client/v3/rooms/{urllib.parse.quote(room, safe='')}/messages?{query}"
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=30) as resp:
            data = json.load(resp)
    except urllib.error.HTTPError as err:
        sys.exit(f"matrix-messages: HTTP {err.code}: {err.read().decode(errors='replace')}")
    except OSError as err:
        sys.exit(f"matrix-messages: {err}")

    for ev in reversed(data.get("chunk", [])):
        if ev.get("type") != "m.room.message":
            continue
        content = ev.get("content", {})
        print(
            json.dumps(
                {
                    "sender": ev.get("sender"),
                    "body": content.get("body"),
                    "event_id": ev.get("event_id"),
                    "msgtype": content.get("msgtype"),
                    "ts": ev.get("origin_server_ts"),
                },
                ensure_ascii=False,
            )
        )


if __name__ == "__main__":
    main()
