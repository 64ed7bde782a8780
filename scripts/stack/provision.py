#!/usr/bin/env python3
"""Provision the Matrix side of the convene test stack (stdlib only).

Called by scripts/stack.sh after Synapse was started. It waits until Synapse
answers, registers the stack's users through the shared-secret admin API,
reuses or renews the access tokens of `secretariat` and `member`, makes sure
the demo rooms exist (with `convene-bot` and `member` invited) and writes the
results as KEY=VALUE lines for stack.env.

State kept between runs (in the Synapse folder of the stack):
  tokens.json  access tokens, reused while /whoami accepts them
  rooms.json   room ids, reused while the secretariat is still in the room
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# key in stack.env -> (room name, topic, encrypted)
ROOMS = [
    ("ROOM_MANAGEMENT", "Secretariat", "Secretariat management room", False),
    ("ROOM_DIGITAL", "Digital", "Working group: Digital", False),
    ("ROOM_HEALTH", "Health", "Working group: Health", True),
    ("ROOM_RESEARCH_INNOVATION", "Research & Innovation", "Working group: Research & Innovation", False),
    ("ROOM_TERRITORIAL", "Territorial", "Working group: Territorial", False),
]
DEVICE_ID = "CONVENE_STACK"

# No proxies: everything here is on loopback.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MatrixError(Exception):
    def __init__(self, status, body):
        self.status = status
        self.body = body if isinstance(body, dict) else {"raw": body}
        super().__init__(f"HTTP {status}: {body}")

    @property
    def errcode(self):
        return self.body.get("errcode")


class Client:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def call(self, method, path, body=None, token=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", "Bearer " + token)
        for attempt in range(20):
            try:
                with OPENER.open(req, timeout=timeout) as resp:
                    raw = resp.read()
                    return json.loads(raw) if raw else {}
            except urllib.error.HTTPError as err:
                raw = err.read()
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    parsed = raw.decode(errors="replace")
                if err.code == 429 and attempt < 19:
                    # Rate limits are raised in homeserver.yaml; honour one anyway.
                    wait = 0.2
                    if isinstance(parsed, dict):
                        wait = parsed.get("retry_after_ms", 200) / 1000.0
                    time.sleep(min(max(wait, 0.05), 5))
                    continue
                raise MatrixError(err.code, parsed) from None
        raise RuntimeError("unreachable")


def q(s):
    return urllib.parse.quote(s, safe="")


def read_env(path):
    out = {}
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def load_json(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


def save_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def wait_ready(client, pid, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if pid and not os.path.exists(f"/proc/{pid}"):
            sys.exit(f"provision: Synapse (pid {pid}) exited during start-up")
        try:
            client.call("GET", "/_matrix/client/versions", timeout=2)
            return
        except (OSError, MatrixError) as err:
            last = err
        time.sleep(0.05)
    sys.exit(f"provision: Synapse did not answer /_matrix/client/versions within {timeout}s ({last})")


def register(client, secret, user, password):
    nonce = client.call("GET", "/_synapse/admin/v1/register")["nonce"]
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"notadmin"]))
    body = {"nonce": nonce, "username": user, "password": password, "admin": False, "mac": mac.hexdigest()}
    try:
        client.call("POST", "/_synapse/admin/v1/register", body)
    except MatrixError as err:
        if err.errcode != "M_USER_IN_USE":
            raise


def token_for(client, tokens, user, password):
    token = tokens.get(user)
    if token:
        try:
            client.call("GET", "/_matrix/client/v3/account/whoami", token=token)
            return token
        except MatrixError as err:
            if err.status != 401:
                raise
    resp = client.call(
        "POST",
        "/_matrix/client/v3/login",
        {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": password,
            "device_id": DEVICE_ID,
            "initial_device_display_name": "convene test stack",
        },
    )
    tokens[user] = resp["access_token"]
    return resp["access_token"]


def room_usable(client, token, room_id):
    try:
        client.call("GET", f"/_matrix/client/v3/rooms/{q(room_id)}/state/m.room.create/", token=token)
        return True
    except MatrixError as err:
        if err.status in (403, 404):
            return False
        raise


def ensure_invited(client, token, room_id, mxids):
    members = client.call("GET", f"/_matrix/client/v3/rooms/{q(room_id)}/members", token=token)
    state = {ev["state_key"]: ev["content"].get("membership") for ev in members.get("chunk", [])}
    for mxid in mxids:
        membership = state.get(mxid)
        if membership in ("join", "invite"):
            continue
        if membership == "ban":
            print(f"provision: warning: {mxid} is banned from {room_id}", file=sys.stderr)
            continue
        client.call("POST", f"/_matrix/client/v3/rooms/{q(room_id)}/invite", {"user_id": mxid}, token=token)


def create_room(client, token, name, topic, encrypted, invite):
    body = {
        "name": name,
        "topic": topic,
        "preset": "private_chat",
        "visibility": "private",
        "invite": invite,
        "initial_state": [],
    }
    if encrypted:
        body["initial_state"].append(
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
        )
    return client.call("POST", "/_matrix/client/v3/createRoom", body, token=token)["room_id"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--homeserver", required=True)
    ap.add_argument("--server-name", required=True)
    ap.add_argument("--secrets", required=True, help="secrets.env of the stack")
    ap.add_argument("--state-dir", required=True, help="where tokens.json and rooms.json live")
    ap.add_argument("--out", required=True, help="KEY=VALUE file to write")
    ap.add_argument("--pid", type=int, default=0, help="Synapse pid, to fail fast if it dies")
    ap.add_argument("--timeout", type=float, default=90)
    args = ap.parse_args()

    secrets = read_env(args.secrets)
    client = Client(args.homeserver)
    wait_ready(client, args.pid, args.timeout)

    sn = args.server_name
    users = {
        "BOT": ("convene-bot", secrets["MATRIX_BOT_PASSWORD"]),
        "SECRETARIAT": ("secretariat", secrets["MATRIX_SECRETARIAT_PASSWORD"]),
        "MEMBER": ("member", secrets["MATRIX_MEMBER_PASSWORD"]),
    }
    for user, password in users.values():
        register(client, secrets["MATRIX_REGISTRATION_SECRET"], user, password)

    tokens_path = os.path.join(args.state_dir, "tokens.json")
    tokens = load_json(tokens_path)
    sec_token = token_for(client, tokens, *users["SECRETARIAT"])
    member_token = token_for(client, tokens, *users["MEMBER"])
    save_json(tokens_path, tokens)

    bot = f"@{users['BOT'][0]}:{sn}"
    member = f"@{users['MEMBER'][0]}:{sn}"
    rooms_path = os.path.join(args.state_dir, "rooms.json")
    rooms = load_json(rooms_path)
    for key, name, topic, encrypted in ROOMS:
        room_id = rooms.get(key)
        if room_id and room_usable(client, sec_token, room_id):
            ensure_invited(client, sec_token, room_id, [bot, member])
        else:
            rooms[key] = create_room(client, sec_token, name, topic, encrypted, [bot, member])
            save_json(rooms_path, rooms)

    lines = {
        "MATRIX_BOT_USER": bot,
        "MATRIX_SECRETARIAT_USER": f"@{users['SECRETARIAT'][0]}:{sn}",
        "MATRIX_SECRETARIAT_TOKEN": sec_token,
        "MATRIX_MEMBER_USER": member,
        "MATRIX_MEMBER_TOKEN": member_token,
    }
    for key, *_ in ROOMS:
        lines[key] = rooms[key]
    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        for k, v in lines.items():
            fh.write(f"{k}={v}\n")
    os.replace(tmp, args.out)


if __name__ == "__main__":
    try:
        main()
    except MatrixError as err:
        sys.exit(f"provision: Matrix API error: {err}")
    except OSError as err:
        sys.exit(f"provision: {err}")
