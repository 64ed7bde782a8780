#!/usr/bin/env python3
"""The black-box half of the bench (scripts/bench.sh runs it; see that file for the options).

Runs the release `convene` against the loopback stack beside a plain echo client and the two
peers (maubot 0.6.0 with a `!help` plugin, matrix-reminder-bot 0.4.0), each with its own users,
rooms and mailbox, and prints every figure beside its target. Benchmarks are figures, not
tests: a missed target is printed as missed, never hidden.
"""

import argparse
import json
import os
import re
import shutil
import signal
import smtplib
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "stack"))

import stackenv  # noqa: E402
from mx import Matrix, Watcher  # noqa: E402

ENV = stackenv.load()
HS = ENV["MATRIX_HOMESERVER"]
SECRET = ENV["MATRIX_REGISTRATION_SECRET"]
TAG = f"{int(time.time()) % 1000000:06d}"
RESULTS = []  # (section, figure, measured text, target text, met: True/False/None)


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def figure(section, name, value, unit, target=None, ok=None):
    if isinstance(value, int):
        text = f"{value} {unit}"
    elif isinstance(value, float):
        text = f"{value:.1f} {unit}" if abs(value) >= 0.1 or value == 0 else f"{value:.4f} {unit}"
    else:
        text = str(value)
    RESULTS.append((section, name, text, target or "", ok))
    mark = "" if ok is None else ("  met" if ok else "  MISSED")
    log(f"[{section}] {name}: {text}" + (f" (target {target}){mark}" if target else ""))


# ------------------------------------------------------------------ processes
class Proc:
    """A child process with its log, CPU time and memory read from /proc."""

    def __init__(self, name, cmd, logfile, env=None, cwd=None):
        self.name, self.cmd, self.logfile = name, cmd, logfile
        self.env, self.cwd = env, cwd
        self.p = None

    def start(self):
        out = open(self.logfile, "ab")
        self.p = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env=self.env, cwd=self.cwd, start_new_session=True)
        return self

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def cpu(self):
        """User + system seconds of the process (all its threads)."""
        with open(f"/proc/{self.pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    def pss_mib(self):
        with open(f"/proc/{self.pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def status_mib(self, key):
        with open(f"/proc/{self.pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def log_text(self):
        try:
            with open(self.logfile, errors="replace") as fh:
                return fh.read()
        except OSError:
            return ""

    def wait_log(self, needles, timeout=90, after=0):
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text()
            if all(text.count(n) > after for n in needles):
                return
            if not self.alive():
                raise RuntimeError(f"{self.name} exited:\n{text[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} never logged {needles}:\n{text[-3000:]}")
            time.sleep(0.1)

    def kill(self):
        if self.alive():
            self.p.send_signal(signal.SIGKILL)
            self.p.wait()

    def stop(self):
        if self.alive():
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


PROCS = []


def cleanup():
    for p in PROCS:
        try:
            p.stop()
        except Exception:
            pass


# ------------------------------------------------------------------ convene instances
def mailbox(name):
    """A mailbox user of the stack's Dovecot (re-read at every login)."""
    user, pw = f"bench-{name}-{TAG}", uuid.uuid4().hex[:16]
    with open(ENV["DOVECOT_PASSWD_FILE"], "a") as fh:
        fh.write(f"{user}:{{PLAIN}}{pw}\n")
    return user, pw, f"{user}@{ENV['MAIL_DOMAIN']}"


class Convene:
    READY = ["answering from now on", "IMAP connected"]

    def __init__(self, args, work, name, alice, rooms, encrypted=(), extra="", mailbox_extra="",
                 smtp_port=None):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.bot = Matrix.register(HS, SECRET, f"convene-{name}-{TAG}", "pw-bench")
        self.user, self.pw, self.address = mailbox(name)
        self.rooms = {}
        for key in rooms:
            self.rooms[key] = alice.create_room(f"{name} {key}", [self.bot.user], key in encrypted)
        groups = "".join(
            f'[[groups]]\nslug = "{k}"\nname = "{k.title()}"\nroom = "{r}"\n'
            for k, r in self.rooms.items() if k != "management")
        self.config = os.path.join(self.dir, "convene.toml")
        with open(self.config, "w") as fh:
            fh.write(f"""state_dir = "{self.dir}/state"
log = "convene=debug,info"
[matrix]
homeserver = "{HS}"
user = "{self.bot.user}"
secret = "pw-bench"
management_room = "{self.rooms['management']}"
admins = ["{alice.user}"]
[mailbox]
host = "127.0.0.1"
port = {ENV['IMAP_PORT']}
tls = "plain"
user = "{self.user}"
secret = "{self.pw}"
address = "{self.address}"
{mailbox_extra}
[smtp]
host = "127.0.0.1"
port = {smtp_port or ENV['SMTP_PORT']}
tls = "plain"
from = "Working Groups <{self.address}>"
{groups}
{extra}
""")
        self.proc = None
        self.args = args
        self.alice = alice
        self.starts = 0

    def start(self, wait=True):
        self.proc = Proc(f"convene-{os.path.basename(self.dir)}",
                         [self.args.convene, "--config", self.config, "run"],
                         os.path.join(self.dir, "convene.log"),
                         env={k: v for k, v in os.environ.items() if k != "RUST_LOG"}).start()
        PROCS.append(self.proc)
        if wait:
            self.proc.wait_log(self.READY, after=self.starts)
        self.starts += 1
        return self

    def joined(self):
        for room in self.rooms.values():
            self.alice.wait_joined(room, self.bot.user)

    def db(self):
        con = sqlite3.connect(f"file:{self.dir}/state/convene.db?mode=ro", uri=True, timeout=10)
        return con


# ------------------------------------------------------------------ 1–3: commands, peers, memory
def start_peers(args, work, alice):
    """The echo client and the peers, each with its own user and room. Returns
    {name: (proc, room, bot user, command text)}."""
    out = {}
    echo = Matrix.register(HS, SECRET, f"echo-{TAG}", "pw-bench")
    room = alice.create_room("echo", [echo.user])
    echo.join(room)
    p = Proc("echo", [sys.executable, os.path.join(HERE, "echo.py"), HS, echo.token, echo.user],
             os.path.join(work, "echo.log")).start()
    PROCS.append(p)
    out["echo"] = (p, room, echo.user, "ping")
    if args.no_peers:
        return out
    peers = args.peers_dir
    # maubot, standalone, with the bench's plugin
    mb = Matrix.register(HS, SECRET, f"maubot-{TAG}", "pw-bench")
    mdir = os.path.join(work, "maubot")
    shutil.copytree(os.path.join(HERE, "helpbot"), mdir)
    with open(os.path.join(mdir, "config.yaml"), "w") as fh:
        fh.write(f"""user:
    credentials:
        id: "{mb.user}"
        homeserver: {HS}
        access_token: {mb.token}
        device_id: null
    sync: true
    autojoin: true
    displayname: disable
    avatar_url: disable
    ignore_initial_sync: true
    ignore_first_sync: true
database: sqlite:{mdir}/bot.db
plugin_config: {{}}
logging:
    version: 1
    handlers:
        console:
            class: logging.StreamHandler
    root:
        level: WARNING
        handlers: [console]
""")
    room = alice.create_room("maubot", [mb.user])
    mb.join(room)
    p = Proc("maubot", [os.path.join(peers, "maubot/bin/python"), "-m", "maubot.standalone",
                        "-c", "config.yaml", "-m", "maubot.yaml"],
             os.path.join(work, "maubot.log"), cwd=mdir).start()
    PROCS.append(p)
    out["maubot"] = (p, room, mb.user, "!help")
    # matrix-reminder-bot
    rb_local = f"reminder-{TAG}"
    rb = Matrix.register(HS, SECRET, rb_local, "pw-bench")
    rdir = os.path.join(work, "reminder")
    os.makedirs(rdir)
    with open(os.path.join(rdir, "config.yaml"), "w") as fh:
        fh.write(f"""command_prefix: "!"
matrix:
  user_id: "{rb.user}"
  user_password: "pw-bench"
  homeserver_url: {HS}
  device_id: BENCHREMINDER
  device_name: bench
storage:
  database: "sqlite://{rdir}/bot.db"
  store_path: "{rdir}/store"
reminders:
  timezone: "Europe/Brussels"
allowlist:
  enabled: false
  regexes: []
blocklist:
  enabled: false
  regexes: []
logging:
  level: WARNING
  file_logging:
    enabled: false
    filepath: bot.log
  console_logging:
    enabled: true
""")
    room = alice.create_room("reminder", [rb.user])
    rb.join(room)
    p = Proc("matrix-reminder-bot", [os.path.join(peers, "reminder/bin/matrix-reminder-bot"), "config.yaml"],
             os.path.join(work, "reminder.log"), cwd=rdir).start()
    PROCS.append(p)
    out["matrix-reminder-bot"] = (p, room, rb.user, "!help")
    return out


def round_trip(alice, watch, room, bot_user, text):
    """One command: (client round trip s, server-timestamp gap ms), or None on no answer.
    The reply is the bot's first message in the room after the command (one in reply to
    another event is not it: matrix-reminder-bot sends no reply relation, the others do)."""
    start = len(watch.events)
    t0 = time.monotonic()
    cmd = alice.send(room, text)

    def is_reply(e):
        if e["room_id"] != room or e.get("sender") != bot_user or e.get("type") not in ("m.room.message", "m.room.encrypted"):
            return False
        rel = e.get("content", {}).get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        return rel in (None, cmd)

    ev, seen = watch.wait(is_reply, timeout=30, start=start)
    if ev is None:
        return None
    mine, _ = watch.wait(lambda e: e.get("event_id") == cmd, timeout=10, start=start)
    gap = ev["origin_server_ts"] - mine["origin_server_ts"] if mine else float("nan")
    return seen - t0, gap


def commands_and_memory(args, work, alice):
    watch = Watcher(alice)
    conv = Convene(args, work, "cmd", alice, ["management", "digital", "health", "research-innovation", "territorial"],
                   encrypted=("health", "territorial"))
    conv.start()
    bots = {"convene": (conv.proc, conv.rooms["digital"], conv.bot.user, "!help")}
    bots.update(start_peers(args, work, alice))
    conv.joined()
    for name, (proc, room, user, _) in bots.items():
        alice.wait_joined(room, user, timeout=120)
    # Idle memory, 30 s after start-up settled.
    time.sleep(30)
    pss = {n: b[0].pss_mib() for n, b in bots.items()}
    # Warm-up (first sends fetch keys, members, filters), then interleaved samples.
    for name, (proc, room, user, text) in bots.items():
        for _ in range(2):
            if round_trip(alice, watch, room, user, text) is None:
                log(f"{name} did not answer the warm-up:\n{proc.log_text()[-2000:]}")
    cpu0 = {n: b[0].cpu() for n, b in bots.items()}
    rtt = {n: [] for n in bots}
    gap = {n: [] for n in bots}
    for i in range(args.samples):
        for name, (proc, room, user, text) in bots.items():
            r = round_trip(alice, watch, room, user, text)
            if r is None:
                log(f"{name}: no answer to sample {i}")
                continue
            rtt[name].append(r[0] * 1000)
            gap[name].append(r[1])
    cpu = {n: b[0].cpu() - cpu0[n] for n, b in bots.items()}
    echo50 = pct(rtt["echo"], 50)
    peers = {}
    for name in bots:
        peers[name] = {
            "gap_p50": pct(gap[name], 50), "rtt_p50": pct(rtt[name], 50),
            "over_echo_p50": pct(rtt[name], 50) - echo50, "cpu": cpu[name],
            "cpu_per_100": cpu[name] / max(len(rtt[name]), 1) * 100, "pss": pss[name],
            "answered": len(rtt[name]),
        }
    c = peers["convene"]
    figure("1 commands", "command -> reply, server-timestamp gap p50", c["gap_p50"], "ms", "<= 28 ms", c["gap_p50"] <= 28)
    figure("1 commands", "reply seen by sender, p50", c["rtt_p50"], "ms")
    figure("1 commands", "plain echo seen by sender, p50", echo50, "ms")
    figure("1 commands", "overhead over the echo, p50", c["over_echo_p50"], "ms", "<= 20 ms", c["over_echo_p50"] <= 20)
    lighter = min((v["pss"] for k, v in peers.items() if k not in ("convene", "echo")), default=float("nan"))
    figure("3 memory", "idle PSS, e2e on, 5 rooms (2 encrypted), 30 s", c["pss"], "MiB",
           f"<= 25 MiB and <= 0.6x lighter peer ({0.6 * lighter:.1f} MiB)",
           c["pss"] <= 25 and not (c["pss"] > 0.6 * lighter))
    figure("3 memory", "CPU per 100 commands", c["cpu_per_100"], "s")
    # The fast path's own account of where the time went (debug log of convene).
    sent = [float(l.split("sent_ms=")[1].split()[0]) for l in conv.proc.log_text().splitlines() if "command answered" in l and "sent_ms=" in l]
    tot = [float(l.split("total_ms=")[1].split()[0]) for l in conv.proc.log_text().splitlines() if "command answered" in l and "total_ms=" in l]
    if sent:
        figure("1 commands", "in convene: reply PUT p50 / with the outbox record p50",
               f"{pct(sent, 50):.1f} ms / {pct(tot, 50):.1f} ms", "")
    watch.stop = True
    for name, (proc, *_rest) in bots.items():
        if name != "convene":
            proc.stop()
    conv.proc.stop()
    return peers


def peers_table(peers):
    names = [n for n in ("convene", "maubot", "matrix-reminder-bot", "echo") if n in peers]
    n = max(p["answered"] for p in peers.values())
    rows = [
        ("command -> reply, gap between the two events' server timestamps, p50", "gap_p50", "{:.1f} ms"),
        ("reply seen by the sender minus a plain client-to-client echo, p50", "over_echo_p50", "{:.1f} ms"),
        (f"bot CPU for {n} commands (+2 warm-up)", "cpu", "{:.2f} s"),
        ("idle PSS", "pss", "{:.1f} MiB"),
    ]
    out = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, key, fmt in rows:
        out.append(f"| {label} | " + " | ".join(fmt.format(peers[x][key]) for x in names) + " |")
    return "\n".join(out)


# ------------------------------------------------------------------ 4: mail to room
def smtp_send(to, subject, body, sender):
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain="bench.test")
    msg.set_content(body)
    with smtplib.SMTP(ENV["SMTP_HOST"], int(ENV["SMTP_PORT"])) as s:
        s.send_message(msg)
    return time.time()


def mail_latency(args, work, alice):
    groups = ["digital", "health", "research-innovation", "territorial"]
    conv = Convene(args, work, "mail", alice, ["management"] + groups)
    watch = Watcher(alice)
    conv.start()
    conv.joined()
    time.sleep(2)

    def arrived(marker_of, accepted, timeout):
        """Latency (s) per marker: the event's server timestamp minus SMTP acceptance."""
        deadline = time.monotonic() + timeout
        lat = {}
        while time.monotonic() < deadline and len(lat) < len(accepted):
            for ev, _ in watch.matching(lambda e: e.get("sender") == conv.bot.user):
                m = marker_of(ev.get("content", {}).get("body", ""))
                if m in accepted and m not in lat:
                    lat[m] = ev["origin_server_ts"] / 1000 - accepted[m]
            time.sleep(0.2)
        return lat

    def marker(body):
        for word in body.replace("*", " ").split():
            if word.startswith("mlat-"):
                return word
        return None

    # 200 mails, one a second.
    accepted = {}
    to = conv.address.replace("@", "+digital@")
    paced = time.monotonic()
    for i in range(args.mails):
        m = f"mlat-{TAG}-{i:04d}"
        accepted[m] = smtp_send(to, f"Minutes {m}", f"Please find the minutes. {m}", f"sender{i}@latency.test")
        time.sleep(max(0, paced + i + 1 - time.monotonic()))
    lat = arrived(marker, accepted, 60)
    xs = [v * 1000 for v in lat.values()]
    figure("4 mail", f"{args.mails} mails one a second: arrived", len(lat), f"of {args.mails}", f"{args.mails}", len(lat) == args.mails)
    figure("4 mail", "SMTP acceptance -> event in the room, p50", pct(xs, 50), "ms", "<= 700 ms", pct(xs, 50) <= 700)
    figure("4 mail", "SMTP acceptance -> event in the room, p99", pct(xs, 99), "ms", "<= 1200 ms", pct(xs, 99) <= 1200)

    # A burst of 300 to the four group rooms, as fast as Postfix takes them.
    accepted = {}
    lock = threading.Lock()
    todo = list(range(args.burst))

    def sender():
        with smtplib.SMTP(ENV["SMTP_HOST"], int(ENV["SMTP_PORT"])) as s:
            while True:
                with lock:
                    if not todo:
                        return
                    i = todo.pop(0)
                m = f"mlat-{TAG}-b{i:04d}"
                msg = EmailMessage()
                msg["From"], msg["Subject"] = f"burst{i}@burst.test", f"Burst {m}"
                msg["To"] = conv.address.replace("@", f"+{groups[i % 4]}@")
                msg["Message-ID"] = make_msgid(domain="bench.test")
                msg.set_content(f"One of many. {m}")
                s.send_message(msg)
                with lock:
                    accepted[m] = time.time()

    t0 = time.time()
    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent_for = time.time() - t0
    lat = arrived(marker, accepted, 120)
    xs = [v * 1000 for v in lat.values()]
    last = max((accepted[m] + lat[m] for m in lat), default=t0) - t0
    figure("4 mail", f"burst of {args.burst} to 4 rooms: accepted by Postfix", args.burst / sent_for, "mails/s")
    figure("4 mail", "burst: arrived", len(lat), f"of {args.burst}", f"{args.burst}", len(lat) == args.burst)
    figure("4 mail", "burst: SMTP acceptance -> event, p50", pct(xs, 50), "ms")
    figure("4 mail", "burst: SMTP acceptance -> event, p99", pct(xs, 99), "ms", "<= 3000 ms", pct(xs, 99) <= 3000)
    figure("4 mail", "burst: last event after the first send", last, "s")
    figure("4 mail", "burst: end to end", len(lat) / max(last, 1e-3), "mails/s")
    watch.stop = True
    conv.proc.stop()


def synapse_ceiling(args, work, alice):
    """The homeserver's own pace: a plain client sending as many events as the burst, on
    four connections to four rooms — what no bot on this Synapse can beat."""
    rooms = [alice.create_room(f"ceiling {i}") for i in range(4)]
    todo = list(range(args.burst))
    lock = threading.Lock()

    def sender(room):
        mx = Matrix(alice.base, alice.token, alice.user)
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop(0)
            mx.send(room, f"ceiling {i}")

    t0 = time.monotonic()
    threads = [threading.Thread(target=sender, args=(r,)) for r in rooms]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    figure("4 mail", f"reference: Synapse alone, {args.burst} sends by a plain client on 4 connections to 4 rooms",
           args.burst / took, "events/s")


# ------------------------------------------------------------------ 6: backlog
def backlog(args, work, alice):
    # SMTP to a closed port: the backlog's acknowledgements stay queued (not 10,000 mails into
    # the stack's catch-all mailbox); the drain is into the database.
    conv = Convene(args, work, "backlog", alice, ["management", "digital", "health", "research-innovation", "territorial"],
                   mailbox_extra="import_existing = true", smtp_port=1)
    maildir = os.path.join(ENV["MAIL_ROOT"], conv.user, "Maildir")
    subprocess.run([args.bench_bin, "corpus", maildir, str(args.backlog)], check=True)
    # Dovecot's files belong to its user.
    owner = os.stat(ENV["MAIL_ROOT"])
    subprocess.run(["chown", "-R", f"{owner.st_uid}:{owner.st_gid}", os.path.join(ENV["MAIL_ROOT"], conv.user)], check=True)
    t0 = time.monotonic()
    conv.start(wait=False)
    samples = []
    stored_at = handled_at = None
    rss_at_1000 = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        time.sleep(0.25)
        if not conv.proc.alive():
            raise RuntimeError(conv.proc.log_text()[-3000:])
        try:
            con = conv.db()
            stored, new = con.execute("SELECT COUNT(*), SUM(state = 'new') FROM inbound_mail").fetchone()
            con.close()
        except sqlite3.Error:
            continue
        new = new or 0
        rss = conv.proc.status_mib("VmRSS")
        samples.append((time.monotonic() - t0, stored, stored - new, rss))
        if rss_at_1000 is None and stored >= 1000:
            rss_at_1000 = rss
        if stored_at is None and stored >= args.backlog:
            stored_at = time.monotonic() - t0
        if stored >= args.backlog and new == 0:
            handled_at = time.monotonic() - t0
            break
    hwm = conv.proc.status_mib("VmHWM")
    log_text = conv.proc.log_text()
    conv.proc.stop()
    # From the first stored mail (start-up, login and the first sync are not the drain).
    first = next((t for t, s, _, _ in samples if s > 0), 0)
    if stored_at:
        figure("6 backlog", f"{args.backlog} mails at start: stored into the database", args.backlog / (stored_at - first), "mails/s", ">= 500 mails/s", args.backlog / (stored_at - first) >= 500)
    else:
        figure("6 backlog", "stored", samples[-1][1] if samples else 0, "mails", f"{args.backlog}", False)
    if handled_at:
        figure("6 backlog", "handled by the pipeline (routed, posts and acks queued)", args.backlog / (handled_at - first), "mails/s")
    # RSS along the drain: flat means it does not keep growing with the mails behind it.
    curve = []
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        at = next((r for _, s, _, r in samples if s >= frac * args.backlog), None)
        if at is not None:
            curve.append(f"{int(frac * 100)}%: {at:.0f}")
    figure("6 backlog", "RSS along the drain (MiB at % stored)", ", ".join(curve), "")
    flat = rss_at_1000 is not None and hwm <= rss_at_1000 * 1.25 + 5
    figure("6 backlog", "peak RSS (VmHWM) / RSS after the first 1,000", f"{hwm:.1f} MiB / {rss_at_1000 or float('nan'):.1f} MiB", "",
           "flat (<= 1.25x + 5 MiB)", flat)
    if "IMAP connected" not in log_text:
        log("backlog instance never connected to IMAP")


# ------------------------------------------------------------------ 7: scheduler
def scheduler(args, work, alice):
    conv = Convene(args, work, "sched", alice, ["management", "digital"],
                   extra=f'[calendar]\nfile = "{work}/sched/calendar.toml"\n[calendar.offsets]\n'
                         'meeting = ["14d", "7d", "1d", "1h"]\ncall_close = []\ndeadline = []\n')
    cal = os.path.join(work, "sched", "calendar.toml")
    with open(cal, "w") as fh:
        fh.write('timezone = "UTC"\n')
    conv.start()
    conv.joined()
    time.sleep(30)
    base = conv.proc.pss_mib()
    conv.proc.stop()
    # 25,000 meetings × 4 offsets = 100,000 pending reminders, all weeks ahead; and 40
    # meetings whose 1-hour reminder falls due 2 s apart in the measured window.
    now = time.time()
    # Whole seconds: the calendar file's times have no fractions.
    first_due = int(now) + args.fire_after
    fire = [first_due + 2 * k for k in range(args.firings)]
    n_far = args.reminders // 4
    with open(cal, "w") as fh:
        fh.write('timezone = "UTC"\n')
        for i in range(n_far):
            t = now + 20 * 86400 + i * 600
            fh.write(f'[[meeting]]\nid = "far-{i}"\ntitle = "Meeting {i}"\nstart = "{time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))}"\n'
                     f'mode = "online"\ngroups = ["digital"]\n')
        for k, due in enumerate(fire):
            t = due + 3600
            fh.write(f'[[meeting]]\nid = "fire-{k}"\ntitle = "Jitter {k}"\nstart = "{time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))}"\n'
                     f'mode = "online"\ngroups = ["digital"]\n')
    watch = Watcher(alice)
    t0 = time.monotonic()
    conv.start()
    loaded = time.monotonic() - t0
    # Idle 30 s after start-up, or until just before the first firing if that comes sooner.
    time.sleep(max(0, min(30, first_due - 3 - time.time())))
    pss = conv.proc.pss_mib()
    deadline = time.time() + (fire[-1] - time.time()) + 60
    while time.time() < deadline and watch.count(lambda e: e.get("sender") == conv.bot.user and e["room_id"] == conv.rooms["digital"]) < len(fire):
        time.sleep(0.5)
    jit = []
    for ev, _ in watch.matching(lambda e: e.get("sender") == conv.bot.user and e["room_id"] == conv.rooms["digital"]):
        found = re.search(r"Jitter (\d+)\b", ev.get("content", {}).get("body", ""))
        if found and int(found.group(1)) < len(fire):
            jit.append((ev["origin_server_ts"] / 1000 - fire[int(found.group(1))]) * 1000)
    peak = conv.proc.pss_mib()
    conv.proc.stop()
    watch.stop = True
    figure("7 scheduler", f"start-up with {args.reminders:,} pending reminders (file load)", loaded, "s")
    figure("7 scheduler", f"PSS growth, idle, {args.reminders:,} pending vs none", pss - base, "MiB", "<= 10 MiB", pss - base <= 10)
    figure("7 scheduler", "PSS after the firings", peak, "MiB")
    figure("7 scheduler", "reminders fired", len(jit), f"of {len(fire)}", f"{len(fire)}", len(jit) == len(fire))
    if jit:
        figure("7 scheduler", "firing jitter (event ts - due), p50", pct(jit, 50), "ms")
        figure("7 scheduler", "firing jitter p99", pct(jit, 99), "ms", "<= 1000 ms", pct(jit, 99) <= 1000)


# ------------------------------------------------------------------ 5: pipeline (in process)
def pipeline(args):
    out = subprocess.run([args.bench_bin, "pipeline", str(args.corpus)], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    ratio = r["pipeline_per_s"] / r["raw_parse_per_s"]
    figure("5 pipeline", f"corpus: {r['mails']:,} mails, {r['bytes'] / 1e6:.1f} MB, kinds {r['kinds']}", "", "")
    figure("5 pipeline", "mail-parser raw parse", r["raw_parse_per_s"], "mails/s")
    figure("5 pipeline", "pure stages (decide: parse, classify, route, extract, render)", r["decide_per_s"], "mails/s")
    figure("5 pipeline", "stored as IMAP stores (inbound_mail)", r["store_per_s"], "mails/s")
    figure("5 pipeline", "parse + classify + extract + store (Pipeline)", r["pipeline_per_s"], "mails/s")
    figure("5 pipeline", "pipeline / raw parse", ratio, "x", ">= 0.5x", ratio >= 0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--convene", default=os.path.join(ROOT, "target/release/convene"))
    ap.add_argument("--bench-bin", default=os.path.join(ROOT, "target/release/bench"))
    ap.add_argument("--peers-dir", default=os.path.expanduser("~/.cache/convene/bench-peers"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--mails", type=int, default=200)
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--backlog", type=int, default=10000)
    ap.add_argument("--corpus", type=int, default=10000)
    ap.add_argument("--reminders", type=int, default=100000)
    ap.add_argument("--firings", type=int, default=40)
    ap.add_argument("--fire-after", type=int, default=150, help="seconds from writing the calendar to the first firing")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--only", default="commands,mail,synapse,pipeline,backlog,scheduler")
    ap.add_argument("--json", default=None, help="also write the figures here")
    args = ap.parse_args()
    work = args.work or os.path.join(ENV["CONVENE_STACK_DIR"], f"bench-{TAG}")
    os.makedirs(work, exist_ok=True)
    log("work folder", work)
    alice = Matrix.register(HS, SECRET, f"alice-{TAG}", "pw-bench")
    only = set(args.only.split(","))
    peers = None
    try:
        if "commands" in only:
            peers = commands_and_memory(args, work, alice)
        if "mail" in only:
            mail_latency(args, work, alice)
        if "synapse" in only:
            synapse_ceiling(args, work, alice)
        if "pipeline" in only:
            pipeline(args)
        if "backlog" in only:
            backlog(args, work, alice)
        if "scheduler" in only:
            scheduler(args, work, alice)
    finally:
        cleanup()
    print("\n## Figures (scripts/bench.sh)\n")
    print("| figure | measured | target | met |")
    print("|---|---|---|---|")
    for section, name, text, target, ok in RESULTS:
        met = "" if ok is None else ("yes" if ok else "**no**")
        print(f"| {section}: {name} | {text} | {target} | {met} |")
    if peers:
        print(f"\n## Side by side ({args.samples} interleaved samples each, same Synapse, same run)\n")
        print(peers_table(peers))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"figures": RESULTS, "peers": peers}, fh, indent=1)


if __name__ == "__main__":
    main()
