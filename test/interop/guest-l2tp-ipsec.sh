#!/bin/sh
# Guest side of l2tp-ipsec-vs-gatehouse.sh: the Linux L2TP/IPsec road warrior as NetworkManager-l2tp
# sets it up with strongSwan — starter + charon with the KERNEL's transport-mode ESP (xfrm, plugin
# kernel-netlink; kernel-libipsec is switched off), IKEv1 main mode, then xl2tpd (LAC) + pppd.
# Usage (inside the guest): guest-l2tp-ipsec.sh MODE SERVER USER PASSWORD TUNNEL_GW LOGDIR CRED
#   MODE  psk | nat (psk through the host's NAT) | cert | natcert | badpsk (wrong PSK: IKE must
#         fail, nothing else may start) | revoked (cert, but the gateway revoked it: IKE must
#         fail likewise) | bulk (psk + 300 full-size pings + 2 MiB download) |
#         twonat-a, twonat-b (two guests behind one NAT at once: each says LOGDIR/up-MODE when its
#         ppp0 pings, waits for the other's, pings again while both are up, then hangs up)
#   CRED  psk:FILE (the pre-shared key) or cert:DIR (DIR/client-cert.pem, client-key.pem, ca.pem)
# LOGDIR/ipsec-env (optional, sourced): IKE=, ESP= strongSwan proposal strings ("default": no
# ike=/esp= line, strongSwan's own default proposals, as NetworkManager-l2tp without "legacy
# proposals"), BLOB_HOST (the 2 MiB file's host; default TUNNEL_GW).
[ $# -ge 7 ] || { echo "usage: guest-l2tp-ipsec.sh MODE SERVER USER PASSWORD TUNNEL_GW LOGDIR CRED" >&2; exit 2; }
mode=$1 server=$2 user=$3 password=$4 tunnel_gw=$5 logdir=$6 cred=$7
. "$(dirname "$0")/lib-guest.sh"
case $mode in psk|nat|cert|natcert|badpsk|revoked|bulk|twonat-a|twonat-b) ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac
# NetworkManager-l2tp's "legacy proposals" (what Windows-era servers accept); ipsec-env may override.
IKE='aes256-sha1-modp2048,aes128-sha1-modp2048,aes256-sha1-modp1536,aes128-sha1-modp1536,aes256-sha1-modp1024,aes128-sha1-modp1024,3des-sha1-modp1024!'
ESP='aes256-sha1,aes128-sha1,3des-sha1!'
BLOB_HOST=
[ -f "$logdir/ipsec-env" ] && . "$logdir/ipsec-env"
blob_host=${BLOB_HOST:-$tunnel_gw}

pppdlog=$logdir/pppd-$mode.log
xl2tpdlog=$logdir/xl2tpd-$mode.log
charonlog=$logdir/charon-$mode.log
xfrmfile=$logdir/xfrm-$mode.txt
: > "$pppdlog"; : > "$xl2tpdlog"; : > "$charonlog"; : > "$xfrmfile"

# --- strongSwan: strongswan.conf (logging, kernel ESP), ipsec.conf (the connection), secrets.
# /etc/strongswan.conf, /etc/ipsec.conf, /etc/ipsec.secrets and /etc/ipsec.d are writable copies
# (vm/initramfs-init.sh).
cat > /etc/strongswan.conf <<CONF
charon {
  load_modular = yes
  plugins {
    include strongswan.d/charon/*.conf
  }
  filelog {
    gh {
      path = $charonlog
      time_format = %T
      ike_name = yes
      flush_line = yes
      default = 1
      ike = 4
      knl = 2
      cfg = 2
      net = 1
      mgr = 2
    }
  }
}
include strongswan.d/*.conf
# The point of this harness is the kernel's ESP: never userspace ESP (kernel-libipsec), which would
# also force UDP encapsulation.
charon {
  plugins {
    kernel-libipsec {
      load = no
    }
  }
}
CONF
sed -i 's/^\([[:space:]]*load[[:space:]]*=\).*/\1 no/' /etc/strongswan.d/charon/kernel-libipsec.conf 2>/dev/null

case $cred in
  psk:*)
    authconf='  authby=secret'
    printf ': PSK "%s"\n' "$(cat "${cred#psk:}")" > /etc/ipsec.secrets ;;
  cert:*)
    dir=${cred#cert:}
    mkdir -p /etc/ipsec.d/certs /etc/ipsec.d/private /etc/ipsec.d/cacerts
    cp "$dir/client-cert.pem" /etc/ipsec.d/certs/gh-client.pem
    cp "$dir/client-key.pem" /etc/ipsec.d/private/gh-client.key
    cp "$dir/ca.pem" /etc/ipsec.d/cacerts/gh-ca.pem
    chmod 600 /etc/ipsec.d/private/gh-client.key
    # As NetworkManager-l2tp writes a certificate connection for strongSwan: our certificate and its
    # subject as our ID, the gateway's ID taken from its certificate, which must chain to the CA.
    authconf='  leftauth=pubkey
  rightauth=pubkey
  leftcert=gh-client.pem
  leftid=%fromcert
  leftsendcert=always
  rightca=%same'
    printf ': RSA gh-client.key\n' > /etc/ipsec.secrets ;;
  *) echo "bad CRED $cred" >&2; exit 2 ;;
esac
chmod 600 /etc/ipsec.secrets
cat > /etc/ipsec.conf <<CONF
config setup
conn gatehouse
  auto=add
  type=transport
$authconf
  keyingtries=1
  left=%defaultroute
  leftprotoport=udp/l2tp
  rightprotoport=udp/l2tp
  right=$server
  rightid=%any
  keyexchange=ikev1
$([ "$IKE" = default ] || echo "  ike=$IKE")
$([ "$ESP" = default ] || echo "  esp=$ESP")
  rekey=no
  forceencaps=no
CONF
echo "== guest: $(ipsec --version 2>&1 | head -1); xl2tpd $(dpkg-query -W -f '${Version}' xl2tpd 2>/dev/null); $(pppd --version 2>&1 | head -1)"
echo "== guest: xfrm/ESP modules: $(grep -oE '^(esp4|xfrm_user|xfrm_algo|authenc|echainiv|gcm) ' /proc/modules | tr -d ' ' | tr '\n' ' ')"
echo "== guest: ipsec.conf:"; sed 's/^/   /' /etc/ipsec.conf

ike=no sa=no connected=no ping=fail bigping=fail bulk=skipped disconnect=unclean esp_in=0 esp_out=0 encap=none
ipsec start > "$logdir/starter-$mode.log" 2>&1
i=0
# starter forks charon, then hands it the connection over stroke: wait until charon lists it.
while ! ipsec statusall 2>/dev/null | grep -q '^ *gatehouse:' && [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
ipsec rereadsecrets
echo "== guest: ipsec up gatehouse (IKEv1 main mode + quick mode, transport, udp/1701)"
timeout 90 ipsec up gatehouse > "$logdir/ipsec-up-$mode.log" 2>&1
echo "== guest: ipsec up exit status $?"
# NetworkManager-l2tp does not trust the exit status of `ipsec up` either: it greps ESTABLISHED.
ipsec status gatehouse | tee "$logdir/ipsec-status-$mode.txt" | grep -q ESTABLISHED && ike=yes
ip xfrm state > "$xfrmfile" 2>&1
ip xfrm policy > "$logdir/xfrm-policy-$mode.txt" 2>&1
[ "$(grep -c '^src' "$xfrmfile")" -ge 2 ] && grep -q 'mode transport' "$xfrmfile" && sa=yes
grep -q 'encap type espinudp' "$xfrmfile" && encap=espinudp
echo "== guest: IKE SA established: $ike; kernel transport-mode SAs installed: $sa; encapsulation: $encap"
sed 's/^/   /' "$logdir/ipsec-status-$mode.txt"

if [ $ike = yes ] && [ $sa = yes ] && [ $mode != badpsk ] && [ $mode != revoked ]; then
  printf '%s * %s *\n' "$user" "$password" > /etc/ppp/chap-secrets
  chmod 600 /etc/ppp/chap-secrets
  # pppd options as NetworkManager-l2tp writes them (no MPPE: ESP protects the link; MRU/MTU 1400
  # as Windows uses), restricted to MS-CHAPv2 like the other harnesses.
  cat > /run/options.l2tp <<OPT
name $user
user $user
remotename gatehouse
noauth
refuse-pap
refuse-chap
refuse-mschap
refuse-eap
noccp
usepeerdns
noipdefault
nodefaultroute
mru 1400
mtu 1400
lcp-echo-failure 0
lcp-echo-interval 0
noipv6
debug
logfile $pppdlog
OPT
  mkdir -p /run/xl2tpd
  cat > /run/xl2tpd.conf <<CONF
[global]
port = 1701
access control = yes
[lac gatehouse]
lns = $server
autodial = yes
redial = no
name = $user
ppp debug = yes
pppoptfile = /run/options.l2tp
tunnel rws = 8
length bit = yes
CONF
  echo "== guest: starting xl2tpd (L2TP to $server:1701, inside the ESP SA)"
  xl2tpd -D -c /run/xl2tpd.conf -p /run/xl2tpd/xl2tpd.pid -C /run/xl2tpd/l2tp-control > "$xl2tpdlog" 2>&1 &
  xl2tpd_pid=$!
  wait_ppp0 $xl2tpd_pid
  if [ $connected = yes ]; then
    ppp0_report
    ppp0_pings
    case $mode in twonat-*)
      # Both clients up at once: the gateway holds two IKE SAs, two ESP SA pairs and two L2TP
      # tunnels from one address, told apart by the NAT's ports (RFC 3947/3948).
      other=twonat-a; [ $mode = twonat-a ] && other=twonat-b
      touch "$logdir/up-$mode"
      i=0
      while [ ! -f "$logdir/up-$other" ] && [ $i -lt 150 ]; do sleep 1; i=$((i + 1)); done
      if [ -f "$logdir/up-$other" ]; then
        echo "== guest: $other is up too; pinging again while both sessions live"
        ping=fail bigping=fail; ppp0_pings
        sleep 5   # the other guest pings meanwhile
      else
        echo "== guest: $other never came up"; ping=fail
      fi ;;
    esac
    if [ $mode = bulk ]; then
      bulk=ok
      echo "== guest: 300 full-size pings in a burst (ppp0 MTU $mtu)"
      ping -c 300 -i 0.01 -W 5 -s $((mtu - 28)) -M do -I ppp0 "$tunnel_gw" | tail -3 > /tmp/burst.txt
      cat /tmp/burst.txt
      loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' /tmp/burst.txt | cut -d. -f1)
      [ -n "$loss" ] && [ "$loss" -le 1 ] || bulk=fail
      if [ -f "$logdir/www/blob.sha256" ]; then
        tunnel_gw_saved=$tunnel_gw; tunnel_gw=$blob_host; bulk_fetch 240; tunnel_gw=$tunnel_gw_saved
      fi
    fi
    echo "== guest: ppp0 counters:"; grep -E 'Inter|face|ppp0' /proc/net/dev
    echo "d gatehouse" > /run/xl2tpd/l2tp-control
    i=0
    while ip link show ppp0 >/dev/null 2>&1 && [ $i -lt 20 ]; do sleep 1; i=$((i + 1)); done
    ip link show ppp0 >/dev/null 2>&1 || disconnect=clean
  else
    echo "== guest: ppp0 never got an address (waited ${i}s)"
  fi
  sleep 2
  kill $xl2tpd_pid 2>/dev/null
  wait_exit $xl2tpd_pid 10 || kill -KILL $xl2tpd_pid 2>/dev/null
fi

# Traffic through the kernel's ESP: per-SA byte/packet counters (ip -s xfrm state).
ip -s xfrm state > "$logdir/xfrm-stats-$mode.txt" 2>&1
# The SA whose destination is the server is outbound. "lifetime current:" is followed by
# "N(bytes), M(packets)".
esp_out=$(awk -v s="$server" '/^src/ {out = ($4 == s)} /lifetime current:/ {getline; if (out) print $2}' "$logdir/xfrm-stats-$mode.txt" | sed 's/(packets)//' | head -1)
esp_in=$(awk -v s="$server" '/^src/ {out = ($4 == s)} /lifetime current:/ {getline; if (!out) print $2}' "$logdir/xfrm-stats-$mode.txt" | sed 's/(packets)//' | head -1)
echo "== guest: kernel ESP packets out=${esp_out:-0} in=${esp_in:-0}"
ipsec down gatehouse > /dev/null 2>&1
ipsec stop > /dev/null 2>&1
sleep 1
[ -s "$pppdlog" ] && show_log "pppd log" "$pppdlog"
[ -s "$xl2tpdlog" ] && show_log "xl2tpd log" "$xl2tpdlog"
echo "== guest: charon log (IKE lines):"
grep -E 'IKE_SA|CHILD_SA|proposal|authentic|NAT|INVALID|NO_PROPOSAL|failed|error|retransmit|giving up|installing|received .*(notify|vendor)|generating|parsed' "$charonlog" | tail -n 60
# Why IKE failed, as charon saw it (the first telling line), for badpsk and for failures.
reason=
[ $ike = yes ] || reason=$(grep -m1 -oE 'received [A-Z_]+ (error )?notify|message verification failed|giving up after [0-9]+ retransmits|no shared key found|no proposal chosen|NO_PROPOSAL_CHOSEN|AUTHENTICATION_FAILED|INVALID_HASH_INFORMATION|PAYLOAD_MALFORMED|constraint check failed|no trusted RSA public key found' "$charonlog" | tr ' ' '_')
# No answer at all: name the request charon kept retransmitting (main mode seq 3 = MM5).
[ $ike = yes ] || [ -n "$reason" ] || reason=$(grep -oE 'sending retransmit [0-9]+ of request message ID [0-9]+, seq [0-9]+' "$charonlog" | tail -1 | tr ' ,' '_.')
echo "RESULT mode=$mode ike=$ike sa=$sa encap=$encap connected=$connected ping=$ping bigping=$bigping bulk=$bulk disconnect=$disconnect esp_out=${esp_out:-0} esp_in=${esp_in:-0}${reason:+ ike_failure=$reason}"
case $mode in
  badpsk|revoked) [ $ike = no ] && [ $sa = no ] ;;
  nat|natcert|twonat-*) [ $connected = yes ] && [ $ping = ok ] && [ $bigping = ok ] && [ $disconnect = clean ] && [ $encap = espinudp ] && [ "${esp_in:-0}" -gt 0 ] ;;
  *) [ $connected = yes ] && [ $ping = ok ] && [ $bigping = ok ] && [ $bulk = ok -o $bulk = skipped ] && [ $disconnect = clean ] && [ "${esp_in:-0}" -gt 0 ] && [ "${esp_out:-0}" -gt 0 ] ;;
esac
