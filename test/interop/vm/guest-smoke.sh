#!/bin/sh
# Guest-side smoke check (run by run-guest.sh): proves the guest has a kernel with PPP, the
# network link to the test namespace, and the real sstp-client and pppd from the host's packages.
# Usage inside the guest: guest-smoke.sh GW_IP
gw=${1:?usage: guest-smoke.sh GW_IP}
ok=0
echo "== kernel: $(uname -r)"
if [ -c /dev/ppp ]; then echo "== /dev/ppp present: $(ls -l /dev/ppp)"; else echo "!! /dev/ppp missing"; ok=1; fi
echo "== PPP modules:"; grep -E '^(ppp_generic|ppp_async|ppp_synctty|ppp_mppe|slhc) ' /proc/modules || ok=1
echo "== eth0:"; ip -4 -o addr show dev eth0
if ping -c 2 -W 3 "$gw"; then echo "== ping $gw ok"; else echo "!! ping $gw failed"; ok=1; fi
for b in /usr/sbin/sstpc /usr/sbin/pppd; do
  if [ -x $b ]; then echo "== $b present"; else echo "!! $b missing"; ok=1; fi
done
/usr/sbin/sstpc --version 2>&1 | head -1
/usr/sbin/pppd --version 2>&1 | head -1
exit $ok
