"""The plain client-to-client echo: a bare Matrix client (one keep-alive HTTP connection,
long-polled /sync, no store, no crypto) that answers every text message of others in its
rooms with a notice at once. The floor any bot on this Synapse is compared with.

    python echo.py HOMESERVER TOKEN USER_ID
"""

import json
import sys
import time
import urllib.parse
import uuid

import requests

base, token, me = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
http = requests.Session()
http.trust_env = False
http.headers["Authorization"] = "Bearer " + token
filt = json.dumps({"room": {"timeline": {"limit": 50}, "state": {"lazy_load_members": True},
                            "ephemeral": {"not_types": ["*"]}, "account_data": {"not_types": ["*"]}},
                   "presence": {"not_types": ["*"]}, "account_data": {"not_types": ["*"]}})
since = None
n = 0
while True:
    params = {"filter": filt, "timeout": "30000" if since else "0"}
    if since:
        params["since"] = since
    try:
        r = http.get(base + "/_matrix/client/v3/sync", params=params, timeout=90).json()
    except Exception:
        time.sleep(0.5)
        continue
    first = since is None
    since = r.get("next_batch", since)
    for room_id in r.get("rooms", {}).get("invite", {}):
        http.post(base + f"/_matrix/client/v3/join/{urllib.parse.quote(room_id)}", json={})
    if first:
        continue  # the backlog is not answered
    for room_id, room in r.get("rooms", {}).get("join", {}).items():
        for ev in room.get("timeline", {}).get("events", []):
            c = ev.get("content", {})
            if ev.get("type") != "m.room.message" or ev.get("sender") == me or c.get("msgtype") != "m.text":
                continue
            n += 1
            body = {"msgtype": "m.notice", "body": "echo: " + c.get("body", "")[:100],
                    "m.relates_to": {"m.in_reply_to": {"event_id": ev["event_id"]}}}
            path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}/send/m.room.message/echo-{uuid.uuid4().hex}"
            http.put(base + path, json=body)
