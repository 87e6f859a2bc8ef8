# Host side shared by the interop harnesses (sstpc-vs-gatehouse.sh, pptp-vs-gatehouse.sh,
# gatehouse-vs-pptpd.sh): namespace + TAP, gateway init/serve, dumpcap, guest runs, summary.
# Sourced (bash) after the harness has set HERE; each harness keeps its own protocol steps.

REPO=$(cd "$HERE/../.." && pwd)

log() { echo "== host: $*"; }

# host_out NAME: results directory (OUT from the environment, or a new /tmp/NAME.XXXXXX, always kept).
host_out() {
  OUT=${OUT:-$(mktemp -d "/tmp/$1.XXXXXX")}
  mkdir -p "$OUT"
}

# Strong random password (the gateway's policy refuses weak ones); a test credential only.
new_password() { PASSWORD="Gh$(head -c 18 /dev/urandom | base64 | tr -d '/+=')9x"; }

# mode_password MODE: the password this mode dials with (badpass: a wrong one).
mode_password() {
  if [[ $1 == badpass ]]; then echo "${PASSWORD}Wrong1"; else echo "$PASSWORD"; fi
}

# stop_pid PID [HALF_SECONDS]: TERM, wait up to HALF_SECONDS/2 s (default 10 s), then KILL.
stop_pid() {
  local p=$1 n=${2:-20}
  [[ -n $p ]] && kill -0 "$p" 2>/dev/null || return 0
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 "$n"); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$p" 2>/dev/null || true
}

# kill_pids PID...: SIGTERM to each non-empty PID, no wait (capture, HTTP server, helpers).
kill_pids() {
  local p
  for p in "$@"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
}

# host_traps: at exit the harness's cleanup() (its own processes), then $NS goes; INT/TERM exit
# 130 through it.
host_cleanup() {
  cleanup
  ip netns del "$NS" 2>/dev/null || true
}
host_traps() {
  trap host_cleanup EXIT
  trap 'exit 130' INT TERM
}

# host_need CMD PACKAGE: exit 1 unless CMD is installed.
host_need() {
  command -v "$1" >/dev/null || { echo "$2 is not installed (apt-get install -y $2)" >&2; exit 1; }
}

# host_ns: a fresh namespace $NS with only loopback up. It gets no default route, so nothing the
# guests send can leave the machine.
host_ns() {
  ip netns del "$NS" 2>/dev/null || true
  ip netns add "$NS"
  ip -n "$NS" link set lo up
}

# host_ns_tap: $NS holding only the TAP the guest's NIC is attached to, with $GW_OUTER/24 on it.
host_ns_tap() {
  host_ns
  ip -n "$NS" tuntap add dev "$TAP" mode tap
  ip -n "$NS" addr add "$GW_OUTER/24" dev "$TAP"
  ip -n "$NS" link set "$TAP" up
}

# gw_init [INIT_ARG...]: `gatehouse init` in $D for $GW_OUTER/$POOL/$TUNNEL_GW, then user alice
# with $PASSWORD. Logs go to $OUT/init.log and $OUT/user.log (printed, and exit 1, on failure).
gw_init() {
  log "gateway directory $D"
  node "$REPO/bin/gatehouse.js" init --dir "$D" --listen "$GW_OUTER" --pool "$POOL" --dns "$TUNNEL_GW" "$@" \
    > "$OUT/init.log" 2>&1 || { cat "$OUT/init.log"; exit 1; }
  printf '%s\n' "$PASSWORD" | node "$REPO/bin/gatehouse.js" user add --dir "$D" alice > "$OUT/user.log" 2>&1 \
    || { cat "$OUT/user.log"; exit 1; }
}

# gw_serve PORT WHAT CMD...: runs CMD (the gateway) in $NS with its log in $OUT/gateway.log, sets
# gw_pid, and waits up to 10 s for a TCP listener on PORT; exit 1 with the log if none. WHAT is
# added to the failure message (e.g. " (PPTP)").
gw_serve() {
  local port=$1 what=$2
  shift 2
  ip netns exec "$NS" "$@" > "$OUT/gateway.log" 2>&1 &
  gw_pid=$!
  for _ in $(seq 1 40); do
    ip netns exec "$NS" ss -Hltn "sport = :$port" | grep -q . && break
    kill -0 "$gw_pid" 2>/dev/null || break
    sleep 0.25
  done
  if ! ip netns exec "$NS" ss -Hltn "sport = :$port" | grep -q .; then
    log "gateway is not listening on $GW_OUTER:$port$what; its log:"
    cat "$OUT/gateway.log"
    exit 1
  fi
  log "gateway listening on $GW_OUTER:$port (pid $gw_pid)"
}

# blob_server: a 2 MiB random file (and its SHA-256) in $OUT/www, served by python3 on the
# gateway's tunnel address $TUNNEL_GW:8080 for the guest to fetch over its PPP link; sets http_pid.
blob_server() {
  mkdir -p "$OUT/www"
  head -c 2097152 /dev/urandom > "$OUT/www/blob"
  sha256sum "$OUT/www/blob" | cut -d' ' -f1 > "$OUT/www/blob.sha256"
  local py
  py=$(command -v /usr/bin/python3 python3 | head -1)
  for _ in $(seq 1 40); do   # the TUN address may appear just after the listener
    ip -n "$NS" -4 -o addr show | grep -q " $TUNNEL_GW/" && break
    sleep 0.25
  done
  ip netns exec "$NS" "$py" -m http.server 8080 --bind "$TUNNEL_GW" --directory "$OUT/www" > "$OUT/http.log" 2>&1 &
  http_pid=$!
}

# cap_start IFACE FILE MODE: dumpcap on IFACE in $NS into FILE (log $OUT/dumpcap-MODE.log); sets
# cap_pid and gives dumpcap a second to start.
cap_start() {
  ip netns exec "$NS" dumpcap -q -i "$1" -w "$2" > "$OUT/dumpcap-$3.log" 2>&1 &
  cap_pid=$!
  sleep 1
}

# cap_stop: ends the capture started by cap_start.
cap_stop() {
  kill "$cap_pid" 2>/dev/null || true
  wait "$cap_pid" 2>/dev/null || true
  cap_pid=
}

# run_guest TIMEOUT TAP GUEST_IP/PREFIX GW_IP CMD...: one QEMU guest (vm/run-guest.sh) on TAP in
# $NS, sharing $OUT at /run/ghvm-share, GHVM_DELAY (default 20ms) on its egress. GHVM_MAC given
# before the call reaches run-guest.sh too.
run_guest() {
  local timeout=$1 tap=$2 guest=$3 gw=$4
  shift 4
  # In a subshell (`run_guest ... &`, or a pipeline) exec, so that $! is run-guest.sh itself and
  # stop_pid's SIGTERM reaches it (its trap tears the guest down) instead of an idle subshell.
  if ((BASH_SUBSHELL)); then
    GHVM_TIMEOUT=$timeout GHVM_DELAY=${GHVM_DELAY:-20ms} GHVM_SHARE=$OUT GHVM_TAP=$tap \
      exec "$HERE/vm/run-guest.sh" "$NS" "$guest" "$gw" "$@"
  fi
  GHVM_TIMEOUT=$timeout GHVM_DELAY=${GHVM_DELAY:-20ms} GHVM_SHARE=$OUT GHVM_TAP=$tap \
    "$HERE/vm/run-guest.sh" "$NS" "$guest" "$gw" "$@"
}

# guest_mode MODE CMD...: runs CMD in a guest on $TAP ($GUEST_OUTER, gateway $GW_OUTER, 300 s at
# most), its console shown and kept in $OUT/guest-MODE.log; sets rc to the guest command's status.
guest_mode() {
  local mode=$1
  shift
  log "mode $mode: booting guest"
  set +e
  run_guest 300 "$TAP" "$GUEST_OUTER/24" "$GW_OUTER" "$@" | tee "$OUT/guest-$mode.log"
  rc=${PIPESTATUS[0]}
  set -e
}

# host_finish MODE...: one summary line per mode from the harness's verdict[MODE], where the
# results are, and exit with the harness's status (0 only when every mode went as expected).
host_finish() {
  local mode
  log "summary:"
  for mode in "$@"; do echo "   $mode: ${verdict[$mode]}"; done
  log "results kept in $OUT"
  exit $status
}
