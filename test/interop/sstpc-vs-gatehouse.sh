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
. "$HERE/lib-host.sh"
MODES=("$@")
((${#MODES[@]})) || MODES=(mschapv2 eap badpass)
NS=ghvm_gw TAP=ghvm-tap0
GW_OUTER=198.18.7.1 GUEST_OUTER=198.18.7.2 POOL=198.19.7.0/24 TUNNEL_GW=198.19.7.1
host_out gatehouse-interop
D=$OUT/gw KEYLOG=$OUT/tls-keys.log
new_password

gw_pid= cap_pid= http_pid=
cleanup() {
  kill_pids "$cap_pid" "$http_pid"
  stop_pid "$gw_pid" 10
}
host_traps

"$HERE/vm/build.sh"
host_ns_tap

gw_init
cp "$D/ca.pem" "$OUT/ca.pem"
PORT=$(sed -n 's/^ *port: *\([0-9]*\).*/\1/p' "$D/gatehouse.yaml" 2>/dev/null | head -1)
PORT=${PORT:-443}

log "starting gateway (TLS key log $KEYLOG)"
gw_serve "$PORT" "" "$HERE/gatehouse-keylog.sh" "$KEYLOG" serve --dir "$D" --log-level debug

# A 2 MiB random file served on the gateway's tunnel address, fetched by the guest over ppp0.
blob_server

status=0
for mode in "${MODES[@]}"; do
  cap=$OUT/sstp-$mode.pcapng
  cap_start "$TAP" "$cap" "$mode"
  guest_mode "$mode" /bin/sh "$HERE/guest-sstpc.sh" "$mode" "$GW_OUTER" alice "$(mode_password "$mode")" \
    /run/ghvm-share/ca.pem "$TUNNEL_GW" /run/ghvm-share ${SSTPC_OPTS:-}
  sleep 1
  cap_stop
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
