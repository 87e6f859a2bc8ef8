# tshark decode of a Gatehouse L2TP/IPsec client capture with the client's own key log (GATEHOUSE_ESP_KEYLOG,
# turned into tshark UATs by esp-keylog.mjs): ISAKMP (RFC 2408/2409, NAT-T RFC 3947) decrypted with the phase 1
# key, ESP (RFC 4303, UDP-encapsulated RFC 3948 or raw) decrypted and its ICV checked, and the L2TP (RFC 2661)
# and PPP inside. Sourced (bash) by gatehouse-vs-softether.sh; needs HERE (this directory) and log().
#
# keylog_decode CAP KEYLOG PREFIX MODE: writes PREFIX-{packets,isakmp,inner,problems}.txt, sets decode_summary
# and decode_problem (the first problem); returns 1 on a problem. Problems: any malformed packet or expert item
# of severity warning/error outside the inner TCP (listed apart in PREFIX-inner-tcp-notes.txt); an encrypted ISAKMP message tshark could not decrypt
# (every encrypted IKEv1 message carries a HASH payload first, RFC 2409 §5, §5.5, §5.7); an ESP ICV that does not
# verify; an ESP packet that does not decrypt to L2TP; L2TP outside ESP; for connecting modes no ESP, no L2TP, no
# PPP inside ESP, no IKE DELETE from the client at disconnect; for badpsk any ESP at all; for nat modes ESP outside UDP 4500.

keylog_decode() {
  local cap=$1 keylog=$2 prefix=$3 mode=$4
  decode_problem= decode_summary=
  local opts=() o
  if [[ -s $keylog ]]; then
    node "$HERE/esp-keylog.mjs" --check "$keylog" > "$prefix-keylog-check.txt" 2>&1 || { decode_problem="keylog-unreadable"; return 1; }
    while IFS= read -r o; do opts+=(-o "$o"); done < <(node "$HERE/esp-keylog.mjs" "$keylog")
  fi
  t() { tshark -r "$cap" "${opts[@]}" "$@" 2>>"$prefix-tshark.err"; }
  cnt() { t -Y "$1" | wc -l; }
  t -Y 'isakmp || esp || l2tp || udpencap' -T fields -E separator='|' -e frame.number -e ip.src -e udp.srcport \
    -e ip.dst -e udp.dstport -e isakmp.exchangetype -e isakmp.flag_e -e isakmp.typepayload -e isakmp.notify.msgtype \
    -e esp.spi -e esp.sequence -e l2tp.type -e l2tp.avp.message_type -e ppp.protocol > "$prefix-packets.txt"
  t -Y isakmp -O isakmp -V > "$prefix-isakmp.txt"
  t -Y 'esp && (l2tp.type == 1 || lcp || chap || eap || pap || ipcp || ccp)' -O l2tp,ppp,lcp,chap,eap,ipcp,ccp -V > "$prefix-inner.txt"
  # Inner TCP (the bulk download through SoftEther's user-mode NAT) is not under test: its expert notes (SoftEther's
  # RST carries a non-zero ACK number without the ACK flag) are listed apart; a malformed frame still counts.
  t -Y '_ws.malformed || (_ws.expert.severity >= 0x00600000 && !tcp)' \
    -T fields -e frame.number -e _ws.col.Protocol -e _ws.expert.message -e _ws.col.Info > "$prefix-problems.txt"
  t -Y '_ws.expert.severity >= 0x00600000 && tcp' -T fields -e frame.number -e _ws.expert.message > "$prefix-inner-tcp-notes.txt"
  local n_isakmp n_enc n_dec n_esp n_esp_udp n_icv_good n_icv_bad n_l2tp_in n_ppp_in n_clear n_bad n_ka n_ip_in
  n_isakmp=$(cnt isakmp); n_enc=$(cnt 'isakmp.flag_e == 1'); n_dec=$(cnt 'isakmp.flag_e == 1 && isakmp.typepayload == 8')
  n_esp=$(cnt esp); n_esp_udp=$(cnt 'esp && udp.port == 4500')
  n_icv_good=$(cnt 'esp.icv_good == 1'); n_icv_bad=$(cnt 'esp.icv_bad == 1')
  n_l2tp_in=$(cnt 'esp && l2tp'); n_ppp_in=$(cnt 'esp && ppp'); n_ip_in=$(cnt 'esp && ppp && ip.version == 4 && ip.dst == 198.19.50.1')
  n_clear=$(cnt 'l2tp && !esp'); n_ka=$(cnt udpencap.nat_keepalive)
  # RFC 2408 §3.15: at disconnect the client DELETEs its SAs (decrypted informational with DELETE payloads).
  local me n_del=0
  me=$(t -Y isakmp -T fields -e ip.src | head -1)
  [[ -n $me ]] && n_del=$(cnt "isakmp.exchangetype == 5 && isakmp.typepayload == 12 && ip.src == $me")
  n_bad=$(wc -l < "$prefix-problems.txt")
  decode_summary="isakmp=$n_isakmp(enc=$n_enc,dec=$n_dec) esp=$n_esp(udp4500=$n_esp_udp,icv_ok=$n_icv_good,icv_bad=$n_icv_bad) l2tp_in_esp=$n_l2tp_in ppp_in_esp=$n_ppp_in ip_to_softether=$n_ip_in l2tp_clear=$n_clear nat_keepalive=$n_ka our_delete=$n_del problems=$n_bad"
  log "decode $mode: $decode_summary (inner TCP notes: $(wc -l < "$prefix-inner-tcp-notes.txt"))"
  awk -F'|' '$6 != "" {printf "     %s %s:%s -> %s:%s exchange=%s e=%s payloads=[%s] notify=%s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}' \
    "$prefix-packets.txt" | head -24
  t -Y 'esp && (l2tp.type == 1 || lcp || chap || eap || ipcp || ccp)' -T fields -e frame.number -e ip.src -e _ws.col.Info \
    | head -40 | sed 's/^/     inside ESP: /'
  [[ -s $prefix-problems.txt ]] && { echo "   problems:"; sed 's/^/     /' "$prefix-problems.txt" | head -20; }
  fail() { [[ -n $decode_problem ]] || decode_problem=$1; }
  ((n_bad == 0)) || fail malformed-or-expert
  ((n_clear == 0)) || fail l2tp-outside-esp
  ((n_isakmp > 0)) || fail no-isakmp
  if [[ $mode == badpsk ]]; then
    ((n_esp == 0)) || fail esp-after-bad-psk
  else
    ((n_dec == n_enc)) || fail "isakmp-not-decrypted($((n_enc - n_dec)))"
    ((n_esp > 0)) || fail no-esp
    ((n_icv_bad == 0)) || fail esp-icv-bad
    ((n_icv_good == n_esp)) || fail "esp-icv-unchecked($((n_esp - n_icv_good)))"
    ((n_l2tp_in == n_esp)) || fail "esp-not-l2tp($((n_esp - n_l2tp_in)))"
    ((n_l2tp_in > 0)) || fail no-l2tp-in-esp
    ((n_ppp_in > 0)) || fail no-ppp-in-esp
    ((n_del > 0)) || fail no-ike-delete-at-disconnect
    if [[ $mode == nat* ]]; then ((n_esp_udp == n_esp)) || fail esp-not-udp-encapsulated; fi
  fi
  [[ -z $decode_problem ]]
}
