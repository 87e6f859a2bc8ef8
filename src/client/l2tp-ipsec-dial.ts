// Dials L2TP/IPsec (RFC 3193) as Windows' and macOS' built-in clients do: IKEv1 main mode with the gateway
// (RFC 2409; pre-shared key or machine certificate), one transport-mode ESP SA for UDP 1701 (NAT-T, RFC 3947/
// 3948, when a NAT is in the way), then the L2TP call and PPP (l2tp-dial.ts) inside that SA.
import { X509Certificate } from 'node:crypto'
import type { Endpoint } from '../lib/endpoint.js'
import { VpnError } from '../lib/errors.js'
import { IkeDriver } from '../transport/ike-driver.js'
import type { IpsecChild } from '../transport/ike-driver.js'
import { EspUdpPort } from '../transport/esp-udp-port.js'
import { localAddressTowards } from '../transport/udp.js'
import { IdType } from '../ike/v1/constants.js'
import type { TrafficSelector } from '../ike/v1/tasks/quick-mode.js'
import { dialL2tp, resolveGateway, type L2tpDial, type L2tpDialOptions } from './l2tp-dial.js'
import { L2TP_IPSEC_MPPE_POLICY } from '../ppp/ccp/policy.js'
import { prefixCounters } from '../lib/counters.js'

/** How the client authenticates IKE phase 1: the gateway's shared key, or its own machine certificate. */
export type IpsecClientAuth =
  | { readonly kind: 'psk'; readonly psk: Uint8Array }
  | { readonly kind: 'cert'; readonly certPem: string; readonly keyPem: string; readonly caPems: readonly string[] }

export interface L2tpIpsecDialOptions extends Omit<L2tpDialOptions, 'carrier' | 'mppe'> {
  readonly auth: IpsecClientAuth
  /** IKE retransmission (default 1 s × 1.5, 4 resends: a wrong key is reported after about 13 s). */
  readonly retransmit?: { readonly firstMs: number; readonly factor: number; readonly tries: number }
}

/** The inner UDP port of both L2TP ends (RFC 2661 §8.1; Windows and macOS send from 1701 as well). */
const L2TP_PORT = 1701
/** Time the IKE DELETE gets to leave the socket before the call reports itself closed (and the process may exit). */
const IKE_DELETE_GRACE_MS = 100

export async function dialL2tpIpsec(o: L2tpIpsecDialOptions): Promise<L2tpDial> {
  const peerIp = await resolveGateway(o.host)
  const localIp = await localAddressTowards(peerIp, 500).catch((e: Error) => {
    throw new VpnError('ERR_CONNECT', `no route to the gateway ${peerIp}: ${e.message}`)
  })
  o.progress(`IPsec: main mode with ${peerIp} (${o.auth.kind === 'psk' ? 'pre-shared key' : `certificate ${new X509Certificate(o.auth.certPem).subject.replace(/\n/g, ', ')}`})`)

  let onChild: ((c: IpsecChild) => void) | undefined
  let onFail: ((reason: string) => void) | undefined
  let onDown: ((reason: string) => void) | undefined
  let driver: IkeDriver | undefined
  // The call ends only when its flow has no SA left: a rekeyed child (childSaUp with rekeyOf) takes the flow
  // over before the old one goes down with reason 'rekeyed'.
  const port = new EspUdpPort({ port: L2TP_PORT, send: (c, p, nh) => driver!.send(c, p, nh), onFlowGone: (_peer, reason) => onDown?.(`the IPsec SA ended: ${reason}`) })
  const auth = o.auth
  // Debugging captures (test/interop/gatehouse-vs-softether.sh): the keys of every SA go to this file.
  const keyLogFile = process.env['GATEHOUSE_ESP_KEYLOG'] || undefined
  if (keyLogFile) o.progress(`warning: GATEHOUSE_ESP_KEYLOG is set: writing this connection's IPsec keys to ${keyLogFile} (anyone with that file can decrypt the traffic)`)
  driver = await IkeDriver.open({
    ...(keyLogFile ? { keyLogFile } : {}),
    bindAddress: '0.0.0.0', localAddress: localIp, ikePort: 0, natTPort: 0, raw: true,
    ike: {
      psk: () => auth.kind === 'psk' ? auth.psk : undefined,
      ...(auth.kind === 'cert' ? {
        credentials: { certDer: new Uint8Array(new X509Certificate(auth.certPem).raw), keyPem: auth.keyPem },
        // The gateway's certificate must name the host as dialled (a name from DNS, or the address given).
        trust: { anchors: auth.caPems.map((p) => new X509Certificate(p)), wallClock: () => Date.now(), expectName: o.host },
      } : {}),
      mode: 'transport',
      retransmit: o.retransmit ?? { firstMs: 1000, factor: 1.5, tries: 4 },
    },
    onChildUp: (c) => { port.childUp(c); onChild?.(c) },
    onChildDown: (c, reason) => { port.childDown(c, reason) },
    onIkeEvent: (e) => {
      if (e.type === 'natFloat') o.progress(`IPsec: NAT detected; continuing on UDP 4500`)
      if (e.type === 'childSaFailed') onFail?.(`quick mode refused: ${e.reason}`)
      if (e.type === 'closed') onFail?.(e.reason)
    },
    onPayload: (c, nh, payload) => port.receive(c, nh, payload),
    onError: () => { /* counted by the sockets; IKE retransmission or DPD decides */ },
  })
  const ike = driver
  const child = await new Promise<IpsecChild>((resolve, reject) => {
    onChild = resolve
    onFail = (reason) => reject(new VpnError('ERR_IPSEC', ipsecFailure(peerIp, reason, auth.kind)))
    ike.connect({ address: peerIp, port: 500 }, { mode: 'transport', selectors: l2tpSelectors(localIp, peerIp) })
  }).catch(async (e: unknown) => { await ike.close(); throw e })
  onChild = undefined
  o.progress(`IPsec up: transport mode, ${child.suite}${child.udpEncapsulated ? ', UDP-encapsulated (NAT-T)' : ''}`)

  const peer: Endpoint = port.open(child, L2TP_PORT)
  let dial: L2tpDial | undefined
  let closing = false
  // The SA going away (the gateway deleted it, DPD, expiry) ends the call: nothing can reach the gateway any more.
  const lost = (reason: string): void => { if (!closing) dial?.close('ipsec-down', reason) }
  onDown = lost
  onFail = lost
  dial = await dialL2tp({
    ...o, mppe: L2TP_IPSEC_MPPE_POLICY,
    onClosed: (reason, message) => {
      // The call is over and its CDN/StopCCN went out inside the SA: DELETE the SAs now (RFC 2408 §3.15), as Windows
      // does, not only in the carrier's close after the L2TP grace time, which a client exiting at once never
      // reaches (seen against SoftEther: no DELETE, its SA waited for DPD). 'closed' follows once it could leave.
      closing = true
      ike.run((now) => { for (const sa of new Set(ike.childList().map((c) => c.ikeSa))) ike.ike.deleteIkeSa(now, sa, 'disconnected') })
      setTimeout(() => o.onClosed(reason, message), IKE_DELETE_GRACE_MS)
    },
    carrier: {
      socket: port, peerIp, peer, label: `inside IPsec (${child.suite})`,
      close: () => { closing = true; void ike.close() },
      counters: () => ({ ...ike.counters(), ...prefixCounters('l2tp.ipsec', port.counters.snapshot()) }),
    },
  })
  return dial
}

function l2tpSelectors(local: string, remote: string): { local: TrafficSelector; remote: TrafficSelector } {
  const ts = (a: string): TrafficSelector => ({ idType: IdType.Ipv4Addr, protocol: 17, port: L2TP_PORT, data: Uint8Array.from(a.split('.').map(Number)) })
  return { local: ts(local), remote: ts(remote) }
}

/** The error a user sees when IPsec does not come up, with the likely fix. */
function ipsecFailure(peer: string, reason: string, kind: IpsecClientAuth['kind']): string {
  if (/main mode 1/.test(reason)) return `IPsec: the gateway ${peer} does not answer IKE on UDP 500 (${reason}): check that it serves L2TP/IPsec and that UDP 500 and 4500 are open`
  if (/main mode 5|authentication|AuthenticationFailed|InvalidId/i.test(reason)) {
    return kind === 'psk'
      ? `IPsec authentication failed with ${peer}: ${reason}. Check the pre-shared key (--psk-file) is the gateway's`
      : `IPsec authentication failed with ${peer}: ${reason}. Check that the certificate bundle was issued by this gateway's CA and is not revoked or expired, and that --ca is the gateway's CA`
  }
  return `IPsec with ${peer} failed: ${reason}`
}
