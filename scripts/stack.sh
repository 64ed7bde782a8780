#!/usr/bin/env bash
# convene test/demo stack: real Synapse, Dovecot and Postfix on 127.0.0.1
# (plus PostgreSQL when none answers on 127.0.0.1:5432).
#
#   scripts/stack.sh install   install what is missing (apt packages, Synapse venv)
#   scripts/stack.sh up        install, start, provision, write $STACK_DIR/stack.env
#   scripts/stack.sh down      stop what this script started
#   scripts/stack.sh status    show what runs (exit 0 only if everything is up)
#   scripts/stack.sh env       print the path of the env file
#   scripts/stack.sh stop S    stop one server (synapse, dovecot or postfix), for outage tests
#   scripts/stack.sh start S   start it again with the same data; returns once it answers
#
# CONVENE_STACK_DIR  stack folder (default /tmp/convene-stack)
# CONVENE_VENV       Python venv for Synapse (default ~/.cache/convene/venv)
# CONVENE_PG_PORT    PostgreSQL port to use or start (default 5432)
#
# Ports: Synapse 18008, IMAP 11143, IMAPS 11993, LMTP 11024, SMTP 12525.
set -Eeuo pipefail
# scripts/test.sh holds its users lock on fd 8 while the tests run, and the outage tests
# restart servers through this script: a server must not inherit that descriptor, or the
# lock lives on in it and test.sh never sees the stack free to take down.
exec 8>&-
PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HELPERS=$SCRIPT_DIR/stack

STACK_DIR=${CONVENE_STACK_DIR:-/tmp/convene-stack}
VENV=${CONVENE_VENV:-${HOME:-/root}/.cache/convene/venv}
SYNAPSE_SPEC=${CONVENE_SYNAPSE_SPEC:-matrix-synapse==1.163.2}

SYNAPSE_PORT=18008
IMAP_PORT=11143
IMAPS_PORT=11993
LMTP_PORT=11024
SMTP_PORT=12525
PG_PORT=${CONVENE_PG_PORT:-5432}
SERVER_NAME=localhost
MAIL_DOMAIN=convene.test
MAILBOX_USER=working-groups
CATCHALL_USER=outside
RUN_USER=nobody
RUN_GROUP=nogroup

case $STACK_DIR in
  /*) ;;
  *) STACK_DIR=$PWD/$STACK_DIR ;;
esac
STACK_DIR=${STACK_DIR%/}
case $STACK_DIR in
  *[[:space:]]* | '') echo "stack.sh: CONVENE_STACK_DIR must be a path without spaces" >&2; exit 2 ;;
esac

SYN_DIR=$STACK_DIR/synapse
DOV_DIR=$STACK_DIR/dovecot
PF_DIR=$STACK_DIR/postfix
PF_ETC=$PF_DIR/etc  # config apart from the queue: postfix check warns about files below config_directory
MAIL_ROOT=$STACK_DIR/mail
LOG_DIR=$STACK_DIR/logs
ENV_FILE=$STACK_DIR/stack.env
SECRETS=$STACK_DIR/secrets.env
STARTED=$STACK_DIR/started
PG_OWNED=$STACK_DIR/postgresql.owned
INSTALL_LOG=$LOG_DIR/install.log

SYN_PIDFILE=$SYN_DIR/synapse.pid
DOV_PIDFILE=$DOV_DIR/run/master.pid
PF_PIDFILE=$PF_DIR/queue/pid/master.pid

# ---------------------------------------------------------------- helpers

say() { printf 'stack: %s\n' "$*"; }
warn() { printf 'stack: warning: %s\n' "$*" >&2; }

# die MESSAGE [LOGFILE...]: print the message and the tail of each log, exit 1.
die() {
  local msg=$1
  shift
  printf 'stack: error: %s\n' "$msg" >&2
  local f
  for f in "$@"; do
    if [[ -s $f ]]; then
      printf -- '---- last lines of %s ----\n' "$f" >&2
      tail -n 40 "$f" >&2
      printf -- '----\n' >&2
    fi
  done
  exit 1
}

on_err() {
  printf 'stack: error: command failed (exit %s) at line %s: %s\n' "$1" "$2" "$3" >&2
}
trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# who_listens PORT: the ss line(s) for a listening port, for error messages.
who_listens() { ss -Hltnp "sport = :$1" 2>/dev/null || true; }

# wait_port PORT SECONDS
wait_port() {
  local port=$1 i n
  n=$(($2 * 20))
  for ((i = 0; i < n; i++)); do
    port_open "$port" && return 0
    sleep 0.05
  done
  return 1
}

# pid_alive PIDFILE PATTERN: prints the pid if the process runs and its
# command line contains PATTERN (guards against a recycled pid).
pid_alive() {
  local pidfile=$1 pattern=$2 pid
  [[ -r $pidfile ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile" 2>/dev/null || true)
  [[ -n $pid ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 1
  echo "$pid"
}

# stop_pid NAME PID: SIGTERM, wait up to 15 s, then SIGKILL.
stop_pid() {
  kill -TERM "$2" 2>/dev/null || return 0
  wait_gone "$1:$2"
}

# wait_gone NAME:PID...: wait up to 15 s for all to exit, then SIGKILL the rest.
wait_gone() {
  local i item left
  for ((i = 0; i < 300; i++)); do
    left=0
    for item in "$@"; do
      kill -0 "${item#*:}" 2>/dev/null && left=1
    done
    ((left)) || return 0
    sleep 0.05
  done
  for item in "$@"; do
    if kill -0 "${item#*:}" 2>/dev/null; then
      warn "${item%%:*} (pid ${item#*:}) did not stop within 15 s; killing it"
      kill -KILL "${item#*:}" 2>/dev/null || true
    fi
  done
}

# write_if_changed FILE: stdin replaces FILE if different; returns 0 if it changed.
write_if_changed() {
  local file=$1 tmp
  tmp=$(mktemp "$file.XXXXXX") || die "cannot create a file next to $file"
  cat >"$tmp" || die "cannot write $tmp"
  if [[ -f $file ]] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    return 1
  fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$file" || die "cannot write $file"
  return 0
}

record_started() { echo "$*" >>"$STARTED"; }

need_root() {
  [[ $(id -u) == 0 ]] || die "this script must run as root (Postfix must start as root; installs use apt)"
}

pick_python() {
  if [[ -n ${CONVENE_PYTHON:-} ]]; then
    echo "$CONVENE_PYTHON"
  elif [[ -x /usr/bin/python3 ]]; then
    echo /usr/bin/python3
  else
    command -v python3
  fi
}

# ---------------------------------------------------------------- postgres

pg_up() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2
  else
    port_open "$PG_PORT"
  fi
}

# First PostgreSQL cluster, as "VERSION NAME PORT STATUS", preferring port 5432.
pg_cluster() {
  command -v pg_lsclusters >/dev/null || return 1
  local line
  line=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p {print $1, $2, $3, $4; exit}')
  [[ -n $line ]] || line=$(pg_lsclusters -h 2>/dev/null | awk 'NR == 1 {print $1, $2, $3, $4}')
  [[ -n $line ]] || return 1
  echo "$line"
}

# ---------------------------------------------------------------- install

APT_UPDATED=0
apt_install() {
  mkdir -p "$LOG_DIR"
  export DEBIAN_FRONTEND=noninteractive
  if [[ $APT_UPDATED == 0 ]]; then
    say "apt-get update"
    apt-get -q -o DPkg::Lock::Timeout=300 update >>"$INSTALL_LOG" 2>&1 ||
      die "apt-get update failed" "$INSTALL_LOG"
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  apt-get -q -y -o DPkg::Lock::Timeout=300 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    install --no-install-recommends --no-upgrade "$@" </dev/null >>"$INSTALL_LOG" 2>&1 9>&- ||
    die "apt-get install $* failed" "$INSTALL_LOG"
}

# Daemons a package's maintainer script may have started (not ours).
stop_system_daemons() {
  local pid
  if pid=$(pid_alive /run/dovecot/master.pid dovecot); then
    warn "apt started the system Dovecot (pid $pid); stopping it"
    stop_pid "system dovecot" "$pid"
  fi
  if pid=$(pid_alive /var/spool/postfix/pid/master.pid master); then
    warn "apt started the system Postfix (pid $pid); stopping it"
    postfix stop >>"$INSTALL_LOG" 2>&1 || stop_pid "system postfix" "$pid"
  fi
}

cmd_install() {
  need_root
  mkdir -p "$LOG_DIR"
  local pkgs=() py
  [[ -x /usr/sbin/dovecot && -x /usr/lib/dovecot/imap && -x /usr/lib/dovecot/imap-login ]] || pkgs+=(dovecot-imapd)
  [[ -x /usr/lib/dovecot/lmtp ]] || pkgs+=(dovecot-lmtpd)
  [[ -x /usr/sbin/postfix && -x /usr/sbin/postconf ]] || pkgs+=(postfix)
  command -v openssl >/dev/null || pkgs+=(openssl)
  command -v setpriv >/dev/null || pkgs+=(util-linux)
  command -v ss >/dev/null || pkgs+=(iproute2)
  py=$(pick_python) || py=""
  if [[ -z $py ]]; then
    pkgs+=(python3 python3-venv)
  elif [[ ! -x $VENV/bin/python ]] && ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then
    pkgs+=(python3-venv)
  fi
  local want_pg=0
  if ! pg_up && ! pg_cluster >/dev/null; then
    pkgs+=(postgresql)
    want_pg=1
  fi

  if ((${#pkgs[@]})); then
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt_install "${pkgs[@]}"
    stop_system_daemons
    if ((want_pg)) && ! pg_cluster >/dev/null; then
      local ver
      ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
      [[ -n $ver ]] || die "postgresql installed but no server version under /usr/lib/postgresql"
      say "creating PostgreSQL cluster $ver/main"
      pg_createcluster "$ver" main -p "$PG_PORT" >>"$INSTALL_LOG" 2>&1 ||
        die "pg_createcluster failed" "$INSTALL_LOG"
    fi
    if ((want_pg)) && pg_up; then
      # apt started the new cluster itself: it is ours to stop all the same.
      local info
      info=$(pg_cluster) && mkdir -p "$STACK_DIR" && awk '{print $1, $2}' <<<"$info" >"$PG_OWNED"
    fi
  fi

  # Synapse in its own venv, outside the clone so that CI reuses it.
  local marker=$VENV/.convene-synapse-spec
  if [[ -x $VENV/bin/python && -f $marker && $(<"$marker") == "$SYNAPSE_SPEC" ]]; then
    return 0
  fi
  py=$(pick_python)
  if [[ ! -x $VENV/bin/python ]] || ! "$VENV/bin/python" -c '' 2>/dev/null; then
    say "creating venv $VENV"
    mkdir -p "$(dirname "$VENV")"
    "$py" -m venv --clear "$VENV" >>"$INSTALL_LOG" 2>&1 || die "python venv creation failed" "$INSTALL_LOG"
  fi
  say "pip install $SYNAPSE_SPEC (into $VENV)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$SYNAPSE_SPEC" >>"$INSTALL_LOG" 2>&1 ||
    die "pip install $SYNAPSE_SPEC failed" "$INSTALL_LOG"
  "$VENV/bin/python" -c 'import synapse.app.homeserver, signedjson.key' >>"$INSTALL_LOG" 2>&1 ||
    die "Synapse does not import from $VENV" "$INSTALL_LOG"
  echo "$SYNAPSE_SPEC" >"$marker"
}

# ---------------------------------------------------------------- secrets

gen_secret() { openssl rand -hex "${1:-16}"; }

ensure_secrets() {
  if [[ ! -s $SECRETS ]]; then
    (
    umask 077
    {
      echo "MATRIX_REGISTRATION_SECRET=$(gen_secret 24)"
      echo "SYNAPSE_MACAROON_SECRET=$(gen_secret 24)"
      echo "SYNAPSE_FORM_SECRET=$(gen_secret 24)"
      echo "MATRIX_BOT_PASSWORD=$(gen_secret 12)"
      echo "MATRIX_SECRETARIAT_PASSWORD=$(gen_secret 12)"
      echo "MATRIX_MEMBER_PASSWORD=$(gen_secret 12)"
      echo "MAILBOX_PASSWORD=$(gen_secret 12)"
      echo "CATCHALL_PASSWORD=$(gen_secret 12)"
    } >"$SECRETS.tmp"
    mv -f "$SECRETS.tmp" "$SECRETS"
    )
  fi
  # shellcheck disable=SC1090
  source "$SECRETS"
}

# ---------------------------------------------------------------- synapse

SYN_AS=()       # command prefix to drop privileges, empty when running as root
SYN_OWNER=root

synapse_user() {
  # Run as nobody when nobody can execute the venv (not when it lives under /root).
  # (Probe with test(1): setpriv resolves the program's path while still privileged.)
  if setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups \
    /usr/bin/test -r "$VENV/pyvenv.cfg" -a -x "$VENV/bin/python" 2>/dev/null; then
    SYN_AS=(setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups)
    SYN_OWNER=$RUN_USER:$RUN_GROUP
  else
    SYN_AS=()
    SYN_OWNER=root:root
  fi
}

SYN_CHANGED=0
synapse_config() {
  mkdir -p "$SYN_DIR/media_store"
  if [[ ! -s $SYN_DIR/signing.key ]]; then
    "$VENV/bin/python" - "$SYN_DIR/signing.key" <<'PY'
import secrets, string, sys
from signedjson.key import generate_signing_key, write_signing_keys
version = "a_" + "".join(secrets.choice(string.ascii_letters) for _ in range(4))
with open(sys.argv[1], "w") as fh:
    write_signing_keys(fh, [generate_signing_key(version)])
PY
  fi
  write_if_changed "$SYN_DIR/log.config" <<EOF && SYN_CHANGED=1
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
handlers:
  file:
    class: logging.handlers.RotatingFileHandler
    formatter: precise
    filename: $SYN_DIR/homeserver.log
    maxBytes: 20000000
    backupCount: 1
    encoding: utf8
loggers:
  synapse.storage.SQL:
    level: WARNING
  twisted:
    level: WARNING
root:
  level: INFO
  handlers: [file]
disable_existing_loggers: false
EOF
  # Every rate limit raised: tests and the bot send bursts from one address.
  local rc='{per_second: 10000, burst_count: 100000}'
  write_if_changed "$SYN_DIR/homeserver.yaml" <<EOF && SYN_CHANGED=1
# Generated by scripts/stack.sh: test/demo homeserver on loopback. Do not edit.
server_name: "$SERVER_NAME"
public_baseurl: "http://127.0.0.1:$SYNAPSE_PORT/"
pid_file: "$SYN_DIR/homeserver.pid"
listeners:
  - port: $SYNAPSE_PORT
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "$SYN_DIR/homeserver.db"
log_config: "$SYN_DIR/log.config"
media_store_path: "$SYN_DIR/media_store"
signing_key_path: "$SYN_DIR/signing.key"
registration_shared_secret: "$MATRIX_REGISTRATION_SECRET"
macaroon_secret_key: "$SYNAPSE_MACAROON_SECRET"
form_secret: "$SYNAPSE_FORM_SECRET"
enable_registration: false
bcrypt_rounds: 4
report_stats: false
trusted_key_servers: []
suppress_key_server_warning: true
url_preview_enabled: false
presence:
  enabled: false
enable_metrics: false
max_upload_size: 50M
rc_message: $rc
rc_registration: $rc
rc_registration_token_validity: $rc
rc_login:
  address: $rc
  account: $rc
  failed_attempts: $rc
rc_admin_redaction: $rc
rc_joins:
  local: $rc
  remote: $rc
rc_joins_per_room: $rc
rc_3pid_validation: $rc
rc_invites:
  per_room: $rc
  per_user: $rc
  per_issuer: $rc
rc_third_party_invite: $rc
rc_media_create: $rc
rc_presence:
  per_user: $rc
rc_delayed_event_mgmt: $rc
rc_room_creation: $rc
rc_reports: $rc
rc_user_directory: $rc
rc_key_requests: $rc
rc_profile: $rc
rc_federation:
  window_size: 1000
  sleep_limit: 100000
  sleep_delay: 0
  reject_limit: 100000
  concurrent: 1000
federation_rr_transactions_per_room_per_second: 10000
EOF
  synapse_user
  if [[ $(stat -c %U:%G "$SYN_DIR") != "$SYN_OWNER" ]]; then
    chown -R "$SYN_OWNER" "$SYN_DIR"
  else
    chown "$SYN_OWNER" "$SYN_DIR" "$SYN_DIR"/*.yaml "$SYN_DIR"/log.config "$SYN_DIR/signing.key"
  fi
  chmod 600 "$SYN_DIR/signing.key"
}

synapse_start() {
  if port_open "$SYNAPSE_PORT"; then
    die "port $SYNAPSE_PORT is taken by another process: $(who_listens "$SYNAPSE_PORT")"
  fi
  : >"$SYN_DIR/stdout.log"
  chown "$SYN_OWNER" "$SYN_DIR/stdout.log"
  (
    cd "$SYN_DIR"
    exec 9>&- # the stack lock must not live on in the daemon
    exec setsid "${SYN_AS[@]}" env HOME="$SYN_DIR" "$VENV/bin/python" -m synapse.app.homeserver \
      -c "$SYN_DIR/homeserver.yaml" </dev/null >>"$SYN_DIR/stdout.log" 2>&1
  ) &
  echo $! >"$SYN_PIDFILE"
  record_started synapse
}

# ---------------------------------------------------------------- dovecot

tls_certs() {
  local t=$DOV_DIR/tls
  mkdir -p "$t"
  if [[ -s $t/server.pem && -s $t/ca.pem ]] && openssl x509 -checkend 2592000 -noout -in "$t/server.pem" >/dev/null 2>&1; then
    return 0
  fi
  # A tiny CA plus a leaf for localhost: rustls/webpki rejects a self-signed
  # certificate that is its own CA (CaUsedAsEndEntity), so tests trust ca.pem.
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$t/ca.key" -out "$t/ca.pem" -days 3650 -subj "/O=convene test stack/CN=convene-stack-ca" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    >>"$LOG_DIR/openssl.log" 2>&1 || die "openssl (CA) failed" "$LOG_DIR/openssl.log"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$t/server.key" -out "$t/server.csr" -subj "/CN=localhost" \
    >>"$LOG_DIR/openssl.log" 2>&1 || die "openssl (key) failed" "$LOG_DIR/openssl.log"
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    "subjectKeyIdentifier=hash" \
    "authorityKeyIdentifier=keyid" >"$t/server.ext"
  openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -set_serial "0x$(gen_secret 8)" \
    -days 825 -out "$t/server.pem" -extfile "$t/server.ext" \
    >>"$LOG_DIR/openssl.log" 2>&1 || die "openssl (sign) failed" "$LOG_DIR/openssl.log"
  chmod 600 "$t/ca.key" "$t/server.key"
  chmod 644 "$t/ca.pem" "$t/server.pem"
  DOV_CHANGED=1
}

DOV_CHANGED=0
dovecot_config() {
  mkdir -p "$DOV_DIR/run" "$DOV_DIR/state" "$MAIL_ROOT"
  tls_certs
  write_if_changed "$DOV_DIR/dovecot.conf" <<EOF && DOV_CHANGED=1
# Generated by scripts/stack.sh: private Dovecot instance on loopback. Do not edit.
instance_name = convene-stack
base_dir = $DOV_DIR/run
state_dir = $DOV_DIR/state
log_path = $DOV_DIR/dovecot.log
info_log_path = $DOV_DIR/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
default_internal_user = $RUN_USER
default_internal_group = $RUN_GROUP
default_login_user = $RUN_USER
default_process_limit = 500

ssl = yes
ssl_cert = <$DOV_DIR/tls/server.pem
ssl_key = <$DOV_DIR/tls/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Ln
auth_failure_delay = 0
auth_verbose = yes

mail_location = maildir:~/Maildir
mail_fsync = never
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
lmtp_hdr_delivery_address = final

passdb {
  driver = passwd-file
  args = scheme=PLAIN $DOV_DIR/passwd
}
userdb {
  driver = static
  args = uid=$RUN_USER gid=$RUN_GROUP home=$MAIL_ROOT/%Ln allow_all_users=yes
}

service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
service anvil {
  chroot =
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
protocol imap {
  mail_max_userip_connections = 1000
}
EOF
  # Mailbox users (random passwords kept in secrets.env); lines other tools
  # appended stay as they are.
  touch "$DOV_DIR/passwd"
  local user pass line
  for user in "$MAILBOX_USER" "$CATCHALL_USER"; do
    if [[ $user == "$MAILBOX_USER" ]]; then pass=$MAILBOX_PASSWORD; else pass=$CATCHALL_PASSWORD; fi
    line="$user:{PLAIN}$pass"
    if ! grep -qxF -- "$line" "$DOV_DIR/passwd"; then
      sed -i "/^$user:/d" "$DOV_DIR/passwd"
      echo "$line" >>"$DOV_DIR/passwd"
    fi
  done
  chmod 644 "$DOV_DIR/passwd"
  chown "$RUN_USER:$RUN_GROUP" "$DOV_DIR" "$DOV_DIR/run" "$DOV_DIR/state" "$MAIL_ROOT" "$DOV_DIR/tls/server.key"
  touch "$DOV_DIR/dovecot.log" "$DOV_DIR/stdio.log"
  chown "$RUN_USER:$RUN_GROUP" "$DOV_DIR/dovecot.log" "$DOV_DIR/stdio.log"
}

dovecot_start() {
  local p
  for p in "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT"; do
    if port_open "$p"; then
      die "port $p is taken by another process: $(who_listens "$p")"
    fi
  done
  setpriv --reuid="$RUN_USER" --regid="$RUN_GROUP" --clear-groups \
    /usr/sbin/dovecot -c "$DOV_DIR/dovecot.conf" </dev/null >>"$DOV_DIR/stdio.log" 2>&1 9>&- ||
    die "dovecot failed to start" "$DOV_DIR/stdio.log" "$DOV_DIR/dovecot.log"
  record_started dovecot
}

# ---------------------------------------------------------------- postfix

PF_CHANGED=0
postfix_config() {
  mkdir -p "$PF_ETC" "$PF_DIR/queue" "$PF_DIR/data"
  chown root:root "$PF_DIR/queue"
  chown postfix:postfix "$PF_DIR/data"
  chmod 755 "$PF_DIR" "$PF_DIR/queue"
  chmod 700 "$PF_DIR/data"
  touch "$PF_DIR/maillog"
  # Any domain but ours goes to the catch-all mailbox, except the two that fail on purpose:
  # refused.test is refused at RCPT time (a permanent 550), bounce.test is accepted and then
  # bounced with a DSN to the envelope sender (the error transport, with unlisted recipients
  # not refused at RCPT time).
  write_if_changed "$PF_ETC/virtual_alias.regexp" <<EOF && PF_CHANGED=1
# Generated by scripts/stack.sh. Mail for any other domain lands in $CATCHALL_USER.
!/@(convene|refused|bounce)\.test\$/ $CATCHALL_USER@$MAIL_DOMAIN
EOF
  write_if_changed "$PF_ETC/transport.regexp" <<EOF && PF_CHANGED=1
# Generated by scripts/stack.sh: accepted, then bounced with a DSN to the envelope sender.
/@bounce\.test\$/ error:5.1.1 mailbox unavailable (bounced by the test stack)
EOF
  write_if_changed "$PF_ETC/refuse.regexp" <<EOF && PF_CHANGED=1
# Generated by scripts/stack.sh: recipients refused at RCPT time.
/@refused\.test\$/ REJECT 5.1.1 mailbox unavailable (refused by the test stack)
EOF

  write_if_changed "$PF_ETC/main.cf" <<EOF && PF_CHANGED=1
# Generated by scripts/stack.sh: private Postfix instance on loopback. Do not edit.
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.$MAIL_DOMAIN
mydomain = $MAIL_DOMAIN
myorigin = \$mydomain
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access regexp:$PF_ETC/refuse.regexp, permit_mynetworks, reject_unauth_destination
smtpd_reject_unlisted_recipient = no
transport_maps = regexp:$PF_ETC/transport.regexp
smtpd_peername_lookup = no
smtpd_banner = \$myhostname ESMTP convene test stack
virtual_mailbox_domains = $MAIL_DOMAIN
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
virtual_alias_domains =
virtual_alias_maps = regexp:$PF_ETC/virtual_alias.regexp
recipient_delimiter = +
default_transport = error:no external delivery
relay_transport = error:no external delivery
local_transport = error:no local delivery
alias_maps =
alias_database =
local_recipient_maps =
biff = no
append_dot_mydomain = no
smtpd_tls_security_level = none
smtp_tls_security_level = none
lmtp_tls_security_level = none
message_size_limit = 41943040
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = /var, /dev/stdout, $STACK_DIR
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
EOF
  write_if_changed "$PF_ETC/master.cf" <<EOF && PF_CHANGED=1
# Generated by scripts/stack.sh. No chroot anywhere.
# service            type  private unpriv chroot wakeup maxproc command
127.0.0.1:$SMTP_PORT inet  n       -      n      -      -       smtpd
pickup               unix  n       -      n      60     1       pickup
cleanup              unix  n       -      n      -      0       cleanup
qmgr                 unix  n       -      n      300    1       qmgr
tlsmgr               unix  -       -      n      1000?  1       tlsmgr
rewrite              unix  -       -      n      -      -       trivial-rewrite
bounce               unix  -       -      n      -      0       bounce
defer                unix  -       -      n      -      0       bounce
trace                unix  -       -      n      -      0       bounce
verify               unix  -       -      n      -      1       verify
flush                unix  n       -      n      1000?  0       flush
proxymap             unix  -       -      n      -      -       proxymap
proxywrite           unix  -       -      n      -      1       proxymap
smtp                 unix  -       -      n      -      -       smtp
relay                unix  -       -      n      -      -       smtp
showq                unix  n       -      n      -      -       showq
error                unix  -       -      n      -      -       error
retry                unix  -       -      n      -      -       error
discard              unix  -       -      n      -      -       discard
lmtp                 unix  -       -      n      -      -       lmtp
anvil                unix  -       -      n      -      1       anvil
scache               unix  -       -      n      -      1       scache
postlog              unix-dgram n  -      n      -      1       postlogd
EOF
  return 0
}

postfix_start() {
  if port_open "$SMTP_PORT"; then
    die "port $SMTP_PORT is taken by another process: $(who_listens "$SMTP_PORT")"
  fi
  postfix -c "$PF_ETC" check >>"$PF_DIR/postfix.log" 2>&1 ||
    die "postfix check failed" "$PF_DIR/postfix.log" "$PF_DIR/maillog"
  postfix -c "$PF_ETC" start </dev/null >>"$PF_DIR/postfix.log" 2>&1 9>&- ||
    die "postfix failed to start" "$PF_DIR/postfix.log" "$PF_DIR/maillog"
  record_started postfix
}

# ---------------------------------------------------------------- postgres

postgres_ensure() {
  if pg_up; then
    return 0
  fi
  local info ver name port status hba
  info=$(pg_cluster) || die "nothing answers on 127.0.0.1:$PG_PORT and no PostgreSQL cluster exists (run scripts/stack.sh install)"
  read -r ver name port status <<<"$info"
  PG_PORT=$port
  hba=/etc/postgresql/$ver/$name/pg_hba.conf
  if [[ -f $hba ]] && ! grep -Eq '^host[[:space:]]+all[[:space:]]+postgres[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  fi
  if [[ $status != online ]]; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start </dev/null >>"$LOG_DIR/postgresql.log" 2>&1 9>&- ||
      die "could not start PostgreSQL $ver/$name" "$LOG_DIR/postgresql.log" "/var/log/postgresql/postgresql-$ver-$name.log"
    echo "$ver $name" >"$PG_OWNED"
    record_started "postgresql $ver $name"
  else
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload >>"$LOG_DIR/postgresql.log" 2>&1 || true
  fi
  local i
  for ((i = 0; i < 200; i++)); do
    pg_up && return 0
    sleep 0.05
  done
  die "PostgreSQL $ver/$name does not answer on 127.0.0.1:$PG_PORT" "/var/log/postgresql/postgresql-$ver-$name.log"
}

# ---------------------------------------------------------------- commands

cmd_up() {
  need_root
  local t0=$EPOCHREALTIME
  cmd_install
  mkdir -p "$STACK_DIR" "$LOG_DIR"
  chmod 755 "$STACK_DIR"
  : >"$STARTED"
  ensure_secrets

  # Synapse first: it takes the longest to boot; the rest is set up meanwhile.
  local pid
  synapse_config
  if ((SYN_CHANGED)) && pid=$(pid_alive "$SYN_PIDFILE" synapse.app.homeserver); then
    say "Synapse configuration changed; restarting it"
    stop_pid synapse "$pid"
  fi
  if ! pid_alive "$SYN_PIDFILE" synapse.app.homeserver >/dev/null; then
    synapse_start
  fi

  dovecot_config
  if ((DOV_CHANGED)) && pid=$(pid_alive "$DOV_PIDFILE" dovecot); then
    say "Dovecot configuration changed; reloading it"
    kill -HUP "$pid"
  fi
  if ! pid_alive "$DOV_PIDFILE" dovecot >/dev/null; then
    dovecot_start
  fi

  postfix_config
  if ((PF_CHANGED)) && pid_alive "$PF_PIDFILE" master >/dev/null; then
    say "Postfix configuration changed; reloading it"
    postfix -c "$PF_ETC" reload >>"$PF_DIR/postfix.log" 2>&1 || die "postfix reload failed" "$PF_DIR/postfix.log"
  fi
  if ! pid_alive "$PF_PIDFILE" master >/dev/null; then
    postfix_start
  fi

  postgres_ensure
  if command -v psql >/dev/null && ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -w -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    warn "PostgreSQL on 127.0.0.1:$PG_PORT does not let user postgres in without a password"
  fi

  local p
  for p in "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT"; do
    wait_port "$p" 10 || die "Dovecot does not listen on 127.0.0.1:$p" "$DOV_DIR/stdio.log" "$DOV_DIR/dovecot.log"
  done
  wait_port "$SMTP_PORT" 10 || die "Postfix does not listen on 127.0.0.1:$SMTP_PORT" "$PF_DIR/postfix.log" "$PF_DIR/maillog"

  pid=$(pid_alive "$SYN_PIDFILE" synapse.app.homeserver) ||
    die "Synapse exited during start-up" "$SYN_DIR/stdout.log" "$SYN_DIR/homeserver.log"
  "$VENV/bin/python" "$HELPERS/provision.py" \
    --homeserver "http://127.0.0.1:$SYNAPSE_PORT" --server-name "$SERVER_NAME" \
    --secrets "$SECRETS" --state-dir "$SYN_DIR" --out "$STACK_DIR/matrix.env" --pid "$pid" \
    2>>"$LOG_DIR/provision.log" ||
    die "Matrix provisioning failed" "$LOG_DIR/provision.log" "$SYN_DIR/stdout.log" "$SYN_DIR/homeserver.log"

  write_env
  local started
  started=$(paste -sd, "$STARTED")
  say "up in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')s" \
    "(started: ${started:-nothing, all was running}); env: $ENV_FILE"
}

write_env() {
  local tmp=$ENV_FILE.tmp
  {
    echo "CONVENE_STACK_DIR=$STACK_DIR"
    echo "MATRIX_HOMESERVER=http://127.0.0.1:$SYNAPSE_PORT"
    echo "MATRIX_SERVER_NAME=$SERVER_NAME"
    echo "MATRIX_REGISTRATION_SECRET=$MATRIX_REGISTRATION_SECRET"
    echo "MATRIX_BOT_PASSWORD=$MATRIX_BOT_PASSWORD"
    echo "MATRIX_SECRETARIAT_PASSWORD=$MATRIX_SECRETARIAT_PASSWORD"
    echo "MATRIX_MEMBER_PASSWORD=$MATRIX_MEMBER_PASSWORD"
    cat "$STACK_DIR/matrix.env"
    echo "IMAP_HOST=127.0.0.1"
    echo "IMAP_PORT=$IMAP_PORT"
    echo "IMAPS_PORT=$IMAPS_PORT"
    echo "TLS_CA_FILE=$DOV_DIR/tls/ca.pem"
    echo "TLS_SERVER_NAME=localhost"
    echo "MAIL_DOMAIN=$MAIL_DOMAIN"
    echo "MAILBOX_USER=$MAILBOX_USER"
    echo "MAILBOX_PASSWORD=$MAILBOX_PASSWORD"
    echo "MAILBOX_ADDRESS=$MAILBOX_USER@$MAIL_DOMAIN"
    echo "CATCHALL_USER=$CATCHALL_USER"
    echo "CATCHALL_PASSWORD=$CATCHALL_PASSWORD"
    echo "CATCHALL_ADDRESS=$CATCHALL_USER@$MAIL_DOMAIN"
    echo "DOVECOT_PASSWD_FILE=$DOV_DIR/passwd"
    echo "MAIL_ROOT=$MAIL_ROOT"
    echo "LMTP_PORT=$LMTP_PORT"
    echo "SMTP_HOST=127.0.0.1"
    echo "SMTP_PORT=$SMTP_PORT"
    echo "POSTGRES_ADMIN_URL=postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    echo "SYNAPSE_LOG=$SYN_DIR/homeserver.log"
    echo "DOVECOT_LOG=$DOV_DIR/dovecot.log"
    echo "DOVECOT_CONF=$DOV_DIR/dovecot.conf"
    echo "POSTFIX_LOG=$PF_DIR/maillog"
  } >"$tmp"
  if grep -nvE '^[A-Z][A-Z0-9_]*=[^[:space:]]+$' "$tmp" >&2; then
    die "malformed line(s) in the env file (see above)"
  fi
  chmod 644 "$tmp"
  mv -f "$tmp" "$ENV_FILE"
}

cmd_down() {
  local pid stopping=()
  if pid=$(pid_alive "$PF_PIDFILE" master); then
    postfix -c "$PF_ETC" stop >>"$PF_DIR/postfix.log" 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    stopping+=("postfix:$pid")
  fi
  if pid=$(pid_alive "$DOV_PIDFILE" dovecot); then
    kill -TERM "$pid" 2>/dev/null || true
    stopping+=("dovecot:$pid")
  fi
  if pid=$(pid_alive "$SYN_PIDFILE" synapse.app.homeserver); then
    kill -TERM "$pid" 2>/dev/null || true
    stopping+=("synapse:$pid")
  fi
  if ((${#stopping[@]})); then
    wait_gone "${stopping[@]}"
  fi
  if [[ -s $PG_OWNED ]]; then
    local ver name
    read -r ver name <"$PG_OWNED"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" stop -m fast >>"$LOG_DIR/postgresql.log" 2>&1 ||
      warn "could not stop PostgreSQL $ver/$name (see $LOG_DIR/postgresql.log)"
    rm -f "$PG_OWNED"
    stopping+=("postgresql:$ver/$name")
  fi
  rm -f "$ENV_FILE" "$STARTED"
  if ((${#stopping[@]})); then
    say "stopped ${stopping[*]%%:*}"
  fi
}

cmd_status() {
  local ok=0 pid
  if pid=$(pid_alive "$SYN_PIDFILE" synapse.app.homeserver) && port_open "$SYNAPSE_PORT"; then
    printf '%-11s up    pid %-7s http://127.0.0.1:%s\n' synapse "$pid" "$SYNAPSE_PORT"
  else
    printf '%-11s down\n' synapse
    ok=1
  fi
  if pid=$(pid_alive "$DOV_PIDFILE" dovecot) && port_open "$IMAP_PORT"; then
    printf '%-11s up    pid %-7s imap 127.0.0.1:%s imaps :%s lmtp :%s\n' dovecot "$pid" "$IMAP_PORT" "$IMAPS_PORT" "$LMTP_PORT"
  else
    printf '%-11s down\n' dovecot
    ok=1
  fi
  if pid=$(pid_alive "$PF_PIDFILE" master) && port_open "$SMTP_PORT"; then
    printf '%-11s up    pid %-7s smtp 127.0.0.1:%s\n' postfix "$pid" "$SMTP_PORT"
  else
    printf '%-11s down\n' postfix
    ok=1
  fi
  if pg_up; then
    local who="not ours"
    [[ -s $PG_OWNED ]] && who="started by stack.sh: $(<"$PG_OWNED")"
    printf '%-11s up    127.0.0.1:%s (%s)\n' postgresql "$PG_PORT" "$who"
  else
    printf '%-11s down\n' postgresql
    ok=1
  fi
  if [[ -s $ENV_FILE ]]; then
    printf '%-11s %s\n' env "$ENV_FILE"
  else
    printf '%-11s missing\n' env
    ok=1
  fi
  exit "$ok"
}

# cmd_stop NAME / cmd_start NAME: one server down and up again, as the outage tests need.
cmd_stop() {
  local pid
  case ${1:-} in
    synapse)
      pid=$(pid_alive "$SYN_PIDFILE" synapse.app.homeserver) && stop_pid synapse "$pid" ;;
    dovecot)
      pid=$(pid_alive "$DOV_PIDFILE" dovecot) && stop_pid dovecot "$pid" ;;
    postfix)
      if pid=$(pid_alive "$PF_PIDFILE" master); then
        postfix -c "$PF_ETC" stop >>"$PF_DIR/postfix.log" 2>&1 || kill -TERM "$pid" 2>/dev/null || true
        wait_gone "postfix:$pid"
      fi ;;
    *) die "stop what? synapse, dovecot or postfix" ;;
  esac
  say "${1} stopped"
}

cmd_start() {
  local i
  case ${1:-} in
    synapse)
      pid_alive "$SYN_PIDFILE" synapse.app.homeserver >/dev/null || { synapse_user; synapse_start; }
      for ((i = 0; i < 600; i++)); do
        curl -fsS -o /dev/null "http://127.0.0.1:$SYNAPSE_PORT/_matrix/client/versions" 2>/dev/null && break
        sleep 0.05
      done ;;
    dovecot)
      pid_alive "$DOV_PIDFILE" dovecot >/dev/null || dovecot_start
      wait_port "$IMAP_PORT" 10 || die "Dovecot does not listen on 127.0.0.1:$IMAP_PORT" ;;
    postfix)
      pid_alive "$PF_PIDFILE" master >/dev/null || postfix_start
      wait_port "$SMTP_PORT" 10 || die "Postfix does not listen on 127.0.0.1:$SMTP_PORT" ;;
    *) die "start what? synapse, dovecot or postfix" ;;
  esac
  say "${1} started"
}

cmd_env() {
  echo "$ENV_FILE"
  [[ -s $ENV_FILE ]] || { echo "stack.sh: $ENV_FILE does not exist; run scripts/stack.sh up" >&2; exit 1; }
}

usage() {
  sed -n '2,/^[^#]/p' "${BASH_SOURCE[0]}" | grep '^#' | sed 's/^# \{0,1\}//'
}

# One up/down/install at a time per stack folder (parallel test runs).
lock_stack() {
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  flock -w 600 9 || die "another stack.sh holds $STACK_DIR/.lock"
}

main() {
  local cmd=${1:-}
  case $cmd in
    up | down | install | stop | start) lock_stack ;;
  esac
  case $cmd in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    install) cmd_install ;;
    stop) cmd_stop "${2:-}" ;;
    start) cmd_start "${2:-}" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

# Run only when executed (sourcing it gives the functions, for debugging).
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
