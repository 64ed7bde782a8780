"""A small Matrix client for the bench (requests, keep-alive): users registered through
Synapse's shared-secret admin API, rooms, sends, and a background /sync that timestamps
every event the moment its response is read (time.monotonic), for round-trip timing."""

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.parse
import uuid

import requests


class Matrix:
    def __init__(self, base, token=None, user=None):
        self.base = base.rstrip("/")
        self.token = token
        self.user = user
        self.http = requests.Session()
        self.http.trust_env = False  # loopback: no proxies
        self._txn = itertools.count()

    def call(self, method, path, body=None, timeout=60, params=None):
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        for _ in range(50):
            r = self.http.request(method, self.base + path, data=None if body is None else json.dumps(body),
                                  headers=headers, timeout=timeout, params=params)
            if r.status_code == 429:
                time.sleep(min(r.json().get("retry_after_ms", 200) / 1000, 5))
                continue
            if r.status_code >= 400:
                raise RuntimeError(f"{method} {path}: HTTP {r.status_code}: {r.text[:300]}")
            return r.json() if r.content else {}
        raise RuntimeError(f"{method} {path}: rate limited for good")

    # -- accounts ---------------------------------------------------------------------------
    @staticmethod
    def register(base, secret, localpart, password, admin=False):
        """Registers `localpart` (shared-secret admin API) and returns a logged-in client."""
        m = Matrix(base)
        nonce = m.call("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
        mac.update(f"{nonce}\0{localpart}\0{password}\0{'admin' if admin else 'notadmin'}".encode())
        out = m.call("POST", "/_synapse/admin/v1/register", {
            "nonce": nonce, "username": localpart, "password": password, "admin": admin,
            "mac": mac.hexdigest()})
        m.token, m.user = out["access_token"], out["user_id"]
        m.device_id = out.get("device_id")
        return m

    # -- rooms ------------------------------------------------------------------------------
    def create_room(self, name, invite=(), encrypted=False):
        body = {"name": name, "preset": "private_chat", "invite": list(invite)}
        if encrypted:
            body["initial_state"] = [{"type": "m.room.encryption", "state_key": "",
                                      "content": {"algorithm": "m.megolm.v1.aes-sha2"}}]
        return self.call("POST", "/_matrix/client/v3/createRoom", body)["room_id"]

    def join(self, room):
        return self.call("POST", f"/_matrix/client/v3/join/{urllib.parse.quote(room)}", {})

    def members(self, room):
        out = self.call("GET", f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/joined_members")
        return set(out.get("joined", {}))

    def wait_joined(self, room, user, timeout=60):
        deadline = time.monotonic() + timeout
        while user not in self.members(room):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{user} did not join {room} within {timeout} s")
            time.sleep(0.2)

    def send(self, room, body, msgtype="m.text", extra=None):
        content = {"msgtype": msgtype, "body": body}
        content.update(extra or {})
        txn = f"bench-{uuid.uuid4().hex[:8]}-{next(self._txn)}"
        path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/send/m.room.message/{txn}"
        return self.call("PUT", path, content)["event_id"]

    def messages(self, room, limit=100):
        path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/messages"
        return self.call("GET", path, params={"dir": "b", "limit": str(limit)})["chunk"]


class Watcher:
    """A /sync loop in a thread: every timeline event, with the monotonic time its sync
    response was read. `wait(pred)` returns the first (event, seen_at) matching."""

    def __init__(self, mx):
        self.mx = Matrix(mx.base, mx.token, mx.user)
        self.events = []
        self.cond = threading.Condition()
        self.stop = False
        filt = {"room": {"timeline": {"limit": 200}, "state": {"lazy_load_members": True},
                         "ephemeral": {"not_types": ["*"]}, "account_data": {"not_types": ["*"]}},
                "presence": {"not_types": ["*"]}, "account_data": {"not_types": ["*"]}}
        self.filter = json.dumps(filt)
        first = self.mx.call("GET", "/_matrix/client/v3/sync", params={"timeout": "0", "filter": self.filter})
        self.since = first["next_batch"]
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            try:
                r = self.mx.call("GET", "/_matrix/client/v3/sync",
                                 params={"timeout": "30000", "since": self.since, "filter": self.filter},
                                 timeout=90)
            except Exception:  # a Synapse restart: try again
                time.sleep(0.5)
                continue
            seen = time.monotonic()
            self.since = r["next_batch"]
            got = []
            for room_id, room in r.get("rooms", {}).get("join", {}).items():
                for ev in room.get("timeline", {}).get("events", []):
                    ev["room_id"] = room_id
                    got.append((ev, seen))
            if got:
                with self.cond:
                    self.events.extend(got)
                    self.cond.notify_all()

    def wait(self, pred, timeout=30, start=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for ev, seen in self.events[start:]:
                    if pred(ev):
                        return ev, seen
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, None
                self.cond.wait(left)

    def count(self, pred):
        with self.cond:
            return sum(1 for ev, _ in self.events if pred(ev))

    def matching(self, pred):
        with self.cond:
            return [(ev, seen) for ev, seen in self.events if pred(ev)]
