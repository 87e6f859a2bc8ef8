#!/bin/bash
# Interop: our client (`gatehouse connect pptp://`) against pptpd (poptop 1.4 + pppd 2.4.9 with
# kernel MPPE, require-mppe-128) in a QEMU guest, captured on the wire and decoded by tshark.
# Usage: gatehouse-vs-pptpd.sh [MODE...]
#   probe     pptpd only: the host sends one hand-built Start-Control-Connection-Request (RFC 2637
#             §2.1) and checks the Start-Control-Connection-Reply; needs no client of ours
#   reference pptp-linux in a second guest against pptpd: two programs we did not write, decoded by
#             the same checks, so a tshark quirk is not mistaken for a gatehouse bug
#   mschapv2  gatehouse connect: MS-CHAPv2 + MPPE-128, ping pptpd's tunnel address (small and full
#             MTU) both ways, disconnect with SIGTERM
#   badpass   gatehouse connect with a wrong password: must exit non-zero, pppd logs the failure
#   bulk      as mschapv2, then 300 full-size pings in a burst and a 2 MiB HTTP download from the
#             guest (python3 http.server on pptpd's tunnel address) through our client, SHA-256 checked
#   default: probe reference mschapv2 badpass
# Env: GHVM_DELAY (default 20ms); OUT=DIR keeps results (default a new /tmp/gatehouse-pptpd-interop.XXXXXX).
# Exit status 0 only when every mode had its expected outcome and its capture decoded cleanly.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib-host.sh"
MODES=("$@")
((${#MODES[@]})) || MODES=(probe reference mschapv2 badpass)
# Own namespace, bridge and TAPs (never the SSTP interop's ghvm_gw/ghvm-tap0 or pptp-vs-gatehouse's
# ghvm_pp/ghvm-tap1). The bridge joins the pptpd guest, the reference client guest and the host.
NS=ghvm_pd BR=ghvm-br2 TAP_SRV=ghvm-tap2 TAP_CLI=ghvm-tap3
HOST_OUTER=198.18.9.1 SRV_OUTER=198.18.9.2 CLI_OUTER=198.18.9.3
PPTPD_LOCAL=198.19.9.1 PPTPD_REMOTE=198.19.9.10-19
host_out gatehouse-pptpd-interop
new_password

srv_pid= cli_pid= cap_pid= gh_pid=
cleanup() {
  kill_pids "$cap_pid"
  stop_pid "$gh_pid"
  for m in "${MODES[@]}"; do : > "$OUT/done-$m" 2>/dev/null || true; done   # let guests finish
  stop_pid "$cli_pid"; stop_pid "$srv_pid"
}
host_traps

host_need pptpd pptpd
"$HERE/decode-pptp.sh" --selftest || exit 1   # the capture checks must be able to fail
"$HERE/vm/build.sh"

host_ns
ip -n "$NS" link add "$BR" type bridge
ip -n "$NS" addr add "$HOST_OUTER/24" dev "$BR"
ip -n "$NS" link set "$BR" up
for t in "$TAP_SRV" "$TAP_CLI"; do
  ip -n "$NS" tuntap add dev "$t" mode tap
  ip -n "$NS" link set "$t" master "$BR"
  ip -n "$NS" link set "$t" up
done

# Starts the pptpd guest for MODE in the background and waits until pptpd listens.
start_server() {
  local mode=$1
  rm -f "$OUT/done-$mode" "$OUT/pptpd-ready-$mode"
  GHVM_MAC=52:54:00:67:68:12 run_guest 400 "$TAP_SRV" "$SRV_OUTER/24" "$HOST_OUTER" \
    /bin/sh "$HERE/guest-pptpd.sh" "$mode" "$SRV_OUTER" "$PPTPD_LOCAL" "$PPTPD_REMOTE" alice "$PASSWORD" /run/ghvm-share \
    > "$OUT/guest-pptpd-$mode.log" 2>&1 &
  srv_pid=$!
  for _ in $(seq 1 240); do
    [[ -e $OUT/pptpd-ready-$mode ]] && return 0
    kill -0 "$srv_pid" 2>/dev/null || break
    sleep 0.5
  done
  log "mode $mode: pptpd did not come up; guest console:"
  cat "$OUT/guest-pptpd-$mode.log"
  return 1
}
finish_server() {   # finish_server MODE: tell the guest to stop, wait, return its status
  local mode=$1 rc=0
  : > "$OUT/done-$mode"
  wait "$srv_pid" || rc=$?
  srv_pid=
  log "mode $mode: pptpd guest (exit $rc):"
  sed 's/^/   srv: /' "$OUT/guest-pptpd-$mode.log" | grep -v 'ghvm-init\|^   srv: $' | tail -n 80
  return $rc
}

# One hand-built SCCRQ (RFC 2637 §2.1: Length 156, Message Type 1, Magic Cookie 0x1A2B3C4D, Control
# Message Type 1, Protocol Version 1.0, Framing/Bearer Capabilities, Max Channels, Firmware, Host
# Name and Vendor String of 64 octets each); prints the reply's fields.
probe_sccrq() {
  ip netns exec "$NS" node -e '
    const net = require("net")
    const m = Buffer.alloc(156)
    m.writeUInt16BE(156, 0); m.writeUInt16BE(1, 2); m.writeUInt32BE(0x1a2b3c4d, 4); m.writeUInt16BE(1, 8)
    m.writeUInt16BE(0x0100, 12); m.writeUInt32BE(3, 16); m.writeUInt32BE(3, 20); m.writeUInt16BE(1, 24)
    m.write("interop-probe", 28, "latin1"); m.write("gatehouse-interop", 92, "latin1")
    const s = net.connect(1723, process.argv[1], () => s.write(m))
    let got = Buffer.alloc(0)
    const t = setTimeout(() => { console.log("probe: no complete reply within 5 s, got " + got.length + " bytes"); process.exit(1) }, 5000)
    s.on("data", (d) => {
      got = Buffer.concat([got, d])
      if (got.length < 156) return
      clearTimeout(t)
      const r = got.subarray(0, 156), z = (b) => b.toString("latin1").replace(/\0.*$/s, "")
      const f = { length: r.readUInt16BE(0), msgType: r.readUInt16BE(2), cookie: r.readUInt32BE(4).toString(16),
        ctrlType: r.readUInt16BE(8), version: r.readUInt16BE(12).toString(16), result: r[14], error: r[15],
        framing: r.readUInt32BE(16), bearer: r.readUInt32BE(20), maxChannels: r.readUInt16BE(24),
        firmware: r.readUInt16BE(26).toString(16), host: z(r.subarray(28, 92)), vendor: z(r.subarray(92, 156)) }
      console.log("probe: reply " + JSON.stringify(f))
      const ok = f.length === 156 && f.msgType === 1 && f.cookie === "1a2b3c4d" && f.ctrlType === 2 && f.version === "100" && f.result === 1
      console.log(ok ? "probe: Start-Control-Connection-Reply, result 1 (OK)" : "probe: unexpected reply")
      s.end(); process.exit(ok ? 0 : 1)
    })
    s.on("error", (e) => { console.log("probe: " + e.message); process.exit(1) })
  ' "$SRV_OUTER"
}

declare -A verdict
status=0
for mode in "${MODES[@]}"; do
  cap=$OUT/pptpd-$mode.pcapng
  cap_start "$BR" "$cap" "$mode"
  log "mode $mode: booting the pptpd guest"
  v=ok
  if ! start_server "$mode"; then
    verdict[$mode]="pptpd did not start"; status=1
    cap_stop
    : > "$OUT/done-$mode"; wait "$srv_pid" 2>/dev/null || true; srv_pid=
    continue
  fi
  log "mode $mode: pptpd listening on $SRV_OUTER:1723"
  detail=
  case $mode in
    probe)
      if probe_sccrq | tee "$OUT/probe.txt"; then detail="SCCRP ok"; else v=probe:fail; fi
      ;;
    reference)
      log "mode reference: booting the pptp-linux guest"
      set +e
      GHVM_MAC=52:54:00:67:68:13 run_guest 300 "$TAP_CLI" "$CLI_OUTER/24" "$HOST_OUTER" \
        /bin/sh "$HERE/guest-pptp.sh" mschapv2 "$SRV_OUTER" alice "$PASSWORD" "$PPTPD_LOCAL" /run/ghvm-share \
        > "$OUT/guest-pptp-reference.log" 2>&1
      crc=$?
      set -e
      grep -E '^(== guest|RESULT)' "$OUT/guest-pptp-reference.log" | sed 's/^/   cli: /'
      detail=$(grep -m1 '^RESULT' "$OUT/guest-pptp-reference.log" || echo 'RESULT none')
      ((crc == 0)) || v="client:rc=$crc"
      ;;
    mschapv2|badpass|bulk)
      pw=$(mode_password "$mode")
      # Split tunnel to pptpd's addresses only and no DNS change: the namespace shares the host's
      # /etc/resolv.conf, and nothing but the tunnel prefix may be routed into the tunnel.
      : > "$OUT/connect-$mode.out"; : > "$OUT/connect-$mode.err"
      printf '%s\n' "$pw" | ip netns exec "$NS" node "$REPO/bin/gatehouse.js" connect "pptp://$SRV_OUTER" --user alice \
        --split 198.19.9.0/24 --no-dns > "$OUT/connect-$mode.out" 2> "$OUT/connect-$mode.err" &
      gh_pid=$!
      addr=
      for _ in $(seq 1 120); do
        addr=$(sed -n 's/^address \([0-9.]*\).*/\1/p' "$OUT/connect-$mode.out" | head -1)
        [[ -n $addr ]] && break
        kill -0 "$gh_pid" 2>/dev/null || break
        sleep 0.5
      done
      if [[ $mode == badpass ]]; then
        crc=0
        if [[ -n $addr ]]; then v="connected with a wrong password"; stop_pid "$gh_pid"
        else
          for _ in $(seq 1 60); do kill -0 "$gh_pid" 2>/dev/null || break; sleep 0.5; done
          if kill -0 "$gh_pid" 2>/dev/null; then v="client still running 30 s after the refusal"; stop_pid "$gh_pid"
          else wait "$gh_pid" || crc=$?; ((crc != 0)) || v="client exit 0 after a refusal"; fi
        fi
        gh_pid=
        detail="client_exit=$crc: $(tail -n 1 "$OUT/connect-$mode.err")"
      elif [[ -z $addr ]]; then
        v="client never came up"
        stop_pid "$gh_pid"; gh_pid=
      else
        dev=$(ip -n "$NS" -4 -o addr show | awk -v a="$addr" '{ split($4, x, "/") } x[1] == a { print $2; exit }')
        mtu=$(ip netns exec "$NS" cat "/sys/class/net/$dev/mtu" 2>/dev/null || echo 0)
        log "mode $mode: client up: address $addr on $dev (mtu $mtu)"
        ip -n "$NS" -4 addr show dev "$dev" | sed 's/^/   /'
        ip -n "$NS" -4 route | sed 's/^/   route: /'
        small=fail big=fail
        ip netns exec "$NS" ping -c 3 -W 5 "$PPTPD_LOCAL" && small=ok
        ip netns exec "$NS" ping -c 2 -W 5 -s $((mtu - 28)) -M do "$PPTPD_LOCAL" && big=ok
        bulk=skipped
        if [[ $mode == bulk ]]; then
          bulk=fail
          for _ in $(seq 1 60); do [[ -e $OUT/pptpd-http-ready ]] && break; sleep 0.5; done
          log "mode bulk: 300 full-size pings, 5 ms apart"
          ip netns exec "$NS" ping -q -c 300 -i 0.005 -W 5 -s $((mtu - 28)) -M do "$PPTPD_LOCAL" > "$OUT/burst.txt" 2>&1 || true
          cat "$OUT/burst.txt"
          lost=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$OUT/burst.txt")
          # More than 1% lost (3 of 300) fails the mode.
          if awk -v l="${lost:-100}" 'BEGIN { exit !(l <= 1) }'; then
            log "mode bulk: fetching http://$PPTPD_LOCAL:8080/blob through the tunnel"
            if ip netns exec "$NS" curl -sS --max-time 180 -o "$OUT/blob" \
                 -w '== host: %{size_download} bytes in %{time_total}s (%{speed_download} B/s)\n' \
                 "http://$PPTPD_LOCAL:8080/blob"; then
              want=$(cat "$OUT/pptpd-blob.sha256" 2>/dev/null) got=$(sha256sum "$OUT/blob" | cut -d' ' -f1)
              if [[ $want == "$got" ]]; then bulk=ok; else log "SHA-256 mismatch: $got, want $want"; fi
            fi
          fi
        fi
        sleep 12   # the guest pings us from its side once its ppp interface is up
        log "mode $mode: disconnecting (SIGTERM)"
        kill -TERM "$gh_pid"
        crc=0
        for _ in $(seq 1 40); do kill -0 "$gh_pid" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$gh_pid" 2>/dev/null; then crc=stuck; stop_pid "$gh_pid"; else wait "$gh_pid" || crc=$?; fi
        gh_pid=
        left=$( (ip -n "$NS" -o link show "$dev" 2>/dev/null || true) | wc -l)
        detail="ping=$small bigping=$big bulk=$bulk mtu=$mtu client_exit=$crc tun_left=$left"
        [[ $small == ok && $big == ok && $bulk != fail && $crc == 0 && $left == 0 ]] || v="client:$detail"
      fi
      log "mode $mode: client stderr:"
      sed 's/^/   gh: /' "$OUT/connect-$mode.err"
      ;;
    *) log "unknown mode $mode"; v=unknown ;;
  esac
  sleep 2
  finish_server "$mode" || v="$v,server:fail"
  cap_stop
  expect=mppe
  [[ $mode == badpass || $mode == probe ]] && expect=none
  if ! "$HERE/decode-pptp.sh" "$cap" "$OUT/decode-$mode" "$expect" > "$OUT/decode-$mode.txt"; then v="$v,decode:problems"; fi
  cat "$OUT/decode-$mode.txt"
  [[ $v == ok ]] || status=1
  verdict[$mode]="$v $detail | server: $(grep -m1 '^RESULT' "$OUT/guest-pptpd-$mode.log" || echo 'RESULT none')"
done

host_finish "${MODES[@]}"
