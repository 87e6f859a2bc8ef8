# tshark decode of one L2TP/IPsec capture for l2tp-ipsec-vs-gatehouse.sh (sourced, bash):
# ISAKMP (IKEv1, RFC 2408/2409; NAT-T RFC 3947/3948) on UDP 500/4500, ESP (RFC 4303) raw or in UDP,
# and — decrypted with the SAs the guest's kernel held (`ip xfrm state`, keys included) and the
# IKEv1 key charon logged — the L2TP (RFC 2661) and PPP inside.
#
# decode_l2tp_ipsec CAP XFRM CHARONLOG PREFIX MODE: writes PREFIX-*.txt, sets decode_summary
# (XFRM and CHARONLOG may be comma-separated lists: several guests in one capture)
# (counts) and decode_problem (first problem), returns 1 on a problem. Problems: a malformed
# packet; an expert warning or error outside TCP sequence analysis; an ESP packet whose ICV does not
# verify or that does not decrypt to L2TP; L2TP outside ESP; for a connecting mode no ESP, no L2TP
# or no PPP inside; for badpsk/revoked any ESP or L2TP at all; for nat modes ESP not in UDP 4500.

# xfrm_to_uat XFRM: one tshark esp_sa UAT row per SA in `ip xfrm state` output. Addresses are "*"
# (the NAT rewrites the guest's source); the SPI tells the SAs apart.
xfrm_to_uat() {
  awk '
    function flush() {
      if (spi == "") return
      printf "\"IPv4\",\"*\",\"*\",\"%s\",\"%s\",\"%s\",\"%s\",\"%s\"\n", spi, enc, ekey, auth, akey
      spi = ""
    }
    /^src / { flush(); enc = "NULL"; ekey = ""; auth = "NULL"; akey = "" }
    /proto esp spi/ { for (i = 1; i <= NF; i++) if ($i == "spi") spi = $(i + 1) }
    $1 == "enc" {
      ekey = $3
      if ($2 == "cbc(aes)") enc = "AES-CBC [RFC3602]"
      else if ($2 == "cbc(des3_ede)") enc = "TripleDES-CBC [RFC2451]"
      else if ($2 == "ctr(aes)" || $2 == "rfc3686(ctr(aes))") enc = "AES-CTR [RFC3686]"
      else enc = "unknown " $2
    }
    $1 == "aead" {
      ekey = $3; auth = "NULL"
      if ($4 == 64) enc = "AES-GCM with 8 octet ICV [RFC4106]"
      else if ($4 == 96) enc = "AES-GCM with 12 octet ICV [RFC4106]"
      else enc = "AES-GCM with 16 octet ICV [RFC4106]"
    }
    $1 == "auth-trunc" {
      akey = $3
      if ($2 == "hmac(sha1)") auth = "HMAC-SHA-1-96 [RFC2404]"
      else if ($2 == "hmac(sha256)" && $4 == 128) auth = "HMAC-SHA-256-128 [RFC4868]"
      else if ($2 == "hmac(sha256)") auth = "HMAC-SHA-256-96 [draft-ietf-ipsec-ciph-sha-256-00]"
      else if ($2 == "hmac(sha384)") auth = "HMAC-SHA-384-192 [RFC4868]"
      else if ($2 == "hmac(sha512)") auth = "HMAC-SHA-512-256 [RFC4868]"
      else if ($2 == "hmac(md5)") auth = "HMAC-MD5-96 [RFC2403]"
      else auth = "unknown " $2
    }
    END { flush() }' "$1"
}

# ike_key CHARONLOG: "COOKIE,KEY" — the initiator cookie (charon's "mgr 2" line "checkout IKEv1 SA
# with SPIs X_i ...", empty if absent) and the IKEv1 encryption key (hex) it logged at "ike 4"
# ("encryption key Ka").
ike_key() {
  awk '
    cookie == "" && /checkout IKEv1 SA with SPIs [0-9a-f]+_i/ {
      for (i = 1; i <= NF; i++) if ($i ~ /^[0-9a-f]+_i$/ && $i !~ /^0+_i$/) { cookie = substr($i, 1, length($i) - 2); break }
    }
    !done && /encryption key Ka/ { on = 1; next }
    on && /[0-9]+: ([0-9A-F][0-9A-F] )/ {
      sub(/.*[0-9]+: /, ""); n = split($0, b, " ")
      for (i = 1; i <= n && i <= 16; i++) if (b[i] ~ /^[0-9A-F][0-9A-F]$/) key = key b[i]
      next
    }
    on { on = 0; done = 1 }
    END { if (key != "") print cookie "," tolower(key) }' "$1" 2>/dev/null
}

decode_l2tp_ipsec() {
  local cap=$1 xfrm=$2 charonlog=$3 prefix=$4 mode=$5
  local uatdir=$prefix-profile
  decode_problem= decode_summary=
  rm -rf "$uatdir"; mkdir -p "$uatdir"
  local f
  : > "$uatdir/esp_sa"
  for f in ${xfrm//,/ }; do [[ -s $f ]] && xfrm_to_uat "$f" >> "$uatdir/esp_sa"; done
  local opts=(-o esp.enable_encryption_decode:TRUE -o esp.enable_authentication_check:TRUE
              -o esp.do_esp_sequence_analysis:TRUE)
  local row
  while IFS= read -r row; do opts+=(-o "uat:esp_sa:$row"); done < <(cat "$uatdir/esp_sa" 2>/dev/null)
  local icookie key pair
  for f in ${charonlog//,/ }; do
    pair=$(ike_key "$f")
    [[ -n $pair ]] || continue
    icookie=${pair%%,*} key=${pair#*,}
    # Without charon's cookie line, the first ISAKMP initiator cookie on the wire (one guest).
    [[ -n $icookie ]] || icookie=$(tshark -r "$cap" -Y isakmp -T fields -e isakmp.ispi 2>/dev/null | head -1)
    [[ -n $icookie ]] && opts+=(-o "uat:ikev1_decryption_table:$icookie,$key")
  done
  printf '%s\n' "${opts[@]}" | grep -v '^-o$' | sed -E 's/(0x[0-9a-f]{8})[0-9a-f]+/\1…/g' > "$prefix-tshark-opts.txt"
  t() { tshark -r "$cap" "${opts[@]}" "$@" 2>>"$prefix-tshark.err"; }
  cnt() { t -Y "$1" | wc -l; }

  t -Y 'isakmp || esp || l2tp || udpencap' -T fields -E separator='|' -e frame.number -e ip.src -e udp.srcport \
    -e ip.dst -e udp.dstport -e isakmp.exchangetype -e isakmp.flag_e -e isakmp.typepayload \
    -e isakmp.notify.msgtype -e esp.spi -e esp.sequence -e esp.icv_good -e l2tp.type -e l2tp.avp.message_type \
    -e ppp.protocol > "$prefix-packets.txt"
  t -Y 'isakmp' -O isakmp -V > "$prefix-isakmp.txt"
  t -Y 'esp && (l2tp.type == 1 || lcp || pap || chap || ipcp)' -O l2tp,ppp,lcp,chap,ipcp -V > "$prefix-control.txt"
  local n_isakmp n_isakmp_enc n_isakmp_dec n_esp n_esp_udp n_icv_bad n_icv_good n_l2tp_in n_ppp_in n_clear n_bad n_ka
  # Every encrypted IKEv1 message of these exchanges carries a HASH payload (MM5/MM6 with a PSK,
  # quick mode, informational: RFC 2409 §5, §5.5, §5.7) or a SIG payload (MM5/MM6 with signatures,
  # §5.1): seeing one means tshark decrypted the message.
  n_isakmp=$(cnt isakmp); n_isakmp_enc=$(cnt 'isakmp.flag_e == 1')
  n_isakmp_dec=$(cnt 'isakmp.flag_e == 1 && (isakmp.typepayload == 8 || isakmp.typepayload == 9)')
  n_esp=$(cnt esp); n_esp_udp=$(cnt 'esp && udp.port == 4500')
  n_icv_bad=$(cnt 'esp.icv_bad == 1'); n_icv_good=$(cnt 'esp.icv_good == 1')
  n_l2tp_in=$(cnt 'esp && l2tp'); n_ppp_in=$(cnt 'esp && ppp')
  n_clear=$(cnt 'l2tp && !esp'); n_ka=$(cnt udpencap.nat_keepalive)
  # Expert warnings of the TCP carried inside the tunnel (the download's sender, not the VPN) are
  # notes, like TCP sequence analysis.
  t -Y '_ws.malformed || (_ws.expert.severity >= 0x00600000 && !tcp.analysis.flags)' \
    -T fields -e frame.number -e _ws.col.Protocol -e _ws.expert.message -e _ws.col.Info \
    | awk -F'\t' '$2 == "TCP" && $0 !~ /Malformed/ { print > "/dev/stderr"; next } { print }' \
    > "$prefix-problems-all.txt" 2> "$prefix-tcp-experts.txt"
  # tshark chains the IKEv1 CBC IV from the last block of the previous message (RFC 2409 Appendix B),
  # so it garbles a byte-identical retransmission of an encrypted message: such a frame is noted,
  # not counted, when its UDP payload equals an earlier frame's.
  t -Y isakmp -T fields -e frame.number -e udp.payload > "$prefix-isakmp-payloads.txt"
  awk -F'\t' 'NR == FNR { if (!($2 in first)) first[$2] = $1; else dup[$1] = first[$2]; next }
    ($2 ~ /ISAKMP/ && ($1 in dup)) { print $1 "\tretransmission of frame " dup[$1] " (tshark IV chaining)" > "/dev/stderr"; next }
    { print }' "$prefix-isakmp-payloads.txt" "$prefix-problems-all.txt" > "$prefix-problems.txt" 2> "$prefix-retransmissions.txt"
  n_bad=$(wc -l < "$prefix-problems.txt")
  { t -Y 'tcp.analysis.flags' -T fields -e frame.number -e _ws.expert.message; cat "$prefix-tcp-experts.txt"; } > "$prefix-tcp-notes.txt"
  decode_summary="isakmp=$n_isakmp(enc=$n_isakmp_enc,dec=$n_isakmp_dec) esp=$n_esp(udp=$n_esp_udp,icv_ok=$n_icv_good,icv_bad=$n_icv_bad) l2tp_in_esp=$n_l2tp_in ppp_in_esp=$n_ppp_in l2tp_clear=$n_clear nat_ka=$n_ka bad=$n_bad"
  log "decode $mode: $decode_summary (notes: $(wc -l < "$prefix-tcp-notes.txt") TCP inside the tunnel, $(wc -l < "$prefix-retransmissions.txt") ISAKMP retransmissions)"
  echo "   ISAKMP (frame src:port -> dst:port exchange encrypted payloads notify):"
  awk -F'|' '$6 != "" {printf "     %s %s:%s -> %s:%s x=%s e=%s [%s] %s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}' \
    "$prefix-packets.txt" | head -30
  [[ -s $prefix-problems.txt ]] && { echo "   problems:"; sed 's/^/     /' "$prefix-problems.txt" | head -20; }
  # L2TP control messages and PPP negotiation decoded from inside ESP.
  t -Y 'esp && (l2tp.type == 1 || lcp || chap || ipcp || pap)' -T fields -e frame.number -e ip.src -e _ws.col.Info 2>/dev/null \
    | head -40 | sed 's/^/     inside ESP: /'
  fail() { [[ -n $decode_problem ]] || decode_problem=$1; }
  ((n_bad == 0)) || fail malformed-or-expert
  ((n_clear == 0)) || fail l2tp-outside-esp
  ((n_isakmp > 0)) || fail no-isakmp
  if [[ $mode == badpsk || $mode == revoked ]]; then
    ((n_esp == 0)) || fail esp-after-refused-ike
  else
    ((n_esp > 0)) || fail no-esp
    ((n_icv_bad == 0)) || fail esp-icv-bad
    ((n_l2tp_in > 0)) || fail no-l2tp-in-esp
    [[ -z $key ]] || ((n_isakmp_dec == n_isakmp_enc)) || fail "isakmp-not-decrypted($((n_isakmp_enc - n_isakmp_dec)))"
    ((n_ppp_in > 0)) || fail no-ppp-in-esp
    ((n_l2tp_in == n_esp)) || fail "esp-not-l2tp($((n_esp - n_l2tp_in)))"
    if [[ $mode == nat* || $mode == twonat ]]; then ((n_esp_udp == n_esp)) || fail esp-not-udp-encapsulated; fi
  fi
  [[ -z $decode_problem ]]
}
