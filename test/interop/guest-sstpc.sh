#!/bin/sh
# Guest side of sstpc-vs-gatehouse.sh: dials the gateway with the real sstp-client + pppd, waits
# for ppp0 to get an address, pings the gateway's tunnel address, then disconnects (SIGTERM to
# pppd: LCP Terminate; sstpc 1.0.18 then closes TLS without an SSTP Call-Disconnect) and reports
# one RESULT line.
# Usage (inside the guest): guest-sstpc.sh MODE SERVER USER PASSWORD CA_PEM TUNNEL_GW LOGDIR [SSTPC_OPT...]
#   MODE: mschapv2 (MS-CHAPv2 only) | eap (EAP only: EAP-MS-CHAPv2) | badpass (MS-CHAPv2 with the
#         wrong password: must be refused) | idle (MS-CHAPv2, no LCP echo, tunnel held 75 s, past the
#         60 s SSTP Hello timers) | ipv6cp (MS-CHAPv2 with pppd's IPv6CP on: the gateway, IPv4
#         only, must reject the protocol without harming the IPv4 link) | bulk (MS-CHAPv2, 300 full-size pings
#         in a burst, then a 2 MiB HTTP download over the tunnel, checked by SHA-256)
#   Env HOLD=SECONDS keeps the tunnel up that long before disconnecting (default 0; idle: 75).
[ $# -ge 7 ] || { echo "usage: guest-sstpc.sh MODE SERVER USER PASSWORD CA_PEM TUNNEL_GW LOGDIR [SSTPC_OPT...]" >&2; exit 2; }
mode=$1 server=$2 user=$3 password=$4 ca=$5 tunnel_gw=$6 logdir=$7
shift 7   # "$@": extra sstpc options, e.g. --cert-warn
. "$(dirname "$0")/lib-guest.sh"

# require-* would demand that the *gateway* authenticate to us; a client restricts the methods it
# will answer with refuse-*.
extra= hold=${HOLD:-0} v6=noipv6
case $mode in
  ipv6cp) auth="refuse-pap refuse-chap refuse-mschap refuse-eap" v6=+ipv6 ;;
  mschapv2|badpass|bulk) auth="refuse-pap refuse-chap refuse-mschap refuse-eap" ;;
  idle) auth="refuse-pap refuse-chap refuse-mschap refuse-eap" extra="lcp-echo-interval 0"; hold=${HOLD:-75} ;;
  # pppd has no require-eap: leave EAP as the only method it will agree to.
  eap) auth="refuse-pap refuse-chap refuse-mschap refuse-mschap-v2" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac

pppdlog=$logdir/pppd-$mode.log
sstpclog=$logdir/sstpc-$mode.log
: > "$pppdlog"
echo "== guest: sstpc $(sstpc --version 2>&1 | head -1 | sed 's/.*version //'), $(pppd --version 2>&1 | head -1)"
echo "== guest: dialing $server as $user, mode $mode, CA $ca"

# Everything after the host name goes to pppd. The pppd log goes to a file on the shared
# directory (logfile + debug) so the host keeps it; sstpc logs to stderr (tee'd to a file).
# shellcheck disable=SC2086
sstpc --ca-cert "$ca" --user "$user" --password "$password" --log-stderr --log-level 4 --log-lineno "$@" \
  "$server" \
  usepeerdns noauth nodefaultroute $auth nobsdcomp nodeflate $v6 $extra \
  debug logfile "$pppdlog" > "$sstpclog" 2>&1 &
sstpc_pid=$!

connected=no ping=fail bigping=fail bulk=skipped disconnect=unclean
wait_ppp0 $sstpc_pid

if [ $connected = yes ]; then
  ppp0_report
  ppp0_pings
  # Bulk TCP through the tunnel: the host serves a random file on the gateway's tunnel address
  # (sstpc-vs-gatehouse.sh) and leaves its SHA-256 in the shared directory.
  if [ $mode = bulk ] && [ -f "$logdir/www/blob.sha256" ]; then
    echo "== guest: 300 full-size pings, 5 ms apart"
    ping -q -c 300 -i 0.005 -W 5 -s $((mtu - 28)) -M do -I ppp0 "$tunnel_gw" || bulk=fail
    bulk_fetch 120
  fi
  if [ "$hold" -gt 0 ]; then
    echo "== guest: holding the tunnel for ${hold}s"
    sleep "$hold"
    if ip -4 -o addr show dev ppp0 2>/dev/null | grep -q inet && ping -c 1 -W 5 -I ppp0 "$tunnel_gw" >/dev/null; then
      echo "== guest: tunnel still up after ${hold}s"
    else
      echo "== guest: tunnel gone after ${hold}s"; ping=fail
    fi
  fi
  if [ -n "$peer" ] && [ "$peer" != "$tunnel_gw" ]; then
    echo "== guest: also pinging the PPP peer address $peer"
    ping -c 2 -W 5 -I ppp0 "$peer" || true
  fi
  # Disconnect the way a user would: stop pppd (it sends LCP Terminate-Request); sstpc sees pppd
  # end and closes the connection.
  pppd_pid=$(cat /run/ppp0.pid 2>/dev/null | head -1)
  if [ -n "$pppd_pid" ]; then
    echo "== guest: stopping pppd (pid $pppd_pid)"
    kill -TERM "$pppd_pid"
  else
    echo "== guest: no /run/ppp0.pid, stopping sstpc"
    kill -TERM $sstpc_pid
  fi
else
  echo "== guest: ppp0 never got an address (waited ${i}s)"
fi

if wait_exit $sstpc_pid 20; then
  wait $sstpc_pid; src=$?
  [ $connected = yes ] && disconnect=clean
else
  echo "== guest: sstpc still running after 20s, sending SIGTERM"
  kill -TERM $sstpc_pid; sleep 2
  kill -KILL $sstpc_pid 2>/dev/null
  wait $sstpc_pid 2>/dev/null; src=killed
fi

show_log "sstpc log" "$sstpclog"
show_log "pppd log" "$pppdlog"
echo "RESULT mode=$mode connected=$connected ping=$ping bigping=$bigping bulk=$bulk disconnect=$disconnect sstpc_exit=$src"
if [ $mode = badpass ]; then
  badpass_ok
else
  [ $connected = yes ] && [ $ping = ok ] && [ $bigping = ok ] && [ $bulk = ok -o $bulk = skipped ]
fi
