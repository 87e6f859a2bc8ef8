#!/usr/bin/env bash
# Interop check: tshark (an independent ESP implementation) decrypts packets sealed by our ESP SAs
# with the keys given to it, verifies every ICV, and finds no malformed field. Needs tshark and a
# build (npx tsc -p .). Usage: bash test/esp/tshark-decode.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=$(node dist/test/esp/tshark-pcap.js "$dir")
mkdir -p "$dir/cfg/wireshark" && cp "$dir/esp_sa" "$dir/cfg/wireshark/esp_sa"
run() { XDG_CONFIG_HOME="$dir/cfg" HOME="$dir" tshark -r "$dir/esp.pcap" -o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE -d udp.port==1701,l2tp "$@" 2>/dev/null; }
good=$(run -V | grep -E 'ESP ICV:' | grep -c '\[correct\]' || true)
icmp=$(run -Y 'icmp.type == 8 && ip.src == 10.0.0.1' | wc -l)
l2tp=$(run -Y 'l2tp.tunnel == 1' | wc -l)
bad=$(run -V | grep -ciE 'malformed|\[incorrect|expert info \((warning|error)' || true)
echo "packets=$n icv-correct=$good inner-icmp=$icmp inner-l2tp=$l2tp malformed-or-warnings=$bad"
[ "$good" -eq "$n" ] && [ $((icmp + l2tp)) -eq "$n" ] && [ "$bad" -eq 0 ] && echo "tshark-decode: OK" || { echo "tshark-decode: FAILED"; exit 1; }
