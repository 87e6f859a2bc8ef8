#!/bin/bash
# Decodes an SSTP capture with tshark and the TLS key log, and reports every SSTP and PPP packet
# plus every malformed field and expert warning/error. Usage: decode-capture.sh CAP KEYLOG PREFIX
# Writes PREFIX.sstp-packets (how many SSTP packets tshark dissected), PREFIX.summary.txt (one line per SSTP/PPP packet), PREFIX.verbose.txt (full decode of those
# packets) and PREFIX.problems.txt (malformed/expert >= warning). Exit 1 when problems are found or
# when no SSTP packet decoded at all (for example, TLS not decrypted).
set -uo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 CAP KEYLOG PREFIX" >&2; exit 2; }
cap=$1 keylog=$2 prefix=$3
ts() { tshark -n -r "$cap" -o "tls.keylog_file:$keylog" "$@" 2>/dev/null; }

# _ws.expert.severity holds Wireshark's PI_* values: warning is 0x00600000, error 0x00800000.
# Problems: anything malformed anywhere, and expert warnings/errors in the TLS/HTTP/SSTP/PPP layers.
# TCP-level notes (RST at teardown, retransmissions) are listed separately as transport notes.
problems='_ws.malformed || ((tls || http || sstp || ppp) && _ws.expert.severity >= 0x00600000)'
transport='!(_ws.malformed || tls || http || sstp || ppp) && _ws.expert.severity >= 0x00600000'
# One frame can carry several SSTP packets (the Info column shows only the last), so the PPP
# protocols, CHAP and EAP codes of every packet in the frame are listed too.
ts -Y 'sstp || ppp' -T fields -E separator=' | ' -E aggregator=, \
  -e frame.number -e ip.src -e ip.dst -e sstp.messagetype -e ppp.protocol -e chap.code -e eap.code \
  -e _ws.col.Info > "$prefix.summary.txt"
ts -Y 'sstp || ppp' -V > "$prefix.verbose.txt"
ts -Y "$problems" -T fields -E separator=' | ' \
  -e frame.number -e _ws.col.Protocol -e _ws.expert.severity -e _ws.expert.message -e _ws.col.Info > "$prefix.problems.txt"

ts -Y "$transport" -T fields -E separator=' | ' \
  -e frame.number -e _ws.col.Protocol -e _ws.expert.message -e _ws.col.Info > "$prefix.transport-notes.txt"
tls_records=$(ts -Y tls | wc -l)
sstp_count=$(ts -Y sstp | wc -l)
# SSTP packets, not frames: one frame can hold several (sstp.length occurs once per packet).
ts -Y sstp -T fields -E occurrence=a -E aggregator=' ' -e sstp.length | wc -w > "$prefix.sstp-packets"
ppp_count=$(ts -Y ppp | wc -l)
http_count=$(ts -Y http | wc -l)
# Decrypted application data that no SSTP/HTTP dissector claimed would hide packets from the check.
ts -Y 'tls.app_data && !(sstp || http)' -T fields -E separator=' | ' -e frame.number -e _ws.col.Info >> "$prefix.problems.txt"
prob_count=$(wc -l < "$prefix.problems.txt")
echo "== decode $(basename "$cap"): $tls_records TLS frames, $http_count HTTP, $sstp_count SSTP frames ($(cat "$prefix.sstp-packets") SSTP packets), $ppp_count PPP frames, $prob_count malformed/expert>=warning"
echo "-- HTTP preamble:"
ts -Y http -T fields -e frame.number -e ip.src -e _ws.col.Info
echo "-- SSTP/PPP frames (frame | src | dst | SSTP control types | PPP protocols | CHAP codes | EAP codes | info of the last packet):"
cat "$prefix.summary.txt"
if [[ -s $prefix.transport-notes.txt ]]; then
  echo "-- transport notes (TCP expert >= warning, not counted as problems):"
  cat "$prefix.transport-notes.txt"
fi
if ((prob_count > 0)); then
  echo "-- PROBLEMS (frame | protocol | severity | expert message | info):"
  cat "$prefix.problems.txt"
  echo "-- verbose decode of the problem frames:"
  for f in $(cut -d' ' -f1 "$prefix.problems.txt" | sort -un | head -20); do
    ts -Y "frame.number == $f" -O sstp,ppp,lcp,ipcp,chap,eap,ccp,pap -V | sed -n '/^Secure Socket Tunneling\|^Point-to-Point\|^PPP\|^Challenge\|^Extensible\|^Internet Protocol Control\|^Link Control\|^Compression Control/,$p'
  done
fi
((prob_count == 0 && sstp_count > 0))
