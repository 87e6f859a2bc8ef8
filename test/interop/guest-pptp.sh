#!/bin/sh
# Guest side of pptp-vs-gatehouse.sh: dials the gateway with the real pptp-linux + pppd (kernel
# MPPE, require-mppe-128), waits for ppp0 to get an address, pings the gateway's tunnel address,
# then disconnects (SIGTERM to pppd: LCP Terminate, then pptp clears the call) and reports one
# RESULT line.
# Usage (inside the guest): guest-pptp.sh MODE SERVER USER PASSWORD TUNNEL_GW LOGDIR
#   MODE: mschapv2 (MS-CHAPv2 + MPPE-128, small and full-MTU pings) | badpass (wrong password:
#         must be refused) | bulk (as mschapv2, then 300 full-size pings in a burst and a 2 MiB
#         HTTP download over the tunnel, checked by SHA-256) | stateful (as mschapv2, but pppd
#         also offers MPPE stateful mode; the gateway may pick either) | idle (as mschapv2 with
#         pppd's LCP echo off, tunnel held 75 s: past the 60 s PPTP control Echo-Request timers of
#         both ends) | kill (as mschapv2, then pppd and pptp are killed with SIGKILL: no LCP
#         Terminate, no Call-Clear; the kernel closes the TCP connection. The host checks that the
#         gateway ends the session.) | two (as mschapv2, plus a second pppd + pptp session while
#         the first is up: a second call on pptp's one control connection; ping over both at once,
#         end the second, the first must keep working) | nomppe (pppd refuses MPPE) | mppe40 (pppd
#         wants 40-bit MPPE only) | mschapv1 (pppd answers MS-CHAP v1 only): the gateway requires
#         MS-CHAPv2 + MPPE-128, so these three must be refused
#   Env HOLD=SECONDS keeps the tunnel up that long before disconnecting (default 0); HOSTPING=1
#   waits (up to 40 s) for the host to create LOGDIR/host-done-MODE before disconnecting.
[ $# -ge 6 ] || { echo "usage: guest-pptp.sh MODE SERVER USER PASSWORD TUNNEL_GW LOGDIR" >&2; exit 2; }
mode=$1 server=$2 user=$3 password=$4 tunnel_gw=$5 logdir=$6
. "$(dirname "$0")/lib-guest.sh"

# require-* would demand that the *gateway* authenticate to us (pppd then stops at once); a client
# restricts the methods it will answer with refuse-*. require-mppe-128 is what the issue asks for:
# pppd ends the link unless CCP settles on 128-bit MPPE.
extra= hold=${HOLD:-0} mppeopt=require-mppe-128 authopt="refuse-pap refuse-chap refuse-mschap refuse-eap"
case $mode in
  mschapv2|badpass|bulk) ;;
  # Policy refusals: the gateway requires MS-CHAPv2 and 128-bit MPPE; each of these clients must
  # be turned away, and no IPv4 may cross in the clear meanwhile.
  nomppe) mppeopt=nomppe ;;
  mppe40) mppeopt="require-mppe-40 nomppe-128" ;;
  mschapv1) authopt="refuse-pap refuse-chap refuse-mschap-v2 refuse-eap" ;;
  stateful) extra=mppe-stateful ;;
  idle) extra="lcp-echo-interval 0"; hold=${HOLD:-75} ;;
  kill|two) ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac

pppdlog=$logdir/pppd-$mode.log
sysloglog=$logdir/syslog-$mode.log
: > "$pppdlog"; : > "$sysloglog"

# pptp-linux logs only through syslog(3): into the shared directory.
start_syslogd "$sysloglog"

# pppd looks up the secret by (client = name, server = the gateway's CHAP name); '*' matches any
# server name. /etc/ppp is the guest's writable copy (initramfs-init.sh).
printf '%s * %s *\n' "$user" "$password" > /etc/ppp/chap-secrets
chmod 600 /etc/ppp/chap-secrets

echo "== guest: $(pptp --version 2>&1 | grep -m1 'pptp version'), $(pppd --version 2>&1 | head -1)"
echo "== guest: dialing $server as $user, mode $mode"

# /etc/ppp/options.pptp is Debian's stock client file (lock noauth refuse-pap refuse-eap
# refuse-chap refuse-mschap nobsdcomp nodeflate). nodetach keeps pppd our child so $! is its pid.
# --loglevel 2: pptp logs every control message it sends and receives (to syslog).
# start_pppd UNIT LOGFILE: one pppd + pptp session on pppUNIT, in the background.
start_pppd() {
  # shellcheck disable=SC2086
  pppd nodetach unit "$1" pty "pptp $server --nolaunchpppd --loglevel 2 --logstring pptp-$mode-$1" \
    file /etc/ppp/options.pptp \
    name "$user" user "$user" remotename gatehouse \
    noauth $authopt $mppeopt $extra \
    usepeerdns nodefaultroute nobsdcomp nodeflate noipv6 \
    debug logfile "$2" > "$2.stdout" 2>&1 &
}
start_pppd 0 "$pppdlog"
pppd_pid=$!

connected=no ping=fail bigping=fail bulk=skipped disconnect=unclean mppe=no two=skipped
wait_ppp0 $pppd_pid

if [ $connected = yes ]; then
  ppp0_report
  # The kernel's ppp_mppe is what encrypts: pppd logs the negotiated MPPE mode when CCP opens.
  grep -q 'MPPE 128-bit.*enabled' "$pppdlog" && mppe=yes
  ppp0_pings
  if [ $mode = bulk ] && [ -f "$logdir/www/blob.sha256" ]; then
    echo "== guest: 300 full-size pings, 5 ms apart"
    # ping fails only when nothing came back; more than 1% lost (3 of 300) also fails the mode.
    ping -q -c 300 -i 0.005 -W 5 -s $((mtu - 28)) -M do -I ppp0 "$tunnel_gw" > /tmp/burst 2>&1 || bulk=fail
    cat /tmp/burst
    lost=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' /tmp/burst)
    awk -v l="${lost:-100}" 'BEGIN { exit !(l > 1) }' && { echo "== guest: ${lost:-?}% lost in the burst"; bulk=fail; }
    bulk_fetch 180
  fi
  # The host pings our tunnel address from its side at the gateway's TUN MTU (gateway -> client
  # full size); it creates host-done-MODE in the shared directory when it has finished.
  if [ -n "${HOSTPING:-}" ]; then
    i=0
    while [ ! -e "$logdir/host-done-$mode" ] && [ $i -lt 40 ]; do sleep 1; i=$((i + 1)); done
    [ -e "$logdir/host-done-$mode" ] && echo "== guest: host finished its pings: $(cat "$logdir/host-done-$mode")"
  fi
  # Mode two: a second session from the same address while the first is up. pptp-linux hands it
  # to its running call manager, so this is a second call on the same control connection: the
  # gateway must tell the two GRE calls apart by Call ID alone (same source address).
  if [ $mode = two ]; then
    two=fail
    start_pppd 1 "$logdir/pppd-two-1.log"
    pppd1_pid=$!
    i=0
    while [ $i -lt 60 ] && ! ip -4 -o addr show dev ppp1 2>/dev/null | grep -q inet; do
      kill -0 $pppd1_pid 2>/dev/null || break
      sleep 1; i=$((i + 1))
    done
    if ip -4 -o addr show dev ppp1 2>/dev/null | grep -q inet; then
      ip -4 addr show dev ppp1
      mtu1=$(cat /sys/class/net/ppp1/mtu)
      echo "== guest: pinging over ppp1 and ppp0 at once"
      ping -c 5 -i 0.2 -W 5 -s $((mtu1 - 28)) -M do -I ppp1 "$tunnel_gw" > /tmp/ping1 2>&1 &
      p1=$!
      ping -c 5 -i 0.2 -W 5 -s $((mtu - 28)) -M do -I ppp0 "$tunnel_gw" > /tmp/ping0 2>&1 && r0=ok || r0=fail
      wait $p1 && r1=ok || r1=fail
      cat /tmp/ping1 /tmp/ping0
      echo "== guest: stopping the second session (pid $pppd1_pid); the first must stay up"
      kill -TERM $pppd1_pid; wait $pppd1_pid
      sleep 2
      ping -c 2 -W 5 -I ppp0 "$tunnel_gw" >/dev/null && r2=ok || r2=fail
      echo "== guest: ppp1 ping $r1, ppp0 ping at the same time $r0, ppp0 after ppp1 ended $r2"
      [ $r0 = ok ] && [ $r1 = ok ] && [ $r2 = ok ] && two=ok
    else
      echo "== guest: ppp1 never came up"; kill -TERM $pppd1_pid 2>/dev/null
    fi
    echo "== guest: second session pppd log:"; cat "$logdir/pppd-two-1.log"
  fi
  if [ "$hold" -gt 0 ]; then
    echo "== guest: holding the tunnel for ${hold}s"
    sleep "$hold"
    if ping -c 1 -W 5 -I ppp0 "$tunnel_gw" >/dev/null; then echo "== guest: tunnel still up"; else echo "== guest: tunnel gone"; ping=fail; fi
  fi
  echo "== guest: ppp0 counters:"; cat /proc/net/dev | grep -E 'Inter|face|ppp0'
  if [ $mode = kill ]; then
    # pptp renames its processes ("pptp: call manager for ...", changing what pgrep -x sees), so
    # find them by command line. Everything here runs in this throw-away guest and is ours.
    pp=$(pgrep -f '^pptp' | tr '\n' ' ')
    echo "== guest: killing pppd (pid $pppd_pid) and pptp ($pp) with SIGKILL:"
    ps -o pid,comm,args -p "$(echo $pppd_pid $pp | tr ' ' ,)" 2>&1
    # Stop them all first: on this one-CPU guest the call manager would otherwise run between two
    # kills, see its GRE sibling's socket close and still send a Call-Clear-Request.
    kill -STOP $pppd_pid $pp 2>/dev/null
    kill -KILL $pppd_pid $pp 2>/dev/null
  else
    echo "== guest: stopping pppd (pid $pppd_pid)"
    kill -TERM $pppd_pid
  fi
else
  echo "== guest: ppp0 never got an address (waited ${i}s)"
fi

if wait_exit $pppd_pid 20; then
  wait $pppd_pid; prc=$?
  # pppd exit 5: "terminated by a signal" (our SIGTERM), the clean end of a session we stopped.
  [ $connected = yes ] && [ $prc = 5 ] && disconnect=clean
  # SIGKILL: 128 + 9 from the shell's wait; the point of the mode is that nothing was said.
  [ $mode = kill ] && [ $connected = yes ] && [ $prc = 137 ] && disconnect=killed
else
  echo "== guest: pppd still running after 20s, sending SIGKILL"
  kill -KILL $pppd_pid; wait $pppd_pid 2>/dev/null; prc=killed
fi
# pptp's call manager outlives pppd for a moment while it sends Call-Clear-Request and
# Stop-Control-Connection-Request; give it time, then report anything left.
i=0
while pgrep -f '^pptp' >/dev/null 2>&1 && [ $i -lt 10 ]; do sleep 1; i=$((i + 1)); done
if pgrep -f '^pptp' >/dev/null 2>&1; then
  echo "== guest: pptp still running 10s after pppd ended:"; pgrep -a -f '^pptp'
  leftover=yes
else
  leftover=no
fi
sleep 1
kill $syslog_pid 2>/dev/null

show_log "pppd log" "$pppdlog"
show_log "pptp syslog" "$sysloglog"
echo "RESULT mode=$mode connected=$connected mppe=$mppe ping=$ping bigping=$bigping bulk=$bulk two=$two disconnect=$disconnect pppd_exit=$prc pptp_left=$leftover"
if [ $mode = badpass ]; then
  badpass_ok
elif [ $mode = nomppe ] || [ $mode = mppe40 ] || [ $mode = mschapv1 ]; then
  # Refused by policy: no tunnel, and pppd gave up by itself (it did not hang until we killed it).
  [ $connected = no ] && [ "$prc" != killed ]
else
  want=clean; [ $mode = kill ] && want=killed
  [ $connected = yes ] && [ $mppe = yes ] && [ $ping = ok ] && [ $bigping = ok ] && [ $bulk = ok -o $bulk = skipped ] \
    && [ $two = ok -o $two = skipped ] && [ $disconnect = $want ]
fi
