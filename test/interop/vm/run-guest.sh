#!/bin/bash
# Boots the interop guest under QEMU TCG with its NIC on a TAP inside network namespace NS, runs
# CMD in the guest (host's root file system, read-only), streams the console, and exits with CMD's
# status. Usage: run-guest.sh NS GUEST_IP/PREFIX GW_IP CMD [ARG...]
#   NS         namespace holding the TAP (created, and removed at exit, if it does not exist)
#   GUEST_IP   the guest's eth0 address, e.g. 198.18.7.2/24
#   GW_IP      host side of the link; put on the TAP if no interface in NS has it yet
# Env: GHVM_TAP (TAP name, default ghvm-tap0), GHVM_TIMEOUT (seconds, default 600),
#      GHVM_MEM (MiB, default 512), GHVM_MAC (the NIC's MAC, default 52:54:00:67:68:02; give two
#      guests on one bridge different ones), GHVM_DELAY (netem delay on the guest's egress, default 0;
#      e.g. 20ms gives the link a round trip a real client would see), GHVM_DIR (build output, default /tmp/gatehouse-vm),
#      GHVM_KEEP=1 keeps the run directory (console log, exit status),
#      GHVM_SHARE=DIR shares a host directory read-write at /run/ghvm-share in the guest (the
#      guest's /tmp is its own tmpfs, so host files under /tmp are not visible otherwise).
set -euo pipefail

if (($# < 4)); then
  echo "usage: $0 NS GUEST_IP/PREFIX GW_IP CMD [ARG...]" >&2
  exit 2
fi
NS=$1 GUEST=$2 GW=$3
shift 3
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${GHVM_DIR:-/tmp/gatehouse-vm}
TAP=${GHVM_TAP:-ghvm-tap0}
TIMEOUT=${GHVM_TIMEOUT:-600}
PREFIX=${GUEST#*/}
[[ $PREFIX != "$GUEST" ]] || { echo "run-guest.sh: GUEST_IP needs a /prefix" >&2; exit 2; }
[[ $NS == ghvm_* ]] || { echo "run-guest.sh: namespace name must start with ghvm_" >&2; exit 2; }

[[ -f $OUT/vmlinuz && -f $OUT/initramfs.gz ]] || "$HERE/build.sh"

RUN=$(mktemp -d "$OUT/run.XXXXXX")
created_ns=0 created_tap=0
cleanup() {
  if ((created_tap)); then ip -n "$NS" link del "$TAP" 2>/dev/null || true; fi
  if ((created_ns)); then ip netns del "$NS" 2>/dev/null || true; fi
  if [[ ${GHVM_KEEP:-0} != 1 ]]; then rm -rf "$RUN"; else echo "run-guest.sh: kept $RUN" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! ip netns list | awk '{print $1}' | grep -qx "$NS"; then
  ip netns add "$NS"
  created_ns=1
fi
ip -n "$NS" link set lo up
if ! ip -n "$NS" link show "$TAP" >/dev/null 2>&1; then
  ip -n "$NS" tuntap add dev "$TAP" mode tap
  created_tap=1
fi
ip -n "$NS" link set "$TAP" up
if ! ip -n "$NS" -4 -o addr show | awk '{print $4}' | grep -q "^$GW/"; then
  ip -n "$NS" addr add "$GW/$PREFIX" dev "$TAP"
fi

# The command, quoted for the guest's /bin/sh (bash's %q output is valid POSIX-sh quoting for
# ordinary arguments).
{
  echo '#!/bin/sh'
  printf 'exec'; printf ' %q' "$@"; echo
} > "$RUN/cmd.sh"

share=() shareflag=
if [[ -n ${GHVM_SHARE:-} ]]; then
  share=(-fsdev "local,id=fs2,path=$(cd "$GHVM_SHARE" && pwd),security_model=none"
         -device "virtio-9p-pci,fsdev=fs2,mount_tag=ghvmshare")
  shareflag=" ghvm.share=1"
fi

# Serial console on stdio; stdin is /dev/null so nothing reaches the guest by accident.
# Kernel messages stay quiet (loglevel=4: warnings and worse) so the command's output is readable.
# timeout(1) bounds a hung guest (exit 124).
set +e
ip netns exec "$NS" timeout "$TIMEOUT" qemu-system-x86_64 \
  -accel tcg -m "${GHVM_MEM:-512}" -smp 1 \
  -display none -monitor none -serial stdio -no-reboot \
  -kernel "$OUT/vmlinuz" -initrd "$OUT/initramfs.gz" \
  -append "console=ttyS0 loglevel=4 panic=-1 ghvm.ip=$GUEST ghvm.gw=$GW ghvm.delay=${GHVM_DELAY:-0}$shareflag" \
  -netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no" \
  -device "virtio-net-pci,netdev=n0,mac=${GHVM_MAC:-52:54:00:67:68:02}" \
  -fsdev "local,id=fs0,path=/,security_model=none,readonly=on,multidevs=remap" \
  -device "virtio-9p-pci,fsdev=fs0,mount_tag=hostroot" \
  -fsdev "local,id=fs1,path=$RUN,security_model=none" \
  -device "virtio-9p-pci,fsdev=fs1,mount_tag=ghvmrun" \
  "${share[@]}" \
  < /dev/null 2>&1 | tr -d '\r' | tee "$RUN/console.log"
qrc=${PIPESTATUS[0]}
set -e
((qrc != 124)) || echo "run-guest.sh: guest timed out after ${TIMEOUT}s" >&2

if [[ -s $RUN/rc ]]; then
  rc=$(cat "$RUN/rc")
else
  echo "run-guest.sh: guest did not report an exit status" >&2
  rc=125
fi
exit "$rc"
