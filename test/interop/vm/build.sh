#!/bin/bash
# Builds the QEMU guest used by the interop tests: a Debian kernel plus a tiny busybox initramfs
# holding the modules the guest needs (virtio, 9p, PPP, kernel IPsec: xfrm + ESP). Output:
# /tmp/gatehouse-vm/.
# Nothing here lands in the repository; packages come from apt at run time.
set -euo pipefail

OUT=${GHVM_DIR:-/tmp/gatehouse-vm}
HERE=$(cd "$(dirname "$0")" && pwd)

# Packages: qemu (TCG emulation), a Debian kernel with PPP as modules, a static busybox for
# the initramfs, cpio to pack it; the L2TP/IPsec road warrior the guest runs from the host's root
# (strongSwan's charon + starter + swanctl, the standard plugins for ECP/GCM, xl2tpd). Installed
# only when missing.
missing=()
command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
ls /boot/vmlinuz-* >/dev/null 2>&1 || missing+=(linux-image-amd64)
command -v cpio >/dev/null || missing+=(cpio)
if ! file -L "$(command -v busybox 2>/dev/null || echo /nonexistent)" 2>/dev/null | grep -q 'statically linked'; then
  missing+=(busybox-static)
fi
[[ -x /usr/lib/ipsec/charon && -x /usr/sbin/ipsec ]] || missing+=(strongswan strongswan-charon strongswan-starter)
command -v swanctl >/dev/null || missing+=(strongswan-swanctl)
[[ -f /usr/lib/ipsec/plugins/libstrongswan-openssl.so ]] || missing+=(libstrongswan-standard-plugins)
command -v xl2tpd >/dev/null || missing+=(xl2tpd)
if ((${#missing[@]})); then
  echo "build.sh: installing ${missing[*]}" >&2
  [[ -n $(find /var/lib/apt/lists -name '*Packages*' -print -quit 2>/dev/null) ]] || apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
BUSYBOX=$(command -v busybox)

# Pick the newest kernel that has both an image and its modules (not the host's running kernel,
# which has no PPP support).
KVER=${GHVM_KVER:-}
if [[ -z $KVER ]]; then
  for v in $(ls -1 /lib/modules | sort -V); do
    [[ -f /boot/vmlinuz-$v && -f /lib/modules/$v/modules.dep ]] && KVER=$v
  done
fi
[[ -n $KVER ]] || { echo "build.sh: no kernel with modules under /boot and /lib/modules" >&2; exit 1; }

# Modules in dependency order (modprobe resolves the order; busybox insmod loads them).
# sch_netem: run-guest.sh delays the guest's egress (GHVM_DELAY) so the link has a real round trip.
# Kernel IPsec for the L2TP/IPsec road warrior (strongSwan's kernel-netlink plugin installs the SAs
# with xfrm): xfrm_user (netlink), esp4 (ESP; ESP-in-UDP for NAT-T is built into the kernel's
# xfrm4 input with CONFIG_XFRM=y), authenc + echainiv (AES-CBC/3DES with HMAC), gcm + seqiv + ctr
# + ghash (AES-GCM, RFC 4106), des_generic (3DES, old Windows proposals), sha512_generic
# (HMAC-SHA-384/512); AES-CBC, SHA-1/256 and HMAC are built in. echainiv/seqiv draw their IVs
# from the kernel's default RNG ("stdrng" = drbg, seeded by jitterentropy_rng): without those two
# every ESP SA add fails with ENOENT ("Kernel was unable to initialize cryptographic operations"),
# since the guest's kernel cannot autoload modules (no /sbin/modprobe in the initramfs).
MODS=(virtio_pci virtio_net 9p 9pnet_virtio ppp_generic ppp_async ppp_synctty ppp_mppe slhc sch_netem
      jitterentropy_rng drbg xfrm_user esp4 authenc echainiv seqiv gcm ctr ghash_generic des_generic
      sha512_generic)
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/ghvm-stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE"/{bin,dev,proc,sys,newroot,modules,etc}
cp "$BUSYBOX" "$STAGE/bin/busybox"
: > "$STAGE/modules/order"
for m in "${MODS[@]}"; do
  modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
  base=$(basename "$ko")
  case $ko in
    *.ko) cp "$ko" "$STAGE/modules/$base" ;;
    *.ko.xz) xz -dc "$ko" > "$STAGE/modules/${base%.xz}"; base=${base%.xz} ;;
    *.ko.zst) zstd -qdc "$ko" > "$STAGE/modules/${base%.zst}"; base=${base%.zst} ;;
    *) echo "build.sh: unexpected module file $ko" >&2; exit 1 ;;
  esac
  echo "$base" >> "$STAGE/modules/order"
done
install -m 0755 "$HERE/initramfs-init.sh" "$STAGE/init"

mkdir -p "$OUT"
(cd "$STAGE" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT/initramfs.gz.tmp"
mv "$OUT/initramfs.gz.tmp" "$OUT/initramfs.gz"
cp "/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
echo "$KVER" > "$OUT/kernel-version"
echo "build.sh: kernel $KVER, $(wc -l < "$STAGE/modules/order") modules -> $OUT" >&2
