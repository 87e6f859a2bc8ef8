// The gateway's IPsec: one IKEv1 endpoint on UDP 500/4500 (RFC 2409, RFC 3947) for L2TP/IPsec (RFC 3193:
// machine certificates from the gateway's CA and/or a pre-shared key, transport-mode ESP whose UDP 1701 feeds
// the L2TP listener through an EspUdpPort) and for site-to-site tunnels (tunnel-mode ESP, ipsec-tunnels.ts).
import { X509Certificate } from 'node:crypto'
import { statSync } from 'node:fs'
import type { GatewayConfig } from '../config/schema.js'
import type { Endpoint } from '../lib/endpoint.js'
import type { Logger } from '../lib/log.js'
import type { Counters } from '../lib/counters.js'
import { VpnError } from '../lib/errors.js'
import { IkeDriver } from '../transport/ike-driver.js'
import { AGGRESSIVE_MODE_WARNING } from '../ike/v1/endpoint.js'
import type { IpsecChild } from '../transport/ike-driver.js'
import { EspUdpPort } from '../transport/esp-udp-port.js'
import { loadRevocation } from '../pki/ca-dir.js'
import type { Revocation } from '../pki/issued.js'
import { OakleyAuth } from '../ike/v1/oakley.js'
import { IdType } from '../ike/v1/constants.js'
import type { IkeIdentity } from '../ike/v1/ike-sa.js'
import type { TrafficSelector } from '../ike/v1/tasks/quick-mode.js'
import { signatureMethodFor } from '../ike/v1/tasks/cert-auth.js'
import { createPrivateKey } from 'node:crypto'
import { readSecretFile } from './secret-file.js'
import { readFileSync } from 'node:fs'
import type { PeerPolicy } from '../ike/v1/endpoint.js'
import { DEFAULT_PHASE1_PROPOSALS } from '../ike/v1/informational.js'
import { IpsecTunnels, type TunnelHost } from './ipsec-tunnels.js'
import { Backoff } from '../lib/backoff.js'
import { systemRng } from '../crypto/rng.js'

/** Said at start when a pre-shared key is enabled: the seed's one-key-for-everyone argument. */
export const SHARED_PSK_WARNING =
  'IPsec pre-shared key enabled: every L2TP/IPsec client holds the same key. Anyone who has it (every employee, ' +
  'every lost laptop) can pose as this gateway to the others and read their logins; it cannot be revoked for one ' +
  'client, only changed for all. Prefer machine certificates (ipsec.auth: [certificate], `gatehouse ca issue`).'

export interface GatewayIpsec {
  readonly driver: IkeDriver
  /** UDP 1701 inside the transport-mode SAs, for the L2TP listener. */
  readonly l2tp: EspUdpPort
  /** The site-to-site tunnels (config ipsec.tunnels); empty when none are configured. */
  readonly tunnels: IpsecTunnels
  /** How an L2TP flow's peer shows in records: outer address:port and the ESP suite. */
  describe(peer: Endpoint): string
  counters(): Record<string, number>
  close(): Promise<void>
}

export interface GatewayIpsecOptions {
  readonly config: GatewayConfig
  readonly log: Logger
  readonly counters: Counters
  readonly aroundReceive?: (fn: () => void) => void
  /** The last SA of an L2TP peer is gone (the listener ends its calls). */
  readonly onPeerGone: (peer: Endpoint, message: string) => void
  /** Where tunnels register while up (the session registry); required when config.ipsecTunnels is not empty. */
  readonly tunnelHost?: TunnelHost
}

export async function startGatewayIpsec(o: GatewayIpsecOptions): Promise<GatewayIpsec> {
  const { config, log } = o
  // Remote access (L2TP/IPsec) only when l2tp is enabled; tunnel peers have their own policy (peerPolicy below).
  const l2tpOn = config.protocols.includes('l2tp')
  const usePsk = l2tpOn && config.ipsec.auth.includes('psk')
  const useCert = l2tpOn && config.ipsec.auth.includes('certificate')
  const psk = usePsk ? new TextEncoder().encode(readSecretFile(config.ipsec.pskFile, 'IPsec pre-shared key')) : undefined
  if (psk && psk.length < 20) log.warn('the IPsec pre-shared key is short (under 20 characters): main mode hides it, but a weak key falls to an offline search by anyone who records one exchange with a client')
  const tunnelCfgs = config.ipsecTunnels
  const tunnelPsk = new Map<string, Uint8Array>()
  for (const t of tunnelCfgs) {
    if (t.auth !== 'psk') continue
    const k = new TextEncoder().encode(readSecretFile(t.pskFile!, `pre-shared key of IPsec tunnel ${t.name}`))
    if (k.length < 20) log.warn('an IPsec tunnel pre-shared key is short (under 20 characters): it falls to an offline search by anyone who records one exchange', { tunnel: t.name })
    tunnelPsk.set(t.peer, k)
  }
  const cert = useCert || tunnelCfgs.some((t) => t.auth === 'certificate') ? loadCredentials(config) : undefined
  // A tunnel's caFile is trusted for that peer only (peerPolicy), never for L2TP/IPsec clients. Its serials are
  // not in our issued.json (another CA's numbering), and we hold no CRL for it: pin the peer with peerId.
  const tunnelTrust = new Map<string, LoadedCredentials['trust']>()
  for (const t of tunnelCfgs) {
    if (t.auth === 'certificate' && t.caFile) tunnelTrust.set(t.peer, { anchors: [new X509Certificate(readConfigFile(t.caFile, `CA certificate of IPsec tunnel ${t.name}`))], revocation: NO_REVOCATION, wallClock: () => Date.now() })
  }
  const authMethods = [...(cert && useCert ? [cert.method] : []), ...(usePsk ? [OakleyAuth.PreSharedKey] : [])]
  let tunnels: IpsecTunnels | undefined
  // A tunnel peer gets its own phase 1 method (its tunnel's psk or certificate) and tunnel-mode quick modes
  // inside its subnets; everyone else the remote-access policy (nothing at all when l2tp is off).
  const peerPolicy = (peer: Endpoint): PeerPolicy | undefined => {
    const t = tunnels?.tunnelOf(peer.address)
    if (!t) return l2tpOn ? undefined : { authMethods: [], phase1Proposals: [] }
    const method = t.auth === 'psk' ? OakleyAuth.PreSharedKey : cert!.method
    const trust = tunnelTrust.get(peer.address)
    return {
      ...(trust ? { trust } : {}),
      authMethods: [method], phase1Proposals: DEFAULT_PHASE1_PROPOSALS.map((x) => ({ ...x, authMethod: method })),
      mode: 'tunnel', acceptSelectors: (local, remote) => tunnels!.acceptSelectors(peer.address, local, remote),
    }
  }
  // An unnumbered listen address cannot be the NAT-D input: peers then see "a NAT" and use UDP 4500, which works everywhere.
  const localAddress = config.listen === '0.0.0.0' || config.listen === '::' ? '0.0.0.0' : config.listen
  const l2tpPort = config.l2tp.port

  let driver: IkeDriver | undefined
  const port = new EspUdpPort({
    port: l2tpPort,
    send: (c, p, nh) => driver!.send(c, p, nh),
    onFlowGone: (peer, reason) => o.onPeerGone(peer, `the IPsec SA carrying the call ended: ${reason}`),
  })
  const ids = new Map<string, string>()
  const ipsecLog = log.child('ipsec')
  // Debug only, as for the client: every SA's keys appended to this file (mode 0600) for tshark.
  const keyLogFile = process.env['GATEHOUSE_ESP_KEYLOG'] || undefined
  if (keyLogFile) log.warn(`GATEHOUSE_ESP_KEYLOG is set: writing every IPsec SA's keys to ${keyLogFile} (anyone with that file can decrypt all VPN traffic); unset it outside testing`)
  driver = await IkeDriver.open({
    bindAddress: config.listen, localAddress, ikePort: 500, natTPort: 4500, raw: true,
    ...(keyLogFile ? { keyLogFile } : {}),
    ...(o.aroundReceive ? { aroundReceive: o.aroundReceive } : {}),
    ike: {
      psk: (peer) => tunnelPsk.get(peer.address) ?? psk,
      peerPolicy,
      // Dead peer detection (RFC 3706, for peers that announce it) on the gateway's keepalive settings, as PPP's
      // echo: a dead tunnel peer must be noticed to be re-established, and a vanished client's SAs should not
      // outlive its PPP session by minutes.
      dpd: { intervalMs: config.keepalive.intervalSeconds * 1000, timeoutMs: config.keepalive.intervalSeconds * 1000 * (config.keepalive.failures + 1) },
      ...(cert ? { credentials: { certDer: cert.certDer, keyPem: cert.keyPem }, trust: cert.trust } : {}),
      authMethods,
      // RFC 2409 §5.4 aggressive mode only when the configuration asks (it is refused with INVALID-EXCHANGE-TYPE otherwise).
      aggressive: config.ipsec.aggressiveMode,
      mode: 'transport',
      // RFC 3193 §4: the transport-mode SA protects UDP to our L2TP port (Windows, macOS and xl2tpd+strongSwan
      // ask for 17/1701 on our side; some ask for everything).
      acceptSelectors: (local) => acceptL2tpSelector(local, l2tpPort),
    },
    onChildUp: (c) => {
      if (tunnels?.childUp(c)) return
      port.childUp(c)
      ipsecLog.info('IPsec SA up', { peer: peerText(c), id: ids.get(c.ikeSa), mode: c.mode, suite: c.suite, nat: c.udpEncapsulated })
    },
    onChildDown: (c, reason) => {
      if (tunnels?.childDown(c, reason)) return
      port.childDown(c, reason)
      ipsecLog.info('IPsec SA down', { peer: peerText(c), reason })
    },
    onIkeEvent: (e) => {
      tunnels?.ikeEvent(e)
      switch (e.type) {
        case 'ikeUp': ids.set(e.sa, idText(e.peerId, e.peerCertificate?.subject)); ipsecLog.info('IKE SA up', { peer: `${e.peer.address}:${e.peer.port}`, id: ids.get(e.sa), nat: e.natT?.peerBehindNat ?? false }); break
        case 'childSaFailed': ipsecLog.warn('quick mode failed', { sa: e.sa, reason: e.reason }); break
        case 'closed': {
          // A refused key or certificate (wrong PSK, revoked, untrusted) is told at warn level, as a refused login is;
          // a main mode that merely stopped (a scan, a half-open flood: unauthenticated, DESIGN §5) only at info.
          const wasUp = ids.delete(e.sa)
          const peer = `${e.peer.address}:${e.peer.port}`
          if (AUTH_REFUSED.test(e.reason)) ipsecLog.warn('IKE SA failed', { peer, reason: e.reason })
          else ipsecLog.info(wasUp ? 'IKE SA closed' : 'IKE SA failed', { peer, reason: e.reason })
          break
        }
        default: break
      }
    },
    onPayload: (c, nh, payload) => { if (!tunnels?.payload(c, nh, payload)) port.receive(c, nh, payload) },
    onError: (e) => { o.counters.inc('ipsec.error'); ipsecLog.warn('IPsec socket error', { error: e.message }) },
  })
  if (psk) log.warn(SHARED_PSK_WARNING)
  if (config.ipsec.aggressiveMode) log.warn(`ipsec.aggressiveMode is on: ${AGGRESSIVE_MODE_WARNING}`)
  const d = driver
  if (tunnelCfgs.length > 0 && !o.tunnelHost) throw new VpnError('ERR_CONFIG', 'IPsec tunnels need a session registry (tunnelHost)')
  tunnels = new IpsecTunnels(tunnelCfgs, {
    ike: {
      connect: (peer, child) => d.connect(peer, child),
      createChild: (sa, child) => { let mid: number | undefined; d.run((now) => { mid = d.ike.createChildSa(now, sa, child) }); return mid !== undefined },
      deleteIkeSa: (sa, reason) => d.run((now) => d.ike.deleteIkeSa(now, sa, reason)),
      send: (c, p, nh) => d.send(c, p, nh),
    },
    host: o.tunnelHost ?? { linkUp: () => 'no session registry', ip: () => {}, closed: () => {} },
    log: log.child('tunnel'), counters: o.counters, backoff: () => new Backoff(systemRng),
  })
  tunnels.start()
  const t = tunnels
  return {
    driver, l2tp: port, tunnels: t,
    // Records say from where, over what, and which machine (certificate subject or IKE ID).
    describe: (peer) => { const c = port.childOf(peer); return c ? `${peerText(c)} (IPsec ${c.suite}${c.udpEncapsulated ? ', NAT-T' : ''}${ids.has(c.ikeSa) ? `, id ${ids.get(c.ikeSa)}` : ''})` : `${peer.address}:${peer.port}` },
    counters: () => driver!.counters(),
    close: () => { t.stop(); return d.close() },
  }
}

/** Close reasons of the IKEv1 core that mean a peer's key or certificate was refused (either side). */
const AUTH_REFUSED = /authentication|refused|revoked|untrusted|certificate|pre-shared key/i

function peerText(c: IpsecChild): string { const p = c.handle.peer; return p.port === undefined ? p.address : `${p.address}:${p.port}` }

/** Our side of a transport-mode L2TP/IPsec SA: UDP (or any protocol) and our L2TP port (or any port). */
export function acceptL2tpSelector(local: TrafficSelector, l2tpPort: number): boolean {
  return (local.protocol === 0 || local.protocol === 17) && (local.port === 0 || local.port === l2tpPort)
}

/** A readable form of an IKE ID for logs. */
export function idText(id: IkeIdentity, certSubject?: string): string {
  if (certSubject) return certSubject
  if (id.idType === IdType.Ipv4Addr && id.data.length === 4) return [...id.data].join('.')
  if (id.idType === IdType.Fqdn || id.idType === IdType.UserFqdn) return new TextDecoder().decode(id.data)
  return `ID type ${id.idType}`
}

interface LoadedCredentials {
  readonly certDer: Uint8Array
  readonly keyPem: string
  readonly method: number
  readonly trust: { anchors: X509Certificate[]; revocation: Revocation; wallClock: () => number }
}

/** The gateway certificate (serverAuth + IKE intermediate, from `gatehouse init`) and its CA as the trust anchor. */
const NO_REVOCATION: Revocation = { isRevoked: () => false, revokedSerials: new Set() }

function readConfigFile(path: string, what: string): string {
  try { return readFileSync(path, 'utf8') } catch (e) {
    throw new VpnError('ERR_CONFIG', `cannot read the ${what} ${path} for IPsec certificate authentication: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (run \`gatehouse init\`, or set ipsec.auth: [psk])`)
  }
}

function loadCredentials(config: GatewayConfig): LoadedCredentials {
  const read = readConfigFile
  const certPem = read(config.paths.serverCert, 'server certificate')
  const keyPem = read(config.paths.serverKey, 'server key')
  const caPem = read(config.paths.ca, 'CA certificate')
  let method: number
  try { method = signatureMethodFor(createPrivateKey(keyPem)) } catch (e) { throw new VpnError('ERR_CONFIG', `the server key ${config.paths.serverKey} cannot sign IKE: ${(e as Error).message}`) }
  return {
    certDer: new Uint8Array(new X509Certificate(certPem).raw), keyPem, method,
    trust: { anchors: [new X509Certificate(caPem)], revocation: liveRevocation(config.dir), wallClock: () => Date.now() },
  }
}

/**
 * `gatehouse ca revoke` rewrites issued.json while the gateway runs: re-read it when it changed (checked at
 * most once a second), so a revoked machine certificate is refused at its next main mode without a restart.
 * A damaged file keeps the last good view and is logged by the next start (fail closed there).
 */
function liveRevocation(dir: string): Revocation {
  let view = loadRevocation(dir)
  let stamp = mtime(dir)
  let checked = Date.now()
  const fresh = (): Revocation => {
    if (Date.now() - checked < 1000) return view
    checked = Date.now()
    const m = mtime(dir)
    if (m !== stamp) { try { view = loadRevocation(dir); stamp = m } catch { /* keep the last good view */ } }
    return view
  }
  return { isRevoked: (s) => fresh().isRevoked(s), get revokedSerials() { return fresh().revokedSerials } }
}

function mtime(dir: string): number { try { return statSync(`${dir}/issued.json`).mtimeMs } catch { return 0 } }
