// Every default of the gateway configuration, in one place (DESIGN.md §1 config/).
// schema.ts validates against these, template.ts renders them, and tests compare to them.

import { tunnelMtu } from '../dataplane/mtu.js'

export const PROTOCOLS = ['sstp', 'pptp', 'l2tp', 'ikev2'] as const
export type ProtocolName = (typeof PROTOCOLS)[number]
/** Protocols whose gateway side exists today; the others are refused at load. */
export const IMPLEMENTED_PROTOCOLS: readonly ProtocolName[] = ['sstp', 'pptp', 'l2tp']

/** How L2TP/IPsec clients authenticate the IKE phase 1 (RFC 2409 §5.1 signatures, §5.4 pre-shared key). */
export const IPSEC_AUTH = ['certificate', 'psk'] as const
export type IpsecAuthName = (typeof IPSEC_AUTH)[number]

/** Defaults of one `ipsec.tunnels` entry: certificates (as for L2TP/IPsec), and this side initiates. */
export const IPSEC_TUNNEL_DEFAULTS = { auth: 'certificate', initiate: true } as const

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

export const DEFAULTS = {
  /** All IPv4 interfaces; SSTP is meant to be reachable from anywhere. */
  listen: '0.0.0.0',
  /** SSTP only: TLS on 443 passes firewalls and has no legacy crypto (PPTP/MPPE is broken). */
  protocols: ['sstp'] as readonly ProtocolName[],
  sstp: { port: 443 },
  /**
   * PPTP (off unless listed in protocols): TCP 1723 and GRE. MPPE is always required; 128-bit keys
   * only, as Windows RRAS does; 40/56-bit (export-grade) only if listed. Stateless (rekey every
   * packet) is accepted because Windows asks for it; stateful resynchronises through CCP.
   */
  pptp: { port: 1723, mppeKeyBits: [128] as readonly (40 | 56 | 128)[] },
  /**
   * L2TP (RFC 2661, off unless listed in protocols): UDP 1701 inside IPsec (RFC 3193: IKE on UDP 500/4500,
   * ESP). Plain L2TP (PPP protected only by MPPE, as weak as PPTP) only when allowed explicitly; MPPE-128
   * is then required on the plain calls.
   */
  l2tp: { port: 1701, allowWithoutIpsec: false },
  /**
   * IPsec for L2TP/IPsec: machine certificates from the gateway's CA by default (each client has its own
   * and can be revoked); a pre-shared key only when listed (every client shares it).
   */
  ipsec: {
    auth: ['certificate'] as readonly IpsecAuthName[],
    pskFile: 'ipsec.psk',
    /** IKEv1 aggressive mode (RFC 2409 §5.4) sends the PSK's hash in clear before the peer is authenticated: off. */
    aggressiveMode: false,
  },
  /** Client address pool; the gateway keeps the first host address for itself. */
  pool: '198.19.0.0/24',
  dns: [] as readonly string[],
  wins: [] as readonly string[],
  routes: [] as readonly string[],
  auth: {
    /** PAP sends the clear password inside the tunnel: off unless explicitly needed. */
    allowPap: false,
    /** CHAP-MD5/EAP-MD5 need reversibly stored passwords on the gateway: off by default. */
    allowChap: false,
    lockout: { maxFailures: 5, windowSeconds: 900, lockSeconds: 900 },
    passwordPolicy: { minLength: 12, minClasses: 3 },
  },
  keepalive: { intervalSeconds: 10, failures: 3 },
  /** mtu absent: the gateway computes it from the carrier (see defaultTunMtu). */
  tun: { name: 'gh0' },
  /** Clients reach networks behind the gateway by routing; NAT only when those networks lack a return route. */
  forwarding: { enable: true, nat: false },
  log: { level: 'info' as (typeof LOG_LEVELS)[number] },
  /** File names, relative to the configuration directory unless absolute. */
  paths: {
    ca: 'ca.pem',
    caKey: 'ca-key.pem',
    serverCert: 'server.pem',
    serverKey: 'server-key.pem',
    usersDb: 'users.db',
    secretKey: 'secret.key',
    controlSocket: 'control.sock',
  },
} as const

/**
 * TUN MTU when the configuration leaves it out: the largest inner packet that still travels in one
 * outer packet over a 1500-byte path for every enabled carrier (dataplane/mtu.ts spells out every
 * term; 1367 for SSTP whatever TLS record protection the client negotiates, 1456 for PPTP, 1454 for
 * plain L2TP, 1384 for L2TP/IPsec).
 */
export function defaultTunMtu(protocols: readonly ProtocolName[]): number {
  // One TUN serves every carrier: the smallest tunnel MTU of those enabled fits them all.
  const carriers = (['sstp', 'pptp'] as const).filter((p) => protocols.includes(p)).map((p) => tunnelMtu(p))
  // l2tp is L2TP/IPsec (ESP costs more than plain L2TP's MPPE, so its figure covers plain calls too).
  if (protocols.includes('l2tp')) carriers.push(tunnelMtu('l2tp-ipsec'))
  return Math.min(...(carriers.length ? carriers : [tunnelMtu('sstp')]))
}
