# SoftEther VPN Server (Debian's softether-vpnserver 5.01) as the L2TP/IPsec server for
# l2tp-ipsec-vs-gatehouse.sh with TARGET=softether: a real server nobody here wrote, to prove the
# guest's road warrior before (and beside) our gateway. Sourced (bash); same set-up as
# ../shared/lab/softether.sh, but with its own state directory ($SE_DIR) inside the harness's
# results and in the harness's own namespace, so it never meets a lab instance.
# The Debian build hard-codes /var/lib/softether, /var/log/softether and /run/softether: it runs in a
# private mount namespace where those are bind mounts of $SE_DIR/{state,log,run}.

SE_BIN=/usr/libexec/softether/vpnserver/vpnserver
SE_CMD=/usr/libexec/softether/vpncmd/vpncmd
SE_ADMIN=ghAdmin123
SE_PSK=pllabpsk1
SE_USER=alice SE_PASS=alice-pass-123
SE_HOST=198.19.50.1   # SecureNAT's virtual host: the ping target inside the tunnel

se_mounts() {
  echo "mount --bind $SE_DIR/state /var/lib/softether && mount --bind $SE_DIR/log /var/log/softether && \
mount --bind $SE_DIR/run /run && mount --bind $SE_DIR/resolv.conf /etc/resolv.conf"
}

# se_vpncmd ARG...: one vpncmd run against the server in $NS.
se_vpncmd() {
  ip netns exec "$NS" unshare -m --propagation private sh -c "$(se_mounts) && exec \"\$@\"" sh \
    timeout 30 "$SE_CMD" localhost:5555 /SERVER "$@"
}

se_wait_port() { # PROTO PORT SECONDS
  local i
  for i in $(seq 1 $(($3 * 4))); do
    ip netns exec "$NS" ss -lnH -"$1" "sport = :$2" 2>/dev/null | grep -q . && return 0
    sleep 0.25
  done
  return 1
}

# se_launch: vpnserver execsvc (watchdog + worker) in $NS; sets se_pid (the watchdog).
se_launch() {
  setsid ip netns exec "$NS" unshare -m --propagation private sh -c "$(se_mounts) && exec $SE_BIN execsvc" \
    > "$SE_DIR/stdout" 2>&1 < /dev/null &
  se_pid=$!
  se_wait_port t 5555 20 || { log "vpnserver did not open TCP 5555"; cat "$SE_DIR/stdout"; return 1; }
}

# se_stop: the watchdog first (it would restart the worker), then the worker, by PID.
se_stop() {
  local w
  w=$(cat "$SE_DIR"/run/softether/.pid_* 2>/dev/null | head -1)
  stop_pid "$se_pid" 10
  stop_pid "$w" 10
  se_pid=
}

# se_start: a fresh server in $NS: hub LAB, user alice, SecureNAT (virtual host 198.19.50.1, DHCP
# 198.19.50.10-99, NAT on so the guest can reach the 2 MiB file at $GW_OUTER:8080 through the
# tunnel), L2TP/IPsec with PSK $SE_PSK.
se_start() {
  SE_DIR=$OUT/softether
  mkdir -p "$SE_DIR"/{state,log,run/softether} /var/lib/softether /var/log/softether
  echo 'nameserver 127.0.0.1' > "$SE_DIR/resolv.conf"
  # First boot writes the config and a self-signed certificate; then switch off what would try to
  # reach the Internet (dynamic DNS, keep-alive) while it is stopped.
  se_launch || return 1
  sleep 1
  se_stop
  sed -i '0,/bool Disabled false/s//bool Disabled true/' "$SE_DIR/state/vpn_server.config"
  sed -i 's/bool UseKeepConnect true/bool UseKeepConnect false/' "$SE_DIR/state/vpn_server.config"
  se_launch || return 1
  se_vpncmd /CMD ServerPasswordSet "$SE_ADMIN" > "$SE_DIR/setup.out" 2>&1
  cat > "$SE_DIR/setup.vpncmd" <<EOF
KeepDisable
HubCreate LAB /PASSWORD:ghHub123
Hub LAB
UserCreate $SE_USER /GROUP:none /REALNAME:Alice /NOTE:gatehouse-interop
UserPasswordSet $SE_USER /PASSWORD:$SE_PASS
SecureNatHostSet /MAC:none /IP:$SE_HOST /MASK:255.255.255.0
DhcpSet /START:198.19.50.10 /END:198.19.50.99 /MASK:255.255.255.0 /EXPIRE:7200 /GW:$SE_HOST /DNS:$SE_HOST /DNS2:none /DOMAIN:gh.lab /LOG:yes /PUSHROUTE:none
NatEnable
SecureNatEnable
Hub
IPsecEnable /L2TP:yes /L2TPRAW:no /ETHERIP:no /PSK:$SE_PSK /DEFAULTHUB:LAB
EOF
  se_vpncmd /PASSWORD:"$SE_ADMIN" /IN:"$SE_DIR/setup.vpncmd" >> "$SE_DIR/setup.out" 2>&1
  if grep -qE 'Error occurred|error' "$SE_DIR/setup.out"; then
    log "vpncmd reported errors (see $SE_DIR/setup.out)"; grep -E 'Error|error' "$SE_DIR/setup.out"; return 1
  fi
  se_wait_port u 500 10 && se_wait_port u 4500 10 || { log "SoftEther is not on UDP 500/4500"; return 1; }
  log "SoftEther started in $NS (watchdog pid $se_pid), state in $SE_DIR"
}
