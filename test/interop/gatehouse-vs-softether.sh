#!/usr/bin/env bash
# Our L2TP/IPsec client (`gatehouse connect l2tp://… --psk-file`) against SoftEther VPN Server 5.01 (Debian's
# softether-vpnserver, nobody here wrote it): IKEv1 main mode PSK + quick mode transport (RFC 2409), ESP
# (RFC 4303, NAT-T RFC 3947/3948), L2TP (RFC 2661), PPP with MS-CHAPv2, an address from SoftEther's DHCP range.
# Not part of npm test (root, namespaces, a real server). Every packet of each run is captured on the client's
# veth and decoded by tshark with the client's own key log (GATEHOUSE_ESP_KEYLOG, esp-keylog.mjs).
#
# Usage: test/interop/gatehouse-vs-softether.sh [MODE...]     (root; default: psk nat badpsk bulk)
#   psk     direct topology; connect, address in 198.19.50.10-99, pings to 198.19.50.1, disconnect
#   nat     the client behind a NAT namespace (nftables masquerade fully-random); same checks
#   badpsk  wrong pre-shared key: the client fails with a message naming the key, no ESP leaves it
#   bulk    direct; 300 full-size pings to 198.19.50.1 and a 4 MiB HTTP download through SoftEther's SecureNAT
#           (from a server on 198.19.51.1 in SoftEther's namespace), SHA-256 checked
# What SoftEther 5.01.9674 does, and what it took (details in the tests named):
#   - IKE: it answers with ID_IPV4_ADDR 0.0.0.0 and NAT-D hashes of 0.0.0.0:500 (itself) and a random value (us:
#     "Randomize in order to be forced to use NAT"), so every client floats to 4500 and ESP is always UDP-encapsulated
#     (RFC 3947/3948), even with no NAT; it picks AES-CBC-256/SHA2-256/MODP2048 from our main mode 1 and
#     AES-CBC-256/HMAC-SHA1-96 for ESP. Our initiator already handled all of it (test/ike/v1-softether.test.ts).
#   - PPP: it asks for EAP first. Acking EAP led to EAP-TLS, our Nak toward EAP-MS-CHAPv2 made it Protocol-Reject
#     EAP and ask for MS-CHAPv2 in LCP, and then stall (its AuthProtocol stays EAP). It leaves EAP cleanly only on an
#     LCP Nak, so our client Naks EAP once toward MS-CHAPv2 (src/ppp/lcp/lcp.ts; test/ppp/session-softether.test.ts
#     replays its frames). It also Configure-Rejects Magic-Number, Protocol-Rejects CCP and rejects IPCP secondary
#     DNS and NBNS, all handled.
#   - Disconnect: our IKE DELETE used to be lost (the process exited before the carrier's grace-time close); the dial
#     now DELETEs when the call ends. SoftEther answers with its own DELETEs.
# Results stay in $OUT (default /tmp/gatehouse-vs-softether.XXXXXX): captures, KEY LOGS (secret: they decrypt the
# captures; delete the directory after use), client logs, SoftEther's state and logs, tshark decodes.
#
# Topology (namespaces ghse_*, only veths between them, no default route anywhere):
#   direct: ghse_cli [gse-c0 198.18.0.2/24] <==> [gse-s0 198.18.0.1/24] ghse_srv (SoftEther; lo 198.19.51.1)
#   nat:    ghse_cli [gse-c0 198.18.100.2/24] <==> [gse-l0 .100.1] ghse_nat [gse-w0 198.18.0.254] <==> [gse-s0 198.18.0.1]
# SoftEther (l2tp-ipsec-softether.sh, sourced): PSK pllabpsk1, hub LAB, alice / alice-pass-123, SecureNAT
# virtual host 198.19.50.1 with DHCP 198.19.50.10-99 and its user-mode NAT on.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib-host.sh"          # log, stop_pid, host_need, REPO
source "$HERE/l2tp-ipsec-softether.sh"   # se_start / se_stop (SoftEther in $NS with state under $OUT)
source "$HERE/esp-keylog-decode.sh" # keylog_decode

MODES=("$@")
((${#MODES[@]})) || MODES=(psk nat badpsk bulk)
for m in "${MODES[@]}"; do
  case $m in psk | nat | badpsk | bulk) ;; *) echo "unknown mode $m (psk nat badpsk bulk)" >&2; exit 2 ;; esac
done
[[ $(id -u) == 0 ]] || { echo "run as root (namespaces, TUN)" >&2; exit 1; }
host_need dumpcap tshark
host_need tshark tshark
host_need nft nftables
[[ -x $SE_BIN ]] || { echo "SoftEther is not installed (apt-get install -y softether-vpnserver)" >&2; exit 1; }
[[ -f $REPO/dist/src/cli/main.js ]] || { echo "build first: cd $REPO && npx tsc -p ." >&2; exit 1; }

OUT=${OUT:-$(mktemp -d /tmp/gatehouse-vs-softether.XXXXXX)}
mkdir -p "$OUT"
chmod 700 "$OUT"   # key logs live here
CLI=ghse_cli SRV=ghse_srv NATNS=ghse_nat
NS=$SRV
BLOB_IP=198.19.51.1
declare -A verdict
status=0
cap_pid= gh_pid= http_pid= se_pid=

cleanup() {
  kill_pids "$cap_pid" "$http_pid"
  stop_pid "$gh_pid" 10
  [[ -n $se_pid ]] && se_stop
  for n in $CLI $NATNS $SRV; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "/etc/netns/$CLI"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- topology
mkns() { ip netns del "$1" 2>/dev/null || true; ip netns add "$1"; ip -n "$1" link set lo up; }

server_ns() {
  mkns $SRV
  ip -n $SRV addr add $BLOB_IP/32 dev lo
}

# client_topology direct|nat: a fresh client side (and NAT) wired to the server namespace.
client_topology() {
  ip netns del $CLI 2>/dev/null || true
  ip netns del $NATNS 2>/dev/null || true
  ip -n $SRV link del gse-s0 2>/dev/null || true
  mkns $CLI
  # `ip netns exec` bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf: the client's DNS change
  # (RFC 1877 servers from IPCP) stays inside the namespace instead of rewriting the host's file.
  mkdir -p "/etc/netns/$CLI"
  echo 'nameserver 127.0.0.1' > "/etc/netns/$CLI/resolv.conf"
  if [[ $1 == direct ]]; then
    ip link add gse-c0 netns $CLI type veth peer name gse-s0 netns $SRV
    ip -n $CLI addr add 198.18.0.2/24 dev gse-c0
  else
    mkns $NATNS
    ip link add gse-c0 netns $CLI type veth peer name gse-l0 netns $NATNS
    ip link add gse-w0 netns $NATNS type veth peer name gse-s0 netns $SRV
    ip -n $CLI addr add 198.18.100.2/24 dev gse-c0
    ip -n $NATNS addr add 198.18.100.1/24 dev gse-l0
    ip -n $NATNS addr add 198.18.0.254/24 dev gse-w0
    ip -n $NATNS link set gse-l0 up
    ip -n $NATNS link set gse-w0 up
    ip netns exec $NATNS sysctl -qw net.ipv4.ip_forward=1
    ip netns exec $NATNS nft -f - <<EOF
table ip ghsenat {
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "gse-w0" masquerade fully-random
  }
}
EOF
  fi
  ip -n $SRV addr add 198.18.0.1/24 dev gse-s0 2>/dev/null || true
  ip -n $CLI link set gse-c0 up
  ip -n $SRV link set gse-s0 up
  [[ $1 == nat ]] && ip -n $CLI route add 198.18.0.0/24 via 198.18.100.1
  ip netns exec $CLI ping -c1 -W2 198.18.0.1 > /dev/null || { log "topology $1: 198.18.0.1 unreachable"; return 1; }
}

# ---------------------------------------------------------------- one mode
# run_mode MODE: topology, capture, connect, checks, disconnect, decode; sets verdict[MODE].
run_mode() {
  local mode=$1 topo=direct psk=$OUT/psk ok=1 why=
  [[ $mode == nat ]] && topo=nat
  [[ $mode == badpsk ]] && psk=$OUT/psk-wrong
  client_topology $topo
  local cap=$OUT/$mode.pcap keys=$OUT/$mode-keys.log clog=$OUT/$mode-client.log
  rm -f "$keys"
  ip netns exec $CLI dumpcap -q -i gse-c0 -w "$cap" > "$OUT/dumpcap-$mode.log" 2>&1 &
  cap_pid=$!
  sleep 1
  log "mode $mode ($topo): gatehouse connect l2tp://198.18.0.1 --user alice --psk-file $(basename "$psk")"
  printf '%s\n' "$SE_PASS" | GATEHOUSE_ESP_KEYLOG=$keys ip netns exec $CLI \
    node "$REPO/bin/gatehouse.js" connect l2tp://198.18.0.1 --user "$SE_USER" --psk-file "$psk" > "$clog" 2>&1 &
  gh_pid=$!
  local addr= t
  for t in $(seq 1 120); do   # 30 s
    addr=$(ip -n $CLI -4 -o addr show dev tun0 2>/dev/null | awk '{print $4}' | cut -d/ -f1 || true)
    [[ -n $addr ]] && break
    kill -0 "$gh_pid" 2>/dev/null || break
    sleep 0.25
  done
  if [[ $mode == badpsk ]]; then
    local rc=0
    wait "$gh_pid" || rc=$?
    gh_pid=
    if [[ -n $addr ]]; then ok=0 why="connected with a wrong key"
    elif ((rc == 0)); then ok=0 why="client exited 0"
    elif ! grep -qi 'pre-shared key' "$clog"; then ok=0 why="failure message does not name the pre-shared key"
    fi
    log "badpsk: client exit $rc; last line: $(tail -1 "$clog")"
  elif [[ -z $addr ]]; then
    ok=0 why="no address on tun0"
  else
    local last=${addr##*.}
    log "mode $mode: tun0 $addr"
    if [[ $addr != 198.19.50.* ]] || ((last < 10 || last > 99)); then ok=0 why="address $addr not from SoftEther's DHCP range"; fi
    if ip netns exec $CLI ping -c 5 -i 0.3 -W 3 198.19.50.1 > "$OUT/$mode-ping.log" 2>&1; then
      log "mode $mode: ping 198.19.50.1: $(grep -o '[0-9]* received' "$OUT/$mode-ping.log")"
    else ok=0 why="${why:+$why; }ping 198.19.50.1 failed"; fi
    if [[ $mode == bulk ]]; then bulk_checks || { ok=0 why="${why:+$why; }$bulk_why"; }; fi
    # SIGTERM: LCP Terminate, L2TP CDN/StopCCN, IKE DELETE, then exit 0 (by PID, ours).
    kill -TERM "$gh_pid"
    local rc=0
    for t in $(seq 1 40); do kill -0 "$gh_pid" 2>/dev/null || break; sleep 0.25; done
    wait "$gh_pid" || rc=$?
    gh_pid=
    grep -q 'disconnected' "$clog" || { ok=0 why="${why:+$why; }no clean disconnect (exit $rc)"; }
  fi
  sleep 0.5
  kill_pids "$cap_pid"; wait "$cap_pid" 2>/dev/null || true; cap_pid=
  sed 's/^/     client: /' "$clog" | grep -v '^     client: address ' | head -20 || true
  if ! keylog_decode "$cap" "$keys" "$OUT/$mode" "$mode"; then ok=0 why="${why:+$why; }decode: $decode_problem"; fi
  if ((ok)); then verdict[$mode]="PASS ($decode_summary)"; else verdict[$mode]="FAIL: $why"; status=1; fi
}

bulk_why=
bulk_checks() {
  bulk_why=
  # 300 pings of the tunnel's full MTU (PPP MRU 1384 minus IP/ICMP headers), DF set, paced 10 ms.
  if ip netns exec $CLI ping -c 300 -i 0.01 -s 1356 -M do -W 3 -q 198.19.50.1 > "$OUT/bulk-ping.log" 2>&1; then
    log "bulk: $(grep -E 'packets transmitted' "$OUT/bulk-ping.log")"
  else
    bulk_why="full-size pings: $(grep -E 'packets transmitted' "$OUT/bulk-ping.log" || tail -1 "$OUT/bulk-ping.log")"
    return 1
  fi
  # 4 MiB over TCP through SecureNAT's user-mode NAT to the server namespace's 198.19.51.1:8080.
  if ! ip netns exec $CLI timeout 60 curl -sS -o "$OUT/blob.got" "http://$BLOB_IP:8080/blob" 2> "$OUT/bulk-curl.log"; then
    bulk_why="download failed: $(head -c 200 "$OUT/bulk-curl.log")"
    return 1
  fi
  local want got
  want=$(cat "$OUT/www/blob.sha256"); got=$(sha256sum "$OUT/blob.got" | cut -d' ' -f1)
  [[ $want == "$got" ]] || { bulk_why="download SHA-256 mismatch"; return 1; }
  log "bulk: 4 MiB download through the tunnel, SHA-256 ok"
}

# ---------------------------------------------------------------- main
log "results in $OUT"
printf 'pllabpsk1\n' > "$OUT/psk"
printf 'not-the-key-9\n' > "$OUT/psk-wrong"
chmod 600 "$OUT/psk" "$OUT/psk-wrong"
server_ns
rm -rf "$OUT/softether"   # a fresh server: se_start sets the admin password of a new configuration
set +e
se_start
rc=$?
set -e
((rc == 0)) || { log "SoftEther did not start"; exit 1; }
if [[ " ${MODES[*]} " == *" bulk "* ]]; then
  host_need curl curl
  mkdir -p "$OUT/www"
  head -c 4194304 /dev/urandom > "$OUT/www/blob"
  sha256sum "$OUT/www/blob" | cut -d' ' -f1 > "$OUT/www/blob.sha256"
  ip netns exec $SRV python3 -m http.server 8080 --bind $BLOB_IP --directory "$OUT/www" > "$OUT/http.log" 2>&1 &
  http_pid=$!
fi
for m in "${MODES[@]}"; do run_mode "$m"; done
log "summary:"
for m in "${MODES[@]}"; do echo "   $m: ${verdict[$m]}"; done
log "results kept in $OUT (key logs inside are secret: delete the directory after use)"
exit $status
