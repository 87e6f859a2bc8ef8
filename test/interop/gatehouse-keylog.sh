#!/bin/sh
# Runs the gatehouse CLI with Node's TLS key log enabled (NSS key log format, read by
# Wireshark/tshark as tls.keylog_file), so captures of the gateway's SSTP sessions can be decrypted.
# Usage: gatehouse-keylog.sh KEYLOG_FILE GATEHOUSE_ARGS...   e.g. ... /tmp/k.log serve --dir D
[ $# -ge 2 ] || { echo "usage: $0 KEYLOG_FILE GATEHOUSE_ARGS..." >&2; exit 2; }
keylog=$1
shift
repo=$(cd "$(dirname "$0")/../.." && pwd)
NODE_OPTIONS="${NODE_OPTIONS:+$NODE_OPTIONS }--tls-keylog=$keylog" exec node "$repo/bin/gatehouse.js" "$@"
