#!/bin/sh
# Guest side of gatehouse-vs-pptpd.sh: runs pptpd (poptop 1.4) as the PPTP server, whose pppd
# requires MS-CHAPv2 and 128-bit MPPE, until the host says it is done; pings the client's tunnel
# address from here when a session comes up, and reports one RESULT line.
# Usage (inside the guest): guest-pptpd.sh MODE LISTEN LOCALIP REMOTEIPS USER PASSWORD LOGDIR
#   MODE: mschapv2 (a client must connect with MPPE-128 and answer a ping) | bulk (as mschapv2,
#         and serve a 2 MiB random file on LOCALIP:8080 for the client) | badpass (a client
#         with the wrong password must be refused) | probe (no PPP expected: only the host's raw
#         SCCRQ probe) ; LOCALIP: pptpd's end of every tunnel, e.g. 198.19.9.1; REMOTEIPS: the
#         client pool, e.g. 198.19.9.10-19
# Handshake with the host through LOGDIR (the shared directory): this script creates
# pptpd-ready-MODE once pptpd listens on TCP 1723, and stops when the host creates done-MODE (or
# after GHVM_PPTPD_WAIT seconds, default 240).
[ $# -ge 7 ] || { echo "usage: guest-pptpd.sh MODE LISTEN LOCALIP REMOTEIPS USER PASSWORD LOGDIR" >&2; exit 2; }
mode=$1 listen=$2 localip=$3 remoteips=$4 user=$5 password=$6 logdir=$7
case $mode in mschapv2|badpass|probe|reference|bulk) ;; *) echo "unknown mode $mode" >&2; exit 2 ;; esac
wait_max=${GHVM_PPTPD_WAIT:-240}
. "$(dirname "$0")/lib-guest.sh"

pppdlog=$logdir/pptpd-pppd-$mode.log
sysloglog=$logdir/pptpd-syslog-$mode.log
: > "$pppdlog"; : > "$sysloglog"
rm -f "$logdir/pptpd-ready-$mode" "$logdir/pptpd-http-ready" "$logdir/pptpd-blob.sha256"

# pptpd, pptpctrl and pptpd's pppd plugin log through syslog(3): into the shared directory.
start_syslogd "$sysloglog"

# Configuration in the guest's own tmpfs; the host's /etc/pptpd.conf is never read.
mkdir -p /run/pptpd
cat > /run/pptpd/pptpd.conf <<EOF
option /run/pptpd/options
debug
localip $localip
remoteip $remoteips
EOF
# What a typical poptop install uses (Debian's /etc/ppp/pptpd-options), with the MPPE policy the
# issue names: MS-CHAPv2 only, MPPE-128 required; ms-dns goes out in IPCP (RFC 1877).
cat > /run/pptpd/options <<EOF
name pptpd
refuse-pap
refuse-chap
refuse-mschap
require-mschap-v2
require-mppe-128
ms-dns $localip
nodefaultroute
lock
nobsdcomp
nodeflate
novj
novjccomp
noipv6
nologfd
debug
logfile $pppdlog
EOF
printf '%s pptpd %s *\n' "$user" "$password" > /etc/ppp/chap-secrets
chmod 600 /etc/ppp/chap-secrets

echo "== guest: $(pptpd -v 2>&1 | head -1), $(pppd --version 2>&1 | head -1)"
# -f: stay in the foreground (our child); -l: listen only on the outer address.
pptpd -f -c /run/pptpd/pptpd.conf -l "$listen" -p /run/pptpd/pptpd.pid &
pptpd_pid=$!
i=0
while [ $i -lt 40 ]; do
  ss -Hltn 'sport = :1723' 2>/dev/null | grep -q . && break
  kill -0 $pptpd_pid 2>/dev/null || break
  sleep 0.25; i=$((i + 1))
done
if ss -Hltn 'sport = :1723' 2>/dev/null | grep -q .; then
  listening=yes
  echo "== guest: pptpd listening:"; ss -Hltnp 'sport = :1723'
  : > "$logdir/pptpd-ready-$mode"
else
  listening=no
  echo "== guest: pptpd is not listening on 1723"
fi

# Serve until the host is done. When a PPP interface comes up, ping the client's tunnel address
# from this side (the host pings us from its side), small and full MTU.
served=no ping=skipped bigping=skipped peer= ifc=
i=0
while [ $listening = yes ] && [ ! -e "$logdir/done-$mode" ] && [ $i -lt "$wait_max" ]; do
  if [ $served = no ]; then
    ifc=$(ip -4 -o addr show 2>/dev/null | awk '$2 ~ /^ppp/ && /peer/ { print $2; exit }')
    if [ -n "$ifc" ]; then
      served=yes
      ip -4 addr show dev "$ifc"
      peer=$(ip -4 -o addr show dev "$ifc" | sed -n 's/.* peer \([0-9.]*\).*/\1/p')
      mtu=$(cat "/sys/class/net/$ifc/mtu")
      echo "== guest: $ifc up (mtu $mtu), pinging the client at $peer"
      ping=fail bigping=fail
      ping -c 3 -W 5 -I "$ifc" "$peer" && ping=ok
      ping -c 2 -W 5 -s $((mtu - 28)) -M do -I "$ifc" "$peer" && bigping=ok
      echo "== guest: $ifc counters:"; grep -E "face|$ifc" /proc/net/dev
      if [ $mode = bulk ]; then
        # A 2 MiB random file on pptpd's tunnel address for the host's client to fetch through
        # the tunnel; its SHA-256 goes to the shared directory.
        mkdir -p /tmp/www && head -c 2097152 /dev/urandom > /tmp/www/blob
        sha256sum /tmp/www/blob | cut -d' ' -f1 > "$logdir/pptpd-blob.sha256"
        python3 -m http.server 8080 --bind "$localip" --directory /tmp/www > /tmp/http.log 2>&1 &
        http_pid=$!
        j=0
        while [ $j -lt 40 ] && ! ss -Hltn 'sport = :8080' | grep -q .; do sleep 0.25; j=$((j + 1)); done
        : > "$logdir/pptpd-http-ready"
        echo "== guest: serving http://$localip:8080/blob"
      fi
    fi
  fi
  sleep 1; i=$((i + 1))
done
[ -e "$logdir/done-$mode" ] || echo "== guest: host did not finish within ${wait_max}s"

# Was the session ended by the client (LCP Terminate from the peer) before we stop pptpd?
pppd_left=$(pgrep -x pppd | wc -l)
echo "== guest: stopping pptpd (pid $pptpd_pid); pppd processes still running: $pppd_left"
[ -n "${http_pid:-}" ] && kill $http_pid 2>/dev/null
kill -TERM $pptpd_pid 2>/dev/null
i=0
while kill -0 $pptpd_pid 2>/dev/null && [ $i -lt 10 ]; do sleep 1; i=$((i + 1)); done
kill -KILL $pptpd_pid 2>/dev/null
wait $pptpd_pid 2>/dev/null
sleep 1
kill $syslog_pid 2>/dev/null

mppe=no auth=none
grep -q 'MPPE 128-bit.*enabled' "$pppdlog" && mppe=yes
# pppd as authenticator logs "peer from calling number ... authorized" once CHAP succeeded.
grep -qi 'authorized' "$pppdlog" && auth=ok
grep -qi 'failed CHAP authentication\|failed MS-CHAP' "$pppdlog" && auth=failed
show_log "pppd log" "$pppdlog"
show_log "pptpd syslog" "$sysloglog"
echo "RESULT mode=$mode listening=$listening served=$served auth=$auth mppe=$mppe ping=$ping bigping=$bigping pppd_left=$pppd_left"
case $mode in
  probe) [ $listening = yes ] ;;
  badpass) [ $listening = yes ] && [ $served = no ] && [ $auth = failed ] ;;
  *) [ $served = yes ] && [ $auth = ok ] && [ $mppe = yes ] && [ $ping = ok ] && [ $bigping = ok ] && [ "$pppd_left" = 0 ] ;;
esac
