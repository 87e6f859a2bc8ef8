#!/bin/bash
# Interop: the real Linux PPTP client (pptp-linux 1.10 + pppd 2.4.9 with kernel MPPE, in a QEMU
# guest with a PPP kernel) against our gateway, captured on the wire and decoded by tshark.
# Usage: pptp-vs-gatehouse.sh [MODE...]   MODE: mschapv2, badpass, bulk, stateful, idle, kill, two,
#        nomppe, mppe40, mschapv1 (see guest-pptp.sh); default: mschapv2 badpass kill
# Env: PROTOCOLS (default sstp,pptp: what `gatehouse init --protocols` gets); GHVM_DELAY (default
#      20ms); OUT=DIR keeps results there (default: a new /tmp/gatehouse-pptp-interop.XXXXXX).
# Exit status: 0 when every mode had its expected outcome (connected with MPPE-128 and pinged
# 198.19.8.1 with small and full-MTU packets, disconnected cleanly; for badpass: refused) and tshark
# dissected PPTP, GRE and PPP with nothing malformed, no expert warning and no plaintext IPv4.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MODES=("$@")
((${#MODES[@]})) || MODES=(mschapv2 badpass kill)
# Own namespace, TAP and addresses: never collides with a running SSTP interop (ghvm_gw/ghvm-tap0).
NS=ghvm_pp TAP=ghvm-tap1
GW_OUTER=198.18.8.1 GUEST_OUTER=198.18.8.2 POOL=198.19.8.0/24 TUNNEL_GW=198.19.8.1
OUT=${OUT:-$(mktemp -d /tmp/gatehouse-pptp-interop.XXXXXX)}
mkdir -p "$OUT"
D=$OUT/gw
# Strong random password (the gateway's policy refuses weak ones); a test credential only.
PASSWORD="Gh$(head -c 18 /dev/urandom | base64 | tr -d '/+=')9x"

gw_pid= cap_pid= http_pid= hp_pid=
log() { echo "== host: $*"; }
cleanup() {
  [[ -n $cap_pid ]] && kill "$cap_pid" 2>/dev/null || true
  [[ -n $http_pid ]] && kill "$http_pid" 2>/dev/null || true
  [[ -n $hp_pid ]] && kill "$hp_pid" 2>/dev/null || true
  if [[ -n $gw_pid ]] && kill -0 "$gw_pid" 2>/dev/null; then
    kill -TERM "$gw_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$gw_pid" 2>/dev/null || true
  fi
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v pptp >/dev/null || { echo "pptp-linux is not installed (apt-get install -y pptp-linux)" >&2; exit 1; }
"$HERE/decode-pptp.sh" --selftest || exit 1   # the capture checks must be able to fail
"$HERE/vm/build.sh"

# Outer network: a namespace holding only the TAP the guest's NIC is attached to; no default
# route, so nothing can leave the machine.
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev "$TAP" mode tap
ip -n "$NS" addr add "$GW_OUTER/24" dev "$TAP"
ip -n "$NS" link set "$TAP" up

log "gateway directory $D"
node "$REPO/bin/gatehouse.js" init --dir "$D" --listen "$GW_OUTER" --pool "$POOL" --dns "$TUNNEL_GW" \
  --protocols "${PROTOCOLS:-sstp,pptp}" > "$OUT/init.log" 2>&1 || { cat "$OUT/init.log"; exit 1; }
printf '%s\n' "$PASSWORD" | node "$REPO/bin/gatehouse.js" user add --dir "$D" alice > "$OUT/user.log" 2>&1 \
  || { cat "$OUT/user.log"; exit 1; }
PORT=$(awk '/^pptp:/ { p = 1; next } p && /^ *port:/ { print $2; exit } /^[^ #]/ { p = 0 }' "$D/gatehouse.yaml")
PORT=${PORT:-1723}

log "starting gateway"
ip netns exec "$NS" node "$REPO/bin/gatehouse.js" serve --dir "$D" --log-level debug > "$OUT/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 40); do
  ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q . && break
  kill -0 "$gw_pid" 2>/dev/null || break
  sleep 0.25
done
if ! ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q .; then
  log "gateway is not listening on $GW_OUTER:$PORT (PPTP); its log:"
  cat "$OUT/gateway.log"
  exit 1
fi
log "gateway listening on $GW_OUTER:$PORT (pid $gw_pid)"
# PPTP data is GRE (IP protocol 47) on a raw socket: list what the gateway holds open.
ip netns exec "$NS" ss -Hwanp 2>/dev/null | sed 's/^/   raw: /' || true

# A 2 MiB random file served on the gateway's tunnel address, fetched by the guest over ppp0.
mkdir -p "$OUT/www"
head -c 2097152 /dev/urandom > "$OUT/www/blob"
sha256sum "$OUT/www/blob" | cut -d' ' -f1 > "$OUT/www/blob.sha256"
PY=$(command -v /usr/bin/python3 python3 | head -1)
for _ in $(seq 1 40); do   # the TUN address may appear just after the listener
  ip -n "$NS" -4 -o addr show | grep -q " $TUNNEL_GW/" && break
  sleep 0.25
done
ip netns exec "$NS" "$PY" -m http.server 8080 --bind "$TUNNEL_GW" --directory "$OUT/www" > "$OUT/http.log" 2>&1 &
http_pid=$!

# Gateway -> client at full size: once this mode's session is up (the gateway logs the client's
# address), ping that address from the namespace with the gateway TUN's MTU and DF set, then tell
# the guest (it waits for host-done-MODE before disconnecting).
TUN_DEV=$(ip -n "$NS" -4 -o addr show | awk -v a="$TUNNEL_GW/" 'index($4, a) == 1 { print $2; exit }')
TUN_MTU=$(ip netns exec "$NS" cat "/sys/class/net/$TUN_DEV/mtu" 2>/dev/null || echo 0)
log "gateway TUN $TUN_DEV, MTU $TUN_MTU"
host_ping() {
  local mode=$1 from=$2 addr= small=fail big=fail
  for _ in $(seq 1 120); do
    addr=$(tail -n +"$from" "$OUT/gateway.log" | sed -n 's/.*session up .*address=\([0-9.]*\).*/\1/p' | tail -1)
    [[ -n $addr ]] && break
    sleep 0.5
  done
  if [[ -z $addr ]]; then echo "no session up" > "$OUT/host-done-$mode"; return; fi
  sleep 1
  {
    echo "== host: pinging the client at $addr from the gateway namespace"
    ip netns exec "$NS" ping -c 3 -W 5 "$addr" && small=ok
    echo "== host: full-size ping ($TUN_MTU-byte IP packets, DF set)"
    ip netns exec "$NS" ping -c 2 -W 5 -s $((TUN_MTU - 28)) -M do "$addr" && big=ok
  } > "$OUT/hostping-$mode.txt" 2>&1
  echo "client=$addr small=$small big=$big mtu=$TUN_MTU" > "$OUT/host-done-$mode"
}

declare -A verdict
status=0
for mode in "${MODES[@]}"; do
  cap=$OUT/pptp-$mode.pcapng
  ip netns exec "$NS" dumpcap -q -i "$TAP" -w "$cap" > "$OUT/dumpcap-$mode.log" 2>&1 &
  cap_pid=$!
  sleep 1
  pw=$PASSWORD
  [[ $mode == badpass ]] && pw="${PASSWORD}Wrong1"
  gwlines=$(wc -l < "$OUT/gateway.log")
  rm -f "$OUT/host-done-$mode"
  hp_pid= guestenv=()
  if [[ $mode != badpass && $mode != nomppe && $mode != mppe40 && $mode != mschapv1 ]]; then
    host_ping "$mode" "$((gwlines + 1))" &
    hp_pid=$!
    guestenv=(/usr/bin/env HOSTPING=1)
  fi
  log "mode $mode: booting guest"
  set +e
  GHVM_TIMEOUT=300 GHVM_DELAY=${GHVM_DELAY:-20ms} GHVM_SHARE=$OUT GHVM_TAP=$TAP "$HERE/vm/run-guest.sh" "$NS" "$GUEST_OUTER/24" "$GW_OUTER" \
    "${guestenv[@]}" /bin/sh "$HERE/guest-pptp.sh" "$mode" "$GW_OUTER" alice "$pw" "$TUNNEL_GW" /run/ghvm-share \
    | tee "$OUT/guest-$mode.log"
  rc=${PIPESTATUS[0]}
  set -e
  sleep 2   # the gateway's Stop-Control-Connection-Reply / last GRE ack
  kill "$cap_pid" 2>/dev/null || true
  wait "$cap_pid" 2>/dev/null || true
  cap_pid=
  if [[ $mode == kill ]]; then
    # The client vanished without a word: the gateway must notice (TCP close of the control
    # connection) and end the session, with its record, within a few seconds.
    for _ in $(seq 1 30); do
      tail -n +"$((gwlines + 1))" "$OUT/gateway.log" | grep -q 'session closed' && break
      sleep 1
    done
  fi
  tail -n +"$((gwlines + 1))" "$OUT/gateway.log" > "$OUT/gateway-$mode.log"
  log "mode $mode: guest exit status $rc; gateway log for this mode:"
  sed 's/^/   gw: /' "$OUT/gateway-$mode.log" | tail -n 60
  v=ok
  ((rc == 0)) || { v="guest:rc=$rc"; status=1; }
  if [[ -n $hp_pid ]]; then
    wait "$hp_pid" 2>/dev/null || true
    cat "$OUT/hostping-$mode.txt" 2>/dev/null || true
    hp=$(cat "$OUT/host-done-$mode" 2>/dev/null || echo 'no result')
    log "mode $mode: host -> client pings: $hp"
    [[ $hp == *small=ok\ big=ok* ]] || { v="$v,hostping:fail"; status=1; }
    v="$v hostping($hp)"
  fi
  if [[ $mode == kill ]]; then
    if grep -q 'session closed' "$OUT/gateway-$mode.log"; then
      log "mode kill: gateway ended the session: $(grep -m1 'session closed' "$OUT/gateway-$mode.log")"
    else
      log "mode kill: the gateway did not end the session within 30 s"; v="$v,gateway:session-left"; status=1
    fi
    ip netns exec "$NS" node "$REPO/bin/gatehouse.js" sessions --dir "$D" > "$OUT/sessions-$mode.txt" 2>&1 || true
    sed 's/^/   sessions: /' "$OUT/sessions-$mode.txt"
  fi
  case $mode in
    nomppe|mppe40|mschapv1)
      closed=$(grep -m1 'session closed' "$OUT/gateway-$mode.log" || true)
      log "mode $mode: gateway: ${closed:-no session closed line}"
      [[ -n $closed ]] || { v="$v,gateway:no-close"; status=1; }
      v="$v gw(${closed#*session closed })" ;;
  esac
  expect=mppe
  [[ $mode == badpass ]] && expect=none
  if ! "$HERE/decode-pptp.sh" "$cap" "$OUT/decode-$mode" "$expect" | tee "$OUT/decode-$mode.txt"; then
    v="$v,decode:problems"; status=1
  fi
  verdict[$mode]="$v $(grep -m1 '^RESULT' "$OUT/guest-$mode.log" || echo 'RESULT none')"
done

log "summary:"
for mode in "${MODES[@]}"; do echo "   $mode: ${verdict[$mode]}"; done
log "results kept in $OUT"
exit $status
