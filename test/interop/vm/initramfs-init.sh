#!/bin/busybox sh
# PID 1 of the interop guest (packed into the initramfs by build.sh): loads the virtio, 9p, PPP
# and xfrm/ESP modules, mounts the host's root read-only over 9p with tmpfs where pppd, xl2tpd
# and strongSwan must write, configures eth0 from the kernel command line, runs the command
# run-guest.sh left in the "ghvmrun" share, records its exit status there, and powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "ghvm-init: $*"; }
fail() { say "FATAL: $*"; echo 125 > /newroot/run/ghvm/rc 2>/dev/null; poweroff -f; sleep 5; echo o > /proc/sysrq-trigger; }

IP=; GW=; SHARE=; DELAY=
for arg in $(cat /proc/cmdline); do
  case $arg in
    ghvm.ip=*) IP=${arg#ghvm.ip=} ;;
    ghvm.gw=*) GW=${arg#ghvm.gw=} ;;
    ghvm.share=1) SHARE=1 ;;
    ghvm.delay=*) DELAY=${arg#ghvm.delay=} ;;
  esac
done

for m in $(cat /modules/order); do
  insmod "/modules/$m" || say "insmod $m failed"
done

R=/newroot
# cache=loose: the lower file system is read-only for the guest's whole life, so caching is safe
# and makes exec of binaries over 9p far faster under TCG.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $R || fail "mount hostroot"
mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts 2>/dev/null
mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts
ln -sf pts/ptmx $R/dev/ptmx 2>/dev/null
for d in /tmp /run /var/tmp /var/log /var/lib/sstpc /root; do
  [ -d $R$d ] && mount -t tmpfs -o mode=0755 tmpfs $R$d
done
chmod 1777 $R/tmp $R/var/tmp
mkdir -p $R/run/lock $R/run/sstpc $R/run/ghvm $R/run/ppp
# Writable copies of configuration the guest's programs write or the guest scripts replace:
# pppd writes /etc/ppp/resolv.conf (usepeerdns); the L2TP/IPsec road warrior (strongSwan's starter
# and charon, xl2tpd) gets its ipsec.conf, ipsec.secrets, strongswan.conf, certificates and keys
# written in place, where NetworkManager-l2tp's strongSwan set-up puts them. A directory becomes a
# tmpfs holding a copy; a file is bind-mounted from a copy in /run/ghvm-etc (a tmpfs).
for d in /etc/ppp /etc/ipsec.d /etc/strongswan.d /etc/swanctl /etc/xl2tpd; do
  [ -d $R$d ] || continue
  t=/etccopy$d
  mkdir -p $t && cp -a $R$d/. $t/
  mount -t tmpfs -o mode=0755 tmpfs $R$d && cp -a $t/. $R$d/
done
mkdir -p $R/run/ghvm-etc
for f in /etc/ipsec.conf /etc/ipsec.secrets /etc/strongswan.conf; do
  [ -f $R$f ] || continue
  cp -a $R$f $R/run/ghvm-etc/ && mount -o bind $R/run/ghvm-etc/${f##*/} $R$f
done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ghvmrun $R/run/ghvm || fail "mount ghvmrun"
if [ -n "$SHARE" ]; then
  mkdir -p $R/run/ghvm-share
  mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ghvmshare $R/run/ghvm-share || fail "mount ghvmshare"
fi

ip link set lo up
if [ -n "$IP" ]; then
  ip link set eth0 up
  ip addr add "$IP" dev eth0
  # The guest's only link is the TAP in the test namespace, so a default route there reaches
  # nothing else.
  [ -n "$GW" ] && ip route add default via "$GW" dev eth0
fi
# Emulated link delay on the guest's egress (tc comes from the host's iproute2).
if [ -n "$DELAY" ] && [ "$DELAY" != 0 ]; then
  chroot $R /sbin/tc qdisc add dev eth0 root netem delay "$DELAY" || say "netem delay $DELAY failed"
fi
hostname ghvm-guest

say "kernel $(uname -r), eth0 ${IP:-unconfigured}, egress delay ${DELAY:-none}, running command"
chroot $R /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
  /bin/sh /run/ghvm/cmd.sh
rc=$?
say "command exited with status $rc"
echo $rc > $R/run/ghvm/rc
sync
umount $R/run/ghvm
poweroff -f
sleep 5
echo o > /proc/sysrq-trigger
