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
. "$HERE/lib-host.sh"
MODES=("$@")
((${#MODES[@]})) || MODES=(mschapv2 badpass kill)
# Own namespace, TAP and addresses: never collides with a running SSTP interop (ghvm_gw/ghvm-tap0).
NS=ghvm_pp TAP=ghvm-tap1
GW_OUTER=198.18.8.1 GUEST_OUTER=198.18.8.2 POOL=198.19.8.0/24 TUNNEL_GW=198.19.8.1
host_out gatehouse-pptp-interop
D=$OUT/gw
new_password

gw_pid= cap_pid= http_pid= hp_pid=
cleanup() {
  kill_pids "$cap_pid" "$http_pid" "$hp_pid"
  stop_pid "$gw_pid" 10
}
host_traps

host_need pptp pptp-linux
"$HERE/decode-pptp.sh" --selftest || exit 1   # the capture checks must be able to fail
"$HERE/vm/build.sh"
host_ns_tap

gw_init --protocols "${PROTOCOLS:-sstp,pptp}"
PORT=$(awk '/^pptp:/ { p = 1; next } p && /^ *port:/ { print $2; exit } /^[^ #]/ { p = 0 }' "$D/gatehouse.yaml")
PORT=${PORT:-1723}

log "starting gateway"
gw_serve "$PORT" " (PPTP)" node "$REPO/bin/gatehouse.js" serve --dir "$D" --log-level debug
# PPTP data is GRE (IP protocol 47) on a raw socket: list what the gateway holds open.
ip netns exec "$NS" ss -Hwanp 2>/dev/null | sed 's/^/   raw: /' || true

# A 2 MiB random file served on the gateway's tunnel address, fetched by the guest over ppp0.
blob_server

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
  cap_start "$TAP" "$cap" "$mode"
  gwlines=$(wc -l < "$OUT/gateway.log")
  rm -f "$OUT/host-done-$mode"
  hp_pid= guestenv=()
  if [[ $mode != badpass && $mode != nomppe && $mode != mppe40 && $mode != mschapv1 ]]; then
    host_ping "$mode" "$((gwlines + 1))" &
    hp_pid=$!
    guestenv=(/usr/bin/env HOSTPING=1)
  fi
  guest_mode "$mode" "${guestenv[@]}" /bin/sh "$HERE/guest-pptp.sh" "$mode" "$GW_OUTER" alice "$(mode_password "$mode")" \
    "$TUNNEL_GW" /run/ghvm-share
  sleep 2   # the gateway's Stop-Control-Connection-Reply / last GRE ack
  cap_stop
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

host_finish "${MODES[@]}"
