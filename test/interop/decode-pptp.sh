#!/bin/bash
# Decodes a PPTP capture (RFC 2637: control connection on TCP 1723, enhanced GRE carrying PPP)
# with tshark, lists every control message and PPP packet, and counts the problems.
# Usage: decode-pptp.sh CAP PREFIX [EXPECT]   EXPECT: mppe (default: after CCP every data packet
#        must be an MPPE-encrypted "PPP Comp" 0x00FD frame, no plaintext IP) or none.
# Writes PREFIX.summary.txt (control messages + PPP packets), PREFIX.verbose.txt (full decode of
# control and PPP control-protocol frames), PREFIX.problems.txt, PREFIX.transport-notes.txt and
# PREFIX.counts.txt. Exit 1 on any problem, or when no PPTP control message was dissected.
set -uo pipefail

# --selftest: the GRE header check must catch faults, not just pass clean captures. A hand-built
# capture (raw IPv4, LINKTYPE_RAW) holds an Outgoing-Call-Request/Reply pair (§2.7/§2.8: PNS Call
# ID 5 window 3, PAC Call ID 9) and five GRE packets: one correct, then a sequence gap, an ack
# for a packet never sent, a Payload Length larger than the payload, and an unknown Call ID.
if [[ ${1:-} == --selftest ]]; then
  d=$(mktemp -d /tmp/decode-pptp-selftest.XXXXXX)
  trap 'rm -rf "$d"' EXIT
  python3 - "$d/bad.pcap" <<'PY'
import struct, sys
def csum(b):
    if len(b)%2: b+=b'\0'
    s=sum(struct.unpack('!%dH'%(len(b)//2),b)); s=(s>>16)+(s&0xffff); s+=s>>16; return (~s)&0xffff
def ip(src,dst,proto,payload):
    h=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(payload),1,0,64,proto,0,bytes(map(int,src.split('.'))),bytes(map(int,dst.split('.'))))
    h=h[:10]+struct.pack('!H',csum(h))+h[12:]; return h+payload
def tcp(sp,dp,seq,payload):
    return struct.pack('!HHIIBBHHH',sp,dp,seq,0,0x50,0x18,65535,0,0)+payload
def pptp(ctype,body,length):
    m=struct.pack('!HHIHH',length,1,0x1A2B3C4D,ctype,0)+body
    return m+b'\0'*(length-len(m))
ocrq=pptp(7,struct.pack('!HHIIIIHH',5,1,300,100000000,3,3,3,0),168)
ocrp=pptp(8,struct.pack('!HHBBHIHHI',9,5,1,0,0,100000000,64,0,0),32)
def gre(call,seq=None,ack=None,payload=b'',plen=None):
    flags=0x2001|(0x1000 if seq is not None else 0)|(0x0080 if ack is not None else 0)
    h=struct.pack('!HHHH',flags,0x880b,len(payload) if plen is None else plen,call)
    if seq is not None: h+=struct.pack('!I',seq)
    if ack is not None: h+=struct.pack('!I',ack)
    return h+payload
ppp=b'\xff\x03\xc0\x21\x09\x01\x00\x08\x00\x00\x00\x00'  # LCP Echo-Request
frames=[ip('10.0.0.2','10.0.0.1',6,tcp(40000,1723,1,ocrq)), ip('10.0.0.1','10.0.0.2',6,tcp(1723,40000,1,ocrp)),
 ip('10.0.0.2','10.0.0.1',47,gre(9,1,None,ppp)),   # ok
 ip('10.0.0.2','10.0.0.1',47,gre(9,3,None,ppp)),   # sequence gap
 ip('10.0.0.1','10.0.0.2',47,gre(5,1,7,ppp)),      # ack 7 never sent
 ip('10.0.0.1','10.0.0.2',47,gre(5,2,None,ppp,plen=40)),  # payload length lie
 ip('10.0.0.2','10.0.0.1',47,gre(77,4,None,ppp)),  # unknown call id
]
out=struct.pack('<IHHiIII',0xa1b2c3d4,2,4,0,0,65535,101)  # LINKTYPE_RAW
for i,f in enumerate(frames): out+=struct.pack('<IIII',i,0,len(f),len(f))+f
open(sys.argv[1],'wb').write(out)
PY
  "$0" "$d/bad.pcap" "$d/bad" mppe > "$d/out.txt"
  want='4 | GRE | check | sequence 3 from 10.0.0.2 call 9 after 1
5 | GRE | check | ack 7 from 10.0.0.1 call 5 for a packet not yet sent (highest 3)
6 | GRE | check | payload length 40 but 12 bytes follow the header
7 | GRE | check | call id 77 from 10.0.0.2 matches no Outgoing-Call-Request/Reply pair'
  if [[ $(cat "$d/bad.problems.txt") == "$want" ]]; then echo "decode-pptp.sh selftest: ok (4 planted faults found, the good packet passed)"; exit 0; fi
  echo "decode-pptp.sh selftest: FAILED; problems found:"; cat "$d/bad.problems.txt"; exit 1
fi
[[ $# -ge 2 ]] || { echo "usage: $0 CAP PREFIX [mppe|none] | $0 --selftest" >&2; exit 2; }
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
  # Outgoing-Call-Request (7) from the PNS carries the Call ID the PNS assigned; the Reply (8) from
  # the PAC carries the PAC'"'"'s Call ID and, as Peer Call ID, the PNS'"'"'s: each side puts the
  # other'"'"'s ID in its GRE headers (§2.7, §2.8, §4.1). One control connection may carry several calls.
  $1 == "C" && $3 == 7 { ocrq[$4] = $2; pnsWin[$4] = $6; next }
  $1 == "C" && $3 == 8 { pnsOf[$4] = $5; pacOf[$5] = $4; pacAddr[$4] = $2; pnsAddr[$5] = ocrq[$5]; pacWin[$4] = $6; ncalls++; next }
  $1 == "C" { next }
  {
    f = $2; src = $3; plen = $16 + 0; S = $9; A = $12; k = $17
    if ($6 != 0 || $7 != 0 || $8 != 1 || $10 != 0 || $11 != 0 || $13 != 0 || $14 != 1 || tolower($15) != "0x880b")
      bad("header bits C R K s Recur Flags Ver Proto = " $6 " " $7 " " $8 " " $10 " " $11 " " $13 " " $14 " " $15 " (want 0 0 1 0 0 0 1 0x880b)")
    if ((plen > 0) != (S == 1)) bad("S=" S " with payload length " plen)
    hl = 8 + 4 * (S == 1) + 4 * (A == 1)
    # A GRE packet larger than the path MTU arrives as IP fragments: tshark reassembles them and
    # dissects GRE in the last one, whose ip.reassembled.length is what follows the IP header.
    avail = ($20 != "") ? $20 - hl : $4 - $5 - hl
    if ($20 != "") nfrag++
    if (avail != plen) bad("payload length " plen " but " avail " bytes follow the header")
    # Which call, and which direction: the stream is (sender, Call ID in the header); its reverse
    # is the other side of the same call.
    if ((k in pnsOf) && src == pnsAddr[pnsOf[k]]) { rev = pacAddr[k] "/" pnsOf[k]; win = pacWin[k] }
    else if ((k in pacOf) && src == pacAddr[pacOf[k]]) { rev = pnsAddr[k] "/" pacOf[k]; win = pnsWin[k] }
    else { bad("call id " k " from " src " matches no Outgoing-Call-Request/Reply pair"); ngre++; next }
    st = src "/" k
    if (S == 1) {
      seq = $18 + 0
      if ((st in last) && seq != (last[st] + 1) % 4294967296) bad("sequence " seq " from " src " call " k " after " last[st])
      last[st] = seq
      if ((st in first) && win != "") {
        out = seq - ((rev in acked) ? acked[rev] : first[st] - 1)
        if (out > win) { printf "%s %s call %s seq %d with %d unacknowledged, peer window %d\n", f, src, k, seq, out, win >> notes; nwin++ }
      }
      if (!(st in first)) first[st] = seq
    }
    if (A == 1) {
      ack = $19 + 0
      if (!(rev in last) || ack > last[rev]) bad("ack " ack " from " src " call " k " for a packet not yet sent (highest " ((rev in last) ? last[rev] : "none") ")")
      if ((st in acked) && ack < acked[st]) bad("ack " ack " from " src " call " k " goes back from " acked[st])
      acked[st] = ack
    }
    ngre++
  }
  END { printf "GRE header check: %d packets in %d calls (%d reassembled from IP fragments), %d problems, %d beyond the peer window\n", ngre, ncalls, nfrag, nbad, nwin > "/dev/stderr" }
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
