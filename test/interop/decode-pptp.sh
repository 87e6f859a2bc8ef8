#!/bin/bash
# Decodes a PPTP capture (RFC 2637: control connection on TCP 1723, enhanced GRE carrying PPP)
# with tshark, lists every control message and PPP packet, and counts the problems.
# Usage: decode-pptp.sh CAP PREFIX [EXPECT]   EXPECT: mppe (default: after CCP every data packet
#        must be an MPPE-encrypted "PPP Comp" 0x00FD frame, no plaintext IP) or none.
# Writes PREFIX.summary.txt (control messages + PPP packets), PREFIX.verbose.txt (full decode of
# control and PPP control-protocol frames), PREFIX.problems.txt, PREFIX.transport-notes.txt and
# PREFIX.counts.txt. Exit 1 on any problem, or when no PPTP control message was dissected.
set -uo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 CAP PREFIX [mppe|none]" >&2; exit 2; }
cap=$1 prefix=$2 expect=${3:-mppe}
ts() { tshark -n -r "$cap" "$@" 2>/dev/null; }

# _ws.expert.severity holds Wireshark's PI_* values: warning is 0x00600000, error 0x00800000.
# tshark's PPTP dissector takes TCP port 1723 by default; GRE protocol type 0x880B hands the
# payload to PPP, and PPP protocol 0x00FD (RFC 1962 §4, MPPE per RFC 3078 §3) to "PPP Comp"
# (comp_data), which shows the encrypted bytes as opaque data: there is nothing more to decode
# without the keys.
problems='_ws.malformed || ((pptp || gre || ppp) && _ws.expert.severity >= 0x00600000)'
transport='!(_ws.malformed || pptp || gre || ppp) && _ws.expert.severity >= 0x00600000'

: > "$prefix.problems.txt"
ts -Y 'pptp || (ppp && !comp_data)' -T fields -E separator=' | ' -E aggregator=, \
  -e frame.number -e frame.time_relative -e ip.src -e ip.dst -e pptp.control_message_type -e gre.key.call_id -e gre.sequence_number -e gre.ack_number \
  -e ppp.protocol -e _ws.col.Info > "$prefix.summary.txt"
ts -Y 'pptp || (ppp && !comp_data)' -V > "$prefix.verbose.txt"
ts -Y "$problems" -T fields -E separator=' | ' \
  -e frame.number -e _ws.col.Protocol -e _ws.expert.severity -e _ws.expert.message -e _ws.col.Info >> "$prefix.problems.txt"
ts -Y "$transport" -T fields -E separator=' | ' \
  -e frame.number -e _ws.col.Protocol -e _ws.expert.message -e _ws.col.Info > "$prefix.transport-notes.txt"

n() { ts -Y "$1" | wc -l; }
pptp_frames=$(n pptp)
# Control messages, not frames: one TCP segment can carry several (pptp.type occurs once each).
pptp_msgs=$(ts -Y pptp -T fields -E occurrence=a -E aggregator=' ' -e pptp.control_message_type | wc -w)
gre_all=$(n gre)
gre_ppp=$(n 'gre.key.payload_length > 0')
gre_ackonly=$(n 'gre && !ppp')
ppp_all=$(n ppp)
comp=$(n comp_data)
plain_ip=$(n 'gre && ppp.protocol == 0x0021')
lcp=$(n lcp) chap=$(n chap) ccp=$(n ccp) ipcp=$(n ipcp)
{
  echo "pptp_frames=$pptp_frames pptp_messages=$pptp_msgs gre=$gre_all gre_ppp=$gre_ppp gre_ack_only=$gre_ackonly"
  echo "ppp=$ppp_all lcp=$lcp chap=$chap ccp=$ccp ipcp=$ipcp mppe_comp_data=$comp plaintext_ip=$plain_ip"
  echo "pptp control messages by type (1 SCCRQ 2 SCCRP 3 StopCCRQ 4 StopCCRP 5 EchoRQ 6 EchoRP 7 OCRQ 8 OCRP 9 ICRQ 10 ICRP 11 ICCN 12 CCRQ 13 CDN 14 WEN 15 SLI):"
  ts -Y pptp -T fields -E occurrence=a -E aggregator=' ' -e ip.src -e pptp.control_message_type \
    | awk '{ for (i = 2; i <= NF; i++) c[$1 " type " $i]++ } END { for (k in c) print "  " k ": " c[k] }' | sort
  echo "PPP protocols per direction (0x00fd = MPPE data):"
  ts -Y ppp -T fields -e ip.src -e ppp.protocol | sort | uniq -c | sed 's/^/  /'
  echo "CCP packets (frame, src, code: 1 Conf-Req 2 Ack 3 Nak 4 Rej 5 Term-Req 6 Term-Ack 14 Reset-Req 15 Reset-Ack, id, MPPE bits 0x01000040 = H(stateless)+S(128)):"
  ts -Y ccp -T fields -e frame.number -e ip.src -e ppp.code -e ppp.identifier -e ccp.opt.supported_bits -e _ws.col.Info | sed 's/^/  /'
} > "$prefix.counts.txt"

if [[ $expect == mppe && $plain_ip -gt 0 ]]; then
  # require-mppe-128 on both ends: an IPv4 datagram outside MPPE is a leak, not a style issue.
  ts -Y 'gre && ppp.protocol == 0x0021' -T fields -E separator=' | ' -e frame.number -e ip.src -e ip.dst \
    -e _ws.col.Info | sed 's/$/ | plaintext IPv4 in GRE although MPPE is required/' >> "$prefix.problems.txt"
fi
# Second opinion on the enhanced GRE header, field by field, that does not rely on tshark's expert
# info (its GRE dissector does not check these): RFC 2637 §4.1 C=0 R=0 K=1 s=0 Recur=0 Flags=0
# Ver=1 Protocol=0x880B; S set exactly when a payload is present; Payload Length equal to what
# follows the header; the Call ID the peer assigned in its Outgoing-Call-Request/-Reply; sequence
# numbers up by one per payload packet in each direction (§4.2; nothing is lost between the TAP
# and the host, so a gap or repeat is the sender's); an acknowledgement never for a packet not
# yet seen and never going back (§4.2). Packets beyond the peer's Packet Receive Window (§4.4)
# are listed as notes, since the capture point sees the peer's acks late.
{
  ts -Y 'pptp.control_message_type == 7 || pptp.control_message_type == 8' -T fields -E separator=, \
    -e ip.src -e pptp.control_message_type -e pptp.call_id -e pptp.peer_call_id -e pptp.packet_receive_window_size \
    | sed 's/^/C,/'
  ts -Y gre -T fields -E separator=, -e frame.number -e ip.src -e ip.len -e ip.hdr_len -e gre.flags.checksum \
    -e gre.flags.routing -e gre.flags.key -e gre.flags.sequence_number -e gre.flags.strict_source_route \
    -e gre.flags.recursion_control -e gre.flags.ack -e gre.flags.reserved -e gre.flags.version -e gre.proto \
    -e gre.key.payload_length -e gre.key.call_id -e gre.sequence_number -e gre.ack_number -e ip.reassembled.length \
    | sed 's/^/G,/'
} | awk -F, -v notes="$prefix.gre-notes.txt" '
  function bad(msg) { printf "%s | GRE | check | %s\n", $2, msg; nbad++ }
  $1 == "C" { if ($3 == 7) { pns = $2; pnsid = $4; pnswin = $6 } else { pac = $2; pacid = $4; pacwin = $6 }; next }
  {
    f = $2; src = $3; plen = $16 + 0; S = $9; A = $12
    if ($6 != 0 || $7 != 0 || $8 != 1 || $10 != 0 || $11 != 0 || $13 != 0 || $14 != 1 || tolower($15) != "0x880b")
      bad("header bits C R K s Recur Flags Ver Proto = " $6 " " $7 " " $8 " " $10 " " $11 " " $13 " " $14 " " $15 " (want 0 0 1 0 0 0 1 0x880b)")
    if ((plen > 0) != (S == 1)) bad("S=" S " with payload length " plen)
    hl = 8 + 4 * (S == 1) + 4 * (A == 1)
    # A GRE packet larger than the path MTU arrives as IP fragments: tshark reassembles them and
    # dissects GRE in the last one, whose ip.reassembled.length is what follows the IP header.
    avail = ($20 != "") ? $20 - hl : $4 - $5 - hl
    if ($20 != "") nfrag++
    if (avail != plen) bad("payload length " plen " but " avail " bytes follow the header")
    want = (src == pns) ? pacid : (src == pac) ? pnsid : ""
    if (want != "" && $17 != want) bad("call id " $17 " from " src ", the peer assigned " want)
    if (S == 1) {
      seq = $18 + 0
      if (src in last && seq != (last[src] + 1) % 4294967296) bad("sequence " seq " from " src " after " last[src])
      last[src] = seq; maxseq[src] = seq
      other = (src == pns) ? pac : pns
      win = (src == pns) ? pacwin : pnswin
      if (win != "" && (src in sent)) {
        out = seq - ((other in acked) ? acked[other] : first[src] - 1)
        if (out > win) { printf "%s %s seq %d with %d unacknowledged, peer window %d\n", f, src, seq, out, win >> notes; nwin++ }
      }
      if (!(src in first)) first[src] = seq
      sent[src] = 1
    }
    if (A == 1) {
      ack = $19 + 0
      peer = (src == pns) ? pac : pns
      if (!(peer in maxseq) || ack > maxseq[peer]) bad("ack " ack " from " src " for a packet not yet sent (highest " ((peer in maxseq) ? maxseq[peer] : "none") ")")
      if ((src in acked) && ack < acked[src]) bad("ack " ack " from " src " goes back from " acked[src])
      acked[src] = ack
    }
    ngre++
  }
  END { printf "GRE header check: %d packets (%d reassembled from IP fragments), %d problems, %d beyond the peer window (PNS %s window %s, PAC %s window %s)\n", ngre, nfrag, nbad, nwin, pns, pnswin, pac, pacwin > "/dev/stderr" }
' >> "$prefix.problems.txt" 2> "$prefix.gre-check.txt"
prob_count=$(wc -l < "$prefix.problems.txt")

echo "== decode $(basename "$cap"): $pptp_msgs PPTP control messages in $pptp_frames frames, $gre_all GRE ($gre_ppp with PPP, $gre_ackonly ack-only), $ppp_all PPP (LCP $lcp, CHAP $chap, CCP $ccp, IPCP $ipcp, MPPE data $comp, plaintext IPv4 $plain_ip), $prob_count malformed/expert>=warning/leaks"
sed 's/^/   /' "$prefix.counts.txt"
sed 's/^/   /' "$prefix.gre-check.txt"
[[ -s $prefix.gre-notes.txt ]] && { echo "   window notes (first 10):"; head -10 "$prefix.gre-notes.txt" | sed 's/^/     /'; }
echo "-- PPTP control messages and PPP control packets (frame | t | src | dst | pptp control type | GRE call id | seq | ack | PPP protocol | info):"
cat "$prefix.summary.txt"
if [[ -s $prefix.transport-notes.txt ]]; then
  echo "-- transport notes (TCP/IP expert >= warning, not counted as problems):"
  cat "$prefix.transport-notes.txt"
fi
if ((prob_count > 0)); then
  echo "-- PROBLEMS (frame | protocol | severity | expert message | info):"
  head -50 "$prefix.problems.txt"
  echo "-- verbose decode of the first problem frames:"
  for f in $(cut -d' ' -f1 "$prefix.problems.txt" | sort -un | head -10); do
    ts -Y "frame.number == $f" -O pptp,gre,ppp,lcp,ipcp,chap,ccp,comp_data -V \
      | sed -n '/^Point-to-Point\|^Generic Routing\|^PPP\|^Link Control\|^Internet Protocol Control\|^Compression Control/,$p'
  done
fi
((prob_count == 0 && pptp_msgs > 0))
