#!/usr/bin/env bash
# ipsec-site-vs-strongswan.sh — IPsec site-to-site (issue 4 §6) between a Gatehouse gateway and strongSwan 5.9
# (charon + swanctl, userspace ESP kernel-libipsec, ../shared/lab): IKEv1 main mode, tunnel-mode ESP for
# 198.19.2.0/24 (Gatehouse side, lo 198.19.2.1) <=> 198.19.1.0/24 (strongSwan side, lo 198.19.1.1).
# Not part of npm test (needs root, strongSwan and the lab scripts).
#
# Usage: sudo test/interop/ipsec-site-vs-strongswan.sh [SCENARIO...]     (default: all ten)
#   SCENARIO = [nat-]{psk|cert}-{we|ss}-init
#     psk|cert   phase 1 authentication: this tunnel's pre-shared key, or certificates (each side trusts the
#                other's CA; Gatehouse pins strongSwan's DN with peerId, strongSwan pins Gatehouse's DN)
#     we|ss      who initiates: Gatehouse (initiate: true, strongSwan waits) or strongSwan (swanctl --initiate,
#                Gatehouse has initiate: false)
#     nat-       Gatehouse sits behind pl_s2s_nat (nftables masquerade, fully random ports); for ss-init the NAT
#                forwards UDP 500/4500 to Gatehouse (a port forward, as a branch router would have)
#   -cut       (suffix, e.g. psk-we-init-cut) then the link is cut with iptables DROP on Gatehouse's side until
#              its DPD ends the tunnel, restored, and the tunnel must come back by itself (Gatehouse redials, or
#              strongSwan with dpd_action = restart)
#   Each scenario: both LANs ping each other (both directions), tshark decodes the capture on strongSwan's
#   interface (ISAKMP + ESP-in-UDP) with no malformed packet. strongSwan's libipsec always encapsulates ESP in
#   UDP 4500 (it fakes NAT-D), so Gatehouse negotiates UDP-encapsulated tunnel mode even without a NAT.
# Environment: OUT=DIR keeps logs/captures there (default a new /tmp/ipsec-site-ss.XXXXXX), KEEP=1 leaves the
# last scenario running. Exit status: number of failed scenarios.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
LAB=${LAB:-$(cd "$REPO/../shared/lab" 2>/dev/null && pwd)}
[ -x "$LAB/strongswan.sh" ] || { echo "strongSwan lab scripts not found (set LAB=.../shared/lab)" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d /tmp/ipsec-site-ss.XXXXXX)}
mkdir -p "$OUT"
TAG=s2s
INST=s2ssrv
SSDIR=/tmp/pl/ss/$INST
PSK="s2s-interop-psk-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
TAG_NET=$(( ( $(printf '%s' "$TAG" | cksum | cut -d' ' -f1) % 90 ) + 1 ))
SRV_IP=198.18.$TAG_NET.1
CLI_DIRECT=198.18.$TAG_NET.2
NAT_WAN=198.18.$TAG_NET.254
CLI_NAT=198.18.$((TAG_NET + 100)).2
CLI=pl_${TAG}_client SRV=pl_${TAG}_server NATNS=pl_${TAG}_nat
GH_LAN=198.19.2.0/24 SS_LAN=198.19.1.0/24
GW_PID="" CAP_PID=""

log() { echo "== $*"; }

cleanup() {
  [ -n "$CAP_PID" ] && kill -INT "$CAP_PID" 2>/dev/null; CAP_PID=""
  if [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; then
    kill -TERM "$GW_PID"; for _ in $(seq 1 20); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$GW_PID" 2>/dev/null
  fi
  GW_PID=""
  "$LAB/strongswan.sh" stop "$INST" >/dev/null 2>&1
  "$LAB/netns.sh" down --tag "$TAG" >/dev/null 2>&1
}
trap '[ "${KEEP:-0}" = 1 ] || cleanup' EXIT
trap 'exit 130' INT TERM

# pki: strongSwan's CA + gateway certificate (serverAuth + ikeIntermediate, SAN = FQDN and address), once.
mk_pki() {
  local p=$OUT/sspki
  [ -f "$p/server.crt" ] && return 0
  mkdir -p "$p"
  (cd "$p" && {
    pki --gen --type rsa --size 2048 --outform pem > ca.key
    pki --self --ca --lifetime 30 --in ca.key --type rsa --dn "C=XX, O=s2s-lab, CN=s2s-lab Root CA" --outform pem > ca.crt
    pki --gen --type rsa --size 2048 --outform pem > server.key
    pki --pub --in server.key --type rsa | pki --issue --lifetime 30 --cacert ca.crt --cakey ca.key \
      --dn "C=XX, O=s2s-lab, CN=ss.s2s.lab" --san ss.s2s.lab --san "$SRV_IP" --flag serverAuth --flag ikeIntermediate --outform pem > server.crt
  } 2>"$p/pki.log") || { cat "$p/pki.log"; return 1; }
}

# gateway_conf DIR AUTH INITIATE LISTEN: gatehouse init + one ipsec.tunnels entry towards strongSwan.
gateway_conf() {
  local d=$1 auth=$2 initiate=$3 listen=$4 lines
  rm -rf "$d"
  node "$REPO/bin/gatehouse.js" init --dir "$d" --listen "$listen" --pool 198.19.60.0/24 --protocols sstp > "$OUT/init.log" 2>&1 || { cat "$OUT/init.log"; return 1; }
  lines="  tunnels:\n    - name: ss\n      peer: $SRV_IP\n      auth: $auth\n      localSubnets: [\"$GH_LAN\"]\n      remoteSubnets: [\"$SS_LAN\"]\n      initiate: $initiate"
  if [ "$auth" = psk ]; then
    printf '%s\n' "$PSK" > "$d/ss.psk"; chmod 600 "$d/ss.psk"
    lines="$lines\n      pskFile: ss.psk\n      peerId: ss.s2s.lab"
  else
    lines="$lines\n      caFile: $OUT/sspki/ca.crt\n      peerId: \"C=XX, O=s2s-lab, CN=ss.s2s.lab\""
  fi
  # Short keepalives: DPD every 2 s, dead after 8 s.
  sed -i -e "s#^  tunnels: \[\]\$#$lines#" -e 's/intervalSeconds: [0-9]*/intervalSeconds: 2/' "$d/gatehouse.yaml"
  grep -q 'name: ss' "$d/gatehouse.yaml" || { echo "could not add the tunnel to $d/gatehouse.yaml"; return 1; }
}

# Gatehouse's certificate subject in strongSwan's DN syntax (certificate order).
gh_dn() { node -e "const {X509Certificate}=require('node:crypto');console.log(new X509Certificate(require('node:fs').readFileSync(process.argv[1])).subject.split('\n').join(', '))" "$1/server.pem"; }

# strongswan_conf AUTH SS_INIT GH_ADDR GH_DIR
strongswan_conf() {
  local auth=$1 ssinit=$2 ghaddr=$3 d=$4 localauth remoteauth secrets=""
  rm -rf "$SSDIR"; "$LAB/strongswan.sh" init "$INST" >/dev/null
  if [ "$auth" = psk ]; then
    localauth="auth = psk
            id = ss.s2s.lab"
    remoteauth="auth = psk
             id = %any"
    secrets="secrets { ike-s2s { secret = \"$PSK\" } }"
  else
    cp "$OUT/sspki/ca.crt" "$SSDIR/swanctl/x509ca/ss-ca.crt"; cp "$d/ca.pem" "$SSDIR/swanctl/x509ca/gatehouse-ca.crt"
    cp "$OUT/sspki/server.crt" "$SSDIR/swanctl/x509/"; cp "$OUT/sspki/server.key" "$SSDIR/swanctl/private/"
    localauth="auth = pubkey
            certs = server.crt
            id = ss.s2s.lab"
    remoteauth="auth = pubkey
             id = \"$(gh_dn "$d")\""
  fi
  cat > "$SSDIR/swanctl/conf.d/s2s.conf" <<EOF
connections {
  s2s {
    version = 1
    local_addrs = $SRV_IP
    remote_addrs = $([ "$ssinit" = 1 ] && echo "$ghaddr" || echo %any)
    proposals = aes256-sha256-modp2048, aes128-sha1-modp2048
    dpd_delay = 5s
    dpd_timeout = 10s
    local { $localauth }
    remote { $remoteauth }
    children { net {
      local_ts = $SS_LAN
      remote_ts = $GH_LAN
      mode = tunnel
      esp_proposals = aes256-sha1, aes128-sha1
      dpd_action = restart
    } }
  }
}
$secrets
EOF
}

# decode_check PCAP: tshark sees ISAKMP and ESP (UDP-encapsulated) and nothing malformed.
decode_check() {
  local pcap=$1 isakmp esp bad
  isakmp=$(tshark -r "$pcap" -Y isakmp 2>/dev/null | wc -l)
  esp=$(tshark -r "$pcap" -Y esp 2>/dev/null | wc -l)
  bad=$(tshark -r "$pcap" -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null | wc -l)
  echo "   tshark: $isakmp ISAKMP, $esp ESP, $bad malformed/error"
  tshark -r "$pcap" -Y 'isakmp' -T fields -e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e isakmp.exchangetype 2>/dev/null | head -12 | sed 's/^/     /'
  [ "$isakmp" -ge 6 ] && [ "$esp" -ge 4 ] && [ "$bad" -eq 0 ]
}

scenario() {
  local sc=$1 nat=0 auth who ghaddr d=$OUT/$1/gw rc=0
  [[ $sc == nat-* ]] && nat=1
  auth=$(echo "$sc" | sed -E 's/^(nat-)?(psk|cert)-.*/\2/'); [ "$auth" = cert ] && auth=certificate
  who=$(echo "$sc" | sed -E 's/.*-(we|ss)-init(-cut)?$/\1/')
  mkdir -p "$OUT/$sc"
  echo; log "scenario $sc (auth $auth, initiator $who, nat $nat)"
  cleanup
  "$LAB/netns.sh" up --tag "$TAG" $([ $nat = 1 ] && echo --nat) > "$OUT/$sc/netns.log" 2>&1 || { cat "$OUT/$sc/netns.log"; return 1; }
  ghaddr=$CLI_DIRECT; local listen=$CLI_DIRECT
  if [ $nat = 1 ]; then
    listen=$CLI_NAT; ghaddr=$NAT_WAN
    # A port forward for IKE and NAT-T on the NAT, so that strongSwan can reach Gatehouse first.
    ip netns exec "$NATNS" nft -f - <<EOF
table ip s2sfwd {
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "wan0" udp dport { 500, 4500 } dnat to $CLI_NAT
  }
}
EOF
  [ $? = 0 ] || return 1
  fi
  [ "$auth" = certificate ] && { mk_pki || return 1; }
  gateway_conf "$d" "$auth" "$([ "$who" = we ] && echo true || echo false)" "$listen" || return 1
  strongswan_conf "$auth" "$([ "$who" = ss ] && echo 1 || echo 0)" "$ghaddr" "$d"
  "$LAB/strongswan.sh" start "$SRV" "$INST" > "$OUT/$sc/charon-start.log" 2>&1 || { cat "$OUT/$sc/charon-start.log"; return 1; }
  "$LAB/strongswan.sh" load "$INST" > "$OUT/$sc/swanctl-load.log" 2>&1 || { cat "$OUT/$sc/swanctl-load.log"; return 1; }
  mkdir -p /tmp/pl/cap
  ip netns exec "$SRV" timeout 120 dumpcap -q -i srv0 -w "$OUT/$sc/srv0.pcap" > "$OUT/$sc/dumpcap.log" 2>&1 &
  CAP_PID=$!
  sleep 1
  ip netns exec "$CLI" node "$REPO/bin/gatehouse.js" serve --dir "$d" > "$OUT/$sc/gateway.log" 2>&1 &
  GW_PID=$!
  for _ in $(seq 1 40); do grep -q 'gateway ready' "$OUT/$sc/gateway.log" && break; sleep 0.25; done
  grep -q 'gateway ready' "$OUT/$sc/gateway.log" || { tail -20 "$OUT/$sc/gateway.log"; return 1; }
  if [ "$who" = ss ]; then
    "$LAB/strongswan.sh" swanctl "$INST" --initiate --ike s2s --child net --timeout 20 > "$OUT/$sc/initiate.log" 2>&1 || rc=1
    tail -3 "$OUT/$sc/initiate.log" | sed 's/^/   swanctl: /'
  fi
  local ok=0
  for _ in $(seq 1 40); do
    ip netns exec "$CLI" ping -c 1 -W 1 -I 198.19.2.1 198.19.1.1 >/dev/null 2>&1 && { ok=1; break; }
    sleep 0.5
  done
  if [ $ok = 1 ] && ip netns exec "$CLI" ping -c 3 -i 0.3 -W 2 -I 198.19.2.1 198.19.1.1 > "$OUT/$sc/ping-gh.log" 2>&1 \
     && ip netns exec "$SRV" ping -c 3 -i 0.3 -W 2 -I 198.19.1.1 198.19.2.1 > "$OUT/$sc/ping-ss.log" 2>&1; then
    echo "   ping: Gatehouse LAN -> strongSwan LAN and back: OK"
  else
    echo "   ping: FAILED"; rc=1
  fi
  if [[ $sc == *-cut ]]; then
    ip netns exec "$CLI" iptables -I INPUT -i cli0 -j DROP
    local down=0
    for _ in $(seq 1 60); do grep -q 'tunnel down' "$OUT/$sc/gateway.log" && { down=1; break; }; sleep 0.5; done
    ip netns exec "$CLI" ping -c 1 -W 1 -I 198.19.2.1 198.19.1.1 >/dev/null 2>&1 && { echo "   cut: traffic still passed"; rc=1; }
    sleep 2
    ip netns exec "$CLI" iptables -D INPUT -i cli0 -j DROP
    local back=0 t0=$SECONDS
    for _ in $(seq 1 90); do ip netns exec "$CLI" ping -c 1 -W 1 -I 198.19.2.1 198.19.1.1 >/dev/null 2>&1 && { back=1; break; }; sleep 0.5; done
    if [ $down = 1 ] && [ $back = 1 ]; then echo "   cut: DPD ended the tunnel; restored, back after $((SECONDS - t0)) s: OK"; else echo "   cut: FAILED (down=$down back=$back)"; rc=1; fi
  fi
  "$LAB/strongswan.sh" swanctl "$INST" --list-sas > "$OUT/$sc/sas.log" 2>&1
  grep -E 'ESTABLISHED|INSTALLED|in  |out |local |remote ' "$OUT/$sc/sas.log" | head -8 | sed 's/^/   sa: /'
  kill -INT "$CAP_PID" 2>/dev/null; sleep 1; CAP_PID=""
  decode_check "$OUT/$sc/srv0.pcap" || rc=1
  grep -E 'tunnel (up|IKE SA up|child SA up)|IKE SA failed|quick mode failed|refused' "$OUT/$sc/gateway.log" | cut -c1-220 | head -6 | sed 's/^/   gatehouse: /'
  cp "$SSDIR/charon.log" "$OUT/$sc/charon.log" 2>/dev/null
  [ $rc = 0 ] && echo "RESULT $sc: PASS" || { echo "RESULT $sc: FAIL (logs in $OUT/$sc)"; grep -E 'failed|error|refus|unable|no .* found' "$OUT/$sc/charon.log" 2>/dev/null | head -8 | sed 's/^/   charon: /'; }
  return $rc
}

ALL="psk-we-init psk-ss-init cert-we-init cert-ss-init nat-psk-we-init nat-psk-ss-init nat-cert-we-init nat-cert-ss-init psk-we-init-cut psk-ss-init-cut"
fails=0
for sc in ${*:-$ALL}; do scenario "$sc" || fails=$((fails + 1)); done
echo; echo "== $fails scenario(s) failed; logs and captures in $OUT"
exit $fails
