#!/bin/sh
# Guest side of l2tp-vs-gatehouse.sh: dials the gateway with the real Linux L2TP client (xl2tpd as
# LAC, plain L2TP without IPsec, + pppd with kernel MPPE, require-mppe-128), waits for ppp0, pings
# the gateway's tunnel address (small and full MTU), then disconnects and reports one RESULT line.
# Usage (inside the guest): guest-xl2tpd.sh MODE SERVER USER PASSWORD TUNNEL_GW LOGDIR
#   MODE: mschapv2 (MS-CHAPv2 + MPPE-128, pings, clean disconnect) | badpass (wrong password: must be
#         refused) | bulk (as mschapv2, plus a 2 MiB HTTP download over the tunnel, checked by SHA-256)
[ $# -ge 6 ] || { echo "usage: guest-xl2tpd.sh MODE SERVER USER PASSWORD TUNNEL_GW LOGDIR" >&2; exit 2; }
mode=$1 server=$2 user=$3 password=$4 tunnel_gw=$5 logdir=$6
. "$(dirname "$0")/lib-guest.sh"
case $mode in mschapv2|badpass|bulk) ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac

pppdlog=$logdir/pppd-$mode.log
xl2tpdlog=$logdir/xl2tpd-$mode.log
: > "$pppdlog"; : > "$xl2tpdlog"

printf '%s * %s *\n' "$user" "$password" > /etc/ppp/chap-secrets
chmod 600 /etc/ppp/chap-secrets
# pppd options for the call xl2tpd places. As in guest-pptp.sh: the client restricts the methods it
# answers with (refuse-*) and demands 128-bit MPPE; the gateway is not asked to authenticate.
cat > /tmp/options.l2tp <<OPT
name $user
user $user
remotename gatehouse
noauth
refuse-pap
refuse-chap
refuse-mschap
refuse-eap
require-mppe-128
usepeerdns
nodefaultroute
nobsdcomp
nodeflate
noipv6
debug
logfile $pppdlog
OPT
# A LAC that dials at start (autodial) once (redial = no); no tunnel secret (no challenge).
mkdir -p /run/xl2tpd
cat > /tmp/xl2tpd.conf <<CONF
[global]
port = 1701
access control = no
[lac gatehouse]
lns = $server
autodial = yes
redial = no
require authentication = no
name = $user
ppp debug = yes
pppoptfile = /tmp/options.l2tp
length bit = yes
CONF

echo "== guest: $(xl2tpd -v 2>&1 | head -1), $(pppd --version 2>&1 | head -1)"
echo "== guest: dialing $server as $user, mode $mode (plain L2TP, no IPsec)"
xl2tpd -D -c /tmp/xl2tpd.conf -p /run/xl2tpd/xl2tpd.pid -C /run/xl2tpd/l2tp-control > "$xl2tpdlog" 2>&1 &
xl2tpd_pid=$!

connected=no ping=fail bigping=fail bulk=skipped disconnect=unclean mppe=no
wait_ppp0 $xl2tpd_pid
if [ $connected = yes ]; then
  ppp0_report
  grep -q 'MPPE 128-bit.*enabled' "$pppdlog" && mppe=yes
  ppp0_pings
  if [ $mode = bulk ] && [ -f "$logdir/www/blob.sha256" ]; then bulk=ok; bulk_fetch 180; fi
  echo "== guest: ppp0 counters:"; grep -E 'Inter|face|ppp0' /proc/net/dev
  # Hang up the way an administrator does: xl2tpd's control pipe ("d NAME" disconnects the LAC):
  # pppd gets SIGTERM (LCP Terminate), then xl2tpd sends CDN and StopCCN.
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
show_log "pppd log" "$pppdlog"
show_log "xl2tpd log" "$xl2tpdlog"
echo "RESULT mode=$mode connected=$connected mppe=$mppe ping=$ping bigping=$bigping bulk=$bulk disconnect=$disconnect"
if [ $mode = badpass ]; then
  [ $connected = no ] && grep -qi 'authentication failed\|MS-CHAP authentication failed\|E=691' "$pppdlog"
else
  [ $connected = yes ] && [ $mppe = yes ] && [ $ping = ok ] && [ $bigping = ok ] && [ $bulk = ok -o $bulk = skipped ] && [ $disconnect = clean ]
fi
