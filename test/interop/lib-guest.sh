# Guest side shared by guest-sstpc.sh and guest-pptp.sh (and guest-pptpd.sh's syslog): wait for
# ppp0, report it, small/full-MTU pings, the bulk download, process waits, log dumps.
# Sourced by POSIX sh inside the QEMU guest; callers set mode, tunnel_gw, logdir and pppdlog.

# start_syslogd FILE: busybox syslogd (the host's static busybox, seen through the 9p root)
# writing into FILE; the guest has no syslog daemon and pptp/pptpd log only through syslog(3).
start_syslogd() {
  busybox syslogd -n -O "$1" &
  syslog_pid=$!
}

# wait_ppp0 PID: up to 90 s for ppp0 to get an IPv4 address while PID (the dialer) lives; sets
# connected (yes/no) and i (seconds waited).
wait_ppp0() {
  connected=no
  i=0
  while [ $i -lt 90 ]; do
    if ip -4 -o addr show dev ppp0 2>/dev/null | grep -q inet; then connected=yes; break; fi
    kill -0 "$1" 2>/dev/null || break
    sleep 1; i=$((i + 1))
  done
}

# ppp0_report: ppp0's addresses, the peer address (sets peer) and the DNS IPCP gave pppd.
ppp0_report() {
  echo "== guest: ppp0 up after ${i}s"
  ip -4 addr show dev ppp0
  peer=$(ip -4 -o addr show dev ppp0 | sed -n 's/.* peer \([0-9.]*\).*/\1/p')
  echo "== guest: ppp0 peer address: ${peer:-none}; DNS from IPCP (usepeerdns):"
  cat /etc/ppp/resolv.conf 2>/dev/null || echo "(no /etc/ppp/resolv.conf)"
}

# ppp0_pings: pings $tunnel_gw over ppp0 (sets ping), then full-MTU packets (ICMP data = MTU - 28)
# with DF set (sets mtu, bigping). ppp0's MTU is what LCP/IPCP (and pppd's MPPE reserve) left of
# the gateway's MRU, so this checks the gateway carries what it announced.
ppp0_pings() {
  if ping -c 3 -W 5 -I ppp0 "$tunnel_gw"; then ping=ok; fi
  mtu=$(cat /sys/class/net/ppp0/mtu)
  echo "== guest: full-size ping ($mtu-byte IP packets, DF set)"
  if ping -c 2 -W 5 -s $((mtu - 28)) -M do -I ppp0 "$tunnel_gw"; then bigping=ok; fi
}

# bulk_fetch MAX_SECONDS: after the caller's burst (bulk=fail if it failed), fetches the host's
# 2 MiB file from $tunnel_gw:8080 over ppp0 and checks it against $logdir/www/blob.sha256; bulk
# ends ok only when the burst and the fetch both were.
bulk_fetch() {
  echo "== guest: fetching http://$tunnel_gw:8080/blob over ppp0"
  [ $bulk = fail ] || bulk=fail_fetch
  if curl -sS --interface ppp0 --max-time "$1" -o /tmp/blob \
       -w '== guest: %{size_download} bytes in %{time_total}s (%{speed_download} B/s)\n' \
       "http://$tunnel_gw:8080/blob"; then
    want=$(cat "$logdir/www/blob.sha256") got=$(sha256sum /tmp/blob | cut -d' ' -f1)
    if [ "$want" = "$got" ]; then [ $bulk = fail ] || bulk=ok; else echo "== guest: SHA-256 mismatch: $got, want $want"; fi
  fi
}

# wait_exit PID SECONDS: waits up to SECONDS for PID to end; true when it has.
wait_exit() {
  i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt "$2" ]; do sleep 1; i=$((i + 1)); done
  ! kill -0 "$1" 2>/dev/null
}

# show_log WHAT FILE: the file on the console, under a header naming it.
show_log() {
  echo "== guest: $1 ($2):"
  cat "$2"
}

# badpass_ok: the badpass verdict. Success here means: no tunnel, and pppd saw the gateway refuse
# the credentials.
badpass_ok() {
  [ $connected = no ] && grep -q 'authentication failed' "$pppdlog"
}
