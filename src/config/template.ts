// The commented gatehouse.yaml that `gatehouse init` writes: every option present with its default
// and the reason the default is the safe choice. loadConfig(renderConfig({})) equals the defaults.
import { DEFAULTS, IMPLEMENTED_PROTOCOLS, PROTOCOLS } from './defaults.js'

/** Values `gatehouse init` may fill in; anything absent is written with its default. */
export interface RenderOptions {
  readonly listen?: string
  readonly pool?: string
  readonly dns?: readonly string[]
  readonly wins?: readonly string[]
  readonly routes?: readonly string[]
  readonly sstpPort?: number
  readonly tunName?: string
  readonly natInterface?: string
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error'
}

// JSON is valid YAML flow syntax, so strings and lists are quoted safely whatever they contain.
const y = (v: unknown): string => JSON.stringify(v)

/** Renders the configuration file. Pure; the caller writes it (mode 0600 is not needed: no secrets). */
export function renderConfig(opts: RenderOptions = {}): string {
  const D = DEFAULTS
  const A = D.auth
  const nat = opts.natInterface !== undefined
  return `# Gatehouse gateway configuration (gatehouse.yaml).
# Written by \`gatehouse init\`. Every option is listed with its default; edit and restart.
# Unknown keys and bad values are refused at start-up with the field named.

# Address the listeners bind to. 0.0.0.0 accepts clients on every IPv4 interface.
listen: ${y(opts.listen ?? D.listen)}

# VPN protocols to serve: any of ${PROTOCOLS.join(', ')}.
# Implemented now: ${IMPLEMENTED_PROTOCOLS.join(', ')} (l2tp is L2TP/IPsec). SSTP runs over TLS on TCP 443, passes most
# firewalls and needs no legacy crypto; PPTP (MPPE/RC4, MS-CHAPv2) is broken by design and should
# only be enabled for old clients on a trusted path.
protocols: ${y(D.protocols)}

sstp:
  # TCP port of the SSTP (HTTPS) listener. Windows dials 443 unless told otherwise.
  port: ${opts.sstpPort ?? D.sstp.port}

# PPTP is used only when "pptp" is listed in protocols above. It needs TCP ${D.pptp.port} and IP protocol 47
# (GRE) open. MS-CHAPv2 under PPTP falls to one DES key search and MPPE has no integrity: keep it for
# clients that have nothing else.
pptp:
  port: ${D.pptp.port}
  # MPPE key strengths accepted (RFC 3078). 128 only; 40 and 56 are export-grade and trivially broken.
  mppeKeyBits: ${y(D.pptp.mppeKeyBits)}

# L2TP/IPsec (RFC 2661 inside IPsec, RFC 3193), used only when "l2tp" is listed in protocols above: the
# built-in VPN client of Windows, macOS, iOS, Android and Linux (NetworkManager-l2tp). Open UDP 500 and 4500
# (IKE, NAT traversal) and IP protocol 50 (ESP). L2TP's UDP ${D.l2tp.port} is accepted only inside an IPsec SA.
l2tp:
  port: ${D.l2tp.port}
  # true also serves plain L2TP on UDP ${D.l2tp.port} without IPsec: PPP then has only MPPE to protect it, and
  # user names and the MS-CHAPv2 exchange are visible on the path, as with PPTP. For testing only.
  allowWithoutIpsec: ${D.l2tp.allowWithoutIpsec}
  # L2TP tunnel authentication (RFC 2661 §5.1.1): a file (mode 0600) holding a shared tunnel secret; every
  # client must then answer the gateway's Challenge (xl2tpd and \`gatehouse connect --l2tp-secret-file\` can;
  # Windows and macOS cannot). Inside IPsec it adds little; without IPsec it keeps strangers from opening tunnels.
  # secretFile: "l2tp.secret"

# How L2TP/IPsec clients authenticate IPsec (IKE phase 1). "certificate": machine certificates from this
# gateway's CA (\`gatehouse ca issue --dir DIR NAME --client --p12 FILE\`), each revocable on its own.
# "psk": one pre-shared key in pskFile that EVERY client shares — whoever has it can impersonate the
# gateway to the others; \`gatehouse init --psk\` generates a long random one.
ipsec:
  auth: ${y(D.ipsec.auth)}
  pskFile: ${y(D.ipsec.pskFile)}
  # Aggressive mode (IKEv1, RFC 2409 §5.4) only for old PSK clients that cannot do main mode. It sends the
  # key's hash in clear to anyone who asks, so the key can be cracked offline (ike-scan + psk-crack).
  aggressiveMode: ${D.ipsec.aggressiveMode}
  # Site-to-site IPsec tunnels (IKEv1, ESP tunnel mode) to other gateways — Gatehouse or strongSwan —
  # one child SA per local/remote subnet pair. The remote subnets are routed into the TUN while the
  # tunnel is configured (dropped, never sent in clear, while it is down); the tunnel is re-established
  # with back-off after a drop. auth psk: this tunnel's own key (pskFile, mode 0600); auth certificate:
  # our server.pem, the peer's certificate from our CA or caFile, its ID optionally pinned by peerId.
  tunnels: []
  #  - name: branch
  #    peer: 198.18.60.1
  #    auth: psk                     # or certificate (default)
  #    pskFile: tunnels/branch.psk
  #    localSubnets: ["10.1.0.0/24"]
  #    remoteSubnets: ["10.2.0.0/24"]
  #    initiate: true                # both sides may initiate
  #    # peerId: gw-b.example.org    # IPv4 address, DN "CN=..", user@fqdn or FQDN
  #    # caFile: tunnels/branch-ca.pem

# Client address pool (IPv4 CIDR, host bits zero). The gateway takes the first host address for
# its own end of the tunnels; clients get the rest. Choose a range unused on both sides.
pool: ${y(opts.pool ?? D.pool)}

# DNS and WINS servers offered to clients through IPCP (RFC 1877): at most two each.
dns: ${y(opts.dns ?? D.dns)}
wins: ${y(opts.wins ?? D.wins)}

# Networks (IPv4 CIDR) reachable through the gateway, advertised to clients. Informational for now.
routes: ${y(opts.routes ?? D.routes)}

auth:
  # MS-CHAPv2 and EAP-MS-CHAPv2 are always on: they prove the password without sending it and
  # give the keys SSTP's crypto binding needs.
  # PAP sends the password in clear inside the tunnel; enable only for clients that know nothing else.
  allowPap: ${A.allowPap}
  # CHAP-MD5 and EAP-MD5 need the gateway to keep passwords reversibly encrypted (secret.key),
  # so a stolen database plus key reveals them. Off unless you must support such clients; users
  # then need \`gatehouse user passwd --reversible\`.
  allowChap: ${A.allowChap}
  # Lock an account after maxFailures failed logins within windowSeconds, for lockSeconds.
  # Slows password guessing to a few tries per quarter hour without locking users out for long.
  lockout:
    maxFailures: ${A.lockout.maxFailures}
    windowSeconds: ${A.lockout.windowSeconds}
    lockSeconds: ${A.lockout.lockSeconds}
  # Rules for passwords set with \`gatehouse user add/passwd\`: length, and how many of
  # lower case, upper case, digits and symbols must appear (1-4).
  passwordPolicy:
    minLength: ${A.passwordPolicy.minLength}
    minClasses: ${A.passwordPolicy.minClasses}

keepalive:
  # Echo a silent client every intervalSeconds; drop it after this many unanswered echoes.
  # Frees the address and the session of a client that vanished (sleep, lost network).
  intervalSeconds: ${D.keepalive.intervalSeconds}
  failures: ${D.keepalive.failures}

tun:
  # Name of the gateway's TUN interface.
  name: ${y(opts.tunName ?? D.tun.name)}
  # MTU of the tunnel. Left out, it is computed from the carrier (1367 for SSTP over a 1500-byte
  # path: one inner packet fits one outer TCP segment). Uncomment to force a value (576-1500).
  # mtu: 1367

forwarding:
  # Route packets between clients and the networks behind the gateway (sets ip_forward).
  enable: ${D.forwarding.enable}
  # Masquerade client traffic behind the gateway's address. Off: routing keeps client addresses
  # visible in logs; turn on when the networks behind have no route back to the pool.
  nat: ${nat ? 'true' : D.forwarding.nat}
  # Outgoing interface for NAT (required when nat is true on a multi-homed host).
  ${nat ? '' : '# '}natInterface: ${y(opts.natInterface ?? 'eth0')}

# Router-to-router links this gateway keeps up (RRAS "persistent demand-dial"): it dials the other
# gateway with PPTP as a router account there, routes the listed subnets over the link, and redials
# with back-off (1 s doubling to 60 s) whenever the link drops. The other gateway creates the account
# with \`gatehouse user add NAME --routes <this side's LAN>\`; either side may dial, and while a link
# from the peer carries these subnets this side does not dial a second one.
links: []
#  - name: branch
#    peer: pptp://198.18.60.1
#    user: router-hq
#    passwordFile: links/branch.pass   # first line is the password; keep it mode 0600
#    routes: ["10.2.0.0/24"]

log:
  # debug, info, warn or error. Logs never contain passwords, keys or challenge responses.
  level: ${y(opts.logLevel ?? D.log.level)}

# Files, relative to this directory unless absolute. Keep ca-key.pem, server-key.pem and
# secret.key readable by the gateway only (mode 0600).
paths:
  ca: ${y(D.paths.ca)}
  caKey: ${y(D.paths.caKey)}
  serverCert: ${y(D.paths.serverCert)}
  serverKey: ${y(D.paths.serverKey)}
  usersDb: ${y(D.paths.usersDb)}
  secretKey: ${y(D.paths.secretKey)}
  controlSocket: ${y(D.paths.controlSocket)}
`
}
