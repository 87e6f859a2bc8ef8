#!/bin/bash
# Interop: the real Linux SSTP client (sstp-client + pppd, in a QEMU guest with a PPP kernel)
# against our gateway, captured on the wire and decoded by tshark with the gateway's TLS key log.
# Usage: sstpc-vs-gatehouse.sh [MODE...]   MODE: mschapv2, eap, badpass, idle, bulk, ipv6cp (see
#        guest-sstpc.sh); default: mschapv2 eap badpass
# Env: SSTPC_OPTS="--cert-warn ..." adds sstpc options; GHVM_DELAY (default 20ms, see README);
#      OUT=DIR keeps results there (default: a new /tmp/gatehouse-interop.XXXXXX, always kept).
# Exit status: 0 when every mode had its expected outcome (connected and pinged 198.19.7.1, or for
# badpass: refused), tshark found nothing malformed and dissected every SSTP packet, and
# sstp-stream-check.mjs found every record and packet well-formed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
MODES=("$@")
((${#MODES[@]})) || MODES=(mschapv2 eap badpass)
NS=ghvm_gw TAP=ghvm-tap0
GW_OUTER=198.18.7.1 GUEST_OUTER=198.18.7.2 POOL=198.19.7.0/24 TUNNEL_GW=198.19.7.1
OUT=${OUT:-$(mktemp -d /tmp/gatehouse-interop.XXXXXX)}
mkdir -p "$OUT"
D=$OUT/gw KEYLOG=$OUT/tls-keys.log
# Strong random password (the gateway's policy refuses weak ones); a test credential only.
PASSWORD="Gh$(head -c 18 /dev/urandom | base64 | tr -d '/+=')9x"

gw_pid= cap_pid= http_pid=
log() { echo "== host: $*"; }
cleanup() {
  [[ -n $cap_pid ]] && kill "$cap_pid" 2>/dev/null || true
  [[ -n $http_pid ]] && kill "$http_pid" 2>/dev/null || true
  if [[ -n $gw_pid ]] && kill -0 "$gw_pid" 2>/dev/null; then
    kill -TERM "$gw_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$gw_pid" 2>/dev/null || true
  fi
  ip netns del "$NS" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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
node "$REPO/bin/gatehouse.js" init --dir "$D" --listen "$GW_OUTER" --pool "$POOL" --dns "$TUNNEL_GW" > "$OUT/init.log" 2>&1 \
  || { cat "$OUT/init.log"; exit 1; }
printf '%s\n' "$PASSWORD" | node "$REPO/bin/gatehouse.js" user add --dir "$D" alice > "$OUT/user.log" 2>&1 \
  || { cat "$OUT/user.log"; exit 1; }
cp "$D/ca.pem" "$OUT/ca.pem"
PORT=$(sed -n 's/^ *port: *\([0-9]*\).*/\1/p' "$D/gatehouse.yaml" 2>/dev/null | head -1)
PORT=${PORT:-443}

log "starting gateway (TLS key log $KEYLOG)"
ip netns exec "$NS" "$HERE/gatehouse-keylog.sh" "$KEYLOG" serve --dir "$D" --log-level debug > "$OUT/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 40); do
  ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q . && break
  kill -0 "$gw_pid" 2>/dev/null || break
  sleep 0.25
done
if ! ip netns exec "$NS" ss -Hltn "sport = :$PORT" | grep -q .; then
  log "gateway is not listening on $GW_OUTER:$PORT; its log:"
  cat "$OUT/gateway.log"
  exit 1
fi
log "gateway listening on $GW_OUTER:$PORT (pid $gw_pid)"

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

status=0
for mode in "${MODES[@]}"; do
  cap=$OUT/sstp-$mode.pcapng
  ip netns exec "$NS" dumpcap -q -i "$TAP" -w "$cap" > "$OUT/dumpcap-$mode.log" 2>&1 &
  cap_pid=$!
  sleep 1
  pw=$PASSWORD
  [[ $mode == badpass ]] && pw="${PASSWORD}Wrong1"
  log "mode $mode: booting guest"
  set +e
  GHVM_TIMEOUT=300 GHVM_DELAY=${GHVM_DELAY:-20ms} GHVM_SHARE=$OUT GHVM_TAP=$TAP "$HERE/vm/run-guest.sh" "$NS" "$GUEST_OUTER/24" "$GW_OUTER" \
    /bin/sh "$HERE/guest-sstpc.sh" "$mode" "$GW_OUTER" alice "$pw" /run/ghvm-share/ca.pem "$TUNNEL_GW" /run/ghvm-share ${SSTPC_OPTS:-} \
    | tee "$OUT/guest-$mode.log"
  rc=${PIPESTATUS[0]}
  set -e
  sleep 1
  kill "$cap_pid" 2>/dev/null || true
  wait "$cap_pid" 2>/dev/null || true
  cap_pid=
  log "mode $mode: guest exit status $rc"
  ((rc == 0)) || status=1
  if ! "$HERE/decode-capture.sh" "$cap" "$KEYLOG" "$OUT/decode-$mode"; then status=1; fi
  # Second opinion that does not depend on Wireshark's TLS/SSTP reassembly.
  log "mode $mode: independent stream check (sstp-stream-check.mjs)"
  if ! node "$HERE/sstp-stream-check.mjs" "$cap" "$KEYLOG" | tee "$OUT/streamcheck-$mode.txt"; then status=1; fi
  # tshark must have dissected every SSTP packet the independent check found, not just most.
  seen=$(cat "$OUT/decode-$mode.sstp-packets" 2>/dev/null || echo 0)
  real=$(sed -n 's/.* \([0-9]*\) SSTP packets.*/\1/p' "$OUT/streamcheck-$mode.txt" | awk '{s += $1} END {print s + 0}')
  if ((seen == real)); then
    log "mode $mode: tshark dissected all $real SSTP packets"
  else
    log "mode $mode: tshark dissected $seen of $real SSTP packets"
    status=1
  fi
done

log "gateway log (last 80 lines of $OUT/gateway.log):"
tail -n 80 "$OUT/gateway.log"
log "results kept in $OUT"
exit $status
