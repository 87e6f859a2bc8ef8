#!/bin/bash
# Interop: the real Linux L2TP/IPsec client (strongSwan 5.9 starter + charon with the KERNEL's
# transport-mode ESP, IKEv1 main mode; xl2tpd 1.3 + pppd 2.4.9, set up as NetworkManager-l2tp does) in
# the QEMU guest against our gateway — or, with TARGET=softether, against SoftEther VPN Server's
# L2TP/IPsec — captured on the wire and decoded by tshark with the guest's ESP keys.
# Usage: l2tp-ipsec-vs-gatehouse.sh [MODE...]   MODE: psk, cert, nat, natcert, badpsk, bulk (see
#        guest-l2tp-ipsec.sh), revoked (a client certificate the gateway's CA revoked while the
#        gateway runs: must be refused), twonat (two guests behind the one NAT, connected at once);
#        default: psk cert nat badpsk (TARGET=softether: psk nat badpsk bulk; SoftEther's
#        L2TP/IPsec takes only a PSK)
# Env: TARGET=gatehouse|softether; GHVM_DELAY (default 20ms); OUT=DIR keeps results there (default
#      a new /tmp/gatehouse-l2tp-ipsec-interop.XXXXXX); IKE=/ESP= strongSwan proposal strings for the
#      guest (default NetworkManager-l2tp's legacy set; "default" = strongSwan's own defaults);
#      NAT_PORTS=keep uses a port-preserving MASQUERADE (default --random-fully, as a
#      carrier-grade NAT would).
# Exit status: 0 when every mode had its expected outcome and every capture decoded cleanly.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-host.sh"
. "$HERE/l2tp-ipsec-softether.sh"
. "$HERE/decode-l2tp-ipsec.sh"
TARGET=${TARGET:-gatehouse}
MODES=("$@")
if ((${#MODES[@]} == 0)); then
  if [[ $TARGET == softether ]]; then MODES=(psk nat badpsk bulk); else MODES=(psk cert nat badpsk); fi
fi
# The server's one address 198.18.12.1 sits on bridge ghvm-br6 in ghvm_li, which joins the direct
# guest's TAP ghvm-tap6 and the veth to the NAT namespace ghvm_ln (198.18.12.3 outside); the NAT
# guest is on ghvm-tap7 (198.18.13.0/24) behind it. One address on one LAN: a server that answers
# from the address the client sent to is not needed (SoftEther answers from the outgoing one).
NS=ghvm_li TAP=ghvm-tap6 BR=ghvm-br6 NAT_NS=ghvm_ln NAT_TAP=ghvm-tap7 NAT_TAP2=ghvm-tap8
GW_OUTER=198.18.12.1 GUEST_OUTER=198.18.12.2 WAN_NAT=198.18.12.3 NAT_INNER=198.18.13.1 NAT_GUEST=198.18.13.2
NAT_INNER2=198.18.16.1 NAT_GUEST2=198.18.16.2   # the second NAT guest (mode twonat)
POOL=198.19.12.0/24 TUNNEL_GW=198.19.12.1
host_out gatehouse-l2tp-ipsec-interop
D=$OUT/gw
new_password

gw_pid= gw_kind= cap_pid= cap2_pid= http_pid= se_pid= SE_DIR=
cleanup() {
  kill_pids "$cap_pid" "$cap2_pid" "$http_pid"
  stop_pid "$gw_pid" 10
  [[ -z $se_pid ]] || se_stop
  ip netns del "$NAT_NS" 2>/dev/null || true
}
host_traps

host_need xl2tpd xl2tpd
host_need tshark tshark
host_need ipsec strongswan-starter
"$HERE/vm/build.sh"
host_ns_tap

# The LAN: the TAP moves under the bridge, which takes the server's address.
ip -n "$NS" addr del "$GW_OUTER/24" dev "$TAP"
ip -n "$NS" link add "$BR" type bridge
ip -n "$NS" link set "$TAP" master "$BR"
ip -n "$NS" addr add "$GW_OUTER/24" dev "$BR"
ip -n "$NS" link set "$BR" up

# The NAT: ghvm_ln forwards the NAT guest's 198.18.13.0/24 onto the LAN and masquerades it.
nat_up() {
  ip netns add "$NAT_NS"
  ip -n "$NAT_NS" link set lo up
  ip link add ghvm-ln-w netns "$NAT_NS" type veth peer name ghvm-li-w netns "$NS"
  ip -n "$NS" link set ghvm-li-w master "$BR"
  ip -n "$NS" link set ghvm-li-w up
  ip -n "$NAT_NS" addr add "$WAN_NAT/24" dev ghvm-ln-w
  ip -n "$NAT_NS" link set ghvm-ln-w up
  ip -n "$NAT_NS" tuntap add dev "$NAT_TAP" mode tap
  ip -n "$NAT_NS" addr add "$NAT_INNER/24" dev "$NAT_TAP"
  ip -n "$NAT_NS" link set "$NAT_TAP" up
  ip -n "$NAT_NS" tuntap add dev "$NAT_TAP2" mode tap
  ip -n "$NAT_NS" addr add "$NAT_INNER2/24" dev "$NAT_TAP2"
  ip -n "$NAT_NS" link set "$NAT_TAP2" up
  ip netns exec "$NAT_NS" sysctl -qw net.ipv4.ip_forward=1
  local rand=--random-fully
  [[ ${NAT_PORTS:-} == keep ]] && rand=
  ip netns exec "$NAT_NS" iptables -t nat -A POSTROUTING -o ghvm-ln-w -j MASQUERADE $rand
}
nat_up

mkdir -p "$OUT/ipsec"
{ [[ -z ${IKE:-} ]] || echo "IKE='$IKE'"; [[ -z ${ESP:-} ]] || echo "ESP='$ESP'"; } > "$OUT/ipsec-env"

if [[ $TARGET == softether ]]; then
  host_need /usr/libexec/softether/vpnserver/vpnserver softether-vpnserver
  se_start || exit 1
  printf '%s' "$SE_PSK" > "$OUT/ipsec/psk"
  USER_NAME=$SE_USER PASSWORD=$SE_PASS TUNNEL_GW=$SE_HOST
  # SecureNAT's NAT carries the guest's TCP to the file server on the namespace's own address.
  echo "BLOB_HOST=$GW_OUTER" >> "$OUT/ipsec-env"
  TUNNEL_GW=$GW_OUTER blob_server
  TUNNEL_GW=$SE_HOST
else
  USER_NAME=alice
  head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$OUT/ipsec/psk"
fi

# p12_to_pem DIR PASS: DIR/client.p12 -> DIR/client-cert.pem + client-key.pem, and the gateway's
# ca.pem: strongSwan reads PEM (openssl's -legacy only if the bundle needs it).
p12_to_pem() {
  local dir=$1 o=(-in "$1/client.p12" -passin "pass:$2")
  openssl pkcs12 "${o[@]}" -nokeys -clcerts -out "$dir/client-cert.pem" 2>"$dir/openssl.log" \
    || openssl pkcs12 -legacy "${o[@]}" -nokeys -clcerts -out "$dir/client-cert.pem" 2>>"$dir/openssl.log"
  openssl pkcs12 "${o[@]}" -nocerts -nodes -out "$dir/client-key.pem" 2>>"$dir/openssl.log" \
    || openssl pkcs12 -legacy "${o[@]}" -nocerts -nodes -out "$dir/client-key.pem" 2>>"$dir/openssl.log"
  cp "$D/ca.pem" "$dir/ca.pem"
}

# gw_up psk|cert: our gateway serving L2TP/IPsec with a pre-shared key, or with machine
# certificates (the default trust), in $OUT/gw-psk or $OUT/gw-cert; restarted when the kind changes.
gw_up() {
  local kind=$1
  [[ $gw_kind == "$kind" ]] && return 0
  if [[ -n $gw_pid ]]; then stop_pid "$gw_pid" 10; gw_pid=; kill_pids "$http_pid"; http_pid=; fi
  D=$OUT/gw-$kind
  if [[ -f $D/gatehouse.yaml ]]; then
    :   # made for an earlier mode of this run: serve it again
  elif [[ $kind == psk ]]; then
    gw_init --protocols sstp,l2tp --psk-file "$OUT/ipsec/psk"
  else
    gw_init --protocols sstp,l2tp
    local p12pass="Gh$(head -c 12 /dev/urandom | base64 | tr -d '/+=')7q"
    printf '%s\n' "$p12pass" | node "$REPO/bin/gatehouse.js" ca issue --dir "$D" roadwarrior --client \
      --p12 "$OUT/ipsec/client.p12" > "$OUT/ca-issue.log" 2>&1 || { cat "$OUT/ca-issue.log"; exit 1; }
    p12_to_pem "$OUT/ipsec" "$p12pass"
    openssl x509 -in "$OUT/ipsec/client-cert.pem" -noout -subject -issuer -ext extendedKeyUsage 2>/dev/null | sed 's/^/   client cert: /'
  fi
  log "starting gateway ($kind)"
  gw_serve 443 " (SSTP; IKE is UDP 500/4500)" node "$REPO/bin/gatehouse.js" serve --dir "$D" --log-level debug
  for _ in $(seq 1 20); do ip netns exec "$NS" ss -Hlun "sport = :500" | grep -q . && break; sleep 0.25; done
  ip netns exec "$NS" ss -Hlun "sport = :500" | grep -q . || { log "nothing on UDP 500"; cat "$OUT/gateway.log"; exit 1; }
  blob_server
  gw_kind=$kind
}

declare -A verdict
status=0
for mode in "${MODES[@]}"; do
  case $mode in psk|nat|cert|natcert|badpsk|revoked|bulk|twonat) ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac
  if [[ $TARGET == softether && ($mode == *cert || $mode == revoked) ]]; then
    verdict[$mode]="skipped (SoftEther's L2TP/IPsec has no certificate authentication)"; continue
  fi
  cred=psk:/run/ghvm-share/ipsec/psk
  if [[ $mode == badpsk ]]; then
    printf '%s' "wrong-$(cat "$OUT/ipsec/psk")" > "$OUT/ipsec/psk-bad"
    cred=psk:/run/ghvm-share/ipsec/psk-bad
  fi
  [[ $mode == *cert ]] && cred=cert:/run/ghvm-share/ipsec
  [[ $mode == revoked ]] && cred=cert:/run/ghvm-share/ipsec-revoked
  if [[ $TARGET == gatehouse ]]; then
    if [[ $mode == *cert || $mode == revoked ]]; then gw_up cert; else gw_up psk; fi
  fi
  if [[ $mode == revoked ]]; then
    # A second machine certificate, issued and then revoked while the gateway runs (it re-reads
    # issued.json: no restart).
    mkdir -p "$OUT/ipsec-revoked"
    rpass="Gh$(head -c 12 /dev/urandom | base64 | tr -d '/+=')7r"
    printf '%s\n' "$rpass" | node "$REPO/bin/gatehouse.js" ca issue --dir "$D" lostlaptop --client \
      --p12 "$OUT/ipsec-revoked/client.p12" > "$OUT/ca-issue-revoked.log" 2>&1 || { cat "$OUT/ca-issue-revoked.log"; exit 1; }
    p12_to_pem "$OUT/ipsec-revoked" "$rpass"
    node "$REPO/bin/gatehouse.js" ca revoke --dir "$D" lostlaptop --reason keyCompromise >> "$OUT/ca-issue-revoked.log" 2>&1 \
      || { cat "$OUT/ca-issue-revoked.log"; exit 1; }
    sleep 1.5   # the gateway checks issued.json at most once a second
  fi
  cap=$OUT/l2tp-ipsec-$mode.pcapng
  # The server's side of the wire (the bridge), and for a NAT guest also the NAT's inside, to show
  # the translation.
  gwlines=0; [[ -f $OUT/gateway.log ]] && gwlines=$(wc -l < "$OUT/gateway.log")
  cap_start "$BR" "$cap" "$mode"
  xfrms=$OUT/xfrm-$mode.txt charons=$OUT/charon-$mode.log
  if [[ $mode == twonat ]]; then
    ip netns exec "$NAT_NS" dumpcap -q -i "$NAT_TAP" -i "$NAT_TAP2" -w "$OUT/l2tp-ipsec-$mode-inside.pcapng" > "$OUT/dumpcap-$mode-inside.log" 2>&1 &
    cap2_pid=$!
    rm -f "$OUT"/up-twonat-*
    log "mode $mode: booting two guests behind the NAT"
    set +e
    NS=$NAT_NS run_guest 300 "$NAT_TAP" "$NAT_GUEST/24" "$NAT_INNER" /bin/sh "$HERE/guest-l2tp-ipsec.sh" \
      twonat-a "$GW_OUTER" "$USER_NAME" "$PASSWORD" "$TUNNEL_GW" /run/ghvm-share "$cred" > "$OUT/guest-twonat-a.log" 2>&1 &
    ga=$!
    NS=$NAT_NS GHVM_MAC=52:54:00:67:68:08 run_guest 300 "$NAT_TAP2" "$NAT_GUEST2/24" "$NAT_INNER2" /bin/sh "$HERE/guest-l2tp-ipsec.sh" \
      twonat-b "$GW_OUTER" "$USER_NAME" "$PASSWORD" "$TUNNEL_GW" /run/ghvm-share "$cred" > "$OUT/guest-twonat-b.log" 2>&1 &
    gb=$!
    wait $ga; rca=$?; wait $gb; rcb=$?
    set -e
    rc=$((rca | rcb))
    grep -h -E '^== guest|^RESULT' "$OUT/guest-twonat-a.log" "$OUT/guest-twonat-b.log"
    { grep -m1 '^RESULT' "$OUT/guest-twonat-a.log"; grep -m1 '^RESULT' "$OUT/guest-twonat-b.log"; } | tr '\n' ' ' > "$OUT/guest-$mode.log"
    xfrms=$OUT/xfrm-twonat-a.txt,$OUT/xfrm-twonat-b.txt charons=$OUT/charon-twonat-a.log,$OUT/charon-twonat-b.log
  elif [[ $mode == nat* ]]; then
    ip netns exec "$NAT_NS" dumpcap -q -i "$NAT_TAP" -w "$OUT/l2tp-ipsec-$mode-inside.pcapng" > "$OUT/dumpcap-$mode-inside.log" 2>&1 &
    cap2_pid=$!
    log "mode $mode: booting guest behind the NAT"
    set +e
    NS=$NAT_NS run_guest 300 "$NAT_TAP" "$NAT_GUEST/24" "$NAT_INNER" /bin/sh "$HERE/guest-l2tp-ipsec.sh" \
      "$mode" "$GW_OUTER" "$USER_NAME" "$PASSWORD" "$TUNNEL_GW" /run/ghvm-share "$cred" | tee "$OUT/guest-$mode.log"
    rc=${PIPESTATUS[0]}
    set -e
  else
    guest_mode "$mode" /bin/sh "$HERE/guest-l2tp-ipsec.sh" "$mode" "$GW_OUTER" "$USER_NAME" \
      "$(mode_password "$mode")" "$TUNNEL_GW" /run/ghvm-share "$cred"
  fi
  sleep 2
  cap_stop
  kill_pids "$cap2_pid"; cap2_pid=
  v=ok
  ((rc == 0)) || { v="guest:rc=$rc"; status=1; }
  if [[ $TARGET == gatehouse ]]; then
    tail -n +"$((gwlines + 1))" "$OUT/gateway.log" > "$OUT/gateway-$mode.log"
    log "mode $mode: guest exit status $rc; gateway log for this mode:"
    sed 's/^/   gw: /' "$OUT/gateway-$mode.log" | tail -n 60
  else
    log "mode $mode: guest exit status $rc; SoftEther log lines for this mode:"
    cat "$SE_DIR"/log/server_log/*.log 2>/dev/null | grep -aE 'IPsec|L2TP|IKE' | tail -n 30 | sed 's/^/   se: /'
  fi
  # tshark: ISAKMP and ESP on the wire; with the guest's xfrm keys the L2TP and PPP inside ESP too.
  if [[ $mode == twonat && $TARGET == gatehouse ]]; then
    # Two IKE SAs and two sessions from the NAT's one address, on two different ports.
    n_ike=$(grep -c 'IKE SA up peer=198.18.12.3:' "$OUT/gateway-$mode.log" || true)
    n_ports=$(grep -o 'IKE SA up peer=198.18.12.3:[0-9]*' "$OUT/gateway-$mode.log" | sort -u | wc -l)
    n_up=$(grep -c 'session up' "$OUT/gateway-$mode.log" || true)
    log "mode $mode: gateway: $n_ike IKE SAs from 198.18.12.3 on $n_ports ports, $n_up sessions up"
    ((n_ike == 2 && n_ports == 2 && n_up == 2)) || { v="$v,gateway:ike=$n_ike,ports=$n_ports,sessions=$n_up"; status=1; }
  fi
  if decode_l2tp_ipsec "$cap" "$xfrms" "$charons" "$OUT/decode-$mode" "$mode"; then :; else
    v="$v,decode:$decode_problem"; status=1
  fi
  verdict[$mode]="$v $decode_summary $(grep -m1 '^RESULT' "$OUT/guest-$mode.log" || echo 'RESULT none')"
done

host_finish "${MODES[@]}"
