#!/bin/bash
# Interop: the real Linux L2TP client (xl2tpd 1.3 as LAC + pppd with kernel MPPE, in the QEMU guest)
# against our gateway serving plain L2TP (l2tp.allowWithoutIpsec: no IPsec yet), captured on the
# wire and checked by tshark.
# Usage: l2tp-vs-gatehouse.sh [MODE...]   MODE: mschapv2, badpass, bulk (see guest-xl2tpd.sh);
#        default: mschapv2 badpass
# Env: GHVM_DELAY (default 20ms); OUT=DIR keeps results there (default a new /tmp/gatehouse-l2tp-interop.XXXXXX).
# Exit status: 0 when every mode had its expected outcome and tshark dissected L2TP and PPP with
# nothing malformed.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-host.sh"
MODES=("$@")
((${#MODES[@]})) || MODES=(mschapv2 badpass)
NS=ghvm_l2 TAP=ghvm-tap5
GW_OUTER=198.18.11.1 GUEST_OUTER=198.18.11.2 POOL=198.19.11.0/24 TUNNEL_GW=198.19.11.1
host_out gatehouse-l2tp-interop
D=$OUT/gw
new_password

gw_pid= cap_pid= http_pid=
cleanup() {
  kill_pids "$cap_pid" "$http_pid"
  stop_pid "$gw_pid" 10
}
host_traps

host_need xl2tpd xl2tpd
host_need tshark tshark
"$HERE/vm/build.sh"
host_ns_tap

# `init` refuses l2tp while IPsec is missing: plain L2TP is switched on by hand, as an operator must.
gw_init --protocols sstp
sed -i -e 's/^protocols: .*/protocols: ["sstp", "l2tp"]/' -e 's/allowWithoutIpsec: false/allowWithoutIpsec: true/' "$D/gatehouse.yaml"

log "starting gateway"
gw_serve 443 " (SSTP; L2TP is UDP 1701)" node "$REPO/bin/gatehouse.js" serve --dir "$D" --log-level debug
for _ in $(seq 1 20); do ip netns exec "$NS" ss -Hlun "sport = :1701" | grep -q . && break; sleep 0.25; done
ip netns exec "$NS" ss -Hlun "sport = :1701" | grep -q . || { log "nothing on UDP 1701"; cat "$OUT/gateway.log"; exit 1; }
grep -q 'Plain L2TP (without IPsec) is enabled' "$OUT/gateway.log" || { log "the gateway did not warn about plain L2TP"; exit 1; }
blob_server

declare -A verdict
status=0
for mode in "${MODES[@]}"; do
  cap=$OUT/l2tp-$mode.pcapng
  cap_start "$TAP" "$cap" "$mode"
  gwlines=$(wc -l < "$OUT/gateway.log")
  guest_mode "$mode" /bin/sh "$HERE/guest-xl2tpd.sh" "$mode" "$GW_OUTER" alice "$(mode_password "$mode")" "$TUNNEL_GW" /run/ghvm-share
  sleep 2
  cap_stop
  tail -n +"$((gwlines + 1))" "$OUT/gateway.log" > "$OUT/gateway-$mode.log"
  log "mode $mode: guest exit status $rc; gateway log for this mode:"
  sed 's/^/   gw: /' "$OUT/gateway-$mode.log" | tail -n 40
  v=ok
  ((rc == 0)) || { v="guest:rc=$rc"; status=1; }
  # tshark: L2TP control and data on UDP 1701 (and the PPP inside) dissect without malformed fields.
  n_l2tp=$(tshark -r "$cap" -Y l2tp 2>/dev/null | wc -l)
  n_bad=$(tshark -r "$cap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | wc -l)
  n_clear=$(tshark -r "$cap" -Y 'l2tp && ppp && ip.src == 198.19.11.0/24' 2>/dev/null | wc -l)
  tshark -r "$cap" -Y 'l2tp.type == 1' -T fields -e frame.number -e ip.src -e l2tp.avp.message_type 2>/dev/null > "$OUT/decode-$mode.txt" || true
  log "mode $mode: tshark: $n_l2tp L2TP packets, $n_bad malformed/error, $n_clear inner IPv4 in clear"
  ((n_l2tp > 0)) || { v="$v,decode:no-l2tp"; status=1; }
  ((n_bad == 0)) || { v="$v,decode:malformed"; status=1; }
  ((n_clear == 0)) || { v="$v,decode:cleartext-ip"; status=1; }
  verdict[$mode]="$v $(grep -m1 '^RESULT' "$OUT/guest-$mode.log" || echo 'RESULT none')"
done

host_finish "${MODES[@]}"
