#!/usr/bin/env bash
# strongswan-ikev1.sh - our IKEv1 endpoint (dist/ build) against a real strongSwan 5.9 in two private
# namespaces (ike2e_srv 198.18.77.1, ike2e_cli 198.18.77.2): ECDSA P-256/P-384/P-521 certificate main mode in both
# roles (SIG as ECDSA_WITH_NULL), IKE fragmentation both ways, aggressive mode PSK in both roles.
# Needs root, strongSwan (../shared/lab/install.sh) and `npx tsc -p .`. Cleans up what it creates.
# Usage: test/ike/lab/strongswan-ikev1.sh   (exit 0 = every scenario up)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/../../.." && pwd)
SS=${SS:-/work/shared/lab/strongswan.sh}; WORK=$(mktemp -d /tmp/ike2e.XXXX); PEER="$HERE/ikev1-peer.mjs"
PSK=ike2e-lab-psk-0123456789; fails=0
cleanup() { bash "$SS" stop ike2e >/dev/null 2>&1; bash "$SS" stop ike2ec >/dev/null 2>&1; ip netns del ike2e_srv 2>/dev/null; ip netns del ike2e_cli 2>/dev/null; rm -rf "$WORK" /tmp/pl/ss/ike2e /tmp/pl/ss/ike2ec; }
trap cleanup EXIT
ip netns add ike2e_srv && ip netns add ike2e_cli && ip link add ike2e_s type veth peer name ike2e_c || exit 1
ip link set ike2e_s netns ike2e_srv; ip link set ike2e_c netns ike2e_cli
ip -n ike2e_srv addr add 198.18.77.1/24 dev ike2e_s; ip -n ike2e_cli addr add 198.18.77.2/24 dev ike2e_c
for n in ike2e_srv ike2e_cli; do ip -n $n link set lo up; done
ip -n ike2e_srv link set ike2e_s up; ip -n ike2e_cli link set ike2e_c up
ip -n ike2e_srv addr add 198.19.1.1/32 dev lo; ip -n ike2e_cli addr add 198.19.2.1/32 dev lo

certs() { # $1 curve, into $WORK/$1
  local d=$WORK/$1; mkdir -p "$d"; cd "$d" || return 1
  openssl ecparam -name "$1" -genkey -noout -out ca.key
  openssl req -x509 -new -key ca.key -subj "/C=XX/O=ike2e/CN=ike2e CA" -days 30 -out ca.crt -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
  for who in server client; do
    openssl ecparam -name "$1" -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out $who.key
    openssl req -new -key $who.key -subj "/C=XX/O=ike2e/CN=$who.ike2e.lab" -out $who.csr
    if [ $who = server ]; then san="DNS:server.ike2e.lab,IP:198.18.77.1"; eku=serverAuth; else san="DNS:client.ike2e.lab"; eku=clientAuth; fi
    printf 'subjectAltName=%s\nextendedKeyUsage=%s,1.3.6.1.5.5.8.2.2\nkeyUsage=critical,digitalSignature\n' "$san" "$eku" > $who.ext
    openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile $who.ext -out $who.crt
  done 2>/dev/null
}
conf() { # $1 inst, $2 role srv|cli, $3 auth pubkey|psk, $4 proposals, $5 curve dir, $6 extra
  local D=/tmp/pl/ss/$1 la ra lts rts; bash "$SS" init "$1" >/dev/null; rm -f $D/swanctl/x509/* $D/swanctl/x509ca/* $D/swanctl/private/*
  if [ "$2" = srv ]; then la=198.18.77.1; ra=%any; lts=198.19.1.1/32; rts=198.19.2.1/32; else la=198.18.77.2; ra=198.18.77.1; lts=198.19.2.1/32; rts=198.19.1.1/32; fi
  local me; [ "$2" = srv ] && me=server || me=client
  local local_auth remote_auth secrets=""
  if [ "$3" = pubkey ]; then
    cp "$WORK/$5/ca.crt" $D/swanctl/x509ca/; cp "$WORK/$5/$me.crt" $D/swanctl/x509/; cp "$WORK/$5/$me.key" $D/swanctl/private/
    local_auth="auth = pubkey
            certs = $me.crt"; remote_auth="auth = pubkey"
    [ "$2" = cli ] && remote_auth="$remote_auth
             id = \"C=XX, O=ike2e, CN=server.ike2e.lab\""
    [ "$2" = srv ] && local_auth="$local_auth
            id = server.ike2e.lab"
  else
    local other; [ "$me" = server ] && other=client || other=server
    local_auth="auth = psk
            id = $me.ike2e.lab"; remote_auth="auth = psk
             id = $other.ike2e.lab"
    secrets="secrets { ike-lab { id-a = client.ike2e.lab
  id-b = server.ike2e.lab
  secret = \"$PSK\" } }"
  fi
  cat > $D/swanctl/conf.d/lab.conf <<EOC
connections { lab {
    version = 1
    $6
    local_addrs = $la
    remote_addrs = $ra
    proposals = $4
    local { $local_auth }
    remote { $remote_auth }
    children { net { local_ts = $lts
                     remote_ts = $rts
                     mode = tunnel
                     esp_proposals = aes256-sha1 } }
} }
$secrets
EOC
}
ours() { # ns role name env...  -> prints our events, returns 0 when a child SA came up
  local ns=$1 role=$2 who=$3; shift 3
  (cd "$WORK/${CURVE:-prime256v1}" 2>/dev/null || cd "$WORK"; ip netns exec "$ns" env WT="$REPO" "$@" timeout 30 node "$PEER" "$role" "$who")
}
check() { # name, output [, a counter that must appear]
  if grep -q '"type":"childSaUp"' <<<"$2" && { [ -z "${3:-}" ] || grep -q "\"$3\"" <<<"$2"; }; then echo "PASS $1"; else echo "FAIL $1"; grep -o '"reason":"[^"]*"\|COUNTERS.*\|TIMEOUT.*' <<<"$2" | head -3; fails=$((fails+1)); fi
}
srv_up() { bash "$SS" stop ike2ec >/dev/null 2>&1; bash "$SS" stop ike2e >/dev/null 2>&1; bash "$SS" start ike2e_srv ike2e >/dev/null && bash "$SS" load ike2e >/dev/null 2>&1; }
cli_up() { bash "$SS" stop ike2e >/dev/null 2>&1; bash "$SS" stop ike2ec >/dev/null 2>&1; bash "$SS" start ike2e_cli ike2ec >/dev/null && bash "$SS" load ike2ec >/dev/null 2>&1; }
theirs_initiate() { # our responder in ike2e_srv while strongSwan initiates from ike2e_cli
  local out=$WORK/resp.out; (ours ike2e_srv responder server WAIT=12000 "$@" > "$out" 2>&1 &); sleep 1.5
  bash "$SS" swanctl ike2ec --initiate --child net >/dev/null 2>&1; sleep 1; cat "$out"
}

certs prime256v1; certs secp384r1; certs secp521r1
for CURVE in prime256v1 secp384r1 secp521r1; do
  export CURVE
  conf ike2e srv pubkey "aes256-sha256-modp2048, aes256-sha1-modp2048" $CURVE ""; srv_up
  check "$CURVE certificate main mode, we initiate" "$(ours ike2e_cli initiator client)"
  check "$CURVE certificate main mode, we initiate, our MM5 in 576-byte fragments" "$(ours ike2e_cli initiator client FRAG=576)" tx:fragmented
  printf 'charon {\n  fragment_size = 576\n}\n' > /tmp/pl/ss/ike2e/strongswan.local.conf; srv_up
  check "$CURVE certificate main mode, strongSwan's MM6 in fragments" "$(ours ike2e_cli initiator client)" rx:reassembled
  : > /tmp/pl/ss/ike2e/strongswan.local.conf
  conf ike2ec cli pubkey "aes256-sha256-modp2048" $CURVE ""; cli_up
  check "$CURVE certificate main mode, strongSwan initiates" "$(theirs_initiate)"
done
CURVE=none
conf ike2e srv psk "aes256-sha256-modp2048" none "aggressive = yes"; srv_up
check "aggressive mode PSK, we initiate" "$(ours ike2e_cli initiator client PSK=$PSK)"
conf ike2ec cli psk "aes256-sha256-modp2048" none "aggressive = yes"; cli_up
check "aggressive mode PSK, strongSwan initiates" "$(theirs_initiate PSK=$PSK)"
echo "failures: $fails"; exit $((fails > 0))
